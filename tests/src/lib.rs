//! Shared helpers for Vigil's integration tests.
