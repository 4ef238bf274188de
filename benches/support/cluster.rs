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

/// The body of one of the scenario's Elasticsearch routes.
fn scenario_body(route_path: &str) -> Vec<u8> {
    let manifest = common::manifest(SCENARIO);
    let route = manifest
        .es
        .iter()
        .flat_map(|es| &es.routes)
        .find(|r| r.path == route_path)
        .unwrap_or_else(|| panic!("{SCENARIO} has no route {route_path}"));
    let file = route.file.as_ref().expect("route body is a file");
    std::fs::read(route.base.join(file)).expect("read scenario body")
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
    let body = listing::build(
        &scenario_body(LISTING_PATH),
        &scenario_body(REPOSITORIES_PATH),
        &spec,
    );
    let servers = common::start(SCENARIO).await;
    Mock::given(method("GET"))
        .and(path(LISTING_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .with_priority(1)
        .mount(servers.es.as_ref().expect("scenario has Elasticsearch"))
        .await;
    servers
}

/// `ripcord collect elastic` of `servers` into `output`, as the tests collect a scenario.
pub(crate) fn collect(servers: &common::Running, output: &Path) -> Command {
    let mut c = ripcord();
    c.args(common::scenario_collect_args(SCENARIO))
        .args(servers.target_args())
        .arg("--output")
        .arg(output);
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
