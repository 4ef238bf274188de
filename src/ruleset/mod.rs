//! Rules as data: `rules/<product>/<id>.toml`, embedded at build time, extendable with
//! `--rules DIR`. This module holds the validated rule model; `load` turns files into it.

pub mod expr;
pub mod functions;
pub mod load;

use expr::Expr;
use serde::Serialize;
use std::collections::BTreeMap;

/// How much a failing rule matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Blocker,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
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
pub struct RuleDocs {
    pub summary: String,
    pub why: String,
    pub remediation: String,
    #[serde(default)]
    pub reference: String,
}

/// A validated rule, ready to evaluate.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub product: String,
    pub modes: Vec<String>,
    pub severity: Severity,
    pub requires: Vec<String>,
    pub when: Option<Expr>,
    /// Why the rule is skipped when `when` is false.
    pub skip_reason: Option<String>,
    pub expr: Expr,
    pub params: BTreeMap<String, serde_json::Value>,
    /// Evidence expressions by key, in file order.
    pub evidence: Vec<(String, Expr)>,
    pub message_pass: String,
    pub message_fail: String,
    pub docs: RuleDocs,
    /// Where it came from: `built-in` or a file path.
    pub origin: String,
}

/// All rules of a run, sorted by id.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl RuleSet {
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn for_product<'a>(&'a self, product: &'a str) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules.iter().filter(move |r| r.product == product)
    }
}
