//! Replays the committed seed corpus of the `canonical` fuzz target (`fuzz/corpus/canonical`)
//! through the same entry point, so the seeds are exercised by every `cargo test`.

use kyc_test_support::corpus;

#[test]
fn canonical_seeds_pass() {
    corpus::replay("canonical", kyc_sign::fuzzing::canonical);
}
