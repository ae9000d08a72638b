//! Criterion benches for the `kyc-*` workspace; see `benches/README.md` for how to run them and
//! the figures they produced. The library itself is empty: the benches live in `benches/`.
