//! The `failed-minor-upgrade` scenario on loopback servers, with a snapshot listing of any
//! size, and the ripcord command lines run against it.

use super::listing;
use super::measure::ripcord;
use crate::common;
use std::path::Path;
use std::process::Command;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// A failed Kibana 8.17.3 → 8.18.0 upgrade: the case a rollback check exists for.
pub(crate) const SCENARIO: &str = "failed-minor-upgrade";
const LISTING_PATH: &str = "/_snapshot/_all/_all";
const REPOSITORIES_PATH: &str = "/_snapshot";

/// The scenario's pinned clock (the tests' `--now`), which the listing is generated around.
fn now() -> String {
    common::manifest(SCENARIO)
        .run
        .expect("scenario has a [run] section")
        .now
}

/// The scenario's `GET _snapshot` body: its registered repositories.
fn scenario_repositories() -> serde_json::Map<String, serde_json::Value> {
    let manifest = common::manifest(SCENARIO);
    let route = manifest
        .es
        .iter()
        .flat_map(|es| &es.routes)
        .find(|r| r.path == REPOSITORIES_PATH)
        .unwrap_or_else(|| panic!("{SCENARIO} has no route {REPOSITORIES_PATH}"));
    let file = route.file.as_ref().expect("route body is a file");
    serde_json::from_slice(&std::fs::read(route.base.join(file)).expect("read body"))
        .expect("a repository listing")
}

/// The scenario's own snapshots and the repositories that list fine. The scenario is an 8.18
/// cluster with a broken repository, so its multi-repository listing fails and each
/// repository has its own route (`/_snapshot/<name>/_all`); a route answering an error marks
/// its repository broken.
fn scenario_snapshots() -> (Vec<serde_json::Value>, Vec<String>) {
    let manifest = common::manifest(SCENARIO);
    let mut snapshots = Vec::new();
    let mut healthy = Vec::new();
    for route in manifest.es.iter().flat_map(|es| &es.routes) {
        let Some(repo) = route
            .path
            .strip_prefix("/_snapshot/")
            .and_then(|p| p.strip_suffix("/_all"))
            .filter(|r| *r != "_all")
        else {
            continue;
        };
        if route.status >= 300 {
            continue;
        }
        let file = route.file.as_ref().expect("route body is a file");
        let body: serde_json::Value =
            serde_json::from_slice(&std::fs::read(route.base.join(file)).expect("read body"))
                .expect("a snapshot listing");
        snapshots.extend(body["snapshots"].as_array().cloned().unwrap_or_default());
        healthy.push(repo.to_string());
    }
    healthy.sort();
    (snapshots, healthy)
}

/// Starts the scenario's servers (Elasticsearch and its Kibana instances, one stopped, one
/// answering 503) with the snapshot listing replaced by one of `total` snapshots carrying
/// `indices` data index names each.
///
/// `common::start` mounts the scenario as-is; the big listing is mounted over its route
/// with a higher priority, so the scenario's own loader (and its read-only guard) is reused.
pub(crate) async fn start(total: usize, indices: usize) -> common::Running {
    let spec = listing::Spec {
        total,
        indices,
        now: now().parse().expect("scenario clock is RFC 3339"),
    };
    let (own, healthy) = scenario_snapshots();
    let body = listing::build(&own, &healthy, &spec);
    // Only the readable repositories are registered, so one listing answers for all of them.
    let mut repositories = scenario_repositories();
    repositories.retain(|name, _| healthy.contains(name));
    let servers = common::start(SCENARIO).await;
    let es = servers.es.as_ref().expect("scenario has Elasticsearch");
    Mock::given(method("GET"))
        .and(path(LISTING_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .with_priority(1)
        .mount(es)
        .await;
    Mock::given(method("GET"))
        .and(path(REPOSITORIES_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(repositories))
        .with_priority(1)
        .mount(es)
        .await;
    servers
}

/// `ripcord collect elastic` of `servers` into `output` (replaced: every run writes it), as
/// the tests collect a scenario.
pub(crate) fn collect(servers: &common::Running, output: &Path) -> Command {
    let mut c = ripcord();
    c.args(common::scenario_collect_args(SCENARIO))
        .args(servers.target_args())
        .arg("--output")
        .arg(output)
        .arg("--force");
    c
}

/// `ripcord rollback elastic` evaluating the bundle at `facts`, no network.
pub(crate) fn evaluate(facts: &Path) -> Command {
    let mut c = ripcord();
    c.args(common::scenario_args(SCENARIO))
        .args(["--format", "json", "--facts"])
        .arg(facts);
    c
}

/// A live `ripcord rollback elastic`: collection and evaluation in one process.
pub(crate) fn live_rollback(servers: &common::Running) -> Command {
    let mut c = ripcord();
    c.args(common::scenario_args(SCENARIO))
        .args(["--format", "json"])
        .args(servers.target_args());
    c
}

/// How many snapshots the bundle at `path` holds (`elastic.snapshots`).
pub(crate) fn snapshots_in(path: &Path) -> usize {
    let text = std::fs::read(path).expect("read bundle");
    let bundle: serde_json::Value = serde_json::from_slice(&text).expect("bundle is JSON");
    bundle["elastic"]["snapshots"]
        .as_array()
        .map_or(0, Vec::len)
}

/// Collects `servers` into `output` once, as setup: the bundle the evaluation runs read.
/// Panics unless the collection succeeded and the bundle holds all `total` snapshots.
pub(crate) fn write_bundle(servers: &common::Running, output: &Path, total: usize) {
    let run = collect(servers, output)
        .output()
        .expect("run ripcord collect");
    assert!(
        run.status.success(),
        "collect for the bundle failed ({}): {}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let found = snapshots_in(output);
    assert_eq!(found, total, "bundle {} snapshots", output.display());
}
