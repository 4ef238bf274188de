//! GHES rollback plans, as GitHub documents them ("Restoring from a failed upgrade"):
//! - patch release: stop replication, `ghe-upgrade --allow-patch-rollback` with the full
//!   `.pkg` of the old patch (never a hotpatch `.hpkg`), reboot, restart replication, verify;
//! - feature release: restore the VM snapshot taken before the upgrade (root and data stay
//!   consistent), worded for the platform, then bring the replicas back;
//! - HA with a replica still on the old version: promoting it is the alternative.
//!
//! Every command on an appliance is one complete `ssh -p 122 admin@HOST -- '…'`, pasteable on
//! a jump host. Host names come from the Manage API, else the `--ghes` URL, else a shell
//! variable an earlier command sets; no command asks anything of a primary that is down.

use super::Ghes;
use super::derive::GhesDerived;
use crate::facts::Bundle;
use crate::plan::{Plan, PlanKind, Step, shell_quote};
use crate::upgrade::Mode;

/// The primary as commands name it, and whether it answered.
struct Primary {
    /// A host name, or `$GHES_PRIMARY` (set by the plan's first step).
    host: String,
    /// The step that sets `$GHES_PRIMARY`, when no name is known.
    naming_step: Option<Step>,
    /// The Manage API answered: commands may run on the primary before the restore.
    up: bool,
}

impl Primary {
    fn of(bundle: &Bundle<Ghes>, d: &GhesDerived) -> Self {
        let up = bundle.facts.as_ref().is_some_and(|f| f.versions.is_some());
        match d.primary.clone().or_else(|| bundle.target.host()) {
            Some(host) => Self {
                host,
                naming_step: None,
                up,
            },
            None => Self {
                host: "$GHES_PRIMARY".into(),
                naming_step: Some(Step {
                    title: "Name the primary (the Manage API did not answer, so its host name is not in the facts)".into(),
                    run_on: "this shell".into(),
                    commands: vec![
                        "read -r -p 'Host name of the GHES primary: ' GHES_PRIMARY && export GHES_PRIMARY".into(),
                    ],
                    request: None,
                }),
                up,
            },
        }
    }
}

/// `ssh -p 122 admin@HOST -- 'COMMAND'`: the whole command runs on the appliance.
fn ssh(host: &str, command: &str) -> String {
    format!(
        "ssh -p 122 admin@{} -- {}",
        ssh_host(host),
        shell_quote(command)
    )
}

/// Like [`ssh`] with a terminal, for commands that ask for confirmation (`ghe-upgrade`).
fn ssh_tty(host: &str, command: &str) -> String {
    format!(
        "ssh -t -p 122 admin@{} -- {}",
        ssh_host(host),
        shell_quote(command)
    )
}

/// A host for `admin@HOST`: a shell variable stays expandable.
fn ssh_host(host: &str) -> String {
    if host.starts_with('$') {
        format!("\"{host}\"")
    } else {
        host.to_string()
    }
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
            feature_steps(d, from, &primary, &mut plan);
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
        plan.headline = crate::plan::if_it_fails(&plan.headline);
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
    if d.repl_all_commands && primary_usable {
        Some(Step {
            title: format!("{what} with ghe-repl-{verb}-all on the primary"),
            run_on: primary.host.clone(),
            commands: vec![ssh(&primary.host, &format!("ghe-repl-{verb}-all"))],
            request: None,
        })
    } else {
        let why = if !primary_usable {
            " (the primary does not answer)"
        } else {
            " (ghe-repl-{verb}-all needs 3.14+ on both ends)"
        };
        Some(Step {
            title: format!(
                "{what} with ghe-repl-{verb} on each replica{}",
                why.replace("{verb}", verb)
            ),
            run_on: replicas.join(", "),
            commands: replicas
                .iter()
                .map(|r| ssh(r, &format!("ghe-repl-{verb}")))
                .collect(),
            request: None,
        })
    }
}

/// The full upgrade package of `from`: its URL and file name. The platform names the package;
/// when unknown, a variable set by a `read` command does.
fn package(d: &GhesDerived, from: &str) -> (String, String, Option<String>) {
    let (platform, ask) = match &d.platform {
        Some(p) => (p.clone(), None),
        None => (
            "${GHES_PLATFORM}".to_string(),
            Some("read -r -p 'Platform of the appliance (esx, hyperv, kvm, ami, azure, gce): ' GHES_PLATFORM".to_string()),
        ),
    };
    let file = format!("github-enterprise-{platform}-{from}.pkg");
    let url = format!("https://github-enterprise.s3.amazonaws.com/{platform}/updates/{file}");
    (url, file, ask)
}

fn patch_steps(d: &GhesDerived, from: &str, to: &str, primary: &Primary, plan: &mut Plan) {
    let (url, file, ask) = package(d, from);
    plan.steps
        .extend(replication_step(d, primary, "stop", false));
    // With an unknown platform the package name holds a local variable: expand it here, on
    // this side of ssh (double quotes), and the appliance gets the full name.
    let remote = |host: &str, command: String| -> String {
        if ask.is_some() {
            format!(
                "ssh -t -p 122 admin@{} -- \"{}\"",
                ssh_host(host),
                command.replace('"', "\\\"")
            )
        } else {
            ssh_tty(host, &command)
        }
    };
    let mut fetch = Vec::new();
    fetch.extend(ask.clone());
    fetch.push(remote(&primary.host, format!("curl -fL -O {url}")));
    plan.steps.push(Step {
        title: format!(
            "Download the full upgrade package of {from} ({file}) to the primary; a hotpatch .hpkg cannot roll back"
        ),
        run_on: primary.host.clone(),
        commands: fetch,
        request: None,
    });
    plan.steps.push(Step {
        title: format!("Roll the primary back to {from} (ghe-upgrade asks for confirmation)"),
        run_on: primary.host.clone(),
        commands: vec![remote(
            &primary.host,
            format!("ghe-upgrade --allow-patch-rollback {file}"),
        )],
        request: None,
    });
    plan.steps.push(Step {
        title: "Reboot the primary (required after the rollback)".into(),
        run_on: primary.host.clone(),
        commands: vec![ssh(&primary.host, "sudo reboot")],
        request: None,
    });
    let upgraded: Vec<String> = d
        .replicas
        .iter()
        .filter(|r| crate::version::same_release(&r.version, to).unwrap_or(false))
        .map(|r| r.hostname.clone())
        .collect();
    if !upgraded.is_empty() {
        plan.steps.push(Step {
            title: format!("Roll back the replicas already on {to} the same way, one at a time"),
            run_on: upgraded.join(", "),
            commands: upgraded
                .iter()
                .flat_map(|r| {
                    [
                        remote(
                            r,
                            format!(
                                "curl -fL -O {url} && ghe-upgrade --allow-patch-rollback {file}"
                            ),
                        ),
                        ssh(r, "sudo reboot"),
                    ]
                })
                .collect(),
            request: None,
        });
    }
    plan.steps
        .extend(replication_step(d, primary, "start", true));
    plan.steps.push(verify(d, from, primary));
    plan.steps.push(leave_maintenance(primary));
    plan.warnings.push(
        "rolling back a patch release does not touch the data partition (patch releases run no migrations)".into(),
    );
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
            format!("Hyper-V: with the VM powered off, Restore-VMCheckpoint -Name {} on the primary's VM, then start it", shell_quote(snapshot)),
        ),
        Some("esx") => (
            format!("Revert to the VM snapshot {snapshot}"),
            format!("VMware: revert the VM to snapshot {} (vSphere: Snapshots > Revert), then power on", shell_quote(snapshot)),
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

fn feature_steps(d: &GhesDerived, from: &str, primary: &Primary, plan: &mut Plan) {
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
            plan.steps.push(Step {
                title: format!(
                    "{title} of the primary {} so root and data partitions stay consistent; {how}",
                    primary.host
                ),
                run_on: "the hypervisor or cloud console".into(),
                commands: vec![],
                request: None,
            });
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
                title: format!(
                    "Restore the VM snapshot of the primary {} (root and data volumes) taken before the upgrade: none was recorded, so find it in the hypervisor or cloud console; if none exists there is no way back",
                    primary.host
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
            .partition(|r| crate::version::same_release(&r.version, from).unwrap_or(false));
        let mut commands: Vec<String> = on_from
            .iter()
            .map(|r| {
                ssh(
                    &r.hostname,
                    &format!("ghe-repl-setup {} && ghe-repl-start", primary.host),
                )
            })
            .collect();
        if primary.host.starts_with('$') {
            // The primary's name is local: expand it on this side.
            commands = on_from
                .iter()
                .map(|r| {
                    format!(
                        "ssh -p 122 admin@{} -- \"ghe-repl-setup $GHES_PRIMARY && ghe-repl-start\"",
                        r.hostname
                    )
                })
                .collect();
        }
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
        title: "Once verified, take the instance out of maintenance mode".into(),
        run_on: primary.host.clone(),
        commands: vec![ssh(&primary.host, "ghe-maintenance -u")],
        request: None,
    }
}

fn verify(d: &GhesDerived, from: &str, primary: &Primary) -> Step {
    let mut commands = vec![format!(
        "{}   # expect {from}",
        ssh(&primary.host, "ghe-version")
    )];
    for r in replica_hosts(d) {
        commands.push(format!("{}   # expect OK", ssh(&r, "ghe-repl-status")));
    }
    Step {
        title: if d.replicas.is_empty() {
            format!("Verify: the instance reports {from}")
        } else {
            format!("Verify: every node reports {from}, replication OK")
        },
        run_on: "this shell".into(),
        commands,
        request: None,
    }
}

fn promote(replica: &str, from: &str, primary: &Primary) -> Plan {
    let (fence_title, fence) = if primary.up {
        (
            format!(
                "Put the primary {} in maintenance mode first, so nothing writes to it (or power it off)",
                primary.host
            ),
            vec![ssh(&primary.host, "ghe-maintenance -s")],
        )
    } else {
        (
            format!(
                "Make sure the primary {} stays down (power it off) so it cannot come back as a second primary",
                primary.host
            ),
            vec![],
        )
    };
    Plan {
        title: format!("Alternative: promote replica {replica} (still on {from}) to primary"),
        steps: vec![
            Step {
                title: fence_title,
                run_on: primary.host.clone(),
                commands: fence,
                request: None,
            },
            Step {
                title: format!("Promote {replica}"),
                run_on: replica.to_string(),
                commands: vec![ssh(replica, "ghe-repl-promote")],
                request: None,
            },
            Step::by_hand(
                format!("Point DNS (TTL 60 s to 5 min) or the load balancer at {replica}"),
                "DNS / load balancer",
            ),
            Step {
                title: format!(
                    "Build a new replica (for example {}, reinstalled on {from}) and run ghe-repl-setup {replica}, then ghe-repl-start, on it",
                    primary.host
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
