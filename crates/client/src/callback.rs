//! Receiving the provider's result callbacks: verify, hand over, answer `OK` only on success.
//!
//! The provider's rule: a callback is resent until the receiver answers `200` with the plain
//! text `OK`, so `OK` means "stored", and every other answer (another status, another body, no
//! answer in time) means "send it again". The provider gives each attempt 10 seconds.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use kyc_sign::SigningKey;

use crate::Client;
use crate::telemetry::{self, CallbackOutcome};
use crate::types::{CALLBACK_ACK, Callback, CallbackError};

#[cfg(feature = "axum")]
mod extract;
#[cfg(feature = "server")]
mod serve;

#[cfg(feature = "axum")]
pub use extract::VerifiedCallback;
#[cfg(feature = "server")]
pub use serve::serve_callbacks;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The largest callback body read by default: a callback is a few hundred bytes.
pub(crate) const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// What a callback receiver answered, and why: the framework-agnostic core of
/// [`CallbackService`], for merchants who bring their own HTTP server.
///
/// With the `axum` feature it is also an axum response (and the rejection of
/// `VerifiedCallback`).
///
/// # Examples
///
/// ```
/// use kyc_client::{CallbackReply, Client};
///
/// let client = Client::builder().merchant_no("1027749636").app_secret("s").build()?;
/// let reply = CallbackReply::from(client.verify_callback(b"not json").map(|_| ()));
/// assert_eq!(reply.status(), http::StatusCode::BAD_REQUEST);
/// assert_ne!(reply.body(), "OK");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallbackReply {
    status: StatusCode,
    body: &'static str,
}

impl CallbackReply {
    /// `200 OK` with the body `OK`: the provider stops retrying.
    ///
    /// # Examples
    ///
    /// ```
    /// let reply = kyc_client::CallbackReply::OK;
    /// assert_eq!((reply.status().as_u16(), reply.body()), (200, "OK"));
    /// ```
    pub const OK: Self = Self {
        status: StatusCode::OK,
        body: CALLBACK_ACK,
    };

    const fn new(status: StatusCode, body: &'static str) -> Self {
        Self { status, body }
    }

    /// The HTTP status to answer with.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_client::CallbackReply::OK.status(), http::StatusCode::OK);
    /// ```
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The plain-text body to answer with.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_client::CallbackReply::OK.body(), "OK");
    /// ```
    #[must_use]
    pub fn body(&self) -> &'static str {
        self.body
    }

    /// The answer to a callback that failed verification.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::{CallbackReply, SigningKey};
    /// use kyc_client::types::Callback;
    ///
    /// let err = Callback::verify(b"{}", &SigningKey::new("s")?).unwrap_err();
    /// assert_eq!(CallbackReply::refused(&err).status(), http::StatusCode::BAD_REQUEST);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn refused(err: &CallbackError) -> Self {
        if err.is_signature_mismatch() {
            Self::new(StatusCode::UNAUTHORIZED, "signature does not verify")
        } else {
            Self::new(StatusCode::BAD_REQUEST, "malformed callback")
        }
    }

    fn body_refused() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body too large or unreadable",
        )
    }

    /// The response for this reply: its status, `text/plain` and its body.
    fn to_response(self) -> http::Response<Full<Bytes>> {
        http::Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Full::new(Bytes::from_static(self.body.as_bytes())))
            .expect("a status, a static header and a body always make a response")
    }
}

impl From<Result<(), CallbackError>> for CallbackReply {
    fn from(result: Result<(), CallbackError>) -> Self {
        match result {
            Ok(()) => Self::OK,
            Err(err) => Self::refused(&err),
        }
    }
}

/// What a callback handler did with a verified callback; both answer `OK`.
///
/// A handler may return `Ok(())` (taken as [`Handled::Stored`]) or a `Handled`, to tell a
/// resent callback it already had apart in the `kyc.callback.outcomes` metric.
///
/// # Examples
///
/// ```
/// use kyc_client::Handled;
///
/// assert_eq!(Handled::from(()), Handled::Stored);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Handled {
    /// The result is now stored durably.
    Stored,
    /// The same callback had been stored before (the provider resends until it hears `OK`).
    Duplicate,
}

impl From<()> for Handled {
    fn from((): ()) -> Self {
        Self::Stored
    }
}

/// The service for the merchant's `callBackUrl`: a [`tower_service::Service`] (so
/// `axum::Router::route_service` mounts it as it is), a hyper service, and
/// [`handle`](Self::handle) for any other server.
///
/// For each `POST`, it reads the body (up to a limit), verifies it with the client's app
/// secret, hands the typed [`Callback`] to `handler`, and answers `200 OK` with the plain text
/// `OK` only when the handler succeeded: the provider resends a callback until it hears `OK`,
/// so only a result that is safely stored may be acknowledged, and its retries cover every
/// failure. Everything else gets a non-`OK` answer: `405` for another method, `413` for a body
/// over the limit, `400` for a malformed callback, `401` for a bad signature, `500` when the
/// handler failed, `408` when the body is not read within the
/// [request timeout](Self::request_timeout) (8 s by default, inside the provider's 10 s) and
/// `503` when the handler does not finish within it. The limit holds wherever the service is
/// mounted. The handler must be idempotent: the provider resends the same callback until it
/// hears `OK`.
///
/// # Examples
///
/// ```no_run
/// use kyc_client::{CallbackService, Client};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder().merchant_no("1027749636").app_secret("s").build()?;
/// let service = CallbackService::new(&client, |callback| async move {
///     // Store the result durably before returning Ok: only then does the provider hear `OK`.
///     println!("{} is now {:?}", callback.user_id(), callback.status());
///     Ok::<(), std::io::Error>(())
/// });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
/// kyc_client::serve_callbacks(listener, service, std::future::pending()).await?;
/// # Ok(())
/// # }
/// ```
pub struct CallbackService<H> {
    key: SigningKey,
    handler: Arc<H>,
    max_body: usize,
    header_read_timeout: Duration,
    request_timeout: Duration,
}

/// How long `serve_callbacks` waits for a connection's request head by default.
const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request (body read and handler) may take by default: under the provider's
/// 10 s, so that a slow handler is answered `503` before the provider gives up on the attempt.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(8);
/// The longest timeout kept: tokio and hyper add it to the current instant, which must not
/// overflow.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

impl<H> Clone for CallbackService<H> {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            handler: Arc::clone(&self.handler),
            max_body: self.max_body,
            header_read_timeout: self.header_read_timeout,
            request_timeout: self.request_timeout,
        }
    }
}

impl<H> fmt::Debug for CallbackService<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackService")
            .field("key", &self.key)
            .field("max_body", &self.max_body)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl<H, F, T, E> CallbackService<H>
where
    H: Fn(Callback) -> F + Send + Sync + 'static,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Into<Handled>,
    E: fmt::Display + Send + 'static,
{
    /// A service verifying with `client`'s app secret and handing callbacks to `handler`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::{CallbackService, Client};
    /// use kyc_client::types::Callback;
    ///
    /// let client = Client::builder().merchant_no("1027749636").app_secret("s").build()?;
    /// let service = CallbackService::new(&client, |_: Callback| async { Ok::<(), std::io::Error>(()) });
    /// # let _ = service;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(client: &Client, handler: H) -> Self {
        Self::with_key(client.signing_key().clone(), handler)
    }

    /// A service verifying with `key` (for receivers that have no client).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::{CallbackService, SigningKey};
    /// use kyc_client::types::Callback;
    ///
    /// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
    /// let service = CallbackService::with_key(key, |_: Callback| async { Ok::<(), String>(()) });
    /// assert!(!format!("{service:?}").contains("TEST_SECRET"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_key(key: SigningKey, handler: H) -> Self {
        Self {
            key,
            handler: Arc::new(handler),
            max_body: DEFAULT_MAX_BODY,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// The largest body read (64 KiB by default; a callback is a few hundred bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::{CallbackService, SigningKey};
    /// use kyc_client::types::Callback;
    ///
    /// let key = SigningKey::new("s")?;
    /// let service = CallbackService::with_key(key, |_: Callback| async { Ok::<(), String>(()) })
    ///     .max_body(16 * 1024);
    /// # let _ = service;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// How long `serve_callbacks` waits for a request head: a connection must begin its
    /// first request, and send each whole request head, within this time, or it is closed
    /// (10 s by default). Bounds what a slow or silent client (slow-loris) can hold open.
    /// Only `serve_callbacks` reads it; a merchant's own server sets its own. A value over a
    /// day is taken as a day.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use kyc_client::{CallbackService, SigningKey};
    /// use kyc_client::types::Callback;
    ///
    /// let key = SigningKey::new("s")?;
    /// let service = CallbackService::with_key(key, |_: Callback| async { Ok::<(), String>(()) })
    ///     .header_read_timeout(Duration::from_secs(5));
    /// # let _ = service;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout.min(MAX_TIMEOUT);
        self
    }

    /// How long one request may take, from its head to the answer: reading the body and
    /// running the handler (8 s by default, inside the provider's 10 s window). A body not read
    /// in time is answered `408`, a handler not done in time `503` (its future is dropped):
    /// never `OK`, so the provider retries. It holds wherever the service is mounted
    /// (`serve_callbacks`, axum, a plain hyper server). A value over a day is taken as a day.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use kyc_client::{CallbackService, SigningKey};
    /// use kyc_client::types::Callback;
    ///
    /// let key = SigningKey::new("s")?;
    /// let service = CallbackService::with_key(key, |_: Callback| async { Ok::<(), String>(()) })
    ///     .request_timeout(Duration::from_secs(5));
    /// # let _ = service;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout.min(MAX_TIMEOUT);
        self
    }

    /// Handles one request: the whole exchange, whatever the HTTP framework, within the
    /// [request timeout](Self::request_timeout). Must run inside a tokio runtime with its
    /// timer enabled (as axum and hyper servers on tokio are).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::{CallbackService, SigningKey};
    /// use kyc_client::types::{AuthenticationStatus, Callback, Timestamp, UserId};
    ///
    /// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
    /// let body = Callback::new(
    ///     UserId::new("79x7p10nh4xd121m")?,
    ///     AuthenticationStatus::Approved,
    ///     None,
    ///     Timestamp::from_millis(1_728_609_277_476),
    /// )
    /// .to_signed_json(&key);
    /// let service = CallbackService::with_key(key, |callback: Callback| async move {
    ///     assert!(callback.status().is_approved());
    ///     Ok::<(), String>(())
    /// });
    /// let request = http::Request::post("/kyc/callback").body(http_body_util::Full::new(bytes::Bytes::from(body)))?;
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
    /// let response = service.handle(request).await;
    /// assert_eq!(response.status(), http::StatusCode::OK);
    /// # });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn handle<B>(&self, request: http::Request<B>) -> http::Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let (reply, outcome) = self.reply(request).await;
        telemetry::callback_outcome(outcome);
        reply.to_response()
    }

    async fn reply<B>(&self, request: http::Request<B>) -> (CallbackReply, CallbackOutcome)
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        if request.method() != Method::POST {
            let reply = CallbackReply::new(StatusCode::METHOD_NOT_ALLOWED, "POST only");
            return (reply, CallbackOutcome::Refused("method_not_allowed"));
        }
        // One timer for the body read and the handler together: the provider's window covers
        // the whole exchange.
        let deadline = tokio::time::sleep(self.request_timeout);
        tokio::pin!(deadline);
        let read = read_body(request.into_body(), self.max_body);
        let body = tokio::select! {
            body = read => body,
            () = &mut deadline => {
                tracing::warn!("callback body not read in time; the provider will retry");
                let reply = CallbackReply::new(StatusCode::REQUEST_TIMEOUT, "timed out");
                return (reply, CallbackOutcome::TimedOut);
            }
        };
        let body = match body {
            Ok(body) => body,
            Err(reason) => {
                return (
                    CallbackReply::body_refused(),
                    CallbackOutcome::Refused(reason),
                );
            }
        };
        let callback = match Callback::verify(&body, &self.key) {
            Ok(callback) => callback,
            Err(err) => {
                tracing::warn!(error = %err, "callback refused");
                return (CallbackReply::refused(&err), CallbackOutcome::refused(&err));
            }
        };
        let status = callback.status().as_str().to_owned();
        let handled = tokio::select! {
            handled = (self.handler)(callback) => handled,
            () = &mut deadline => {
                tracing::warn!(status, "callback handler not done in time; the provider will retry");
                let reply = CallbackReply::new(StatusCode::SERVICE_UNAVAILABLE, "timed out");
                return (reply, CallbackOutcome::TimedOut);
            }
        };
        match handled.map(Into::into) {
            Ok(handled) => {
                tracing::info!(
                    status,
                    duplicate = handled == Handled::Duplicate,
                    "callback accepted"
                );
                (CallbackReply::OK, CallbackOutcome::Handled(handled))
            }
            Err(err) => {
                tracing::warn!(status, error = %err, "callback handler failed; the provider will retry");
                let reply = CallbackReply::new(StatusCode::INTERNAL_SERVER_ERROR, "handler failed");
                (reply, CallbackOutcome::HandlerFailed)
            }
        }
    }
}

/// Reads at most `limit` bytes of `body`; the error is the refusal's low-cardinality reason.
pub(crate) async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, &'static str>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err("body_too_large"),
        Err(_) => Err("body_unreadable"),
    }
}

/// The future of one exchange, answered by [`CallbackService`] as a tower or hyper service.
pub type CallbackFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Full<Bytes>>, Infallible>> + Send>>;

/// As a tower service: always ready, never fails (every problem is an HTTP answer), so
/// `axum::Router::route_service` mounts it as it is.
impl<H, F, T, E, B> tower_service::Service<http::Request<B>> for CallbackService<H>
where
    H: Fn(Callback) -> F + Send + Sync + 'static,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Into<Handled>,
    E: fmt::Display + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = CallbackFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.handle(request).await) })
    }
}

/// As a hyper 1 service, for `hyper::server::conn` and hyper-util's servers.
impl<H, F, T, E, B> hyper::service::Service<http::Request<B>> for CallbackService<H>
where
    H: Fn(Callback) -> F + Send + Sync + 'static,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Into<Handled>,
    E: fmt::Display + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = CallbackFuture;

    fn call(&self, request: http::Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.handle(request).await) })
    }
}
