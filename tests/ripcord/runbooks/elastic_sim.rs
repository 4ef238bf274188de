//! A stateful Elastic Stack on loopback for rehearsing runbooks: an Elasticsearch whose
//! saved-object aliases move back to the old version when the kibana feature state is
//! restored (and whose restore can fail, as the real one does), and Kibana instances that
//! really stop listening and, like Kibana, refuse to start while the saved-object aliases
//! belong to a newer version than theirs. The stub host commands (`systemctl`, `apt-get`,
//! `dpkg-query`, over a stub `ssh`) drive the instances through a control server.
//!
//! Bodies are the documented shapes (`../shared/reference/elastic-examples`): `GET /`, get
//! snapshot, the restore answer (`snapshot.shards`), `_cluster/health`, `_security/_authenticate`,
//! `_has_privileges`, Kibana's `/api/status` (redacted without credentials, as 8.x answers).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const CLUSTER_UUID: &str = "zk-HjQtYQGyL3NFSSu7InA";
pub const SNAPSHOT: &str = "pre-upgrade-8.17.3-2026.11.20";
pub const SNAPSHOT_UUID: &str = "preupgrade817320261120";
pub const WRITE_KEY: &str = "d3JpdGUta2V5LWZvci10aGUtcmVzdG9yZQ==";

/// A fault to inject at a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The restore answers HTTP 500 (an open index of the same name).
    Restore500,
    /// The restore answers 200 with two failed shards.
    RestoreFailedShards,
    /// `_cluster/health?wait_for_status=yellow` times out (`"timed_out": true`).
    HealthTimesOut,
    /// Kibana instance 2 ignores `systemctl stop`.
    KibanaKeepsAnswering,
    /// The old Kibana never comes up on instance 1.
    OldKibanaNeverUp,
    /// Another cluster answers at the URL (another UUID).
    Drift,
    /// `apt-get install` fails (the package cannot be downloaded).
    PackageDownloadFails,
}

#[derive(Debug, Clone)]
pub struct KibanaState {
    pub host: String,
    pub running: bool,
    pub installed: String,
}

#[derive(Debug, Default)]
pub struct State {
    /// The version the saved-object aliases belong to (`.kibana` → `.kibana_8.18.0_001`).
    pub aliases_version: String,
    pub kibana: Vec<KibanaState>,
    pub faults: Vec<Fault>,
    /// Every write Elasticsearch received: `METHOD path`.
    pub writes: Vec<String>,
    /// Restores received while a Kibana instance was listening.
    pub restores_with_kibana_up: usize,
    /// Host commands the stubs reported: `host action [arg]`.
    pub host_calls: Vec<String>,
}

impl State {
    fn listening(&self, index: usize) -> bool {
        let k = &self.kibana[index];
        if !k.running {
            return false;
        }
        if index == 0 && self.faults.contains(&Fault::OldKibanaNeverUp) && k.installed == "8.17.3" {
            return false;
        }
        // Kibana refuses to start while the aliases belong to a newer version.
        !newer(&self.aliases_version, &k.installed)
    }
}

fn newer(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
    parse(a) > parse(b)
}

pub struct Stack {
    pub state: Arc<Mutex<State>>,
    pub es: MockServer,
    pub control: MockServer,
    pub kibana_urls: Vec<String>,
    notifies: Vec<Arc<Notify>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Stack {
    /// The failed 8.17.3 → 8.18.0 upgrade: Elasticsearch on 8.18.0, the aliases on 8.18.0,
    /// kb-1 stopped, kb-2 running 8.18.0; Kibana on 127.0.0.2 and 127.0.0.3, so each is
    /// another host to `ssh`.
    pub async fn failed_minor_upgrade(faults: &[Fault]) -> Self {
        let state = Arc::new(Mutex::new(State {
            aliases_version: "8.18.0".into(),
            kibana: vec![
                KibanaState {
                    host: "127.0.0.2".into(),
                    running: false,
                    installed: "8.18.0".into(),
                },
                KibanaState {
                    host: "127.0.0.3".into(),
                    running: true,
                    installed: "8.18.0".into(),
                },
            ],
            faults: faults.to_vec(),
            ..State::default()
        }));
        let es = MockServer::start().await;
        Mock::given(any())
            .respond_with(EsSim(state.clone()))
            .mount(&es)
            .await;
        let mut notifies = Vec::new();
        let mut tasks = Vec::new();
        let mut kibana_urls = Vec::new();
        let hosts: Vec<String> = state
            .lock()
            .expect("state")
            .kibana
            .iter()
            .map(|k| k.host.clone())
            .collect();
        for (index, host) in hosts.iter().enumerate() {
            // A free port on that address, kept for every restart.
            let probe = std::net::TcpListener::bind(format!("{host}:0")).expect("bind");
            let addr = probe.local_addr().expect("addr");
            drop(probe);
            let notify = Arc::new(Notify::new());
            tasks.push(tokio::spawn(kibana_task(
                addr,
                index,
                state.clone(),
                notify.clone(),
            )));
            notifies.push(notify);
            kibana_urls.push(format!("http://{addr}"));
        }
        let control = MockServer::start().await;
        Mock::given(any())
            .respond_with(Control {
                state: state.clone(),
                notifies: notifies.clone(),
            })
            .mount(&control)
            .await;
        let stack = Self {
            state,
            es,
            control,
            kibana_urls,
            notifies,
            tasks,
        };
        stack.settle().await;
        stack
    }

    /// Lets the Kibana tasks bind or close their ports after a change.
    pub async fn settle(&self) {
        for n in &self.notifies {
            n.notify_one();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    pub fn clear_faults(&self) {
        self.state.lock().expect("state").faults.clear();
    }

    pub fn es_url(&self) -> String {
        self.es.uri()
    }
}

/// One Kibana instance: listens on `addr` while it runs and its version may start.
async fn kibana_task(
    addr: SocketAddr,
    index: usize,
    state: Arc<Mutex<State>>,
    notify: Arc<Notify>,
) {
    loop {
        let listening = state.lock().map(|s| s.listening(index)).unwrap_or(false);
        if !listening {
            notify.notified().await;
            continue;
        }
        let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
            return;
        };
        let _ = socket.set_reuseaddr(true);
        if socket.bind(addr).is_err() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        }
        let Ok(listener) = socket.listen(64) else {
            return;
        };
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        tokio::spawn(answer_status(stream, index, state.clone()));
                    }
                }
                () = notify.notified() => {
                    if !state.lock().map(|s| s.listening(index)).unwrap_or(false) {
                        break;
                    }
                }
            }
        }
        // Dropping the listener closes the port: connections are refused from now on.
    }
}

/// `GET /api/status` as Kibana 8 answers it: the version only to an authenticated request.
async fn answer_status(mut stream: tokio::net::TcpStream, index: usize, state: Arc<Mutex<State>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).to_lowercase();
    let authenticated = text.contains("\r\nauthorization:");
    let version = state
        .lock()
        .map(|s| s.kibana[index].installed.clone())
        .unwrap_or_default();
    let body = if authenticated {
        format!(
            r#"{{"name":"kb-{}","uuid":"5b2de169-2785-441b-ae8c-186a1936b17{}","version":{{"number":"{version}","build_hash":"0","build_number":80000,"build_snapshot":false,"build_flavor":"default","build_date":"2026-10-01T10:00:00.000Z"}},"status":{{"overall":{{"level":"available","summary":"All services and plugins are available"}},"core":{{"elasticsearch":{{"level":"available","summary":"Elasticsearch is available"}},"savedObjects":{{"level":"available","summary":"SavedObjects service has completed migrations and is available"}}}},"plugins":{{}}}},"metrics":{{}}}}"#,
            index + 1,
            index
        )
    } else {
        r#"{"status":{"overall":{"level":"available"}}}"#.to_string()
    };
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

struct EsSim(Arc<Mutex<State>>);

fn json(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn security_exception(status: u16, reason: &str) -> ResponseTemplate {
    json(
        status,
        serde_json::json!({
            "error": {
                "root_cause": [{"type": "security_exception", "reason": reason}],
                "type": "security_exception",
                "reason": reason
            },
            "status": status
        }),
    )
}

impl Respond for EsSim {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.0.lock().expect("state");
        let path = request.url.path().to_string();
        let method = request.method.as_str().to_string();
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let writer = auth == format!("ApiKey {WRITE_KEY}");
        if method != "GET" && method != "HEAD" {
            state.writes.push(format!("{method} {path}"));
        }
        match (method.as_str(), path.as_str()) {
            ("GET", "/") => {
                let uuid = if state.faults.contains(&Fault::Drift) {
                    "Qx3vN0aXRFK0ZgYTkwM2QtNw"
                } else {
                    CLUSTER_UUID
                };
                json(
                    200,
                    serde_json::json!({
                        "name": "es-master-0",
                        "cluster_name": "prod-logs",
                        "cluster_uuid": uuid,
                        "version": {
                            "number": "8.18.0",
                            "build_flavor": "default",
                            "build_type": "deb",
                            "lucene_version": "9.12.0",
                            "minimum_wire_compatibility_version": "7.17.0",
                            "minimum_index_compatibility_version": "7.0.0"
                        },
                        "tagline": "You Know, for Search"
                    }),
                )
            }
            ("GET", p) if p == format!("/_snapshot/backups/{SNAPSHOT}") => json(
                200,
                serde_json::json!({
                    "snapshots": [{
                        "snapshot": SNAPSHOT,
                        "uuid": SNAPSHOT_UUID,
                        "repository": "backups",
                        "version_id": 8_521_000,
                        "version": "8.17.3",
                        "indices": [".kibana_8.17.3_001", ".kibana_task_manager_8.17.3_001"],
                        "data_streams": [],
                        "include_global_state": false,
                        "feature_states": [{"feature_name": "kibana", "indices": [".kibana_8.17.3_001", ".kibana_task_manager_8.17.3_001"]}],
                        "state": "SUCCESS",
                        "start_time": "2026-11-20T02:00:00.000Z",
                        "start_time_in_millis": 1_795_053_600_000_u64,
                        "end_time": "2026-11-20T02:00:09.000Z",
                        "end_time_in_millis": 1_795_053_609_000_u64,
                        "duration_in_millis": 9000,
                        "failures": [],
                        "shards": {"total": 4, "failed": 0, "successful": 4}
                    }],
                    "total": 1,
                    "remaining": 0
                }),
            ),
            ("POST", p) if p == format!("/_snapshot/backups/{SNAPSHOT}/_restore") => {
                if !writer {
                    return security_exception(
                        403,
                        "action [cluster:admin/snapshot/restore] is unauthorized for API key id [VuaCfGcBCdbkQm-e5aOx] of user [ripcord-readonly]",
                    );
                }
                if (0..state.kibana.len()).any(|i| state.listening(i)) {
                    state.restores_with_kibana_up += 1;
                }
                if state.faults.contains(&Fault::Restore500) {
                    return json(
                        500,
                        serde_json::json!({
                            "error": {
                                "root_cause": [{"type": "snapshot_restore_exception", "reason": "[backups:pre-upgrade-8.17.3-2026.11.20/preupgrade817320261120] cannot restore index [.kibana_8.17.3_001] because an open index with same name already exists in the cluster. Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name"}],
                                "type": "snapshot_restore_exception",
                                "reason": "[backups:pre-upgrade-8.17.3-2026.11.20/preupgrade817320261120] cannot restore index [.kibana_8.17.3_001] because an open index with same name already exists in the cluster. Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name"
                            },
                            "status": 500
                        }),
                    );
                }
                let failed = if state.faults.contains(&Fault::RestoreFailedShards) {
                    2
                } else {
                    state.aliases_version = "8.17.3".into();
                    0
                };
                json(
                    200,
                    serde_json::json!({
                        "snapshot": {
                            "snapshot": SNAPSHOT,
                            "indices": [".kibana_8.17.3_001", ".kibana_task_manager_8.17.3_001"],
                            "shards": {"total": 4, "failed": failed, "successful": 4 - failed}
                        }
                    }),
                )
            }
            ("GET", "/_cluster/health") => {
                let timed_out = state.faults.contains(&Fault::HealthTimesOut);
                json(
                    200,
                    serde_json::json!({
                        "cluster_name": "prod-logs",
                        "status": if timed_out { "red" } else { "green" },
                        "timed_out": timed_out,
                        "number_of_nodes": 3,
                        "number_of_data_nodes": 3,
                        "active_primary_shards": 30,
                        "active_shards": 60,
                        "relocating_shards": 0,
                        "initializing_shards": if timed_out { 2 } else { 0 },
                        "unassigned_shards": 0,
                        "delayed_unassigned_shards": 0,
                        "number_of_pending_tasks": 0,
                        "number_of_in_flight_fetch": 0,
                        "task_max_waiting_in_queue_millis": 0,
                        "active_shards_percent_as_number": 100.0
                    }),
                )
            }
            // Any valid API key authenticates; only the operator's may restore.
            ("GET", "/_security/_authenticate") if auth.starts_with("ApiKey ") => json(
                200,
                serde_json::json!({
                    "username": if writer { "restore-operator" } else { "ripcord-readonly" },
                    "roles": if writer { vec!["superuser"] } else { vec!["ripcord_reader"] },
                    "full_name": null,
                    "email": null,
                    "metadata": {},
                    "enabled": true,
                    "authentication_realm": {"name": "_es_api_key", "type": "_es_api_key"},
                    "lookup_realm": {"name": "_es_api_key", "type": "_es_api_key"},
                    "authentication_type": "api_key"
                }),
            ),
            ("GET", "/_security/_authenticate") => security_exception(
                401,
                "unable to authenticate with provided credentials and anonymous access is not allowed for this request",
            ),
            ("POST", "/_security/user/_has_privileges") => {
                // Only asks: not a change.
                state.writes.pop();
                json(
                    200,
                    serde_json::json!({
                        "username": if writer { "restore-operator" } else { "ripcord-readonly" },
                        "has_all_requested": writer,
                        "cluster": {"manage": writer},
                        "index": {".kibana*": {"all": writer}},
                        "application": {}
                    }),
                )
            }
            _ => json(
                404,
                serde_json::json!({"error": {"type": "resource_not_found_exception", "reason": format!("no handler for [{method} {path}]")}, "status": 404}),
            ),
        }
    }
}

/// What the stub host commands report: `POST /kibana/HOST/ACTION[/ARG]`.
struct Control {
    state: Arc<Mutex<State>>,
    notifies: Vec<Arc<Notify>>,
}

impl Respond for Control {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let parts: Vec<&str> = request.url.path().trim_matches('/').split('/').collect();
        let mut state = self.state.lock().expect("state");
        let ["kibana", host, action, rest @ ..] = parts.as_slice() else {
            return ResponseTemplate::new(404);
        };
        let Some(index) = state.kibana.iter().position(|k| k.host == *host) else {
            return ResponseTemplate::new(404).set_body_string(format!("no Kibana on {host}\n"));
        };
        state.host_calls.push(
            format!("{host} {action} {}", rest.join(" "))
                .trim_end()
                .to_string(),
        );
        let answer = match *action {
            "stop" => {
                if !(index == 1 && state.faults.contains(&Fault::KibanaKeepsAnswering)) {
                    state.kibana[index].running = false;
                }
                ResponseTemplate::new(200)
            }
            "start" | "restart" => {
                state.kibana[index].running = true;
                ResponseTemplate::new(200)
            }
            "download" if state.faults.contains(&Fault::PackageDownloadFails) => {
                ResponseTemplate::new(503)
            }
            "download" => ResponseTemplate::new(200),
            "install" => {
                if state.faults.contains(&Fault::PackageDownloadFails) {
                    return ResponseTemplate::new(500).set_body_string(
                        "E: Failed to fetch https://artifacts.elastic.co/packages/8.x/apt/pool/main/k/kibana/kibana-8.17.3-amd64.deb  503  Service Unavailable\n",
                    );
                }
                state.kibana[index].installed =
                    rest.first().copied().unwrap_or_default().to_string();
                ResponseTemplate::new(200)
            }
            "installed" => {
                ResponseTemplate::new(200).set_body_string(state.kibana[index].installed.clone())
            }
            _ => ResponseTemplate::new(404),
        };
        drop(state);
        self.notifies[index].notify_one();
        answer
    }
}

/// The stub host commands, for `PATH`: each reports to the control server at `$SIM_CONTROL`
/// for the host `ssh` was given (`$SIM_HOST`).
pub const STUBS: &[(&str, &str)] = &[
    (
        "ssh",
        r#"#!/bin/bash
host=$1; shift
[ "${1:-}" = -- ] && shift
# On "the host": its own tar folder, and its commands (tar's download and unpack) first.
export SIM_HOST="$host" PATH="$SIM_HOST_BIN:$PATH" KIBANA_TAR_DIR="$KIBANA_TAR_DIR/$host"
mkdir -p "$KIBANA_TAR_DIR"
exec /bin/bash -c "$*"
"#,
    ),
    ("sudo", "#!/bin/bash\nexec \"$@\"\n"),
    (
        "systemctl",
        r#"#!/bin/bash
[ "${2:-}" = kibana.service ] || { echo "systemctl stub: $*" >&2; exit 1; }
exec /usr/bin/curl -fsS -X POST "$SIM_CONTROL/kibana/${SIM_HOST:?}/$1"
"#,
    ),
    (
        "apt-get",
        r#"#!/bin/bash
for a in "$@"; do
  case "$a" in
    kibana=*) exec /usr/bin/curl -fsS -X POST "$SIM_CONTROL/kibana/${SIM_HOST:?}/install/${a#kibana=}" ;;
  esac
done
echo "apt-get stub: $*" >&2; exit 100
"#,
    ),
    (
        "kubectl",
        r#"#!/bin/bash
# The Kibana resource of ECK: count 0 stops every instance, a version and a count install that
# version on each and start it.
case "$1 $2" in
  "get kibana")
    if [ "${3:-}" = -A ]; then printf 'NAMESPACE   NAME   HEALTH   NODES   VERSION   AGE\nelastic     logs   red      1       8.18.0    30d\n'; exit 0; fi
    printf '2'; exit 0 ;;
  "annotate kibana") exit 0 ;;
  "patch kibana")
    body=${!#}
    for host in $SIM_KIBANA_HOSTS; do
      if [[ $body == *'"count":0'* ]]; then
        /usr/bin/curl -fsS -X POST "$SIM_CONTROL/kibana/$host/stop" || exit 1
      else
        version=$(printf '%s' "$body" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
        /usr/bin/curl -fsS -X POST "$SIM_CONTROL/kibana/$host/install/$version" || exit 1
        /usr/bin/curl -fsS -X POST "$SIM_CONTROL/kibana/$host/start" || exit 1
      fi
    done
    exit 0 ;;
esac
echo "kubectl stub: $*" >&2; exit 1
"#,
    ),
    (
        "dpkg-query",
        r#"#!/bin/bash
[ "$*" = "-s kibana" ] || { echo "dpkg-query stub: $*" >&2; exit 1; }
printf 'Package: kibana\nStatus: install ok installed\nVersion: %s\n' "$(/usr/bin/curl -fsS "$SIM_CONTROL/kibana/${SIM_HOST:?}/installed")"
"#,
    ),
];

/// What runs on a Kibana host for a tar install: the download (`curl -fsSLO`), its checksum,
/// the unpacking (a `kibana-V/bin/kibana` that, run, installs and starts version V), and
/// `pkill` of the running version, each reported to the control server.
pub const HOST_STUBS: &[(&str, &str)] = &[
    (
        "curl",
        r#"#!/bin/bash
url=${!#}
/usr/bin/curl -fsS -o /dev/null -X POST "$SIM_CONTROL/kibana/$SIM_HOST/download" 2>/dev/null \
  || { echo "curl: (22) The requested URL returned error: 503" >&2; exit 22; }
printf 'archive\n' > "${url##*/}"
"#,
    ),
    ("sha512sum", "#!/bin/bash\necho \"${1:-}: OK\"\n"),
    (
        "tar",
        r#"#!/bin/bash
archive=${!#}
v=${archive#kibana-}; v=${v%%-linux-*}
mkdir -p "kibana-$v/bin" "kibana-$v/config" "kibana-$v/data"
printf '#!/bin/bash\n/usr/bin/curl -fsS -X POST "$SIM_CONTROL/kibana/$SIM_HOST/install/%s" && /usr/bin/curl -fsS -X POST "$SIM_CONTROL/kibana/$SIM_HOST/start"\n' "$v" > "kibana-$v/bin/kibana"
chmod +x "kibana-$v/bin/kibana"
"#,
    ),
    (
        "pkill",
        r#"#!/bin/bash
exec /usr/bin/curl -fsS -X POST "$SIM_CONTROL/kibana/$SIM_HOST/stop"
"#,
    ),
];
