//! RFC 7578 `multipart/form-data`: a [`Form`] of text and file parts, encoded byte for byte,
//! or an [`Encoder`] that writes borrowed parts straight into the body (a `Form` is encoded
//! through one).
//!
//! The encoder is sans-IO: the [`Boundary`] is an argument, so [`Form::encode`] is a pure
//! function whose output can be compared with golden bytes. The only I/O is reading the length
//! of file parts taken from a path ([`Form::prepare`]) and, when the body is sent, reading
//! those files in bounded chunks ([`FormBody`]).
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
//! random boundary. File parts read from a path are not searched (that would mean reading them
//! twice): a random boundary carries 128 bits from the OS random source, so the probability
//! that a given file contains it is at most about `file length × 2^-128`.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use http_body::{Frame, SizeHint};

use crate::error::{Error, InvalidKind};

/// The largest chunk read from a file part at a time: a 64 MiB file is never held in memory.
pub const FILE_CHUNK: usize = 64 * 1024;

/// Consecutive in-memory pieces up to this size are merged into one buffer, so a small form is
/// one write; larger in-memory file parts are shared, not copied.
const COALESCE: usize = 16 * 1024;

/// A multipart boundary: 1 to 70 characters from RFC 2046's `bchars`, not ending in a space.
///
/// # Examples
///
/// ```
/// use kyc_transport::multipart::Boundary;
///
/// let fixed = Boundary::new("test-boundary")?;
/// assert_eq!(fixed.as_str(), "test-boundary");
///
/// let random = Boundary::random()?;
/// assert_eq!(random.as_str().len(), 35); // "kyc" and 32 hex digits: 128 random bits
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Boundary {
    text: String,
    /// Whether the `Content-Type` parameter must be quoted (the text holds an RFC 2045
    /// tspecial or a space); decided once, here.
    quoted: bool,
}

impl Boundary {
    /// A boundary from 128 bits of the operating system's random source (fetched in batches
    /// of 512 bytes per thread, so most calls make no system call).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when the OS random source fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Boundary;
    ///
    /// assert_ne!(Boundary::random()?, Boundary::random()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn random() -> Result<Self, Error> {
        let bytes = random_16().map_err(|err| {
            Error::invalid_with(InvalidKind::RandomSource, io::Error::other(err.to_string()))
        })?;
        // "kyc" + 32 hex digits: recognisable in a capture, and a part cannot contain it by
        // accident.
        let mut text = [0_u8; 35];
        text[..3].copy_from_slice(b"kyc");
        for (pair, byte) in text[3..].chunks_exact_mut(2).zip(bytes) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0x0f)];
        }
        let text = std::str::from_utf8(&text)
            .expect("ASCII letters and digits")
            .to_owned();
        Ok(Self {
            text,
            quoted: false,
        })
    }

    /// A caller-chosen boundary, validated against RFC 2046 §5.1.1.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when the text is empty, longer than 70 characters, ends in a space or
    /// holds a character outside `bchars` (digits, letters and `'()+_,-./:=? `).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Boundary;
    ///
    /// assert!(Boundary::new("simple-Boundary_1").is_ok());
    /// assert!(Boundary::new("with space").is_ok());
    /// assert!(Boundary::new("trailing space ").is_err());
    /// assert!(Boundary::new("quote\"").is_err());
    /// assert!(Boundary::new(&"x".repeat(71)).is_err());
    /// ```
    pub fn new(text: &str) -> Result<Self, Error> {
        let valid = (1..=70).contains(&text.len())
            && !text.ends_with(' ')
            && text.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'\''
                            | b'('
                            | b')'
                            | b'+'
                            | b'_'
                            | b','
                            | b'-'
                            | b'.'
                            | b'/'
                            | b':'
                            | b'='
                            | b'?'
                            | b' '
                    )
            });
        if valid {
            // RFC 2045 tspecials and space need quoting; bchars never contain `"` or `\`.
            let quoted = text
                .bytes()
                .any(|b| matches!(b, b'(' | b')' | b',' | b'/' | b':' | b'=' | b'?' | b' '));
            Ok(Self {
                text: text.to_owned(),
                quoted,
            })
        } else {
            Err(Error::invalid(InvalidKind::Boundary))
        }
    }

    /// The boundary text, without the leading `--`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Boundary;
    ///
    /// assert_eq!(Boundary::new("b")?.as_str(), "b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes fetched from the OS random source per system call: one call serves 32 boundaries.
const RANDOM_BATCH: usize = 512;

thread_local! {
    /// Unused OS random bytes of this thread. A boundary needs unpredictability, not secrecy,
    /// so fetching them in batches (saving a system call per request) loses nothing; each byte
    /// is handed out once and then zeroed.
    static RANDOM: std::cell::RefCell<([u8; RANDOM_BATCH], usize)> =
        const { std::cell::RefCell::new(([0; RANDOM_BATCH], RANDOM_BATCH)) };
}

/// 16 bytes from the OS random source (through this thread's batch).
fn random_16() -> Result<[u8; 16], getrandom::Error> {
    RANDOM.with(|cell| {
        let mut guard = cell.borrow_mut();
        let (pool, used) = &mut *guard;
        if *used + 16 > RANDOM_BATCH {
            getrandom::fill(pool)?;
            *used = 0;
        }
        let mut out = [0_u8; 16];
        out.copy_from_slice(&pool[*used..*used + 16]);
        pool[*used..*used + 16].fill(0);
        *used += 16;
        Ok(out)
    })
}

/// Where a file part's bytes come from.
///
/// # Examples
///
/// ```
/// use kyc_transport::multipart::FileSource;
///
/// let in_memory = FileSource::from(bytes::Bytes::from_static(b"%PDF-1.7"));
/// let on_disk = FileSource::from(std::path::PathBuf::from("/tmp/id-card.png"));
/// assert!(matches!(in_memory, FileSource::Bytes(_)));
/// assert!(matches!(on_disk, FileSource::Path(_)));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum FileSource {
    /// Bytes already in memory; shared, never copied by the encoder.
    Bytes(Bytes),
    /// A file read when the body is sent, in chunks of at most [`FILE_CHUNK`] bytes. Its length
    /// is taken from its metadata by [`Form::prepare`]; it is reopened on every send, so a retry
    /// resends the same bytes, and a file whose length changed meanwhile fails the send.
    Path(PathBuf),
}

impl FileSource {
    /// In-memory bytes from a static slice.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::FileSource;
    ///
    /// let source = FileSource::from_static(b"\x89PNG");
    /// # let _ = source;
    /// ```
    #[must_use]
    pub fn from_static(bytes: &'static [u8]) -> Self {
        Self::Bytes(Bytes::from_static(bytes))
    }
}

impl From<Bytes> for FileSource {
    fn from(bytes: Bytes) -> Self {
        Self::Bytes(bytes)
    }
}

impl From<Vec<u8>> for FileSource {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Bytes(Bytes::from(bytes))
    }
}

impl From<PathBuf> for FileSource {
    fn from(path: PathBuf) -> Self {
        Self::Path(path)
    }
}

impl From<&Path> for FileSource {
    fn from(path: &Path) -> Self {
        Self::Path(path.to_owned())
    }
}

impl fmt::Debug for FileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The bytes may be an identity document: show their size only.
            Self::Bytes(bytes) => write!(f, "Bytes(<{} bytes>)", bytes.len()),
            Self::Path(path) => f.debug_tuple("Path").field(path).finish(),
        }
    }
}

/// One part of a [`Form`]: a text field or a file.
///
/// # Examples
///
/// ```
/// use kyc_transport::multipart::Form;
///
/// let form = Form::new().text("userId", "abc_100008");
/// let part = &form.parts()[0];
/// assert_eq!(part.name(), "userId");
/// assert_eq!(part.text(), Some("abc_100008"));
/// assert_eq!(part.filename(), None);
/// ```
#[derive(Clone)]
pub struct Part {
    name: String,
    content: Content,
}

#[derive(Clone)]
enum Content {
    Text(String),
    File {
        filename: String,
        content_type: String,
        source: FileSource,
    },
}

impl Part {
    /// The field name, unescaped.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Form;
    ///
    /// assert_eq!(Form::new().text("a\"b", "").parts()[0].name(), "a\"b");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value of a text part; `None` for a file part.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Form;
    ///
    /// assert_eq!(Form::new().text("k", "v").parts()[0].text(), Some("v"));
    /// ```
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        match &self.content {
            Content::Text(value) => Some(value),
            Content::File { .. } => None,
        }
    }

    /// The filename of a file part; `None` for a text part.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{FileSource, Form};
    ///
    /// let form = Form::new().file("doc", "id.png", "image/png", FileSource::from_static(b""));
    /// assert_eq!(form.parts()[0].filename(), Some("id.png"));
    /// ```
    #[must_use]
    pub fn filename(&self) -> Option<&str> {
        match &self.content {
            Content::File { filename, .. } => Some(filename),
            Content::Text(_) => None,
        }
    }

    /// The content type of a file part; `None` for a text part.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{FileSource, Form};
    ///
    /// let form = Form::new().file("doc", "id.png", "image/png", FileSource::from_static(b""));
    /// assert_eq!(form.parts()[0].content_type(), Some("image/png"));
    /// ```
    #[must_use]
    pub fn content_type(&self) -> Option<&str> {
        match &self.content {
            Content::File { content_type, .. } => Some(content_type),
            Content::Text(_) => None,
        }
    }

    /// Where a file part's bytes come from; `None` for a text part.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{FileSource, Form};
    ///
    /// let form = Form::new().file("doc", "id.png", "image/png", FileSource::from_static(b"x"));
    /// assert!(matches!(form.parts()[0].file_source(), Some(FileSource::Bytes(b)) if b == "x"));
    /// ```
    #[must_use]
    pub fn file_source(&self) -> Option<&FileSource> {
        match &self.content {
            Content::File { source, .. } => Some(source),
            Content::Text(_) => None,
        }
    }
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Part");
        out.field("name", &self.name);
        match &self.content {
            // Values may be personal data: their length only.
            Content::Text(value) => out.field("text", &format_args!("<{} bytes>", value.len())),
            Content::File {
                filename,
                content_type,
                source,
            } => out
                .field("filename", filename)
                .field("content_type", content_type)
                .field("source", source),
        };
        out.finish()
    }
}

/// A `multipart/form-data` form: an ordered list of parts. Repeated names are allowed and kept
/// in order.
///
/// # Examples
///
/// ```
/// use kyc_transport::multipart::{Boundary, FileSource, Form};
///
/// let form = Form::new()
///     .text("userId", "abc_100008")
///     .text("usernameFurigana", "テスト014")
///     .file("front", "front.png", "image/png", FileSource::from_static(b"\x89PNG"));
/// let boundary = Boundary::new("b")?;
/// let bytes = form.encode(&boundary)?;
/// assert!(bytes.starts_with(b"--b\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\nabc_100008\r\n"));
/// assert!(bytes.ends_with(b"\r\n--b--\r\n"));
/// assert_eq!(Form::content_type(&boundary), "multipart/form-data; boundary=b");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Form {
    parts: Vec<Part>,
}

impl Form {
    /// An empty form.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// assert_eq!(Form::new().encode(&Boundary::new("b")?)?, "--b--\r\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a text field. The value is sent as raw UTF-8, exactly as given.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Form;
    ///
    /// let form = Form::new().text("timestamp", "1774925553256");
    /// assert_eq!(form.parts().len(), 1);
    /// ```
    #[must_use]
    pub fn text(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parts.push(Part {
            name: name.into(),
            content: Content::Text(value.into()),
        });
        self
    }

    /// Appends a file part. The content type is checked when the form is encoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{FileSource, Form};
    ///
    /// let form = Form::new()
    ///     .file("front", "front.png", "image/png", FileSource::from_static(b"\x89PNG"))
    ///     .file("back", "back.pdf", "application/pdf", FileSource::from(std::path::PathBuf::from("back.pdf")));
    /// assert_eq!(form.parts().len(), 2);
    /// ```
    #[must_use]
    pub fn file(
        mut self,
        name: impl Into<String>,
        filename: impl Into<String>,
        content_type: impl Into<String>,
        source: FileSource,
    ) -> Self {
        self.parts.push(Part {
            name: name.into(),
            content: Content::File {
                filename: filename.into(),
                content_type: content_type.into(),
                source,
            },
        });
        self
    }

    /// The parts, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Form;
    ///
    /// let form = Form::new().text("a", "1").text("b", "2");
    /// let names: Vec<_> = form.parts().iter().map(|p| p.name()).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    #[must_use]
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The `Content-Type` header value for a body encoded with `boundary`. The boundary is
    /// quoted when it holds a character that a bare parameter value cannot carry.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// assert_eq!(Form::content_type(&Boundary::new("abc")?), "multipart/form-data; boundary=abc");
    /// assert_eq!(Form::content_type(&Boundary::new("a:b")?), "multipart/form-data; boundary=\"a:b\"");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn content_type(boundary: &Boundary) -> HeaderValue {
        let needs_quotes = boundary.quoted;
        const PREFIX: &[u8] = b"multipart/form-data; boundary=";
        let mut text = BytesMut::with_capacity(PREFIX.len() + boundary.text.len() + 2);
        text.extend_from_slice(PREFIX);
        if needs_quotes {
            text.extend_from_slice(b"\"");
        }
        text.extend_from_slice(boundary.text.as_bytes());
        if needs_quotes {
            text.extend_from_slice(b"\"");
        }
        HeaderValue::from_maybe_shared(text.freeze()).expect("bchars are visible ASCII or space")
    }

    /// Encodes a form whose parts are all in memory into one buffer: the sans-IO path, for
    /// golden tests and small forms.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when a name, filename or content type cannot be carried (see the
    /// [module docs](self)), when the boundary occurs inside a part, or when a part is read from
    /// a path (use [`Form::prepare`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// let body = Form::new().text("a\"b", "x").encode(&Boundary::new("B")?)?;
    /// assert_eq!(body, "--B\r\nContent-Disposition: form-data; name=\"a%22b\"\r\n\r\nx\r\n--B--\r\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode(&self, boundary: &Boundary) -> Result<Bytes, Error> {
        let mut encoder = Encoder::with_capacity(boundary.clone(), self.estimate(boundary));
        for (index, part) in self.parts.iter().enumerate() {
            match &part.content {
                Content::Text(value) => encoder.text(&part.name, value)?,
                Content::File {
                    filename,
                    content_type,
                    source: FileSource::Bytes(bytes),
                } => encoder.file(&part.name, filename, content_type, bytes.clone())?,
                Content::File {
                    source: FileSource::Path(_),
                    ..
                } => return Err(Error::invalid(InvalidKind::NeedsIo { index })),
            }
        }
        Ok(encoder
            .finish()
            .to_bytes()
            .expect("`encode` refuses path parts, so every segment is in memory"))
    }

    /// Prepares the body for sending: checks every part, reads the length of file parts from
    /// their metadata, and fixes the exact `Content-Length`. No file content is read.
    ///
    /// # Errors
    ///
    /// As [`Form::encode`], and [`Error::Invalid`] when a file part's path is not a readable
    /// regular file.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, FileSource, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("id.png");
    /// std::fs::write(&path, b"\x89PNG")?;
    /// let form = Form::new().text("userId", "u1").file("front", "id.png", "image/png", FileSource::from(path));
    /// let encoded = form.prepare(&Boundary::new("b")?).await?;
    /// assert_eq!(encoded.content_length(), 168);
    /// assert!(encoded.to_bytes().is_none()); // the file is read only when sending
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn prepare(&self, boundary: &Boundary) -> Result<Encoded, Error> {
        let mut encoder = Encoder::with_capacity(boundary.clone(), self.estimate(boundary));
        for part in &self.parts {
            match &part.content {
                Content::Text(value) => encoder.text(&part.name, value)?,
                Content::File {
                    filename,
                    content_type,
                    source,
                } => match source {
                    FileSource::Bytes(bytes) => {
                        encoder.file(&part.name, filename, content_type, bytes.clone())?;
                    }
                    FileSource::Path(path) => {
                        encoder
                            .file_path(&part.name, filename, content_type, path)
                            .await?;
                    }
                },
            }
        }
        Ok(encoder.finish())
    }

    /// [`Form::prepare`] with a fresh [`Boundary::random`], drawn again in the (practically
    /// impossible) case that it occurs inside an in-memory part.
    ///
    /// # Errors
    ///
    /// As [`Form::prepare`].
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Form;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().text("a", "1").prepare_random().await?;
    /// assert!(encoded.boundary().as_str().starts_with("kyc"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn prepare_random(&self) -> Result<Encoded, Error> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.prepare(&Boundary::random()?).await {
                Err(Error::Invalid(why)) if why.is_boundary_collision() && attempts < 8 => {}
                other => return other,
            }
        }
    }

    /// The in-memory bytes of the encoded form, so that one allocation usually holds them.
    fn estimate(&self, boundary: &Boundary) -> usize {
        let delimiter = boundary.text.len() + 2;
        self.parts
            .iter()
            .map(|part| {
                let inline = match &part.content {
                    Content::Text(value) => value.len(),
                    Content::File {
                        filename,
                        content_type,
                        source,
                    } => {
                        let bytes = match source {
                            FileSource::Bytes(bytes) if bytes.len() <= COALESCE => bytes.len(),
                            FileSource::Bytes(_) | FileSource::Path(_) => 0,
                        };
                        filename.len() + content_type.len() + bytes + 32
                    }
                };
                delimiter + 48 + part.name.len() + inline
            })
            .sum::<usize>()
            + delimiter
            + 4
    }
}

/// Writes parts straight into a body laid out for sending, borrowing their text: what
/// [`Form::prepare`] does, for a caller that keeps the parts elsewhere and would otherwise copy
/// them into a [`Form`] first.
///
/// Every method checks its part completely before writing it: a refused part leaves the
/// encoder as it was, and the index in the error counts the parts accepted before it.
///
/// # Examples
///
/// ```
/// use kyc_transport::multipart::{Boundary, Encoder, Form};
///
/// let mut encoder = Encoder::new(Boundary::new("b")?);
/// encoder.text("userId", "abc_100008")?;
/// assert!(encoder.text("bad\u{0}name", "x").is_err()); // refused, nothing written
/// encoder.file("front", "front.png", "image/png", bytes::Bytes::from_static(b"\x89PNG"))?;
/// let encoded = encoder.finish();
///
/// let same = Form::new()
///     .text("userId", "abc_100008")
///     .file("front", "front.png", "image/png", bytes::Bytes::from_static(b"\x89PNG").into())
///     .encode(&Boundary::new("b")?)?;
/// assert_eq!(encoded.to_bytes(), Some(same));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Encoder {
    boundary: Boundary,
    opening: PartOpening,
    layout: Layout,
    parts: usize,
}

/// `--{boundary}\r\nContent-Disposition: form-data; name="`: how every part begins, written
/// once per encoder so that a part costs one copy for it.
struct PartOpening {
    bytes: [u8; PartOpening::CAPACITY],
    len: usize,
}

impl PartOpening {
    const DISPOSITION: &'static [u8] = b"\r\nContent-Disposition: form-data; name=\"";
    /// `--`, the longest boundary RFC 2046 allows (70), and the disposition.
    const CAPACITY: usize = 2 + 70 + Self::DISPOSITION.len();

    fn new(boundary: &Boundary) -> Self {
        let boundary = boundary.text.as_bytes();
        let mut bytes = [0; Self::CAPACITY];
        let len = 2 + boundary.len() + Self::DISPOSITION.len();
        bytes[..2].copy_from_slice(b"--");
        bytes[2..2 + boundary.len()].copy_from_slice(boundary);
        bytes[2 + boundary.len()..len].copy_from_slice(Self::DISPOSITION);
        Self { bytes, len }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Encoder {
    /// An encoder writing with `boundary`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Encoder};
    ///
    /// let encoded = Encoder::new(Boundary::new("b")?).finish();
    /// assert_eq!(encoded.to_bytes().unwrap(), "--b--\r\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(boundary: Boundary) -> Self {
        Self::with_capacity(boundary, 0)
    }

    /// An encoder whose buffer starts with room for `bytes` bytes of in-memory text, so that
    /// a form of about that size is written without growing it.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Encoder};
    ///
    /// let mut encoder = Encoder::with_capacity(Boundary::random()?, 1024);
    /// encoder.text("userId", "abc_100008")?;
    /// assert!(encoder.finish().content_length() > 50);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_capacity(boundary: Boundary, bytes: usize) -> Self {
        Self {
            opening: PartOpening::new(&boundary),
            boundary,
            layout: Layout::with_capacity(bytes),
            parts: 0,
        }
    }

    /// The boundary the body is written with.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Encoder};
    ///
    /// assert_eq!(Encoder::new(Boundary::new("b")?).boundary().as_str(), "b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn boundary(&self) -> &Boundary {
        &self.boundary
    }

    /// Appends a text field; the value is sent as raw UTF-8, exactly as given.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when the name holds a control character other than tab, CR or LF, or
    /// when the name or value contains the delimiter `--{boundary}`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Encoder};
    ///
    /// let mut encoder = Encoder::new(Boundary::new("b")?);
    /// encoder.text("timestamp", "1774925553256")?;
    /// assert!(encoder.text("note", "a --b inside").unwrap_err().to_string().contains("boundary"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn text(&mut self, name: &str, value: &str) -> Result<(), Error> {
        self.check(value.as_bytes())?;
        self.layout
            .pending
            .reserve(self.opening.len + name.len() + value.len() + 8);
        self.head(name)?;
        let pending = &mut self.layout.pending;
        pending.extend_from_slice(b"\r\n\r\n");
        pending.extend_from_slice(value.as_bytes());
        pending.extend_from_slice(b"\r\n");
        self.parts += 1;
        Ok(())
    }

    /// Appends a file part whose bytes are in memory. Small files are copied into the body's
    /// buffer; larger ones are shared, not copied.
    ///
    /// # Errors
    ///
    /// As [`Encoder::text`] for the name and the filename, and when the content type is empty
    /// or holds a control character.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Encoder};
    ///
    /// let mut encoder = Encoder::new(Boundary::new("b")?);
    /// encoder.file("front", "id.png", "image/png", bytes::Bytes::from_static(b"\x89PNG"))?;
    /// assert!(encoder.file("back", "id.png", "image/png\r\nX: 1", bytes::Bytes::new()).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file(
        &mut self,
        name: &str,
        filename: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<(), Error> {
        self.check(&bytes)?;
        self.file_head(name, filename, content_type)?;
        self.layout.push_shared(bytes);
        self.layout.pending.extend_from_slice(b"\r\n");
        self.parts += 1;
        Ok(())
    }

    /// Appends a file part read from `path` when the body is sent. Only the file's length is
    /// read now, from its metadata.
    ///
    /// # Errors
    ///
    /// As [`Encoder::file`], and when `path` is not a readable regular file.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Encoder};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("id.png");
    /// std::fs::write(&path, b"\x89PNG")?;
    /// let mut encoder = Encoder::new(Boundary::new("b")?);
    /// encoder.file_path("front", "id.png", "image/png", &path).await?;
    /// assert!(encoder.file_path("back", "x.png", "image/png", dir.path()).await.is_err()); // a directory
    /// assert_eq!(encoder.finish().content_length(), 110);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn file_path(
        &mut self,
        name: &str,
        filename: &str,
        content_type: &str,
        path: &Path,
    ) -> Result<(), Error> {
        let index = self.parts;
        let metadata = tokio::fs::metadata(path)
            .await
            .map_err(|err| Error::invalid_with(InvalidKind::File { index }, err))?;
        if !metadata.is_file() {
            return Err(Error::invalid_with(
                InvalidKind::File { index },
                io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"),
            ));
        }
        let len = metadata.len();
        if self.layout.len().checked_add(len).is_none() {
            return Err(Error::invalid(InvalidKind::FileTooLarge { index }));
        }
        self.file_head(name, filename, content_type)?;
        self.layout.push_file(path.to_path_buf(), len);
        self.layout.pending.extend_from_slice(b"\r\n");
        self.parts += 1;
        Ok(())
    }

    /// The encoded form: the closing delimiter is written and the length fixed.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Encoder};
    ///
    /// let mut encoder = Encoder::new(Boundary::new("b")?);
    /// encoder.text("a", "1")?;
    /// let encoded = encoder.finish();
    /// assert_eq!(encoded.content_length(), 59);
    /// assert_eq!(encoded.content_type(), "multipart/form-data; boundary=b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn finish(mut self) -> Encoded {
        let pending = &mut self.layout.pending;
        pending.extend_from_slice(b"--");
        pending.extend_from_slice(self.boundary.text.as_bytes());
        pending.extend_from_slice(b"--\r\n");
        self.layout.finish(self.boundary)
    }

    /// Refuses a haystack that contains the delimiter `--{boundary}`.
    ///
    /// Checking each caller-supplied piece on its own is a proof for the whole body: the text
    /// around every piece begins and ends with `"`, CR, LF or `: `, none of which the delimiter
    /// can contain or begin with, so an occurrence cannot straddle a piece's edge. Escaping
    /// only replaces `"`, CR and LF, which the delimiter cannot contain either.
    fn check(&self, haystack: &[u8]) -> Result<(), Error> {
        /// Up to this haystack length a scan for `-` beats building a substring searcher.
        const SHORT: usize = 512;
        let boundary = self.boundary.text.as_bytes();
        let needle_len = boundary.len() + 2;
        let found = if haystack.len() < needle_len {
            false
        } else if haystack.len() <= SHORT {
            memchr::memchr_iter(b'-', &haystack[..=haystack.len() - needle_len])
                .any(|at| haystack[at + 1] == b'-' && haystack[at + 2..].starts_with(boundary))
        } else {
            let mut needle = Vec::with_capacity(needle_len);
            needle.extend_from_slice(b"--");
            needle.extend_from_slice(boundary);
            memchr::memmem::find(haystack, &needle).is_some()
        };
        if found {
            Err(Error::invalid(InvalidKind::BoundaryCollision))
        } else {
            Ok(())
        }
    }

    /// Writes `--{boundary}` and the `Content-Disposition` line up to the closing quote of the
    /// name; on error nothing is written.
    fn head(&mut self, name: &str) -> Result<(), Error> {
        self.check(name.as_bytes())?;
        let pending = &mut self.layout.pending;
        let start = pending.len();
        pending.extend_from_slice(self.opening.as_bytes());
        if escape_into(pending, name).is_none() {
            pending.truncate(start);
            return Err(Error::invalid(InvalidKind::Name { index: self.parts }));
        }
        pending.extend_from_slice(b"\"");
        Ok(())
    }

    /// Writes a file part's head, through the blank line; on error nothing is written.
    fn file_head(&mut self, name: &str, filename: &str, content_type: &str) -> Result<(), Error> {
        let index = self.parts;
        let content_type_ok =
            !content_type.is_empty() && content_type.bytes().all(|b| b >= 0x20 && b != 0x7f);
        if !content_type_ok {
            return Err(Error::invalid(InvalidKind::ContentType { index }));
        }
        self.check(filename.as_bytes())?;
        self.check(content_type.as_bytes())?;
        let start = self.layout.pending.len();
        self.head(name)?;
        let pending = &mut self.layout.pending;
        pending.extend_from_slice(b"; filename=\"");
        if escape_into(pending, filename).is_none() {
            pending.truncate(start);
            return Err(Error::invalid(InvalidKind::Filename { index }));
        }
        pending.extend_from_slice(b"\"\r\nContent-Type: ");
        pending.extend_from_slice(content_type.as_bytes());
        pending.extend_from_slice(b"\r\n\r\n");
        Ok(())
    }
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("boundary", &self.boundary)
            .field("parts", &self.parts)
            .finish_non_exhaustive()
    }
}

/// Appends `text` with `"`, CR and LF percent-escaped; `None` for other control characters.
fn escape_into(out: &mut BytesMut, text: &str) -> Option<()> {
    let special = |b: u8| b < 0x20 || b == b'"' || b == 0x7f;
    // Names and filenames rarely hold anything to escape: one scan without branches, one copy.
    if !text.bytes().fold(false, |seen, b| seen | special(b)) {
        out.extend_from_slice(text.as_bytes());
        return Some(());
    }
    let mut rest = text.as_bytes();
    while let Some(at) = rest.iter().position(|&b| special(b)) {
        out.extend_from_slice(&rest[..at]);
        match rest[at] {
            b'"' => out.extend_from_slice(b"%22"),
            b'\r' => out.extend_from_slice(b"%0D"),
            b'\n' => out.extend_from_slice(b"%0A"),
            b'\t' => out.extend_from_slice(b"\t"),
            _ => return None,
        }
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    Some(())
}

#[derive(Clone)]
enum Segment {
    Bytes(Bytes),
    File { path: PathBuf, len: u64 },
}

impl Segment {
    fn len(&self) -> u64 {
        match self {
            Self::Bytes(bytes) => bytes.len() as u64,
            Self::File { len, .. } => *len,
        }
    }
}

/// The segments of a body: usually one buffer (a form of text and small files), so that case
/// needs no list.
#[derive(Clone)]
enum Segments {
    One(Segment),
    Many(Arc<[Segment]>),
}

impl Segments {
    fn as_slice(&self) -> &[Segment] {
        match self {
            Self::One(one) => std::slice::from_ref(one),
            Self::Many(many) => many,
        }
    }
}

#[derive(Default)]
struct Layout {
    segments: Vec<Segment>,
    pending: BytesMut,
    /// The length of `segments`; `pending` comes on top.
    length: u64,
}

impl Layout {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            pending: BytesMut::with_capacity(capacity),
            ..Self::default()
        }
    }

    /// The body length so far.
    fn len(&self) -> u64 {
        self.length.saturating_add(self.pending.len() as u64)
    }

    fn push_shared(&mut self, bytes: Bytes) {
        if bytes.len() <= COALESCE {
            self.pending.extend_from_slice(&bytes);
        } else {
            self.flush();
            self.add(Segment::Bytes(bytes));
        }
    }

    fn push_file(&mut self, path: PathBuf, len: u64) {
        self.flush();
        self.add(Segment::File { path, len });
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let bytes = self.pending.split().freeze();
            self.add(Segment::Bytes(bytes));
        }
    }

    fn add(&mut self, segment: Segment) {
        // The callers refuse a file that would overflow; in-memory bytes cannot.
        self.length = self.length.saturating_add(segment.len());
        self.segments.push(segment);
    }

    fn finish(mut self, boundary: Boundary) -> Encoded {
        let segments = if self.segments.is_empty() {
            let length = self.pending.len() as u64;
            self.length = length;
            Segments::One(Segment::Bytes(self.pending.freeze()))
        } else {
            self.flush();
            Segments::Many(self.segments.into())
        };
        Encoded {
            boundary,
            segments,
            content_length: self.length,
        }
    }
}

/// A form laid out for sending: exact length, content type, and a re-creatable body.
///
/// Cloning is cheap (the layout is shared); each [`Encoded::body`] is a fresh stream that
/// reopens file parts, so a retry sends the same bytes.
///
/// # Examples
///
/// ```
/// use kyc_transport::multipart::{Boundary, Form};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let encoded = Form::new().text("a", "1").prepare(&Boundary::new("b")?).await?;
/// assert_eq!(encoded.content_length(), 59);
/// assert_eq!(encoded.content_type(), "multipart/form-data; boundary=b");
/// assert_eq!(encoded.to_bytes().unwrap().len(), 59);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Encoded {
    boundary: Boundary,
    segments: Segments,
    content_length: u64,
}

impl Encoded {
    /// The exact body length in bytes, computed before anything is read or sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().prepare(&Boundary::new("b")?).await?;
    /// assert_eq!(encoded.content_length(), 7); // "--b--\r\n"
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn content_length(&self) -> u64 {
        self.content_length
    }

    /// The `Content-Type` header value, naming the boundary.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().prepare(&Boundary::new("b")?).await?;
    /// assert_eq!(encoded.content_type(), "multipart/form-data; boundary=b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn content_type(&self) -> HeaderValue {
        Form::content_type(&self.boundary)
    }

    /// The boundary the body was laid out with.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().prepare(&Boundary::new("b")?).await?;
    /// assert_eq!(encoded.boundary().as_str(), "b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn boundary(&self) -> &Boundary {
        &self.boundary
    }

    /// The whole body in one buffer, when no part is read from a file; `None` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().prepare(&Boundary::new("b")?).await?;
    /// assert_eq!(encoded.to_bytes().unwrap(), "--b--\r\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_bytes(&self) -> Option<Bytes> {
        if let [Segment::Bytes(only)] = self.segments.as_slice() {
            return Some(only.clone());
        }
        let mut out = BytesMut::with_capacity(usize::try_from(self.content_length).ok()?);
        for segment in self.segments.as_slice() {
            match segment {
                Segment::Bytes(bytes) => out.extend_from_slice(bytes),
                Segment::File { .. } => return None,
            }
        }
        Some(out.freeze())
    }

    /// A fresh body stream: in-memory parts are shared, file parts are opened now and read in
    /// chunks of at most [`FILE_CHUNK`] bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_body_util::BodyExt;
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().text("a", "1").prepare(&Boundary::new("b")?).await?;
    /// let collected = encoded.body().collect().await?.to_bytes();
    /// assert_eq!(collected, encoded.to_bytes().unwrap());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn body(&self) -> FormBody {
        self.clone().into_body()
    }

    /// [`Encoded::body`], consuming the form: the one-shot send path, which saves sharing the
    /// buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_body_util::BodyExt;
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().text("a", "1").prepare(&Boundary::new("b")?).await?;
    /// let expected = encoded.to_bytes().unwrap();
    /// assert_eq!(encoded.into_body().collect().await?.to_bytes(), expected);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn into_body(self) -> FormBody {
        FormBody {
            segments: self.segments,
            next: 0,
            remaining: self.content_length,
            file: None,
        }
    }
}

impl fmt::Debug for Encoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoded")
            .field("boundary", &self.boundary)
            .field("segments", &self.segments.as_slice().len())
            .field("content_length", &self.content_length)
            .finish()
    }
}

type Opening = Pin<Box<dyn Future<Output = io::Result<tokio::fs::File>> + Send>>;

enum FileState {
    Opening(Opening, u64),
    Reading(tokio::fs::File, u64),
}

/// The body of an [`Encoded`] form, as an [`http_body::Body`] with an exact size hint.
///
/// Its errors are I/O errors reading a file part, including a file whose length changed since
/// [`Form::prepare`] (the `Content-Length` is already promised).
///
/// # Examples
///
/// ```
/// use http_body::Body;
/// use kyc_transport::multipart::{Boundary, Form};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let encoded = Form::new().text("a", "1").prepare(&Boundary::new("b")?).await?;
/// assert_eq!(encoded.body().size_hint().exact(), Some(59));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FormBody {
    segments: Segments,
    next: usize,
    remaining: u64,
    /// Boxed: the body travels by value through hyper, and most bodies have no file part.
    file: Option<Box<FileState>>,
}

impl fmt::Debug for FormBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormBody")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl http_body::Body for FormBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        loop {
            if let Some(state) = &mut this.file {
                match &mut **state {
                    FileState::Opening(opening, len) => {
                        let file = match opening.as_mut().poll(cx) {
                            Poll::Pending => return Poll::Pending,
                            Poll::Ready(Ok(file)) => file,
                            Poll::Ready(Err(err)) => {
                                this.file = None;
                                return Poll::Ready(Some(Err(err)));
                            }
                        };
                        let len = *len;
                        **state = FileState::Reading(file, len);
                    }
                    FileState::Reading(_, 0) => this.file = None,
                    FileState::Reading(file, left) => {
                        let want = usize::try_from(*left).unwrap_or(usize::MAX).min(FILE_CHUNK);
                        let mut buf = BytesMut::with_capacity(want);
                        let mut limited = tokio::io::AsyncReadExt::take(&mut *file, want as u64);
                        let read = match tokio_util::io::poll_read_buf(
                            Pin::new(&mut limited),
                            cx,
                            &mut buf,
                        ) {
                            Poll::Pending => return Poll::Pending,
                            Poll::Ready(result) => result,
                        };
                        match read {
                            Ok(0) => {
                                this.file = None;
                                return Poll::Ready(Some(Err(io::Error::new(
                                    io::ErrorKind::UnexpectedEof,
                                    "a file part shrank after its length was taken",
                                ))));
                            }
                            Ok(n) => {
                                *left -= n as u64;
                                this.remaining = this.remaining.saturating_sub(n as u64);
                                return Poll::Ready(Some(Ok(Frame::data(buf.freeze()))));
                            }
                            Err(err) => {
                                this.file = None;
                                return Poll::Ready(Some(Err(err)));
                            }
                        }
                    }
                }
                continue;
            }
            let Some(segment) = this.segments.as_slice().get(this.next) else {
                return Poll::Ready(None);
            };
            this.next += 1;
            match segment {
                Segment::Bytes(bytes) => {
                    this.remaining = this.remaining.saturating_sub(bytes.len() as u64);
                    return Poll::Ready(Some(Ok(Frame::data(bytes.clone()))));
                }
                Segment::File { path, len } => {
                    let path = path.clone();
                    let len = *len;
                    this.file = Some(Box::new(FileState::Opening(
                        Box::pin(open_checked(path, len)),
                        len,
                    )));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0 && self.file.is_none() && self.next >= self.segments.as_slice().len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// Opens a file part and checks that its length is still the one promised in `Content-Length`.
async fn open_checked(path: PathBuf, len: u64) -> io::Result<tokio::fs::File> {
    let file = tokio::fs::File::open(&path).await?;
    let now = file.metadata().await?.len();
    if now != len {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a file part changed length from {len} to {now} bytes since it was prepared"),
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_matches_browsers() {
        let mut out = BytesMut::new();
        escape_into(&mut out, "a\"b\r\nc\td%22é").expect("no other controls");
        assert_eq!(out, "a%22b%0D%0Ac\td%22é".as_bytes());
        assert!(escape_into(&mut BytesMut::new(), "nul\0").is_none());
        assert!(escape_into(&mut BytesMut::new(), "del\x7f").is_none());
    }

    #[test]
    fn a_refused_part_leaves_the_encoder_as_it_was() {
        let boundary = Boundary::new("b").expect("valid");
        let mut encoder = Encoder::new(boundary.clone());
        encoder.text("a", "1").expect("valid");
        let refusals = [
            encoder.text("bad\0name", "x"),
            encoder.text("n", "x--b"),
            encoder.text("--b", "x"),
            encoder.file("f", "bad\x01name", "text/plain", Bytes::new()),
            encoder.file("f", "--b", "text/plain", Bytes::new()),
            encoder.file("f", "f", "text/plain\r\nX: 1", Bytes::new()),
            encoder.file("f", "f", "", Bytes::new()),
            encoder.file("f", "f", "text/--b", Bytes::new()),
            encoder.file("f", "f", "text/plain", Bytes::from_static(b"--b")),
        ];
        for (case, refusal) in refusals.iter().enumerate() {
            let err = refusal.as_ref().expect_err("refused");
            assert!(matches!(err, Error::Invalid(_)), "case {case}: {err:?}");
        }
        let expected = Form::new()
            .text("a", "1")
            .encode(&boundary)
            .expect("encodes");
        assert_eq!(encoder.finish().to_bytes(), Some(expected));
    }

    #[test]
    fn random_boundaries_are_valid_and_distinct() {
        let a = Boundary::random().expect("OS random source");
        let b = Boundary::random().expect("OS random source");
        assert_ne!(a, b);
        assert!(Boundary::new(a.as_str()).is_ok());
    }

    #[test]
    fn large_in_memory_parts_are_shared_not_copied() {
        let big = Bytes::from(vec![7_u8; COALESCE + 1]);
        let mut encoder = Encoder::new(Boundary::new("b").expect("valid"));
        encoder
            .file("f", "f.bin", "application/octet-stream", big.clone())
            .expect("encodes");
        let encoded = encoder.finish();
        assert!(encoded.segments.as_slice().iter().any(
            |segment| matches!(segment, Segment::Bytes(bytes) if bytes.as_ptr() == big.as_ptr())
        ));
    }
}
