//! `kyc demo`: the whole flow on loopback, in a few seconds, with nothing to configure.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use kyc_client::types::{
    Application, AuthenticationStatus, Callback, CallbackUrl, Furigana, UserId,
};
use kyc_client::{
    CallbackService, Client, Clock, Environment, PollPolicy, RetryPolicy, SystemClock,
    serve_callbacks,
};
use kyc_sandbox::Sandbox;
use kyc_store::{ApplicationOutcome, Ledger};
use tokio::net::TcpListener;

use crate::api::describe;
use crate::sandbox::{DEFAULT_MERCHANT, DEFAULT_SECRET};

/// Run the whole flow against an in-process sandbox: apply, watch statuses, receive callbacks.
///
/// Starts the fake provider and a callback receiver on loopback, applies for four users whose
/// userId prefixes choose their fate (approved, rejected, a provider fault the client retries
/// through, and one that stays under review), shows their statuses moving and the verified
/// callbacks arriving (the first delivery of one is refused, so the provider retries), records
/// every application, status answer and callback in a temporary SQLite ledger, and ends with
/// the ledger's summary. Needs no configuration and no network; takes a few seconds.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  cargo run --release -p kyc-cli -- demo")]
pub(crate) struct Args {
    /// How long a review takes in the sandbox.
    #[arg(long, default_value = "1500ms", value_parser = crate::sandbox::parse_duration)]
    review_time: Duration,
}

/// The users of the demo: userId (its prefix is the sandbox scenario), furigana as typed.
const USERS: [(&str, &str, &str); 4] = [
    ("approve-demo-001", "テスト014", "approved"),
    ("reject-demo-002", "ﾔﾏﾀﾞ ﾀﾛｳ", "rejected, with a reason"),
    (
        "fault500x1-approve-demo-003",
        "すずき はなこ",
        "HTTP 500 once, retried, then approved",
    ),
    ("review-demo-004", "サトウ・ケン", "stays under review"),
];

/// The verified callbacks by userId: status and failure reason.
type Received = BTreeMap<String, (AuthenticationStatus, Option<String>)>;

pub(crate) async fn run(args: Args) -> anyhow::Result<ExitCode> {
    // 1. The fake provider, on a free loopback port.
    let sandbox = Sandbox::builder(SystemClock)
        .merchant(DEFAULT_MERCHANT, DEFAULT_SECRET)
        .review_schedule(args.review_time / 3, args.review_time)
        .time_scale(0.01) // the provider's 2 s first callback retry becomes 20 ms
        .build()
        .context("sandbox")?
        .start("127.0.0.1:0")
        .await
        .context("starting the sandbox")?;
    println!("sandbox     {}", sandbox.base_url());
    let dir = tempfile::tempdir().context("a temporary directory for the ledger")?;
    let ledger = Ledger::connect(&format!("sqlite://{}/kyc.db", dir.path().display()))
        .await
        .context("the demo ledger")?;
    println!("ledger      {}/kyc.db (temporary)", dir.path().display());

    // 2. The merchant's callback receiver. Its first delivery fails on purpose, to show that
    //    the provider retries until it hears `OK`.
    let received: Arc<Mutex<Received>> = Arc::default();
    let refused_once = Arc::new(Mutex::new(false));
    let client = Client::builder()
        .environment(Environment::custom(sandbox.base_url()).context("sandbox URL")?)
        .merchant_no(DEFAULT_MERCHANT)
        .app_secret(DEFAULT_SECRET)
        .retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(50), Duration::from_millis(200)),
        )
        .build()?;
    let service = {
        let (received, refused_once) = (Arc::clone(&received), Arc::clone(&refused_once));
        let ledger = ledger.clone();
        CallbackService::new(&client, move |callback: Callback| {
            let (received, refused_once) = (Arc::clone(&received), Arc::clone(&refused_once));
            let ledger = ledger.clone();
            async move {
                let refuse = {
                    let mut refused = refused_once.lock().expect("never poisoned");
                    !std::mem::replace(&mut *refused, true)
                };
                if refuse {
                    println!(
                        "callback    {:<28} refused once on purpose (no OK)",
                        callback.user_id().as_str()
                    );
                    return Err("demo: the first delivery fails".to_owned());
                }
                ledger
                    .record_callback(&callback)
                    .await
                    .map_err(|err| err.to_string())?;
                println!(
                    "callback    {:<28} verified: {}",
                    callback.user_id().as_str(),
                    describe(callback.status())
                );
                received.lock().expect("never poisoned").insert(
                    callback.user_id().as_str().to_owned(),
                    (
                        callback.status().clone(),
                        callback.fail_reason().map(str::to_owned),
                    ),
                );
                Ok(())
            }
        })
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let callback_url = format!("http://{}/kyc/callback", listener.local_addr()?);
    println!("callbacks   {callback_url}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let receiver = tokio::spawn(serve_callbacks(listener, service, async {
        let _ = stopped.await;
    }));

    // 3. Apply for each user.
    println!();
    for (user_id, furigana, fate) in USERS {
        let furigana = Furigana::normalize(furigana).context("demo furigana")?;
        let application = Application::new(
            UserId::new(user_id)?,
            CallbackUrl::new_allow_http(&callback_url)?,
            furigana.clone(),
        );
        let accepted = client
            .apply(&application)
            .await
            .with_context(|| format!("apply {user_id}"))?;
        let outcome = ApplicationOutcome::Accepted(accepted.authentication_status().clone());
        ledger
            .record_application(application.user_id(), SystemClock.now(), &outcome)
            .await
            .context("recording the application")?;
        println!(
            "apply       {user_id:<28} accepted, status {} ({}); scenario: {fate}",
            accepted.authentication_status().as_str(),
            describe(accepted.authentication_status()),
        );
    }

    // 4. Watch the statuses move until the reviews that end are final.
    println!();
    let mut last: BTreeMap<&str, AuthenticationStatus> = BTreeMap::new();
    let poll = PollPolicy::default()
        .with_intervals(args.review_time / 10, args.review_time / 10)
        .with_timeout(args.review_time * 4);
    let watch = async {
        loop {
            let mut open = 0;
            for (user_id, _, _) in USERS {
                let user = UserId::new(user_id)?;
                let status = client.status(&user).await?;
                ledger
                    .record_status(&user, &status, SystemClock.now())
                    .await?;
                let status = status.authentication_status().clone();
                if last.get(user_id) != Some(&status) {
                    println!(
                        "status      {user_id:<28} {} ({})",
                        status.as_str(),
                        describe(&status)
                    );
                    last.insert(user_id, status.clone());
                }
                if !status.is_final() && !user_id.starts_with("review") {
                    open += 1;
                }
            }
            if open == 0 {
                return Ok::<_, anyhow::Error>(());
            }
            tokio::time::sleep(poll.initial_interval).await;
        }
    };
    tokio::time::timeout(poll.timeout, watch)
        .await
        .context("the reviews did not finish in time")??;

    // 5. Wait for the callbacks of the final ones (one is retried after its refusal).
    let finals = USERS
        .iter()
        .filter(|(id, _, _)| !id.starts_with("review"))
        .count();
    let arrived = tokio::time::timeout(args.review_time * 4, async {
        loop {
            if received.lock().expect("never poisoned").len() >= finals {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    if arrived.is_err() {
        bail!("not every callback arrived in time");
    }

    // 6. Summary, with the provider's view of each delivery from the sandbox log.
    let log = sandbox.log();
    println!();
    println!(
        "{:<28} {:<14} {:<9} callback",
        "userId", "final status", "requests"
    );
    for (user_id, _, _) in USERS {
        let status = last.get(user_id).map_or("?", |status| describe(status));
        let attempts = log.requests_for(user_id).count();
        let deliveries = log.callbacks_for(user_id).count();
        let callback = match received.lock().expect("never poisoned").get(user_id) {
            Some((_, Some(reason))) => {
                format!("verified after {deliveries} delivery(ies); failReason: {reason}")
            }
            Some((_, None)) => format!("verified after {deliveries} delivery(ies)"),
            None => "none (review not final)".to_owned(),
        };
        println!("{user_id:<28} {status:<14} {attempts:<9} {callback}");
    }

    let _ = stop.send(());
    receiver.await.context("callback receiver")??;
    sandbox.shutdown().await;
    println!("\nledger summary (users by current status)");
    print!("{}", crate::store::summary_text(&ledger.counts().await?));
    ledger.close().await;
    println!("\ndemo finished: every final review was delivered and verified");
    Ok(ExitCode::SUCCESS)
}
