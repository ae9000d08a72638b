//! The secret and the two operations that use it.

use std::convert::Infallible;
use std::fmt;

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::{Canonical, Error, SecretSuffix, Signature};

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
    /// The text is streamed into the hasher through a small stack buffer; no joined `String` is
    /// built and nothing is allocated.
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
        let settings = canonical.settings();
        let mut sink = HashSink::new();
        canonical
            .stream(|separator, name, value| {
                if !separator.is_empty() {
                    sink.write(separator.as_bytes());
                }
                sink.write(name.as_bytes());
                sink.push(b'=');
                sink.write(value.as_bytes());
                Ok::<(), Infallible>(())
            })
            .unwrap_or_else(|never| match never {});
        // The secret goes straight to the hasher, never through the sink's buffer, so no copy of
        // it is left in memory this crate owns.
        let mut hasher = sink.into_hasher();
        match &settings.secret_suffix {
            SecretSuffix::Append => hasher.update(&*self.secret),
            SecretSuffix::Wrapped { prefix, suffix } => {
                hasher.update(prefix.as_bytes());
                hasher.update(&*self.secret);
                hasher.update(suffix.as_bytes());
            }
        }
        Signature::from_digest(hasher.finalize().into(), settings.hex_case)
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

/// Gathers the many short pieces of the signed text into one buffer before hashing, so that
/// the hasher sees a few large updates instead of one per `name`, `=` and `value`.
struct HashSink {
    hasher: Md5,
    buf: [u8; Self::CAPACITY],
    len: usize,
}

impl HashSink {
    /// Four MD5 blocks: the whole 2.0 request fits, so it is hashed in one update.
    const CAPACITY: usize = 256;

    fn new() -> Self {
        Self {
            hasher: Md5::new(),
            buf: [0; Self::CAPACITY],
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, byte: u8) {
        if self.len == Self::CAPACITY {
            self.hasher.update(self.buf);
            self.len = 0;
        }
        self.buf[self.len] = byte;
        self.len += 1;
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if end <= Self::CAPACITY {
            self.buf[self.len..end].copy_from_slice(bytes);
            self.len = end;
            return;
        }
        // Too long to gather: hash what is gathered, then the piece itself.
        self.hasher.update(&self.buf[..self.len]);
        self.len = 0;
        self.hasher.update(bytes);
    }

    fn into_hasher(mut self) -> Md5 {
        self.hasher.update(&self.buf[..self.len]);
        self.hasher
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;

    #[test]
    fn sink_matches_one_shot_md5_across_buffer_boundaries() {
        let data: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
        for split in [0, 1, 63, 64, 255, 256, 257, 511, 1000, 2000] {
            let mut sink = HashSink::new();
            let (head, tail) = data.split_at(split);
            for chunk in head.chunks(7) {
                sink.write(chunk);
            }
            sink.push(b'=');
            sink.write(tail);
            let digest: [u8; 16] = sink.into_hasher().finalize().into();
            let mut expected = data.clone();
            expected.insert(split, b'=');
            assert_eq!(
                digest,
                <[u8; 16]>::from(Md5::digest(&expected)),
                "split {split}"
            );
        }
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
