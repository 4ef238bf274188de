//! The commands of the Elastic plan, per deployment flavour: curl with the collection's
//! authentication (a variable reference) and TLS options, Kibana's stop/start/verify, and the
//! new cluster of an Elasticsearch rollback. Each command is complete and every variable it
//! uses is set by an earlier command of the plan.

use super::super::Elastic;
use super::super::derive::Derived;
use super::super::facts::Flavor;
use crate::facts::{AuthMethod, Bundle, Connection};
use crate::plan::{Request, Step, shell_quote};
use crate::version;
use serde_json::json;

/// The new cluster of the old version in an Elasticsearch rollback, set by a `read` command.
pub(super) const NEW_ES_URL: &str = "$NEW_ES_URL";

/// The file-realm superuser the full-cluster restore runs as (the restore replaces the native
/// users, so the upgraded cluster's credentials cannot be used until it is done).
const RESTORE_USER: &str = "ripcord_restore";

/// How curl reaches one service: authentication by variable reference and TLS options.
#[derive(Debug, Clone, Default)]
pub(super) struct Curl {
    auth: String,
    tls: String,
    /// A shell test every command must pass first (`[ "$NEW_ES_OK" = yes ] && `): writes to
    /// the new cluster run only once its URL is confirmed not to be the upgraded one.
    guard: &'static str,
}

impl Curl {
    /// As the collection reached `service` (`es`, `kibana`): its recorded auth method and the
    /// variables it came from, `--cacert PATH` or `-k`.
    pub(super) fn recorded(connection: &Connection, service: &str) -> Self {
        let auth = match connection.auth.get(service) {
            Some(used) => match (used.method, used.variables.as_slice()) {
                (AuthMethod::ApiKey, [key, ..]) => {
                    format!(" -H \"Authorization: ApiKey ${key}\"")
                }
                (AuthMethod::Basic, [user, password, ..]) => {
                    format!(" -u \"${user}:${password}\"")
                }
                _ => String::new(),
            },
            None => String::new(),
        };
        let mut tls = String::new();
        if let Some(ca) = &connection.ca_cert {
            tls.push_str(&format!(" --cacert {}", shell_quote(ca)));
        }
        if connection.insecure {
            tls.push_str(" -k");
        }
        Self {
            auth,
            tls,
            guard: "",
        }
    }

    /// The new cluster: the file-realm restore user and the CA the operator names.
    fn new_cluster() -> Self {
        Self {
            auth: format!(" -u \"{RESTORE_USER}:$NEW_ES_PASSWORD\""),
            tls: " ${NEW_ES_CA:+--cacert \"$NEW_ES_CA\"}".into(),
            guard: "[ \"$NEW_ES_OK\" = yes ] && ",
        }
    }

    /// `curl -sS` with authentication and TLS options.
    pub(super) fn get(&self) -> String {
        format!("{}curl -sS{}{}", self.guard, self.auth, self.tls)
    }

    fn with_body(&self, method: &str, base: &str, path: &str, body: &serde_json::Value) -> String {
        format!(
            "{} -X {method} {} -H 'Content-Type: application/json' -d {}",
            self.get(),
            url_arg(base, path),
            shell_quote(&body.to_string())
        )
    }

    pub(super) fn post(&self, base: &str, path: &str, body: &serde_json::Value) -> String {
        self.with_body("POST", base, path, body)
    }

    pub(super) fn put(&self, base: &str, path: &str, body: &serde_json::Value) -> String {
        self.with_body("PUT", base, path, body)
    }

    fn post_empty(&self, base: &str, path: &str) -> String {
        format!("{} -X POST {}", self.get(), url_arg(base, path))
    }

    fn delete(&self, base: &str, path: &str) -> String {
        format!("{} -X DELETE {}", self.get(), url_arg(base, path))
    }
}

/// A URL argument for curl: quoted as a whole, or, when the base is a shell variable, the
/// variable in double quotes so it expands and the path in single quotes.
pub(super) fn url_arg(base: &str, path: &str) -> String {
    if base.starts_with('$') {
        format!("\"{base}\"{}", shell_quote(path))
    } else {
        shell_quote(&format!("{base}{path}"))
    }
}

/// A URL whose path holds `${VAR}` references: double-quoted, the base escaped so only the
/// path's variables expand.
pub(super) fn url_with_vars(base: &str, path: &str) -> String {
    let base = if base.starts_with('$') {
        base.to_string()
    } else {
        base.chars()
            .flat_map(|c| match c {
                '\\' | '"' | '$' | '`' => vec!['\\', c],
                c => vec![c],
            })
            .collect()
    };
    format!("\"{base}{path}\"")
}

/// The check that an instance is really stopped: only "connection refused" (curl exit 7)
/// counts; a TLS error, a 401 or a timeout means something still answers or cannot be told.
/// A failed check clears `KIBANA_STOPPED`, which gates the restore.
pub(super) fn stopped_check(url: &str) -> String {
    let status = format!("{}/api/status", url.trim_end_matches('/'));
    format!(
        "curl -s -o /dev/null --max-time 5 {}; rc=$?; if [ \"$rc\" -eq 7 ]; then echo {}; else KIBANA_STOPPED=no; echo {}\"$rc\"{}; fi",
        shell_quote(&status),
        shell_quote(&format!("stopped: {url}")),
        shell_quote(&format!(
            "NOT STOPPED: {url} answers or cannot be reached (curl exit "
        )),
        shell_quote("); stop it before going on")
    )
}

/// Kibana's commands in the deployment's flavour.
pub(super) struct Kibana<'a> {
    pub(super) flavor: Flavor,
    urls: &'a [String],
    hosts: Vec<String>,
    answering: &'a [String],
    /// Rollback: say which instances still answered at collection (preflight: not yet relevant).
    rollback: bool,
    curl: Curl,
    /// ECK: the Kibana resource's name and namespace, from its service URL (`NAME-kb-http.NS`).
    eck: Option<(String, String)>,
    /// Whether the collection reached Kibana without credentials.
    unauthenticated: bool,
    /// The major the instances run now (`to`'s), to warn that deb/rpm repositories are per
    /// major when going back across one.
    current_major: Option<u64>,
    /// The version the instances run now (`to`).
    current_version: Option<String>,
}

impl<'a> Kibana<'a> {
    pub(super) fn new(bundle: &'a Bundle<Elastic>, derived: &'a Derived, curl: Curl) -> Self {
        let urls = bundle.target.kibana.as_slice();
        Self {
            flavor: derived.flavor,
            urls,
            hosts: urls.iter().map(|u| host_port(u)).collect(),
            answering: &derived.kibana_answering,
            rollback: derived.mode == crate::upgrade::Mode::Rollback,
            unauthenticated: curl.auth.is_empty(),
            curl,
            eck: urls.iter().find_map(|u| eck_resource(u)),
            current_version: derived.upgrade.to.clone(),
            current_major: derived
                .upgrade
                .to
                .as_deref()
                .and_then(|v| version::parse_lenient(v).ok())
                .map(|v| v.major),
        }
    }

    fn run_on(&self) -> String {
        if self.hosts.is_empty() {
            "every Kibana host (none given with --kibana)".into()
        } else {
            match self.flavor {
                Flavor::Eck => "kubectl, against the Kubernetes cluster".into(),
                _ => self.hosts.join(", "),
            }
        }
    }

    /// ECK: the `KB_NAME`/`KB_NS` variables every later kubectl command uses.
    fn eck_variables(&self) -> Vec<String> {
        match &self.eck {
            Some((name, ns)) => vec![format!(
                "KB_NAME={} KB_NS={}   # the Kibana resource, from its service URL",
                shell_quote(name),
                shell_quote(ns)
            )],
            None => vec![
                "kubectl get kibana -A   # find the Kibana resource".into(),
                "read -r -p 'Kibana resource name: ' KB_NAME".into(),
                "read -r -p 'Its namespace: ' KB_NS".into(),
            ],
        }
    }

    /// Stop every instance of `version`, then check each one no longer answers.
    pub(super) fn stop(&self, version: &str) -> Vec<Step> {
        // What answered at collection is about the failed version only.
        let collected = self.rollback && self.current_version.as_deref() == Some(version);
        let running = match (collected, self.answering.is_empty()) {
            (false, _) => String::new(),
            (true, true) => " (none answered at collection time; make sure)".to_string(),
            (true, false) => format!("; still running: {}", self.answering.join(", ")),
        };
        let mut commands = match self.flavor {
            Flavor::Deb | Flavor::Rpm => {
                vec!["sudo systemctl stop kibana.service   # on each Kibana host".to_string()]
            }
            Flavor::Docker => vec![format!(
                "docker ps -q --filter ancestor=docker.elastic.co/kibana/kibana:{version} | xargs -r docker stop   # on each Kibana host"
            )],
            Flavor::Tar => vec![],
            Flavor::Eck => {
                let mut c = self.eck_variables();
                c.push("KB_COUNT=$(kubectl get kibana \"$KB_NAME\" -n \"$KB_NS\" -o jsonpath='{.spec.count}')   # to start the same number again".into());
                c.push("kubectl patch kibana \"$KB_NAME\" -n \"$KB_NS\" --type merge -p '{\"spec\":{\"count\":0}}'".into());
                c
            }
            Flavor::Cloud | Flavor::Unknown => vec![
                "sudo systemctl stop kibana.service   # deb/rpm, on each host; docker: docker stop the Kibana containers; ECK: set the Kibana resource's spec.count to 0".into(),
            ],
        };
        if !self.urls.is_empty() {
            commands.push(
                "KIBANA_STOPPED=yes   # each check below clears it if its instance still answers"
                    .into(),
            );
        }
        commands.extend(self.urls.iter().map(|u| stopped_check(u)));
        let how = match self.flavor {
            Flavor::Tar => {
                ": stop each Kibana process the way it was started (its supervisor, or Ctrl-C)"
            }
            _ => "",
        };
        vec![Step {
            title: format!("Stop every Kibana instance{how}{running}"),
            run_on: self.run_on(),
            commands,
            request: None,
        }]
    }

    /// The test a restore must pass: every checked instance was stopped (none to check when no
    /// `--kibana` was given).
    pub(super) fn stopped_gate(&self) -> &'static str {
        if self.urls.is_empty() {
            ""
        } else {
            "[ \"$KIBANA_STOPPED\" = yes ] && "
        }
    }

    /// Install (or select) `version` and start every instance.
    pub(super) fn start(&self, version: &str) -> Step {
        let mut step = self.start_commands(version);
        let major = version::parse_lenient(version).ok().map(|v| v.major);
        if matches!(self.flavor, Flavor::Deb | Flavor::Rpm | Flavor::Unknown)
            && major.is_some()
            && self.current_major.is_some()
            && major != self.current_major
        {
            step.title.push_str(&format!(
                " (Elastic's deb/rpm repositories are per major: add the {}.x repository first)",
                major.unwrap_or_default()
            ));
        }
        step
    }

    fn start_commands(&self, version: &str) -> Step {
        let (title, commands) = match self.flavor {
            Flavor::Deb => (
                format!("Install Kibana {version} and start every instance"),
                vec![
                    format!("sudo apt-get install --allow-downgrades kibana={version}   # on each Kibana host"),
                    "sudo systemctl start kibana.service".into(),
                ],
            ),
            Flavor::Rpm => (
                format!("Install Kibana {version} and start every instance"),
                vec![
                    format!("sudo yum downgrade kibana-{version}   # on each Kibana host"),
                    "sudo systemctl start kibana.service".into(),
                ],
            ),
            Flavor::Docker => (
                format!("Start every Kibana container again from image docker.elastic.co/kibana/kibana:{version}, with its current configuration and volumes (change the image tag where the container is defined: compose file, unit, manifest)"),
                vec![format!("docker pull docker.elastic.co/kibana/kibana:{version}   # on each Kibana host")],
            ),
            Flavor::Tar => {
                let archive = format!("kibana-{version}-linux-$(uname -m).tar.gz");
                (
                    format!("Unpack Kibana {version} beside the current one, copy config/kibana.yml (and the keystore) into kibana-{version}/config, and start kibana-{version}/bin/kibana on each host"),
                    vec![
                        format!("curl -fLO https://artifacts.elastic.co/downloads/kibana/{archive}"),
                        format!("curl -fLO https://artifacts.elastic.co/downloads/kibana/{archive}.sha512 && shasum -a 512 -c {archive}.sha512"),
                        format!("tar -xzf {archive}"),
                    ],
                )
            }
            Flavor::Eck => (
                format!("Set the Kibana resource to {version} and its former count (ECK refuses a downgrade without the annotation, and replaces every pod at once)"),
                vec![
                    "kubectl annotate kibana \"$KB_NAME\" -n \"$KB_NS\" --overwrite eck.k8s.elastic.co/disable-downgrade-validation=true".into(),
                    format!("kubectl patch kibana \"$KB_NAME\" -n \"$KB_NS\" --type merge -p \"{{\\\"spec\\\":{{\\\"version\\\":\\\"{version}\\\",\\\"count\\\":${{KB_COUNT:-1}}}}}}\""),
                ],
            ),
            Flavor::Cloud | Flavor::Unknown => (
                format!("Install Kibana {version} and start every instance"),
                vec![
                    format!("sudo apt-get install --allow-downgrades kibana={version}   # deb; rpm: sudo yum downgrade kibana-{version}; docker: image docker.elastic.co/kibana/kibana:{version}; ECK: the Kibana resource's spec.version"),
                    "sudo systemctl start kibana.service".into(),
                ],
            ),
        };
        Step {
            title,
            run_on: self.run_on(),
            commands,
            request: None,
        }
    }

    /// Every instance reports `version` and is available (8.x+ `level`, 7.x legacy `state`).
    pub(super) fn verify(&self, version: &str) -> Step {
        let legacy = version::parse_lenient(version).is_ok_and(|v| v.major < 8);
        let (field, expect) = if legacy {
            ("state: .status.overall.state", "state \"green\"")
        } else {
            ("level: .status.overall.level", "level \"available\"")
        };
        let commands = if self.urls.is_empty() {
            vec!["# no --kibana was given: run GET /api/status on each instance".into()]
        } else {
            self.urls
                .iter()
                .map(|u| {
                    format!(
                        "{} {} | jq '{{version: .version.number, {field}}}'",
                        self.curl.get(),
                        shell_quote(&format!("{}/api/status", u.trim_end_matches('/')))
                    )
                })
                .collect()
        };
        let mut commands = commands;
        if self.flavor == Flavor::Eck {
            commands.push("kubectl annotate kibana \"$KB_NAME\" -n \"$KB_NS\" eck.k8s.elastic.co/disable-downgrade-validation-   # once verified: ECK guards downgrades again".into());
        }
        let auth_note = if self.unauthenticated && !legacy {
            " (Kibana 8 and later hide the version from an unauthenticated request: add credentials to curl, e.g. -H \"Authorization: ApiKey $RIPCORD_KIBANA_API_KEY\")"
        } else {
            ""
        };
        Step {
            title: format!(
                "Verify: every instance reports version {version} and {expect}{auth_note}"
            ),
            run_on: "this shell".into(),
            commands,
            request: Some(Request {
                method: "GET".into(),
                path: "/api/status".into(),
                body: serde_json::Value::Null,
            }),
        }
    }

    /// Restart the instances of `version` (a failed migration is retried at start).
    pub(super) fn restart(&self, version: &str) -> Step {
        let commands = match self.flavor {
            Flavor::Deb | Flavor::Rpm | Flavor::Unknown => {
                vec!["sudo systemctl restart kibana.service   # on each Kibana host".into()]
            }
            Flavor::Cloud => vec![],
            Flavor::Docker => vec![format!(
                "docker ps -q --filter ancestor=docker.elastic.co/kibana/kibana:{version} | xargs -r docker restart"
            )],
            Flavor::Tar => vec![],
            Flavor::Eck => {
                let mut c = self.eck_variables();
                c.push("kubectl rollout restart deployment \"$KB_NAME-kb\" -n \"$KB_NS\"".into());
                c
            }
        };
        Step {
            title: format!(
                "Keep Kibana {version}, or restart it: Kibana retries a failed saved-object migration when it starts"
            ),
            run_on: self.run_on(),
            commands,
            request: None,
        }
    }

    /// Where the migration error of Kibana `version` is logged, per flavour.
    pub(super) fn find_migration_error(&self, version: &str) -> Step {
        let pattern = "'saved object migrations|FATAL'";
        let commands = match self.flavor {
            Flavor::Deb | Flavor::Rpm | Flavor::Unknown | Flavor::Cloud => vec![
                format!(
                    "sudo journalctl -u kibana.service --no-pager | grep -E {pattern} | tail -n 20"
                ),
                format!("sudo grep -E {pattern} /var/log/kibana/kibana.log | tail -n 20"),
            ],
            Flavor::Docker => vec![format!(
                "docker ps -aq --filter ancestor=docker.elastic.co/kibana/kibana:{version} | xargs -r -n1 docker logs 2>&1 | grep -E {pattern} | tail -n 20"
            )],
            Flavor::Tar => vec![],
            Flavor::Eck => vec![format!(
                "kubectl logs -n \"$KB_NS\" -l kibana.k8s.elastic.co/name=\"$KB_NAME\" --tail=-1 | grep -E {pattern} | tail -n 20"
            )],
        };
        Step {
            title: "Find the migration error in Kibana's log (\"Unable to complete saved object migrations for the [.kibana] index: …\")".into(),
            run_on: self.run_on(),
            commands,
            request: None,
        }
    }

    /// Point every instance at the new cluster: the line to set, printed from this shell (where
    /// `NEW_ES_URL` is set), or ECK's `elasticsearchRef`.
    pub(super) fn repoint(&self) -> Step {
        let commands = match self.flavor {
            Flavor::Eck => vec![
                "read -r -p 'Name of the new Elasticsearch resource: ' NEW_ES_NAME".into(),
                "kubectl patch kibana \"$KB_NAME\" -n \"$KB_NS\" --type merge -p \"{\\\"spec\\\":{\\\"elasticsearchRef\\\":{\\\"name\\\":\\\"$NEW_ES_NAME\\\"}}}\"".into(),
            ],
            _ => vec![
                "printf 'elasticsearch.hosts: [\"%s\"]\\n' \"$NEW_ES_URL\"   # the line to set in kibana.yml on each Kibana host".into(),
            ],
        };
        Step {
            title: "Point every Kibana instance at the new cluster: set elasticsearch.hosts in kibana.yml (and elasticsearch.ssl.certificateAuthorities if its CA differs)".into(),
            run_on: "this shell, then each Kibana host's kibana.yml".into(),
            commands,
            request: None,
        }
    }
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
        let commands = match self.flavor {
            Flavor::Deb => vec![format!(
                "sudo apt-get install elasticsearch={v}   # on each new node"
            )],
            Flavor::Rpm => vec![format!(
                "sudo yum install elasticsearch-{v}   # on each new node"
            )],
            Flavor::Docker => vec![format!(
                "docker pull docker.elastic.co/elasticsearch/elasticsearch:{v}   # on each new node"
            )],
            Flavor::Tar => {
                let archive = format!("elasticsearch-{v}-linux-$(uname -m).tar.gz");
                vec![
                    format!(
                        "curl -fLO https://artifacts.elastic.co/downloads/elasticsearch/{archive}"
                    ),
                    format!(
                        "curl -fLO https://artifacts.elastic.co/downloads/elasticsearch/{archive}.sha512 && shasum -a 512 -c {archive}.sha512"
                    ),
                    format!("tar -xzf {archive}"),
                ]
            }
            Flavor::Eck => vec![],
            Flavor::Cloud | Flavor::Unknown => vec![format!(
                "sudo apt-get install elasticsearch={v}   # deb, on each new node; rpm: sudo yum install elasticsearch-{v}; docker: docker.elastic.co/elasticsearch/elasticsearch:{v}"
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
            title: format!(
                "Stand up a new, empty Elasticsearch {v} cluster{how}: nodes cannot be downgraded in place, and the upgraded nodes' data paths must not be reused"
            ),
            run_on: "the new cluster's nodes".into(),
            commands,
            request: None,
        }
    }

    pub(super) fn restore_user_step(&self) -> Step {
        let add = format!("useradd {RESTORE_USER} -r superuser");
        let commands = match self.flavor {
            Flavor::Deb | Flavor::Rpm | Flavor::Unknown | Flavor::Cloud => vec![format!(
                "sudo /usr/share/elasticsearch/bin/elasticsearch-users {add}   # prompts for its password"
            )],
            Flavor::Tar => vec![format!(
                "./bin/elasticsearch-users {add}   # in that node's Elasticsearch directory; prompts for its password"
            )],
            Flavor::Docker => vec![format!(
                "docker exec -it \"$(docker ps -q --filter ancestor=docker.elastic.co/elasticsearch/elasticsearch:{} | head -n 1)\" bin/elasticsearch-users {add}",
                self.version
            )],
            Flavor::Eck => vec![],
        };
        Step {
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
            guard: "",
            ..self.curl.clone()
        };
        // Every write below is gated on NEW_ES_OK: a URL that reaches the upgraded cluster (or
        // anything but an Elasticsearch of the old version) must never get the deletes.
        let not_old = match &self.old_uuid {
            Some(uuid) => format!(
                "case \"$NEW_ES_INFO\" in *'\"cluster_uuid\":\"{uuid}\"'*) echo 'STOP: that is the upgraded cluster, not a new one';; *) NEW_ES_OK=yes; echo \"new cluster confirmed: $NEW_ES_INFO\";; esac"
            ),
            None => "NEW_ES_OK=yes; echo \"new cluster confirmed: $NEW_ES_INFO\"".to_string(),
        };
        Step {
            title: format!(
                "Set the new cluster's URL, its CA and the restore user's password, and confirm the URL reaches a new Elasticsearch {v} (every write below runs only if it does)"
            ),
            run_on: "this shell (bash)".into(),
            commands: vec![
                format!(
                    "read -r -p 'URL of the new Elasticsearch {v} cluster (e.g. https://new-es-1:9200): ' NEW_ES_URL && NEW_ES_URL=${{NEW_ES_URL%/}}"
                ),
                "read -r -p 'PEM CA certificate of the new cluster (empty if publicly trusted): ' NEW_ES_CA".into(),
                format!("read -r -s -p 'Password of {RESTORE_USER}: ' NEW_ES_PASSWORD; echo"),
                format!(
                    "NEW_ES_OK=no; NEW_ES_INFO=$({} {}); case \"$NEW_ES_INFO\" in *'\"number\":\"{v}\"'*) {not_old};; *) echo \"STOP: not an Elasticsearch {v} cluster: $NEW_ES_INFO\";; esac",
                    unguarded.get(),
                    url_arg(NEW_ES_URL, "/?filter_path=version.number,cluster_uuid"),
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
            crate::http::encode_segment(repository),
            crate::http::encode_segment(snapshot)
        );
        let restore = json!({"indices": "*", "include_global_state": true});
        let features_on = json!({"persistent": {"ingest.geoip.downloader.enabled": true, "indices.lifecycle.history_index_enabled": true}});
        let monitoring_on = json!({"persistent": {"xpack.monitoring.collection.enabled": true}});
        let destructive_reset = json!({"persistent": {"action.destructive_requires_name": null}});
        vec![
            Step {
                title: "Turn off the GeoIP downloader, the ILM history store, ILM, machine learning, monitoring collection and Watcher on the new cluster (an error from a feature the licence lacks is harmless; Universal Profiling users also set xpack.profiling.templates.enabled to false)".into(),
                run_on: on.clone(),
                commands: vec![
                    c.put(NEW_ES_URL, "/_cluster/settings", &features_off),
                    c.post_empty(NEW_ES_URL, "/_ilm/stop"),
                    c.post_empty(NEW_ES_URL, "/_ml/set_upgrade_mode?enabled=true"),
                    c.put(NEW_ES_URL, "/_cluster/settings", &monitoring_off),
                    c.post_empty(NEW_ES_URL, "/_watcher/_stop"),
                ],
                request: None,
            },
            Step {
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
                title: format!(
                    "Restore the whole snapshot {repository}/{snapshot} (started {started}) with the cluster state and every feature state, kibana included"
                ),
                run_on: on.clone(),
                commands: vec![
                    c.post(NEW_ES_URL, &restore_path, &restore),
                    format!(
                        "{} {}   # waits until every primary is restored (yellow)",
                        c.get(),
                        url_arg(NEW_ES_URL, "/_cluster/health?wait_for_status=yellow&timeout=30m")
                    ),
                ],
                request: Some(Request {
                    method: "POST".into(),
                    path: restore_path,
                    body: restore,
                }),
            },
            Step {
                title: "Turn everything back on and reset action.destructive_requires_name (the snapshot's licence came back with it; install a current one if it has expired)".into(),
                run_on: on,
                commands: vec![
                    c.put(NEW_ES_URL, "/_cluster/settings", &features_on),
                    c.post_empty(NEW_ES_URL, "/_ilm/start"),
                    c.post_empty(NEW_ES_URL, "/_ml/set_upgrade_mode?enabled=false"),
                    c.put(NEW_ES_URL, "/_cluster/settings", &monitoring_on),
                    c.post_empty(NEW_ES_URL, "/_watcher/_start"),
                    c.put(NEW_ES_URL, "/_cluster/settings", &destructive_reset),
                ],
                request: None,
            },
        ]
    }

    /// What to do with the upgraded cluster once the new one is verified.
    pub(super) fn retire_step(&self, old_url: &str) -> Step {
        let commands = match self.flavor {
            Flavor::Deb | Flavor::Rpm => vec![
                "sudo systemctl stop elasticsearch.service   # on each node of the upgraded cluster, once the new one is verified".into(),
            ],
            _ => vec![],
        };
        Step {
            title: format!(
                "Once the new cluster and Kibana are verified, retire the upgraded cluster {old_url}: it cannot be downgraded and its nodes cannot join an older cluster; keep its data until you are sure"
            ),
            run_on: "the upgraded cluster's nodes".into(),
            commands,
            request: None,
        }
    }
}

/// `host:port` of a URL, for `run_on`.
fn host_port(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(p) => match (p.host_str(), p.port_or_known_default()) {
            (Some(h), Some(port)) => format!("{h}:{port}"),
            (Some(h), None) => h.to_string(),
            _ => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// ECK names a Kibana's service `NAME-kb-http` in the resource's namespace: from a URL such as
/// `https://logs-kb-http.elastic:5601` or `…-kb-http.elastic.svc.cluster.local`.
fn eck_resource(url: &str) -> Option<(String, String)> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    let mut labels = host.split('.');
    let service = labels.next()?;
    let name = service.strip_suffix("-kb-http")?;
    let namespace = labels.next().unwrap_or("default");
    (!name.is_empty()).then(|| (name.to_string(), namespace.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            url_with_vars("https://e$s:9200", "/_snapshot/${R}"),
            "\"https://e\\$s:9200/_snapshot/${R}\""
        );
    }

    #[test]
    fn eck_service_urls_name_the_resource() {
        assert_eq!(
            eck_resource("https://logs-kb-http.elastic:5601"),
            Some(("logs".into(), "elastic".into()))
        );
        assert_eq!(
            eck_resource("https://logs-kb-http.elastic.svc.cluster.local:5601"),
            Some(("logs".into(), "elastic".into()))
        );
        assert_eq!(
            eck_resource("https://logs-kb-http:5601"),
            Some(("logs".into(), "default".into()))
        );
        assert_eq!(eck_resource("https://kb-1.example:5601"), None);
    }

    #[test]
    fn only_connection_refused_counts_as_stopped() {
        let check = stopped_check("https://kb-1.example:5601");
        assert!(check.contains("--max-time 5 https://kb-1.example:5601/api/status;"));
        assert!(check.contains("[ \"$rc\" -eq 7 ]"));
    }

    #[test]
    fn curl_authenticates_by_variable_reference() {
        let mut connection = Connection::default();
        connection.auth.insert(
            "es".into(),
            crate::facts::AuthUsed {
                method: AuthMethod::ApiKey,
                variables: vec!["RIPCORD_ES_API_KEY".into()],
            },
        );
        connection.auth.insert(
            "kibana".into(),
            crate::facts::AuthUsed {
                method: AuthMethod::Basic,
                variables: vec![
                    "RIPCORD_KIBANA_USERNAME".into(),
                    "RIPCORD_KIBANA_PASSWORD".into(),
                ],
            },
        );
        connection.ca_cert = Some("/etc/ssl/my ca.pem".into());
        assert_eq!(
            Curl::recorded(&connection, "es").get(),
            "curl -sS -H \"Authorization: ApiKey $RIPCORD_ES_API_KEY\" --cacert '/etc/ssl/my ca.pem'"
        );
        assert_eq!(
            Curl::recorded(&connection, "kibana").get(),
            "curl -sS -u \"$RIPCORD_KIBANA_USERNAME:$RIPCORD_KIBANA_PASSWORD\" --cacert '/etc/ssl/my ca.pem'"
        );
    }
}
