//! ripcord: read-only preflight and rollback-readiness checks for the Elastic Stack and GitHub
//! Enterprise Server.
//!
//! One pipeline (DESIGN §2), product-neutral: facts (collect or read a bundle) → derive →
//! rules (CEL) → findings → plan → report → render. Each product is one folder under
//! `product/` behind one trait and one registry; `main.rs` is thin, `app` wires commands to
//! `pipeline`, and only `output` writes to stdout or stderr.
#![forbid(unsafe_code)]

pub mod app;
mod body;
mod bounded;
mod causes;
pub mod cli;
mod engine;
pub mod error;
mod facts;
mod fetch;
mod files;
pub mod fleet;
mod http;
pub mod memory;
mod names;
pub mod output;
pub mod pipeline;
mod plan;
mod product;
pub mod report;
mod ruleset;
pub mod schema;
mod secrets;
mod upgrade;
pub mod version;
mod waivers;
mod wire;
