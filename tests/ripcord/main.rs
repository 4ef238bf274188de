//! The one integration test binary: loopback fixture servers, the rules × scenarios matrix,
//! rule meta-tests, collectors, and the CLI contract (exit codes, formats, flags).

mod cli;
mod collectors;
mod common;
mod compat;
mod rules_matrix;
mod rules_meta;
