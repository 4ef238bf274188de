//! Helpers of the `rollback` bench. They live in a folder without a `main.rs` so Cargo does
//! not mistake them for bench targets of their own.

pub(crate) mod cluster;
pub(crate) mod launcher;
pub(crate) mod listing;
pub(crate) mod measure;
pub(crate) mod report;
