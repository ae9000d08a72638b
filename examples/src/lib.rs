//! Helpers the examples share: where the provider is, and a client for it.
