//! A name a server sends must never run code in the operator's shell (DESIGN §7): hostile
//! GHES host names from the Manage API or a bundle are refused (the finding says which field
//! and why) and never reach a command; names Elasticsearch allows although they hold shell
//! syntax (`'`, `$( )`, `;`, `&`, backticks) reach commands only as quoted words; and every
//! plan built from them runs against stub host commands without running anything else.

use crate::common::{self, pipeline};
use crate::hostile::server::{Act, Hostile};
use crate::rehearse::{commands, rehearse};
use ripcord::model::report::v1::{Outcome, Report, Verdict};

/// The payloads of the report that found it, each of which runs `touch pwned` when unquoted.
pub const HOST_PAYLOADS: &[&str] = &[
    "ghe-primary$(touch${IFS}pwned)",
    "ghe-primary;touch pwned",
    "ghe-primary`touch pwned`",
    "ghe-primary&touch pwned",
    "ghe-primary\ntouch pwned",
    "ghe-primary touch pwned",
    "ghe-primary'; touch pwned; '",
    "ghe-primary>pwned",
    "-oProxyCommand=touch pwned",
];

/// A scenario's bundle with every JSON string equal to `from` replaced by `to`.
fn edited_bundle(scenario: &str, from: &str, to: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(common::facts_path(scenario)).expect("bundle");
    let mut value: serde_json::Value = serde_json::from_str(&text).expect("json");
    replace_strings(&mut value, from, to);
    value
}

fn replace_strings(value: &mut serde_json::Value, from: &str, to: &str) {
    match value {
        serde_json::Value::String(s) if s == from => *s = to.to_string(),
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(|v| replace_strings(v, from, to))
        }
        serde_json::Value::Object(map) => {
            map.values_mut().for_each(|v| replace_strings(v, from, to))
        }
        _ => {}
    }
}

async fn report_of(scenario: &str, bundle: &serde_json::Value, dir: &std::path::Path) -> Report {
    let path = dir.join("bundle.json");
    std::fs::write(&path, bundle.to_string()).expect("write bundle");
    let mut args = common::scenario_args(scenario);
    args.extend(["--facts".to_string(), path.display().to_string()]);
    pipeline::report(&args).await
}

/// What every hostile-host report must show: refused, named, and absent from every command.
fn assert_refused(case: &str, report: &Report, payload: &str, dir: &std::path::Path) {
    assert_eq!(
        report.verdict,
        Verdict::Incomplete,
        "{case}: {:?}",
        report.verdict
    );
    assert_eq!(report.exit_code, 3, "{case}");
    let unknown = report
        .findings
        .iter()
        .find(|f| f.outcome == Outcome::Unknown && f.message.contains("is not a host name"))
        .unwrap_or_else(|| {
            panic!(
                "{case}: no unknown finding names the host: {:#?}",
                report.findings
            )
        });
    assert!(
        unknown.message.contains("hostname"),
        "{case}: {}",
        unknown.message
    );
    assert!(
        report
            .collection_failures
            .iter()
            .any(|f| f.reason.contains("is not a host name")),
        "{case}: not among what could not be collected"
    );
    let all = commands(&report.plan);
    for c in &all {
        assert!(!c.contains("pwned"), "{case}: {payload:?} reached {c:?}");
    }
    rehearse(dir, &all).assert_clean(case);
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_ghes_host_names_in_a_bundle_never_reach_a_command() {
    for scenario in ["ghes-ha-patch-failure", "ghes-ha-feature-failure"] {
        for name in ["ghe-primary", "ghe-replica-1"] {
            for payload in HOST_PAYLOADS {
                let dir = tempfile::tempdir().expect("tempdir");
                let bundle = edited_bundle(scenario, name, payload);
                let report = report_of(scenario, &bundle, dir.path()).await;
                assert_refused(
                    &format!("{scenario}, {name} = {payload:?}"),
                    &report,
                    payload,
                    dir.path(),
                );
            }
        }
    }
}

#[test]
fn hostile_ghes_host_names_from_the_manage_api_never_reach_a_command() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let scenario = "ghes-ha-patch-failure";
    let folder = common::fixtures_dir()
        .join("http")
        .join(scenario)
        .join("ghes");
    for payload in HOST_PAYLOADS {
        let escaped = serde_json::to_string(payload).expect("json");
        let escaped = &escaped[1..escaped.len() - 1];
        let routes: Vec<(&str, Act)> = [
            ("/manage/v1/version", "version.json"),
            ("/manage/v1/config/nodes", "config-nodes.json"),
            ("/manage/v1/replication/status", "replication-status.json"),
            ("/manage/v1/maintenance", "maintenance.json"),
            (
                "/manage/v1/checks/system-requirements",
                "system-requirements.json",
            ),
        ]
        .into_iter()
        .map(|(path, file)| {
            let body = std::fs::read_to_string(folder.join(file)).expect("fixture");
            (
                path,
                Act::Json(
                    200,
                    body.replace("\"ghe-primary\"", &format!("\"{escaped}\"")),
                ),
            )
        })
        .collect();
        let server = Hostile::start(&routes, Act::Json(404, "{}".into()));
        let dir = tempfile::tempdir().expect("tempdir");
        let mut args = common::scenario_args(scenario);
        args.extend(["--ghes".to_string(), server.url.clone()]);
        let report = runtime.block_on(pipeline::report(&args));
        assert_refused(
            &format!("live, primary = {payload:?}"),
            &report,
            payload,
            dir.path(),
        );
        assert_eq!(server.not_get(), 0);
    }
}

/// A snapshot name Elasticsearch accepts (no space, `,`, `#`, `"`, `\`, `/`, `*`, `?`, `<`,
/// `>`, `|`; lowercase) that is shell syntax through and through.
/// (Lowercase, so the command it would run is the stub `pwned`.)
const SNAPSHOT_PAYLOAD: &str = "nightly-'$(pwned)'-;pwned;&&pwned&`pwned`";

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_and_repository_names_reach_commands_only_as_quoted_words() {
    for scenario in [
        "failed-minor-upgrade",
        "failed-major-skip",
        "rollback-no-snapshot",
    ] {
        let baseline = pipeline::report(&{
            let mut a = common::scenario_args(scenario);
            a.extend(["--facts".to_string(), common::facts_path(scenario)]);
            a
        })
        .await;
        let Some(snapshot) = baseline.plan.snapshot.clone() else {
            continue;
        };
        let mut bundle = edited_bundle(scenario, &snapshot.name, SNAPSHOT_PAYLOAD);
        if let Some(repository) = &snapshot.repository {
            replace_strings(&mut bundle, repository, "backups-'$(pwned)'&pwned");
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let report = report_of(scenario, &bundle, dir.path()).await;
        assert_eq!(
            report.plan.snapshot.as_ref().map(|s| s.name.as_str()),
            Some(SNAPSHOT_PAYLOAD),
            "{scenario}: the hostile name is a valid snapshot name and is still chosen"
        );
        let all = commands(&report.plan);
        let rehearsal = rehearse(dir.path(), &all);
        rehearsal.assert_clean(scenario);
        // The restore request's URL reached curl as one word, the name inside it whole.
        let restore = report
            .plan
            .steps
            .iter()
            .chain(report.plan.alternatives.iter().flat_map(|a| a.steps.iter()))
            .filter_map(|s| s.request.as_ref())
            .find(|r| r.path.contains("/_restore"))
            .unwrap_or_else(|| panic!("{scenario}: no restore request"));
        assert!(
            rehearsal
                .calls
                .iter()
                .filter(|c| c[0] == "curl")
                .any(|c| c.iter().any(|a| a.ends_with(&restore.path))),
            "{scenario}: no curl was given {:?} as its URL: {:?}",
            restore.path,
            rehearsal.calls
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_cluster_uuid_is_refused() {
    let scenario = "failed-major-skip";
    let text = std::fs::read_to_string(common::facts_path(scenario)).expect("bundle");
    let mut bundle: serde_json::Value = serde_json::from_str(&text).expect("json");
    bundle["elastic"]["cluster"]["cluster_uuid"] = "x'$(touch${IFS}pwned)'".into();
    let dir = tempfile::tempdir().expect("tempdir");
    let report = report_of(scenario, &bundle, dir.path()).await;
    assert!(
        report
            .collection_failures
            .iter()
            .any(|f| f.reason.contains("cluster_uuid") && f.reason.contains("is not an identifier")),
        "{:?}",
        report.collection_failures
    );
    let all = commands(&report.plan);
    assert!(all.iter().all(|c| !c.contains("pwned")));
    rehearse(dir.path(), &all).assert_clean(scenario);
}

#[test]
fn a_recorded_variable_name_that_is_shell_syntax_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(common::facts_path("failed-minor-upgrade-api-key"))
        .expect("bundle");
    let mut bundle: serde_json::Value = serde_json::from_str(&text).expect("json");
    bundle["connection"]["auth"]["es"]["variables"] = serde_json::json!(["X}$(touch pwned)"]);
    let path = dir.path().join("b.json");
    std::fs::write(&path, bundle.to_string()).expect("write");
    let mut args = common::scenario_args("failed-minor-upgrade-api-key");
    args.extend(["--facts".to_string(), path.display().to_string()]);
    let out = common::Ripcord::new(&args).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("is not a variable name"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_replica_flag_must_name_a_host() {
    let out = common::Ripcord::new(&[
        "rollback",
        "ghes",
        "--from",
        "3.17.8",
        "--to",
        "3.17.9",
        "--replica",
        "r$(touch pwned)=3.17.8",
    ])
    .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("is not a host name"), "{}", out.stderr);
}

/// One module builds shell words: a plan command is a `Line`, and only `sh!` (in
/// `src/model/plan/shell.rs`) makes one; nothing else may implement what fills its holes.
#[test]
fn only_the_shell_module_builds_commands() {
    let mut offenders = Vec::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.ends_with("plan/shell.rs") || path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            for (n, line) in text.lines().enumerate() {
                if line.contains("__fill")
                    || line.contains("Sealed for")
                    || line.contains("Part for")
                    || line.contains("shell_quote")
                {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "shell words built outside src/model/plan/shell.rs: {offenders:#?}"
    );
}

/// A bundle cannot choose which of the operator's variables a pasted command sends, nor
/// turn TLS verification off: a foreign credential variable and a recorded `--insecure` are
/// left out of the plan, and the report says so.
#[test]
fn a_bundle_cannot_pick_the_credential_a_command_sends_or_drop_tls_checks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(common::facts_path("failed-minor-upgrade-api-key"))
        .expect("bundle");
    let mut bundle: serde_json::Value = serde_json::from_str(&text).expect("json");
    bundle["connection"]["auth"]["es"]["variables"] = serde_json::json!(["AWS_SECRET_ACCESS_KEY"]);
    bundle["connection"]["insecure"] = true.into();
    let path = dir.path().join("b.json");
    std::fs::write(&path, bundle.to_string()).expect("write");
    let mut args = common::scenario_args("failed-minor-upgrade-api-key");
    args.extend(["--facts".to_string(), path.display().to_string()]);
    args.extend(["--format".to_string(), "json".to_string()]);
    let out = common::Ripcord::new(&args).run();
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("report");
    let commands = serde_json::to_string(&report["plan"]).expect("plan");
    assert!(!commands.contains("AWS_SECRET_ACCESS_KEY"), "{commands}");
    assert!(!commands.contains(" -k"), "{commands}");
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("$AWS_SECRET_ACCESS_KEY") && warnings.contains("--insecure"),
        "{warnings}"
    );
    // This run's own --insecure brings -k back.
    let out = common::Ripcord::new(&args).args(&["--insecure"]).run();
    assert!(out.stdout.contains(" -k"), "{}", out.stderr);
}
