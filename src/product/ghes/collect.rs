//! GitHub Enterprise Server: the Manage API (`/manage/v1/…`, port 8443 with TLS), GET only,
//! every request at once. The API answers on the primary for all configured nodes.

use super::facts::{
    GhesFacts, GhesMaintenance, GhesNodeVersion, GhesReplication, GhesSystemRequirements,
    GhesTopology,
};
use crate::collect::fetch::{Endpoint, get_typed};
use crate::collect::http::{Credentials, ReadOnlyClient, env_secret, env_text};
use crate::model::facts::CollectFailure;

const GHES_CREDENTIALS: &str = "RIPCORD_GHES_PASSWORD (the root site administrator password; HTTP user `api_key`, or RIPCORD_GHES_USERNAME)";
const PRIVILEGE: &str = "Manage API access (root site administrator or a Management Console user)";

fn endpoint(group: &'static str, path: &'static str) -> Endpoint<'static> {
    Endpoint {
        group,
        path,
        privilege: PRIVILEGE,
        credentials_hint: GHES_CREDENTIALS,
    }
}

/// The documented `GET /manage/v1/version` element: `{hostname, version: {version, platform, …}}`.
#[derive(serde::Deserialize)]
struct WireVersion {
    hostname: String,
    version: WireVersionInfo,
}

#[derive(serde::Deserialize)]
struct WireVersionInfo {
    version: String,
    platform: Option<String>,
    build_id: Option<String>,
    build_date: Option<String>,
}

/// A 404 on `/manage/v1/version` means the instance predates the Manage API (GHES < 3.9);
/// on a newer endpoint, that this GHES predates that endpoint.
fn explain_404(mut f: CollectFailure) -> CollectFailure {
    if f.status != Some(404) {
        return f;
    }
    f.hint = Some(match f.group.as_str() {
        "ghes.versions" => "no /manage/v1 here: GHES older than 3.9 has no Manage API (or the URL is not the management port 8443); give the facts by flags: --from, --to, --platform, --replica HOST=VERSION".into(),
        "ghes.maintenance" => "this GHES predates GET /manage/v1/maintenance (documented from 3.10)".into(),
        "ghes.system_requirements" => "this GHES predates GET /manage/v1/checks/system-requirements (documented from 3.12)".into(),
        _ => "not found: check the URL is the management port (8443) of the primary".into(),
    });
    f
}

/// The Manage API credentials: `RIPCORD_GHES_PASSWORD`, as the root site administrator
/// (HTTP user `api_key`) or as `RIPCORD_GHES_USERNAME`.
fn credentials() -> Credentials {
    match (
        env_text("RIPCORD_GHES_USERNAME"),
        env_secret("RIPCORD_GHES_PASSWORD"),
    ) {
        (user, Some(password)) => Credentials::Basic {
            username: user.unwrap_or_else(|| "api_key".into()),
            password,
        },
        _ => Credentials::None,
    }
}

/// Collects every Manage API fact; failures are returned beside what could be collected.
pub(crate) async fn collect(c: &ReadOnlyClient, base: &str) -> (GhesFacts, Vec<CollectFailure>) {
    let cred = &credentials();
    let (versions, topology, replication, maintenance, requirements) = tokio::join!(
        get_typed::<Vec<WireVersion>>(
            c,
            base,
            cred,
            endpoint("ghes.versions", "/manage/v1/version")
        ),
        get_typed::<GhesTopology>(
            c,
            base,
            cred,
            endpoint("ghes.topology", "/manage/v1/config/nodes")
        ),
        get_typed::<GhesReplication>(
            c,
            base,
            cred,
            endpoint("ghes.replication", "/manage/v1/replication/status")
        ),
        get_typed::<Vec<GhesMaintenance>>(
            c,
            base,
            cred,
            endpoint("ghes.maintenance", "/manage/v1/maintenance")
        ),
        get_typed::<GhesSystemRequirements>(
            c,
            base,
            cred,
            endpoint(
                "ghes.system_requirements",
                "/manage/v1/checks/system-requirements"
            )
        ),
    );
    let mut failures = Vec::new();
    fn keep<T>(failures: &mut Vec<CollectFailure>, r: Result<T, CollectFailure>) -> Option<T> {
        r.map_err(|f| failures.push(explain_404(f))).ok()
    }
    let facts = GhesFacts {
        versions: keep(&mut failures, versions).map(|list| {
            list.into_iter()
                .map(|w| GhesNodeVersion {
                    hostname: w.hostname,
                    version: w.version.version,
                    platform: w.version.platform,
                    build_id: w.version.build_id,
                    build_date: w.version.build_date,
                })
                .collect()
        }),
        topology: keep(&mut failures, topology),
        replication: keep(&mut failures, replication),
        maintenance: keep(&mut failures, maintenance),
        system_requirements: keep(&mut failures, requirements),
        vm: None,
    };
    (facts, failures)
}
