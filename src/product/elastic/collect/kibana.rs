//! Kibana: `GET /api/status` of every instance, read in both the v8 and the legacy v7 format.
//!
//! What matters for a rollback is whether an instance still answers (it must be stopped before
//! the feature state is restored) and which version it runs. A refused connection means the
//! process is gone (stopped); a 503 means it is booting or migrating (still running).

use crate::collect::fetch::{Endpoint, parse_typed, transport_failure};
use crate::collect::http::{Credentials, ReadOnlyClient, RequestError, strip_userinfo};
use crate::collect::wire::{Keep, List, Text, wire_object};
use crate::model::facts::CollectFailure;
use crate::product::elastic::facts::KibanaInstance;

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
    let to = crate::collect::http::BodyTo::Buffer {
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
            match parse_typed::<WireStatusBody>(
                client,
                failure_endpoint,
                response.status,
                &response.body,
            ) {
                Ok(body) => read_status_body(body, &mut instance),
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
            let f = crate::collect::fetch::status_failure(failure_endpoint, &response, cred);
            (instance, Some(f))
        }
        _ => {
            let f = crate::collect::fetch::status_failure(failure_endpoint, &response, cred);
            instance.summary = Some(f.reason.clone());
            (instance, Some(f))
        }
    }
}

wire_object! {
    /// Kibana's status body (`GET /api/status`), v8 or legacy v7.
    pub(crate) struct WireStatusBody {
        name: Text,
        version: WireStatusVersion,
        status: WireStatus,
    }
}

wire_object! {
    /// `version` of Kibana's status body (`GET /api/status`).
    pub(crate) struct WireStatusVersion {
        number: Text,
    }
}

wire_object! {
    /// `status` of Kibana's status body (`GET /api/status`).
    pub(crate) struct WireStatus {
        overall: WireStatusOverall,
        /// v8: the core services' statuses.
        core: WireStatusCore,
        /// Legacy v7: one status per plugin and core service; only Elasticsearch's are kept.
        statuses: List<WireLegacyStatus>,
    }
}

wire_object! {
    /// `status.overall` of Kibana's status body: v8 `level`/`summary`, legacy v7
    /// `state`/`title`.
    pub(crate) struct WireStatusOverall {
        level: Text,
        summary: Text,
        state: Text,
        title: Text,
    }
}

wire_object! {
    /// `status.core` of Kibana's v8 status body.
    pub(crate) struct WireStatusCore {
        elasticsearch: WireStatusService,
    }
}

wire_object! {
    /// `status.core.elasticsearch` of Kibana's v8 status body.
    pub(crate) struct WireStatusService {
        summary: Text,
    }
}

wire_object! {
    /// One of `status.statuses[]` of Kibana's legacy v7 status body.
    pub(crate) struct WireLegacyStatus {
        id: Text,
        message: Text,
    }
}

impl Keep for WireLegacyStatus {
    /// Only Elasticsearch's status (`core:elasticsearch@7.17.0`) is read.
    fn keep(&self) -> bool {
        self.id
            .0
            .as_deref()
            .is_some_and(|id| id.starts_with("core:elasticsearch"))
    }
}

/// Reads the v8 (`status.overall.level`) or legacy v7 (`status.overall.state`) body.
pub(crate) fn read_status_body(body: WireStatusBody, instance: &mut KibanaInstance) {
    instance.name = body.name.0;
    instance.version = body.version.number.0;
    let status = body.status;
    if let Some(level) = status.overall.level.0 {
        instance.level = Some(level);
        instance.summary = status.overall.summary.0;
        instance.elasticsearch_summary = status.core.elasticsearch.summary.0;
    } else if let Some(state) = status.overall.state.0 {
        instance.level = Some(
            match state.as_str() {
                "green" => "available",
                "yellow" => "degraded",
                _ => "unavailable",
            }
            .to_string(),
        );
        instance.summary = status.overall.title.0;
        instance.elasticsearch_summary = status
            .statuses
            .0
            .and_then(|list| list.into_iter().next())
            .and_then(|s| s.message.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> KibanaInstance {
        let mut instance = KibanaInstance {
            url: "http://kb:5601".into(),
            state: "running".into(),
            http_status: Some(200),
            name: None,
            version: None,
            level: None,
            summary: None,
            elasticsearch_summary: None,
        };
        read_status_body(serde_json::from_str(body).unwrap(), &mut instance);
        instance
    }

    #[test]
    fn v8_status() {
        let i = read(
            r#"{"name": "kb", "version": {"number": "8.17.3"}, "status": {"overall": {"level": "available",
                "summary": "All services are available"}, "core": {"elasticsearch": {"level": "available",
                "summary": "Elasticsearch is available"}}}}"#,
        );
        assert_eq!(i.name.as_deref(), Some("kb"));
        assert_eq!(i.version.as_deref(), Some("8.17.3"));
        assert_eq!(i.level.as_deref(), Some("available"));
        assert_eq!(i.summary.as_deref(), Some("All services are available"));
        assert_eq!(
            i.elasticsearch_summary.as_deref(),
            Some("Elasticsearch is available")
        );
    }

    #[test]
    fn legacy_v7_status_takes_the_first_elasticsearch_entry() {
        let i = read(
            r#"{"version": {"number": "7.17.0"}, "status": {"overall": {"state": "yellow", "title": "Yellow"},
                "statuses": [{"id": "plugin:x@7.17.0", "message": "no"}, {"id": "core:elasticsearch@7.17.0", "message": 1},
                             {"id": "core:elasticsearch@7.17.0", "message": "later"}]}}"#,
        );
        assert_eq!(i.level.as_deref(), Some("degraded"));
        assert_eq!(i.summary.as_deref(), Some("Yellow"));
        assert_eq!(
            i.elasticsearch_summary, None,
            "the first entry's message is not text"
        );
    }
}
