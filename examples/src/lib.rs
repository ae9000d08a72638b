//! What the examples share: where the provider is, and a client for it.
//!
//! With `KYC_BASE_URL` set, the examples talk to that provider (the real sandbox, or a
//! `kyc sandbox` started by hand) as the merchant `KYC_MERCHANT_NO` with the secret
//! `KYC_APP_SECRET`. Without it they start the `kyc-sandbox` fake provider in-process on
//! loopback, so that each runs in seconds with nothing to configure (that is how CI runs them).

use std::time::Duration;

use kyc_client::{Client, Environment, RetryPolicy};
use kyc_sandbox::{Running, Sandbox, SystemClock};

/// The error type of the examples: anything, printed by `main`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The merchant the embedded sandbox knows.
const SANDBOX_MERCHANT: &str = "1027749636";
/// Its secret: a test value, never a real one.
const SANDBOX_SECRET: &str = "TEST_SECRET_DO_NOT_USE";

/// The provider the examples talk to.
pub struct Provider {
    base_url: String,
    merchant_no: String,
    app_secret: String,
    /// The embedded sandbox, when `KYC_BASE_URL` is unset: stopped when dropped.
    sandbox: Option<Running>,
}

impl Provider {
    /// The provider named by the environment, or an embedded sandbox that decides reviews in
    /// a fraction of a second.
    ///
    /// # Errors
    ///
    /// A `KYC_BASE_URL` without `KYC_MERCHANT_NO` and `KYC_APP_SECRET`, or a sandbox that
    /// cannot start.
    pub async fn from_env() -> Result<Self, BoxError> {
        if let Ok(base_url) = std::env::var("KYC_BASE_URL") {
            let var = |name: &str| {
                std::env::var(name).map_err(|_| format!("KYC_BASE_URL is set, so {name} must be"))
            };
            return Ok(Self {
                base_url,
                merchant_no: var("KYC_MERCHANT_NO")?,
                app_secret: var("KYC_APP_SECRET")?,
                sandbox: None,
            });
        }
        let sandbox = Sandbox::builder(SystemClock)
            .merchant(SANDBOX_MERCHANT, SANDBOX_SECRET)
            .review_schedule(Duration::from_millis(100), Duration::from_millis(300))
            // The provider's callback retries (2 s, 5 s, ...) in hundredths.
            .time_scale(0.01)
            .build()?
            .start("127.0.0.1:0")
            .await?;
        Ok(Self {
            base_url: sandbox.base_url().to_owned(),
            merchant_no: SANDBOX_MERCHANT.to_owned(),
            app_secret: SANDBOX_SECRET.to_owned(),
            sandbox: Some(sandbox),
        })
    }

    /// Whether this is the embedded sandbox (the example then ends by itself).
    #[must_use]
    pub fn is_embedded(&self) -> bool {
        self.sandbox.is_some()
    }

    /// The provider's base URL.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A client for this provider: its defaults, with a shorter backoff for the sandbox.
    ///
    /// # Errors
    ///
    /// A base URL or merchant number the client refuses.
    pub fn client(&self) -> Result<Client, kyc_client::Error> {
        let mut builder = Client::builder()
            .environment(Environment::custom(&self.base_url)?)
            .merchant_no(self.merchant_no.as_str())
            .app_secret(self.app_secret.as_str());
        if self.is_embedded() {
            builder = builder.retry(
                RetryPolicy::default()
                    .with_backoff(Duration::from_millis(20), Duration::from_millis(200)),
            );
        }
        builder.build()
    }

    /// Stops the embedded sandbox, if there is one, after its exchanges in flight.
    pub async fn shutdown(self) {
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

/// Sends one HTTP/1.1 request to `addr` and reads the whole answer: status and body.
///
/// Only for the examples talking to themselves (a merchant's service has its own HTTP
/// client); `Connection: close` makes the server end the answer by closing.
///
/// # Errors
///
/// A connection or I/O failure, or an answer that is not HTTP/1.1.
pub async fn http_request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<(u16, String), BoxError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut answer)).await??;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or("an answer without a head")?;
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or("an answer that is not HTTP/1.1")?;
    Ok((status, body.to_owned()))
}
