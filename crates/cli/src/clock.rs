//! The sandbox reads time through its own `Clock` trait; the CLI hands it the client's system
//! clock, the workspace's one reader of the wall clock.

use kyc_client::{Clock as _, SystemClock};

/// The wall clock, as the sandbox wants it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WallClock;

impl kyc_sandbox::Clock for WallClock {
    fn now_millis(&self) -> u64 {
        SystemClock.now().as_millis()
    }
}
