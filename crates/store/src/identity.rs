//! An event's identity: a SHA-256 digest of its content, the ledger's unique key.
//!
//! The provider's signing text (`name=value…` with no separators) is not used as it is: text
//! can move between adjacent fields without changing it. The digest instead covers each field
//! as `len(name) name len(value) value` (lengths as 8-byte little-endian), names sorted, after
//! a tag naming the kind of event, so two contents differing anywhere digest differently.

use kyc_proto::{Callback, StatusData, Timestamp, UserId};
use sha2::{Digest, Sha256};

use crate::record::ApplicationOutcome;

/// The digest of a verified callback: every signed field (`userId`, `authenticationStatus`,
/// `timestamp`, `failReason` when present, and any extra field with its text).
pub(crate) fn of_callback(callback: &Callback) -> [u8; 32] {
    let millis = callback.timestamp().to_string();
    let mut fields: Vec<(&str, &str)> = vec![
        ("userId", callback.user_id().as_str()),
        ("authenticationStatus", callback.status().as_str()),
        ("timestamp", &millis),
    ];
    if let Some(reason) = callback.fail_reason() {
        fields.push(("failReason", reason));
    }
    fields.extend(callback.extra_fields());
    digest("kyc-store/callback/1", fields)
}

/// The digest of a status answer: the user asked about, its time, and every field of `data`
/// (extra fields as their JSON text).
pub(crate) fn of_status(user_id: &UserId, data: &StatusData, at: Timestamp) -> [u8; 32] {
    let millis = at.to_string();
    let extra: Vec<(&str, String)> = data
        .extra()
        .iter()
        .map(|(name, value)| (name.as_str(), value.to_string()))
        .collect();
    let mut fields: Vec<(&str, &str)> = vec![
        ("userId", user_id.as_str()),
        (
            "authenticationStatus",
            data.authentication_status().as_str(),
        ),
        ("timestamp", &millis),
    ];
    if let Some(reason) = data.fail_reason() {
        fields.push(("failReason", reason));
    }
    if let Some(message) = data.message() {
        fields.push(("message", message));
    }
    fields.extend(extra.iter().map(|(name, value)| (*name, value.as_str())));
    digest("kyc-store/status/1", fields)
}

/// The digest of an application's outcome at `at`.
pub(crate) fn of_application(
    user_id: &UserId,
    at: Timestamp,
    outcome: &ApplicationOutcome,
) -> [u8; 32] {
    let millis = at.to_string();
    let mut fields: Vec<(&str, &str)> = vec![("userId", user_id.as_str()), ("timestamp", &millis)];
    match outcome {
        ApplicationOutcome::Accepted(status) => {
            fields.push(("authenticationStatus", status.as_str()));
        }
        ApplicationOutcome::Refused {
            code,
            reason,
            retryable,
        } => {
            fields.push(("code", code));
            if let Some(reason) = reason {
                fields.push(("reason", reason));
            }
            fields.push(("retryable", if *retryable { "1" } else { "0" }));
        }
    }
    digest("kyc-store/application/1", fields)
}

fn digest<'a>(tag: &str, mut fields: Vec<(&'a str, &'a str)>) -> [u8; 32] {
    fields.sort_unstable();
    let mut hasher = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    part(tag.as_bytes());
    for (name, value) in fields {
        part(name.as_bytes());
        part(value.as_bytes());
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use kyc_proto::AuthenticationStatus;

    use super::*;

    fn callback(reason: Option<&str>) -> Callback {
        Callback::new(
            UserId::new("u1").unwrap(),
            AuthenticationStatus::Rejected,
            reason.map(str::to_owned),
            Timestamp::from_millis(5),
        )
    }

    #[test]
    fn every_signed_field_counts() {
        let base = of_callback(&callback(Some("blurred")));
        assert_eq!(base, of_callback(&callback(Some("blurred"))));
        assert_ne!(base, of_callback(&callback(Some("blurred!"))));
        assert_ne!(base, of_callback(&callback(None)));
        let approved = Callback::new(
            UserId::new("u1").unwrap(),
            AuthenticationStatus::Approved,
            Some("blurred".into()),
            Timestamp::from_millis(5),
        );
        assert_ne!(base, of_callback(&approved));
    }

    #[test]
    fn text_cannot_move_between_fields() {
        // `ab` + `c` and `a` + `bc` sign the same provider text shape; their digests differ.
        assert_ne!(
            digest("t", vec![("a", "bc"), ("b", "")]),
            digest("t", vec![("a", "b"), ("b", "c")])
        );
        assert_ne!(digest("t", vec![("a", "b")]), digest("u", vec![("a", "b")]));
    }

    #[test]
    fn kinds_never_collide() {
        let user = UserId::new("u1").unwrap();
        let data = StatusData::new(AuthenticationStatus::Rejected).with_fail_reason("blurred");
        assert_ne!(
            of_status(&user, &data, Timestamp::from_millis(5)),
            of_callback(&callback(Some("blurred")))
        );
    }
}
