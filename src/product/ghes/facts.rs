//! The GitHub Enterprise Server facts: what the Manage API (`/manage/v1/…`) answered, and what
//! the operator states about the instance (flags), as a bundle records them.

use crate::model::upgrade::{Declared, prefer};
use crate::product::{FactsSection, OperatorFacts};
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The endpoint that was asked (credentials are never part of a URL we keep).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GhesTarget {
    /// The Manage API base URL (`https://host:8443`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ghes: Option<String>,
}

impl GhesTarget {
    /// The host of the `--ghes` URL: the primary's name when the Manage API gave none.
    pub(crate) fn host(&self) -> Option<String> {
        let url = url::Url::parse(self.ghes.as_deref()?).ok()?;
        url.host_str().map(str::to_string)
    }
}

/// Facts only the operator knows; recorded in the bundle, overridden by flags at evaluation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GhesOperator {
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    pub(crate) upgrade_started_at: Option<Timestamp>,
    /// `--platform` (overrides what the Manage API reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) platform: Option<String>,
    /// `--replica HOSTNAME=VERSION`, for when the primary cannot answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) replicas: Vec<ReplicaVersion>,
    /// `--vm-snapshot ID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) vm_snapshot: Option<String>,
    /// `--vm-snapshot-taken-at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) vm_snapshot_taken_at: Option<Timestamp>,
    /// `--vm`: the primary's VM on its platform, whose snapshots were read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) vm: Option<String>,
}

impl OperatorFacts for GhesOperator {
    fn declared(&self) -> Declared<'_> {
        Declared {
            to: self.to.as_deref(),
        }
    }

    fn declared_mut(&mut self) -> [(&'static str, &mut Option<String>); 2] {
        [("--from", &mut self.from), ("--to", &mut self.to)]
    }

    /// Flags win; replicas are merged by host.
    fn merge(&mut self, flags: Self) {
        prefer(&mut self.from, flags.from);
        prefer(&mut self.to, flags.to);
        prefer(&mut self.upgrade_started_at, flags.upgrade_started_at);
        prefer(&mut self.platform, flags.platform);
        prefer(&mut self.vm_snapshot, flags.vm_snapshot);
        prefer(&mut self.vm_snapshot_taken_at, flags.vm_snapshot_taken_at);
        prefer(&mut self.vm, flags.vm);
        for r in flags.replicas {
            self.replicas.retain(|x| x.hostname != r.hostname);
            self.replicas.push(r);
        }
    }
}

/// The facts section: `None` when no Manage API URL was given (facts from flags only).
impl FactsSection for Option<GhesFacts> {
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

/// A replica and its version, as the operator states it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplicaVersion {
    pub(crate) hostname: String,
    pub(crate) version: String,
}

/// Everything collected from the GHES Manage API (`/manage/v1/…`). `None`: not collected.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GhesFacts {
    /// `GET /manage/v1/version`: every node's version and platform.
    pub(crate) versions: Option<Vec<GhesNodeVersion>>,
    /// `GET /manage/v1/config/nodes`.
    pub(crate) topology: Option<GhesTopology>,
    /// `GET /manage/v1/replication/status`.
    pub(crate) replication: Option<GhesReplication>,
    /// `GET /manage/v1/maintenance`.
    pub(crate) maintenance: Option<Vec<GhesMaintenance>>,
    /// `GET /manage/v1/checks/system-requirements`.
    pub(crate) system_requirements: Option<GhesSystemRequirements>,
    /// The primary's VM disks and their snapshots, read from its platform (`--vm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) vm: Option<super::platform::VmEvidence>,
}

/// One node of `GET /manage/v1/version`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GhesNodeVersion {
    pub(crate) hostname: String,
    pub(crate) version: String,
    /// `ami`, `azure`, `esx`, `gce`, `hyperv` or `kvm`.
    pub(crate) platform: Option<String>,
    pub(crate) build_id: Option<String>,
    pub(crate) build_date: Option<String>,
}

/// `GET /manage/v1/config/nodes`.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub(crate) struct GhesTopology {
    /// `SingleNode`, `Ha` or `Cluster`.
    pub(crate) topology: String,
    #[serde(default)]
    pub(crate) nodes: Vec<GhesConfigNode>,
}

/// One configured node.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub(crate) struct GhesConfigNode {
    pub(crate) hostname: String,
    pub(crate) uuid: Option<String>,
    pub(crate) replica: Option<bool>,
    #[serde(default)]
    pub(crate) cluster_roles: Vec<String>,
}

/// `GET /manage/v1/replication/status`.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub(crate) struct GhesReplication {
    /// `UNKNOWN`, `OK`, `WARNING` or `CRITICAL`.
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) nodes: Vec<GhesReplicationNode>,
}

/// One node's replication status.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub(crate) struct GhesReplicationNode {
    pub(crate) hostname: String,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) services: Vec<GhesService>,
}

/// One replicated service.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub(crate) struct GhesService {
    pub(crate) name: String,
    pub(crate) status: String,
    pub(crate) details: Option<String>,
}

/// One node of `GET /manage/v1/maintenance`.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub(crate) struct GhesMaintenance {
    pub(crate) hostname: String,
    /// `on`, `off` or `scheduled`.
    pub(crate) status: String,
    pub(crate) can_unset_maintenance: Option<bool>,
}

/// `GET /manage/v1/checks/system-requirements`.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub(crate) struct GhesSystemRequirements {
    /// `OK` or `FAILED`.
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) nodes: Vec<GhesRequirementNode>,
}

/// One node's system-requirements status.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub(crate) struct GhesRequirementNode {
    pub(crate) hostname: String,
    pub(crate) status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(hostname: &str, version: &str) -> ReplicaVersion {
        ReplicaVersion {
            hostname: hostname.into(),
            version: version.into(),
        }
    }

    #[test]
    fn flags_win_and_replicas_merge_by_host() {
        let mut recorded = GhesOperator {
            from: Some("3.14.6".into()),
            to: Some("3.15.2".into()),
            platform: Some("esx".into()),
            replicas: vec![replica("r1", "3.14.6"), replica("r2", "3.14.6")],
            ..GhesOperator::default()
        };
        recorded.merge(GhesOperator {
            to: Some("3.15.3".into()),
            replicas: vec![replica("r2", "3.15.3")],
            ..GhesOperator::default()
        });
        assert_eq!(recorded.from.as_deref(), Some("3.14.6"), "kept");
        assert_eq!(recorded.to.as_deref(), Some("3.15.3"), "the flag wins");
        assert_eq!(recorded.platform.as_deref(), Some("esx"));
        assert_eq!(
            recorded.replicas,
            vec![replica("r1", "3.14.6"), replica("r2", "3.15.3")]
        );
    }
}
