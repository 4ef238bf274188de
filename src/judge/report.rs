//! The report: findings, their summary, the verdict and the exit code (DESIGN §4), assembled
//! from the pipeline's internal results into the versioned contract types of [`v1`].

use crate::judge::engine::{Finding, Outcome};
use crate::judge::ruleset::Severity;
use crate::judge::waivers::Waiver;
use crate::model::facts::CollectFailure;
use crate::model::plan::{Plan, PlanKind, Request, Step};
use crate::model::report::{FailOn, age_text, v1};
use crate::model::upgrade::{Mode, UpgradeBasis};

/// Everything one report is made of.
pub(crate) struct Parts<'a> {
    pub(crate) product: &'static str,
    pub(crate) mode: Mode,
    pub(crate) target: v1::Target,
    pub(crate) upgrade: &'a UpgradeBasis,
    pub(crate) findings: Vec<Finding>,
    pub(crate) plan: Plan,
    pub(crate) source: v1::Source,
    pub(crate) failures: &'a [CollectFailure],
    /// What the pipeline found wrong with the facts it could still judge (a bundle's
    /// recorded credential variable or `--insecure` not carried into the plan).
    pub(crate) warnings: Vec<String>,
    pub(crate) fail_on: FailOn,
    /// The snapshot the plan restores (the product's choice), its age set here.
    pub(crate) snapshot: Option<v1::PlanSnapshot>,
    /// `--waivers`, all of them (those about other targets are left out here).
    pub(crate) waivers: &'a [Waiver],
    pub(crate) generated_at: jiff::Timestamp,
}

/// Builds the `ripcord.report/v1` document.
pub(crate) fn assemble(parts: Parts<'_>) -> v1::Report {
    // A rollback with nothing to go back from is its own answer: the rules judge a rollback
    // that is not needed, so their failures do not make it "not ready".
    let nothing_to_roll_back =
        parts.mode == Mode::Rollback && parts.plan.kind == PlanKind::NothingToRollBack;
    // Only a plan with steps back restores anything.
    let snapshot = (parts.plan.kind == PlanKind::Steps)
        .then_some(parts.snapshot)
        .flatten()
        .map(|s| v1::PlanSnapshot {
            age_seconds: s
                .taken_at
                .map(|t| parts.generated_at.duration_since(t).as_secs()),
            ..s
        });
    let rollback = (parts.mode == Mode::Rollback).then(|| rollback_answer(&parts.plan));
    let mut report = v1::Report {
        schema: v1::REPORT_SCHEMA.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: parts.generated_at,
        product: parts.product.to_string(),
        mode: parts.mode.as_str().to_string(),
        target: parts.target,
        upgrade: upgrade(parts.upgrade),
        verdict: v1::Verdict::Ready,
        exit_code: 0,
        fail_on: match parts.fail_on {
            FailOn::Blocker => v1::FailOn::Blocker,
            FailOn::Warning => v1::FailOn::Warning,
        },
        summary: v1::Summary::default(),
        findings: parts.findings.into_iter().map(finding).collect(),
        plan: v1::Plan {
            snapshot,
            ..plan(parts.plan)
        },
        warnings: stale_warning(&parts.source, parts.generated_at)
            .into_iter()
            .chain(parts.warnings)
            .collect(),
        source: v1::Source {
            age_seconds: parts
                .generated_at
                .duration_since(parts.source.collected_at)
                .as_secs(),
            ..parts.source
        },
        collection_failures: parts.failures.iter().map(failure).collect(),
        waivers: Vec::new(),
        rollback,
    };
    apply_waivers(&mut report, parts.waivers, parts.generated_at);
    report.summary = summarize(&report.findings);
    // One rule decides, the one every format shows per finding (`v1::Report::weight`).
    report.verdict = if nothing_to_roll_back {
        v1::Verdict::NothingToRollBack
    } else {
        report.verdict_of_findings()
    };
    report.exit_code = exit_code(report.verdict);
    report
}

/// The answer to "can I get back?" that the plan gives.
fn rollback_answer(plan: &Plan) -> v1::RollbackAnswer {
    match plan.kind {
        PlanKind::NothingToRollBack => v1::RollbackAnswer::NothingToRollBack,
        PlanKind::NoWayBack => v1::RollbackAnswer::NoWayBack,
        PlanKind::Steps if plan.steps.is_empty() => v1::RollbackAnswer::CannotTell,
        PlanKind::Steps if plan.tentative => v1::RollbackAnswer::MayBePossible,
        PlanKind::Steps => v1::RollbackAnswer::Possible,
    }
}

/// Facts older than this when judged are called out: a cluster changes by the hour.
const STALE_SECONDS: i64 = 3600;

/// The warning for facts judged more than an hour after they were collected.
fn stale_warning(source: &v1::Source, now: jiff::Timestamp) -> Option<String> {
    let age = now.duration_since(source.collected_at).as_secs();
    (age > STALE_SECONDS).then(|| {
        format!(
            "these facts were collected {}, {} before this report: the systems may have changed since; collect again before acting",
            crate::model::report::as_of(source.collected_at),
            age_text(age)
        )
    })
}

/// The process exit code of a verdict (DESIGN §4).
fn exit_code(verdict: v1::Verdict) -> u8 {
    match verdict {
        v1::Verdict::Ready | v1::Verdict::NothingToRollBack => 0,
        v1::Verdict::NotReady => 1,
        v1::Verdict::Incomplete => 3,
    }
}

fn summarize(findings: &[v1::Finding]) -> v1::Summary {
    let mut s = v1::Summary::default();
    for f in findings {
        match f.outcome {
            v1::Outcome::Pass => s.pass += 1,
            v1::Outcome::Fail => s.fail += 1,
            v1::Outcome::Skip => s.skip += 1,
            v1::Outcome::Unknown => s.unknown += 1,
            v1::Outcome::Error => s.error += 1,
            v1::Outcome::Waived => s.waived += 1,
        }
    }
    s
}

/// Turns each failure a live waiver covers into `waived` (the first such waiver in file order
/// is named), and records every waiver about this target with what it did; an expired one
/// that would have covered a failure is said in the report's warnings, since its failure
/// counts again.
fn apply_waivers(report: &mut v1::Report, waivers: &[Waiver], now: jiff::Timestamp) {
    let about_target: Vec<&Waiver> = waivers
        .iter()
        .filter(|w| report.target.names().any(|name| w.covers(name)))
        .collect();
    let mut applied = vec![false; about_target.len()];
    for finding in &mut report.findings {
        if finding.outcome != v1::Outcome::Fail {
            continue;
        }
        let mut live = about_target
            .iter()
            .enumerate()
            .filter(|(_, w)| w.rule == finding.rule && !w.expired(now));
        if let Some((i, w)) = live.next() {
            applied[i] = true;
            finding.outcome = v1::Outcome::Waived;
            finding.waived_by = Some(v1::WaivedBy {
                reason: w.reason.clone(),
                owner: w.owner.clone(),
                expires: w.expires,
            });
        }
    }
    for (i, w) in about_target.iter().enumerate() {
        let status = if w.expired(now) {
            v1::WaiverStatus::Expired
        } else if applied[i] {
            v1::WaiverStatus::Applied
        } else {
            v1::WaiverStatus::Unused
        };
        if status == v1::WaiverStatus::Expired {
            let failing = report
                .findings
                .iter()
                .any(|f| f.rule == w.rule && f.outcome == v1::Outcome::Fail);
            report.warnings.push(format!(
                "the waiver of {} for {} (owner {}: {}) expired on {}{}",
                w.rule,
                w.target,
                w.owner,
                w.reason,
                w.expires,
                if failing {
                    "; the failure counts again"
                } else {
                    "; remove it or renew it"
                }
            ));
        }
        report.waivers.push(v1::WaiverUse {
            rule: w.rule.clone(),
            target: w.target.clone(),
            reason: w.reason.clone(),
            owner: w.owner.clone(),
            expires: w.expires,
            status,
        });
    }
}

fn upgrade(u: &UpgradeBasis) -> v1::Upgrade {
    v1::Upgrade {
        from: u.from.clone(),
        to: u.to.clone(),
        from_source: u.from_source.clone(),
        to_source: u.to_source.clone(),
        kind: u.kind.clone(),
        started_at: u.started_at,
        started_at_source: u.started_at_source.clone(),
    }
}

fn finding(f: Finding) -> v1::Finding {
    v1::Finding {
        rule: f.rule,
        title: f.title,
        severity: match f.severity {
            Severity::Blocker => v1::Severity::Blocker,
            Severity::Warning => v1::Severity::Warning,
            Severity::Info => v1::Severity::Info,
        },
        outcome: match f.outcome {
            Outcome::Pass => v1::Outcome::Pass,
            Outcome::Fail => v1::Outcome::Fail,
            Outcome::Skip => v1::Outcome::Skip,
            Outcome::Unknown => v1::Outcome::Unknown,
            Outcome::Error => v1::Outcome::Error,
        },
        message: f.message,
        evidence: f.evidence,
        remediation: f.remediation,
        docs: f.docs,
        waived_by: None,
    }
}

fn plan(mut p: Plan) -> v1::Plan {
    crate::model::plan::number_ids(&mut p);
    v1::Plan {
        title: p.title,
        headline: p.headline,
        basis: p.basis,
        steps: p.steps.into_iter().map(step).collect(),
        warnings: p.warnings,
        alternatives: p.alternatives.into_iter().map(plan).collect(),
        snapshot: None,
        data_loss: p.data_loss,
        loses: p.loses,
    }
}

fn step(s: Step) -> v1::Step {
    let lines = |lines: Vec<crate::model::plan::Line>| -> Vec<String> {
        lines
            .into_iter()
            .map(crate::model::plan::Line::into_string)
            .collect()
    };
    v1::Step {
        id: s.id,
        title: s.title,
        run_on: s.run_on,
        check: lines(s.check),
        commands: lines(s.commands),
        verify: lines(s.verify),
        on_failure: s.on_failure,
        every_run: s.every_run,
        request: s
            .request
            .map(|Request { method, path, body }| v1::Request { method, path, body }),
    }
}

fn failure(f: &CollectFailure) -> v1::CollectionFailure {
    v1::CollectionFailure {
        group: f.group.clone(),
        endpoint: f.endpoint.clone(),
        status: f.status,
        reason: f.reason.clone(),
        hint: f.hint.clone(),
    }
}
