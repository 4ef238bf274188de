//! The Kibana (and, when needed, Elasticsearch) rollback plan, following Elastic's documented
//! procedures, for the way back derive found (`derived.rollback.path`):
//! - restore the `kibana` feature state (`{"indices": "-*", "feature_states": ["kibana"]}`) with
//!   every Kibana stopped, then start the old version and verify (`kibana-roll-back.md`);
//! - nothing migrated: start the old version again, the restore only as a fallback;
//! - Elasticsearch too: a new cluster of the old version and the documented full-cluster restore
//!   (`restore-snapshot.md`, "Restore an entire cluster");
//! - no way back: a fix-forward checklist, never a downgrade Kibana would refuse;
//! - nothing to roll back: no steps.
//!
//! Every command runs as pasted: curl authenticates the way the collection did (a variable
//! reference, never the secret), verifies TLS the same way, and every shell variable a command
//! uses is defined by an earlier command of the plan. No placeholder ever sits in a command.

mod commands;
mod data_loss;
mod gates;
mod kibana;

use super::Elastic;
use super::derive::{Derived, Path, SnapshotChoice};
use super::facts::Flavor;
use crate::model::facts::Bundle;
use crate::model::plan::{Plan, PlanKind, Request, Step, Word, sh};
use crate::model::upgrade::Mode;
use crate::product::PlanContext;
use commands::{Curl, NewCluster, url_arg};
use data_loss::{data_loss, loses_line, lost_since};
use kibana::Kibana;
use serde_json::json;

/// Everything the steps are built from.
struct Ctx<'a> {
    bundle: &'a Bundle<Elastic>,
    derived: &'a Derived,
    from: &'a str,
    to: &'a str,
    es_url: String,
    es: Curl,
    /// The operator's write credential, for what changes the cluster (ripcord's is read-only).
    es_writer: Curl,
    kibana: Kibana<'a>,
}

/// Builds the plan for the way back derive found.
pub(crate) fn plan(bundle: &Bundle<Elastic>, derived: &Derived, context: &PlanContext) -> Plan {
    let from = derived.upgrade.from.as_deref().unwrap_or("");
    let to = derived.upgrade.to.as_deref().unwrap_or("");
    let connection = &context.connection;
    let ctx = Ctx {
        bundle,
        derived,
        from,
        to,
        es_url: bundle
            .target
            .es
            .as_deref()
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| "$ES_URL".into()),
        es: Curl::recorded(connection, "es"),
        es_writer: Curl::writer(connection, "es"),
        kibana: Kibana::new(bundle, derived, Curl::recorded(connection, "kibana")),
    };
    let way_back = matches!(
        derived.rollback.path,
        Path::StartFromAgain | Path::RestoreKibana | Path::RestoreUnverified | Path::RestoreCluster
    );
    let mut plan = match derived.rollback.path {
        _ if way_back && derived.flavor == Flavor::Cloud => cloud_new_deployment(&ctx),
        Path::NothingToRollBack => nothing_to_roll_back(&ctx),
        Path::FromUnknown => from_unknown(&ctx),
        Path::StartFromAgain => start_from_again(&ctx),
        Path::RestoreKibana | Path::RestoreUnverified => restore_kibana(&ctx),
        Path::RestoreCluster => restore_cluster(&ctx),
        Path::NoWayBack => no_way_back(&ctx),
    };
    plan.basis = derived.rollback.basis.clone();
    if derived.mode == Mode::Preflight {
        plan.headline = crate::model::plan::if_it_fails(&plan.headline);
    }
    ask_operator_credential(&mut plan);
    if plan.kind != PlanKind::NothingToRollBack {
        common_warnings(&ctx, context, &mut plan);
    }
    plan
}

/// A plan (and each alternative) whose writes use the operator's credential sets it right
/// after the identity checks: asked once, before any change.
fn ask_operator_credential(plan: &mut Plan) {
    let writes = plan.steps.iter().any(|s| {
        s.check
            .iter()
            .chain(&s.commands)
            .chain(&s.verify)
            .any(Curl::writes)
    });
    if writes {
        let at = plan
            .steps
            .iter()
            .take_while(|s| s.id == "check-drift")
            .count();
        plan.steps.insert(at, commands::operator_credential_step());
    }
    plan.alternatives
        .iter_mut()
        .for_each(ask_operator_credential);
}

fn lead(ctx: &Ctx<'_>) -> &'static str {
    match ctx.derived.mode {
        Mode::Rollback => "",
        Mode::Preflight => "If this upgrade fails: ",
    }
}

fn title(ctx: &Ctx<'_>, how: &str) -> String {
    let lead = lead(ctx);
    let roll = if lead.is_empty() { "Roll" } else { "roll" };
    format!(
        "{lead}{roll} Kibana from {} back to {}{how}",
        ctx.to, ctx.from
    )
}

fn nothing_to_roll_back(ctx: &Ctx<'_>) -> Plan {
    let _ = ctx;
    Plan {
        title: "Nothing to roll back".into(),
        headline: "Nothing to roll back: no sign of a failed upgrade".into(),
        kind: PlanKind::NothingToRollBack,
        ..Plan::default()
    }
}

fn from_unknown(ctx: &Ctx<'_>) -> Plan {
    let to = if ctx.to.is_empty() {
        "the failed version".to_string()
    } else {
        ctx.to.to_string()
    };
    Plan {
        title: format!(
            "{}No plan: the version to go back to from {to} is unknown",
            lead(ctx)
        ),
        headline: "No plan yet: the version to go back to is unknown; pass --from VERSION".into(),
        ..Plan::default()
    }
}

/// Kibana `to` never migrated: start `from` again; the restore is the fallback.
fn start_from_again(ctx: &Ctx<'_>) -> Plan {
    let mut plan = Plan {
        title: title(ctx, ": nothing was migrated, start the old version again"),
        headline: format!(
            "Rollback possible without a restore: Kibana {} migrated nothing; stop it and start Kibana {} again",
            ctx.to, ctx.from
        ),
        ..Plan::default()
    };
    plan.steps.extend(gates::drift_step(ctx, None));
    plan.steps.extend(ctx.kibana.stop(ctx.to));
    plan.steps.extend(ctx.kibana.start(ctx.from));
    match &ctx.derived.kibana_snapshot {
        Some(snap) => {
            let mut fallback = Plan {
                title: format!(
                    "Fallback, only if Kibana {} refuses to start: restore the kibana feature state from {}/{}",
                    ctx.from, snap.repository, snap.snapshot
                ),
                ..Plan::default()
            };
            fallback.steps.extend(gates::drift_step(ctx, Some(snap)));
            fallback.steps.extend(ctx.kibana.stop(ctx.from));
            fallback
                .steps
                .push(restore_feature_step(ctx, snap, &ctx.es_url, &ctx.es_writer));
            fallback.steps.extend(ctx.kibana.start(ctx.from));
            fallback.warnings.push(lost_since(ctx, snap));
            fallback.data_loss = Some(data_loss(ctx, snap));
            plan.alternatives.push(fallback);
        }
        None => plan.warnings.push(format!(
            "no SUCCESS snapshot with the kibana feature state predates the upgrade: if Kibana {} refuses to start, there is no restore to fall back on",
            ctx.from
        )),
    }
    plan
}

/// Restore the `kibana` feature state (from the chosen snapshot, or one the operator picks when
/// the snapshots could not be listed), then start `from`.
fn restore_kibana(ctx: &Ctx<'_>) -> Plan {
    let snap = ctx.derived.kibana_snapshot.as_ref();
    let headline = match snap {
        Some(s) if s.restorable.is_none() => format!(
            "Rollback may be possible: restore the kibana feature state from {}/{} (started {}), then start Kibana {} (whether this cluster can restore it could not be judged)",
            s.repository,
            s.snapshot,
            time(s),
            ctx.from
        ),
        Some(s) => format!(
            "Rollback possible: restore the kibana feature state from {}/{} (started {}), then start Kibana {}",
            s.repository,
            s.snapshot,
            time(s),
            ctx.from
        ),
        None => format!(
            "Rollback may be possible: the snapshots could not be listed; restore a pre-upgrade snapshot with the kibana feature state, then start Kibana {}",
            ctx.from
        ),
    };
    let mut plan = Plan {
        title: title(ctx, ""),
        headline,
        // The headline's "may be possible": no snapshot verified, or its restore not judged.
        tentative: snap.is_none_or(|s| s.restorable.is_none()),
        ..Plan::default()
    };
    plan.steps.extend(gates::drift_step(ctx, snap));
    plan.steps.extend(ctx.kibana.stop(ctx.to));
    match snap {
        Some(s) => {
            plan.steps
                .push(restore_feature_step(ctx, s, &ctx.es_url, &ctx.es_writer));
            plan.warnings.push(lost_since(ctx, s));
            plan.data_loss = Some(data_loss(ctx, s));
            plan.loses = Some(loses_line(ctx, s));
        }
        None => {
            plan.steps.extend(pick_and_restore_steps(ctx));
            plan.warnings.push("the snapshots could not be listed, so no snapshot was verified: everything saved after the chosen snapshot's start is lost".into());
        }
    }
    plan.steps.extend(ctx.kibana.start(ctx.from));
    if ctx.derived.upgrade.started_at.is_none()
        && ctx.derived.mode == Mode::Rollback
        && snap.is_some()
    {
        plan.warnings.push(format!(
            "the upgrade start is unknown ({}): the snapshot was chosen because its kibana indices predate {}; confirm it was taken before the upgrade, or pass --upgrade-started-at",
            ctx.derived.upgrade.started_at_source, ctx.to
        ));
    }
    plan
}

fn restore_body() -> serde_json::Value {
    json!({ "indices": "-*", "feature_states": ["kibana"] })
}

fn restore_feature_step(ctx: &Ctx<'_>, snap: &SnapshotChoice, base: &str, curl: &Curl) -> Step {
    let path = format!(
        "/_snapshot/{}/{}/_restore?wait_for_completion=true",
        crate::collect::http::encode_segment(&snap.repository),
        crate::collect::http::encode_segment(&snap.snapshot)
    );
    let body = restore_body();
    let mut check = ctx.kibana.refused_checks();
    check.extend(gates::write_credential_checks(base, curl));
    Step {
        every_run: false,
        id: "restore-kibana-state".into(),
        title: format!(
            "Restore the kibana feature state from {}/{} (started {}); Elasticsearch closes and overwrites the .kibana* indices itself",
            snap.repository,
            snap.snapshot,
            time(snap)
        ),
        run_on: cluster_label(ctx, base),
        check,
        commands: vec![gates::saved_answer(
            curl.post(base, &path, &body),
            gates::RESTORE_ANSWER,
        )],
        verify: vec![
            gates::restore_succeeded(gates::RESTORE_ANSWER),
            gates::health_at_least_yellow(base, curl),
        ],
        on_failure: "the restore did not complete: read its answer (restore-kibana-state.json beside the log: an open index of the same name, failed shards, a missing repository), fix the cause and run again; start no Kibana before it succeeds".into(),
        request: Some(Request {
            method: "POST".into(),
            path,
            body,
        }),
    }
}

/// The snapshots could not be listed: list them, let the operator pick, restore that one.
fn pick_and_restore_steps(ctx: &Ctx<'_>) -> Vec<Step> {
    let base = &ctx.es_url;
    let body = restore_body();
    let list = "/_snapshot/_all/_all?verbose=true&filter_path=snapshots.snapshot,snapshots.repository,snapshots.state,snapshots.start_time,snapshots.feature_states.feature_name";
    let mut check = ctx.kibana.refused_checks();
    check.extend(gates::write_credential_checks(base, &ctx.es_writer));
    let choose = Step::setup(
        "choose-snapshot",
        "List the snapshots and name the one to restore: the newest SUCCESS snapshot that includes the kibana feature state and started before the upgrade (RESTORE_REPOSITORY and RESTORE_SNAPSHOT, asked unless set)",
        cluster_label(ctx, base),
        vec![
            sh!("{} {}", ctx.es.get(), url_arg(base, list)),
            sh!(
                "[ -n \"${RESTORE_REPOSITORY:-}\" ] || read -r -p 'Repository of the chosen snapshot: ' RESTORE_REPOSITORY"
            ),
            sh!(
                "[ -n \"${RESTORE_SNAPSHOT:-}\" ] || read -r -p 'Name of the chosen snapshot: ' RESTORE_SNAPSHOT"
            ),
        ],
    );
    let restore = Step {
        every_run: false,
        id: "restore-kibana-state".into(),
        check,
        on_failure: "the restore did not complete: read its answer (restore-kibana-state.json beside the log), fix the cause and run again; start no Kibana before it succeeds".into(),
        title: "Restore the kibana feature state from the snapshot chosen ($RESTORE_REPOSITORY/$RESTORE_SNAPSHOT)".into(),
        run_on: cluster_label(ctx, base),
        commands: vec![
            gates::saved_answer(
                sh!(
                    "{} -X POST {}\"/_snapshot/${RESTORE_REPOSITORY}/${RESTORE_SNAPSHOT}/_restore?wait_for_completion=true\" -H 'Content-Type: application/json' -d {}",
                    ctx.es_writer.get(),
                    commands::url_base(base),
                    Word::json(&body)
                ),
                gates::RESTORE_ANSWER,
            ),
        ],
        verify: vec![
            gates::restore_succeeded(gates::RESTORE_ANSWER),
            gates::health_at_least_yellow(base, &ctx.es),
        ],
        request: Some(Request {
            method: "POST".into(),
            path: "/_snapshot/${RESTORE_REPOSITORY}/${RESTORE_SNAPSHOT}/_restore?wait_for_completion=true".into(),
            body,
        }),
    };
    vec![choose, restore]
}

/// Elasticsearch goes back too: a new cluster of the old version, the documented full-cluster
/// restore, then Kibana on it.
fn restore_cluster(ctx: &Ctx<'_>) -> Plan {
    let Some(snap) = &ctx.derived.es_rollback_snapshot else {
        return no_way_back(ctx);
    };
    let version = snap.version.clone().unwrap_or_else(|| ctx.from.to_string());
    let new = NewCluster::new(
        ctx.kibana.flavor,
        &version,
        ctx.bundle
            .facts
            .cluster
            .as_ref()
            .and_then(|c| c.cluster_uuid.clone()),
    );
    let mut plan = Plan {
        title: title(ctx, &format!(", and Elasticsearch back to {version}")),
        headline: format!(
            "Rollback possible, Elasticsearch too: restore {}/{} (started {}) into a new Elasticsearch {version} cluster, then start Kibana {}",
            snap.repository,
            snap.snapshot,
            time(snap),
            ctx.from
        ),
        ..Plan::default()
    };
    plan.steps.extend(ctx.kibana.stop(ctx.to));
    plan.steps.push(Step {
        id: "new-cluster".into(),
        check: Vec::new(),
        verify: Vec::new(),
        on_failure: String::new(),
        every_run: false,
        title: format!(
            "Stop every client that writes to {} (Beats, Elastic Agent, Logstash, applications): nothing written from now on is in the snapshot; and stop snapshot lifecycle management there, so retention cannot delete the snapshot during the restore",
            ctx.es_url
        ),
        run_on: cluster_label(ctx, &ctx.es_url),
        commands: vec![ctx.es_writer.post_empty(&ctx.es_url, "/_slm/stop")],
        request: None,
    });
    plan.steps.push(new.install_step());
    plan.steps.push(new.restore_user_step());
    plan.steps.push(new.variables_step());
    let mut repositories = vec![snap.repository.clone()];
    let kibana_separately = ctx.derived.kibana_snapshot.as_ref().filter(|k| {
        !(snap.has_kibana_feature
            || (k.repository == snap.repository && k.snapshot == snap.snapshot))
    });
    if let Some(k) = kibana_separately
        && k.repository != snap.repository
    {
        repositories.push(k.repository.clone());
    }
    for repo in &repositories {
        plan.steps.push(register_repository_step(ctx, &new, repo));
    }
    plan.steps
        .extend(new.full_restore_steps(&snap.repository, &snap.snapshot, &time(snap)));
    if let Some(k) = kibana_separately {
        plan.steps.push(restore_feature_step(
            ctx,
            k,
            commands::NEW_ES_URL,
            &new.curl,
        ));
    }
    plan.steps.push(ctx.kibana.repoint());
    plan.steps.extend(ctx.kibana.start(ctx.from));
    plan.steps.push(Step::by_hand(
        "Point every other client (Beats, Elastic Agent, Logstash, applications) at the new cluster ($NEW_ES_URL)",
        "every client",
    ));
    plan.steps.push(new.retire_step(&ctx.es_url));
    plan.warnings.push(format!(
        "everything written to Elasticsearch and Kibana after {} (the full snapshot's start) is lost",
        time(snap)
    ));
    plan.warnings.push("the new cluster gets the snapshot's users, roles, settings, templates, ILM policies and licence (the full restore replaces the cluster state); the file-realm user ripcord_restore stays until you remove it".into());
    plan.warnings.push(format!(
        "the snapshot {}/{} was chosen for its global state; ripcord does not list its indices: check it holds every index you need (GET _snapshot/{}/{}) before deleting anything on the new cluster",
        snap.repository, snap.snapshot, snap.repository, snap.snapshot
    ));
    plan.warnings.push("the new nodes need the repository's access: its credentials in their keystore (s3, gcs, azure) or its path in path.repo and mounted (fs)".into());
    plan
}

/// Elastic Cloud cannot downgrade a deployment: the way back is a new deployment at `from`,
/// restored from a snapshot of this one in `found-snapshots` that an Elasticsearch `from` can
/// restore (taken by `from` or older, before the upgrade).
fn cloud_new_deployment(ctx: &Ctx<'_>) -> Plan {
    let restorable_into_from = |s: &&SnapshotChoice| {
        s.version.as_deref().is_some_and(|v| {
            crate::base::version::compare(v, ctx.from)
                .is_ok_and(|o| o != std::cmp::Ordering::Greater)
        })
    };
    let snapshot = ctx
        .derived
        .es_rollback_snapshot
        .as_ref()
        .filter(restorable_into_from)
        .or_else(|| {
            ctx.derived
                .kibana_snapshot
                .as_ref()
                .filter(restorable_into_from)
        });
    let deployment = ctx
        .bundle
        .facts
        .cluster
        .as_ref()
        .and_then(|c| c.cluster_name.clone())
        .unwrap_or_else(|| "this deployment".into());
    let Some(snap) = snapshot else {
        let mut plan = no_way_back(ctx);
        plan.warnings.insert(0, format!("Elastic Cloud cannot downgrade a deployment, and no snapshot of {deployment} taken by Elasticsearch {} or older predates the upgrade, so no new deployment at {} can be restored", ctx.from, ctx.from));
        return plan;
    };
    let mut plan = Plan {
        title: title(ctx, " on Elastic Cloud: a new deployment"),
        headline: format!(
            "Rollback possible on Elastic Cloud: a new deployment at {} restored from {}/{} (started {}); a deployment cannot be downgraded",
            ctx.from,
            snap.repository,
            snap.snapshot,
            time(snap)
        ),
        ..Plan::default()
    };
    plan.steps.push(Step {
        id: "cloud-new-deployment".into(),
        check: Vec::new(),
        verify: Vec::new(),
        on_failure: String::new(),
        every_run: false,
        title: format!(
            "Stop every client that writes to {deployment} (Beats, Elastic Agent, Logstash, applications): nothing written from now on is in the snapshot"
        ),
        run_on: "every client of the upgraded deployment".into(),
        commands: vec![],
        request: None,
    });
    let how = if snap.repository == "found-snapshots" {
        format!(
            "under \"Restore snapshot data\" pick {deployment} and its snapshot {}",
            snap.snapshot
        )
    } else {
        format!(
            "then register repository {} there, read-only, and restore {} from it with the cluster state (the console offers found-snapshots only)",
            snap.repository, snap.snapshot
        )
    };
    plan.steps.push(Step {
        id: "cloud-restore".into(),
        check: Vec::new(),
        verify: Vec::new(),
        on_failure: String::new(),
        every_run: false,
        title: format!(
            "In the Elastic Cloud console, create a deployment at version {}, {how}",
            ctx.from
        ),
        run_on: "Elastic Cloud console".into(),
        commands: vec![],
        request: None,
    });
    plan.steps.push(Step {
        id: "cloud-start-kibana".into(),
        check: Vec::new(),
        verify: Vec::new(),
        on_failure: String::new(),
        every_run: false,
        title: format!(
            "Verify: the new deployment's Elasticsearch and Kibana report {} and are healthy (console, or GET /api/status on its Kibana endpoint)",
            ctx.from
        ),
        run_on: "Elastic Cloud console".into(),
        commands: vec![],
        request: None,
    });
    plan.steps.push(Step {
        id: "cloud-repoint-clients".into(),
        check: Vec::new(),
        verify: Vec::new(),
        on_failure: String::new(),
        every_run: false,
        title: "Point every client at the new deployment (its Cloud ID and endpoints are new)"
            .into(),
        run_on: "every client".into(),
        commands: vec![],
        request: None,
    });
    plan.steps.push(Step::by_hand(
        format!("Once the new deployment is verified, delete the upgraded deployment {deployment} (keep it until you are sure)"),
        "Elastic Cloud console",
    ));
    plan.warnings.push(format!(
        "everything written to Elasticsearch and Kibana after {} (the snapshot's start) is lost",
        time(snap)
    ));
    plan
}

fn register_repository_step(ctx: &Ctx<'_>, new: &NewCluster, name: &str) -> Step {
    let repo = ctx
        .bundle
        .facts
        .repositories
        .iter()
        .flatten()
        .find(|r| r.name == name);
    let path = format!("/_snapshot/{}", crate::collect::http::encode_segment(name));
    let title = format!(
        "Register repository {name} on the new cluster, read-only (the upgraded cluster may still write to it)"
    );
    match repo.and_then(|r| r.kind.clone().map(|k| (r, k))) {
        Some((r, kind)) => {
            let mut settings = r.settings.clone();
            settings.insert("readonly".into(), json!(true));
            let body = json!({ "type": kind, "settings": settings });
            Step {
                id: "register-repository".into(),
                check: Vec::new(),
                verify: Vec::new(),
                on_failure: String::new(),
                every_run: false,
                title,
                run_on: "the new cluster ($NEW_ES_URL)".into(),
                commands: vec![new.curl.put(commands::NEW_ES_URL, &path, &body)],
                request: Some(Request {
                    method: "PUT".into(),
                    path,
                    body,
                }),
            }
        }
        // Not collected: copy the definition from the upgraded cluster as it is now.
        None => Step {
            id: "register-repository".into(),
            check: Vec::new(),
            verify: Vec::new(),
            on_failure: String::new(),
            every_run: false,
            title,
            run_on: "the new cluster ($NEW_ES_URL)".into(),
            commands: vec![sh!(
                "{} {} | jq -c {} | {} -X PUT {} -H 'Content-Type: application/json' -d @-",
                ctx.es.get(),
                url_arg(&ctx.es_url, &path),
                Word::quote(&format!(
                    ".[{}] | .settings.readonly = true",
                    serde_json::Value::String(name.to_string())
                )),
                new.curl.get(),
                url_arg(commands::NEW_ES_URL, &path)
            )],
            request: None,
        },
    }
}

/// No supported way back: the fix-forward checklist.
fn no_way_back(ctx: &Ctx<'_>) -> Plan {
    let es_too = ctx.derived.es_rollback.needed == Some(true);
    let why = if es_too {
        "Elasticsearch would have to go back too, and no full snapshot taken before the upgrade exists".to_string()
    } else {
        // derive's reason: none predates the upgrade, or the one that does cannot be restored.
        ctx.derived
            .rollback
            .basis
            .last()
            .cloned()
            .unwrap_or_else(|| {
                "no snapshot with the kibana feature state predates the upgrade".into()
            })
    };
    let mut plan = Plan {
        kind: PlanKind::NoWayBack,
        ..Plan::default()
    };
    if ctx.derived.mode == Mode::Preflight {
        plan.title = format!(
            "If this upgrade fails there is no way back from {} to {}: take a snapshot first",
            ctx.to, ctx.from
        );
        plan.headline = format!(
            "If this upgrade fails there is no way back: {why}; take a snapshot with the kibana feature state before upgrading"
        );
        plan.steps.push(snapshot_now_step(ctx, "before upgrading"));
    } else {
        plan.title = format!("No way back from {} to {}: fix forward", ctx.to, ctx.from);
        plan.headline = format!("No way back: {why}; fix forward on Kibana {}", ctx.to);
        plan.steps
            .push(snapshot_now_step(ctx, "before changing anything"));
        plan.steps.extend(ctx.kibana.restart(ctx.to));
        plan.steps.push(ctx.kibana.find_migration_error(ctx.to));
        plan.steps.push(Step::by_hand(
            "Resolve the error with Elastic's guide \"Resolve migration failures\" (the error names the cause: mappings, corrupt saved objects, routing allocation, disk)",
            "-",
        ));
        plan.warnings.push(match &ctx.derived.migration.refusal {
            Some(refusal) => format!("do not downgrade: {refusal}"),
            None => format!(
                "Kibana {} would still start (no saved-object alias points to a newer index and no newer version alias exists), but without a snapshot nothing protects the saved objects if it does not",
                ctx.from
            ),
        });
    }
    if ctx.kibana.flavor == Flavor::Cloud {
        plan.warnings.push("Elastic Cloud cannot downgrade a deployment: a way back is only a new deployment restored from a snapshot taken before the upgrade".into());
    }
    plan.warnings.push("do not delete .kibana* indices by hand: Elastic's guidance is never to delete saved-object indices to fix a failed migration; without a snapshot they are the only copy of your saved objects".into());
    plan.warnings.push(format!("guide: {MIGRATION_FAILURES}"));
    plan
}

/// Elastic's troubleshooting guide for failed saved-object migrations.
const MIGRATION_FAILURES: &str =
    "https://www.elastic.co/docs/troubleshoot/kibana/migration-failures";

/// A snapshot of the `kibana` feature state now, into a repository the facts name.
fn snapshot_now_step(ctx: &Ctx<'_>, when: &str) -> Step {
    let repository = ctx
        .derived
        .kibana_snapshot
        .as_ref()
        .map(|s| s.repository.clone())
        .or_else(|| {
            ctx.bundle
                .facts
                .repositories
                .iter()
                .flatten()
                .find(|r| {
                    r.settings.get("readonly") != Some(&json!(true))
                        && r.settings.get("readonly") != Some(&json!("true"))
                })
                .map(|r| r.name.clone())
        });
    let title = format!("Take a snapshot with the kibana feature state now, {when}");
    let Some(repository) = repository else {
        return Step {
            id: "snapshot-now".into(),
            check: Vec::new(),
            verify: Vec::new(),
            on_failure: String::new(),
            every_run: false,
            title: format!(
                "{title}: no writable snapshot repository is registered; register one first (Stack Management > Snapshot and Restore)"
            ),
            run_on: cluster_label(ctx, &ctx.es_url),
            commands: vec![],
            request: None,
        };
    };
    let name = format!(
        "ripcord-{}-{}",
        match ctx.derived.mode {
            Mode::Preflight => "pre-upgrade",
            Mode::Rollback => "fix-forward",
        },
        ctx.derived.now.strftime("%Y.%m.%d-%H%M")
    );
    let path = format!(
        "/_snapshot/{}/{}?wait_for_completion=true",
        crate::collect::http::encode_segment(&repository),
        crate::collect::http::encode_segment(&name)
    );
    let body =
        json!({ "indices": "-*", "include_global_state": false, "feature_states": ["kibana"] });
    Step {
        id: "snapshot-now".into(),
        check: Vec::new(),
        verify: Vec::new(),
        on_failure: String::new(),
        every_run: false,
        title: format!("{title} ({repository}/{name})"),
        run_on: cluster_label(ctx, &ctx.es_url),
        commands: vec![ctx.es_writer.put(&ctx.es_url, &path, &body)],
        request: Some(Request {
            method: "PUT".into(),
            path,
            body,
        }),
    }
}

fn common_warnings(ctx: &Ctx<'_>, context: &PlanContext, plan: &mut Plan) {
    if plan.steps.iter().any(|s| s.id == "start-kibana")
        && let Some(note) = ctx.kibana.auth_note(ctx.from)
    {
        plan.warnings.push(note);
    }
    if let Some(why) = &ctx.derived.es_rollback.undecided {
        plan.warnings.push(match ctx.derived.mode {
            Mode::Rollback => format!(
                "could not tell whether Kibana {} runs against every Elasticsearch node ({why}): check each node's version before starting Kibana {}; if a node is newer than Kibana {} accepts, Elasticsearch must be rolled back too",
                ctx.from, ctx.from, ctx.from
            ),
            Mode::Preflight => format!(
                "could not tell whether Elasticsearch {} would refuse Kibana {} ({why}): if it would, a failed upgrade means rolling Elasticsearch back too",
                ctx.to, ctx.from
            ),
        });
    }
    if ctx.derived.mode == Mode::Preflight && ctx.derived.es_rollback.needed == Some(true) {
        plan.warnings.push(format!(
            "during the upgrade window Elasticsearch {} refuses the running Kibana {}: Kibana is unavailable from the first upgraded node until it is upgraded too",
            ctx.to, ctx.from
        ));
    }
    let all_commands = || {
        plan.steps
            .iter()
            .chain(plan.alternatives.iter().flat_map(|a| a.steps.iter()))
            .flat_map(|s| s.commands.iter())
    };
    if all_commands().any(|c| c.starts_with("read ") || c.contains("; read ")) {
        plan.warnings.push("the commands are written for bash (read -p, read -s): paste them into bash, not sh or zsh".into());
    }
    if all_commands()
        .any(|c| c.contains("/_restore") || c.contains("-X PUT") || c.contains("/_slm/stop"))
    {
        plan.warnings.push("the restore and snapshot requests write: they authenticate with the operator's credential, RIPCORD_ES_WRITE_API_KEY (or RIPCORD_ES_WRITE_USERNAME and RIPCORD_ES_WRITE_PASSWORD), a user allowed to restore (manage, and all on the .kibana* system indices), never ripcord's read-only one; the runbook asks for it without echo and checks it first".into());
    }
    if !context.recorded {
        plan.warnings.push("the facts do not record how ripcord authenticated (a bundle from an older ripcord): the curl commands carry no credentials; add -u or an Authorization header if the cluster needs them".into());
    }
    if ctx.bundle.target.es.is_none()
        && plan
            .steps
            .iter()
            .any(|s| s.commands.iter().any(|c| c.contains("$ES_URL")))
    {
        plan.steps.insert(
            0,
            Step::setup(
                "set-es-url",
                "Set the Elasticsearch URL (none was given with --es)",
                "this shell",
                vec![sh!(
                    "[ -n \"${ES_URL:-}\" ] || read -r -p 'Elasticsearch URL (e.g. https://es:9200): ' ES_URL"
                )],
            ),
        );
    }
    if ctx.kibana.flavor == Flavor::Unknown {
        plan.warnings.push("the deployment flavour is unknown: the Kibana commands show the deb/rpm form with the other forms as comments; pass --flavor (deb, rpm, docker, tar, eck, cloud) for exact commands".into());
    }
}

fn cluster_label(ctx: &Ctx<'_>, base: &str) -> String {
    if base == commands::NEW_ES_URL {
        "the new cluster ($NEW_ES_URL)".into()
    } else {
        let _ = ctx;
        format!("Elasticsearch cluster {base}")
    }
}

fn time(s: &SnapshotChoice) -> String {
    s.start_time
        .map(|t| t.to_string())
        .unwrap_or_else(|| "an unknown time".into())
}
