//! GHES rollback plans, as GitHub documents them ("Restoring from a failed upgrade"):
//! - patch release: stop replication, `ghe-upgrade --allow-patch-rollback` with the full
//!   `.pkg` of the old patch (never a hotpatch `.hpkg`), reboot, restart replication, verify;
//! - feature release: restore the VM snapshot taken before the upgrade (root and data stay
//!   consistent), worded for the platform, then bring the replicas back;
//! - HA with a replica still on the old version: promoting it is the alternative.
//!
//! Every command on an appliance is one complete `ssh -p 122 admin@HOST -- '…'`, pasteable on
//! a jump host, built from [`sh!`] templates: host names (checked as RFC 1123 names or IP
//! addresses when the facts were screened) are quoted words, and inside the remote command
//! they are quoted once more for the appliance's shell. Host names come from the Manage API,
//! else the `--ghes` URL, else a shell variable an earlier command sets (and checks); no
//! command asks anything of a primary that is down.

mod gates;
mod vm_restore;

use super::Ghes;
use super::derive::GhesDerived;
use crate::model::facts::Bundle;
use crate::model::plan::{Line, Name, Plan, PlanKind, Step, Word, sh};
use crate::model::upgrade::Mode;
use gates::{
    drift_step, replication_comes_up, replication_ok, ssh_wait, version_check, version_polled,
};

/// A host as commands name it: a name from the facts, or the shell variable an earlier
/// command of the plan sets (and checks).
#[derive(Debug, Clone)]
enum Host {
    Named(String),
    /// `$GHES_PRIMARY`, read and checked by the plan's first step.
    Asked,
}

impl Host {
    /// `admin@HOST` for ssh, the name quoted (or the variable, which must be set).
    fn login(&self) -> Line {
        match self {
            Self::Named(name) => sh!("admin@{}", Word::quote(name)),
            Self::Asked => sh!("admin@\"${GHES_PRIMARY:?}\""),
        }
    }

    /// How titles and `run_on` name it.
    fn label(&self) -> &str {
        match self {
            Self::Named(name) => name,
            Self::Asked => "$GHES_PRIMARY",
        }
    }
}

/// The primary as commands name it, and whether it answered.
struct Primary {
    host: Host,
    /// The step that sets `$GHES_PRIMARY`, when no name is known.
    naming_step: Option<Step>,
    /// The Manage API answered: commands may run on the primary before the restore.
    up: bool,
}

impl Primary {
    fn of(bundle: &Bundle<Ghes>, d: &GhesDerived) -> Self {
        let up = bundle.facts.as_ref().is_some_and(|f| f.versions.is_some());
        let named = d
            .primary
            .clone()
            .or_else(|| bundle.target.host())
            .filter(|h| crate::model::names::hostname(h).is_ok());
        match named {
            Some(host) => Self {
                host: Host::Named(host),
                naming_step: None,
                up,
            },
            None => Self {
                host: Host::Asked,
                naming_step: Some(Step {
                    id: "name-primary".into(),
                    check: Vec::new(),
                    verify: Vec::new(),
                    on_failure: String::new(),
                    every_run: false,
                    title: "Name the primary (the Manage API did not answer, so its host name is not in the facts)".into(),
                    run_on: "this shell".into(),
                    // Checked as it is read: only a host name's characters may reach the
                    // commands below, which stop on an empty value (`${GHES_PRIMARY:?}`).
                    commands: vec![sh!(
                        "[ -n \"${GHES_PRIMARY:-}\" ] || read -r -p 'Host name of the GHES primary: ' GHES_PRIMARY; case \"$GHES_PRIMARY\" in ''|-*|*[!A-Za-z0-9.:-]*) echo \"not a host name: $GHES_PRIMARY\" >&2; GHES_PRIMARY=; false;; esac && export GHES_PRIMARY"
                    )],
                    request: None,
                }),
                up,
            },
        }
    }
}

/// `ssh -p 122 admin@HOST -- 'COMMAND'`: the whole command runs on the appliance.
fn ssh(host: &Host, command: &Line) -> Line {
    sh!("ssh -p 122 {} -- {}", host.login(), Word::line(command))
}

/// A replica by the name the facts give it.
fn named(host: &str) -> Host {
    Host::Named(host.to_string())
}

/// Builds the plan (rollback, or "if this upgrade fails" in preflight).
pub(crate) fn plan(bundle: &Bundle<Ghes>, d: &GhesDerived) -> Plan {
    let lead = match d.mode {
        Mode::Rollback => "",
        Mode::Preflight => "If this upgrade fails: ",
    };
    let (Some(from), Some(to)) = (d.upgrade.from.as_deref(), d.upgrade.to.as_deref()) else {
        let missing = if d.upgrade.from.is_none() {
            (
                "the version to go back to",
                "--from",
                &d.upgrade.from_source,
            )
        } else {
            ("the failed version", "--to", &d.upgrade.to_source)
        };
        return Plan {
            title: format!("{lead}No plan: {} is unknown", missing.0),
            headline: format!(
                "No plan yet: {} is unknown ({}); pass {} VERSION",
                missing.0, missing.2, missing.1
            ),
            ..Plan::default()
        };
    };
    let primary = Primary::of(bundle, d);
    let roll = if lead.is_empty() { "Roll" } else { "roll" };
    let mut plan = Plan::default();
    plan.steps.extend(primary.naming_step.clone());
    plan.steps.extend(drift_step(bundle));
    match d.upgrade.kind.as_str() {
        "patch" => {
            plan.title =
                format!("{lead}{roll} GHES from {to} back to {from} (patch release: in place)");
            plan.headline = format!(
                "Rollback possible in place: ghe-upgrade --allow-patch-rollback with the full {from} package on every node on {to}, then reboot"
            );
            patch_steps(d, from, to, &primary, &mut plan);
        }
        "feature" => {
            plan.title = format!(
                "{lead}{roll} GHES from {to} back to {from} (feature release: restore the VM snapshot)"
            );
            feature_steps(d, from, &primary, bundle.operator.vm.as_deref(), &mut plan);
        }
        _ => {
            plan.title = format!("{lead}{roll} GHES from {to} back to {from}");
            plan.headline = format!(
                "No plan yet: whether {from} -> {to} is a patch or a feature release is unknown"
            );
            plan.warnings.push(format!(
                "the rollback depends on whether {from} -> {to} is a patch or a feature release; give both versions (--from, --to)"
            ));
        }
    }
    if let Some(replica) = &d.promotable_replica {
        let promotion = promote(replica, from, &primary);
        if d.upgrade.kind == "feature" && d.vm_snapshot.usable_id().is_none() {
            // No VM snapshot recorded: promoting the replica is the way back the facts show;
            // searching the platform for an unrecorded snapshot is the alternative.
            let search = Plan {
                title: "Alternative: restore a VM snapshot of the primary taken before the upgrade, if the platform holds one".into(),
                steps: std::mem::take(&mut plan.steps),
                warnings: std::mem::take(&mut plan.warnings),
                ..Plan::default()
            };
            plan.title = format!(
                "{lead}{roll} GHES from {to} back to {from} (feature release: promote replica {replica})"
            );
            plan.steps = primary
                .naming_step
                .clone()
                .into_iter()
                .chain(promotion.steps)
                .collect();
            plan.warnings = promotion.warnings;
            plan.alternatives.push(search);
        } else {
            plan.alternatives.push(promotion);
        }
    }
    if d.topology.as_deref() == Some("Cluster") {
        // The standalone/HA procedures above would be wrong here: say so instead.
        plan.kind = PlanKind::NoWayBack;
        plan.title = format!("{lead}No documented way back for a GHES cluster from {to} to {from}");
        plan.headline = "No documented way back: this is a cluster, and GitHub documents no rollback procedure for clusters (they have their own upgrade guide); contact GitHub Support before changing anything".into();
        plan.steps.clear();
        plan.alternatives.clear();
        plan.warnings = vec![
            "the standalone and high-availability rollback procedures do not apply to a cluster"
                .into(),
        ];
    }
    if d.mode == Mode::Preflight {
        plan.headline = crate::model::plan::if_it_fails(&plan.headline);
    }
    plan
}

fn replica_hosts(d: &GhesDerived) -> Vec<String> {
    d.replicas.iter().map(|r| r.hostname.clone()).collect()
}

/// Stop or start replication: `ghe-repl-<verb>-all` on the primary where both ends have it
/// (3.14+) and the primary answers, else `ghe-repl-<verb>` on each replica.
fn replication_step(
    d: &GhesDerived,
    primary: &Primary,
    verb: &str,
    after_restore: bool,
) -> Option<Step> {
    let replicas = replica_hosts(d);
    if replicas.is_empty() {
        return None;
    }
    let what = match verb {
        "stop" => format!("Stop replication ({})", replicas.join(", ")),
        _ => format!("Restart replication ({})", replicas.join(", ")),
    };
    let primary_usable = primary.up || after_restore;
    let verify: Vec<Line> = match verb {
        "start" => replicas
            .iter()
            .map(|r| replication_comes_up(&named(r)))
            .collect(),
        _ => Vec::new(),
    };
    let on_failure = match verb {
        "start" => "replication does not come up: ghe-repl-status -vv on the replica names the stream; fix it before taking the instance out of maintenance mode".to_string(),
        _ => "replication could not be stopped: stop it on each replica (ghe-repl-stop) before changing the primary".to_string(),
    };
    if d.repl_all_commands && primary_usable {
        Some(Step {
            every_run: false,
            id: format!("replication-{verb}"),
            check: Vec::new(),
            verify,
            on_failure,
            title: format!("{what} with ghe-repl-{verb}-all on the primary"),
            run_on: primary.host.label().to_string(),
            commands: vec![ssh(
                &primary.host,
                &match verb {
                    "stop" => sh!("ghe-repl-stop-all"),
                    _ => sh!("ghe-repl-start-all"),
                },
            )],
            request: None,
        })
    } else {
        let why = if !primary_usable {
            " (the primary does not answer)"
        } else {
            " (ghe-repl-{verb}-all needs 3.14+ on both ends)"
        };
        Some(Step {
            every_run: false,
            id: format!("replication-{verb}"),
            check: Vec::new(),
            verify,
            on_failure,
            title: format!(
                "{what} with ghe-repl-{verb} on each replica{}",
                why.replace("{verb}", verb)
            ),
            run_on: replicas.join(", "),
            commands: replicas
                .iter()
                .map(|r| {
                    let command = match verb {
                        "stop" => sh!("ghe-repl-stop"),
                        _ => sh!("ghe-repl-start"),
                    };
                    ssh(&named(r), &command)
                })
                .collect(),
            request: None,
        })
    }
}

/// The full upgrade package of `from`, as the remote command names it. The platform names the
/// package; when unknown, a variable set (and checked) by a `read` command does.
struct Package {
    /// `github-enterprise-ami-3.17.8.pkg`, for titles.
    file: String,
    /// The file as a command names it.
    file_word: Line,
    /// The command that downloads it on the appliance.
    download: Line,
    /// `ghe-upgrade -y --allow-patch-rollback FILE`.
    rollback: Line,
    /// The `read` of the platform, when the facts do not name it.
    ask: Option<Line>,
}

fn package(d: &GhesDerived, from: &str) -> Package {
    match d
        .platform
        .as_deref()
        .filter(|p| super::platform_name(p).is_some())
    {
        Some(platform) => {
            let file = format!("github-enterprise-{platform}-{from}.pkg");
            let url =
                format!("https://github-enterprise.s3.amazonaws.com/{platform}/updates/{file}");
            Package {
                download: sh!("curl -fL -O {}", Word::quote(&url)),
                rollback: sh!(
                    "ghe-upgrade -y --allow-patch-rollback {}",
                    Word::quote(&file)
                ),
                file_word: sh!("{}", Word::quote(&file)),
                file,
                ask: None,
            }
        }
        None => {
            // The platform is read here and checked against the six names, so only one of
            // them can reach the appliance; an empty value stops the command (`:?`).
            let release = Word::quote(from);
            Package {
                file: format!("github-enterprise-${{GHES_PLATFORM}}-{from}.pkg"),
                download: sh!(
                    "curl -fL -O https://github-enterprise.s3.amazonaws.com/\"$GHES_PLATFORM\"/updates/github-enterprise-\"$GHES_PLATFORM\"-{}.pkg",
                    release
                ),
                rollback: sh!(
                    "ghe-upgrade -y --allow-patch-rollback github-enterprise-\"$GHES_PLATFORM\"-{}.pkg",
                    release.clone()
                ),
                file_word: sh!("github-enterprise-\"$GHES_PLATFORM\"-{}.pkg", release),
                ask: Some(sh!(
                    "[ -n \"${GHES_PLATFORM:-}\" ] || read -r -p 'Platform of the appliance (esx, hyperv, kvm, ami, azure, gce): ' GHES_PLATFORM; case \"$GHES_PLATFORM\" in esx|hyperv|kvm|ami|azure|gce) ;; *) echo \"not a platform: $GHES_PLATFORM\" >&2; GHES_PLATFORM=; false;; esac"
                )),
            }
        }
    }
}

/// A variable of this shell that a remote command reads, checked when it was read (one of
/// six platform names; a host name's characters), so its value is safe for the far shell.
#[derive(Debug, Clone, Copy)]
enum Passed {
    Platform,
    Primary,
}

/// `ssh … -- "VAR=$VAR; "'COMMAND'`: the checked value is set on the far side (expanded
/// here, stopping on an empty one), and the command, quoted as one word, reads it there.
fn ssh_passing(host: &Host, passed: Option<Passed>, command: &Line) -> Line {
    let remote = Word::line(command);
    match passed {
        None => ssh(host, command),
        Some(Passed::Platform) => sh!(
            "ssh -p 122 {} -- \"GHES_PLATFORM=${GHES_PLATFORM:?}; \"{}",
            host.login(),
            remote
        ),
        Some(Passed::Primary) => sh!(
            "ssh -p 122 {} -- \"GHES_PRIMARY=${GHES_PRIMARY:?}; \"{}",
            host.login(),
            remote
        ),
    }
}

fn patch_steps(d: &GhesDerived, from: &str, to: &str, primary: &Primary, plan: &mut Plan) {
    let pkg = package(d, from);
    let passed = pkg.ask.is_some().then_some(Passed::Platform);
    plan.steps
        .extend(replication_step(d, primary, "stop", false));
    let upgraded: Vec<String> = d
        .replicas
        .iter()
        .filter(|r| crate::base::version::same_release(&r.version, to).unwrap_or(false))
        .map(|r| r.hostname.clone())
        .collect();
    if let Some(ask) = &pkg.ask {
        plan.steps.push(Step::setup(
            "choose-platform",
            "Name the appliance's platform (GHES_PLATFORM): it names the upgrade package",
            "this shell",
            vec![ask.clone()],
        ));
    }
    let mut nodes = vec![(primary.host.clone(), "primary".to_string())];
    nodes.extend(upgraded.iter().map(|r| (named(r), format!("replica {r}"))));
    for (index, (host, role)) in nodes.iter().enumerate() {
        let suffix = match index {
            0 => String::new(),
            _ => format!("-{}", host.label()),
        };
        let fetch = vec![ssh_passing(host, passed, &pkg.download)];
        let there = ssh_passing(host, passed, &sh!("test -s {}", pkg.file_word.clone()));
        plan.steps.push(Step {
            id: format!("download-package{suffix}"),
            title: format!(
                "Download the full upgrade package of {from} ({}) to the {role}; a hotpatch .hpkg cannot roll back",
                pkg.file
            ),
            run_on: host.label().to_string(),
            commands: fetch,
            verify: vec![there.clone()],
            on_failure: format!(
                "the package is not on the {role}: check the appliance reaches github-enterprise.s3.amazonaws.com (or copy the file there with scp -P 122), then run again; nothing was changed"
            ),
            ..Step::default()
        });
        plan.steps.push(Step {
            id: format!("downgrade{suffix}"),
            title: format!(
                "Roll the {role} back to {from} (ghe-upgrade -y answers its confirmation)"
            ),
            run_on: host.label().to_string(),
            check: vec![version_check(host, to), there],
            commands: vec![ssh_passing(host, passed, &pkg.rollback)],
            on_failure: format!(
                "ghe-upgrade failed on the {role}: read its output and /data/user/common/ghe-upgrade.log there; do not reboot until it succeeds"
            ),
            ..Step::default()
        });
        plan.steps
            .push(reboot_step(host, role, from, &suffix, index + 1));
    }
    plan.steps
        .extend(replication_step(d, primary, "start", true));
    plan.steps.push(verify(d, from, primary));
    plan.steps.push(leave_maintenance(primary));
    plan.warnings.push(
        "rolling back a patch release does not touch the data partition (patch releases run no migrations)".into(),
    );
}

/// Reboot a node after `ghe-upgrade`, and wait, within the runbook's wait, until it answers
/// with a new boot id (so the answer is not the old system's last breath) and `from`.
fn reboot_step(host: &Host, role: &str, from: &str, suffix: &str, n: usize) -> Step {
    let Some(boot) = Name::new(&format!("GHES_BOOT_ID_{n}")) else {
        return Step::by_hand(format!("Reboot the {role}"), host.label());
    };
    let read_boot = ssh(host, &sh!("cat /proc/sys/kernel/random/boot_id"));
    Step {
        id: format!("reboot{suffix}"),
        title: format!(
            "Reboot the {role} (required after the rollback) and wait until it answers again on {from}"
        ),
        run_on: host.label().to_string(),
        check: vec![sh!(
            "{}=$({}) && [ -n \"${}\" ] && echo \"boot id before the reboot: ${}\"   # read by this step's wait (one shell)",
            boot.clone(),
            read_boot,
            boot.clone(),
            boot.clone()
        )],
        commands: vec![sh!(
            "{} || true   # the connection drops as it reboots: the wait below says whether it did",
            ssh(host, &sh!("sudo reboot"))
        )],
        verify: vec![
            sh!(
                "ok=no; deadline=$((SECONDS + ${RIPCORD_RUNBOOK_WAIT:-1800})); while [ \"$SECONDS\" -lt \"$deadline\" ]; do boot=$({} 2>/dev/null) || boot=; if [ -n \"$boot\" ] && [ \"$boot\" != \"${}\" ]; then ok=yes; break; fi; sleep 3; done; if [ \"$ok\" = yes ]; then echo {}; else echo {}\"${RIPCORD_RUNBOOK_WAIT:-1800} s\" >&2; false; fi",
                ssh_wait(host, &sh!("cat /proc/sys/kernel/random/boot_id")),
                boot,
                Word::quote(&format!("{} is back (a new boot)", host.label())),
                Word::quote(&format!(
                    "{} did not come back from its reboot within ",
                    host.label()
                ))
            ),
            version_check(host, from),
        ],
        on_failure: format!(
            "the {role} is not back on {from}: check its console and ghe-upgrade's log; once it answers on {from}, run this runbook again (it reboots the node once more, then goes on)"
        ),
        ..Step::default()
    }
}

fn snapshot_wording(platform: Option<&str>, snapshot: &str) -> (String, String) {
    match platform {
        Some("ami") => (
            format!("Restore the EBS disk snapshots {snapshot} of the root and data volumes"),
            "AWS: stop the instance, create volumes from the root and data snapshots, swap them in (same device names), start".into(),
        ),
        Some("gce") => (
            format!("Restore the disk snapshots {snapshot} of the root and data disks"),
            "Google Cloud: stop the VM, create disks from the root and data snapshots, attach them in place of the current ones, start".into(),
        ),
        Some("azure") => (
            format!("Restore the VM snapshot {snapshot}"),
            "Azure: stop the VM, create managed disks from the snapshot, swap the OS and data disks, start".into(),
        ),
        Some("hyperv") => (
            format!("Apply the checkpoint {snapshot}"),
            format!("Hyper-V: with the VM powered off, Restore-VMCheckpoint -Name {} on the primary's VM, then start it", Word::quote(snapshot).as_str()),
        ),
        Some("esx") => (
            format!("Revert to the VM snapshot {snapshot}"),
            format!("VMware: revert the VM to snapshot {} (vSphere: Snapshots > Revert), then power on", Word::quote(snapshot).as_str()),
        ),
        Some("kvm") => (
            format!("Restore the root and data disks from {snapshot}"),
            "KVM: power off, restore the root and the data disk images from the snapshot taken together, power on".into(),
        ),
        _ => (
            format!("Restore the VM snapshot {snapshot}"),
            "restore the snapshot with the hypervisor's tools (pass --platform for exact wording)".into(),
        ),
    }
}

fn feature_steps(
    d: &GhesDerived,
    from: &str,
    primary: &Primary,
    vm: Option<&str>,
    plan: &mut Plan,
) {
    plan.steps
        .extend(replication_step(d, primary, "stop", false));
    let alternative = d
        .promotable_replica
        .as_ref()
        .map(|r| format!(", or promote replica {r} (still on {from})"))
        .unwrap_or_default();
    match d.vm_snapshot.usable_id() {
        Some(snapshot) => {
            let (title, mut how) = snapshot_wording(d.platform.as_deref(), snapshot);
            if let Some(set) = d.vm_snapshot.disk_set() {
                how = format!("{how}; the platform lists them as complete: {set}");
            }
            let taken = d
                .vm_snapshot
                .taken_at
                .map(|t| format!(" (taken {t})"))
                .unwrap_or_default();
            plan.headline = format!(
                "Rollback possible: restore the VM snapshot {snapshot}{taken} of the primary{alternative}"
            );
            // The platform's CLI, where the platform verified every disk's snapshot.
            let verified = d.vm_snapshot.source.as_deref() == Some("platform");
            let volumes = &d.vm_snapshot.volumes;
            let cli =
                match d.platform.as_deref().filter(|_| verified) {
                    Some("ami") => vm_restore::AwsRestore::of(vm, volumes)
                        .map(|r| r.steps(&primary.host, from)),
                    Some("gce") => vm_restore::GceRestore::of(vm, volumes)
                        .map(|r| r.steps(&primary.host, from)),
                    Some("azure") => vm_restore::AzureRestore::of(vm, volumes)
                        .map(|r| r.steps(&primary.host, from)),
                    _ => None,
                };
            match cli {
                Some(steps) => plan.steps.extend(steps),
                None => plan.steps.push(Step {
                    id: "restore-vm-snapshot".into(),
                    title: format!(
                        "By hand: {title} of the primary {} so root and data partitions stay consistent; {how}",
                        primary.host.label()
                    ),
                    run_on: "the hypervisor or cloud console".into(),
                    verify: vec![version_polled(&primary.host, from)],
                    on_failure: format!(
                        "the appliance does not answer on {from}: check the VM's console; restore the snapshot again if it booted the upgraded disks"
                    ),
                    ..Step::default()
                }),
            }
        }
        None => {
            plan.headline = match (&d.promotable_replica, &d.vm_snapshot.problem) {
                (Some(replica), None) => format!(
                    "Rollback possible by promoting replica {replica} (still on {from}): no VM snapshot of the primary was recorded (--vm-snapshot), the only other way back from a feature release"
                ),
                (Some(replica), Some(problem)) => format!(
                    "Rollback possible by promoting replica {replica} (still on {from}): the platform contradicts the VM snapshot, the only other way back from a feature release: {problem}"
                ),
                (None, None) => "No recorded way back: a feature release rolls back only by restoring a VM snapshot of the primary taken before the upgrade, and none was recorded (--vm-snapshot)".to_string(),
                (None, Some(problem)) => format!(
                    "No verified way back: a feature release rolls back only by restoring a VM snapshot of the primary taken before the upgrade, and the platform shows none usable: {problem}"
                ),
            };
            if d.promotable_replica.is_none() {
                plan.kind = PlanKind::NoWayBack;
            }
            plan.steps.push(Step {
                id: "restore-vm-snapshot".into(),
                check: Vec::new(),
                verify: Vec::new(),
                on_failure: String::new(),
                every_run: false,
                title: format!(
                    "Restore the VM snapshot of the primary {} (root and data volumes) taken before the upgrade: none was recorded, so find it in the hypervisor or cloud console; if none exists there is no way back",
                    primary.host.label()
                ),
                run_on: "the hypervisor or cloud console".into(),
                commands: vec![],
                request: None,
            });
        }
    }
    if !d.replicas.is_empty() {
        let (on_from, other): (Vec<_>, Vec<_>) = d
            .replicas
            .iter()
            .partition(|r| crate::base::version::same_release(&r.version, from).unwrap_or(false));
        // The primary's name is quoted for the replica's shell inside the remote command, which
        // is quoted again for this one; `$GHES_PRIMARY` is expanded here, checked when read.
        let setup = match &primary.host {
            Host::Named(name) => sh!("ghe-repl-setup {} && ghe-repl-start", Word::quote(name)),
            Host::Asked => sh!("ghe-repl-setup \"$GHES_PRIMARY\" && ghe-repl-start"),
        };
        let commands: Vec<Line> = on_from
            .iter()
            .map(|r| match &primary.host {
                Host::Named(_) => ssh(&named(&r.hostname), &setup),
                Host::Asked => ssh_passing(&named(&r.hostname), Some(Passed::Primary), &setup),
            })
            .collect();
        let mut title = String::new();
        if !on_from.is_empty() {
            title.push_str(&format!(
                "Set replication up again from the restored primary on {} (still on {from})",
                on_from
                    .iter()
                    .map(|r| r.hostname.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !other.is_empty() {
            if !title.is_empty() {
                title.push_str("; ");
            }
            title.push_str(&format!(
                "bring {} back on {from} first: restore its own pre-upgrade snapshot or re-create it, then ghe-repl-setup and ghe-repl-start",
                other
                    .iter()
                    .map(|r| format!("{} ({})", r.hostname, r.version))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        plan.steps.push(Step {
            id: "resume-replication".into(),
            check: Vec::new(),
            // Only the replicas set up here are waited for; the others are by hand.
            verify: on_from
                .iter()
                .map(|r| replication_comes_up(&named(&r.hostname)))
                .collect(),
            on_failure: "replication does not come up: ghe-repl-status -vv on the replica names the stream; fix it before taking the instance out of maintenance mode".into(),
            every_run: false,
            title,
            run_on: replica_hosts(d).join(", "),
            commands,
            request: None,
        });
    }
    plan.steps.push(verify(d, from, primary));
    plan.steps.push(leave_maintenance(primary));
    match (d.vm_snapshot.usable_id(), d.vm_snapshot.taken_at) {
        (Some(_), Some(t)) => plan.warnings.push(format!(
            "everything written to GHES after {t} (the VM snapshot) is lost"
        )),
        (Some(_), None) => plan.warnings.push("no VM snapshot time recorded: everything after the snapshot is lost; record it with --vm-snapshot-taken-at".into()),
        (None, _) => plan.warnings.push("record the VM snapshot before an upgrade with --vm-snapshot ID --vm-snapshot-taken-at TIME, so the plan names it".into()),
    }
}

/// The instance comes back in maintenance mode (the upgrade, or the snapshot taken in it).
fn leave_maintenance(primary: &Primary) -> Step {
    Step {
        every_run: false,
        id: "leave-maintenance".into(),
        check: Vec::new(),
        verify: Vec::new(),
        on_failure: "ghe-maintenance -u refused: a configuration run may still be in progress after the reboot (ghe-config-apply); wait for it, then run again".into(),
        title: "Once verified, take the instance out of maintenance mode".into(),
        run_on: primary.host.label().to_string(),
        commands: vec![ssh(&primary.host, &sh!("ghe-maintenance -u"))],
        request: None,
    }
}

fn verify(d: &GhesDerived, from: &str, primary: &Primary) -> Step {
    let mut check = vec![version_check(&primary.host, from)];
    for r in replica_hosts(d) {
        check.push(version_check(&named(&r), from));
        check.push(replication_ok(&named(&r)));
    }
    Step {
        id: "verify-versions".into(),
        title: if d.replicas.is_empty() {
            format!("Verify: the instance reports {from}")
        } else {
            format!("Verify: every node reports {from}, replication OK")
        },
        run_on: "this shell".into(),
        check,
        on_failure: format!(
            "a node is not on {from} or replication is not OK: fix that (ghe-repl-status -vv names the stream) before taking the instance out of maintenance mode"
        ),
        ..Step::default()
    }
}

fn promote(replica: &str, from: &str, primary: &Primary) -> Plan {
    let (fence_title, fence) = if primary.up {
        (
            format!(
                "Put the primary {} in maintenance mode first, so nothing writes to it (or power it off)",
                primary.host.label()
            ),
            vec![ssh(&primary.host, &sh!("ghe-maintenance -s"))],
        )
    } else {
        (
            format!(
                "Make sure the primary {} stays down (power it off) so it cannot come back as a second primary",
                primary.host.label()
            ),
            vec![],
        )
    };
    Plan {
        title: format!("Alternative: promote replica {replica} (still on {from}) to primary"),
        steps: vec![
            Step {
                id: "fence-primary".into(),
                check: Vec::new(),
                verify: Vec::new(),
                on_failure: String::new(),
                every_run: false,
                title: fence_title,
                run_on: primary.host.label().to_string(),
                commands: fence,
                request: None,
            },
            Step {
                id: "promote-replica".into(),
                check: Vec::new(),
                verify: Vec::new(),
                on_failure: String::new(),
                every_run: false,
                title: format!("Promote {replica}"),
                run_on: replica.to_string(),
                commands: vec![ssh(&named(replica), &sh!("ghe-repl-promote"))],
                request: None,
            },
            Step::by_hand(
                format!("Point DNS (TTL 60 s to 5 min) or the load balancer at {replica}"),
                "DNS / load balancer",
            ),
            Step {
                id: "repoint-clients".into(),
                check: Vec::new(),
                verify: Vec::new(),
                on_failure: String::new(),
                every_run: false,
                title: format!(
                    "Build a new replica (for example {}, reinstalled on {from}) and run ghe-repl-setup {replica}, then ghe-repl-start, on it",
                    primary.host.label()
                ),
                run_on: "the new replica".into(),
                commands: vec![],
                request: None,
            },
        ],
        warnings: vec![
            "known issue: ghe-repl-promote fails when the original primary is unreachable (jq: error … Cannot index string with string \"node\"); apply GitHub's documented workaround to /usr/local/bin/ghe-repl-promote first".into(),
            format!("writes to the primary after replication stopped are not on {replica}"),
        ],
        ..Plan::default()
    }
}
