//! The business status of an application.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::lenient::{self, Lenient, STRING_OR_NUMBER};
use crate::names;

/// The business status of an application (`authenticationStatus`).
///
/// `"0"` pending, `"1"` under review, `"2"` approved, `"3"` rejected. Any other value is kept
/// as [`AuthenticationStatus::Unknown`] (**policy**: a new status is data, not an error); it
/// is not final, so the caller keeps polling. Decoded from a string or a number.
///
/// # Examples
///
/// ```
/// use kyc_proto::AuthenticationStatus;
///
/// let status: AuthenticationStatus = serde_json::from_str("2")?;
/// assert_eq!(status, AuthenticationStatus::Approved);
/// assert!(status.is_final());
/// assert_eq!(status.as_str(), "2");
/// assert_eq!(AuthenticationStatus::from_wire("9"), AuthenticationStatus::Unknown("9".into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthenticationStatus {
    /// `0`: submitted, waiting for authentication.
    Pending,
    /// `1`: being reviewed.
    UnderReview,
    /// `2`: approved; the user may go on to the provider's deposit and VA APIs.
    Approved,
    /// `3`: rejected; final for this application, a new one must be submitted.
    Rejected,
    /// Any other value, kept as received.
    Unknown(String),
}

impl AuthenticationStatus {
    /// The status for a wire value.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::AuthenticationStatus;
    ///
    /// assert_eq!(AuthenticationStatus::from_wire("1"), AuthenticationStatus::UnderReview);
    /// ```
    #[must_use]
    pub fn from_wire(text: &str) -> Self {
        match text {
            "0" => Self::Pending,
            "1" => Self::UnderReview,
            "2" => Self::Approved,
            "3" => Self::Rejected,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The wire value (`"0"`..`"3"`, or the unknown value as received).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::AuthenticationStatus::Rejected.as_str(), "3");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "0",
            Self::UnderReview => "1",
            Self::Approved => "2",
            Self::Rejected => "3",
            Self::Unknown(other) => other,
        }
    }

    /// Whether the status will not change any more: approved or rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::AuthenticationStatus;
    ///
    /// assert!(AuthenticationStatus::Rejected.is_final());
    /// assert!(!AuthenticationStatus::UnderReview.is_final());
    /// assert!(!AuthenticationStatus::Unknown("7".into()).is_final());
    /// ```
    #[must_use]
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Approved | Self::Rejected)
    }

    /// Whether the user was approved.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(kyc_proto::AuthenticationStatus::Approved.is_approved());
    /// ```
    #[must_use]
    pub fn is_approved(&self) -> bool {
        matches!(self, Self::Approved)
    }
}

/// Words for people: `pending`, `under review`, `approved`, `rejected`, `unknown (…)`.
impl fmt::Display for AuthenticationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pending => f.write_str("pending"),
            Self::UnderReview => f.write_str("under review"),
            Self::Approved => f.write_str("approved"),
            Self::Rejected => f.write_str("rejected"),
            Self::Unknown(other) => write!(f, "unknown ({other:?})"),
        }
    }
}

impl Serialize for AuthenticationStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuthenticationStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match lenient::string_or_number(deserializer)? {
            Lenient::Value(text) => Ok(Self::from_wire(&text.text)),
            Lenient::Absent | Lenient::Null | Lenient::Broken(_) => Err(de::Error::custom(
                format_args!("{} {STRING_OR_NUMBER}", names::AUTHENTICATION_STATUS),
            )),
        }
    }
}
