//! When and how long to wait before trying a call again; the loop that does it is in
//! `call`.

use std::time::Duration;

mod call;

pub(crate) use call::{Caller, Operation, Sending, monotonic_now};

/// Capped exponential backoff with full jitter, bounded by a number of attempts; the client's
/// total timeout bounds it in time as well.
///
/// Retry `n` (counting from 0) waits a uniformly random time in
/// `[0, min(max_backoff, initial_backoff × 2ⁿ)]` ("full jitter"), so that many clients failing
/// together do not come back together.
///
/// What is retried is decided by the error, not by the policy: see
/// [`Error::is_retryable`](crate::Error::is_retryable).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kyc_client::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_backoff(Duration::from_millis(100), Duration::from_secs(2));
/// assert_eq!(policy.max_attempts(), 5);
/// assert!(policy.backoff_ceiling(10) <= Duration::from_secs(2));
/// assert_eq!(RetryPolicy::never().max_attempts(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl RetryPolicy {
    /// No retries: every call is attempted once.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_client::RetryPolicy::never().max_attempts(), 1);
    /// ```
    #[must_use]
    pub const fn never() -> Self {
        Self {
            max_attempts: 1,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
        }
    }

    /// Sets how many attempts a call may make in all (at least one).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_client::RetryPolicy::default().with_max_attempts(6).max_attempts(), 6);
    /// ```
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first backoff ceiling and the cap the doubling stops at.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = kyc_client::RetryPolicy::default().with_backoff(Duration::from_millis(50), Duration::from_secs(1));
    /// assert_eq!(policy.backoff_ceiling(0), Duration::from_millis(50));
    /// ```
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// How many attempts a call may make in all.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_client::RetryPolicy::default().max_attempts(), 4);
    /// ```
    #[must_use]
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The longest wait before retry `retry` (0 for the first retry).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = kyc_client::RetryPolicy::default(); // 200 ms doubling, capped at 5 s
    /// assert_eq!(policy.backoff_ceiling(1), Duration::from_millis(400));
    /// assert_eq!(policy.backoff_ceiling(20), Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .map_or(self.max_backoff, |ceiling| ceiling.min(self.max_backoff))
    }

    /// The wait before retry `retry`, drawn with full jitter from `unit`, a number in `[0, 1)`.
    pub(crate) fn backoff(&self, retry: u32, unit: f64) -> Duration {
        self.backoff_ceiling(retry).mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// Four attempts, backoff from 200 ms doubling up to 5 s.
impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// A uniformly random number in `[0, 1)` for jitter. Jitter needs no cryptographic quality; the
/// operating system's source is used because it needs no state and no seed management.
pub(crate) fn jitter_unit() -> f64 {
    let bits = getrandom::u64().unwrap_or(0x9e37_79b9_7f4a_7c15);
    // 53 random bits make every f64 in [0, 1) with that spacing equally likely.
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_then_caps() {
        let policy = RetryPolicy::default()
            .with_backoff(Duration::from_millis(100), Duration::from_millis(650));
        let ceilings: Vec<_> = (0..5)
            .map(|n| policy.backoff_ceiling(n).as_millis())
            .collect();
        assert_eq!(ceilings, [100, 200, 400, 650, 650]);
        assert_eq!(policy.backoff_ceiling(u32::MAX), Duration::from_millis(650));
    }

    #[test]
    fn jitter_stays_under_the_ceiling() {
        let policy = RetryPolicy::default();
        for retry in 0..10 {
            for unit in [0.0, 0.5, 0.999_999, 1.0, jitter_unit()] {
                assert!(policy.backoff(retry, unit) <= policy.backoff_ceiling(retry));
            }
        }
        assert!((0.0..1.0).contains(&jitter_unit()));
    }

    #[test]
    fn at_least_one_attempt() {
        assert_eq!(
            RetryPolicy::default().with_max_attempts(0).max_attempts(),
            1
        );
    }
}
