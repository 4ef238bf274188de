//! Kibana's steps: stop every instance, install and start a version, restart, find the
//! migration error, point at a new cluster. Each command for a Kibana host runs on that host
//! (`ssh HOST -- …`, the destination overridable with `KIBANA_<n>_SSH`, or directly when the
//! host is this machine); each step's verifications are read-only and fail closed: an instance
//! is stopped only when its port refuses connections, started only when it reports the version
//! and `available` within the runbook's wait.
//!
//! What each deployment flavour runs on a host is one row of [`flavor_row`]: the flavour's
//! commands side by side, not one `match` per operation.

use super::super::Elastic;
use super::super::derive::Derived;
use super::super::facts::Flavor;
use super::commands::Curl;
use crate::base::version;
use crate::model::facts::Bundle;
use crate::model::plan::{Line, Name, Request, Step, Word, sh};

/// One Kibana instance: its URL, host, and the variable that overrides its ssh destination.
#[derive(Debug, Clone)]
struct Instance {
    url: String,
    /// The host, as ssh takes it (no brackets around an IPv6 address).
    host: String,
    /// `host:port`, for `run_on`.
    label: String,
    /// `KIBANA_1_SSH`, …
    ssh_variable: Name,
}

impl Instance {
    fn is_this_machine(&self) -> bool {
        matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "::1")
    }

    /// `remote` as run on this instance's host.
    fn on_host(&self, remote: &Line) -> Line {
        if self.is_this_machine() {
            remote.clone()
        } else {
            sh!(
                "ssh \"${{}:-{}}\" -- {}",
                self.ssh_variable.clone(),
                Word::quote(&self.host),
                Word::line(remote)
            )
        }
    }

    fn status_url(&self) -> String {
        format!("{}/api/status", self.url.trim_end_matches('/'))
    }
}

/// What a flavour runs on one Kibana host, for the instance's current version and the one
/// it goes to.
struct FlavorRow {
    stop: Vec<Line>,
    install: Vec<Line>,
    start: Vec<Line>,
    /// Read-only, on the host: the version it will start is the one installed.
    installed: Vec<Line>,
    restart: Vec<Line>,
    logs: Vec<Line>,
    /// What the operator does by hand in the start step, where the flavour cannot say.
    start_by_hand: Option<String>,
}

/// The flavour table: for each way of deploying Kibana, its commands on a host. `running` is
/// the version the instance runs now, `version` the one to install and start.
fn flavor_row(flavor: Flavor, running: &str, version: &str) -> FlavorRow {
    let v = Word::quote(version);
    let r = Word::quote(running);
    match flavor {
        Flavor::Deb => FlavorRow {
            stop: vec![sh!("sudo systemctl stop kibana.service")],
            install: vec![sh!(
                "sudo apt-get install -y --allow-downgrades kibana={}",
                v.clone()
            )],
            start: vec![sh!("sudo systemctl start kibana.service")],
            installed: vec![sh!(
                "dpkg-query -s kibana | grep -qxF {}",
                Word::quote(&format!("Version: {version}"))
            )],
            restart: vec![sh!("sudo systemctl restart kibana.service")],
            logs: vec![sh!(
                "sudo journalctl -u kibana.service --no-pager | grep -E 'saved object migrations|FATAL' | tail -n 20"
            )],
            start_by_hand: None,
        },
        Flavor::Rpm => FlavorRow {
            stop: vec![sh!("sudo systemctl stop kibana.service")],
            install: vec![sh!("sudo dnf downgrade -y kibana-{}", v.clone())],
            start: vec![sh!("sudo systemctl start kibana.service")],
            installed: vec![sh!("rpm -q kibana-{}", v.clone())],
            restart: vec![sh!("sudo systemctl restart kibana.service")],
            logs: vec![sh!(
                "sudo journalctl -u kibana.service --no-pager | grep -E 'saved object migrations|FATAL' | tail -n 20"
            )],
            start_by_hand: None,
        },
        Flavor::Docker => FlavorRow {
            stop: vec![sh!(
                "docker ps -q --filter ancestor=docker.elastic.co/kibana/kibana:{} | xargs -r docker stop",
                r.clone()
            )],
            install: vec![sh!(
                "docker pull docker.elastic.co/kibana/kibana:{}",
                v.clone()
            )],
            start: Vec::new(),
            installed: vec![sh!(
                "docker image inspect docker.elastic.co/kibana/kibana:{} >/dev/null",
                v.clone()
            )],
            restart: vec![sh!(
                "docker ps -q --filter ancestor=docker.elastic.co/kibana/kibana:{} | xargs -r docker restart",
                r.clone()
            )],
            logs: vec![sh!(
                "docker ps -aq --filter ancestor=docker.elastic.co/kibana/kibana:{} | xargs -r -n1 docker logs 2>&1 | grep -E 'saved object migrations|FATAL' | tail -n 20",
                r
            )],
            start_by_hand: Some(format!(
                "change the image tag to docker.elastic.co/kibana/kibana:{version} where each container is defined (compose file, unit, manifest), with its configuration and volumes, and start it"
            )),
        },
        Flavor::Tar => {
            let archive = sh!("kibana-{}-linux-$(uname -m).tar.gz", v.clone());
            FlavorRow {
                stop: vec![sh!(
                    "pkill -f -- /kibana-{}/src/cli/dist || true",
                    r.clone()
                )],
                install: vec![sh!(
                    "cd \"${KIBANA_TAR_DIR:-/opt}\" && if [ ! -x kibana-{}/bin/kibana ]; then curl -fsSLO https://artifacts.elastic.co/downloads/kibana/{} && curl -fsSLO https://artifacts.elastic.co/downloads/kibana/{}.sha512 && sha512sum -c {}.sha512 && tar -xzf {} && cp -a kibana-{}/config/. kibana-{}/config/ && if [ -d kibana-{}/data ]; then cp -a kibana-{}/data/. kibana-{}/data/; fi; fi",
                    v.clone(),
                    archive.clone(),
                    archive.clone(),
                    archive.clone(),
                    archive,
                    r.clone(),
                    v.clone(),
                    r.clone(),
                    r.clone(),
                    v.clone()
                )],
                start: vec![sh!(
                    "cd \"${KIBANA_TAR_DIR:-/opt}\" && nohup kibana-{}/bin/kibana > kibana-{}.log 2>&1 < /dev/null &",
                    v.clone(),
                    v.clone()
                )],
                installed: vec![sh!(
                    "test -x \"${KIBANA_TAR_DIR:-/opt}\"/kibana-{}/bin/kibana",
                    v.clone()
                )],
                restart: vec![
                    sh!("pkill -f -- /kibana-{}/src/cli/dist || true", r.clone()),
                    sh!(
                        "cd \"${KIBANA_TAR_DIR:-/opt}\" && nohup kibana-{}/bin/kibana > kibana-{}.log 2>&1 < /dev/null &",
                        r.clone(),
                        r.clone()
                    ),
                ],
                logs: vec![sh!(
                    "grep -E 'saved object migrations|FATAL' \"${KIBANA_TAR_DIR:-/opt}\"/kibana-{}.log | tail -n 20",
                    r
                )],
                start_by_hand: None,
            }
        }
        // Kubernetes and Cloud are not per host: see `Kibana::eck_*`; an unknown flavour has
        // no command that is right everywhere.
        Flavor::Eck | Flavor::Cloud | Flavor::Unknown => FlavorRow {
            stop: Vec::new(),
            install: Vec::new(),
            start: Vec::new(),
            installed: Vec::new(),
            restart: Vec::new(),
            logs: Vec::new(),
            start_by_hand: None,
        },
    }
}

/// Kibana's steps in the deployment's flavour.
pub(super) struct Kibana<'a> {
    pub(super) flavor: Flavor,
    instances: Vec<Instance>,
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
        let instances = urls
            .iter()
            .enumerate()
            .filter_map(|(i, url)| {
                let parsed = url::Url::parse(url).ok()?;
                let host = parsed.host_str()?.trim_matches(['[', ']']).to_string();
                let label = match parsed.port_or_known_default() {
                    Some(port) => format!("{}:{port}", parsed.host_str()?),
                    None => host.clone(),
                };
                Some(Instance {
                    url: url.clone(),
                    host,
                    label,
                    ssh_variable: Name::new(&format!("KIBANA_{}_SSH", i + 1))?,
                })
            })
            .collect();
        Self {
            flavor: derived.flavor,
            instances,
            answering: &derived.kibana_answering,
            rollback: derived.mode == crate::model::upgrade::Mode::Rollback,
            unauthenticated: !curl.authenticated(),
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
        match self.flavor {
            Flavor::Eck => "kubectl, against the Kubernetes cluster".into(),
            _ if self.instances.is_empty() => "every Kibana host (none given with --kibana)".into(),
            _ => self
                .instances
                .iter()
                .map(|i| i.label.clone())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Whether commands run per host (not through kubectl or a console).
    fn per_host(&self) -> bool {
        matches!(
            self.flavor,
            Flavor::Deb | Flavor::Rpm | Flavor::Docker | Flavor::Tar
        )
    }

    /// `row`'s commands on every host, in order of the instances.
    fn on_every_host(&self, pick: impl Fn(&FlavorRow) -> &Vec<Line>, row: &FlavorRow) -> Vec<Line> {
        self.instances
            .iter()
            .flat_map(|i| pick(row).iter().map(|c| i.on_host(c)).collect::<Vec<_>>())
            .collect()
    }

    /// ECK: the step that sets the resource's name and namespace, which every later kubectl
    /// command reads (one shell; a runbook sets them again on every run), from its service URL
    /// or asked for.
    fn eck_resource_step(&self) -> Vec<Step> {
        if self.flavor != Flavor::Eck {
            return Vec::new();
        }
        let commands = match &self.eck {
            Some((name, ns)) => vec![sh!(
                "KB_NAME={} KB_NS={}   # the Kibana resource, from its service URL",
                Word::quote(name),
                Word::quote(ns)
            )],
            None => vec![
                sh!("kubectl get kibana -A   # find the Kibana resource"),
                sh!("[ -n \"${KB_NAME:-}\" ] || read -r -p 'Kibana resource name: ' KB_NAME"),
                sh!("[ -n \"${KB_NS:-}\" ] || read -r -p 'Its namespace: ' KB_NS"),
            ],
        };
        vec![Step::setup(
            "kibana-resource",
            "Name the Kibana resource (KB_NAME, KB_NS) the kubectl commands below act on",
            "this shell",
            commands,
        )]
    }

    /// The read-only checks that every instance refuses connections: only "connection
    /// refused" (curl exit 7) counts; a TLS error, a 401 or a timeout means something still
    /// answers or cannot be told.
    pub(super) fn refused_checks(&self) -> Vec<Line> {
        self.instances
            .iter()
            .map(|i| {
                sh!(
                    "rc=0; curl -s -o /dev/null --max-time 5 {} || rc=$?; if [ \"$rc\" -eq 7 ]; then echo {}; else echo {}\"$rc)\" >&2; false; fi",
                    Word::quote(&i.status_url()),
                    Word::quote(&format!("stopped: {} refuses connections", i.url)),
                    Word::quote(&format!(
                        "NOT STOPPED: {} still answers or cannot be told (curl exit ",
                        i.url
                    ))
                )
            })
            .collect()
    }

    /// Stop every instance of `version`; verified when every port refuses connections.
    pub(super) fn stop(&self, version: &str) -> Vec<Step> {
        // What answered at collection is about the failed version only.
        let collected = self.rollback && self.current_version.as_deref() == Some(version);
        let running = match (collected, self.answering.is_empty()) {
            (false, _) => String::new(),
            (true, true) => " (none answered at collection time; make sure)".to_string(),
            (true, false) => format!("; still running: {}", self.answering.join(", ")),
        };
        let row = flavor_row(self.flavor, version, version);
        let (commands, how) = match self.flavor {
            _ if self.per_host() => (self.on_every_host(|r| &r.stop, &row), String::new()),
            Flavor::Eck => (
                vec![
                    // Kept in a file, for the start step (a rerun starts a new shell).
                    sh!("kubectl get kibana \"$KB_NAME\" -n \"$KB_NS\" -o jsonpath='{.spec.count}' > kibana-count   # to start the same number again"),
                    sh!("kubectl patch kibana \"$KB_NAME\" -n \"$KB_NS\" --type merge -p '{\"spec\":{\"count\":0}}'"),
                ],
                String::new(),
            ),
            _ => (
                Vec::new(),
                ": the deployment flavour is unknown, so stop each one the way it runs (systemctl stop kibana.service, docker stop, the Kibana resource's spec.count: 0)".to_string(),
            ),
        };
        let mut steps = self.eck_resource_step();
        steps.push(Step {
            id: "stop-kibana".into(),
            title: format!("Stop every Kibana instance{how}{running}"),
            run_on: self.run_on(),
            commands,
            verify: self.refused_checks(),
            on_failure: "an instance still answers: stop it (its process, container or pod) and make sure nothing restarts it, then run again; never restore while any Kibana runs".into(),
            ..Step::default()
        });
        steps
    }

    /// Install (or select) `version` and start every instance; verified when each reports
    /// `version` and is available. Where the flavour cannot start it (docker: the image tag
    /// lives where the container is defined; an unknown flavour), the start is done by hand and
    /// the same verification says when it is done.
    pub(super) fn start(&self, version: &str) -> Vec<Step> {
        let running = self
            .current_version
            .clone()
            .unwrap_or_else(|| version.to_string());
        let row = flavor_row(self.flavor, &running, version);
        let v = Word::quote(version);
        let mut steps = Vec::new();
        let (title, commands) = match self.flavor {
            _ if self.per_host() => {
                let mut install = Vec::new();
                let mut start = Vec::new();
                for instance in &self.instances {
                    for c in row.install.iter().chain(&row.installed) {
                        install.push(instance.on_host(c));
                    }
                    for c in &row.start {
                        start.push(instance.on_host(c));
                    }
                }
                match &row.start_by_hand {
                    Some(how) => {
                        steps.push(Step {
                            id: "install-kibana".into(),
                            title: format!("Pull Kibana {version} on every host"),
                            run_on: self.run_on(),
                            commands: install,
                            on_failure: "the image could not be pulled: check the registry and the tag, then run again".into(),
                            ..Step::default()
                        });
                        (format!("By hand, on every host: {how}"), Vec::new())
                    }
                    None => {
                        install.extend(start);
                        (
                            format!("Install Kibana {version} and start every instance"),
                            install,
                        )
                    }
                }
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
                        "kubectl patch kibana \"$KB_NAME\" -n \"$KB_NS\" --type merge -p \"$(printf '{\"spec\":{\"version\":\"%s\",\"count\":%s}}' {} \"$(cat kibana-count 2>/dev/null || echo 1)\")\"",
                        v
                    ),
                ],
            ),
            _ => (
                format!(
                    "By hand: install Kibana {version} and start every instance the way it is deployed (deb: apt-get install --allow-downgrades kibana={version}; rpm: dnf downgrade kibana-{version}; docker: image docker.elastic.co/kibana/kibana:{version}; ECK: the Kibana resource's spec.version)"
                ),
                Vec::new(),
            ),
        };
        let mut title = title;
        let major = version::parse_lenient(version).ok().map(|v| v.major);
        if matches!(self.flavor, Flavor::Deb | Flavor::Rpm | Flavor::Unknown)
            && major.is_some()
            && self.current_major.is_some()
            && major != self.current_major
        {
            title.push_str(&format!(
                " (Elastic's deb/rpm repositories are per major: add the {}.x repository first)",
                major.unwrap_or_default()
            ));
        }
        let mut verify = self.up_checks(version);
        if self.flavor == Flavor::Eck {
            verify.push(sh!("kubectl annotate kibana \"$KB_NAME\" -n \"$KB_NS\" eck.k8s.elastic.co/disable-downgrade-validation-   # ECK guards downgrades again"));
        }
        steps.push(Step {
            id: "start-kibana".into(),
            title,
            run_on: self.run_on(),
            commands,
            verify,
            on_failure: format!(
                "Kibana {version} did not come up: read its log (a saved-object migration error names the index and the cause), fix it, then run again; do not start the newer version again"
            ),
            request: Some(Request {
                method: "GET".into(),
                path: "/api/status".into(),
                body: serde_json::Value::Null,
            }),
            ..Step::default()
        });
        steps
    }

    /// The read-only checks that every instance reports `version` and is available (8.x+
    /// `level`, 7.x legacy `state`), each polled until the runbook's wait is over.
    pub(super) fn up_checks(&self, version: &str) -> Vec<Line> {
        let legacy = version::parse_lenient(version).is_ok_and(|v| v.major < 8);
        self.instances
            .iter()
            .map(|i| {
                let test = if legacy {
                    sh!(
                        "jq -se --arg v {} 'length == 1 and (.[0] | .version.number == $v and .status.overall.state == \"green\")'",
                        Word::quote(version)
                    )
                } else {
                    sh!(
                        "jq -se --arg v {} 'length == 1 and (.[0] | .version.number == $v and .status.overall.level == \"available\")'",
                        Word::quote(version)
                    )
                };
                sh!(
                    "ok=no; deadline=$((SECONDS + ${RIPCORD_RUNBOOK_WAIT:-600})); while [ \"$SECONDS\" -lt \"$deadline\" ]; do if {} --max-time 5 {} 2>/dev/null | {} >/dev/null 2>&1; then ok=yes; break; fi; sleep 2; done; if [ \"$ok\" = yes ]; then echo {}; else echo {}\"${RIPCORD_RUNBOOK_WAIT:-600} s\" >&2; false; fi",
                    self.curl.get(),
                    Word::quote(&i.status_url()),
                    test,
                    Word::quote(&format!("{}: Kibana {version}, available", i.url)),
                    Word::quote(&format!(
                        "{}: not Kibana {version} and available after ",
                        i.url
                    ))
                )
            })
            .collect()
    }

    /// The note for a verification Kibana 8+ answers only with credentials.
    pub(super) fn auth_note(&self, version: &str) -> Option<String> {
        let legacy = version::parse_lenient(version).is_ok_and(|v| v.major < 8);
        (self.unauthenticated && !legacy && !self.instances.is_empty()).then(|| {
            "Kibana 8 and later hide the version from an unauthenticated request, and ripcord reached Kibana without credentials: set RIPCORD_KIBANA_API_KEY (or RIPCORD_KIBANA_USERNAME and RIPCORD_KIBANA_PASSWORD) and collect again, or the start verification cannot pass".to_string()
        })
    }

    /// Restart the instances of `version` (a failed migration is retried at start).
    pub(super) fn restart(&self, version: &str) -> Vec<Step> {
        let row = flavor_row(self.flavor, version, version);
        let commands = match self.flavor {
            _ if self.per_host() => self.on_every_host(|r| &r.restart, &row),
            Flavor::Eck => vec![sh!(
                "kubectl rollout restart deployment \"$KB_NAME-kb\" -n \"$KB_NS\""
            )],
            _ => Vec::new(),
        };
        let mut steps = self.eck_resource_step();
        steps.push(Step {
            id: "restart-kibana".into(),
            title: format!(
                "Keep Kibana {version}, or restart it: Kibana retries a failed saved-object migration when it starts"
            ),
            run_on: self.run_on(),
            commands,
            verify: self.up_checks(version),
            on_failure:
                "the migration fails again: find its error (next step) before anything else".into(),
            ..Step::default()
        });
        steps
    }

    /// Where the migration error of Kibana `version` is logged, per flavour.
    pub(super) fn find_migration_error(&self, version: &str) -> Step {
        let row = flavor_row(self.flavor, version, version);
        let commands = match self.flavor {
            _ if self.per_host() => self.on_every_host(|r| &r.logs, &row),
            Flavor::Eck => vec![sh!(
                "kubectl logs -n \"$KB_NS\" -l kibana.k8s.elastic.co/name=\"$KB_NAME\" --tail=-1 | grep -E 'saved object migrations|FATAL' | tail -n 20"
            )],
            _ => Vec::new(),
        };
        Step {
            id: "find-migration-error".into(),
            title: "Find the migration error in Kibana's log (\"Unable to complete saved object migrations for the [.kibana] index: …\")".into(),
            run_on: self.run_on(),
            commands,
            ..Step::default()
        }
    }

    /// Point every instance at the new cluster: the line to set, printed from this shell (where
    /// `NEW_ES_URL` is set), or ECK's `elasticsearchRef`.
    pub(super) fn repoint(&self) -> Step {
        let commands = match self.flavor {
            Flavor::Eck => vec![
                sh!(
                    "[ -n \"${NEW_ES_NAME:-}\" ] || read -r -p 'Name of the new Elasticsearch resource: ' NEW_ES_NAME"
                ),
                sh!(
                    "kubectl patch kibana \"$KB_NAME\" -n \"$KB_NS\" --type merge -p \"{\\\"spec\\\":{\\\"elasticsearchRef\\\":{\\\"name\\\":\\\"$NEW_ES_NAME\\\"}}}\""
                ),
            ],
            _ => vec![sh!(
                "printf 'elasticsearch.hosts: [\"%s\"]\\n' \"$NEW_ES_URL\"   # the line to set in kibana.yml on each Kibana host"
            )],
        };
        Step {
            id: "repoint-kibana".into(),
            title: "Point every Kibana instance at the new cluster: set elasticsearch.hosts in kibana.yml (and elasticsearch.ssl.certificateAuthorities if its CA differs)".into(),
            run_on: "this shell, then each Kibana host's kibana.yml".into(),
            commands,
            ..Step::default()
        }
    }
}

/// ECK names a Kibana's service `NAME-kb-http` in the resource's namespace: from a URL such as
/// `https://logs-kb-http.elastic:5601` or `…-kb-http.elastic.svc.cluster.local`.
pub(super) fn eck_resource(url: &str) -> Option<(String, String)> {
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
    fn a_host_command_runs_over_ssh_unless_the_host_is_this_machine() {
        let instance = |url: &str| Instance {
            url: url.into(),
            host: url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
                .unwrap_or_default(),
            label: String::new(),
            ssh_variable: Name::new("KIBANA_1_SSH").expect("name"),
        };
        let stop = sh!("sudo systemctl stop kibana.service");
        assert_eq!(
            instance("https://kb-1.example:5601")
                .on_host(&stop)
                .as_str(),
            "ssh \"${KIBANA_1_SSH:-kb-1.example}\" -- 'sudo systemctl stop kibana.service'"
        );
        assert_eq!(
            instance("http://127.0.0.1:5601").on_host(&stop).as_str(),
            "sudo systemctl stop kibana.service"
        );
        assert_eq!(
            instance("http://[::1]:5601").on_host(&stop).as_str(),
            "sudo systemctl stop kibana.service"
        );
    }
}
