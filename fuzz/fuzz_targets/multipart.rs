#![no_main]
// Arbitrary field lists round-trip through multer, boundary never inside a part; checks in the crate.
libfuzzer_sys::fuzz_target!(|data: &[u8]| kyc_transport::fuzzing::multipart(data));
