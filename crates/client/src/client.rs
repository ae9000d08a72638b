//! The client and its operations; its builder and polling are in the submodules, the retry
//! loop every operation goes through is beside the retry policy.

use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use kyc_proto::SignedForm;
use kyc_sign::SigningKey;
use kyc_transport::Request;
use kyc_transport::multipart::{Encoded, Encoder};

use crate::error::{Error, RequestError, RequestKind};
use crate::retry::{Caller, Operation};
use crate::types::{
    Application, ApplyData, Callback, CallbackError, StatusData, StatusQuery, UserId,
};

mod builder;
mod poll;

pub use builder::{ClientBuilder, Environment};
pub use poll::PollPolicy;

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
    caller: Caller,
}

impl Client {
    /// A builder with the defaults: sandbox, 10 s to connect, 30 s per attempt, 60 s per call,
    /// [`RetryPolicy::default`](crate::RetryPolicy::default), the
    /// [`SystemClock`](crate::SystemClock).
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
    /// use kyc_client::{Client, Environment};
    /// use kyc_client::types::{Application, CallbackUrl, Furigana, UserId};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let sandbox = kyc_sandbox::Sandbox::builder(kyc_client::SystemClock)
    /// #     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
    /// #     .build()?
    /// #     .start("127.0.0.1:0")
    /// #     .await?;
    /// // `sandbox` is an in-process kyc_sandbox: any provider base URL works the same.
    /// let client = Client::builder()
    ///     .environment(Environment::custom(sandbox.base_url())?)
    ///     .merchant_no("1027749636")
    ///     .app_secret("TEST_SECRET_DO_NOT_USE")
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
        inner
            .caller
            .call(Operation::Apply, |timestamp| async move {
                let signed = application
                    .signed_form(timestamp, &inner.key)
                    .map_err(|err| Error::Request(RequestError::new(RequestKind::Signing(err))))?;
                let encoded = encode(&signed).await.map_err(|err| {
                    Error::Request(RequestError::new(RequestKind::Transport(err)))
                })?;
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
    /// use kyc_client::{Client, Environment};
    /// use kyc_client::types::UserId;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let sandbox = kyc_sandbox::Sandbox::builder(kyc_client::SystemClock)
    /// #     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
    /// #     .build()?
    /// #     .start("127.0.0.1:0")
    /// #     .await?;
    /// let client = Client::builder()
    ///     .environment(Environment::custom(sandbox.base_url())?)
    ///     .merchant_no("1027749636")
    ///     .app_secret("TEST_SECRET_DO_NOT_USE")
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
        inner
            .caller
            .call(Operation::Status, |timestamp| {
                let query = StatusQuery::new(user_id.clone(), timestamp, &inner.key);
                std::future::ready(Ok(Request::post_json(
                    inner.status_uri.clone(),
                    self.headers(),
                    query.to_json().into(),
                )))
            })
            .await
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

    /// The key made from the app secret: it signs requests and verifies callbacks (for a
    /// handler of the merchant's own, or to sign callbacks in tests). Its `Debug` is redacted.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = kyc_client::Client::builder().merchant_no("1").app_secret("TEST_SECRET").build()?;
    /// assert!(!format!("{:?}", client.signing_key()).contains("TEST_SECRET"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn signing_key(&self) -> &SigningKey {
        &self.inner.key
    }

    fn headers(&self) -> HeaderMap {
        // Room for what is added on the way (Content-Type, Content-Length, Host), so the map
        // never grows. (A clone of a prepared map would have to grow for them.)
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(MERCHANT_NO, self.inner.merchant_no.clone());
        headers
    }
}

/// The `merchantNo` header (HTTP/1 sends names in lower case).
const MERCHANT_NO: HeaderName = HeaderName::from_static("merchantno");

/// Writes a signed application as `multipart/form-data` with a fresh random boundary, drawn
/// again in the practically impossible case that a part contains it.
async fn encode(signed: &SignedForm<'_>) -> Result<Encoded, kyc_transport::Error> {
    Encoder::encode_random(signed.text_fields(), signed.files()).await
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("merchant_no", &self.inner.merchant_no)
            .field("key", &self.inner.key)
            .field("retry", &self.inner.caller.retry)
            .field("total_timeout", &self.inner.caller.total_timeout)
            .finish_non_exhaustive()
    }
}
