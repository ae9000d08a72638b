//! Entry points for the `canonical` fuzz target and the property tests. Not a public API.
//!
//! The checks live here, compiled and linted with the crate, so the fuzz target stays three
//! lines and cannot rot.

use md5::{Digest, Md5};

use crate::{Canonical, EmptyValues, Error, HexCase, SecretSuffix, Settings, SigningKey};

/// The obvious implementation: sort owned pairs, build the whole text as a `String`, hash it.
/// Returns the canonical text and the hex signature, or `None` when a name repeats.
pub fn naive(
    fields: &[(String, String)],
    secret: &str,
    settings: &Settings,
) -> Option<(String, String)> {
    let mut kept: Vec<&(String, String)> = fields
        .iter()
        .filter(|(name, _)| {
            !settings
                .excluded_names
                .iter()
                .any(|excluded| excluded == name)
        })
        .collect();
    kept.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if kept.windows(2).any(|pair| pair[0].0 == pair[1].0) {
        return None;
    }
    let text = kept
        .iter()
        .filter(|(_, value)| settings.empty_values == EmptyValues::Include || !value.is_empty())
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join(&settings.pair_separator);
    let salted = match &settings.secret_suffix {
        SecretSuffix::Append => format!("{text}{secret}"),
        SecretSuffix::Wrapped { prefix, suffix } => format!("{text}{prefix}{secret}{suffix}"),
    };
    let mut hex = hex::encode(Md5::digest(salted.as_bytes()));
    if settings.hex_case == HexCase::Upper {
        hex.make_ascii_uppercase();
    }
    Some((text, hex))
}

/// Splits fuzzer bytes into settings, a secret and `(name, value)` pairs.
///
/// Layout: one flag byte, then NUL-separated text pieces (lossily decoded): the secret, then
/// alternating names and values.
pub fn decode_input(data: &[u8]) -> (Settings, String, Vec<(String, String)>) {
    let (flags, rest) = data.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
    let mut settings = Settings::default();
    if flags & 1 != 0 {
        settings = settings.with_empty_values(EmptyValues::Include);
    }
    if flags & 2 != 0 {
        settings = settings.with_pair_separator("&");
    }
    if flags & 4 != 0 {
        settings = settings.with_secret_suffix(SecretSuffix::Wrapped {
            prefix: "&key=".into(),
            suffix: "".into(),
        });
    }
    if flags & 8 != 0 {
        settings = settings.with_hex_case(HexCase::Upper);
    }
    if flags & 16 != 0 {
        settings = settings.with_excluded_names(["sign", "a"]);
    }
    let mut pieces = rest
        .split(|b| *b == 0)
        .map(|piece| String::from_utf8_lossy(piece).into_owned());
    let secret = pieces.next().unwrap_or_default();
    let mut fields = Vec::new();
    while let Some(name) = pieces.next() {
        fields.push((name, pieces.next().unwrap_or_default()));
    }
    (settings, secret, fields)
}

/// The `canonical` fuzz target: never panics, and always agrees with [`naive`].
///
/// # Panics
///
/// When the streamed implementation and the naive one disagree (that is the finding).
pub fn canonical(data: &[u8]) {
    let (settings, secret, fields) = decode_input(data);
    let reference = naive(&fields, &secret, &settings);
    let canonical = match Canonical::new(&fields, &settings) {
        Ok(canonical) => canonical,
        Err(Error::DuplicateName { .. }) => {
            assert!(reference.is_none(), "duplicate reported, naive found none");
            if let Ok(key) = SigningKey::new(secret) {
                assert!(key.sign_fields(&fields, &settings).is_err());
            }
            return;
        }
        Err(other) => panic!("unexpected error: {other}"),
    };
    let (text, hex) = reference.expect("naive reported a duplicate, Canonical did not");
    assert_eq!(canonical.to_string(), text);
    let Ok(key) = SigningKey::new(secret) else {
        return;
    };
    let signature = key.sign(&canonical);
    assert_eq!(signature.to_string(), hex);
    assert_eq!(key.sign_fields(&fields, &settings), Ok(signature));
    assert_eq!(key.verify(&canonical, &hex.to_ascii_lowercase()), Ok(()));
    assert_eq!(key.verify(&canonical, &hex.to_ascii_uppercase()), Ok(()));
    // Any text at all, as a claimed signature: an error or a verdict, never a panic.
    let _ = key.verify(&canonical, &String::from_utf8_lossy(data));
}
