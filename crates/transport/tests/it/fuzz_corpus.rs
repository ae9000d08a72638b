//! Replays the committed seed corpus of the `multipart` fuzz target (`fuzz/corpus/multipart`)
//! through the same entry point, so the seeds are exercised by every `cargo test`.

use std::fs;
use std::path::Path;

#[test]
fn multipart_seeds_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/multipart");
    let Ok(entries) = fs::read_dir(&dir) else {
        // The crate is being tested outside the workspace (for example from a package): the
        // corpus lives with the workspace, and the property tests still run.
        return;
    };
    let mut replayed = 0;
    for entry in entries {
        let path = entry.expect("readable entry").path();
        let data = fs::read(&path).expect("readable seed");
        kyc_transport::fuzzing::multipart(&data);
        replayed += 1;
    }
    assert!(replayed > 0, "the corpus at {} is empty", dir.display());
}
