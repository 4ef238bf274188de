//! Kibana: `GET /api/status` of every instance, read in both the v8 and the legacy v7 format.
//!
//! What matters for a rollback is whether an instance still answers (it must be stopped before
//! the feature state is restored) and which version it runs. A refused connection means the
//! process is gone (stopped); a 503 means it is booting or migrating (still running).

use crate::facts::CollectFailure;
use crate::fetch::{Endpoint, parse_body, transport_failure};
use crate::http::{Credentials, ReadOnlyClient, RequestError, strip_userinfo};
use crate::product::elastic::facts::KibanaInstance;
use serde_json::Value;

const KIBANA_CREDENTIALS: &str = "RIPCORD_KIBANA_API_KEY, or RIPCORD_KIBANA_USERNAME and RIPCORD_KIBANA_PASSWORD (default: the ES credentials)";

const STATUS: Endpoint<'static> = Endpoint {
    group: "kibana.status",
    path: "/api/status",
    privilege: "Kibana status access",
    credentials_hint: KIBANA_CREDENTIALS,
};

/// Asks one instance for its status; never fails, an unclear answer is `unreachable`.
pub(crate) async fn status(
    client: &ReadOnlyClient,
    url: &str,
    cred: &Credentials,
) -> (KibanaInstance, Option<CollectFailure>) {
    let mut instance = KibanaInstance {
        url: strip_userinfo(url),
        state: "unreachable".into(),
        http_status: None,
        name: None,
        version: None,
        level: None,
        summary: None,
        elasticsearch_summary: None,
    };
    let mut failure_endpoint = STATUS;
    let shown = format!("{} {}", instance.url.trim_end_matches('/'), STATUS.path);
    failure_endpoint.path = &shown;
    let to = crate::http::BodyTo::Buffer {
        max_bytes: STATUS.max_bytes(),
    };
    let response = match client.get(url, STATUS.path, cred, to).await {
        Ok(r) => r,
        Err(RequestError::Refused) => {
            instance.state = "stopped".into();
            instance.summary = Some("connection refused".into());
            return (instance, None);
        }
        Err(e) => {
            instance.summary = Some(e.to_string());
            return (instance, Some(transport_failure(failure_endpoint, &e)));
        }
    };
    instance.http_status = Some(response.status);
    match response.status {
        200 | 503 => {
            instance.state = if response.status == 200 {
                "running"
            } else {
                "starting"
            }
            .into();
            match parse_body(failure_endpoint, response.status, &response.body) {
                Ok(body) => read_status_body(&body, &mut instance),
                // 503 with plain text `Kibana server is not ready yet` is a documented answer.
                Err(_) if response.status == 503 => {
                    instance.level = Some("unavailable".into());
                    instance.summary = Some(
                        String::from_utf8_lossy(&response.body)
                            .trim()
                            .chars()
                            .take(120)
                            .collect(),
                    );
                }
                Err(f) => {
                    instance.state = "unreachable".into();
                    instance.summary = Some(f.reason.clone());
                    return (instance, Some(f));
                }
            }
            if instance.state == "running"
                && instance
                    .level
                    .as_deref()
                    .is_some_and(|l| l != "available" && l != "degraded")
            {
                // 200 with a non-available level does not happen per Kibana's route, but keep
                // the instance as answering either way.
                instance.state = "running".into();
            }
            (instance, None)
        }
        401 | 403 => {
            // It answered, so it runs; we just may not read its version.
            instance.state = "running".into();
            instance.summary = Some(format!("HTTP {} from /api/status", response.status));
            let f = crate::fetch::status_failure(failure_endpoint, &response);
            (instance, Some(f))
        }
        _ => {
            let f = crate::fetch::status_failure(failure_endpoint, &response);
            instance.summary = Some(f.reason.clone());
            (instance, Some(f))
        }
    }
}

/// Reads the v8 (`status.overall.level`) or legacy v7 (`status.overall.state`) body.
pub(crate) fn read_status_body(body: &Value, instance: &mut KibanaInstance) {
    instance.name = body.get("name").and_then(Value::as_str).map(str::to_string);
    instance.version = body
        .pointer("/version/number")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(level) = body
        .pointer("/status/overall/level")
        .and_then(Value::as_str)
    {
        instance.level = Some(level.to_string());
        instance.summary = body
            .pointer("/status/overall/summary")
            .and_then(Value::as_str)
            .map(str::to_string);
        instance.elasticsearch_summary = body
            .pointer("/status/core/elasticsearch/summary")
            .and_then(Value::as_str)
            .map(str::to_string);
    } else if let Some(state) = body
        .pointer("/status/overall/state")
        .and_then(Value::as_str)
    {
        instance.level = Some(
            match state {
                "green" => "available",
                "yellow" => "degraded",
                _ => "unavailable",
            }
            .to_string(),
        );
        instance.summary = body
            .pointer("/status/overall/title")
            .and_then(Value::as_str)
            .map(str::to_string);
        instance.elasticsearch_summary = body
            .pointer("/status/statuses")
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter().find(|s| {
                    s.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|id| id.starts_with("core:elasticsearch"))
                })
            })
            .and_then(|s| s.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string);
    }
}
