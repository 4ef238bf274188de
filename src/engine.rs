//! Evaluates rules over facts. No I/O, no printing, deterministic order (by rule id).
//!
//! The engine knows no product: each product prepares an [`Evaluation`] (the CEL variables,
//! which fact groups are available, and why a missing one is missing) and the engine runs the
//! rules of that product over it.

use crate::facts::derive::{Derived, Mode};
use crate::facts::ghes::GhesDerived;
use crate::facts::{Bundle, CollectFailure};
use crate::report::{Finding, Outcome};
use crate::ruleset::{Rule, RuleSet};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Everything one evaluation of a product's rules needs.
#[derive(Debug, Clone)]
pub struct Evaluation<'a> {
    pub product: &'static str,
    pub mode: Mode,
    /// CEL variables (`params` is added per rule).
    pub vars: BTreeMap<String, Value>,
    /// Requirable fact groups and whether each is available.
    pub groups: BTreeMap<&'static str, bool>,
    /// Why a group is missing, where the collection failures do not say it.
    pub why_missing: BTreeMap<&'static str, String>,
    pub failures: &'a [CollectFailure],
}

/// The CEL variables for Elasticsearch + Kibana: `es`, `kibana`, `upgrade`, `derived`, `mode`.
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

/// The evaluation of the Elastic rules over a bundle.
pub fn elastic<'a>(bundle: &'a Bundle, derived: &Derived) -> Evaluation<'a> {
    let mut groups = bundle.available_groups();
    let u = &derived.upgrade;
    groups.insert("upgrade.from", u.from.is_some());
    groups.insert("upgrade.to", u.to.is_some());
    groups.insert("upgrade.started_at", u.started_at.is_some());
    groups.insert("upgrade.kibana_version", u.kibana_version.is_some());
    // What tells a pre-upgrade snapshot from a later one: preflight's "now", the upgrade
    // start, or at least the target version (its indices mark post-migration snapshots).
    groups.insert(
        "upgrade.snapshot_cutoff",
        derived.mode == Mode::Preflight || u.started_at.is_some() || u.to.is_some(),
    );
    let mut why_missing = BTreeMap::from([
        ("upgrade.from", u.from_source.clone()),
        ("upgrade.to", u.to_source.clone()),
        ("upgrade.started_at", u.started_at_source.clone()),
        (
            "upgrade.kibana_version",
            match derived.mode {
                Mode::Preflight => u.to_source.clone(),
                Mode::Rollback => u.from_source.clone(),
            },
        ),
        (
            "upgrade.snapshot_cutoff",
            "neither the upgrade start nor the target version is known: pass --upgrade-started-at (or --to)".to_string(),
        ),
    ]);
    if bundle.target.kibana.is_empty() {
        why_missing.insert("kibana.status", "no --kibana instance given".to_string());
    }
    Evaluation {
        product: "elastic",
        mode: derived.mode,
        vars: inputs(bundle, derived),
        groups,
        why_missing,
        failures: &bundle.failures,
    }
}

/// Evaluates every rule of the evaluation's product; findings sorted by rule id.
pub fn evaluate(rules: &RuleSet, eval: &Evaluation<'_>) -> Vec<Finding> {
    let mut findings: Vec<Finding> = rules
        .for_product(eval.product)
        .map(|r| evaluate_rule(r, eval))
        .collect();
    findings.sort_by(|a, b| a.rule.cmp(&b.rule));
    findings
}

fn evaluate_rule(rule: &Rule, eval: &Evaluation<'_>) -> Finding {
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
    if !rule.modes.iter().any(|m| m == eval.mode.as_str()) {
        finding.message = format!("applies to {} only", rule.modes.join(" and "));
        return finding;
    }
    let mut vars = eval.vars.clone();
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
        .filter(|g| !eval.groups.get(g.as_str()).copied().unwrap_or(false))
        .collect();
    if !missing.is_empty() {
        finding.outcome = Outcome::Unknown;
        finding.message = unknown_message(&missing, eval);
        finding.evidence.insert("missing".into(), json!(missing));
        let reasons: Vec<Value> = missing
            .iter()
            .flat_map(|g| failures_for(g, eval.failures))
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

fn unknown_message(missing: &[&String], eval: &Evaluation<'_>) -> String {
    let parts: Vec<String> = missing
        .iter()
        .map(|g| {
            let failure = failures_for(g, eval.failures).into_iter().next();
            let why = match (failure, eval.why_missing.get(g.as_str())) {
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

/// The CEL variables for GHES: `ghes`, `upgrade`, `derived`, `mode`.
pub fn ghes_inputs(bundle: &Bundle, derived: &GhesDerived) -> BTreeMap<String, Value> {
    let facts =
        serde_json::to_value(bundle.ghes.clone().unwrap_or_default()).unwrap_or(Value::Null);
    let derived_json = serde_json::to_value(derived).unwrap_or(Value::Null);
    BTreeMap::from([
        ("ghes".to_string(), facts),
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

/// The evaluation of the GHES rules over a bundle.
pub fn ghes<'a>(bundle: &'a Bundle, derived: &GhesDerived) -> Evaluation<'a> {
    let facts = bundle.ghes.clone().unwrap_or_default();
    let u = &derived.upgrade;
    let groups = BTreeMap::from([
        ("ghes.versions", facts.versions.is_some()),
        ("ghes.topology", facts.topology.is_some()),
        ("ghes.replication", facts.replication.is_some()),
        ("ghes.maintenance", facts.maintenance.is_some()),
        (
            "ghes.system_requirements",
            facts.system_requirements.is_some(),
        ),
        ("upgrade.from", u.from.is_some()),
        ("upgrade.to", u.to.is_some()),
        ("upgrade.started_at", u.started_at.is_some()),
    ]);
    let mut why_missing = BTreeMap::from([
        ("upgrade.from", u.from_source.clone()),
        ("upgrade.to", u.to_source.clone()),
        ("upgrade.started_at", u.started_at_source.clone()),
    ]);
    if bundle.target.ghes.is_none() {
        for g in [
            "ghes.versions",
            "ghes.topology",
            "ghes.replication",
            "ghes.maintenance",
            "ghes.system_requirements",
        ] {
            why_missing.insert(g, "no --ghes URL given (facts from flags only)".to_string());
        }
    }
    Evaluation {
        product: "ghes",
        mode: derived.mode,
        vars: ghes_inputs(bundle, derived),
        groups,
        why_missing,
        failures: &bundle.failures,
    }
}
