//! Property tests: any form encodes and parses back identically through `multer`.

use bytes::Bytes;
use kyc_transport::fuzzing;
use kyc_transport::multipart::{Boundary, FileSource, Form};
use proptest::prelude::*;

/// Text that is likely to hurt a multipart encoder: dashes, CRLF, quotes, boundary-like runs.
fn adversarial() -> impl Strategy<Value = String> {
    let atoms = prop_oneof![
        Just("--".to_owned()),
        Just("\r\n".to_owned()),
        Just("\r".to_owned()),
        Just("\n".to_owned()),
        Just("\"".to_owned()),
        Just("%22".to_owned()),
        Just("; name=\"x\"".to_owned()),
        Just("--kyc".to_owned()),
        Just("\r\n--kyc0123456789abcdef".to_owned()),
        Just("Content-Disposition: form-data".to_owned()),
        Just("テスト014".to_owned()),
        Just("\t".to_owned()),
        "[ -~]{0,8}",
        any::<String>(),
    ];
    prop::collection::vec(atoms, 0..6).prop_map(|atoms| atoms.concat())
}

#[derive(Debug, Clone)]
enum PartSpec {
    Text(String, String),
    File(String, String, Vec<u8>),
}

fn part() -> impl Strategy<Value = PartSpec> {
    prop_oneof![
        (adversarial(), adversarial()).prop_map(|(n, v)| PartSpec::Text(n, v)),
        (
            adversarial(),
            adversarial(),
            prop::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(|(n, f, b)| PartSpec::File(n, f, b)),
    ]
}

fn form(parts: &[PartSpec]) -> Form {
    parts.iter().fold(Form::new(), |form, part| match part {
        PartSpec::Text(name, value) => form.text(name.clone(), value.clone()),
        PartSpec::File(name, filename, bytes) => form.file(
            name.clone(),
            filename.clone(),
            "application/octet-stream",
            FileSource::Bytes(Bytes::from(bytes.clone())),
        ),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// With a random boundary, every form whose names can be carried encodes, and multer reads
    /// back the same names, filenames, content types and bytes.
    #[test]
    fn random_boundary_round_trips(parts in prop::collection::vec(part(), 0..6), chunk in 1_usize..64) {
        let form = form(&parts);
        let carriable = form.parts().iter().all(|p| {
            fuzzing::carriable(p.name()) && p.filename().is_none_or(fuzzing::carriable)
        });
        let boundary = Boundary::random().expect("OS random source");
        prop_assert_eq!(fuzzing::round_trip(&form, &boundary, chunk), carriable);
    }

    /// With a short fixed boundary, collisions are likely: each is either refused as a
    /// collision (and really is one) or the form round-trips.
    #[test]
    fn short_fixed_boundary_round_trips_or_refuses(
        parts in prop::collection::vec(part(), 0..5),
        boundary in "[a-z-]{1,3}",
        chunk in 1_usize..16,
    ) {
        let boundary = Boundary::new(&boundary).expect("valid bchars");
        fuzzing::round_trip(&form(&parts), &boundary, chunk);
    }

    /// Encoding is a pure function of the form and the boundary.
    #[test]
    fn encoding_is_deterministic(parts in prop::collection::vec(part(), 0..4)) {
        let form = form(&parts);
        let boundary = Boundary::random().expect("OS random source");
        let first = form.encode(&boundary).ok();
        prop_assert_eq!(first, form.encode(&boundary).ok());
    }
}
