//! Evaluates rules over facts. No I/O, no printing, deterministic order (by rule id).
//!
//! The engine knows no product: the pipeline hands it a product's rules, its rule inputs (a
//! serialisable struct, one field per CEL variable), which fact groups are available and why a
//! missing one is missing. The inputs are converted to CEL values once per run, and only the
//! members some rule reads (a 200,000-snapshot listing that no rule iterates costs nothing);
//! each rule's `params` are bound in a child scope.

use crate::facts::CollectFailure;
use crate::ruleset::expr::Scope;
use crate::ruleset::inputs::{Wanted, bind};
use crate::ruleset::{Rule, Severity};
use crate::upgrade::Mode;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What happened to one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pass,
    Fail,
    Skip,
    Unknown,
    Error,
}

/// One rule's result.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    pub(crate) rule: String,
    pub(crate) title: String,
    pub(crate) severity: Severity,
    pub(crate) outcome: Outcome,
    pub(crate) message: String,
    pub(crate) evidence: serde_json::Map<String, Value>,
    pub(crate) remediation: String,
    pub(crate) docs: String,
}

/// Which fact groups a product could collect, and why a missing one is missing where the
/// collection failures do not say it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Availability {
    pub(crate) groups: BTreeMap<&'static str, bool>,
    pub(crate) why_missing: BTreeMap<&'static str, String>,
    /// Judgements derive could not make although their inputs are there (a version that does
    /// not parse), by the path rules read them at (`derived.es_rollback`): a rule that reads
    /// one is `error` with this reason, as if it had judged for itself.
    pub(crate) failed: BTreeMap<&'static str, String>,
}

/// Evaluates `rules` (one product's) over `inputs`; findings sorted by rule id.
pub(crate) fn evaluate<'r, T: Serialize>(
    rules: impl Iterator<Item = &'r Rule>,
    mode: Mode,
    inputs: &T,
    availability: &Availability,
    failures: &[CollectFailure],
) -> Vec<Finding> {
    let rules: Vec<&Rule> = rules.collect();
    let wanted = Wanted::of(rules.iter().flat_map(|r| r.reads.iter()));
    let context = Context {
        mode,
        availability,
        failures,
    };
    let mut findings: Vec<Finding> = match bind(inputs, &wanted) {
        Ok(vars) => {
            let root = Scope::root(vars);
            rules
                .iter()
                .map(|r| evaluate_rule(r, &root, &context))
                .collect()
        }
        Err(e) => rules
            .iter()
            .map(|r| {
                let mut f = blank(r);
                f.outcome = Outcome::Error;
                f.message = format!("could not prepare the rule inputs: {e}");
                f
            })
            .collect(),
    };
    findings.sort_by(|a, b| a.rule.cmp(&b.rule));
    findings
}

/// What every rule of one evaluation shares besides the variables.
struct Context<'a> {
    mode: Mode,
    availability: &'a Availability,
    failures: &'a [CollectFailure],
}

fn blank(rule: &Rule) -> Finding {
    Finding {
        rule: rule.id.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        outcome: Outcome::Skip,
        message: String::new(),
        evidence: serde_json::Map::new(),
        remediation: rule.docs.remediation.trim().to_string(),
        docs: rule.docs.reference.clone(),
    }
}

fn evaluate_rule(rule: &Rule, root: &Scope<'_>, cx: &Context<'_>) -> Finding {
    let mut finding = blank(rule);
    if !rule.modes.iter().any(|m| m == cx.mode.as_str()) {
        finding.message = format!("applies to {} only", rule.modes.join(" and "));
        return finding;
    }
    let params: serde_json::Map<String, Value> = rule.params.clone().into_iter().collect();
    let scope = root.child(vec![("params".to_string(), Value::Object(params))]);
    // `when` goes first: a rule that does not apply (say, not a major upgrade) is skipped even
    // when the facts it would need are missing. A `when` that cannot be evaluated because of
    // missing facts falls through to the `requires` check below.
    let mut when_error = None;
    if let Some(when) = &rule.when {
        match when.eval_bool(&scope) {
            Ok(true) => {}
            Ok(false) => {
                finding.message = rule
                    .skip_reason
                    .clone()
                    .unwrap_or_else(|| format!("does not apply: {}", when.source.trim()));
                return finding;
            }
            Err(e) => when_error = Some(e),
        }
    }
    let missing: Vec<&String> = rule
        .requires
        .iter()
        .filter(|g| {
            !cx.availability
                .groups
                .get(g.as_str())
                .copied()
                .unwrap_or(false)
        })
        .collect();
    if !missing.is_empty() {
        finding.outcome = Outcome::Unknown;
        finding.message = unknown_message(&missing, cx);
        finding.evidence.insert("missing".into(), json!(missing));
        let reasons: Vec<Value> = missing
            .iter()
            .flat_map(|g| failures_for(g, cx.failures))
            .map(|f| json!({"endpoint": f.endpoint, "status": f.status, "reason": f.reason, "hint": f.hint}))
            .collect();
        if !reasons.is_empty() {
            finding
                .evidence
                .insert("collection_failures".into(), Value::Array(reasons));
        }
        return finding;
    }
    if let Some(e) = when_error {
        finding.outcome = Outcome::Error;
        finding.message = format!("could not evaluate `when`: {e}");
        return finding;
    }
    for (key, expr) in &rule.evidence {
        // Evidence is best effort: a value that cannot be computed (say, of a snapshot that
        // does not exist) is null, and never changes the outcome.
        finding
            .evidence
            .insert(key.clone(), expr.eval(&scope).unwrap_or(Value::Null));
    }
    if let Some(why) = failed_judgement(rule, cx.availability) {
        finding.outcome = Outcome::Error;
        finding.message = format!("could not evaluate: {why}");
        return finding;
    }
    match rule.expr.eval_bool(&scope) {
        Ok(passed) => {
            finding.outcome = if passed { Outcome::Pass } else { Outcome::Fail };
            let template = if passed {
                &rule.message_pass
            } else {
                &rule.message_fail
            };
            finding.message = render_message(template, &finding.evidence, &rule.params);
        }
        Err(e) => {
            finding.outcome = Outcome::Error;
            finding.message = format!("could not evaluate: {e}");
        }
    }
    finding
}

/// The reason of the first failed judgement the rule reads (at its path or below), if any.
fn failed_judgement<'a>(rule: &Rule, availability: &'a Availability) -> Option<&'a String> {
    rule.reads.iter().find_map(|path| {
        availability.failed.iter().find_map(|(judgement, why)| {
            let below = path
                .strip_prefix(judgement)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'));
            below.then_some(why)
        })
    })
}

fn unknown_message(missing: &[&String], cx: &Context<'_>) -> String {
    let parts: Vec<String> = missing
        .iter()
        .map(|g| {
            let failure = failures_for(g, cx.failures).into_iter().next();
            let why = match (failure, cx.availability.why_missing.get(g.as_str())) {
                (Some(f), _) => match &f.hint {
                    Some(h) => format!(
                        "{} {}: {} ({h})",
                        f.endpoint,
                        status_text(f.status),
                        f.reason
                    ),
                    None => format!("{} {}: {}", f.endpoint, status_text(f.status), f.reason),
                },
                (None, Some(why)) => why.clone(),
                (None, None) => "not collected".to_string(),
            };
            format!("{g}: {why}")
        })
        .collect();
    format!("could not verify: {}", parts.join("; "))
}

fn status_text(status: Option<u16>) -> String {
    status
        .map(|s| format!("→ {s}"))
        .unwrap_or_else(|| "→ no answer".into())
}

fn failures_for<'a>(group: &str, failures: &'a [CollectFailure]) -> Vec<&'a CollectFailure> {
    failures.iter().filter(|f| f.group == group).collect()
}

/// Fills `{key}` from evidence, then params; lists are joined, null reads "unknown".
fn render_message(
    template: &str,
    evidence: &serde_json::Map<String, Value>,
    params: &BTreeMap<String, Value>,
) -> String {
    let mut out = template.trim().to_string();
    for key in crate::ruleset::load::placeholders(template) {
        let value = evidence
            .get(&key)
            .or_else(|| params.get(&key))
            .cloned()
            .unwrap_or(Value::Null);
        out = out.replace(&format!("{{{key}}}"), &display(&value));
    }
    out
}

/// A JSON value as a person reads it.
fn display(v: &Value) -> String {
    match v {
        Value::Null => "unknown".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "none".into(),
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}
