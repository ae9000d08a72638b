//! A faithful fake of the KYC Authentication 2.0 provider, for offline development and tests.
//!
//! It serves `POST {base}/v1/vexora/kycApplyFor` (multipart) and
//! `POST {base}/v1/vexora/kycStatusQuery` (JSON) under a configurable base path (`/japan` by
//! default), over HTTP or HTTPS with a generated self-signed certificate, and it is as strict
//! as the real provider is documented to be: a request with an unknown `merchantNo`, a missing
//! or wrong `sign`, a missing field, a bad furigana, a stale or non-numeric `timestamp`, the
//! wrong content type, a chunked or oversized body is refused with the provider's envelope and
//! one of the sandbox's own codes ([`RefusalCode`], `S1xx`). Malformed, truncated and garbage
//! bodies get a 4xx; nothing a client sends makes it panic.
//!
//! Applications move `0` → `1` → `2`/`3` on a schedule read from an injected [`Clock`] (the
//! workspace's one clock trait, from `kyc-proto`, as `kyc-client` uses it), and
//! their fate is chosen by the `userId` prefix ([`Scenario`]): `approve-…` (the default),
//! `reject-…`, `review-…`, `pending-…`, and provider faults for client tests (`fault500`,
//! `fault8000`, `fault5000`, `slow`, `drop`, each optionally counted: `fault500x2-…` fails
//! twice, then succeeds). On a final status the sandbox POSTs the signed callback to the
//! `callBackUrl`, requires a plain `OK`, and retries on the provider's schedule
//! ([`PROVIDER_RETRY_SCHEDULE`]) scaled by a configurable time scale. Every request and
//! callback attempt is in a [`Log`], from [`Running::log`] or `GET {base}/_sandbox/log`.
//!
//! What it deliberately is not: it does not use the workspace's encoder or client (the
//! multipart parser is `multer`), so a bug in them cannot be hidden by a matching bug here; it
//! takes the time from the clock it is given; it keeps no names (furigana are checked, then
//! forgotten); and it delivers callbacks over plain `http://` only.
//!
//! # Examples
//!
//! On the wall clock, for a client with its default clock ([`SystemClock`]):
//!
//! ```
//! use kyc_sandbox::{Sandbox, SystemClock};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let running = Sandbox::builder(SystemClock)
//!     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
//!     .build()?
//!     .start("127.0.0.1:0")
//!     .await?;
//! let base_url = running.base_url(); // "http://127.0.0.1:<port>/japan": give it to the client
//! # let _ = base_url;
//! running.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! In a test, on a [`FixedClock`] that the test moves (hand a clone to the client as well):
//!
//! ```
//! use std::time::Duration;
//!
//! use kyc_sandbox::{FixedClock, Sandbox};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let clock = FixedClock::new(1_774_925_553_256);
//! let running = Sandbox::builder(clock.clone())
//!     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
//!     .review_schedule(Duration::from_secs(1), Duration::from_secs(3))
//!     .time_scale(0.001)
//!     .build()?
//!     .start("127.0.0.1:0")
//!     .await?;
//! clock.advance(Duration::from_secs(3));
//! running.tick();
//! let log = running.log(); // also GET {base}/_sandbox/log
//! assert!(log.callbacks.is_empty());
//! running.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//!
//! None: HTTP/1.1, HTTP/2 and HTTPS are always built in.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod admin;
mod callback;
mod code;
mod config;
mod control;
mod engine;
mod error;
mod log;
mod parse;
mod schedule;
mod scenario;
mod server;
mod service;
mod store;
mod trust;

#[doc(hidden)]
pub mod fuzzing;

pub use code::RefusalCode;
pub use config::{
    DEFAULT_BASE_PATH, PROVIDER_RETRY_SCHEDULE, SCENARIO_FAIL_REASON, Sandbox, SandboxBuilder,
};
pub use control::{Decision, MAX_FAIL_REASON_CHARS};
pub use error::Error;
pub use kyc_proto::{Clock, FixedClock, SystemClock};
pub use log::{CallbackOutcome, CallbackRecord, Endpoint, Log, RequestRecord};
pub use scenario::{CallbackMode, Fault, Outcome, Scenario};
pub use server::Running;
pub use store::{MemoryStore, Review, Store};
