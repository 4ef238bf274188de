//! The commands of the Elastic plan, per deployment flavour: curl with the collection's
//! authentication (a variable reference) and TLS options, and the new cluster of an
//! Elasticsearch rollback (Kibana's steps are in `kibana.rs`). Each command is complete and every variable it
//! uses is set by an earlier command of the plan. Every command is an [`sh!`] template: URLs,
//! versions, names and paths from the facts are quoted words, variable names are checked.

use super::super::facts::Flavor;
use crate::model::facts::{AuthMethod, Connection};
use crate::model::plan::{Line, Name, Request, Step, Word, sh};
use serde_json::json;

/// The new cluster of the old version in an Elasticsearch rollback, set by a `read` command.
pub(super) const NEW_ES_URL: &str = "$NEW_ES_URL";

/// The file-realm superuser the full-cluster restore runs as (the restore replaces the native
/// users, so the upgraded cluster's credentials cannot be used until it is done).
pub(super) const RESTORE_USER: &str = "ripcord_restore";

/// How curl reaches one service: authentication by variable reference and TLS options.
#[derive(Debug, Clone)]
pub(super) struct Curl {
    auth: Line,
    tls: Line,
    /// A shell test every command must pass first (`[ "$NEW_ES_OK" = yes ] && `): writes to
    /// the new cluster run only once its URL is confirmed not to be the upgraded one.
    guard: Line,
    /// Whether requests carry credentials.
    authenticated: bool,
}

impl Default for Curl {
    fn default() -> Self {
        Self {
            auth: sh!(""),
            tls: sh!(""),
            guard: sh!(""),
            authenticated: false,
        }
    }
}

impl Curl {
    /// As the collection reached `service` (`es`, `kibana`): its recorded auth method and the
    /// variables it came from (names checked: a bundle could hold anything), `--cacert PATH`
    /// or `-k`.
    pub(super) fn recorded(connection: &Connection, service: &str) -> Self {
        let auth = connection.auth.get(service).and_then(|used| {
            match (used.method, used.variables.as_slice()) {
                (AuthMethod::ApiKey, [key, ..]) => {
                    Name::new(key).map(|key| sh!(" -H \"Authorization: ApiKey ${}\"", key))
                }
                (AuthMethod::Basic, [user, password, ..]) => {
                    match (Name::new(user), Name::new(password)) {
                        (Some(user), Some(password)) => {
                            Some(sh!(" -u \"${}:${}\"", user, password))
                        }
                        _ => None,
                    }
                }
                _ => None,
            }
        });
        let ca = match &connection.ca_cert {
            Some(ca) => sh!(" --cacert {}", Word::quote(ca)),
            None => sh!(""),
        };
        let insecure = if connection.insecure {
            sh!(" -k")
        } else {
            sh!("")
        };
        Self {
            authenticated: auth.is_some(),
            auth: auth.unwrap_or_else(|| sh!("")),
            tls: sh!("{}{}", ca, insecure),
            guard: sh!(""),
        }
    }

    /// As [`Curl::recorded`], but authenticated with the operator's write credential
    /// (`RIPCORD_ES_WRITE_API_KEY`, or `RIPCORD_ES_WRITE_USERNAME` and
    /// `RIPCORD_ES_WRITE_PASSWORD`, whichever is set): ripcord's own is read-only. A cluster
    /// the collection reached without credentials (security off) gets none.
    pub(super) fn writer(connection: &Connection, service: &str) -> Self {
        let read = Self::recorded(connection, service);
        if !read.authenticated {
            return read;
        }
        Self {
            auth: sh!(
                " ${RIPCORD_ES_WRITE_API_KEY:+-H \"Authorization: ApiKey $RIPCORD_ES_WRITE_API_KEY\"} ${RIPCORD_ES_WRITE_USERNAME:+-u \"$RIPCORD_ES_WRITE_USERNAME:${RIPCORD_ES_WRITE_PASSWORD:-}\"}"
            ),
            ..read
        }
    }

    /// Whether `line` authenticates with the operator's write credential.
    pub(super) fn writes(line: &Line) -> bool {
        line.contains("$RIPCORD_ES_WRITE_API_KEY")
    }

    /// Whether requests carry credentials.
    pub(super) fn authenticated(&self) -> bool {
        self.authenticated
    }

    /// The new cluster: the file-realm restore user and the CA the operator names.
    fn new_cluster() -> Self {
        Self {
            auth: sh!(" -u \"ripcord_restore:$NEW_ES_PASSWORD\""),
            tls: sh!(" ${NEW_ES_CA:+--cacert \"$NEW_ES_CA\"}"),
            guard: sh!("[ \"$NEW_ES_OK\" = yes ] && "),
            authenticated: true,
        }
    }

    /// `curl -sS` with authentication and TLS options.
    pub(super) fn get(&self) -> Line {
        sh!(
            "{}curl -sS{}{}",
            self.guard.clone(),
            self.auth.clone(),
            self.tls.clone()
        )
    }

    fn with_body(&self, method: &str, base: &str, path: &str, body: &serde_json::Value) -> Line {
        sh!(
            "{} -X {} {} -H 'Content-Type: application/json' -d {}",
            self.get(),
            Word::quote(method),
            url_arg(base, path),
            Word::json(body)
        )
    }

    pub(super) fn post(&self, base: &str, path: &str, body: &serde_json::Value) -> Line {
        self.with_body("POST", base, path, body)
    }

    pub(super) fn put(&self, base: &str, path: &str, body: &serde_json::Value) -> Line {
        self.with_body("PUT", base, path, body)
    }

    pub(super) fn post_empty(&self, base: &str, path: &str) -> Line {
        sh!("{} -X POST {}", self.get(), url_arg(base, path))
    }

    fn delete(&self, base: &str, path: &str) -> Line {
        sh!("{} -X DELETE {}", self.get(), url_arg(base, path))
    }
}

/// A URL argument for curl: quoted as a whole, or, when the base is a shell variable of the
/// plan (`$NEW_ES_URL`), the variable in double quotes so it expands and the path quoted.
pub(super) fn url_arg(base: &str, path: &str) -> Line {
    match base.strip_prefix('$').and_then(Name::new) {
        Some(var) => sh!("\"${}\"{}", var, Word::quote(path)),
        None => sh!("{}", Word::quote(&format!("{base}{path}"))),
    }
}

/// The base of a URL whose path the template goes on with (in double quotes, to expand the
/// plan's variables there): the variable, or the base quoted.
pub(super) fn url_base(base: &str) -> Line {
    match base.strip_prefix('$').and_then(Name::new) {
        Some(var) => sh!("\"${}\"", var),
        None => sh!("{}", Word::quote(base)),
    }
}

/// The step that sets the operator's write credential, for a plan whose writes use it: asked
/// without echo unless already set (`RIPCORD_ES_WRITE_API_KEY`, or `RIPCORD_ES_WRITE_USERNAME`
/// and `RIPCORD_ES_WRITE_PASSWORD`), never printed; without one (no terminal to ask on) it
/// fails, so a runbook stops before any change. On every run: a rerun needs it too.
pub(super) fn operator_credential_step() -> Step {
    let mut step = Step::setup(
        "credentials",
        "Set the operator's Elasticsearch credential for the writes below (ripcord's own is read-only): RIPCORD_ES_WRITE_API_KEY, or RIPCORD_ES_WRITE_USERNAME and RIPCORD_ES_WRITE_PASSWORD, asked without echo unless set",
        "this shell (bash)",
        vec![
            sh!(
                "[ -n \"${RIPCORD_ES_WRITE_API_KEY:-}${RIPCORD_ES_WRITE_USERNAME:-}\" ] || { read -r -s -p 'Elasticsearch API key allowed to restore (empty for a user and password): ' RIPCORD_ES_WRITE_API_KEY; echo >&2; }"
            ),
            sh!(
                "[ -n \"${RIPCORD_ES_WRITE_API_KEY:-}${RIPCORD_ES_WRITE_USERNAME:-}\" ] || { read -r -p 'Elasticsearch user allowed to restore: ' RIPCORD_ES_WRITE_USERNAME && read -r -s -p 'Its password: ' RIPCORD_ES_WRITE_PASSWORD; echo >&2; }"
            ),
            sh!(
                "[ -n \"${RIPCORD_ES_WRITE_API_KEY:-}${RIPCORD_ES_WRITE_USERNAME:-}\" ] || { echo \"no operator credential: the writes need one, and ripcord's read-only one cannot\" >&2; false; }"
            ),
        ],
    );
    step.on_failure = "set RIPCORD_ES_WRITE_API_KEY (or RIPCORD_ES_WRITE_USERNAME and RIPCORD_ES_WRITE_PASSWORD) to a user allowed to restore, or run on a terminal to be asked, then run again".into();
    step
}

/// The new cluster of the old version, in the deployment's flavour.
pub(super) struct NewCluster {
    flavor: Flavor,
    version: String,
    /// The upgraded cluster's UUID, which the new one must not have.
    old_uuid: Option<String>,
    pub(super) curl: Curl,
}

impl NewCluster {
    pub(super) fn new(flavor: Flavor, version: &str, old_uuid: Option<String>) -> Self {
        Self {
            flavor,
            version: version.to_string(),
            old_uuid,
            curl: Curl::new_cluster(),
        }
    }

    pub(super) fn install_step(&self) -> Step {
        let v = &self.version;
        let word = Word::quote(v);
        let commands = match self.flavor {
            Flavor::Deb => vec![sh!(
                "sudo apt-get install elasticsearch={}   # on each new node",
                word
            )],
            Flavor::Rpm => vec![sh!(
                "sudo yum install elasticsearch-{}   # on each new node",
                word
            )],
            Flavor::Docker => vec![sh!(
                "docker pull docker.elastic.co/elasticsearch/elasticsearch:{}   # on each new node",
                word
            )],
            Flavor::Tar => {
                let archive = sh!("elasticsearch-{}-linux-$(uname -m).tar.gz", word);
                vec![
                    sh!(
                        "curl -fLO https://artifacts.elastic.co/downloads/elasticsearch/{}",
                        archive.clone()
                    ),
                    sh!(
                        "curl -fLO https://artifacts.elastic.co/downloads/elasticsearch/{}.sha512 && shasum -a 512 -c {}.sha512",
                        archive.clone(),
                        archive.clone()
                    ),
                    sh!("tar -xzf {}", archive),
                ]
            }
            Flavor::Eck => vec![],
            Flavor::Cloud | Flavor::Unknown => vec![sh!(
                "sudo apt-get install elasticsearch={}   # deb, on each new node; rpm: sudo yum install elasticsearch-{}; docker: docker.elastic.co/elasticsearch/elasticsearch:{}",
                word,
                word,
                word
            )],
        };
        let how = if self.flavor == Flavor::Eck {
            format!(
                ": a new Elasticsearch resource with spec.version {v} (the upgraded one cannot go back)"
            )
        } else {
            String::new()
        };
        Step {
            id: "install-new-cluster".into(),
            check: Vec::new(),
            verify: Vec::new(),
            on_failure: String::new(),
            every_run: false,
            title: format!(
                "Stand up a new, empty Elasticsearch {v} cluster{how}: nodes cannot be downgraded in place, and the upgraded nodes' data paths must not be reused"
            ),
            run_on: "the new cluster's nodes".into(),
            commands,
            request: None,
        }
    }

    pub(super) fn restore_user_step(&self) -> Step {
        let commands = match self.flavor {
            Flavor::Deb | Flavor::Rpm | Flavor::Unknown | Flavor::Cloud => vec![sh!(
                "sudo /usr/share/elasticsearch/bin/elasticsearch-users useradd ripcord_restore -r superuser   # prompts for its password"
            )],
            Flavor::Tar => vec![sh!(
                "./bin/elasticsearch-users useradd ripcord_restore -r superuser   # in that node's Elasticsearch directory; prompts for its password"
            )],
            Flavor::Docker => vec![sh!(
                "docker exec -it \"$(docker ps -q --filter ancestor=docker.elastic.co/elasticsearch/elasticsearch:{} | head -n 1)\" bin/elasticsearch-users useradd ripcord_restore -r superuser",
                Word::quote(&self.version)
            )],
            Flavor::Eck => vec![],
        };
        Step {
            id: "restore-user".into(),
            check: Vec::new(),
            verify: Vec::new(),
            on_failure: String::new(),
            every_run: false,
            title: format!(
                "On the node the new cluster's URL reaches, add the superuser {RESTORE_USER} to the file realm: the full restore replaces the native users, so requests run as this user until it is done"
            ),
            run_on: "one node of the new cluster".into(),
            commands,
            request: None,
        }
    }

    pub(super) fn variables_step(&self) -> Step {
        let v = &self.version;
        let unguarded = Curl {
            guard: sh!(""),
            ..self.curl.clone()
        };
        // Every write below is gated on NEW_ES_OK: a URL that reaches the upgraded cluster (or
        // anything but an Elasticsearch of the old version) must never get the deletes.
        let not_old = match &self.old_uuid {
            Some(uuid) => sh!(
                "case \"$NEW_ES_INFO\" in *{}*) echo 'STOP: that is the upgraded cluster, not a new one' >&2; false;; *) NEW_ES_OK=yes; echo \"new cluster confirmed: $NEW_ES_INFO\";; esac",
                Word::quote(&format!("\"cluster_uuid\":\"{uuid}\""))
            ),
            None => sh!("NEW_ES_OK=yes; echo \"new cluster confirmed: $NEW_ES_INFO\""),
        };
        Step {
            id: "new-cluster-variables".into(),
            check: Vec::new(),
            verify: Vec::new(),
            on_failure: "the URL does not reach a new Elasticsearch of the old version: check it (and its CA), then run again; nothing is written until it does".into(),
            // Asked (or read from the same-named variables) on every run: a rerun needs them.
            every_run: true,
            title: format!(
                "Set the new cluster's URL, its CA and the restore user's password, and confirm the URL reaches a new Elasticsearch {v} (every write below runs only if it does)"
            ),
            run_on: "this shell (bash)".into(),
            commands: vec![
                sh!(
                    "{ [ -n \"${NEW_ES_URL:-}\" ] || read -r -p {} NEW_ES_URL; } && NEW_ES_URL=${NEW_ES_URL%/}",
                    Word::quote(&format!(
                        "URL of the new Elasticsearch {v} cluster (e.g. https://new-es-1:9200): "
                    ))
                ),
                sh!(
                    "[ -n \"${NEW_ES_CA+set}\" ] || read -r -p 'PEM CA certificate of the new cluster (empty if publicly trusted): ' NEW_ES_CA"
                ),
                sh!("[ -n \"${NEW_ES_PASSWORD:-}\" ] || { read -r -s -p 'Password of ripcord_restore: ' NEW_ES_PASSWORD; echo; }"),
                sh!(
                    "NEW_ES_OK=no; NEW_ES_INFO=$({} {}); case \"$NEW_ES_INFO\" in *{}*) {};; *) echo {}\"$NEW_ES_INFO\" >&2; false;; esac",
                    unguarded.get(),
                    url_arg(NEW_ES_URL, "/?filter_path=version.number,cluster_uuid"),
                    Word::quote(&format!("\"number\":\"{v}\"")),
                    not_old,
                    Word::quote(&format!("STOP: not an Elasticsearch {v} cluster: "))
                ),
            ],
            request: None,
        }
    }

    /// The documented full-cluster restore ("Restore an entire cluster"): turn off what writes,
    /// allow wildcard deletes, delete the new cluster's data streams and indices, restore
    /// everything with the cluster state, turn it all back on.
    pub(super) fn full_restore_steps(
        &self,
        repository: &str,
        snapshot: &str,
        started: &str,
    ) -> Vec<Step> {
        let c = &self.curl;
        let on = "the new cluster ($NEW_ES_URL)".to_string();
        let features_off = json!({"persistent": {"ingest.geoip.downloader.enabled": false, "indices.lifecycle.history_index_enabled": false}});
        let monitoring_off = json!({"persistent": {"xpack.monitoring.collection.enabled": false}});
        let destructive = json!({"persistent": {"action.destructive_requires_name": false}});
        let restore_path = format!(
            "/_snapshot/{}/{}/_restore?wait_for_completion=true",
            crate::collect::http::encode_segment(repository),
            crate::collect::http::encode_segment(snapshot)
        );
        let restore = json!({"indices": "*", "include_global_state": true});
        let features_on = json!({"persistent": {"ingest.geoip.downloader.enabled": true, "indices.lifecycle.history_index_enabled": true}});
        let monitoring_on = json!({"persistent": {"xpack.monitoring.collection.enabled": true}});
        let destructive_reset = json!({"persistent": {"action.destructive_requires_name": null}});
        vec![
            Step {
                id: "pause-cluster-features".into(),
                check: Vec::new(),
                verify: Vec::new(),
                on_failure: String::new(),
                every_run: false,
                title: "Turn off the GeoIP downloader, the ILM history store, ILM, machine learning, monitoring collection, Watcher and, only where it is on, Universal Profiling's index template management on the new cluster (an error from a feature the licence lacks is harmless)".into(),
                run_on: on.clone(),
                commands: vec![
                    c.put(NEW_ES_URL, "/_cluster/settings", &features_off),
                    c.post_empty(NEW_ES_URL, "/_ilm/stop"),
                    c.post_empty(NEW_ES_URL, "/_ml/set_upgrade_mode?enabled=true"),
                    c.put(NEW_ES_URL, "/_cluster/settings", &monitoring_off),
                    c.post_empty(NEW_ES_URL, "/_watcher/_stop"),
                    // Elastic's page reads the setting first (defaults included) and turns it
                    // off only when it is on; the answer is remembered for turning it back on.
                    // Only "true" is on, only "false" or no such setting (`{}`, written '{''}' in the template) is off: an
                    // error body (curl -sS does not fail on HTTP errors) leaves it unknown.
                    // Kept in a file beside the runbook's state, for the step that turns it back on
                    // (a rerun starts a new shell).
                    sh!(
                        "PROFILING_WAS_ON=unknown; PROFILING_SETTING=$({} {}) && case \"$PROFILING_SETTING\" in *'\"enabled\":\"true\"'*) PROFILING_WAS_ON=yes;; *'\"enabled\":\"false\"'*|'{''}') PROFILING_WAS_ON=no;; esac; echo \"$PROFILING_WAS_ON\" > profiling-was-on; echo \"Universal Profiling index template management was on: $PROFILING_WAS_ON\"   # unknown: the answer was an error; read the setting before going on",
                        c.get(),
                        url_arg(NEW_ES_URL, PROFILING_SETTING_PATH)
                    ),
                    sh!(
                        "if [ \"$(cat profiling-was-on)\" = yes ]; then {}; fi",
                        c.put(NEW_ES_URL, "/_cluster/settings", &profiling(false))
                    ),
                ],
                request: None,
            },
            Step {
                id: "delete-new-indices".into(),
                check: Vec::new(),
                verify: Vec::new(),
                on_failure: String::new(),
                every_run: false,
                title: "Allow wildcard deletes, then delete every data stream and index the new cluster created (it holds no data yet)".into(),
                run_on: on.clone(),
                commands: vec![
                    c.put(NEW_ES_URL, "/_cluster/settings", &destructive),
                    c.delete(NEW_ES_URL, "/_data_stream/*?expand_wildcards=all"),
                    c.delete(NEW_ES_URL, "/*?expand_wildcards=all"),
                ],
                request: None,
            },
            Step {
                id: "restore-cluster".into(),
                check: Vec::new(),
                on_failure: "the full restore did not complete: read its answer (restore-cluster.json beside the log), fix the cause (the repository's access from the new nodes, a leftover index) and run again; point no client at the new cluster before it succeeds".into(),
                every_run: false,
                title: format!(
                    "Restore the whole snapshot {repository}/{snapshot} (started {started}) with the cluster state and every feature state, kibana included"
                ),
                run_on: on.clone(),
                commands: vec![super::gates::saved_answer(
                    c.post(NEW_ES_URL, &restore_path, &restore),
                    super::gates::CLUSTER_RESTORE_ANSWER,
                )],
                verify: vec![
                    super::gates::restore_succeeded(super::gates::CLUSTER_RESTORE_ANSWER),
                    super::gates::health_at_least_yellow(NEW_ES_URL, c),
                ],
                request: Some(Request {
                    method: "POST".into(),
                    path: restore_path,
                    body: restore,
                }),
            },
            Step {
                id: "resume-cluster-features".into(),
                check: Vec::new(),
                verify: Vec::new(),
                on_failure: String::new(),
                every_run: false,
                title: "Turn everything back on (Universal Profiling's index template management only if it was on) and reset action.destructive_requires_name (the snapshot's licence came back with it; install a current one if it has expired)".into(),
                run_on: on,
                commands: vec![
                    c.put(NEW_ES_URL, "/_cluster/settings", &features_on),
                    c.post_empty(NEW_ES_URL, "/_ilm/start"),
                    c.post_empty(NEW_ES_URL, "/_ml/set_upgrade_mode?enabled=false"),
                    c.put(NEW_ES_URL, "/_cluster/settings", &monitoring_on),
                    c.post_empty(NEW_ES_URL, "/_watcher/_start"),
                    sh!(
                        "if [ \"$(cat profiling-was-on 2>/dev/null)\" = yes ]; then {}; fi",
                        c.put(NEW_ES_URL, "/_cluster/settings", &profiling(true))
                    ),
                    c.put(NEW_ES_URL, "/_cluster/settings", &destructive_reset),
                ],
                request: None,
            },
        ]
    }

    /// What to do with the upgraded cluster once the new one is verified.
    pub(super) fn retire_step(&self, old_url: &str) -> Step {
        let commands = match self.flavor {
            Flavor::Deb | Flavor::Rpm => vec![sh!(
                "sudo systemctl stop elasticsearch.service   # on each node of the upgraded cluster, once the new one is verified"
            )],
            _ => vec![],
        };
        Step {
            id: "retire-upgraded-cluster".into(),
            check: Vec::new(),
            verify: Vec::new(),
            on_failure: String::new(),
            every_run: false,
            title: format!(
                "Once the new cluster and Kibana are verified, retire the upgraded cluster {old_url}: it cannot be downgraded and its nodes cannot join an older cluster; keep its data until you are sure"
            ),
            run_on: "the upgraded cluster's nodes".into(),
            commands,
            request: None,
        }
    }
}

/// Where Elastic's "Restore an entire cluster" reads Universal Profiling's index template
/// management, defaults included (unset, it is on wherever Universal Profiling runs).
const PROFILING_SETTING_PATH: &str =
    "/_cluster/settings?filter_path=**.xpack.profiling.templates.enabled&include_defaults=true";

/// The persistent setting that turns Universal Profiling's index template management on or off.
fn profiling(enabled: bool) -> serde_json::Value {
    json!({"persistent": {"xpack.profiling.templates.enabled": enabled}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_variables_expand_and_paths_stay_quoted() {
        assert_eq!(
            url_arg("$ES_URL", "/_cluster/health?a=b&c=d").as_str(),
            "\"$ES_URL\"'/_cluster/health?a=b&c=d'"
        );
        assert_eq!(
            url_arg("https://es:9200", "/_snapshot/r/s/_restore").as_str(),
            "https://es:9200/_snapshot/r/s/_restore"
        );
        assert_eq!(
            url_arg("https://es:9200", "/x?a=b&c=d").as_str(),
            "'https://es:9200/x?a=b&c=d'"
        );
        assert_eq!(url_base("https://e$s:9200").as_str(), "'https://e$s:9200'");
    }

    #[test]
    fn curl_authenticates_by_variable_reference() {
        let mut connection = Connection::default();
        connection.auth.insert(
            "es".into(),
            crate::model::facts::AuthUsed {
                method: AuthMethod::ApiKey,
                variables: vec!["RIPCORD_ES_API_KEY".into()],
            },
        );
        connection.auth.insert(
            "kibana".into(),
            crate::model::facts::AuthUsed {
                method: AuthMethod::Basic,
                variables: vec![
                    "RIPCORD_KIBANA_USERNAME".into(),
                    "RIPCORD_KIBANA_PASSWORD".into(),
                ],
            },
        );
        connection.ca_cert = Some("/etc/ssl/my ca.pem".into());
        assert_eq!(
            Curl::recorded(&connection, "es").get().as_str(),
            "curl -sS -H \"Authorization: ApiKey $RIPCORD_ES_API_KEY\" --cacert '/etc/ssl/my ca.pem'"
        );
        assert_eq!(
            Curl::recorded(&connection, "kibana").get().as_str(),
            "curl -sS -u \"$RIPCORD_KIBANA_USERNAME:$RIPCORD_KIBANA_PASSWORD\" --cacert '/etc/ssl/my ca.pem'"
        );
    }
}
