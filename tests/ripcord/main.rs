//! The one integration test binary: loopback fixture servers, the rules × scenarios matrix,
//! rule meta-tests, collectors, and the CLI contract (exit codes, formats, flags).
#![allow(
    unreachable_pub,
    reason = "a test binary has no public API; `pub` shares helpers between its modules"
)]

mod ci;
mod cli;
mod collectors;
mod common;
mod compat;
mod discovery;
mod fleet;
mod hostile;
mod hostile_values;
mod injection;
mod junit;
mod layers;
mod markdown;
mod newcomer;
mod pasteable;
mod platforms;
mod redaction;
mod rehearse;
mod rule_files;
mod rules_matrix;
mod rules_meta;
mod runbooks;
mod schemas;
