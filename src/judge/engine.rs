//! Evaluates rules over facts. No I/O, no printing, deterministic order (by rule id).
//!
//! The engine knows no product: the pipeline hands it a product's rules, its rule inputs (a
//! serialisable struct, one field per CEL variable), which fact groups are available and why a
//! missing one is missing. The inputs are converted to CEL values once per run, and only the
//! members some rule reads (a 200,000-snapshot listing that no rule iterates costs nothing);
//! each rule's `params` are bound in a child scope.

use crate::judge::ruleset::expr::{Cost, Expr, ListSizes, Scope};
use crate::judge::ruleset::inputs::{Sizes, Wanted, bind, largest_in, length_at};
use crate::judge::ruleset::{Rule, Severity};
use crate::model::facts::CollectFailure;
use crate::model::upgrade::Mode;
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
    /// The product's groups as a person names them (`Product::GROUP_WORDS`).
    pub(crate) words: &'static [(&'static str, &'static str)],
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
    let mut findings: Vec<Finding> = match bind(inputs, &wanted) {
        Ok(vars) => {
            // Measured before the conversion, which consumes the JSON.
            let sizes = Sizes::measure(
                &vars,
                rules
                    .iter()
                    .flat_map(|r| r.expressions())
                    .flat_map(Expr::sized_paths),
            );
            let context = Context {
                mode,
                availability,
                failures,
                sizes: &sizes,
            };
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
    /// The lengths of the lists the rules iterate, for their cost estimates.
    sizes: &'a Sizes,
}

/// The most loop iterations a rule may be estimated to take (see `Expr::estimate`) before
/// it runs; over it the rule is `error` and never run. Rule files may come from anywhere,
/// and three loops nested over 200,000 snapshots would run for months. The cel interpreter
/// takes about 5 µs per iteration over snapshots in a release build (it clones each element
/// it binds), so this keeps a rule to about 10 s at worst, while letting a rule pass over a
/// 200,000-snapshot listing ten times. The built-in rules make single passes over short
/// lists (nodes, deprecations, features): at most 42 iterations over the fixtures.
pub(crate) const ITERATION_BUDGET: u64 = 2_000_000;

/// The most elements the largest list a rule builds may be estimated to hold. A built
/// element is a copy (about 2 KB for a snapshot), and nested `map`s keep every inner list:
/// `es.snapshots.map(a, es.snapshots.map(b, b))` over 1,000 snapshots held 2.2 GB. This
/// bounds such a rule to about 1 GB while a `map` or `filter` over 200,000 snapshots still
/// runs.
pub(crate) const ELEMENT_BUDGET: u64 = 500_000;

/// Why a rule of estimated `cost` may not run, if it may not.
fn over_budget(cost: Cost) -> Option<String> {
    if cost.iterations > ITERATION_BUDGET {
        Some(format!(
            "evaluation budget exceeded: about {} iterations (budget {}); the rule was not run",
            grouped(cost.iterations),
            grouped(ITERATION_BUDGET)
        ))
    } else if cost.elements > ELEMENT_BUDGET {
        Some(format!(
            "evaluation budget exceeded: builds a list of about {} elements (budget {}); the rule was not run",
            grouped(cost.elements),
            grouped(ELEMENT_BUDGET)
        ))
    } else {
        None
    }
}

/// A rule's view of the list sizes: the inputs', and its own `params`.
struct RuleSizes<'a> {
    inputs: &'a Sizes,
    params: &'a [(String, Value)],
    params_largest: u64,
}

impl ListSizes for RuleSizes<'_> {
    fn len(&self, path: &str) -> Option<u64> {
        let root = path.split(['.', '[']).next().unwrap_or_default();
        if root == "params" {
            Some(length_at(self.params, path).unwrap_or(0))
        } else {
            self.inputs.len(path)
        }
    }

    fn largest(&self) -> u64 {
        self.inputs.largest().max(self.params_largest)
    }
}

/// The estimated cost of all of a rule's expressions.
fn rule_cost(rule: &Rule, sizes: &RuleSizes<'_>) -> Cost {
    rule.expressions()
        .map(|e| e.estimate(sizes))
        .fold(Cost::default(), Cost::then)
}

/// `12345678` → `12,345,678`, so a reader sees the magnitude at once.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
    let params = vec![("params".to_string(), Value::Object(params))];
    let sizes = RuleSizes {
        inputs: cx.sizes,
        params: &params,
        params_largest: params.iter().map(|(_, v)| largest_in(v)).max().unwrap_or(0),
    };
    // Before anything of the rule runs: an expression over budget is never started.
    if let Some(why) = over_budget(rule_cost(rule, &sizes)) {
        finding.outcome = Outcome::Error;
        finding.message = why;
        return finding;
    }
    let scope = root.child(params);
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
        Ok(true) if rule.unknown_when.is_some() => {
            let (outcome, template) = match rule.unknown_when.as_ref().map(|u| u.eval_bool(&scope))
            {
                Some(Ok(true)) => (
                    Outcome::Unknown,
                    rule.message_unknown.as_ref().unwrap_or(&rule.message_pass),
                ),
                Some(Err(e)) => {
                    finding.outcome = Outcome::Error;
                    finding.message = format!("could not evaluate `unknown_when`: {e}");
                    return finding;
                }
                _ => (Outcome::Pass, &rule.message_pass),
            };
            finding.outcome = outcome;
            finding.message = render_message(template, &finding.evidence, &rule.params);
        }
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
            // What failed says which request; a judgement's gap is named in words, never by
            // its internal path (`upgrade.snapshot_cutoff`).
            match (failure, cx.availability.why_missing.get(g.as_str())) {
                (Some(f), _) => match &f.hint {
                    Some(h) => format!(
                        "{} {}: {} ({h})",
                        f.endpoint,
                        status_text(f.status),
                        f.reason
                    ),
                    None => format!("{} {}: {}", f.endpoint, status_text(f.status), f.reason),
                },
                (None, Some(why)) => match group_words(g, cx.availability) {
                    // `(…)` around the reason, unless it holds brackets of its own.
                    Some(words) if why.contains('(') => format!("{words}: {why}"),
                    Some(words) => format!("{words} ({why})"),
                    None => format!("{g}: {why}"),
                },
                (None, None) => match group_words(g, cx.availability) {
                    Some(words) => format!("{words} (not collected)"),
                    None => format!("{g}: not collected"),
                },
            }
        })
        .collect();
    format!("could not verify: {}", parts.join("; "))
}

/// A fact group or judgement as a person says it: the product's words for its own groups,
/// then the engine's for the upgrade basis every product derives (a user's rule may require
/// another group: that one is named by its id).
fn group_words(group: &str, availability: &Availability) -> Option<&'static str> {
    if let Some((_, words)) = availability.words.iter().find(|(g, _)| *g == group) {
        return Some(words);
    }
    Some(match group {
        "upgrade.from" => "the version to go back to",
        "upgrade.to" => "the version upgraded to",
        "upgrade.started_at" => "when the upgrade started",
        "upgrade.snapshot_cutoff" => "which snapshots predate the upgrade",
        _ => return None,
    })
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
    for key in crate::judge::ruleset::load::placeholders(template) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_puts_commas_every_three_digits() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(ITERATION_BUDGET), "2,000,000");
        assert_eq!(grouped(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn either_budget_stops_a_rule() {
        let cost = |iterations, elements| Cost {
            iterations,
            elements,
        };
        assert_eq!(over_budget(cost(ITERATION_BUDGET, ELEMENT_BUDGET)), None);
        let why = over_budget(cost(ITERATION_BUDGET + 1, 0)).unwrap_or_default();
        assert!(
            why.starts_with(
                "evaluation budget exceeded: about 2,000,001 iterations (budget 2,000,000)"
            ),
            "{why}"
        );
        let why = over_budget(cost(0, ELEMENT_BUDGET + 1)).unwrap_or_default();
        assert!(
            why.contains("about 500,001 elements (budget 500,000)"),
            "{why}"
        );
    }
}
