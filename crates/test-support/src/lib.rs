//! Helpers the workspace's integration tests share, kept once instead of copied per crate.
//!
//! Never published: the workspace names it by path only, so packaging a crate drops it from
//! that crate's dev-dependencies. Each module beyond [`corpus`] is behind a feature of the same
//! name, so a crate's tests pull in only what they use:
//!
//! | module | feature | for |
//! | --- | --- | --- |
//! | [`corpus`] | always | replaying a fuzz target's committed seeds in `cargo test` |
//! | `trace` | `trace` | capturing everything traced in the test process, checking for leaks |
//! | `loris` | `loris` | clients that stall or trickle, and whether the server cut them off |
//! | `callbacks` | `callbacks` | provider callback bodies, signed honestly or reshaped |
//!
//! It depends on no workspace crate above `kyc-proto`, and on `kyc-sign` and `kyc-proto` only
//! through `callbacks`: a crate whose tests use it must not be one of its dependencies, or the
//! tests would see two copies of that crate's types.

pub mod corpus;

#[cfg(feature = "callbacks")]
pub mod callbacks;
#[cfg(feature = "loris")]
pub mod loris;
#[cfg(feature = "trace")]
pub mod trace;

/// Whether `text` contains none of `forbidden`; panics naming the first one it does contain,
/// with the whole text, so a leak shows where it happened.
///
/// ```
/// kyc_test_support::assert_none_leaked("signature accepted", ["TEST_SECRET", "ヤマダ"]);
/// ```
#[track_caller]
pub fn assert_none_leaked<'a>(text: &str, forbidden: impl IntoIterator<Item = &'a str>) {
    for forbidden in forbidden {
        assert!(!text.contains(forbidden), "{forbidden:?} leaked:\n{text}");
    }
}
