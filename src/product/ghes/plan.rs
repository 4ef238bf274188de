//! GHES rollback plans, as GitHub documents them ("Restoring from a failed upgrade"):
//! - patch release: stop replication, `ghe-upgrade --allow-patch-rollback` with the full
//!   `.pkg` of the old patch (never a hotpatch `.hpkg`), reboot, restart replication, verify;
//! - feature release: restore the VM snapshot taken before the upgrade (root and data stay
//!   consistent), worded for the platform, then bring the replicas back;
//! - HA with a replica still on the old version: promoting it is the alternative.

use super::derive::GhesDerived;
use crate::plan::{Plan, Step};
use crate::upgrade::Mode;

/// Builds the plan (rollback, or "if this upgrade fails" in preflight).
pub(crate) fn plan(d: &GhesDerived) -> Plan {
    let from = d
        .upgrade
        .from
        .clone()
        .unwrap_or_else(|| "<from: unknown, pass --from>".into());
    let to = d
        .upgrade
        .to
        .clone()
        .unwrap_or_else(|| "<to: unknown, pass --to>".into());
    let primary = d.primary.clone().unwrap_or_else(|| "<primary-host>".into());
    let lead = match d.mode {
        Mode::Rollback => "R",
        Mode::Preflight => "If this upgrade fails: r",
    };
    let mut plan = Plan::default();
    match d.upgrade.kind.as_str() {
        "patch" => {
            plan.title =
                format!("{lead}oll GHES back from {to} to {from} (patch release: in place)");
            patch_steps(d, &from, &primary, &mut plan);
        }
        "feature" => {
            plan.title = format!(
                "{lead}oll GHES back from {to} to {from} (feature release: restore the VM snapshot)"
            );
            feature_steps(d, &from, &primary, &mut plan);
        }
        _ => {
            plan.title = format!("{lead}oll GHES back from {to} to {from}");
            plan.warnings.push(format!(
                "the rollback depends on whether {from} -> {to} is a patch or a feature release; give both versions (--from, --to)"
            ));
        }
    }
    if d.topology.as_deref() == Some("Cluster") {
        plan.warnings.push(
            "this is a cluster: GitHub documents no rollback procedure for clusters (they have their own upgrade guide); the steps above cover standalone and HA instances only".into(),
        );
    }
    if d.primary.is_none() {
        plan.warnings.push("the primary's host name is unknown (the Manage API did not answer): replace <primary-host> in the commands".into());
    }
    if let Some(replica) = &d.promotable_replica {
        plan.alternatives.push(promote(replica, &from, &primary));
    }
    plan
}

fn replica_hosts(d: &GhesDerived) -> Vec<String> {
    d.replicas.iter().map(|r| r.hostname.clone()).collect()
}

/// Stop or start replication: `ghe-repl-<verb>-all` on the primary where both ends have it
/// (3.14+), and the per-replica command always named.
fn replication_step(d: &GhesDerived, primary: &str, verb: &str) -> Option<Step> {
    let replicas = replica_hosts(d);
    if replicas.is_empty() {
        return None;
    }
    let per_replica: Vec<String> = replicas
        .iter()
        .map(|r| format!("ssh -p 122 admin@{r} -- ghe-repl-{verb}"))
        .collect();
    let title = match verb {
        "stop" => format!("Stop replication ({})", replicas.join(", ")),
        _ => format!("Restart replication ({})", replicas.join(", ")),
    };
    if d.repl_all_commands {
        let mut commands = vec![format!("ssh -p 122 admin@{primary} -- ghe-repl-{verb}-all")];
        commands.extend(
            per_replica
                .iter()
                .map(|c| format!("# or on each replica: {c}")),
        );
        Some(Step {
            title: format!("{title} with ghe-repl-{verb}-all on the primary"),
            run_on: primary.to_string(),
            commands,
            request: None,
        })
    } else {
        Some(Step {
            title: format!(
                "{title} with ghe-repl-{verb} on each replica (ghe-repl-{verb}-all needs 3.14+ on both ends)"
            ),
            run_on: replicas.join(", "),
            commands: per_replica,
            request: None,
        })
    }
}

fn stop_replication(d: &GhesDerived, primary: &str) -> Option<Step> {
    replication_step(d, primary, "stop")
}

fn start_replication(d: &GhesDerived, primary: &str) -> Option<Step> {
    replication_step(d, primary, "start")
}

fn patch_steps(d: &GhesDerived, from: &str, primary: &str, plan: &mut Plan) {
    let platform = d
        .platform
        .clone()
        .unwrap_or_else(|| "<platform: pass --platform>".into());
    let package = format!("github-enterprise-{platform}-{from}.pkg");
    plan.steps.extend(stop_replication(d, primary));
    plan.steps.push(Step {
        title: format!("Fetch the full upgrade package of {from} ({package}); a hotpatch .hpkg cannot roll back"),
        run_on: primary.to_string(),
        commands: vec![
            format!("ssh -p 122 admin@{primary}"),
            format!("curl -L -o /var/lib/ghe-updates/{package} https://github-enterprise.s3.amazonaws.com/{platform}/updates/{package}"),
        ],
        request: None,
    });
    plan.steps.push(Step {
        title: format!("Roll the primary back to {from}"),
        run_on: primary.to_string(),
        commands: vec![format!(
            "ghe-upgrade --allow-patch-rollback /var/lib/ghe-updates/{package}"
        )],
        request: None,
    });
    plan.steps.push(Step {
        title: "Reboot the primary (required after the rollback)".into(),
        run_on: primary.to_string(),
        commands: vec!["sudo reboot".into()],
        request: None,
    });
    if !d.replicas.is_empty() {
        let to = d.upgrade.to.clone().unwrap_or_default();
        let upgraded: Vec<String> = d
            .replicas
            .iter()
            .filter(|r| crate::version::same_release(&r.version, &to).unwrap_or(false))
            .map(|r| r.hostname.clone())
            .collect();
        if !upgraded.is_empty() {
            plan.steps.push(Step {
                title: format!("Roll back the replicas already on {to} the same way"),
                run_on: upgraded.join(", "),
                commands: upgraded
                    .iter()
                    .map(|r| {
                        format!(
                            "ssh -p 122 admin@{r} -- 'curl -L -o /var/lib/ghe-updates/{package} https://github-enterprise.s3.amazonaws.com/{platform}/updates/{package} && ghe-upgrade --allow-patch-rollback /var/lib/ghe-updates/{package} && sudo reboot'"
                        )
                    })
                    .collect(),
                request: None,
            });
        }
    }
    plan.steps.extend(start_replication(d, primary));
    plan.steps.push(verify(d, from, primary));
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
            format!("Hyper-V: Restore-VMCheckpoint -Name '{snapshot}' -VMName <vm> (the VM powered off), then start it"),
        ),
        Some("esx") => (
            format!("Revert to the VM snapshot {snapshot}"),
            format!("VMware: revert the VM to snapshot '{snapshot}' (vSphere: Snapshots > Revert), then power on"),
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

fn feature_steps(d: &GhesDerived, from: &str, primary: &str, plan: &mut Plan) {
    let snapshot = d
        .vm_snapshot
        .id
        .clone()
        .unwrap_or_else(|| "<no VM snapshot recorded: pass --vm-snapshot>".into());
    let (title, how) = snapshot_wording(d.platform.as_deref(), &snapshot);
    plan.steps.extend(stop_replication(d, primary));
    plan.steps.push(Step {
        title: format!("{title} of {primary} so root and data partitions stay consistent"),
        run_on: format!("{primary} (hypervisor / cloud console)"),
        commands: vec![format!("# {how}")],
        request: None,
    });
    if !d.replicas.is_empty() {
        plan.steps.push(Step {
            title: format!("Bring the replicas back on {from}: restore their own pre-upgrade snapshots, or re-create them from the restored primary"),
            run_on: replica_hosts(d).join(", "),
            commands: replica_hosts(d)
                .iter()
                .map(|r| format!("ssh -p 122 admin@{r} -- 'ghe-repl-setup {primary} && ghe-repl-start'   # only if {r} runs {from}"))
                .collect(),
            request: None,
        });
    }
    plan.steps.push(verify(d, from, primary));
    if let Some(t) = d.vm_snapshot.taken_at {
        plan.warnings.push(format!(
            "everything written to GHES after {t} (the VM snapshot) is lost"
        ));
    } else {
        plan.warnings.push("no VM snapshot time recorded: everything after the snapshot is lost; record it with --vm-snapshot-taken-at".into());
    }
}

fn verify(d: &GhesDerived, from: &str, primary: &str) -> Step {
    let mut commands = vec![format!(
        "ssh -p 122 admin@{primary} -- ghe-version   # expect {from}"
    )];
    for r in replica_hosts(d) {
        commands.push(format!(
            "ssh -p 122 admin@{r} -- ghe-repl-status   # expect OK"
        ));
    }
    Step {
        title: format!("Verify: every node reports {from}, replication OK"),
        run_on: primary.to_string(),
        commands,
        request: None,
    }
}

fn promote(replica: &str, from: &str, primary: &str) -> Plan {
    Plan {
        title: format!("Alternative: promote replica {replica} (still on {from}) to primary"),
        steps: vec![
            Step {
                title: format!("Promote {replica}"),
                run_on: replica.to_string(),
                commands: vec![format!("ssh -p 122 admin@{replica} -- ghe-repl-promote")],
                request: None,
            },
            Step {
                title: format!("Point DNS (TTL 60 s to 5 min) or the load balancer at {replica}"),
                run_on: "DNS / load balancer".into(),
                commands: vec![],
                request: None,
            },
            Step {
                title: format!("Build a new replica (for example from {primary}, reinstalled on {from}): ghe-repl-setup, then ghe-repl-start"),
                run_on: "the new replica".into(),
                commands: vec![format!("ssh -p 122 admin@<new-replica> -- 'ghe-repl-setup {replica} && ghe-repl-start'")],
                request: None,
            },
        ],
        warnings: vec![
            "known issue: ghe-repl-promote fails when the original primary is unreachable (jq: error … Cannot index string with string \"node\"); apply GitHub's documented workaround to /usr/local/bin/ghe-repl-promote first".into(),
            format!("writes to {primary} after replication stopped are not on {replica}"),
        ],
        alternatives: vec![],
    }
}
