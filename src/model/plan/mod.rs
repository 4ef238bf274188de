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

/// One step (DESIGN §8): what it does, where, and the read-only gates around it. A runbook
/// runs `check`, then `commands`, then `verify`, stopping at the first that fails; the table
/// and Markdown show them for a person to run in the same order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Step {
    /// Stable within the plan (`stop-kibana`, `restore-kibana-state`): the runbook's state
    /// file and log name it, and so does a failure.
    pub(crate) id: String,
    pub(crate) title: String,
    /// Where to run it: host, node, cluster.
    pub(crate) run_on: String,
    /// Read-only commands that must each exit 0 before `commands` run (each says what it saw
    /// when it does not).
    pub(crate) check: Vec<Line>,
    /// Exact shell commands, ready to paste (secrets come from the environment).
    pub(crate) commands: Vec<Line>,
    /// Read-only commands that must each exit 0 after `commands`, before any later step: what
    /// a rerun asks to skip the step.
    pub(crate) verify: Vec<Line>,
    /// What to do when a check, command or verification fails.
    pub(crate) on_failure: String,
    /// The exact API request, when the step is one.
    pub(crate) request: Option<Request>,
    /// Runs on every run of a runbook, a rerun too: it only sets variables later steps read
    /// (a URL, a password, the platform), asking or reading, never changing anything.
    pub(crate) every_run: bool,
}

impl Step {
    /// A step that sets variables for later ones (see [`Step::every_run`]).
    pub(crate) fn setup(
        id: &str,
        title: impl Into<String>,
        run_on: impl Into<String>,
        commands: Vec<Line>,
    ) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            run_on: run_on.into(),
            commands,
            every_run: true,
            ..Self::default()
        }
    }

    /// A step the engineer does by hand (a console, a config file): no command to paste.
    pub(crate) fn by_hand(title: impl Into<String>, run_on: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            run_on: run_on.into(),
            ..Self::default()
        }
    }
}

/// Gives every step of `plan` an id unique within it: a
/// repeated id gets `-2`, `-3`, … in order, an empty one the step's position.
pub(crate) fn number_ids(plan: &mut Plan) {
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    for (index, step) in plan.steps.iter_mut().enumerate() {
        if step.id.is_empty() {
            step.id = format!("step-{}", index + 1);
        }
        let n = seen.entry(step.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            step.id = format!("{}-{n}", step.id);
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
