//! The commands of the Elastic plan, per deployment flavour: curl with the collection's
//! authentication (a variable reference) and TLS options, Kibana's stop/start/verify, and the
//! new cluster of an Elasticsearch rollback. Each command is complete and every variable it
//! uses is set by an earlier command of the plan. Every command is an [`sh!`] template: URLs,
//! versions, names and paths from the facts are quoted words, variable names are checked.

use super::super::Elastic;
use super::super::derive::Derived;
use super::super::facts::Flavor;
use crate::base::version;
use crate::model::facts::{AuthMethod, Bundle, Connection};
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

/// The check that an instance is really stopped: only "connection refused" (curl exit 7)
/// counts; a TLS error, a 401 or a timeout means something still answers or cannot be told.
/// A failed check clears `KIBANA_STOPPED`, which gates the restore.
pub(super) fn stopped_check(url: &str) -> Line {
    let status = format!("{}/api/status", url.trim_end_matches('/'));
    sh!(
        "curl -s -o /dev/null --max-time 5 {}; rc=$?; if [ \"$rc\" -eq 7 ]; then echo {}; else KIBANA_STOPPED=no; echo {}\"$rc\"{}; fi",
        Word::quote(&status),
        Word::quote(&format!("stopped: {url}")),
        Word::quote(&format!(
            "NOT STOPPED: {url} answers or cannot be reached (curl exit "
        )),
        Word::quote("); stop it before going on")
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
            rollback: derived.mode == crate::model::upgrade::Mode::Rollback,
            unauthenticated: !curl.authenticated,
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
    fn eck_variables(&self) -> Vec<Line> {
        match &self.eck {
            Some((name, ns)) => vec![sh!(
                "KB_NAME={} KB_NS={}   # the Kibana resource, from its service URL",
                Word::quote(name),
                Word::quote(ns)
            )],
            None => vec![
                sh!("kubectl get kibana -A   # find the Kibana resource"),
                sh!("read -r -p 'Kibana resource name: ' KB_NAME"),
                sh!("read -r -p 'Its namespace: ' KB_NS"),
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
        let v = Word::quote(version);
        let mut commands = match self.flavor {
            Flavor::Deb | Flavor::Rpm => {
                vec![sh!(
                    "sudo systemctl stop kibana.service   # on each Kibana host"
                )]
            }
            Flavor::Docker => vec![sh!(
                "docker ps -q --filter ancestor=docker.elastic.co/kibana/kibana:{} | xargs -r docker stop   # on each Kibana host",
                v
            )],
            Flavor::Tar => vec![],
            Flavor::Eck => {
                let mut c = self.eck_variables();
                c.push(sh!("KB_COUNT=$(kubectl get kibana \"$KB_NAME\" -n \"$KB_NS\" -o jsonpath='{.spec.count}')   # to start the same number again"));
                c.push(sh!("kubectl patch kibana \"$KB_NAME\" -n \"$KB_NS\" --type merge -p '{\"spec\":{\"count\":0}}'"));
                c
            }
            Flavor::Cloud | Flavor::Unknown => vec![sh!(
                "sudo systemctl stop kibana.service   # deb/rpm, on each host; docker: docker stop the Kibana containers; ECK: set the Kibana resource's spec.count to 0"
            )],
        };
        if !self.urls.is_empty() {
            commands.push(sh!(
                "KIBANA_STOPPED=yes   # each check below clears it if its instance still answers"
            ));
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
    pub(super) fn stopped_gate(&self) -> Line {
        if self.urls.is_empty() {
            sh!("")
        } else {
            sh!("[ \"$KIBANA_STOPPED\" = yes ] && ")
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
        let v = Word::quote(version);
        let (title, commands) = match self.flavor {
            Flavor::Deb => (
                format!("Install Kibana {version} and start every instance"),
                vec![
                    sh!(
                        "sudo apt-get install --allow-downgrades kibana={}   # on each Kibana host",
                        v
                    ),
                    sh!("sudo systemctl start kibana.service"),
                ],
            ),
            Flavor::Rpm => (
                format!("Install Kibana {version} and start every instance"),
                vec![
                    sh!("sudo yum downgrade kibana-{}   # on each Kibana host", v),
                    sh!("sudo systemctl start kibana.service"),
                ],
            ),
            Flavor::Docker => (
                format!(
                    "Start every Kibana container again from image docker.elastic.co/kibana/kibana:{version}, with its current configuration and volumes (change the image tag where the container is defined: compose file, unit, manifest)"
                ),
                vec![sh!(
                    "docker pull docker.elastic.co/kibana/kibana:{}   # on each Kibana host",
                    v
                )],
            ),
            Flavor::Tar => {
                let archive = sh!("kibana-{}-linux-$(uname -m).tar.gz", v);
                (
                    format!(
                        "Unpack Kibana {version} beside the current one, copy config/kibana.yml (and the keystore) into kibana-{version}/config, and start kibana-{version}/bin/kibana on each host"
                    ),
                    vec![
                        sh!(
                            "curl -fLO https://artifacts.elastic.co/downloads/kibana/{}",
                            archive.clone()
                        ),
                        sh!(
                            "curl -fLO https://artifacts.elastic.co/downloads/kibana/{}.sha512 && shasum -a 512 -c {}.sha512",
                            archive.clone(),
                            archive.clone()
                        ),
                        sh!("tar -xzf {}", archive),
                    ],
                )
            }
            Flavor::Eck => (
                format!(
                    "Set the Kibana resource to {version} and its former count (ECK refuses a downgrade without the annotation, and replaces every pod at once)"
                ),
                vec![
                    sh!(
                        "kubectl annotate kibana \"$KB_NAME\" -n \"$KB_NS\" --overwrite eck.k8s.elastic.co/disable-downgrade-validation=true"
                    ),
                    sh!(
                        "kubectl patch kibana \"$KB_NAME\" -n \"$KB_NS\" --type merge -p \"$(printf '{\"spec\":{\"version\":\"%s\",\"count\":%s}}' {} \"${KB_COUNT:-1}\")\"",
                        v
                    ),
                ],
            ),
            Flavor::Cloud | Flavor::Unknown => (
                format!("Install Kibana {version} and start every instance"),
                vec![
                    sh!(
                        "sudo apt-get install --allow-downgrades kibana={}   # deb; rpm: sudo yum downgrade kibana-{}; docker: image docker.elastic.co/kibana/kibana:{}; ECK: the Kibana resource's spec.version",
                        v,
                        v,
                        v
                    ),
                    sh!("sudo systemctl start kibana.service"),
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
        let expect = if legacy {
            "state \"green\""
        } else {
            "level \"available\""
        };
        let commands = if self.urls.is_empty() {
            vec![sh!(
                "# no --kibana was given: run GET /api/status on each instance"
            )]
        } else {
            self.urls
                .iter()
                .map(|u| {
                    let status = Word::quote(&format!("{}/api/status", u.trim_end_matches('/')));
                    if legacy {
                        sh!(
                            "{} {} | jq '{version: .version.number, state: .status.overall.state}'",
                            self.curl.get(),
                            status
                        )
                    } else {
                        sh!(
                            "{} {} | jq '{version: .version.number, level: .status.overall.level}'",
                            self.curl.get(),
                            status
                        )
                    }
                })
                .collect()
        };
        let mut commands = commands;
        if self.flavor == Flavor::Eck {
            commands.push(sh!("kubectl annotate kibana \"$KB_NAME\" -n \"$KB_NS\" eck.k8s.elastic.co/disable-downgrade-validation-   # once verified: ECK guards downgrades again"));
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
                vec![sh!(
                    "sudo systemctl restart kibana.service   # on each Kibana host"
                )]
            }
            Flavor::Cloud => vec![],
            Flavor::Docker => vec![sh!(
                "docker ps -q --filter ancestor=docker.elastic.co/kibana/kibana:{} | xargs -r docker restart",
                Word::quote(version)
            )],
            Flavor::Tar => vec![],
            Flavor::Eck => {
                let mut c = self.eck_variables();
                c.push(sh!(
                    "kubectl rollout restart deployment \"$KB_NAME-kb\" -n \"$KB_NS\""
                ));
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
        let commands = match self.flavor {
            Flavor::Deb | Flavor::Rpm | Flavor::Unknown | Flavor::Cloud => vec![
                sh!(
                    "sudo journalctl -u kibana.service --no-pager | grep -E 'saved object migrations|FATAL' | tail -n 20"
                ),
                sh!(
                    "sudo grep -E 'saved object migrations|FATAL' /var/log/kibana/kibana.log | tail -n 20"
                ),
            ],
            Flavor::Docker => vec![sh!(
                "docker ps -aq --filter ancestor=docker.elastic.co/kibana/kibana:{} | xargs -r -n1 docker logs 2>&1 | grep -E 'saved object migrations|FATAL' | tail -n 20",
                Word::quote(version)
            )],
            Flavor::Tar => vec![],
            Flavor::Eck => vec![sh!(
                "kubectl logs -n \"$KB_NS\" -l kibana.k8s.elastic.co/name=\"$KB_NAME\" --tail=-1 | grep -E 'saved object migrations|FATAL' | tail -n 20"
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
                sh!("read -r -p 'Name of the new Elasticsearch resource: ' NEW_ES_NAME"),
                sh!(
                    "kubectl patch kibana \"$KB_NAME\" -n \"$KB_NS\" --type merge -p \"{\\\"spec\\\":{\\\"elasticsearchRef\\\":{\\\"name\\\":\\\"$NEW_ES_NAME\\\"}}}\""
                ),
            ],
            _ => vec![sh!(
                "printf 'elasticsearch.hosts: [\"%s\"]\\n' \"$NEW_ES_URL\"   # the line to set in kibana.yml on each Kibana host"
            )],
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
                "case \"$NEW_ES_INFO\" in *{}*) echo 'STOP: that is the upgraded cluster, not a new one';; *) NEW_ES_OK=yes; echo \"new cluster confirmed: $NEW_ES_INFO\";; esac",
                Word::quote(&format!("\"cluster_uuid\":\"{uuid}\""))
            ),
            None => sh!("NEW_ES_OK=yes; echo \"new cluster confirmed: $NEW_ES_INFO\""),
        };
        Step {
            title: format!(
                "Set the new cluster's URL, its CA and the restore user's password, and confirm the URL reaches a new Elasticsearch {v} (every write below runs only if it does)"
            ),
            run_on: "this shell (bash)".into(),
            commands: vec![
                sh!(
                    "read -r -p {} NEW_ES_URL && NEW_ES_URL=${NEW_ES_URL%/}",
                    Word::quote(&format!(
                        "URL of the new Elasticsearch {v} cluster (e.g. https://new-es-1:9200): "
                    ))
                ),
                sh!(
                    "read -r -p 'PEM CA certificate of the new cluster (empty if publicly trusted): ' NEW_ES_CA"
                ),
                sh!("read -r -s -p 'Password of ripcord_restore: ' NEW_ES_PASSWORD; echo"),
                sh!(
                    "NEW_ES_OK=no; NEW_ES_INFO=$({} {}); case \"$NEW_ES_INFO\" in *{}*) {};; *) echo {}\"$NEW_ES_INFO\";; esac",
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
                    sh!(
                        "PROFILING_WAS_ON=unknown; PROFILING_SETTING=$({} {}) && case \"$PROFILING_SETTING\" in *'\"enabled\":\"true\"'*) PROFILING_WAS_ON=yes;; *'\"enabled\":\"false\"'*|'{''}') PROFILING_WAS_ON=no;; esac; echo \"Universal Profiling index template management was on: $PROFILING_WAS_ON\"   # unknown: the answer was an error; read the setting before going on",
                        c.get(),
                        url_arg(NEW_ES_URL, PROFILING_SETTING_PATH)
                    ),
                    sh!(
                        "[ \"$PROFILING_WAS_ON\" = yes ] && {}",
                        c.put(NEW_ES_URL, "/_cluster/settings", &profiling(false))
                    ),
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
                    sh!(
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
                title: "Turn everything back on (Universal Profiling's index template management only if it was on) and reset action.destructive_requires_name (the snapshot's licence came back with it; install a current one if it has expired)".into(),
                run_on: on,
                commands: vec![
                    c.put(NEW_ES_URL, "/_cluster/settings", &features_on),
                    c.post_empty(NEW_ES_URL, "/_ilm/start"),
                    c.post_empty(NEW_ES_URL, "/_ml/set_upgrade_mode?enabled=false"),
                    c.put(NEW_ES_URL, "/_cluster/settings", &monitoring_on),
                    c.post_empty(NEW_ES_URL, "/_watcher/_start"),
                    sh!(
                        "[ \"$PROFILING_WAS_ON\" = yes ] && {}",
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
        let check = stopped_check("https://kb-1.example:5601").into_string();
        assert!(check.contains("--max-time 5 https://kb-1.example:5601/api/status;"));
        assert!(check.contains("[ \"$rc\" -eq 7 ]"));
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
