//! Signing the KYC 2.0 example request against the floor no implementation can beat: MD5 of the
//! already-built canonical bytes and secret, measured in the same run.

#![allow(missing_docs)] // criterion_group! generates undocumented public items

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use md5::{Digest, Md5};
use std::hint::black_box;

use kyc_benches::{SECRET, SIGN_EXAMPLE, interleaved};
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
    group.bench_function(NAMES[0], |b| {
        b.iter(|| Md5::digest(black_box(salted.as_bytes())))
    });
    let sign_fields = || {
        key.sign_fields(black_box(&SIGN_EXAMPLE), &settings)
            .expect("no duplicates")
    };
    let new_then_sign = || {
        let canonical = Canonical::new(black_box(&SIGN_EXAMPLE), &settings).expect("no duplicates");
        key.sign(&canonical)
    };
    group.bench_function(NAMES[1], |b| b.iter(sign_fields));
    group.bench_function(NAMES[2], |b| b.iter(new_then_sign));
    group.bench_function(NAMES[3], |b| b.iter(|| key.sign(black_box(&canonical))));
    group.finish();

    if !std::env::args().any(|arg| arg == "--bench") {
        return; // `cargo test` runs each bench once as a smoke test: no figures then
    }
    // Separate measurements drift apart with the machine's load by more than the margin the
    // target leaves; interleaved batches see the same load.
    let mut floor = batch(|| Md5::digest(black_box(salted.as_bytes())));
    let mut fields = batch(sign_fields);
    let mut new = batch(new_then_sign);
    let mut prebuilt = batch(|| key.sign(black_box(&canonical)));
    let medians = interleaved(
        41,
        20_000,
        [&mut floor, &mut fields, &mut new, &mut prebuilt],
    );
    report(medians);
}

/// `calls` calls of `call`, in a loop compiled for it (no dynamic call per signature, which
/// would add the same cost to every contender and shrink their ratios).
fn batch<T>(mut call: impl FnMut() -> T) -> impl FnMut(u32) {
    move |calls| {
        for _ in 0..calls {
            black_box(call());
        }
    }
}

const NAMES: [&str; 4] = [
    "floor: md5 of prebuilt bytes",
    "kyc-sign: sign_fields",
    "kyc-sign: Canonical::new + sign",
    "kyc-sign: sign prebuilt canonical",
];

/// Prints the interleaved medians and their ratios to the floor.
#[allow(clippy::print_stdout)] // a bench reports to its terminal
fn report(seconds: [f64; 4]) {
    println!();
    println!(
        "sign/kyc2-apply-example, median of interleaved batches (target: sign_fields / floor <= 1.5):"
    );
    for (name, time) in NAMES.iter().zip(seconds) {
        println!(
            "  {name:<36} {:>7.1} ns  {:.3}x floor",
            time * 1e9,
            time / seconds[0]
        );
    }
}

fn hex_of(digest: [u8; 16]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

criterion_group!(benches, sign);
criterion_main!(benches);
