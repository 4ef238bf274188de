//! The snapshot listing: every snapshot of every repository (one multi-repository request
//! from 7.14, else one per repository, all at once), per-repository failures beside it, the
//! version a snapshot was taken by read leniently.

use super::*;

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

pub(super) fn snapshot_endpoint(path: &str) -> Endpoint<'_> {
    Endpoint {
        group: "es.snapshots",
        path,
        privilege: "monitor_snapshot (cluster)",
        credentials_hint: ES_CREDENTIALS,
    }
}

pub(super) fn repo_failure(path: &str, repo: &str, reason: String) -> CollectFailure {
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
pub(super) fn sorted(mut snaps: Vec<Snapshot>) -> Vec<Snapshot> {
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
pub(super) const MAX_SNAPSHOTS: usize = 300_000;

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
pub(super) enum WireRepoFailure {
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
    pub(super) fn reason(self) -> String {
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
    pub(super) struct WireRepoFailureFields {
        kind("type"): Text,
        reason: Text,
    }
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct WireRepoSnapshots {
    pub(super) repository: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::base::bounded::vec_of::<_, WireSnapshot, _, MAX_SNAPSHOTS>"
    )]
    pub(super) snapshots: Vec<Snapshot>,
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct WireSnapshot {
    pub(super) snapshot: String,
    pub(super) uuid: Option<String>,
    pub(super) repository: Option<String>,
    pub(super) version: Option<String>,
    pub(super) version_id: Option<i64>,
    pub(super) include_global_state: Option<bool>,
    pub(super) state: String,
    pub(super) start_time: Option<String>,
    pub(super) start_time_in_millis: Option<i64>,
    pub(super) end_time: Option<String>,
    pub(super) end_time_in_millis: Option<i64>,
    /// Missing before 7.12 (and in non-verbose listings): no feature states.
    #[serde(
        default,
        deserialize_with = "crate::base::bounded::vec_of::<_, WireFeatureState, _, MAX_FEATURE_STATES>"
    )]
    pub(super) feature_states: Vec<FeatureState>,
    pub(super) shards: Option<WireShards>,
}

/// The most feature states one snapshot may name (Elasticsearch has a few dozen features),
/// and the most indices one feature state may list.
pub(super) const MAX_FEATURE_STATES: usize = 1_000;
pub(super) const MAX_FEATURE_INDICES: usize = 100_000;

/// A feature state of a snapshot (`feature_states[]`), its lists read in chunks like every
/// long list (see [`crate::base::bounded`]).
#[derive(Debug, serde::Deserialize)]
pub(super) struct WireFeatureState {
    pub(super) feature_name: String,
    #[serde(
        default,
        deserialize_with = "crate::base::bounded::vec_of::<_, String, _, MAX_FEATURE_INDICES>"
    )]
    pub(super) indices: Vec<String>,
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
pub(super) struct WireShards {
    pub(super) failed: Option<i64>,
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
pub(super) fn upper_bound(v: String) -> String {
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
pub(super) fn version_from_id(id: i64) -> Option<String> {
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
