//! End-to-end tests of the `kyc` binary: each test runs the real executable, against the
//! sandbox it starts itself (`kyc sandbox --listen 127.0.0.1:0`), on loopback only.
//!
//! - `support`: spawning the binary, reading the address a server printed, cleaning up;
//! - `commands`: sign, apply, status, errors, demo;
//! - `callbacks`: `kyc callback listen` (verify, recorded before OK, dedupe, refusals, restart,
//!   unusable ledgers, failed writes);
//! - `batch`: batch runs into the ledger (resume, retries, malformed rows), then `kyc ledger`
//!   and `kyc reconcile` over them;
//! - `sandbox_control`: `kyc sandbox decide` / `resend` against a running sandbox;
//! - `security`: slow-loris, huge, nested, non-UTF-8 and forged callbacks against the listener,
//!   header injection through flags, and no secret, signature or name in any output.

mod batch;
mod callbacks;
mod commands;
mod sandbox_control;
mod security;
mod support;
