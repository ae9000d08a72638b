//! Receiving the provider's result callbacks: verify, hand over, answer `OK` only on success.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use kyc_sign::SigningKey;
use tokio::net::TcpListener;

use crate::Client;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
use crate::types::{CALLBACK_ACK, Callback, CallbackError};

/// What a callback receiver answered, and why: the framework-agnostic core of
/// [`CallbackService`], for merchants who bring their own HTTP server.
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
    /// use kyc_client::CallbackReply;
    /// use kyc_client::types::Callback;
    /// use kyc_sign::SigningKey;
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
}

impl From<Result<(), CallbackError>> for CallbackReply {
    fn from(result: Result<(), CallbackError>) -> Self {
        match result {
            Ok(()) => Self::OK,
            Err(err) => Self::refused(&err),
        }
    }
}

/// A hyper service for the merchant's `callBackUrl`.
///
/// For each `POST`, it reads the body (up to a limit), verifies it with the client's app
/// secret, hands the typed [`Callback`] to `handler`, and answers `200 OK` with the plain text
/// `OK` only when the handler succeeded, so that the provider's retries cover every failure
/// (PROVIDER.md: answer `OK` only after the result is safely stored). Everything else gets a
/// non-`OK` answer: `405` for another method, `413` for a body over the limit, `400` for a
/// malformed callback, `401` for a bad signature, `500` when the handler failed. The handler
/// must be idempotent: the provider resends the same callback until it hears `OK`.
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

/// How long [`serve_callbacks`] waits for a connection's request head by default.
const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`serve_callbacks`] gives one request (body read and handler) by default.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest timeout kept: hyper adds it to the current instant, which must not overflow.
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

impl<H, F, E> CallbackService<H>
where
    H: Fn(Callback) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), E>> + Send + 'static,
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
    /// use kyc_client::CallbackService;
    /// use kyc_client::types::Callback;
    ///
    /// let key = kyc_sign::SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
    /// let service = CallbackService::with_key(key, |_: Callback| async { Ok::<(), String>(()) });
    /// assert!(!format!("{service:?}").contains("TEST_SECRET"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_key(key: SigningKey, handler: H) -> Self {
        Self {
            key,
            handler: Arc::new(handler),
            max_body: 64 * 1024,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// The largest body read (64 KiB by default; a callback is a few hundred bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::CallbackService;
    /// use kyc_client::types::Callback;
    ///
    /// let key = kyc_sign::SigningKey::new("s")?;
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

    /// How long [`serve_callbacks`] waits for a request head: a connection must begin its
    /// first request, and send each whole request head, within this time, or it is closed
    /// (10 s by default). Bounds what a slow or silent client (slow-loris) can hold open.
    /// Only [`serve_callbacks`] reads it; a merchant's own server sets its own. A value over a
    /// day is taken as a day.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use kyc_client::CallbackService;
    /// use kyc_client::types::Callback;
    ///
    /// let key = kyc_sign::SigningKey::new("s")?;
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

    /// How long [`serve_callbacks`] gives one request, from its head to the answer: reading
    /// the body and running the handler (30 s by default). A request over it is answered
    /// `408`, never `OK`, so the provider retries. Only [`serve_callbacks`] reads it. A value
    /// over a day is taken as a day.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use kyc_client::CallbackService;
    /// use kyc_client::types::Callback;
    ///
    /// let key = kyc_sign::SigningKey::new("s")?;
    /// let service = CallbackService::with_key(key, |_: Callback| async { Ok::<(), String>(()) })
    ///     .request_timeout(Duration::from_secs(8));
    /// # let _ = service;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout.min(MAX_TIMEOUT);
        self
    }

    /// Handles one request: the whole exchange, whatever the HTTP framework.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::CallbackService;
    /// use kyc_client::types::{AuthenticationStatus, Callback, Timestamp, UserId};
    /// use kyc_sign::SigningKey;
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
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
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
        let reply = self.reply(request).await;
        http::Response::builder()
            .status(reply.status)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Full::new(Bytes::from_static(reply.body.as_bytes())))
            .expect("a status, a static header and a body always make a response")
    }

    async fn reply<B>(&self, request: http::Request<B>) -> CallbackReply
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        if request.method() != Method::POST {
            return CallbackReply::new(StatusCode::METHOD_NOT_ALLOWED, "POST only");
        }
        let body = match Limited::new(request.into_body(), self.max_body)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return CallbackReply::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body too large or unreadable",
                );
            }
        };
        let callback = match Callback::verify(&body, &self.key) {
            Ok(callback) => callback,
            Err(err) => {
                tracing::warn!(error = %err, "callback refused");
                return CallbackReply::refused(&err);
            }
        };
        let status = callback.status().as_str().to_owned();
        match (self.handler)(callback).await {
            Ok(()) => {
                tracing::info!(status, "callback accepted");
                CallbackReply::OK
            }
            Err(err) => {
                tracing::warn!(status, error = %err, "callback handler failed; the provider will retry");
                CallbackReply::new(StatusCode::INTERNAL_SERVER_ERROR, "handler failed")
            }
        }
    }
}

impl<H, F, E, B> hyper::service::Service<http::Request<B>> for CallbackService<H>
where
    H: Fn(Callback) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: http::Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.handle(request).await) })
    }
}

/// Serves `service` on `listener` (HTTP/1.1 and HTTP/2) until `shutdown` completes, then
/// finishes the exchanges in flight.
///
/// Each connection must begin its first request, and send each request head, within the
/// service's [`header_read_timeout`](CallbackService::header_read_timeout) (10 s by default;
/// slow or silent clients are cut off), and each request is served within its
/// [`request_timeout`](CallbackService::request_timeout) (30 s by default, else `408`).
/// Request heads over 64 KiB are refused, and an HTTP/2 connection may have 64 requests open
/// at once. After `shutdown`, a connection still open a second past the request timeout is
/// dropped.
///
/// The receiver never stops on an accept error: one connection's failure is skipped, and when
/// the process runs out of file descriptors (a burst of callbacks, or idle connections held
/// open by a client) it logs a warning, pauses briefly and accepts again once descriptors are
/// freed. The accept loop is the one the sandbox uses (`kyc-serve`).
///
/// # Errors
///
/// None: accept errors are survived, and errors of one connection end that connection only.
/// The `io::Result` is kept so that callers' `?` goes on compiling.
///
/// # Examples
///
/// ```
/// use kyc_client::{CallbackService, serve_callbacks};
/// use kyc_client::types::Callback;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let key = kyc_sign::SigningKey::new("s")?;
/// let service = CallbackService::with_key(key, |_: Callback| async { Ok::<(), String>(()) });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// // Serves until the shutdown future completes: here, at once.
/// serve_callbacks(listener, service, async {}).await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn serve_callbacks<H, F, E>(
    listener: TcpListener,
    service: CallbackService<H>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    H: Fn(Callback) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    let request_timeout = service.request_timeout;
    let server = kyc_serve::Server::new()
        .header_read_timeout(service.header_read_timeout)
        // Every exchange ends within the request timeout (with `408` at worst); the second on
        // top lets that answer be written.
        .shutdown_grace(request_timeout.saturating_add(Duration::from_secs(1)));
    let timed = hyper::service::service_fn(move |request| {
        let service = service.clone();
        async move {
            match tokio::time::timeout(request_timeout, service.handle(request)).await {
                Ok(response) => Ok::<_, Infallible>(response),
                Err(_) => Ok(http::Response::builder()
                    .status(StatusCode::REQUEST_TIMEOUT)
                    .body(Full::new(Bytes::from_static(b"timed out")))
                    .expect("static response")),
            }
        }
    });
    server.serve(listener, timed, shutdown).await;
    Ok(())
}
