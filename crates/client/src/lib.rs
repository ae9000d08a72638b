//! The async client merchants use for the provider's KYC Authentication 2.0 API.
//!
//! It turns "apply for this user", "what is their status" and "here is a callback" into correct,
//! signed, retried and observable calls:
//!
//! - [`Client::apply`] stamps the `timestamp` from an injected [`Clock`], signs the form with
//!   the provider's rule ([`kyc_sign`]), sends it as `multipart/form-data` with the `merchantNo`
//!   header ([`kyc_transport`]) and decodes the answer ([`kyc_proto`]);
//! - [`Client::status`] is the signed JSON status query; [`Client::wait_for_final`] polls it for
//!   merchants who cannot expose a callback URL;
//! - [`Client::verify_callback`], [`CallbackService`] and `serve_callbacks` receive the
//!   provider's signed result callbacks and answer `OK` only once the merchant's handler has
//!   stored the result. `CallbackService` is a `tower` service (axum's `route_service` mounts
//!   it as it is) and a hyper service, with its own time limit inside the provider's 10 s.
//!
//! A successful call means the provider's API layer accepted the request; the review's outcome
//! is the separate [`AuthenticationStatus`](types::AuthenticationStatus) inside the answer.
//!
//! What it deliberately is not: tied to one framework (the callback core is plain `http` types
//! behind the `tower` and hyper service traits, usable from any server; the `axum` feature
//! only adds an extractor), or a reader of the wall clock: time comes from the
//! [`Clock`] it is given, [`SystemClock`] by default. The clocks are `kyc-proto`'s, re-exported,
//! so the client and a `kyc-sandbox` can share one.
//!
//! # Examples
//!
//! ```no_run
//! use kyc_client::Client;
//! use kyc_client::types::{Application, CallbackUrl, Furigana, UserId};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder()
//!     .merchant_no("1027749636")
//!     .app_secret(std::env::var("KYC_APP_SECRET")?)
//!     .build()?;
//! let user = UserId::new("abc_100008")?;
//! let application = Application::new(
//!     user.clone(),
//!     CallbackUrl::new("https://merchant.example.com/api/kyc/callback")?,
//!     Furigana::normalize("ﾃｽﾄ014")?, // half-width input, normalised to テスト014
//! );
//! client.apply(&application).await?;
//! let status = client.status(&user).await?;
//! if status.authentication_status().is_approved() {
//!     println!("approved");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Observability
//!
//! Every call runs in a `kyc.call` [`tracing`] span (`kyc.operation`, `kyc.attempts`,
//! `kyc.outcome`, `error.type`) and every attempt in a `kyc.attempt` span (`kyc.attempt`,
//! `http.request.method`, `server.address`, `http.response.status_code`, `kyc.code`,
//! `error.type`, `latency_ms`). The same names label the metrics reported through the
//! [`metrics`] facade, listed in [`telemetry`]: per-attempt and per-call durations, retries and
//! callback outcomes. No span, event or metric records the app secret, a signature, a `userId`
//! or any personal data.
//!
//! # Crate features
//!
//! - `server` (on): `serve_callbacks`, the ready-made callback receiver on `kyc-serve`'s
//!   accept loop. Without it the crate applies and queries, and [`CallbackService`] is
//!   mounted in the merchant's own server.
//! - `axum` (off): `VerifiedCallback`, an axum 0.8 extractor of a verified
//!   [`Callback`](types::Callback), for merchants who write their own handler.
//! - `native-roots` (off): adds `ClientBuilder::native_roots`, to also trust the operating
//!   system's certificate store.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod callback;
mod client;
mod error;
mod retry;
pub mod telemetry;

#[cfg(feature = "axum")]
pub use callback::VerifiedCallback;
#[cfg(feature = "server")]
pub use callback::serve_callbacks;
pub use callback::{CallbackFuture, CallbackReply, CallbackService, Handled};
pub use client::{Client, ClientBuilder, Environment, PollPolicy};
pub use error::{ApiError, DecodeError, Error, RequestError, TransportError};
pub use kyc_proto::{Clock, FixedClock, SystemClock};
/// The signing types, re-exported: verify callbacks and sign test callbacks without depending
/// on `kyc-sign` directly.
pub use kyc_sign::{Settings, Signature, SigningKey};
pub use kyc_transport::{Certificate, Proxy};
pub use retry::RetryPolicy;

/// The wire types of [`kyc_proto`], re-exported so that users depend on one crate.
pub mod types {
    pub use kyc_proto::*;
}
