//! Runs a fleet's targets: each through the single-target pipeline, concurrently under a
//! global limit, each with its own deadline and credentials, none able to stop the others.

use super::inventory::TargetSpec;
use crate::base::secrets::Scope;
use crate::cli::CommonArgs;
use crate::judge::ruleset::RuleSet;
use crate::judge::waivers::Waiver;
use crate::model::report::fleet_v1::{TargetResult, TargetVerdict};
use crate::run::{TargetJob, TargetRun};
use futures::StreamExt as _;
use std::path::PathBuf;
use std::time::Duration;

/// What every target of one run shares.
pub(crate) struct Shared<'a> {
    /// The fleet's common flags: `now` is the fleet's one clock.
    pub(crate) common: CommonArgs,
    pub(crate) rules: &'a RuleSet,
    pub(crate) waivers: &'a [Waiver],
    /// How many targets run at once.
    pub(crate) concurrency: usize,
    /// `--bundles DIR`: each live target's facts bundle is written there as `NAME.json`.
    pub(crate) bundles: Option<PathBuf>,
    /// `--facts DIR`: each target is judged from `DIR/NAME.json` instead of collected.
    pub(crate) facts: Option<PathBuf>,
    /// Progress on stderr (a terminal, and not `--no-progress`).
    pub(crate) progress: bool,
}

/// Past a target's own `deadline` (which bounds its HTTP), how long its evaluation may still
/// take before it is given up as `error`: a backstop, never reached by a healthy run.
const DEADLINE_GRACE: Duration = Duration::from_secs(10);

/// Runs every target, at most `concurrency` at once; results in the targets' order. Problems
/// writing a bundle are returned as warnings beside them.
pub(crate) async fn run_all(
    targets: &[&TargetSpec],
    shared: &Shared<'_>,
) -> (Vec<TargetResult>, Vec<String>) {
    let progress = crate::output::progress::fleet(targets.len(), !shared.progress);
    let mut results: Vec<Option<(TargetResult, Option<String>)>> =
        (0..targets.len()).map(|_| None).collect();
    let clients = crate::collect::http::ClientCache::default();
    clients
        .run(async {
            let mut runs = futures::stream::iter(targets.iter().enumerate())
                .map(|(i, spec)| async move { (i, run_one(spec, shared).await) })
                .buffer_unordered(shared.concurrency.max(1));
            while let Some((i, result)) = runs.next().await {
                progress.done();
                results[i] = Some(result);
            }
        })
        .await;
    drop(progress);
    let mut warnings = Vec::new();
    let results = results
        .into_iter()
        .flatten()
        .map(|(result, warning)| {
            warnings.extend(warning);
            result
        })
        .collect();
    (results, warnings)
}

/// One target, start to finish: never fails, an error becomes its `error` verdict.
async fn run_one(spec: &TargetSpec, shared: &Shared<'_>) -> (TargetResult, Option<String>) {
    let mut common = shared.common.clone();
    if let Some(dir) = &shared.facts {
        common.facts = Some(dir.join(format!("{}.json", spec.name)));
    }
    let job = TargetJob {
        mode: spec.mode,
        args: spec.args.as_ref(),
        common: &common,
        connection: &spec.connection,
        rules: shared.rules,
        waivers: shared.waivers,
        name: &spec.name,
        keep_bundle: shared.bundles.is_some(),
    };
    let scope = Scope::new(&spec.credentials, spec.credentials_hint.clone());
    let limit = Duration::from_secs(spec.connection.deadline) + DEADLINE_GRACE;
    let run =
        match tokio::time::timeout(limit, scope.run(crate::run::run_target(spec.product, job)))
            .await
        {
            Ok(run) => run,
            Err(_) => TargetRun {
                report: Err(crate::run::Error::usage(
                    format!(
                        "did not finish within its deadline ({} s, plus {} s to evaluate)",
                        spec.connection.deadline,
                        DEADLINE_GRACE.as_secs()
                    ),
                    Some("raise its deadline in the inventory, or find what is slow with -v"),
                )),
                bundle: None,
            },
        };
    let warning = match (&shared.bundles, &run.bundle) {
        (Some(dir), Some(text)) => write_bundle(dir, &spec.name, text).err(),
        _ => None,
    };
    (result(spec, run.report), warning)
}

/// Writes one target's bundle as `DIR/NAME.json`, whole or not at all, redacted like every
/// output.
fn write_bundle(dir: &std::path::Path, name: &str, text: &str) -> Result<(), String> {
    let path = dir.join(format!("{name}.json"));
    crate::output::file::Destination::prepare(&path, true, "--bundles")
        .and_then(|d| d.write(text))
        .map_err(|e| {
            format!(
                "target {name}: its facts bundle could not be written to {}: {}",
                path.display(),
                crate::output::diagnostics::error_line(&e)
            )
        })
}

/// A target's entry in the fleet report.
fn result(
    spec: &TargetSpec,
    report: Result<crate::model::report::v1::Report, crate::run::Error>,
) -> TargetResult {
    let base = |verdict, exit_code| TargetResult {
        name: spec.name.clone(),
        product: spec.product.name().to_string(),
        mode: spec.mode.as_str().to_string(),
        tags: spec.tags.clone(),
        verdict,
        exit_code,
        report: None,
        error: None,
        hint: None,
    };
    match report {
        Ok(report) => {
            let mut r = base(report.verdict.into(), report.exit_code);
            r.report = Some(Box::new(report));
            r
        }
        Err(e) => {
            let mut r = base(TargetVerdict::Error, 2);
            r.error = Some(crate::output::diagnostics::error_line(&e));
            r.hint = miette::Diagnostic::help(&e).map(|h| h.to_string());
            r
        }
    }
}
