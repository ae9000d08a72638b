//! Where the reviews of applications live: a small trait and its in-memory implementation.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use kyc_proto::AuthenticationStatus;

use crate::Outcome;

/// The sandbox's record of one merchant's application for one `userId`: what was asked for
/// and how far its review has got.
///
/// The furigana is checked and then forgotten: the sandbox stores no name. `Debug` leaves out
/// the `failReason` (it is about a person).
///
/// # Examples
///
/// ```
/// use kyc_sandbox::{FixedClock, Review, Sandbox};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let running = Sandbox::builder(FixedClock::new(1_774_925_553_256))
///     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
///     .build()?
///     .start("127.0.0.1:0")
///     .await?;
/// // Nothing applied yet; after an application, `running.application(…)` returns its review.
/// let review: Option<Review> = running.application("1027749636", "abc_100008");
/// assert!(review.is_none());
/// running.shutdown().await;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Review {
    pub(crate) merchant_no: String,
    pub(crate) user_id: String,
    pub(crate) callback_url: String,
    pub(crate) outcome: Outcome,
    pub(crate) applied_at_millis: u64,
    pub(crate) status: AuthenticationStatus,
    pub(crate) fail_reason: Option<String>,
    pub(crate) decided_at_millis: Option<u64>,
    pub(crate) changed_at_millis: u64,
}

impl Review {
    /// The merchant that applied.
    #[must_use]
    pub fn merchant_no(&self) -> &str {
        &self.merchant_no
    }

    /// The merchant's `userId`.
    #[must_use]
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The `callBackUrl` the final result is POSTed to.
    #[must_use]
    pub fn callback_url(&self) -> &str {
        &self.callback_url
    }

    /// The outcome chosen by the `userId` (see [`crate::Scenario`]), or by the last decision on
    /// demand ([`Running::decide`](crate::Running::decide)).
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// When the application was accepted, by the sandbox's clock (epoch milliseconds).
    #[must_use]
    pub fn applied_at_millis(&self) -> u64 {
        self.applied_at_millis
    }

    /// The `authenticationStatus` as of the last time the sandbox looked at the clock.
    #[must_use]
    pub fn status(&self) -> &AuthenticationStatus {
        &self.status
    }

    /// The `failReason` of a rejected application.
    #[must_use]
    pub fn fail_reason(&self) -> Option<&str> {
        self.fail_reason.as_deref()
    }

    /// When the review reached its final status (epoch milliseconds), if it has.
    #[must_use]
    pub fn decided_at_millis(&self) -> Option<u64> {
        self.decided_at_millis
    }

    /// When the status last changed, by the sandbox's clock (epoch milliseconds): the
    /// acceptance, the move to under review, the decision.
    #[must_use]
    pub fn changed_at_millis(&self) -> u64 {
        self.changed_at_millis
    }
}

impl fmt::Debug for Review {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Review")
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
            .field("changed_at_millis", &self.changed_at_millis)
            .finish()
    }
}

/// Storage for [`Review`]s, keyed by merchant number and `userId`.
///
/// The sandbox serialises its own read-modify-write sequences, so an implementation only
/// needs each call to be atomic by itself. Implementations must not panic.
///
/// The review tick never calls [`list`](Self::list): the sandbox keeps the next move of each
/// open review in an index, filled from `list` once when it starts and kept up to date by its
/// own saves. A review put into the store by someone else while the sandbox runs moves when it
/// is queried, applied for again or decided.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// use kyc_sandbox::{FixedClock, MemoryStore, Sandbox};
///
/// let store = Arc::new(MemoryStore::new());
/// let sandbox = Sandbox::builder(FixedClock::new(0))
///     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
///     .store(store.clone())
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Store: Send + Sync + 'static {
    /// The review of `user_id`'s application with `merchant_no`, if any.
    fn load(&self, merchant_no: &str, user_id: &str) -> Option<Review>;

    /// Inserts or replaces the review with the same merchant and `userId`.
    fn save(&self, review: Review);

    /// Every review, in any order.
    fn list(&self) -> Vec<Review>;
}

/// The default [`Store`]: a map per merchant behind a mutex, gone when the sandbox stops.
///
/// Hash maps keyed by merchant number, then `userId`: a lookup borrows the caller's strings
/// (no allocation) and costs the same with ten applications or a million.
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
    reviews: Mutex<HashMap<String, HashMap<String, Review>>>,
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
    fn load(&self, merchant_no: &str, user_id: &str) -> Option<Review> {
        let reviews = self.reviews.lock().unwrap_or_else(PoisonError::into_inner);
        reviews.get(merchant_no)?.get(user_id).cloned()
    }

    fn save(&self, review: Review) {
        let mut reviews = self.reviews.lock().unwrap_or_else(PoisonError::into_inner);
        let merchant = match reviews.get_mut(review.merchant_no.as_str()) {
            Some(merchant) => merchant,
            None => reviews.entry(review.merchant_no.clone()).or_default(),
        };
        match merchant.get_mut(review.user_id.as_str()) {
            Some(stored) => *stored = review,
            None => {
                merchant.insert(review.user_id.clone(), review);
            }
        }
    }

    fn list(&self) -> Vec<Review> {
        let reviews = self.reviews.lock().unwrap_or_else(PoisonError::into_inner);
        reviews
            .values()
            .flat_map(HashMap::values)
            .cloned()
            .collect()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count: usize = self
            .reviews
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(HashMap::len)
            .sum();
        f.debug_struct("MemoryStore")
            .field("reviews", &count)
            .finish()
    }
}
