//! proptest invariants: any valid application survives encode → decode through its signed
//! field list; the furigana normaliser is idempotent and its output always validates; a decoded
//! response survives its own encoding.

use std::collections::BTreeMap;

use kyc_proto::{Application, CallbackUrl, Furigana, Timestamp, UserId, names};
use kyc_sign::SigningKey;
use proptest::prelude::*;

fn furigana_chars() -> Vec<char> {
    let mut chars: Vec<char> = ('\u{30A1}'..='\u{30FC}').collect();
    chars.extend(['0', '9', '\u{FF10}', '\u{FF19}', ' ', '\u{3000}']);
    chars
}

fn furigana() -> impl Strategy<Value = Furigana> {
    prop::collection::vec(prop::sample::select(furigana_chars()), 1..=100)
        .prop_filter_map("not blank", |chars| {
            Furigana::new(chars.into_iter().collect::<String>()).ok()
        })
}

fn user_id() -> impl Strategy<Value = UserId> {
    "[!-~]{1,64}".prop_map(|id| UserId::new(id).expect("the regex is the rule"))
}

fn callback_url() -> impl Strategy<Value = CallbackUrl> {
    "https://[a-z0-9]{1,12}(\\.[a-z]{2,5}){0,2}(:[1-9][0-9]{0,3})?(/[A-Za-z0-9_.~-]{0,8}){0,3}(\\?[a-z]{1,5}=[A-Za-z0-9%]{0,0})?"
        .prop_map(|url| CallbackUrl::new(&url).expect("the regex stays inside the rule"))
}

fn extras() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("[A-Za-z][A-Za-z0-9_.-]{0,20}", ".{1,30}", 0..4).prop_map(|map| {
        map.into_iter()
            .filter(|(name, _)| !names::RESERVED.contains(&name.as_str()))
            .collect()
    })
}

fn application() -> impl Strategy<Value = Application> {
    (user_id(), callback_url(), furigana(), extras()).prop_map(|(id, url, name, extras)| {
        extras
            .into_iter()
            .fold(Application::new(id, url, name), |app, (n, v)| {
                app.with_text_field(n, v).expect("valid extra")
            })
    })
}

/// Half-width katakana, hiragana and full-width katakana: every one normalises.
fn convertible_chars() -> Vec<char> {
    let mut chars: Vec<char> = ('\u{FF66}'..='\u{FF9D}').collect();
    chars.extend('\u{3041}'..='\u{3096}');
    chars.extend('\u{30A1}'..='\u{30FA}');
    chars.push('\u{FF65}');
    chars
}

/// The above, with marks in any position, digits, spaces and a few characters never allowed.
fn messy_chars() -> Vec<char> {
    let mut chars = convertible_chars();
    chars.extend([
        '\u{FF9E}', '\u{FF9F}', '\u{3099}', '\u{309A}', '\u{309B}', '\u{309C}',
    ]);
    chars.extend([' ', '\u{3000}', '1', '\u{FF11}', 'a', '山', '\u{30FD}', '!']);
    chars
}

proptest! {
    #[test]
    fn application_survives_its_field_list(app in application(), millis in any::<u64>()) {
        let key = SigningKey::new("TEST_SECRET_DO_NOT_USE").unwrap();
        let form = app.signed_form(Timestamp::from_millis(millis), &key).unwrap();
        let decoded = Application::from_text_fields(form.text_fields()).unwrap();
        prop_assert_eq!(&decoded, &app);
        let (_, timestamp) = form.text_fields().find(|(n, _)| *n == "timestamp").unwrap();
        prop_assert_eq!(Timestamp::parse(timestamp).unwrap().as_millis(), millis);
        kyc_proto::verify_fields(form.text_fields(), &form.signature().to_hex(), &key).unwrap();
        // Decoding, re-signing at the same time gives the same signature.
        let again = decoded.signed_form(Timestamp::from_millis(millis), &key).unwrap();
        prop_assert_eq!(again.signature(), form.signature());
    }

    #[test]
    fn every_convertible_text_normalises(chars in prop::collection::vec(prop::sample::select(convertible_chars()), 1..=100)) {
        let text: String = chars.into_iter().collect();
        let normalized = Furigana::normalize(&text).unwrap();
        prop_assert!(normalized.as_str().chars().count() <= text.chars().count());
    }

    #[test]
    fn normaliser_is_idempotent_and_validates(chars in prop::collection::vec(prop::sample::select(messy_chars()), 0..=110)) {
        let text: String = chars.into_iter().collect();
        if let Ok(normalized) = Furigana::normalize(&text) {
            prop_assert_eq!(Furigana::new(normalized.as_str()).unwrap(), normalized.clone());
            prop_assert_eq!(Furigana::normalize(normalized.as_str()).unwrap(), normalized);
        }
    }

    #[test]
    fn valid_furigana_is_a_fixed_point(name in furigana()) {
        prop_assert_eq!(Furigana::normalize(name.as_str()).unwrap(), name);
    }

    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        kyc_proto::fuzzing::decode(&bytes);
    }

    #[test]
    fn json_like_input_never_panics(text in r#"\{("[a-zA-Z]{1,8}":("[0-9a-z]{0,6}"|[0-9]{1,4}|null|true|\{\}),){0,6}"(code|sign)":"[0-9]{4}"\}"#) {
        kyc_proto::fuzzing::decode(text.as_bytes());
    }
}

/// JSON text of one scalar value, with some escapes, floats, negatives, leading zeros (invalid)
/// and empty containers among them.
fn scalar_json() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("\"true\"".to_owned()),
        prop::sample::select(vec!["0", "1", "2", "3", "9", "0000", "00029", "8000"])
            .prop_map(|code| format!("\"{code}\"")),
        (0_u64..=u64::MAX).prop_map(|n| n.to_string()),
        "[a-zA-Z0-9 テスト_.:/-]{0,12}".prop_map(|text| format!("\"{text}\"")),
        prop::sample::select(vec![
            "\"a\\\"b\"",
            "\"\\u0030\"",
            "1.5",
            "-1",
            "01",
            "[]",
            "{}"
        ])
        .prop_map(str::to_owned),
    ]
}

fn member_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "msg",
        "code",
        "timestamp",
        "success",
        "data",
        "userId",
        "authenticationStatus",
        "message",
        "failReason",
        "kycNumber",
        "x",
    ])
    .prop_map(str::to_owned)
}

fn object_json(members: Vec<(String, String)>, space: bool) -> String {
    let separator = if space { ", " } else { "," };
    let body: Vec<String> = members
        .into_iter()
        .map(|(name, value)| format!("\"{name}\":{value}"))
        .collect();
    format!("{{{}}}", body.join(separator))
}

/// A response envelope: scalars and, maybe, a `data` object of scalars.
fn envelope_json() -> impl Strategy<Value = String> {
    let data = prop::collection::vec((member_name(), scalar_json()), 0..6)
        .prop_map(|members| object_json(members, false));
    let value = prop_oneof![4 => scalar_json(), 1 => data];
    (
        prop::collection::vec((member_name(), value), 0..7),
        any::<bool>(),
    )
        .prop_map(|(members, space)| object_json(members, space))
}

proptest! {
    /// Whatever envelope decodes survives its own encoding.
    #[test]
    fn decoded_envelopes_survive_their_own_encoding(text in envelope_json()) {
        if let Ok(response) = kyc_proto::ApplyResponse::from_slice(text.as_bytes()) {
            kyc_proto::fuzzing::response_round_trip(&response);
        }
        if let Ok(response) = kyc_proto::StatusResponse::from_slice(text.as_bytes()) {
            kyc_proto::fuzzing::response_round_trip(&response);
        }
    }
}
