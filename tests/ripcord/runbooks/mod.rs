//! Runbooks (`--format runbook`, DESIGN §8), run as an operator runs them: bash, against
//! stateful loopback simulators, with stub host commands on `PATH`. Each rehearsal runs to the
//! goal state, then again with a fault injected at each gate: the run must stop at that gate
//! with a non-zero exit, run nothing dangerous after it, and a rerun after the fault is
//! cleared must reach the goal. Every scenario's runbook, and every plan's commands in order,
//! are shellcheck-clean at `-S warning`.

mod elastic_sim;
mod ghes_sim;

use crate::common::{self, Ripcord, facts_path, scenario_args};
use elastic_sim::{Fault, Stack, WRITE_KEY};
use std::path::PathBuf;
use std::process::Stdio;

/// ripcord's read-only API key in the rehearsals (the operator's is [`WRITE_KEY`]).
const READ_KEY: &str = "cmVhZC1vbmx5LWtleS1vZi1yaXBjb3Jk";

/// shellcheck's complaints about `script`, at `-S warning`; empty when clean.
fn shellcheck(script: &str) -> String {
    use std::io::Write as _;
    let mut child = std::process::Command::new("shellcheck")
        .args(["-S", "warning", "-s", "bash", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shellcheck (Debian: shellcheck; ./test.sh installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("shellcheck ran");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The runbook of `name`'s committed bundle, as its scenario evaluates it.
fn scenario_runbook(name: &str) -> String {
    let mut args = scenario_args(name);
    args.retain(|x| x != "--timeout" && x != "1");
    args.extend(["--facts".to_string(), facts_path(name)]);
    args.extend(["--format".to_string(), "runbook".to_string()]);
    let out = Ripcord::new(&args).run();
    assert!(
        out.stdout.starts_with("#!/usr/bin/env bash\n"),
        "{name}: no runbook (exit {}): {}",
        out.code,
        out.stderr
    );
    out.stdout
}

#[test]
fn every_scenario_runbook_and_plan_is_shellcheck_clean() {
    let mut dirty = Vec::new();
    for name in common::reported_scenarios() {
        let runbook = scenario_runbook(&name);
        let complaints = shellcheck(&runbook);
        if !complaints.is_empty() {
            dirty.push(format!("{name} runbook:\n{complaints}"));
        }
        // The plan as pasted: every command of every step, in order, in one shell.
        let mut args = scenario_args(&name);
        args.retain(|x| x != "--timeout" && x != "1");
        args.extend(["--facts".to_string(), facts_path(&name)]);
        args.extend(["--format".to_string(), "json".to_string()]);
        let report: serde_json::Value =
            serde_json::from_str(&Ripcord::new(&args).run().stdout).expect("json");
        let mut pasted = String::from("#!/bin/bash\n");
        let mut plans = vec![&report["plan"]];
        while let Some(plan) = plans.pop() {
            for step in plan["steps"].as_array().into_iter().flatten() {
                for key in ["check", "commands", "verify"] {
                    for c in step[key].as_array().into_iter().flatten() {
                        pasted.push_str(c.as_str().unwrap_or_default());
                        pasted.push('\n');
                    }
                }
            }
            plans.extend(plan["alternatives"].as_array().into_iter().flatten());
        }
        let complaints = shellcheck(&pasted);
        if !complaints.is_empty() {
            dirty.push(format!("{name} pasted plan:\n{complaints}"));
        }
    }
    assert!(
        dirty.is_empty(),
        "not shellcheck-clean:\n{}",
        dirty.join("\n")
    );
}

/// A planted fault is caught: the linter this test relies on sees a real warning.
#[test]
fn shellcheck_sees_a_planted_mistake() {
    assert!(shellcheck("#!/bin/bash\nrm -rf $DIR/*\n").contains("SC2115"));
}

/// A rehearsal: the runbook and where it keeps its state.
struct Rehearsal {
    dir: tempfile::TempDir,
    runbook: PathBuf,
    stubs: PathBuf,
}

/// What one run of a runbook printed and returned.
struct Run {
    code: i32,
    stderr: String,
}

impl Rehearsal {
    /// The runbook ripcord prints for the failed 8.17.3 → 8.18.0 upgrade, its bundle pointed
    /// at `stack` and recording the read-only credentials the collection used.
    fn elastic(stack: &Stack) -> Self {
        Self::elastic_scenario(stack, "failed-minor-upgrade", &[])
    }

    /// [`Rehearsal::elastic`] from scenario `name`'s bundle (the same cluster, another flavour),
    /// `extra` given to ripcord (`--flavor tar`).
    fn elastic_scenario(stack: &Stack, name: &str, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let text = std::fs::read_to_string(facts_path(name)).expect("bundle");
        let text = text
            .replace("https://es.example:9200", &stack.es_url())
            .replace("https://kb-1.example:5601", &stack.kibana_urls[0])
            .replace("https://kb-2.example:5601", &stack.kibana_urls[1]);
        let mut bundle: serde_json::Value = serde_json::from_str(&text).expect("json");
        bundle["connection"] = serde_json::json!({
            "auth": {
                "es": {"method": "api_key", "variables": ["RIPCORD_ES_API_KEY"]},
                "kibana": {"method": "basic", "variables": ["RIPCORD_KIBANA_USERNAME", "RIPCORD_KIBANA_PASSWORD"]}
            },
            "insecure": false
        });
        let bundle_path = dir.path().join("facts.json");
        std::fs::write(&bundle_path, bundle.to_string()).expect("write bundle");
        let runbook = dir.path().join("rollback.sh");
        let out = Ripcord::new(&[
            "rollback",
            "elastic",
            "--facts",
            bundle_path.to_str().expect("utf-8"),
            "--now",
            "2026-11-20T06:00:00Z",
            "--format",
            "runbook",
            "--output",
            runbook.to_str().expect("utf-8"),
        ])
        .args(extra)
        .run();
        assert!(runbook.is_file(), "no runbook: {}", out.stderr);
        let script = std::fs::read_to_string(&runbook).expect("runbook");
        assert_eq!(
            shellcheck(&script),
            "",
            "the rehearsed runbook is shellcheck-clean"
        );
        let host_bin = dir.path().join("host-bin");
        std::fs::create_dir(&host_bin).expect("host-bin");
        for (name, body) in elastic_sim::HOST_STUBS {
            write_stub(&host_bin, name, body);
        }
        let stubs = dir.path().join("bin");
        std::fs::create_dir(&stubs).expect("bin");
        for (name, body) in elastic_sim::STUBS {
            let path = stubs.join(name);
            std::fs::write(&path, body).expect("stub");
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        Self {
            dir,
            runbook,
            stubs,
        }
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Runs the runbook in bash, `args` given, no terminal, the operator's credentials set.
    async fn run(&self, stack: &Stack, args: &[&str]) -> Run {
        self.run_with_write_key(stack, args, Some(WRITE_KEY)).await
    }

    /// [`Rehearsal::run`] with `write_key` as the operator's credential (none: unset).
    async fn run_with_write_key(
        &self,
        stack: &Stack,
        args: &[&str],
        write_key: Option<&str>,
    ) -> Run {
        let path = format!(
            "{}:{}",
            self.stubs.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = tokio::process::Command::new("bash");
        command
            .arg(&self.runbook)
            .args(args)
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("SIM_CONTROL", stack.control.uri())
            .env("SIM_KIBANA_HOSTS", "127.0.0.2 127.0.0.3")
            .env("SIM_HOST_BIN", self.dir.path().join("host-bin"))
            .env("KIBANA_TAR_DIR", self.dir.path().join("opt"))
            // ECK: the Kibana resource the plan asks for, as an operator would set it.
            .env("KB_NAME", "logs")
            .env("KB_NS", "elastic")
            .env("RIPCORD_RUNBOOK_DIR", self.state_dir())
            // Kibana is polled every 2 s and bash's SECONDS counts whole seconds.
            .env("RIPCORD_RUNBOOK_WAIT", "6")
            .env("RIPCORD_ES_API_KEY", READ_KEY)
            .env_remove("RIPCORD_ES_WRITE_USERNAME")
            .env("RIPCORD_KIBANA_USERNAME", "kibana_ops")
            .env("RIPCORD_KIBANA_PASSWORD", "changeme-not-a-real-password")
            .stdin(Stdio::null());
        match write_key {
            Some(key) => command.env("RIPCORD_ES_WRITE_API_KEY", key),
            None => command.env_remove("RIPCORD_ES_WRITE_API_KEY"),
        };
        let out = command.output().await.expect("bash");
        stack.settle().await;
        Run {
            code: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// The goal: both instances on 8.17.3 and answering, the aliases back on 8.17.3, one restore
/// and it with every Kibana stopped.
fn assert_goal(stack: &Stack, run: &Run, case: &str) {
    assert_eq!(
        run.code, 0,
        "{case}: the runbook did not finish:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("every verification passed"),
        "{case}: {}",
        run.stderr
    );
    let state = stack.state.lock().expect("state");
    assert_eq!(state.aliases_version, "8.17.3", "{case}: not restored");
    for k in &state.kibana {
        assert_eq!(k.installed, "8.17.3", "{case}: {} not on 8.17.3", k.host);
        assert!(k.running, "{case}: {} not started", k.host);
    }
    assert_eq!(
        state.restores_with_kibana_up, 0,
        "{case}: restored while Kibana ran"
    );
}

/// Where a run stopped: the step its failure names.
fn stopped_at(run: &Run) -> Option<String> {
    run.stderr
        .lines()
        .find_map(|l| l.strip_prefix("STOPPED at step "))
        .and_then(|rest| rest.split(':').next())
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_elastic_runbook_gets_kibana_back_and_a_rerun_after_the_fix_finishes() {
    let stack = Stack::failed_minor_upgrade(&[]).await;
    let rehearsal = Rehearsal::elastic(&stack);

    // Without a terminal and without --yes, nothing changes.
    let run = rehearsal.run(&stack, &[]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("no terminal to confirm"),
        "{}",
        run.stderr
    );
    {
        let state = stack.state.lock().expect("state");
        assert!(state.host_calls.is_empty(), "{:?}", state.host_calls);
        assert!(state.writes.is_empty(), "{:?}", state.writes);
    }

    // No operator credential: it stops before any change; the read-only one: refused at the
    // restore's gate (`_has_privileges`), before the restore.
    let run = rehearsal.run_with_write_key(&stack, &["--yes"], None).await;
    assert_eq!(
        stopped_at(&run).as_deref(),
        Some("credentials"),
        "{}",
        run.stderr
    );
    let run = rehearsal
        .run_with_write_key(&stack, &["--yes"], Some(READ_KEY))
        .await;
    assert_eq!(
        stopped_at(&run).as_deref(),
        Some("restore-kibana-state"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("may not restore"), "{}", run.stderr);
    assert!(stack.state.lock().expect("state").writes.is_empty());

    let run = rehearsal.run(&stack, &["--yes"]).await;
    assert_goal(&stack, &run, "happy path");
    assert_eq!(
        stack.state.lock().expect("state").writes,
        ["POST /_snapshot/backups/pre-upgrade-8.17.3-2026.11.20/_restore"]
    );
    let log = std::fs::read_to_string(rehearsal.state_dir().join("log")).expect("log");
    assert!(log.contains("$ ssh "), "the log names every command");
    assert!(
        !log.contains(WRITE_KEY),
        "the log never holds the credential"
    );

    // Run again: every finished step is skipped, nothing is done twice.
    let writes = stack.state.lock().expect("state").writes.len();
    let run = rehearsal.run(&stack, &["--yes"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("finished in an earlier run: skipped"));
    assert_eq!(stack.state.lock().expect("state").writes.len(), writes);
}

/// ECK: the same rollback through the Kibana resource (`spec.count` 0, then `spec.version` and
/// the former count), to the goal and with a Kibana that keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_eck_runbook_goes_through_the_kibana_resource() {
    let stack = Stack::failed_minor_upgrade(&[]).await;
    let rehearsal = Rehearsal::elastic_scenario(&stack, "eck-failed-minor-upgrade", &[]);
    let run = rehearsal.run(&stack, &["--yes"]).await;
    assert_goal(&stack, &run, "eck");

    let stack = Stack::failed_minor_upgrade(&[Fault::KibanaKeepsAnswering]).await;
    let rehearsal = Rehearsal::elastic_scenario(&stack, "eck-failed-minor-upgrade", &[]);
    let run = rehearsal.run(&stack, &["--yes"]).await;
    assert_eq!(
        stopped_at(&run).as_deref(),
        Some("stop-kibana"),
        "{}",
        run.stderr
    );
    assert!(stack.state.lock().expect("state").writes.is_empty());
    stack.clear_faults();
    let rerun = rehearsal.run(&stack, &["--yes"]).await;
    assert_goal(&stack, &rerun, "eck, rerun");
}

/// A tar install: the running version's process stopped, the old version unpacked beside it
/// (its download checked), its config copied over, and started, on each host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tar_runbook_stops_unpacks_and_starts_each_kibana() {
    let stack = Stack::failed_minor_upgrade(&[]).await;
    let rehearsal =
        Rehearsal::elastic_scenario(&stack, "failed-minor-upgrade", &["--flavor", "tar"]);
    let opt = rehearsal.dir.path().join("opt");
    for host in ["127.0.0.2", "127.0.0.3"] {
        // What the upgrade left: the new version unpacked, configured.
        let config = opt.join(host).join("kibana-8.18.0/config");
        std::fs::create_dir_all(&config).expect("config");
        std::fs::write(config.join("kibana.yml"), "server.host: 0.0.0.0\n").expect("yml");
    }
    let run = rehearsal.run(&stack, &["--yes"]).await;
    assert_goal(&stack, &run, "tar");
    for host in ["127.0.0.2", "127.0.0.3"] {
        let yml = opt.join(host).join("kibana-8.17.3/config/kibana.yml");
        assert!(
            yml.is_file(),
            "{host}: the config was not carried over: {}",
            std::fs::read_to_string(rehearsal.state_dir().join("log")).unwrap_or_default()
        );
    }
    let stack = Stack::failed_minor_upgrade(&[Fault::PackageDownloadFails]).await;
    let rehearsal =
        Rehearsal::elastic_scenario(&stack, "failed-minor-upgrade", &["--flavor", "tar"]);
    let run = rehearsal.run(&stack, &["--yes"]).await;
    assert_eq!(
        stopped_at(&run).as_deref(),
        Some("start-kibana"),
        "{}",
        run.stderr
    );
    assert!(
        !stack
            .state
            .lock()
            .expect("state")
            .host_calls
            .iter()
            .any(|c| c.contains(" start")),
        "started without the download"
    );
}

/// Each fault at its gate: where the run stops, and what it must not have done by then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_elastic_runbook_stops_at_each_gate_and_finishes_once_the_fault_is_cleared() {
    for (fault, step, not_after) in [
        (Fault::Drift, "check-drift", "stop"),
        (Fault::KibanaKeepsAnswering, "stop-kibana", "restore"),
        (Fault::Restore500, "restore-kibana-state", "install"),
        (
            Fault::RestoreFailedShards,
            "restore-kibana-state",
            "install",
        ),
        (Fault::HealthTimesOut, "restore-kibana-state", "install"),
        (Fault::PackageDownloadFails, "start-kibana", "start"),
        (Fault::OldKibanaNeverUp, "start-kibana", "done"),
    ] {
        let case = format!("{fault:?}");
        let stack = Stack::failed_minor_upgrade(&[fault]).await;
        let rehearsal = Rehearsal::elastic(&stack);
        let run = rehearsal.run(&stack, &["--yes"]).await;
        assert_eq!(run.code, 1, "{case}: did not stop:\n{}", run.stderr);
        assert_eq!(
            stopped_at(&run).as_deref(),
            Some(step),
            "{case}: stopped elsewhere:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("What to do: "),
            "{case}: {}",
            run.stderr
        );
        {
            let state = stack.state.lock().expect("state");
            let calls = state.host_calls.join("\n");
            match not_after {
                "stop" => {
                    assert!(state.host_calls.is_empty(), "{case}: {calls}");
                    assert!(state.writes.is_empty(), "{case}: {:?}", state.writes);
                }
                "restore" => assert!(state.writes.is_empty(), "{case}: {:?}", state.writes),
                "install" => assert!(
                    !calls.contains("install") && !calls.contains("start"),
                    "{case}: went on after the failed restore: {calls}"
                ),
                "start" => assert!(!calls.contains(" start"), "{case}: started: {calls}"),
                _ => {}
            }
            assert_eq!(state.restores_with_kibana_up, 0, "{case}");
        }
        stack.clear_faults();
        let rerun = rehearsal.run(&stack, &["--yes"]).await;
        assert_goal(&stack, &rerun, &format!("{case}, rerun"));
    }
}

/// The GHES patch rollback's runbook, from `ghes-ha-patch-failure`'s bundle, and the stubs of
/// this machine (`ssh`) and of the appliances.
struct GhesRehearsal {
    dir: tempfile::TempDir,
    runbook: PathBuf,
}

fn write_stub(dir: &std::path::Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, body).expect("stub");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

impl GhesRehearsal {
    /// The runbook of scenario `name`'s committed bundle.
    fn new(name: &str) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let runbook = dir.path().join("rollback.sh");
        let mut args = scenario_args(name);
        args.extend([
            "--facts".to_string(),
            facts_path(name),
            "--format".into(),
            "runbook".into(),
            "--output".into(),
            runbook.to_str().expect("utf-8").into(),
        ]);
        let out = Ripcord::new(&args).run();
        assert!(runbook.is_file(), "no runbook: {}", out.stderr);
        let script = std::fs::read_to_string(&runbook).expect("runbook");
        assert_eq!(
            shellcheck(&script),
            "",
            "the rehearsed runbook is shellcheck-clean"
        );
        for sub in ["bin", "appliance-bin", "hosts"] {
            std::fs::create_dir(dir.path().join(sub)).expect("dir");
        }
        write_stub(&dir.path().join("bin"), "ssh", ghes_sim::SSH_STUB);
        write_stub(&dir.path().join("bin"), "aws", ghes_sim::AWS_STUB);
        write_stub(&dir.path().join("bin"), "gcloud", ghes_sim::GCLOUD_STUB);
        write_stub(&dir.path().join("bin"), "az", ghes_sim::AZ_STUB);
        for (name, body) in ghes_sim::APPLIANCE_STUBS {
            write_stub(&dir.path().join("appliance-bin"), name, body);
        }
        Self { dir, runbook }
    }

    async fn run(&self, appliances: &ghes_sim::Appliances) -> Run {
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = tokio::process::Command::new("bash")
            .arg(&self.runbook)
            .arg("--yes")
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("SIM_CONTROL", appliances.control.uri())
            .env("SIM_ROOT", self.dir.path().join("hosts"))
            .env("SIM_APPLIANCE_BIN", self.dir.path().join("appliance-bin"))
            .env("RIPCORD_RUNBOOK_DIR", self.dir.path().join("state"))
            // Polls every 3-5 s and bash's SECONDS counts whole seconds: room for two polls.
            .env("RIPCORD_RUNBOOK_WAIT", "9")
            .stdin(Stdio::null())
            .output()
            .await
            .expect("bash");
        Run {
            code: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// The goal: the primary back on 3.17.8, replication running, out of maintenance mode.
fn assert_ghes_goal(appliances: &ghes_sim::Appliances, run: &Run, case: &str) {
    assert_eq!(
        run.code, 0,
        "{case}: the runbook did not finish:\n{}",
        run.stderr
    );
    let state = appliances.state.lock().expect("state");
    let primary = &state.nodes[0];
    assert_eq!(primary.running, "3.17.8", "{case}");
    assert!(!primary.maintenance, "{case}: still in maintenance mode");
    assert!(
        state.nodes[1].replicating,
        "{case}: replication not running"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ghes_patch_runbook_rolls_back_and_stops_at_each_gate() {
    let appliances = ghes_sim::Appliances::ha_patch_failure(&[]).await;
    let rehearsal = GhesRehearsal::new("ghes-ha-patch-failure");
    let run = rehearsal.run(&appliances).await;
    assert_ghes_goal(&appliances, &run, "happy path");
    let calls = appliances.state.lock().expect("state").calls.join("\n");
    let order: Vec<usize> = [
        "ghe-primary repl-stop",
        "ghe-primary download",
        "ghe-primary upgrade",
        "ghe-primary reboot",
        "ghe-primary repl-start",
        "ghe-replica-1 repl-status",
        "ghe-primary maintenance-off",
    ]
    .iter()
    .map(|c| {
        calls
            .find(c)
            .unwrap_or_else(|| panic!("{c} never ran:\n{calls}"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "out of order:\n{calls}"
    );

    for (fault, step, never) in [
        (ghes_sim::Fault::Drift, "check-drift", "repl-stop"),
        (
            ghes_sim::Fault::PackageDownloadFails,
            "download-package",
            "upgrade",
        ),
        (ghes_sim::Fault::UpgradeFails, "downgrade", "reboot"),
        (ghes_sim::Fault::NeverComesBack, "reboot", "repl-start"),
        (
            ghes_sim::Fault::WrongVersionAfterReboot,
            "reboot",
            "repl-start",
        ),
        (
            ghes_sim::Fault::ReplicationNotOk,
            "replication-start",
            "maintenance-off",
        ),
    ] {
        let appliances = ghes_sim::Appliances::ha_patch_failure(&[fault]).await;
        assert_ghes_fault(
            &appliances,
            "ghes-ha-patch-failure",
            fault,
            step,
            never,
            true,
        )
        .await;
    }
}

/// Runs scenario `name`'s runbook against `appliances` with `fault` injected: it must stop at
/// `step` with exit 1, never having run `never` (and, for a patch rollback, with the primary
/// still in maintenance mode); then, the fault cleared, a rerun of the same runbook reaches
/// the goal, creating no second set of disks.
async fn assert_ghes_fault(
    appliances: &ghes_sim::Appliances,
    name: &str,
    fault: ghes_sim::Fault,
    step: &str,
    never: &str,
    in_maintenance: bool,
) {
    let case = format!("{fault:?}");
    let rehearsal = GhesRehearsal::new(name);
    let run = rehearsal.run(appliances).await;
    assert_eq!(run.code, 1, "{case}: did not stop:\n{}", run.stderr);
    assert_eq!(
        stopped_at(&run).as_deref(),
        Some(step),
        "{case}: stopped elsewhere:\n{}",
        run.stderr
    );
    {
        let state = appliances.state.lock().expect("state");
        assert!(
            !state.calls.iter().any(|c| c.ends_with(never)),
            "{case}: went on to {never}: {:?}",
            state.calls
        );
        assert!(
            !in_maintenance || state.nodes[0].maintenance,
            "{case}: left maintenance mode"
        );
    }
    appliances.clear_faults();
    let rerun = rehearsal.run(appliances).await;
    assert_ghes_goal(appliances, &rerun, &format!("{case}, rerun"));
    let created = appliances.state.lock().expect("state").ec2.created;
    assert!(
        created <= 2,
        "{case}: a rerun created disks again: {created}"
    );
}

/// The feature rollback from a verified EC2 snapshot set, as `aws ec2` commands against a
/// stateful EC2 behind a stub `aws`: to the goal, and stopped at each gate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ghes_vm_snapshot_runbook_restores_the_verified_volumes() {
    let appliances = ghes_sim::Appliances::aws_feature_failure(&[]).await;
    let rehearsal = GhesRehearsal::new("ghes-aws-verified");
    let run = rehearsal.run(&appliances).await;
    assert_ghes_goal(&appliances, &run, "happy path");
    {
        let state = appliances.state.lock().expect("state");
        let root = &state.ec2.attached["/dev/sda1"];
        let data = &state.ec2.attached["/dev/xvdf"];
        assert_eq!(state.ec2.volumes[root].0, "snap-0a1b2c3d4e5f60718");
        assert_eq!(state.ec2.volumes[data].0, "snap-0c2d3e4f5a6b70829");
        assert_eq!(
            state.ec2.volumes["vol-0root1234567890a"].1, "available",
            "the upgraded volume is kept, detached"
        );
    }
    for (fault, step, never) in [
        (
            ghes_sim::Fault::InstanceWontStop,
            "vm-stop",
            "aws create-volume",
        ),
        (
            ghes_sim::Fault::VolumeCreateFails,
            "vm-create-volumes",
            "aws detach-volume",
        ),
        (
            ghes_sim::Fault::NeverComesBack,
            "vm-start",
            "maintenance-off",
        ),
    ] {
        let appliances = ghes_sim::Appliances::aws_feature_failure(&[fault]).await;
        assert_ghes_fault(&appliances, "ghes-aws-verified", fault, step, never, false).await;
    }
}

/// Google Cloud and Azure: the same restore with `gcloud compute` and `az`, to the goal and
/// with a disk that cannot be created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ghes_vm_snapshot_runbook_speaks_gcloud_and_az() {
    let gce_disks: &[(&str, &str)] = &[("ghe-primary", "ghe-primary"), ("ghe-data", "ghe-data")];
    let azure_disks: &[(&str, &str)] = &[("os", "ghe-primary-os"), ("lun0", "ghe-primary-data")];
    let azure_root = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ghe-backups/providers/Microsoft.Compute/snapshots/ghe-os-pre-3-19-2";
    for (scenario, disks, root_snapshot) in [
        ("ghes-gce-verified", gce_disks, "ghe-root-pre-3-19-2"),
        ("ghes-azure-verified", azure_disks, azure_root),
    ] {
        let appliances = ghes_sim::Appliances::vm_feature_failure(&[], disks, root_snapshot).await;
        let rehearsal = GhesRehearsal::new(scenario);
        let run = rehearsal.run(&appliances).await;
        assert_ghes_goal(&appliances, &run, scenario);

        let appliances = ghes_sim::Appliances::vm_feature_failure(
            &[ghes_sim::Fault::VolumeCreateFails],
            disks,
            root_snapshot,
        )
        .await;
        assert_ghes_fault(
            &appliances,
            scenario,
            ghes_sim::Fault::VolumeCreateFails,
            "vm-create-volumes",
            "detach-volume",
            false,
        )
        .await;
    }
}
