//! The sender: hyper-util's pooled client over the connector stack in [`connect`](crate::connect),
//! behind the [`Sender`] trait.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, PROXY_AUTHORIZATION, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Method, Uri};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::builder::TransportBuilder;
use crate::connect::{ProxyConnector, TimeoutConnector};
use crate::error::{self, Error, InvalidKind, TimeoutPhase};
use crate::multipart::{Encoded, Form, FormBody};
use crate::origin::{First, Origins};
use crate::request::{Request, RequestBody, Response, Sender};

/// The pooled HTTP client: HTTP/1.1 and HTTP/2 (ALPN) over rustls with the `ring` provider.
///
/// Cheap to clone (an `Arc` inside); clones share one connection pool, hyper-util's. Every
/// request carries a `Content-Length` (never chunked) and a form is encoded with a fresh random
/// boundary. A request that a pooled connection failed before writing (the server had closed
/// it) is sent again on another connection; one that may have been written never is. An
/// HTTP/1.1 connection is reused only after its answer was read whole; idle ones expire after
/// [`TransportBuilder::pool_idle_timeout`]. Requests to an `https` origin share one HTTP/2
/// connection when the server offers HTTP/2, also when they start together.
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

type Connector = TimeoutConnector<HttpsConnector<ProxyConnector>>;

struct Inner {
    client: Client<Connector, OutBody>,
    /// `Some` when HTTP/2 is offered: the first connection to an `https` origin goes alone.
    origins: Option<Origins>,
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
        self.execute(
            Method::POST,
            uri,
            headers,
            Payload::Form(encoded),
            self.inner.timeout,
        )
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
        self.execute(
            Method::POST,
            uri,
            headers,
            Payload::Form(encoded.clone()),
            self.inner.timeout,
        )
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
        self.execute(
            Method::POST,
            uri,
            headers,
            Payload::Json(body),
            self.inner.timeout,
        )
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
        let (method, uri, headers, body, timeout) = request.into_parts();
        let limit = timeout.map_or(self.inner.timeout, |limit| limit.min(self.inner.timeout));
        let payload = match body {
            RequestBody::Empty => Payload::Empty,
            RequestBody::Json(json) => Payload::Json(json),
            RequestBody::Form(form) => Payload::Form(form.prepare_random().await?),
            RequestBody::Encoded(encoded) => Payload::Form(encoded),
        };
        self.execute(method, &uri, headers, payload, limit).await
    }

    /// Idle connections kept per origin: room for a client that sends a hundred requests at
    /// once to reuse its connections.
    const MAX_IDLE_PER_HOST: usize = 128;

    pub(crate) fn new(settings: TransportBuilder) -> Result<Self, Error> {
        let tls = settings.roots.client_config()?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let proxy = settings.proxy.matcher().map(Arc::new);
        let origins = Origins::default();
        let proxied = ProxyConnector {
            http,
            proxy: proxy.clone(),
            origins: origins.clone(),
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let https = if settings.http2 {
            https.enable_all_versions().wrap_connector(proxied)
        } else {
            https.enable_http1().wrap_connector(proxied)
        };
        let connector = TimeoutConnector {
            inner: https,
            timeout: settings.connect_timeout,
        };
        // Zero idle time: no pool at all, rather than connections that expire as they land.
        let max_idle = if settings.pool_idle_timeout.is_zero() {
            0
        } else {
            Self::MAX_IDLE_PER_HOST
        };
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(settings.pool_idle_timeout)
            .pool_max_idle_per_host(max_idle)
            .retry_canceled_requests(true)
            .set_host(true)
            .build(connector);
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                origins: settings.http2.then_some(origins),
                proxy,
                connect_timeout: settings.connect_timeout,
                timeout: settings.timeout,
                max_response_body: settings.max_response_body,
            }),
        })
    }

    async fn execute(
        &self,
        method: Method,
        uri: &Uri,
        headers: HeaderMap,
        payload: Payload,
        limit: Duration,
    ) -> Result<Response, Error> {
        let request = self.http_request(method, uri, headers, payload)?;
        match tokio::time::timeout(limit, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(error::timeout(TimeoutPhase::Response, limit)),
        }
    }

    /// The request as hyper-util sends it: `Content-Type`, an exact `Content-Length`, proxy
    /// credentials. hyper-util sets `Host` and the request target for the connection it picks.
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
        headers.remove(TRANSFER_ENCODING);
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

        let content = match payload {
            Payload::Empty => Content::Bytes(None),
            Payload::Json(json) => Content::Bytes(Some(json)),
            Payload::Form(encoded) => Content::Form(encoded.into_body()),
        };
        let mut request = http::Request::new(OutBody {
            content,
            first: None,
        });
        *request.method_mut() = method;
        *request.uri_mut() = uri.clone();
        *request.headers_mut() = headers;
        Ok(request)
    }

    /// Sends `request` and reads the whole answer.
    async fn exchange(&self, mut request: http::Request<OutBody>) -> Result<Response, Error> {
        let inner = &*self.inner;
        if let Some(origins) = &inner.origins {
            // Released when the body is first polled or dropped: the connection is up by then.
            request.body_mut().first = origins.enter(request.uri()).await;
        }
        let response = inner
            .client
            .request(request)
            .await
            .map_err(|err| error::classify(err, inner.connect_timeout))?;
        read_capped(response, inner.max_response_body).await
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
    Ok(Response::new(parts.status, parts.headers, body))
}

/// The request body as hyper-util sends it: a JSON buffer or a form stream, and the turn of a
/// request that connects first to its origin.
struct OutBody {
    content: Content,
    /// Dropped at the first poll (or with the body): by then the connection is up.
    first: Option<First>,
}

enum Content {
    Bytes(Option<Bytes>),
    Form(FormBody),
}

impl http_body::Body for OutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        this.first = None;
        match &mut this.content {
            Content::Bytes(bytes) => Poll::Ready(
                bytes
                    .take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            Content::Form(form) => Pin::new(form).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.content {
            Content::Bytes(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            Content::Form(form) => form.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.content {
            Content::Bytes(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Content::Form(form) => form.size_hint(),
        }
    }
}
