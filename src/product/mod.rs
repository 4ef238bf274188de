//! Products: everything that differs between Elasticsearch + Kibana and GitHub Enterprise
//! Server lives in one folder per product behind the [`Product`] trait, and [`REGISTRY`]
//! (`registry.rs`) lists them. Everything outside this folder is product-neutral: the CLI
//! builds one subcommand per registered product, the pipeline runs any product the same way,
//! the rule loader checks each rule against its product's input schema.
//!
//! Adding a product means: a new folder here implementing [`Product`], one line in
//! [`REGISTRY`] and one arm in its `with`, and its rules in `rules/<product>/`.

pub(crate) mod elastic;
pub(crate) mod ghes;
mod registry;

pub(crate) use registry::{Entry, ForProduct, REGISTRY, find};

use crate::collect::http::ReadOnlyClient;
use crate::judge::engine::Availability;
use crate::model::facts::Bundle;
use crate::model::plan::Plan;
use crate::model::upgrade::{Mode, UpgradeBasis};
use schemars::JsonSchema;
use serde::Serialize;
use std::fmt::Debug;

/// Which command a product's subcommand is built for (its flags and help differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommandKind {
    Preflight,
    Rollback,
    Collect,
}

/// A usage error a product raises about its own flags (exit 2).
pub(crate) use crate::base::usage::Usage;

/// Where a product's facts come from when no bundle is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LiveSource {
    /// Its APIs answer at the URLs given.
    Live,
    /// No URL: the operator's flags are the only facts (say, the GHES primary is down).
    Flags,
}

impl LiveSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Flags => "flags",
        }
    }
}

/// How the facts were collected, for plans whose commands must work as printed.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanContext {
    /// The authentication methods and TLS options of the collection.
    pub(crate) connection: crate::model::facts::Connection,
    /// Whether the bundle recorded them (else the auth method is unknown).
    pub(crate) recorded: bool,
}

pub(crate) use crate::model::facts::{FactsSection, OperatorFacts, Shape};

/// How a fleet inventory's `credentials` name a product's secrets: each accepted set of keys
/// (`api_key_env`, `username_env`, `password_env`) maps onto the single-target variable
/// `RIPCORD_<service>_<KEY>` the collectors read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CredentialForms {
    /// `ES`, `GHES`: the service of `RIPCORD_<service>_*`.
    pub(crate) service: &'static str,
    /// The key sets accepted, e.g. `[["api_key_env"], ["username_env", "password_env"]]`.
    pub(crate) forms: &'static [&'static [&'static str]],
}

/// Everything one product contributes to the pipeline, from flags to plan.
pub(crate) trait Product: Shape {
    /// One line for `--help`.
    const ABOUT: &'static str;
    /// The credential variables it reads, as lines of `--help`'s Environment section.
    const ENVIRONMENT: &'static str;
    /// The flags that name a live target, for usage errors.
    const TARGET_FLAGS: &'static str;
    /// A version of this product, for usage errors (`e.g. --to 8.15.3`).
    const VERSION_EXAMPLE: &'static str;
    /// What a fleet inventory's `credentials` may hold for it.
    const CREDENTIALS: CredentialForms;

    /// Target and operator flags (everything but the common and connection flags).
    /// Filled by clap from a command line and by serde from a fleet inventory's target.
    type Args: clap::Args
        + clap::FromArgMatches
        + serde::de::DeserializeOwned
        + Clone
        + Debug
        + Send
        + Sync
        + 'static;
    /// What derive computes once for rules and plan.
    type Derived;
    /// The CEL variables rules read; its JSON Schema is what rule paths are checked against.
    type Inputs<'a>: Serialize + JsonSchema;

    /// `--help`'s Examples for `kind`, taken from the README: lines of at most 78 columns.
    fn examples(kind: CommandKind) -> &'static str;
    /// Adjusts help texts per command (the same flag can mean different things).
    fn command(cmd: clap::Command, _kind: CommandKind) -> clap::Command {
        cmd
    }
    /// The operator facts the flags state.
    fn operator(args: &Self::Args) -> Self::Operator;
    /// Whether a live target was named (it conflicts with `--facts`).
    fn has_target(args: &Self::Args) -> bool;
    /// Checks the target flags before any request is made.
    fn live_source(args: &Self::Args) -> Result<LiveSource, Usage>;
    /// Collects every fact at once, GET only; failures become part of the bundle.
    async fn collect(
        client: &ReadOnlyClient,
        args: &Self::Args,
        operator: Self::Operator,
        now: jiff::Timestamp,
    ) -> Bundle<Self>;
    /// Derives every judgement once, for rules and plan alike.
    fn derive(bundle: &Bundle<Self>, mode: Mode) -> Self::Derived;
    fn upgrade(derived: &Self::Derived) -> &UpgradeBasis;
    /// The rule inputs of a bundle and its derivation.
    fn inputs<'a>(bundle: &'a Bundle<Self>, derived: &'a Self::Derived) -> Self::Inputs<'a>;
    /// The fact groups rules may `require`.
    const GROUPS: &'static [&'static str];
    /// Those groups as a person names them, for findings that cannot verify one
    /// (`the snapshot listing`, never `es.snapshots`); the product-neutral `upgrade.*` ones are
    /// the engine's.
    const GROUP_WORDS: &'static [(&'static str, &'static str)];
    /// Which groups are available, and why a missing one is missing.
    fn availability(bundle: &Bundle<Self>, derived: &Self::Derived) -> Availability;
    fn plan(bundle: &Bundle<Self>, derived: &Self::Derived, context: &PlanContext) -> Plan;
    /// Checks every outside value that can reach a command for what it names (DESIGN §7),
    /// before derive: a fact that fails is removed and returned as its group's failure (its
    /// rules are `unknown`, naming the field and why); an operator fact or a recorded target
    /// that fails is a usage error.
    fn screen(bundle: &mut Bundle<Self>)
    -> Result<Vec<crate::model::facts::CollectFailure>, Usage>;
    /// Whether the operator's flags alone are facts worth judging, so a run whose every request
    /// failed is still judged (its findings unknown) rather than stopped as "nothing collected".
    fn flags_are_facts(_bundle: &Bundle<Self>) -> bool {
        false
    }
    /// The snapshot its plan restores, if any (its age is set when the report is assembled).
    fn rollback_snapshot(
        _bundle: &Bundle<Self>,
        _derived: &Self::Derived,
    ) -> Option<crate::model::report::v1::PlanSnapshot> {
        None
    }
    /// The report's `target`: the system judged.
    fn target(bundle: &Bundle<Self>, derived: &Self::Derived) -> crate::model::report::v1::Target;
    /// The report's `source` endpoints of a bundle, in order.
    fn endpoints(bundle: &Bundle<Self>) -> serde_json::Map<String, serde_json::Value>;
}

/// An http(s) URL to a service's root, or a usage error showing `example`.
///
/// Refused: user info (`https://user:pass@host`: credentials come from the environment only,
/// and reqwest would send them as a second `Authorization` header), a query or a fragment
/// (every request would silently go to `/`). Credentials from `RIPCORD_<service>_*` (first
/// of `services` that has any) about to travel over plain `http://` are warned about.
pub(crate) fn check_url(url: &str, example: &str, services: &[&str]) -> Result<(), Usage> {
    // `--es: …`: the flag (the example's first word) names which URL, also to a fleet
    // inventory pointing at the key.
    let flag = example
        .split_whitespace()
        .next()
        .filter(|w| w.starts_with("--"))
        .map(|f| format!("{f}: "))
        .unwrap_or_default();
    let refuse = |why: &str| {
        Err(Usage::new(
            format!(
                "{flag}{why}: {:?}",
                crate::collect::http::strip_userinfo(url)
            ),
            Some(&format!("e.g. {example}")),
        ))
    };
    let parsed = match url::Url::parse(url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => u,
        _ => return refuse("not an http(s) URL"),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Usage::new(
            format!(
                "{flag}credentials in a URL are refused: {:?}",
                crate::collect::http::strip_userinfo(url)
            ),
            Some("remove `user:password@` and set the RIPCORD_* variables instead (see --help)"),
        ));
    }
    if parsed.query().is_some() {
        return refuse("a service URL takes no `?query`");
    }
    if parsed.fragment().is_some() {
        return refuse("a service URL takes no `#fragment`");
    }
    if parsed.scheme() == "http"
        && let Some(variable) = services
            .iter()
            .find_map(|s| crate::base::secrets::configured(s))
    {
        tracing::warn!(
            "{variable} will be sent over plain http:// to {url}: anyone on the path can read it; prefer https://"
        );
    }
    Ok(())
}

/// What the release data shipped with the rules covers, for `--version`: `(what, covers)`,
/// e.g. `("Elasticsearch release dates", "through 2026-10-06")`. Read from the same embedded files
/// the rules use; a file that does not parse says so instead of failing `--version`.
pub(crate) fn release_data() -> Vec<(&'static str, String)> {
    use serde_json::Value;
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
    let newest = |dates: Vec<&str>| {
        dates
            .into_iter()
            .max()
            .map_or_else(|| "unreadable".to_string(), |d| format!("through {d}"))
    };
    let elastic = parse(elastic::releases::RELEASES_JSON);
    let elastic_dates = elastic["releases"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let ghes = parse(ghes::derive::RELEASES_JSON);
    let ghes_dates = ghes["releases"]
        .as_object()
        .map(|m| m.values().filter_map(|r| r["ga"].as_str()).collect())
        .unwrap_or_default();
    let issues = parse(ghes::derive::KNOWN_ISSUES_JSON);
    let issues_source = issues["_source"].as_str().unwrap_or_default();
    let issues_commit: String = issues_source
        .split_once(" @ ")
        .map(|(_, rest)| {
            rest.chars()
                .take_while(char::is_ascii_hexdigit)
                .take(12)
                .collect()
        })
        .unwrap_or_default();
    vec![
        ("Elasticsearch release dates", newest(elastic_dates)),
        ("GHES feature release dates", newest(ghes_dates)),
        (
            "GHES known upgrade issues",
            format!(
                "{} series, from github/docs at {}",
                issues["issues"].as_array().map_or(0, Vec::len),
                if issues_commit.is_empty() {
                    "?"
                } else {
                    &issues_commit
                }
            ),
        ),
    ]
}
