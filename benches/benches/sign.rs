//! Signing the KYC 2.0 example request against the floor no implementation can beat: MD5 of the
//! already-built canonical bytes and secret, measured in the same run.

#![allow(missing_docs)] // criterion_group! generates undocumented public items

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use md5::{Digest, Md5};
use std::hint::black_box;

use kyc_benches::{SECRET, SIGN_EXAMPLE};
use kyc_sign::{Canonical, Settings, SigningKey};

fn sign(c: &mut Criterion) {
    let key = SigningKey::new(SECRET).expect("the secret is not empty");
    let settings = Settings::default();
    let canonical = Canonical::new(&SIGN_EXAMPLE, &settings).expect("no duplicate names");
    let salted = format!("{canonical}{SECRET}");
    assert_eq!(
        hex_of(Md5::digest(salted.as_bytes()).into()),
        key.sign(&canonical).to_hex(),
        "the floor must hash the very bytes the signer hashes"
    );

    let mut group = c.benchmark_group("sign/kyc2-apply-example");
    group.throughput(Throughput::Bytes(salted.len() as u64));
    group.bench_function("floor: md5 of prebuilt bytes", |b| {
        b.iter(|| Md5::digest(black_box(salted.as_bytes())))
    });
    group.bench_function("kyc-sign: canonicalize + sign", |b| {
        b.iter(|| {
            let canonical =
                Canonical::new(black_box(&SIGN_EXAMPLE), &settings).expect("no duplicates");
            key.sign(&canonical)
        })
    });
    group.bench_function("kyc-sign: sign prebuilt canonical", |b| {
        b.iter(|| key.sign(black_box(&canonical)))
    });
    group.finish();
}

fn hex_of(digest: [u8; 16]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

criterion_group!(benches, sign);
criterion_main!(benches);
