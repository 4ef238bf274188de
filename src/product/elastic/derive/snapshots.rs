//! The snapshots a rollback can restore: the kibana feature state for Kibana, a full-cluster
//! snapshot of the old Elasticsearch, each judged restorable (or why not) and chosen once.

use super::*;

/// A chosen snapshot with what the rules need to judge it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct SnapshotChoice {
    pub(crate) repository: String,
    pub(crate) snapshot: String,
    pub(crate) uuid: Option<String>,
    pub(crate) state: String,
    pub(crate) version: Option<String>,
    pub(crate) start_time: Option<Timestamp>,
    pub(crate) age_hours: Option<f64>,
    /// This cluster can restore it: its Elasticsearch version is ≤ every node's, and its
    /// kibana indices were created by a version the nodes read as regular indices (the
    /// snapshot-compatibility table). `None` when a version does not parse.
    pub(crate) restorable: Option<bool>,
    /// Why it cannot be restored here, or could not be judged.
    pub(crate) restorable_because: Option<String>,
    pub(crate) include_global_state: Option<bool>,
    /// Whether its `feature_states` include `kibana`.
    pub(crate) has_kibana_feature: bool,
}

pub(super) fn has_kibana_feature(s: &Snapshot) -> bool {
    s.feature_states.iter().any(|f| f.feature_name == "kibana")
}

/// Whether this cluster can restore `s` as regular indices (what the `kibana` feature state
/// needs), by Elastic's snapshot-compatibility rules (docs-content `snapshot-and-restore.md`):
/// a snapshot cannot be restored to an older Elasticsearch, so its version must be ≤ every
/// node's; and an index restores as a regular index only into its own major or the next (7.x
/// indices go into 9.x only as archive or searchable-snapshot indices; 6.8 ones not into 7.0 or
/// 7.1). The indices' creation version is read from the feature state's index names
/// (`.kibana_7.17.0_001`, reused by compatible migrations since 8.6), else the snapshot's own
/// version. One node known to refuse decides; otherwise a version that does not parse leaves it
/// unjudged (`Err`, with the reason). `Ok(Err(why))` is "cannot be restored here".
pub(super) fn restorable(
    s: &Snapshot,
    bundle: &Bundle<Elastic>,
) -> Result<Result<(), String>, String> {
    let Some(v) = &s.version else {
        return Err(format!(
            "snapshot {}/{} does not say which Elasticsearch version took it",
            s.repository, s.snapshot
        ));
    };
    // Nodes not listed: not "cannot be restored", but unjudged.
    let Some(nodes) = bundle.facts.nodes.as_deref().filter(|n| !n.is_empty()) else {
        return Err("the Elasticsearch nodes could not be listed".into());
    };
    let snapshot = version::parse_lenient(v)
        .map_err(|e| format!("Error executing function 'semver_cmp': {e}"))?;
    let created = s
        .feature_states
        .iter()
        .filter(|f| f.feature_name == "kibana")
        .flat_map(|f| f.indices.iter())
        .filter_map(|i| index_version(i))
        .filter_map(|i| version::parse_lenient(&i).ok())
        .chain(std::iter::once(snapshot.clone()))
        .min()
        .unwrap_or(snapshot.clone());
    let mut unjudged = None;
    for n in nodes {
        let Some(node_version) = &n.version else {
            unjudged.get_or_insert_with(|| format!("node {} reports no version", n.name));
            continue;
        };
        let node = match version::parse_lenient(node_version) {
            Ok(node) => node,
            Err(e) => {
                unjudged
                    .get_or_insert_with(|| format!("Error executing function 'semver_cmp': {e}"));
                continue;
            }
        };
        if snapshot.cmp_precedence(&node) == Ordering::Greater {
            return Ok(Err(format!(
                "it was taken by Elasticsearch {v}, newer than node {} ({node_version}): a snapshot cannot be restored to an older version",
                n.name
            )));
        }
        let too_old = created.major + 1 < node.major
            || (created.major == 6 && created.minor == 8 && node.major == 7 && node.minor <= 1);
        if too_old {
            return Ok(Err(format!(
                "its kibana indices were created by {}.{}, which Elasticsearch {node_version} restores only as read-only archive or searchable-snapshot indices, not as a feature state",
                created.major, created.minor
            )));
        }
    }
    match unjudged {
        Some(why) => Err(why),
        None => Ok(Ok(())),
    }
}

pub(super) fn choice(s: &Snapshot, bundle: &Bundle<Elastic>, now: Timestamp) -> SnapshotChoice {
    let (restorable, restorable_because) = match restorable(s, bundle) {
        Ok(Ok(())) => (Some(true), None),
        Ok(Err(why)) => (Some(false), Some(why)),
        Err(why) => (None, Some(why)),
    };
    SnapshotChoice {
        repository: s.repository.clone(),
        snapshot: s.snapshot.clone(),
        uuid: s.uuid.clone(),
        state: s.state.clone(),
        version: s.version.clone(),
        start_time: s.start_time,
        age_hours: s.start_time.map(|t| age_hours(now, t)),
        restorable,
        restorable_because,
        include_global_state: s.include_global_state,
        has_kibana_feature: has_kibana_feature(s),
    }
}

/// Newest successful snapshot with the `kibana` feature state that started before the
/// upgrade, preferring ones this cluster can restore. Snapshots are sorted newest first.
pub(super) fn choose_kibana_snapshot(
    bundle: &Bundle<Elastic>,
    upgrade: &Upgrade,
    now: Timestamp,
) -> (Option<SnapshotChoice>, Vec<String>) {
    let snapshots = bundle.facts.snapshots.as_deref().unwrap_or_default();
    let mut rejected = Vec::new();
    let mut eligible = Vec::new();
    for s in snapshots.iter().filter(|s| has_kibana_feature(s)) {
        match rejection(s, upgrade) {
            // A listing can hold hundreds of thousands: only the shown ones are worded.
            Some(why) if rejected.len() < REJECTED_SHOWN => {
                rejected.push(format!("{}/{}: {why}", s.repository, s.snapshot));
            }
            Some(_) => {}
            None => eligible.push(s),
        }
    }
    let best = eligible
        .iter()
        .find(|s| matches!(restorable(s, bundle), Ok(Ok(()))))
        .or_else(|| eligible.first())
        .map(|s| choice(s, bundle, now));
    if let Some(b) = &best {
        for s in eligible
            .iter()
            .take_while(|s| s.snapshot != b.snapshot || s.repository != b.repository)
            .take(REJECTED_SHOWN.saturating_sub(rejected.len()))
        {
            let why = match restorable(s, bundle) {
                Ok(Err(why)) | Err(why) => why,
                Ok(Ok(())) => "not restorable here".to_string(),
            };
            rejected.push(format!("{}/{}: {why}", s.repository, s.snapshot));
        }
    }
    (best, rejected)
}

/// How many rejected snapshots the evidence names: enough to explain the choice.
pub(super) const REJECTED_SHOWN: usize = 10;

/// Why a snapshot holding the `kibana` feature state cannot bring Kibana back, if it cannot.
pub(super) fn rejection(s: &Snapshot, upgrade: &Upgrade) -> Option<String> {
    if s.state != "SUCCESS" {
        return Some(format!("state {}", s.state));
    }
    let Some(start) = s.start_time else {
        return Some("no start time".into());
    };
    if let Some(cutoff) = upgrade.started_at {
        return (start >= cutoff)
            .then(|| format!("started {start}, not before the upgrade ({cutoff})"));
    }
    // Upgrade start unknown: a snapshot whose kibana indices carry the new version was taken
    // after the migration began.
    let to = upgrade.to.as_deref()?;
    let migrated = s
        .feature_states
        .iter()
        .filter(|f| f.feature_name == "kibana")
        .flat_map(|f| f.indices.iter())
        .any(|i| index_version(i).is_some_and(|v| cmp_lenient(&v, to) == Ordering::Equal));
    migrated.then(|| format!("its kibana indices are already of version {to}"))
}

/// Newest successful full-cluster snapshot (global state) taken before the upgrade by an ES
/// that the rollback Kibana accepts: what a new cluster of the old version restores.
pub(super) fn choose_es_snapshot(
    bundle: &Bundle<Elastic>,
    upgrade: &Upgrade,
    now: Timestamp,
) -> Option<SnapshotChoice> {
    let kibana = upgrade.from.as_deref()?;
    let snapshots = bundle.facts.snapshots.as_deref().unwrap_or_default();
    // Few distinct versions among many snapshots: judge each version once.
    let mut accepted: HashMap<&str, bool> = HashMap::new();
    let mut first = None;
    for s in snapshots {
        let before = match (s.start_time, upgrade.started_at) {
            (Some(start), Some(cutoff)) => start < cutoff,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if s.state != "SUCCESS" || s.include_global_state != Some(true) || !before {
            continue;
        }
        let Some(v) = s.version.as_deref() else {
            continue;
        };
        if !*accepted
            .entry(v)
            .or_insert_with(|| version::kibana_accepts_es(kibana, v).unwrap_or(false))
        {
            continue;
        }
        // Newest first; one that also holds the kibana feature state brings Kibana back with it.
        if has_kibana_feature(s) {
            return Some(choice(s, bundle, now));
        }
        first.get_or_insert(s);
    }
    first.map(|s| choice(s, bundle, now))
}
