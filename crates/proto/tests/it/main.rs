//! The one integration-test binary of `kyc-proto`.
//!
//! - `golden`: the exact JSON (or field list) of every type, both ways;
//! - `provider_examples`: every response and callback shape the provider's pages show or
//!   imply (numbers vs strings, extra fields, missing optional fields);
//! - `callbacks`: callback verification against the shared signature vectors, and the
//!   field-boundary-shifting attack;
//! - `properties`: proptest invariants (applications round-trip through their field list, the
//!   furigana normaliser is idempotent and its output validates, decoded responses re-encode to
//!   a fixed point);
//! - `fuzz_corpus`: the committed `decode` fuzz seeds replayed through the fuzz entry point.

mod callbacks;
mod fuzz_corpus;
mod golden;
mod properties;
mod provider_examples;
