//! Elasticsearch collectors: one function per API, each turning the documented body into facts.
//!
//! Phase one sends every independent request at once. Phase two lists snapshots, which needs
//! the node versions (ES < 7.14 has no multi-repository get-snapshot, so it is asked once per
//! repository) and the repository list.

use crate::collect::fetch::{Endpoint, get_streamed, get_typed, shape_failure};
use crate::collect::http::{Credentials, ReadOnlyClient};
use crate::collect::wire::{
    FromJson, Int, Keep, List, Object, Present, RawObject, Text, wire_object,
};
use crate::model::facts::CollectFailure;
use crate::product::elastic::facts::{
    ClusterHealth, ClusterInfo, Deprecation, EsNode, FeatureState, KibanaIndex, Repository,
    Snapshot, SystemFeature, SystemFeatures,
};
use indexmap::IndexMap;
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

wire_object! {
    /// The root endpoint's body (`GET /`, the "info" API).
    struct WireRoot {
        /// Present (whatever its value) on anything that is Elasticsearch.
        version: Present<WireRootVersion>,
        /// Present (whatever its value) on anything that is Elasticsearch.
        cluster_name: Present<Text>,
        cluster_uuid: Text,
    }
}

wire_object! {
    /// `version` of the root endpoint's body (`GET /`).
    struct WireRootVersion {
        number: Text,
        build_type: Text,
    }
}

/// `GET /`.
pub(crate) async fn cluster(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<ClusterInfo, CollectFailure> {
    let ep = endpoints::ROOT;
    let (v, headers) = get_streamed::<WireRoot>(c, base, cred, ep).await?;
    if !v.version.present && !v.cluster_name.present {
        return Err(shape_failure(
            ep,
            "no `version` or `cluster_name`: is this Elasticsearch?",
        ));
    }
    Ok(ClusterInfo {
        cluster_name: v.cluster_name.value.0,
        cluster_uuid: v.cluster_uuid.0,
        version: v.version.value.number.0,
        build_type: v.version.value.build_type.0,
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
    let v = get_typed::<WireNodes>(c, base, cred, ep).await?;
    parse_nodes(v).map_err(|e| shape_failure(ep, e))
}

wire_object! {
    /// The nodes info body (`GET _nodes`, `NodesInfoResponse`), as filtered by
    /// [`endpoints::NODES`]: node id → node.
    pub(crate) struct WireNodes {
        nodes: Object<WireNode>,
    }
}

wire_object! {
    /// One node of the nodes info body (`GET _nodes`).
    pub(crate) struct WireNode {
        name: Text,
        version: Text,
        roles: List<Text>,
        ip: Text,
        http: WireNodeHttp,
        attributes: WireNodeAttributes,
    }
}

wire_object! {
    /// `http` of a node of the nodes info body (`GET _nodes`).
    pub(crate) struct WireNodeHttp {
        publish_address: Text,
    }
}

wire_object! {
    /// `attributes` of a node of the nodes info body (`GET _nodes`).
    pub(crate) struct WireNodeAttributes {
        k8s_node_name: Text,
    }
}

/// Parses a `_nodes` body.
pub(crate) fn parse_nodes(v: WireNodes) -> Result<Vec<EsNode>, String> {
    let nodes = v.nodes.0.ok_or("no `nodes` object")?;
    let mut out = Vec::new();
    for (id, n) in nodes {
        // A node without a version is kept: Kibana counts it as an incompatible node.
        out.push(EsNode {
            name: n.name.0.unwrap_or_else(|| id.clone()),
            id,
            version: n.version.0,
            roles: n
                .roles
                .0
                .map(|r| r.into_iter().filter_map(|t| t.0).collect())
                .unwrap_or_default(),
            ip: n.ip.0,
            publish_address: n.http.publish_address.0,
            k8s_node_name: n.attributes.k8s_node_name.0,
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
    let v = get_typed::<WireHealth>(c, base, cred, ep).await?;
    let status = v.status.0.ok_or_else(|| shape_failure(ep, "no `status`"))?;
    Ok(ClusterHealth {
        status,
        number_of_nodes: v.number_of_nodes.0,
        unassigned_shards: v.unassigned_shards.0,
        relocating_shards: v.relocating_shards.0,
        initializing_shards: v.initializing_shards.0,
    })
}

wire_object! {
    /// The cluster health body (`GET _cluster/health`, `ClusterHealthResponse`).
    struct WireHealth {
        status: Text,
        number_of_nodes: Int,
        unassigned_shards: Int,
        relocating_shards: Int,
        initializing_shards: Int,
    }
}

/// `GET _snapshot`: the registered repositories, by name.
pub(crate) async fn repositories(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<Vec<Repository>, CollectFailure> {
    let ep = endpoints::REPOSITORIES;
    let v = get_typed::<Object<WireRepository>>(c, base, cred, ep).await?;
    let map =
        v.0.ok_or_else(|| shape_failure(ep, "not an object keyed by repository"))?;
    // In the body's order, as the repositories were listed.
    Ok(map
        .into_iter()
        .map(|(name, r)| Repository {
            name,
            kind: r.kind.0,
            settings: r.settings.0,
        })
        .collect())
}

wire_object! {
    /// One repository of the get-repository body (`GET _snapshot`, `GetRepositoriesResponse`:
    /// repository name → repository).
    struct WireRepository {
        kind("type"): Text,
        /// Kept as JSON: the settings are a fact (see [`Repository::settings`]).
        settings: RawObject,
    }
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
            crate::collect::http::encode_segment(&repo.name)
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

/// Sorts newest first, then by repository and name, and drops duplicates (the newest of
/// each). Duplicates are found on a sort by name, so no name is copied: a listing of 270,000
/// snapshots is sorted in place.
fn sorted(mut snaps: Vec<Snapshot>) -> Vec<Snapshot> {
    snaps.sort_unstable_by(|a, b| {
        a.repository
            .cmp(&b.repository)
            .then_with(|| a.snapshot.cmp(&b.snapshot))
            .then_with(|| b.start_time.cmp(&a.start_time))
    });
    snaps.dedup_by(|later, first| {
        later.repository == first.repository && later.snapshot == first.snapshot
    });
    snaps.sort_unstable_by(|a, b| {
        b.start_time
            .cmp(&a.start_time)
            .then_with(|| a.repository.cmp(&b.repository))
            .then_with(|| a.snapshot.cmp(&b.snapshot))
    });
    snaps
}

/// The most snapshots one listing may hold: past the 270,000 of the largest deployment
/// ripcord is measured on, and few enough that a server streaming snapshots without end is cut
/// off with memory to spare (each costs a few hundred bytes parsed).
const MAX_SNAPSHOTS: usize = 300_000;

/// Snapshots of a get-snapshot body, and `(repository, reason)` for each failed repository.
pub(crate) type ParsedSnapshots = (Vec<Snapshot>, Vec<(String, String)>);

/// The get-snapshot body as documented (`GetSnapshotsResponse`); unknown fields, notably the
/// per-snapshot `indices` list, are skipped without being kept. Each snapshot becomes its
/// fact as it is read, so a listing is in memory once, in its smallest form.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct WireSnapshots {
    /// Bounded: see [`MAX_SNAPSHOTS`].
    #[serde(
        default,
        deserialize_with = "crate::base::bounded::option_vec_of::<_, WireSnapshot, _, MAX_SNAPSHOTS>"
    )]
    snapshots: Option<Vec<Snapshot>>,
    /// The short-lived 8.0-dev `responses[]` form, tolerated.
    responses: Option<Vec<WireRepoSnapshots>>,
    #[serde(default)]
    failures: BTreeMap<String, WireRepoFailure>,
}

/// A failed repository of the get-snapshot body (`failures`, repository → error): an error
/// object (`type`, `reason`, …) or, from some versions and proxies, a plain string.
#[derive(Debug)]
enum WireRepoFailure {
    Fields(WireRepoFailureFields),
    Text(String),
    /// Neither: only its JSON kind (or the scalar itself) is kept, to name it.
    Other(String),
}

impl Default for WireRepoFailure {
    fn default() -> Self {
        WireRepoFailure::Other("null".into())
    }
}

impl FromJson for WireRepoFailure {
    fn from_text(text: &str) -> Self {
        WireRepoFailure::Text(text.to_string())
    }
    fn from_u64(n: u64) -> Self {
        WireRepoFailure::Other(n.to_string())
    }
    fn from_i64(n: i64) -> Self {
        WireRepoFailure::Other(n.to_string())
    }
    fn from_f64(n: f64) -> Self {
        WireRepoFailure::Other(
            serde_json::Number::from_f64(n).map_or_else(|| "null".into(), |n| n.to_string()),
        )
    }
    fn from_bool(b: bool) -> Self {
        WireRepoFailure::Other(b.to_string())
    }
    fn from_seq<'de, A: serde::de::SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        crate::collect::wire::skip_seq(seq)?;
        Ok(WireRepoFailure::Other("an array".into()))
    }
    fn from_map<'de, A: serde::de::MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        WireRepoFailureFields::from_map(map).map(WireRepoFailure::Fields)
    }
}

impl<'de> serde::Deserialize<'de> for WireRepoFailure {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::collect::wire::deserialize_any(deserializer)
    }
}

impl WireRepoFailure {
    /// The reason, else the type, else the text; else what the value was.
    fn reason(self) -> String {
        match self {
            WireRepoFailure::Fields(f) => f
                .reason
                .0
                .or(f.kind.0)
                .unwrap_or_else(|| "an object without `reason` or `type`".into()),
            WireRepoFailure::Text(text) => text,
            WireRepoFailure::Other(what) => what,
        }
    }
}

wire_object! {
    /// The error object of a failed repository in the get-snapshot body (`failures`).
    struct WireRepoFailureFields {
        kind("type"): Text,
        reason: Text,
    }
}

#[derive(Debug, serde::Deserialize)]
struct WireRepoSnapshots {
    repository: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::base::bounded::vec_of::<_, WireSnapshot, _, MAX_SNAPSHOTS>"
    )]
    snapshots: Vec<Snapshot>,
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
    #[serde(
        default,
        deserialize_with = "crate::base::bounded::vec_of::<_, WireFeatureState, _, MAX_FEATURE_STATES>"
    )]
    feature_states: Vec<FeatureState>,
    shards: Option<WireShards>,
}

/// The most feature states one snapshot may name (Elasticsearch has a few dozen features),
/// and the most indices one feature state may list.
const MAX_FEATURE_STATES: usize = 1_000;
const MAX_FEATURE_INDICES: usize = 100_000;

/// A feature state of a snapshot (`feature_states[]`), its lists read in chunks like every
/// long list (see [`crate::base::bounded`]).
#[derive(Debug, serde::Deserialize)]
struct WireFeatureState {
    feature_name: String,
    #[serde(
        default,
        deserialize_with = "crate::base::bounded::vec_of::<_, String, _, MAX_FEATURE_INDICES>"
    )]
    indices: Vec<String>,
}

impl From<WireFeatureState> for FeatureState {
    fn from(f: WireFeatureState) -> Self {
        FeatureState {
            feature_name: f.feature_name,
            indices: f.indices,
        }
    }
}

#[derive(Debug, serde::Deserialize)]
struct WireShards {
    failed: Option<i64>,
}

/// A snapshot's fact, its repository empty where the body does not name it (filled in by
/// [`parse_snapshots`]).
impl From<WireSnapshot> for Snapshot {
    fn from(s: WireSnapshot) -> Self {
        let time = |ms: Option<i64>, text: Option<String>| {
            ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                .or_else(|| text.as_deref().and_then(|t| t.parse().ok()))
        };
        Snapshot {
            repository: s.repository.unwrap_or_default(),
            uuid: s.uuid,
            state: s.state,
            version: s
                .version
                .map(upper_bound)
                .or_else(|| s.version_id.and_then(version_from_id)),
            include_global_state: s.include_global_state,
            // An IN_PROGRESS snapshot reports `end_time_in_millis: 0`: no end yet.
            start_time: time(s.start_time_in_millis.filter(|ms| *ms > 0), s.start_time),
            end_time: time(s.end_time_in_millis.filter(|ms| *ms > 0), s.end_time),
            feature_states: s.feature_states,
            shards_failed: s.shards.and_then(|x| x.failed),
            snapshot: s.snapshot,
        }
    }
}

/// Turns a get-snapshot body into snapshots and per-repository failures. `only_repo` keeps
/// only that repository's snapshots and names it where the body does not (before 7.14).
pub(crate) fn parse_snapshots(
    body: WireSnapshots,
    only_repo: Option<&str>,
) -> Result<ParsedSnapshots, String> {
    // NOTE: `filter_path` drops empty arrays, so a repository without snapshots answers `{}`
    // (or just `total`/`remaining`): that is an empty listing, not a malformed one.
    let mut out = body.snapshots.unwrap_or_default();
    let named = |s: &mut Snapshot, group_repo: Option<&str>| {
        if s.repository.is_empty()
            && let Some(repo) = group_repo.or(only_repo)
        {
            s.repository = repo.to_string();
        }
    };
    out.iter_mut().for_each(|s| named(s, None));
    for r in body.responses.unwrap_or_default() {
        let mut list = r.snapshots;
        list.iter_mut()
            .for_each(|s| named(s, r.repository.as_deref()));
        out.append(&mut list);
    }
    if let Some(repo) = only_repo {
        out.retain(|s| s.repository == repo);
    }
    let failures = body
        .failures
        .into_iter()
        .map(|(repo, err)| (repo, err.reason()))
        .collect();
    Ok((out, failures))
}

/// ES 8.11+ may print a release range (`8.11.0-8.11.4`) where it cannot name one release. For
/// a snapshot the upper bound is the safe reading: restoring needs a cluster at least that new.
fn upper_bound(v: String) -> String {
    match v.split_once('-') {
        Some((low, high))
            if crate::base::version::parse_lenient(low).is_ok()
                && high.starts_with(|c: char| c.is_ascii_digit())
                && crate::base::version::parse_lenient(high).is_ok() =>
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
        get_typed::<AliasBody>(c, base, cred, endpoints::KIBANA_INDEX_ALIASES),
        get_typed::<AliasBody>(c, base, cred, endpoints::KIBANA_ALIASES),
        get_typed::<SettingsBody>(c, base, cred, endpoints::KIBANA_CREATION),
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
        Err(first) => {
            match get_typed::<SettingsBody>(c, base, cred, endpoints::KIBANA_SETTINGS).await {
                Ok(v) => (Some(v), None),
                Err(_) => (None, Some(first)),
            }
        }
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

/// The get-alias body (`GET <index>/_alias`, `GET _alias/<alias>`): index → its aliases.
pub(crate) type AliasBody = Object<WireIndexAliases>;

wire_object! {
    /// One index of the get-alias body (`GET _alias`): `{aliases: {alias: {…}}}`, the alias
    /// definitions skipped.
    pub(crate) struct WireIndexAliases {
        aliases: Object<crate::collect::wire::Skip>,
    }
}

/// Parses an `index → {aliases: {alias: {}}}` body into `indices`.
pub(crate) fn merge_aliases(v: &AliasBody, indices: &mut BTreeMap<String, BTreeSet<String>>) {
    let Some(map) = &v.0 else { return };
    for (index, body) in map {
        if !index.starts_with(".kibana") {
            continue;
        }
        let entry = indices.entry(index.clone()).or_default();
        if let Some(aliases) = &body.aliases.0 {
            entry.extend(aliases.keys().cloned());
        }
    }
}

/// The get-settings body (`GET <index>/_settings`): index → its settings.
type SettingsBody = Object<WireIndexSettings>;

wire_object! {
    /// One index of the get-settings body (`GET <index>/_settings`).
    struct WireIndexSettings {
        settings: WireSettings,
    }
}

wire_object! {
    /// `settings` of an index in the get-settings body, nested (`index.creation_date`) or
    /// flat (`"index.creation_date"`, `flat_settings=true` and some proxies).
    struct WireSettings {
        index: WireSettingsIndex,
        flat_creation_date("index.creation_date"): Present<EpochMillis>,
    }
}

wire_object! {
    /// `settings.index` of an index in the get-settings body.
    struct WireSettingsIndex {
        creation_date: Present<EpochMillis>,
    }
}

/// Epoch milliseconds, as a string of digits (what Elasticsearch sends) or a number that fits
/// an `i64`; anything else reads as `None`.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct EpochMillis(Option<i64>);

impl FromJson for EpochMillis {
    fn from_text(text: &str) -> Self {
        EpochMillis(text.parse().ok())
    }
    fn from_u64(n: u64) -> Self {
        EpochMillis(i64::try_from(n).ok())
    }
    fn from_i64(n: i64) -> Self {
        EpochMillis(Some(n))
    }
}

impl<'de> serde::Deserialize<'de> for EpochMillis {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::collect::wire::deserialize_any(deserializer)
    }
}

/// `index.creation_date` (epoch millis as a string) from a `_settings` body, nested or flat.
fn creation_date(v: &SettingsBody, index: &str) -> Option<jiff::Timestamp> {
    let settings = &v.0.as_ref()?.get(index)?.settings;
    // The nested form wins when present, whatever its value.
    let raw = if settings.index.creation_date.present {
        &settings.index.creation_date
    } else if settings.flat_creation_date.present {
        &settings.flat_creation_date
    } else {
        return None;
    };
    jiff::Timestamp::from_millisecond(raw.value.0?).ok()
}

/// `GET _features`: the feature names whose state a snapshot can hold.
pub(crate) async fn features(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<Vec<String>, CollectFailure> {
    let ep = endpoints::FEATURES;
    let v = get_typed::<WireFeatures>(c, base, cred, ep).await?;
    let list = v
        .features
        .0
        .ok_or_else(|| shape_failure(ep, "no `features` array"))?;
    let mut names: Vec<String> = list.into_iter().filter_map(|f| f.name.0).collect();
    names.sort();
    Ok(names)
}

wire_object! {
    /// The get-features body (`GET _features`, `GetFeaturesResponse`).
    struct WireFeatures {
        features: List<WireFeature>,
    }
}

wire_object! {
    /// One feature of the get-features body (`GET _features`).
    struct WireFeature {
        name: Text,
    }
}

impl Keep for WireFeature {
    fn keep(&self) -> bool {
        self.name.0.is_some()
    }
}

/// `GET _migration/system_features`.
pub(crate) async fn system_features(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<SystemFeatures, CollectFailure> {
    let ep = endpoints::SYSTEM_FEATURES;
    let v = get_typed::<WireSystemFeatures>(c, base, cred, ep).await?;
    let migration_status = v
        .migration_status
        .0
        .ok_or_else(|| shape_failure(ep, "no `migration_status`"))?;
    let features = v
        .features
        .0
        .map(|list| {
            list.into_iter()
                .filter_map(|f| {
                    Some(SystemFeature {
                        feature_name: f.feature_name.0?,
                        migration_status: f.migration_status.0?,
                        minimum_index_version: f.minimum_index_version.0,
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

wire_object! {
    /// The get-feature-upgrade-status body (`GET _migration/system_features`,
    /// `GetFeatureUpgradeStatusResponse`).
    struct WireSystemFeatures {
        migration_status: Text,
        features: List<WireSystemFeature>,
    }
}

wire_object! {
    /// One feature of the get-feature-upgrade-status body (`GET _migration/system_features`).
    struct WireSystemFeature {
        feature_name: Text,
        migration_status: Text,
        minimum_index_version: Text,
    }
}

impl Keep for WireSystemFeature {
    fn keep(&self) -> bool {
        self.feature_name.0.is_some() && self.migration_status.0.is_some()
    }
}

/// `GET _migration/deprecations`, flattened: every item with its area and resource.
pub(crate) async fn deprecations(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<Vec<Deprecation>, CollectFailure> {
    let ep = endpoints::DEPRECATIONS;
    let v = get_typed::<Object<WireDeprecationArea>>(c, base, cred, ep).await?;
    let map = v.0.ok_or_else(|| shape_failure(ep, "not an object"))?;
    Ok(parse_deprecations(map))
}

/// One area of the deprecation info body (`GET _migration/deprecations`,
/// `DeprecationInfoAction.Response`: area → items): a list of items (`cluster_settings`,
/// `node_settings`, …) or resource → list of items (`index_settings`, `templates`, …). Any
/// other kind has no items.
#[derive(Debug, Default)]
pub(crate) enum WireDeprecationArea {
    List(Vec<WireDeprecation>),
    /// Resources whose value is not a list are kept, without items.
    Keyed(IndexMap<String, List<WireDeprecation>>),
    #[default]
    Other,
}

impl FromJson for WireDeprecationArea {
    fn from_seq<'de, A: serde::de::SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        let items = List::<WireDeprecation>::from_seq(seq)?;
        Ok(WireDeprecationArea::List(items.0.unwrap_or_default()))
    }
    fn from_map<'de, A: serde::de::MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let keyed = Object::<List<WireDeprecation>>::from_map(map)?;
        Ok(WireDeprecationArea::Keyed(keyed.0.unwrap_or_default()))
    }
}

impl<'de> serde::Deserialize<'de> for WireDeprecationArea {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::collect::wire::deserialize_any(deserializer)
    }
}

wire_object! {
    /// One item of the deprecation info body (`GET _migration/deprecations`).
    pub(crate) struct WireDeprecation {
        level: Text,
        message: Text,
        url: Text,
    }
}

impl Keep for WireDeprecation {
    /// An item without a level is not one.
    fn keep(&self) -> bool {
        self.level.0.is_some()
    }
}

/// Flattens the deprecation body; list areas have no resource, keyed areas name theirs.
pub(crate) fn parse_deprecations(map: IndexMap<String, WireDeprecationArea>) -> Vec<Deprecation> {
    let mut out = Vec::new();
    for (area, body) in map {
        match body {
            WireDeprecationArea::List(items) => out.extend(
                items
                    .into_iter()
                    .filter_map(|d| deprecation(&area, None, d)),
            ),
            WireDeprecationArea::Keyed(keyed) => {
                for (resource, items) in keyed {
                    if let Some(items) = items.0 {
                        out.extend(
                            items
                                .into_iter()
                                .filter_map(|d| deprecation(&area, Some(&resource), d)),
                        );
                    }
                }
            }
            WireDeprecationArea::Other => {}
        }
    }
    out
}

fn deprecation(area: &str, resource: Option<&String>, d: WireDeprecation) -> Option<Deprecation> {
    Some(Deprecation {
        area: area.to_string(),
        resource: resource.cloned(),
        level: d.level.0?,
        message: d.message.0.unwrap_or_default(),
        url: d.url.0,
    })
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
        let v: AliasBody = serde_json::from_str(text).unwrap();
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
        let v = r#"{"snapshots":[{"snapshot":"s1","state":"SUCCESS","version":"7.10.2","start_time_in_millis":1}]}"#;
        let (s, _) = parse_snapshots(serde_json::from_str(v).unwrap(), Some("repo1")).unwrap();
        assert_eq!(s[0].repository, "repo1");
        assert!(s[0].feature_states.is_empty());
    }

    #[test]
    fn nodes_sort_by_id_and_fall_back_to_the_id_for_a_name() {
        let v = r#"{"nodes": {"b": {"name": 1, "roles": ["master", 3, "data"]},
                              "a": {"name": "es-a", "version": "8.17.3", "http": {"publish_address": "10.0.0.1:9200"},
                                    "attributes": {"k8s_node_name": "k1"}}}}"#;
        let nodes = parse_nodes(serde_json::from_str(v).unwrap()).unwrap();
        assert_eq!(nodes[0].id, "a");
        assert_eq!(nodes[0].publish_address.as_deref(), Some("10.0.0.1:9200"));
        assert_eq!(nodes[0].k8s_node_name.as_deref(), Some("k1"));
        assert_eq!(
            nodes[1].name, "b",
            "a name that is not a string falls back to the id"
        );
        assert_eq!(nodes[1].roles, ["master", "data"]);
        assert_eq!(nodes[1].version, None);
        assert!(parse_nodes(serde_json::from_str(r#"{"nodes": []}"#).unwrap()).is_err());
    }

    #[test]
    fn deprecation_areas_are_lists_or_keyed_by_resource() {
        let v = r#"{"cluster_settings": [{"level": "critical", "message": "m", "url": "u"}, {"message": "no level"}, 0],
                    "index_settings": {"i1": [{"level": "warning"}], "i2": {"level": "ignored"}},
                    "ml_settings": null}"#;
        let body: Object<WireDeprecationArea> = serde_json::from_str(v).unwrap();
        let d = parse_deprecations(body.0.unwrap());
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].area.as_str(), d[0].resource.as_deref()),
            ("cluster_settings", None)
        );
        assert_eq!(d[0].url.as_deref(), Some("u"));
        assert_eq!(
            (d[1].area.as_str(), d[1].resource.as_deref()),
            ("index_settings", Some("i1"))
        );
        assert_eq!(d[1].message, "");
    }

    #[test]
    fn repository_failures_read_reason_then_type_then_text() {
        let v = r#"{"failures": {"r1": {"type": "t", "reason": "why"}, "r2": {"type": "t"},
                                 "r3": "plain", "r4": 5, "r5": {"x": 1}, "r6": [1]}}"#;
        let (_, failures) = parse_snapshots(serde_json::from_str(v).unwrap(), None).unwrap();
        let reasons: Vec<_> = failures.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "why",
                "t",
                "plain",
                "5",
                "an object without `reason` or `type`",
                "an array"
            ]
        );
    }

    #[test]
    fn creation_dates_nested_or_flat_string_or_number() {
        let v = r#"{".kibana_1": {"settings": {"index": {"creation_date": "1700000000000"}}},
                    ".kibana_2": {"settings": {"index.creation_date": 1700000000000}},
                    ".kibana_3": {"settings": {"index": {"creation_date": null}, "index.creation_date": "1"}},
                    ".kibana_4": {"settings": {"index": {"creation_date": "soon"}}}}"#;
        let body: SettingsBody = serde_json::from_str(v).unwrap();
        let expected = jiff::Timestamp::from_millisecond(1_700_000_000_000).ok();
        assert_eq!(creation_date(&body, ".kibana_1"), expected);
        assert_eq!(creation_date(&body, ".kibana_2"), expected);
        assert_eq!(
            creation_date(&body, ".kibana_3"),
            None,
            "the nested form wins"
        );
        assert_eq!(creation_date(&body, ".kibana_4"), None);
        assert_eq!(creation_date(&body, ".kibana_5"), None);
    }
}
