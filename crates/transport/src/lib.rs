//! A hand-rolled `multipart/form-data` encoder and a pooled HTTP sender on hyper 1, hyper-util
//! and rustls.
//!
//! Two layers:
//!
//! - [`multipart`]: a sans-IO RFC 7578 encoder. The boundary is an argument, so the output is
//!   byte-for-byte testable; the exact `Content-Length` is known before anything is sent, also
//!   for file parts streamed from disk; bodies are re-creatable, so a retry resends the same
//!   bytes. A [`Form`](multipart::Form) owns its parts; an [`Encoder`](multipart::Encoder)
//!   writes borrowed parts straight into the body, for a caller that keeps them elsewhere.
//! - [`Transport`]: hyper-util's pooled client (HTTP/1.1, and HTTP/2 where the server offers it
//!   via ALPN) over rustls with the `ring` provider, webpki roots by default, optional extra
//!   roots, proxies from the environment or configuration, a connect timeout, a per-attempt
//!   timeout and a cap on the response body. It implements [`Sender`], the one-method seam that
//!   a client's tests replace with an in-memory double.
//!
//! Errors are typed by how far the request got ([`Error`]), and each says whether resending is
//! safe.
//!
//! What this crate deliberately is not: it knows nothing about signatures or JSON schemas — the
//! client builds the field list, signs it, and hands it over. It calls no clock itself, but its
//! time is Tokio's: the timeouts are Tokio timers and hyper-util ages idle pooled connections
//! with Tokio's clock. It never logs header values or bodies and has no OpenSSL or aws-lc
//! dependency. Only `http` and `bytes` types (and `kyc-proto`'s file parts) appear in its API;
//! hyper and rustls errors are reachable through `source()`.
//!
//! # Examples
//!
//! ```
//! use kyc_transport::multipart::{Boundary, FileSource, Form};
//!
//! let form = Form::new()
//!     .text("userId", "abc_100008")
//!     .text("usernameFurigana", "テスト014")
//!     .file("front", "front.txt", "text/plain", FileSource::from_static(b"scan"));
//! let boundary = Boundary::new("X")?; // `Boundary::random()` when sending
//! let body = form.encode(&boundary)?;
//! assert_eq!(
//!     body,
//!     "--X\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\nabc_100008\r\n\
//!      --X\r\nContent-Disposition: form-data; name=\"usernameFurigana\"\r\n\r\nテスト014\r\n\
//!      --X\r\nContent-Disposition: form-data; name=\"front\"; filename=\"front.txt\"\r\n\
//!      Content-Type: text/plain\r\n\r\nscan\r\n--X--\r\n"
//! );
//! assert_eq!(Form::content_type(&boundary), "multipart/form-data; boundary=X");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//!
//! - `native-roots` (off): adds `TransportBuilder::native_roots`, to also trust the operating
//!   system's certificate store.
//! - `fuzzing` (off, hidden): the `fuzzing` module used by the fuzz target and the tests; it
//!   brings in `multer`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod builder;
mod connect;
mod error;
pub mod multipart;
mod origin;
mod proxy;
mod request;
mod tls;
mod transport;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use builder::TransportBuilder;
pub use error::{
    BodyTooLarge, ConnectError, Error, InvalidRequest, IoError, TimeoutError, TimeoutPhase,
    TlsError,
};
pub use proxy::Proxy;
pub use request::{Request, RequestBody, Response, Sender};
pub use tls::Certificate;
pub use transport::Transport;
