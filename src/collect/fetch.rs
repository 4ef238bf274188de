//! One GET turned into JSON or into a `CollectFailure` that says what went wrong and what to do.
//!
//! Every collector goes through here so that a 401, a 403 with Elasticsearch's
//! `security_exception` body, an HTML error page, truncated JSON or a timeout all read the same
//! way in the report.

use crate::collect::http::{BodyTo, Credentials, ReadOnlyClient, RequestError, Response};
use crate::collect::wire::{FromJson, Present, Text, wire_object};
use crate::model::facts::CollectFailure;

/// What a fact group needs, used to turn a 403 into the missing privilege.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Endpoint<'a> {
    pub(crate) group: &'a str,
    pub(crate) path: &'a str,
    /// The privilege to name when the answer is 403.
    pub(crate) privilege: &'a str,
    /// Which credentials to check when the answer is 401.
    pub(crate) credentials_hint: &'a str,
}

impl Endpoint<'_> {
    /// The most this endpoint's answer may be, sized to what the vendor can really return
    /// with ripcord's `filter_path`s, with a wide margin: a server that sends more is cut off
    /// ("answer too large"). Per fact group, so every request of a group shares one cap.
    pub(crate) fn max_bytes(&self) -> usize {
        const KIB: usize = 1024;
        const MIB: usize = 1024 * KIB;
        match self.group {
            // `GET /` and `_cluster/health`: under 1 KiB.
            "es.cluster" | "es.health" => 64 * KIB,
            // One entry per node, ~300 bytes filtered: 16 MiB is over 50,000 nodes.
            "es.nodes" => 16 * MIB,
            // Every snapshot of every repository, verbose: ~600 bytes each filtered (a server
            // that ignores `filter_path` adds the index names); 270,000 snapshots ≈ 160 MB.
            "es.snapshots" => 512 * MIB,
            // One item per deprecated setting per index: tens of thousands of indices.
            "es.deprecations" => 64 * MIB,
            // Repository settings, `.kibana*` aliases and settings, the Kibana status (every
            // plugin's): kilobytes to a few hundred.
            "es.repositories" | "es.kibana_indices" | "kibana.status" => 4 * MIB,
            // The feature list and the Manage API's small documents.
            _ => MIB,
        }
    }

    /// The most memory this endpoint's answer may hold once parsed: twice its byte cap
    /// (a real answer parses into less than its text, since most of it is skipped; only a
    /// hostile stream of tiny entries expands), within the run's budget.
    pub(crate) fn max_held(&self) -> usize {
        self.max_bytes()
            .saturating_mul(2)
            .min(crate::base::memory::RUN_BUDGET)
    }

    /// The memory budgets of a parse of this endpoint's answer in `client`'s run.
    fn budget(&self, client: &ReadOnlyClient) -> crate::collect::body::Budget {
        crate::collect::body::Budget {
            run: client.answers_memory(),
            answer: self.max_held(),
        }
    }
}

/// GETs `endpoint` and deserializes the body straight into `T`, never building a generic JSON
/// tree: a listing of tens of thousands of snapshots stays small in memory.
pub(crate) async fn get_typed<T: serde::de::DeserializeOwned + Send + 'static>(
    client: &ReadOnlyClient,
    base: &str,
    credentials: &Credentials,
    endpoint: Endpoint<'_>,
) -> Result<T, CollectFailure> {
    get_streamed(client, base, credentials, endpoint)
        .await
        .map(|(value, _)| value)
}

/// GETs `endpoint` and parses the body as it arrives into `T` (see [`crate::collect::body`]), within
/// the endpoint's byte cap; with the response headers.
pub(crate) async fn get_streamed<T: serde::de::DeserializeOwned + Send + 'static>(
    client: &ReadOnlyClient,
    base: &str,
    credentials: &Credentials,
    endpoint: Endpoint<'_>,
) -> Result<(T, reqwest::header::HeaderMap), CollectFailure> {
    let (chunks, receiver) = crate::collect::body::channel();
    let budget = endpoint.budget(client);
    let parser =
        tokio::task::spawn_blocking(move || crate::collect::body::parse::<T>(receiver, budget));
    let to = BodyTo::Stream {
        max_bytes: endpoint.max_bytes(),
        chunks,
    };
    let response = client.get(base, endpoint.path, credentials, to).await;
    // The HTTP side is done (the sender is dropped): the parser has its end of input.
    let parsed = parser.await;
    let response = response.map_err(|e| transport_failure(endpoint, &e))?;
    if !(200..300).contains(&response.status) {
        return Err(status_failure(endpoint, &response, credentials));
    }
    match parsed {
        Ok(Ok(value)) => Ok((value, response.headers)),
        Ok(Err(e)) => Err(stream_failure(endpoint, response.status, &e)),
        Err(_) => Err(shape_failure(endpoint, "the parser stopped")),
    }
}

/// The failure of a body that did not parse as it arrived: JSON of another shape, or (see
/// [`syntax_failure`]) not JSON at all.
fn stream_failure(
    endpoint: Endpoint<'_>,
    status: u16,
    e: &crate::collect::body::StreamError,
) -> CollectFailure {
    if let Some(over) = &e.over_budget {
        return failure(
            endpoint,
            Some(status),
            over.to_string(),
            Some("ripcord stopped reading it to stay within its memory budget; no real answer of this endpoint is this large: check what answers on this URL".to_string()),
        );
    }
    if e.error.is_data() {
        return shape_failure(endpoint, &e.error);
    }
    syntax_failure(endpoint, status, &e.prefix, e.read, &e.error)
}

/// Deserializes a body read whole straight into `T`, within the endpoint's memory budget,
/// naming HTML pages and truncated documents plainly; a body that is JSON but not of `T`'s
/// shape is a shape failure.
pub(crate) fn parse_typed<T: serde::de::DeserializeOwned>(
    client: &ReadOnlyClient,
    endpoint: Endpoint<'_>,
    status: u16,
    body: &[u8],
) -> Result<T, CollectFailure> {
    crate::collect::body::parse_buffered(body, endpoint.budget(client))
        .map_err(|e| stream_failure(endpoint, status, &e))
}

/// A failure for a body that is not JSON at all, from its first bytes (`start`, the whole
/// body or a streamed body's prefix) and how much was read: an HTML page (a proxy or login
/// page), a document cut short, or other text.
fn syntax_failure(
    endpoint: Endpoint<'_>,
    status: u16,
    start: &[u8],
    read: usize,
    e: &serde_json::Error,
) -> CollectFailure {
    let text = String::from_utf8_lossy(start);
    let trimmed = text.trim_start();
    let (reason, hint) = if trimmed.starts_with('<') {
        (
            format!(
                "HTTP {status} answered with an HTML page, not JSON ({})",
                snippet(trimmed)
            ),
            Some(
                "check the URL points straight at the service, not at a proxy or login page"
                    .to_string(),
            ),
        )
    } else if e.is_eof() {
        (
            format!("truncated JSON after {read} bytes: {e}"),
            Some("the connection was cut mid-response; retry, or raise --timeout".to_string()),
        )
    } else {
        (format!("not JSON: {e} ({})", snippet(&text)), None)
    };
    failure(endpoint, Some(status), reason, hint)
}

/// Builds a failure for a body that parsed but did not have the documented shape.
pub(crate) fn shape_failure(
    endpoint: Endpoint<'_>,
    what: impl std::fmt::Display,
) -> CollectFailure {
    failure(
        endpoint,
        Some(200),
        format!("unexpected response shape: {what}"),
        None,
    )
}

/// A failure for a request that got no HTTP answer.
pub(crate) fn transport_failure(endpoint: Endpoint<'_>, error: &RequestError) -> CollectFailure {
    let hint = match error {
        RequestError::Timeout(_) => {
            Some("the service did not answer in time; raise --timeout or check load".to_string())
        }
        RequestError::Refused => {
            Some("nothing listens there: is the service running and the port right?".to_string())
        }
        RequestError::Connect(detail)
            if detail.contains("certificate") || detail.contains("Certificate") =>
        {
            Some(
                "TLS verification failed: pass the cluster CA with --ca-cert (or --insecure)"
                    .to_string(),
            )
        }
        RequestError::TooLarge(_) => Some("the response exceeded the size cap".to_string()),
        _ => None,
    };
    failure(endpoint, None, error.to_string(), hint)
}

/// A failure for a non-2xx answer, with Elasticsearch's error type and reason when present.
pub(crate) fn status_failure(
    endpoint: Endpoint<'_>,
    response: &Response,
    credentials: &Credentials,
) -> CollectFailure {
    let detail = error_detail(&response.body);
    let status = response.status;
    let text = String::from_utf8_lossy(&response.body);
    let html = text.trim_start().starts_with('<');
    let location = response
        .headers
        .get(reqwest::header::LOCATION)
        .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
    let reason = match (&detail, location) {
        (_, Some(to)) if (300..400).contains(&status) => {
            format!("HTTP {status}: redirects to {to} (not followed)")
        }
        (Some(d), _) => format!("HTTP {status}: {d}"),
        (None, _) if html => format!(
            "HTTP {status} answered with an HTML page, not JSON ({})",
            snippet(text.trim_start())
        ),
        (None, _) => format!("HTTP {status}: {}", snippet(&text)),
    };
    let hint = match status {
        _ if html && detail.is_none() => Some("a proxy, load balancer or login page answered instead of the service: check the URL and the proxy".to_string()),
        // Two different fixes: setting a variable, or replacing what it holds.
        401 if matches!(credentials, Credentials::None) => Some(format!(
            "no credentials were set: set {}",
            crate::base::secrets::credentials_hint(endpoint.credentials_hint)
        )),
        401 => Some(format!(
            "the credentials were rejected (expired, revoked, or for another cluster?): check {}",
            crate::base::secrets::credentials_hint(endpoint.credentials_hint)
        )),
        403 => Some(match detail.as_deref().and_then(granted_by) {
            Some(granted) => format!("the user lacks a privilege; Elasticsearch says this is granted by {granted}"),
            None => format!("the user lacks the {} privilege", endpoint.privilege),
        }),
        404 => Some("not found: check the URL and the service version".to_string()),
        300..=399 => Some("ripcord never follows redirects: give the URL the service answers on itself (not a login page or proxy)".to_string()),
        _ => None,
    };
    failure(endpoint, Some(status), reason, hint)
}

/// `the cluster privileges [monitor_snapshot,…]` from an 8.x `security_exception` reason.
fn granted_by(reason: &str) -> Option<String> {
    let start =
        reason.find("this action is granted by the ")? + "this action is granted by the ".len();
    let rest = &reason[start..];
    let end = rest.find(']')? + 1;
    Some(rest[..end].to_string())
}

/// `error.type: error.reason` of an Elasticsearch error body, if it is one.
pub(crate) fn error_detail(body: &[u8]) -> Option<String> {
    let body: WireErrorBody = serde_json::from_slice(body).ok()?;
    if !body.error.present {
        return None;
    }
    match body.error.value {
        WireError::Text(text) => Some(text),
        WireError::Fields(fields) => Some(format!(
            "{}: {}",
            fields.kind.0.as_deref().unwrap_or("error"),
            fields.reason.0.as_deref().unwrap_or("")
        )),
    }
}

wire_object! {
    /// An Elasticsearch error body (`{"error": {"type", "reason", …}, "status"}`), or the
    /// older and proxy form with `error` a plain string.
    struct WireErrorBody {
        error: Present<WireError>,
    }
}

/// `error`: a string, or an object read for `type` and `reason` (any other kind reads as an
/// object without them).
#[derive(Debug, Clone, PartialEq)]
enum WireError {
    Text(String),
    Fields(WireErrorFields),
}

impl Default for WireError {
    fn default() -> Self {
        WireError::Fields(WireErrorFields::default())
    }
}

impl FromJson for WireError {
    fn from_text(text: &str) -> Self {
        WireError::Text(text.to_string())
    }
    fn from_map<'de, A: serde::de::MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        WireErrorFields::from_map(map).map(WireError::Fields)
    }
}

impl<'de> serde::Deserialize<'de> for WireError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::collect::wire::deserialize_any(deserializer)
    }
}

wire_object! {
    /// The `type` and `reason` of an Elasticsearch error object.
    struct WireErrorFields {
        kind("type"): Text,
        reason: Text,
    }
}

fn failure(
    endpoint: Endpoint<'_>,
    status: Option<u16>,
    reason: String,
    hint: Option<String>,
) -> CollectFailure {
    CollectFailure {
        group: endpoint.group.to_string(),
        // The query (filter_path and friends) is in the request log; here it only hides the path.
        endpoint: format!(
            "GET {}",
            endpoint.path.split('?').next().unwrap_or(endpoint.path)
        ),
        status,
        reason,
        hint,
    }
}

/// The first 80 characters of a body, on one line.
fn snippet(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(80).collect();
    if one_line.chars().count() > 80 {
        cut.push('…');
    }
    if cut.is_empty() {
        "empty body".to_string()
    } else {
        format!("{cut:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::wire::Skip;

    const EP: Endpoint<'static> = Endpoint {
        group: "es.health",
        path: "/_cluster/health?x=1",
        privilege: "monitor (cluster)",
        credentials_hint: "RIPCORD_ES_API_KEY",
    };

    #[test]
    fn error_bodies_object_or_string() {
        let detail = |b: &str| error_detail(b.as_bytes());
        assert_eq!(
            detail(r#"{"error": {"type": "security_exception", "reason": "no"}, "status": 403}"#)
                .as_deref(),
            Some("security_exception: no")
        );
        assert_eq!(detail(r#"{"error": "plain"}"#).as_deref(), Some("plain"));
        assert_eq!(detail(r#"{"error": null}"#).as_deref(), Some("error: "));
        assert_eq!(detail(r#"{"status": 500}"#), None);
        assert_eq!(detail(r#"[{"error": "x"}]"#), None);
        assert_eq!(detail("<html>"), None);
    }

    #[test]
    fn bodies_that_are_not_json_are_named() {
        let client =
            ReadOnlyClient::new(crate::collect::http::ClientOptions::default()).expect("client");
        let reason = |b: &str| {
            parse_typed::<Skip>(&client, EP, 200, b.as_bytes())
                .map(|_| ())
                .map_err(|f| f.reason)
        };
        assert_eq!(reason("{}"), Ok(()));
        assert!(
            reason("<html><body>502</body></html>")
                .is_err_and(|r| r.starts_with("HTTP 200 answered with an HTML page"))
        );
        assert!(reason("[0,0,").is_err_and(|r| r.starts_with("truncated JSON after 5 bytes")));
        assert!(reason("{} x").is_err_and(|r| r.starts_with("not JSON")));
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code, reason = "only its shape matters")]
        struct Strict {
            status: String,
        }
        assert!(
            parse_typed::<Strict>(&client, EP, 200, b"{}").is_err_and(|f| {
                f.reason
                    .starts_with("unexpected response shape: missing field")
            })
        );
    }
}
