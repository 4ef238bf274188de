//! The report: findings, their summary, the verdict and the exit code (DESIGN §4).

use crate::ruleset::Severity;
use serde::Serialize;

/// Schema tag of the JSON report.
pub const REPORT_SCHEMA: &str = "ripcord.report/v1";

/// What happened to one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Skip,
    Unknown,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Skip => "skip",
            Self::Unknown => "unknown",
            Self::Error => "error",
        }
    }
}

/// One rule's result.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub outcome: Outcome,
    pub message: String,
    pub evidence: serde_json::Map<String, serde_json::Value>,
    pub remediation: String,
    pub docs: String,
}

/// Counts per outcome.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    pub unknown: usize,
    pub error: usize,
}

/// Which severities make a failure count against readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    #[default]
    Blocker,
    Warning,
}

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ready,
    NotReady,
    Incomplete,
}

impl Verdict {
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Ready => 0,
            Self::NotReady => 1,
            Self::Incomplete => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::NotReady => "not_ready",
            Self::Incomplete => "incomplete",
        }
    }
}

/// Summarises findings.
pub fn summarize(findings: &[Finding]) -> Summary {
    let mut s = Summary::default();
    for f in findings {
        match f.outcome {
            Outcome::Pass => s.pass += 1,
            Outcome::Fail => s.fail += 1,
            Outcome::Skip => s.skip += 1,
            Outcome::Unknown => s.unknown += 1,
            Outcome::Error => s.error += 1,
        }
    }
    s
}

/// Exit 1 when a counted failure exists; 3 when nothing failed but a blocker could not be
/// verified; else 0.
pub fn verdict(findings: &[Finding], fail_on: FailOn) -> Verdict {
    let counts = |f: &Finding| match fail_on {
        FailOn::Blocker => f.severity == Severity::Blocker,
        FailOn::Warning => matches!(f.severity, Severity::Blocker | Severity::Warning),
    };
    if findings
        .iter()
        .any(|f| f.outcome == Outcome::Fail && counts(f))
    {
        Verdict::NotReady
    } else if findings.iter().any(|f| {
        f.severity == Severity::Blocker && matches!(f.outcome, Outcome::Unknown | Outcome::Error)
    }) {
        Verdict::Incomplete
    } else {
        Verdict::Ready
    }
}

/// The upgrade as the report states it (DESIGN §4: `from`, `to`; the rest is added): the
/// basis every product derives.
pub use crate::facts::derive::UpgradeBasis as UpgradeSummary;

/// Where the facts came from.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// `live` or `facts`.
    pub kind: String,
    pub collected_at: jiff::Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts_file: Option<String>,
    pub elasticsearch: Option<String>,
    pub kibana: Vec<String>,
    /// The GHES Manage API URL (product `ghes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ghes: Option<String>,
}

/// The whole report (`ripcord.report/v1`); fields may be added, never renamed or removed.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool_version: &'static str,
    pub generated_at: jiff::Timestamp,
    pub product: String,
    pub mode: String,
    pub upgrade: UpgradeSummary,
    pub verdict: Verdict,
    pub exit_code: u8,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub plan: crate::plan::Plan,
    pub source: Source,
    /// What could not be collected, with hints.
    pub collection_failures: Vec<crate::facts::CollectFailure>,
}
