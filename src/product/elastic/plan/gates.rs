//! The read-only gates of the Elastic plan (DESIGN §8): the cluster is the one collected and
//! the snapshot is still there, the operator's write credential may restore, a restore's
//! answer says every shard was restored, the cluster is allocated again. Each gate is one
//! command that prints what it saw and exits non-zero, failing closed: an empty, truncated or
//! unparsable answer, a refused connection or a timeout fails it, because every answer is
//! read with `jq -s` (an absent answer is `[]`, never a silent pass as `jq -e` on empty input
//! is in jq 1.6) and tested for exactly one document.

use super::super::derive::SnapshotChoice;
use super::commands::{Curl, url_arg, url_base};
use super::{Ctx, cluster_label};
use crate::model::plan::{Line, Step, Word, sh};
use crate::model::upgrade::Mode;
use serde_json::json;

/// Where the restore's answer is saved (the runbook's folder, or the current one when
/// pasted), for its verification and for the operator to read.
pub(super) const RESTORE_ANSWER: &str = "restore-kibana-state.json";

/// Where the full-cluster restore's answer is saved.
pub(super) const CLUSTER_RESTORE_ANSWER: &str = "restore-cluster.json";

/// `jq` reading one answer from stdin (or `file`), printing `program`'s result: the program
/// ends in `error(…)` when the answer is not what it must be.
fn jq(program: &str, args: &[(&str, &str)], file: Option<&str>) -> Line {
    let mut line = sh!("jq -rse");
    for (name, value) in args {
        line = sh!(
            "{} --arg {} {}",
            line,
            Word::quote(name),
            Word::quote(value)
        );
    }
    line = sh!("{} {}", line, Word::quote(program));
    match file {
        Some(file) => sh!("{} {}", line, Word::quote(file)),
        None => line,
    }
}

/// Before anything changes: the cluster answers with the UUID collected (and, in a rollback,
/// the version), and the snapshot to restore is still there as SUCCESS: only what the plan
/// itself does not change.
pub(super) fn drift_step(ctx: &Ctx<'_>, snap: Option<&SnapshotChoice>) -> Option<Step> {
    let mut check = Vec::new();
    let cluster = ctx.bundle.facts.cluster.as_ref();
    if let Some(uuid) = cluster.and_then(|c| c.cluster_uuid.as_deref()) {
        let version = cluster
            .and_then(|c| c.version.as_deref())
            .filter(|_| ctx.derived.mode == Mode::Rollback);
        let answer = match version {
            Some(version) => jq(
                r#"if length == 1 and .[0].cluster_uuid == $uuid and .[0].version.number == $version then "cluster " + $uuid + ", Elasticsearch " + $version + ": the one collected" else error("not the cluster collected: cluster_uuid " + (.[0].cluster_uuid // "none" | tostring) + ", version " + (.[0].version.number // "none" | tostring) + "; expected " + $uuid + ", " + $version) end"#,
                &[("uuid", uuid), ("version", version)],
                None,
            ),
            None => jq(
                r#"if length == 1 and .[0].cluster_uuid == $uuid then "cluster " + $uuid + ": the one collected" else error("not the cluster collected: cluster_uuid " + (.[0].cluster_uuid // "none" | tostring) + ", expected " + $uuid) end"#,
                &[("uuid", uuid)],
                None,
            ),
        };
        check.push(sh!(
            "{} --max-time 30 {} | {}",
            ctx.es.get(),
            url_arg(&ctx.es_url, "/"),
            answer
        ));
    }
    if let Some(snap) = snap {
        let path = format!(
            "/_snapshot/{}/{}",
            crate::collect::http::encode_segment(&snap.repository),
            crate::collect::http::encode_segment(&snap.snapshot)
        );
        let answer = match &snap.uuid {
            Some(uuid) => jq(
                r#"if length == 1 and (.[0].snapshots // [] | length) == 1 and .[0].snapshots[0].state == "SUCCESS" and .[0].snapshots[0].uuid == $uuid then "snapshot " + $snapshot + ": SUCCESS, the one collected" else error("snapshot " + $snapshot + " is not there as the SUCCESS snapshot collected: " + (.[0] // "no answer" | tojson)) end"#,
                &[("snapshot", &snap.snapshot), ("uuid", uuid)],
                None,
            ),
            None => jq(
                r#"if length == 1 and (.[0].snapshots // [] | length) == 1 and .[0].snapshots[0].state == "SUCCESS" then "snapshot " + $snapshot + ": SUCCESS" else error("snapshot " + $snapshot + " is not there as SUCCESS: " + (.[0] // "no answer" | tojson)) end"#,
                &[("snapshot", &snap.snapshot)],
                None,
            ),
        };
        check.push(sh!(
            "{} --max-time 30 {} | {}",
            ctx.es.get(),
            url_arg(&ctx.es_url, &path),
            answer
        ));
    }
    (!check.is_empty()).then(|| Step {
        id: "check-drift".into(),
        title: "Check, read-only, that the cluster is the one collected and the snapshot is still there".into(),
        run_on: cluster_label(ctx, &ctx.es_url),
        check,
        on_failure: "the systems are not the ones this plan was made for: collect again and follow the new plan".into(),
        ..Step::default()
    })
}

/// Before the first write: the operator's credential authenticates and may restore the
/// kibana feature state (`_has_privileges` only asks). None when the cluster takes requests
/// without credentials.
pub(super) fn write_credential_checks(base: &str, writer: &Curl) -> Vec<Line> {
    if !writer.authenticated() {
        return Vec::new();
    }
    let privileges = json!({
        "cluster": ["manage"],
        "index": [{"names": [".kibana*"], "privileges": ["all"], "allow_restricted_indices": true}]
    });
    vec![
        sh!(
            "{} --max-time 30 {} | {}",
            writer.get(),
            url_arg(base, "/_security/_authenticate"),
            jq(
                r#"if length == 1 and (.[0].username | type) == "string" then "operator credential: " + (.[0].username | tostring) else error("the operator credential is refused: " + (.[0] // "no answer" | tojson)) end"#,
                &[],
                None
            )
        ),
        sh!(
            "{} --max-time 30 | {}",
            writer.post(base, "/_security/user/_has_privileges", &privileges),
            jq(
                r#"if length == 1 and .[0].has_all_requested == true then "the operator credential may restore" else error("the operator credential may not restore (manage, and all on .kibana*): " + (.[0] // "no answer" | tojson)) end"#,
                &[],
                None
            )
        ),
    ]
}

/// `request` with its answer saved to `file` and its HTTP status printed, within the
/// runbook's wait.
pub(super) fn saved_answer(request: Line, file: &str) -> Line {
    sh!(
        "{} --max-time \"${RIPCORD_RUNBOOK_WAIT:-600}\" -o {} -w 'HTTP %{http_code}\\n'",
        request,
        Word::quote(file)
    )
}

/// The restore's saved answer says every shard was restored: `wait_for_completion` returns
/// when the restore ends, failed shards included, and an error is an answer too.
pub(super) fn restore_succeeded(file: &str) -> Line {
    jq(
        r#"if length == 1 and (.[0].snapshot.shards // {} | .failed == 0 and .total > 0 and .successful == .total) then "restored: " + (.[0].snapshot.shards.successful | tostring) + " of " + (.[0].snapshot.shards.total | tostring) + " shards" else error("the restore did not succeed: " + (.[0] // "no answer" | tojson)) end"#,
        &[],
        Some(file),
    )
}

/// The cluster is yellow or green within the runbook's wait (`"timed_out": true` fails it).
pub(super) fn health_at_least_yellow(base: &str, curl: &Curl) -> Line {
    sh!(
        "{} --max-time \"$(( ${RIPCORD_RUNBOOK_WAIT:-600} + 30 ))\" {}\"/_cluster/health?wait_for_status=yellow&timeout=${RIPCORD_RUNBOOK_WAIT:-600}s\" | {}",
        curl.get(),
        url_base(base),
        jq(
            r#"if length == 1 and .[0].timed_out == false and (.[0].status == "green" or .[0].status == "yellow") then "cluster health: " + (.[0].status | tostring) else error("the cluster is not allocated: " + (.[0] // "no answer" | tojson)) end"#,
            &[],
            None
        )
    )
}
