//! What a Kibana saved-object migration left behind: the version aliases, the indices of a
//! newer Kibana, a reindex in progress, and why the old Kibana would refuse to start.

use super::*;

/// A saved-object version alias such as `.kibana_task_manager_8.17.3`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct VersionAlias {
    pub(crate) alias: String,
    pub(crate) base: String,
    pub(crate) version: String,
    pub(crate) index: String,
}

/// What the saved-object indices say about a (failed) migration.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub(crate) struct MigrationState {
    pub(crate) version_aliases: Vec<VersionAlias>,
    /// Version aliases newer than `from`: the old Kibana refuses to start while they exist.
    pub(crate) newer_aliases: Vec<String>,
    /// `*_reindex_temp` indices an interrupted migration left.
    pub(crate) reindex_temp: Vec<String>,
    /// Indices of a newer version than `from` (created by the migration to `to`).
    pub(crate) newer_indices: Vec<String>,
    /// The index the `.kibana` alias points to.
    pub(crate) kibana_alias_index: Option<String>,
    /// Why Kibana `from` refuses to start on these indices (Kibana's migrator INIT: `.kibana`
    /// or another saved-object alias points at a newer version's index, or a newer version
    /// alias exists), or `None`: `_reindex_temp` and unaliased newer indices alone do not stop it.
    pub(crate) refusal: Option<String>,
}

/// Splits `<base>_<x.y.z>` when base is a saved-object alias (`.kibana`, `.kibana_<word>`).
pub(crate) fn split_version_alias(alias: &str) -> Option<(String, String)> {
    let (base, ver) = alias.rsplit_once('_')?;
    let is_base = base == ".kibana"
        || base.strip_prefix(".kibana_").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        });
    let parts: Vec<&str> = ver.split('.').collect();
    let is_version = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (is_base && is_version).then(|| (base.to_string(), ver.to_string()))
}

/// The version in an index name `<base>_<x.y.z>_001` or `<base>_<x.y.z>_reindex_temp`.
pub(crate) fn index_version(index: &str) -> Option<String> {
    let stem = index.strip_suffix("_reindex_temp").or_else(|| {
        index
            .rsplit_once('_')
            .filter(|(_, n)| n.bytes().all(|b| b.is_ascii_digit()))
            .map(|(s, _)| s)
    })?;
    split_version_alias(stem).map(|(_, v)| v)
}

pub(super) fn version_aliases(indices: &[KibanaIndex]) -> Vec<VersionAlias> {
    let mut out: Vec<VersionAlias> = indices
        .iter()
        .flat_map(|i| {
            i.aliases.iter().filter_map(|a| {
                split_version_alias(a).map(|(base, version)| VersionAlias {
                    alias: a.clone(),
                    base,
                    version,
                    index: i.index.clone(),
                })
            })
        })
        .collect();
    out.sort_by(|a, b| a.alias.cmp(&b.alias));
    out
}

pub(super) fn migration_state(
    bundle: &Bundle<Elastic>,
    upgrade: &Upgrade,
    version_aliases: Vec<VersionAlias>,
) -> MigrationState {
    let indices = bundle.facts.kibana_indices.as_deref().unwrap_or_default();
    let newer = |v: &str| {
        upgrade
            .from
            .as_deref()
            .is_some_and(|f| cmp_lenient(v, f) == Ordering::Greater)
    };
    MigrationState {
        newer_aliases: version_aliases
            .iter()
            .filter(|a| newer(&a.version))
            .map(|a| a.alias.clone())
            .collect(),
        reindex_temp: indices
            .iter()
            .filter(|i| i.index.ends_with("_reindex_temp"))
            .map(|i| i.index.clone())
            .collect(),
        newer_indices: indices
            .iter()
            .filter(|i| !i.index.ends_with("_reindex_temp"))
            .filter(|i| index_version(&i.index).is_some_and(|v| newer(&v)))
            .map(|i| i.index.clone())
            .collect(),
        kibana_alias_index: indices
            .iter()
            .find(|i| i.aliases.iter().any(|a| a == ".kibana"))
            .map(|i| i.index.clone()),
        refusal: refusal(upgrade.from.as_deref(), indices, &version_aliases, &newer),
        version_aliases,
    }
}

/// Kibana's migrator refuses to start when a saved-object alias (`.kibana`,
/// `.kibana_task_manager`, …) points at a newer version's index ("The .kibana alias is pointing
/// to a newer version of Kibana") or a newer version alias exists ("The <alias>_<version> alias
/// refers to a newer version of Kibana").
pub(super) fn refusal(
    from: Option<&str>,
    indices: &[KibanaIndex],
    aliases: &[VersionAlias],
    newer: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let from = from?;
    let pointing: Vec<String> = indices
        .iter()
        .flat_map(|i| {
            i.aliases
                .iter()
                .filter(|a| {
                    split_version_alias(a).is_none()
                        && (a.as_str() == ".kibana" || a.starts_with(".kibana_"))
                })
                .filter(|_| index_version(&i.index).is_some_and(|v| newer(&v)))
                .map(move |a| format!("{a} points to {}", i.index))
        })
        .collect();
    let newer_aliases: Vec<&str> = aliases
        .iter()
        .filter(|a| newer(&a.version))
        .map(|a| a.alias.as_str())
        .collect();
    if pointing.is_empty() && newer_aliases.is_empty() {
        return None;
    }
    let mut why = Vec::new();
    if !pointing.is_empty() {
        why.push(pointing.join(", "));
    }
    if !newer_aliases.is_empty() {
        why.push(format!(
            "newer version aliases exist ({})",
            newer_aliases.join(", ")
        ));
    }
    Some(format!(
        "Kibana {from} refuses to start: {}",
        why.join("; ")
    ))
}
