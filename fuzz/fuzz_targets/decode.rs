#![no_main]
// Arbitrary bytes into every decoder of kyc-proto: never panic; the checks live in the crate.
libfuzzer_sys::fuzz_target!(|data: &[u8]| kyc_proto::fuzzing::decode(data));
