//! The one integration-test binary of `kyc-client`.
//!
//! - `support`: a scripted in-test provider on `127.0.0.1:0` that records what it received;
//! - `retries`: what is retried, how often, and what is not, under injected faults;
//! - `faults`: cut responses, oversized and foreign bodies, the total deadline;
//! - `memory`: a 64 MiB file part is streamed, not held in memory;
//! - `callbacks`: the callback service end to end over loopback;
//! - `frameworks`: the callback service in axum (`route_service`, and the `VerifiedCallback`
//!   extractor with feature `axum`), and its own time limit wherever it is mounted;
//! - `metrics`: names, attributes and values reported through the `metrics` facade;
//! - `redaction`: secrets, signatures and personal data stay out of traces, errors and `Debug`;
//! - `sandbox`: apply, status and callback round trips against the `kyc-sandbox` fake provider;
//! - `tls`: HTTPS through `Client::builder()` against the sandbox's generated certificate,
//!   trusted as an added root or (feature `native-roots`) through the system's store;
//! - `security`: abuse of the callback receiver and the client: slow-loris, huge and nested
//!   bodies, non-UTF-8, header injection, forged and shifted signatures, leaks.

mod callbacks;
mod faults;
mod frameworks;
mod memory;
mod metrics;
mod redaction;
mod retries;
mod sandbox;
mod security;
mod support;
mod tls;
