//! The function library rules call from CEL. Each is a thin wrapper over `crate::base::version` so
//! the logic is tested in Rust and the rule files stay declarative; `expr` registers them with
//! the CEL engine (the only module that knows it).
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

use crate::base::version::{self, VersionError};

/// A function of one version string.
pub(crate) type Unary<T> = fn(&str) -> Result<T, VersionError>;
/// A function of two version strings.
pub(crate) type Binary<T> = fn(&str, &str) -> Result<T, VersionError>;

/// `(name, function)` of every integer-valued function of one version.
pub(crate) const UNARY_INT: &[(&str, Unary<i64>)] = &[
    ("semver_major", |v| {
        Ok(version::parse_lenient(v)?.major as i64)
    }),
    ("semver_minor", |v| {
        Ok(version::parse_lenient(v)?.minor as i64)
    }),
    ("semver_patch", |v| {
        Ok(version::parse_lenient(v)?.patch as i64)
    }),
];

/// `(name, function)` of every boolean function of one version.
pub(crate) const UNARY_BOOL: &[(&str, Unary<bool>)] = &[("is_prerelease", version::is_prerelease)];

/// `(name, function)` of every integer-valued function of two versions.
pub(crate) const BINARY_INT: &[(&str, Binary<i64>)] =
    &[("semver_cmp", |a, b| Ok(version::compare(a, b)? as i64))];

/// `(name, function)` of every boolean function of two versions.
pub(crate) const BINARY_BOOL: &[(&str, Binary<bool>)] = &[
    ("same_release", version::same_release),
    ("kibana_accepts_es", version::kibana_accepts_es),
];

/// Names of our functions, for load-time reference checks.
pub(crate) fn names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = UNARY_INT
        .iter()
        .map(|(n, _)| *n)
        .chain(UNARY_BOOL.iter().map(|(n, _)| *n))
        .chain(BINARY_INT.iter().map(|(n, _)| *n))
        .chain(BINARY_BOOL.iter().map(|(n, _)| *n))
        .collect();
    names.sort_unstable();
    names
}
