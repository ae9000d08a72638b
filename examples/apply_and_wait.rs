//! Apply for one user and wait for the final status by polling: for a merchant that has no
//! callback URL reachable yet.
//!
//! ```sh
//! cargo run -p kyc-examples --example apply_and_wait            # against an embedded sandbox
//! KYC_BASE_URL=https://sandbox-api.vexora.com/japan KYC_MERCHANT_NO=... KYC_APP_SECRET=... \
//!     KYC_CALLBACK_URL=https://merchant.example.com/kyc/callback \
//!     cargo run -p kyc-examples --example apply_and_wait
//! ```

#![allow(clippy::print_stdout)] // an example reports on stdout

use std::time::Duration;

use kyc_client::PollPolicy;
use kyc_client::types::{Application, CallbackUrl, Furigana, UserId};
use kyc_examples::{BoxError, Provider};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let provider = Provider::from_env().await?;
    let client = provider.client()?;
    println!("provider: {}", provider.base_url());

    // The provider requires a callback URL even when the merchant polls (HTTPS in production).
    // On the embedded sandbox it is a loopback port nobody listens on: its deliveries fail,
    // harmlessly.
    let callback_url = match std::env::var("KYC_CALLBACK_URL") {
        Ok(url) => CallbackUrl::new(&url)?,
        Err(_) => CallbackUrl::new_allow_http("http://127.0.0.1:9/kyc/callback")?,
    };
    let user = UserId::new(
        std::env::var("KYC_USER_ID").unwrap_or_else(|_| "approve-example-001".to_owned()),
    )?;
    let application = Application::new(
        user.clone(),
        callback_url,
        // As typed by the user, in half-width katakana: normalised to テスト014.
        Furigana::normalize("ﾃｽﾄ014")?,
    );

    let accepted = client.apply(&application).await?;
    println!(
        "applied: status {}",
        accepted.authentication_status().as_str()
    );

    let poll = if provider.is_embedded() {
        PollPolicy::default()
            .with_intervals(Duration::from_millis(50), Duration::from_millis(200))
            .with_timeout(Duration::from_secs(20))
    } else {
        PollPolicy::default()
    };
    let done = client.wait_for_final(&user, &poll).await?;
    let status = done.authentication_status();
    println!(
        "final: status {} ({})",
        status.as_str(),
        if status.is_approved() {
            "approved"
        } else {
            "rejected"
        }
    );
    provider.shutdown().await;
    Ok(())
}
