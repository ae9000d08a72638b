//! kyc-store's integration tests.
//!
//! - `support`: a fresh ledger per test (SQLite: its own temporary file; PostgreSQL: its own
//!   schema, dropped at the end) and `both_backends!`, which instantiates a test of `rules` once
//!   per backend;
//! - `rules`: the suite every backend must pass, one test per rule of the crate docs;
//! - `receiver`: the ledger behind `kyc_client::CallbackService`, on both backends;
//! - `reconcile`: `Reconciler` against the sandbox (the `client` feature), on both backends;
//! - `sqlite`: what only the SQLite backend has (the file it is given, WAL mode).
//!
//! PostgreSQL tests need the `postgres` feature (`cargo test -p kyc-store --all-features`) and
//! a server at `KYC_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! Without one they say so on stderr and pass, except with `CI=true`, where they fail.

#[macro_use]
mod support;
mod receiver;
#[cfg(feature = "client")]
mod reconcile;
mod rules;
#[cfg(feature = "sqlite")]
mod sqlite;
