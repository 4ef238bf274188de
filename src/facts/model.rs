//! The typed facts: the single contract between gathering (live collection or a bundle) and
//! judging (derive, rules, plan). Only the fields ripcord uses are kept; each is named after
//! the vendor's field it comes from so a reader can trace it back to the API body.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Schema tag of a facts bundle; bumped only on an incompatible change.
pub const FACTS_SCHEMA: &str = "ripcord.facts/v1";

/// One facts bundle: what was collected, what could not be, and every request made.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub schema: String,
    pub tool_version: String,
    pub product: String,
    /// The one clock every age is computed from.
    pub collected_at: Timestamp,
    pub target: Target,
    #[serde(default)]
    pub operator: OperatorFacts,
    #[serde(default, skip_serializing_if = "ElasticFacts::is_empty")]
    pub elastic: ElasticFacts,
    /// GitHub Enterprise Server facts (product `ghes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ghes: Option<GhesFacts>,
    /// What could not be collected, so rules can say `unknown` with the reason.
    #[serde(default)]
    pub failures: Vec<CollectFailure>,
    /// The audit trail of the read-only promise: every request, its method and status.
    #[serde(default)]
    pub requests: Vec<RequestRecord>,
}

/// The endpoints that were asked (credentials are never part of a URL we keep).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub es: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kibana: Vec<String>,
    /// The GHES Manage API base URL (`https://host:8443`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ghes: Option<String>,
}

/// Facts only the operator knows; recorded in the bundle, overridden by flags at evaluation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OperatorFacts {
    pub from: Option<String>,
    pub to: Option<String>,
    pub upgrade_started_at: Option<Timestamp>,
    /// GHES: `--platform` (overrides what the Manage API reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// GHES: `--replica HOSTNAME=VERSION`, for when the primary cannot answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<ReplicaVersion>,
    /// GHES: `--vm-snapshot ID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_snapshot: Option<String>,
    /// GHES: `--vm-snapshot-taken-at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_snapshot_taken_at: Option<Timestamp>,
}

/// A replica and its version, as the operator states it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReplicaVersion {
    pub hostname: String,
    pub version: String,
}

/// Everything collected from the GHES Manage API (`/manage/v1/…`). `None`: not collected.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GhesFacts {
    /// `GET /manage/v1/version`: every node's version and platform.
    pub versions: Option<Vec<GhesNodeVersion>>,
    /// `GET /manage/v1/config/nodes`.
    pub topology: Option<GhesTopology>,
    /// `GET /manage/v1/replication/status`.
    pub replication: Option<GhesReplication>,
    /// `GET /manage/v1/maintenance`.
    pub maintenance: Option<Vec<GhesMaintenance>>,
    /// `GET /manage/v1/checks/system-requirements`.
    pub system_requirements: Option<GhesSystemRequirements>,
}

/// One node of `GET /manage/v1/version`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GhesNodeVersion {
    pub hostname: String,
    pub version: String,
    /// `ami`, `azure`, `esx`, `gce`, `hyperv` or `kvm`.
    pub platform: Option<String>,
    pub build_id: Option<String>,
    pub build_date: Option<String>,
}

/// `GET /manage/v1/config/nodes`.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GhesTopology {
    /// `SingleNode`, `Ha` or `Cluster`.
    pub topology: String,
    #[serde(default)]
    pub nodes: Vec<GhesConfigNode>,
}

/// One configured node.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GhesConfigNode {
    pub hostname: String,
    pub uuid: Option<String>,
    pub replica: Option<bool>,
    #[serde(default)]
    pub cluster_roles: Vec<String>,
}

/// `GET /manage/v1/replication/status`.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GhesReplication {
    /// `UNKNOWN`, `OK`, `WARNING` or `CRITICAL`.
    pub status: String,
    #[serde(default)]
    pub nodes: Vec<GhesReplicationNode>,
}

/// One node's replication status.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GhesReplicationNode {
    pub hostname: String,
    pub status: String,
    #[serde(default)]
    pub services: Vec<GhesService>,
}

/// One replicated service.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GhesService {
    pub name: String,
    pub status: String,
    pub details: Option<String>,
}

/// One node of `GET /manage/v1/maintenance`.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GhesMaintenance {
    pub hostname: String,
    /// `on`, `off` or `scheduled`.
    pub status: String,
    pub can_unset_maintenance: Option<bool>,
}

/// `GET /manage/v1/checks/system-requirements`.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GhesSystemRequirements {
    /// `OK` or `FAILED`.
    pub status: String,
    #[serde(default)]
    pub nodes: Vec<GhesRequirementNode>,
}

/// One node's system-requirements status.
// NOTE: deserialized straight from the Manage API, which adds fields: no deny_unknown_fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GhesRequirementNode {
    pub hostname: String,
    pub status: String,
}

/// Everything collected from Elasticsearch and Kibana. `None` means "not collected" (see
/// `Bundle::failures` for why); an empty list means "collected, and there were none".
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ElasticFacts {
    pub cluster: Option<ClusterInfo>,
    pub nodes: Option<Vec<EsNode>>,
    pub health: Option<ClusterHealth>,
    pub repositories: Option<Vec<Repository>>,
    pub snapshots: Option<Vec<Snapshot>>,
    pub kibana_indices: Option<Vec<KibanaIndex>>,
    pub features: Option<Vec<String>>,
    pub system_features: Option<SystemFeatures>,
    pub deprecations: Option<Vec<Deprecation>>,
    #[serde(default)]
    pub kibana: Vec<KibanaInstance>,
}

impl ElasticFacts {
    /// Nothing collected (a GHES bundle): the field is left out of the file.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// `GET /`: the responding node's view of the cluster.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusterInfo {
    pub cluster_name: Option<String>,
    pub cluster_uuid: Option<String>,
    /// `version.number` of the node that answered (mid rolling upgrade nodes differ).
    pub version: Option<String>,
}

/// One node of `GET _nodes`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EsNode {
    pub id: String,
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub ip: Option<String>,
    pub publish_address: Option<String>,
}

/// `GET _cluster/health`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusterHealth {
    pub status: String,
    pub number_of_nodes: Option<i64>,
    pub unassigned_shards: Option<i64>,
    pub relocating_shards: Option<i64>,
    pub initializing_shards: Option<i64>,
}

/// A registered snapshot repository (`GET _snapshot`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Repository {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The repository settings (bucket, path, …), so a new cluster can register it the same
    /// way in an Elasticsearch rollback. Credentials live in the keystore, never here.
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
}

/// One snapshot of the verbose get-snapshot API, without its index list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub repository: String,
    pub snapshot: String,
    pub uuid: Option<String>,
    /// `SUCCESS`, `PARTIAL`, `FAILED`, `IN_PROGRESS` or `INCOMPATIBLE`.
    pub state: String,
    /// The ES version that took the snapshot (absent for `INCOMPATIBLE`).
    pub version: Option<String>,
    pub include_global_state: Option<bool>,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    /// Feature states in the snapshot; missing in the API (pre-7.12) means none.
    #[serde(default)]
    pub feature_states: Vec<FeatureState>,
    pub shards_failed: Option<i64>,
}

/// A feature state captured by a snapshot (`feature_states[]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeatureState {
    pub feature_name: String,
    #[serde(default)]
    pub indices: Vec<String>,
}

/// A `.kibana*` system index, its aliases and creation time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KibanaIndex {
    pub index: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub created_at: Option<Timestamp>,
}

/// `GET _migration/system_features`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SystemFeatures {
    pub migration_status: String,
    #[serde(default)]
    pub features: Vec<SystemFeature>,
}

/// One feature of `_migration/system_features`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SystemFeature {
    pub feature_name: String,
    pub migration_status: String,
    pub minimum_index_version: Option<String>,
}

/// One item of `_migration/deprecations`, flattened with where it was found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Deprecation {
    /// The response key: `cluster_settings`, `node_settings`, `index_settings`, …
    pub area: String,
    /// The index, data stream, template or policy it concerns, for keyed areas.
    pub resource: Option<String>,
    /// `none`, `info`, `warning` or `critical`.
    pub level: String,
    pub message: String,
    pub url: Option<String>,
}

/// What one `--kibana` instance answered on `GET /api/status`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KibanaInstance {
    pub url: String,
    /// `running` (answers), `starting` (503 while booting or migrating), `stopped` (connection
    /// refused) or `unreachable` (timeout, TLS or DNS failure: we cannot tell).
    pub state: String,
    pub http_status: Option<u16>,
    pub name: Option<String>,
    pub version: Option<String>,
    /// Overall level in v8 terms: `available`, `degraded`, `unavailable`, `critical`.
    pub level: Option<String>,
    pub summary: Option<String>,
    /// What this Kibana says about its Elasticsearch connection.
    pub elasticsearch_summary: Option<String>,
}

/// Something that could not be collected, and what to do about it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CollectFailure {
    /// The fact group it leaves unknown, e.g. `es.snapshots`.
    pub group: String,
    /// `GET /_snapshot/...` as requested (no credentials).
    pub endpoint: String,
    pub status: Option<u16>,
    pub reason: String,
    pub hint: Option<String>,
}

/// One request in the audit log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RequestRecord {
    pub method: String,
    pub url: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub error: Option<String>,
}

impl Bundle {
    /// An empty bundle for `product`, collected at `now`.
    pub fn new(product: &str, now: Timestamp) -> Self {
        Self {
            schema: FACTS_SCHEMA.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            product: product.to_string(),
            collected_at: now,
            target: Target::default(),
            operator: OperatorFacts::default(),
            elastic: ElasticFacts::default(),
            ghes: None,
            failures: Vec::new(),
            requests: Vec::new(),
        }
    }

    /// The fact groups that were collected, for rules' `requires`.
    pub fn available_groups(&self) -> BTreeMap<&'static str, bool> {
        let e = &self.elastic;
        let kibana_known = !self.target.kibana.is_empty()
            && e.kibana.len() == self.target.kibana.len()
            && e.kibana.iter().all(|k| k.state != "unreachable");
        BTreeMap::from([
            ("es.cluster", e.cluster.is_some()),
            ("es.nodes", e.nodes.as_ref().is_some_and(|n| !n.is_empty())),
            ("es.health", e.health.is_some()),
            ("es.repositories", e.repositories.is_some()),
            ("es.snapshots", e.snapshots.is_some()),
            ("es.kibana_indices", e.kibana_indices.is_some()),
            ("es.features", e.features.is_some()),
            ("es.system_features", e.system_features.is_some()),
            ("es.deprecations", e.deprecations.is_some()),
            ("kibana.status", kibana_known),
        ])
    }
}
