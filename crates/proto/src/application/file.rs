//! The document files of the older application form.

use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::check_part_name;
use crate::{Sensitive, ValidationError, ValidationKind};

/// Where a file part's content comes from.
///
/// # Examples
///
/// ```
/// use kyc_proto::FileSource;
///
/// let in_memory = FileSource::Bytes(bytes::Bytes::from_static(b"%PDF-1.7"));
/// let on_disk = FileSource::Path("/tmp/passport.pdf".into());
/// assert!(format!("{in_memory:?}").contains("8 bytes"));
/// assert_eq!(FileSource::from(vec![1, 2, 3]), FileSource::Bytes(vec![1, 2, 3].into()));
/// assert_eq!(FileSource::from(std::path::PathBuf::from("/tmp/passport.pdf")), on_disk);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum FileSource {
    /// Content already in memory (cheap to clone).
    Bytes(Bytes),
    /// A file the transport reads when it sends (this crate does no I/O).
    Path(PathBuf),
}

/// Content and paths may be personal data: `Debug` shows the length or the kind only.
impl fmt::Debug for FileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            Self::Path(_) => f.write_str("Path(<redacted>)"),
        }
    }
}

impl From<Bytes> for FileSource {
    fn from(bytes: Bytes) -> Self {
        Self::Bytes(bytes)
    }
}

impl From<Vec<u8>> for FileSource {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Bytes(bytes.into())
    }
}

impl From<&'static [u8]> for FileSource {
    fn from(bytes: &'static [u8]) -> Self {
        Self::Bytes(Bytes::from_static(bytes))
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

impl FileSource {
    /// In-memory content from a static slice.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::FileSource;
    ///
    /// assert_eq!(FileSource::from_static(b"\x89PNG"), FileSource::Bytes(bytes::Bytes::from_static(b"\x89PNG")));
    /// ```
    #[must_use]
    pub fn from_static(bytes: &'static [u8]) -> Self {
        Self::Bytes(Bytes::from_static(bytes))
    }
}

/// A document file of the older application form: field name, filename, content type and
/// content. Not signed.
///
/// # Examples
///
/// ```
/// use kyc_proto::{FilePart, FileSource};
///
/// let part = FilePart::new("idFront", "front.jpg", "image/jpeg", FileSource::Path("front.jpg".into()))?;
/// assert_eq!(part.name(), "idFront");
/// assert_eq!(part.content_type(), "image/jpeg");
/// assert!(FilePart::new("sign", "a.jpg", "image/jpeg", FileSource::Bytes(Default::default())).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct FilePart {
    name: String,
    filename: Sensitive<String>,
    content_type: String,
    source: FileSource,
}

impl FilePart {
    /// A file part, checked so that it can be written into a multipart header as it is.
    ///
    /// Rules: `name` as for [`Application::with_text_field`](crate::Application::with_text_field); `filename` 1 to 255 bytes
    /// without control characters, `"` or `\`; `content_type` 3 to 255 bytes of printable
    /// ASCII (spaces allowed for parameters) holding a `/`.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] for `file part`, with [`ValidationError::name`] set.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{FilePart, FileSource};
    ///
    /// let err = FilePart::new("doc", "a\"b.pdf", "application/pdf", FileSource::Bytes(Default::default())).unwrap_err();
    /// assert_eq!(err.position(), Some(1));
    /// ```
    pub fn new(
        name: impl Into<String>,
        filename: impl Into<String>,
        content_type: impl Into<String>,
        source: FileSource,
    ) -> Result<Self, ValidationError> {
        const FIELD: &str = "file part";
        let name = name.into();
        let filename = filename.into();
        let content_type = content_type.into();
        check_part_name(FIELD, &name)?;
        if filename.is_empty() {
            return Err(ValidationError::named(FIELD, &name, ValidationKind::Empty));
        }
        if let Some((position, found)) = filename
            .chars()
            .enumerate()
            .find(|(_, c)| c.is_control() || matches!(c, '"' | '\\'))
        {
            return Err(ValidationError::named(
                FIELD,
                &name,
                ValidationKind::InvalidChar {
                    position,
                    found,
                    expected: "allowed in a filename (no control character, quote or backslash)",
                },
            ));
        }
        if filename.len() > 255 {
            return Err(ValidationError::named(
                FIELD,
                &name,
                ValidationKind::TooLong { max: 255 },
            ));
        }
        let content_type_ok = (3..=255).contains(&content_type.len())
            && content_type.bytes().all(|b| matches!(b, b' '..=b'~'))
            && content_type
                .split_once('/')
                .is_some_and(|(kind, sub)| !kind.is_empty() && !sub.is_empty());
        if !content_type_ok {
            return Err(ValidationError::named(
                FIELD,
                &name,
                ValidationKind::Format {
                    rule: "the content type must look like type/subtype",
                },
            ));
        }
        Ok(Self {
            name,
            filename: Sensitive::new(filename),
            content_type,
            source,
        })
    }

    /// The form field name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The filename sent in `Content-Disposition`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{FilePart, FileSource};
    ///
    /// let part = FilePart::new("doc", "a.pdf", "application/pdf", FileSource::Bytes(Default::default()))?;
    /// assert_eq!(part.filename(), "a.pdf");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn filename(&self) -> &str {
        self.filename.expose()
    }

    /// The content type.
    #[must_use]
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// Where the content comes from.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{FilePart, FileSource};
    ///
    /// let part = FilePart::new("doc", "a.pdf", "application/pdf", FileSource::Bytes(vec![1, 2].into()))?;
    /// assert!(matches!(part.source(), FileSource::Bytes(b) if b.len() == 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn source(&self) -> &FileSource {
        &self.source
    }
}

/// Filenames may be personal data: `Debug` redacts them.
impl fmt::Debug for FilePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilePart")
            .field("name", &self.name)
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("source", &self.source)
            .finish()
    }
}
