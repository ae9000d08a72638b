//! The wire names of the fields, spelled once.
//!
//! # Examples
//!
//! ```
//! assert_eq!(kyc_proto::names::CALLBACK_URL, "callBackUrl");
//! ```

/// The request signature.
pub const SIGN: &str = "sign";
/// Request time, milliseconds since the epoch.
pub const TIMESTAMP: &str = "timestamp";
/// The merchant-side user identifier.
pub const USER_ID: &str = "userId";
/// Where the provider posts the result (note the capital `B`).
pub const CALLBACK_URL: &str = "callBackUrl";
/// The user's name in katakana.
pub const USERNAME_FURIGANA: &str = "usernameFurigana";
/// The business status in responses and callbacks.
pub const AUTHENTICATION_STATUS: &str = "authenticationStatus";
/// Why an application was rejected.
pub const FAIL_REASON: &str = "failReason";

/// Names an extra text field or file part may not take: the 2.0 request uses them.
pub const RESERVED: [&str; 5] = [SIGN, TIMESTAMP, USER_ID, CALLBACK_URL, USERNAME_FURIGANA];
