//! `kyc callback listen`: receive, verify and durably record the provider's callbacks.

use std::collections::HashSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use kyc_client::types::Callback;
use kyc_client::{CallbackService, serve_callbacks};
use kyc_sign::SigningKey;
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use crate::jsonl;
use crate::secret::Secret;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    Listen(ListenArgs),
}

/// Receive callbacks POSTed to any path, verify them, and append each new result to a file.
///
/// A verified callback is appended as one JSON line, flushed and synced to disk, and only then
/// answered `OK`. A callback already in the file (the provider resends until it hears `OK`) is
/// answered `OK` without being appended again, also across restarts. Bad signatures get 401,
/// malformed bodies 400: never `OK`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kyc callback listen --listen 127.0.0.1:9000 --secret \"$KYC_APP_SECRET\" --out results.jsonl
  KYC_APP_SECRET=s kyc callback listen --listen 0.0.0.0:9000 --out /var/lib/kyc/results.jsonl
  kyc callback listen --listen 127.0.0.1:9000 --out results.jsonl --header-read-timeout 5s --request-timeout 8s")]
pub(crate) struct ListenArgs {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long)]
    listen: String,

    /// The app secret the callbacks are signed with (or set KYC_APP_SECRET).
    #[arg(long, env = "KYC_APP_SECRET", hide_env_values = true)]
    secret: Secret,

    /// The JSON-lines file results are appended to.
    #[arg(long)]
    out: PathBuf,

    /// How long a connection may take to begin a request and to send its head before it is
    /// closed (slow or silent clients are cut off).
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    header_read_timeout: Duration,

    /// How long one request may take, reading the body and storing the result included,
    /// before it is answered 408 (never OK, so the provider retries).
    #[arg(long, default_value = "30s", value_parser = parse_timeout)]
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
    let results = Arc::new(
        ResultFile::open(&args.out)
            .await
            .with_context(|| format!("--out {}", args.out.display()))?,
    );
    let listener = TcpListener::bind(args.listen.as_str())
        .await
        .with_context(|| format!("--listen {}", args.listen))?;
    println!("listening on http://{}/", listener.local_addr()?);
    let service = receiver(key, results, |callback, new| {
        if new {
            eprintln!(
                "callback: userId={} authenticationStatus={}",
                callback.user_id(),
                callback.status().as_str()
            );
        }
    })
    .header_read_timeout(args.header_read_timeout)
    .request_timeout(args.request_timeout);
    serve_callbacks(listener, service, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// What the receiver hands each verified callback to.
pub(crate) type Handler = Box<
    dyn Fn(Callback) -> Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>> + Send + Sync,
>;

/// A callback service that records into `results`, then tells `notify` whether it was new.
pub(crate) fn receiver(
    key: SigningKey,
    results: Arc<ResultFile>,
    notify: impl Fn(&Callback, bool) + Send + Sync + 'static,
) -> CallbackService<Handler> {
    let notify = Arc::new(notify);
    let handler: Handler = Box::new(move |callback: Callback| {
        let results = Arc::clone(&results);
        let notify = Arc::clone(&notify);
        Box::pin(async move {
            let new = results.record(&callback).await?;
            notify(&callback, new);
            Ok(())
        })
    });
    CallbackService::with_key(key, handler)
}

/// One line of the results file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    user_id: &'a str,
    authentication_status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fail_reason: Option<&'a str>,
    timestamp: u64,
}

/// An append-only JSON-lines file of verified results, deduplicated by
/// `(userId, authenticationStatus, timestamp)`: the provider's retries resend the same body.
#[derive(Debug)]
pub(crate) struct ResultFile {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    file: tokio::fs::File,
    seen: HashSet<String>,
}

impl ResultFile {
    /// Opens (or creates) the file and remembers what it already holds. A last line cut short
    /// by a crash mid-write is removed: it was never acknowledged, so the provider resends it.
    pub(crate) async fn open(path: &Path) -> std::io::Result<Self> {
        let (lines, file) = jsonl::open_append(path).await?;
        let seen = lines
            .iter()
            .map(|line| {
                key(
                    line["userId"].as_str().unwrap_or_default(),
                    line["authenticationStatus"].as_str().unwrap_or_default(),
                    line["timestamp"].as_u64().unwrap_or_default(),
                )
            })
            .collect();
        Ok(Self {
            inner: Mutex::new(Inner { file, seen }),
        })
    }

    /// Appends `callback` unless it is already recorded; returns whether it was new. When this
    /// returns `Ok`, the line is on disk.
    pub(crate) async fn record(&self, callback: &Callback) -> std::io::Result<bool> {
        let status = callback.status().as_str();
        let timestamp = callback.timestamp().as_millis();
        let key = key(callback.user_id().as_str(), status, timestamp);
        let mut inner = self.inner.lock().await;
        if inner.seen.contains(&key) {
            return Ok(false);
        }
        let mut line = serde_json::to_vec(&Line {
            user_id: callback.user_id().as_str(),
            authentication_status: status,
            fail_reason: callback.fail_reason(),
            timestamp,
        })?;
        line.push(b'\n');
        inner.file.write_all(&line).await?;
        inner.file.flush().await?;
        inner.file.sync_data().await?;
        inner.seen.insert(key);
        Ok(true)
    }
}

fn key(user_id: &str, status: &str, timestamp: u64) -> String {
    format!("{user_id}\u{0}{status}\u{0}{timestamp}")
}
