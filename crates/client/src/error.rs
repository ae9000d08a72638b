//! The client's one error type, telling how far a call got.

use std::fmt;
use std::time::Duration;

use http::StatusCode;

use crate::types::{ApiFailure, Code, ValidationError};

/// Why a call failed, by how far it got.
///
/// No variant's `Display` or `Debug` shows the app secret, a signature or personal data; a
/// body excerpt is bounded and kept out of `Display`.
///
/// # Examples
///
/// ```
/// use kyc_client::{Client, Error};
///
/// // A misconfigured client fails before anything is sent.
/// let err = Client::builder().merchant_no("not a number").app_secret("s").build().unwrap_err();
/// assert!(matches!(err, Error::Request(_)));
/// assert!(!err.is_retryable());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Nothing was sent: invalid input, configuration or signing.
    Request(RequestError),
    /// The request may have been sent, but no usable response came back.
    Transport(TransportError),
    /// The provider answered with an error: an envelope whose `code` is not `0000`, or an HTTP
    /// error status.
    Api(ApiError),
    /// The provider answered HTTP success, but not in the documented shape.
    Decode(DecodeError),
}

impl Error {
    /// Whether calling again may succeed and is safe for this operation.
    ///
    /// True for connection failures, the provider's system errors (`8000`, `5000`), HTTP 5xx,
    /// and, for the read-only status query, timeouts and broken connections. False for anything
    /// the caller must change first (validation, signing, configuration, a business error), and
    /// for an application whose request may already have reached the provider (see
    /// [`Client::apply`](crate::Client::apply)).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::Client;
    ///
    /// let err = Client::builder().app_secret("s").build().unwrap_err(); // no merchant number
    /// assert!(!err.is_retryable());
    /// ```
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Request(_) => false,
            Self::Transport(err) => err.retryable,
            Self::Api(err) => err.is_retryable(),
            Self::Decode(err) => err.status.is_server_error(),
        }
    }

    /// Whether the request may have reached the provider and been acted on: when true, ask
    /// [`Client::status`](crate::Client::status) before applying again.
    ///
    /// False when nothing was sent, and when the provider answered with a definite refusal
    /// (an error envelope with a code that is not a system error, or an HTTP 4xx without
    /// one): it did not act on the request. True when the exchange broke after sending, when
    /// the provider reported a system fault (`8000`, `5000`, HTTP 5xx: it may have acted
    /// before failing), and for an answer not in the documented shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::Client;
    ///
    /// let err = Client::builder().app_secret("s").build().unwrap_err();
    /// assert!(!err.request_may_have_been_sent());
    /// ```
    #[must_use]
    pub fn request_may_have_been_sent(&self) -> bool {
        match self {
            Self::Request(_) => false,
            Self::Transport(err) => err.sent,
            Self::Api(err) => !err.is_definite_refusal(),
            Self::Decode(_) => true,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request(_) => f.write_str("invalid request: nothing was sent"),
            Self::Transport(_) => f.write_str("no usable response from the provider"),
            Self::Api(err) => write!(f, "the provider refused the request: {err}"),
            Self::Decode(err) => write!(
                f,
                "the provider's answer (HTTP {}) is not in the documented shape",
                err.status.as_u16()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Request(err) => Some(err),
            Self::Transport(err) => Some(err),
            // Its `Display` already shows the whole refusal: a chain printed cause by cause
            // would repeat it.
            Self::Api(_) => None,
            Self::Decode(err) => Some(err),
        }
    }
}

/// Nothing was sent: what was wrong with the request or the configuration.
///
/// # Examples
///
/// ```
/// use kyc_client::{Client, Error};
///
/// let Err(Error::Request(err)) = Client::builder().merchant_no("12 34").app_secret("s").build() else {
///     panic!("a merchant number with a space is refused");
/// };
/// assert_eq!(err.field(), Some("merchantNo"));
/// ```
#[derive(Debug)]
pub struct RequestError {
    kind: RequestKind,
}

#[derive(Debug)]
pub(crate) enum RequestKind {
    Validation(ValidationError),
    Signing(kyc_sign::Error),
    Config {
        field: &'static str,
        rule: &'static str,
    },
    Transport(kyc_transport::Error),
}

impl RequestError {
    pub(crate) fn new(kind: RequestKind) -> Self {
        Self { kind }
    }

    pub(crate) fn config(field: &'static str, rule: &'static str) -> Self {
        Self::new(RequestKind::Config { field, rule })
    }

    /// The field or setting at fault, when one is.
    #[must_use]
    pub fn field(&self) -> Option<&'static str> {
        match &self.kind {
            RequestKind::Validation(err) => Some(err.field()),
            RequestKind::Config { field, .. } => Some(field),
            RequestKind::Signing(_) | RequestKind::Transport(_) => None,
        }
    }

    /// The validation error, when a value broke a rule of the API.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::{Error, types::ValidationError};
    /// let err = Error::from(kyc_client::types::UserId::new("has space").unwrap_err());
    /// let Error::Request(request) = err else { unreachable!() };
    /// assert_eq!(request.validation().map(ValidationError::field), Some("userId"));
    /// ```
    #[must_use]
    pub fn validation(&self) -> Option<&ValidationError> {
        match &self.kind {
            RequestKind::Validation(err) => Some(err),
            _ => None,
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RequestKind::Validation(_) => f.write_str("a field breaks the API's rules"),
            RequestKind::Signing(_) => f.write_str("the request could not be signed"),
            RequestKind::Config { field, rule } => write!(f, "{field}: {rule}"),
            RequestKind::Transport(_) => f.write_str("the request could not be prepared"),
        }
    }
}

impl std::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            RequestKind::Validation(err) => Some(err),
            RequestKind::Signing(err) => Some(err),
            RequestKind::Config { .. } => None,
            RequestKind::Transport(err) => Some(err),
        }
    }
}

impl From<ValidationError> for Error {
    fn from(err: ValidationError) -> Self {
        Self::Request(RequestError::new(RequestKind::Validation(err)))
    }
}

/// The request may have been sent, and no usable answer came back: a connection, TLS, timeout
/// or I/O failure, or the call's total deadline.
///
/// # Examples
///
/// ```
/// # use kyc_client::TransportError;
/// fn explain(err: &TransportError) -> &'static str {
///     if err.is_deadline() { "gave up" } else if err.is_timeout() { "too slow" } else { "network" }
/// }
/// ```
#[derive(Debug)]
pub struct TransportError {
    kind: TransportKind,
    retryable: bool,
    sent: bool,
}

#[derive(Debug)]
enum TransportKind {
    Send(kyc_transport::Error),
    Deadline(Duration),
}

impl TransportError {
    pub(crate) fn send(err: kyc_transport::Error, retryable: bool) -> Self {
        Self {
            sent: err.request_may_have_been_sent(),
            kind: TransportKind::Send(err),
            retryable,
        }
    }

    pub(crate) fn deadline(total: Duration, sent: bool) -> Self {
        Self {
            kind: TransportKind::Deadline(total),
            retryable: false,
            sent,
        }
    }

    /// Whether an attempt timed out (connecting or waiting for the answer).
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        match &self.kind {
            TransportKind::Send(err) => err.is_timeout(),
            TransportKind::Deadline(_) => true,
        }
    }

    /// Whether the call's total deadline ran out (after zero or more retries).
    #[must_use]
    pub fn is_deadline(&self) -> bool {
        matches!(self.kind, TransportKind::Deadline(_))
    }

    /// Whether no connection could be made (nothing was sent).
    #[must_use]
    pub fn is_connect(&self) -> bool {
        matches!(
            self.kind,
            TransportKind::Send(kyc_transport::Error::Connect(_) | kyc_transport::Error::Tls(_))
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TransportKind::Send(_) => f.write_str("the exchange with the provider failed"),
            TransportKind::Deadline(total) => {
                write!(f, "the call's total deadline of {total:?} ran out")
            }
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            TransportKind::Send(err) => Some(err),
            TransportKind::Deadline(_) => None,
        }
    }
}

/// The provider refused the request: an error envelope (`code` other than `0000`) or an HTTP
/// error status without one.
///
/// `Display` shows the provider's `msg` (at most [`Self::MSG_CHARS`] characters, control
/// characters dropped), then the code and the HTTP status: `signature error (code S103, HTTP
/// 401)`. The provider's message describes the refusal; the envelope's `data`, which may echo
/// the `userId` or other request data, is never shown.
///
/// # Examples
///
/// ```
/// # use kyc_client::ApiError;
/// fn log(err: &ApiError) {
///     eprintln!("HTTP {} code {:?}: {}", err.http_status(), err.code().map(|c| c.as_str()), err.msg());
/// }
/// ```
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    failure: Option<ApiFailure>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, failure: Option<ApiFailure>) -> Self {
        Self { status, failure }
    }

    /// The HTTP status of the answer.
    #[must_use]
    pub fn http_status(&self) -> StatusCode {
        self.status
    }

    /// The provider's `code`, when the answer was an envelope.
    #[must_use]
    pub fn code(&self) -> Option<&Code> {
        self.failure.as_ref().map(ApiFailure::code)
    }

    /// The provider's `msg`, or `""` when the answer was not an envelope.
    #[must_use]
    pub fn msg(&self) -> &str {
        self.failure.as_ref().map_or("", ApiFailure::msg)
    }

    /// Whether the provider reported a transient fault: `8000`, `5000` or HTTP 5xx.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.status.is_server_error() || self.failure.as_ref().is_some_and(ApiFailure::is_retryable)
    }

    /// Whether the provider refused without acting: an error code that is not a system fault,
    /// or an HTTP 4xx.
    fn is_definite_refusal(&self) -> bool {
        !self.is_retryable() && (self.failure.is_some() || self.status.is_client_error())
    }

    /// How many characters of the provider's `msg` `Display` shows.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_client::ApiError::MSG_CHARS, 100);
    /// ```
    pub const MSG_CHARS: usize = 100;
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = reason(self.msg(), Self::MSG_CHARS);
        if !reason.is_empty() {
            write!(f, "{reason} (")?;
        }
        match self.code() {
            Some(code) => write!(f, "code {}, HTTP {}", code.as_str(), self.status.as_u16())?,
            None => write!(f, "HTTP {}", self.status.as_u16())?,
        }
        if !reason.is_empty() {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        None
    }
}

/// An HTTP-success answer that is not the documented envelope (HTML from a proxy, truncated
/// JSON, a missing `code`).
///
/// # Examples
///
/// ```
/// # use kyc_client::DecodeError;
/// fn log(err: &DecodeError) {
///     eprintln!("HTTP {}, body starts {:?}", err.http_status(), err.body_excerpt());
/// }
/// ```
pub struct DecodeError {
    status: StatusCode,
    excerpt: String,
    source: kyc_proto::DecodeError,
}

impl DecodeError {
    /// How many bytes of the body an error keeps.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_client::DecodeError::EXCERPT_BYTES, 256);
    /// ```
    pub const EXCERPT_BYTES: usize = 256;

    pub(crate) fn new(status: StatusCode, body: &[u8], source: kyc_proto::DecodeError) -> Self {
        Self {
            status,
            excerpt: excerpt(body, Self::EXCERPT_BYTES),
            source,
        }
    }

    /// The HTTP status of the answer.
    #[must_use]
    pub fn http_status(&self) -> StatusCode {
        self.status
    }

    /// The first [`Self::EXCERPT_BYTES`] bytes of the body, lossily decoded, for diagnosis.
    #[must_use]
    pub fn body_excerpt(&self) -> &str {
        &self.excerpt
    }
}

/// The excerpt may echo request data: `Debug` shows its length, not its text.
impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("status", &self.status)
            .field("excerpt_len", &self.excerpt.len())
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "undecodable answer (HTTP {})", self.status.as_u16())
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The provider's message for one line of a log: control characters dropped, runs of white
/// space made one space, at most `limit` characters (then `…`).
fn reason(msg: &str, limit: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    let mut words = msg
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty());
    let mut first = true;
    for word in &mut words {
        for c in (if first { "" } else { " " }).chars().chain(word.chars()) {
            if chars == limit {
                out.push('…');
                return out;
            }
            out.push(c);
            chars += 1;
        }
        first = false;
    }
    out
}

/// At most `limit` bytes of `bytes`, cut on a character boundary, lossily decoded.
fn excerpt(bytes: &[u8], limit: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(limit)]);
    let mut text = text.into_owned();
    if bytes.len() > limit {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_is_one_bounded_line() {
        assert_eq!(
            reason("  sign\r\nerror\t\u{7}here ", 100),
            "sign error here"
        );
        assert_eq!(reason("", 100), "");
        let long = reason(&"あ".repeat(300), 100);
        assert_eq!(long.chars().count(), 101);
        assert!(long.ends_with('…'));
        assert_eq!(reason("abc", 3), "abc");
    }

    #[test]
    fn api_error_says_why_and_whether_it_was_acted_on() {
        let failure = |body: &[u8]| {
            crate::types::ApplyResponse::from_slice(body)
                .unwrap()
                .into_api_result()
                .unwrap_err()
        };
        let refused = Error::Api(ApiError::new(
            StatusCode::OK,
            Some(failure(
                br#"{"code":"S103","msg":"signature error","data":{"userId":"secret_user"}}"#,
            )),
        ));
        assert_eq!(
            refused.to_string(),
            "the provider refused the request: signature error (code S103, HTTP 200)"
        );
        assert!(!refused.to_string().contains("secret_user"));
        assert!(!refused.request_may_have_been_sent());
        assert!(!refused.is_retryable());

        let system = Error::Api(ApiError::new(
            StatusCode::OK,
            Some(failure(br#"{"code":"8000","msg":"system error"}"#)),
        ));
        assert!(system.request_may_have_been_sent());

        let gateway = Error::Api(ApiError::new(StatusCode::BAD_GATEWAY, None));
        assert_eq!(
            gateway.to_string(),
            "the provider refused the request: HTTP 502"
        );
        assert!(gateway.request_may_have_been_sent());
        let forbidden = Error::Api(ApiError::new(StatusCode::FORBIDDEN, None));
        assert!(!forbidden.request_may_have_been_sent());
    }

    #[test]
    fn excerpt_is_bounded_and_never_panics_mid_character() {
        let body = "テ".repeat(200);
        let cut = excerpt(body.as_bytes(), 10);
        assert!(cut.len() <= 10 + '…'.len_utf8() + 2 * '\u{fffd}'.len_utf8());
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt(b"short", 10), "short");
    }
}
