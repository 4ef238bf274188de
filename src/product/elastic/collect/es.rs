//! Elasticsearch collectors: one function per API, each turning the documented body into facts.
//!
//! Phase one sends every independent request at once. Phase two lists snapshots, which needs
//! the node versions (ES < 7.14 has no multi-repository get-snapshot, so it is asked once per
//! repository) and the repository list.

use crate::facts::CollectFailure;
use crate::fetch::{Endpoint, get_json, get_json_with_headers, get_typed, shape_failure};
use crate::http::{Credentials, ReadOnlyClient};
use crate::product::elastic::facts::{
    ClusterHealth, ClusterInfo, Deprecation, EsNode, FeatureState, KibanaIndex, Repository,
    Snapshot, SystemFeature, SystemFeatures,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const ES_CREDENTIALS: &str = "RIPCORD_ES_API_KEY, or RIPCORD_ES_USERNAME and RIPCORD_ES_PASSWORD";

/// Fields of a snapshot we keep; `filter_path` stops a cluster with tens of thousands of
/// snapshots from sending every index name of every snapshot.
const SNAPSHOT_FILTER: &str = "snapshots.snapshot,snapshots.uuid,snapshots.repository,snapshots.state,\
snapshots.version,snapshots.version_id,snapshots.include_global_state,snapshots.start_time,\
snapshots.start_time_in_millis,snapshots.end_time,snapshots.end_time_in_millis,snapshots.feature_states,\
snapshots.shards.failed,failures,next,total,remaining";

/// The endpoints, with the group they fill and the privilege a 403 means is missing.
mod endpoints {
    use super::{ES_CREDENTIALS, Endpoint};
    pub(crate) const ROOT: Endpoint<'static> = Endpoint {
        group: "es.cluster",
        path: "/",
        privilege: "monitor (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const NODES: Endpoint<'static> = Endpoint {
        group: "es.nodes",
        path: "/_nodes?filter_path=nodes.*.name,nodes.*.version,nodes.*.roles,nodes.*.ip,nodes.*.http.publish_address,nodes.*.attributes.k8s_node_name",
        privilege: "monitor (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const HEALTH: Endpoint<'static> = Endpoint {
        group: "es.health",
        path: "/_cluster/health",
        privilege: "monitor (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const REPOSITORIES: Endpoint<'static> = Endpoint {
        group: "es.repositories",
        path: "/_snapshot",
        privilege: "monitor_snapshot (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const KIBANA_INDEX_ALIASES: Endpoint<'static> = Endpoint {
        group: "es.kibana_indices",
        path: "/.kibana*/_alias?expand_wildcards=all",
        privilege: "view_index_metadata on .kibana* (allow_restricted_indices: true)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const KIBANA_ALIASES: Endpoint<'static> = Endpoint {
        group: "es.kibana_indices",
        path: "/_alias/.kibana*?expand_wildcards=all",
        privilege: "view_index_metadata on .kibana* (allow_restricted_indices: true)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const KIBANA_CREATION: Endpoint<'static> = Endpoint {
        group: "es.kibana_indices",
        path: "/.kibana*/_settings/index.creation_date?expand_wildcards=all",
        privilege: "view_index_metadata on .kibana* (allow_restricted_indices: true)",
        credentials_hint: ES_CREDENTIALS,
    };
    /// Fallback when the setting-filtered form is not answered (proxies, older versions).
    pub(crate) const KIBANA_SETTINGS: Endpoint<'static> = Endpoint {
        group: "es.kibana_indices",
        path: "/.kibana*/_settings?expand_wildcards=all&filter_path=*.settings.index.creation_date",
        privilege: "view_index_metadata on .kibana* (allow_restricted_indices: true)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const FEATURES: Endpoint<'static> = Endpoint {
        group: "es.features",
        path: "/_features",
        privilege: "monitor (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const SYSTEM_FEATURES: Endpoint<'static> = Endpoint {
        group: "es.system_features",
        path: "/_migration/system_features",
        privilege: "manage (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const DEPRECATIONS: Endpoint<'static> = Endpoint {
        group: "es.deprecations",
        path: "/_migration/deprecations",
        privilege: "manage (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
}

/// `GET /`.
pub(crate) async fn cluster(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<ClusterInfo, CollectFailure> {
    let ep = endpoints::ROOT;
    let (v, headers) = get_json_with_headers(c, base, cred, ep).await?;
    let version = v
        .pointer("/version/number")
        .and_then(Value::as_str)
        .map(str::to_string);
    if v.get("version").is_none() && v.get("cluster_name").is_none() {
        return Err(shape_failure(
            ep,
            "no `version` or `cluster_name`: is this Elasticsearch?",
        ));
    }
    Ok(ClusterInfo {
        cluster_name: str_at(&v, "/cluster_name"),
        cluster_uuid: str_at(&v, "/cluster_uuid"),
        version,
        build_type: str_at(&v, "/version/build_type"),
        cloud_cluster: headers
            .get("x-found-handling-cluster")
            .and_then(|h| h.to_str().ok())
            .map(str::to_string),
    })
}

/// `GET _nodes`: every node's name, version, roles and address, sorted by node id.
pub(crate) async fn nodes(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<Vec<EsNode>, CollectFailure> {
    let ep = endpoints::NODES;
    let v = get_json(c, base, cred, ep).await?;
    parse_nodes(&v).map_err(|e| shape_failure(ep, e))
}

/// Parses a `_nodes` body.
pub(crate) fn parse_nodes(v: &Value) -> Result<Vec<EsNode>, String> {
    let nodes = v
        .get("nodes")
        .and_then(Value::as_object)
        .ok_or("no `nodes` object")?;
    let mut out = Vec::new();
    for (id, n) in nodes {
        // A node without a version is kept: Kibana counts it as an incompatible node.
        let version = n.get("version").and_then(Value::as_str);
        out.push(EsNode {
            id: id.clone(),
            name: n
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(id)
                .to_string(),
            version: version.map(str::to_string),
            roles: n
                .get("roles")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            ip: str_at(n, "/ip"),
            publish_address: str_at(n, "/http/publish_address"),
            k8s_node_name: str_at(n, "/attributes/k8s_node_name"),
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// `GET _cluster/health`.
pub(crate) async fn health(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<ClusterHealth, CollectFailure> {
    let ep = endpoints::HEALTH;
    let v = get_json(c, base, cred, ep).await?;
    let status = str_at(&v, "/status").ok_or_else(|| shape_failure(ep, "no `status`"))?;
    Ok(ClusterHealth {
        status,
        number_of_nodes: v.get("number_of_nodes").and_then(Value::as_i64),
        unassigned_shards: v.get("unassigned_shards").and_then(Value::as_i64),
        relocating_shards: v.get("relocating_shards").and_then(Value::as_i64),
        initializing_shards: v.get("initializing_shards").and_then(Value::as_i64),
    })
}

/// `GET _snapshot`: the registered repositories, by name.
pub(crate) async fn repositories(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<Vec<Repository>, CollectFailure> {
    let ep = endpoints::REPOSITORIES;
    let v = get_json(c, base, cred, ep).await?;
    let map = v
        .as_object()
        .ok_or_else(|| shape_failure(ep, "not an object keyed by repository"))?;
    Ok(map
        .iter()
        .map(|(name, r)| Repository {
            name: name.clone(),
            kind: str_at(r, "/type"),
            settings: r
                .get("settings")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
        .collect())
}

/// Every snapshot of every repository, verbose, without index lists.
///
/// `multi_repo` (ES ≥ 7.14) asks once for all repositories; otherwise, or when that request
/// fails, once per repository, all in flight together. Per-repository failures are returned
/// beside the snapshots that could be listed; `None` means none could be listed at all.
pub(crate) async fn snapshots(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
    repositories: Option<&[Repository]>,
    multi_repo: bool,
) -> (Option<Vec<Snapshot>>, Vec<CollectFailure>) {
    let mut failures = Vec::new();
    // Kept only if the per-repository fallback cannot list anything either.
    let mut multi_failure = None;
    if multi_repo || repositories.is_none() {
        let path = format!(
            "/_snapshot/_all/_all?verbose=true&ignore_unavailable=true&filter_path={SNAPSHOT_FILTER}"
        );
        let ep = snapshot_endpoint(&path);
        match get_typed::<WireSnapshots>(c, base, cred, ep)
            .await
            .and_then(|v| parse_snapshots(v, None).map_err(|e| shape_failure(ep, e)))
        {
            Ok((snaps, repo_failures)) => {
                failures.extend(
                    repo_failures
                        .into_iter()
                        .map(|(repo, reason)| repo_failure(&path, &repo, reason)),
                );
                return (Some(sorted(snaps)), failures);
            }
            Err(f) if repositories.is_none() => return (None, vec![f]),
            Err(f) => multi_failure = Some(f),
        }
    }
    let repos = repositories.unwrap_or_default();
    let requests = repos.iter().map(|repo| async move {
        let path = format!(
            "/_snapshot/{}/_all?verbose=true&ignore_unavailable=true&filter_path={SNAPSHOT_FILTER}",
            crate::http::encode_segment(&repo.name)
        );
        let ep = snapshot_endpoint(&path);
        let result = get_typed::<WireSnapshots>(c, base, cred, ep)
            .await
            .and_then(|v| parse_snapshots(v, Some(&repo.name)).map_err(|e| shape_failure(ep, e)))
            .map_err(|mut f| {
                // A repository that cannot be read (not a permission problem): say how to check it.
                if f.status.is_some_and(|s| s >= 500) || f.status.is_none() {
                    f.hint.get_or_insert_with(|| {
                        format!(
                            "snapshots in repository {} could not be listed; check the repository with `POST _snapshot/{}/_verify`",
                            repo.name, repo.name
                        )
                    });
                }
                f
            });
        (path, result)
    });
    let mut all = Vec::new();
    let mut any_ok = repos.is_empty();
    for (path, result) in futures::future::join_all(requests).await {
        match result {
            Ok((snaps, repo_failures)) => {
                any_ok = true;
                all.extend(snaps);
                failures.extend(
                    repo_failures
                        .into_iter()
                        .map(|(repo, reason)| repo_failure(&path, &repo, reason)),
                );
            }
            Err(f) => failures.push(f),
        }
    }
    if any_ok {
        (Some(sorted(all)), failures)
    } else {
        failures.extend(multi_failure);
        (None, failures)
    }
}

fn snapshot_endpoint(path: &str) -> Endpoint<'_> {
    Endpoint {
        group: "es.snapshots",
        path,
        privilege: "monitor_snapshot (cluster)",
        credentials_hint: ES_CREDENTIALS,
    }
}

fn repo_failure(path: &str, repo: &str, reason: String) -> CollectFailure {
    CollectFailure {
        group: "es.snapshots".into(),
        endpoint: format!("GET {}", path.split('?').next().unwrap_or(path)),
        status: None,
        reason: format!("repository {repo}: {reason}"),
        hint: Some(format!(
            "snapshots in repository {repo} could not be listed; check the repository with `POST _snapshot/{repo}/_verify`"
        )),
    }
}

/// Sorts newest first, then by repository and name, and drops duplicates.
fn sorted(mut snaps: Vec<Snapshot>) -> Vec<Snapshot> {
    snaps.sort_by(|a, b| {
        b.start_time
            .cmp(&a.start_time)
            .then_with(|| a.repository.cmp(&b.repository))
            .then_with(|| a.snapshot.cmp(&b.snapshot))
    });
    let mut seen = BTreeSet::new();
    snaps.retain(|s| seen.insert((s.repository.clone(), s.snapshot.clone())));
    snaps
}

/// The most snapshots one listing may hold: past the 270,000 of the largest deployment
/// ripcord is measured on, and few enough that a server streaming snapshots without end is cut
/// off with memory to spare (each costs a few hundred bytes parsed).
const MAX_SNAPSHOTS: usize = 300_000;

/// Snapshots of a get-snapshot body, and `(repository, reason)` for each failed repository.
pub(crate) type ParsedSnapshots = (Vec<Snapshot>, Vec<(String, String)>);

/// The get-snapshot body as documented (`GetSnapshotsResponse`); unknown fields, notably the
/// per-snapshot `indices` list, are skipped without being kept.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct WireSnapshots {
    /// Bounded: see [`MAX_SNAPSHOTS`].
    #[serde(
        default,
        deserialize_with = "crate::bounded::option_vec::<_, _, MAX_SNAPSHOTS>"
    )]
    snapshots: Option<Vec<WireSnapshot>>,
    /// The short-lived 8.0-dev `responses[]` form, tolerated.
    responses: Option<Vec<WireRepoSnapshots>>,
    #[serde(default)]
    failures: BTreeMap<String, Value>,
}

#[derive(Debug, serde::Deserialize)]
struct WireRepoSnapshots {
    repository: Option<String>,
    #[serde(default)]
    snapshots: Vec<WireSnapshot>,
}

#[derive(Debug, serde::Deserialize)]
struct WireSnapshot {
    snapshot: String,
    uuid: Option<String>,
    repository: Option<String>,
    version: Option<String>,
    version_id: Option<i64>,
    include_global_state: Option<bool>,
    state: String,
    start_time: Option<String>,
    start_time_in_millis: Option<i64>,
    end_time: Option<String>,
    end_time_in_millis: Option<i64>,
    /// Missing before 7.12 (and in non-verbose listings): no feature states.
    #[serde(default)]
    feature_states: Vec<FeatureState>,
    shards: Option<WireShards>,
}

#[derive(Debug, serde::Deserialize)]
struct WireShards {
    failed: Option<i64>,
}

/// Turns a get-snapshot body into snapshots and per-repository failures. `only_repo` keeps
/// only that repository's snapshots and names it where the body does not (before 7.14).
pub(crate) fn parse_snapshots(
    body: WireSnapshots,
    only_repo: Option<&str>,
) -> Result<ParsedSnapshots, String> {
    // NOTE: `filter_path` drops empty arrays, so a repository without snapshots answers `{}`
    // (or just `total`/`remaining`): that is an empty listing, not a malformed one.
    let mut lists: Vec<(Option<String>, Vec<WireSnapshot>)> =
        vec![(None, body.snapshots.unwrap_or_default())];
    for r in body.responses.unwrap_or_default() {
        lists.push((r.repository, r.snapshots));
    }
    let mut out = Vec::new();
    for (group_repo, list) in lists {
        for s in list {
            let repository = s
                .repository
                .clone()
                .or_else(|| group_repo.clone())
                .or_else(|| only_repo.map(str::to_string))
                .unwrap_or_default();
            if only_repo.is_some_and(|r| r != repository) {
                continue;
            }
            out.push(snapshot_fact(s, repository));
        }
    }
    let failures = body
        .failures
        .into_iter()
        .map(|(repo, err)| {
            let reason = str_at(&err, "/reason")
                .or_else(|| str_at(&err, "/type"))
                .or_else(|| err.as_str().map(str::to_string))
                .unwrap_or_else(|| err.to_string());
            (repo, reason)
        })
        .collect();
    Ok((out, failures))
}

fn snapshot_fact(s: WireSnapshot, repository: String) -> Snapshot {
    let time = |ms: Option<i64>, text: &Option<String>| {
        ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
            .or_else(|| text.as_deref().and_then(|t| t.parse().ok()))
    };
    Snapshot {
        repository,
        uuid: s.uuid,
        state: s.state,
        version: s
            .version
            .map(upper_bound)
            .or_else(|| s.version_id.and_then(version_from_id)),
        include_global_state: s.include_global_state,
        // An IN_PROGRESS snapshot reports `end_time_in_millis: 0`: no end yet.
        start_time: time(s.start_time_in_millis.filter(|ms| *ms > 0), &s.start_time),
        end_time: time(s.end_time_in_millis.filter(|ms| *ms > 0), &s.end_time),
        feature_states: s.feature_states,
        shards_failed: s.shards.and_then(|x| x.failed),
        snapshot: s.snapshot,
    }
}

/// ES 8.11+ may print a release range (`8.11.0-8.11.4`) where it cannot name one release. For
/// a snapshot the upper bound is the safe reading: restoring needs a cluster at least that new.
fn upper_bound(v: String) -> String {
    match v.split_once('-') {
        Some((low, high))
            if crate::version::parse_lenient(low).is_ok()
                && high.starts_with(|c: char| c.is_ascii_digit())
                && crate::version::parse_lenient(high).is_ok() =>
        {
            high.to_string()
        }
        _ => v,
    }
}

/// `8170399` → `8.17.3`: ES's `major*1000000 + minor*10000 + revision*100 + build` ids.
fn version_from_id(id: i64) -> Option<String> {
    if id <= 0 {
        return None;
    }
    Some(format!(
        "{}.{}.{}",
        id / 1_000_000,
        (id / 10_000) % 100,
        (id / 100) % 100
    ))
}

/// The `.kibana*` indices with aliases (merged from both alias APIs) and creation dates. A
/// failure to read the creation dates is returned beside the indices: the aliases still count,
/// but the report must say why the upgrade start could not be derived.
pub(crate) async fn kibana_indices(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<(Vec<KibanaIndex>, Option<CollectFailure>), CollectFailure> {
    let (by_index, by_alias, created) = tokio::join!(
        get_json(c, base, cred, endpoints::KIBANA_INDEX_ALIASES),
        get_json(c, base, cred, endpoints::KIBANA_ALIASES),
        get_json(c, base, cred, endpoints::KIBANA_CREATION),
    );
    let mut indices: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut first_error = None;
    let mut any_ok = false;
    for result in [by_index, by_alias] {
        match result {
            Ok(v) => {
                any_ok = true;
                merge_aliases(&v, &mut indices);
            }
            Err(f) => {
                first_error.get_or_insert(f);
            }
        }
    }
    if !any_ok {
        return Err(
            first_error.unwrap_or_else(|| shape_failure(endpoints::KIBANA_ALIASES, "no answer"))
        );
    }
    let (created, created_failure) = match created {
        Ok(v) => (Some(v), None),
        Err(first) => match get_json(c, base, cred, endpoints::KIBANA_SETTINGS).await {
            Ok(v) => (Some(v), None),
            Err(_) => (None, Some(first)),
        },
    };
    let indices = indices
        .into_iter()
        .map(|(index, aliases)| {
            let created_at = created.as_ref().and_then(|c| creation_date(c, &index));
            KibanaIndex {
                index,
                aliases: aliases.into_iter().collect(),
                created_at,
            }
        })
        .collect();
    Ok((indices, created_failure))
}

/// Parses an `index → {aliases: {alias: {}}}` body into `indices`.
pub(crate) fn merge_aliases(v: &Value, indices: &mut BTreeMap<String, BTreeSet<String>>) {
    let Some(map) = v.as_object() else { return };
    for (index, body) in map {
        if !index.starts_with(".kibana") {
            continue;
        }
        let entry = indices.entry(index.clone()).or_default();
        if let Some(aliases) = body.get("aliases").and_then(Value::as_object) {
            entry.extend(aliases.keys().cloned());
        }
    }
}

/// `index.creation_date` (epoch millis as a string) from a `_settings` body, nested or flat.
fn creation_date(v: &Value, index: &str) -> Option<jiff::Timestamp> {
    let settings = v.get(index)?.get("settings")?;
    let raw = settings
        .pointer("/index/creation_date")
        .or_else(|| settings.get("index.creation_date"))?;
    let ms = raw
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .or_else(|| raw.as_i64())?;
    jiff::Timestamp::from_millisecond(ms).ok()
}

/// `GET _features`: the feature names whose state a snapshot can hold.
pub(crate) async fn features(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<Vec<String>, CollectFailure> {
    let ep = endpoints::FEATURES;
    let v = get_json(c, base, cred, ep).await?;
    let list = v
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| shape_failure(ep, "no `features` array"))?;
    let mut names: Vec<String> = list.iter().filter_map(|f| str_at(f, "/name")).collect();
    names.sort();
    Ok(names)
}

/// `GET _migration/system_features`.
pub(crate) async fn system_features(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<SystemFeatures, CollectFailure> {
    let ep = endpoints::SYSTEM_FEATURES;
    let v = get_json(c, base, cred, ep).await?;
    let migration_status = str_at(&v, "/migration_status")
        .ok_or_else(|| shape_failure(ep, "no `migration_status`"))?;
    let features = v
        .get("features")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|f| {
                    Some(SystemFeature {
                        feature_name: str_at(f, "/feature_name")?,
                        migration_status: str_at(f, "/migration_status")?,
                        minimum_index_version: str_at(f, "/minimum_index_version"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(SystemFeatures {
        migration_status,
        features,
    })
}

/// `GET _migration/deprecations`, flattened: every item with its area and resource.
pub(crate) async fn deprecations(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<Vec<Deprecation>, CollectFailure> {
    let ep = endpoints::DEPRECATIONS;
    let v = get_json(c, base, cred, ep).await?;
    let map = v
        .as_object()
        .ok_or_else(|| shape_failure(ep, "not an object"))?;
    Ok(parse_deprecations(map))
}

/// Flattens the deprecation body; list areas have no resource, keyed areas name theirs.
pub(crate) fn parse_deprecations(map: &serde_json::Map<String, Value>) -> Vec<Deprecation> {
    let mut out = Vec::new();
    for (area, body) in map {
        match body {
            Value::Array(items) => {
                out.extend(items.iter().filter_map(|d| deprecation(area, None, d)))
            }
            Value::Object(keyed) => {
                for (resource, items) in keyed {
                    if let Some(items) = items.as_array() {
                        out.extend(
                            items
                                .iter()
                                .filter_map(|d| deprecation(area, Some(resource), d)),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn deprecation(area: &str, resource: Option<&String>, d: &Value) -> Option<Deprecation> {
    Some(Deprecation {
        area: area.to_string(),
        resource: resource.cloned(),
        level: str_at(d, "/level")?,
        message: str_at(d, "/message").unwrap_or_default(),
        url: str_at(d, "/url"),
    })
}

fn str_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_version_ranges_read_as_their_upper_bound() {
        assert_eq!(upper_bound("8.11.0-8.11.4".into()), "8.11.4");
        assert_eq!(upper_bound("8.18.0-SNAPSHOT".into()), "8.18.0-SNAPSHOT");
        assert_eq!(upper_bound("8.17.3".into()), "8.17.3");
    }

    #[test]
    fn documented_alias_body_merges() {
        let text = include_str!(
            "../../../../fixtures/http/failed-minor-upgrade/es/kibana-index-aliases.json"
        );
        let v: Value = serde_json::from_str(text).unwrap();
        let mut indices = BTreeMap::new();
        merge_aliases(&v, &mut indices);
        assert!(indices[".kibana_task_manager_8.17.3_001"].contains(".kibana_task_manager_8.18.0"));
        assert!(indices[".kibana_8.18.0_reindex_temp"].is_empty());
    }

    #[test]
    fn version_ids() {
        assert_eq!(version_from_id(8170399).as_deref(), Some("8.17.3"));
        assert_eq!(version_from_id(7100299).as_deref(), Some("7.10.2"));
    }

    #[test]
    fn snapshots_without_repository_take_the_requested_one() {
        let v = serde_json::json!({"snapshots":[{"snapshot":"s1","state":"SUCCESS","version":"7.10.2","start_time_in_millis":1}]});
        let (s, _) = parse_snapshots(serde_json::from_value(v).unwrap(), Some("repo1")).unwrap();
        assert_eq!(s[0].repository, "repo1");
        assert!(s[0].feature_states.is_empty());
    }
}
