//! Which way back the facts leave: nothing to roll back, start the old Kibana again, restore
//! the kibana feature state, restore the whole cluster, or none; judged once for the plan and
//! the rules, with the facts that decide it in words.

use super::*;

/// Which way back the facts leave, judged once for the plan and for rules.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct RollbackPath {
    pub(crate) path: Path,
    /// The facts that decide it, in words.
    pub(crate) basis: Vec<String>,
}

/// The ways back, from cheapest to none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Path {
    /// Rollback only: no sign of a failed upgrade.
    NothingToRollBack,
    /// Rollback only: Kibana `to` never migrated anything; start `from` again.
    StartFromAgain,
    /// Restore the `kibana` feature state from a pre-upgrade snapshot, then start `from`.
    RestoreKibana,
    /// The snapshots could not be listed: restore one the operator picks.
    RestoreUnverified,
    /// Elasticsearch goes back too: a new cluster of the old version, restored in full.
    RestoreCluster,
    /// No supported way back: fix forward.
    NoWayBack,
    /// The version to go back to is unknown: nothing can be planned until it is given.
    FromUnknown,
}

/// What [`rollback_path`] judges from.
pub(super) struct RollbackInputs<'a> {
    pub(super) bundle: &'a Bundle<Elastic>,
    pub(super) mode: Mode,
    pub(super) es: &'a EsSummary,
    pub(super) upgrade: &'a Upgrade,
    pub(super) migration: &'a MigrationState,
    pub(super) kibana_snapshot: Option<&'a SnapshotChoice>,
    pub(super) es_rollback: &'a EsRollback,
    pub(super) es_snapshot: Option<&'a SnapshotChoice>,
}

/// Which way back the facts leave (see [`Path`]), and the facts that decide it.
pub(super) fn rollback_path(i: RollbackInputs<'_>) -> RollbackPath {
    let (path, basis) = if let Some(basis) = nothing_to_roll_back(&i) {
        (Path::NothingToRollBack, basis)
    } else if i.upgrade.from.is_none() {
        (
            Path::FromUnknown,
            vec![format!(
                "the version to go back to is unknown ({})",
                i.upgrade.from_source
            )],
        )
    } else if i.es_rollback.needed == Some(true) {
        let refusing = i
            .es_rollback
            .refusing_nodes
            .as_ref()
            .filter(|n| !n.is_empty())
            .map(|n| format!(": {}", n.join(", ")))
            .unwrap_or_default();
        let first = match i.mode {
            Mode::Rollback => format!(
                "Elasticsearch refuses Kibana {}{refusing}, so it must go back too",
                i.upgrade.from.as_deref().unwrap_or_default()
            ),
            Mode::Preflight => format!(
                "Elasticsearch {} would refuse Kibana {}, so a failed upgrade means rolling Elasticsearch back too",
                i.upgrade.to.as_deref().unwrap_or_default(),
                i.upgrade.from.as_deref().unwrap_or_default()
            ),
        };
        match i.es_snapshot {
            Some(s) => (
                Path::RestoreCluster,
                vec![
                    first,
                    format!(
                        "full snapshot {}/{} (global state, Elasticsearch {}) predates the upgrade",
                        s.repository,
                        s.snapshot,
                        s.version.as_deref().unwrap_or("version unknown")
                    ),
                ],
            ),
            None => (
                Path::NoWayBack,
                vec![
                    first,
                    "no SUCCESS full snapshot (global state) taken before the upgrade by an Elasticsearch that Kibana accepts".into(),
                ],
            ),
        }
    } else if let Some(basis) = nothing_migrated(&i) {
        (Path::StartFromAgain, basis)
    } else if i.bundle.facts.snapshots.is_none() {
        (
            Path::RestoreUnverified,
            vec!["the snapshots could not be listed, so no snapshot was verified".into()],
        )
    } else if let Some(s) = i.kibana_snapshot {
        let name = format!("{}/{}", s.repository, s.snapshot);
        match s.restorable {
            Some(true) => (
                Path::RestoreKibana,
                vec![format!(
                    "snapshot {name} holds the kibana feature state and predates the upgrade"
                )],
            ),
            // The only candidate cannot be restored here: no way back, and say why.
            Some(false) => (
                Path::NoWayBack,
                vec![format!(
                    "snapshot {name} holds the kibana feature state but cannot be restored here: {}",
                    s.restorable_because.as_deref().unwrap_or("not restorable")
                )],
            ),
            None => (
                Path::RestoreKibana,
                vec![
                    format!(
                        "snapshot {name} holds the kibana feature state and predates the upgrade"
                    ),
                    format!(
                        "whether this cluster can restore it could not be judged: {}",
                        s.restorable_because
                            .as_deref()
                            .unwrap_or("a version does not parse")
                    ),
                ],
            ),
        }
    } else {
        (
            Path::NoWayBack,
            vec!["no SUCCESS snapshot with the kibana feature state predates the upgrade".into()],
        )
    };
    RollbackPath { path, basis }
}

/// Rollback with no sign of a failed upgrade: no version to go back to was given or left in
/// the saved objects, no interrupted migration, one Elasticsearch version, and every Kibana
/// instance answers and is available. The facts that show it, or `None`.
pub(super) fn nothing_to_roll_back(i: &RollbackInputs<'_>) -> Option<Vec<String>> {
    let b = i.bundle;
    if i.mode != Mode::Rollback || b.operator.from.is_some() || i.upgrade.from.is_some() {
        return None;
    }
    b.facts.kibana_indices.as_ref()?;
    let nodes = b.facts.nodes.as_deref().filter(|n| !n.is_empty())?;
    if !i.es.uniform || !i.migration.reindex_temp.is_empty() || b.target.kibana.is_empty() {
        return None;
    }
    let kibana = &b.facts.kibana;
    let healthy = kibana.len() == b.target.kibana.len()
        && kibana
            .iter()
            .all(|k| k.state == "running" && k.level.as_deref() == Some("available"));
    if !healthy {
        return None;
    }
    let saved: Vec<&str> = {
        let mut v: Vec<&str> = i
            .migration
            .version_aliases
            .iter()
            .map(|a| a.version.as_str())
            .collect();
        v.sort_by(|a, b| cmp_lenient(a, b));
        v.dedup();
        v
    };
    let mut basis = vec![
        match saved.as_slice() {
            [] => "no saved-object version alias: no Kibana migration has run".to_string(),
            [one] => format!(
                "every saved-object version alias is of {one}: no older version to go back to, none given with --from"
            ),
            many => format!(
                "saved-object version aliases of {}, none older than the newest given with --from",
                many.join(", ")
            ),
        },
        "no interrupted migration (no *_reindex_temp index)".to_string(),
        format!(
            "every Elasticsearch node ({}) runs {}",
            nodes.len(),
            i.es.versions.join(", ")
        ),
    ];
    basis.push(format!(
        "every Kibana instance answers and is available: {}",
        kibana
            .iter()
            .map(|k| format!(
                "{} ({})",
                k.url,
                k.version.as_deref().unwrap_or("version unknown")
            ))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Some(basis)
}

/// Rollback where Kibana `to` never migrated: no saved-object index or version alias newer
/// than `from`, no interrupted migration, and `.kibana` still points at an index no newer than
/// `from`. The facts that show it, or `None`.
pub(super) fn nothing_migrated(i: &RollbackInputs<'_>) -> Option<Vec<String>> {
    let from = i.upgrade.from.as_deref()?;
    let to = i.upgrade.to.as_deref()?;
    let m = i.migration;
    if i.mode != Mode::Rollback
        || i.bundle.facts.kibana_indices.is_none()
        || cmp_lenient(to, from) != Ordering::Greater
        || !m.newer_aliases.is_empty()
        || !m.newer_indices.is_empty()
        || !m.reindex_temp.is_empty()
    {
        return None;
    }
    let index = m.kibana_alias_index.as_deref()?;
    if index_version(index).is_some_and(|v| cmp_lenient(&v, from) == Ordering::Greater) {
        return None;
    }
    Some(vec![
        format!(
            "no saved-object index or version alias is newer than {from}: Kibana {to} migrated nothing"
        ),
        format!(".kibana still points at {index}"),
    ])
}
