//! The response envelope of both endpoints, its codes and the business status it carries.
//!
//! Tolerant by **policy** (the provider's examples disagree on the envelope's types): `timestamp` may be a string or
//! a number, `success` a boolean or `"true"`/`"false"`, `authenticationStatus` a string or a
//! number; unknown fields are kept, never an error. A field given twice is an error, not a
//! silent choice. The API-layer result and the business status are apart: the data, and so the
//! status, is only reachable through [`Response::api_result`], which fails unless the request
//! was accepted.

mod code;
mod data;
mod envelope;
mod status;

pub use code::Code;
pub use data::{ApplyData, StatusData};
pub use envelope::{ApiFailure, ApplyResponse, Response, StatusResponse};
pub use status::AuthenticationStatus;
