//! Whether Elasticsearch accepts the Kibana that will run (Kibana's own rule, node by node),
//! and so whether Elasticsearch must go back too.

use super::*;

/// Whether every Elasticsearch node accepts the Kibana that will run (`upgrade.kibana_version`:
/// `to` in preflight, `from` in rollback), by Kibana's own rule
/// (`es_kibana_version_compatability.ts`), node by node.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub(crate) struct KibanaCompat {
    /// `None` when an input is missing or cannot be judged.
    pub(crate) accepted: Option<bool>,
    /// The nodes that refuse it, as `name (vVERSION)` (`None` when not judged).
    pub(crate) refusing_nodes: Option<Vec<String>>,
    /// Why it cannot be judged although its inputs are there: a version that does not parse,
    /// and no node that is known to refuse.
    pub(crate) undecided: Option<String>,
    /// Preflight: the version older nodes were judged at (`to`: Elasticsearch is upgraded
    /// before Kibana), when any was.
    pub(crate) judged_at: Option<String>,
    /// Nodes that reported no version, or one that is not SemVer: Kibana refuses them, but
    /// what they really run is unknown, so they alone never send Elasticsearch back.
    pub(crate) invalid_nodes: Vec<String>,
    /// Nodes on another release than that Kibana (`esVersionEqualsKibana`: equal after dropping
    /// pre-release suffixes), judged the same way: Kibana warns about them.
    pub(crate) different_nodes: Vec<String>,
}

/// Whether the Kibana that will run after the rollback is refused by Elasticsearch, so
/// Elasticsearch must be rolled back too. Rollback: by the nodes as they are; preflight: by a
/// cluster upgraded to `to`, predicted.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub(crate) struct EsRollback {
    /// `None` when an input is missing or cannot be judged.
    pub(crate) needed: Option<bool>,
    /// The nodes that refuse it, as `name (vVERSION)` (rollback; `None` when not judged).
    pub(crate) refusing_nodes: Option<Vec<String>>,
    /// Why it cannot be judged although its inputs are there: a version that does not parse,
    /// and no node that is known to refuse.
    pub(crate) undecided: Option<String>,
}

/// Whether Elasticsearch must go back too (see [`EsRollback`]).
pub(super) fn es_rollback(mode: Mode, upgrade: &Upgrade, compat: &KibanaCompat) -> EsRollback {
    match mode {
        // The Kibana that will run is `from`: refused by the nodes as they are, ES goes back.
        // A node without a valid version refuses Kibana too, but what it runs is unknown: it
        // alone is a node to fix, not a reason to restore the whole cluster.
        Mode::Rollback => {
            let refusing = compat.refusing_nodes.clone().unwrap_or_default();
            let versioned = refusing
                .iter()
                .filter(|n| !compat.invalid_nodes.contains(n))
                .count();
            match compat.accepted {
                Some(false) if versioned == 0 => EsRollback {
                    needed: None,
                    refusing_nodes: Some(refusing),
                    undecided: Some(format!(
                        "{} report no valid version; fix or remove them before starting Kibana {}",
                        compat.invalid_nodes.join(", "),
                        upgrade.from.as_deref().unwrap_or("`from`")
                    )),
                },
                accepted => EsRollback {
                    needed: accepted.map(|accepted| !accepted),
                    refusing_nodes: compat.refusing_nodes.clone(),
                    undecided: compat.undecided.clone(),
                },
            }
        }
        // Predicted: would a cluster upgraded to `to` refuse the Kibana running now?
        Mode::Preflight => match (upgrade.from.as_deref(), upgrade.to.as_deref()) {
            (Some(from), Some(to)) => match version::kibana_accepts_es(from, to) {
                Ok(accepted) => EsRollback {
                    needed: Some(!accepted),
                    ..EsRollback::default()
                },
                Err(e) => EsRollback {
                    undecided: Some(format!("Error executing function 'kibana_accepts_es': {e}")),
                    ..EsRollback::default()
                },
            },
            _ => EsRollback::default(),
        },
    }
}

/// Whether every node accepts Kibana `kibana`, by Kibana's own rule, node by node
/// (`nodes_version_compatibility.ts`): a node without a version, or with one that is not valid
/// SemVer, counts as incompatible. In preflight each node is judged at the version it will run
/// when Kibana `to` starts — Elasticsearch is upgraded first, so the greater of its version and
/// `to` — so the gate can pass before the irreversible part.
pub(super) fn kibana_compat(
    bundle: &Bundle<Elastic>,
    mode: Mode,
    upgrade: &Upgrade,
) -> KibanaCompat {
    let Some(kibana) = upgrade.kibana_version.as_deref() else {
        return KibanaCompat::default();
    };
    let Some(nodes) = bundle.facts.nodes.as_deref() else {
        // Not collected: the rules say unknown; the plan must not assume Kibana runs.
        return KibanaCompat {
            undecided: Some("the Elasticsearch nodes could not be listed".into()),
            ..KibanaCompat::default()
        };
    };
    if let Err(e) = version::parse_lenient(kibana) {
        return KibanaCompat {
            undecided: Some(format!("Error executing function 'kibana_accepts_es': {e}")),
            ..KibanaCompat::default()
        };
    }
    let target = match mode {
        Mode::Preflight => upgrade.to.as_deref(),
        Mode::Rollback => None,
    };
    let mut refusing = Vec::new();
    let mut different = Vec::new();
    let mut invalid = Vec::new();
    let mut judged_at = None;
    for n in nodes {
        let Some(node_version) = n.version.as_deref() else {
            refusing.push(format!("{} (no version)", n.name));
            different.push(format!("{} (no version)", n.name));
            invalid.push(format!("{} (no version)", n.name));
            continue;
        };
        let (judged, shown) = match target {
            Some(to)
                if cmp_lenient(to, node_version) == Ordering::Greater
                    && version::parse_lenient(node_version).is_ok() =>
            {
                judged_at = Some(to.to_string());
                (to, format!("v{node_version}, v{to} once upgraded"))
            }
            _ => (node_version, format!("v{node_version}")),
        };
        if !version::same_release(kibana, judged).unwrap_or(false) {
            different.push(format!("{} ({shown})", n.name));
        }
        match version::kibana_accepts_es(kibana, judged) {
            Ok(true) => {}
            Ok(false) if version::parse_lenient(judged).is_err() => {
                refusing.push(format!("{} ({shown}: not a valid version)", n.name));
                invalid.push(format!("{} ({shown}: not a valid version)", n.name));
            }
            Ok(false) | Err(_) => refusing.push(format!("{} ({shown})", n.name)),
        }
    }
    KibanaCompat {
        accepted: Some(refusing.is_empty()),
        refusing_nodes: Some(refusing),
        undecided: None,
        judged_at,
        invalid_nodes: invalid,
        different_nodes: different,
    }
}
