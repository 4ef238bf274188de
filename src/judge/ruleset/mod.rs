//! Rules as data: `rules/<product>/<id>.toml`, embedded at build time, extendable with
//! `--rules DIR`. This module holds the validated rule model; `load` turns files into it,
//! checked against each product's input schema (`schema`); `expr` is the CEL adapter and
//! `inputs` binds only what rules read.

pub(crate) mod expr;
pub(crate) mod functions;
pub(crate) mod inputs;
pub(crate) mod load;
pub(crate) mod schema;

use expr::Expr;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How much a failing rule matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Blocker,
    Warning,
    Info,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Blocker => "blocker",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// The human part of a rule: what `rules explain` prints.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleDocs {
    pub(crate) summary: String,
    pub(crate) why: String,
    pub(crate) remediation: String,
    #[serde(default)]
    pub(crate) reference: String,
}

/// A validated rule, ready to evaluate.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) product: String,
    pub(crate) modes: Vec<String>,
    pub(crate) severity: Severity,
    pub(crate) requires: Vec<String>,
    pub(crate) when: Option<Expr>,
    /// Why the rule is skipped when `when` is false.
    pub(crate) skip_reason: Option<String>,
    pub(crate) expr: Expr,
    /// Asked only when `expr` passed: true turns the pass into `unknown` (a version the
    /// release table does not list passes on its numbers, but its date was not checked).
    /// A definite failure is never hidden behind it.
    pub(crate) unknown_when: Option<Expr>,
    pub(crate) params: BTreeMap<String, serde_json::Value>,
    /// Evidence expressions by key, in file order.
    pub(crate) evidence: Vec<(String, Expr)>,
    /// Every member path its expressions read (`derived.upgrade.to`, or a whole variable), found
    /// once at load: what to bind for it, and which failed judgements it depends on.
    pub(crate) reads: BTreeSet<String>,
    pub(crate) message_pass: String,
    pub(crate) message_fail: String,
    /// What the finding says when `unknown_when` holds (always set with it).
    pub(crate) message_unknown: Option<String>,
    pub(crate) docs: RuleDocs,
    /// Where it came from: `built-in` or a file path.
    pub(crate) origin: String,
}

/// All rules of a run, sorted by id.
#[derive(Debug, Default)]
pub(crate) struct RuleSet {
    pub(crate) rules: Vec<Rule>,
}

impl Rule {
    /// Every expression of the rule: `when`, the evidence, `expr`, then `unknown_when`.
    pub(crate) fn expressions(&self) -> impl Iterator<Item = &Expr> {
        self.when
            .iter()
            .chain(self.evidence.iter().map(|(_, e)| e))
            .chain(std::iter::once(&self.expr))
            .chain(self.unknown_when.iter())
    }
}

impl RuleSet {
    pub(crate) fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The rule id nearest to `typo`, when one is near enough to be what was meant.
    pub(crate) fn closest(&self, typo: &str) -> Option<&str> {
        self.rules
            .iter()
            .map(|r| (strsim::jaro_winkler(typo, &r.id), r.id.as_str()))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, id)| id)
    }

    pub(crate) fn for_product<'a>(&'a self, product: &'a str) -> impl Iterator<Item = &'a Rule> {
        self.rules.iter().filter(move |r| r.product == product)
    }
}
