//! What a Kibana rollback loses, counted read-only: the user-facing saved objects changed after
//! the snapshot's start, per type.
//!
//! Through Kibana when an instance answers: `GET /api/saved_objects/_find?per_page=0&
//! namespaces=*&type=T&filter=T.updated_at > "SINCE"` (KQL on the root `updated_at`, every
//! space), and alerting rules (a hidden type) through `GET [/s/SPACE]/api/alerting/rules/_find?
//! per_page=0&filter=alert.attributes.updatedAt > "SINCE"` per space (`GET /api/spaces/space`),
//! on the rule's own `updatedAt`, since its root `updated_at` moves on every run. When Kibana
//! is down (the usual failed-migration case): the same counts from Elasticsearch, `GET
//! /<old version aliases>/_count?q=…`, which needs `read` on the `.kibana*` system indices
//! with `allow_restricted_indices: true`.

use crate::collect::fetch::{Endpoint, get_typed};
use crate::collect::http::{Credentials, ReadOnlyClient, encode_segment};
use crate::model::facts::CollectFailure;
use crate::product::elastic::facts::{DataLossFacts, KibanaIndex, KibanaInstance};
use jiff::Timestamp;
use std::collections::BTreeMap;

/// The user-facing saved-object types counted (not tasks, telemetry, usage counters, config).
pub(crate) const TYPES: &[&str] = &[
    "dashboard",
    "visualization",
    "lens",
    "search",
    "index-pattern",
    "map",
    "canvas-workpad",
    "tag",
    "query",
];

/// What no count can show.
fn not_counted() -> Vec<String> {
    vec![
        "deletions (a deleted object leaves nothing to count)".into(),
        "connectors and cases (hidden types no read API counts by time)".into(),
        "task and alerting state (rebuilt by Kibana)".into(),
    ]
}

const GROUP: &str = "kibana.data_loss";
const KIBANA_HINT: &str = "RIPCORD_KIBANA_API_KEY, or RIPCORD_KIBANA_USERNAME and RIPCORD_KIBANA_PASSWORD (default: the ES credentials)";
const ES_HINT: &str = "RIPCORD_ES_API_KEY, or RIPCORD_ES_USERNAME and RIPCORD_ES_PASSWORD";
const RESTRICTED: &str =
    "read on the .kibana* indices with allow_restricted_indices: true (they are system indices)";

#[derive(serde::Deserialize)]
struct Total {
    total: u64,
}

#[derive(serde::Deserialize)]
struct Count {
    count: u64,
}

#[derive(serde::Deserialize)]
struct Space {
    id: String,
}

/// KQL's quoted date: `"2026-11-20T01:30:00Z"`.
fn kql_time(since: Timestamp) -> String {
    format!("\"{since}\"")
}

/// Counts through the first Kibana instance that answers, else through Elasticsearch's old
/// version aliases; failures are returned for the bundle.
pub(crate) async fn count(
    client: &ReadOnlyClient,
    since: Timestamp,
    kibana: &[KibanaInstance],
    kibana_credentials: &Credentials,
    es: Option<&str>,
    es_credentials: &Credentials,
    old_aliases: Vec<String>,
) -> (DataLossFacts, Vec<CollectFailure>) {
    if let Some(instance) = kibana
        .iter()
        .find(|k| k.state == "running" && k.http_status == Some(200))
    {
        return through_kibana(client, since, &instance.url, kibana_credentials).await;
    }
    match es {
        Some(base) if !old_aliases.is_empty() => {
            through_elasticsearch(client, since, base, es_credentials, &old_aliases).await
        }
        _ => (
            DataLossFacts {
                since,
                unknown: Some(
                    "no Kibana instance answered and no old version alias of the saved-object indices was found in Elasticsearch".into(),
                ),
                ..DataLossFacts::new(since, "none")
            },
            Vec::new(),
        ),
    }
}

async fn through_kibana(
    client: &ReadOnlyClient,
    since: Timestamp,
    url: &str,
    cred: &Credentials,
) -> (DataLossFacts, Vec<CollectFailure>) {
    let at = kql_time(since);
    let paths: Vec<(String, String)> = TYPES
        .iter()
        .map(|t| {
            let filter = encode_segment(&format!("{t}.updated_at > {at}"));
            (
                t.to_string(),
                format!(
                    "/api/saved_objects/_find?per_page=0&namespaces=*&type={t}&filter={filter}"
                ),
            )
        })
        .collect();
    fn endpoint(path: &str) -> Endpoint<'_> {
        Endpoint {
            group: GROUP,
            path,
            privilege: "read on the saved-object types counted (a Kibana role with read on every space)",
            credentials_hint: KIBANA_HINT,
        }
    }
    let mut facts = DataLossFacts::new(since, "kibana");
    let mut failures = Vec::new();
    let finds = futures::future::join_all(paths.iter().map(|(t, p)| async move {
        (
            t.clone(),
            get_typed::<Total>(client, url, cred, endpoint(p)).await,
        )
    }));
    // Spaces: rules are found per space; without the spaces plugin there is the default one.
    let spaces = async {
        match get_typed::<Vec<Space>>(client, url, cred, endpoint("/api/spaces/space")).await {
            Ok(list) => list.into_iter().map(|s| s.id).collect::<Vec<_>>(),
            Err(_) => vec!["default".to_string()],
        }
    };
    let (finds, spaces) = tokio::join!(finds, spaces);
    for (t, result) in finds {
        match result {
            Ok(total) => {
                facts.counts.insert(t, total.total);
            }
            Err(f) => {
                facts.not_counted.push(format!("{t} ({})", f.reason));
                failures.push(f);
            }
        }
    }
    let filter = encode_segment(&format!("alert.attributes.updatedAt > {at}"));
    let rule_paths: Vec<String> = spaces
        .iter()
        .map(|space| {
            let prefix = if space == "default" {
                String::new()
            } else {
                format!("/s/{}", encode_segment(space))
            };
            format!("{prefix}/api/alerting/rules/_find?per_page=0&filter={filter}")
        })
        .collect();
    let rules = futures::future::join_all(
        rule_paths
            .iter()
            .map(|path| get_typed::<Total>(client, url, cred, endpoint(path))),
    )
    .await;
    let mut alerts = 0;
    let mut all = true;
    for r in rules {
        match r {
            Ok(t) => alerts += t.total,
            Err(f) => {
                all = false;
                facts
                    .not_counted
                    .push(format!("alerting rules ({})", f.reason));
                failures.push(f);
            }
        }
    }
    if all {
        facts.counts.insert("alert".into(), alerts);
    }
    (facts, failures)
}

async fn through_elasticsearch(
    client: &ReadOnlyClient,
    since: Timestamp,
    base: &str,
    cred: &Credentials,
    aliases: &[String],
) -> (DataLossFacts, Vec<CollectFailure>) {
    let indices = aliases
        .iter()
        .map(|a| encode_segment(a))
        .collect::<Vec<_>>()
        .join(",");
    let range = format!("{{\"{since}\" TO *}}");
    let queries: Vec<(String, String)> = TYPES
        .iter()
        .map(|t| {
            (
                t.to_string(),
                format!("type:\"{t}\" AND updated_at:{range}"),
            )
        })
        .chain([(
            "alert".to_string(),
            format!("type:\"alert\" AND alert.updatedAt:{range}"),
        )])
        .collect();
    let mut facts = DataLossFacts::new(since, "elasticsearch");
    facts.indices = aliases.to_vec();
    let mut failures = Vec::new();
    let paths: Vec<(String, String)> = queries
        .iter()
        .map(|(t, q)| {
            (
                t.clone(),
                format!(
                    "/{indices}/_count?ignore_unavailable=true&q={}",
                    encode_segment(q)
                ),
            )
        })
        .collect();
    let counts = futures::future::join_all(paths.iter().map(|(t, path)| async move {
        let ep = Endpoint {
            group: GROUP,
            path,
            privilege: RESTRICTED,
            credentials_hint: ES_HINT,
        };
        (t.clone(), get_typed::<Count>(client, base, cred, ep).await)
    }))
    .await;
    for (t, r) in counts {
        match r {
            Ok(c) => {
                facts.counts.insert(t, c.count);
            }
            Err(mut f) => {
                if f.status == Some(403) {
                    f.hint = Some(format!("counting needs {RESTRICTED}"));
                }
                facts.not_counted.push(format!("{t} ({})", f.reason));
                failures.push(f);
            }
        }
    }
    (facts, failures)
}

/// The old version's aliases of the saved-object indices (`.kibana_8.17.3`,
/// `.kibana_analytics_8.17.3`, …), task manager's left out.
pub(crate) fn old_aliases(indices: &[KibanaIndex], from: &str) -> Vec<String> {
    let suffix = format!("_{from}");
    let mut out: Vec<String> = indices
        .iter()
        .flat_map(|i| i.aliases.iter())
        .filter(|a| a.ends_with(&suffix) && !a.starts_with(".kibana_task_manager"))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

impl DataLossFacts {
    pub(crate) fn new(since: Timestamp, source: &str) -> Self {
        Self {
            since,
            source: source.to_string(),
            counts: BTreeMap::new(),
            not_counted: not_counted(),
            indices: Vec::new(),
            unknown: None,
        }
    }
}
