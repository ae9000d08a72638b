//! Replays the committed seed corpus of the `sandbox_request` fuzz target
//! (`fuzz/corpus/sandbox_request`) through the same entry point, so the seeds are exercised
//! by every `cargo test`.

use std::fs;
use std::path::Path;

#[test]
fn sandbox_request_seeds_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/sandbox_request");
    let Ok(entries) = fs::read_dir(&dir) else {
        // Tested outside the workspace: the corpus lives with the workspace.
        return;
    };
    let mut replayed = 0;
    let mut accepted = 0;
    for entry in entries {
        let path = entry.expect("readable entry").path();
        let data = fs::read(&path).expect("readable seed");
        if kyc_sandbox::fuzzing::sandbox_request(&data).is_none() {
            accepted += 1;
        }
        replayed += 1;
    }
    assert!(replayed > 0, "the corpus at {} is empty", dir.display());
    assert!(accepted > 0, "at least one seed is a valid request");
}
