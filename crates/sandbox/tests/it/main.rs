//! The one integration-test binary of `kyc-sandbox`. Every test starts its own sandbox on
//! `127.0.0.1:0` with a `FixedClock`, and talks to it over loopback only.
//!
//! - `support`: the hand-built client side (multipart bytes written here, signed with
//!   `kyc-sign`), a raw-TCP helper and a callback receiver;
//! - `apply`: accepted applications, status progression, re-applying, several merchants;
//! - `refusals`: one test per refusal code;
//! - `garbage`: malformed, truncated and garbage bodies, chunked bodies, slow clients;
//! - `faults`: the `userId` fault scenarios, counted and uncounted;
//! - `callbacks`: delivery, retries until `OK`, giving up, verification of what was sent;
//! - `control`: decisions and resends on demand (library and HTTP), the default outcome, the
//!   `lost`, `twice` and `late` scenarios, the dashboard page and its state;
//! - `dashboard_browser`: the dashboard in headless chromium through chromedriver (WebDriver);
//! - `https`: the generated certificate and a TLS client that trusts only it;
//! - `https_callbacks`: callbacks to a TLS receiver (rcgen certificate): trusted by a given
//!   root, refused without it, accepted by the explicit development switch;
//! - `curl`: a request built by `curl --form`, a client we did not write;
//! - `log`: the log API and `GET {base}/_sandbox/log`;
//! - `fuzz_corpus`: the committed fuzz seeds replayed through the fuzz entry point;
//! - `security`: abuse and security: slow-loris, huge and nested bodies, non-UTF-8, header and
//!   multipart injection, boundary collisions, forged and shifted signatures, leaks.

mod apply;
mod callbacks;
mod control;
mod curl;
mod dashboard_browser;
mod faults;
mod fuzz_corpus;
mod garbage;
mod https;
mod https_callbacks;
mod log;
mod refusals;
mod security;
mod support;
