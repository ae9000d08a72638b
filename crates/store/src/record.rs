//! What the ledger records and answers: outcomes, events, a user's state, counts.

use std::fmt;

use kyc_proto::{AuthenticationStatus, Sensitive, Timestamp, UserId};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// What recording an event did.
///
/// # Examples
///
/// See [`Ledger::record_callback`](crate::Ledger::record_callback).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recorded {
    /// First time seen; it is now the user's current state (or, for a refused application,
    /// which carries no status, it is in the history).
    New,
    /// Already recorded (the same content: a provider's retry, or another receiver got it
    /// first). Nothing changed.
    Duplicate,
    /// First time seen and kept in the history, but an event that the ordering rule puts after
    /// it already decides the current state (see the crate docs).
    Stale,
}

/// How the provider answered an application.
///
/// # Examples
///
/// ```
/// use kyc_proto::AuthenticationStatus;
/// use kyc_store::ApplicationOutcome;
///
/// let accepted = ApplicationOutcome::Accepted(AuthenticationStatus::Pending);
/// let refused = ApplicationOutcome::Refused {
///     code: "8000".into(),
///     reason: Some("system error".into()),
///     retryable: true,
/// };
/// # let _ = (accepted, refused);
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApplicationOutcome {
    /// Accepted (`code` `0000`), with the status the answer carried (usually pending). It
    /// opens a new attempt: from its timestamp on, the user's state starts again.
    Accepted(AuthenticationStatus),
    /// Not accepted: the provider's code (or one of the caller's, such as `transport` or
    /// `invalid-row`), an optional reason, and whether sending again may succeed. Carries no
    /// status: the user's state is unchanged.
    Refused {
        /// The provider's code, or the caller's name for a failure before an answer.
        code: String,
        /// Why, when known (may be personal data: redacted in `Debug`).
        reason: Option<String>,
        /// Whether sending again may succeed.
        retryable: bool,
    },
}

impl fmt::Debug for ApplicationOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Accepted(status) => f.debug_tuple("Accepted").field(status).finish(),
            Self::Refused {
                code,
                reason,
                retryable,
            } => f
                .debug_struct("Refused")
                .field("code", code)
                .field("reason", &reason.as_ref().map(|_| "<redacted>"))
                .field("retryable", retryable)
                .finish(),
        }
    }
}

/// Where an event came from.
///
/// # Examples
///
/// ```
/// assert_eq!(kyc_store::EventKind::Callback.as_str(), "callback");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// An application sent to the provider, accepted or refused.
    Application,
    /// A verified result callback.
    Callback,
    /// An answer to a status query (reconciliation).
    Status,
}

impl EventKind {
    /// The name stored and exported: `application`, `callback` or `status`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_store::EventKind::Status.as_str(), "status");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Application => "application",
            Self::Callback => "callback",
            Self::Status => "status",
        }
    }

    pub(crate) fn from_stored(text: &str) -> Option<Self> {
        match text {
            "application" => Some(Self::Application),
            "callback" => Some(Self::Callback),
            "status" => Some(Self::Status),
            _ => None,
        }
    }
}

/// One recorded event of a user's history. Serialises as
/// `{"kind","attempt","authenticationStatus","timestamp","failReason"?,"code"?,"retryable"?}`.
///
/// # Examples
///
/// See [`Ledger::history`](crate::Ledger::history).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub(crate) kind: EventKind,
    pub(crate) attempt: u32,
    #[serde(rename = "authenticationStatus")]
    pub(crate) status: Option<AuthenticationStatus>,
    pub(crate) timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fail_reason: Option<Sensitive<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) retryable: bool,
}

impl Event {
    /// Where the event came from.
    #[must_use]
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// Which attempt the event belongs to: the number of accepted applications at or before
    /// its timestamp (0 for events before any recorded application).
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The status it carried; `None` for a refused application.
    #[must_use]
    pub fn status(&self) -> Option<&AuthenticationStatus> {
        self.status.as_ref()
    }

    /// The provider's timestamp (a callback's, a status answer's), or the caller's for an
    /// application.
    #[must_use]
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The provider's `failReason`, or a refused application's reason (personal data).
    #[must_use]
    pub fn fail_reason(&self) -> Option<&str> {
        self.fail_reason
            .as_ref()
            .map(|reason| reason.expose().as_str())
    }

    /// A refused application's code.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Whether a refused application may succeed when sent again.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

/// A user's current state. Serialises (for export) as
/// `{"userId","authenticationStatus","timestamp","failReason"?,"applications","lastEventAt"}`.
///
/// # Examples
///
/// See [`Ledger::state`](crate::Ledger::state).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserState {
    pub(crate) user_id: UserId,
    #[serde(rename = "authenticationStatus")]
    pub(crate) status: Option<AuthenticationStatus>,
    pub(crate) timestamp: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fail_reason: Option<Sensitive<String>>,
    pub(crate) applications: u32,
    pub(crate) last_event_at: Option<Timestamp>,
}

impl UserState {
    /// The user.
    #[must_use]
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// The current status, `None` when no event carried one (only refused applications).
    #[must_use]
    pub fn status(&self) -> Option<&AuthenticationStatus> {
        self.status.as_ref()
    }

    /// The timestamp of the event that decided the current status.
    #[must_use]
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
    }

    /// The deciding event's `failReason` (personal data).
    #[must_use]
    pub fn fail_reason(&self) -> Option<&str> {
        self.fail_reason
            .as_ref()
            .map(|reason| reason.expose().as_str())
    }

    /// How many accepted applications were recorded (the current attempt's number).
    #[must_use]
    pub fn applications(&self) -> u32 {
        self.applications
    }

    /// The latest timestamp of an event that carried a status: what the reconciliation
    /// cut-off is measured from.
    #[must_use]
    pub fn last_event_at(&self) -> Option<Timestamp> {
        self.last_event_at
    }

    /// Whether the current status is final (approved or rejected).
    #[must_use]
    pub fn is_final(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(AuthenticationStatus::is_final)
    }
}

/// How many users are in each current status. Serialises as a JSON object from the wire
/// value (`"0"`..`"3"`, or a later one) to the count, with `"none"` for users with no status.
///
/// # Examples
///
/// See [`Ledger::counts`](crate::Ledger::counts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Sorted by wire value, `None` first.
    pub(crate) by_status: Vec<(Option<AuthenticationStatus>, u64)>,
}

impl Counts {
    /// Users whose current status is `status`.
    #[must_use]
    pub fn of(&self, status: &AuthenticationStatus) -> u64 {
        self.by_status
            .iter()
            .find(|(known, _)| known.as_ref() == Some(status))
            .map_or(0, |(_, count)| *count)
    }

    /// Users with no status yet (only refused applications).
    #[must_use]
    pub fn without_status(&self) -> u64 {
        self.by_status
            .iter()
            .find(|(known, _)| known.is_none())
            .map_or(0, |(_, count)| *count)
    }

    /// All users.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.by_status.iter().map(|(_, count)| count).sum()
    }

    /// Each status present with its count, `None` (no status) first, then by wire value.
    pub fn iter(&self) -> impl Iterator<Item = (Option<&AuthenticationStatus>, u64)> + '_ {
        self.by_status
            .iter()
            .map(|(status, count)| (status.as_ref(), *count))
    }
}

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.by_status.len()))?;
        for (status, count) in &self.by_status {
            map.serialize_entry(
                status.as_ref().map_or("none", AuthenticationStatus::as_str),
                count,
            )?;
        }
        map.end()
    }
}

/// The rank of a status in the ordering rule: final above non-final.
pub(crate) fn rank(status: Option<&AuthenticationStatus>) -> i64 {
    match status {
        None => -1,
        Some(status) if status.is_final() => 1,
        Some(_) => 0,
    }
}
