//! The accept-error policy: which errors concern one connection, which the whole process, how
//! long to wait before accepting again, and how often to say so.

use std::io;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Sleep;

/// The first pause after an accept error that is not about one connection.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause: a listener out of descriptors tries again at least once a second.
const LONGEST_PAUSE: Duration = Duration::from_secs(1);
/// After a failure is logged, the next ones are counted and summed up once per this window.
const REPORT_WINDOW: Duration = Duration::from_secs(60);

/// What an accept error says about the listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// One pending connection failed before it was accepted (reset, aborted, a network error
    /// Linux reports on the new socket): accept the next one at once.
    Connection,
    /// The process or the system ran out of descriptors, buffers or memory: nothing can be
    /// accepted until something is freed, so pause instead of spinning.
    Exhausted,
    /// Anything else: not expected from a listening socket; pause the same way, so that a
    /// condition that clears by itself is survived and one that does not is not a busy loop.
    Unexpected,
}

impl Failure {
    /// Sorts an error from `TcpListener::accept`.
    pub(crate) fn of(error: &io::Error) -> Self {
        use io::ErrorKind::{
            ConnectionAborted, ConnectionReset, HostUnreachable, Interrupted, NetworkDown,
            NetworkUnreachable, OutOfMemory, TimedOut, WouldBlock,
        };
        match error.kind() {
            ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | TimedOut
            | NetworkDown | NetworkUnreachable | HostUnreachable => return Self::Connection,
            OutOfMemory => return Self::Exhausted,
            _ => {}
        }
        match error.raw_os_error() {
            Some(code) => Self::of_errno(code),
            None => Self::Unexpected,
        }
    }

    #[cfg(unix)]
    fn of_errno(code: i32) -> Self {
        // accept(2) on Linux passes the new socket's pending network errors on, and asks
        // callers to treat these like EAGAIN: they are about the connection, not the listener.
        const NETWORK: &[i32] = &[
            libc::EPROTO,
            libc::ENOPROTOOPT,
            libc::EHOSTDOWN,
            libc::EOPNOTSUPP,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            libc::ENONET,
            // Linux: a firewall rule refused this one connection.
            #[cfg(any(target_os = "linux", target_os = "android"))]
            libc::EPERM,
        ];
        const EXHAUSTED: &[i32] = &[libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM];
        if NETWORK.contains(&code) {
            Self::Connection
        } else if EXHAUSTED.contains(&code) {
            Self::Exhausted
        } else {
            Self::Unexpected
        }
    }

    #[cfg(not(unix))]
    fn of_errno(_code: i32) -> Self {
        Self::Unexpected
    }
}

/// The pauses of one streak of failed accepts: 10 ms, doubling up to 1 s, and back to 10 ms
/// after an accept succeeds. Pure: the caller sleeps.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        Self { next: FIRST_PAUSE }
    }

    /// Returns how long to pause after a failure, and doubles the next pause.
    pub(crate) fn failed(&mut self) -> Duration {
        let pause = self.next;
        self.next = (pause * 2).min(LONGEST_PAUSE);
        pause
    }

    /// Ends the streak: the next failure pauses 10 ms again.
    pub(crate) fn succeeded(&mut self) {
        self.next = FIRST_PAUSE;
    }
}

/// Rate-limited logging of accept failures: the first failure is logged at once with its error;
/// the failures in the minute after it are counted and logged as one line at the end of that
/// minute (and so on while they go on); a minute without failures is logged as the end of the
/// trouble. A listener out of descriptors under a burst thus writes a few lines, not thousands.
///
/// The window is a tokio sleep, not a clock reading: [`window_over`](Self::window_over) must be
/// polled beside the accept.
#[derive(Debug, Default)]
pub(crate) struct Reports {
    window: Option<Pin<Box<Sleep>>>,
    unreported: u64,
}

impl Reports {
    pub(crate) fn failed(&mut self, failure: Failure, error: &io::Error) {
        if self.window.is_some() {
            self.unreported += 1;
            return;
        }
        match failure {
            Failure::Exhausted => tracing::warn!(
                %error,
                "accept failed: out of file descriptors, buffers or memory; pausing and \
                 retrying (further failures are summed up once a minute)"
            ),
            Failure::Unexpected | Failure::Connection => tracing::error!(
                %error,
                "accept failed unexpectedly; pausing and retrying (further failures are summed \
                 up once a minute)"
            ),
        }
        self.window = Some(Box::pin(tokio::time::sleep(REPORT_WINDOW)));
    }

    /// Whether a window is open (only then is [`window_over`](Self::window_over) worth polling).
    pub(crate) fn is_counting(&self) -> bool {
        self.window.is_some()
    }

    /// Completes when the open window is over; never when none is open.
    pub(crate) async fn window_over(&mut self) {
        match &mut self.window {
            Some(window) => window.as_mut().await,
            None => std::future::pending().await,
        }
    }

    /// Logs what the window counted; opens the next one if anything failed in it.
    pub(crate) fn close_window(&mut self) {
        let failures = std::mem::take(&mut self.unreported);
        if failures == 0 {
            self.window = None;
            tracing::info!("accepting connections again: no accept failed for a minute");
        } else {
            tracing::warn!(failures, "accept kept failing over the last minute");
            self.window = Some(Box::pin(tokio::time::sleep(REPORT_WINDOW)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errno(code: i32) -> io::Error {
        io::Error::from_raw_os_error(code)
    }

    #[test]
    fn per_connection_errors_are_skipped() {
        for kind in [
            io::ErrorKind::ConnectionAborted,
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::Interrupted,
            io::ErrorKind::TimedOut,
            io::ErrorKind::NetworkUnreachable,
        ] {
            assert_eq!(
                Failure::of(&io::Error::from(kind)),
                Failure::Connection,
                "{kind:?}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn errno_values_of_one_connection_are_skipped() {
        for code in [
            libc::ECONNABORTED,
            libc::ECONNRESET,
            libc::EINTR,
            libc::EPROTO,
            libc::ENOPROTOOPT,
            libc::EHOSTDOWN,
            libc::EHOSTUNREACH,
            libc::ENETDOWN,
            libc::ENETUNREACH,
            libc::EOPNOTSUPP,
            libc::ETIMEDOUT,
        ] {
            assert_eq!(
                Failure::of(&errno(code)),
                Failure::Connection,
                "errno {code}"
            );
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn linux_firewall_and_no_network_refusals_are_skipped() {
        assert_eq!(Failure::of(&errno(libc::EPERM)), Failure::Connection);
        assert_eq!(Failure::of(&errno(libc::ENONET)), Failure::Connection);
    }

    #[cfg(unix)]
    #[test]
    fn running_out_of_descriptors_buffers_or_memory_is_exhaustion() {
        for code in [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM] {
            assert_eq!(
                Failure::of(&errno(code)),
                Failure::Exhausted,
                "errno {code}"
            );
        }
        assert_eq!(
            Failure::of(&io::Error::from(io::ErrorKind::OutOfMemory)),
            Failure::Exhausted
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_broken_listener_is_unexpected() {
        for code in [libc::EBADF, libc::EINVAL, libc::ENOTSOCK, libc::EFAULT] {
            assert_eq!(
                Failure::of(&errno(code)),
                Failure::Unexpected,
                "errno {code}"
            );
        }
        assert_eq!(Failure::of(&io::Error::other("odd")), Failure::Unexpected);
    }

    #[test]
    fn pauses_double_from_10_ms_to_1_s_and_reset_on_success() {
        let mut backoff = Backoff::new();
        let pauses: Vec<u64> = (0..9)
            .map(|_| u64::try_from(backoff.failed().as_millis()).unwrap())
            .collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        backoff.succeeded();
        assert_eq!(backoff.failed(), Duration::from_millis(10));
        assert_eq!(backoff.failed(), Duration::from_millis(20));
    }

    #[tokio::test(start_paused = true)]
    async fn failures_after_the_first_are_counted_until_the_window_is_over() {
        let exhausted = errno_or_memory();
        let mut reports = Reports::default();
        assert!(!reports.is_counting());
        reports.failed(Failure::Exhausted, &exhausted);
        assert!(reports.is_counting());
        for _ in 0..1000 {
            reports.failed(Failure::Exhausted, &exhausted);
        }
        assert_eq!(reports.unreported, 1000);
        reports.window_over().await; // paused time: jumps a minute
        reports.close_window();
        assert!(
            reports.is_counting(),
            "failures in the window open the next one"
        );
        assert_eq!(reports.unreported, 0);
        reports.window_over().await;
        reports.close_window();
        assert!(!reports.is_counting(), "a quiet minute ends the trouble");
    }

    fn errno_or_memory() -> io::Error {
        io::Error::from(io::ErrorKind::OutOfMemory)
    }
}
