//! The secret and the two operations that use it.

use std::fmt;

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::{Canonical, Error, Field, SecretSuffix, Settings, Signature};

/// The app secret that salts every signature.
///
/// The bytes are zeroed when the key is dropped, `Debug` prints `SigningKey(<redacted>)`, and
/// there is deliberately no way to serialise or display it.
///
/// # Examples
///
/// ```
/// use kyc_sign::SigningKey;
///
/// let key = SigningKey::new(String::from("TEST_SECRET_DO_NOT_USE"))?;
/// assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SigningKey {
    secret: Zeroizing<Vec<u8>>,
}

impl SigningKey {
    /// Wraps a secret. A `String` or `Vec<u8>` passed by value is taken over without a copy, so
    /// no stray copy is left behind to outlive the key.
    ///
    /// # Errors
    ///
    /// [`Error::EmptySecret`] for an empty secret: it would make every signature forgeable.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{Error, SigningKey};
    ///
    /// assert!(SigningKey::new("s3cret").is_ok());
    /// assert_eq!(SigningKey::new("").unwrap_err(), Error::EmptySecret);
    /// ```
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, Error> {
        let secret = Zeroizing::new(secret.into());
        if secret.is_empty() {
            return Err(Error::EmptySecret);
        }
        Ok(Self { secret })
    }

    /// Signs the canonical text: MD5 over the text, then the secret as the settings say.
    ///
    /// The text goes to the hasher piece by piece; it is never joined into a `String`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{Canonical, Settings, SigningKey};
    ///
    /// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
    /// let settings = Settings::default();
    /// let canonical = Canonical::new(&[("a", "1"), ("a-b", "2"), ("ab", "3")], &settings)?;
    /// assert_eq!(key.sign(&canonical).to_string(), "9291a402a1f21baf44e580463ac53d7a");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn sign(&self, canonical: &Canonical<'_>) -> Signature {
        let mut md5 = Md5::new();
        for piece in canonical.pieces() {
            md5.update(piece);
        }
        let settings = canonical.settings();
        match &settings.secret_suffix {
            SecretSuffix::Append => md5.update(&*self.secret),
            SecretSuffix::Wrapped { prefix, suffix } => {
                md5.update(&**prefix);
                md5.update(&*self.secret);
                md5.update(&**suffix);
            }
        }
        Signature::from_digest(md5.finalize().into(), settings.hex_case)
    }

    /// Signs `fields` by the rule in `settings`: [`Canonical::new`], then [`SigningKey::sign`].
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateName`], as [`Canonical::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{Settings, SigningKey};
    ///
    /// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
    /// let fields = [("ab", "3"), ("a-b", "2"), ("a", "1"), ("sign", "ignored")];
    /// let signature = key.sign_fields(&fields, &Settings::default())?;
    /// assert_eq!(signature.to_string(), "9291a402a1f21baf44e580463ac53d7a");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sign_fields<'a, I>(&self, fields: I, settings: &'a Settings) -> Result<Signature, Error>
    where
        I: IntoIterator,
        I::Item: Into<Field<'a>>,
    {
        let canonical = Canonical::new(fields, settings)?;
        Ok(self.sign(&canonical))
    }

    /// Checks `provided` (hex, either case) against the signature of `canonical`, in constant
    /// time.
    ///
    /// # Errors
    ///
    /// - [`Error::MalformedSignature`] when `provided` is not 32 hex digits;
    /// - [`Error::Mismatch`] when it is well-formed but wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{Canonical, Error, Settings, SigningKey};
    ///
    /// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
    /// let settings = Settings::default();
    /// let canonical = Canonical::new(&[("timestamp", "1732988442913"), ("userId", "jp_user_100008")], &settings)?;
    /// key.verify(&canonical, "0627c01fe85ccf7fc838ad3ccb0f3de9")?;
    /// assert_eq!(key.verify(&canonical, "0627c01fe85ccf7fc838ad3ccb0f3de8"), Err(Error::Mismatch));
    /// assert!(matches!(key.verify(&canonical, "0627"), Err(Error::MalformedSignature(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify(&self, canonical: &Canonical<'_>, provided: &str) -> Result<(), Error> {
        let provided = Signature::from_hex(provided)?;
        let expected = self.sign(canonical);
        if bool::from(expected.as_bytes().ct_eq(provided.as_bytes())) {
            Ok(())
        } else {
            Err(Error::Mismatch)
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;

    /// Texts of every length over the first few MD5 blocks, with every way of appending the
    /// secret: the streamed pieces hash as the whole salted text does.
    #[test]
    fn pieces_hash_as_the_salted_text_across_block_boundaries() {
        let key = SigningKey::new("k3y").unwrap();
        let wrapped = SecretSuffix::template("&key={secret}&end").unwrap();
        // The bytes besides "a=", "b=" and the value: the separator, or the secret's prefix.
        for (settings, extra, prefix) in [
            (Settings::default(), 0, 0),
            (Settings::default().with_pair_separator("&"), 1, 0),
            (Settings::default().with_secret_suffix(wrapped), 5, 5),
        ] {
            for len in 4 + extra..=260 {
                let value = "v".repeat(len - 4 - extra);
                let fields = [("b", value.as_str()), ("a", "")];
                let settings = settings
                    .clone()
                    .with_empty_values(crate::EmptyValues::Include);
                let canonical = Canonical::new(&fields, &settings).unwrap();
                let salted = match &settings.secret_suffix {
                    SecretSuffix::Append => format!("{canonical}k3y"),
                    SecretSuffix::Wrapped { prefix, suffix } => {
                        format!("{canonical}{prefix}k3y{suffix}")
                    }
                };
                assert_eq!(canonical.to_string().len() + prefix, len);
                assert_eq!(
                    key.sign(&canonical).as_bytes(),
                    Md5::digest(&salted).as_slice(),
                    "{len}"
                );
            }
        }
    }

    #[test]
    fn sign_fields_is_canonical_then_sign() {
        let key = SigningKey::new("k3y").unwrap();
        let settings = Settings::default();
        let fields = [("b", "2"), ("sign", "x"), ("a", "1"), ("c", "")];
        let canonical = Canonical::new(&fields, &settings).unwrap();
        assert_eq!(
            key.sign_fields(&fields, &settings),
            Ok(key.sign(&canonical))
        );
        assert_eq!(
            key.sign_fields(&[("a", "1"), ("a", "2")], &settings),
            Err(Error::DuplicateName { name: "a".into() })
        );
    }

    #[test]
    fn long_secret_is_streamed_whole() {
        let secret = "k".repeat(1000);
        let key = SigningKey::new(secret.clone()).unwrap();
        let settings = Settings::default();
        let canonical = Canonical::new(&[("a", "1")], &settings).unwrap();
        let expected = Md5::digest(format!("a=1{secret}"));
        assert_eq!(key.sign(&canonical).as_bytes(), expected.as_slice());
    }
}
