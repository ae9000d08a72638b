//! The secret and the two operations that use it.

use std::convert::Infallible;
use std::fmt;

use md5::Md5Core;
use md5::digest::Output;
use md5::digest::core_api::{Block, Buffer, FixedOutputCore, UpdateCore};
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
                sink.write(b"=");
                sink.write(value.as_bytes());
                Ok::<(), Infallible>(())
            })
            .unwrap_or_else(|never| match never {});
        let digest = match &settings.secret_suffix {
            SecretSuffix::Append => sink.finish(&self.secret, b""),
            SecretSuffix::Wrapped { prefix, suffix } => {
                sink.write(prefix.as_bytes());
                sink.finish(&self.secret, suffix.as_bytes())
            }
        };
        Signature::from_digest(digest, settings.hex_case)
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

/// Feeds the many short pieces of the signed text to MD5 a block at a time: each piece is
/// copied once, into the block being filled, and a full block goes straight to the compression
/// function (no second buffer, no per-piece call into the hasher).
///
/// The secret never enters the sink's block: [`HashSink::finish`] hands it to md-5's own
/// buffer, as a plain `Md5::update` would.
struct HashSink {
    core: Md5Core,
    block: Block<Md5Core>,
    len: usize,
}

impl HashSink {
    const BLOCK: usize = 64;

    fn new() -> Self {
        Self {
            core: Md5Core::default(),
            block: Block::<Md5Core>::default(),
            len: 0,
        }
    }

    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if end < Self::BLOCK {
            self.block[self.len..end].copy_from_slice(bytes);
            self.len = end;
        } else {
            self.write_across(bytes);
        }
    }

    /// Completes the block, compresses it and every whole block of `bytes` that follows, and
    /// keeps the rest.
    fn write_across(&mut self, bytes: &[u8]) {
        let (head, rest) = bytes.split_at(Self::BLOCK - self.len);
        self.block[self.len..].copy_from_slice(head);
        self.core.update_blocks(std::slice::from_ref(&self.block));
        let mut blocks = rest.chunks_exact(Self::BLOCK);
        for block in &mut blocks {
            self.core
                .update_blocks(std::slice::from_ref(Block::<Md5Core>::from_slice(block)));
        }
        let tail = blocks.remainder();
        self.block[..tail.len()].copy_from_slice(tail);
        self.len = tail.len();
    }

    /// Hashes `secret` then `suffix` after what was written, and returns the digest.
    fn finish(mut self, secret: &[u8], suffix: &[u8]) -> [u8; 16] {
        let mut buffer = Buffer::<Md5Core>::new(&self.block[..self.len]);
        let core = &mut self.core;
        buffer.digest_blocks(secret, |blocks| core.update_blocks(blocks));
        if !suffix.is_empty() {
            buffer.digest_blocks(suffix, |blocks| core.update_blocks(blocks));
        }
        let mut digest = Output::<Md5Core>::default();
        self.core.finalize_fixed_core(&mut buffer, &mut digest);
        digest.into()
    }
}

#[cfg(test)]
mod tests {
    use md5::{Digest, Md5};

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
            sink.write(b"=");
            sink.write(tail);
            let digest = sink.finish(b"", b"");
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
