//! The sender: a connection pool on hyper's connection API over rustls (connectors from
//! hyper-util and hyper-rustls), behind the [`Sender`] trait.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, PROXY_AUTHORIZATION};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::connect::{ProxyConnector, TimeoutConnector};
use crate::error::{self, Error, InvalidKind, TimeoutPhase};
use crate::multipart::{Encoded, Form, FormBody};
use crate::pool::Pool;

/// Sends one request and returns the whole response: the seam between the client and the
/// network.
///
/// [`Transport`] implements it over hyper; a test double implements it in memory and inspects
/// the [`Request`] (its [`Form`] parts are data, not encoded bytes).
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
///
/// use kyc_transport::{Error, Request, Response, Sender};
///
/// /// Answers every request with `{"code":"0000"}`.
/// struct Canned;
///
/// impl Sender for Canned {
///     fn send(&self, _request: Request) -> Pin<Box<dyn Future<Output = Result<Response, Error>> + Send + '_>> {
///         Box::pin(async { Ok(Response::new(http::StatusCode::OK, http::HeaderMap::new(), r#"{"code":"0000"}"#.into())) })
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let request = Request::post_json("http://localhost/status".parse()?, http::HeaderMap::new(), "{}".into());
/// let response = Canned.send(request).await?;
/// assert_eq!(response.status(), http::StatusCode::OK);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Sender: Send + Sync {
    /// Sends `request` and reads the whole response body.
    ///
    /// # Errors
    ///
    /// An [`Error`] saying how far the request got.
    fn send(
        &self,
        request: Request,
    ) -> Pin<Box<dyn Future<Output = Result<Response, Error>> + Send + '_>>;
}

/// A request: method, URI, headers and a body that can be sent again.
///
/// `Debug` shows header names, never their values, and body sizes, never their bytes.
///
/// # Examples
///
/// ```
/// use kyc_transport::{Request, RequestBody};
/// use kyc_transport::multipart::Form;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("merchantNo", "1027749636".parse()?);
/// let request = Request::post_form("https://sandbox.example/v1/apply".parse()?, headers, Form::new().text("userId", "u1"));
/// assert_eq!(request.method(), http::Method::POST);
/// assert!(matches!(request.body(), RequestBody::Form(form) if form.parts().len() == 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Request {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: RequestBody,
    timeout: Option<Duration>,
}

/// The body of a [`Request`].
///
/// # Examples
///
/// ```
/// use kyc_transport::RequestBody;
///
/// let body = RequestBody::Json(bytes::Bytes::from_static(b"{}"));
/// assert!(matches!(body, RequestBody::Json(_)));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum RequestBody {
    /// No body (`Content-Length: 0`).
    Empty,
    /// JSON text, sent with `Content-Type: application/json`.
    Json(Bytes),
    /// A multipart form, encoded with a fresh random boundary when sent.
    Form(Form),
    /// A multipart form already encoded (see [`multipart::Encoder`](crate::multipart::Encoder)):
    /// sent as it is, its boundary fixed.
    Encoded(Encoded),
}

impl Request {
    /// A `POST` of a multipart form.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::Request;
    /// use kyc_transport::multipart::Form;
    ///
    /// let request = Request::post_form("http://127.0.0.1:1/".parse()?, http::HeaderMap::new(), Form::new());
    /// assert_eq!(request.uri().path(), "/");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn post_form(uri: Uri, headers: HeaderMap, form: Form) -> Self {
        Self {
            method: Method::POST,
            uri,
            headers,
            body: RequestBody::Form(form),
            timeout: None,
        }
    }

    /// A `POST` of an already encoded multipart form.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::{Request, RequestBody};
    /// use kyc_transport::multipart::{Boundary, Encoder};
    ///
    /// let mut encoder = Encoder::new(Boundary::random()?);
    /// encoder.text("userId", "u1")?;
    /// let request = Request::post_encoded("http://127.0.0.1:1/".parse()?, http::HeaderMap::new(), encoder.finish());
    /// assert!(matches!(request.body(), RequestBody::Encoded(encoded) if encoded.content_length() > 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn post_encoded(uri: Uri, headers: HeaderMap, encoded: Encoded) -> Self {
        Self {
            method: Method::POST,
            uri,
            headers,
            body: RequestBody::Encoded(encoded),
            timeout: None,
        }
    }

    /// A `POST` of JSON text.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::Request;
    ///
    /// let request = Request::post_json("http://127.0.0.1:1/".parse()?, http::HeaderMap::new(), "{}".into());
    /// assert_eq!(request.method(), http::Method::POST);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn post_json(uri: Uri, headers: HeaderMap, body: Bytes) -> Self {
        Self {
            method: Method::POST,
            uri,
            headers,
            body: RequestBody::Json(body),
            timeout: None,
        }
    }

    /// Any method and body.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::{Request, RequestBody};
    ///
    /// let request = Request::new(http::Method::GET, "http://127.0.0.1:1/".parse()?, http::HeaderMap::new(), RequestBody::Empty);
    /// assert_eq!(request.method(), http::Method::GET);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(method: Method, uri: Uri, headers: HeaderMap, body: RequestBody) -> Self {
        Self {
            method,
            uri,
            headers,
            body,
            timeout: None,
        }
    }

    /// The method.
    ///
    /// # Examples
    ///
    /// ```
    /// # let request = kyc_transport::Request::post_json("http://h/".parse()?, http::HeaderMap::new(), "{}".into());
    /// assert_eq!(request.method(), http::Method::POST);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The target URI.
    ///
    /// # Examples
    ///
    /// ```
    /// # let request = kyc_transport::Request::post_json("http://h/s".parse()?, http::HeaderMap::new(), "{}".into());
    /// assert_eq!(request.uri().path(), "/s");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The caller's headers; `Content-Type` and `Content-Length` are set when sending.
    ///
    /// # Examples
    ///
    /// ```
    /// # let request = kyc_transport::Request::post_json("http://h/".parse()?, http::HeaderMap::new(), "{}".into());
    /// assert!(request.headers().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_transport::RequestBody;
    /// # let request = kyc_transport::Request::post_json("http://h/".parse()?, http::HeaderMap::new(), "{}".into());
    /// assert!(matches!(request.body(), RequestBody::Json(json) if json == "{}"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn body(&self) -> &RequestBody {
        &self.body
    }

    /// Limits this request to `timeout`, or to the transport's per-attempt timeout when that
    /// is shorter: for a caller whose overall deadline is nearer than a whole attempt.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # let request = kyc_transport::Request::post_json("http://h/".parse()?, http::HeaderMap::new(), "{}".into());
    /// let request = request.with_timeout(Duration::from_secs(2));
    /// assert_eq!(request.timeout(), Some(Duration::from_secs(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The limit set by [`Request::with_timeout`], if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # let request = kyc_transport::Request::post_json("http://h/".parse()?, http::HeaderMap::new(), "{}".into());
    /// assert_eq!(request.timeout(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may identify the merchant or carry credentials: names only.
        let names: Vec<&str> = self.headers.keys().map(http::HeaderName::as_str).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("headers", &names)
            .field("body", &self.body)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Bodies may hold personal data: their size only.
impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty"),
            Self::Json(json) => write!(f, "json <{} bytes>", json.len()),
            Self::Form(form) => write!(f, "form of {} parts", form.parts().len()),
            Self::Encoded(encoded) => {
                write!(f, "encoded form <{} bytes>", encoded.content_length())
            }
        }
    }
}

/// A response read whole: status, headers and a body no larger than the configured cap.
///
/// # Examples
///
/// ```
/// use kyc_transport::Response;
///
/// let response = Response::new(http::StatusCode::OK, http::HeaderMap::new(), "OK".into());
/// assert_eq!(response.body(), "OK");
/// ```
#[derive(Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Response {
    /// A response from its parts (for test doubles of [`Sender`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let response = kyc_transport::Response::new(http::StatusCode::NOT_FOUND, http::HeaderMap::new(), bytes::Bytes::new());
    /// assert_eq!(response.status(), 404);
    /// ```
    #[must_use]
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Self {
            status,
            headers,
            body,
        }
    }

    /// The status code.
    ///
    /// # Examples
    ///
    /// ```
    /// # let response = kyc_transport::Response::new(http::StatusCode::OK, http::HeaderMap::new(), "".into());
    /// assert!(response.status().is_success());
    /// ```
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    ///
    /// # Examples
    ///
    /// ```
    /// # let response = kyc_transport::Response::new(http::StatusCode::OK, http::HeaderMap::new(), "".into());
    /// assert!(response.headers().get("content-type").is_none());
    /// ```
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    ///
    /// # Examples
    ///
    /// ```
    /// # let response = kyc_transport::Response::new(http::StatusCode::OK, http::HeaderMap::new(), "{}".into());
    /// assert_eq!(response.body(), "{}");
    /// ```
    #[must_use]
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The parts, by value.
    ///
    /// # Examples
    ///
    /// ```
    /// # let response = kyc_transport::Response::new(http::StatusCode::OK, http::HeaderMap::new(), "{}".into());
    /// let (status, _headers, body) = response.into_parts();
    /// assert_eq!((status.as_u16(), &body[..]), (200, &b"{}"[..]));
    /// ```
    #[must_use]
    pub fn into_parts(self) -> (StatusCode, HeaderMap, Bytes) {
        (self.status, self.headers, self.body)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.keys().map(http::HeaderName::as_str).collect();
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &names)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

/// A trusted root certificate to add to the defaults (for a TLS sandbox or a private CA).
///
/// # Examples
///
/// ```
/// use kyc_transport::Certificate;
///
/// assert!(Certificate::from_pem(b"not a certificate").is_err());
/// let der = Certificate::from_der(vec![0x30, 0x03, 0x02, 0x01, 0x00]); // checked when building
/// # let _ = der;
/// ```
#[derive(Clone)]
pub struct Certificate {
    der: CertificateDer<'static>,
}

impl Certificate {
    /// The first certificate in a PEM text.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when the text holds no PEM certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::Certificate;
    ///
    /// assert!(Certificate::from_pem(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n").is_ok());
    /// assert!(Certificate::from_pem(b"").is_err());
    /// ```
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        CertificateDer::from_pem_slice(pem)
            .map(|der| Self { der })
            .map_err(|err| Error::invalid_with(InvalidKind::Certificate, err.to_string()))
    }

    /// A DER-encoded certificate; it is parsed when the transport is built.
    ///
    /// # Examples
    ///
    /// ```
    /// let certificate = kyc_transport::Certificate::from_der(Vec::new());
    /// assert!(kyc_transport::Transport::builder().add_root_certificate(certificate).build().is_err());
    /// ```
    #[must_use]
    pub fn from_der(der: impl Into<Vec<u8>>) -> Self {
        Self {
            der: CertificateDer::from(der.into()),
        }
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Certificate(<{} bytes DER>)", self.der.len())
    }
}

/// Which proxy, if any, requests go through.
///
/// `https` destinations are tunnelled with `CONNECT`; `http` destinations are forwarded with an
/// absolute-form request target. Only `http://` proxy URLs are supported; credentials in the
/// URL (`http://user:pass@proxy:3128`) are sent as `Proxy-Authorization: Basic`.
///
/// # Examples
///
/// ```
/// use kyc_transport::Proxy;
///
/// let from_env = Proxy::from_env(); // HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY (either case)
/// let explicit = Proxy::all("http://proxy.internal:3128").no_proxy("localhost, .internal");
/// let direct = Proxy::none();
/// # let _ = (from_env, explicit, direct);
/// ```
#[derive(Clone)]
pub struct Proxy {
    kind: ProxyKind,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Proxy URLs may carry credentials (`user:pass@`): show the host part only.
        fn redact(url: &Option<String>) -> Option<&str> {
            url.as_deref()
                .map(|url| url.rsplit_once('@').map_or(url, |(_, host)| host))
        }
        match &self.kind {
            ProxyKind::None => f.write_str("Proxy::none()"),
            ProxyKind::Env => f.write_str("Proxy::from_env()"),
            ProxyKind::Explicit { http, https, no } => f
                .debug_struct("Proxy")
                .field("http", &redact(http))
                .field("https", &redact(https))
                .field("no_proxy", no)
                .finish(),
        }
    }
}

#[derive(Clone, Debug)]
enum ProxyKind {
    None,
    Env,
    Explicit {
        http: Option<String>,
        https: Option<String>,
        no: Option<String>,
    },
}

impl Proxy {
    /// Read from `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (upper or lower case)
    /// when the transport is built, with curl's rules. This is the default. Loopback hosts are
    /// not exempt unless `NO_PROXY` lists them. In a CGI environment (`REQUEST_METHOD` set,
    /// where a client could set `HTTP_PROXY` through a `Proxy:` header) no proxy is used.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = kyc_transport::Proxy::from_env();
    /// # let _ = proxy;
    /// ```
    #[must_use]
    pub fn from_env() -> Self {
        Self {
            kind: ProxyKind::Env,
        }
    }

    /// No proxy: always connect directly, whatever the environment says.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = kyc_transport::Proxy::none();
    /// # let _ = proxy;
    /// ```
    #[must_use]
    pub fn none() -> Self {
        Self {
            kind: ProxyKind::None,
        }
    }

    /// One proxy for both `http` and `https` destinations.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = kyc_transport::Proxy::all("http://127.0.0.1:3128");
    /// # let _ = proxy;
    /// ```
    #[must_use]
    pub fn all(url: impl Into<String>) -> Self {
        let url = url.into();
        Self {
            kind: ProxyKind::Explicit {
                http: Some(url.clone()),
                https: Some(url),
                no: None,
            },
        }
    }

    /// A proxy for `https` destinations only.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = kyc_transport::Proxy::https("http://127.0.0.1:3128");
    /// # let _ = proxy;
    /// ```
    #[must_use]
    pub fn https(url: impl Into<String>) -> Self {
        Self {
            kind: ProxyKind::Explicit {
                http: None,
                https: Some(url.into()),
                no: None,
            },
        }
    }

    /// A proxy for `http` destinations only.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = kyc_transport::Proxy::http("http://127.0.0.1:3128");
    /// # let _ = proxy;
    /// ```
    #[must_use]
    pub fn http(url: impl Into<String>) -> Self {
        Self {
            kind: ProxyKind::Explicit {
                http: Some(url.into()),
                https: None,
                no: None,
            },
        }
    }

    /// Hosts that bypass an explicit proxy, in `NO_PROXY` syntax: comma-separated domains
    /// (matching subdomains too), IP addresses or CIDR ranges, or `*`. Ignored for
    /// [`Proxy::from_env`] (which reads `NO_PROXY`) and [`Proxy::none`].
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = kyc_transport::Proxy::all("http://127.0.0.1:3128").no_proxy("example.com, 10.0.0.0/8");
    /// # let _ = proxy;
    /// ```
    #[must_use]
    pub fn no_proxy(mut self, list: impl Into<String>) -> Self {
        if let ProxyKind::Explicit { no, .. } = &mut self.kind {
            *no = Some(list.into());
        }
        self
    }

    fn matcher(&self) -> Option<Matcher> {
        match &self.kind {
            ProxyKind::None => None,
            ProxyKind::Env => Some(Matcher::from_env()),
            ProxyKind::Explicit { http, https, no } => {
                let mut builder = Matcher::builder();
                if let Some(http) = http {
                    builder = builder.http(http.clone());
                }
                if let Some(https) = https {
                    builder = builder.https(https.clone());
                }
                if let Some(no) = no {
                    builder = builder.no(no.clone());
                }
                Some(builder.build())
            }
        }
    }
}

/// Configures a [`Transport`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let transport = kyc_transport::Transport::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .timeout(Duration::from_secs(20))
///     .max_response_body(256 * 1024)
///     .proxy(kyc_transport::Proxy::none())
///     .build()?;
/// # let _ = transport;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct TransportBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    max_response_body: usize,
    roots: Vec<Certificate>,
    webpki_roots: bool,
    #[cfg(feature = "native-roots")]
    native_roots: bool,
    proxy: Proxy,
    http2: bool,
    pool_idle_timeout: Duration,
}

impl Default for TransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_response_body: 1024 * 1024,
            roots: Vec::new(),
            webpki_roots: true,
            #[cfg(feature = "native-roots")]
            native_roots: false,
            proxy: Proxy::from_env(),
            http2: true,
            pool_idle_timeout: Duration::from_secs(60),
        }
    }
}

impl TransportBuilder {
    /// The limit for connecting: TCP, proxy tunnel and TLS handshake together. Default 10 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().connect_timeout(std::time::Duration::from_secs(3));
    /// # let _ = builder;
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The limit for one attempt, from handing the request to the pool to the last byte of the
    /// response body (connecting included). Default 30 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().timeout(std::time::Duration::from_secs(15));
    /// # let _ = builder;
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest response body read, in bytes; a larger one fails with
    /// [`Error::BodyTooLarge`]. Default 1 MiB (the provider's replies are a few hundred bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().max_response_body(64 * 1024);
    /// # let _ = builder;
    /// ```
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// Trusts `certificate` as a root, in addition to the built-in roots.
    ///
    /// # Examples
    ///
    /// ```
    /// # let pem = b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
    /// let root = kyc_transport::Certificate::from_pem(pem)?;
    /// let builder = kyc_transport::Transport::builder().add_root_certificate(root);
    /// # let _ = builder;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_root_certificate(mut self, certificate: Certificate) -> Self {
        self.roots.push(certificate);
        self
    }

    /// Whether to trust the Mozilla roots compiled in from `webpki-roots`. Default true; turn
    /// off to trust only the added (and, with `native-roots`, the system's) certificates.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().webpki_roots(false);
    /// # let _ = builder;
    /// ```
    pub fn webpki_roots(mut self, enabled: bool) -> Self {
        self.webpki_roots = enabled;
        self
    }

    /// Whether to trust the operating system's certificate store too. Default false.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().native_roots(true);
    /// # let _ = builder;
    /// ```
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self, enabled: bool) -> Self {
        self.native_roots = enabled;
        self
    }

    /// The proxy configuration. Default [`Proxy::from_env`].
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().proxy(kyc_transport::Proxy::none());
    /// # let _ = builder;
    /// ```
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// Whether to offer HTTP/2 in the TLS handshake (ALPN). Default true; plain `http` always
    /// uses HTTP/1.1.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().http2(false);
    /// # let _ = builder;
    /// ```
    pub fn http2(mut self, enabled: bool) -> Self {
        self.http2 = enabled;
        self
    }

    /// How long an idle pooled connection is kept. Default 60 s; zero means a connection is
    /// never reused. At most 128 idle connections are kept, the longest idle closed first.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().pool_idle_timeout(std::time::Duration::from_secs(30));
    /// # let _ = builder;
    /// ```
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Builds the transport. It needs a Tokio runtime only when sending.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when an added root certificate cannot be parsed, or no root at all
    /// is trusted.
    ///
    /// # Examples
    ///
    /// ```
    /// let transport = kyc_transport::Transport::builder().build()?;
    /// # let _ = transport;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<Transport, Error> {
        let mut roots = rustls::RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        #[cfg(feature = "native-roots")]
        if self.native_roots {
            let found = rustls_native_certs::load_native_certs();
            for certificate in found.certs {
                // One unparsable system certificate must not disable the others.
                let _ = roots.add(certificate);
            }
        }
        for root in &self.roots {
            roots
                .add(root.der.clone())
                .map_err(|err| Error::invalid_with(InvalidKind::Certificate, err))?;
        }
        if roots.is_empty() {
            return Err(Error::invalid_with(
                InvalidKind::Certificate,
                "no trusted root certificate",
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| Error::invalid_with(InvalidKind::Tls, err))?
            .with_root_certificates(roots)
            .with_no_client_auth();

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let proxy = self.proxy.matcher().map(Arc::new);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let proxied = ProxyConnector {
            http,
            proxy: proxy.clone(),
        };
        let https: HttpsConnector<ProxyConnector> = if self.http2 {
            https.enable_all_versions().wrap_connector(proxied)
        } else {
            https.enable_http1().wrap_connector(proxied)
        };
        let connector = TimeoutConnector {
            inner: https,
            timeout: self.connect_timeout,
        };
        Ok(Transport {
            inner: Arc::new(Inner {
                pool: Pool::new(connector, self.connect_timeout, self.pool_idle_timeout),
                proxy,
                connect_timeout: self.connect_timeout,
                timeout: self.timeout,
                max_response_body: self.max_response_body,
            }),
        })
    }
}

/// The pooled HTTP client: HTTP/1.1 and HTTP/2 (ALPN) over rustls with the `ring` provider.
///
/// Cheap to clone (an `Arc` inside); clones share one connection pool. Every request carries a
/// `Content-Length` (never chunked), the form is encoded with a fresh random boundary, and a
/// request that a pooled connection failed before writing (the server had closed it) is sent
/// again on another connection. An HTTP/1.1 connection is reused only after its answer was read
/// whole; idle ones expire after [`TransportBuilder::pool_idle_timeout`].
///
/// # Examples
///
/// ```no_run
/// use kyc_transport::Transport;
/// use kyc_transport::multipart::Form;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let transport = Transport::builder().build()?;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("merchantNo", "1027749636".parse()?);
/// let form = Form::new().text("userId", "abc_100008").text("timestamp", "1774925553256");
/// let uri = "https://sandbox-api.vexora.com/japan/v1/vexora/kycApplyFor".parse()?;
/// let response = transport.post_form(&uri, headers, &form).await?;
/// println!("{} {:?}", response.status(), response.body());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

pub(crate) type Connector = TimeoutConnector<HttpsConnector<ProxyConnector>>;

struct Inner {
    pool: Pool,
    proxy: Option<Arc<Matcher>>,
    connect_timeout: Duration,
    timeout: Duration,
    max_response_body: usize,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("proxy", &self.inner.proxy)
            .field("connect_timeout", &self.inner.connect_timeout)
            .field("timeout", &self.inner.timeout)
            .field("max_response_body", &self.inner.max_response_body)
            .finish_non_exhaustive()
    }
}

enum Payload {
    Empty,
    Json(Bytes),
    Form(Encoded),
}

impl Transport {
    /// A builder with the defaults documented on each setting.
    ///
    /// # Examples
    ///
    /// ```
    /// let transport = kyc_transport::Transport::builder().build()?;
    /// # let _ = transport;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// `POST`s `form` as `multipart/form-data` with a fresh random boundary.
    ///
    /// # Errors
    ///
    /// An [`Error`] saying how far the request got.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let transport = kyc_transport::Transport::builder().build()?;
    /// let form = kyc_transport::multipart::Form::new().text("userId", "u1");
    /// let response = transport.post_form(&"https://api.example/apply".parse()?, http::HeaderMap::new(), &form).await?;
    /// # let _ = response;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn post_form(
        &self,
        uri: &Uri,
        headers: HeaderMap,
        form: &Form,
    ) -> Result<Response, Error> {
        let encoded = form.prepare_random().await?;
        self.execute(Method::POST, uri, headers, Payload::Form(encoded))
            .await
    }

    /// `POST`s an already prepared form (its boundary and file lengths fixed).
    ///
    /// # Errors
    ///
    /// An [`Error`] saying how far the request got.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let transport = kyc_transport::Transport::builder().build()?;
    /// let encoded = kyc_transport::multipart::Form::new().text("userId", "u1").prepare_random().await?;
    /// let response = transport.post_encoded(&"https://api.example/apply".parse()?, http::HeaderMap::new(), &encoded).await?;
    /// # let _ = response;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn post_encoded(
        &self,
        uri: &Uri,
        headers: HeaderMap,
        encoded: &Encoded,
    ) -> Result<Response, Error> {
        self.execute(Method::POST, uri, headers, Payload::Form(encoded.clone()))
            .await
    }

    /// `POST`s JSON text with `Content-Type: application/json`.
    ///
    /// # Errors
    ///
    /// An [`Error`] saying how far the request got.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let transport = kyc_transport::Transport::builder().build()?;
    /// let body = bytes::Bytes::from_static(br#"{"userId":"u1"}"#);
    /// let response = transport.post_json(&"https://api.example/status".parse()?, http::HeaderMap::new(), body).await?;
    /// # let _ = response;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn post_json(
        &self,
        uri: &Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<Response, Error> {
        self.execute(Method::POST, uri, headers, Payload::Json(body))
            .await
    }

    /// Sends any [`Request`].
    ///
    /// # Errors
    ///
    /// An [`Error`] saying how far the request got.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let transport = kyc_transport::Transport::builder().build()?;
    /// use kyc_transport::{Request, RequestBody};
    /// let request = Request::new(http::Method::GET, "https://api.example/".parse()?, http::HeaderMap::new(), RequestBody::Empty);
    /// let response = transport.send(request).await?;
    /// # let _ = response;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn send(&self, request: Request) -> Result<Response, Error> {
        let limit = request
            .timeout
            .map_or(self.inner.timeout, |limit| limit.min(self.inner.timeout));
        let payload = match request.body {
            RequestBody::Empty => Payload::Empty,
            RequestBody::Json(json) => Payload::Json(json),
            RequestBody::Form(form) => Payload::Form(form.prepare_random().await?),
            RequestBody::Encoded(encoded) => Payload::Form(encoded),
        };
        let request = self.http_request(request.method, &request.uri, request.headers, payload)?;
        self.exchange(request, limit).await
    }

    async fn execute(
        &self,
        method: Method,
        uri: &Uri,
        headers: HeaderMap,
        payload: Payload,
    ) -> Result<Response, Error> {
        let request = self.http_request(method, uri, headers, payload)?;
        self.exchange(request, self.inner.timeout).await
    }

    /// The request as hyper sends it: `Content-Type`, an exact `Content-Length`, proxy
    /// credentials.
    fn http_request(
        &self,
        method: Method,
        uri: &Uri,
        mut headers: HeaderMap,
        payload: Payload,
    ) -> Result<http::Request<OutBody>, Error> {
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(Error::invalid(InvalidKind::Uri));
        }
        let (content_type, length) = match &payload {
            Payload::Empty => (None, 0),
            Payload::Json(json) => (
                Some(HeaderValue::from_static("application/json")),
                json.len() as u64,
            ),
            Payload::Form(encoded) => (Some(encoded.content_type()), encoded.content_length()),
        };
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, content_type);
        }
        // Always a Content-Length, never chunked: many servers refuse chunked multipart.
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        headers.remove(http::header::TRANSFER_ENCODING);
        if uri.scheme_str() == Some("http") {
            // A forward proxy sees the request itself, so its credentials travel in a header
            // (a CONNECT tunnel carries them in the CONNECT request instead).
            if let Some(auth) = self
                .inner
                .proxy
                .as_ref()
                .and_then(|matcher| matcher.intercept(uri))
                .and_then(|intercept| intercept.basic_auth().cloned())
            {
                headers.insert(PROXY_AUTHORIZATION, auth);
            }
        }

        let body = match payload {
            Payload::Empty => OutBody::Bytes(None),
            Payload::Json(json) => OutBody::Bytes(Some(json)),
            Payload::Form(encoded) => OutBody::Form(encoded.into_body()),
        };
        let mut request = http::Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri.clone();
        *request.headers_mut() = headers;
        Ok(request)
    }

    /// Sends `request` and reads the answer, all within `limit`.
    async fn exchange(
        &self,
        request: http::Request<OutBody>,
        limit: Duration,
    ) -> Result<Response, Error> {
        let inner = &*self.inner;
        let exchange = async {
            let (response, lease) = inner.pool.send(request).await?;
            let response = read_capped(response, inner.max_response_body).await?;
            if let Some(lease) = lease {
                lease.release();
            }
            Ok(response)
        };
        match tokio::time::timeout(limit, exchange).await {
            Ok(result) => result,
            Err(_) => Err(error::timeout(TimeoutPhase::Response, limit)),
        }
    }
}

impl Sender for Transport {
    fn send(
        &self,
        request: Request,
    ) -> Pin<Box<dyn Future<Output = Result<Response, Error>> + Send + '_>> {
        Box::pin(Transport::send(self, request))
    }
}

async fn read_capped(
    response: http::Response<hyper::body::Incoming>,
    cap: usize,
) -> Result<Response, Error> {
    let (parts, mut body) = response.into_parts();
    let announced = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if announced.is_some_and(|length| length > cap as u64) {
        return Err(error::too_large(cap, parts.status));
    }
    let mut first: Option<Bytes> = None;
    let mut rest = BytesMut::new();
    let mut total = 0_usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(error::io_after_send)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry nothing the caller reads
        };
        total = total.saturating_add(data.len());
        if total > cap {
            return Err(error::too_large(cap, parts.status));
        }
        // The common one-chunk body is kept as is; more chunks are joined.
        match &first {
            None if rest.is_empty() => first = Some(data),
            _ => {
                if let Some(first) = first.take() {
                    rest.extend_from_slice(&first);
                }
                rest.extend_from_slice(&data);
            }
        }
    }
    let body = first.unwrap_or_else(|| rest.freeze());
    Ok(Response {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

/// The request body type of the pool: a JSON buffer or a form stream.
pub(crate) enum OutBody {
    Bytes(Option<Bytes>),
    Form(FormBody),
}

impl http_body::Body for OutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Self::Bytes(bytes) => std::task::Poll::Ready(
                bytes
                    .take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            Self::Form(form) => Pin::new(form).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Bytes(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            Self::Form(form) => form.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Bytes(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Self::Form(form) => form.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_header_values_bodies_or_proxy_credentials() {
        let mut headers = HeaderMap::new();
        headers.insert("merchantNo", HeaderValue::from_static("1027749636"));
        let request = Request::post_json(
            Uri::from_static("http://h/"),
            headers.clone(),
            Bytes::from_static(b"{\"userId\":\"secret-user\"}"),
        );
        let debug = format!("{request:?}");
        assert!(debug.contains("merchantno"), "{debug}");
        assert!(!debug.contains("1027749636"), "{debug}");
        assert!(!debug.contains("secret-user"), "{debug}");

        let response = Response::new(StatusCode::OK, headers, Bytes::from_static(b"private"));
        let debug = format!("{response:?}");
        assert!(
            !debug.contains("1027749636") && !debug.contains("private"),
            "{debug}"
        );

        let proxy = Proxy::all("http://user:hunter2@proxy.internal:3128");
        let debug = format!("{proxy:?}");
        assert!(debug.contains("proxy.internal:3128"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
        let transport = Transport::builder().proxy(proxy).build().expect("builds");
        assert!(!format!("{transport:?}").contains("hunter2"));
    }
}
