//! The function library rules call from CEL. Each is a thin wrapper over `crate::version`
//! so the logic is tested in Rust and the rule files stay declarative.
//!
//! | function | returns |
//! |---|---|
//! | `semver_cmp(a, b)` | -1, 0 or 1 by semver precedence (lenient parsing) |
//! | `semver_major(v)`, `semver_minor(v)`, `semver_patch(v)` | the number |
//! | `is_prerelease(v)` | whether `v` has a `-suffix` |
//! | `same_release(a, b)` | equal after dropping pre-release suffixes (Kibana's `coerce`) |
//! | `kibana_accepts_es(kibana, es)` | Kibana's own ES-compatibility rule, per node |
//!
//! An unparsable version is an evaluation error, so the finding is `error`, never a guess.

use crate::version;
use cel::{Context, ExecutionError};
use std::sync::Arc;

/// Names of our functions, for load-time reference checks.
pub(crate) const NAMES: &[&str] = &[
    "semver_cmp",
    "semver_major",
    "semver_minor",
    "semver_patch",
    "is_prerelease",
    "same_release",
    "kibana_accepts_es",
];

fn err(name: &str, e: version::VersionError) -> ExecutionError {
    ExecutionError::function_error(name, e.to_string())
}

/// Registers every function on a fresh context.
pub(crate) fn register(ctx: &mut Context<'_, '_>) {
    // NOTE: add_function only fails on a clash with a standard-library name; ours have none,
    // and the unit tests below would catch a new one.
    let _ = ctx.add_function(
        "semver_cmp",
        |a: Arc<String>, b: Arc<String>| -> Result<i64, ExecutionError> {
            Ok(version::compare(&a, &b).map_err(|e| err("semver_cmp", e))? as i64)
        },
    );
    let _ = ctx.add_function(
        "semver_major",
        |a: Arc<String>| -> Result<i64, ExecutionError> {
            Ok(version::parse_lenient(&a)
                .map_err(|e| err("semver_major", e))?
                .major as i64)
        },
    );
    let _ = ctx.add_function(
        "semver_minor",
        |a: Arc<String>| -> Result<i64, ExecutionError> {
            Ok(version::parse_lenient(&a)
                .map_err(|e| err("semver_minor", e))?
                .minor as i64)
        },
    );
    let _ = ctx.add_function(
        "semver_patch",
        |a: Arc<String>| -> Result<i64, ExecutionError> {
            Ok(version::parse_lenient(&a)
                .map_err(|e| err("semver_patch", e))?
                .patch as i64)
        },
    );
    let _ = ctx.add_function(
        "is_prerelease",
        |a: Arc<String>| -> Result<bool, ExecutionError> {
            version::is_prerelease(&a).map_err(|e| err("is_prerelease", e))
        },
    );
    let _ = ctx.add_function(
        "same_release",
        |a: Arc<String>, b: Arc<String>| -> Result<bool, ExecutionError> {
            version::same_release(&a, &b).map_err(|e| err("same_release", e))
        },
    );
    let _ = ctx.add_function(
        "kibana_accepts_es",
        |k: Arc<String>, es: Arc<String>| -> Result<bool, ExecutionError> {
            version::kibana_accepts_es(&k, &es).map_err(|e| err("kibana_accepts_es", e))
        },
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_register_without_clash() {
        let mut ctx = cel::Context::default();
        for name in super::NAMES {
            assert!(
                ctx.add_function(name, |a: i64| a).is_ok(),
                "{name} clashes with the standard library"
            );
        }
    }
}
