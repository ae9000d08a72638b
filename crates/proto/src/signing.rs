//! Signing and checking field lists with the provider's settings.

use kyc_sign::{Canonical, Field, Settings, Signature, SigningKey};

/// The provider's rule: fields sorted by name, empty values skipped, `sign` excluded, the app
/// secret appended, MD5 in lowercase hex.
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
