//! The Elasticsearch + Kibana facts: the single contract between gathering (live collection or
//! a bundle) and judging (derive, rules, plan). Only the fields ripcord uses are kept; each is
//! named after the vendor's field it comes from so a reader can trace it back to the API body.

use crate::model::upgrade::{Declared, prefer};
use crate::product::{FactsSection, OperatorFacts};
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The endpoints that were asked (credentials are never part of a URL we keep).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ElasticTarget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) es: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) kibana: Vec<String>,
}

/// Facts only the operator knows; recorded in the bundle, overridden by flags at evaluation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ElasticOperator {
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    pub(crate) upgrade_started_at: Option<Timestamp>,
    /// `--flavor`: how the stack is deployed, over what was detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) flavor: Option<Flavor>,
}

/// How Elasticsearch and Kibana are deployed: it decides the plan's commands (package
/// downgrade, image tag, the ECK resource's `spec.version`, a new Elastic Cloud deployment).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Flavor {
    Deb,
    Rpm,
    Docker,
    Tar,
    /// Elastic Cloud on Kubernetes.
    Eck,
    /// Elastic Cloud (hosted): it cannot downgrade.
    Cloud,
    #[default]
    Unknown,
}

impl Flavor {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Deb => "deb",
            Self::Rpm => "rpm",
            Self::Docker => "docker",
            Self::Tar => "tar",
            Self::Eck => "eck",
            Self::Cloud => "cloud",
            Self::Unknown => "unknown",
        }
    }
}

/// The flavour detected at collection, with what showed it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Deployment {
    pub(crate) flavor: Flavor,
    /// E.g. "`GET /` version.build_type deb", "response header X-Found-Handling-Cluster".
    pub(crate) evidence: String,
}

impl OperatorFacts for ElasticOperator {
    fn declared(&self) -> Declared<'_> {
        Declared {
            to: self.to.as_deref(),
        }
    }

    fn declared_mut(&mut self) -> [(&'static str, &mut Option<String>); 2] {
        [("--from", &mut self.from), ("--to", &mut self.to)]
    }

    fn merge(&mut self, flags: Self) {
        prefer(&mut self.from, flags.from);
        prefer(&mut self.to, flags.to);
        prefer(&mut self.upgrade_started_at, flags.upgrade_started_at);
        prefer(&mut self.flavor, flags.flavor);
    }
}

/// Everything collected from Elasticsearch and Kibana. `None` means "not collected" (see
/// `Bundle::failures` for why); an empty list means "collected, and there were none".
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ElasticFacts {
    pub(crate) cluster: Option<ClusterInfo>,
    pub(crate) nodes: Option<Vec<EsNode>>,
    pub(crate) health: Option<ClusterHealth>,
    pub(crate) repositories: Option<Vec<Repository>>,
    pub(crate) snapshots: Option<Vec<Snapshot>>,
    pub(crate) kibana_indices: Option<Vec<KibanaIndex>>,
    pub(crate) features: Option<Vec<String>>,
    pub(crate) system_features: Option<SystemFeatures>,
    pub(crate) deprecations: Option<Vec<Deprecation>>,
    /// What a restore of the kibana feature state would lose: saved objects changed after
    /// the snapshot's start, counted (absent when no restore was in view at collection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) data_loss: Option<DataLossFacts>,
    /// How the stack is deployed, as detected (absent in bundles before detection existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) deployment: Option<Deployment>,
    #[serde(default)]
    pub(crate) kibana: Vec<KibanaInstance>,
}

impl FactsSection for ElasticFacts {
    /// Nothing collected: the key is left out of the file.
    fn is_absent(&self) -> bool {
        *self == Self::default()
    }
}

/// `GET /`: the responding node's view of the cluster.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClusterInfo {
    pub(crate) cluster_name: Option<String>,
    pub(crate) cluster_uuid: Option<String>,
    /// `version.number` of the node that answered (mid rolling upgrade nodes differ).
    pub(crate) version: Option<String>,
    /// `version.build_type`: `deb`, `rpm`, `docker`, `tar`, `zip` or `unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) build_type: Option<String>,
    /// Elastic Cloud's proxy names the cluster in the `X-Found-Handling-Cluster` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cloud_cluster: Option<String>,
}

/// One node of `GET _nodes`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EsNode {
    pub(crate) id: String,
    pub(crate) name: String,
    /// `None` when the node did not report one: Kibana counts such a node as incompatible.
    pub(crate) version: Option<String>,
    #[serde(default)]
    pub(crate) roles: Vec<String>,
    pub(crate) ip: Option<String>,
    pub(crate) publish_address: Option<String>,
    /// `attributes.k8s_node_name`, which ECK sets on every node it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) k8s_node_name: Option<String>,
}

/// `GET _cluster/health`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClusterHealth {
    pub(crate) status: String,
    pub(crate) number_of_nodes: Option<i64>,
    pub(crate) unassigned_shards: Option<i64>,
    pub(crate) relocating_shards: Option<i64>,
    pub(crate) initializing_shards: Option<i64>,
}

/// A registered snapshot repository (`GET _snapshot`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Repository {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
    /// The repository settings (bucket, path, …), so a new cluster can register it the same
    /// way in an Elasticsearch rollback. Credentials live in the keystore, never here.
    #[serde(default)]
    pub(crate) settings: serde_json::Map<String, serde_json::Value>,
}

/// One snapshot of the verbose get-snapshot API, without its index list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Snapshot {
    pub(crate) repository: String,
    pub(crate) snapshot: String,
    pub(crate) uuid: Option<String>,
    /// `SUCCESS`, `PARTIAL`, `FAILED`, `IN_PROGRESS` or `INCOMPATIBLE`.
    pub(crate) state: String,
    /// The ES version that took the snapshot (absent for `INCOMPATIBLE`).
    pub(crate) version: Option<String>,
    pub(crate) include_global_state: Option<bool>,
    pub(crate) start_time: Option<Timestamp>,
    pub(crate) end_time: Option<Timestamp>,
    /// Feature states in the snapshot; missing in the API (pre-7.12) means none.
    #[serde(default)]
    pub(crate) feature_states: Vec<FeatureState>,
    pub(crate) shards_failed: Option<i64>,
}

/// A feature state captured by a snapshot (`feature_states[]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeatureState {
    pub(crate) feature_name: String,
    #[serde(default)]
    pub(crate) indices: Vec<String>,
}

/// The saved objects changed after `since`, per type, as Kibana or Elasticsearch counted them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataLossFacts {
    /// The snapshot start counted from.
    pub(crate) since: Timestamp,
    /// `kibana`, `elasticsearch`, or `none` (nothing could be asked).
    pub(crate) source: String,
    /// Per saved-object type (`dashboard`, `alert`, …): how many changed after `since`.
    pub(crate) counts: std::collections::BTreeMap<String, u64>,
    /// What the counts leave out, and types whose count failed (with why).
    pub(crate) not_counted: Vec<String>,
    /// Elasticsearch route: the old version aliases counted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) indices: Vec<String>,
    /// Why nothing could be counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) unknown: Option<String>,
}

/// A `.kibana*` system index, its aliases and creation time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct KibanaIndex {
    pub(crate) index: String,
    #[serde(default)]
    pub(crate) aliases: Vec<String>,
    pub(crate) created_at: Option<Timestamp>,
}

/// `GET _migration/system_features`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SystemFeatures {
    pub(crate) migration_status: String,
    #[serde(default)]
    pub(crate) features: Vec<SystemFeature>,
}

/// One feature of `_migration/system_features`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SystemFeature {
    pub(crate) feature_name: String,
    pub(crate) migration_status: String,
    pub(crate) minimum_index_version: Option<String>,
}

/// One item of `_migration/deprecations`, flattened with where it was found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Deprecation {
    /// The response key: `cluster_settings`, `node_settings`, `index_settings`, …
    pub(crate) area: String,
    /// The index, data stream, template or policy it concerns, for keyed areas.
    pub(crate) resource: Option<String>,
    /// `none`, `info`, `warning` or `critical`.
    pub(crate) level: String,
    pub(crate) message: String,
    pub(crate) url: Option<String>,
}

/// What one `--kibana` instance answered on `GET /api/status`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct KibanaInstance {
    pub(crate) url: String,
    /// `running` (answers), `starting` (503 while booting or migrating), `stopped` (connection
    /// refused) or `unreachable` (timeout, TLS or DNS failure: we cannot tell).
    pub(crate) state: String,
    pub(crate) http_status: Option<u16>,
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
    /// Overall level in v8 terms: `available`, `degraded`, `unavailable`, `critical`.
    pub(crate) level: Option<String>,
    pub(crate) summary: Option<String>,
    /// What this Kibana says about its Elasticsearch connection.
    pub(crate) elasticsearch_summary: Option<String>,
}
