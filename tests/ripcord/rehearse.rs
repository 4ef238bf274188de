//! Runs a plan's commands in bash against stub host commands, to prove that no value in them
//! acts in the operator's shell (or, through `ssh`, in the appliance's).
//!
//! Every command is checked with `bash -n`, then run on its own in a subshell of one bash
//! process, in a fresh folder, with `PATH` holding only stubs: each stub logs its argv; `ssh`
//! runs its remote command in a second bash (the far shell, which parses it again), `sudo`
//! runs what follows, `touch` really touches. Variables the plan reads from the operator are
//! preset to ordinary values, standard input is empty. An injected `$(touch pwned)`, backtick,
//! `;`, `&`, `|`, line break or `>pwned` leaves a file in the folder, or a `touch` (or a
//! call of the stub `pwned`) in the log.

use ripcord::model::report::v1::Plan;

/// The plan's own scratch files (a restore's answer, what a later step reads back): expected
/// in the folder; anything else was made by a value.
const SCRATCH: &[&str] = &[
    "restore-kibana-state.json",
    "restore-cluster.json",
    "profiling-was-on",
    "kibana-count",
];
use std::path::Path;

/// What a rehearsal saw.
pub struct Rehearsal {
    /// Each stub call: its name, then its arguments.
    pub calls: Vec<Vec<String>>,
    /// Files in the folder after the run (none is expected).
    pub created: Vec<String>,
    /// `bash -n` complaints, by command.
    pub syntax_errors: Vec<String>,
}

impl Rehearsal {
    /// Panics, naming the case, when anything ran that the plan did not intend.
    pub fn assert_clean(&self, case: &str) {
        assert!(
            self.syntax_errors.is_empty(),
            "{case}: commands bash cannot parse: {:?}",
            self.syntax_errors
        );
        assert!(
            self.created.is_empty(),
            "{case}: running the plan created {:?}",
            self.created
        );
        // `cat` of the plan's own scratch file (what a later step reads back) is the plan's.
        let unintended = |c: &&Vec<String>| {
            ["touch", "pwned", "rm", "id", "sh", "cat"].contains(&c[0].as_str())
                && !(c[0] == "cat" && c.len() == 2 && SCRATCH.contains(&c[1].as_str()))
        };
        assert!(
            !self.calls.iter().any(|c| unintended(&c)),
            "{case}: a value ran a command: {:?}",
            self.calls.iter().filter(unintended).collect::<Vec<_>>()
        );
        for call in self.calls.iter().filter(|c| c[0] == "ssh") {
            // GHES: `ssh -p 122 admin@HOST -- …`; a Kibana host: `ssh HOST -- …`.
            let destination = call
                .iter()
                .skip(1)
                .find(|a| a.starts_with("admin@"))
                .or_else(|| call.get(1).filter(|a| !a.starts_with('-')))
                .unwrap_or_else(|| panic!("{case}: ssh without a destination: {call:?}"));
            let host = destination.strip_prefix("admin@").unwrap_or(destination);
            assert!(
                !host.is_empty()
                    && host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b)),
                "{case}: ssh was given {destination:?} as its destination"
            );
        }
    }
}

const STUB: &str = r#"#!/bin/bash
name=${0##*/}
{ printf '%s' "$name"; for a in "$@"; do printf '\037%s' "$a"; done; printf '\036'; } >> "$STUB_LOG"
case "$name" in
  ssh) while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done; shift; exec /bin/bash -c "$*" ;;
  sudo) exec "$@" ;;
  touch) exec /usr/bin/touch "$@" ;;
  pwned) exec /usr/bin/touch pwned ;;
  curl) printf '{}' ;;
esac
exit 0
"#;

/// Every host command a plan may name (and a few an injection would).
const STUBS: &[&str] = &[
    "ssh",
    "sudo",
    "touch",
    "curl",
    "jq",
    "kubectl",
    "docker",
    "systemctl",
    "apt-get",
    "yum",
    "journalctl",
    "grep",
    "tail",
    "head",
    "xargs",
    "tar",
    "shasum",
    "uname",
    "ghe-upgrade",
    "ghe-repl-setup",
    "ghe-repl-start",
    "ghe-repl-stop",
    "ghe-repl-start-all",
    "ghe-repl-stop-all",
    "ghe-repl-status",
    "ghe-repl-promote",
    "ghe-version",
    "ghe-maintenance",
    "reboot",
    "rm",
    "id",
    "sh",
    "cat",
    "pwned",
];

/// Every command of a plan and its alternatives, in order.
pub fn commands(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan.steps.iter().flat_map(|s| s.commands.clone()).collect();
    for alternative in &plan.alternatives {
        out.extend(commands(alternative));
    }
    out
}

/// Rehearses `commands` in a fresh folder under `work`.
pub fn rehearse(work: &Path, commands: &[String]) -> Rehearsal {
    let stubs = work.join("stubs");
    let run = work.join("run");
    std::fs::create_dir_all(&stubs).expect("stubs");
    std::fs::create_dir_all(&run).expect("run");
    let stub = stubs.join("stub");
    std::fs::write(&stub, STUB).expect("stub");
    set_executable(&stub);
    for name in STUBS {
        let link = stubs.join(name);
        if !link.exists() {
            std::os::unix::fs::symlink(&stub, &link).expect("link");
        }
    }
    let mut syntax_errors = Vec::new();
    let mut script = String::new();
    for (i, command) in commands.iter().enumerate() {
        assert!(
            !command.contains('\n') && !command.contains('\r'),
            "a command spans lines: {command:?}"
        );
        let file = work.join(format!("cmd-{i}.sh"));
        std::fs::write(&file, command).expect("cmd");
        let check = std::process::Command::new("bash")
            .arg("-n")
            .arg(&file)
            .output()
            .expect("bash -n");
        if !check.status.success() {
            syntax_errors.push(format!(
                "{command:?}: {}",
                String::from_utf8_lossy(&check.stderr)
            ));
        }
        script.push_str(&format!(
            "( . '{}' ) </dev/null >/dev/null 2>&1\n",
            file.display()
        ));
    }
    let log = work.join("stub.log");
    let _ = std::fs::remove_file(&log);
    let status = std::process::Command::new("/bin/bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&run)
        .env_clear()
        .env("PATH", &stubs)
        .env("HOME", &run)
        .env("STUB_LOG", &log)
        .envs([
            ("GHES_PRIMARY", "ghe-primary"),
            ("GHES_PLATFORM", "ami"),
            ("ES_URL", "http://127.0.0.1:9"),
            ("NEW_ES_URL", "http://127.0.0.1:9"),
            ("NEW_ES_OK", "yes"),
            ("KIBANA_STOPPED", "yes"),
            ("KB_NAME", "kb"),
            ("KB_NS", "ns"),
            ("KB_COUNT", "1"),
            ("RESTORE_REPOSITORY", "repo"),
            ("RESTORE_SNAPSHOT", "snap"),
        ])
        .status()
        .expect("bash");
    let _ = status;
    let calls = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .split('\u{1e}')
        .filter(|c| !c.is_empty())
        .map(|c| c.split('\u{1f}').map(str::to_string).collect())
        .collect();
    let created = std::fs::read_dir(&run)
        .expect("run dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !SCRATCH.contains(&name.as_str()))
        .collect();
    Rehearsal {
        calls,
        created,
        syntax_errors,
    }
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let mut permissions = std::fs::metadata(path).expect("stat").permissions();
    permissions.set_mode(0o755);
    std::fs::set_permissions(path, permissions).expect("chmod");
}
