//! Secrets taken from the command line or the environment.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

/// A secret flag value: `Debug` never shows it, so argument structs can derive `Debug`.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    /// The secret itself, to hand to a signing key.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Secret {
    type Err = Infallible;

    fn from_str(text: &str) -> Result<Self, Infallible> {
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret: Secret = "TEST_SECRET_DO_NOT_USE".parse().unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(secret.expose(), "TEST_SECRET_DO_NOT_USE");
    }
}
