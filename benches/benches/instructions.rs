//! Instruction counts of the SDK's hot calls, measured by callgrind through gungraun: signing the
//! KYC 2.0 example, encoding its form, decoding the provider's answer to it and verifying a
//! callback. Counts do not move with machine load, so CI compares them with the committed
//! baseline `benches/instructions.baseline` (see `benches/README.md`, "Instruction counts").
//!
//! Each benchmark measures one call of a public API. Callgrind counts only the benchmark
//! function itself: its inputs are built in `setup`, and it hands them back with the result, so
//! that dropping either (zeroizing the key, freeing buffers) happens outside the count.

#![allow(missing_docs)] // gungraun's macros generate undocumented public items

use std::hint::black_box;

use bytes::Bytes;
use gungraun::{library_benchmark, library_benchmark_group, main};
use kyc_benches::{KYC2_FORM, REPLY, SECRET, SIGN_EXAMPLE};
use kyc_proto::{ApplyResponse, AuthenticationStatus, Callback, Timestamp, UserId};
use kyc_sign::{Settings, Signature, SigningKey};
use kyc_transport::multipart::{Boundary, Form};

/// The boundary the transport bench encodes with: a fixed one, so the output is the same bytes
/// every run.
const BOUNDARY: &str = "----kycBenchBoundary0123456789abcdef";

fn key() -> SigningKey {
    SigningKey::new(SECRET).expect("the secret is not empty")
}

fn signer() -> (SigningKey, Settings) {
    (key(), Settings::default())
}

#[library_benchmark]
#[bench::kyc2_example(setup = signer)]
fn sign_fields((key, settings): (SigningKey, Settings)) -> (Signature, SigningKey, Settings) {
    let signature = key
        .sign_fields(black_box(&SIGN_EXAMPLE), &settings)
        .expect("the example has no duplicate names");
    (black_box(signature), key, settings)
}

fn kyc2_form() -> (Form, Boundary) {
    let form = KYC2_FORM
        .iter()
        .fold(Form::new(), |form, (name, value)| form.text(*name, *value));
    let boundary = Boundary::new(BOUNDARY).expect("the boundary is a valid bchars string");
    (form, boundary)
}

#[library_benchmark]
#[bench::kyc2_form(setup = kyc2_form)]
fn encode_form((form, boundary): (Form, Boundary)) -> (Bytes, Form, Boundary) {
    let body = black_box(&form)
        .encode(&boundary)
        .expect("the 2.0 form's parts are all text");
    (black_box(body), form, boundary)
}

#[library_benchmark]
#[bench::apply_accepted(REPLY.as_bytes())]
fn decode_response(body: &[u8]) -> ApplyResponse {
    black_box(ApplyResponse::from_slice(black_box(body)).expect("the apply answer decodes"))
}

/// The shared vector `callback-rejected` as the provider posts it, signed by the producer the
/// sandbox uses, and the key to verify it with.
fn rejected_callback() -> (Vec<u8>, SigningKey) {
    let key = key();
    let body = Callback::new(
        UserId::new("79x7p10nh4xd121m").expect("a valid user id"),
        AuthenticationStatus::Rejected,
        Some("The file and type do not match".into()),
        Timestamp::from_millis(1_728_609_277_476),
    )
    .to_signed_json(&key);
    (body, key)
}

#[library_benchmark]
#[bench::rejected(setup = rejected_callback)]
fn verify_callback((body, key): (Vec<u8>, SigningKey)) -> (Callback, Vec<u8>, SigningKey) {
    let callback = Callback::verify(black_box(&body), &key).expect("the callback verifies");
    (black_box(callback), body, key)
}

library_benchmark_group!(name = sign, benchmarks = [sign_fields]);

library_benchmark_group!(name = transport, benchmarks = [encode_form]);

library_benchmark_group!(
    name = proto,
    benchmarks = [decode_response, verify_callback]
);

main!(library_benchmark_groups = sign, transport, proto);
