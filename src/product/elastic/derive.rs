//! What the rules should not have to compute: the upgrade's `from`/`to` and start, the best
//! rollback snapshot, the ES snapshot for a full rollback, what a failed migration left behind.
//!
//! Everything here is a pure function of the bundle (operator flags already merged into it) and
//! the mode, and uses the bundle's one clock, so a bundle evaluated offline gives the live
//! run's findings. Each judgement is made here once; rules and the plan both read it.

use super::Elastic;
use super::facts::{Flavor, KibanaIndex, Snapshot};
use super::releases::{ReleaseOrder, release_order};
use crate::base::version::{self, cmp_lenient};
use crate::model::facts::Bundle;
use crate::model::upgrade::{Mode, UpgradeBasis, age_hours};
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::HashMap;

/// The values rules and the plan read besides the raw facts.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Derived {
    pub(crate) mode: Mode,
    pub(crate) now: Timestamp,
    pub(crate) upgrade: Upgrade,
    pub(crate) es: EsSummary,
    /// The snapshot a Kibana rollback restores the `kibana` feature state from.
    pub(crate) kibana_snapshot: Option<SnapshotChoice>,
    /// Why other snapshots holding the `kibana` feature state were not chosen (newest first).
    pub(crate) kibana_snapshot_rejected: Vec<String>,
    /// The full-cluster snapshot taken by the old ES, for when ES must be rolled back too.
    pub(crate) es_rollback_snapshot: Option<SnapshotChoice>,
    pub(crate) migration: MigrationState,
    /// `--kibana` instances that still answer: `url (version, state)`.
    pub(crate) kibana_answering: Vec<String>,
    /// Whether every node accepts the Kibana that will run.
    pub(crate) kibana_compat: KibanaCompat,
    /// Whether Elasticsearch must go back too.
    pub(crate) es_rollback: EsRollback,
    /// Which way back the facts leave: what the plan does and the verdict's
    /// `nothing_to_roll_back`.
    pub(crate) rollback: RollbackPath,
    /// Whether `to` was released no earlier than `from` (Elastic's out-of-order rule).
    pub(crate) release_order: ReleaseOrder,
    /// How the stack is deployed (`--flavor`, else detected, else `unknown`).
    pub(crate) flavor: Flavor,
    pub(crate) flavor_source: String,
}

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

/// Whether every Elasticsearch node accepts the Kibana that will run (`upgrade.kibana_version`:
/// `to` in preflight, `from` in rollback), by Kibana's own rule
/// (`es_kibana_version_compatability.ts`), node by node.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub(crate) struct KibanaCompat {
    /// `None` when an input is missing or cannot be judged.
    pub(crate) accepted: Option<bool>,
    /// The nodes that refuse it, as `name (vVERSION)` (`None` when not judged).
    pub(crate) refusing_nodes: Option<Vec<String>>,
    /// Why it cannot be judged although its inputs are there: a version that does not parse,
    /// and no node that is known to refuse.
    pub(crate) undecided: Option<String>,
    /// Preflight: the version older nodes were judged at (`to`: Elasticsearch is upgraded
    /// before Kibana), when any was.
    pub(crate) judged_at: Option<String>,
    /// Nodes that reported no version, or one that is not SemVer: Kibana refuses them, but
    /// what they really run is unknown, so they alone never send Elasticsearch back.
    pub(crate) invalid_nodes: Vec<String>,
    /// Nodes on another release than that Kibana (`esVersionEqualsKibana`: equal after dropping
    /// pre-release suffixes), judged the same way: Kibana warns about them.
    pub(crate) different_nodes: Vec<String>,
}

/// Whether the Kibana that will run after the rollback is refused by Elasticsearch, so
/// Elasticsearch must be rolled back too. Rollback: by the nodes as they are; preflight: by a
/// cluster upgraded to `to`, predicted.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub(crate) struct EsRollback {
    /// `None` when an input is missing or cannot be judged.
    pub(crate) needed: Option<bool>,
    /// The nodes that refuse it, as `name (vVERSION)` (rollback; `None` when not judged).
    pub(crate) refusing_nodes: Option<Vec<String>>,
    /// Why it cannot be judged although its inputs are there: a version that does not parse,
    /// and no node that is known to refuse.
    pub(crate) undecided: Option<String>,
}

/// The Elastic upgrade: the basis plus the Kibana version that will run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Upgrade {
    #[serde(flatten)]
    pub(crate) basis: UpgradeBasis,
    /// The Kibana version that will run: `to` in preflight, `from` in rollback.
    pub(crate) kibana_version: Option<String>,
}

impl std::ops::Deref for Upgrade {
    type Target = UpgradeBasis;

    fn deref(&self) -> &UpgradeBasis {
        &self.basis
    }
}

/// The cluster's versions at a glance.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct EsSummary {
    /// Distinct node versions, oldest first.
    pub(crate) versions: Vec<String>,
    pub(crate) min_version: Option<String>,
    /// One version on every node (and every node reported one).
    pub(crate) uniform: bool,
    /// Nodes that reported no version.
    pub(crate) without_version: Vec<String>,
}

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

/// A saved-object version alias such as `.kibana_task_manager_8.17.3`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct VersionAlias {
    pub(crate) alias: String,
    pub(crate) base: String,
    pub(crate) version: String,
    pub(crate) index: String,
}

/// What the saved-object indices say about a (failed) migration.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub(crate) struct MigrationState {
    pub(crate) version_aliases: Vec<VersionAlias>,
    /// Version aliases newer than `from`: the old Kibana refuses to start while they exist.
    pub(crate) newer_aliases: Vec<String>,
    /// `*_reindex_temp` indices an interrupted migration left.
    pub(crate) reindex_temp: Vec<String>,
    /// Indices of a newer version than `from` (created by the migration to `to`).
    pub(crate) newer_indices: Vec<String>,
    /// The index the `.kibana` alias points to.
    pub(crate) kibana_alias_index: Option<String>,
    /// Why Kibana `from` refuses to start on these indices (Kibana's migrator INIT: `.kibana`
    /// or another saved-object alias points at a newer version's index, or a newer version
    /// alias exists), or `None`: `_reindex_temp` and unaliased newer indices alone do not stop it.
    pub(crate) refusal: Option<String>,
}

/// Derives everything for `mode` from the bundle.
pub(crate) fn derive(bundle: &Bundle<Elastic>, mode: Mode) -> Derived {
    let now = bundle.collected_at;
    let (flavor, flavor_source) = match (&bundle.operator.flavor, &bundle.facts.deployment) {
        (Some(f), _) => (*f, "--flavor".to_string()),
        (None, Some(d)) => (d.flavor, d.evidence.clone()),
        (None, None) => (Flavor::Unknown, "not detected: pass --flavor".to_string()),
    };
    let es = es_summary(bundle);
    let aliases = version_aliases(bundle.facts.kibana_indices.as_deref().unwrap_or_default());
    let upgrade = upgrade(bundle, mode, &es, &aliases);
    let kibana_compat = kibana_compat(bundle, mode, &upgrade);
    let upgrade_basis = upgrade.basis.clone();
    let es_rollback = es_rollback(mode, &upgrade, &kibana_compat);
    let migration = migration_state(bundle, &upgrade, aliases);
    let (kibana_snapshot, kibana_snapshot_rejected) = choose_kibana_snapshot(bundle, &upgrade, now);
    let es_rollback_snapshot = choose_es_snapshot(bundle, &upgrade, now);
    let rollback = rollback_path(RollbackInputs {
        bundle,
        mode,
        es: &es,
        upgrade: &upgrade,
        migration: &migration,
        kibana_snapshot: kibana_snapshot.as_ref(),
        es_rollback: &es_rollback,
        es_snapshot: es_rollback_snapshot.as_ref(),
    });
    let kibana_answering = bundle
        .facts
        .kibana
        .iter()
        .filter(|k| k.state == "running" || k.state == "starting")
        .map(|k| {
            format!(
                "{} ({}, {})",
                k.url,
                k.version.as_deref().unwrap_or("version unknown"),
                k.state
            )
        })
        .collect();
    Derived {
        mode,
        now,
        upgrade,
        es,
        kibana_snapshot,
        kibana_snapshot_rejected,
        es_rollback_snapshot,
        migration,
        kibana_answering,
        kibana_compat,
        es_rollback,
        rollback,
        release_order: release_order(upgrade_basis.from.as_deref(), upgrade_basis.to.as_deref()),
        flavor,
        flavor_source,
    }
}

/// What [`rollback_path`] judges from.
struct RollbackInputs<'a> {
    bundle: &'a Bundle<Elastic>,
    mode: Mode,
    es: &'a EsSummary,
    upgrade: &'a Upgrade,
    migration: &'a MigrationState,
    kibana_snapshot: Option<&'a SnapshotChoice>,
    es_rollback: &'a EsRollback,
    es_snapshot: Option<&'a SnapshotChoice>,
}

/// Which way back the facts leave (see [`Path`]), and the facts that decide it.
fn rollback_path(i: RollbackInputs<'_>) -> RollbackPath {
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
fn nothing_to_roll_back(i: &RollbackInputs<'_>) -> Option<Vec<String>> {
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
fn nothing_migrated(i: &RollbackInputs<'_>) -> Option<Vec<String>> {
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

/// Whether Elasticsearch must go back too (see [`EsRollback`]).
fn es_rollback(mode: Mode, upgrade: &Upgrade, compat: &KibanaCompat) -> EsRollback {
    match mode {
        // The Kibana that will run is `from`: refused by the nodes as they are, ES goes back.
        // A node without a valid version refuses Kibana too, but what it runs is unknown: it
        // alone is a node to fix, not a reason to restore the whole cluster.
        Mode::Rollback => {
            let refusing = compat.refusing_nodes.clone().unwrap_or_default();
            let versioned = refusing
                .iter()
                .filter(|n| !compat.invalid_nodes.contains(n))
                .count();
            match compat.accepted {
                Some(false) if versioned == 0 => EsRollback {
                    needed: None,
                    refusing_nodes: Some(refusing),
                    undecided: Some(format!(
                        "{} report no valid version; fix or remove them before starting Kibana {}",
                        compat.invalid_nodes.join(", "),
                        upgrade.from.as_deref().unwrap_or("`from`")
                    )),
                },
                accepted => EsRollback {
                    needed: accepted.map(|accepted| !accepted),
                    refusing_nodes: compat.refusing_nodes.clone(),
                    undecided: compat.undecided.clone(),
                },
            }
        }
        // Predicted: would a cluster upgraded to `to` refuse the Kibana running now?
        Mode::Preflight => match (upgrade.from.as_deref(), upgrade.to.as_deref()) {
            (Some(from), Some(to)) => match version::kibana_accepts_es(from, to) {
                Ok(accepted) => EsRollback {
                    needed: Some(!accepted),
                    ..EsRollback::default()
                },
                Err(e) => EsRollback {
                    undecided: Some(format!("Error executing function 'kibana_accepts_es': {e}")),
                    ..EsRollback::default()
                },
            },
            _ => EsRollback::default(),
        },
    }
}

fn es_summary(bundle: &Bundle<Elastic>) -> EsSummary {
    let nodes = bundle.facts.nodes.as_deref().unwrap_or_default();
    let mut versions: Vec<String> = nodes.iter().filter_map(|n| n.version.clone()).collect();
    versions.sort_by(|a, b| cmp_lenient(a, b));
    versions.dedup();
    let without_version: Vec<String> = nodes
        .iter()
        .filter(|n| n.version.is_none())
        .map(|n| n.name.clone())
        .collect();
    EsSummary {
        min_version: versions.first().cloned(),
        uniform: versions.len() <= 1 && without_version.is_empty(),
        versions,
        without_version,
    }
}

fn upgrade(
    bundle: &Bundle<Elastic>,
    mode: Mode,
    es: &EsSummary,
    aliases: &[VersionAlias],
) -> Upgrade {
    let op = &bundle.operator;
    let indices = bundle.facts.kibana_indices.as_deref().unwrap_or_default();
    let running_kibana = lowest_kibana_version(bundle);

    let (to, to_source) = if let Some(v) = &op.to {
        (Some(v.clone()), "--to".to_string())
    } else if mode == Mode::Rollback {
        let newest_saved = aliases
            .iter()
            .map(|a| a.version.clone())
            .chain(indices.iter().filter_map(|i| index_version(&i.index)))
            .max_by(|a, b| cmp_lenient(a, b));
        // A running Kibana newer than every saved-object version is the failed target too:
        // it was upgraded but never got to migrate (e.g. refused by older ES nodes).
        let newest_running = bundle
            .facts
            .kibana
            .iter()
            .filter_map(|k| k.version.clone())
            .max_by(|a, b| cmp_lenient(a, b));
        match (newest_saved, newest_running) {
            (Some(s), Some(k)) if cmp_lenient(&k, &s) == Ordering::Greater => (
                Some(k),
                "running Kibana (newer than every saved-object version)".to_string(),
            ),
            (Some(s), _) => (
                Some(s),
                "newest saved-object version alias or index".to_string(),
            ),
            (None, Some(k)) => (Some(k), "running Kibana".to_string()),
            (None, None) => (None, "unknown: pass --to".to_string()),
        }
    } else {
        (None, "missing: pass --to".to_string())
    };

    let (from, from_source) = if let Some(v) = &op.from {
        (Some(v.clone()), "--from".to_string())
    } else if mode == Mode::Rollback {
        let older = aliases
            .iter()
            .map(|a| a.version.clone())
            .filter(|v| {
                to.as_deref()
                    .is_none_or(|t| cmp_lenient(v, t) == Ordering::Less)
            })
            .max_by(|a, b| cmp_lenient(a, b));
        match older {
            Some(v) => (
                Some(v),
                "newest saved-object version alias older than `to`".to_string(),
            ),
            None => (
                None,
                "unknown: no older saved-object version alias; pass --from".to_string(),
            ),
        }
    } else if let Some(k) = running_kibana {
        (Some(k), "running Kibana".to_string())
    } else if let Some(v) = &es.min_version {
        (Some(v.clone()), "oldest Elasticsearch node".to_string())
    } else {
        (None, "unknown: pass --from".to_string())
    };

    let (started_at, started_at_source) = if let Some(t) = op.upgrade_started_at {
        (Some(t), "--upgrade-started-at".to_string())
    } else if mode == Mode::Preflight {
        (
            Some(bundle.collected_at),
            "now (the upgrade has not started)".to_string(),
        )
    } else {
        let first = to.as_deref().and_then(|to| {
            indices
                .iter()
                .filter(|i| {
                    index_version(&i.index).is_some_and(|v| cmp_lenient(&v, to) == Ordering::Equal)
                })
                .filter_map(|i| i.created_at.map(|t| (t, i.index.clone())))
                .min()
        });
        match first {
            Some((t, index)) => (Some(t), format!("creation date of {index}")),
            None => (None, "unknown: no index of the new version has a creation date; pass --upgrade-started-at".to_string()),
        }
    };

    let kind = match (
        from.as_deref().map(version::parse_lenient),
        to.as_deref().map(version::parse_lenient),
    ) {
        (Some(Ok(f)), Some(Ok(t))) => {
            if f.major != t.major {
                "major"
            } else if f.minor != t.minor {
                "minor"
            } else if f.patch != t.patch || f.pre != t.pre {
                "patch"
            } else {
                "none"
            }
        }
        _ => "unknown",
    }
    .to_string();
    let kibana_version = match mode {
        Mode::Preflight => to.clone(),
        Mode::Rollback => from.clone(),
    };
    Upgrade {
        basis: UpgradeBasis {
            from,
            to,
            from_source,
            to_source,
            kind,
            started_at,
            started_at_source,
        },
        kibana_version,
    }
}

fn lowest_kibana_version(bundle: &Bundle<Elastic>) -> Option<String> {
    bundle
        .facts
        .kibana
        .iter()
        .filter_map(|k| k.version.clone())
        .min_by(|a, b| cmp_lenient(a, b))
}

/// Splits `<base>_<x.y.z>` when base is a saved-object alias (`.kibana`, `.kibana_<word>`).
pub(crate) fn split_version_alias(alias: &str) -> Option<(String, String)> {
    let (base, ver) = alias.rsplit_once('_')?;
    let is_base = base == ".kibana"
        || base.strip_prefix(".kibana_").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        });
    let parts: Vec<&str> = ver.split('.').collect();
    let is_version = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (is_base && is_version).then(|| (base.to_string(), ver.to_string()))
}

/// The version in an index name `<base>_<x.y.z>_001` or `<base>_<x.y.z>_reindex_temp`.
pub(crate) fn index_version(index: &str) -> Option<String> {
    let stem = index.strip_suffix("_reindex_temp").or_else(|| {
        index
            .rsplit_once('_')
            .filter(|(_, n)| n.bytes().all(|b| b.is_ascii_digit()))
            .map(|(s, _)| s)
    })?;
    split_version_alias(stem).map(|(_, v)| v)
}

fn version_aliases(indices: &[KibanaIndex]) -> Vec<VersionAlias> {
    let mut out: Vec<VersionAlias> = indices
        .iter()
        .flat_map(|i| {
            i.aliases.iter().filter_map(|a| {
                split_version_alias(a).map(|(base, version)| VersionAlias {
                    alias: a.clone(),
                    base,
                    version,
                    index: i.index.clone(),
                })
            })
        })
        .collect();
    out.sort_by(|a, b| a.alias.cmp(&b.alias));
    out
}

fn migration_state(
    bundle: &Bundle<Elastic>,
    upgrade: &Upgrade,
    version_aliases: Vec<VersionAlias>,
) -> MigrationState {
    let indices = bundle.facts.kibana_indices.as_deref().unwrap_or_default();
    let newer = |v: &str| {
        upgrade
            .from
            .as_deref()
            .is_some_and(|f| cmp_lenient(v, f) == Ordering::Greater)
    };
    MigrationState {
        newer_aliases: version_aliases
            .iter()
            .filter(|a| newer(&a.version))
            .map(|a| a.alias.clone())
            .collect(),
        reindex_temp: indices
            .iter()
            .filter(|i| i.index.ends_with("_reindex_temp"))
            .map(|i| i.index.clone())
            .collect(),
        newer_indices: indices
            .iter()
            .filter(|i| !i.index.ends_with("_reindex_temp"))
            .filter(|i| index_version(&i.index).is_some_and(|v| newer(&v)))
            .map(|i| i.index.clone())
            .collect(),
        kibana_alias_index: indices
            .iter()
            .find(|i| i.aliases.iter().any(|a| a == ".kibana"))
            .map(|i| i.index.clone()),
        refusal: refusal(upgrade.from.as_deref(), indices, &version_aliases, &newer),
        version_aliases,
    }
}

/// Kibana's migrator refuses to start when a saved-object alias (`.kibana`,
/// `.kibana_task_manager`, …) points at a newer version's index ("The .kibana alias is pointing
/// to a newer version of Kibana") or a newer version alias exists ("The <alias>_<version> alias
/// refers to a newer version of Kibana").
fn refusal(
    from: Option<&str>,
    indices: &[KibanaIndex],
    aliases: &[VersionAlias],
    newer: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let from = from?;
    let pointing: Vec<String> = indices
        .iter()
        .flat_map(|i| {
            i.aliases
                .iter()
                .filter(|a| {
                    split_version_alias(a).is_none()
                        && (a.as_str() == ".kibana" || a.starts_with(".kibana_"))
                })
                .filter(|_| index_version(&i.index).is_some_and(|v| newer(&v)))
                .map(move |a| format!("{a} points to {}", i.index))
        })
        .collect();
    let newer_aliases: Vec<&str> = aliases
        .iter()
        .filter(|a| newer(&a.version))
        .map(|a| a.alias.as_str())
        .collect();
    if pointing.is_empty() && newer_aliases.is_empty() {
        return None;
    }
    let mut why = Vec::new();
    if !pointing.is_empty() {
        why.push(pointing.join(", "));
    }
    if !newer_aliases.is_empty() {
        why.push(format!(
            "newer version aliases exist ({})",
            newer_aliases.join(", ")
        ));
    }
    Some(format!(
        "Kibana {from} refuses to start: {}",
        why.join("; ")
    ))
}

fn has_kibana_feature(s: &Snapshot) -> bool {
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
fn restorable(s: &Snapshot, bundle: &Bundle<Elastic>) -> Result<Result<(), String>, String> {
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

/// Whether every node accepts Kibana `kibana`, by Kibana's own rule, node by node
/// (`nodes_version_compatibility.ts`): a node without a version, or with one that is not valid
/// SemVer, counts as incompatible. In preflight each node is judged at the version it will run
/// when Kibana `to` starts — Elasticsearch is upgraded first, so the greater of its version and
/// `to` — so the gate can pass before the irreversible part.
fn kibana_compat(bundle: &Bundle<Elastic>, mode: Mode, upgrade: &Upgrade) -> KibanaCompat {
    let Some(kibana) = upgrade.kibana_version.as_deref() else {
        return KibanaCompat::default();
    };
    let Some(nodes) = bundle.facts.nodes.as_deref() else {
        // Not collected: the rules say unknown; the plan must not assume Kibana runs.
        return KibanaCompat {
            undecided: Some("the Elasticsearch nodes could not be listed".into()),
            ..KibanaCompat::default()
        };
    };
    if let Err(e) = version::parse_lenient(kibana) {
        return KibanaCompat {
            undecided: Some(format!("Error executing function 'kibana_accepts_es': {e}")),
            ..KibanaCompat::default()
        };
    }
    let target = match mode {
        Mode::Preflight => upgrade.to.as_deref(),
        Mode::Rollback => None,
    };
    let mut refusing = Vec::new();
    let mut different = Vec::new();
    let mut invalid = Vec::new();
    let mut judged_at = None;
    for n in nodes {
        let Some(node_version) = n.version.as_deref() else {
            refusing.push(format!("{} (no version)", n.name));
            different.push(format!("{} (no version)", n.name));
            invalid.push(format!("{} (no version)", n.name));
            continue;
        };
        let (judged, shown) = match target {
            Some(to)
                if cmp_lenient(to, node_version) == Ordering::Greater
                    && version::parse_lenient(node_version).is_ok() =>
            {
                judged_at = Some(to.to_string());
                (to, format!("v{node_version}, v{to} once upgraded"))
            }
            _ => (node_version, format!("v{node_version}")),
        };
        if !version::same_release(kibana, judged).unwrap_or(false) {
            different.push(format!("{} ({shown})", n.name));
        }
        match version::kibana_accepts_es(kibana, judged) {
            Ok(true) => {}
            Ok(false) if version::parse_lenient(judged).is_err() => {
                refusing.push(format!("{} ({shown}: not a valid version)", n.name));
                invalid.push(format!("{} ({shown}: not a valid version)", n.name));
            }
            Ok(false) | Err(_) => refusing.push(format!("{} ({shown})", n.name)),
        }
    }
    KibanaCompat {
        accepted: Some(refusing.is_empty()),
        refusing_nodes: Some(refusing),
        undecided: None,
        judged_at,
        invalid_nodes: invalid,
        different_nodes: different,
    }
}

fn choice(s: &Snapshot, bundle: &Bundle<Elastic>, now: Timestamp) -> SnapshotChoice {
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
fn choose_kibana_snapshot(
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
const REJECTED_SHOWN: usize = 10;

/// Why a snapshot holding the `kibana` feature state cannot bring Kibana back, if it cannot.
fn rejection(s: &Snapshot, upgrade: &Upgrade) -> Option<String> {
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
fn choose_es_snapshot(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::elastic::facts::{EsNode, FeatureState};

    fn cluster(versions: &[&str]) -> Bundle<Elastic> {
        let mut bundle = Bundle::<Elastic>::new(Timestamp::UNIX_EPOCH);
        bundle.facts.nodes = Some(
            versions
                .iter()
                .enumerate()
                .map(|(i, v)| EsNode {
                    id: format!("n{i}"),
                    name: format!("es-{i}"),
                    version: Some((*v).to_string()),
                    roles: vec![],
                    ip: None,
                    publish_address: None,
                    k8s_node_name: None,
                })
                .collect(),
        );
        bundle
    }

    fn snapshot(version: &str, kibana_indices: &[&str]) -> Snapshot {
        Snapshot {
            repository: "backups".into(),
            snapshot: "pre-upgrade".into(),
            uuid: None,
            state: "SUCCESS".into(),
            version: Some(version.into()),
            include_global_state: Some(true),
            start_time: None,
            end_time: None,
            feature_states: vec![FeatureState {
                feature_name: "kibana".into(),
                indices: kibana_indices.iter().map(|i| (*i).to_string()).collect(),
            }],
            shards_failed: None,
        }
    }

    fn rollback_to(from: &str) -> Upgrade {
        Upgrade {
            basis: UpgradeBasis {
                from: Some(from.into()),
                to: Some("8.18.0".into()),
                from_source: "--from".into(),
                to_source: "--to".into(),
                kind: "minor".into(),
                started_at: None,
                started_at_source: String::new(),
            },
            kibana_version: Some(from.into()),
        }
    }

    /// A node without a version makes Kibana refuse (its own rule), but what it runs is
    /// unknown: the node is to be fixed, not the whole cluster restored. A node with a known
    /// version that refuses still decides.
    #[test]
    fn a_node_without_a_version_alone_never_sends_elasticsearch_back() {
        let mut bundle = cluster(&["8.18.0", "8.18.0"]);
        if let Some(nodes) = bundle.facts.nodes.as_mut() {
            nodes[1].version = None;
        }
        let upgrade = rollback_to("8.17.3");
        let compat = kibana_compat(&bundle, Mode::Rollback, &upgrade);
        assert_eq!(
            compat.accepted,
            Some(false),
            "Kibana counts it as incompatible"
        );
        let back = es_rollback(Mode::Rollback, &upgrade, &compat);
        assert_eq!(back.needed, None);
        assert!(
            back.undecided
                .is_some_and(|why| why.contains("es-1 (no version)"))
        );

        let mut bundle = cluster(&["9.0.0", "9.0.0"]);
        if let Some(nodes) = bundle.facts.nodes.as_mut() {
            nodes[1].version = None;
        }
        let compat = kibana_compat(&bundle, Mode::Rollback, &upgrade);
        let back = es_rollback(Mode::Rollback, &upgrade, &compat);
        assert_eq!(back.needed, Some(true), "a 9.0 node refuses Kibana 8.17.3");
    }

    /// Elastic's snapshot-compatibility table: an index restores as a regular index only into
    /// its own major or the next; a snapshot never into an older Elasticsearch.
    #[test]
    fn snapshot_compatibility_table() {
        let nine = cluster(&["9.0.3", "9.0.3"]);
        // Taken by 8.19, but the kibana index was created in 7.17 (reused since 8.6): into 9.x
        // only as an archive index, never as a feature state.
        let old = restorable(&snapshot("8.19.2", &[".kibana_7.17.9_001"]), &nine);
        assert!(
            old.as_ref()
                .is_ok_and(|r| r.as_ref().is_err_and(|why| why.contains("created by 7.17"))),
            "{old:?}"
        );
        assert_eq!(
            restorable(&snapshot("8.19.2", &[".kibana_8.19.2_001"]), &nine),
            Ok(Ok(()))
        );
        // Newer than a node: never.
        let newer = restorable(&snapshot("9.1.0", &[".kibana_9.1.0_001"]), &nine);
        assert!(newer.is_ok_and(|r| r.is_err_and(|why| why.contains("newer than node"))));
        // 7.x indices into 8.x are fine (the previous major).
        let eight = cluster(&["8.15.3"]);
        assert_eq!(
            restorable(&snapshot("7.17.9", &[".kibana_7.17.9_001"]), &eight),
            Ok(Ok(()))
        );
        // 6.8 indices cannot go into 7.0 or 7.1.
        let seven_one = cluster(&["7.1.1"]);
        assert!(restorable(&snapshot("6.8.23", &[]), &seven_one).is_ok_and(|r| r.is_err()));
        // A node whose version does not parse leaves it unjudged, unless another refuses.
        let odd = cluster(&["9.0.3", "615c621a"]);
        assert!(restorable(&snapshot("8.19.2", &[".kibana_8.19.2_001"]), &odd).is_err());
    }

    #[test]
    fn splits_version_aliases() {
        assert_eq!(
            split_version_alias(".kibana_8.17.3"),
            Some((".kibana".into(), "8.17.3".into()))
        );
        assert_eq!(
            split_version_alias(".kibana_task_manager_8.18.0"),
            Some((".kibana_task_manager".into(), "8.18.0".into()))
        );
        assert_eq!(split_version_alias(".kibana_1"), None);
        assert_eq!(split_version_alias(".kibana"), None);
        assert_eq!(split_version_alias(".kibana-event-log-8.17.3"), None);
    }

    #[test]
    fn index_versions() {
        assert_eq!(
            index_version(".kibana_8.18.0_001").as_deref(),
            Some("8.18.0")
        );
        assert_eq!(
            index_version(".kibana_8.18.0_reindex_temp").as_deref(),
            Some("8.18.0")
        );
        assert_eq!(
            index_version(".kibana_analytics_8.17.3_001").as_deref(),
            Some("8.17.3")
        );
        assert_eq!(index_version(".kibana_1"), None);
        assert_eq!(index_version(".kibana_security_session_1"), None);
    }
}
