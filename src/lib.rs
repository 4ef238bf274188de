//! ripcord: read-only preflight and rollback-readiness checks for the Elastic Stack.
#![forbid(unsafe_code)]

pub mod collect;
pub mod facts;
pub mod http;
pub mod ruleset;
pub mod version;
