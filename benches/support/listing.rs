//! A large get-snapshot body (`GET _snapshot/_all/_all`) built around a scenario's own one.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::io::Write;

/// The version the scenario's cluster ran before its failed upgrade; every generated
/// snapshot was taken on it (its Kibana indices exist since 2026-06-02).
const VERSION: &str = "8.17.3";
const VERSION_ID: i64 = 8_170_399;
/// How far back the generated snapshots reach: a retention window of about five months.
const SPAN: SignedDuration = SignedDuration::from_hours(150 * 24);
/// Generated snapshots end this long before the scenario's clock, so the scenario's own
/// snapshots stay the newest and the evaluation makes the same choice the scenario tests.
const GAP: SignedDuration = SignedDuration::from_hours(6 * 24);

/// What to generate.
pub(crate) struct Spec {
    /// Snapshots in the body, the scenario's own included.
    pub(crate) total: usize,
    /// Data index names per snapshot. They are dropped at collection (`filter_path`, or
    /// skipped when a server ignores it), so they cost transfer and parsing only.
    pub(crate) indices: usize,
    /// The scenario's pinned clock.
    pub(crate) now: Timestamp,
}

/// The scenario's snapshots with generated, older snapshots appended until the listing holds
/// `spec.total`, in the verbose shape a server that ignores `filter_path` sends. Generated
/// snapshots only use `repositories` (the ones that list fine), so the body stays consistent
/// with the `GET _snapshot` served beside it.
pub(crate) fn build(own_snapshots: &[Value], repositories: &[String], spec: &Spec) -> Vec<u8> {
    assert!(
        !repositories.is_empty(),
        "the scenario has no healthy repository"
    );
    assert!(
        spec.total >= own_snapshots.len(),
        "asked for {} snapshots, the scenario alone has {}",
        spec.total,
        own_snapshots.len()
    );
    let generated = generate(spec, spec.total - own_snapshots.len(), repositories);
    write_listing(own_snapshots.iter().cloned().chain(generated), spec)
}

/// `count` snapshots, newest first, evenly spread over [`SPAN`] ending [`GAP`] before the
/// scenario's clock, taking turns over `repos`.
fn generate<'a>(
    spec: &'a Spec,
    count: usize,
    repos: &'a [String],
) -> impl Iterator<Item = Value> + 'a {
    let newest = spec.now - GAP;
    let step = SPAN / i32::try_from(count.max(1)).expect("snapshot count fits i32");
    (0..count).map(move |i| {
        let start = newest - step * i32::try_from(i).expect("snapshot index fits i32");
        snapshot(i, &repos[i % repos.len()], start, spec.indices)
    })
}

/// The body, written one snapshot at a time: a `Value` of 200,000 snapshots would cost
/// several times the body itself. No `failures` map: since 8.15 a repository that cannot be
/// read fails the whole listing, and 9.0 removed the field.
fn write_listing(snapshots: impl Iterator<Item = Value>, spec: &Spec) -> Vec<u8> {
    let mut out = Vec::with_capacity(spec.total * (600 + spec.indices * 20));
    out.extend_from_slice(b"{\"snapshots\":[");
    for (n, snapshot) in snapshots.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, &snapshot).expect("write snapshot");
    }
    write!(out, "],\"total\":{},\"remaining\":0}}", spec.total).expect("write listing tail");
    out
}

/// One generated snapshot: mostly a successful nightly with the Kibana and security feature
/// states; every fourth a data-only one; a few PARTIAL or FAILED, as real retention windows
/// hold.
fn snapshot(i: usize, repository: &str, start: Timestamp, indices: usize) -> Value {
    let (state, shards_failed) = match i {
        i if i % 97 == 0 => ("FAILED", 10),
        i if i % 41 == 0 => ("PARTIAL", 2),
        _ => ("SUCCESS", 0),
    };
    let global = i % 4 != 3;
    let kibana_indices = [
        format!(".kibana_{VERSION}_001"),
        format!(".kibana_task_manager_{VERSION}_001"),
    ];
    let mut index_names: Vec<String> = (0..indices)
        .map(|n| format!("logs-app-{:06}", (i * indices + n) % 100_000))
        .collect();
    let feature_states = if global {
        index_names.extend(kibana_indices.iter().cloned());
        json!([
            {"feature_name": "kibana", "indices": kibana_indices},
            {"feature_name": "security", "indices": [".security-7"]},
        ])
    } else {
        json!([])
    };
    let took = SignedDuration::from_secs(60 + (i % 240) as i64);
    let end = start + took;
    json!({
        "snapshot": format!("nightly-{}-{i:06}", start.strftime("%Y.%m.%d")),
        "uuid": format!("gen{i:019}"),
        "repository": repository,
        "version_id": VERSION_ID,
        "version": VERSION,
        "indices": index_names,
        "data_streams": [],
        "include_global_state": global,
        "metadata": {"policy": "nightly-snapshots"},
        "state": state,
        "start_time": es_time(start),
        "start_time_in_millis": start.as_millisecond(),
        "end_time": es_time(end),
        "end_time_in_millis": end.as_millisecond(),
        "duration_in_millis": took.as_millis(),
        "failures": [],
        "shards": {"total": 10, "failed": shards_failed, "successful": 10 - shards_failed},
        "feature_states": feature_states,
    })
}

/// Elasticsearch's own timestamp rendering (`2026-11-20T04:00:00.000Z`).
fn es_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
