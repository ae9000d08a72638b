//! Configuring a [`Client`]: where the provider is, who the merchant is, limits and clock.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Uri};
use kyc_sign::SigningKey;
use kyc_transport::{Certificate, Proxy, Sender, Transport};

use super::{Client, Inner};
use crate::error::{Error, RequestError, RequestKind};
use crate::retry::{Caller, RetryPolicy, Sending};
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
    #[cfg(feature = "native-roots")]
    native_roots: bool,
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
            #[cfg(feature = "native-roots")]
            native_roots: false,
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

    /// Whether to trust the operating system's certificate store as well as the bundled
    /// webpki roots and any added certificate (false by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let client = kyc_client::Client::builder()
    ///     .merchant_no("1027749636")
    ///     .app_secret("s")
    ///     .native_roots(true)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self, enabled: bool) -> Self {
        self.native_roots = enabled;
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
    /// A test hands the client and a `kyc_sandbox` clones of one [`FixedClock`](crate::FixedClock)
    /// and moves both with one call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use kyc_client::{Client, FixedClock};
    ///
    /// let clock = FixedClock::new(1_774_925_553_256);
    /// let builder = Client::builder().clock(clock.clone());
    /// clock.advance(Duration::from_secs(1)); // the client's clock moves too
    /// # let _ = builder;
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
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
        let server_address =
            metrics::SharedString::from(apply_uri.host().unwrap_or_default().to_owned());
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
                #[cfg(feature = "native-roots")]
                {
                    transport = transport.native_roots(self.native_roots);
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
                caller: Caller {
                    sender,
                    server_address,
                    clock: self.clock,
                    retry: self.retry,
                    total_timeout: self.total_timeout,
                },
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
}
