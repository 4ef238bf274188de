//! The command line (DESIGN §3). Names here are a contract: add, never rename.

use crate::facts::derive::Mode;
use crate::output::Format;
use crate::report::FailOn;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Exit codes:
  0  ready: no blocker failed, none unknown or errored
  1  not ready: a blocker failed (with --fail-on warning, a warning too)
  2  ripcord could not do its job: bad arguments, unreadable bundle, invalid rule file
  3  incomplete: nothing failed, but a blocker is unknown or errored (could not verify)

Environment (credentials are read from here only, never from flags):
  RIPCORD_GHES_PASSWORD                           GHES root site administrator password (user api_key)
  RIPCORD_GHES_USERNAME                           GHES Management Console user (instead of api_key)
  RIPCORD_ES_API_KEY                              Elasticsearch API key (the base64 id:key form)
  RIPCORD_ES_USERNAME, RIPCORD_ES_PASSWORD        Elasticsearch basic auth
  RIPCORD_KIBANA_API_KEY                          Kibana API key (default: the ES credentials)
  RIPCORD_KIBANA_USERNAME, RIPCORD_KIBANA_PASSWORD Kibana basic auth (default: the ES credentials)

ripcord only ever sends GET and HEAD requests.";

/// Read-only preflight and rollback-readiness checks for the Elastic Stack and GitHub Enterprise Server.
#[derive(Debug, Parser)]
#[command(name = "ripcord", version, about, long_about = None, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Before an upgrade: would a rollback be possible, and is the upgrade itself sound?
    #[command(after_help = AFTER_HELP)]
    Preflight {
        #[command(subcommand)]
        product: PreflightProduct,
    },
    /// After a failed upgrade: can we get back, and exactly how?
    #[command(after_help = AFTER_HELP)]
    Rollback {
        #[command(subcommand)]
        product: RollbackProduct,
    },
    /// Collect facts once into a bundle; evaluate it anywhere with --facts.
    Collect {
        #[command(subcommand)]
        product: CollectProduct,
    },
    /// List the rules or explain one.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PreflightProduct {
    /// Elasticsearch + Kibana.
    #[command(after_help = AFTER_HELP)]
    Elastic(PreflightElastic),
    /// GitHub Enterprise Server (Manage API, or facts from flags).
    #[command(after_help = AFTER_HELP)]
    Ghes(GhesEvaluate),
}

#[derive(Debug, Subcommand)]
pub enum RollbackProduct {
    /// Elasticsearch + Kibana.
    #[command(after_help = AFTER_HELP)]
    Elastic(RollbackElastic),
    /// GitHub Enterprise Server (Manage API, or facts from flags when the primary is down).
    #[command(after_help = AFTER_HELP)]
    Ghes(GhesEvaluate),
}

#[derive(Debug, Subcommand)]
pub enum CollectProduct {
    /// Elasticsearch + Kibana.
    Elastic(CollectElastic),
    /// GitHub Enterprise Server.
    Ghes(CollectGhes),
}

/// `preflight ghes` and `rollback ghes`.
#[derive(Debug, Args)]
pub struct GhesEvaluate {
    #[command(flatten)]
    pub facts: GhesFactArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `collect ghes`.
#[derive(Debug, Args)]
pub struct CollectGhes {
    #[command(flatten)]
    pub facts: GhesFactArgs,
    /// Where to write the facts bundle (`-` for stdout).
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[arg(long, hide = true, value_name = "RFC3339")]
    pub now: Option<jiff::Timestamp>,
}

/// Where a GHES instance is, and what the operator states about it.
#[derive(Debug, Args, Clone, Default)]
pub struct GhesFactArgs {
    /// Manage API base URL of the primary, e.g. https://ghe.example.com:8443.
    #[arg(long, value_name = "URL")]
    pub ghes: Option<String>,
    /// Where the upgrade goes from (rollback default: a replica still on the old version).
    #[arg(long, value_name = "VERSION")]
    pub from: Option<String>,
    /// Where the upgrade goes to (rollback default: the primary's version).
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    #[command(flatten)]
    pub operator: GhesOperatorArgs,
}

impl GhesFactArgs {
    /// The operator facts these flags state, as a bundle records them.
    pub fn operator_facts(&self) -> crate::facts::OperatorFacts {
        let o = &self.operator;
        crate::facts::OperatorFacts {
            from: self.from.clone(),
            to: self.to.clone(),
            upgrade_started_at: o.upgrade_started_at,
            platform: o.platform.map(|p| p.as_str().to_string()),
            replicas: o.replica.clone(),
            vm_snapshot: o.vm_snapshot.clone(),
            vm_snapshot_taken_at: o.vm_snapshot_taken_at,
        }
    }
}

/// Facts about a GHES instance that no API reports (or that the operator knows better).
#[derive(Debug, Args, Clone, Default)]
pub struct GhesOperatorArgs {
    /// The platform (overrides the Manage API's `platform`).
    #[arg(long, value_enum)]
    pub platform: Option<Platform>,
    /// A replica and its version, HOSTNAME=VERSION; repeat for each replica.
    #[arg(long, value_name = "HOSTNAME=VERSION", value_parser = parse_replica)]
    pub replica: Vec<crate::facts::ReplicaVersion>,
    /// The VM snapshot taken before the upgrade (its id in the hypervisor or cloud).
    #[arg(long, value_name = "ID")]
    pub vm_snapshot: Option<String>,
    /// When that VM snapshot was taken (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    pub vm_snapshot_taken_at: Option<jiff::Timestamp>,
    /// When the upgrade started (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    pub upgrade_started_at: Option<jiff::Timestamp>,
}

/// GHES platforms, as `GET /manage/v1/version` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    Ami,
    Azure,
    Esx,
    Gce,
    Hyperv,
    Kvm,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ami => "ami",
            Self::Azure => "azure",
            Self::Esx => "esx",
            Self::Gce => "gce",
            Self::Hyperv => "hyperv",
            Self::Kvm => "kvm",
        }
    }
}

fn parse_replica(s: &str) -> Result<crate::facts::ReplicaVersion, String> {
    let (hostname, version) = s
        .split_once('=')
        .ok_or("expected HOSTNAME=VERSION, e.g. ghe-replica-1=3.14.6")?;
    if hostname.is_empty() {
        return Err("empty hostname".into());
    }
    crate::version::parse_lenient(version).map_err(|e| e.to_string())?;
    Ok(crate::facts::ReplicaVersion {
        hostname: hostname.to_string(),
        version: version.to_string(),
    })
}

#[derive(Debug, Args)]
pub struct PreflightElastic {
    #[command(flatten)]
    pub target: ElasticTargetArgs,
    /// The version the upgrade goes to (required, here or in the bundle).
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// The version the upgrade goes from (default: the running Kibana, else the oldest ES node).
    #[arg(long, value_name = "VERSION")]
    pub from: Option<String>,
    #[command(flatten)]
    pub operator: OperatorArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Args)]
pub struct RollbackElastic {
    #[command(flatten)]
    pub target: ElasticTargetArgs,
    /// Where to go back to (default: inferred from the saved-object version aliases).
    #[arg(long, value_name = "VERSION")]
    pub from: Option<String>,
    /// The failed target (default: the newest version alias, else the running Kibana).
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    #[command(flatten)]
    pub operator: OperatorArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Args)]
pub struct CollectElastic {
    #[command(flatten)]
    pub target: ElasticTargetArgs,
    #[arg(long, value_name = "VERSION")]
    pub from: Option<String>,
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    #[command(flatten)]
    pub operator: OperatorArgs,
    /// Where to write the facts bundle (`-` for stdout).
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Pin the clock (RFC 3339); for tests and reproducible bundles.
    #[arg(long, hide = true, value_name = "RFC3339")]
    pub now: Option<jiff::Timestamp>,
}

/// Where the Elastic Stack is.
#[derive(Debug, Args, Clone, Default)]
pub struct ElasticTargetArgs {
    /// Elasticsearch URL (one cluster endpoint), e.g. https://es:9200.
    #[arg(long, value_name = "URL")]
    pub es: Option<String>,
    /// A Kibana instance URL; repeat for every instance.
    #[arg(long, value_name = "URL")]
    pub kibana: Vec<String>,
}

/// Facts only the operator knows.
#[derive(Debug, Args, Clone, Default)]
pub struct OperatorArgs {
    /// When the upgrade started (RFC 3339); default: creation of the first index of `to`.
    #[arg(long, value_name = "RFC3339")]
    pub upgrade_started_at: Option<jiff::Timestamp>,
}

/// Options of every evaluating command.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Evaluate a facts bundle instead of collecting.
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Which failures make the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Blocker)]
    pub fail_on: FailOn,
    /// Extra rule files (a rule with a built-in id replaces it).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Pin the clock (RFC 3339); for tests and reproducible reports.
    #[arg(long, hide = true, value_name = "RFC3339")]
    pub now: Option<jiff::Timestamp>,
}

/// How to talk to the services.
#[derive(Debug, Args, Clone)]
pub struct ConnectionArgs {
    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub timeout: u64,
    /// Trust this CA (PEM), e.g. Elasticsearch's http_ca.crt.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
    /// Skip TLS certificate verification (loudly warned; prefer --ca-cert).
    #[arg(long)]
    pub insecure: bool,
    /// No spinner on stderr.
    #[arg(long)]
    pub no_progress: bool,
    /// Log every request (method, URL, status; never headers) to stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule.
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Extra rule files to include.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// Explain one rule: what it checks, why, how to fix it.
    Explain {
        rule_id: String,
        /// Extra rule files to include.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

/// An evaluating command, product-independent.
pub struct Evaluate<'a> {
    pub mode: Mode,
    pub target: &'a ElasticTargetArgs,
    pub from: Option<String>,
    pub to: Option<String>,
    pub operator: &'a OperatorArgs,
    pub common: &'a CommonArgs,
    pub connection: &'a ConnectionArgs,
}
