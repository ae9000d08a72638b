//! The 16-byte MD5 signature and its hexadecimal text.

use std::fmt;

use subtle::ConstantTimeEq;

use crate::{Error, HexCase, MalformedSignature};

/// An MD5 signature, displayed as 32 hex digits in the case its settings chose.
///
/// Equality ignores the case and compares in constant time. `Debug` does not print the digits
/// (signatures stay out of logs); `Display` and [`Signature::to_hex`] do, for the wire.
///
/// # Examples
///
/// ```
/// use kyc_sign::Signature;
///
/// let lower = Signature::from_hex("9a0a8659f005d6984697e2ca0a9cf3b7")?;
/// let upper = Signature::from_hex("9A0A8659F005D6984697E2CA0A9CF3B7")?;
/// assert_eq!(lower, upper);
/// assert_eq!(upper.to_string(), "9a0a8659f005d6984697e2ca0a9cf3b7");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Eq)]
pub struct Signature {
    digest: [u8; 16],
    case: HexCase,
}

impl Signature {
    pub(crate) fn from_digest(digest: [u8; 16], case: HexCase) -> Self {
        Self { digest, case }
    }

    /// Parses 32 hex digits in either case; the result displays in lowercase.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedSignature`] for any other length or a non-hex character.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::Signature;
    ///
    /// assert!(Signature::from_hex("a7d716ba378b31496f33c18807b4d4f5").is_ok());
    /// assert!(Signature::from_hex(" a7d716ba378b31496f33c18807b4d4f5").is_err());
    /// assert!(Signature::from_hex("g7d716ba378b31496f33c18807b4d4f5").is_err());
    /// ```
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        let bytes = text.as_bytes();
        if bytes.len() != 32 {
            return Err(Error::MalformedSignature(MalformedSignature::length(
                bytes.len(),
            )));
        }
        if let Some(position) = bytes.iter().position(|b| !b.is_ascii_hexdigit()) {
            return Err(Error::MalformedSignature(MalformedSignature::not_hex(
                position,
            )));
        }
        let mut digest = [0; 16];
        hex::decode_to_slice(bytes, &mut digest)
            .expect("32 ASCII hex digits always decode to 16 bytes");
        Ok(Self {
            digest,
            case: HexCase::Lower,
        })
    }

    /// The raw digest.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::Signature;
    ///
    /// let signature = Signature::from_hex("000102030405060708090a0b0c0d0e0f")?;
    /// assert_eq!(signature.as_bytes()[15], 15);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.digest
    }

    /// The case `Display` uses.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{HexCase, Signature};
    ///
    /// let signature = Signature::from_hex("000102030405060708090A0B0C0D0E0F")?;
    /// assert_eq!(signature.hex_case(), HexCase::Lower);
    /// assert_eq!(signature.with_hex_case(HexCase::Upper).to_hex(), "000102030405060708090A0B0C0D0E0F");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn hex_case(&self) -> HexCase {
        self.case
    }

    /// The same signature, displayed in `case`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{HexCase, Signature};
    ///
    /// let signature = Signature::from_hex("ABCDEF0123456789ABCDEF0123456789")?;
    /// assert_eq!(signature.with_hex_case(HexCase::Upper).hex_case(), HexCase::Upper);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_hex_case(self, case: HexCase) -> Self {
        Self { case, ..self }
    }

    /// Writes the 32 hex digits into `out` and returns them as text, without allocating.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::Signature;
    ///
    /// let signature = Signature::from_hex("a7d716ba378b31496f33c18807b4d4f5")?;
    /// let mut buf = [0; 32];
    /// assert_eq!(signature.encode_hex(&mut buf), "a7d716ba378b31496f33c18807b4d4f5");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode_hex<'b>(&self, out: &'b mut [u8; 32]) -> &'b str {
        hex::encode_to_slice(self.digest, out).expect("16 bytes need exactly 32 hex digits");
        if self.case == HexCase::Upper {
            out.make_ascii_uppercase();
        }
        std::str::from_utf8(out).expect("hex digits are ASCII")
    }

    /// The 32 hex digits as a `String`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::Signature;
    ///
    /// let signature = Signature::from_hex("A7D716BA378B31496F33C18807B4D4F5")?;
    /// assert_eq!(signature.to_hex(), "a7d716ba378b31496f33c18807b4d4f5");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_hex(&self) -> String {
        let mut buf = [0; 32];
        self.encode_hex(&mut buf).to_owned()
    }
}

impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        self.digest.ct_eq(&other.digest).into()
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0; 32];
        f.write_str(self.encode_hex(&mut buf))
    }
}

/// Signatures stay out of logs: `Debug` shows only that one is there.
impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(<32 hex digits>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_is_malformed_not_a_panic() {
        // 32 bytes, but not 32 hex digits: the length check counts bytes, so multi-byte
        // characters can never reach the decoder.
        let text = "ｱ".repeat(10) + "00";
        assert_eq!(text.len(), 32);
        assert!(matches!(
            Signature::from_hex(&text),
            Err(Error::MalformedSignature(why)) if why.not_hex_at() == Some(0)
        ));
    }

    #[test]
    fn debug_hides_the_digits() {
        let signature = Signature::from_hex("a7d716ba378b31496f33c18807b4d4f5").unwrap();
        assert!(!format!("{signature:?}").contains("a7d7"));
    }
}
