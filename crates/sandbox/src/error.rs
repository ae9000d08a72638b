//! The one error type of the crate: why the sandbox could not be built or started.

use std::{error, fmt, io};

/// Why the sandbox could not be built, started or served.
///
/// Informative rather than actionable: [`Self::is_config`] tells "called it wrong" from "the
/// machine said no" (a port in use, a TLS setup failure). `Display` never shows a secret.
///
/// # Examples
///
/// ```
/// use kyc_sandbox::{FixedClock, Sandbox};
///
/// let err = Sandbox::builder(FixedClock::new(0)).build().unwrap_err();
/// assert!(err.is_config());
/// assert_eq!(err.to_string(), "invalid sandbox configuration: no merchant configured");
/// ```
#[derive(Debug)]
pub struct Error {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Config(String),
    Bind(io::Error),
    Tls(String),
    Io(io::Error),
}

impl Error {
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Config(message.into()),
        }
    }

    pub(crate) fn bind(source: io::Error) -> Self {
        Self {
            kind: Kind::Bind(source),
        }
    }

    pub(crate) fn tls(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Tls(message.into()),
        }
    }

    pub(crate) fn io(source: io::Error) -> Self {
        Self {
            kind: Kind::Io(source),
        }
    }

    /// Whether the configuration given to the builder was invalid.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{FixedClock, Sandbox};
    ///
    /// let err = Sandbox::builder(FixedClock::new(0)).merchant("1", "").build().unwrap_err();
    /// assert!(err.is_config());
    /// ```
    #[must_use]
    pub fn is_config(&self) -> bool {
        matches!(self.kind, Kind::Config(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Config(message) => write!(f, "invalid sandbox configuration: {message}"),
            Kind::Bind(_) => f.write_str("cannot listen on the requested address"),
            Kind::Tls(message) => write!(f, "cannot set up TLS: {message}"),
            Kind::Io(_) => f.write_str("the sandbox's listener failed"),
        }
    }
}

impl error::Error for Error {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        match &self.kind {
            Kind::Config(_) | Kind::Tls(_) => None,
            Kind::Bind(source) | Kind::Io(source) => Some(source),
        }
    }
}
