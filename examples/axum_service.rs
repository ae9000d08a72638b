//! An axum 0.8 service with the three routes a merchant needs: apply, status, and the
//! provider's callback, mounted with `route_service` as it is.
//!
//! ```sh
//! cargo run -p kyc-examples --example axum_service   # self-contained: see below
//! KYC_BASE_URL=... KYC_MERCHANT_NO=... KYC_APP_SECRET=... KYC_LISTEN=0.0.0.0:3000 \
//!     KYC_CALLBACK_URL=https://merchant.example.com/kyc/callback \
//!     cargo run -p kyc-examples --example axum_service   # serves until Ctrl-C
//! ```
//!
//! Without `KYC_BASE_URL` it starts an embedded sandbox, serves on a free loopback port, sends
//! itself a signed callback, applies for a user through its own `/apply` route, waits for the
//! sandbox's callback to reach `/kyc/callback`, reads the status through `/status` and exits.
//!
//! The results are kept in memory here; a real service stores them durably before answering
//! `OK` (the `kyc-store` ledger, once it lands, is the ready-made place).

#![allow(clippy::print_stdout)] // an example reports on stdout

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
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
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What the routes share.
#[derive(Clone)]
struct AppState {
    client: Client,
    callback_url: CallbackUrl,
}

/// The verified results, deduplicated by (userId, status, timestamp): the provider resends
/// the same callback until it hears `OK`.
#[derive(Default)]
struct Results {
    seen: Mutex<HashSet<(String, String, u64)>>,
    arrived: Notify,
}

impl Results {
    fn record(&self, callback: &Callback) -> Handled {
        let key = (
            callback.user_id().as_str().to_owned(),
            callback.status().as_str().to_owned(),
            callback.timestamp().as_millis(),
        );
        let new = self.seen.lock().expect("never poisoned").insert(key);
        self.arrived.notify_waiters();
        if new {
            Handled::Stored
        } else {
            Handled::Duplicate
        }
    }

    fn has(&self, user: &str, status: &str) -> bool {
        let seen = self.seen.lock().expect("never poisoned");
        seen.iter().any(|(u, s, _)| u == user && s == status)
    }
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
    match state.client.apply(&application).await {
        Ok(data) => (
            StatusCode::ACCEPTED,
            format!("status {}", data.authentication_status().as_str()),
        ),
        Err(err) => (StatusCode::BAD_GATEWAY, err.to_string()),
    }
}

/// `GET /status/{userId}`.
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

fn router(state: AppState, results: Arc<Results>) -> Router {
    let callbacks = CallbackService::new(&state.client, move |callback: Callback| {
        let results = Arc::clone(&results);
        // Store durably here (a database commit) before returning: `OK` follows.
        async move { Ok::<_, std::io::Error>(results.record(&callback)) }
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
    let results = Arc::new(Results::default());
    let app = router(
        AppState {
            client: client.clone(),
            callback_url,
        },
        Arc::clone(&results),
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
        talk_to_itself(addr, &client, &results),
    )
    .await;
    server.abort();
    provider.shutdown().await;
    outcome.map_err(|_| "the self-test did not finish in 30 s")?
}

/// The self-contained run: a signed callback, an application, its callback, its status.
async fn talk_to_itself(
    addr: SocketAddr,
    client: &Client,
    results: &Results,
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
    //    posts the signed result to /kyc/callback.
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
    loop {
        let arrived = results.arrived.notified();
        if results.has(user, AuthenticationStatus::Approved.as_str()) {
            break;
        }
        arrived.await;
    }
    println!("callback from the provider: {user} approved");

    let (code, answer) =
        http_request(addr, "GET", &format!("/status/{user}"), "text/plain", b"").await?;
    println!("GET /status/{user}: {code} {answer}");
    if code != 200 {
        return Err("the status query failed".into());
    }
    Ok(())
}
