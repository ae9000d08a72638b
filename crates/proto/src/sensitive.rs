//! A wrapper that keeps personal data out of logs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Personal data: transparent to serde, `<redacted>` in `Debug`, and no `Display`.
///
/// Reading the value takes an explicit [`Sensitive::expose`], which is easy to find in review.
///
/// # Examples
///
/// ```
/// use kyc_proto::Sensitive;
///
/// let reason = Sensitive::new(String::from("The file and type do not match"));
/// assert_eq!(format!("{reason:?}"), "<redacted>");
/// assert_eq!(reason.expose(), "The file and type do not match");
/// assert_eq!(serde_json::to_string(&reason)?, "\"The file and type do not match\"");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wraps a value.
    ///
    /// # Examples
    ///
    /// ```
    /// let name = kyc_proto::Sensitive::new("テスト");
    /// assert_eq!(*name.expose(), "テスト");
    /// ```
    #[must_use]
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The value, for the one place that needs it.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(*kyc_proto::Sensitive::new(7).expose(), 7);
    /// ```
    #[must_use]
    pub const fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::Sensitive::new(7).into_inner(), 7);
    /// ```
    #[must_use]
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternate_debug_is_redacted_too() {
        let value = Sensitive::new("secret name");
        assert_eq!(format!("{value:#?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(value)), "Some(<redacted>)");
    }

    #[test]
    fn serde_is_transparent() {
        let value: Sensitive<String> = serde_json::from_str("\"x\"").unwrap();
        assert_eq!(value.expose(), "x");
    }
}
