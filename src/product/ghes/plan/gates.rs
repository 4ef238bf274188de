//! The read-only gates of the GHES plan (DESIGN §8), each one command that prints what it saw
//! and exits non-zero otherwise: every node answers over ssh under the name collected, reports
//! a version (polled after a reboot or a VM restore, within the runbook's wait), replication is
//! OK (`ghe-repl-status` exits 0 only then).

use super::{Ghes, Host, named, ssh};
use crate::model::facts::Bundle;
use crate::model::plan::{Line, Step, Word, sh};

/// Before anything changes: every node the Manage API listed answers over ssh under that
/// name. Each node's version is checked by its own downgrade step, right before
/// `ghe-upgrade`, where it still must be `to`.
pub(super) fn drift_step(bundle: &Bundle<Ghes>) -> Option<Step> {
    let nodes = bundle.facts.as_ref()?.versions.as_ref()?;
    let check: Vec<Line> = nodes
        .iter()
        .filter(|n| crate::model::names::hostname(&n.hostname).is_ok())
        .map(|n| {
            let host = named(&n.hostname);
            sh!(
                "h=$({}) && if [ \"$h\" = {} ]; then echo {}; else echo {}\"$h\" >&2; false; fi",
                ssh(&host, &sh!("hostname")),
                Word::quote(&n.hostname),
                Word::quote(&format!("{}: answers as collected", n.hostname)),
                Word::quote(&format!("{} answers as ", n.hostname))
            )
        })
        .collect();
    (!check.is_empty()).then(|| Step {
        id: "check-drift".into(),
        title: "Check, read-only, that every node answers over ssh under the name collected".into(),
        run_on: "this shell".into(),
        check,
        on_failure: "the appliances are not the ones this plan was made for (or ssh to them fails): collect again and follow the new plan".into(),
        ..Step::default()
    })
}

/// `ssh` with a short connect timeout, for polling a node that may be down.
pub(super) fn ssh_wait(host: &Host, command: &Line) -> Line {
    sh!(
        "ssh -o ConnectTimeout=5 -p 122 {} -- {}",
        host.login(),
        Word::line(command)
    )
}

/// Polls, within the runbook's wait, until the node answers over ssh and reports `version`:
/// after a VM restore the appliance boots first.
pub(super) fn version_polled(host: &Host, version: &str) -> Line {
    sh!(
        "ok=no; deadline=$((SECONDS + ${RIPCORD_RUNBOOK_WAIT:-1800})); while [ \"$SECONDS\" -lt \"$deadline\" ]; do v=$({} 2>/dev/null) || v=; case \"$v\" in *{}*) ok=yes; break;; esac; sleep 3; done; if [ \"$ok\" = yes ]; then echo {}\"$v\"; else echo {}\"${RIPCORD_RUNBOOK_WAIT:-1800} s\" >&2; false; fi",
        ssh_wait(host, &sh!("ghe-version")),
        Word::quote(&format!(" {version} ")),
        Word::quote(&format!("{}: ", host.label())),
        Word::quote(&format!(
            "{} does not answer on {version} after ",
            host.label()
        ))
    )
}

/// The node reports `version` (`ghe-version`: `GitHub Enterprise Server 3.17.8 ami …`).
pub(super) fn version_check(host: &Host, version: &str) -> Line {
    sh!(
        "v=$({}) && case \"$v\" in *{}*) echo {}\"$v\";; *) echo {}\"$v\"{} >&2; false;; esac",
        ssh(host, &sh!("ghe-version")),
        Word::quote(&format!(" {version} ")),
        Word::quote(&format!("{}: ", host.label())),
        Word::quote(&format!("{} runs ", host.label())),
        Word::quote(&format!(", not {version}"))
    )
}

/// `ghe-repl-status` on a replica exits 0 only when every stream is OK (1 warning or not
/// started, 2 critical).
pub(super) fn replication_ok(replica: &Host) -> Line {
    sh!(
        "if {} >/dev/null 2>&1; then echo {}; else echo {} >&2; {} >&2; false; fi",
        ssh(replica, &sh!("ghe-repl-status")),
        Word::quote(&format!("{}: replication OK", replica.label())),
        Word::quote(&format!("{}: replication is not OK:", replica.label())),
        ssh(replica, &sh!("ghe-repl-status -v"))
    )
}

/// Polls until replication is OK on `replica`, within the runbook's wait.
pub(super) fn replication_comes_up(replica: &Host) -> Line {
    sh!(
        "ok=no; deadline=$((SECONDS + ${RIPCORD_RUNBOOK_WAIT:-1800})); while [ \"$SECONDS\" -lt \"$deadline\" ]; do if {} >/dev/null 2>&1; then ok=yes; break; fi; sleep 5; done; if [ \"$ok\" = yes ]; then echo {}; else echo {}\"${RIPCORD_RUNBOOK_WAIT:-1800} s\" >&2; false; fi",
        ssh_wait(replica, &sh!("ghe-repl-status")),
        Word::quote(&format!("{}: replication OK", replica.label())),
        Word::quote(&format!(
            "{}: replication not OK (ghe-repl-status) after ",
            replica.label()
        ))
    )
}
