//! Replaying a fuzz target's committed seed corpus, so that every `cargo test` runs the seeds
//! through the same entry point the fuzzer uses.

use std::fs;
use std::path::{Path, PathBuf};

/// Where the seeds of `target` live: `fuzz/corpus/<target>` in the workspace.
pub fn dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

/// Passes every seed of `target` (see [`dir`]) to `each`, and returns how many there were.
///
/// `None` when the corpus is not there: the crate is being tested outside the workspace, where
/// the corpus does not travel, and the other tests still run. Panics when the directory exists
/// but holds no seed, or a seed cannot be read.
///
/// ```
/// let mut bytes = 0;
/// if let Some(seeds) = kyc_test_support::corpus::replay("canonical", |seed| bytes += seed.len()) {
///     assert!(seeds > 0);
/// }
/// ```
#[track_caller]
pub fn replay(target: &str, mut each: impl FnMut(&[u8])) -> Option<usize> {
    let dir = dir(target);
    let entries = fs::read_dir(&dir).ok()?;
    let mut replayed = 0;
    for entry in entries {
        let path = entry.expect("readable entry").path();
        let data = fs::read(&path).expect("readable seed");
        each(&data);
        replayed += 1;
    }
    assert!(replayed > 0, "the corpus at {} is empty", dir.display());
    Some(replayed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_target_of_the_workspace_has_its_corpus_found() {
        for target in ["canonical", "decode", "multipart", "sandbox_request"] {
            let seeds = super::replay(target, |_| {});
            assert!(seeds.is_some_and(|n| n > 0), "{target}: {seeds:?}");
        }
    }
}
