//! The KYC application (`kycApplyFor`): its fields, its files, and the signed field list.

use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use kyc_sign::{Canonical, Field, Settings, Signature, SigningKey};

use crate::{
    CallbackUrl, Furigana, Sensitive, Timestamp, UserId, ValidationError, ValidationKind, names,
};

/// The provider's rule: empty values skipped, `sign` excluded, lowercase hex
/// (`PROVIDER.md`, "Signature").
pub(crate) static PROVIDER_SETTINGS: Settings = Settings::new();

/// Signs `fields` with the provider's default [`Settings`]: every field except `sign`, empty
/// values skipped, sorted by name, MD5 with the secret appended, lowercase hex.
///
/// # Errors
///
/// [`kyc_sign::Error::DuplicateName`] when a name repeats.
///
/// # Examples
///
/// ```
/// use kyc_sign::SigningKey;
///
/// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
/// let signature = kyc_proto::sign_fields(
///     [("timestamp", "1732988442913"), ("userId", "jp_user_100008")],
///     &key,
/// )?;
/// assert_eq!(signature.to_string(), "0627c01fe85ccf7fc838ad3ccb0f3de9");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign_fields<'a, I>(fields: I, key: &SigningKey) -> Result<Signature, kyc_sign::Error>
where
    I: IntoIterator,
    I::Item: Into<Field<'a>>,
{
    key.sign_fields(fields, &PROVIDER_SETTINGS)
}

/// Checks `provided` against the signature of `fields` (a `sign` among them is ignored), with
/// the provider's default [`Settings`], in constant time. For the sandbox's request checks.
///
/// # Errors
///
/// [`kyc_sign::Error::Mismatch`], [`kyc_sign::Error::MalformedSignature`] or
/// [`kyc_sign::Error::DuplicateName`].
///
/// # Examples
///
/// ```
/// use kyc_sign::SigningKey;
///
/// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
/// let fields = [("sign", "0627c01fe85ccf7fc838ad3ccb0f3de9"), ("timestamp", "1732988442913"), ("userId", "jp_user_100008")];
/// kyc_proto::verify_fields(fields, "0627c01fe85ccf7fc838ad3ccb0f3de9", &key)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify_fields<'a, I>(
    fields: I,
    provided: &str,
    key: &SigningKey,
) -> Result<(), kyc_sign::Error>
where
    I: IntoIterator,
    I::Item: Into<Field<'a>>,
{
    let canonical = Canonical::new(fields, &PROVIDER_SETTINGS)?;
    key.verify(&canonical, provided)
}

/// A KYC 2.0 application: who, where to report, and the name in katakana; plus, for the older
/// application form, extra text fields and file parts.
///
/// Every part is validated when it is added, so an `Application` that exists can be sent.
/// The client adds `timestamp` and `sign` with [`Application::signed_form`].
///
/// # Examples
///
/// ```
/// use kyc_proto::{Application, CallbackUrl, Furigana, Timestamp, UserId};
/// use kyc_sign::SigningKey;
///
/// let application = Application::new(
///     UserId::new("abc_100008")?,
///     CallbackUrl::new("https://merchant.example.com/api/kyc/callback")?,
///     Furigana::new("テスト014")?,
/// );
/// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
/// let form = application.signed_form(Timestamp::from_millis(1_774_925_553_256), &key)?;
/// assert_eq!(form.signature().to_string(), "a7d716ba378b31496f33c18807b4d4f5");
/// let names: Vec<_> = form.text_fields().map(|(name, _)| name).collect();
/// assert_eq!(names, ["userId", "callBackUrl", "usernameFurigana", "timestamp", "sign"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct Application {
    user_id: UserId,
    callback_url: CallbackUrl,
    furigana: Furigana,
    extra: Vec<(String, Sensitive<String>)>,
    files: Vec<FilePart>,
}

impl Application {
    /// The longest extra text value accepted, in bytes.
    pub const MAX_TEXT_VALUE_LEN: usize = 64 * 1024;

    /// An application with the three fields of the 2.0 request.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{Application, CallbackUrl, Furigana, UserId};
    ///
    /// let application = Application::new(
    ///     UserId::new("abc_100008")?,
    ///     CallbackUrl::new("https://merchant.example.com/kyc")?,
    ///     Furigana::new("テスト")?,
    /// );
    /// assert_eq!(application.user_id().as_str(), "abc_100008");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(user_id: UserId, callback_url: CallbackUrl, furigana: Furigana) -> Self {
        Self {
            user_id,
            callback_url,
            furigana,
            extra: Vec::new(),
            files: Vec::new(),
        }
    }

    /// Adds a signed text field of the older application form (`usernameKanji`,
    /// `dateOfBirth`, ...). The value is sent and signed exactly as given, and treated as
    /// personal data.
    ///
    /// Name rule: 1 to 64 bytes of ASCII letters, digits, `_`, `-`, `.`, `[` and `]` (safe in a
    /// multipart header without quoting rules), not one of [`names::RESERVED`], not given twice.
    /// Value rule: not empty (**policy**: an empty field is never sent, so both readings of the
    /// provider's empty-value rule sign the same text), at most 64 KiB.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] for `text field`, with [`ValidationError::name`] set.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{Application, CallbackUrl, Furigana, UserId, ValidationKind};
    ///
    /// let application = Application::new(
    ///     UserId::new("abc_100008")?,
    ///     CallbackUrl::new("https://merchant.example.com/kyc")?,
    ///     Furigana::new("テスト")?,
    /// )
    /// .with_text_field("dateOfBirth", "19900101")?
    /// .with_text_field("nationality", "JP")?;
    /// assert_eq!(application.text_fields().count(), 5);
    ///
    /// let err = application.clone().with_text_field("phone", "").unwrap_err();
    /// assert_eq!(err.kind(), &ValidationKind::Empty);
    /// let err = application.with_text_field("userId", "x").unwrap_err();
    /// assert_eq!(err.kind(), &ValidationKind::Reserved);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_text_field(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, ValidationError> {
        const FIELD: &str = "text field";
        let name = name.into();
        let value = value.into();
        check_part_name(FIELD, &name)?;
        if self.extra.iter().any(|(existing, _)| *existing == name) {
            return Err(ValidationError::named(
                FIELD,
                &name,
                ValidationKind::Duplicate,
            ));
        }
        if value.is_empty() {
            return Err(ValidationError::named(FIELD, &name, ValidationKind::Empty));
        }
        if value.len() > Self::MAX_TEXT_VALUE_LEN {
            return Err(ValidationError::named(
                FIELD,
                &name,
                ValidationKind::TooLong {
                    max: Self::MAX_TEXT_VALUE_LEN,
                },
            ));
        }
        self.extra.push((name, Sensitive::new(value)));
        Ok(self)
    }

    /// Adds a file part. File content is not signed (the older application page says so).
    /// Several parts may share a name; [`FilePart::new`] already refused the reserved names.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{Application, CallbackUrl, FilePart, FileSource, Furigana, UserId};
    ///
    /// let part = FilePart::new("idFront", "front.jpg", "image/jpeg", FileSource::Bytes(vec![0xFF, 0xD8].into()))?;
    /// let application = Application::new(
    ///     UserId::new("abc_100008")?,
    ///     CallbackUrl::new("https://merchant.example.com/kyc")?,
    ///     Furigana::new("テスト")?,
    /// )
    /// .with_file(part);
    /// assert_eq!(application.files().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_file(mut self, part: FilePart) -> Self {
        self.files.push(part);
        self
    }

    /// Rebuilds an application from received text fields (the sandbox's side): `userId`,
    /// `callBackUrl` (http allowed, since a sandbox talks to local receivers) and
    /// `usernameFurigana` are required; `sign` and `timestamp` are skipped; any other field
    /// becomes an extra text field. File parts are the caller's to add.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] when a field is missing, given twice, or breaks its rule.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::Application;
    ///
    /// let application = Application::from_text_fields([
    ///     ("userId", "abc_100008"),
    ///     ("callBackUrl", "https://merchant.example.com/api/kyc/callback"),
    ///     ("usernameFurigana", "テスト014"),
    ///     ("timestamp", "1774925553256"),
    ///     ("sign", "a7d716ba378b31496f33c18807b4d4f5"),
    /// ])?;
    /// assert_eq!(application.furigana().as_str(), "テスト014");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_text_fields<'a, I>(fields: I) -> Result<Self, ValidationError>
    where
        I: IntoIterator,
        I::Item: Into<Field<'a>>,
    {
        let mut user_id = None;
        let mut callback_url = None;
        let mut furigana = None;
        let mut extra: Vec<(&str, &str)> = Vec::new();
        let mut seen_meta = [false; 2];
        for field in fields {
            let field: Field<'a> = field.into();
            let (name, value) = (field.name(), field.value());
            let duplicate =
                |name: &'static str| Err(ValidationError::new(name, ValidationKind::Duplicate));
            match name {
                names::USER_ID if user_id.is_some() => return duplicate(names::USER_ID),
                names::USER_ID => user_id = Some(UserId::new(value)?),
                names::CALLBACK_URL if callback_url.is_some() => {
                    return duplicate(names::CALLBACK_URL);
                }
                names::CALLBACK_URL => callback_url = Some(CallbackUrl::new_allow_http(value)?),
                names::USERNAME_FURIGANA if furigana.is_some() => {
                    return duplicate(names::USERNAME_FURIGANA);
                }
                names::USERNAME_FURIGANA => furigana = Some(Furigana::new(value)?),
                names::SIGN | names::TIMESTAMP => {
                    let index = usize::from(name == names::TIMESTAMP);
                    if seen_meta[index] {
                        return duplicate(if index == 1 {
                            names::TIMESTAMP
                        } else {
                            names::SIGN
                        });
                    }
                    seen_meta[index] = true;
                }
                _ => extra.push((name, value)),
            }
        }
        let missing = |name| ValidationError::new(name, ValidationKind::Missing);
        let mut application = Self::new(
            user_id.ok_or_else(|| missing(names::USER_ID))?,
            callback_url.ok_or_else(|| missing(names::CALLBACK_URL))?,
            furigana.ok_or_else(|| missing(names::USERNAME_FURIGANA))?,
        );
        for (name, value) in extra {
            application = application.with_text_field(name, value)?;
        }
        Ok(application)
    }

    /// The user identifier.
    ///
    /// # Examples
    ///
    /// See [`Application::new`].
    #[must_use]
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// The callback URL.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{Application, CallbackUrl, Furigana, UserId};
    ///
    /// let url = CallbackUrl::new("https://merchant.example.com/kyc")?;
    /// let application = Application::new(UserId::new("u")?, url.clone(), Furigana::new("ア")?);
    /// assert_eq!(application.callback_url(), &url);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn callback_url(&self) -> &CallbackUrl {
        &self.callback_url
    }

    /// The name in katakana.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{Application, CallbackUrl, Furigana, UserId};
    ///
    /// let url = CallbackUrl::new("https://merchant.example.com/kyc")?;
    /// let application = Application::new(UserId::new("u")?, url, Furigana::new("ア")?);
    /// assert_eq!(application.furigana().as_str(), "ア");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn furigana(&self) -> &Furigana {
        &self.furigana
    }

    /// Every signed text field except `timestamp` and `sign`: `userId`, `callBackUrl`,
    /// `usernameFurigana`, then the extra fields in the order they were added.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{Application, CallbackUrl, Furigana, UserId};
    ///
    /// let url = CallbackUrl::new("https://merchant.example.com/kyc")?;
    /// let application = Application::new(UserId::new("u")?, url, Furigana::new("ア")?);
    /// let fields: Vec<_> = application.text_fields().collect();
    /// assert_eq!(fields[0], ("userId", "u"));
    /// assert_eq!(fields[2], ("usernameFurigana", "ア"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn text_fields(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        [
            (names::USER_ID, self.user_id.as_str()),
            (names::CALLBACK_URL, self.callback_url.as_str()),
            (names::USERNAME_FURIGANA, self.furigana.as_str()),
        ]
        .into_iter()
        .chain(
            self.extra
                .iter()
                .map(|(name, value)| (name.as_str(), value.expose().as_str())),
        )
    }

    /// The file parts, in the order they were added.
    ///
    /// # Examples
    ///
    /// See [`Application::with_file`].
    #[must_use]
    pub fn files(&self) -> &[FilePart] {
        &self.files
    }

    /// The complete field list to send at `timestamp`, signed with `key`: the text fields of
    /// [`Self::text_fields`], then `timestamp`, then `sign` computed over exactly those fields,
    /// plus the file parts (not signed). Hand the list to the multipart encoder as it is, so
    /// that what is signed is what is sent.
    ///
    /// # Errors
    ///
    /// Only [`kyc_sign::Error::DuplicateName`], which the validated field names rule out.
    ///
    /// # Examples
    ///
    /// See [`Application`].
    pub fn signed_form(
        &self,
        timestamp: Timestamp,
        key: &SigningKey,
    ) -> Result<SignedForm<'_>, kyc_sign::Error> {
        let timestamp = Digits::new(timestamp.as_millis());
        let signature = sign_fields(
            self.text_fields()
                .chain([(names::TIMESTAMP, timestamp.as_str())]),
            key,
        )?;
        let mut sign = [0; 32];
        signature.encode_hex(&mut sign);
        Ok(SignedForm {
            application: self,
            timestamp,
            sign,
            signature,
        })
    }
}

/// Values are personal data: `Debug` shows the user id and the names of the extra parts only.
impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Application")
            .field("user_id", &self.user_id)
            .field("callback_url", &self.callback_url)
            .field("furigana", &self.furigana)
            .field(
                "extra_fields",
                &self.extra.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            )
            .field("files", &self.files)
            .finish()
    }
}

/// Checks the name of an extra text field or a file part.
fn check_part_name(field: &'static str, name: &str) -> Result<(), ValidationError> {
    const MAX: usize = 64;
    if name.is_empty() {
        return Err(ValidationError::named(field, name, ValidationKind::Empty));
    }
    if let Some((position, found)) = name
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']')))
    {
        return Err(ValidationError::named(
            field,
            name,
            ValidationKind::InvalidChar {
                position,
                found,
                expected: "an ASCII letter, digit, '_', '-', '.', '[' or ']'",
            },
        ));
    }
    if name.len() > MAX {
        return Err(ValidationError::named(
            field,
            name,
            ValidationKind::TooLong { max: MAX },
        ));
    }
    if names::RESERVED.contains(&name) {
        return Err(ValidationError::named(
            field,
            name,
            ValidationKind::Reserved,
        ));
    }
    Ok(())
}

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
    /// Rules: `name` as for [`Application::with_text_field`]; `filename` 1 to 255 bytes
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
    ///
    /// # Examples
    ///
    /// See [`FilePart`].
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
    ///
    /// # Examples
    ///
    /// See [`FilePart`].
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

/// The exact text fields to send (with `timestamp` and `sign`) and the file parts.
///
/// Built by [`Application::signed_form`]; the signature covers [`Self::text_fields`] minus
/// `sign`, so an encoder that writes this list writes what was signed.
///
/// # Examples
///
/// ```
/// use kyc_proto::{Application, CallbackUrl, Furigana, Timestamp, UserId};
/// use kyc_sign::SigningKey;
///
/// let application = Application::new(
///     UserId::new("abc_100008")?,
///     CallbackUrl::new("https://merchant.example.com/api/kyc/callback")?,
///     Furigana::new("テスト014")?,
/// );
/// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
/// let form = application.signed_form(Timestamp::from_millis(1_774_925_553_256), &key)?;
/// let last = form.text_fields().last();
/// assert_eq!(last, Some(("sign", "a7d716ba378b31496f33c18807b4d4f5")));
/// kyc_proto::verify_fields(form.text_fields(), &form.signature().to_hex(), &key)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SignedForm<'a> {
    application: &'a Application,
    timestamp: Digits,
    /// The signature's lowercase hex digits, as sent.
    sign: [u8; 32],
    signature: Signature,
}

impl<'a> SignedForm<'a> {
    /// The text fields in sending order, `timestamp` and `sign` last.
    ///
    /// # Examples
    ///
    /// See [`SignedForm`].
    pub fn text_fields(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        let sign = std::str::from_utf8(&self.sign).expect("hex digits are ASCII");
        self.application.text_fields().chain([
            (names::TIMESTAMP, self.timestamp.as_str()),
            (names::SIGN, sign),
        ])
    }

    /// The file parts, not signed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_proto::{Application, CallbackUrl, Furigana, Timestamp, UserId};
    /// # let application = Application::new(UserId::new("u")?, CallbackUrl::new("https://a.example")?, Furigana::new("ア")?);
    /// # let key = kyc_sign::SigningKey::new("k")?;
    /// let form = application.signed_form(Timestamp::from_millis(1), &key)?;
    /// assert!(form.files().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn files(&self) -> &'a [FilePart] {
        &self.application.files
    }

    /// The signature sent as `sign`.
    ///
    /// # Examples
    ///
    /// See [`SignedForm`].
    #[must_use]
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The parts as owned values, for an encoder that takes ownership.
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_proto::{Application, CallbackUrl, Furigana, Timestamp, UserId};
    /// # let application = Application::new(UserId::new("u")?, CallbackUrl::new("https://a.example")?, Furigana::new("ア")?);
    /// # let key = kyc_sign::SigningKey::new("k")?;
    /// let (fields, files) = application.signed_form(Timestamp::from_millis(1), &key)?.into_parts();
    /// assert_eq!(fields.len(), 5);
    /// assert!(files.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn into_parts(self) -> (Vec<(String, String)>, Vec<FilePart>) {
        let fields = self
            .text_fields()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        (fields, self.application.files.clone())
    }
}

/// Values are personal data: `Debug` lists the field names and the files only.
impl fmt::Debug for SignedForm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedForm")
            .field(
                "fields",
                &self.text_fields().map(|(name, _)| name).collect::<Vec<_>>(),
            )
            .field("files", &self.files())
            .field("signature", &self.signature)
            .finish()
    }
}

/// The decimal digits of a `u64`, kept inline: a timestamp's text without an allocation.
#[derive(Clone, Copy)]
struct Digits {
    bytes: [u8; 20],
    start: usize,
}

impl Digits {
    fn new(mut value: u64) -> Self {
        let mut bytes = [b'0'; 20];
        let mut start = bytes.len();
        loop {
            start -= 1;
            bytes[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        Self { bytes, start }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[self.start..]).expect("ASCII digits")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Application {
        Application::new(
            UserId::new("abc_100008").unwrap(),
            CallbackUrl::new("https://merchant.example.com/api/kyc/callback").unwrap(),
            Furigana::new("テスト014").unwrap(),
        )
    }

    #[test]
    fn debug_redacts_personal_data() {
        let application = example()
            .with_text_field("usernameKanji", "山田太郎")
            .unwrap()
            .with_file(
                FilePart::new(
                    "doc",
                    "yamada.pdf",
                    "application/pdf",
                    FileSource::Bytes(Bytes::from_static(b"secret")),
                )
                .unwrap(),
            );
        let key = SigningKey::new("k").unwrap();
        let form = application
            .signed_form(Timestamp::from_millis(1), &key)
            .unwrap();
        for text in [format!("{application:?}"), format!("{form:#?}")] {
            for leak in ["テスト", "山田", "yamada", "secret"] {
                assert!(!text.contains(leak), "{leak} in {text}");
            }
            assert!(text.contains("usernameKanji"));
        }
        assert!(!format!("{form:?}").contains(&form.signature().to_hex()));
    }

    #[test]
    fn part_names_are_checked() {
        assert!(example().with_text_field("", "x").is_err());
        assert!(example().with_text_field("a b", "x").is_err());
        assert!(example().with_text_field("a".repeat(65), "x").is_err());
        assert!(example().with_text_field("files[0]", "x").is_ok());
        let twice = example()
            .with_text_field("a", "1")
            .unwrap()
            .with_text_field("a", "2");
        assert_eq!(twice.unwrap_err().kind(), &ValidationKind::Duplicate);
        for reserved in names::RESERVED {
            assert!(example().with_text_field(reserved, "x").is_err());
        }
    }

    #[test]
    fn from_text_fields_reports_missing_and_duplicates() {
        let err = Application::from_text_fields([("userId", "u")]).unwrap_err();
        assert_eq!(err.field(), "callBackUrl");
        assert_eq!(err.kind(), &ValidationKind::Missing);
        let err = Application::from_text_fields([("userId", "u"), ("userId", "v")]).unwrap_err();
        assert_eq!(err.kind(), &ValidationKind::Duplicate);
        let err =
            Application::from_text_fields([("timestamp", "1"), ("timestamp", "1")]).unwrap_err();
        assert_eq!(err.field(), "timestamp");
    }

    #[test]
    fn signed_form_signs_extras_and_not_files() {
        let key = SigningKey::new("TEST_SECRET_DO_NOT_USE").unwrap();
        let at = Timestamp::from_millis(1_774_925_553_256);
        let plain = example();
        let plain = plain.signed_form(at, &key).unwrap();
        let with_file = example().with_file(
            FilePart::new(
                "doc",
                "a.pdf",
                "application/pdf",
                FileSource::Path("a".into()),
            )
            .unwrap(),
        );
        let with_file = with_file.signed_form(at, &key).unwrap();
        assert_eq!(plain.signature(), with_file.signature());
        assert_eq!(with_file.files().len(), 1);
        let with_text = example().with_text_field("nationality", "JP").unwrap();
        let with_text = with_text.signed_form(at, &key).unwrap();
        assert_ne!(plain.signature(), with_text.signature());
    }
}
