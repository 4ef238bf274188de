//! Live collection: every independent request in flight at once, one failure never aborting
//! the run. The result is a facts bundle, the same thing `--facts` reads back.

pub mod elastic;
pub mod fetch;
pub mod ghes;
pub mod kibana;

use crate::facts::{Bundle, OperatorFacts};
use crate::http::{Credentials, ReadOnlyClient};
use crate::version;

/// Where to collect from and with which credentials.
#[derive(Debug, Clone, Default)]
pub struct ElasticTarget {
    pub es: Option<String>,
    pub kibana: Vec<String>,
    pub es_credentials: Credentials,
    pub kibana_credentials: Credentials,
}

/// Collects Elasticsearch and Kibana facts into a bundle stamped with `now`.
pub async fn collect_elastic(
    client: &ReadOnlyClient,
    target: &ElasticTarget,
    operator: OperatorFacts,
    now: jiff::Timestamp,
) -> Bundle {
    let mut bundle = Bundle::new("elastic", now);
    bundle.operator = operator;
    bundle.target.es = target.es.as_deref().map(crate::http::strip_userinfo);
    bundle.target.kibana = target
        .kibana
        .iter()
        .map(|u| crate::http::strip_userinfo(u))
        .collect();

    let kibana = futures::future::join_all(
        target
            .kibana
            .iter()
            .map(|url| kibana::status(client, url, &target.kibana_credentials)),
    );
    let es = async {
        let base = target.es.as_deref()?;
        Some(collect_es(client, base, &target.es_credentials).await)
    };
    let (kibana, es) = tokio::join!(kibana, es);
    for (instance, failure) in kibana {
        bundle.elastic.kibana.push(instance);
        bundle.failures.extend(failure);
    }
    if let Some((facts, failures)) = es {
        let kibana_seen = std::mem::take(&mut bundle.elastic.kibana);
        bundle.elastic = facts;
        bundle.elastic.kibana = kibana_seen;
        bundle.failures.extend(failures);
    }
    bundle.requests = client.request_log();
    // Finish order varies run to run; a stable order keeps bundles diffable.
    bundle
        .requests
        .sort_by(|a, b| a.url.cmp(&b.url).then_with(|| a.method.cmp(&b.method)));
    bundle.failures.sort_by(|a, b| {
        a.group
            .cmp(&b.group)
            .then_with(|| a.endpoint.cmp(&b.endpoint))
    });
    bundle
}

async fn collect_es(
    client: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> (
    crate::facts::ElasticFacts,
    Vec<crate::facts::CollectFailure>,
) {
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
        elastic::cluster(client, base, cred),
        elastic::nodes(client, base, cred),
        elastic::health(client, base, cred),
        elastic::repositories(client, base, cred),
        elastic::kibana_indices(client, base, cred),
        elastic::features(client, base, cred),
        elastic::system_features(client, base, cred),
        elastic::deprecations(client, base, cred),
    );
    let mut failures = Vec::new();
    fn keep<T>(
        failures: &mut Vec<crate::facts::CollectFailure>,
        r: Result<T, crate::facts::CollectFailure>,
    ) -> Option<T> {
        r.map_err(|f| failures.push(f)).ok()
    }
    let mut facts = crate::facts::ElasticFacts {
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
    // Multi-repository get-snapshot exists from 7.14 on; the oldest node decides.
    let oldest = facts
        .nodes
        .as_ref()
        .and_then(|n| {
            n.iter()
                .filter_map(|n| version::parse_lenient(&n.version).ok())
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
    let (snapshots, snapshot_failures) = elastic::snapshots(
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

/// Collects GHES facts into a bundle: the Manage API when `url` is given, else the operator's
/// facts alone (the primary is down, or GHES predates the Manage API).
pub async fn collect_ghes(
    client: &ReadOnlyClient,
    url: Option<&str>,
    credentials: &Credentials,
    operator: OperatorFacts,
    now: jiff::Timestamp,
) -> Bundle {
    let mut bundle = Bundle::new("ghes", now);
    bundle.operator = operator;
    let Some(url) = url else { return bundle };
    let (facts, failures) = ghes::collect(client, url, credentials).await;
    bundle.target.ghes = Some(crate::http::strip_userinfo(url));
    bundle.ghes = Some(facts);
    bundle.failures = failures;
    bundle.failures.sort_by(|a, b| {
        a.group
            .cmp(&b.group)
            .then_with(|| a.endpoint.cmp(&b.endpoint))
    });
    bundle.requests = client.request_log();
    bundle
        .requests
        .sort_by(|a, b| a.url.cmp(&b.url).then_with(|| a.method.cmp(&b.method)));
    bundle
}
