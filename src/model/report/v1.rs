//! The JSON report contract, `ripcord.report/v1`: its own types, separate from the internal
//! ones, so the contract changes only on purpose. Fields may be added, never renamed or
//! removed. `schema/report.v1.json` is generated from these types (a test fails when the two
//! drift).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Schema tag of the JSON report.
pub const REPORT_SCHEMA: &str = "ripcord.report/v1";

/// The whole report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "ripcord report v1")]
pub struct Report {
    /// Always `ripcord.report/v1`.
    pub schema: String,
    pub tool_version: String,
    pub generated_at: jiff::Timestamp,
    /// The product's name: `elastic`, `ghes`.
    pub product: String,
    /// `preflight` or `rollback`.
    pub mode: String,
    /// The system judged, so a report (and a fleet of them) says which one.
    pub target: Target,
    pub upgrade: Upgrade,
    pub verdict: Verdict,
    /// The process exit code this report implies.
    pub exit_code: u8,
    /// Which failures set the exit code (`--fail-on`). Reports from before this field read
    /// as `blocker`.
    #[serde(default)]
    pub fail_on: FailOn,
    pub summary: Summary,
    /// One per rule, sorted by rule id.
    pub findings: Vec<Finding>,
    pub plan: Plan,
    pub source: Source,
    /// What could not be collected, with hints.
    pub collection_failures: Vec<CollectionFailure>,
    /// What the reader should know about the report itself (facts older than an hour, an
    /// expired waiver, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The waivers (`--waivers`) about this target, each with what it did in this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<WaiverUse>,
    /// Rollback only: the answer to "can I get back?", from the plan (the first line of the
    /// text formats). `verdict` still says whether every rule is satisfied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackAnswer>,
}

/// A waiver about this report's target and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WaiverUse {
    pub rule: String,
    /// The glob over target names, as written.
    pub target: String,
    pub reason: String,
    pub owner: String,
    /// The last day it applies (UTC).
    pub expires: jiff::civil::Date,
    pub status: WaiverStatus,
}

/// What a waiver did in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaiverStatus {
    /// It turned its rule's failure into `waived`.
    Applied,
    /// Its rule did not fail here: nothing to waive (a candidate for removal).
    Unused,
    /// Past its expiry date: it no longer applies.
    Expired,
}

/// The waiver a `waived` finding matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WaivedBy {
    pub reason: String,
    pub owner: String,
    pub expires: jiff::civil::Date,
}

/// Which failures set the exit code: `blocker`, or `warning` (blockers and warnings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailOn {
    #[default]
    Blocker,
    Warning,
}

impl FailOn {
    /// The JSON name (and the `--fail-on` value).
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Blocker => "blocker",
            FailOn::Warning => "warning",
        }
    }
}

/// How a finding weighs on the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// A failure that makes the exit code 1 (per `fail_on`).
    Fails,
    /// A blocker that could not be verified: exit 3 when nothing fails.
    Unverified,
    /// Shown, but does not set the exit code.
    Shown,
    /// A failure a waiver covers: shown with its reason, does not set the exit code.
    Waived,
    /// Passed.
    Passed,
}

impl Report {
    /// The verdict the findings give (DESIGN §4): not ready when a failure counts, incomplete
    /// when nothing fails but a blocker could not be verified, else ready.
    pub fn verdict_of_findings(&self) -> Verdict {
        let weights: Vec<Weight> = self.findings.iter().map(|f| self.weight(f)).collect();
        if weights.contains(&Weight::Fails) {
            Verdict::NotReady
        } else if weights.contains(&Weight::Unverified) {
            Verdict::Incomplete
        } else {
            Verdict::Ready
        }
    }

    /// How `finding` weighs on this report's exit code (DESIGN §4).
    pub fn weight(&self, finding: &Finding) -> Weight {
        let counted = match finding.severity {
            Severity::Blocker => true,
            Severity::Warning => self.fail_on == FailOn::Warning,
            Severity::Info => false,
        };
        match finding.outcome {
            Outcome::Pass => Weight::Passed,
            Outcome::Waived => Weight::Waived,
            Outcome::Fail if counted => Weight::Fails,
            Outcome::Unknown | Outcome::Error if finding.severity == Severity::Blocker => {
                Weight::Unverified
            }
            _ => Weight::Shown,
        }
    }
}

impl Target {
    /// The target's name: its fleet inventory name, else the Elasticsearch cluster's name, or
    /// the GHES primary's host name.
    pub fn name(&self) -> Option<&str> {
        self.name
            .as_deref()
            .or(self.cluster_name.as_deref())
            .or(self.ghes_primary.as_deref())
    }

    /// Every name waivers may match: the fleet inventory name, the Elasticsearch cluster
    /// name, the GHES primary host (a waiver written for single-target runs keeps applying
    /// when the target joins a fleet).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        [&self.name, &self.cluster_name, &self.ghes_primary]
            .into_iter()
            .filter_map(|n| n.as_deref())
    }
}

/// The system judged. Fields that do not apply to a product are left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Target {
    /// Fleet runs: the target's `name` in the inventory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Elastic: how the stack is deployed (`deb`, `rpm`, `docker`, `tar`, `eck`, `cloud` or
    /// `unknown`); the plan's commands speak it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<String>,
    /// Where the flavour came from (`--flavor`, or what showed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor_source: Option<String>,
    /// Elastic: the Elasticsearch cluster's name and UUID (`GET /`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_uuid: Option<String>,
    /// Elastic: the Kibana instances asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kibana: Vec<String>,
    /// GHES: the primary's host name (Manage API, else the `--ghes` URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ghes_primary: Option<String>,
}

/// The upgrade under judgement and where each value came from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Upgrade {
    pub from: Option<String>,
    pub to: Option<String>,
    pub from_source: String,
    pub to_source: String,
    /// Elastic: `major`, `minor`, `patch`, `none`; GHES: `patch`, `feature`; or `unknown`.
    pub kind: String,
    pub started_at: Option<jiff::Timestamp>,
    pub started_at_source: String,
}

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ready,
    NotReady,
    Incomplete,
    /// Rollback only: no sign of a failed upgrade, so there is nothing to go back from (exit
    /// 0). The plan's `basis` lists the facts that show it.
    NothingToRollBack,
}

/// Counts per outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    pub unknown: usize,
    pub error: usize,
    /// Failures a waiver covers (`--waivers`).
    #[serde(default)]
    pub waived: usize,
}

/// Whether there is a way back, as the plan found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RollbackAnswer {
    /// The plan's steps lead back.
    Possible,
    /// Steps that may lead back: something they rest on could not be verified (the snapshots
    /// could not be listed, or whether this cluster can restore the snapshot was not judged).
    MayBePossible,
    /// No supported way back: the plan is a fix-forward checklist.
    NoWayBack,
    /// Not enough is known to plan (a version to go back to, the upgrade's kind).
    CannotTell,
    /// No sign of a failed upgrade.
    NothingToRollBack,
}

impl RollbackAnswer {
    /// How the text formats open with it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Possible => "ROLLBACK POSSIBLE",
            Self::MayBePossible => "ROLLBACK MAY BE POSSIBLE",
            Self::NoWayBack => "NO WAY BACK",
            Self::CannotTell => "CANNOT TELL",
            Self::NothingToRollBack => "NOTHING TO ROLL BACK",
        }
    }
}

/// How much a failing rule matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Blocker,
    Warning,
    Info,
}

/// What happened to one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    /// Does not apply (mode, `when`): the message says why.
    Skip,
    /// A required fact could not be collected: the message and evidence say which and why.
    Unknown,
    /// The rule could not be evaluated.
    Error,
    /// It failed, and a waiver covers the failure: `waived_by` says whose and why.
    Waived,
}

/// One rule's result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// The stable rule id.
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub outcome: Outcome,
    pub message: String,
    /// What the rule looked at, by name.
    pub evidence: serde_json::Map<String, serde_json::Value>,
    pub remediation: String,
    /// The vendor documentation the rule follows.
    pub docs: String,
    /// Outcome `waived`: the waiver that covers the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<WaivedBy>,
}

/// A plan: what to do, in order, and what it costs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    pub title: String,
    /// The plan in one sentence, the line to read first: which way back exists (or that none
    /// does, or that nothing needs rolling back) and what it restores.
    #[serde(default)]
    pub headline: String,
    /// The facts the plan rests on, in words (for example why there is nothing to roll back).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub basis: Vec<String>,
    pub steps: Vec<Step>,
    /// What the rollback loses and what could not be checked.
    pub warnings: Vec<String>,
    /// Other ways back (GHES: promoting a replica still on the old version).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Plan>,
    /// The snapshot this way back restores (preflight: would restore), when there is one:
    /// what a nightly report graphs and alerts on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<PlanSnapshot>,
    /// What this way back loses, counted (Elastic: saved objects changed in Kibana after the
    /// restored snapshot's start), or why it could not be counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_loss: Option<DataLoss>,
    /// What this way back loses, in one line, for the headline block ("Loses what Kibana saved
    /// after …: 12 dashboards, 4 visualizations and 3 rules changed since").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loses: Option<String>,
}

/// What a restore loses.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum DataLoss {
    Counted {
        /// The restored snapshot's start: everything changed after it is lost.
        since: jiff::Timestamp,
        /// Per saved-object type (`dashboard`, `visualization`, `alert`, …).
        counts: std::collections::BTreeMap<String, u64>,
        /// `kibana` (its saved-objects and rules APIs) or `elasticsearch` (the old version's
        /// saved-object indices).
        source: String,
        /// What the counts leave out (deletions, hidden types, types whose count failed).
        not_counted: Vec<String>,
        /// The counts are at least what was lost, not exactly it: Kibana counts only what the
        /// user it asked as may read (an unregistered type, or a space or type the user may not
        /// read, counts 0 with HTTP 200), so a zero there is not "nothing changed".
        #[serde(default)]
        lower_bound: bool,
        /// Why they are a lower bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lower_bound_because: Option<String>,
    },
    Unknown {
        /// Why it could not be counted.
        unknown: String,
    },
}

/// The snapshot a plan restores.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct PlanSnapshot {
    /// Elastic: the snapshot's name; GHES: the VM snapshot's id (as the operator gave it).
    pub name: String,
    /// Elastic: the snapshot repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// When it was taken (Elastic: its `start_time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<jiff::Timestamp>,
    /// Its age at `generated_at`, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<i64>,
}

/// One step of a plan.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// Stable within the plan (`stop-kibana`, `restore-kibana-state`): the runbook's state
    /// file, log and failures name it.
    #[serde(default)]
    pub id: String,
    pub title: String,
    /// Where to run it: host, node, cluster.
    pub run_on: String,
    /// Read-only commands that must each exit 0 before `commands` run; each says what it saw
    /// when it does not.
    #[serde(default)]
    pub check: Vec<String>,
    /// Exact shell commands, ready to paste (secrets come from the environment).
    pub commands: Vec<String>,
    /// Read-only commands that must each exit 0 after `commands`, before any later step.
    #[serde(default)]
    pub verify: Vec<String>,
    /// What to do when a check, a command or a verification fails.
    #[serde(default)]
    pub on_failure: String,
    /// Runs on every run of a runbook, a rerun too: it only sets variables later steps read
    /// (a URL, a password), never changing anything.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub every_run: bool,
    /// The exact API request, when the step is one (shown, never sent by ripcord).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
}

/// An HTTP request a step makes.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: serde_json::Value,
}

/// Where the facts came from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    /// `live`, `facts` (a bundle) or `flags` (operator facts only).
    pub kind: String,
    pub collected_at: jiff::Timestamp,
    /// The bundle evaluated, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts_file: Option<String>,
    /// Seconds from `collected_at` to `generated_at` (the facts' age when judged).
    #[serde(default)]
    pub age_seconds: i64,
    /// The product's endpoints: `elasticsearch` (URL or null) and `kibana` (URLs) for every
    /// product, and `ghes` (the Manage API URL) for GHES.
    #[serde(flatten)]
    #[schemars(with = "Endpoints")]
    pub endpoints: serde_json::Map<String, serde_json::Value>,
}

/// The endpoints `source` names (v1 has carried `elasticsearch` and `kibana` in every report).
#[derive(JsonSchema)]
#[expect(
    dead_code,
    reason = "describes the flattened endpoint map in the JSON Schema only"
)]
struct Endpoints {
    elasticsearch: Option<String>,
    kibana: Vec<String>,
    #[schemars(default)]
    ghes: Option<String>,
}

/// Something that could not be collected, and what to do about it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CollectionFailure {
    /// The fact group it leaves unknown, e.g. `es.snapshots`.
    pub group: String,
    /// The request, e.g. `GET /_snapshot/...` (no credentials).
    pub endpoint: String,
    pub status: Option<u16>,
    pub reason: String,
    pub hint: Option<String>,
}

impl Verdict {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ready => "ready",
            Verdict::NotReady => "not_ready",
            Verdict::Incomplete => "incomplete",
            Verdict::NothingToRollBack => "nothing_to_roll_back",
        }
    }
}

impl Severity {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Blocker => "blocker",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

impl Outcome {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Skip => "skip",
            Self::Unknown => "unknown",
            Self::Error => "error",
            Self::Waived => "waived",
        }
    }
}

/// Schema tag of the error document.
pub const ERROR_SCHEMA: &str = "ripcord.error/v1";

/// What `--format json` prints on stdout when ripcord could not do its job (exit 2), so a
/// consumer that parses stdout always gets JSON: a usage error, an unreadable bundle, an
/// invalid rule file. The same error is also on stderr, for people.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "ripcord error v1")]
pub struct ErrorDocument {
    /// Always `ripcord.error/v1`.
    pub schema: String,
    pub tool_version: String,
    /// Always 2.
    pub exit_code: u8,
    pub error: ErrorDetail,
}

/// Why the run failed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ErrorDetail {
    /// A stable code: `ripcord::usage`, `ripcord::rules::…`, `ripcord::bundle::…`, `clap::…`.
    pub code: String,
    /// One line.
    pub message: String,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The whole diagnostic as stderr shows it (file, line, column and the quoted text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
