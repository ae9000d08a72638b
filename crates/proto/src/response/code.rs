//! The provider's response code.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::lenient::{self, Lenient, STRING_OR_NUMBER};

/// The provider's response code: a string whose leading zeros matter (`00029` is not `0029`).
///
/// Only [`Code::SUCCESS`] means the API layer accepted the request; it never means the user is
/// approved. Decoded from a string or, leniently, a number (whose digits are kept as decoded:
/// a numeric `0` is `"0"`, which is not `SUCCESS`).
///
/// # Examples
///
/// ```
/// use kyc_proto::Code;
///
/// let code = Code::new("8000");
/// assert_eq!(code, Code::SYSTEM_ERROR);
/// assert!(code.is_retryable());
/// assert!(!code.is_success());
/// assert_ne!(Code::new("0029"), Code::FAILED);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Code(Cow<'static, str>);

impl Code {
    /// `0000`: the API layer accepted the request (not a business result).
    pub const SUCCESS: Self = Self(Cow::Borrowed("0000"));
    /// `0001`: partial payment (published for the provider's payment APIs).
    pub const PARTIAL_PAYMENT: Self = Self(Cow::Borrowed("0001"));
    /// `0015`: processing.
    pub const PROCESSING: Self = Self(Cow::Borrowed("0015"));
    /// `00029`: failed (five digits).
    pub const FAILED: Self = Self(Cow::Borrowed("00029"));
    /// `8000`: system error; retryable.
    pub const SYSTEM_ERROR: Self = Self(Cow::Borrowed("8000"));
    /// `5000`: system exception (reported by integrations); retryable.
    pub const SYSTEM_EXCEPTION: Self = Self(Cow::Borrowed("5000"));

    /// A code, as received.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::Code::new("0000"), kyc_proto::Code::SUCCESS);
    /// ```
    #[must_use]
    pub fn new(code: impl Into<String>) -> Self {
        Self(Cow::Owned(code.into()))
    }

    /// The code's text.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::Code::FAILED.as_str(), "00029");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the API layer accepted the request (`0000`). Says nothing about the user.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(kyc_proto::Code::SUCCESS.is_success());
    /// ```
    #[must_use]
    pub fn is_success(&self) -> bool {
        *self == Self::SUCCESS
    }

    /// Whether the same request may succeed later (**policy**: `8000` and `5000`).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::Code;
    ///
    /// assert!(Code::SYSTEM_EXCEPTION.is_retryable());
    /// assert!(!Code::FAILED.is_retryable());
    /// ```
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        *self == Self::SYSTEM_ERROR || *self == Self::SYSTEM_EXCEPTION
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code({:?})", self.as_str())
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Code {
    /// The code for `text`: a published one without an allocation.
    pub(crate) fn from_text(text: String) -> Self {
        [
            Self::SUCCESS,
            Self::PARTIAL_PAYMENT,
            Self::PROCESSING,
            Self::FAILED,
            Self::SYSTEM_ERROR,
            Self::SYSTEM_EXCEPTION,
        ]
        .into_iter()
        .find(|known| known.as_str() == text)
        .unwrap_or(Self(Cow::Owned(text)))
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match lenient::string_or_number(deserializer)? {
            Lenient::Value(text) => Ok(Self::from_text(text.text)),
            Lenient::Absent | Lenient::Null | Lenient::Broken(_) => {
                Err(de::Error::custom(format_args!("code {STRING_OR_NUMBER}")))
            }
        }
    }
}
