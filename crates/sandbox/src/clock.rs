//! Where the sandbox takes the time of day from.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The wall clock of the fake provider, in milliseconds since the Unix epoch.
///
/// The sandbox reads it to check request `timestamp`s for freshness, to move reviews along
/// their schedule, and to stamp responses, callbacks and log entries. It never reads the
/// system clock itself (the workspace allows exactly one such read, in `kyc-client`'s
/// `SystemClock`): a server gets a real clock from its caller, a test gets a [`ManualClock`].
///
/// Delays and timeouts (retries, slow answers, read timeouts) are not taken from this clock
/// but from `tokio::time`, which a test can pause.
///
/// # Examples
///
/// ```
/// use kyc_sandbox::Clock;
///
/// /// A clock that is always at the provider's example timestamp.
/// struct Frozen;
///
/// impl Clock for Frozen {
///     fn now_millis(&self) -> u64 {
///         1_774_925_553_256
///     }
/// }
///
/// assert_eq!(Frozen.now_millis(), 1_774_925_553_256);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_millis(&self) -> u64;
}

/// Any `Fn() -> u64` is a clock: the easiest way to adapt another crate's clock.
///
/// # Examples
///
/// ```
/// use kyc_sandbox::{Clock, ManualClock, Sandbox};
///
/// let source = ManualClock::new(1_774_925_553_256); // stands for, say, kyc-client's SystemClock
/// let sandbox = Sandbox::builder(move || source.now_millis())
///     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl<F> Clock for F
where
    F: Fn() -> u64 + Send + Sync + 'static,
{
    fn now_millis(&self) -> u64 {
        self()
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now_millis(&self) -> u64 {
        (**self).now_millis()
    }
}

/// A clock that moves only when told to; clones share the same time.
///
/// Keep a clone in the test, hand another to the sandbox, then [`advance`](Self::advance) it
/// to move reviews along without sleeping.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use kyc_sandbox::{Clock, ManualClock};
///
/// let clock = ManualClock::new(1_774_925_553_256);
/// let shared = clock.clone();
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(shared.now_millis(), 1_774_925_555_256);
/// shared.set(5);
/// assert_eq!(clock.now_millis(), 5);
/// ```
#[derive(Clone, Default)]
pub struct ManualClock {
    millis: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at `millis` since the epoch.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{Clock, ManualClock};
    ///
    /// assert_eq!(ManualClock::new(42).now_millis(), 42);
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
    /// use kyc_sandbox::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new(10);
    /// clock.set(3);
    /// assert_eq!(clock.now_millis(), 3);
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
    /// use kyc_sandbox::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new(0);
    /// clock.advance(Duration::from_millis(1500));
    /// assert_eq!(clock.now_millis(), 1500);
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

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        self.millis.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock")
            .field(&self.now_millis())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_saturates() {
        let clock = ManualClock::new(u64::MAX - 1);
        clock.advance(Duration::from_secs(10));
        assert_eq!(clock.now_millis(), u64::MAX);
    }

    #[test]
    fn arc_dyn_clock_is_a_clock() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(7));
        assert_eq!(clock.now_millis(), 7);
    }
}
