//! Provider callback bodies for tests of a receiver: honest ones signed with a key, and
//! reshaped ones whose JSON differs from the text the signature covers.

use kyc_proto::{AuthenticationStatus, Callback, Timestamp, UserId};
use kyc_sign::{Canonical, Settings, SigningKey};

/// The 2.0 page's callback timestamp, in milliseconds: the one the tests' callbacks carry.
pub const TIMESTAMP: u64 = 1_728_609_277_476;

/// A callback for `user` with `status` and `reason` at [`TIMESTAMP`], as the provider sends
/// it, signed with `secret`.
///
/// Panics if `user` or `secret` is not valid.
///
/// ```
/// use kyc_proto::AuthenticationStatus;
///
/// let body = kyc_test_support::callbacks::signed("u1", AuthenticationStatus::Approved, None, "s3cret");
/// assert_eq!(kyc_test_support::callbacks::sign_of(&body).len(), 32);
/// ```
pub fn signed(
    user: &str,
    status: AuthenticationStatus,
    reason: Option<&str>,
    secret: &str,
) -> Vec<u8> {
    Callback::new(
        UserId::new(user).expect("a valid userId"),
        status,
        reason.map(str::to_owned),
        Timestamp::from_millis(TIMESTAMP),
    )
    .to_signed_json(&key(secret))
}

/// The lowercase hex signature of `fields` (names and the text hashed for them) under
/// `secret`, with the default settings.
///
/// Panics if `secret` is not valid or the fields cannot be signed.
pub fn sign(fields: &[(&str, &str)], secret: &str) -> String {
    key(secret)
        .sign(&Canonical::new(fields, &Settings::default()).expect("signable fields"))
        .to_string()
}

/// A callback body from `(name, raw JSON value)` pairs, in order, then a `sign` over `signed`
/// under `secret`: for bodies whose values are shaped differently from the text the signature
/// covers (a number-literal `timestamp`, a boundary moved between fields).
///
/// ```
/// use kyc_test_support::callbacks::{reshaped, sign};
///
/// let signed = [("authenticationStatus", "2"), ("timestamp", "1"), ("userId", "u1")];
/// let body = reshaped(
///     &[("userId", "\"u1\""), ("authenticationStatus", "\"2\""), ("timestamp", "1")],
///     &signed,
///     "s3cret",
/// );
/// let expected = format!(
///     "{{\"userId\":\"u1\",\"authenticationStatus\":\"2\",\"timestamp\":1,\"sign\":\"{}\"}}",
///     sign(&signed, "s3cret"),
/// );
/// assert_eq!(body, expected.into_bytes());
/// ```
pub fn reshaped(fields: &[(&str, &str)], signed: &[(&str, &str)], secret: &str) -> Vec<u8> {
    let mut body = String::from("{");
    for (name, value) in fields {
        body.push_str(&format!("\"{name}\":{value},"));
    }
    body.push_str(&format!("\"sign\":\"{}\"}}", sign(signed, secret)));
    body.into_bytes()
}

/// The 32 hex digits of the first `"sign":"…"` in `body`.
///
/// Panics if `body` holds none.
pub fn sign_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let at = text.find("\"sign\":\"").expect("a sign field") + 8;
    text[at..at + 32].to_owned()
}

fn key(secret: &str) -> SigningKey {
    SigningKey::new(secret).expect("a valid secret")
}
