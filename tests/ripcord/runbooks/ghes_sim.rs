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
    /// EC2: the instance does not stop.
    InstanceWontStop,
    /// EC2: a volume cannot be created from its snapshot.
    VolumeCreateFails,
}

/// The primary's EC2 instance: its state, its disks by device, every volume.
#[derive(Debug, Clone, Default)]
pub struct Ec2 {
    pub running: bool,
    /// Device name → volume id.
    pub attached: std::collections::BTreeMap<String, String>,
    /// Volume id → (the snapshot it was created from, or empty; `in-use` | `available`).
    pub volumes: std::collections::BTreeMap<String, (String, String)>,
    pub created: usize,
    /// The boot disk's device, and the snapshot that holds the old version.
    pub root: (String, String),
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
    pub ec2: Ec2,
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
            ..State::default()
        }));
        let control = MockServer::start().await;
        Mock::given(any())
            .respond_with(Control(state.clone()))
            .mount(&control)
            .await;
        Self { state, control }
    }

    /// The failed 3.17.8 → 3.19.2 feature upgrade of `ghes-aws-verified`: the primary's EC2
    /// instance `i-0abcd1234ef567890` runs 3.19.2 on its upgraded volumes; the verified
    /// snapshots `snap-0a1b2c3d4e5f60718` (root) and `snap-0c2d3e4f5a6b70829` (data) hold 3.17.8.
    pub async fn aws_feature_failure(faults: &[Fault]) -> Self {
        Self::vm_feature_failure(
            faults,
            &[
                ("/dev/sda1", "vol-0root1234567890a"),
                ("/dev/xvdf", "vol-0data1234567890b"),
            ],
            "snap-0a1b2c3d4e5f60718",
        )
        .await
    }

    /// The same failure on any platform: the VM's disks by device (the boot disk first) and
    /// the snapshot that holds the old version of the boot disk (`ghes-gce-verified`,
    /// `ghes-azure-verified`).
    pub async fn vm_feature_failure(
        faults: &[Fault],
        disks: &[(&str, &str)],
        root_snapshot: &str,
    ) -> Self {
        let appliances = Self::ha_patch_failure(faults).await;
        {
            let mut state = appliances.state.lock().expect("state");
            state.nodes[0].running = "3.19.2".into();
            state.nodes[0].installed = "3.19.2".into();
            state.ec2.running = true;
            state.ec2.root = (disks[0].0.into(), root_snapshot.into());
            for (device, disk) in disks {
                state.ec2.attached.insert((*device).into(), (*disk).into());
                state
                    .ec2
                    .volumes
                    .insert((*disk).into(), (String::new(), "in-use".into()));
            }
        }
        appliances
    }

    /// Clears the faults; a node that never came back is powered on again.
    pub fn clear_faults(&self) {
        let mut state = self.state.lock().expect("state");
        state.faults.clear();
        // A stopped EC2 instance stays down: only the fault's outage ends.
        let vm_stopped = !state.ec2.attached.is_empty() && !state.ec2.running;
        for n in &mut state.nodes {
            if !vm_stopped || n.replica {
                n.down_until = None;
            }
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
        if let ["aws", operation] = parts.as_slice() {
            let args: Vec<String> = String::from_utf8_lossy(&request.body)
                .lines()
                .map(str::to_string)
                .collect();
            let mut state = self.0.lock().expect("state");
            state.calls.push(format!("aws {operation}"));
            return ec2(&mut state, operation, &args);
        }
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

/// The value after `flag` in a CLI's arguments.
fn arg<'a>(args: &'a [String], flag: &str) -> &'a str {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map_or("", String::as_str)
}

/// One `aws ec2 OPERATION …` call, as EC2 answers it (`--output text`).
fn ec2(state: &mut State, operation: &str, args: &[String]) -> ResponseTemplate {
    let faults = state.faults.clone();
    let query = arg(args, "--query");
    let ec2 = &mut state.ec2;
    match operation {
        "describe-instances" if query.contains("State.Name") => text(
            200,
            if ec2.running {
                "running\n"
            } else {
                "stopped\n"
            },
        ),
        "describe-instances" if query.contains("AvailabilityZone") => text(200, "us-east-1a\n"),
        "describe-instances" if query.contains("BlockDeviceMappings") => {
            let device = query.split('\'').nth(1).unwrap_or_default();
            text(
                200,
                &format!(
                    "{}\n",
                    ec2.attached.get(device).map_or("None", String::as_str)
                ),
            )
        }
        "stop-instances" if faults.contains(&Fault::InstanceWontStop) => text(200, "stopping\n"),
        "stop-instances" => {
            ec2.running = false;
            state.nodes[0].down_until = Some(Instant::now() + Duration::from_secs(3600));
            text(200, "stopping\n")
        }
        "start-instances" => {
            ec2.running = true;
            let restored_root = ec2
                .attached
                .get(&ec2.root.0)
                .and_then(|v| ec2.volumes.get(v))
                .is_some_and(|(snapshot, _)| *snapshot == ec2.root.1);
            let node = &mut state.nodes[0];
            node.boot += 1;
            node.down_until = if faults.contains(&Fault::NeverComesBack) {
                Some(Instant::now() + Duration::from_secs(3600))
            } else {
                Some(Instant::now() + Duration::from_millis(800))
            };
            if restored_root {
                node.running = "3.17.8".into();
                node.installed = "3.17.8".into();
            }
            text(200, "pending\n")
        }
        "wait" => {
            let ok = match args.first().map(String::as_str) {
                Some("instance-stopped") => !ec2.running,
                Some("instance-running") => ec2.running,
                Some(w @ ("volume-available" | "volume-in-use")) => {
                    let want = if w == "volume-available" {
                        "available"
                    } else {
                        "in-use"
                    };
                    ec2.volumes
                        .get(arg(args, "--volume-ids"))
                        .is_some_and(|(_, s)| s == want)
                }
                _ => false,
            };
            if ok {
                text(200, "")
            } else {
                text(409, "Waiter failed: Max attempts exceeded\n")
            }
        }
        "create-volume" if faults.contains(&Fault::VolumeCreateFails) => text(
            409,
            "An error occurred (InvalidSnapshot.NotFound) when calling the CreateVolume operation\n",
        ),
        "attached" => text(
            200,
            &ec2.attached
                .iter()
                .map(|(d, v)| format!("{d}={v}\n"))
                .collect::<String>(),
        ),
        "create-volume" => {
            ec2.created += 1;
            let id = match arg(args, "--name") {
                "" => format!("vol-0restored{:07}", ec2.created),
                name => name.to_string(),
            };
            ec2.volumes.insert(
                id.clone(),
                (arg(args, "--snapshot-id").to_string(), "available".into()),
            );
            text(200, &format!("{id}\n"))
        }
        "describe-volumes" => {
            let volume = ec2.volumes.get(arg(args, "--volume-ids"));
            let answer = match volume {
                Some((snapshot, _)) if query.contains("SnapshotId") => snapshot.clone(),
                Some((_, state)) => state.clone(),
                None => return text(409, "An error occurred (InvalidVolume.NotFound)\n"),
            };
            text(200, &format!("{answer}\n"))
        }
        "detach-volume" => {
            let volume = arg(args, "--volume-id").to_string();
            ec2.attached.retain(|_, v| *v != volume);
            if let Some(v) = ec2.volumes.get_mut(&volume) {
                v.1 = "available".into();
            }
            text(200, "detaching\n")
        }
        "attach-volume" => {
            let volume = arg(args, "--volume-id").to_string();
            let device = arg(args, "--device").to_string();
            if ec2.running && device == ec2.root.0 {
                return text(
                    409,
                    "An error occurred (IncorrectState): the instance must be stopped to attach a root volume\n",
                );
            }
            if ec2.attached.contains_key(&device) {
                return text(
                    409,
                    &format!(
                        "An error occurred (InvalidParameterValue): {device} is already in use\n"
                    ),
                );
            }
            ec2.attached.insert(device, volume.clone());
            if let Some(v) = ec2.volumes.get_mut(&volume) {
                v.1 = "in-use".into();
            }
            text(200, "attaching\n")
        }
        _ => text(404, &format!("aws stub: unknown ec2 {operation}\n")),
    }
}

/// The stub `aws` on this machine's `PATH`: `aws ec2 OPERATION ARGS…` goes to the control
/// server, its answer is the CLI's output (`--output text`), an error its exit 254.
pub const AWS_STUB: &str = r#"#!/bin/bash
[ "${1:-}" = ec2 ] || { echo "aws stub: $*" >&2; exit 252; }
op=$2; shift 2
out=$(printf '%s\n' "$@" | /usr/bin/curl -sS -w '\n%{http_code}' -X POST --data-binary @- "$SIM_CONTROL/aws/$op") || exit 255
code=${out##*$'\n'}; body=${out%$'\n'*}
if [ "$code" = 200 ]; then [ -z "$body" ] || printf '%s\n' "$body"; else printf '%s\n' "$body" >&2; exit 254; fi
"#;

/// The stub `gcloud compute` on this machine's `PATH`, in the EC2 simulator's terms: the
/// instance's status, its disks' sources, disks made from snapshots, detach and attach.
pub const GCLOUD_STUB: &str = r#"#!/bin/bash
[ "${1:-}" = compute ] || { echo "gcloud stub: $*" >&2; exit 2; }
kind=$2 op=$3 name=$4; shift 4
flag() { local want=$1; shift; while [ "$#" -gt 0 ]; do [ "$1" = "$want" ] && { printf '%s' "$2"; return; }; shift; done; }
fmt=""; for a in "$@"; do case "$a" in --format=*) fmt=${a#--format=} ;; esac; done
case "$kind $op" in
  "instances stop") exec aws ec2 stop-instances --instance-ids "$name" >/dev/null ;;
  "instances start") exec aws ec2 start-instances --instance-ids "$name" >/dev/null ;;
  "instances describe")
    case "$fmt" in
      "value(status)") s=$(aws ec2 describe-instances --query State.Name) || exit 1; [ "$s" = stopped ] && echo TERMINATED || echo RUNNING ;;
      "value(disks[].source)") aws ec2 attached | sed 's|^.*=|https://www.googleapis.com/compute/v1/projects/acme-ghe/zones/us-central1-a/disks/|' | paste -sd';' ;;
      *) exit 2 ;;
    esac ;;
  "instances detach-disk") exec aws ec2 detach-volume --volume-id "$(flag --disk "$@")" >/dev/null ;;
  "instances attach-disk") exec aws ec2 attach-volume --volume-id "$(flag --disk "$@")" --device "$(flag --device-name "$@")" >/dev/null ;;
  "disks describe")
    snap=$(aws ec2 describe-volumes --volume-ids "$name" --query SnapshotId 2>/dev/null) || { echo "ERROR: (gcloud.compute.disks.describe) Could not fetch resource: The resource 'disks/$name' was not found" >&2; exit 1; }
    [ "$fmt" = "value(sourceSnapshot)" ] && echo "https://www.googleapis.com/compute/v1/projects/acme-ghe/global/snapshots/$snap"; exit 0 ;;
  "disks create") exec aws ec2 create-volume --name "$name" --snapshot-id "$(flag --source-snapshot "$@")" >/dev/null ;;
  *) echo "gcloud stub: compute $kind $op" >&2; exit 2 ;;
esac
"#;

/// The stub `az` on this machine's `PATH`, in the EC2 simulator's terms.
pub const AZ_STUB: &str = r#"#!/bin/bash
flag() { local want=$1; shift; while [ "$#" -gt 0 ]; do [ "$1" = "$want" ] && { printf '%s' "$2"; return; }; shift; done; }
group=$1 op=$2; shift 2
[ "$group $op" = "vm disk" ] && { op="disk-$1"; shift; }
query=$(flag --query "$@")
case "$group $op" in
  "vm deallocate") exec aws ec2 stop-instances >/dev/null ;;
  "vm start") exec aws ec2 start-instances >/dev/null ;;
  "vm get-instance-view") s=$(aws ec2 describe-instances --query State.Name) || exit 1; [ "$s" = stopped ] && echo PowerState/deallocated || echo PowerState/running ;;
  "vm show")
    case "$query" in
      location) echo eastus ;;
      storageProfile.osDisk.managedDisk.id) aws ec2 attached | sed -n 's|^os=|/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ghe-rg/providers/Microsoft.Compute/disks/|p' ;;
      "storageProfile.dataDisks[].name") aws ec2 attached | sed -n 's|^lun[0-9]*=||p' ;;
      *) exit 2 ;;
    esac ;;
  "vm update") new=$(flag --os-disk "$@"); old=$(aws ec2 attached | sed -n 's|^os=||p')
    { [ -z "$old" ] || aws ec2 detach-volume --volume-id "$old" >/dev/null; } && exec aws ec2 attach-volume --volume-id "${new##*/}" --device os >/dev/null ;;
  "vm disk-detach") exec aws ec2 detach-volume --volume-id "$(flag --name "$@")" >/dev/null ;;
  "vm disk-attach") new=$(flag --name "$@"); exec aws ec2 attach-volume --volume-id "${new##*/}" --device lun0 >/dev/null ;;
  "disk show") id=$(flag --ids "$@")
    snap=$(aws ec2 describe-volumes --volume-ids "${id##*/}" --query SnapshotId 2>/dev/null) || { echo "ERROR: (ResourceNotFound) The Resource '${id##*/}' was not found." >&2; exit 3; }
    [ "$query" = creationData.sourceResourceId ] && echo "$snap"; exit 0 ;;
  "disk create") exec aws ec2 create-volume --name "$(flag --name "$@")" --snapshot-id "$(flag --source "$@")" >/dev/null ;;
  *) echo "az stub: $group $op" >&2; exit 2 ;;
esac
"#;

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
        "ghe-repl-setup",
        "#!/bin/bash\n[ -n \"${1:-}\" ] || exit 1\nexit 0\n",
    ),
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
