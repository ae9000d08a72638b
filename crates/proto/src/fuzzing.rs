//! Entry points for the `decode` fuzz target and the corpus replay test. Not a public API.
//!
//! The checks live here, compiled and linted with the crate, so the fuzz target stays three
//! lines and cannot rot.

use std::fmt::Debug;

use kyc_sign::SigningKey;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    Application, ApplyResponse, Callback, CallbackUrl, Furigana, Response, StatusQuery,
    StatusResponse, Timestamp, UserId,
};

/// The secret the fuzz target verifies callbacks with (the shared test vectors' secret, so
/// that seeds built from the vectors get past the signature).
pub const FUZZ_SECRET: &str = "TEST_SECRET_DO_NOT_USE";

/// The `decode` fuzz target: arbitrary bytes into every decoder, which must never panic, and
/// whatever decodes must survive its own encoding.
///
/// # Panics
///
/// When a decoded value does not decode again, identical, from its own encoding (that is the
/// finding).
pub fn decode(data: &[u8]) {
    let key = SigningKey::new(FUZZ_SECRET).expect("the fuzz secret is not empty");

    if let Ok(response) = ApplyResponse::from_slice(data) {
        response_round_trip(&response);
    }
    if let Ok(response) = StatusResponse::from_slice(data) {
        response_round_trip(&response);
    }
    if let Ok(callback) = Callback::verify(data, &key) {
        let again = Callback::verify(&callback.to_signed_json(&key), &key)
            .expect("a produced callback verifies");
        assert_eq!(again, callback, "callback changed in a round trip");
    }
    if let Ok(query) = StatusQuery::from_json(data) {
        let again = StatusQuery::from_json(&query.to_json()).expect("an encoded query decodes");
        assert_eq!(again, query, "status query changed in a round trip");
        let _ = query.verify(&key);
    }

    // The text validators, on the same bytes as text.
    let text = String::from_utf8_lossy(data);
    let _ = UserId::new(text.as_ref());
    let _ = CallbackUrl::new(&text);
    let _ = CallbackUrl::new_allow_http(&text);
    let _ = Timestamp::parse(&text);
    if let Ok(furigana) = Furigana::normalize(&text) {
        let twice = Furigana::normalize(furigana.as_str()).expect("normalised text validates");
        assert_eq!(twice, furigana, "normalize is not idempotent");
    }
    // Lines as `name=value` fields of a received application form.
    let fields: Vec<(&str, &str)> = text
        .lines()
        .map(|line| line.split_once('=').unwrap_or((line, "")))
        .collect();
    if let Ok(application) = Application::from_text_fields(fields.iter().copied()) {
        let again = Application::from_text_fields(application.text_fields())
            .expect("an application's own fields decode");
        assert_eq!(again, application, "application changed in a round trip");
    }
}

/// A decoded response survives its own encoding: the envelope and the readable data, twice
/// in a row.
///
/// "Survives" allows two things that are not ours to fix: an error response's `data` that `T`
/// refuses (for example for a repeated name) is kept as a `serde_json::Value`, which
/// de-duplicates it, so it may decode as `T` after one round (it is never readable through
/// `api_result` on an error response either way); and `serde_json` (without its
/// `float_roundtrip` feature, which would change float parsing for every crate of a build)
/// may move a float by an ulp between parse and print.
///
/// # Panics
///
/// When the property breaks (that is the finding).
pub fn response_round_trip<T>(response: &Response<T>)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let again =
        Response::<T>::from_slice(&response.to_json()).expect("an encoded response decodes");
    assert_close(response, &again);
    let third = Response::<T>::from_slice(&again.to_json()).expect("a re-encoded response decodes");
    assert_close(&again, &third);
}

fn assert_close<T: Serialize>(before: &Response<T>, after: &Response<T>) {
    assert_eq!(after.code(), before.code(), "code changed in a round trip");
    assert_eq!(after.msg(), before.msg(), "msg changed in a round trip");
    assert_eq!(after.success(), before.success(), "success changed");
    let timestamp = |r: &Response<T>| r.timestamp().map(text_as_json);
    assert!(
        same_json(
            &timestamp(before).unwrap_or(Value::Null),
            &timestamp(after).unwrap_or(Value::Null)
        ),
        "timestamp changed"
    );
    assert!(
        same_json(
            &Value::Object(before.extra().clone()),
            &Value::Object(after.extra().clone())
        ),
        "extra fields changed"
    );
    let data = |r: &Response<T>| {
        serde_json::to_value(r.api_result().ok()).expect("the crate's data types serialise")
    };
    assert!(same_json(&data(before), &data(after)), "data changed");
}

/// A timestamp's text as a JSON number when it is one, so that floats compare loosely.
fn text_as_json(text: &str) -> Value {
    text.parse::<serde_json::Number>()
        .map_or_else(|_| Value::String(text.to_owned()), Value::Number)
}

/// JSON equality where two floats within a few ulps are the same.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y
                || match (x.as_f64(), y.as_f64()) {
                    (Some(x), Some(y)) => (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                    _ => false,
                }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, x)| y.get(key).is_some_and(|y| same_json(x, y)))
        }
        _ => a == b,
    }
}
