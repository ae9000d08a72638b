#![no_main]
// Arbitrary bodies through the sandbox's parsers and checks never panic; the logic lives in the crate.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = kyc_sandbox::fuzzing::sandbox_request(data);
});
