//! The signed field list of an application, as it is sent.

use std::fmt;

use kyc_sign::{Signature, SigningKey};

use crate::{Application, FilePart, Timestamp, names, sign_fields};

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
    timestamp: String,
    /// The signature's lowercase hex digits, as sent.
    sign: String,
    signature: Signature,
}

impl<'a> SignedForm<'a> {
    pub(crate) fn new(
        application: &'a Application,
        timestamp: Timestamp,
        key: &SigningKey,
    ) -> Result<Self, kyc_sign::Error> {
        let timestamp = timestamp.to_string();
        let signature = sign_fields(
            application
                .text_fields()
                .chain([(names::TIMESTAMP, timestamp.as_str())]),
            key,
        )?;
        Ok(Self {
            application,
            timestamp,
            sign: signature.to_hex(),
            signature,
        })
    }

    /// The text fields in sending order, `timestamp` and `sign` last.
    pub fn text_fields(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        self.application.text_fields().chain([
            (names::TIMESTAMP, self.timestamp.as_str()),
            (names::SIGN, self.sign.as_str()),
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
        self.application.files()
    }

    /// The signature sent as `sign`.
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
        (fields, self.application.files().to_vec())
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

#[cfg(test)]
mod tests {
    use kyc_sign::SigningKey;

    use super::*;
    use crate::{CallbackUrl, FileSource, Furigana, Timestamp, UserId};

    fn example() -> Application {
        Application::new(
            UserId::new("abc_100008").unwrap(),
            CallbackUrl::new("https://merchant.example.com/api/kyc/callback").unwrap(),
            Furigana::new("テスト014").unwrap(),
        )
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
