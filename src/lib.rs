//! ripcord: read-only preflight and rollback-readiness checks for the Elastic Stack and GitHub
//! Enterprise Server.
//!
//! One pipeline (DESIGN §2), product-neutral: facts (collect or read a bundle) → derive →
//! rules (CEL) → findings → plan → report → render. The folders are the stages, in layers,
//! bottom first; a module imports only lower layers or its own folder, and same-rank folders
//! never import each other (`tests/ripcord/layers.rs` enforces it):
//!
//! 0. `base`: versions, files, bounded memory, safe text, credentials and redaction.
//! 1. `model`: the contracts: facts bundle, plan and shell words, upgrade, report and fleet v1.
//! 2. `collect` (the read-only client, bodies) · `judge` (rules, engine, waivers, the report).
//! 3. `product`: the `Product` trait, the registry, one folder per product.
//! 4. `output`: renderers of the contracts, sinks, the stderr `tracing` layer.
//! 5. `cli`: the command line (clap).
//! 6. `run`: the single-target pipeline.
//! 7. `fleet`: many targets over `run`.
//! 8. `app`: dispatch, the top error, schemas; `main.rs` is thin.
#![forbid(unsafe_code)]

pub mod app;
pub mod base;
pub mod cli;
mod collect;
pub mod fleet;
mod judge;
pub mod model;
pub mod output;
mod product;
pub mod run;
