//! What the Elastic facts name that reaches a command: versions (packages, image tags,
//! archives, the new cluster's check), the cluster UUID (the check that a new cluster is not
//! the upgraded one), snapshot and repository names (restore paths, repository bodies),
//! index and alias names (the old version's aliases), and the URLs a bundle records. Checked
//! before derive; see [`crate::model::facts::screen`].

use super::Elastic;
use crate::model::facts::screen::Screening;
use crate::model::facts::{Bundle, CollectFailure, RequestRecord};
use crate::model::names;
use crate::product::Usage;

/// Screens a bundle: a refused API answer is dropped and returned as its group's failure; a
/// recorded URL that is not an http(s) URL with a host is a usage error.
pub(super) fn screen(bundle: &mut Bundle<Elastic>) -> Result<Vec<CollectFailure>, Usage> {
    let urls = bundle
        .target
        .es
        .iter()
        .map(|u| ("--es", u))
        .chain(bundle.target.kibana.iter().map(|u| ("--kibana", u)));
    for (flag, url) in urls {
        url_ok(url).map_err(|why| Usage::new(format!("the recorded {flag} {why}"), None))?;
    }
    let requests = std::mem::take(&mut bundle.requests);
    let failures = screen_facts(bundle, &requests);
    bundle.requests = requests;
    Ok(failures)
}

/// An http(s) URL whose host is a host name or an address.
fn url_ok(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw:?} is not an http(s) URL"));
    }
    match url.host() {
        Some(url::Host::Domain(d)) => names::hostname(d),
        Some(_) => Ok(()),
        None => Err(format!("{raw:?} names no host")),
    }
}

fn optional(
    field: String,
    value: Option<&str>,
    check: fn(&str) -> Result<(), String>,
) -> (String, Result<(), String>) {
    (field, value.map_or(Ok(()), check))
}

fn screen_facts(bundle: &mut Bundle<Elastic>, requests: &[RequestRecord]) -> Vec<CollectFailure> {
    let mut screening = Screening::new(requests);
    let facts = &mut bundle.facts;
    if let Some(cluster) = &facts.cluster {
        let checks = [
            optional(
                "cluster_uuid".into(),
                cluster.cluster_uuid.as_deref(),
                names::identifier,
            ),
            optional(
                "version.number".into(),
                cluster.version.as_deref(),
                names::version,
            ),
        ];
        if !screening.group("es.cluster", "GET /", checks) {
            facts.cluster = None;
        }
    }
    if let Some(nodes) = &facts.nodes {
        let checks = nodes.iter().map(|n| {
            optional(
                format!("nodes.{}.version", n.id),
                n.version.as_deref(),
                names::version,
            )
        });
        if !screening.group("es.nodes", "GET /_nodes", checks) {
            facts.nodes = None;
        }
    }
    if let Some(repositories) = &facts.repositories {
        let checks = repositories.iter().flat_map(|r| {
            [
                (
                    format!("repository name {:?}", r.name),
                    names::es_repository(&r.name),
                ),
                optional(
                    format!("{}.type", r.name),
                    r.kind.as_deref(),
                    names::identifier,
                ),
            ]
        });
        if !screening.group("es.repositories", "GET /_snapshot", checks) {
            facts.repositories = None;
        }
    }
    if let Some(snapshots) = &facts.snapshots {
        let checks = snapshots.iter().enumerate().flat_map(|(i, s)| {
            [
                (
                    format!("snapshots[{i}].repository"),
                    names::es_repository(&s.repository),
                ),
                (
                    format!("snapshots[{i}].snapshot"),
                    names::es_snapshot(&s.snapshot),
                ),
                optional(
                    format!("snapshots[{i}].version"),
                    s.version.as_deref(),
                    names::version,
                ),
            ]
        });
        if !screening.group("es.snapshots", "GET /_snapshot/_all/_all", checks) {
            facts.snapshots = None;
        }
    }
    if let Some(indices) = &facts.kibana_indices {
        let checks = indices.iter().flat_map(|k| {
            std::iter::once((format!("index {:?}", k.index), names::es_index(&k.index))).chain(
                k.aliases
                    .iter()
                    .map(|a| (format!("{} alias", k.index), names::es_index(a))),
            )
        });
        if !screening.group("es.kibana_indices", "GET /_alias/.kibana*", checks) {
            facts.kibana_indices = None;
        }
    }
    // A Kibana whose version names no version is one whose status is not known.
    let mut refused = Vec::new();
    for (i, k) in facts.kibana.iter_mut().enumerate() {
        if let Some(v) = k.version.as_deref()
            && names::version(v).is_err()
        {
            refused.push((format!("version.number (of {})", k.url), names::version(v)));
            k.version = None;
            let _ = i;
        }
    }
    if !refused.is_empty() {
        screening.group("kibana.status", "GET /api/status", refused);
    }
    screening.failures
}
