//! The Kibana (and, when needed, Elasticsearch) rollback plan, following Elastic's documented
//! procedure: stop every Kibana, restore the `kibana` feature state from the chosen snapshot
//! (`{"indices": "-*", "feature_states": ["kibana"]}`), start every instance on the old
//! version, verify with `GET /api/status`. When the old Kibana cannot run against the upgraded
//! cluster, Elasticsearch goes back first: a new cluster of the old version and a full restore.

use super::Elastic;
use super::derive::{Derived, SnapshotChoice};
use crate::facts::Bundle;
use crate::http::{Credentials, env_credentials};
use crate::plan::{Plan, Request, Step, shell_quote};
use crate::product::PlanContext;
use crate::upgrade::Mode;
use serde_json::json;

/// How the printed curl commands authenticate: by naming env vars, never by value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum CurlAuth {
    #[default]
    None,
    ApiKey,
    Basic,
}

/// What the plan needs to know about the connection, to print commands that work as given.
#[derive(Debug, Clone, Default)]
struct CurlOptions {
    auth: CurlAuth,
    ca_cert: Option<String>,
    insecure: bool,
}

impl CurlOptions {
    /// The credentials named by the variables set where the plan is made, and the TLS flags.
    fn new(context: &PlanContext) -> Self {
        Self {
            auth: match env_credentials("ES") {
                Credentials::ApiKey(_) => CurlAuth::ApiKey,
                Credentials::Basic { .. } => CurlAuth::Basic,
                Credentials::None => CurlAuth::None,
            },
            ca_cert: context.ca_cert.clone(),
            insecure: context.insecure,
        }
    }

    fn prefix(&self) -> String {
        let mut parts = vec!["curl -sS".to_string()];
        match self.auth {
            CurlAuth::ApiKey => {
                parts.push("-H \"Authorization: ApiKey $RIPCORD_ES_API_KEY\"".into())
            }
            CurlAuth::Basic => {
                parts.push("-u \"$RIPCORD_ES_USERNAME:$RIPCORD_ES_PASSWORD\"".into())
            }
            CurlAuth::None => {}
        }
        if let Some(ca) = &self.ca_cert {
            parts.push(format!("--cacert {}", shell_quote(ca)));
        }
        if self.insecure {
            parts.push("-k".into());
        }
        parts.join(" ")
    }
}

/// Builds the plan for the derivation's mode.
pub(crate) fn plan(bundle: &Bundle<Elastic>, derived: &Derived, context: &PlanContext) -> Plan {
    let curl = &CurlOptions::new(context);
    let from = derived
        .upgrade
        .from
        .clone()
        .unwrap_or_else(|| "<from: unknown, pass --from>".into());
    let to = derived
        .upgrade
        .to
        .clone()
        .unwrap_or_else(|| "<to: unknown, pass --to>".into());
    let es_url = bundle.target.es.clone().unwrap_or_else(|| "$ES_URL".into());
    let es_url = es_url.trim_end_matches('/').to_string();
    let title = match derived.mode {
        Mode::Rollback => format!("Roll Kibana back from {to} to {from}"),
        Mode::Preflight => format!("If this upgrade fails: roll Kibana back from {to} to {from}"),
    };
    let mut plan = Plan {
        title,
        steps: Vec::new(),
        warnings: Vec::new(),
        alternatives: Vec::new(),
    };
    let hosts = kibana_hosts(bundle);

    plan.steps.push(stop_kibana(bundle, derived, &hosts));

    if derived.es_rollback.needed == Some(true) {
        es_rollback_steps(bundle, derived, &from, curl, &mut plan);
        // The full restore brings the kibana feature state back only when it is the same
        // snapshot; otherwise the newest pre-upgrade one is restored on top, on the new cluster.
        let same = match (&derived.es_rollback_snapshot, &derived.kibana_snapshot) {
            (Some(e), Some(k)) => e.repository == k.repository && e.snapshot == k.snapshot,
            _ => false,
        };
        if derived.es_rollback_snapshot.is_some() && !same {
            restore_kibana_steps(bundle, derived, NEW_ES_URL, curl, &mut plan);
        }
    } else {
        restore_kibana_steps(bundle, derived, &es_url, curl, &mut plan);
    }

    plan.steps.push(Step {
        title: format!("Start every Kibana instance on {from}"),
        run_on: hosts.join(", "),
        commands: vec![
            format!("sudo apt-get install --allow-downgrades kibana={from}   # or: sudo yum downgrade kibana-{from}; containers: docker.elastic.co/kibana/kibana:{from}"),
            "sudo systemctl start kibana".into(),
        ],
        request: None,
    });
    let verify: Vec<String> = if bundle.target.kibana.is_empty() {
        vec!["curl -sS \"$KIBANA_URL/api/status\" | jq '{version: .version.number, level: .status.overall.level}'".into()]
    } else {
        bundle
            .target
            .kibana
            .iter()
            .map(|u| {
                format!(
                    "curl -sS {} | jq '{{version: .version.number, level: .status.overall.level}}'",
                    shell_quote(&format!("{}/api/status", u.trim_end_matches('/')))
                )
            })
            .collect()
    };
    plan.steps.push(Step {
        title: format!("Verify: every instance reports version {from} and level \"available\""),
        run_on: hosts.join(", "),
        commands: verify,
        request: Some(Request {
            method: "GET".into(),
            path: "/api/status".into(),
            body: serde_json::Value::Null,
        }),
    });

    if derived.upgrade.started_at.is_none()
        && derived.mode == Mode::Rollback
        && derived.kibana_snapshot.is_some()
    {
        plan.warnings.push(format!(
            "the upgrade start is unknown ({}): the snapshot was chosen because its kibana indices predate {to}; confirm it was taken before the upgrade, or pass --upgrade-started-at",
            derived.upgrade.started_at_source
        ));
    }
    if let Some(why) = &derived.es_rollback.undecided {
        plan.warnings.push(match derived.mode {
            Mode::Rollback => format!(
                "could not tell whether Kibana {from} runs against every Elasticsearch node ({why}): check each node's version before starting Kibana {from}; if a node is newer than Kibana {from} accepts, Elasticsearch must be rolled back too"
            ),
            Mode::Preflight => format!(
                "could not tell whether Elasticsearch {to} would refuse Kibana {from} ({why}): if it would, a failed upgrade means rolling Elasticsearch back too"
            ),
        });
    }
    if derived.upgrade.from.is_none() {
        plan.warnings.push(format!(
            "the version to go back to is unknown ({}): pass --from",
            derived.upgrade.from_source
        ));
    }
    plan
}

fn kibana_hosts(bundle: &Bundle<Elastic>) -> Vec<String> {
    if bundle.target.kibana.is_empty() {
        return vec!["every Kibana host (none given with --kibana)".into()];
    }
    bundle
        .target
        .kibana
        .iter()
        .map(|u| match url::Url::parse(u) {
            Ok(p) => match (p.host_str(), p.port_or_known_default()) {
                (Some(h), Some(port)) => format!("{h}:{port}"),
                (Some(h), None) => h.to_string(),
                _ => u.clone(),
            },
            Err(_) => u.clone(),
        })
        .collect()
}

fn stop_kibana(bundle: &Bundle<Elastic>, derived: &Derived, hosts: &[String]) -> Step {
    let mut commands = vec!["sudo systemctl stop kibana   # on each host; containers: docker stop / scale the deployment to 0".to_string()];
    for u in &bundle.target.kibana {
        commands.push(format!(
            "curl -sS --max-time 5 {}   # must fail: connection refused",
            shell_quote(&format!("{}/api/status", u.trim_end_matches('/')))
        ));
    }
    let running = &derived.kibana_answering;
    let title = if running.is_empty() {
        "Stop every Kibana instance (none answered at collection time; make sure)".to_string()
    } else {
        format!(
            "Stop every Kibana instance; still running: {}",
            running.join(", ")
        )
    };
    Step {
        title,
        run_on: hosts.join(", "),
        commands,
        request: None,
    }
}

fn restore_kibana_steps(
    bundle: &Bundle<Elastic>,
    derived: &Derived,
    es_url: &str,
    curl: &CurlOptions,
    plan: &mut Plan,
) {
    if bundle.facts.snapshots.is_none() {
        // Not "there is none": we could not look. Give the exact request with placeholders.
        let body = json!({ "indices": "-*", "feature_states": ["kibana"] });
        plan.steps.push(Step {
            title: "Restore the kibana feature state from the newest SUCCESS snapshot that includes it and started before the upgrade (snapshots could not be listed: see kibana-snapshot)".into(),
            run_on: format!("Elasticsearch cluster {es_url}"),
            commands: vec![
                format!("{} {}   # pick the snapshot", curl.prefix(), url_arg(es_url, "/_snapshot/_all/_all?verbose=true&filter_path=snapshots.snapshot,snapshots.repository,snapshots.state,snapshots.start_time,snapshots.feature_states.feature_name")),
                format!(
                    "{} -X POST {} -H 'Content-Type: application/json' -d {}",
                    curl.prefix(),
                    url_arg(es_url, "/_snapshot/<repository>/<snapshot>/_restore"),
                    shell_quote(&body.to_string())
                ),
            ],
            request: Some(Request { method: "POST".into(), path: "/_snapshot/<repository>/<snapshot>/_restore".into(), body }),
        });
        plan.warnings.push("the snapshots could not be listed, so no snapshot was verified: everything saved after the chosen snapshot's start is lost".into());
        return;
    }
    let Some(snap) = &derived.kibana_snapshot else {
        plan.steps.push(Step {
            title: "No snapshot with the kibana feature state predates the upgrade: there is no supported way back; fix forward".into(),
            run_on: "-".into(),
            commands: vec![],
            request: None,
        });
        plan.warnings.push("without a snapshot of the kibana feature state from before the upgrade, Kibana cannot be rolled back".into());
        return;
    };
    let path = format!(
        "/_snapshot/{}/{}/_restore",
        crate::http::encode_segment(&snap.repository),
        crate::http::encode_segment(&snap.snapshot)
    );
    let body = json!({ "indices": "-*", "feature_states": ["kibana"] });
    plan.steps.push(Step {
        title: format!(
            "Restore the kibana feature state from {}/{} (started {})",
            snap.repository,
            snap.snapshot,
            time(snap)
        ),
        run_on: format!("Elasticsearch cluster {es_url}"),
        commands: vec![
            format!(
                "{} -X POST {} -H 'Content-Type: application/json' -d {}",
                curl.prefix(),
                url_arg(es_url, &path),
                shell_quote(&body.to_string())
            ),
            format!(
                "{} {}   # wait until the restored indices are allocated",
                curl.prefix(),
                url_arg(es_url, "/_cluster/health?wait_for_status=yellow&timeout=5m")
            ),
        ],
        request: Some(Request {
            method: "POST".into(),
            path,
            body,
        }),
    });
    plan.warnings.push(format!(
        "everything saved in Kibana after {} (the snapshot's start) is lost: saved objects, dashboards, alerting and task state",
        time(snap)
    ));
}

fn es_rollback_steps(
    bundle: &Bundle<Elastic>,
    derived: &Derived,
    from: &str,
    curl: &CurlOptions,
    plan: &mut Plan,
) {
    let Some(snap) = &derived.es_rollback_snapshot else {
        plan.steps.push(Step {
            title: format!(
                "Elasticsearch must go back too, but no SUCCESS full snapshot (global state) taken before the upgrade by an Elasticsearch that Kibana {from} accepts was found: Elasticsearch cannot be rolled back; upgrade Kibana forward instead"
            ),
            run_on: "-".into(),
            commands: vec![],
            request: None,
        });
        plan.warnings.push("Elasticsearch cannot be downgraded in place and no usable pre-upgrade full snapshot exists".into());
        return;
    };
    let es_version = snap.version.clone().unwrap_or_else(|| from.to_string());
    plan.steps.push(Step {
        title: format!("Stand up a new, empty Elasticsearch {es_version} cluster (nodes cannot be downgraded in place)"),
        run_on: "new cluster ($NEW_ES_URL)".into(),
        commands: vec![format!(
            "sudo apt-get install elasticsearch={es_version}   # on each new node; containers: docker.elastic.co/elasticsearch/elasticsearch:{es_version}"
        )],
        request: None,
    });
    let repo = bundle
        .facts
        .repositories
        .iter()
        .flatten()
        .find(|r| r.name == snap.repository);
    let mut settings = repo.map(|r| r.settings.clone()).unwrap_or_default();
    settings.insert("readonly".into(), json!(true));
    let register = json!({ "type": repo.and_then(|r| r.kind.clone()).unwrap_or_else(|| "<type>".into()), "settings": settings });
    let reg_path = format!(
        "/_snapshot/{}",
        crate::http::encode_segment(&snap.repository)
    );
    plan.steps.push(Step {
        title: format!(
            "Register repository {} on the new cluster, read-only",
            snap.repository
        ),
        run_on: "new cluster ($NEW_ES_URL)".into(),
        commands: vec![format!(
            "{} -X PUT {} -H 'Content-Type: application/json' -d {}",
            curl.prefix(),
            url_arg(NEW_ES_URL, &reg_path),
            shell_quote(&register.to_string())
        )],
        request: Some(Request {
            method: "PUT".into(),
            path: reg_path,
            body: register,
        }),
    });
    let path = format!(
        "/_snapshot/{}/{}/_restore",
        crate::http::encode_segment(&snap.repository),
        crate::http::encode_segment(&snap.snapshot)
    );
    let body = json!({ "indices": "*", "include_global_state": true });
    plan.steps.push(Step {
        title: format!(
            "Restore the full snapshot {}/{} (Elasticsearch {es_version}, started {}){}",
            snap.repository,
            snap.snapshot,
            time(snap),
            if snap.has_kibana_feature {
                ", which includes the kibana feature state"
            } else {
                ""
            }
        ),
        run_on: "new cluster ($NEW_ES_URL)".into(),
        commands: vec![format!(
            "{} -X POST {} -H 'Content-Type: application/json' -d {}",
            curl.prefix(),
            url_arg(NEW_ES_URL, &path),
            shell_quote(&body.to_string())
        )],
        request: Some(Request {
            method: "POST".into(),
            path,
            body,
        }),
    });
    plan.steps.push(Step {
        title: "Point every Kibana instance at the new cluster (elasticsearch.hosts in kibana.yml)".into(),
        run_on: kibana_hosts(bundle).join(", "),
        commands: vec!["sudo sed -i 's#^elasticsearch.hosts:.*#elasticsearch.hosts: [\"'\"$NEW_ES_URL\"'\"]#' /etc/kibana/kibana.yml".into()],
        request: None,
    });
    plan.warnings.push(format!(
        "everything written to Elasticsearch and Kibana after {} (the full snapshot's start) is lost",
        time(snap)
    ));
}

/// The new cluster of the old version in an Elasticsearch rollback: only the operator knows it.
const NEW_ES_URL: &str = "$NEW_ES_URL";

/// A URL argument for curl: quoted as a whole, or, when the base is a shell variable, the
/// variable in double quotes so it expands and the path in single quotes.
fn url_arg(base: &str, path: &str) -> String {
    if base.starts_with('$') {
        format!("\"{base}\"{}", shell_quote(path))
    } else {
        shell_quote(&format!("{base}{path}"))
    }
}

fn time(s: &SnapshotChoice) -> String {
    s.start_time
        .map(|t| t.to_string())
        .unwrap_or_else(|| "an unknown time".into())
}

#[cfg(test)]
mod tests {
    use super::url_arg;

    #[test]
    fn shell_variables_expand_and_paths_stay_quoted() {
        assert_eq!(
            url_arg("$ES_URL", "/_cluster/health?a=b&c=d"),
            "\"$ES_URL\"'/_cluster/health?a=b&c=d'"
        );
        assert_eq!(
            url_arg("https://es:9200", "/_snapshot/r/s/_restore"),
            "https://es:9200/_snapshot/r/s/_restore"
        );
        assert_eq!(
            url_arg("https://es:9200", "/x?a=b&c=d"),
            "'https://es:9200/x?a=b&c=d'"
        );
    }
}
