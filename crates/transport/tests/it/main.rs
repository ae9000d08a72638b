//! The one integration-test binary of `kyc-transport`.
//!
//! - `golden`: exact bytes of encoded forms for fixed boundaries, escaping and typed refusals;
//! - `properties`: proptest round trips through `multer`, an independent parser;
//! - `fuzz_corpus`: the committed seeds of the `multipart` fuzz target, replayed;
//! - `files`: file parts streamed from disk: bounded chunks, reopened on every send;
//! - `loopback`: the sender against in-test hyper servers on `127.0.0.1:0` (plain HTTP);
//! - `tls`: the sender against an rcgen certificate trusted through a custom root;
//! - `proxy`: a forward proxy and a CONNECT tunnel written in the test.
//!
//! Shared server helpers live in `support`.

mod files;
mod fuzz_corpus;
mod golden;
mod loopback;
mod properties;
mod proxy;
mod support;
mod tls;
