//! The `.kibana*` indices, their aliases (from both alias APIs) and creation dates.

use super::*;

/// The `.kibana*` indices with aliases (merged from both alias APIs) and creation dates. A
/// failure to read the creation dates is returned beside the indices: the aliases still count,
/// but the report must say why the upgrade start could not be derived.
pub(crate) async fn kibana_indices(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<(Vec<KibanaIndex>, Option<CollectFailure>), CollectFailure> {
    let (by_index, by_alias, created) = tokio::join!(
        get_typed::<AliasBody>(c, base, cred, endpoints::KIBANA_INDEX_ALIASES),
        get_typed::<AliasBody>(c, base, cred, endpoints::KIBANA_ALIASES),
        get_typed::<SettingsBody>(c, base, cred, endpoints::KIBANA_CREATION),
    );
    let mut indices: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut first_error = None;
    let mut any_ok = false;
    for result in [by_index, by_alias] {
        match result {
            Ok(v) => {
                any_ok = true;
                merge_aliases(&v, &mut indices);
            }
            Err(f) => {
                first_error.get_or_insert(f);
            }
        }
    }
    if !any_ok {
        return Err(
            first_error.unwrap_or_else(|| shape_failure(endpoints::KIBANA_ALIASES, "no answer"))
        );
    }
    let (created, created_failure) = match created {
        Ok(v) => (Some(v), None),
        Err(first) => {
            match get_typed::<SettingsBody>(c, base, cred, endpoints::KIBANA_SETTINGS).await {
                Ok(v) => (Some(v), None),
                Err(_) => (None, Some(first)),
            }
        }
    };
    let indices = indices
        .into_iter()
        .map(|(index, aliases)| {
            let created_at = created.as_ref().and_then(|c| creation_date(c, &index));
            KibanaIndex {
                index,
                aliases: aliases.into_iter().collect(),
                created_at,
            }
        })
        .collect();
    Ok((indices, created_failure))
}

/// The get-alias body (`GET <index>/_alias`, `GET _alias/<alias>`): index → its aliases.
pub(crate) type AliasBody = Object<WireIndexAliases>;

wire_object! {
    /// One index of the get-alias body (`GET _alias`): `{aliases: {alias: {…}}}`, the alias
    /// definitions skipped.
    pub(crate) struct WireIndexAliases {
        aliases: Object<crate::collect::wire::Skip>,
    }
}

/// Parses an `index → {aliases: {alias: {}}}` body into `indices`.
pub(crate) fn merge_aliases(v: &AliasBody, indices: &mut BTreeMap<String, BTreeSet<String>>) {
    let Some(map) = &v.0 else { return };
    for (index, body) in map {
        if !index.starts_with(".kibana") {
            continue;
        }
        let entry = indices.entry(index.clone()).or_default();
        if let Some(aliases) = &body.aliases.0 {
            entry.extend(aliases.keys().cloned());
        }
    }
}

/// The get-settings body (`GET <index>/_settings`): index → its settings.
pub(super) type SettingsBody = Object<WireIndexSettings>;

wire_object! {
    /// One index of the get-settings body (`GET <index>/_settings`).
    pub(super) struct WireIndexSettings {
        settings: WireSettings,
    }
}

wire_object! {
    /// `settings` of an index in the get-settings body, nested (`index.creation_date`) or
    /// flat (`"index.creation_date"`, `flat_settings=true` and some proxies).
    pub(super) struct WireSettings {
        index: WireSettingsIndex,
        flat_creation_date("index.creation_date"): Present<EpochMillis>,
    }
}

wire_object! {
    /// `settings.index` of an index in the get-settings body.
    pub(super) struct WireSettingsIndex {
        creation_date: Present<EpochMillis>,
    }
}

/// Epoch milliseconds, as a string of digits (what Elasticsearch sends) or a number that fits
/// an `i64`; anything else reads as `None`.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(super) struct EpochMillis(Option<i64>);

impl FromJson for EpochMillis {
    fn from_text(text: &str) -> Self {
        EpochMillis(text.parse().ok())
    }
    fn from_u64(n: u64) -> Self {
        EpochMillis(i64::try_from(n).ok())
    }
    fn from_i64(n: i64) -> Self {
        EpochMillis(Some(n))
    }
}

impl<'de> serde::Deserialize<'de> for EpochMillis {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::collect::wire::deserialize_any(deserializer)
    }
}

/// `index.creation_date` (epoch millis as a string) from a `_settings` body, nested or flat.
pub(super) fn creation_date(v: &SettingsBody, index: &str) -> Option<jiff::Timestamp> {
    let settings = &v.0.as_ref()?.get(index)?.settings;
    // The nested form wins when present, whatever its value.
    let raw = if settings.index.creation_date.present {
        &settings.index.creation_date
    } else if settings.flat_creation_date.present {
        &settings.flat_creation_date
    } else {
        return None;
    };
    jiff::Timestamp::from_millisecond(raw.value.0?).ok()
}
