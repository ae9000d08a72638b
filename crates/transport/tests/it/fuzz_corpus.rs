//! Replays the committed seed corpus of the `multipart` fuzz target (`fuzz/corpus/multipart`)
//! through the same entry point, so the seeds are exercised by every `cargo test`.

use kyc_test_support::corpus;

#[test]
fn multipart_seeds_pass() {
    corpus::replay("multipart", kyc_transport::fuzzing::multipart);
}
