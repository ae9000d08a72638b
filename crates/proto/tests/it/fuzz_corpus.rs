//! Replays the committed seed corpus of the `decode` fuzz target (`fuzz/corpus/decode`)
//! through the same entry point, so the seeds are exercised by every `cargo test`.

use kyc_test_support::corpus;

#[test]
fn decode_seeds_pass() {
    corpus::replay("decode", kyc_proto::fuzzing::decode);
}
