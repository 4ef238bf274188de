//! What every product's facts share: the bundle envelope (`bundle`), what could not be
//! collected, and the request log. A product's own fact types live in its folder.

pub(crate) mod bundle;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) use bundle::Bundle;

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
