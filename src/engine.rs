//! Evaluates rules over facts. No I/O, no printing, deterministic order (by rule id).

use crate::facts::derive::{Derived, Mode};
use crate::facts::{Bundle, CollectFailure};
use crate::report::{Finding, Outcome};
use crate::ruleset::{Rule, RuleSet};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The CEL variables for one evaluation: `es`, `kibana`, `upgrade`, `derived`, `mode`
/// (`params` is added per rule).
pub fn inputs(bundle: &Bundle, derived: &Derived) -> BTreeMap<String, Value> {
    let mut es = serde_json::to_value(&bundle.elastic).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut es {
        map.remove("kibana");
    }
    let derived_json = serde_json::to_value(derived).unwrap_or(Value::Null);
    BTreeMap::from([
        ("es".to_string(), es),
        (
            "kibana".to_string(),
            json!({ "instances": bundle.elastic.kibana }),
        ),
        (
            "upgrade".to_string(),
            derived_json.get("upgrade").cloned().unwrap_or(Value::Null),
        ),
        ("derived".to_string(), derived_json),
        (
            "mode".to_string(),
            Value::String(derived.mode.as_str().to_string()),
        ),
    ])
}

/// Which requirable groups are available in this evaluation.
pub fn available_groups(bundle: &Bundle, derived: &Derived) -> BTreeMap<&'static str, bool> {
    let mut groups = bundle.available_groups();
    groups.insert("upgrade.from", derived.upgrade.from.is_some());
    groups.insert("upgrade.to", derived.upgrade.to.is_some());
    groups.insert("upgrade.started_at", derived.upgrade.started_at.is_some());
    groups.insert(
        "upgrade.kibana_version",
        derived.upgrade.kibana_version.is_some(),
    );
    // What tells a pre-upgrade snapshot from a later one: preflight's "now", the upgrade
    // start, or at least the target version (its indices mark post-migration snapshots).
    groups.insert(
        "upgrade.snapshot_cutoff",
        derived.mode == Mode::Preflight
            || derived.upgrade.started_at.is_some()
            || derived.upgrade.to.is_some(),
    );
    groups
}

/// Evaluates every rule of `product` and returns findings sorted by rule id.
pub fn evaluate(
    rules: &RuleSet,
    product: &str,
    bundle: &Bundle,
    derived: &Derived,
) -> Vec<Finding> {
    let vars = inputs(bundle, derived);
    let groups = available_groups(bundle, derived);
    let mut findings: Vec<Finding> = rules
        .for_product(product)
        .map(|r| evaluate_rule(r, derived.mode, &vars, &groups, bundle, derived))
        .collect();
    findings.sort_by(|a, b| a.rule.cmp(&b.rule));
    findings
}

fn evaluate_rule(
    rule: &Rule,
    mode: Mode,
    base: &BTreeMap<String, Value>,
    groups: &BTreeMap<&'static str, bool>,
    bundle: &Bundle,
    derived: &Derived,
) -> Finding {
    let mut finding = Finding {
        rule: rule.id.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        outcome: Outcome::Skip,
        message: String::new(),
        evidence: serde_json::Map::new(),
        remediation: rule.docs.remediation.trim().to_string(),
        docs: rule.docs.reference.clone(),
    };
    if !rule.modes.iter().any(|m| m == mode.as_str()) {
        finding.message = format!("applies to {} only", rule.modes.join(" and "));
        return finding;
    }
    let mut vars = base.clone();
    vars.insert(
        "params".into(),
        Value::Object(rule.params.clone().into_iter().collect()),
    );
    // `when` goes first: a rule that does not apply (say, not a major upgrade) is skipped even
    // when the facts it would need are missing. A `when` that cannot be evaluated because of
    // missing facts falls through to the `requires` check below.
    let mut when_error = None;
    if let Some(when) = &rule.when {
        match when.eval_bool(&vars) {
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
        .filter(|g| !groups.get(g.as_str()).copied().unwrap_or(false))
        .collect();
    if !missing.is_empty() {
        finding.outcome = Outcome::Unknown;
        finding.message = unknown_message(&missing, bundle, derived);
        finding.evidence.insert("missing".into(), json!(missing));
        let reasons: Vec<Value> = missing
            .iter()
            .flat_map(|g| failures_for(g, bundle))
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
            .insert(key.clone(), expr.eval(&vars).unwrap_or(Value::Null));
    }
    match rule.expr.eval_bool(&vars) {
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

fn unknown_message(missing: &[&String], bundle: &Bundle, derived: &Derived) -> String {
    let parts: Vec<String> = missing
        .iter()
        .map(|g| {
            let why = match g.as_str() {
                "upgrade.from" => derived.upgrade.from_source.clone(),
                "upgrade.to" => derived.upgrade.to_source.clone(),
                "upgrade.started_at" => derived.upgrade.started_at_source.clone(),
                "upgrade.snapshot_cutoff" => {
                    "neither the upgrade start nor the target version is known: pass --upgrade-started-at (or --to)".to_string()
                }
                "upgrade.kibana_version" => match derived.mode {
                    Mode::Preflight => derived.upgrade.to_source.clone(),
                    Mode::Rollback => derived.upgrade.from_source.clone(),
                },
                "kibana.status" if bundle.target.kibana.is_empty() => {
                    "no --kibana instance given".to_string()
                }
                _ => match failures_for(g, bundle).first() {
                    Some(f) => match &f.hint {
                        Some(h) => format!(
                            "{} {}: {} ({h})",
                            f.endpoint,
                            status_text(f.status),
                            f.reason
                        ),
                        None => format!("{} {}: {}", f.endpoint, status_text(f.status), f.reason),
                    },
                    None => "not collected".to_string(),
                },
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

fn failures_for<'a>(group: &str, bundle: &'a Bundle) -> Vec<&'a CollectFailure> {
    bundle
        .failures
        .iter()
        .filter(|f| f.group == group)
        .collect()
}

/// Fills `{key}` from evidence, then params; lists are joined, null reads "unknown".
pub fn render_message(
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
pub fn display(v: &Value) -> String {
    match v {
        Value::Null => "unknown".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "none".into(),
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}
