//! Entry points for the fuzz targets, compiled and linted with the crate.

use std::time::Duration;

use bytes::Bytes;
use kyc_sign::SigningKey;

use crate::engine::{check_apply, check_signed};
use crate::parse::{self, Limits};

/// The boundary the `sandbox_request` seeds use.
pub const BOUNDARY: &str = "kycfuzzboundary";

/// The clock the checks run against: the provider's example timestamp.
pub const NOW_MILLIS: u64 = 1_774_925_553_256;

/// The secret the seeds are signed with.
pub const SECRET: &str = "TEST_SECRET_DO_NOT_USE";

/// Parses and checks `data` as the sandbox would: the first byte picks the endpoint (even:
/// apply, multipart with [`BOUNDARY`]; odd: status query, JSON), the rest is the body. Never
/// panics; returns the refusal code, or `None` when the request passes every check.
///
/// # Examples
///
/// ```
/// assert_eq!(kyc_sandbox::fuzzing::sandbox_request(b"\x01{}"), Some("S102"));
/// ```
#[must_use]
pub fn sandbox_request(data: &[u8]) -> Option<&'static str> {
    let (&selector, body) = data.split_first()?;
    let limits = Limits {
        max_body_bytes: 64 * 1024,
        max_fields: 32,
        max_field_bytes: 4096,
    };
    let key = SigningKey::new(SECRET).ok()?;
    let window = Duration::from_secs(300);
    let result = if selector % 2 == 0 {
        parse::multipart(Bytes::copy_from_slice(body), BOUNDARY, limits).and_then(|fields| {
            let required = ["timestamp", "userId", "callBackUrl", "usernameFurigana"];
            check_signed(&fields, &required, &key, NOW_MILLIS, window)?;
            check_apply(&fields, false).map(|_| ())
        })
    } else {
        parse::json(body, limits).and_then(|fields| {
            let user_id =
                check_signed(&fields, &["timestamp", "userId"], &key, NOW_MILLIS, window)?;
            kyc_proto::UserId::new(user_id)
                .map(|_| ())
                .map_err(|_| parse::Refusal::new(crate::RefusalCode::InvalidField))
        })
    };
    result.err().map(|refusal| refusal.code.as_str())
}
