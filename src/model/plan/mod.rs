//! Rollback plans: ordered, typed steps each product builds from its facts and derivation.
//! Never executed; the report carries them and the renderers print them. Every name in a step
//! (snapshot, repository, host, version) comes from the facts, so the on-call engineer can
//! copy it as it is; every command is a [`shell::Line`], so no name can become shell syntax.

pub(crate) mod shell;

pub(crate) use shell::{Line, Name, Word, sh};

/// A plan: what to do, in order, and what it costs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub(crate) title: String,
    /// The plan in one sentence, read first.
    pub(crate) headline: String,
    /// The facts the plan rests on, in words.
    pub(crate) basis: Vec<String>,
    /// Whether there is a way back at all (decides the `nothing_to_roll_back` verdict).
    pub(crate) kind: PlanKind,
    pub(crate) steps: Vec<Step>,
    /// What the rollback loses and what could not be checked.
    pub(crate) warnings: Vec<String>,
    /// Other ways back (GHES: promoting a replica still on the old version).
    pub(crate) alternatives: Vec<Plan>,
    /// What this way back loses, counted, or why it could not be.
    pub(crate) data_loss: Option<crate::model::report::v1::DataLoss>,
    /// The steps may lead back, but something they rest on could not be verified (the
    /// report's `rollback` answer says "may be possible").
    pub(crate) tentative: bool,
    /// What this way back loses, in one line, shown beside the headline.
    pub(crate) loses: Option<String>,
}

/// What kind of answer a plan is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum PlanKind {
    /// Ordered steps back (or, in preflight, back if the upgrade fails).
    #[default]
    Steps,
    /// No supported way back: the steps are a fix-forward checklist.
    NoWayBack,
    /// Rollback only: no sign of a failed upgrade; no steps.
    NothingToRollBack,
}

/// One step.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) title: String,
    /// Where to run it: host, node, cluster.
    pub(crate) run_on: String,
    /// Exact shell commands, ready to paste (secrets come from the environment).
    pub(crate) commands: Vec<Line>,
    /// The exact API request, when the step is one.
    pub(crate) request: Option<Request>,
}

impl Step {
    /// A step the engineer does by hand (a console, a config file): no command to paste.
    pub(crate) fn by_hand(title: impl Into<String>, run_on: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            run_on: run_on.into(),
            commands: Vec::new(),
            request: None,
        }
    }
}

/// An HTTP request a step makes (shown, never sent by ripcord).
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) body: serde_json::Value,
}

/// A preflight plan's headline: what would happen if the upgrade failed.
pub(crate) fn if_it_fails(headline: &str) -> String {
    const LEAD: &str = "If this upgrade fails: ";
    if headline.is_empty() || headline.starts_with("If ") {
        return headline.to_string();
    }
    let mut chars = headline.chars();
    let first: String = chars
        .next()
        .into_iter()
        .flat_map(char::to_lowercase)
        .collect();
    format!("{LEAD}{first}{}", chars.as_str())
}
