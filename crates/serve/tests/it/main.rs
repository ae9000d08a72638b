//! The one integration-test binary of `kyc-serve`.
//!
//! - `support`: a small service and a server started on `127.0.0.1:0` for each test;
//! - `serving`: HTTP/1 and HTTP/2 answered, silent clients cut, graceful and bounded shutdown;
//! - `tls`: HTTPS answered and the handshake held to the header read timeout (`tls` feature);
//! - `exhaustion`: the server survives running out of file descriptors (a child process
//!   under a low `ulimit -n`).

mod exhaustion;
mod serving;
mod support;
#[cfg(feature = "tls")]
mod tls;
