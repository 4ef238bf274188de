//! GitHub Enterprise Server: what the rules and plans need beyond the raw Manage API facts.
//!
//! Operator flags win over collected values (the primary may be down, the API may be older
//! than 3.9), and every derived value says where it came from. Pure: one clock, no I/O.

use super::Ghes;
use super::facts::{GhesFacts, GhesOperator};
use crate::base::version::{self, cmp_lenient as cmp};
use crate::model::facts::Bundle;
use crate::model::upgrade::{Mode, UpgradeBasis};
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The GHES feature releases, shipped with the rules (`rules/ghes/releases.json`).
pub(crate) const RELEASES_JSON: &str = include_str!("../../../rules/ghes/releases.json");

/// GA and end of support of one feature release.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Release {
    pub(crate) ga: String,
    pub(crate) end_of_support: String,
}

#[derive(Debug, serde::Deserialize)]
struct ReleaseFile {
    releases: BTreeMap<String, Release>,
}

/// Every known feature release (`3.14` → dates), oldest first, parsed once.
static RELEASES: std::sync::LazyLock<Vec<(String, Release)>> = std::sync::LazyLock::new(|| {
    let file: ReleaseFile = serde_json::from_str(RELEASES_JSON).unwrap_or(ReleaseFile {
        releases: BTreeMap::new(),
    });
    let mut list: Vec<(String, Release)> = file.releases.into_iter().collect();
    list.sort_by_key(|(series, _)| series_key(series));
    list
});

/// Every known feature release (`3.14` → dates), oldest first.
pub(crate) fn releases() -> &'static [(String, Release)] {
    &RELEASES
}

fn series_key(series: &str) -> (u64, u64) {
    let mut parts = series.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// `3.15.2` → `3.15`.
pub(crate) fn series(v: &str) -> Option<String> {
    let v = version::parse_lenient(v).ok()?;
    Some(format!("{}.{}", v.major, v.minor))
}

/// One node as the rules see it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct NodeVersion {
    pub(crate) hostname: String,
    pub(crate) version: String,
    /// `primary` or `replica`.
    pub(crate) role: String,
    /// `api` or `--replica`.
    pub(crate) source: String,
}

/// The GHES upgrade: the basis (`kind`: `patch` for the same X.Y, `feature` otherwise) plus
/// how far apart the feature releases are.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct GhesUpgrade {
    #[serde(flatten)]
    pub(crate) basis: UpgradeBasis,
    /// How many feature releases `to` is ahead of `from` (0 for a patch).
    pub(crate) feature_releases_ahead: Option<i64>,
}

impl std::ops::Deref for GhesUpgrade {
    type Target = UpgradeBasis;

    fn deref(&self) -> &UpgradeBasis {
        &self.basis
    }
}

pub(crate) use super::vm_snapshot::VmSnapshot;

/// Support status of the target's feature release.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct ReleaseStatus {
    pub(crate) series: Option<String>,
    pub(crate) known: bool,
    /// Newer than every feature release the table lists: a release ripcord's data predates,
    /// whose dates were not checked (a rule says `unknown`, never pass or fail, for it).
    pub(crate) beyond_table: bool,
    /// The newest feature release the table lists (`3.23`).
    pub(crate) table_until: Option<String>,
    pub(crate) ga: Option<String>,
    pub(crate) end_of_support: Option<String>,
    pub(crate) past_end_of_support: Option<bool>,
    /// Generally available by now (`false`: a release before its GA date is not supported).
    pub(crate) released: Option<bool>,
    /// A patch GitHub documents upgrade problems with (`rules/ghes/known-upgrade-issues.json`).
    pub(crate) known_issue: Option<KnownIssue>,
}

/// A documented upgrade problem with early patches of a feature release.
#[derive(Debug, Clone, Serialize, JsonSchema, serde::Deserialize)]
pub(crate) struct KnownIssue {
    pub(crate) series: String,
    /// The first patch GitHub recommends.
    pub(crate) fixed_in: String,
    pub(crate) reason: String,
    pub(crate) source: String,
}

/// Known upgrade problems, shipped with the rules (`rules/ghes/known-upgrade-issues.json`).
pub(crate) const KNOWN_ISSUES_JSON: &str =
    include_str!("../../../rules/ghes/known-upgrade-issues.json");

#[derive(serde::Deserialize)]
struct KnownIssuesFile {
    issues: Vec<KnownIssue>,
}

/// The known issue `to` falls in: same series, older than the fixed patch.
static KNOWN_ISSUES: std::sync::LazyLock<Vec<KnownIssue>> = std::sync::LazyLock::new(|| {
    serde_json::from_str::<KnownIssuesFile>(KNOWN_ISSUES_JSON)
        .map(|f| f.issues)
        .unwrap_or_default()
});

fn known_issue(to: &str) -> Option<KnownIssue> {
    let series = series(to)?;
    KNOWN_ISSUES
        .iter()
        .find(|i| {
            i.series == series
                && version::compare(to, &i.fixed_in).is_ok_and(|o| o == Ordering::Less)
        })
        .cloned()
}

/// Everything derived for the GHES rules and plans.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct GhesDerived {
    pub(crate) mode: Mode,
    pub(crate) now: Timestamp,
    pub(crate) upgrade: GhesUpgrade,
    pub(crate) platform: Option<String>,
    pub(crate) platform_source: String,
    pub(crate) primary: Option<String>,
    /// Primary first, then replicas by hostname.
    pub(crate) nodes: Vec<NodeVersion>,
    pub(crate) replicas: Vec<NodeVersion>,
    /// High availability: at least one replica.
    pub(crate) ha: bool,
    pub(crate) node_versions: Vec<String>,
    pub(crate) nodes_uniform: bool,
    /// A replica still on `from` (rollback: promoting it is an alternative).
    pub(crate) promotable_replica: Option<String>,
    /// `ghe-repl-stop-all` / `ghe-repl-start-all` exist on both ends (3.14+).
    pub(crate) repl_all_commands: bool,
    pub(crate) vm_snapshot: VmSnapshot,
    pub(crate) to_release: ReleaseStatus,
    /// What the upgrade kind means for a rollback, in one sentence.
    pub(crate) rollback_meaning: String,
    pub(crate) hotpatch_note: String,
    /// `SingleNode`, `Ha`, `Cluster`, or unknown when the API did not answer.
    pub(crate) topology: Option<String>,
}

/// Derives the GHES view of a bundle for `mode`.
pub(crate) fn derive(bundle: &Bundle<Ghes>, mode: Mode) -> GhesDerived {
    let now = bundle.collected_at;
    let op = &bundle.operator;
    let empty = GhesFacts::default();
    let facts = bundle.facts.as_ref().unwrap_or(&empty);
    let nodes = nodes(facts, op);
    let primary = nodes
        .iter()
        .find(|n| n.role == "primary")
        .map(|n| n.hostname.clone());
    let primary_version = nodes
        .iter()
        .find(|n| n.role == "primary")
        .map(|n| n.version.clone());
    let replicas: Vec<NodeVersion> = nodes
        .iter()
        .filter(|n| n.role == "replica")
        .cloned()
        .collect();

    let (to, to_source) = match (&op.to, mode, &primary_version) {
        (Some(v), _, _) => (Some(v.clone()), "--to".to_string()),
        (None, Mode::Rollback, Some(v)) => (Some(v.clone()), "the primary's version".to_string()),
        (None, Mode::Rollback, None) => (
            None,
            "unknown: no primary identified (the Manage API did not answer or listed no version); pass --to".to_string(),
        ),
        (None, Mode::Preflight, _) => (None, "missing: pass --to".to_string()),
    };
    let (from, from_source) = match (&op.from, mode) {
        (Some(v), _) => (Some(v.clone()), "--from".to_string()),
        (None, Mode::Rollback) => {
            let older = replicas
                .iter()
                .filter(|r| {
                    to.as_deref()
                        .is_none_or(|t| cmp(&r.version, t) == Ordering::Less)
                })
                .map(|r| r.version.clone())
                .min_by(|a, b| cmp(a, b));
            match older {
                Some(v) => (Some(v), "a replica still on the old version".to_string()),
                None => (
                    None,
                    "unknown: no replica is on an older version; pass --from".to_string(),
                ),
            }
        }
        (None, Mode::Preflight) => match &primary_version {
            Some(v) => (Some(v.clone()), "the primary's version".to_string()),
            None => (
                None,
                "unknown: no primary identified (the Manage API did not answer or listed no version); pass --from".to_string(),
            ),
        },
    };
    let (started_at, started_at_source) = match (op.upgrade_started_at, mode) {
        (Some(t), _) => (Some(t), "--upgrade-started-at".to_string()),
        (None, Mode::Preflight) => (Some(now), "now (the upgrade has not started)".to_string()),
        (None, Mode::Rollback) => (None, "unknown: pass --upgrade-started-at".to_string()),
    };
    let (kind, ahead) = kind_and_distance(from.as_deref(), to.as_deref());
    let platform_api = facts
        .versions
        .iter()
        .flatten()
        .find(|n| Some(&n.hostname) == primary.as_ref())
        .or_else(|| facts.versions.iter().flatten().next())
        .and_then(|n| n.platform.clone());
    let (platform, platform_source) = match (&op.platform, platform_api) {
        (Some(p), _) => (Some(p.clone()), "--platform".to_string()),
        (None, Some(p)) => (Some(p), "the Manage API (version.platform)".to_string()),
        (None, None) => (None, "unknown: pass --platform".to_string()),
    };
    let mut node_versions: Vec<String> = nodes.iter().map(|n| n.version.clone()).collect();
    node_versions.sort_by(|a, b| cmp(a, b));
    node_versions.dedup();
    let promotable_replica = from
        .as_deref()
        .and_then(|f| {
            replicas
                .iter()
                .find(|r| version::same_release(&r.version, f).unwrap_or(false))
        })
        .map(|r| r.hostname.clone());
    let has_all = |v: Option<&str>| {
        v.and_then(|v| version::parse_lenient(v).ok())
            .is_some_and(|v| (v.major, v.minor) >= (3, 14))
    };
    let repl_all_commands = has_all(from.as_deref()) && has_all(to.as_deref());
    let vm_snapshot = super::vm_snapshot::judge(
        &super::vm_snapshot::Declared {
            id: op.vm_snapshot.as_deref(),
            taken_at: op.vm_snapshot_taken_at,
            vm: op.vm.as_deref(),
            platform: platform.as_deref(),
            cutoff: started_at,
            now,
        },
        facts.vm.as_ref(),
    );
    let to_release = release_status(to.as_deref(), now);
    let rollback_meaning = match kind.as_str() {
        "patch" => "a patch release runs no data migrations: roll back in place with ghe-upgrade --allow-patch-rollback and the full .pkg of the old patch (a hotpatch .hpkg cannot roll back)".to_string(),
        "feature" => "a feature release migrates data: only restoring the VM snapshot taken before the upgrade brings it back (root and data partitions must stay consistent)".to_string(),
        _ => "the upgrade kind is unknown until both versions are known".to_string(),
    };
    let hotpatch_note = if kind == "patch" {
        "if the failed upgrade was a hotpatch (.hpkg), roll back with the full upgrade package of the old patch all the same, and stop replication first".to_string()
    } else {
        "hotpatches apply to patch releases only; a feature release needs the full upgrade package"
            .to_string()
    };
    GhesDerived {
        mode,
        now,
        upgrade: GhesUpgrade {
            basis: UpgradeBasis {
                from,
                to,
                from_source,
                to_source,
                kind,
                started_at,
                started_at_source,
            },
            feature_releases_ahead: ahead,
        },
        platform,
        platform_source,
        primary,
        ha: !replicas.is_empty()
            || facts.topology.as_ref().is_some_and(|t| t.topology == "Ha")
            || facts
                .replication
                .iter()
                .flat_map(|r| r.nodes.iter())
                .any(|n| !n.services.is_empty()),
        nodes_uniform: node_versions.len() <= 1,
        node_versions,
        nodes,
        replicas,
        promotable_replica,
        repl_all_commands,
        vm_snapshot,
        to_release,
        rollback_meaning,
        hotpatch_note,
        topology: facts.topology.as_ref().map(|t| t.topology.clone()),
    }
}

/// Primary and replicas, then `--replica` flags (which win).
///
/// Only hosts that reported a version count. The primary is, in order: a `config/nodes` node
/// flagged `replica: false`; the `replication/status` node without services (the documented
/// primary); the first `/version` entry (the API answers from the primary). Every other
/// versioned host is a replica. `config/nodes` alone never decides, since its example names
/// other hosts than the version and replication bodies.
fn nodes(facts: &GhesFacts, op: &GhesOperator) -> Vec<NodeVersion> {
    let versions: Vec<(&str, &str)> = facts
        .versions
        .iter()
        .flatten()
        .map(|n| (n.hostname.as_str(), n.version.as_str()))
        .collect();
    let versioned = |h: &str| versions.iter().any(|(v, _)| *v == h);
    let config = facts
        .topology
        .as_ref()
        .map(|t| t.nodes.as_slice())
        .unwrap_or_default();
    let primary = config
        .iter()
        .find(|n| n.replica == Some(false) && versioned(&n.hostname))
        .map(|n| n.hostname.clone())
        .or_else(|| {
            facts
                .replication
                .iter()
                .flat_map(|r| r.nodes.iter())
                .find(|n| n.services.is_empty() && versioned(&n.hostname))
                .map(|n| n.hostname.clone())
        })
        .or_else(|| versions.first().map(|(h, _)| (*h).to_string()));
    let mut out: Vec<NodeVersion> = versions
        .iter()
        .map(|(h, v)| NodeVersion {
            hostname: (*h).to_string(),
            version: (*v).to_string(),
            role: if Some(*h) == primary.as_deref() {
                "primary"
            } else {
                "replica"
            }
            .into(),
            source: "api".into(),
        })
        .collect();
    for r in &op.replicas {
        out.retain(|n| n.hostname != r.hostname);
        out.push(NodeVersion {
            hostname: r.hostname.clone(),
            version: r.version.clone(),
            role: "replica".into(),
            source: "--replica".into(),
        });
    }
    out.sort_by(|a, b| (a.role != "primary", &a.hostname).cmp(&(b.role != "primary", &b.hostname)));
    out
}

fn kind_and_distance(from: Option<&str>, to: Option<&str>) -> (String, Option<i64>) {
    let (Some(f), Some(t)) = (from, to) else {
        return ("unknown".into(), None);
    };
    let (Ok(fv), Ok(tv)) = (version::parse_lenient(f), version::parse_lenient(t)) else {
        return ("unknown".into(), None);
    };
    if (fv.major, fv.minor) == (tv.major, tv.minor) {
        return ("patch".into(), Some(0));
    }
    let list = releases();
    let index = |s: String| list.iter().position(|(k, _)| *k == s);
    let ahead = match (
        index(format!("{}.{}", fv.major, fv.minor)),
        index(format!("{}.{}", tv.major, tv.minor)),
    ) {
        (Some(a), Some(b)) => Some(b as i64 - a as i64),
        _ if fv.major == tv.major => Some(tv.minor as i64 - fv.minor as i64),
        _ => None,
    };
    ("feature".into(), ahead)
}

fn release_status(to: Option<&str>, now: Timestamp) -> ReleaseStatus {
    let series = to.and_then(series);
    let found = series
        .as_ref()
        .and_then(|s| releases().iter().find(|(k, _)| k == s))
        .map(|(_, r)| r);
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let past = found.as_ref().and_then(|r| {
        let eos: jiff::civil::Date = r.end_of_support.parse().ok()?;
        Some(today > eos)
    });
    let released = found.as_ref().and_then(|r| {
        let ga: jiff::civil::Date = r.ga.parse().ok()?;
        Some(today >= ga)
    });
    let newest = releases().last().map(|(k, _)| k.clone());
    let beyond_table = found.is_none()
        && series
            .as_deref()
            .zip(newest.as_deref())
            .is_some_and(|(s, n)| series_key(s) > series_key(n));
    ReleaseStatus {
        beyond_table,
        table_until: newest,
        series,
        known: found.is_some(),
        ga: found.as_ref().map(|r| r.ga.clone()),
        end_of_support: found.as_ref().map(|r| r.end_of_support.clone()),
        past_end_of_support: past,
        released,
        known_issue: to.and_then(known_issue),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_data_parses_and_is_ordered() {
        let list = releases();
        assert!(list.len() >= 24);
        assert_eq!(
            list.iter().position(|(k, _)| k == "3.9").unwrap() + 1,
            list.iter().position(|(k, _)| k == "3.10").unwrap()
        );
    }

    #[test]
    fn kinds_and_distance() {
        assert_eq!(
            kind_and_distance(Some("3.14.6"), Some("3.14.8")),
            ("patch".into(), Some(0))
        );
        assert_eq!(
            kind_and_distance(Some("3.14.6"), Some("3.16.1")),
            ("feature".into(), Some(2))
        );
        assert_eq!(
            kind_and_distance(Some("3.14.6"), Some("3.17.0")),
            ("feature".into(), Some(3))
        );
        assert_eq!(kind_and_distance(None, Some("3.17.0")).0, "unknown");
    }
}
