//! The one error type of the crate: why the sandbox could not be built or started.

use std::{error, fmt, io};

/// Why the sandbox could not be built, started or served, or why it refused a control action
/// ([`Running::decide`](crate::Running::decide), [`Running::resend`](crate::Running::resend)).
///
/// Informative rather than actionable: [`Self::is_config`] tells "called it wrong" from "the
/// machine said no" (a port in use, a TLS setup failure); [`Self::control_code`] names why a
/// control action was refused. `Display` never shows a secret or a `failReason`.
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
    Control(Control, String),
}

/// Why a control action was refused; each has a stable code and an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    UnknownMerchant,
    UnknownUser,
    AmbiguousMerchant,
    Final,
    NotDecided,
    Invalid,
}

impl Control {
    pub(crate) const fn code(self) -> &'static str {
        match self {
            Self::UnknownMerchant => "unknown_merchant",
            Self::UnknownUser => "unknown_user",
            Self::AmbiguousMerchant => "ambiguous_merchant",
            Self::Final => "already_final",
            Self::NotDecided => "not_decided",
            Self::Invalid => "invalid_request",
        }
    }

    pub(crate) const fn http_status(self) -> u16 {
        match self {
            Self::UnknownMerchant | Self::UnknownUser => 404,
            Self::Final | Self::NotDecided => 409,
            Self::AmbiguousMerchant | Self::Invalid => 400,
        }
    }
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

    pub(crate) fn control(kind: Control, message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Control(kind, message.into()),
        }
    }

    /// The control refusal, when this error is one.
    pub(crate) fn as_control(&self) -> Option<(Control, &str)> {
        match &self.kind {
            Kind::Control(kind, message) => Some((*kind, message)),
            _ => None,
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

    /// Why a control action was refused, as the stable code the HTTP control API answers:
    /// `unknown_merchant`, `unknown_user`, `ambiguous_merchant` (the `userId` exists for several
    /// merchants: name one), `already_final` (a decision on an approved or rejected
    /// application), `not_decided` (a resend before any callback), `invalid_request` (a bad
    /// `failReason`, bad JSON). `None` for errors of building or serving.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{Decision, FixedClock, Sandbox};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let running = Sandbox::builder(FixedClock::new(0)).merchant("1", "s").build()?
    ///     .start("127.0.0.1:0").await?;
    /// let err = running.decide("1", "nobody", Decision::Approve).unwrap_err();
    /// assert_eq!(err.control_code(), Some("unknown_user"));
    /// running.shutdown().await;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn control_code(&self) -> Option<&'static str> {
        self.as_control().map(|(kind, _)| kind.code())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Config(message) => write!(f, "invalid sandbox configuration: {message}"),
            Kind::Bind(_) => f.write_str("cannot listen on the requested address"),
            Kind::Tls(message) => write!(f, "cannot set up TLS: {message}"),
            Kind::Io(_) => f.write_str("the sandbox's listener failed"),
            Kind::Control(_, message) => write!(f, "refused: {message}"),
        }
    }
}

impl error::Error for Error {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        match &self.kind {
            Kind::Config(_) | Kind::Tls(_) | Kind::Control(..) => None,
            Kind::Bind(source) | Kind::Io(source) => Some(source),
        }
    }
}
