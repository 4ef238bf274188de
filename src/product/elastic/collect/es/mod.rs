//! Elasticsearch collectors: one function per API, each turning the documented body into facts.
//!
//! Phase one sends every independent request at once. Phase two lists snapshots, which needs
//! the node versions (ES < 7.14 has no multi-repository get-snapshot, so it is asked once per
//! repository) and the repository list.

use crate::collect::fetch::{Endpoint, get_streamed, get_typed, shape_failure};
use crate::collect::http::{Credentials, ReadOnlyClient};
use crate::collect::wire::{
    FromJson, Int, Keep, List, Object, Present, RawObject, Text, wire_object,
};
use crate::model::facts::CollectFailure;
use crate::product::elastic::facts::{
    ClusterHealth, ClusterInfo, Deprecation, EsNode, FeatureState, KibanaIndex, Repository,
    Snapshot, SystemFeature, SystemFeatures,
};
use indexmap::IndexMap;
use std::collections::{BTreeMap, BTreeSet};

mod kibana_indices;
mod migration;
mod snapshots;

pub(crate) use kibana_indices::*;
pub(crate) use migration::*;
pub(crate) use snapshots::*;

const ES_CREDENTIALS: &str = "RIPCORD_ES_API_KEY, or RIPCORD_ES_USERNAME and RIPCORD_ES_PASSWORD";

/// Fields of a snapshot we keep; `filter_path` stops a cluster with tens of thousands of
/// snapshots from sending every index name of every snapshot.
const SNAPSHOT_FILTER: &str = "snapshots.snapshot,snapshots.uuid,snapshots.repository,snapshots.state,\
snapshots.version,snapshots.version_id,snapshots.include_global_state,snapshots.start_time,\
snapshots.start_time_in_millis,snapshots.end_time,snapshots.end_time_in_millis,snapshots.feature_states,\
snapshots.shards.failed,failures,next,total,remaining";

/// The endpoints, with the group they fill and the privilege a 403 means is missing.
mod endpoints {
    use super::{ES_CREDENTIALS, Endpoint};
    pub(crate) const ROOT: Endpoint<'static> = Endpoint {
        group: "es.cluster",
        path: "/",
        privilege: "monitor (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const NODES: Endpoint<'static> = Endpoint {
        group: "es.nodes",
        path: "/_nodes?filter_path=nodes.*.name,nodes.*.version,nodes.*.roles,nodes.*.ip,nodes.*.http.publish_address,nodes.*.attributes.k8s_node_name",
        privilege: "monitor (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const HEALTH: Endpoint<'static> = Endpoint {
        group: "es.health",
        path: "/_cluster/health",
        privilege: "monitor (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const REPOSITORIES: Endpoint<'static> = Endpoint {
        group: "es.repositories",
        path: "/_snapshot",
        privilege: "monitor_snapshot (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const KIBANA_INDEX_ALIASES: Endpoint<'static> = Endpoint {
        group: "es.kibana_indices",
        path: "/.kibana*/_alias?expand_wildcards=all",
        privilege: "view_index_metadata on .kibana* (allow_restricted_indices: true)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const KIBANA_ALIASES: Endpoint<'static> = Endpoint {
        group: "es.kibana_indices",
        path: "/_alias/.kibana*?expand_wildcards=all",
        privilege: "view_index_metadata on .kibana* (allow_restricted_indices: true)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const KIBANA_CREATION: Endpoint<'static> = Endpoint {
        group: "es.kibana_indices",
        path: "/.kibana*/_settings/index.creation_date?expand_wildcards=all",
        privilege: "view_index_metadata on .kibana* (allow_restricted_indices: true)",
        credentials_hint: ES_CREDENTIALS,
    };
    /// Fallback when the setting-filtered form is not answered (proxies, older versions).
    pub(crate) const KIBANA_SETTINGS: Endpoint<'static> = Endpoint {
        group: "es.kibana_indices",
        path: "/.kibana*/_settings?expand_wildcards=all&filter_path=*.settings.index.creation_date",
        privilege: "view_index_metadata on .kibana* (allow_restricted_indices: true)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const FEATURES: Endpoint<'static> = Endpoint {
        group: "es.features",
        path: "/_features",
        privilege: "monitor (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const SYSTEM_FEATURES: Endpoint<'static> = Endpoint {
        group: "es.system_features",
        path: "/_migration/system_features",
        privilege: "manage (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
    pub(crate) const DEPRECATIONS: Endpoint<'static> = Endpoint {
        group: "es.deprecations",
        path: "/_migration/deprecations",
        privilege: "manage (cluster)",
        credentials_hint: ES_CREDENTIALS,
    };
}

wire_object! {
    /// The root endpoint's body (`GET /`, the "info" API).
    struct WireRoot {
        /// Present (whatever its value) on anything that is Elasticsearch.
        version: Present<WireRootVersion>,
        /// Present (whatever its value) on anything that is Elasticsearch.
        cluster_name: Present<Text>,
        cluster_uuid: Text,
    }
}

wire_object! {
    /// `version` of the root endpoint's body (`GET /`).
    struct WireRootVersion {
        number: Text,
        build_type: Text,
    }
}

/// `GET /`.
pub(crate) async fn cluster(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<ClusterInfo, CollectFailure> {
    let ep = endpoints::ROOT;
    let (v, headers) = get_streamed::<WireRoot>(c, base, cred, ep).await?;
    if !v.version.present && !v.cluster_name.present {
        return Err(shape_failure(
            ep,
            "no `version` or `cluster_name`: is this Elasticsearch?",
        ));
    }
    Ok(ClusterInfo {
        cluster_name: v.cluster_name.value.0,
        cluster_uuid: v.cluster_uuid.0,
        version: v.version.value.number.0,
        build_type: v.version.value.build_type.0,
        cloud_cluster: headers
            .get("x-found-handling-cluster")
            .and_then(|h| h.to_str().ok())
            .map(str::to_string),
    })
}

/// `GET _nodes`: every node's name, version, roles and address, sorted by node id.
pub(crate) async fn nodes(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<Vec<EsNode>, CollectFailure> {
    let ep = endpoints::NODES;
    let v = get_typed::<WireNodes>(c, base, cred, ep).await?;
    parse_nodes(v).map_err(|e| shape_failure(ep, e))
}

wire_object! {
    /// The nodes info body (`GET _nodes`, `NodesInfoResponse`), as filtered by
    /// [`endpoints::NODES`]: node id → node.
    pub(crate) struct WireNodes {
        nodes: Object<WireNode>,
    }
}

wire_object! {
    /// One node of the nodes info body (`GET _nodes`).
    pub(crate) struct WireNode {
        name: Text,
        version: Text,
        roles: List<Text>,
        ip: Text,
        http: WireNodeHttp,
        attributes: WireNodeAttributes,
    }
}

wire_object! {
    /// `http` of a node of the nodes info body (`GET _nodes`).
    pub(crate) struct WireNodeHttp {
        publish_address: Text,
    }
}

wire_object! {
    /// `attributes` of a node of the nodes info body (`GET _nodes`).
    pub(crate) struct WireNodeAttributes {
        k8s_node_name: Text,
    }
}

/// Parses a `_nodes` body.
pub(crate) fn parse_nodes(v: WireNodes) -> Result<Vec<EsNode>, String> {
    let nodes = v.nodes.0.ok_or("no `nodes` object")?;
    let mut out = Vec::new();
    for (id, n) in nodes {
        // A node without a version is kept: Kibana counts it as an incompatible node.
        out.push(EsNode {
            name: n.name.0.unwrap_or_else(|| id.clone()),
            id,
            version: n.version.0,
            roles: n
                .roles
                .0
                .map(|r| r.into_iter().filter_map(|t| t.0).collect())
                .unwrap_or_default(),
            ip: n.ip.0,
            publish_address: n.http.publish_address.0,
            k8s_node_name: n.attributes.k8s_node_name.0,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// `GET _cluster/health`.
pub(crate) async fn health(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<ClusterHealth, CollectFailure> {
    let ep = endpoints::HEALTH;
    let v = get_typed::<WireHealth>(c, base, cred, ep).await?;
    let status = v.status.0.ok_or_else(|| shape_failure(ep, "no `status`"))?;
    Ok(ClusterHealth {
        status,
        number_of_nodes: v.number_of_nodes.0,
        unassigned_shards: v.unassigned_shards.0,
        relocating_shards: v.relocating_shards.0,
        initializing_shards: v.initializing_shards.0,
    })
}

wire_object! {
    /// The cluster health body (`GET _cluster/health`, `ClusterHealthResponse`).
    struct WireHealth {
        status: Text,
        number_of_nodes: Int,
        unassigned_shards: Int,
        relocating_shards: Int,
        initializing_shards: Int,
    }
}

/// `GET _snapshot`: the registered repositories, by name.
pub(crate) async fn repositories(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<Vec<Repository>, CollectFailure> {
    let ep = endpoints::REPOSITORIES;
    let v = get_typed::<Object<WireRepository>>(c, base, cred, ep).await?;
    let map =
        v.0.ok_or_else(|| shape_failure(ep, "not an object keyed by repository"))?;
    // In the body's order, as the repositories were listed.
    Ok(map
        .into_iter()
        .map(|(name, r)| Repository {
            name,
            kind: r.kind.0,
            settings: r.settings.0,
        })
        .collect())
}

wire_object! {
    /// One repository of the get-repository body (`GET _snapshot`, `GetRepositoriesResponse`:
    /// repository name → repository).
    struct WireRepository {
        kind("type"): Text,
        /// Kept as JSON: the settings are a fact (see [`Repository::settings`]).
        settings: RawObject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_version_ranges_read_as_their_upper_bound() {
        assert_eq!(upper_bound("8.11.0-8.11.4".into()), "8.11.4");
        assert_eq!(upper_bound("8.18.0-SNAPSHOT".into()), "8.18.0-SNAPSHOT");
        assert_eq!(upper_bound("8.17.3".into()), "8.17.3");
    }

    #[test]
    fn documented_alias_body_merges() {
        let text = include_str!(
            "../../../../../fixtures/http/failed-minor-upgrade/es/kibana-index-aliases.json"
        );
        let v: AliasBody = serde_json::from_str(text).unwrap();
        let mut indices = BTreeMap::new();
        merge_aliases(&v, &mut indices);
        assert!(indices[".kibana_task_manager_8.17.3_001"].contains(".kibana_task_manager_8.18.0"));
        assert!(indices[".kibana_8.18.0_reindex_temp"].is_empty());
    }

    #[test]
    fn version_ids() {
        assert_eq!(version_from_id(8170399).as_deref(), Some("8.17.3"));
        assert_eq!(version_from_id(7100299).as_deref(), Some("7.10.2"));
    }

    #[test]
    fn snapshots_without_repository_take_the_requested_one() {
        let v = r#"{"snapshots":[{"snapshot":"s1","state":"SUCCESS","version":"7.10.2","start_time_in_millis":1}]}"#;
        let (s, _) = parse_snapshots(serde_json::from_str(v).unwrap(), Some("repo1")).unwrap();
        assert_eq!(s[0].repository, "repo1");
        assert!(s[0].feature_states.is_empty());
    }

    #[test]
    fn nodes_sort_by_id_and_fall_back_to_the_id_for_a_name() {
        let v = r#"{"nodes": {"b": {"name": 1, "roles": ["master", 3, "data"]},
                              "a": {"name": "es-a", "version": "8.17.3", "http": {"publish_address": "10.0.0.1:9200"},
                                    "attributes": {"k8s_node_name": "k1"}}}}"#;
        let nodes = parse_nodes(serde_json::from_str(v).unwrap()).unwrap();
        assert_eq!(nodes[0].id, "a");
        assert_eq!(nodes[0].publish_address.as_deref(), Some("10.0.0.1:9200"));
        assert_eq!(nodes[0].k8s_node_name.as_deref(), Some("k1"));
        assert_eq!(
            nodes[1].name, "b",
            "a name that is not a string falls back to the id"
        );
        assert_eq!(nodes[1].roles, ["master", "data"]);
        assert_eq!(nodes[1].version, None);
        assert!(parse_nodes(serde_json::from_str(r#"{"nodes": []}"#).unwrap()).is_err());
    }

    #[test]
    fn deprecation_areas_are_lists_or_keyed_by_resource() {
        let v = r#"{"cluster_settings": [{"level": "critical", "message": "m", "url": "u"}, {"message": "no level"}, 0],
                    "index_settings": {"i1": [{"level": "warning"}], "i2": {"level": "ignored"}},
                    "ml_settings": null}"#;
        let body: Object<WireDeprecationArea> = serde_json::from_str(v).unwrap();
        let d = parse_deprecations(body.0.unwrap());
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].area.as_str(), d[0].resource.as_deref()),
            ("cluster_settings", None)
        );
        assert_eq!(d[0].url.as_deref(), Some("u"));
        assert_eq!(
            (d[1].area.as_str(), d[1].resource.as_deref()),
            ("index_settings", Some("i1"))
        );
        assert_eq!(d[1].message, "");
    }

    #[test]
    fn repository_failures_read_reason_then_type_then_text() {
        let v = r#"{"failures": {"r1": {"type": "t", "reason": "why"}, "r2": {"type": "t"},
                                 "r3": "plain", "r4": 5, "r5": {"x": 1}, "r6": [1]}}"#;
        let (_, failures) = parse_snapshots(serde_json::from_str(v).unwrap(), None).unwrap();
        let reasons: Vec<_> = failures.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "why",
                "t",
                "plain",
                "5",
                "an object without `reason` or `type`",
                "an array"
            ]
        );
    }

    #[test]
    fn creation_dates_nested_or_flat_string_or_number() {
        let v = r#"{".kibana_1": {"settings": {"index": {"creation_date": "1700000000000"}}},
                    ".kibana_2": {"settings": {"index.creation_date": 1700000000000}},
                    ".kibana_3": {"settings": {"index": {"creation_date": null}, "index.creation_date": "1"}},
                    ".kibana_4": {"settings": {"index": {"creation_date": "soon"}}}}"#;
        let body: SettingsBody = serde_json::from_str(v).unwrap();
        let expected = jiff::Timestamp::from_millisecond(1_700_000_000_000).ok();
        assert_eq!(creation_date(&body, ".kibana_1"), expected);
        assert_eq!(creation_date(&body, ".kibana_2"), expected);
        assert_eq!(
            creation_date(&body, ".kibana_3"),
            None,
            "the nested form wins"
        );
        assert_eq!(creation_date(&body, ".kibana_4"), None);
        assert_eq!(creation_date(&body, ".kibana_5"), None);
    }
}
