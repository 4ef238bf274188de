//! Rollback plans: ordered, typed steps built from facts and findings. Never executed; the
//! renderers print them. Every name in a step (snapshot, repository, host, version) comes from
//! the facts, so the on-call engineer can copy it as it is.

pub mod elastic;
pub mod ghes;

use serde::Serialize;

/// A plan: what to do, in order, and what it costs.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Plan {
    pub title: String,
    pub steps: Vec<Step>,
    /// What the rollback loses and what could not be checked.
    pub warnings: Vec<String>,
    /// Other ways back (GHES: promoting a replica still on the old version).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Plan>,
}

/// One step.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub title: String,
    /// Where to run it: host, node, cluster.
    pub run_on: String,
    /// Exact shell commands, ready to paste (secrets come from the environment).
    pub commands: Vec<String>,
    /// The exact API request, when the step is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
}

/// An HTTP request a step makes (shown, never sent by ripcord).
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: serde_json::Value,
}

/// Shell-quotes a string with single quotes.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}
