//! An axum 0.8 service with the three routes a merchant needs: apply, status, and the
//! provider's callback, mounted with `route_service` as it is, recording into the `kyc-store`
//! ledger.
//!
//! ```sh
//! cargo run -p kyc-examples --example axum_service   # self-contained: see below
//! KYC_BASE_URL=... KYC_MERCHANT_NO=... KYC_APP_SECRET=... KYC_LISTEN=0.0.0.0:3000 \
//!     KYC_CALLBACK_URL=https://merchant.example.com/kyc/callback \
//!     KYC_LEDGER_URL=sqlite:///var/lib/kyc/ledger.db \
//!     cargo run -p kyc-examples --example axum_service   # serves until Ctrl-C
//! ```
//!
//! Without `KYC_BASE_URL` it starts an embedded sandbox, serves on a free loopback port, sends
//! itself a signed callback, applies for a user through its own `/apply` route, waits for the
//! sandbox's callback to reach `/kyc/callback` and the ledger, reads the status through
//! `/status` and exits.
//!
//! Every accepted or refused application and every verified callback is recorded in the
//! ledger (SQLite here, one file; `postgres://…` when several receivers share it): the callback
//! route answers `OK` only after the ledger's commit, and a callback the provider resends is
//! recorded once.

#![allow(clippy::print_stdout)] // an example reports on stdout

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use kyc_client::types::{
    Application, AuthenticationStatus, Callback, CallbackUrl, Furigana, UserId,
};
use kyc_client::{CallbackService, Client, Clock, Handled, SystemClock};
use kyc_examples::{BoxError, Provider, http_request};
use kyc_store::{ApplicationOutcome, Ledger, Recorded};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What the routes share.
#[derive(Clone)]
struct AppState {
    client: Client,
    ledger: Ledger,
    callback_url: CallbackUrl,
}

/// `POST /apply/{userId}` with the furigana as a plain-text body.
async fn apply(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    furigana: String,
) -> (StatusCode, String) {
    let application = match (UserId::new(user_id), Furigana::normalize(&furigana)) {
        (Ok(user), Ok(furigana)) => Application::new(user, state.callback_url.clone(), furigana),
        // The errors name the field, the rule and a position: never the value.
        (Err(err), _) | (_, Err(err)) => {
            return (StatusCode::UNPROCESSABLE_ENTITY, err.to_string());
        }
    };
    let answered = state.client.apply(&application).await;
    let outcome = match &answered {
        Ok(data) => ApplicationOutcome::Accepted(data.authentication_status().clone()),
        Err(kyc_client::Error::Api(err)) => ApplicationOutcome::Refused {
            code: err.code().map_or_else(
                || err.http_status().as_u16().to_string(),
                |code| code.as_str().to_owned(),
            ),
            reason: Some(err.msg().to_owned()).filter(|msg| !msg.is_empty()),
            retryable: err.is_retryable(),
        },
        // No answer: the status query will tell (the ledger's reconciliation asks it).
        Err(err) => return (StatusCode::BAD_GATEWAY, err.to_string()),
    };
    let recorded = state
        .ledger
        .record_application(application.user_id(), SystemClock.now(), &outcome)
        .await;
    if let Err(err) = recorded {
        return (StatusCode::INTERNAL_SERVER_ERROR, err.to_string());
    }
    match answered {
        Ok(data) => (
            StatusCode::ACCEPTED,
            format!("status {}", data.authentication_status().as_str()),
        ),
        Err(err) => (StatusCode::BAD_GATEWAY, err.to_string()),
    }
}

/// `GET /status/{userId}`: the provider's answer (the source of truth).
async fn status(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> (StatusCode, String) {
    let user = match UserId::new(user_id) {
        Ok(user) => user,
        Err(err) => return (StatusCode::UNPROCESSABLE_ENTITY, err.to_string()),
    };
    match state.client.status(&user).await {
        Ok(data) => (
            StatusCode::OK,
            format!("status {}", data.authentication_status().as_str()),
        ),
        Err(err) => (StatusCode::BAD_GATEWAY, err.to_string()),
    }
}

fn router(state: AppState, arrived: Arc<Notify>) -> Router {
    let ledger = state.ledger.clone();
    let callbacks = CallbackService::new(&state.client, move |callback: Callback| {
        let (ledger, arrived) = (ledger.clone(), Arc::clone(&arrived));
        async move {
            // Returns after the commit: only then does the provider hear `OK`.
            let recorded = ledger.record_callback(&callback).await?;
            arrived.notify_waiters();
            Ok::<_, kyc_store::Error>(match recorded {
                Recorded::Duplicate => Handled::Duplicate,
                _ => Handled::Stored,
            })
        }
    });
    Router::new()
        .route("/apply/{user_id}", post(apply))
        .route("/status/{user_id}", get(status))
        // No glue: the callback service is a tower service with its own time limit.
        .route_service("/kyc/callback", callbacks)
        .with_state(state)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let provider = Provider::from_env().await?;
    let client = provider.client()?;
    let listen = std::env::var("KYC_LISTEN").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    let listener = TcpListener::bind(&listen).await?;
    let addr = listener.local_addr()?;
    let callback_url = match std::env::var("KYC_CALLBACK_URL") {
        Ok(url) => CallbackUrl::new(&url)?,
        // The embedded sandbox delivers to this very service, over loopback.
        Err(_) => CallbackUrl::new_allow_http(&format!("http://{addr}/kyc/callback"))?,
    };
    // A file of its own per run unless told otherwise (created if missing).
    let own_file = std::env::temp_dir().join(format!("kyc-axum-example-{}.db", std::process::id()));
    let ledger_url = std::env::var("KYC_LEDGER_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", own_file.display()));
    let ledger = Ledger::connect(&ledger_url).await?;
    let arrived = Arc::new(Notify::new());
    let app = router(
        AppState {
            client: client.clone(),
            ledger: ledger.clone(),
            callback_url,
        },
        Arc::clone(&arrived),
    );
    println!(
        "serving on http://{addr}/ (provider {})",
        provider.base_url()
    );

    if !provider.is_embedded() {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        return Ok(());
    }
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let outcome = tokio::time::timeout(
        Duration::from_secs(30),
        talk_to_itself(addr, &client, &ledger, &arrived),
    )
    .await;
    server.abort();
    provider.shutdown().await;
    // The run's own ledger file (and SQLite's files beside it) goes with the run.
    for suffix in ["", "-wal", "-shm"] {
        let mut path = own_file.clone().into_os_string();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
    outcome.map_err(|_| "the self-test did not finish in 30 s")?
}

/// The self-contained run: a signed callback, an application, its callback, its status.
async fn talk_to_itself(
    addr: SocketAddr,
    client: &Client,
    ledger: &Ledger,
    arrived: &Notify,
) -> Result<(), BoxError> {
    // 1. A callback signed with the merchant's own key, as a test of the route would send it.
    let body = Callback::new(
        UserId::new("approve-example-self")?,
        AuthenticationStatus::Approved,
        None,
        SystemClock.now(),
    )
    .to_signed_json(client.signing_key());
    let (code, answer) =
        http_request(addr, "POST", "/kyc/callback", "application/json", &body).await?;
    println!("signed callback to itself: {code} {answer}");
    if (code, answer.as_str()) != (200, "OK") {
        return Err("the callback route did not answer OK".into());
    }

    // 2. An application through the service's own route; the sandbox decides it in 0.3 s and
    //    posts the signed result to /kyc/callback, which records it in the ledger.
    let user = "approve-example-axum";
    let (code, answer) = http_request(
        addr,
        "POST",
        &format!("/apply/{user}"),
        "text/plain",
        "ﾃｽﾄ014".as_bytes(),
    )
    .await?;
    println!("POST /apply/{user}: {code} {answer}");
    if code != 202 {
        return Err("the application was not accepted".into());
    }
    let user_id = UserId::new(user)?;
    loop {
        let next = arrived.notified();
        let state = ledger.state(&user_id).await?;
        if state.is_some_and(|state| {
            state
                .status()
                .is_some_and(AuthenticationStatus::is_approved)
        }) {
            break;
        }
        next.await;
    }
    println!("callback from the provider, in the ledger: {user} approved");

    let (code, answer) =
        http_request(addr, "GET", &format!("/status/{user}"), "text/plain", b"").await?;
    println!("GET /status/{user}: {code} {answer}");
    if code != 200 {
        return Err("the status query failed".into());
    }
    Ok(())
}
