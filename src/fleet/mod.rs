//! `ripcord fleet`: every deployment of an inventory through the same pipeline as the
//! single-target commands, in one run, into one report (`ripcord.fleet/v1`) with what changed
//! since the previous one. Sharding (`--shard I/N`) and `fleet merge` spread a large fleet
//! over the jobs of an existing engine (a Kubernetes Indexed Job, a CI matrix) instead of a
//! scheduler of ours.
//!
//! ```text
//! inventory ─► shard ─► run (each target: collect → derive → rules → plan → report) ─► diff ─► FleetReport
//! shard reports ─► merge ─► diff ─► FleetReport
//! ```

pub(crate) mod diff;
pub(crate) mod inventory;
pub(crate) mod run;

mod error;

use crate::cli::{CommonArgs, FleetArgs, FleetOutputArgs};
use crate::model::report::fleet_v1::{
    self as v1, FLEET_SCHEMA, FleetReport, FleetSummary, Shards, TargetResult, TargetVerdict,
};
use crate::output::{FleetFormat, Outputs};
pub use error::Error;
use inventory::{FlagDefaults, TargetSpec};
use std::path::{Path, PathBuf};

/// A fleet report ready to be written, and where.
#[derive(Debug)]
pub struct FleetDone {
    pub report: Box<FleetReport>,
    pub(crate) outputs: Outputs<FleetFormat>,
    pub(crate) exit_zero: bool,
}

/// The largest fleet report read (`--baseline`, `fleet merge`): a thousand full reports fit.
const MAX_REPORT_BYTES: u64 = 1024 * 1024 * 1024;

/// `ripcord fleet --inventory FILE …`.
pub(crate) async fn run(args: &FleetArgs) -> Result<FleetDone, Error> {
    let outputs = prepare_outputs(&args.out)?;
    let shard = shard(args)?;
    let inventory_path = args.inventory.as_deref().ok_or_else(|| {
        Error::usage(
            "fleet needs --inventory FILE",
            Some("e.g. ripcord fleet --inventory fleet.toml"),
        )
    })?;
    let inventory = inventory::load(
        inventory_path,
        &FlagDefaults {
            timeout: args.timeout,
            deadline: args.deadline,
            ca_cert: args.ca_cert.clone(),
            insecure: args.insecure,
            verbose: args.verbose,
            offline: args.facts.is_some(),
        },
    )?;
    let rules = crate::run::load_rules(args.rules.as_deref())?;
    let waivers = match &args.waivers {
        Some(path) => crate::judge::waivers::load(path, &rules)?,
        None => Vec::new(),
    };
    // Read before the run: a baseline that cannot be read must not cost a night's run.
    let baseline = args.out.baseline.as_deref().map(read_report).transpose()?;
    if let Some(dir) = &args.bundles {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::usage(
                format!("--bundles {}: cannot create the folder: {e}", dir.display()),
                None,
            )
        })?;
    }
    if let Some(dir) = &args.facts
        && !dir.is_dir()
    {
        return Err(Error::usage(
            format!("--facts {} is not a folder", dir.display()),
            Some(
                "a fleet reads each target's bundle as DIR/NAME.json, as --bundles DIR wrote them",
            ),
        ));
    }
    if args.insecure {
        tracing::warn!(
            "--insecure: TLS certificates are NOT verified for any target; anyone on the path can read the credentials. Prefer --ca-cert."
        );
    }
    register_credentials(&inventory.targets, args.facts.is_some());

    let selected: Vec<&TargetSpec> = match shard {
        Some((index, count)) => select(&inventory.targets, index, count),
        None => inventory.targets.iter().collect(),
    };
    let now = args.now.unwrap_or_else(jiff::Timestamp::now);
    let shared = run::Shared {
        common: CommonArgs {
            facts: None,
            report: crate::cli::ReportArgs {
                format: crate::output::Format::Json,
                output: None,
                reports: Vec::new(),
                exit_zero: false,
                color: crate::cli::ColorChoice::Never,
                show_skipped: false,
            },
            fail_on: args.fail_on,
            waivers: None,
            rules: None,
            now: Some(now),
        },
        rules: &rules,
        waivers: &waivers,
        concurrency: usize::try_from(args.concurrency).unwrap_or(usize::MAX),
        bundles: args.bundles.clone(),
        facts: args.facts.clone(),
        progress: !(args.no_progress || args.verbose),
    };
    let (mut targets, warnings) = run::run_all(&selected, &shared).await;
    targets.sort_by(|a, b| a.name.cmp(&b.name));
    let mut report = assemble(
        now,
        inventory.path.clone(),
        inventory.targets.len(),
        shard.map(|(index, count)| Shards {
            count,
            covered: vec![index],
        }),
        targets,
        baseline.as_ref().zip(args.out.baseline.as_deref()),
    );
    report.warnings = warnings;
    Ok(FleetDone {
        report: Box::new(report),
        outputs,
        exit_zero: args.out.report.exit_zero,
    })
}

/// `ripcord fleet merge SHARD.json…`: the shards' targets in one report, equal to what one
/// unsharded run at the same clock gives. Every shard of the split must be there exactly once,
/// from the same inventory size; a missing shard would silently drop its targets.
pub(crate) fn merge(shard_files: &[PathBuf], out: &FleetOutputArgs) -> Result<FleetDone, Error> {
    let outputs = prepare_outputs(out)?;
    let baseline = out.baseline.as_deref().map(read_report).transpose()?;
    let mut shards: Vec<(PathBuf, FleetReport)> = Vec::with_capacity(shard_files.len());
    for path in shard_files {
        shards.push((path.clone(), read_report(path)?));
    }
    let Some((first_path, first)) = shards.first() else {
        return Err(Error::usage("fleet merge needs shard reports", None));
    };
    let count = first.shards.as_ref().map_or(1, |s| s.count);
    let mut covered: Vec<u32> = Vec::new();
    let mut seen_from: std::collections::BTreeMap<u32, &Path> = Default::default();
    let mut names: std::collections::BTreeMap<&str, &Path> = Default::default();
    for (path, report) in &shards {
        let (this_count, this_covered) = match &report.shards {
            Some(s) => (s.count, s.covered.clone()),
            None => (1, vec![1]),
        };
        if this_count != count
            || report.inventory_targets != first.inventory_targets
            || report.inventory != first.inventory
        {
            return Err(Error::usage(
                format!(
                    "{} and {} are not shards of one run: {} targets of {} in {} shards, against {} of {} in {}",
                    first_path.display(),
                    path.display(),
                    first.inventory_targets,
                    first.inventory,
                    count,
                    report.inventory_targets,
                    report.inventory,
                    this_count
                ),
                Some("merge the shard reports of one run (same inventory, same --shard N)"),
            ));
        }
        for index in this_covered {
            if let Some(other) = seen_from.insert(index, path) {
                return Err(Error::usage(
                    format!(
                        "shard {index}/{count} is in both {} and {}",
                        other.display(),
                        path.display()
                    ),
                    Some("give each shard's report once"),
                ));
            }
            covered.push(index);
        }
        for target in &report.targets {
            if let Some(other) = names.insert(&target.name, path) {
                return Err(Error::usage(
                    format!(
                        "target {} is in both {} and {}",
                        target.name,
                        other.display(),
                        path.display()
                    ),
                    None,
                ));
            }
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| !covered.contains(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::usage(
            format!(
                "shard {} missing: its targets would be silently left out",
                missing.join(", ")
            ),
            Some("wait for every shard's job, or merge the report each one wrote"),
        ));
    }
    let generated_at = shards
        .iter()
        .map(|(_, r)| r.generated_at)
        .max()
        .unwrap_or_else(jiff::Timestamp::now);
    let inventory = first.inventory.clone();
    let inventory_targets = first.inventory_targets;
    let mut warnings = Vec::new();
    let mut targets = Vec::new();
    for (_, report) in shards {
        warnings.extend(report.warnings);
        targets.extend(report.targets);
    }
    if targets.len() != inventory_targets {
        return Err(Error::usage(
            format!(
                "the shards hold {} targets, the inventory {inventory_targets}",
                targets.len()
            ),
            None,
        ));
    }
    targets.sort_by(|a, b| a.name.cmp(&b.name));
    // Every shard is there: the merge is the unsharded run's report, nothing to tell apart.
    let mut report = assemble(
        generated_at,
        inventory,
        inventory_targets,
        None,
        targets,
        baseline.as_ref().zip(out.baseline.as_deref()),
    );
    report.warnings = warnings;
    Ok(FleetDone {
        report: Box::new(report),
        outputs,
        exit_zero: out.report.exit_zero,
    })
}

fn prepare_outputs(out: &FleetOutputArgs) -> Result<Outputs<FleetFormat>, Error> {
    Outputs::prepare_wanted(out.report.wanted()).map_err(Error::from)
}

/// The fleet report of `targets` (sorted by name): summary, exit code, changes.
fn assemble(
    generated_at: jiff::Timestamp,
    inventory: String,
    inventory_targets: usize,
    shards: Option<Shards>,
    targets: Vec<TargetResult>,
    baseline: Option<(&FleetReport, &Path)>,
) -> FleetReport {
    let mut summary = FleetSummary {
        targets: targets.len(),
        ..FleetSummary::default()
    };
    for t in &targets {
        *match t.verdict {
            TargetVerdict::Ready => &mut summary.ready,
            TargetVerdict::NotReady => &mut summary.not_ready,
            TargetVerdict::Incomplete => &mut summary.incomplete,
            TargetVerdict::NothingToRollBack => &mut summary.nothing_to_roll_back,
            TargetVerdict::Error => &mut summary.error,
        } += 1;
    }
    let complete = shards
        .as_ref()
        .is_none_or(|s| s.covered.len() as u32 == s.count);
    let changes = baseline
        .map(|(b, _)| diff::changes(b, &targets, complete))
        .unwrap_or_default();
    FleetReport {
        schema: FLEET_SCHEMA.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        generated_at,
        inventory,
        inventory_targets,
        shards,
        exit_code: exit_code(&targets),
        summary,
        baseline: baseline.map(|(b, path)| v1::Baseline {
            file: path.display().to_string(),
            generated_at: b.generated_at,
        }),
        changes,
        targets,
        warnings: Vec::new(),
    }
}

/// 1 if any target is not ready (by its own `--fail-on`), else 3 if any is incomplete or
/// could not be judged, else 0.
fn exit_code(targets: &[TargetResult]) -> u8 {
    if targets.iter().any(|t| t.exit_code == 1) {
        1
    } else if targets.iter().any(|t| t.exit_code != 0) {
        3
    } else {
        0
    }
}

/// Reads a fleet JSON report (`--baseline`, a shard), checking its schema.
fn read_report(path: &Path) -> Result<FleetReport, Error> {
    let shown = path.display();
    let bytes = crate::base::files::read_regular(path, MAX_REPORT_BYTES)
        .map_err(|e| Error::usage(format!("{shown}: cannot read it: {e}"), None))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::usage(
            format!("{shown}:{}:{}: not JSON: {e}", e.line(), e.column()),
            Some("give a report written by ripcord fleet --format json (or --report json=FILE)"),
        )
    })?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(FLEET_SCHEMA) => {}
        Some(other) => {
            return Err(Error::usage(
                format!("{shown} is a {other} document, not a {FLEET_SCHEMA} report"),
                Some(
                    "give a report written by ripcord fleet --format json (or --report json=FILE)",
                ),
            ));
        }
        None => {
            return Err(Error::usage(
                format!("{shown} has no \"schema\": it is not a {FLEET_SCHEMA} report"),
                None,
            ));
        }
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        Error::usage(
            format!("{shown}: {} at {}", e.inner(), e.path()),
            Some("the report does not match schema/fleet.v1.json"),
        )
    })
}

/// `--shard I/N`, or `--shards N` with the index from `JOB_COMPLETION_INDEX` (a Kubernetes
/// Indexed Job's, 0-based): (1-based index, count).
fn shard(args: &FleetArgs) -> Result<Option<(u32, u32)>, Error> {
    if let Some(s) = args.shard {
        return Ok(Some((s.index, s.count)));
    }
    let Some(count) = args.shards else {
        return Ok(None);
    };
    let raw = std::env::var("JOB_COMPLETION_INDEX").map_err(|_| {
        Error::usage(
            "--shards N takes this job's index from JOB_COMPLETION_INDEX, which is not set",
            Some("run it in a Kubernetes Indexed Job, or give --shard I/N"),
        )
    })?;
    let index: u32 = raw.trim().parse().map_err(|_| {
        Error::usage(
            format!("JOB_COMPLETION_INDEX={raw:?} is not a number"),
            None,
        )
    })?;
    if index >= count {
        return Err(Error::usage(
            format!("JOB_COMPLETION_INDEX={index} is not below --shards {count}"),
            Some("set the Job's completions to the same N as --shards"),
        ));
    }
    Ok(Some((index + 1, count)))
}

/// The targets of shard `index` (1-based) of `count`: the inventory's names sorted, dealt out
/// in turn. Stable for one inventory (every pod of a job reads the same file) and balanced
/// to one target.
fn select(targets: &[TargetSpec], index: u32, count: u32) -> Vec<&TargetSpec> {
    let mut sorted: Vec<&TargetSpec> = targets.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    sorted
        .into_iter()
        .enumerate()
        .filter(|(i, _)| (*i as u64 % u64::from(count)) + 1 == u64::from(index))
        .map(|(_, t)| t)
        .collect()
}

/// Makes every credential the inventory names known to the redaction of all outputs, and
/// warns once per variable that is not set (its target then runs unauthenticated and says
/// what to set). Offline (`--facts DIR`) nothing is sent, so nothing is missing.
fn register_credentials(targets: &[TargetSpec], offline: bool) {
    let mut unset: Vec<(&str, &str)> = Vec::new();
    for target in targets {
        let scope = crate::base::secrets::Scope::new(&target.credentials, String::new());
        crate::base::secrets::register(scope.secrets());
        for (_, variable) in &target.credentials {
            if crate::base::secrets::clean(&std::env::var(variable).unwrap_or_default()).is_empty()
                && !unset.iter().any(|(v, _)| v == variable)
            {
                unset.push((variable, &target.name));
            }
        }
    }
    if offline {
        return;
    }
    for (variable, target) in unset {
        tracing::warn!(
            "{variable} (credentials of target {target}) is not set: that target runs unauthenticated"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_deal_sorted_names_in_turn_and_cover_everything_once() {
        let text: String = (0..10)
            .map(|i| format!("[[target]]\nname = \"t{i}\"\nproduct = \"ghes\"\nghes = \"https://g{i}:8443\"\nto = \"3.15.2\"\n"))
            .collect();
        let inventory = inventory::parse("f.toml", &text, &FlagDefaults::default()).expect("valid");
        let mut all: Vec<&str> = Vec::new();
        for index in 1..=3 {
            let shard = select(&inventory.targets, index, 3);
            assert!((3..=4).contains(&shard.len()));
            all.extend(shard.iter().map(|t| t.name.as_str()));
        }
        all.sort_unstable();
        let mut expected: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        expected.sort();
        assert_eq!(all, expected);
    }

    #[test]
    fn exit_code_is_not_ready_first_then_incomplete_or_error() {
        let t = |exit_code| TargetResult {
            name: "x".into(),
            product: "ghes".into(),
            mode: "preflight".into(),
            tags: vec![],
            verdict: TargetVerdict::Ready,
            exit_code,
            report: None,
            error: None,
            hint: None,
        };
        assert_eq!(exit_code(&[t(0), t(0)]), 0);
        assert_eq!(exit_code(&[t(0), t(3)]), 3);
        assert_eq!(exit_code(&[t(2), t(0)]), 3);
        assert_eq!(exit_code(&[t(3), t(1), t(2)]), 1);
    }
}
