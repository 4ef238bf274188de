//! `--format runbook`: the report's plan as one bash script that runs it the way DESIGN §8
//! says a plan must be run: the systems' identity checked first, a confirmation naming the
//! target, every step's checks before its commands and its verifications after them, a stop
//! at the first failure naming the step and what to do, a state file so a rerun after the fix
//! skips finished steps, and a timestamped log. ripcord never runs it; the operator does.
//!
//! Every piece of text that came from the report (titles, hosts, ids, commands) enters the
//! script as one quoted shell word ([`Word::quote`]): a title cannot end a comment and a
//! command is run by `eval` from its own quoted text, exactly as the table prints it, so the
//! script runs what a person would paste. Only the fixed prelude below is ripcord's code.

use crate::model::plan::Word;
use crate::model::report::v1::{Report, Step, Verdict};
use std::fmt::Write as _;

/// The helpers every runbook starts with (after its variables).
const PRELUDE: &str = r#"
usage() {
  printf 'usage: %s [--yes]\n' "${0##*/}"
  printf '  Runs: %s\n  Target: %s\n' "$RUNBOOK_TITLE" "$RUNBOOK_TARGET"
  printf '  --yes   answer every question with yes (needed without a terminal)\n'
  printf '  RIPCORD_RUNBOOK_DIR   where the state file and the log go (default ./ripcord-runbook-ID)\n'
  printf '  RIPCORD_RUNBOOK_WAIT  the deadline of every wait, in seconds (default: each its own)\n'
}

RUNBOOK_YES=no
while [ "$#" -gt 0 ]; do
  case "$1" in
    -y|--yes) RUNBOOK_YES=yes ;;
    -h|--help) usage; exit 0 ;;
    *) printf 'unknown argument: %s\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# Each wait has its own deadline (a restore 600 s, a reboot 1800 s); this overrides them all.
if [ -n "${RIPCORD_RUNBOOK_WAIT:-}" ]; then
  case "$RIPCORD_RUNBOOK_WAIT" in
    *[!0-9]*) printf 'RIPCORD_RUNBOOK_WAIT must be a number of seconds, not %s\n' "$RIPCORD_RUNBOOK_WAIT" >&2; exit 2 ;;
  esac
  export RIPCORD_RUNBOOK_WAIT
fi
RUNBOOK_DIR=${RIPCORD_RUNBOOK_DIR:-$PWD/ripcord-runbook-$RUNBOOK_ID}
mkdir -p "$RUNBOOK_DIR"
RUNBOOK_DIR=$(cd "$RUNBOOK_DIR" && pwd)
RUNBOOK_STATE=$RUNBOOK_DIR/state
RUNBOOK_LOG=$RUNBOOK_DIR/log
touch "$RUNBOOK_STATE" "$RUNBOOK_LOG"
# Scratch files of the commands (a restore's answer) go here; every path in a command is
# absolute, so this changes nothing else.
cd "$RUNBOOK_DIR"

log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >> "$RUNBOOK_LOG"; }
say() { printf '%s\n' "$*" >&2; log "$*"; }

# Stops the run: the step, what was seen, what to do. Nothing after it runs.
stop() {
  say "STOPPED at step $1: $2"
  say "What to do: $3"
  say "Nothing after it was run. Once it is fixed, run this runbook again: finished steps are skipped."
  say "State: $RUNBOOK_STATE  Log: $RUNBOOK_LOG"
  exit 1
}

# Runs one command of the plan in this shell (variables it sets stay set for the next), its
# output on the terminal and in the log.
run() {
  log "\$ $1"
  local runbook_rc=0
  eval "$1" > >(tee -a "$RUNBOOK_LOG") 2> >(tee -a "$RUNBOOK_LOG" >&2) || runbook_rc=$?
  log "exit $runbook_rc"
  return "$runbook_rc"
}

finished() { grep -qxF "$1" "$RUNBOOK_STATE"; }

RUNBOOK_CONFIRMED=no
# Asks once, before the first change: names the target; --yes answers; no terminal, no change.
confirm() {
  [ "$RUNBOOK_CONFIRMED" = yes ] && return 0
  say "About to change: $RUNBOOK_TARGET"
  say "Plan: $RUNBOOK_TITLE"
  if [ "$RUNBOOK_YES" = yes ]; then
    say "--yes given: going on"
  elif [ -t 0 ]; then
    local runbook_answer=""
    read -r -p "Type yes to go on: " runbook_answer || true
    [ "$runbook_answer" = yes ] || stop "$1" "not confirmed (answered '$runbook_answer')" "run it again and type yes, or pass --yes"
  else
    stop "$1" "no terminal to confirm on, and no --yes" "run it on a terminal, or pass --yes"
  fi
  log "confirmed"
  RUNBOOK_CONFIRMED=yes
}

# A step done by hand: the operator says when it is done.
by_hand() {
  if [ "$RUNBOOK_YES" = yes ]; then
    say "   by hand; --yes given: not asked, the verification below says when it is done"
    return 0
  fi
  [ -t 0 ] || stop "$1" "a step done by hand, and no terminal to say it is done" "do it, then run this runbook again on a terminal (if it fails: $2)"
  local runbook_answer=""
  read -r -p "Done? Type yes once it is: " runbook_answer || true
  [ "$runbook_answer" = yes ] || stop "$1" "not done (answered '$runbook_answer')" "do it, then run this runbook again (if it fails: $2)"
}

say "ripcord runbook $RUNBOOK_ID: $RUNBOOK_TITLE"
say "Target: $RUNBOOK_TARGET"
say "State: $RUNBOOK_STATE  Log: $RUNBOOK_LOG"
"#;

/// The runbook of `report`'s plan.
pub(crate) fn render(report: &Report) -> String {
    let plan = &report.plan;
    let mut out = String::new();
    let _ = writeln!(out, "#!/usr/bin/env bash");
    let _ = writeln!(
        out,
        "# ripcord {} runbook, generated {}: ripcord never runs it. Run it with bash; --help says how.",
        report.tool_version,
        report.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    );
    let _ = writeln!(out, "set -euo pipefail");
    let _ = writeln!(out);
    let _ = writeln!(out, "RUNBOOK_ID={}", word(&runbook_id(report)));
    let _ = writeln!(out, "RUNBOOK_TITLE={}", word(&plan.title));
    let _ = writeln!(out, "RUNBOOK_TARGET={}", word(&target(report)));
    out.push_str(PRELUDE);
    out.push('\n');

    if report.verdict == Verdict::NothingToRollBack {
        let _ = writeln!(out, "say {}", word(&plan.headline));
        let _ = writeln!(out, "exit 0");
        return out;
    }
    if plan.steps.is_empty() {
        let _ = writeln!(out, "say {}", word(&plan.headline));
        let _ = writeln!(
            out,
            "stop none {} {}",
            word("this plan has no steps to run"),
            word("read the report's findings and plan")
        );
        return out;
    }
    let _ = writeln!(out, "say {}", word(&plan.headline));
    let total = plan.steps.len();
    for (index, step) in plan.steps.iter().enumerate() {
        write_step(&mut out, step, index + 1, total);
    }
    let _ = writeln!(
        out,
        "say {}",
        word(&format!(
            "Done: all {total} steps ran and every verification passed."
        ))
    );
    let _ = writeln!(out, "exit 0");
    out
}

/// One step: its checks, the confirmation before a first change, its commands (or, for a step
/// done by hand, the operator's word that it is done), its verifications, then its name in the
/// state file. A step that only sets variables runs every time; a finished one is skipped on
/// a rerun.
fn write_step(out: &mut String, step: &Step, number: usize, total: usize) {
    let id = word(&step.id);
    // Variables only: run on every run (a rerun needs them), never recorded.
    let setup = step.every_run;
    // Checks only (the identity checks): nothing to confirm; recorded like any step, since a
    // rerun comes after changes (a stopped VM answers no identity check).
    let checks_only = step.commands.is_empty() && step.verify.is_empty() && !step.check.is_empty();
    // Nothing to run: the operator does it, and its verifications (if any) say it is done.
    let by_hand = step.commands.is_empty() && !setup && !checks_only;
    let on_failure = if step.on_failure.is_empty() {
        "see the plan's warnings; fix the cause before going on".to_string()
    } else {
        step.on_failure.clone()
    };
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "say {}",
        word(&format!(
            "== step {number}/{total} [{}]: {}",
            step.id, step.title
        ))
    );
    let _ = writeln!(out, "say {}", word(&format!("   on: {}", step.run_on)));
    let _ = writeln!(out, "RUNBOOK_ON_FAILURE={}", word(&on_failure));
    if setup {
        // Sets variables later steps read: every run, a rerun too.
        let _ = writeln!(out, "{{");
    } else {
        let _ = writeln!(out, "if finished {id}; then");
        let _ = writeln!(out, "  say '   finished in an earlier run: skipped'");
        let _ = writeln!(out, "else");
    }
    for check in &step.check {
        run_line(out, &id, check, "check");
    }
    if !setup && !checks_only {
        let _ = writeln!(out, "  confirm {id}");
    }
    if by_hand {
        let _ = writeln!(out, "  by_hand {id} \"$RUNBOOK_ON_FAILURE\"");
    }
    for command in &step.commands {
        run_line(out, &id, command, "command");
    }
    for verify in &step.verify {
        run_line(out, &id, verify, "verification");
    }
    if !setup {
        let _ = writeln!(out, "  printf '%s\\n' {id} >> \"$RUNBOOK_STATE\"");
    }
    let _ = writeln!(out, "  say {}", word("   verified"));
    let _ = writeln!(out, "{}", if setup { "}" } else { "fi" });
}

/// One line of a step: run it; on failure stop, naming the step and the `what` that failed.
fn run_line(out: &mut String, id: &str, line: &str, what: &str) {
    let _ = writeln!(
        out,
        "  run {} || stop {id} {} \"$RUNBOOK_ON_FAILURE\"",
        word(line),
        word(&format!("this {what} failed: {line}"))
    );
}

/// What the confirmation names: the cluster, the Kibana instances, the GHES primary, the
/// snapshot.
fn target(report: &Report) -> String {
    let t = &report.target;
    let mut parts = Vec::new();
    if let Some(name) = &report.target.name {
        parts.push(format!("fleet target {name}"));
    }
    match (&t.cluster_name, &t.cluster_uuid) {
        (Some(name), Some(uuid)) => parts.push(format!("cluster {name} ({uuid})")),
        (None, Some(uuid)) => parts.push(format!("cluster {uuid}")),
        (Some(name), None) => parts.push(format!("cluster {name}")),
        (None, None) => {}
    }
    if !t.kibana.is_empty() {
        parts.push(format!("Kibana {}", t.kibana.join(", ")));
    }
    if let Some(primary) = &t.ghes_primary {
        parts.push(format!("GHES primary {primary}"));
    }
    if let Some(snapshot) = &report.plan.snapshot {
        match &snapshot.repository {
            Some(repository) => parts.push(format!("snapshot {repository}/{}", snapshot.name)),
            None => parts.push(format!("snapshot {}", snapshot.name)),
        }
    }
    if parts.is_empty() {
        report.product.clone()
    } else {
        parts.join("; ")
    }
}

/// Names the state and log files: the product, the mode and the target, so two runbooks of
/// the same rollback share their state and two different ones never do.
fn runbook_id(report: &Report) -> String {
    // FNV-1a: the same plan gets the same id from every build of ripcord.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |text: &str| {
        for byte in text.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(&target(report));
    feed(&report.plan.title);
    for step in &report.plan.steps {
        feed(&step.id);
        step.commands.iter().for_each(|c| feed(c));
    }
    format!(
        "{}-{}-{:08x}",
        report.product,
        report.mode,
        hash & 0xffff_ffff
    )
}

/// `text` as one shell word.
fn word(text: &str) -> String {
    Word::quote(text).as_str().to_string()
}
