//! Where "now" comes from: the workspace's one clock trait and its two clocks.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Timestamp;

/// The source of wall-clock time, in milliseconds since the Unix epoch.
///
/// Nothing in the workspace reads the system clock but [`SystemClock`]: the client stamps
/// requests and the sandbox checks their freshness, moves reviews along and stamps its answers
/// with the `Clock` it was given. Tests hand both the same [`FixedClock`] and move it, so they
/// never sleep.
///
/// # Examples
///
/// ```
/// use kyc_proto::{Clock, FixedClock};
///
/// let clock = FixedClock::new(1_774_925_553_256);
/// assert_eq!(clock.now().as_millis(), 1_774_925_553_256);
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

/// The operating system's wall clock.
///
/// # Examples
///
/// ```
/// use kyc_proto::{Clock, SystemClock};
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
        // A system clock set before 1970 reads as the epoch rather than failing a request.
        let millis = now.duration_since(UNIX_EPOCH).map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        });
        Timestamp::from_millis(millis)
    }
}

/// A clock that moves only when told to; clones share the same time.
///
/// Keep one clone in the test and hand others to the client and the sandbox: one
/// [`advance`](Self::advance) moves them all.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use kyc_proto::{Clock, FixedClock};
///
/// let clock = FixedClock::new(1_774_925_553_256);
/// let shared = clock.clone();
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(shared.now().as_millis(), 1_774_925_555_256);
/// shared.set(42);
/// assert_eq!(clock.now().as_millis(), 42);
/// ```
#[derive(Clone, Default)]
pub struct FixedClock {
    millis: Arc<AtomicU64>,
}

impl FixedClock {
    /// A clock standing at `millis` since the epoch.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{Clock, FixedClock};
    ///
    /// assert_eq!(FixedClock::new(7).now().as_millis(), 7);
    /// ```
    #[must_use]
    pub fn new(millis: u64) -> Self {
        Self {
            millis: Arc::new(AtomicU64::new(millis)),
        }
    }

    /// Moves the clock (and every clone) to `millis`; it may go backwards.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{Clock, FixedClock};
    ///
    /// let clock = FixedClock::new(10);
    /// clock.set(3);
    /// assert_eq!(clock.now().as_millis(), 3);
    /// ```
    pub fn set(&self, millis: u64) {
        self.millis.store(millis, Ordering::SeqCst);
    }

    /// Moves the clock (and every clone) forward by `by`, saturating at `u64::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use kyc_proto::{Clock, FixedClock};
    ///
    /// let clock = FixedClock::new(0);
    /// clock.advance(Duration::from_millis(1500));
    /// assert_eq!(clock.now().as_millis(), 1500);
    /// ```
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        // `fetch_update` with a closure that always returns `Some` cannot fail.
        let _ = self
            .millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(by))
            });
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

impl fmt::Debug for FixedClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FixedClock")
            .field(&self.now().as_millis())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_saturates() {
        let clock = FixedClock::new(u64::MAX - 1);
        clock.advance(Duration::from_secs(10));
        assert_eq!(clock.now().as_millis(), u64::MAX);
        clock.advance(Duration::MAX);
        assert_eq!(clock.now().as_millis(), u64::MAX);
    }

    #[test]
    fn clones_share_the_time() {
        let clock = FixedClock::new(1);
        let clone = clock.clone();
        clone.set(9);
        assert_eq!(clock.now().as_millis(), 9);
        assert_eq!(format!("{clock:?}"), "FixedClock(9)");
    }

    #[test]
    fn arc_dyn_clock_is_a_clock() {
        let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(7));
        assert_eq!(clock.now().as_millis(), 7);
        assert_eq!(Arc::new(clock).now().as_millis(), 7);
    }
}
