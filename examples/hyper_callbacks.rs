//! The callback service in a plain hyper 1 server: no framework, one connection task each.
//!
//! ```sh
//! cargo run -p kyc-examples --example hyper_callbacks   # self-contained: see below
//! KYC_BASE_URL=... KYC_MERCHANT_NO=... KYC_APP_SECRET=... KYC_LISTEN=0.0.0.0:3000 \
//!     cargo run -p kyc-examples --example hyper_callbacks   # serves until Ctrl-C
//! ```
//!
//! Without `KYC_BASE_URL` it starts an embedded sandbox, applies for a user with this server
//! as its callback URL, waits for the signed result to arrive and exits. (For production,
//! `kyc_client::serve_callbacks` adds what this loop leaves out: slow-client deadlines,
//! HTTP/2, graceful shutdown, and surviving accept errors such as running out of file
//! descriptors.)

#![allow(clippy::print_stdout)] // an example reports on stdout

use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use kyc_client::CallbackService;
use kyc_client::types::{Application, Callback, CallbackUrl, Furigana, UserId};
use kyc_examples::{BoxError, Provider};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let provider = Provider::from_env().await?;
    let client = provider.client()?;
    let listen = std::env::var("KYC_LISTEN").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    let listener = TcpListener::bind(&listen).await?;
    let addr = listener.local_addr()?;
    println!("callbacks on http://{addr}/kyc/callback");

    let (results, mut received) = mpsc::channel::<Callback>(16);
    let service = CallbackService::new(&client, move |callback: Callback| {
        let results = results.clone();
        // Store durably before returning Ok; here, hand it to main.
        async move {
            let sent = results.send(callback).await;
            sent.map_err(|_| std::io::Error::other("main has stopped listening"))
        }
    });

    // Hyper's own loop: each connection served by a clone of the service, which enforces its
    // own request time limit (8 s by default, inside the provider's 10 s).
    tokio::spawn(async move {
        loop {
            let Ok((stream, _peer)) = listener.accept().await else {
                // Out of descriptors, say: wait, then accept again.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let service = service.clone();
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });

    if !provider.is_embedded() {
        loop {
            tokio::select! {
                Some(callback) = received.recv() => {
                    println!("{} is now {}", callback.user_id(), callback.status().as_str());
                }
                _ = tokio::signal::ctrl_c() => return Ok(()),
            }
        }
    }

    let user = UserId::new("reject-example-hyper")?; // the sandbox rejects this one
    let application = Application::new(
        user.clone(),
        CallbackUrl::new_allow_http(&format!("http://{addr}/kyc/callback"))?,
        Furigana::normalize("ﾃｽﾄ014")?,
    );
    client.apply(&application).await?;
    println!("applied for {user}");
    let callback = tokio::time::timeout(Duration::from_secs(20), received.recv())
        .await
        .map_err(|_| "no callback in 20 s")?
        .ok_or("the service stopped")?;
    println!(
        "verified callback: {} is now {} ({} reason)",
        callback.user_id(),
        callback.status().as_str(),
        if callback.fail_reason().is_some() {
            "with a"
        } else {
            "without a"
        }
    );
    provider.shutdown().await;
    Ok(())
}
