//! Replays the committed seed corpus of the `sandbox_request` fuzz target
//! (`fuzz/corpus/sandbox_request`) through the same entry point, so the seeds are exercised
//! by every `cargo test`.

use kyc_test_support::corpus;

#[test]
fn sandbox_request_seeds_pass() {
    let mut accepted = 0;
    let replayed = corpus::replay("sandbox_request", |data| {
        if kyc_sandbox::fuzzing::sandbox_request(data).is_none() {
            accepted += 1;
        }
    });
    if replayed.is_some() {
        assert!(accepted > 0, "at least one seed is a valid request");
    }
}
