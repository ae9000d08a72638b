//! The provider's `timestamp`: milliseconds since the Unix epoch.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::lenient::{self, Lenient};
use crate::{ValidationError, ValidationKind, names};

/// A point in time as milliseconds since the Unix epoch, the provider's `timestamp`.
///
/// `Display` is the decimal digits, which is what is sent and signed. Serialised as a JSON
/// string (the request bodies' form); deserialised from a string of digits or a non-negative
/// integer. The crate reads no clock: the caller passes the time in.
///
/// # Examples
///
/// ```
/// use kyc_proto::Timestamp;
///
/// let at = Timestamp::from_millis(1_774_925_553_256);
/// assert_eq!(at.to_string(), "1774925553256");
/// assert_eq!(at.as_millis(), 1_774_925_553_256);
/// assert_eq!("1774925553256".parse::<Timestamp>()?, at);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The time `millis` milliseconds after the Unix epoch.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::Timestamp::from_millis(5).as_millis(), 5);
    /// ```
    #[must_use]
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::Timestamp::from_millis(0).as_millis(), 0);
    /// ```
    #[must_use]
    pub const fn as_millis(&self) -> u64 {
        self.0
    }

    /// Parses the wire form: 1 to 20 ASCII digits, no sign, no spaces, that fit in a `u64`.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] for `timestamp` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::Timestamp;
    ///
    /// assert_eq!(Timestamp::parse("0017")?.as_millis(), 17);
    /// assert!(Timestamp::parse("1.7e12").is_err());
    /// assert!(Timestamp::parse("+17").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        if text.is_empty() {
            return Err(ValidationError::new(
                names::TIMESTAMP,
                ValidationKind::Empty,
            ));
        }
        if let Some((position, found)) = text.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(ValidationError::invalid_char(
                names::TIMESTAMP,
                position,
                found,
                "an ASCII digit",
            ));
        }
        text.parse::<u64>().map(Self).map_err(|_| {
            ValidationError::format(names::TIMESTAMP, "the number does not fit in 64 bits")
        })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Timestamp {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<u64> for Timestamp {
    fn from(millis: u64) -> Self {
        Self(millis)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match lenient::string_or_number(deserializer)? {
            Lenient::Value(text) => Self::parse(&text.text).map_err(de::Error::custom),
            Lenient::Absent | Lenient::Null | Lenient::Broken(_) => Err(de::Error::custom(
                "timestamp must be milliseconds as digits or a non-negative integer",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_parse_bounds() {
        assert_eq!(
            Timestamp::parse("18446744073709551615")
                .unwrap()
                .as_millis(),
            u64::MAX
        );
        assert!(Timestamp::parse("18446744073709551616").is_err());
        assert!(Timestamp::parse("").is_err());
        assert!(Timestamp::parse("-1").is_err());
        assert!(Timestamp::parse("１").is_err());
    }
}
