//! A bundle with every optional part present, used only to learn which fact paths exist so
//! a rule that names a missing one is rejected at load time, not at 3 a.m.

use super::*;
use crate::facts::derive::{Mode, Overrides, derive};

/// A fully populated bundle (values are placeholders; only the shape matters).
pub fn schema_bundle() -> Bundle {
    let t = jiff::Timestamp::UNIX_EPOCH;
    let mut b = Bundle::new("elastic", jiff::Timestamp::from_second(86_400).unwrap_or(t));
    b.target = Target {
        es: Some("http://es".into()),
        kibana: vec!["http://kb".into()],
        ghes: None,
    };
    b.operator = OperatorFacts {
        from: Some("8.0.0".into()),
        to: Some("8.1.0".into()),
        upgrade_started_at: Some(jiff::Timestamp::from_second(3600).unwrap_or(t)),
        ..Default::default()
    };
    b.elastic = ElasticFacts {
        cluster: Some(ClusterInfo {
            cluster_name: Some("c".into()),
            cluster_uuid: Some("u".into()),
            version: Some("8.1.0".into()),
        }),
        nodes: Some(vec![EsNode {
            id: "n".into(),
            name: "n".into(),
            version: "8.1.0".into(),
            roles: vec!["master".into()],
            ip: Some("127.0.0.1".into()),
            publish_address: Some("127.0.0.1:9200".into()),
        }]),
        health: Some(ClusterHealth {
            status: "green".into(),
            number_of_nodes: Some(1),
            unassigned_shards: Some(0),
            relocating_shards: Some(0),
            initializing_shards: Some(0),
        }),
        repositories: Some(vec![Repository {
            name: "r".into(),
            kind: Some("fs".into()),
            settings: serde_json::Map::new(),
        }]),
        snapshots: Some(vec![Snapshot {
            repository: "r".into(),
            snapshot: "s".into(),
            uuid: Some("u".into()),
            state: "SUCCESS".into(),
            version: Some("8.0.0".into()),
            include_global_state: Some(true),
            start_time: Some(t),
            end_time: Some(t),
            feature_states: vec![FeatureState {
                feature_name: "kibana".into(),
                indices: vec![".kibana_8.0.0_001".into()],
            }],
            shards_failed: Some(0),
        }]),
        kibana_indices: Some(vec![KibanaIndex {
            index: ".kibana_8.0.0_001".into(),
            aliases: vec![".kibana".into(), ".kibana_8.0.0".into()],
            created_at: Some(t),
        }]),
        features: Some(vec!["kibana".into()]),
        system_features: Some(SystemFeatures {
            migration_status: "NO_MIGRATION_NEEDED".into(),
            features: vec![SystemFeature {
                feature_name: "kibana".into(),
                migration_status: "NO_MIGRATION_NEEDED".into(),
                minimum_index_version: Some("8.0.0".into()),
            }],
        }),
        deprecations: Some(vec![Deprecation {
            area: "cluster_settings".into(),
            resource: Some("x".into()),
            level: "warning".into(),
            message: "m".into(),
            url: Some("u".into()),
        }]),
        kibana: vec![KibanaInstance {
            url: "http://kb".into(),
            state: "running".into(),
            http_status: Some(200),
            name: Some("kb".into()),
            version: Some("8.1.0".into()),
            level: Some("available".into()),
            summary: Some("s".into()),
            elasticsearch_summary: Some("s".into()),
        }],
    };
    b
}

/// The CEL inputs of the fully populated bundle, in rollback mode (every derived part set).
pub fn schema_inputs() -> std::collections::BTreeMap<String, serde_json::Value> {
    let bundle = schema_bundle();
    let derived = derive(&bundle, Mode::Rollback, &Overrides::default());
    let mut vars = crate::engine::inputs(&bundle, &derived);
    vars.insert("params".into(), serde_json::json!({}));
    vars
}

/// A fully populated GHES bundle (shape only).
pub fn ghes_schema_bundle() -> Bundle {
    let t = jiff::Timestamp::UNIX_EPOCH;
    let mut b = Bundle::new("ghes", jiff::Timestamp::from_second(86_400).unwrap_or(t));
    b.target.ghes = Some("https://ghe:8443".into());
    b.operator = OperatorFacts {
        from: Some("3.14.1".into()),
        to: Some("3.15.1".into()),
        upgrade_started_at: Some(jiff::Timestamp::from_second(3600).unwrap_or(t)),
        platform: Some("esx".into()),
        replicas: vec![ReplicaVersion {
            hostname: "r".into(),
            version: "3.14.1".into(),
        }],
        vm_snapshot: Some("snap".into()),
        vm_snapshot_taken_at: Some(t),
    };
    b.ghes = Some(GhesFacts {
        versions: Some(vec![GhesNodeVersion {
            hostname: "p".into(),
            version: "3.15.1".into(),
            platform: Some("esx".into()),
            build_id: Some("b".into()),
            build_date: Some("d".into()),
        }]),
        topology: Some(GhesTopology {
            topology: "Ha".into(),
            nodes: vec![GhesConfigNode {
                hostname: "p".into(),
                uuid: Some("u".into()),
                replica: Some(false),
                cluster_roles: vec![],
            }],
        }),
        replication: Some(GhesReplication {
            status: "OK".into(),
            nodes: vec![GhesReplicationNode {
                hostname: "r".into(),
                status: "OK".into(),
                services: vec![GhesService {
                    name: "mysql".into(),
                    status: "OK".into(),
                    details: Some("d".into()),
                }],
            }],
        }),
        maintenance: Some(vec![GhesMaintenance {
            hostname: "p".into(),
            status: "off".into(),
            can_unset_maintenance: Some(true),
        }]),
        system_requirements: Some(GhesSystemRequirements {
            status: "OK".into(),
            nodes: vec![GhesRequirementNode {
                hostname: "p".into(),
                status: "OK".into(),
            }],
        }),
    });
    b
}

/// The schema of every product's rule inputs, from the fully populated samples.
pub fn schemas() -> crate::ruleset::load::Schemas {
    use crate::ruleset::load::Schema;
    let bundle = ghes_schema_bundle();
    let derived = crate::facts::ghes::derive(&bundle, Mode::Rollback, &Overrides::default());
    let mut ghes_vars = crate::engine::ghes_inputs(&bundle, &derived);
    ghes_vars.insert("params".into(), serde_json::json!({}));
    crate::ruleset::load::Schemas::from([
        ("elastic".to_string(), Schema::from_sample(&schema_inputs())),
        ("ghes".to_string(), Schema::from_sample(&ghes_vars)),
    ])
}
