//! Invariants of the canonical form and the signature, checked with proptest against the naive
//! "sort, build the String, hash it" reference in `kyc_sign::fuzzing`.

use std::collections::BTreeMap;

use kyc_sign::fuzzing::naive;
use kyc_sign::{Canonical, EmptyValues, HexCase, SecretSuffix, Settings, SigningKey};
use proptest::prelude::*;

/// Distinct names (a map guarantees it) with arbitrary Unicode names and values, some empty.
fn fields() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map(".{0,12}", ".{0,24}", 0..10).prop_map(
        |map: BTreeMap<String, String>| map.into_iter().filter(|(n, _)| n != "sign").collect(),
    )
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        any::<bool>(),
        prop::option::of(".{0,3}"),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(include_empty, separator, wrapped, upper)| {
            let mut settings = Settings::default();
            if include_empty {
                settings = settings.with_empty_values(EmptyValues::Include);
            }
            if let Some(separator) = separator {
                settings = settings.with_pair_separator(separator);
            }
            if wrapped {
                settings =
                    settings.with_secret_suffix(SecretSuffix::template("&key={secret}").unwrap());
            }
            if upper {
                settings = settings.with_hex_case(HexCase::Upper);
            }
            settings
        })
}

fn sign(fields: &[(String, String)], settings: &Settings, secret: &str) -> String {
    let canonical = Canonical::new(fields, settings).expect("names are distinct");
    SigningKey::new(secret)
        .expect("non-empty")
        .sign(&canonical)
        .to_string()
}

proptest! {
    #[test]
    fn streamed_equals_naive(fields in fields(), settings in settings(), secret in ".{1,40}") {
        let (text, hex) = naive(&fields, &secret, &settings).expect("names are distinct");
        let canonical = Canonical::new(&fields, &settings).expect("names are distinct");
        prop_assert_eq!(canonical.to_string(), text);
        let key = SigningKey::new(secret.as_str()).unwrap();
        prop_assert_eq!(&key.sign(&canonical).to_string(), &hex);
        prop_assert_eq!(key.sign_fields(&fields, &settings).unwrap().to_string(), hex);
    }

    /// Names from a three-letter alphabet, repeats allowed: long shared prefixes, zero bytes,
    /// and duplicates, among few fields or many.
    #[test]
    fn close_names_sort_and_repeat_as_the_naive_reference_says(
        fields in prop::collection::vec(("[ab\u{0}]{0,10}", "[xy]{0,3}"), 0..10),
        settings in settings(),
    ) {
        let key = SigningKey::new("k").unwrap();
        match naive(&fields, "k", &settings) {
            Some((text, hex)) => {
                let canonical = Canonical::new(&fields, &settings).expect("names are distinct");
                prop_assert_eq!(canonical.to_string(), text);
                prop_assert_eq!(&key.sign(&canonical).to_string(), &hex);
                prop_assert_eq!(key.sign_fields(&fields, &settings).unwrap().to_string(), hex);
            }
            None => {
                prop_assert!(Canonical::new(&fields, &settings).is_err());
                prop_assert!(key.sign_fields(&fields, &settings).is_err());
            }
        }
    }

    #[test]
    fn order_of_input_does_not_matter(
        fields in fields(),
        seed in any::<u64>(),
        settings in settings(),
    ) {
        let mut shuffled = fields.clone();
        // A deterministic shuffle from the seed: proptest shrinks seeds well.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(sign(&fields, &settings, "k"), sign(&shuffled, &settings, "k"));
    }

    #[test]
    fn a_sign_field_never_changes_the_signature(
        fields in fields(),
        claimed in ".{0,40}",
        settings in settings(),
    ) {
        let mut with_sign = fields.clone();
        with_sign.push(("sign".to_owned(), claimed));
        prop_assert_eq!(sign(&fields, &settings, "k"), sign(&with_sign, &settings, "k"));
    }

    #[test]
    fn changing_a_signed_name_or_value_changes_the_text(
        fields in fields().prop_filter("something to change", |f| f.iter().any(|(_, v)| !v.is_empty())),
        pick in any::<prop::sample::Index>(),
        change_name in any::<bool>(),
        extra in "[^\u{0}]{1,4}",
    ) {
        let settings = Settings::default();
        let signed: Vec<usize> = (0..fields.len()).filter(|&i| !fields[i].1.is_empty()).collect();
        let target = signed[pick.index(signed.len())];
        let mut changed = fields.clone();
        if change_name {
            changed[target].0.push_str(&extra);
            prop_assume!(changed[target].0 != "sign");
            prop_assume!(changed.iter().filter(|(n, _)| *n == changed[target].0).count() == 1);
        } else {
            changed[target].1.push_str(&extra);
        }
        let before = Canonical::new(&fields, &settings).unwrap().to_string();
        let after = Canonical::new(&changed, &settings).unwrap().to_string();
        prop_assert_ne!(before, after);
    }

    #[test]
    fn fuzz_entry_point_never_panics(data in prop::collection::vec(any::<u8>(), 0..200)) {
        kyc_sign::fuzzing::canonical(&data);
    }

    #[test]
    fn malformed_signatures_are_errors(text in ".{0,40}") {
        let key = SigningKey::new("k").unwrap();
        let settings = Settings::default();
        let canonical = Canonical::new(&[("a", "1")], &settings).unwrap();
        let result = key.verify(&canonical, &text);
        if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            prop_assert!(matches!(result, Err(kyc_sign::Error::MalformedSignature(_))));
        }
    }
}
