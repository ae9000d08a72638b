//! The crate's one error type.

use std::fmt;

/// Everything that can go wrong while signing or verifying.
///
/// Messages name the field or the rule, never a secret or a value: a value may be personal data.
///
/// # Examples
///
/// ```
/// use kyc_sign::{Canonical, Error, Settings};
///
/// let settings = Settings::default();
/// let err = Canonical::new(&[("userId", "a"), ("userId", "b")], &settings).unwrap_err();
/// assert!(matches!(err, Error::DuplicateName { .. }));
/// assert_eq!(err.to_string(), "field name \"userId\" appears more than once; each name may be signed once");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Two fields share a name: signing either would be a silent choice.
    #[non_exhaustive]
    DuplicateName {
        /// The repeated field name.
        name: String,
    },
    /// A signature to verify is not 32 hexadecimal digits.
    MalformedSignature(MalformedSignature),
    /// A well-formed signature does not match the fields and the secret.
    Mismatch,
    /// A secret-suffix template does not hold `{secret}` exactly once.
    #[non_exhaustive]
    InvalidTemplate {
        /// The rule the template breaks.
        reason: &'static str,
    },
    /// The secret is empty, which would make every signature forgeable.
    EmptySecret,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateName { name } => write!(
                f,
                "field name {name:?} appears more than once; each name may be signed once"
            ),
            Self::MalformedSignature(_) => f.write_str("malformed signature"),
            Self::Mismatch => f.write_str("signature does not match the signed fields"),
            Self::InvalidTemplate { reason } => write!(f, "invalid secret template: {reason}"),
            Self::EmptySecret => f.write_str("the signing secret is empty"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::MalformedSignature(inner) => Some(inner),
            Self::DuplicateName { .. }
            | Self::Mismatch
            | Self::InvalidTemplate { .. }
            | Self::EmptySecret => None,
        }
    }
}

/// Why a signature text is not a signature: its length or a character that is not hex.
///
/// # Examples
///
/// ```
/// use kyc_sign::{Error, Signature};
///
/// let Err(Error::MalformedSignature(why)) = Signature::from_hex("abc") else { panic!() };
/// assert_eq!(why.to_string(), "expected 32 hexadecimal digits, found 3 bytes");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MalformedSignature {
    kind: MalformedKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum MalformedKind {
    Length(usize),
    NotHex(usize),
}

impl MalformedSignature {
    pub(crate) fn length(found: usize) -> Self {
        Self {
            kind: MalformedKind::Length(found),
        }
    }

    pub(crate) fn not_hex(position: usize) -> Self {
        Self {
            kind: MalformedKind::NotHex(position),
        }
    }

    /// The byte length found, when the length is what is wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{Error, Signature};
    ///
    /// let Err(Error::MalformedSignature(why)) = Signature::from_hex("") else { panic!() };
    /// assert_eq!(why.wrong_length(), Some(0));
    /// ```
    #[must_use]
    pub fn wrong_length(&self) -> Option<usize> {
        match self.kind {
            MalformedKind::Length(found) => Some(found),
            MalformedKind::NotHex(_) => None,
        }
    }

    /// The byte offset of the first character that is not a hex digit, when that is what is wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{Error, Signature};
    ///
    /// let text = "0627c01fe85ccf7fc838ad3ccb0f3deZ";
    /// let Err(Error::MalformedSignature(why)) = Signature::from_hex(text) else { panic!() };
    /// assert_eq!(why.not_hex_at(), Some(31));
    /// ```
    #[must_use]
    pub fn not_hex_at(&self) -> Option<usize> {
        match self.kind {
            MalformedKind::NotHex(position) => Some(position),
            MalformedKind::Length(_) => None,
        }
    }
}

impl fmt::Display for MalformedSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            MalformedKind::Length(found) => {
                write!(f, "expected 32 hexadecimal digits, found {found} bytes")
            }
            MalformedKind::NotHex(position) => {
                write!(f, "byte {position} is not a hexadecimal digit")
            }
        }
    }
}

impl std::error::Error for MalformedSignature {}
