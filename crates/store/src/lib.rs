//! The merchant's KYC ledger: every application, verified callback and status answer per
//! user, in SQLite (default, one file, no server) or PostgreSQL (several receivers and
//! reconcilers behind a load balancer), and each user's current state derived from them.
//!
//! What it deliberately is not: no HTTP (a receiver plugs [`Ledger::callback_handler`] into
//! `kyc_client::CallbackService`), no clock (every time is an argument), no set of seen
//! callbacks in memory (the database's unique key decides, across processes).
//!
//! # Rules
//!
//! 1. **An event's identity is its content.** A callback's is a digest of every signed field
//!    (`userId`, `authenticationStatus`, `timestamp`, `failReason` when present, and any extra
//!    field the provider adds); a status answer's covers the user asked about, its time and
//!    every field of the answer; an application's, the user, its time and its outcome. The
//!    digest is the table's unique key and events are inserted with `ON CONFLICT DO NOTHING`,
//!    so the provider's retries of one body, whichever receiver or replica gets them, are
//!    recorded once ([`Recorded::Duplicate`]); two bodies differing in any signed field
//!    (`failReason` included) are two events.
//! 2. **The current state follows the provider's timestamps.** Of a user's events that carry
//!    a status, the one that decides is the greatest by `(timestamp, final, status,
//!    failReason, identity)`, where final (approved, rejected) sorts above not final: a later
//!    event replaces an earlier one, and a non-final event (`0`, `1`, or a status added later)
//!    as old as or older than a final one never replaces it. An event kept in the history
//!    without changing the state is [`Recorded::Stale`]. Texts compare byte by byte (no
//!    `failReason` as an empty one), whatever the database's collation, so both backends
//!    decide alike. The order is total, so any order of delivering the same events ends in
//!    the same state.
//! 3. **A new application opens a new attempt.** An accepted application is an event with the
//!    status its answer carried (usually pending) at its own time: after a rejection, a later
//!    application makes the user pending again, and the history keeps the earlier attempt
//!    ([`Event::attempt`]). A refused application carries no status: history only. The
//!    application's time comes from the caller; pass the answer's timestamp (the provider's
//!    clock, like the callbacks') when it has one.
//! 4. **A record is one transaction, and returns after commit.** Answer the provider `OK` only
//!    when `record_callback` returned `Ok` (then the event is on disk: SQLite runs in WAL mode
//!    with `synchronous=FULL`). A failed write (full disk, lost connection, timeout) is an
//!    [`Error`] and the transaction is rolled back: nothing half-written remains. The
//!    transaction runs on its own task, so a caller that stops waiting (a timeout) does not
//!    cut it: it still commits or rolls back whole, and a retry of a write that did commit
//!    is a duplicate, never a second event. On SQLite, which has one writer at a time, the
//!    records waiting at the same moment are committed together by one writer task, on a
//!    connection of its own (one sync to disk for the group); each call still returns only
//!    after the commit that holds its record, and a failed group fails every call in it.
//!    Records written together end exactly as if written one by one. Calls need a Tokio
//!    runtime.
//! 5. **Reconciliation** polls users whose status is not final and whose latest
//!    status-carrying event is older than a cut-off ([`DEFAULT_CUTOFF`], 25 h: past the
//!    provider's retry window). [`Ledger::claim_due`] takes them under a lease (PostgreSQL:
//!    `FOR UPDATE SKIP LOCKED`; SQLite: one write transaction), so concurrent reconcilers never
//!    poll the same user within the lease; the recorded answer then moves the user's latest
//!    event forward, so the user is not due again until the cut-off has passed once more.
//!    With the `client` feature, `reconcile::Reconciler` does all of this at a bounded rate.
//!
//! The schema is one set of tables, migrated on connect from scripts embedded in the crate
//! (`migrations/sqlite`, `migrations/postgres`), versioned in `_sqlx_migrations`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//!
//! use kyc_proto::{AuthenticationStatus, Callback, StatusData, Timestamp, UserId};
//! use kyc_store::{ApplicationOutcome, EventKind, Ledger, Recorded};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let dir = tempfile::tempdir()?;
//! let ledger = Ledger::connect(&format!("sqlite://{}/kyc.db", dir.path().display())).await?;
//! let user = UserId::new("abc_100008")?;
//! let t = Timestamp::from_millis;
//!
//! let accepted = ApplicationOutcome::Accepted(AuthenticationStatus::Pending);
//! ledger.record_application(&user, t(1_000), &accepted).await?;
//!
//! let rejected = Callback::new(user.clone(), AuthenticationStatus::Rejected, Some("blurred".into()), t(2_000));
//! assert_eq!(ledger.record_callback(&rejected).await?, Recorded::New);
//! assert_eq!(ledger.record_callback(&rejected).await?, Recorded::Duplicate); // a retry
//! let late = Callback::new(user.clone(), AuthenticationStatus::UnderReview, None, t(1_500));
//! assert_eq!(ledger.record_callback(&late).await?, Recorded::Stale);
//!
//! let state = ledger.state(&user).await?.expect("recorded");
//! assert_eq!(state.status(), Some(&AuthenticationStatus::Rejected));
//! let kinds: Vec<_> = ledger.history(&user).await?.iter().map(|e| e.kind()).collect();
//! assert_eq!(kinds, [EventKind::Application, EventKind::Callback, EventKind::Callback]);
//!
//! // A new application after the rejection: attempt 2, pending, due for reconciliation
//! // once 25 hours pass without news.
//! ledger.record_application(&user, t(3_000), &accepted).await?;
//! let hour = 3_600_000;
//! let later = t(3_000 + 26 * hour);
//! let lease = Duration::from_secs(600);
//! let due = ledger.claim_due(later, kyc_store::DEFAULT_CUTOFF, lease, 100).await?;
//! assert_eq!(due, [user.clone()]);
//! assert!(ledger.claim_due(later, kyc_store::DEFAULT_CUTOFF, lease, 100).await?.is_empty());
//! let answer = StatusData::new(AuthenticationStatus::Approved);
//! ledger.record_status(&user, &answer, later).await?;
//! assert_eq!(ledger.counts().await?.of(&AuthenticationStatus::Approved), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//!
//! - `sqlite` (default): SQLite, compiled in (sqlx's bundled `libsqlite3`).
//! - `postgres`: PostgreSQL; TLS through rustls with the webpki roots, never OpenSSL.
//! - `client`: `reconcile::Reconciler`, which queries the provider through `kyc-client`
//!   about the users due (rule 5) and records the answers.
//!
//! At least one is needed. A URL for a backend left out is [`ErrorKind::Url`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("kyc-store needs a backend: enable the `sqlite` or the `postgres` feature");

mod error;
mod identity;
mod ledger;
mod migrations;
#[cfg(feature = "client")]
pub mod reconcile;
mod record;
mod rows;
mod sql;
mod write;

pub use error::{Error, ErrorKind};
pub use ledger::{DEFAULT_CUTOFF, Ledger};
pub use record::{ApplicationOutcome, Counts, Event, EventKind, Recorded, UserState};
