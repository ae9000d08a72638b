//! RFC 7578 `multipart/form-data`: a [`Form`] of text and file parts, encoded byte for byte.
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
pub struct Boundary(String);

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
        let mut text = String::with_capacity(35);
        text.push_str("kyc");
        for byte in bytes {
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        Ok(Self(text))
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
            Ok(Self(text.to_owned()))
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
        &self.0
    }
}

impl fmt::Display for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
        // RFC 2045 tspecials and space need quoting; bchars never contain `"` or `\`.
        let needs_quotes = boundary
            .0
            .bytes()
            .any(|b| matches!(b, b'(' | b')' | b',' | b'/' | b':' | b'=' | b'?' | b' '));
        let text = if needs_quotes {
            format!("multipart/form-data; boundary=\"{}\"", boundary.0)
        } else {
            format!("multipart/form-data; boundary={}", boundary.0)
        };
        HeaderValue::from_str(&text).expect("bchars are visible ASCII or space")
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
        let encoded = self.build(boundary, |index, _| {
            Err(Error::invalid(InvalidKind::NeedsIo { index }))
        })?;
        Ok(encoded
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
        let mut lengths = Vec::new();
        for (index, part) in self.parts.iter().enumerate() {
            if let Content::File {
                source: FileSource::Path(path),
                ..
            } = &part.content
            {
                let metadata = tokio::fs::metadata(path)
                    .await
                    .map_err(|err| Error::invalid_with(InvalidKind::File { index }, err))?;
                if !metadata.is_file() {
                    return Err(Error::invalid_with(
                        InvalidKind::File { index },
                        io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"),
                    ));
                }
                lengths.push(metadata.len());
            }
        }
        let mut lengths = lengths.into_iter();
        self.build(boundary, |_, _| {
            Ok(lengths.next().expect("one length per path part, in order"))
        })
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

    /// Lays out the body as segments; `file_len` gives the length of each path part.
    fn build(
        &self,
        boundary: &Boundary,
        mut file_len: impl FnMut(usize, &Path) -> Result<u64, Error>,
    ) -> Result<Encoded, Error> {
        let delimiter = [b"--", boundary.0.as_bytes()].concat();
        let search = Search::new(&delimiter);
        // One allocation for the in-memory text of a typical form.
        let estimate: usize = self
            .parts
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
                delimiter.len() + 48 + part.name.len() + inline
            })
            .sum::<usize>()
            + delimiter.len()
            + 4;
        let mut out = Layout::with_capacity(estimate);
        for (index, part) in self.parts.iter().enumerate() {
            let head_start = out.pending.len() + delimiter.len();
            out.pending.extend_from_slice(&delimiter);
            out.pending
                .extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
            escape_into(&mut out.pending, &part.name)
                .ok_or(Error::invalid(InvalidKind::Name { index }))?;
            out.pending.extend_from_slice(b"\"");
            match &part.content {
                Content::Text(value) => {
                    out.pending.extend_from_slice(b"\r\n\r\n");
                    search.check(&out.pending[head_start..])?;
                    search.check(value.as_bytes())?;
                    out.pending.extend_from_slice(value.as_bytes());
                }
                Content::File {
                    filename,
                    content_type,
                    source,
                } => {
                    out.pending.extend_from_slice(b"; filename=\"");
                    escape_into(&mut out.pending, filename)
                        .ok_or(Error::invalid(InvalidKind::Filename { index }))?;
                    out.pending.extend_from_slice(b"\"\r\nContent-Type: ");
                    let content_type_ok = !content_type.is_empty()
                        && content_type.bytes().all(|b| b >= 0x20 && b != 0x7f);
                    if !content_type_ok {
                        return Err(Error::invalid(InvalidKind::ContentType { index }));
                    }
                    out.pending.extend_from_slice(content_type.as_bytes());
                    out.pending.extend_from_slice(b"\r\n\r\n");
                    search.check(&out.pending[head_start..])?;
                    match source {
                        FileSource::Bytes(bytes) => {
                            search.check(bytes)?;
                            out.push_shared(bytes.clone());
                        }
                        FileSource::Path(path) => {
                            let len = file_len(index, path)?;
                            out.push_file(path.clone(), len)
                                .ok_or(Error::invalid(InvalidKind::FileTooLarge { index }))?;
                        }
                    }
                }
            }
            out.pending.extend_from_slice(b"\r\n");
        }
        out.pending.extend_from_slice(&delimiter);
        out.pending.extend_from_slice(b"--\r\n");
        Ok(out.finish(boundary.clone()))
    }
}

/// Proves that a part does not contain the delimiter `--{boundary}`.
///
/// `--{boundary}` never overlaps itself across a part's end: the text after a part is
/// "\r\n--", and bchars hold no CR. Searching each part alone is therefore a proof.
struct Search<'a> {
    needle: &'a [u8],
    finder: std::cell::OnceCell<memchr::memmem::Finder<'a>>,
}

impl<'a> Search<'a> {
    /// Up to this haystack length a scan for `-` beats building a substring searcher.
    const SHORT: usize = 512;

    fn new(needle: &'a [u8]) -> Self {
        Self {
            needle,
            finder: std::cell::OnceCell::new(),
        }
    }

    fn check(&self, haystack: &[u8]) -> Result<(), Error> {
        let found = if haystack.len() < self.needle.len() {
            false
        } else if haystack.len() <= Self::SHORT {
            memchr::memchr_iter(b'-', haystack).any(|at| haystack[at..].starts_with(self.needle))
        } else {
            self.finder
                .get_or_init(|| memchr::memmem::Finder::new(self.needle))
                .find(haystack)
                .is_some()
        };
        if found {
            Err(Error::invalid(InvalidKind::BoundaryCollision))
        } else {
            Ok(())
        }
    }
}

/// Appends `text` with `"`, CR and LF percent-escaped; `None` for other control characters.
fn escape_into(out: &mut BytesMut, text: &str) -> Option<()> {
    let mut rest = text.as_bytes();
    while let Some(at) = rest
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == 0x7f)
    {
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

#[derive(Default)]
struct Layout {
    segments: Vec<Segment>,
    pending: BytesMut,
    length: u64,
    overflow: bool,
}

impl Layout {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            pending: BytesMut::with_capacity(capacity),
            ..Self::default()
        }
    }

    fn push_shared(&mut self, bytes: Bytes) {
        if bytes.len() <= COALESCE {
            self.pending.extend_from_slice(&bytes);
        } else {
            self.flush();
            self.add(Segment::Bytes(bytes));
        }
    }

    fn push_file(&mut self, path: PathBuf, len: u64) -> Option<()> {
        self.flush();
        self.add(Segment::File { path, len });
        (!self.overflow).then_some(())
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let bytes = self.pending.split().freeze();
            self.add(Segment::Bytes(bytes));
        }
    }

    fn add(&mut self, segment: Segment) {
        match self.length.checked_add(segment.len()) {
            Some(length) => self.length = length,
            None => self.overflow = true,
        }
        self.segments.push(segment);
    }

    fn finish(mut self, boundary: Boundary) -> Encoded {
        self.flush();
        Encoded {
            boundary,
            segments: self.segments.into(),
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
    segments: Arc<[Segment]>,
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
        if let [Segment::Bytes(only)] = &*self.segments {
            return Some(only.clone());
        }
        let mut out = BytesMut::with_capacity(usize::try_from(self.content_length).ok()?);
        for segment in self.segments.iter() {
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
        FormBody {
            segments: Arc::clone(&self.segments),
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
            .field("segments", &self.segments.len())
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
    segments: Arc<[Segment]>,
    next: usize,
    remaining: u64,
    file: Option<FileState>,
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
                match state {
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
                        this.file = Some(FileState::Reading(file, len));
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
            let Some(segment) = this.segments.get(this.next) else {
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
                    this.file = Some(FileState::Opening(Box::pin(open_checked(path, len)), len));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0 && self.file.is_none() && self.next >= self.segments.len()
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
    fn random_boundaries_are_valid_and_distinct() {
        let a = Boundary::random().expect("OS random source");
        let b = Boundary::random().expect("OS random source");
        assert_ne!(a, b);
        assert!(Boundary::new(a.as_str()).is_ok());
    }

    #[test]
    fn large_in_memory_parts_are_shared_not_copied() {
        let big = Bytes::from(vec![7_u8; COALESCE + 1]);
        let form = Form::new().file("f", "f.bin", "application/octet-stream", big.clone().into());
        let encoded = form
            .build(&Boundary::new("b").expect("valid"), |_, _| unreachable!())
            .expect("encodes");
        assert!(encoded.segments.iter().any(
            |segment| matches!(segment, Segment::Bytes(bytes) if bytes.as_ptr() == big.as_ptr())
        ));
    }
}
