//! The KYC application (`kycApplyFor`): its fields, its files, and the signed field list.

use std::fmt;

use kyc_sign::{Field, SigningKey};

use crate::{
    CallbackUrl, Furigana, Sensitive, Timestamp, UserId, ValidationError, ValidationKind, names,
};

mod file;
mod form;

pub use file::{FilePart, FileSource};
pub use form::SignedForm;

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
    pub fn signed_form(
        &self,
        timestamp: Timestamp,
        key: &SigningKey,
    ) -> Result<SignedForm<'_>, kyc_sign::Error> {
        SignedForm::new(self, timestamp, key)
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
pub(crate) fn check_part_name(field: &'static str, name: &str) -> Result<(), ValidationError> {
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

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use kyc_sign::SigningKey;

    use super::*;
    use crate::FileSource;

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
}
