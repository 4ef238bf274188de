//! ripcord: read-only preflight and rollback-readiness checks for the Elastic Stack and GitHub
//! Enterprise Server.
//!
//! Pipeline (DESIGN §2): collect (or read a bundle) → facts → derive → rules (CEL) → findings
//! → plan → render. `main.rs` is thin; `app` wires the pipeline; only `output` writes stdout.
#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod collect;
pub mod engine;
pub mod facts;
pub mod http;
pub mod output;
pub mod plan;
pub mod report;
pub mod ruleset;
pub mod version;
