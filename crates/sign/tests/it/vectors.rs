//! Every case of the shared signature vectors, copied under `tests/vectors/<case>/` as
//! `request.json` (fields, settings, secret), `canonical.txt` and `signature.txt`. Each stage is
//! checked on its own, so a failure names the stage that diverged.

use std::fs;
use std::path::{Path, PathBuf};

use kyc_sign::{Canonical, EmptyValues, HexCase, SecretSuffix, Settings, Signature, SigningKey};
use serde_json::Value;

struct Case {
    name: String,
    fields: Vec<(String, String)>,
    settings: Settings,
    secret: String,
    canonical: String,
    signature: String,
}

fn cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .expect("tests/vectors exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs.iter().map(|dir| load(dir)).collect()
}

fn load(dir: &Path) -> Case {
    let read = |file: &str| {
        fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("{}/{file}: {e}", dir.display()))
    };
    let request: Value = serde_json::from_str(&read("request.json")).expect("valid JSON");
    let fields = request["fields"]
        .as_array()
        .expect("fields is an array")
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().expect("name is text").to_owned(),
                pair[1].as_str().expect("value is text").to_owned(),
            )
        })
        .collect();
    let mut settings = Settings::default();
    let knobs = request["settings"]
        .as_object()
        .expect("settings is an object");
    for (knob, value) in knobs {
        let value = value.as_str().expect("settings are text");
        settings = match (knob.as_str(), value) {
            ("empty_values", "skip") => settings.with_empty_values(EmptyValues::Skip),
            ("empty_values", "include") => settings.with_empty_values(EmptyValues::Include),
            ("pair_separator", separator) => settings.with_pair_separator(separator.to_owned()),
            ("secret_suffix", template) => settings
                .with_secret_suffix(SecretSuffix::template(template).expect("valid template")),
            ("hex_case", "upper") => settings.with_hex_case(HexCase::Upper),
            ("hex_case", "lower") => settings.with_hex_case(HexCase::Lower),
            other => panic!("unknown setting {other:?}"),
        };
    }
    Case {
        name: dir
            .file_name()
            .expect("named")
            .to_string_lossy()
            .into_owned(),
        fields,
        settings,
        secret: request["secret"]
            .as_str()
            .expect("secret is text")
            .to_owned(),
        canonical: read("canonical.txt"),
        signature: read("signature.txt"),
    }
}

#[test]
fn all_ten_shared_cases_are_present() {
    let names: Vec<String> = cases().into_iter().map(|case| case.name).collect();
    assert_eq!(names.len(), 10, "{names:?}");
    assert!(
        names
            .iter()
            .any(|name| name == "foreign-profile-ampersand-key-upper")
    );
}

#[test]
fn stage_1_canonical_text() {
    for case in cases() {
        let canonical = Canonical::new(&case.fields, &case.settings)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(
            canonical.to_string(),
            case.canonical,
            "{}: canonical text",
            case.name
        );
    }
}

#[test]
fn stage_2_signature() {
    for case in cases() {
        let canonical = Canonical::new(&case.fields, &case.settings).expect("stage 1 passed");
        let key = SigningKey::new(case.secret.as_str()).expect("non-empty secret");
        assert_eq!(
            key.sign(&canonical).to_string(),
            case.signature,
            "{}: signature",
            case.name
        );
        let signature = key
            .sign_fields(&case.fields, &case.settings)
            .expect("stage 1 passed");
        assert_eq!(
            signature.to_string(),
            case.signature,
            "{}: sign_fields",
            case.name
        );
    }
}

#[test]
fn stage_3_verification_in_both_cases() {
    for case in cases() {
        let canonical = Canonical::new(&case.fields, &case.settings).expect("stage 1 passed");
        let key = SigningKey::new(case.secret.as_str()).expect("non-empty secret");
        for text in [
            case.signature.to_ascii_lowercase(),
            case.signature.to_ascii_uppercase(),
        ] {
            assert_eq!(
                key.verify(&canonical, &text),
                Ok(()),
                "{}: verify {text}",
                case.name
            );
        }
        let parsed = Signature::from_hex(&case.signature).expect("well-formed");
        assert_eq!(
            parsed,
            key.sign(&canonical),
            "{}: parsed equals computed",
            case.name
        );
    }
}

#[test]
fn wrong_secret_is_a_mismatch() {
    for case in cases() {
        let canonical = Canonical::new(&case.fields, &case.settings).expect("stage 1 passed");
        let key = SigningKey::new(format!("{}x", case.secret)).expect("non-empty secret");
        assert_eq!(
            key.verify(&canonical, &case.signature),
            Err(kyc_sign::Error::Mismatch),
            "{}",
            case.name
        );
    }
}
