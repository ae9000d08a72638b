//! RFC 7578 `multipart/form-data`: a [`Form`] of text and file parts, encoded byte for byte,
//! or an [`Encoder`] that writes borrowed parts straight into the body (a `Form` is encoded
//! through one).
//!
//! The encoder is sans-IO: the [`Boundary`] is an argument, so [`Form::encode`] is a pure
//! function whose output can be compared with golden bytes. The only I/O is reading the length
//! of file parts taken from a path ([`Form::prepare`]) and, when the body is sent, reading
//! those files in bounded chunks ([`FormBody`]).
//!
//! # File parts
//!
//! A [`FileSource::Bytes`] part is shared, never copied, when it is large. A
//! [`FileSource::Path`] part's length is taken from its metadata when the form is prepared;
//! the file is reopened for every body, so a retry resends the same bytes, and read in chunks
//! of at most 64 KiB. A file whose length changed since it was prepared fails the body, since
//! the `Content-Length` is already promised.
//!
//! # Wire format
//!
//! ```text
//! --{boundary}\r\n
//! Content-Disposition: form-data; name="{name}"\r\n
//! \r\n
//! {value}\r\n
//! --{boundary}\r\n
//! Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n
//! Content-Type: {content type}\r\n
//! \r\n
//! {file bytes}\r\n
//! --{boundary}--\r\n
//! ```
//!
//! - Text parts carry no `Content-Type` (RFC 7578 §4.4: the default is `text/plain`) and their
//!   value is sent as raw UTF-8.
//! - Names and filenames are raw UTF-8 inside quotes, with `"` → `%22`, CR → `%0D` and LF →
//!   `%0A`, as browsers do (WHATWG HTML, "multipart/form-data encoding algorithm"); `name*=` and
//!   `filename*=` are never used. `%` itself is not escaped, so a name that already contains
//!   `%22` reads back the same as one that contained `"`. Other control characters (NUL, DEL,
//!   and C0 except tab) cannot be carried in a header and are refused with a typed error, as is
//!   a content type that is empty or contains any control character.
//! - Backslashes are sent raw, as browsers do. A parser that treats `\"` as an escaped quote
//!   (RFC 2616 `quoted-pair`) misreads a name ending in `\`; avoid such names.
//!
//! # Boundary collisions
//!
//! A part must never contain `--{boundary}`. For in-memory parts (text and
//! [`FileSource::Bytes`]) the encoder proves it by searching every part for that text; a
//! caller-chosen boundary that collides is an error, and [`Form::prepare_random`] draws a new
//! random boundary (so does [`Encoder::encode_random`]). File parts read from a path are not searched (that would mean reading them
//! twice): a random boundary carries 128 bits from the OS random source, so the probability
//! that a given file contains it is at most about `file length × 2^-128`.

mod body;
mod boundary;
mod encoder;
mod form;

pub use body::{Encoded, FormBody};
pub use boundary::Boundary;
pub use encoder::Encoder;
pub use form::{Form, Part};
/// Where a file part's bytes come from: the workspace's one type for it, from `kyc-proto`.
pub use kyc_proto::FileSource;

/// The largest chunk read from a file part at a time: a 64 MiB file is never held in memory.
pub(crate) const FILE_CHUNK: usize = 64 * 1024;

/// Consecutive in-memory pieces up to this size are merged into one buffer, so a small form is
/// one write; larger in-memory file parts are shared, not copied.
const COALESCE: usize = 16 * 1024;
