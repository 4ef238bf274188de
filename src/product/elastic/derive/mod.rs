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

mod compat;
mod migration;
mod rollback_path;
mod snapshots;

pub(crate) use compat::*;
pub(crate) use migration::*;
pub(crate) use rollback_path::*;
pub(crate) use snapshots::*;

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
