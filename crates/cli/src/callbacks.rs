//! `kyc callback listen`: receive, verify and durably record the provider's callbacks.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use kyc_client::types::Callback;
use kyc_client::{CallbackService, serve_callbacks};
use kyc_sign::SigningKey;
use kyc_store::{Ledger, Recorded};
use tokio::net::TcpListener;

use crate::secret::Secret;
use crate::store::StoreArgs;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    Listen(ListenArgs),
}

/// Receive callbacks POSTed to any path, verify them, and record each in the ledger.
///
/// A verified callback is answered `OK` only after its transaction committed (SQLite: on disk,
/// WAL with synchronous=FULL). A callback already recorded (the provider resends until it hears
/// `OK`; another replica may have got it first) is answered `OK` without a second record. A
/// failed write (full disk, lost database) is answered 500, never `OK`, so the provider
/// retries. Bad signatures get 401, malformed bodies 400. Several listeners may share one
/// PostgreSQL ledger behind a load balancer. An unusable --store (a directory, a FIFO, a
/// device, an unreachable server) stops the listener before it listens.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kyc callback listen --listen 127.0.0.1:9000 --secret \"$KYC_APP_SECRET\" --store sqlite://kyc.db
  KYC_APP_SECRET=s KYC_STORE=postgres://kyc@db/kyc kyc callback listen --listen 0.0.0.0:9000
  kyc callback listen --listen 127.0.0.1:9000 --header-read-timeout 5s --request-timeout 8s")]
pub(crate) struct ListenArgs {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long)]
    listen: String,

    /// The app secret the callbacks are signed with (or set KYC_APP_SECRET).
    #[arg(long, env = "KYC_APP_SECRET", hide_env_values = true)]
    secret: Secret,

    #[command(flatten)]
    store: StoreArgs,

    /// How long a connection may take to begin a request and to send its head before it is
    /// closed (slow or silent clients are cut off).
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    header_read_timeout: Duration,

    /// How long one request may take, reading the body and storing the result included,
    /// before it is answered 408 or 503 (never OK, so the provider retries). The default
    /// answers inside the provider's 10 s window, as the library's `CallbackService` does.
    #[arg(long, default_value = "8s", value_parser = parse_timeout)]
    request_timeout: Duration,
}

/// A timeout flag: a duration (see `kyc sandbox --help`) above zero and at most a day.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let timeout = crate::sandbox::parse_duration(text)?;
    if timeout.is_zero() || timeout > Duration::from_secs(24 * 3600) {
        return Err(format!("{text:?} must be above zero and at most 24h"));
    }
    Ok(timeout)
}

pub(crate) async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Listen(args) => listen(args).await,
    }
}

async fn listen(args: ListenArgs) -> anyhow::Result<ExitCode> {
    let key = SigningKey::new(args.secret.expose()).context("--secret")?;
    let ledger = args.store.connect().await?;
    let listener = TcpListener::bind(args.listen.as_str())
        .await
        .with_context(|| format!("--listen {}", args.listen))?;
    println!("listening on http://{}/", listener.local_addr()?);
    let service = CallbackService::with_key(key, recorder(ledger))
        .header_read_timeout(args.header_read_timeout)
        .request_timeout(args.request_timeout);
    serve_callbacks(listener, service, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// The ledger's callback handler, telling stderr about each new result.
fn recorder(
    ledger: Ledger,
) -> impl Fn(Callback) -> futures_util::future::BoxFuture<'static, Result<(), kyc_store::Error>>
+ Send
+ Sync
+ 'static {
    move |callback: Callback| {
        let ledger = ledger.clone();
        Box::pin(async move {
            let recorded = ledger.record_callback(&callback).await?;
            if recorded != Recorded::Duplicate {
                eprintln!(
                    "callback: userId={} authenticationStatus={}",
                    callback.user_id(),
                    callback.status().as_str()
                );
            }
            Ok(())
        })
    }
}
