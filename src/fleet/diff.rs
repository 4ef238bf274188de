//! What changed since the baseline (`--baseline PREVIOUS.json`): per target, a verdict that
//! moved, rules that started or stopped failing, targets added to or removed from the
//! inventory. The SRE reads this first: last night's report already said the rest.

use crate::model::report::fleet_v1::{Change, ChangeKind, FleetReport, TargetResult};
use crate::model::report::v1::Outcome;
use std::collections::BTreeMap;

/// The changes from `baseline` to `targets`. `complete` says whether `targets` is the whole
/// inventory: a shard cannot tell a removed target from one in another shard.
pub(crate) fn changes(
    baseline: &FleetReport,
    targets: &[TargetResult],
    complete: bool,
) -> Vec<Change> {
    let before: BTreeMap<&str, &TargetResult> = baseline
        .targets
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let now: BTreeMap<&str, &TargetResult> = targets.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut changes = Vec::new();
    for (name, target) in &now {
        let Some(old) = before.get(name) else {
            changes.push(Change {
                target: name.to_string(),
                kind: ChangeKind::TargetAdded,
                from: None,
                to: Some(target.verdict),
                rule: None,
                message: None,
            });
            continue;
        };
        if old.verdict != target.verdict {
            changes.push(Change {
                target: name.to_string(),
                kind: ChangeKind::VerdictChanged,
                from: Some(old.verdict),
                to: Some(target.verdict),
                rule: None,
                message: None,
            });
        }
        let (was, is) = (failing(old), failing(target));
        for (rule, message) in &is {
            if !was.contains_key(rule) {
                changes.push(rule_change(
                    name,
                    ChangeKind::StartedFailing,
                    rule,
                    message,
                    old,
                    target,
                ));
            }
        }
        for (rule, message) in &was {
            if !is.contains_key(rule) {
                changes.push(rule_change(
                    name,
                    ChangeKind::StoppedFailing,
                    rule,
                    message,
                    old,
                    target,
                ));
            }
        }
    }
    if complete {
        for (name, old) in &before {
            if !now.contains_key(name) {
                changes.push(Change {
                    target: name.to_string(),
                    kind: ChangeKind::TargetRemoved,
                    from: Some(old.verdict),
                    to: None,
                    rule: None,
                    message: None,
                });
            }
        }
    }
    changes.sort_by(|a, b| {
        (a.target.as_str(), a.kind, a.rule.as_deref()).cmp(&(
            b.target.as_str(),
            b.kind,
            b.rule.as_deref(),
        ))
    });
    changes
}

fn rule_change(
    target: &str,
    kind: ChangeKind,
    rule: &str,
    message: &str,
    old: &TargetResult,
    now: &TargetResult,
) -> Change {
    Change {
        target: target.to_string(),
        kind,
        from: Some(old.verdict),
        to: Some(now.verdict),
        rule: Some(rule.to_string()),
        message: Some(message.to_string()),
    }
}

/// The rules failing in a target's report (a waived failure is not failing), with their
/// messages. A target with no report (error) has none: its verdict change says it.
fn failing(target: &TargetResult) -> BTreeMap<String, String> {
    target
        .report
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| f.outcome == Outcome::Fail)
        .map(|f| (f.rule.clone(), f.message.clone()))
        .collect()
}
