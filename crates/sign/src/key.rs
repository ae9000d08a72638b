//! The secret and the two operations that use it.

use std::convert::Infallible;
use std::fmt;

use md5::Md5Core;
use md5::digest::Output;
use md5::digest::core_api::{Block, Buffer, FixedOutputCore, UpdateCore};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::canonical::key_index;
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
    /// No joined `String` is built and nothing is allocated. A text of up to 192 bytes (every
    /// request and callback of the KYC API) is laid out in a stack buffer with inline copies and
    /// hashed from there; a longer one is streamed into the hasher a block at a time.
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
        let digest = self
            .digest_short(canonical)
            .unwrap_or_else(|| self.digest_streamed(canonical));
        Signature::from_digest(digest, canonical.settings().hex_case)
    }

    /// Signs `fields` by the rule in `settings`: [`Canonical::new`] then [`SigningKey::sign`],
    /// in one step. It is the faster way to sign when the canonical text is not wanted for
    /// anything else: the sorted field list is built where it is hashed, not returned.
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
        let mut canonical = Canonical::empty(settings);
        canonical.fill(fields)?;
        // The same as `sign`, spelled out so that the short path is compiled into this function
        // with the filling: measured a few per cent faster than a call to `sign`.
        let digest = self
            .digest_short(&canonical)
            .unwrap_or_else(|| self.digest_streamed(&canonical));
        Ok(Signature::from_digest(digest, settings.hex_case))
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

impl SigningKey {
    /// The digest of a text that fits [`SHORT`] bytes, `None` for any other.
    ///
    /// The text is laid out in one stack buffer with inline copies (no call into `memcpy` for
    /// its short pieces), its whole blocks are compressed, and the rest goes with the secret to
    /// md-5's own buffer, as a plain `Md5::update` would put it there.
    #[inline]
    fn digest_short(&self, canonical: &Canonical<'_>) -> Option<[u8; 16]> {
        let (order, fields) = canonical.inline()?;
        let settings = canonical.settings();
        let separator = settings.pair_separator.as_bytes();
        let (prefix, suffix) = match &settings.secret_suffix {
            SecretSuffix::Append => (&[][..], &[][..]),
            SecretSuffix::Wrapped { prefix, suffix } => (prefix.as_bytes(), suffix.as_bytes()),
        };
        // Room for the prefix is kept from the start, so that it cannot overflow at the end.
        let room = SHORT.checked_sub(prefix.len())?;
        let mut text = [0_u8; SHORT];
        let mut at = 0;
        for (n, key) in order.iter().enumerate() {
            let field = &fields[key_index(*key)];
            let (name, value) = (field.name().as_bytes(), field.value().as_bytes());
            let separator = if n == 0 { &[][..] } else { separator };
            if at + separator.len() + name.len() + 1 + value.len() > room {
                return None;
            }
            if !separator.is_empty() {
                at = put(&mut text, at, separator);
            }
            at = put(&mut text, at, name);
            text[at] = b'=';
            at = put(&mut text, at + 1, value);
        }
        at = put(&mut text, at, prefix);
        // Measured, both: compressing once the text is whole is faster than compressing each
        // block as soon as it fills, and filling md-5's buffer with the tail first is faster
        // than after.
        let whole = at - at % HashSink::BLOCK;
        let buffer = Buffer::<Md5Core>::new(&text[whole..at]);
        let mut core = Md5Core::default();
        for block in text[..whole].chunks_exact(HashSink::BLOCK) {
            core.update_blocks(std::slice::from_ref(Block::<Md5Core>::from_slice(block)));
        }
        Some(finish(core, buffer, &self.secret, suffix))
    }

    /// The digest of any text, streamed into the hasher a block at a time.
    #[inline(never)]
    fn digest_streamed(&self, canonical: &Canonical<'_>) -> [u8; 16] {
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
        match &canonical.settings().secret_suffix {
            SecretSuffix::Append => sink.finish(&self.secret, b""),
            SecretSuffix::Wrapped { prefix, suffix } => {
                sink.write(prefix.as_bytes());
                sink.finish(&self.secret, suffix.as_bytes())
            }
        }
    }
}

/// The longest text (fields, separators and the secret's prefix) [`SigningKey::digest_short`]
/// takes: three MD5 blocks, room for every request and callback of the KYC API.
const SHORT: usize = 192;

/// Copies `bytes` into `text` at `at` and returns where they end, without a call into `memcpy`
/// for the short pieces a signed text is made of: two overlapping fixed-size copies cover any
/// length from the size to twice the size.
#[inline(always)]
fn put(text: &mut [u8; SHORT], at: usize, bytes: &[u8]) -> usize {
    let end = at + bytes.len();
    let to = &mut text[at..end];
    let n = bytes.len();
    if n >= 8 {
        if n <= 16 {
            copy_ends::<8>(to, bytes);
        } else if n <= 32 {
            copy_ends::<16>(to, bytes);
        } else if n <= 64 {
            copy_ends::<32>(to, bytes);
        } else {
            to.copy_from_slice(bytes);
        }
    } else if n >= 4 {
        copy_ends::<4>(to, bytes);
    } else if n > 0 {
        to[0] = bytes[0];
        to[n / 2] = bytes[n / 2];
        to[n - 1] = bytes[n - 1];
    }
    end
}

/// Copies the first and the last `N` bytes of `from` (of the same length as `to`, between `N`
/// and `2 * N`): together they are all of it.
#[inline(always)]
fn copy_ends<const N: usize>(to: &mut [u8], from: &[u8]) {
    if let (Some(to), Some(from)) = (to.first_chunk_mut::<N>(), from.first_chunk::<N>()) {
        *to = *from;
    }
    if let (Some(to), Some(from)) = (to.last_chunk_mut::<N>(), from.last_chunk::<N>()) {
        *to = *from;
    }
}

/// Hashes `secret` then `suffix` after what `core` compressed and `buffer` holds, and returns
/// the digest. The secret goes to md-5's own buffer, as a plain `Md5::update` would put it.
#[inline(always)]
fn finish(
    mut core: Md5Core,
    mut buffer: Buffer<Md5Core>,
    secret: &[u8],
    suffix: &[u8],
) -> [u8; 16] {
    buffer.digest_blocks(secret, |blocks| core.update_blocks(blocks));
    if !suffix.is_empty() {
        buffer.digest_blocks(suffix, |blocks| core.update_blocks(blocks));
    }
    let mut digest = Output::<Md5Core>::default();
    core.finalize_fixed_core(&mut buffer, &mut digest);
    digest.into()
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
    fn finish(self, secret: &[u8], suffix: &[u8]) -> [u8; 16] {
        let buffer = Buffer::<Md5Core>::new(&self.block[..self.len]);
        finish(self.core, buffer, secret, suffix)
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
    fn put_copies_every_length_at_every_offset() {
        let source: Vec<u8> = (1..=100).collect();
        for len in 0..=100 {
            for at in [0, 1, 7, 63, 64, SHORT - len] {
                let mut text = [0_u8; SHORT];
                let end = put(&mut text, at, &source[..len]);
                assert_eq!(end, at + len);
                assert_eq!(&text[at..end], &source[..len], "{len} bytes at {at}");
                assert!(text[..at].iter().chain(&text[end..]).all(|b| *b == 0));
            }
        }
    }

    /// Texts on both sides of the short path's limit, with every way of appending the secret:
    /// the short path answers exactly when the text fits, and agrees with the streamed one.
    #[test]
    fn short_and_streamed_paths_agree_around_the_limit() {
        let key = SigningKey::new("k3y").unwrap();
        let wrapped = SecretSuffix::template("&key={secret}&end").unwrap();
        // The bytes that count against the limit besides "a=", "b=" and the value: the
        // separator, or the secret's prefix.
        for (settings, extra, prefix) in [
            (Settings::default(), 0, 0),
            (Settings::default().with_pair_separator("&"), 1, 0),
            (Settings::default().with_secret_suffix(wrapped), 5, 5),
        ] {
            for len in SHORT - 40..=SHORT + 2 {
                let value = "v".repeat(len - 4 - extra);
                let fields = [("b", value.as_str()), ("a", "")];
                let settings = settings
                    .clone()
                    .with_empty_values(crate::EmptyValues::Include);
                let canonical = Canonical::new(&fields, &settings).unwrap();
                let short = key.digest_short(&canonical);
                assert_eq!(short.is_some(), len <= SHORT, "{len}");
                let streamed = key.digest_streamed(&canonical);
                if let Some(short) = short {
                    assert_eq!(short, streamed, "{len}");
                }
                let salted = match &settings.secret_suffix {
                    SecretSuffix::Append => format!("{canonical}k3y"),
                    SecretSuffix::Wrapped { prefix, suffix } => {
                        format!("{canonical}{prefix}k3y{suffix}")
                    }
                };
                assert_eq!(canonical.to_string().len() + prefix, len);
                assert_eq!(streamed, <[u8; 16]>::from(Md5::digest(&salted)), "{len}");
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
