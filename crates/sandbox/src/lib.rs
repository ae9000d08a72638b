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
//! their fate is chosen by the `userId` prefix ([`Scenario`]): `approve-…` (the default, see
//! [`SandboxBuilder::default_outcome`]), `reject-…`, `review-…`, `pending-…`, `hold-…` (waits
//! for a decision on demand); callback scenarios `lost-…` (never delivered: reconcile by status
//! query), `twice-…` (delivered twice) and `late-…` (delivered after the status query already
//! showed the result); and provider faults for client tests (`fault500`, `fault8000`,
//! `fault5000`, `slow`, `drop`, each optionally counted: `fault500x2-…` fails twice, then
//! succeeds). On a final status the sandbox POSTs the signed callback to the `callBackUrl`
//! (`http://` or `https://`: system roots, roots given with
//! [`SandboxBuilder::callback_root_pem`], or any certificate with the explicit
//! [`SandboxBuilder::danger_accept_invalid_callback_certs`]), requires a plain `OK`, and
//! retries on the provider's schedule ([`PROVIDER_RETRY_SCHEDULE`]) scaled by a configurable
//! time scale. Every request and callback attempt is in a [`Log`], from [`Running::log`] or
//! `GET {base}/_sandbox/log`.
//!
//! # Outcomes on demand
//!
//! Any pending or under-review application can be decided now — approved, rejected with a
//! `failReason`, or held under review ([`Decision`]) — and a decided one's callback resent
//! (the same body, as the provider resends it). Three ways, one behaviour:
//!
//! - the library: [`Running::decide`], [`Running::resend`];
//! - HTTP JSON: `POST {base}/_sandbox/decide` with
//!   `{"userId":"…","decision":"approve"|"reject"|"hold","failReason":"…","merchantNo":"…"}`
//!   and `POST {base}/_sandbox/resend` with `{"userId":"…","merchantNo":"…"}` (`merchantNo`
//!   may be left out when one merchant has the `userId`). Refusals are a 4xx with
//!   `{"error":{"code":"…","message":"…"}}` ([`Error::control_code`] lists the codes);
//! - the command line: `kyc sandbox decide --sandbox URL --user-id U --approve` (crate
//!   `kyc-cli`).
//!
//! A page at `GET {base}/_sandbox/` ([`Running::dashboard_url`]) lists every application and
//! callback attempt, follows new ones by polling `GET {base}/_sandbox/state` once a second, and
//! has approve, reject and resend buttons. It is one self-contained HTML file (no external
//! asset) and shows no personal data: no name, no furigana, no `failReason`.
//!
//! # Scale and memory
//!
//! A review tick reads only the reviews that are due: open reviews sit in an index by the time
//! of their next move, and final ones (or ones that never move by themselves) are not in it.
//! Throughput therefore does not fall as applications accumulate (the `throughput` bench:
//! `cargo bench -p kyc-sandbox --bench throughput`: over 20 s with distinct users, the last
//! 5 s kept 0.94 to 0.99 of the first 5 s' applies per second, where a full copy per tick fell
//! to 0.23). Each stored application costs at most about 650 bytes in the default
//! [`MemoryStore`] (measured by that bench as resident-set growth per application: 515 to 650
//! bytes over 220 000 to 370 000 of them: the review with its merchant number, `userId` and
//! `callBackUrl`, and its map entry), plus about 200 bytes while it waits for its next move in
//! the review index (two entries holding its key). Fault counters exist only for ids that
//! name faults. The log is bounded separately
//! ([`SandboxBuilder::log_capacity`]). Nothing is ever evicted: a sandbox is for tests and
//! development sessions, not for months of traffic.
//!
//! What it deliberately is not: it does not use the workspace's encoder or client (the
//! multipart parser is `multer`), so a bug in them cannot be hidden by a matching bug here; it
//! takes the time from the clock it is given; and it keeps no names (furigana are checked, then
//! forgotten).
//!
//! # Examples
//!
//! A merchant's test, with `kyc-sandbox` and `kyc-client` as dev-dependencies: start the
//! sandbox, apply with the client, decide, await the callback.
//!
//! ```
//! use kyc_client::types::{Application, Callback, CallbackUrl, Furigana, UserId};
//! use kyc_client::{CallbackService, Client, Environment, serve_callbacks};
//! use kyc_sandbox::{Decision, FixedClock, Outcome, Sandbox};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! // One clock for both: the client's timestamps are the sandbox's time.
//! let clock = FixedClock::new(1_774_925_553_256);
//! let running = Sandbox::builder(clock.clone())
//!     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
//!     .default_outcome(Outcome::Hold) // nothing is decided until the test says so
//!     .build()?
//!     .start("127.0.0.1:0")
//!     .await?;
//! let client = Client::builder()
//!     .environment(Environment::custom(running.base_url())?)
//!     .merchant_no("1027749636")
//!     .app_secret("TEST_SECRET_DO_NOT_USE")
//!     .clock(clock.clone())
//!     .build()?;
//!
//! // The merchant's callback endpoint: verified callbacks go down a channel.
//! let (tx, mut callbacks) = tokio::sync::mpsc::unbounded_channel::<Callback>();
//! let service = CallbackService::new(&client, move |callback: Callback| {
//!     let tx = tx.clone();
//!     async move { tx.send(callback).map_err(|_| "test over") }
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let callback_url = format!("http://{}/kyc/callback", listener.local_addr()?);
//! tokio::spawn(serve_callbacks(listener, service, std::future::pending::<()>()));
//!
//! let user = UserId::new("abc_100008")?;
//! let application = Application::new(
//!     user.clone(),
//!     CallbackUrl::new_allow_http(&callback_url)?, // plain http: a local test receiver
//!     Furigana::new("テスト014")?,
//! );
//! client.apply(&application).await?;
//!
//! running.decide("1027749636", "abc_100008", Decision::Approve)?;
//! let callback = callbacks.recv().await.expect("the sandbox calls back");
//! assert!(callback.status().is_approved());
//! assert_eq!(callback.user_id(), &user);
//! assert!(client.status(&user).await?.authentication_status().is_approved());
//! running.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
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
//! None: HTTP/1.1, HTTP/2 and HTTPS (served, and for callbacks) are always built in; TLS is
//! rustls on the ring provider.

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
mod scenario;
mod schedule;
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
