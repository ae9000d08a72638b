//! The one integration-test binary of `kyc-sign`.
//!
//! - `vectors`: the published test vectors, one directory per case, checked stage by stage;
//! - `properties`: proptest invariants against a naive reference implementation;
//! - `fuzz_corpus`: the committed fuzz seeds replayed through the fuzz entry point.

mod fuzz_corpus;
mod properties;
mod vectors;
