//! A stateful GHES high-availability pair behind a stub `ssh`, for rehearsing runbooks: each
//! appliance has a running and an installed version, a boot id, maintenance mode and (the
//! replica) replication; `ghe-upgrade` installs the package it is given, `reboot` takes the
//! node down for a moment and brings it back on what was installed, `ghe-repl-status` exits
//! 0 only while replication runs between nodes on one version. The appliance commands
//! (`ghe-version` prints `GitHub Enterprise Server 3.17.8 ami …`, as GitHub documents) are
//! stubs that report to a control server; `ssh` refuses a node that is down (exit 255).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A fault to inject at a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The primary answers under another name.
    Drift,
    /// The package download fails (HTTP 404 from the release bucket).
    PackageDownloadFails,
    /// `ghe-upgrade` fails.
    UpgradeFails,
    /// The primary never comes back from its reboot.
    NeverComesBack,
    /// The primary comes back on the version it had.
    WrongVersionAfterReboot,
    /// Replication does not come back (`ghe-repl-status` CRITICAL).
    ReplicationNotOk,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub host: String,
    pub running: String,
    pub installed: String,
    pub boot: u32,
    pub down_until: Option<Instant>,
    pub maintenance: bool,
    pub replica: bool,
    pub replicating: bool,
}

#[derive(Debug, Default)]
pub struct State {
    pub nodes: Vec<Node>,
    pub faults: Vec<Fault>,
    /// Every appliance command run: `host command`.
    pub calls: Vec<String>,
}

impl State {
    fn node(&mut self, host: &str) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.host == host)
    }

    fn primary_version(&self) -> String {
        self.nodes
            .iter()
            .find(|n| !n.replica)
            .map(|n| n.running.clone())
            .unwrap_or_default()
    }
}

pub struct Appliances {
    pub state: Arc<Mutex<State>>,
    pub control: MockServer,
}

impl Appliances {
    /// The failed 3.17.8 → 3.17.9 patch upgrade of `ghes-ha-patch-failure`: the primary on
    /// 3.17.9, the replica still on 3.17.8, both in maintenance mode, replication stopped.
    pub async fn ha_patch_failure(faults: &[Fault]) -> Self {
        let node = |host: &str, version: &str, replica: bool| Node {
            host: host.into(),
            running: version.into(),
            installed: version.into(),
            boot: 1,
            down_until: None,
            maintenance: true,
            replica,
            replicating: false,
        };
        let state = Arc::new(Mutex::new(State {
            nodes: vec![
                node("ghe-primary", "3.17.9", false),
                node("ghe-replica-1", "3.17.8", true),
            ],
            faults: faults.to_vec(),
            calls: Vec::new(),
        }));
        let control = MockServer::start().await;
        Mock::given(any())
            .respond_with(Control(state.clone()))
            .mount(&control)
            .await;
        Self { state, control }
    }

    /// Clears the faults; a node that never came back is powered on again.
    pub fn clear_faults(&self) {
        let mut state = self.state.lock().expect("state");
        state.faults.clear();
        for n in &mut state.nodes {
            n.down_until = None;
        }
    }
}

struct Control(Arc<Mutex<State>>);

fn text(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_string(body.to_string())
}

impl Respond for Control {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let parts: Vec<&str> = request.url.path().trim_matches('/').split('/').collect();
        let ["ghes", host, action, rest @ ..] = parts.as_slice() else {
            return text(404, "no such control\n");
        };
        let mut state = self.0.lock().expect("state");
        let faults = state.faults.clone();
        let primary_version = state.primary_version();
        if state.node(host).is_none() {
            return text(404, &format!("ssh: Could not resolve hostname {host}\n"));
        }
        if matches!(*action, "repl-stop" | "repl-start") {
            let on = *action == "repl-start";
            for n in state.nodes.iter_mut().filter(|n| n.replica) {
                n.replicating = on;
            }
            state.calls.push(format!("{host} {action}"));
            return text(200, "");
        }
        let Some(node) = state.node(host) else {
            return text(404, "");
        };
        if let Some(until) = node.down_until {
            if Instant::now() < until {
                return text(503, "down\n");
            }
            node.down_until = None;
        }
        let answer = match *action {
            "up" => text(200, ""),
            "hostname" => {
                let name = if faults.contains(&Fault::Drift) && !node.replica {
                    "ghe-primary-old".to_string()
                } else {
                    node.host.clone()
                };
                text(200, &format!("{name}\n"))
            }
            "boot_id" => text(
                200,
                &format!("5d6b1a52-0c2e-4c8a-9a47-{:012x}\n", node.boot),
            ),
            "version" => text(
                200,
                &format!(
                    "GitHub Enterprise Server {} ami 2026-11-04 d4e5f6a7b8\n",
                    node.running
                ),
            ),
            "download" if faults.contains(&Fault::PackageDownloadFails) => {
                text(404, "curl: (22) The requested URL returned error: 404\n")
            }
            "download" => text(200, "a GHES upgrade package\n"),
            "upgrade" if faults.contains(&Fault::UpgradeFails) => text(
                500,
                "ERROR: the upgrade package could not be verified; nothing was installed\n",
            ),
            "upgrade" => {
                node.installed = rest.first().copied().unwrap_or_default().to_string();
                text(200, "Upgrade package installed; reboot to finish\n")
            }
            "reboot" => {
                node.boot += 1;
                node.down_until = Some(if faults.contains(&Fault::NeverComesBack) {
                    Instant::now() + Duration::from_secs(3600)
                } else {
                    Instant::now() + Duration::from_millis(800)
                });
                if !faults.contains(&Fault::WrongVersionAfterReboot) {
                    node.running = node.installed.clone();
                }
                text(200, "")
            }
            "repl-status" => {
                let ok = node.replica
                    && node.replicating
                    && node.running == primary_version
                    && !faults.contains(&Fault::ReplicationNotOk);
                if ok {
                    text(
                        200,
                        "OK: mysql replication is in sync\nOK: redis replication is in sync\nOK: git replication is in sync\n",
                    )
                } else if !node.replicating {
                    text(409, "CRITICAL: replication is not running\n")
                } else {
                    text(
                        409,
                        "CRITICAL: mysql replication is behind the primary by 86.3 seconds\n",
                    )
                }
            }
            "maintenance-off" => {
                node.maintenance = false;
                text(200, "")
            }
            "maintenance-on" => {
                node.maintenance = true;
                text(200, "")
            }
            _ => text(404, "unknown action\n"),
        };
        if *action != "up" {
            state.calls.push(format!("{host} {action}"));
        }
        answer
    }
}

/// The stub `ssh` on this machine's `PATH`: refuses a node that is down (255, as ssh does),
/// else runs the remote command in bash on "the appliance": its own folder and the appliance
/// commands of [`APPLIANCE_STUBS`] first on `PATH`.
pub const SSH_STUB: &str = r#"#!/bin/bash
host=
while [ "$#" -gt 0 ]; do
  case "$1" in
    -p|-o) shift 2 ;;
    -t) shift ;;
    --) shift; break ;;
    admin@*) host=${1#admin@}; shift ;;
    *) echo "ssh stub: unexpected $1" >&2; exit 255 ;;
  esac
done
[ -n "$host" ] || { echo "ssh stub: no admin@HOST" >&2; exit 255; }
/usr/bin/curl -fsS -o /dev/null "$SIM_CONTROL/ghes/$host/up" 2>/dev/null \
  || { echo "ssh: connect to host $host port 122: Connection refused" >&2; exit 255; }
mkdir -p "$SIM_ROOT/$host" && cd "$SIM_ROOT/$host" || exit 255
export SIM_HOST="$host" PATH="$SIM_APPLIANCE_BIN:$PATH"
exec /bin/bash -c "$*"
"#;

/// What runs on an appliance, each reporting to the control server.
pub const APPLIANCE_STUBS: &[(&str, &str)] = &[
    (
        "ctl",
        r#"#!/bin/bash
# ctl ACTION [ARG]: the appliance's state, from the control server; fails with its message.
out=$(/usr/bin/curl -sS -w '\n%{http_code}' -X POST "$SIM_CONTROL/ghes/$SIM_HOST/$1${2:+/$2}") || exit 255
code=${out##*$'\n'}; body=${out%$'\n'*}
if [ "$code" = 200 ]; then [ -z "$body" ] || printf '%s\n' "$body"; else printf '%s\n' "$body" >&2; exit 1; fi
"#,
    ),
    ("sudo", "#!/bin/bash\nexec \"$@\"\n"),
    ("reboot", "#!/bin/bash\nexec ctl reboot\n"),
    ("hostname", "#!/bin/bash\nexec ctl hostname\n"),
    ("ghe-version", "#!/bin/bash\nexec ctl version\n"),
    ("ghe-repl-stop-all", "#!/bin/bash\nexec ctl repl-stop\n"),
    ("ghe-repl-start-all", "#!/bin/bash\nexec ctl repl-start\n"),
    ("ghe-repl-stop", "#!/bin/bash\nexec ctl repl-stop\n"),
    ("ghe-repl-start", "#!/bin/bash\nexec ctl repl-start\n"),
    (
        "ghe-repl-status",
        "#!/bin/bash\nif ctl repl-status; then exit 0; else exit 2; fi\n",
    ),
    (
        "ghe-maintenance",
        r#"#!/bin/bash
case "$1" in -u) exec ctl maintenance-off ;; -s) exec ctl maintenance-on ;; esac
echo "ghe-maintenance stub: $*" >&2; exit 1
"#,
    ),
    (
        "cat",
        r#"#!/bin/bash
[ "$*" = /proc/sys/kernel/random/boot_id ] && exec ctl boot_id
exec /bin/cat "$@"
"#,
    ),
    (
        "curl",
        r#"#!/bin/bash
# The appliance downloads from the release bucket: curl -fL -O URL.
url=${!#}
ctl download "${url##*/}" >/dev/null || { echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; }
printf 'GHES package\n' > "${url##*/}"
"#,
    ),
    (
        "ghe-upgrade",
        r#"#!/bin/bash
file=${!#}
[ -s "$file" ] || { echo "ghe-upgrade: $file: no such file" >&2; exit 1; }
version=${file%.pkg}; version=${version##*-}
echo "*** verifying upgrade package signature..."
ctl upgrade "$version"
"#,
    ),
];
