#![no_main]
// Arbitrary pairs never panic and agree with the naive reference; the checks live in the crate.
libfuzzer_sys::fuzz_target!(|data: &[u8]| kyc_sign::fuzzing::canonical(data));
