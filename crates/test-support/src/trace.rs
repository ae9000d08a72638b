//! One process-wide capture of everything traced, at `TRACE`, for checking that secrets and
//! personal data never reach a log.
//!
//! Global, not `set_default`: a thread-local subscriber misses events whose callsite interest
//! was cached while another test's thread had none, which made such checks flaky when a whole
//! suite runs in parallel. Other tests' events land in the capture too; none may leak.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tracing_subscriber::fmt::MakeWriter;

/// The captured trace output of the whole test process (formatted, no ANSI colours, span
/// closes included).
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// The process-wide capture: a global subscriber at `TRACE`, installed on first use.
    ///
    /// Panics if something else installed a global subscriber first.
    pub fn global() -> Self {
        static CAPTURE: OnceLock<Capture> = OnceLock::new();
        CAPTURE
            .get_or_init(|| {
                let capture = Capture::default();
                let subscriber = tracing_subscriber::fmt()
                    .with_writer(capture.clone())
                    .with_max_level(tracing::Level::TRACE)
                    .with_ansi(false)
                    .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
                    .finish();
                tracing::subscriber::set_global_default(subscriber)
                    .expect("no other test installs a global subscriber");
                capture
            })
            .clone()
    }

    /// How many bytes were captured so far: a mark to pass to [`since`](Self::since).
    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    /// Whether nothing was captured yet.
    pub fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }

    /// Everything captured after the mark `from` (a [`len`](Self::len)), as text.
    pub fn since(&self, from: usize) -> String {
        String::from_utf8_lossy(&self.bytes()[from..]).into_owned()
    }

    fn bytes(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        // One test panicking while it held the lock does not hide the others' output.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.bytes().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
