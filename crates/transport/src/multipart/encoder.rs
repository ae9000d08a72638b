//! [`Encoder`]: writes parts into a body laid out for sending, checking each one first.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use kyc_proto::FilePart;

use super::body::{Segment, Segments};
use super::{Boundary, COALESCE, Encoded, FileSource};
use crate::error::{Error, InvalidKind};

/// Writes parts straight into a body laid out for sending, borrowing their text: what
/// [`Form::prepare`](super::Form::prepare) does, for a caller that keeps the parts elsewhere and would otherwise copy
/// them into a [`Form`](super::Form) first.
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

    /// Appends a file part from `source`: in-memory bytes as [`Encoder::file`], a path as
    /// [`Encoder::file_path`].
    ///
    /// # Errors
    ///
    /// As [`Encoder::file`] or [`Encoder::file_path`].
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Encoder, FileSource};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let mut encoder = Encoder::new(Boundary::new("b")?);
    /// encoder.file_source("front", "id.png", "image/png", &FileSource::from_static(b"\x89PNG")).await?;
    /// assert_eq!(encoder.finish().content_length(), 110);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn file_source(
        &mut self,
        name: &str,
        filename: &str,
        content_type: &str,
        source: &FileSource,
    ) -> Result<(), Error> {
        match source {
            FileSource::Bytes(bytes) => self.file(name, filename, content_type, bytes.clone()),
            FileSource::Path(path) => self.file_path(name, filename, content_type, path).await,
        }
    }

    /// Appends an application's [`FilePart`].
    ///
    /// # Errors
    ///
    /// As [`Encoder::file_source`].
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{FilePart, FileSource};
    /// use kyc_transport::multipart::{Boundary, Encoder};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let part = FilePart::new("idFront", "front.jpg", "image/jpeg", FileSource::from_static(b"\xFF\xD8"))?;
    /// let mut encoder = Encoder::new(Boundary::new("b")?);
    /// encoder.file_part(&part).await?;
    /// assert!(encoder.finish().to_bytes().unwrap().starts_with(b"--b\r\nContent-Disposition: form-data; name=\"idFront\""));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn file_part(&mut self, part: &FilePart) -> Result<(), Error> {
        self.file_source(
            part.name(),
            part.filename(),
            part.content_type(),
            part.source(),
        )
        .await
    }

    /// Encodes `texts`, then `files`, with a fresh [`Boundary::random`], drawn again in the
    /// (practically impossible) case that it occurs inside an in-memory part: a signed
    /// application's form, written without copying it into a [`Form`](super::Form) first.
    ///
    /// # Errors
    ///
    /// As [`Encoder::text`] and [`Encoder::file_part`].
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Encoder;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let texts = [("userId", "abc_100008"), ("timestamp", "1774925553256")];
    /// let encoded = Encoder::encode_random(texts.into_iter(), &[]).await?;
    /// assert!(encoded.boundary().as_str().starts_with("kyc"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn encode_random<'a, T>(texts: T, files: &[FilePart]) -> Result<Encoded, Error>
    where
        T: Iterator<Item = (&'a str, &'a str)> + Clone,
    {
        with_random_boundary(|boundary| {
            let texts = texts.clone();
            async move {
                let capacity = texts
                    .clone()
                    .map(|(name, value)| text_room(&boundary, name, value))
                    .chain(files.iter().map(|file| {
                        file_room(
                            &boundary,
                            file.name(),
                            file.filename(),
                            file.content_type(),
                            file.source(),
                        )
                    }))
                    .sum::<usize>()
                    + end_room(&boundary);
                let mut encoder = Encoder::with_capacity(boundary, capacity);
                for (name, value) in texts {
                    encoder.text(name, value)?;
                }
                for file in files {
                    encoder.file_part(file).await?;
                }
                Ok(encoder.finish())
            }
        })
        .await
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

/// Runs `prepare` with fresh random boundaries until one is not refused for occurring inside
/// a part (with 128 random bits, practically the first; at most eight are drawn).
pub(super) async fn with_random_boundary<F, Fut>(mut prepare: F) -> Result<Encoded, Error>
where
    F: FnMut(Boundary) -> Fut,
    Fut: Future<Output = Result<Encoded, Error>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        match prepare(Boundary::random()?).await {
            Err(Error::Invalid(why)) if why.is_boundary_collision() && attempts < 8 => {}
            other => return other,
        }
    }
}

// Room for a form's in-memory bytes, so that one allocation usually holds them: per part the
// delimiter, its line break and the disposition line around the name; a file's head adds its
// filename and content type, and small in-memory files are copied in.

pub(super) fn text_room(boundary: &Boundary, name: &str, value: &str) -> usize {
    boundary.text.len() + 50 + name.len() + value.len()
}

pub(super) fn file_room(
    boundary: &Boundary,
    name: &str,
    filename: &str,
    content_type: &str,
    source: &FileSource,
) -> usize {
    let copied = match source {
        FileSource::Bytes(bytes) if bytes.len() <= COALESCE => bytes.len(),
        FileSource::Bytes(_) | FileSource::Path(_) => 0,
    };
    boundary.text.len() + 82 + name.len() + filename.len() + content_type.len() + copied
}

pub(super) fn end_room(boundary: &Boundary) -> usize {
    boundary.text.len() + 6
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multipart::Form;

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
