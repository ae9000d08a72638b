//! Where the client's sense of "now" comes from.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::types::Timestamp;

/// The source of request timestamps (epoch milliseconds).
///
/// The client never reads the system clock itself: it asks its `Clock`, which is
/// [`SystemClock`] unless the builder was given another, so tests run on a [`FixedClock`]
/// without sleeping.
///
/// # Examples
///
/// ```
/// use kyc_client::{Clock, FixedClock};
///
/// let clock = FixedClock::new(1_774_925_553_256);
/// assert_eq!(clock.now().as_millis(), 1_774_925_553_256);
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time, in milliseconds since the Unix epoch.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
///
/// # Examples
///
/// ```
/// use kyc_client::{Clock, SystemClock};
///
/// // Any date after this SDK was written.
/// assert!(SystemClock.now().as_millis() > 1_700_000_000_000);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        // The workspace's one read of the wall clock (clippy.toml bans it everywhere else):
        // everything that needs "now" is handed a `Clock`, so tests can fix time.
        #[allow(clippy::disallowed_methods)]
        let now = SystemTime::now();
        let millis = now.duration_since(UNIX_EPOCH).map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        });
        Timestamp::from_millis(millis)
    }
}

/// A clock that only moves when told to: for tests and replays.
///
/// # Examples
///
/// ```
/// use kyc_client::{Clock, FixedClock};
///
/// let clock = FixedClock::new(1_000);
/// clock.advance(500);
/// assert_eq!(clock.now().as_millis(), 1_500);
/// clock.set(42);
/// assert_eq!(clock.now().as_millis(), 42);
/// ```
#[derive(Debug, Default)]
pub struct FixedClock {
    millis: AtomicU64,
}

impl FixedClock {
    /// A clock standing at `millis` since the epoch.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::{Clock, FixedClock};
    /// assert_eq!(FixedClock::new(7).now().as_millis(), 7);
    /// ```
    #[must_use]
    pub const fn new(millis: u64) -> Self {
        Self {
            millis: AtomicU64::new(millis),
        }
    }

    /// Moves the clock to `millis`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::{Clock, FixedClock};
    /// let clock = FixedClock::new(7);
    /// clock.set(9);
    /// assert_eq!(clock.now().as_millis(), 9);
    /// ```
    pub fn set(&self, millis: u64) {
        self.millis.store(millis, Ordering::SeqCst);
    }

    /// Moves the clock forward by `millis`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::{Clock, FixedClock};
    /// let clock = FixedClock::new(7);
    /// clock.advance(3);
    /// assert_eq!(clock.now().as_millis(), 10);
    /// ```
    pub fn advance(&self, millis: u64) {
        self.millis.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.millis.load(Ordering::SeqCst))
    }
}
