//! Facts to findings, no I/O: rule files (TOML + CEL), their evaluation, waivers, and the
//! report they add up to.

pub(crate) mod engine;
pub(crate) mod report;
pub(crate) mod ruleset;
pub(crate) mod waivers;
