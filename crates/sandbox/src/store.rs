//! Where applications live: a small trait and its in-memory implementation.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use crate::Outcome;

/// The review status the sandbox gives an application: the provider's `authenticationStatus`.
///
/// # Examples
///
/// ```
/// use kyc_sandbox::ReviewStatus;
///
/// assert_eq!(ReviewStatus::Rejected.as_code(), "3");
/// assert!(ReviewStatus::Approved.is_final());
/// assert!(!ReviewStatus::UnderReview.is_final());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewStatus {
    /// `0`: pending authentication.
    Pending,
    /// `1`: under review.
    UnderReview,
    /// `2`: approved (final).
    Approved,
    /// `3`: rejected (final).
    Rejected,
}

impl ReviewStatus {
    /// The wire value of `authenticationStatus`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_sandbox::ReviewStatus::Pending.as_code(), "0");
    /// ```
    #[must_use]
    pub const fn as_code(self) -> &'static str {
        match self {
            Self::Pending => "0",
            Self::UnderReview => "1",
            Self::Approved => "2",
            Self::Rejected => "3",
        }
    }

    /// Whether the review is over (approved or rejected): a callback is due.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(kyc_sandbox::ReviewStatus::Rejected.is_final());
    /// ```
    #[must_use]
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Approved | Self::Rejected)
    }
}

/// One merchant's application for one `userId`, as the sandbox keeps it.
///
/// The furigana is checked and then forgotten: the sandbox stores no name. `Debug` leaves out
/// the `failReason` (it is about a person).
///
/// # Examples
///
/// ```
/// use kyc_sandbox::{MemoryStore, Store};
///
/// let store = MemoryStore::new();
/// assert!(store.load("1027749636", "abc_100008").is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Application {
    pub(crate) merchant_no: String,
    pub(crate) user_id: String,
    pub(crate) callback_url: String,
    pub(crate) outcome: Outcome,
    pub(crate) applied_at_millis: u64,
    pub(crate) status: ReviewStatus,
    pub(crate) fail_reason: Option<String>,
    pub(crate) decided_at_millis: Option<u64>,
}

impl Application {
    /// The merchant that applied.
    ///
    /// # Examples
    ///
    /// See [`crate::Running::application`].
    #[must_use]
    pub fn merchant_no(&self) -> &str {
        &self.merchant_no
    }

    /// The merchant's `userId`.
    ///
    /// # Examples
    ///
    /// See [`crate::Running::application`].
    #[must_use]
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The `callBackUrl` the final result is POSTed to.
    ///
    /// # Examples
    ///
    /// See [`crate::Running::application`].
    #[must_use]
    pub fn callback_url(&self) -> &str {
        &self.callback_url
    }

    /// The outcome chosen by the `userId` (see [`crate::Scenario`]).
    ///
    /// # Examples
    ///
    /// See [`crate::Running::application`].
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// When the application was accepted, by the sandbox's clock (epoch milliseconds).
    ///
    /// # Examples
    ///
    /// See [`crate::Running::application`].
    #[must_use]
    pub fn applied_at_millis(&self) -> u64 {
        self.applied_at_millis
    }

    /// The status as of the last time the sandbox looked at the clock.
    ///
    /// # Examples
    ///
    /// See [`crate::Running::application`].
    #[must_use]
    pub fn status(&self) -> ReviewStatus {
        self.status
    }

    /// The `failReason` of a rejected application.
    ///
    /// # Examples
    ///
    /// See [`crate::Running::application`].
    #[must_use]
    pub fn fail_reason(&self) -> Option<&str> {
        self.fail_reason.as_deref()
    }

    /// When the review reached its final status (epoch milliseconds), if it has.
    ///
    /// # Examples
    ///
    /// See [`crate::Running::application`].
    #[must_use]
    pub fn decided_at_millis(&self) -> Option<u64> {
        self.decided_at_millis
    }
}

impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Application")
            .field("merchant_no", &self.merchant_no)
            .field("user_id", &self.user_id)
            .field("callback_url", &self.callback_url)
            .field("outcome", &self.outcome)
            .field("applied_at_millis", &self.applied_at_millis)
            .field("status", &self.status)
            .field(
                "fail_reason",
                &self.fail_reason.as_ref().map(|_| "<redacted>"),
            )
            .field("decided_at_millis", &self.decided_at_millis)
            .finish()
    }
}

/// Storage for applications, keyed by merchant number and `userId`.
///
/// The sandbox serialises its own read-modify-write sequences, so an implementation only
/// needs each call to be atomic by itself. Implementations must not panic.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// use kyc_sandbox::{ManualClock, MemoryStore, Sandbox};
///
/// let store = Arc::new(MemoryStore::new());
/// let sandbox = Sandbox::builder(ManualClock::new(0))
///     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
///     .store(store.clone())
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Store: Send + Sync + 'static {
    /// The application of `user_id` with `merchant_no`, if any.
    fn load(&self, merchant_no: &str, user_id: &str) -> Option<Application>;

    /// Inserts or replaces the application with the same merchant and `userId`.
    fn save(&self, application: Application);

    /// Every application, in any order.
    fn list(&self) -> Vec<Application>;
}

/// The default [`Store`]: a map behind a mutex, gone when the sandbox stops.
///
/// # Examples
///
/// ```
/// use kyc_sandbox::{MemoryStore, Store};
///
/// let store = MemoryStore::new();
/// assert!(store.list().is_empty());
/// ```
#[derive(Default)]
pub struct MemoryStore {
    applications: Mutex<BTreeMap<(String, String), Application>>,
}

impl MemoryStore {
    /// An empty store.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{MemoryStore, Store};
    ///
    /// assert!(MemoryStore::new().list().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl Store for MemoryStore {
    fn load(&self, merchant_no: &str, user_id: &str) -> Option<Application> {
        let applications = self
            .applications
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        applications
            .get(&(merchant_no.to_owned(), user_id.to_owned()))
            .cloned()
    }

    fn save(&self, application: Application) {
        let mut applications = self
            .applications
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        applications.insert(
            (application.merchant_no.clone(), application.user_id.clone()),
            application,
        );
    }

    fn list(&self) -> Vec<Application> {
        let applications = self
            .applications
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        applications.values().cloned().collect()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self
            .applications
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("MemoryStore")
            .field("applications", &count)
            .finish()
    }
}
