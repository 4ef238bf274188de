//! What an upgrade must migrate: the feature names (`_features`), the system features'
//! migration status and the deprecation info.

use super::*;

/// `GET _features`: the feature names whose state a snapshot can hold.
pub(crate) async fn features(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<Vec<String>, CollectFailure> {
    let ep = endpoints::FEATURES;
    let v = get_typed::<WireFeatures>(c, base, cred, ep).await?;
    let list = v
        .features
        .0
        .ok_or_else(|| shape_failure(ep, "no `features` array"))?;
    let mut names: Vec<String> = list.into_iter().filter_map(|f| f.name.0).collect();
    names.sort();
    Ok(names)
}

wire_object! {
    /// The get-features body (`GET _features`, `GetFeaturesResponse`).
    pub(super) struct WireFeatures {
        features: List<WireFeature>,
    }
}

wire_object! {
    /// One feature of the get-features body (`GET _features`).
    pub(super) struct WireFeature {
        name: Text,
    }
}

impl Keep for WireFeature {
    fn keep(&self) -> bool {
        self.name.0.is_some()
    }
}

/// `GET _migration/system_features`.
pub(crate) async fn system_features(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<SystemFeatures, CollectFailure> {
    let ep = endpoints::SYSTEM_FEATURES;
    let v = get_typed::<WireSystemFeatures>(c, base, cred, ep).await?;
    let migration_status = v
        .migration_status
        .0
        .ok_or_else(|| shape_failure(ep, "no `migration_status`"))?;
    let features = v
        .features
        .0
        .map(|list| {
            list.into_iter()
                .filter_map(|f| {
                    Some(SystemFeature {
                        feature_name: f.feature_name.0?,
                        migration_status: f.migration_status.0?,
                        minimum_index_version: f.minimum_index_version.0,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(SystemFeatures {
        migration_status,
        features,
    })
}

wire_object! {
    /// The get-feature-upgrade-status body (`GET _migration/system_features`,
    /// `GetFeatureUpgradeStatusResponse`).
    pub(super) struct WireSystemFeatures {
        migration_status: Text,
        features: List<WireSystemFeature>,
    }
}

wire_object! {
    /// One feature of the get-feature-upgrade-status body (`GET _migration/system_features`).
    pub(super) struct WireSystemFeature {
        feature_name: Text,
        migration_status: Text,
        minimum_index_version: Text,
    }
}

impl Keep for WireSystemFeature {
    fn keep(&self) -> bool {
        self.feature_name.0.is_some() && self.migration_status.0.is_some()
    }
}

/// `GET _migration/deprecations`, flattened: every item with its area and resource.
pub(crate) async fn deprecations(
    c: &ReadOnlyClient,
    base: &str,
    cred: &Credentials,
) -> Result<Vec<Deprecation>, CollectFailure> {
    let ep = endpoints::DEPRECATIONS;
    let v = get_typed::<Object<WireDeprecationArea>>(c, base, cred, ep).await?;
    let map = v.0.ok_or_else(|| shape_failure(ep, "not an object"))?;
    Ok(parse_deprecations(map))
}

/// One area of the deprecation info body (`GET _migration/deprecations`,
/// `DeprecationInfoAction.Response`: area → items): a list of items (`cluster_settings`,
/// `node_settings`, …) or resource → list of items (`index_settings`, `templates`, …). Any
/// other kind has no items.
#[derive(Debug, Default)]
pub(crate) enum WireDeprecationArea {
    List(Vec<WireDeprecation>),
    /// Resources whose value is not a list are kept, without items.
    Keyed(IndexMap<String, List<WireDeprecation>>),
    #[default]
    Other,
}

impl FromJson for WireDeprecationArea {
    fn from_seq<'de, A: serde::de::SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        let items = List::<WireDeprecation>::from_seq(seq)?;
        Ok(WireDeprecationArea::List(items.0.unwrap_or_default()))
    }
    fn from_map<'de, A: serde::de::MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let keyed = Object::<List<WireDeprecation>>::from_map(map)?;
        Ok(WireDeprecationArea::Keyed(keyed.0.unwrap_or_default()))
    }
}

impl<'de> serde::Deserialize<'de> for WireDeprecationArea {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::collect::wire::deserialize_any(deserializer)
    }
}

wire_object! {
    /// One item of the deprecation info body (`GET _migration/deprecations`).
    pub(crate) struct WireDeprecation {
        level: Text,
        message: Text,
        url: Text,
    }
}

impl Keep for WireDeprecation {
    /// An item without a level is not one.
    fn keep(&self) -> bool {
        self.level.0.is_some()
    }
}

/// Flattens the deprecation body; list areas have no resource, keyed areas name theirs.
pub(crate) fn parse_deprecations(map: IndexMap<String, WireDeprecationArea>) -> Vec<Deprecation> {
    let mut out = Vec::new();
    for (area, body) in map {
        match body {
            WireDeprecationArea::List(items) => out.extend(
                items
                    .into_iter()
                    .filter_map(|d| deprecation(&area, None, d)),
            ),
            WireDeprecationArea::Keyed(keyed) => {
                for (resource, items) in keyed {
                    if let Some(items) = items.0 {
                        out.extend(
                            items
                                .into_iter()
                                .filter_map(|d| deprecation(&area, Some(&resource), d)),
                        );
                    }
                }
            }
            WireDeprecationArea::Other => {}
        }
    }
    out
}

pub(super) fn deprecation(
    area: &str,
    resource: Option<&String>,
    d: WireDeprecation,
) -> Option<Deprecation> {
    Some(Deprecation {
        area: area.to_string(),
        resource: resource.cloned(),
        level: d.level.0?,
        message: d.message.0.unwrap_or_default(),
        url: d.url.0,
    })
}
