//! The upgrade under judgement, in terms every product shares: the mode, what the operator
//! declared, and the basis each product derives (`from`, `to`, the kind, the start, and where
//! each value came from). The report's `upgrade` object is this basis.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;

/// Preflight (before an upgrade) or rollback (after a failed one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    Preflight,
    Rollback,
}

impl Mode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Preflight => "preflight",
            Self::Rollback => "rollback",
        }
    }
}

/// What the operator stated about the upgrade (flags, recorded in a bundle), before anything
/// is inferred. Every product's operator facts hold at least this.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Declared<'a> {
    pub(crate) to: Option<&'a str>,
}

/// A flag given at evaluation wins over what a bundle recorded.
pub(crate) fn prefer<T>(recorded: &mut Option<T>, flag: Option<T>) {
    if flag.is_some() {
        *recorded = flag;
    }
}

/// The upgrade under judgement and where each value came from: what every product derives
/// and what the report's `upgrade` object holds.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct UpgradeBasis {
    pub from: Option<String>,
    pub to: Option<String>,
    pub from_source: String,
    pub to_source: String,
    /// Elastic: `major`, `minor`, `patch`, `none`; GHES: `patch`, `feature`; or `unknown`.
    pub kind: String,
    pub started_at: Option<Timestamp>,
    pub started_at_source: String,
}

/// Hours between `then` and `now`, to one decimal: the age every rule and message shows.
pub(crate) fn age_hours(now: Timestamp, then: Timestamp) -> f64 {
    let hours = now.duration_since(then).as_secs_f64() / 3600.0;
    (hours * 10.0).round() / 10.0
}

/// A time given on the command line: RFC 3339 with its offset. The parser's own complaint
/// ("failed to parse four digit integer as year") says what is wrong with a digit, not what
/// to write, so this says both.
/// [`timestamp`] for serde: a file's time refused in a flag's words.
pub(crate) fn some_timestamp<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Timestamp>, D::Error> {
    crate::base::de::parsed(d, timestamp).map(Some)
}

pub(crate) fn timestamp(raw: &str) -> Result<Timestamp, String> {
    raw.trim().parse().map_err(|_| {
        format!(
            "{raw:?} is not a time: give it as RFC 3339 with its offset, e.g. 2026-11-20T03:00:00Z or 2026-11-20T04:00:00+01:00"
        )
    })
}
