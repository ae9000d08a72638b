//! [`Form`]: an owned list of text and file parts.

use std::fmt;

use bytes::{Bytes, BytesMut};
use http::HeaderValue;

use super::encoder::{end_room, file_room, text_room, with_random_boundary};
use super::{Boundary, Encoded, Encoder, FileSource};
use crate::error::{Error, InvalidKind};

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
    /// [module docs](super)), when the boundary occurs inside a part, or when a part is read from
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
                } => {
                    encoder
                        .file_source(&part.name, filename, content_type, source)
                        .await?;
                }
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
        with_random_boundary(|boundary| async move { self.prepare(&boundary).await }).await
    }

    /// The in-memory bytes of the encoded form, so that one allocation usually holds them.
    fn estimate(&self, boundary: &Boundary) -> usize {
        let parts = self.parts.iter().map(|part| match &part.content {
            Content::Text(value) => text_room(boundary, &part.name, value),
            Content::File {
                filename,
                content_type,
                source,
            } => file_room(boundary, &part.name, filename, content_type, source),
        });
        parts.sum::<usize>() + end_room(boundary)
    }
}
