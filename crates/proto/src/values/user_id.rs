//! The merchant-side user identifier (`userId`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::{ValidationError, ValidationKind, names};

/// The merchant-side user identifier (`userId`).
///
/// Rule (ours: the provider publishes none): 1 to 64 bytes, each printable ASCII other than
/// space (`0x21..=0x7E`). That admits every identifier the provider's examples use
/// (`abc_100008`, `79x7p10nh4xd121m`) and keeps the value safe in a multipart field, a JSON
/// string and a log line. Not personal data by itself, so `Debug` shows it.
///
/// # Examples
///
/// ```
/// use kyc_proto::UserId;
///
/// let id = UserId::new("abc_100008")?;
/// assert_eq!(id.as_str(), "abc_100008");
/// assert!(UserId::new("has space").is_err());
/// assert!(UserId::new("ユーザー").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// The longest identifier accepted, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Checks `value` against the rule above.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] for `userId`: empty, longer than 64 bytes, or with a character outside
    /// `0x21..=0x7E` (its position is reported).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::UserId;
    ///
    /// assert!(UserId::new(String::from("jp_user_100008")).is_ok());
    /// assert_eq!(UserId::new("a\tb").unwrap_err().position(), Some(1));
    /// ```
    pub fn new(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        check_user_id(&value)?;
        Ok(Self(value))
    }

    /// The identifier.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::UserId::new("u1")?.as_str(), "u1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The identifier, owned.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::UserId::new("u1")?.into_string(), "u1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

fn check_user_id(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::new(names::USER_ID, ValidationKind::Empty));
    }
    if let Some((position, found)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| !matches!(c, '\x21'..='\x7e'))
    {
        return Err(ValidationError::invalid_char(
            names::USER_ID,
            position,
            found,
            "printable ASCII other than space",
        ));
    }
    if value.len() > UserId::MAX_LEN {
        return Err(ValidationError::new(
            names::USER_ID,
            ValidationKind::TooLong {
                max: UserId::MAX_LEN,
            },
        ));
    }
    Ok(())
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for UserId {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for UserId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for UserId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::new(value).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_bounds() {
        assert!(UserId::new("!").is_ok());
        assert!(UserId::new("~".repeat(64)).is_ok());
        assert!(UserId::new("~".repeat(65)).is_err());
        assert_eq!(UserId::new("ab\u{7f}").unwrap_err().position(), Some(2));
        // A non-ASCII character is reported by character position, not byte offset.
        assert_eq!(UserId::new("éa b").unwrap_err().position(), Some(0));
    }
}
