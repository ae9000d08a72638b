//! The crate's one error type, classified by how far the request got.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use http::StatusCode;

pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// Everything that can go wrong while encoding or sending a request.
///
/// The variant says how far the request got, which is what decides whether it may be resent:
///
/// | variant | reached the server? | [`is_retry_safe`](Error::is_retry_safe) |
/// | --- | --- | --- |
/// | [`Invalid`](Error::Invalid) | no: nothing was sent | no: resending cannot help |
/// | [`Connect`](Error::Connect) | no | yes |
/// | [`Tls`](Error::Tls) | no | yes (but a certificate problem will repeat) |
/// | [`Timeout`](Error::Timeout), connect phase | no | yes |
/// | [`Timeout`](Error::Timeout), response phase | maybe | no |
/// | [`Io`](Error::Io) | maybe, see [`request_may_have_been_sent`](Error::request_may_have_been_sent) | only when it was not |
/// | [`BodyTooLarge`](Error::BodyTooLarge) | yes: the server answered | no |
///
/// `Display` describes this layer only; the underlying hyper, rustls or I/O error is reachable
/// through [`source()`](std::error::Error::source). Messages never contain header values or
/// body bytes.
///
/// # Examples
///
/// ```
/// use kyc_transport::Error;
/// use kyc_transport::multipart::{FileSource, Form, Boundary};
///
/// let form = Form::new().file("doc", "a.png", "image/png\r\nX-Evil: 1", FileSource::from_static(b""));
/// let err = form.encode(&Boundary::new("b")?).unwrap_err();
/// assert!(matches!(err, Error::Invalid(_)));
/// assert!(!err.request_may_have_been_sent());
/// assert!(!err.is_retry_safe());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Nothing was sent: the request, the form or the configuration is invalid, or a file part
    /// could not be read before sending.
    Invalid(InvalidRequest),
    /// No connection could be made (name resolution, TCP connect, proxy). Nothing was sent.
    Connect(ConnectError),
    /// The TLS handshake failed (untrusted certificate, name mismatch, no common protocol).
    /// Nothing was sent.
    Tls(TlsError),
    /// A timeout elapsed; [`TimeoutError::phase`] tells whether the request could have been sent.
    Timeout(TimeoutError),
    /// The connection failed while the request was being sent or the response read.
    Io(IoError),
    /// The server answered with a body larger than the configured cap; it was not read whole.
    BodyTooLarge(BodyTooLarge),
}

impl Error {
    /// Whether the request can be resent without the server possibly having acted on it.
    ///
    /// True only for failures that happened before any byte of the request could reach the
    /// server (connect, TLS, connect timeout, a pooled connection found closed before writing).
    /// False for [`Error::Invalid`]: nothing was sent, but sending again cannot help.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Boundary;
    ///
    /// let err = Boundary::new("not ok!").unwrap_err();
    /// assert!(!err.is_retry_safe());
    /// ```
    #[must_use]
    pub fn is_retry_safe(&self) -> bool {
        match self {
            Self::Invalid(_) => false,
            Self::Connect(_) | Self::Tls(_) => true,
            Self::Timeout(timeout) => timeout.phase == TimeoutPhase::Connect,
            Self::Io(io) => !io.sent,
            Self::BodyTooLarge(_) => false,
        }
    }

    /// Whether any part of the request may have reached the server.
    ///
    /// When false, the server certainly did not act on it.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Boundary;
    ///
    /// let err = Boundary::new("").unwrap_err();
    /// assert!(!err.request_may_have_been_sent());
    /// ```
    #[must_use]
    pub fn request_may_have_been_sent(&self) -> bool {
        match self {
            Self::Invalid(_) | Self::Connect(_) | Self::Tls(_) => false,
            Self::Timeout(timeout) => timeout.phase == TimeoutPhase::Response,
            Self::Io(io) => io.sent,
            Self::BodyTooLarge(_) => true,
        }
    }

    /// Whether this is a [`Error::Timeout`], in either phase.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Boundary;
    ///
    /// assert!(!Boundary::new("").unwrap_err().is_timeout());
    /// ```
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_))
    }

    pub(crate) fn invalid(kind: InvalidKind) -> Self {
        Self::Invalid(InvalidRequest { kind, source: None })
    }

    pub(crate) fn invalid_with(kind: InvalidKind, source: impl Into<BoxError>) -> Self {
        Self::Invalid(InvalidRequest {
            kind,
            source: Some(source.into()),
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(inner) => fmt::Display::fmt(inner, f),
            Self::Connect(inner) => fmt::Display::fmt(inner, f),
            Self::Tls(inner) => fmt::Display::fmt(inner, f),
            Self::Timeout(inner) => fmt::Display::fmt(inner, f),
            Self::Io(inner) => fmt::Display::fmt(inner, f),
            Self::BodyTooLarge(inner) => fmt::Display::fmt(inner, f),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Invalid(inner) => inner.source(),
            Self::Connect(inner) => inner.source(),
            Self::Tls(inner) => inner.source(),
            Self::Timeout(inner) => inner.source(),
            Self::Io(inner) => inner.source(),
            Self::BodyTooLarge(inner) => inner.source(),
        }
    }
}

fn boxed_source(source: &Option<BoxError>) -> Option<&(dyn StdError + 'static)> {
    source
        .as_deref()
        .map(|inner| inner as &(dyn StdError + 'static))
}

/// Nothing was sent: the input cannot be encoded or the configuration is unusable.
///
/// # Examples
///
/// ```
/// use kyc_transport::Error;
/// use kyc_transport::multipart::Boundary;
///
/// let Err(Error::Invalid(why)) = Boundary::new("has space at end ") else { panic!() };
/// assert_eq!(why.to_string(), "invalid multipart boundary: it must be 1 to 70 characters from the RFC 2046 set, not ending in a space");
/// ```
#[derive(Debug)]
pub struct InvalidRequest {
    kind: InvalidKind,
    source: Option<BoxError>,
}

impl InvalidRequest {
    /// Whether the form's boundary occurs inside one of its in-memory parts (only possible with
    /// a boundary chosen by the caller: random ones are redrawn).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::Error;
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// let form = Form::new().text("note", "a --xyz inside");
    /// let Err(Error::Invalid(why)) = form.encode(&Boundary::new("xyz")?) else { panic!() };
    /// assert!(why.is_boundary_collision());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_boundary_collision(&self) -> bool {
        matches!(self.kind, InvalidKind::BoundaryCollision)
    }
}

#[derive(Debug)]
pub(crate) enum InvalidKind {
    Boundary,
    BoundaryCollision,
    RandomSource,
    /// A part name holds a control character that no header can carry (other than CR and LF,
    /// which are escaped).
    Name {
        index: usize,
    },
    Filename {
        index: usize,
    },
    ContentType {
        index: usize,
    },
    /// `encode` was asked for a form with a part read from disk.
    NeedsIo {
        index: usize,
    },
    File {
        index: usize,
    },
    FileTooLarge {
        index: usize,
    },
    Uri,
    Certificate,
    Tls,
}

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            InvalidKind::Boundary => f.write_str(
                "invalid multipart boundary: it must be 1 to 70 characters from the RFC 2046 set, \
                 not ending in a space",
            ),
            InvalidKind::BoundaryCollision => {
                f.write_str("the multipart boundary occurs inside a part")
            }
            InvalidKind::RandomSource => f.write_str("the operating system's random source failed"),
            InvalidKind::Name { index } => write!(
                f,
                "the name of part {index} contains a control character other than CR or LF"
            ),
            InvalidKind::Filename { index } => write!(
                f,
                "the filename of part {index} contains a control character other than CR or LF"
            ),
            InvalidKind::ContentType { index } => write!(
                f,
                "the content type of part {index} is empty or contains a control character"
            ),
            InvalidKind::NeedsIo { index } => write!(
                f,
                "part {index} is read from a file: use `Form::prepare`, not `Form::encode`"
            ),
            InvalidKind::File { index } => {
                write!(f, "the file of part {index} cannot be read")
            }
            InvalidKind::FileTooLarge { index } => {
                write!(f, "the file of part {index} makes the form too large")
            }
            InvalidKind::Uri => f.write_str("the URI needs an http or https scheme and a host"),
            InvalidKind::Certificate => f.write_str("invalid root certificate"),
            InvalidKind::Tls => f.write_str("invalid TLS configuration"),
        }
    }
}

impl StdError for InvalidRequest {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        boxed_source(&self.source)
    }
}

/// No connection could be made: name resolution, TCP connect or the proxy failed.
///
/// # Examples
///
/// ```
/// use kyc_transport::Error;
///
/// fn explain(err: &Error) -> &'static str {
///     match err {
///         Error::Connect(_) => "server unreachable; nothing was sent",
///         _ => "other",
///     }
/// }
/// # let _ = explain;
/// ```
#[derive(Debug)]
pub struct ConnectError {
    source: Option<BoxError>,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("could not connect to the server")
    }
}

impl StdError for ConnectError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        boxed_source(&self.source)
    }
}

/// The TLS handshake failed: the certificate is not trusted or does not match the host, or no
/// protocol version is shared.
///
/// # Examples
///
/// ```
/// use kyc_transport::Error;
///
/// fn is_tls(err: &Error) -> bool {
///     matches!(err, Error::Tls(_))
/// }
/// # let _ = is_tls;
/// ```
#[derive(Debug)]
pub struct TlsError {
    source: Option<BoxError>,
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TLS handshake failed")
    }
}

impl StdError for TlsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        boxed_source(&self.source)
    }
}

/// A configured timeout elapsed.
///
/// # Examples
///
/// ```
/// use kyc_transport::{Error, TimeoutPhase};
///
/// fn may_resend(err: &Error) -> bool {
///     matches!(err, Error::Timeout(t) if t.phase() == TimeoutPhase::Connect)
/// }
/// # let _ = may_resend;
/// ```
#[derive(Debug)]
pub struct TimeoutError {
    phase: TimeoutPhase,
    after: Duration,
}

impl TimeoutError {
    /// Which timeout elapsed.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::TimeoutPhase;
    ///
    /// assert_ne!(TimeoutPhase::Connect, TimeoutPhase::Response);
    /// ```
    #[must_use]
    pub fn phase(&self) -> TimeoutPhase {
        self.phase
    }

    /// The configured duration that elapsed.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::Error;
    ///
    /// fn limit(err: &Error) -> Option<std::time::Duration> {
    ///     match err {
    ///         Error::Timeout(t) => Some(t.after()),
    ///         _ => None,
    ///     }
    /// }
    /// # let _ = limit;
    /// ```
    #[must_use]
    pub fn after(&self) -> Duration {
        self.after
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.phase {
            TimeoutPhase::Connect => write!(f, "connecting timed out after {:?}", self.after),
            TimeoutPhase::Response => write!(
                f,
                "no complete response within the per-attempt timeout of {:?}",
                self.after
            ),
        }
    }
}

impl StdError for TimeoutError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        None
    }
}

/// Which timeout elapsed.
///
/// # Examples
///
/// ```
/// use kyc_transport::TimeoutPhase;
///
/// let phase = TimeoutPhase::Connect;
/// assert_eq!(format!("{phase:?}"), "Connect");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Connecting (TCP, proxy tunnel and TLS handshake): nothing was sent.
    Connect,
    /// The per-attempt timeout, covering sending the request and reading the whole response:
    /// the server may have acted on the request.
    Response,
}

/// The connection failed after the request was handed to it.
///
/// [`Error::request_may_have_been_sent`] tells whether any byte may have left: a pooled
/// connection that the server had already closed fails before writing, and is resent on another
/// connection by [`Transport`](crate::Transport) before this error could be returned.
///
/// # Examples
///
/// ```
/// use kyc_transport::Error;
///
/// fn ambiguous(err: &Error) -> bool {
///     matches!(err, Error::Io(_)) && err.request_may_have_been_sent()
/// }
/// # let _ = ambiguous;
/// ```
#[derive(Debug)]
pub struct IoError {
    sent: bool,
    source: Option<BoxError>,
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sent {
            f.write_str("the connection failed while sending the request or reading the response")
        } else {
            f.write_str("the connection was closed before the request was written")
        }
    }
}

impl StdError for IoError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        boxed_source(&self.source)
    }
}

/// The response body is larger than the configured cap.
///
/// # Examples
///
/// ```
/// use kyc_transport::Error;
///
/// fn cap(err: &Error) -> Option<usize> {
///     match err {
///         Error::BodyTooLarge(too_large) => Some(too_large.limit()),
///         _ => None,
///     }
/// }
/// # let _ = cap;
/// ```
#[derive(Debug)]
pub struct BodyTooLarge {
    limit: usize,
    status: StatusCode,
}

impl BodyTooLarge {
    /// The configured cap, in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn f(too_large: &kyc_transport::BodyTooLarge) -> usize {
    /// too_large.limit()
    /// # }
    /// ```
    #[must_use]
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The status of the response whose body was refused.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn f(too_large: &kyc_transport::BodyTooLarge) -> bool {
    /// too_large.status().is_success()
    /// # }
    /// ```
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the response body exceeds the cap of {} bytes",
            self.limit
        )
    }
}

impl StdError for BodyTooLarge {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        None
    }
}

/// Marks a connect attempt that ran out of time; found again in the connector's error chain.
#[derive(Debug)]
pub(crate) struct ConnectTimedOut;

impl fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connect timed out")
    }
}

impl StdError for ConnectTimedOut {}

pub(crate) fn timeout(phase: TimeoutPhase, after: Duration) -> Error {
    Error::Timeout(TimeoutError { phase, after })
}

pub(crate) fn too_large(limit: usize, status: StatusCode) -> Error {
    Error::BodyTooLarge(BodyTooLarge { limit, status })
}

pub(crate) fn io_after_send(source: impl Into<BoxError>) -> Error {
    Error::Io(IoError {
        sent: true,
        source: Some(source.into()),
    })
}

/// Sorts a hyper-util client error by how far the request got.
pub(crate) fn classify(err: hyper_util::client::legacy::Error, connect_timeout: Duration) -> Error {
    if find::<ConnectTimedOut>(&err).is_some() {
        return timeout(TimeoutPhase::Connect, connect_timeout);
    }
    if find::<rustls::Error>(&err).is_some() {
        return Error::Tls(TlsError {
            source: Some(Box::new(err)),
        });
    }
    // Without connection info, the failure came before a connection was ready to take the
    // request (the connector, or the HTTP/1.1 or HTTP/2 handshake): nothing was sent.
    if err.is_connect() || err.connect_info().is_none() {
        return Error::Connect(ConnectError {
            source: Some(Box::new(err)),
        });
    }
    // hyper reports a request it gave back unwritten (the connection closed first) as
    // canceled; everything else may have put bytes on the wire.
    let sent = !find::<hyper::Error>(&err).is_some_and(hyper::Error::is_canceled);
    Error::Io(IoError {
        sent,
        source: Some(Box::new(err)),
    })
}

/// Walks the `source()` chain, looking inside `io::Error`s too (their `source()` skips the
/// wrapped error itself).
fn find<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&'a (dyn StdError + 'static)> = Some(err);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(found) = find::<T>(inner) {
                    return Some(found);
                }
            }
        }
        current = err.source();
    }
    None
}
