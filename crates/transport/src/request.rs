//! What crosses the seam between the client and the network: [`Request`], [`Response`] and the
//! [`Sender`] trait.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Uri};

use crate::error::Error;
use crate::multipart::{Encoded, Form};

/// Sends one request and returns the whole response: the seam between the client and the
/// network.
///
/// [`Transport`](crate::Transport) implements it over hyper; a test double implements it in memory and inspects
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

    pub(crate) fn into_parts(self) -> (Method, Uri, HeaderMap, RequestBody, Option<Duration>) {
        (self.method, self.uri, self.headers, self.body, self.timeout)
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

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn debug_never_shows_header_values_or_bodies() {
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
    }
}
