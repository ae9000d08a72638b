//! Decoding a typical response and verifying a typical callback, each against a baseline
//! measured in the same run: `serde_json::from_slice::<serde_json::Value>` of the same bytes,
//! the work any JSON consumer does before it can look at a field.

use criterion::{Criterion, Throughput, criterion_main};
use std::hint::black_box;

use kyc_benches::SECRET;
use kyc_proto::{Callback, StatusResponse};
use kyc_sign::SigningKey;

/// A status response as another region of the provider sends it: numeric timestamp, extras.
const RESPONSE: &[u8] = br#"{"msg":"success","code":"0000","timestamp":1728609277476,"success":true,"data":{"userId":"79x7p10nh4xd121m","authenticationStatus":"3","message":"review finished","failReason":"The file and type do not match","kycNumber":"KYC202410110001","authenticationUrl":"https://kyc.example.com/u/79x7p10nh4xd121m"}}"#;

/// The shared vector `callback-rejected`, as the provider posts it.
const CALLBACK: &[u8] = br#"{"userId":"79x7p10nh4xd121m","authenticationStatus":"3","failReason":"The file and type do not match","timestamp":1728609277476,"sign":"ca152b32fdd4b654690538c66d1e6718"}"#;

fn decode_response(c: &mut Criterion) {
    let response = StatusResponse::from_slice(RESPONSE).expect("the sample decodes");
    assert!(response.api_result().is_ok());

    let mut group = c.benchmark_group("proto/status-response");
    group.throughput(Throughput::Bytes(RESPONSE.len() as u64));
    group.bench_function("baseline: serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(RESPONSE)))
    });
    group.bench_function("kyc-proto: StatusResponse::from_slice", |b| {
        b.iter(|| StatusResponse::from_slice(black_box(RESPONSE)))
    });
    group.finish();
}

fn verify_callback(c: &mut Criterion) {
    let key = SigningKey::new(SECRET).expect("the secret is not empty");
    Callback::verify(CALLBACK, &key).expect("the sample verifies");

    let mut group = c.benchmark_group("proto/callback");
    group.throughput(Throughput::Bytes(CALLBACK.len() as u64));
    group.bench_function("baseline: serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(CALLBACK)))
    });
    group.bench_function("kyc-proto: Callback::verify", |b| {
        b.iter(|| Callback::verify(black_box(CALLBACK), &key))
    });
    group.finish();
}

/// Both groups; written out rather than through `criterion_group!`, whose generated function
/// carries no documentation for the workspace's `missing_docs` lint.
pub fn benches() {
    let mut c = Criterion::default().configure_from_args();
    decode_response(&mut c);
    verify_callback(&mut c);
}

criterion_main!(benches);
