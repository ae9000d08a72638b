//! Callback verification against the shared signature vectors (`crates/sign/tests/vectors`,
//! computed by `kyc-sign` with the made-up secret `TEST_SECRET_DO_NOT_USE`), and the
//! field-boundary-shifting attack.

use std::fs;
use std::path::Path;

use kyc_proto::{AuthenticationStatus, Callback, CallbackError};
use kyc_sign::{Canonical, Settings, SigningKey};
use serde_json::{Map, Value};

const SECRET: &str = "TEST_SECRET_DO_NOT_USE";

fn key() -> SigningKey {
    SigningKey::new(SECRET).expect("not empty")
}

/// A vector's fields, its settings' empty-value rule, and its expected signature.
fn vector(case: &str) -> (Vec<(String, String)>, String, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sign/tests/vectors")
        .join(case);
    let request: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("request.json")).expect("vector"))
            .expect("JSON");
    assert_eq!(request["secret"], SECRET);
    let fields = request["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().expect("name").to_owned(),
                pair[1].as_str().expect("value").to_owned(),
            )
        })
        .collect();
    let empty = request["settings"]["empty_values"]
        .as_str()
        .expect("setting")
        .to_owned();
    let sign = fs::read_to_string(dir.join("signature.txt")).expect("signature");
    (fields, empty, sign.trim().to_owned())
}

/// The body the provider would send: `timestamp` as a JSON number, the rest as strings.
fn body(fields: &[(String, String)], sign: &str) -> Vec<u8> {
    let mut object = Map::new();
    for (name, value) in fields {
        let value = if name == "timestamp" {
            Value::Number(value.parse::<u64>().expect("digits").into())
        } else {
            Value::String(value.clone())
        };
        object.insert(name.clone(), value);
    }
    object.insert("sign".into(), Value::String(sign.into()));
    serde_json::to_vec(&object).expect("serialises")
}

#[test]
fn rejected_vector_verifies() {
    let (fields, empty, sign) = vector("callback-rejected");
    assert_eq!(empty, "skip");
    let callback = Callback::verify(&body(&fields, &sign), &key()).unwrap();
    assert_eq!(callback.status(), &AuthenticationStatus::Rejected);
    assert_eq!(
        callback.fail_reason(),
        Some("The file and type do not match")
    );
    // And the sandbox's producer writes the same signature.
    let produced = String::from_utf8(callback.to_signed_json(&key())).unwrap();
    assert!(
        produced.contains(&format!(r#""sign":"{sign}""#)),
        "{produced}"
    );
}

#[test]
fn empty_fail_reason_vectors_follow_the_skip_policy() {
    let (fields, _, skipped) = vector("callback-empty-failReason-skipped");
    let callback = Callback::verify(&body(&fields, &skipped), &key()).unwrap();
    assert_eq!(callback.fail_reason(), None);
    // A provider that signed the empty field would not verify: the policy is to skip empties.
    let (fields, empty, included) = vector("callback-empty-failReason-included");
    assert_eq!(empty, "include");
    let err = Callback::verify(&body(&fields, &included), &key()).unwrap_err();
    assert!(err.is_signature_mismatch());
}

/// Signs `fields` (as JSON object members, numbers unquoted) with kyc-sign directly, and
/// returns the body and the canonical text.
fn forge(members: &[(&str, &str)]) -> (Vec<u8>, String) {
    let settings = Settings::default();
    let signed: Vec<(&str, String)> = members
        .iter()
        .map(|(name, json)| {
            // Strings unescaped, numbers exactly as spelled (as the provider signs them).
            let text = match serde_json::from_str::<Value>(json).expect("member JSON") {
                Value::String(text) => text,
                _ => (*json).to_owned(),
            };
            (*name, text)
        })
        .collect();
    let pairs: Vec<(&str, &str)> = signed.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let canonical = Canonical::new(&pairs, &settings).unwrap();
    let sign = key().sign(&canonical);
    let mut text = String::from("{");
    for (name, json) in members {
        text.push_str(&format!("\"{name}\":{json},"));
    }
    text.push_str(&format!("\"sign\":\"{sign}\"}}"));
    (text.into_bytes(), canonical.to_string())
}

#[test]
fn boundary_shifting_keeps_the_signature_but_fails_the_format_checks() {
    let (honest, honest_text) = forge(&[
        ("authenticationStatus", r#""3""#),
        ("failReason", r#""The file and type do not match""#),
        ("timestamp", "1728609277476"),
        ("userId", r#""79x7p10nh4xd121m""#),
    ]);
    Callback::verify(&honest, &key()).unwrap();

    // Each attack moves text across a field boundary so that the signed text is unchanged,
    // which the test asserts, and then must be refused by a format check, not the signature.
    let attacks: [(&[(&str, &str)], &str); 4] = [
        // The status swallows the reason: "3failReason=The file…".
        (
            &[
                (
                    "authenticationStatus",
                    r#""3failReason=The file and type do not match""#,
                ),
                ("timestamp", "1728609277476"),
                ("userId", r#""79x7p10nh4xd121m""#),
            ],
            "authenticationStatus",
        ),
        // The reason swallows the timestamp.
        (
            &[
                ("authenticationStatus", r#""3""#),
                (
                    "failReason",
                    r#""The file and type do not matchtimestamp=1728609277476""#,
                ),
                ("userId", r#""79x7p10nh4xd121m""#),
            ],
            "timestamp",
        ),
        // The timestamp swallows the user id.
        (
            &[
                ("authenticationStatus", r#""3""#),
                ("failReason", r#""The file and type do not match""#),
                ("timestamp", r#""1728609277476userId=79x7p10nh4xd121m""#),
            ],
            "userId",
        ),
        // The end of the reason becomes the start of a new field's name: "…do not " +
        // "matchtimestamp=…", which sorts between failReason and userId.
        (
            &[
                ("authenticationStatus", r#""3""#),
                ("failReason", r#""The file and type do not ""#),
                ("matchtimestamp", "1728609277476"),
                ("userId", r#""79x7p10nh4xd121m""#),
            ],
            "timestamp",
        ),
    ];
    for (members, field) in attacks {
        let (body, text) = forge(members);
        assert_eq!(text, honest_text, "the attack must keep the signed text");
        let err = Callback::verify(&body, &key()).unwrap_err();
        match &err {
            CallbackError::MalformedField { field: found, .. } => assert_eq!(&**found, field),
            CallbackError::MissingField { field: found, .. } => assert_eq!(*found, field),
            other => panic!("expected a format error about {field}, got {other:?}"),
        }
    }
}

#[test]
fn user_id_breaking_its_rule_is_refused_after_a_valid_signature() {
    let (body, _) = forge(&[
        ("authenticationStatus", r#""2""#),
        ("timestamp", "1"),
        ("userId", r#""has space""#),
    ]);
    let err = Callback::verify(&body, &key()).unwrap_err();
    assert!(matches!(err, CallbackError::MalformedField { ref field, .. } if &**field == "userId"));
    assert!(!err.to_string().contains("has space"));
}

#[test]
fn missing_required_fields_after_a_valid_signature() {
    for (members, missing) in [
        (
            &[("timestamp", "1"), ("userId", r#""u""#)][..],
            "authenticationStatus",
        ),
        (
            &[("authenticationStatus", r#""2""#), ("userId", r#""u""#)][..],
            "timestamp",
        ),
        (
            &[("authenticationStatus", r#""2""#), ("timestamp", "1")][..],
            "userId",
        ),
    ] {
        let (body, _) = forge(members);
        let err = Callback::verify(&body, &key()).unwrap_err();
        assert!(
            matches!(err, CallbackError::MissingField { field, .. } if field == missing),
            "{err:?}"
        );
    }
}

#[test]
fn non_digit_numbers_and_statuses_are_refused() {
    for (status, timestamp) in [
        (r#""2""#, "1.5"),
        (r#""2""#, "-1"),
        (r#""2""#, "1e3"),
        ("2.0", "1"),
        (r#""""#, "1"),
        (r#""approved""#, "1"),
        (r#""1234567890""#, "1"),
    ] {
        let (body, _) = forge(&[
            ("authenticationStatus", status),
            ("timestamp", timestamp),
            ("userId", r#""u""#),
        ]);
        let err = Callback::verify(&body, &key()).unwrap_err();
        assert!(
            matches!(
                err,
                CallbackError::MalformedField { .. } | CallbackError::MissingField { .. }
            ),
            "{status} {timestamp}: {err:?}"
        );
    }
}
