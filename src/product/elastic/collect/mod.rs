//! Live collection from Elasticsearch and every Kibana instance: every independent request in
//! flight at once, one failure never aborting the run. The result is a facts bundle, the same
//! thing `--facts` reads back.

mod data_loss;
pub(crate) mod es;
pub(crate) mod kibana;

use super::facts::{ClusterInfo, Deployment, ElasticFacts, ElasticOperator, EsNode, Flavor};
use super::{Elastic, ElasticArgs};
use crate::base::version;
use crate::collect::http::{Credentials, ReadOnlyClient, env_credentials_used, strip_userinfo};
use crate::model::facts::{Bundle, CollectFailure};

/// Collects Elasticsearch and Kibana facts into a bundle stamped with `now`. Credentials come
/// from `RIPCORD_ES_*`, and `RIPCORD_KIBANA_*` (falling back to the Elasticsearch ones).
pub(crate) async fn collect(
    client: &ReadOnlyClient,
    args: &ElasticArgs,
    operator: ElasticOperator,
    now: jiff::Timestamp,
) -> Bundle<Elastic> {
    let (es_credentials, es_auth) = env_credentials_used("ES");
    let (kibana_credentials, kibana_auth) = match env_credentials_used("KIBANA") {
        (Credentials::None, _) => (es_credentials.clone(), es_auth.clone()),
        found => found,
    };
    let mut bundle = Bundle::<Elastic>::new(now);
    let connection = bundle.connection.get_or_insert_with(Default::default);
    if args.es.is_some() {
        connection.auth.insert("es".into(), es_auth);
    }
    if !args.kibana.is_empty() {
        connection.auth.insert("kibana".into(), kibana_auth);
    }
    bundle.operator = operator;
    bundle.target.es = args.es.as_deref().map(strip_userinfo);
    bundle.target.kibana = args.kibana.iter().map(|u| strip_userinfo(u)).collect();

    let kibana = futures::future::join_all(
        args.kibana
            .iter()
            .map(|url| kibana::status(client, url, &kibana_credentials)),
    );
    let es = async {
        let base = args.es.as_deref()?;
        Some(collect_es(client, base, &es_credentials).await)
    };
    let (kibana, es) = tokio::join!(kibana, es);
    if let Some((facts, failures)) = es {
        bundle.facts = facts;
        bundle.failures.extend(failures);
    }
    for (instance, failure) in kibana {
        bundle.facts.kibana.push(instance);
        bundle.failures.extend(failure);
    }
    count_data_loss(
        client,
        args,
        &mut bundle,
        &kibana_credentials,
        &es_credentials,
    )
    .await;
    bundle.requests = client.request_log();
    crate::model::facts::sort_logs(&mut bundle.failures, &mut bundle.requests);
    bundle
}

/// When a rollback would restore the kibana feature state (derive's choice, as a rollback
/// judges it), counts what it would lose since that snapshot's start.
async fn count_data_loss(
    client: &ReadOnlyClient,
    args: &ElasticArgs,
    bundle: &mut Bundle<Elastic>,
    kibana_credentials: &Credentials,
    es_credentials: &Credentials,
) {
    use super::derive::Path;
    use crate::model::upgrade::Mode;
    // The mode is the judging command's: a rollback's choice first, else a preflight's (the
    // loss of rolling back now). Derive checks the count matches the snapshot it chooses.
    let Some((derived, since)) = [Mode::Rollback, Mode::Preflight]
        .into_iter()
        .find_map(|mode| {
            let derived = super::derive::derive(bundle, mode);
            let restores = matches!(
                derived.rollback.path,
                Path::RestoreKibana | Path::StartFromAgain | Path::RestoreCluster
            );
            let since = derived
                .kibana_snapshot
                .as_ref()
                .and_then(|s| s.start_time)?;
            restores.then_some((derived, since))
        })
    else {
        return;
    };
    let old = match (
        &bundle.facts.kibana_indices,
        derived.upgrade.from.as_deref(),
    ) {
        (Some(indices), Some(from)) => data_loss::old_aliases(indices, from),
        _ => Vec::new(),
    };
    let (facts, failures) = data_loss::count(
        client,
        since,
        &bundle.facts.kibana,
        kibana_credentials,
        args.es.as_deref(),
        es_credentials,
        old,
    )
    .await;
    bundle.facts.data_loss = Some(facts);
    bundle.failures.extend(failures);
}

async fn collect_es(
    client: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> (ElasticFacts, Vec<CollectFailure>) {
    let (
        cluster,
        nodes,
        health,
        repositories,
        kibana_indices,
        features,
        system_features,
        deprecations,
    ) = tokio::join!(
        es::cluster(client, base, cred),
        es::nodes(client, base, cred),
        es::health(client, base, cred),
        es::repositories(client, base, cred),
        es::kibana_indices(client, base, cred),
        es::features(client, base, cred),
        es::system_features(client, base, cred),
        es::deprecations(client, base, cred),
    );
    let mut failures = Vec::new();
    fn keep<T>(failures: &mut Vec<CollectFailure>, r: Result<T, CollectFailure>) -> Option<T> {
        r.map_err(|f| failures.push(f)).ok()
    }
    let mut facts = ElasticFacts {
        cluster: keep(&mut failures, cluster),
        nodes: keep(&mut failures, nodes),
        health: keep(&mut failures, health),
        repositories: keep(&mut failures, repositories),
        kibana_indices: keep(&mut failures, kibana_indices).map(|(indices, created_failure)| {
            failures.extend(created_failure);
            indices
        }),
        features: keep(&mut failures, features),
        system_features: keep(&mut failures, system_features),
        deprecations: keep(&mut failures, deprecations),
        ..Default::default()
    };
    facts.deployment = deployment(facts.cluster.as_ref(), facts.nodes.as_deref());
    // Multi-repository get-snapshot exists from 7.14 on; the oldest node decides.
    let oldest = facts
        .nodes
        .as_ref()
        .and_then(|n| {
            n.iter()
                .filter_map(|n| version::parse_lenient(n.version.as_deref()?).ok())
                .min()
        })
        .or_else(|| {
            facts
                .cluster
                .as_ref()?
                .version
                .as_deref()
                .and_then(|v| version::parse_lenient(v).ok())
        });
    let multi_repo = oldest.is_some_and(|v| (v.major, v.minor) >= (7, 14));
    let (snapshots, snapshot_failures) = es::snapshots(
        client,
        base,
        cred,
        facts.repositories.as_deref(),
        multi_repo,
    )
    .await;
    facts.snapshots = snapshots;
    failures.extend(snapshot_failures);
    (facts, failures)
}

/// How the stack is deployed, from what the cluster shows a read-only client: Elastic Cloud's
/// proxy header first, then ECK's node attribute (both also report `build_type: docker`), then
/// `GET /` `version.build_type`.
fn deployment(cluster: Option<&ClusterInfo>, nodes: Option<&[EsNode]>) -> Option<Deployment> {
    if let Some(id) = cluster.and_then(|c| c.cloud_cluster.as_deref()) {
        return Some(Deployment {
            flavor: Flavor::Cloud,
            evidence: format!("response header X-Found-Handling-Cluster: {id}"),
        });
    }
    if let Some(node) = nodes
        .into_iter()
        .flatten()
        .find(|n| n.k8s_node_name.is_some())
    {
        return Some(Deployment {
            flavor: Flavor::Eck,
            evidence: format!(
                "node {} has the attribute k8s_node_name (set by ECK)",
                node.name
            ),
        });
    }
    let build_type = cluster?.build_type.as_deref()?;
    let flavor = match build_type {
        "deb" => Flavor::Deb,
        "rpm" => Flavor::Rpm,
        "docker" => Flavor::Docker,
        "tar" => Flavor::Tar,
        _ => return None,
    };
    Some(Deployment {
        flavor,
        evidence: format!("`GET /` version.build_type {build_type}"),
    })
}
