//! What the GHES facts name that reaches a command: host names (every `ssh` and
//! `ghe-repl-setup`), versions (the package and the checks) and the platform (the package's
//! URL and file name). Checked before derive; see [`crate::model::facts::screen`].

use super::Ghes;
use crate::model::facts::screen::Screening;
use crate::model::facts::{Bundle, CollectFailure};
use crate::model::names;
use crate::product::Usage;

/// Screens a bundle: a refused API answer is dropped and returned as its group's failure; an
/// operator fact that names no host, version or platform is a usage error (a flag or a bundle
/// that records one).
pub(super) fn screen(bundle: &mut Bundle<Ghes>) -> Result<Vec<CollectFailure>, Usage> {
    for r in &bundle.operator.replicas {
        names::hostname(&r.hostname)
            .and_then(|()| names::version(&r.version))
            .map_err(|why| {
                Usage::new(
                    format!("--replica {why}"),
                    Some("e.g. --replica ghe-replica-1=3.14.6"),
                )
            })?;
    }
    if let Some(p) = &bundle.operator.platform
        && super::platform_name(p).is_none()
    {
        return Err(Usage::new(
            format!("--platform {p:?} is not a GHES platform"),
            Some("one of ami, azure, esx, gce, hyperv, kvm"),
        ));
    }
    let requests = std::mem::take(&mut bundle.requests);
    let failures = screen_facts(bundle, &requests);
    bundle.requests = requests;
    Ok(failures)
}

fn screen_facts(
    bundle: &mut Bundle<Ghes>,
    requests: &[crate::model::facts::RequestRecord],
) -> Vec<CollectFailure> {
    let mut screening = Screening::new(requests);
    let Some(facts) = bundle.facts.as_mut() else {
        return Vec::new();
    };
    let host = |field: String, h: &str| (field, names::hostname(h));
    if let Some(versions) = &facts.versions {
        let checks = versions.iter().enumerate().flat_map(|(i, n)| {
            let platform = match n.platform.as_deref() {
                Some(p) if super::platform_name(p).is_none() => {
                    Err(format!("{p:?} is not a GHES platform"))
                }
                _ => Ok(()),
            };
            [
                host(format!("[{i}].hostname"), &n.hostname),
                (format!("[{i}].version"), names::version(&n.version)),
                (format!("[{i}].platform"), platform),
            ]
        });
        if !screening.group("ghes.versions", "GET /manage/v1/version", checks) {
            facts.versions = None;
        }
    }
    // The other answers name nodes by host only: each is kept only if every name is one.
    let hosts = |field: &'static str, names: Vec<&str>| -> Vec<(String, Result<(), String>)> {
        names
            .into_iter()
            .enumerate()
            .map(|(i, h)| host(format!("{field}[{i}].hostname"), h))
            .collect()
    };
    let topology = facts.topology.as_ref().map(|t| {
        hosts(
            "nodes",
            t.nodes.iter().map(|n| n.hostname.as_str()).collect(),
        )
    });
    if let Some(checks) = topology
        && !screening.group("ghes.topology", "GET /manage/v1/config/nodes", checks)
    {
        facts.topology = None;
    }
    let replication = facts.replication.as_ref().map(|r| {
        hosts(
            "nodes",
            r.nodes.iter().map(|n| n.hostname.as_str()).collect(),
        )
    });
    if let Some(checks) = replication
        && !screening.group(
            "ghes.replication",
            "GET /manage/v1/replication/status",
            checks,
        )
    {
        facts.replication = None;
    }
    let maintenance = facts
        .maintenance
        .as_ref()
        .map(|m| hosts("", m.iter().map(|n| n.hostname.as_str()).collect()));
    if let Some(checks) = maintenance
        && !screening.group("ghes.maintenance", "GET /manage/v1/maintenance", checks)
    {
        facts.maintenance = None;
    }
    let requirements = facts.system_requirements.as_ref().map(|r| {
        hosts(
            "nodes",
            r.nodes.iter().map(|n| n.hostname.as_str()).collect(),
        )
    });
    if let Some(checks) = requirements
        && !screening.group(
            "ghes.system_requirements",
            "GET /manage/v1/checks/system-requirements",
            checks,
        )
    {
        facts.system_requirements = None;
    }
    screening.failures
}
