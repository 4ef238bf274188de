//! What every product's facts share: the bundle envelope (`bundle`), what could not be
//! collected, and the request log. A product's own fact types live in its folder.

pub(crate) mod bundle;
pub(crate) mod screen;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) use bundle::Bundle;

use crate::model::upgrade::Declared;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// What a facts bundle holds of one product: its name (the bundle's `product` and facts key)
/// and the types of its sections. The part of a product the bundle format needs, so the facts
/// know no product (every product is one).
pub(crate) trait Shape: Sized + Sync + 'static {
    /// The subcommand, the bundle's `product` and facts key, and the rules folder.
    const NAME: &'static str;
    /// The endpoints a bundle records.
    type Target: Serialize + DeserializeOwned + JsonSchema + Default + Clone + PartialEq + Debug;
    type Operator: OperatorFacts;
    type Facts: FactsSection;
}

/// A product's facts, as they sit under its key in a bundle.
pub(crate) trait FactsSection:
    Serialize + DeserializeOwned + JsonSchema + Default + Clone + PartialEq + Debug
{
    /// Nothing collected: the key is left out of the bundle.
    fn is_absent(&self) -> bool;
}

/// Facts only the operator knows (flags), recorded in a bundle.
pub(crate) trait OperatorFacts:
    Serialize + DeserializeOwned + JsonSchema + Default + Clone + PartialEq + Debug
{
    /// The declared `from` and `to`, which every product has.
    fn declared(&self) -> Declared<'_>;
    /// The declared versions by flag name, to normalise them in place.
    fn declared_mut(&mut self) -> [(&'static str, &mut Option<String>); 2];
    /// Applies flags given at evaluation over what the bundle recorded: a flag wins.
    fn merge(&mut self, flags: Self);
}

/// Schema tag of a facts bundle; bumped only on an incompatible change.
pub(crate) const FACTS_SCHEMA: &str = "ripcord.facts/v1";

/// Something that could not be collected, and what to do about it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CollectFailure {
    /// The fact group it leaves unknown, e.g. `es.snapshots`.
    pub group: String,
    /// `GET /_snapshot/...` as requested (no credentials).
    pub endpoint: String,
    pub status: Option<u16>,
    pub reason: String,
    pub hint: Option<String>,
}

/// How ripcord connected when it collected: the authentication *method* per service and the
/// variables it came from (never a secret), and the TLS options by path. Plans print commands
/// that authenticate and verify TLS the same way, wherever the bundle is evaluated.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Connection {
    /// Per service (`es`, `kibana`, `ghes`): how requests were authenticated.
    #[serde(default)]
    pub auth: std::collections::BTreeMap<String, AuthUsed>,
    /// `--ca-cert`, as given.
    pub ca_cert: Option<String>,
    /// `--insecure`: TLS certificates were not verified.
    #[serde(default)]
    pub insecure: bool,
}

/// One service's authentication: the method and the environment variables that held it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthUsed {
    pub method: AuthMethod,
    /// The variables the secret came from, e.g. `RIPCORD_ES_API_KEY`.
    #[serde(default)]
    pub variables: Vec<String>,
}

/// How a service was authenticated.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AuthMethod {
    #[default]
    None,
    /// `Authorization: ApiKey …`
    ApiKey,
    /// HTTP basic.
    Basic,
    /// `Authorization: Bearer …` (a Google Cloud or Azure access token).
    Bearer,
    /// AWS Signature Version 4 (the standard `AWS_*` variables).
    AwsSigv4,
}

/// One request in the audit log: the read-only promise, checkable after the fact.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestRecord {
    pub method: String,
    pub url: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub error: Option<String>,
}

/// Sorts failures by group then endpoint, and requests by URL then method: finish order varies
/// run to run, and a stable order keeps bundles diffable.
pub(crate) fn sort_logs(failures: &mut [CollectFailure], requests: &mut [RequestRecord]) {
    failures.sort_by(|a, b| {
        a.group
            .cmp(&b.group)
            .then_with(|| a.endpoint.cmp(&b.endpoint))
    });
    requests.sort_by(|a, b| a.url.cmp(&b.url).then_with(|| a.method.cmp(&b.method)));
}
