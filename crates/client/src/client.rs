//! The client, its builder, and the retry loop every operation goes through.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use kyc_proto::SignedForm;
use kyc_sign::SigningKey;
use kyc_transport::multipart::{Encoded, Encoder};
use kyc_transport::{Certificate, Proxy, Request, Sender, Transport};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::{Instrument, field};

use crate::error::{ApiError, DecodeError, Error, RequestError, RequestKind, TransportError};
use crate::retry::{RetryPolicy, jitter_unit};
use crate::types::{
    Application, ApplyData, Callback, CallbackError, Response, StatusData, StatusQuery, Timestamp,
    UserId,
};
use crate::{Clock, SystemClock};

/// Where the provider is.
///
/// The production base URL is not published: the provider gives it to each merchant after
/// sandbox testing, so any base URL can be used.
///
/// # Examples
///
/// ```
/// use kyc_client::Environment;
///
/// assert_eq!(Environment::Sandbox.base_url(), "https://sandbox-api.vexora.com/japan");
/// let local = Environment::custom("http://127.0.0.1:8080/japan/")?;
/// assert_eq!(local.base_url(), "http://127.0.0.1:8080/japan");
/// assert!(Environment::custom("ftp://example.com").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Environment {
    /// The provider's Japan sandbox, `https://sandbox-api.vexora.com/japan`.
    Sandbox,
    /// Any other base URL: production, or a local sandbox.
    Custom(String),
}

impl Environment {
    /// The Japan sandbox's base URL.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(kyc_client::Environment::SANDBOX_URL.starts_with("https://"));
    /// ```
    pub const SANDBOX_URL: &'static str = "https://sandbox-api.vexora.com/japan";

    /// A base URL such as `https://api.example.com/japan`: `http` or `https`, with a host, no
    /// query or fragment. A trailing `/` is dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Request`] naming `baseUrl` and the rule it breaks.
    ///
    /// # Examples
    ///
    /// ```
    /// let production = kyc_client::Environment::custom("https://api.example.com/japan")?;
    /// assert_eq!(production.base_url(), "https://api.example.com/japan");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn custom(url: &str) -> Result<Self, Error> {
        let bad = |rule| Error::Request(RequestError::config("baseUrl", rule));
        let uri: Uri = url
            .parse()
            .map_err(|_| bad("must be an absolute http or https URL"))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            _ => return Err(bad("must start with http:// or https://")),
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(bad("must name a host"));
        }
        if uri.query().is_some() || url.contains('#') {
            return Err(bad("must not carry a query or a fragment"));
        }
        Ok(Self::Custom(url.trim_end_matches('/').to_owned()))
    }

    /// The base URL, without a trailing `/`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_client::Environment::Sandbox.base_url(), kyc_client::Environment::SANDBOX_URL);
    /// ```
    #[must_use]
    pub fn base_url(&self) -> &str {
        match self {
            Self::Sandbox => Self::SANDBOX_URL,
            Self::Custom(url) => url,
        }
    }
}

/// The operations, as named in traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    Apply,
    Status,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Self::Apply => "apply",
            Self::Status => "status",
        }
    }
}

/// The async client: one connection pool, cheap to clone (`Arc` inside), `Send + Sync`.
///
/// # Examples
///
/// ```no_run
/// use kyc_client::{Client, Environment};
/// use kyc_client::types::{Application, CallbackUrl, Furigana, UserId};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder()
///     .environment(Environment::Sandbox)
///     .merchant_no("1027749636")
///     .app_secret(std::env::var("KYC_APP_SECRET")?)
///     .build()?;
/// let user = UserId::new("abc_100008")?;
/// let application = Application::new(
///     user.clone(),
///     CallbackUrl::new("https://merchant.example.com/api/kyc/callback")?,
///     Furigana::new("テスト014")?,
/// );
/// let accepted = client.apply(&application).await?; // Ok only when the API accepted it
/// println!("status now: {:?}", accepted.authentication_status()); // the business status
/// let status = client.status(&user).await?;
/// println!("status later: {:?}", status.authentication_status());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    base_url: String,
    apply_uri: Uri,
    status_uri: Uri,
    merchant_no: HeaderValue,
    key: SigningKey,
    sender: Sending,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    total_timeout: Duration,
}

impl Client {
    /// A builder with the defaults: sandbox, 10 s to connect, 30 s per attempt, 60 s per call,
    /// [`RetryPolicy::default`], the system clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = kyc_client::Client::builder().merchant_no("1027749636").app_secret("s").build()?;
    /// assert_eq!(client.base_url(), "https://sandbox-api.vexora.com/japan");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL requests go to.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = kyc_client::Client::builder().merchant_no("1").app_secret("s").build()?;
    /// assert_eq!(client.base_url(), kyc_client::Environment::SANDBOX_URL);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Applies for KYC: stamps `timestamp` from the clock, signs, sends the multipart form with
    /// the `merchantNo` header, and decodes the answer.
    ///
    /// `Ok` means only that the provider accepted the application (`code` `0000`); the review's
    /// outcome is [`ApplyData::authentication_status`] now, and later the status query or the
    /// callback.
    ///
    /// # Retries
    ///
    /// Each attempt is stamped and signed afresh. An application is retried when the provider
    /// cannot have acted on it (the connection or TLS handshake failed, or a pooled connection
    /// was found closed before writing), and when the provider answered with a system error
    /// (`8000`, `5000`, HTTP 5xx): it reported that it failed. It is **not** retried once its
    /// bytes may have reached the provider without an answer (a timeout waiting for the answer,
    /// a connection broken mid-exchange): the provider does not document what applying again
    /// for the same `userId` does, so the error is returned with
    /// [`Error::request_may_have_been_sent`] true and the caller should ask
    /// [`Client::status`], the source of truth, before applying again.
    ///
    /// # Errors
    ///
    /// [`Error`], by how far the call got.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use kyc_client::{Client, Environment, FixedClock};
    /// use kyc_client::types::{Application, CallbackUrl, Furigana, UserId};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let clock = kyc_sandbox::ManualClock::new(1_774_925_553_256);
    /// # let sandbox = kyc_sandbox::Sandbox::builder(clock)
    /// #     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
    /// #     .build()?
    /// #     .start("127.0.0.1:0")
    /// #     .await?;
    /// // `sandbox` is an in-process kyc_sandbox: any provider base URL works the same.
    /// let client = Client::builder()
    ///     .environment(Environment::custom(sandbox.base_url())?)
    ///     .merchant_no("1027749636")
    ///     .app_secret("TEST_SECRET_DO_NOT_USE")
    ///     .clock(Arc::new(FixedClock::new(1_774_925_553_256)))
    ///     .build()?;
    /// let application = Application::new(
    ///     UserId::new("abc_100008")?,
    ///     CallbackUrl::new("https://merchant.example.com/api/kyc/callback")?,
    ///     Furigana::new("テスト014")?,
    /// );
    /// let accepted = client.apply(&application).await?;
    /// assert_eq!(accepted.authentication_status().as_str(), "0"); // pending: the review starts
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn apply(&self, application: &Application) -> Result<ApplyData, Error> {
        let inner = &self.inner;
        self.execute(Operation::Apply, |timestamp| async move {
            let signed = application
                .signed_form(timestamp, &inner.key)
                .map_err(|err| Error::Request(RequestError::new(RequestKind::Signing(err))))?;
            let encoded = encode(&signed)
                .await
                .map_err(|err| Error::Request(RequestError::new(RequestKind::Transport(err))))?;
            Ok(Request::post_encoded(
                inner.apply_uri.clone(),
                self.headers(),
                encoded,
            ))
        })
        .await
    }

    /// Queries the review status of `user_id` (`kycStatusQuery`, signed the same way).
    ///
    /// The query only reads, so it is retried on every transient failure, timeouts included.
    ///
    /// # Errors
    ///
    /// [`Error`], by how far the call got.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use kyc_client::{Client, Environment, FixedClock};
    /// use kyc_client::types::UserId;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let clock = kyc_sandbox::ManualClock::new(1_774_925_553_256);
    /// # let sandbox = kyc_sandbox::Sandbox::builder(clock)
    /// #     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
    /// #     .build()?
    /// #     .start("127.0.0.1:0")
    /// #     .await?;
    /// let client = Client::builder()
    ///     .environment(Environment::custom(sandbox.base_url())?)
    ///     .merchant_no("1027749636")
    ///     .app_secret("TEST_SECRET_DO_NOT_USE")
    ///     .clock(Arc::new(FixedClock::new(1_774_925_553_256)))
    ///     .build()?;
    /// // No application for this user yet: the provider refuses the query.
    /// let err = client.status(&UserId::new("nobody")?).await.unwrap_err();
    /// assert!(matches!(err, kyc_client::Error::Api(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn status(&self, user_id: &UserId) -> Result<StatusData, Error> {
        let inner = &self.inner;
        self.execute(Operation::Status, |timestamp| {
            let query = StatusQuery::new(user_id.clone(), timestamp, &inner.key);
            std::future::ready(Ok(Request::post_json(
                inner.status_uri.clone(),
                self.headers(),
                query.to_json().into(),
            )))
        })
        .await
    }

    /// Polls [`Client::status`] until the review is final (approved or rejected), for merchants
    /// who cannot expose a callback URL.
    ///
    /// Waits `poll.initial_interval` after the first non-final answer, doubling up to
    /// `poll.max_interval`, and gives up after `poll.timeout`. A retryable error of one query
    /// does not end the wait; any other error does.
    ///
    /// # Errors
    ///
    /// The first non-retryable [`Error`], or [`Error::Transport`] with
    /// [`TransportError::is_deadline`] when `poll.timeout` ran out first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use kyc_client::{Client, Environment, FixedClock, PollPolicy};
    /// use kyc_client::types::{Application, CallbackUrl, Furigana, UserId};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let clock = kyc_sandbox::ManualClock::new(1_774_925_553_256);
    /// # let sandbox = kyc_sandbox::Sandbox::builder(clock)
    /// #     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
    /// #     .review_schedule(Duration::ZERO, Duration::ZERO) // decides at once
    /// #     .build()?
    /// #     .start("127.0.0.1:0")
    /// #     .await?;
    /// let client = Client::builder()
    ///     .environment(Environment::custom(sandbox.base_url())?)
    ///     .merchant_no("1027749636")
    ///     .app_secret("TEST_SECRET_DO_NOT_USE")
    ///     .clock(Arc::new(FixedClock::new(1_774_925_553_256)))
    ///     .build()?;
    /// let user = UserId::new("reject-u1")?; // the sandbox rejects this one
    /// let application = Application::new(
    ///     user.clone(),
    ///     CallbackUrl::new("https://merchant.example.com/cb")?,
    ///     Furigana::new("テスト")?,
    /// );
    /// client.apply(&application).await?;
    /// let poll = PollPolicy::default().with_intervals(Duration::from_millis(10), Duration::from_millis(50));
    /// let done = client.wait_for_final(&user, &poll).await?;
    /// assert_eq!(done.authentication_status().as_str(), "3");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn wait_for_final(
        &self,
        user_id: &UserId,
        poll: &PollPolicy,
    ) -> Result<StatusData, Error> {
        let deadline = Instant::now() + poll.timeout;
        let mut interval = poll.initial_interval;
        loop {
            match self.status(user_id).await {
                Ok(data) if data.authentication_status().is_final() => return Ok(data),
                Ok(data) => {
                    tracing::debug!(
                        status = data.authentication_status().as_str(),
                        "not final yet"
                    );
                }
                Err(err) if err.is_retryable() => {
                    tracing::debug!(error = %err, "status query failed; polling on");
                }
                Err(err) => return Err(err),
            }
            if Instant::now() + interval >= deadline {
                return Err(Error::Transport(TransportError::deadline(
                    poll.timeout,
                    true,
                )));
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(poll.max_interval);
        }
    }

    /// Verifies a callback body with this client's app secret; see [`Callback::verify`].
    ///
    /// # Errors
    ///
    /// [`CallbackError`]: malformed JSON, a missing field, a bad signature, a malformed field.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::Client;
    /// use kyc_client::types::{AuthenticationStatus, Callback, Timestamp, UserId};
    ///
    /// let client = Client::builder().merchant_no("1027749636").app_secret("TEST_SECRET_DO_NOT_USE").build()?;
    /// let body = Callback::new(UserId::new("u1")?, AuthenticationStatus::Approved, None, Timestamp::from_millis(1))
    ///     .to_signed_json(&kyc_sign::SigningKey::new("TEST_SECRET_DO_NOT_USE")?);
    /// assert!(client.verify_callback(&body)?.status().is_approved());
    /// assert!(client.verify_callback(b"{}").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_callback(&self, body: &[u8]) -> Result<Callback, CallbackError> {
        Callback::verify(body, &self.inner.key)
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.inner.key
    }

    fn headers(&self) -> HeaderMap {
        // Room for what is added on the way (Content-Type, Content-Length, Host), so the map
        // never grows. (A clone of a prepared map would have to grow for them.)
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(MERCHANT_NO, self.inner.merchant_no.clone());
        headers
    }

    /// The retry loop shared by every operation: build (stamped now), send, classify, back off.
    async fn execute<T, B, F>(&self, operation: Operation, build: B) -> Result<T, Error>
    where
        T: DeserializeOwned,
        B: Fn(Timestamp) -> F,
        F: Future<Output = Result<Request, Error>>,
    {
        let inner = &self.inner;
        let span = tracing::info_span!(
            "kyc.call",
            operation = operation.name(),
            attempts = field::Empty,
            outcome = field::Empty,
        );
        async move {
            let deadline = Instant::now() + inner.total_timeout;
            let mut attempt: u32 = 0;
            let result = loop {
                attempt += 1;
                let request = match build(inner.clock.now()).await {
                    Ok(request) => request,
                    Err(err) => break Err(err),
                };
                let error = match self.attempt(operation, attempt, request, deadline).await {
                    Ok(data) => break Ok(data),
                    Err(err) => err,
                };
                let now = Instant::now();
                if !error.is_retryable() || attempt >= inner.retry.max_attempts() {
                    break Err(error);
                }
                let backoff = inner.retry.backoff(attempt - 1, jitter_unit());
                if now + backoff >= deadline {
                    break Err(Error::Transport(TransportError::deadline(
                        inner.total_timeout,
                        error.request_may_have_been_sent(),
                    )));
                }
                tracing::info!(
                    attempt,
                    backoff_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                    error = %error,
                    "retrying"
                );
                tokio::time::sleep(backoff).await;
            };
            let span = tracing::Span::current();
            span.record("attempts", attempt);
            span.record("outcome", if result.is_ok() { "ok" } else { "error" });
            result
        }
        .instrument(span)
        .await
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        operation: Operation,
        attempt: u32,
        request: Request,
        deadline: Instant,
    ) -> Result<T, Error> {
        let span = tracing::info_span!(
            "kyc.attempt",
            attempt,
            http.status = field::Empty,
            code = field::Empty,
            latency_ms = field::Empty,
        );
        let started = Instant::now();
        let sending = self.inner.sender.send(request, started, deadline);
        // Without a subscriber that wants the span, entering and leaving it on every poll is
        // pure cost.
        let sent = if span.is_disabled() {
            sending.await
        } else {
            sending.instrument(span.clone()).await
        };
        if !span.is_disabled() {
            span.record(
                "latency_ms",
                u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            );
        }
        let response = match sent {
            None => {
                return Err(Error::Transport(TransportError::deadline(
                    self.inner.total_timeout,
                    true,
                )));
            }
            Some(Err(err)) => return Err(classify_transport(operation, err)),
            Some(Ok(response)) => response,
        };
        let (status, _headers, body) = response.into_parts();
        span.record("http.status", status.as_u16());
        let result = decode::<T>(status, &body);
        if let Err(Error::Api(err)) = &result {
            if let Some(code) = err.code() {
                span.record("code", code.as_str());
            }
        } else if result.is_ok() {
            span.record("code", "0000");
        }
        result
    }
}

/// Where requests go: the built-in transport, called directly, or a caller's [`Sender`].
enum Sending {
    Transport {
        transport: Transport,
        /// The transport's own per-attempt timeout.
        timeout: Duration,
    },
    Custom(Arc<dyn Sender>),
}

impl Sending {
    /// Sends `request`, giving up at `deadline`: `None` when the deadline came first.
    async fn send(
        &self,
        request: Request,
        now: Instant,
        deadline: Instant,
    ) -> Option<Result<kyc_transport::Response, kyc_transport::Error>> {
        match self {
            Self::Transport { transport, timeout } => {
                // The transport's own timer enforces the deadline when it is the nearer limit:
                // one timer per attempt, not two.
                let remaining = deadline.saturating_duration_since(now);
                match transport.send(request.with_timeout(remaining)).await {
                    Err(kyc_transport::Error::Timeout(elapsed))
                        if remaining < *timeout
                            && elapsed.phase() == kyc_transport::TimeoutPhase::Response =>
                    {
                        None
                    }
                    other => Some(other),
                }
            }
            Self::Custom(sender) => tokio::time::timeout_at(deadline, sender.send(request))
                .await
                .ok(),
        }
    }
}

/// The `merchantNo` header (HTTP/1 sends names in lower case).
const MERCHANT_NO: HeaderName = HeaderName::from_static("merchantno");

/// Writes a signed application as `multipart/form-data` with a fresh random boundary, drawn
/// again in the practically impossible case that a part contains it.
async fn encode(signed: &SignedForm<'_>) -> Result<Encoded, kyc_transport::Error> {
    Encoder::encode_random(signed.text_fields(), signed.files()).await
}

/// Decides what a transport failure means for `operation`.
fn classify_transport(operation: Operation, err: kyc_transport::Error) -> Error {
    if matches!(err, kyc_transport::Error::Invalid(_)) {
        return Error::Request(RequestError::new(RequestKind::Transport(err)));
    }
    let retryable = match operation {
        // Only when the provider cannot have acted on the application.
        Operation::Apply => err.is_retry_safe(),
        // A read: any transient failure may be retried; an oversized answer will not shrink.
        Operation::Status => !matches!(err, kyc_transport::Error::BodyTooLarge(_)),
    };
    Error::Transport(TransportError::send(err, retryable))
}

/// Turns an answer into the data of an accepted request, or the error it reports.
fn decode<T: DeserializeOwned>(status: StatusCode, body: &[u8]) -> Result<T, Error> {
    match Response::<T>::from_slice(body) {
        Ok(envelope) => match envelope.into_api_result() {
            Ok(data) if status.is_success() => Ok(data),
            Ok(_) => Err(Error::Api(ApiError::new(status, None))),
            Err(failure) => Err(Error::Api(ApiError::new(status, Some(failure)))),
        },
        Err(_) if !status.is_success() => Err(Error::Api(ApiError::new(status, None))),
        Err(err) => Err(Error::Decode(DecodeError::new(status, body, err))),
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("merchant_no", &self.inner.merchant_no)
            .field("key", &self.inner.key)
            .field("retry", &self.inner.retry)
            .field("total_timeout", &self.inner.total_timeout)
            .finish_non_exhaustive()
    }
}

/// How [`Client::wait_for_final`] polls.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kyc_client::PollPolicy;
///
/// let poll = PollPolicy::default().with_timeout(Duration::from_secs(600));
/// assert_eq!(poll.timeout, Duration::from_secs(600));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollPolicy {
    /// The wait after the first non-final answer.
    pub initial_interval: Duration,
    /// The longest wait between two queries.
    pub max_interval: Duration,
    /// When to give up.
    pub timeout: Duration,
}

impl PollPolicy {
    /// Sets the first and the longest wait between queries.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let poll = kyc_client::PollPolicy::default().with_intervals(Duration::from_secs(1), Duration::from_secs(10));
    /// assert_eq!(poll.max_interval, Duration::from_secs(10));
    /// ```
    #[must_use]
    pub fn with_intervals(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_interval = initial;
        self.max_interval = max.max(initial);
        self
    }

    /// Sets when to give up.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let poll = kyc_client::PollPolicy::default().with_timeout(Duration::from_secs(60));
    /// assert_eq!(poll.timeout, Duration::from_secs(60));
    /// ```
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// 2 s, doubling up to 60 s, for at most 30 minutes.
impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            initial_interval: Duration::from_secs(2),
            max_interval: Duration::from_secs(60),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// Configures a [`Client`]; see [`Client::builder`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kyc_client::{Client, Environment, RetryPolicy};
///
/// let client = Client::builder()
///     .environment(Environment::custom("http://127.0.0.1:8080/japan")?)
///     .merchant_no("1027749636")
///     .app_secret("TEST_SECRET_DO_NOT_USE")
///     .connect_timeout(Duration::from_secs(2))
///     .timeout(Duration::from_secs(5))
///     .total_timeout(Duration::from_secs(20))
///     .retry(RetryPolicy::default().with_max_attempts(3))
///     .build()?;
/// assert!(!format!("{client:?}").contains("TEST_SECRET"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    environment: Environment,
    merchant_no: Option<String>,
    app_secret: Option<Result<SigningKey, kyc_sign::Error>>,
    connect_timeout: Duration,
    timeout: Duration,
    total_timeout: Duration,
    retry: RetryPolicy,
    max_response_body: usize,
    roots: Vec<Certificate>,
    proxy: Option<Proxy>,
    clock: Arc<dyn Clock>,
    sender: Option<Arc<dyn Sender>>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            environment: Environment::Sandbox,
            merchant_no: None,
            app_secret: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            max_response_body: 1024 * 1024,
            roots: Vec::new(),
            proxy: None,
            clock: Arc::new(SystemClock),
            sender: None,
        }
    }
}

impl ClientBuilder {
    /// Where the provider is (the sandbox by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_client::Client::builder().environment(kyc_client::Environment::Sandbox);
    /// # let _ = builder;
    /// ```
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// The merchant number sent in the `merchantNo` header: 1 to 32 ASCII letters or digits.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_client::Client::builder().merchant_no("1027749636");
    /// # let _ = builder;
    /// ```
    pub fn merchant_no(mut self, merchant_no: impl Into<String>) -> Self {
        self.merchant_no = Some(merchant_no.into());
        self
    }

    /// The app secret that signs requests and verifies callbacks. Taken over (a `String` by
    /// value is not copied), zeroed on drop, never printed.
    ///
    /// # Examples
    ///
    /// ```
    /// let secret = String::from("from a vault");
    /// let builder = kyc_client::Client::builder().app_secret(secret); // moved, not copied
    /// assert!(!format!("{builder:?}").contains("vault"));
    /// ```
    pub fn app_secret(mut self, secret: impl Into<String>) -> Self {
        self.app_secret = Some(SigningKey::new(secret.into()));
        self
    }

    /// How long one connection attempt may take (10 s by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_client::Client::builder().connect_timeout(std::time::Duration::from_secs(3));
    /// # let _ = builder;
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt may take, from sending to the whole answer (30 s by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_client::Client::builder().timeout(std::time::Duration::from_secs(15));
    /// # let _ = builder;
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long one call may take in all, retries and backoff included (60 s by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_client::Client::builder().total_timeout(std::time::Duration::from_secs(45));
    /// # let _ = builder;
    /// ```
    pub fn total_timeout(mut self, timeout: Duration) -> Self {
        self.total_timeout = timeout;
        self
    }

    /// When and how to retry.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_client::Client::builder().retry(kyc_client::RetryPolicy::never());
    /// # let _ = builder;
    /// ```
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The largest answer read, in bytes (1 MiB by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_client::Client::builder().max_response_body(256 * 1024);
    /// # let _ = builder;
    /// ```
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// Also trusts `certificate` as a root (a TLS sandbox with its own certificate).
    ///
    /// # Examples
    ///
    /// ```
    /// // For example the certificate a TLS sandbox generated (`kyc sandbox --https` prints it).
    /// let der = vec![0x30, 0x03, 0x02, 0x01, 0x00];
    /// let builder = kyc_client::Client::builder().add_root_certificate(kyc_client::Certificate::from_der(der));
    /// # let _ = builder;
    /// ```
    pub fn add_root_certificate(mut self, certificate: Certificate) -> Self {
        self.roots.push(certificate);
        self
    }

    /// Sends through a proxy (by default, from `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_client::Client::builder().proxy(kyc_client::Proxy::all("http://proxy.internal:3128"));
    /// # let _ = builder;
    /// ```
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Where timestamps come from ([`SystemClock`] by default).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let builder = kyc_client::Client::builder().clock(Arc::new(kyc_client::FixedClock::new(1_774_925_553_256)));
    /// # let _ = builder;
    /// ```
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sends through `sender` instead of a network transport: a test double, or a transport
    /// shared with other clients. Timeouts, roots and proxy are then `sender`'s business.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::Future;
    /// use std::pin::Pin;
    /// use std::sync::Arc;
    /// use kyc_transport::{Error, Request, Response, Sender};
    ///
    /// /// Refuses everything with a gateway error, without a network.
    /// struct Down;
    ///
    /// impl Sender for Down {
    ///     fn send(&self, _: Request) -> Pin<Box<dyn Future<Output = Result<Response, Error>> + Send + '_>> {
    ///         Box::pin(async { Ok(Response::new(http::StatusCode::BAD_GATEWAY, http::HeaderMap::new(), "".into())) })
    ///     }
    /// }
    ///
    /// let client = kyc_client::Client::builder()
    ///     .merchant_no("1027749636")
    ///     .app_secret("s")
    ///     .sender(Arc::new(Down))
    ///     .retry(kyc_client::RetryPolicy::never())
    ///     .build()?;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let err = client.status(&kyc_client::types::UserId::new("u1")?).await.unwrap_err();
    /// assert!(err.is_retryable());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sender(mut self, sender: Arc<dyn Sender>) -> Self {
        self.sender = Some(sender);
        self
    }

    /// Checks the configuration and builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Request`] naming the setting: a missing or malformed merchant number, a missing
    /// or empty app secret, or a transport that cannot be set up.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = kyc_client::Client::builder().merchant_no("1027749636").build().unwrap_err();
    /// assert_eq!(err.to_string(), "invalid request: nothing was sent");
    /// ```
    pub fn build(self) -> Result<Client, Error> {
        let merchant_no = self
            .merchant_no
            .ok_or_else(|| Error::Request(RequestError::config("merchantNo", "is required")))?;
        let valid = (1..=32).contains(&merchant_no.len())
            && merchant_no.bytes().all(|b| b.is_ascii_alphanumeric());
        if !valid {
            return Err(Error::Request(RequestError::config(
                "merchantNo",
                "must be 1 to 32 ASCII letters or digits",
            )));
        }
        let merchant_no =
            HeaderValue::from_str(&merchant_no).expect("ASCII alphanumerics are a valid header");

        let key = match self.app_secret {
            None => {
                return Err(Error::Request(RequestError::config(
                    "appSecret",
                    "is required",
                )));
            }
            Some(Err(_)) => {
                return Err(Error::Request(RequestError::config(
                    "appSecret",
                    "must not be empty",
                )));
            }
            Some(Ok(key)) => key,
        };
        let base_url = self.environment.base_url().to_owned();
        let endpoint = |path: &str| -> Result<Uri, Error> {
            format!("{base_url}{path}").parse().map_err(|_| {
                Error::Request(RequestError::config("baseUrl", "does not form a valid URL"))
            })
        };
        let apply_uri = endpoint("/v1/vexora/kycApplyFor")?;
        let status_uri = endpoint("/v1/vexora/kycStatusQuery")?;
        let sender = match self.sender {
            Some(sender) => Sending::Custom(sender),
            None => {
                let mut transport = Transport::builder()
                    .connect_timeout(self.connect_timeout)
                    .timeout(self.timeout)
                    .max_response_body(self.max_response_body)
                    .proxy(self.proxy.unwrap_or_else(Proxy::from_env));
                for root in self.roots {
                    transport = transport.add_root_certificate(root);
                }
                Sending::Transport {
                    transport: transport.build().map_err(|err| {
                        Error::Request(RequestError::new(RequestKind::Transport(err)))
                    })?,
                    timeout: self.timeout,
                }
            }
        };
        Ok(Client {
            inner: Arc::new(Inner {
                base_url,
                apply_uri,
                status_uri,
                merchant_no,
                key,
                sender,
                clock: self.clock,
                retry: self.retry,
                total_timeout: self.total_timeout,
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("environment", &self.environment)
            .field("merchant_no", &self.merchant_no)
            .field(
                "app_secret",
                &self.app_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_rules() {
        assert!(Environment::custom("https://api.example.com/japan").is_ok());
        for bad in [
            "",
            "api.example.com",
            "https://",
            "https://h/p?q=1",
            "https://h/p#f",
        ] {
            assert!(Environment::custom(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn builder_names_the_missing_setting() {
        let err = Client::builder().app_secret("s").build().unwrap_err();
        let Error::Request(err) = err else {
            panic!("{err:?}")
        };
        assert_eq!(err.field(), Some("merchantNo"));
        let err = Client::builder()
            .merchant_no("1")
            .app_secret("")
            .build()
            .unwrap_err();
        let Error::Request(err) = err else {
            panic!("{err:?}")
        };
        assert_eq!(err.field(), Some("appSecret"));
    }

    #[test]
    fn decode_keeps_api_layer_and_business_apart() {
        let ok = br#"{"msg":"success","code":"0000","timestamp":"1","success":true,
            "data":{"userId":"u","authenticationStatus":"3","message":"m"}}"#;
        let data: ApplyData = decode(StatusCode::OK, ok).unwrap();
        assert_eq!(data.authentication_status().as_str(), "3");

        let refused = br#"{"msg":"system error","code":"8000","success":false,"data":null}"#;
        let err = decode::<ApplyData>(StatusCode::OK, refused).unwrap_err();
        assert!(matches!(&err, Error::Api(api) if api.code().map(|c| c.as_str()) == Some("8000")));
        assert!(err.is_retryable());

        let html = b"<html>bad gateway</html>";
        let err = decode::<ApplyData>(StatusCode::BAD_GATEWAY, html).unwrap_err();
        assert!(matches!(&err, Error::Api(api) if api.code().is_none()));
        assert!(err.is_retryable());

        let err = decode::<ApplyData>(StatusCode::OK, b"{\"code\":").unwrap_err();
        assert!(matches!(&err, Error::Decode(_)));
        assert!(!err.is_retryable());
    }
}
