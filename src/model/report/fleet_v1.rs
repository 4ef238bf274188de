//! `ripcord.fleet/v1`: the fleet report's contract types (DESIGN §4). Add fields freely; never
//! rename or remove one. `schema/fleet.v1.json` is generated from these and committed.

use crate::model::report::v1::{Report, Verdict};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `schema` value of a fleet report.
pub const FLEET_SCHEMA: &str = "ripcord.fleet/v1";

/// One fleet run (or the merge of its shards): every target's report, a summary, and what
/// changed since the baseline.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FleetReport {
    /// Always `ripcord.fleet/v1`.
    pub schema: String,
    pub tool_version: String,
    /// The fleet's one clock: every target is judged as of this instant.
    pub generated_at: jiff::Timestamp,
    /// The inventory file, as given.
    pub inventory: String,
    /// How many targets the inventory lists (all shards together).
    pub inventory_targets: usize,
    /// The shards this report covers: one for `--shard I/N`, all of them after `fleet merge`,
    /// none for an unsharded run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<Shards>,
    pub summary: FleetSummary,
    /// The process exit code: 1 if any target is not ready, else 3 if any is incomplete or
    /// errored, else 0.
    pub exit_code: u8,
    /// The report the changes are measured against (`--baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// What changed since the baseline, by target; empty without one.
    #[serde(default)]
    pub changes: Vec<Change>,
    /// One per target, sorted by name.
    pub targets: Vec<TargetResult>,
    /// What the reader should know about the run itself (a bundle that could not be kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Which shards of the inventory a report covers (`--shard I/N`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct Shards {
    /// How many shards the inventory was split into.
    pub count: u32,
    /// The shards covered (1-based), ascending.
    pub covered: Vec<u32>,
}

/// Counts of targets per fleet verdict.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct FleetSummary {
    pub targets: usize,
    pub ready: usize,
    pub not_ready: usize,
    pub incomplete: usize,
    /// Rollback runs: targets with no failed upgrade to go back from (exit 0).
    pub nothing_to_roll_back: usize,
    /// Targets that could not be judged (see their `error`).
    pub error: usize,
}

/// A target's verdict in the fleet: its report's, or `error` when there is no report.
#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TargetVerdict {
    Ready,
    NotReady,
    Incomplete,
    NothingToRollBack,
    Error,
}

impl TargetVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::NotReady => "not_ready",
            Self::Incomplete => "incomplete",
            Self::NothingToRollBack => "nothing_to_roll_back",
            Self::Error => "error",
        }
    }
}

impl From<Verdict> for TargetVerdict {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Ready => Self::Ready,
            Verdict::NotReady => Self::NotReady,
            Verdict::Incomplete => Self::Incomplete,
            Verdict::NothingToRollBack => Self::NothingToRollBack,
        }
    }
}

/// One target of the inventory and what its run gave.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TargetResult {
    /// Its `name` in the inventory.
    pub name: String,
    /// `elastic`, `ghes`.
    pub product: String,
    /// `preflight` or `rollback`.
    pub mode: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub verdict: TargetVerdict,
    /// The exit code its single-target run would have: its report's, or 2 for an error.
    pub exit_code: u8,
    /// Its full `ripcord.report/v1`; null when it could not be judged.
    pub report: Option<Box<Report>>,
    /// Why it could not be judged (unreachable, every request refused, past its deadline, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What to do about `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The baseline report changes are measured against.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct Baseline {
    /// The file, as given.
    pub file: String,
    pub generated_at: jiff::Timestamp,
}

/// One change since the baseline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct Change {
    pub target: String,
    pub kind: ChangeKind,
    /// The verdict in the baseline (absent for a new target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<TargetVerdict>,
    /// The verdict now (absent for a removed target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<TargetVerdict>,
    /// The rule, for `started_failing` and `stopped_failing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What the rule says now (`started_failing`), or said in the baseline
    /// (`stopped_failing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What kind of change.
#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The target's verdict is not the baseline's.
    VerdictChanged,
    /// A rule fails now that did not in the baseline.
    StartedFailing,
    /// A rule failed in the baseline and does not now.
    StoppedFailing,
    /// The target is new in the inventory.
    TargetAdded,
    /// The target was in the baseline and is no longer in the inventory.
    TargetRemoved,
}
