//! Wire types of the "KYC Authentication 2.0" API: validated requests, tolerant responses and
//! verified callbacks.
//!
//! - Requests are strict: [`UserId`], [`CallbackUrl`] and [`Furigana`] are checked once, when
//!   they are built, so an [`Application`] or a [`StatusQuery`] that exists can be sent.
//!   [`Application::signed_form`] returns the exact field list to send with its `timestamp` and
//!   `sign`, so that what is signed is what is sent.
//! - Responses are tolerant where the provider's own examples disagree (`timestamp` string or
//!   number, `success` boolean or string, status string or number) and keep unknown fields. The
//!   API-layer result and the business status are apart: [`Response::api_result`] is the only
//!   way to the [`AuthenticationStatus`], so "request accepted" cannot be read as "approved".
//! - Callbacks are verified with `kyc-sign` over the fields exactly as spelled in the received
//!   JSON, then checked strictly ([`Callback::verify`]).
//! - Personal data (`usernameFurigana`, `failReason`, extra form values) sits in redacting
//!   types ([`Sensitive`]): never in `Debug`, `Display` or an error.
//!
//! What it deliberately is not: no HTTP, no multipart encoding, no I/O. Time is an argument
//! ([`Timestamp`]) taken from a [`Clock`]; [`SystemClock`] holds the workspace's one read of
//! the wall clock, so every other crate and every test can run on a [`FixedClock`]. The
//! transport crate encodes and sends; the secret and the signature algorithm live in
//! `kyc-sign`.
//!
//! # Examples
//!
//! ```
//! use kyc_proto::{
//!     Application, ApplyResponse, AuthenticationStatus, CallbackUrl, Furigana, Timestamp, UserId,
//! };
//! use kyc_sign::SigningKey;
//!
//! let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
//! let application = Application::new(
//!     UserId::new("abc_100008")?,
//!     CallbackUrl::new("https://merchant.example.com/api/kyc/callback")?,
//!     Furigana::normalize("ﾃｽﾄ014")?,
//! );
//! let form = application.signed_form(Timestamp::from_millis(1_774_925_553_256), &key)?;
//! assert_eq!(form.signature().to_string(), "a7d716ba378b31496f33c18807b4d4f5");
//!
//! let response = ApplyResponse::from_slice(
//!     br#"{"msg":"success","code":"0000","timestamp":"1774925553300","success":true,
//!          "data":{"userId":"abc_100008","authenticationStatus":"0","message":"submitted"}}"#,
//! )?;
//! let data = response.api_result()?; // the request was accepted...
//! assert_eq!(data.authentication_status(), &AuthenticationStatus::Pending); // ...the user is not approved yet
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//!
//! None. `serde_json`'s `raw_value` feature is enabled (it adds a type and changes nothing
//! else); `arbitrary_precision` is deliberately not, since it would change number handling
//! for every crate of a build.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod application;
mod callback;
mod clock;
mod error;
mod lenient;
pub mod names;
mod object;
mod response;
mod sensitive;
mod signing;
mod status_query;
mod values;

#[doc(hidden)]
pub mod fuzzing;

pub use application::{Application, FilePart, FileSource, SignedForm};
pub use callback::{CALLBACK_ACK, Callback};
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{CallbackError, DecodeError, MalformedJson, ValidationError, ValidationKind};
pub use response::{
    ApiFailure, ApplyData, ApplyResponse, AuthenticationStatus, Code, Response, StatusData,
    StatusResponse,
};
pub use sensitive::Sensitive;
pub use signing::{sign_fields, verify_fields};
pub use status_query::StatusQuery;
pub use values::{CallbackUrl, Furigana, Timestamp, UserId};
