//! The command line (DESIGN §3). Names here are a contract: add, never rename.
//!
//! Product-neutral: `preflight`, `rollback` and `collect` each get one subcommand per
//! registered product, built from the product's own flags (see [`ProductCommand`]).

mod values;

use crate::base::named::Named;
use crate::model::report::FailOn;
pub(crate) use crate::output::{ColorChoice, rules::ListFormat};
use crate::output::{FleetFormat, Format};
use crate::product::{self, CommandKind};
use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand};
use std::marker::PhantomData;
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit codes:
  0  ready: no blocker failed, none unknown or errored
     (rollback: or nothing to roll back)
  1  not ready: a blocker failed (with --fail-on warning, a warning too)
  2  ripcord could not do its job: bad arguments, unreadable bundle or waivers,
     invalid rule file, nothing at all collected (every request refused or
     unanswered)
  3  incomplete: nothing failed, but a blocker is unknown or errored
  --exit-zero turns 1 and 3 into 0 (report-only jobs); 2 stays 2.";

/// `--help`'s closing text of an evaluating command: exit codes and the credential variables
/// of the products named.
fn after_help<'a>(environment: impl Iterator<Item = &'a str>) -> String {
    format!("{EXIT_CODES}\n\n{}", environment_help(environment))
}

/// The closing text of `collect`, which only succeeds (0) or cannot do its job (2).
fn collect_after_help(environment: &str) -> String {
    format!(
        "Exit codes:\n  0  the bundle was written (what could not be collected is recorded in it)\n  2  ripcord could not do its job: bad arguments, the file cannot be written, or\n     nothing at all could be collected (the bundle is still written: it says why)\n\n{}",
        environment_help(std::iter::once(environment))
    )
}

/// The credential variables, and the read-only promise.
fn environment_help<'a>(environment: impl Iterator<Item = &'a str>) -> String {
    let lines: Vec<String> = environment
        .flat_map(str::lines)
        .map(|l| format!("  {l}"))
        .collect();
    format!(
        "Environment (credentials are read from here only, never from flags):\n{}\n\nripcord only ever sends GET and HEAD requests.",
        lines.join("\n")
    )
}

/// The closing text of the top-level help: every product's variables.
fn all_after_help() -> String {
    after_help(product::REGISTRY.iter().map(|p| p.environment()))
}

/// The top-level help's first examples: the demo (no cluster needed), then one live check per
/// mode, so a newcomer sees where to start before the reference below.
const TOP_EXAMPLES: &str = "\
Examples:
  # the demo: a failed Kibana upgrade, from a saved bundle (no cluster needed)
  ripcord rollback elastic --facts fixtures/facts/failed-minor-upgrade.json
  # before an upgrade, in CI
  ripcord preflight elastic --es https://es:9200 --kibana https://kb:5601 --to 8.18.0
  # after a failed one: can we get back, and exactly how?
  ripcord rollback ghes --ghes https://ghe.example.com:8443
  ripcord rules explain kibana-snapshot";

/// The examples of a mode's group help (`ripcord preflight --help`).
fn mode_examples(mode: &str) -> String {
    let lines: Vec<String> = product::REGISTRY
        .iter()
        .map(|p| {
            let name = p.name();
            format!("  ripcord {mode} {name} --help   # the {name} flags and examples")
        })
        .collect();
    lines.join("\n")
}

fn top_after_help() -> String {
    format!("{TOP_EXAMPLES}\n\n{}", all_after_help())
}

fn group_after_help(mode: &str) -> String {
    format!("Examples:\n{}\n\n{}", mode_examples(mode), all_after_help())
}

fn collect_group_after_help() -> String {
    format!(
        "Examples:\n{}\n  ripcord collect elastic --es https://es:9200 --output facts.json\n  ripcord rollback elastic --facts facts.json",
        mode_examples("collect")
    )
}

/// Read-only preflight and rollback-readiness checks for the Elastic Stack and GitHub Enterprise Server.
#[derive(Debug, Parser)]
#[command(name = "ripcord", version, long_version = long_version(), about, long_about = None,
          after_help = top_after_help(), propagate_version = true, max_term_width = 80)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Before an upgrade: would a rollback be possible, and is the upgrade itself sound?
    #[command(after_help = group_after_help("preflight"))]
    Preflight {
        #[command(subcommand)]
        product: ProductCommand<Preflight>,
    },
    /// After a failed upgrade: can we get back, and exactly how?
    #[command(after_help = group_after_help("rollback"))]
    Rollback {
        #[command(subcommand)]
        product: ProductCommand<Rollback>,
    },
    /// Collect facts once into a bundle; evaluate it anywhere with --facts.
    #[command(after_help = collect_group_after_help())]
    Collect {
        #[command(subcommand)]
        product: ProductCommand<Collect>,
    },
    /// Check every deployment of an inventory in one run: one report, what changed since the
    /// last one, metrics to alert on
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true,
              after_help = fleet_after_help())]
    Fleet {
        #[command(flatten)]
        args: Box<FleetArgs>,
        #[command(subcommand)]
        command: Option<FleetCommand>,
    },
    /// List the rules, or explain one: what it checks, why, how to fix it.
    #[command(after_help = "\
Examples:
  ripcord rules list
  ripcord rules list --format json --rules ./our-rules
  ripcord rules explain kibana-snapshot")]
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Print a shell completion script, e.g. `ripcord completions bash >
    /// /etc/bash_completion.d/ripcord`.
    #[command(after_help = "\
Examples:
  ripcord completions bash > ~/.local/share/bash-completion/completions/ripcord
  ripcord completions zsh > \"${fpath[1]}/_ripcord\"
  ripcord completions fish > ~/.config/fish/completions/ripcord.fish
  ripcord completions powershell >> $PROFILE")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page, or write one page per command into a folder.
    #[command(after_help = "\
Examples:
  ripcord man | man -l -
  ripcord man --dir /usr/local/share/man/man1   # ripcord.1, ripcord-preflight-elastic.1, …")]
    Man {
        /// Write ripcord.1 and a page per subcommand into DIR instead of printing ripcord.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// `--version`: the version, the commit it was built from and how recent the release data
/// shipped with the rules is (a stale binary judges new releases as unknown).
fn long_version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        let mut text = format!(
            "{} (commit {})",
            env!("CARGO_PKG_VERSION"),
            env!("RIPCORD_COMMIT")
        );
        for (what, covers) in product::release_data() {
            text.push_str(&format!("\n{what}: {covers}"));
        }
        text
    })
}

/// Which command a [`ProductCommand`] belongs to, as a type so clap can build it statically.
pub(crate) trait Kind {
    const KIND: CommandKind;
}

#[derive(Debug)]
pub(crate) struct Preflight;
#[derive(Debug)]
pub(crate) struct Rollback;
#[derive(Debug)]
pub(crate) struct Collect;

impl Kind for Preflight {
    const KIND: CommandKind = CommandKind::Preflight;
}
impl Kind for Rollback {
    const KIND: CommandKind = CommandKind::Rollback;
}
impl Kind for Collect {
    const KIND: CommandKind = CommandKind::Collect;
}

/// `<command> <product> [flags]`: the product chosen and its parsed flags, kept as matches so
/// the product reads its own typed arguments from them.
pub(crate) struct ProductCommand<K> {
    pub(crate) product: &'static dyn product::Entry,
    pub(crate) matches: ArgMatches,
    kind: PhantomData<K>,
}

impl<K> std::fmt::Debug for ProductCommand<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProductCommand")
            .field("product", &self.product.name())
            .finish_non_exhaustive()
    }
}

impl<K: Kind> FromArgMatches for ProductCommand<K> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let (name, sub) = matches
            .subcommand()
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::MissingSubcommand))?;
        let product = product::find(name)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))?;
        Ok(Self {
            product,
            matches: sub.clone(),
            kind: PhantomData,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl<K: Kind> Subcommand for ProductCommand<K> {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        product::REGISTRY.iter().fold(cmd, |cmd, p| {
            let help = match K::KIND {
                CommandKind::Collect => collect_after_help(p.environment()),
                CommandKind::Preflight | CommandKind::Rollback => {
                    after_help(std::iter::once(p.environment()))
                }
            };
            let examples: Vec<String> = p
                .examples(K::KIND)
                .lines()
                .map(|l| format!("  {l}"))
                .collect();
            let help = format!("Examples:\n{}\n\n{help}", examples.join("\n"));
            cmd.subcommand(product_command(*p, K::KIND).after_help(help))
        })
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_subcommands(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        product::find(name).is_some()
    }
}

/// A product's subcommand for `kind`: its own flags, then the command's common ones.
pub(crate) fn product_command(product: &dyn product::Entry, kind: CommandKind) -> clap::Command {
    product.with(BuildCommand(kind))
}

struct BuildCommand(CommandKind);

impl product::ForProduct for BuildCommand {
    type Output = clap::Command;

    fn call<P: product::Product>(self) -> clap::Command {
        let cmd = P::Args::augment_args(clap::Command::new(P::NAME));
        let cmd = match self.0 {
            CommandKind::Collect => CollectArgs::augment_args(cmd),
            CommandKind::Preflight | CommandKind::Rollback => {
                ConnectionArgs::augment_args(CommonArgs::augment_args(cmd))
            }
        };
        // Set last: each flattened `Args` struct's doc comment would otherwise become it.
        P::command(cmd.about(P::ABOUT), self.0)
    }
}

/// Options of every evaluating command. Those a CI job sets once for all its runs also read a
/// `RIPCORD_*` variable (a flag given wins).
#[derive(Debug, Args, Clone)]
pub(crate) struct CommonArgs {
    /// Evaluate a facts bundle instead of collecting.
    #[arg(long, value_name = "FILE")]
    pub(crate) facts: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) report: ReportArgs<Format>,
    /// Which failures make the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Blocker, env = "RIPCORD_FAIL_ON")]
    pub(crate) fail_on: FailOn,
    /// Waivers (TOML): failures they match become `waived`, shown with reason and owner.
    #[arg(long, value_name = "FILE", env = "RIPCORD_WAIVERS")]
    pub(crate) waivers: Option<PathBuf>,
    /// Extra rule files (a rule with a built-in id replaces it).
    #[arg(long, value_name = "DIR", env = "RIPCORD_RULES")]
    pub(crate) rules: Option<PathBuf>,
    /// Judge as of this time (RFC 3339) instead of the collection time of the facts, e.g.
    /// tomorrow's gate against today's bundle; facts over an hour older are warned about.
    #[arg(long, value_name = "RFC3339", value_parser = crate::model::upgrade::timestamp)]
    pub(crate) now: Option<jiff::Timestamp>,
}

/// Where a report goes and how it looks, declared once for the single-target commands
/// (`F` = [`Format`]) and the fleet (`F` = [`FleetFormat`]).
#[derive(Debug, Args, Clone)]
pub(crate) struct ReportArgs<F>
where
    F: clap::ValueEnum + Named + Default + Clone + Copy + std::fmt::Debug + Send + Sync + 'static,
{
    /// Output format.
    #[arg(long, value_enum, default_value_t = F::default(), env = "RIPCORD_FORMAT")]
    pub(crate) format: F,
    /// Write the --format report to FILE instead of stdout (written whole or not at all;
    /// an existing FILE is replaced).
    #[arg(long, short, value_name = "FILE", env = "RIPCORD_OUTPUT")]
    pub(crate) output: Option<PathBuf>,
    /// Also write the report in FORMAT to FILE, from the same run (repeatable), e.g.
    /// --report junit=ripcord.xml --report markdown=$GITHUB_STEP_SUMMARY.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = crate::output::ReportFile::<F>::parse)]
    pub(crate) reports: Vec<crate::output::ReportFile<F>>,
    /// Report only: exit 0 when the verdict is not ready or incomplete (1, 3); 2 still means
    /// ripcord could not do its job.
    #[arg(long, env = "RIPCORD_EXIT_ZERO")]
    pub(crate) exit_zero: bool,
    /// Colour in the table on a terminal; `auto` honours NO_COLOR and CLICOLOR_FORCE.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, env = "RIPCORD_COLOR")]
    pub(crate) color: ColorChoice,
    /// List skipped rules in the table and Markdown (folded into a count by default; JSON and
    /// JUnit always list them).
    #[arg(long)]
    pub(crate) show_skipped: bool,
}

impl<F> ReportArgs<F>
where
    F: clap::ValueEnum + Named + Default + Clone + Copy + std::fmt::Debug + Send + Sync + 'static,
{
    /// What the renderers are asked for.
    pub(crate) fn wanted(&self) -> crate::output::Wanted<'_, F> {
        crate::output::Wanted {
            format: self.format,
            output: self.output.as_deref(),
            reports: &self.reports,
            color: self.color,
            show_skipped: self.show_skipped,
        }
    }
}

/// Options of `collect`.
#[derive(Debug, Args, Clone)]
pub(crate) struct CollectArgs {
    /// Where to write the facts bundle (`-` for stdout). Written whole or not at all (through
    /// a temporary file in the same folder); an existing file is kept unless --force.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: PathBuf,
    /// Replace the --output file if it exists.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
    /// Pin the clock (RFC 3339); for tests and reproducible bundles.
    #[arg(long, hide = true, value_name = "RFC3339", value_parser = crate::model::upgrade::timestamp)]
    pub(crate) now: Option<jiff::Timestamp>,
}

/// `--timeout` when none is given, in seconds.
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 10;
/// The longest `--timeout`.
pub(crate) const MAX_TIMEOUT_SECS: u64 = 3600;
/// `--deadline` when none is given, in seconds.
pub(crate) const DEFAULT_DEADLINE_SECS: u64 = 120;
/// The longest `--deadline`.
pub(crate) const MAX_DEADLINE_SECS: u64 = 86_400;

/// How to talk to the services.
#[derive(Debug, Args, Clone)]
pub(crate) struct ConnectionArgs {
    /// Per-request timeout in seconds (1-3600), connecting and reading the whole answer.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_SECS, env = "RIPCORD_TIMEOUT",
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub(crate) timeout: u64,
    /// Deadline of the whole collection in seconds (1-86400): what was collected by then is
    /// judged, the rest is `unknown`.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_DEADLINE_SECS, env = "RIPCORD_DEADLINE",
          value_parser = clap::value_parser!(u64).range(1..=MAX_DEADLINE_SECS))]
    pub(crate) deadline: u64,
    /// Trust this CA (PEM), e.g. Elasticsearch's http_ca.crt.
    #[arg(long, value_name = "PEM", env = "RIPCORD_CA_CERT")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// Skip TLS certificate verification (loudly warned; prefer --ca-cert).
    #[arg(long)]
    pub(crate) insecure: bool,
    /// No spinner on stderr.
    #[arg(long)]
    pub(crate) no_progress: bool,
    /// Log every request (method, URL, status; never headers) to stderr.
    #[arg(short, long)]
    pub(crate) verbose: bool,
}

const FLEET_EXIT_CODES: &str = "\
Exit codes:
  0  every target ready (rollback: or nothing to roll back)
  1  a target is not ready
  2  ripcord could not do its job: bad arguments, an invalid inventory,
     unreadable waivers, baseline or shard report, an invalid rule file
  3  nothing failed, but a target is incomplete or could not be judged
  --exit-zero turns 1 and 3 into 0; 2 stays 2.";

fn fleet_after_help() -> String {
    format!(
        "Examples:\n  ripcord fleet --inventory fleet.toml --baseline last-night.json \\\n      --report html=tonight.html --report json=tonight.json \\\n      --report prometheus=ripcord.prom\n  ripcord fleet --inventory fleet.toml --shard 3/8 --report json=shard-3.json\n  ripcord fleet merge shard-*.json --report html=tonight.html\n\n{FLEET_EXIT_CODES}\n\n{}",
        "Environment:\n  Credentials are read from the variables each target's `credentials` names\n  in the inventory (api_key_env, username_env, password_env), never from\n  the file itself.\n\nripcord only ever sends GET and HEAD requests."
    )
}

/// `ripcord fleet merge`.
#[derive(Debug, Subcommand)]
pub(crate) enum FleetCommand {
    /// Join the shard reports of one sharded run (`--shard I/N`) into the report an unsharded
    /// run gives
    #[command(
        after_help = "Examples:\n  ripcord fleet merge shard-*.json --baseline last-night.json \\\n      --report html=tonight.html --report json=tonight.json"
    )]
    Merge {
        /// The shard reports (`--report json=FILE` of each shard), every shard once
        #[arg(value_name = "SHARD.json", required = true)]
        shards: Vec<PathBuf>,
        #[command(flatten)]
        out: FleetOutputArgs,
    },
}

/// `--shard I/N`: the I-th (1-based) of N shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shard {
    pub(crate) index: u32,
    pub(crate) count: u32,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let (i, n) = text.split_once('/').ok_or_else(|| {
        format!("expected I/N, e.g. 3/8 (the third of eight shards), not {text:?}")
    })?;
    let index: u32 = i
        .trim()
        .parse()
        .map_err(|_| format!("{i:?} is not a shard number"))?;
    let count: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("{n:?} is not a shard count"))?;
    if count == 0 || count > 10_000 {
        return Err(format!("the shard count must be 1 to 10000, not {count}"));
    }
    if index == 0 || index > count {
        return Err(format!("shards are numbered 1 to {count}, not {index}"));
    }
    Ok(Shard { index, count })
}

/// Where a fleet report goes, and the report it is compared with: `fleet` and `fleet merge`.
#[derive(Debug, Args, Clone)]
pub(crate) struct FleetOutputArgs {
    /// A previous fleet JSON report: what changed since then is shown first
    #[arg(long, value_name = "FLEET.json")]
    pub(crate) baseline: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) report: ReportArgs<FleetFormat>,
}

/// `ripcord fleet`'s flags.
#[derive(Debug, Args, Clone)]
pub(crate) struct FleetArgs {
    /// The inventory: a TOML file of [[target]] tables (README "Fleet")
    #[arg(long, value_name = "FILE", required = true)]
    pub(crate) inventory: Option<PathBuf>,
    /// Run only shard I of N (1-based): the inventory's names sorted, dealt out in turn
    #[arg(long, value_name = "I/N", value_parser = parse_shard, conflicts_with = "shards")]
    pub(crate) shard: Option<Shard>,
    /// Run shard JOB_COMPLETION_INDEX+1 of N (a Kubernetes Indexed Job)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) shards: Option<u32>,
    /// Keep each target's facts bundle as DIR/NAME.json (re-evaluate with --facts DIR)
    #[arg(long, value_name = "DIR")]
    pub(crate) bundles: Option<PathBuf>,
    /// Judge each target from DIR/NAME.json instead of collecting (offline)
    #[arg(long, value_name = "DIR", conflicts_with = "bundles")]
    pub(crate) facts: Option<PathBuf>,
    /// How many targets run at once
    #[arg(long, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub(crate) concurrency: u64,
    /// Which failures make a target not ready
    #[arg(long, value_enum, default_value_t = FailOn::Blocker, env = "RIPCORD_FAIL_ON")]
    pub(crate) fail_on: FailOn,
    /// Waivers (TOML); `target` globs match inventory names too
    #[arg(long, value_name = "FILE", env = "RIPCORD_WAIVERS")]
    pub(crate) waivers: Option<PathBuf>,
    /// Add or replace rules from DIR
    #[arg(long, value_name = "DIR", env = "RIPCORD_RULES")]
    pub(crate) rules: Option<PathBuf>,
    /// Judge as of this instant instead of now (every target)
    #[arg(long, value_name = "RFC3339", value_parser = crate::model::upgrade::timestamp)]
    pub(crate) now: Option<jiff::Timestamp>,
    /// Per-request timeout, where the inventory sets none [default: 10]
    #[arg(long, value_name = "SECS", env = "RIPCORD_TIMEOUT",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) timeout: Option<u64>,
    /// Per-target deadline, where the inventory sets none [default: 120]
    #[arg(long, value_name = "SECS", env = "RIPCORD_DEADLINE",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) deadline: Option<u64>,
    /// CA certificate (PEM), where the inventory sets none
    #[arg(long, value_name = "PEM", env = "RIPCORD_CA_CERT")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// Do not verify TLS certificates of any target (warned)
    #[arg(long)]
    pub(crate) insecure: bool,
    /// No `12/35 done` line on stderr
    #[arg(long)]
    pub(crate) no_progress: bool,
    /// Log every request (URL, status, duration; never headers)
    #[arg(short, long)]
    pub(crate) verbose: bool,
    #[command(flatten)]
    pub(crate) out: FleetOutputArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// List every rule.
    #[command(after_help = "\
Examples:
  ripcord rules list
  ripcord rules list --format json | jq -r '.[].id'
  ripcord rules list --rules ./our-rules   # the built-in rules and ours")]
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Extra rule files to include.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// Explain one rule: what it checks, why, how to fix it.
    #[command(after_help = "\
Examples:
  ripcord rules explain kibana-snapshot
  ripcord rules explain our-snapshot-policy --rules ./our-rules")]
    Explain {
        rule_id: String,
        /// Extra rule files to include.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every command a user can ask `--help` of ends with examples to start from (clap's own
    /// `help` subcommand aside).
    #[test]
    fn every_command_help_has_examples() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>, seen: &mut usize) {
            *seen += 1;
            let path = format!("{path} {}", cmd.get_name()).trim().to_string();
            let after = cmd.get_after_help().map(ToString::to_string);
            if !after.is_some_and(|a| {
                a.contains("Examples:\n  ripcord ") || a.contains("Examples:\n  #")
            }) {
                missing.push(path.clone());
            }
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(sub, &path, missing, seen);
            }
        }
        let (mut missing, mut seen) = (Vec::new(), 0);
        walk(&Cli::command(), "", &mut missing, &mut seen);
        // ripcord, 3 modes × 2 products + 3 groups, fleet + merge, rules + 2, completions, man.
        assert!(seen >= 16, "only {seen} commands walked");
        assert!(
            missing.is_empty(),
            "no Examples in the help of: {missing:?}"
        );
    }
}
