//! CLI contract: exit codes, formats, flags, secrets, read-only, bundle round trip.

use crate::common::{
    self, Ripcord, args, facts_path as facts, ripcord, scenario_args, scenario_collect_args,
};

/// Runs the binary with `args` and `env` set.
fn ripcord_env(args: &[String], env: &[(&str, &str)]) -> (String, String, i32) {
    let out = env
        .iter()
        .fold(Ripcord::new(args), |r, (k, v)| r.env(k, v))
        .run();
    (out.stdout, out.stderr, out.code)
}

async fn live(name: &str, extra: &[&str]) -> (String, String, i32) {
    let s = common::start(name).await;
    let mut a = scenario_args(name);
    a.extend(s.target_args());
    a.extend(args(extra));
    let env = common::manifest(name)
        .run
        .map(|r| r.env)
        .unwrap_or_default();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (out, err, code) = ripcord_env(&a, &env);
    s.assert_read_only(name).await;
    (s.normalize(&out), s.normalize(&err), code)
}

/// Evaluates scenario `name`'s bundle with `extra` flags: stdout, stderr, exit code.
pub fn offline(name: &str, extra: &[&str]) -> (String, String, i32) {
    let mut a = scenario_args(name);
    a.retain(|x| x != "--timeout" && x != "1");
    a.extend(args(&["--facts", &facts(name)]));
    a.extend(args(extra));
    ripcord(&a)
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_follow_the_contract() {
    assert_eq!(live("healthy-preflight", &[]).await.2, 0, "ready");
    assert_eq!(live("major-7-to-8", &[]).await.2, 1, "a blocker failed");
    assert_eq!(
        live("es-unauthorized", &[]).await.2,
        3,
        "blockers unknown, none failed"
    );
    assert_eq!(
        live("unparsable-version", &[]).await.2,
        1,
        "Kibana counts a node whose version is not SemVer as incompatible"
    );
    assert_eq!(
        live("failed-minor-upgrade", &[]).await.2,
        0,
        "only warnings failed"
    );
    assert_eq!(
        live("failed-minor-upgrade", &["--fail-on", "warning"])
            .await
            .2,
        1,
        "--fail-on warning"
    );
    assert_eq!(
        live("failed-major-skip", &[]).await.2,
        1,
        "ES must be rolled back too"
    );
    assert_eq!(live("rollback-no-snapshot", &[]).await.2, 1, "no way back");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_gives_the_live_findings() {
    for name in common::scenarios() {
        let (live_out, _, live_code) = live(&name, &["--format", "json"]).await;
        let (facts_out, err, facts_code) = offline(&name, &["--format", "json"]);
        assert_eq!(live_code, facts_code, "{name}: {err}");
        let a: serde_json::Value = serde_json::from_str(&live_out).expect("json");
        let b: serde_json::Value = serde_json::from_str(&facts_out).expect("json");
        assert_eq!(a["findings"], b["findings"], "{name}");
        // Live, the Kibana hosts are this machine (loopback): their commands run directly,
        // where the bundle's named hosts get them over ssh.
        let mut b = b;
        run_here(&mut b["plan"]);
        assert_eq!(a["plan"], b["plan"], "{name}");
        assert_eq!(a["verdict"], b["verdict"], "{name}");
    }
}

/// A Kibana host command as it runs on this machine: `ssh "${KIBANA_1_SSH:-kb-1.example}" --
/// 'CMD'` becomes `CMD`.
fn run_here(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(rest) = s.strip_prefix("ssh \"${KIBANA_")
                && let Some((_, remote)) = rest.split_once("}\" -- ")
                && let Some(words) = shlex::split(remote)
                && let [one] = words.as_slice()
            {
                *s = one.clone();
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(run_here),
        serde_json::Value::Object(map) => map.values_mut().for_each(run_here),
        _ => {}
    }
}

#[test]
fn formats_snapshot() {
    for format in ["table", "markdown", "junit", "json"] {
        let (out, err, code) = offline("failed-minor-upgrade", &["--format", format]);
        assert_eq!(code, 0, "{err}");
        insta::assert_snapshot!(format!("failed-minor-upgrade.{format}"), out);
    }
    let (out, _, code) = offline("failed-major-skip", &["--format", "table"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("failed-major-skip.table", out);
    let (out, _, code) = offline("healthy-preflight", &["--format", "markdown"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("healthy-preflight.markdown", out);
    let (out, _, code) = offline("ghes-ha-feature-failure", &["--format", "table"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("ghes-ha-feature-failure.table", out);
    let (out, _, code) = offline("ghes-ha-patch-failure", &["--format", "markdown"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("ghes-ha-patch-failure.markdown", out);
}

#[test]
fn json_report_has_the_contract_fields() {
    let (out, _, code) = offline("failed-major-skip", &["--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "ripcord.report/v1");
    assert_eq!(v["product"], "elastic");
    assert_eq!(v["mode"], "rollback");
    assert_eq!(v["upgrade"]["from"], "8.17.3");
    assert_eq!(v["upgrade"]["to"], "9.0.0");
    assert_eq!(v["verdict"], "not_ready");
    assert_eq!(v["exit_code"], 1);
    for k in ["pass", "fail", "skip", "unknown", "error"] {
        assert!(v["summary"][k].is_u64(), "summary.{k}");
    }
    for f in v["findings"].as_array().unwrap() {
        for k in [
            "rule",
            "title",
            "severity",
            "outcome",
            "message",
            "evidence",
            "remediation",
            "docs",
        ] {
            assert!(!f[k].is_null(), "finding.{k}");
        }
    }
    let steps = v["plan"]["steps"].as_array().unwrap();
    let restore = steps
        .iter()
        .find(|s| {
            s["request"]["path"]
                == "/_snapshot/backups/pre-upgrade-full-8.17.3/_restore?wait_for_completion=true"
        })
        .expect("full restore");
    assert_eq!(restore["request"]["method"], "POST");
    assert_eq!(
        restore["request"]["body"],
        serde_json::json!({"indices": "*", "include_global_state": true})
    );
    assert!(
        v["plan"]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("2026-11-20T01:00:00Z"))
    );
}

#[test]
fn rollback_plan_restores_the_kibana_feature_state_exactly() {
    let (out, _, _) = offline("failed-minor-upgrade", &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let steps = v["plan"]["steps"].as_array().unwrap();
    let ids: Vec<&str> = steps.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "check-drift",
            "stop-kibana",
            "restore-kibana-state",
            "start-kibana"
        ]
    );
    let steps = &steps[1..];
    assert!(
        steps[0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Stop every Kibana instance")
    );
    assert_eq!(
        steps[1]["request"]["path"],
        "/_snapshot/backups/pre-upgrade-8.17.3-2026.11.20/_restore?wait_for_completion=true"
    );
    assert_eq!(
        steps[1]["request"]["body"],
        serde_json::json!({"indices": "-*", "feature_states": ["kibana"]})
    );
    assert_eq!(
        steps[1]["commands"][0],
        "curl -sS -X POST 'https://es.example:9200/_snapshot/backups/pre-upgrade-8.17.3-2026.11.20/_restore?wait_for_completion=true' -H 'Content-Type: application/json' -d '{\"indices\":\"-*\",\"feature_states\":[\"kibana\"]}' --max-time \"${RIPCORD_RUNBOOK_WAIT:-600}\" -o restore-kibana-state.json -w 'HTTP %{http_code}\\n'"
    );
    // Gated: every Kibana refuses connections first; the answer is checked after.
    let checks: Vec<&str> = steps[1]["check"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert!(checks.iter().all(|c| c.contains("-eq 7")), "{checks:?}");
    assert!(
        steps[1]["verify"][0]
            .as_str()
            .unwrap()
            .contains(".failed == 0 and .total > 0 and .successful == .total")
    );
    assert_eq!(
        steps[2]["title"],
        "Install Kibana 8.17.3 and start every instance"
    );
    assert_eq!(steps[2]["request"]["path"], "/api/status");
    assert!(
        steps[2]["verify"][0]
            .as_str()
            .unwrap()
            .contains(".version.number == $v and .status.overall.level == \"available\"")
    );
}

/// The auth *method* is recorded at collection (never the secret), and the plan's curl
/// commands name the variables it came from wherever the bundle is evaluated: here with no
/// credential in the environment at all.
#[tokio::test(flavor = "multi_thread")]
async fn curl_commands_authenticate_as_the_collection_did() {
    let s = common::start("failed-minor-upgrade").await;
    let dir = tempfile::tempdir().unwrap();
    for (i, (env, es_auth, kibana_auth)) in [
        (
            vec![("RIPCORD_ES_API_KEY", "c2VjcmV0LWtleS1kby1ub3QtcHJpbnQ=")],
            "-H \"Authorization: ApiKey $RIPCORD_ES_API_KEY\"",
            "-H \"Authorization: ApiKey $RIPCORD_ES_API_KEY\"",
        ),
        (
            vec![
                ("RIPCORD_ES_USERNAME", "elastic"),
                ("RIPCORD_ES_PASSWORD", "hunter2-do-not-print"),
                ("RIPCORD_KIBANA_API_KEY", "a2liYW5hLWtleS1kby1ub3QtcHJpbnQ="),
            ],
            "-u \"$RIPCORD_ES_USERNAME:$RIPCORD_ES_PASSWORD\"",
            "-H \"Authorization: ApiKey $RIPCORD_KIBANA_API_KEY\"",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let bundle = dir.path().join(format!("facts-{i}.json"));
        let mut a = scenario_collect_args("failed-minor-upgrade");
        a.extend(s.target_args());
        a.extend(args(&["--output", bundle.to_str().unwrap()]));
        let (_, err, code) = ripcord_env(&a, &env);
        assert_eq!(code, 0, "{err}");
        let text = std::fs::read_to_string(&bundle).unwrap();
        for (_, secret) in &env {
            if *secret != "elastic" {
                assert!(!text.contains(secret), "the bundle records no secret");
            }
        }
        let mut a = scenario_args("failed-minor-upgrade");
        a.extend(args(&[
            "--facts",
            bundle.to_str().unwrap(),
            "--format",
            "json",
        ]));
        let (out, err, _) = ripcord(&a);
        let v: serde_json::Value = serde_json::from_str(&out).expect(&err);
        let commands: Vec<&str> = v["plan"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["commands"].as_array().unwrap())
            .filter_map(|c| c.as_str())
            .collect();
        let restore = commands.iter().find(|c| c.contains("/_restore")).unwrap();
        // Writes carry the operator's credential, never the read-only one collected with.
        assert!(
            restore.contains("$RIPCORD_ES_WRITE_API_KEY") && !restore.contains(es_auth),
            "{restore}"
        );
        let drift = v["plan"]["steps"][0]["check"][0]
            .as_str()
            .unwrap_or_default();
        assert!(
            drift.contains(es_auth),
            "reads keep the collection's: {drift}"
        );
        let verify: Vec<&str> = v["plan"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["verify"].as_array().unwrap())
            .filter_map(|c| c.as_str())
            .filter(|c| c.contains("/api/status 2>/dev/null | jq"))
            .collect();
        assert!(!verify.is_empty());
        for c in verify {
            assert!(c.contains(kibana_auth), "{c}");
        }
        for (_, secret) in &env {
            if *secret != "elastic" {
                assert!(!out.contains(secret));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_stdout_stderr_or_bundle() {
    let secret = "hunter2-Sup3r-s3cret";
    let basic = base64_of(&format!("elastic:{secret}"));
    let s = common::start("failed-minor-upgrade").await;
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("facts.json");
    for mode in ["collect", "rollback"] {
        let mut a = args(&[mode, "elastic", "-v", "--no-progress"]);
        a.extend(s.target_args());
        if mode == "collect" {
            a.extend(args(&["--output", bundle.to_str().unwrap()]));
        } else {
            a.extend(args(&["--format", "json"]));
        }
        let (out, err, code) = ripcord_env(
            &a,
            &[
                ("RIPCORD_ES_USERNAME", "elastic"),
                ("RIPCORD_ES_PASSWORD", secret),
            ],
        );
        assert!(code == 0 || code == 1, "{err}");
        for text in [&out, &err] {
            assert!(
                !text.contains(secret) && !text.contains(&basic),
                "secret leaked in {mode}"
            );
        }
        assert!(err.contains("GET "), "-v logs requests: {err}");
        assert!(
            !err.to_lowercase().contains("authorization"),
            "-v never logs headers"
        );
    }
    let text = std::fs::read_to_string(&bundle).unwrap();
    assert!(!text.contains(secret) && !text.contains(&basic));
    // The credentials did reach the server.
    let received = s.es.as_ref().unwrap().received_requests().await.unwrap();
    assert!(received.iter().all(|r| {
        r.headers
            .get("authorization")
            .is_some_and(|h| h.to_str().unwrap() == format!("Basic {basic}"))
    }));
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_then_evaluate_round_trip() {
    let s = common::start("healthy-preflight").await;
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("facts.json");
    let mut a = args(&[
        "collect",
        "elastic",
        "--no-progress",
        "--to",
        "8.15.3",
        "--now",
        "2026-11-20T12:00:00Z",
        "--output",
        bundle.to_str().unwrap(),
    ]);
    a.extend(s.target_args());
    let (_, err, code) = ripcord(&a);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote"), "{err}");
    // `--to` given at collection is recorded, so preflight needs nothing more.
    let (out, err, code) = ripcord(&args(&[
        "preflight",
        "elastic",
        "--facts",
        bundle.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{err}{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["upgrade"]["to"], "8.15.3");
    let text = std::fs::read_to_string(&bundle).unwrap();
    let b: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(b["schema"], "ripcord.facts/v1");
    assert!(
        b["requests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["method"] == "GET")
    );
}

#[test]
fn bad_bundles_are_exit_2_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(facts("healthy-preflight")).unwrap();
    let truncated = dir.path().join("truncated.json");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let (_, err, code) = ripcord(&args(&[
        "preflight",
        "elastic",
        "--to",
        "8.15.3",
        "--facts",
        truncated.to_str().unwrap(),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("truncated.json"), "{err}");
    assert!(err.contains("line"), "{err}");
    let wrong = dir.path().join("wrong.json");
    std::fs::write(
        &wrong,
        good.replacen("\"status\": \"green\"", "\"status\": 7", 1),
    )
    .unwrap();
    let (_, err, code) = ripcord(&args(&[
        "preflight",
        "elastic",
        "--to",
        "8.15.3",
        "--facts",
        wrong.to_str().unwrap(),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("elastic.health.status"), "field path: {err}");
    let (_, err, code) = ripcord(&args(&[
        "rollback",
        "elastic",
        "--facts",
        "/nonexistent/facts.json",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/facts.json"), "{err}");
}

#[test]
fn bad_arguments_are_exit_2() {
    let cases: &[&[&str]] = &[
        &["preflight", "elastic", "--es", "http://127.0.0.1:9"],
        &["rollback", "elastic"],
        &["rollback", "elastic", "--es", "not a url"],
        &[
            "preflight",
            "elastic",
            "--to",
            "banana",
            "--facts",
            "x.json",
        ],
        &["rollback", "elastic", "--format", "xml"],
        &["rules", "frobnicate"],
    ];
    for c in cases {
        let (_, err, code) = ripcord(&args(c));
        assert_eq!(code, 2, "{c:?}: {err}");
        assert!(!err.is_empty());
    }
    // A bundle that recorded no `--to` (a rollback's) cannot be judged as a preflight.
    let (_, err, code) = ripcord(&args(&[
        "preflight",
        "elastic",
        "--facts",
        &facts("failed-minor-upgrade"),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("--to"), "{err}");
}

#[test]
fn invalid_rules_dir_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), "id = \"bad\"\n").unwrap();
    let (_, err, code) = ripcord(&args(&[
        "rollback",
        "elastic",
        "--facts",
        &facts("failed-minor-upgrade"),
        "--rules",
        dir.path().to_str().unwrap(),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("bad.toml:"), "{err}");
}

#[test]
fn help_documents_exit_codes_and_environment() {
    for a in [
        vec!["--help"],
        vec!["rollback", "elastic", "--help"],
        vec!["preflight", "elastic", "--help"],
    ] {
        let (out, _, code) = ripcord(&args(&a));
        assert_eq!(code, 0);
        assert!(
            out.contains("Exit codes:")
                && out.contains("RIPCORD_ES_API_KEY")
                && out.contains("RIPCORD_KIBANA_PASSWORD"),
            "{out}"
        );
    }
    let (out, _, _) = ripcord(&args(&["preflight", "elastic", "--help"]));
    assert!(
        out.contains("--now <RFC3339>"),
        "--now is documented for two-stage pipelines"
    );
    for flag in [
        "--es",
        "--kibana",
        "--to",
        "--from",
        "--facts",
        "--format",
        "--fail-on",
        "--rules",
        "--timeout",
        "--ca-cert",
        "--insecure",
        "--no-progress",
        "--verbose",
        "--upgrade-started-at",
    ] {
        assert!(out.contains(flag), "{flag}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn insecure_is_loudly_warned_and_no_spinner_off_tty() {
    let (_, err, _) = live("healthy-preflight", &["--insecure"]).await;
    assert!(err.contains("WARNING: --insecure"), "{err}");
    let s = common::start("healthy-preflight").await;
    let mut a = args(&[
        "preflight",
        "elastic",
        "--to",
        "8.15.3",
        "--now",
        "2026-11-20T12:00:00Z",
    ]);
    a.extend(s.target_args());
    let (_, err, code) = ripcord(&a);
    assert_eq!(code, 0);
    assert!(
        !err.contains("collecting facts"),
        "no spinner when stderr is not a terminal: {err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_override_inferred_versions() {
    let (out, _, _) = live(
        "failed-minor-upgrade",
        &[
            "--format",
            "json",
            "--from",
            "8.16.1",
            "--upgrade-started-at",
            "2026-11-20T01:00:00Z",
        ],
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["upgrade"]["from"], "8.16.1");
    assert_eq!(v["upgrade"]["from_source"], "--from");
    assert_eq!(v["upgrade"]["started_at"], "2026-11-20T01:00:00Z");
    // Nothing with the kibana feature state is older than 01:00 but the weekly snapshot.
    let ks = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "kibana-snapshot")
        .unwrap();
    assert_eq!(ks["evidence"]["snapshot"], "weekly-2026.11.15");
}

#[tokio::test(flavor = "multi_thread")]
async fn ghes_exit_codes_and_plans() {
    assert_eq!(live("ghes-single-node", &[]).await.2, 0, "ready");
    assert_eq!(
        live("ghes-replication-critical", &[]).await.2,
        1,
        "replication CRITICAL, no VM snapshot"
    );
    // Every request refused: nothing to judge, one line naming the root cause (exit 2).
    let (out, err, code) = live("ghes-unauthorized", &[]).await;
    assert_eq!((code, out.as_str()), (2, ""), "401 everywhere: {err}");
    assert!(
        err.contains("nothing could be collected from ")
            && err.contains("HTTP 401: empty body, on 5 requests (GET /manage/v1/")
            && err.contains("no credentials were set: set RIPCORD_GHES_PASSWORD"),
        "{err}"
    );
    assert_eq!(err.matches("HTTP 401").count(), 1, "one line: {err}");
    let (out, _, code) = live("ghes-ha-patch-failure", &["--format", "json"]).await;
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["product"], "ghes");
    assert_eq!(v["upgrade"]["from"], "3.17.8");
    assert_eq!(v["upgrade"]["to"], "3.17.9");
    assert_eq!(v["upgrade"]["kind"], "patch");
    let commands: Vec<String> = v["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["commands"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
        })
        .collect();
    assert!(commands.contains(&"ssh -p 122 admin@ghe-primary -- 'ghe-upgrade -y --allow-patch-rollback github-enterprise-ami-3.17.8.pkg'".to_string()));
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("ssh -p 122 admin@ghe-primary -- 'sudo reboot' || true"))
    );
    // 3.17 on both ends: ghe-repl-stop-all on the primary.
    assert!(commands.contains(&"ssh -p 122 admin@ghe-primary -- ghe-repl-stop-all".to_string()));
    // Pasted on a jump host, nothing may run there: every appliance command is one ssh.
    for c in &commands {
        assert!(c.starts_with("ssh ") && c.contains(" -- "), "{c}");
    }
    assert!(commands.contains(&"ssh -p 122 admin@ghe-primary -- ghe-repl-start-all".to_string()));
    assert!(
        commands.iter().any(|c| c.contains("ghe-repl-stop-all")),
        "3.17 on both ends has -all"
    );
    assert!(
        !commands.iter().any(|c| c.contains(".hpkg ")),
        "never a hotpatch"
    );
    // The primary answers: fenced in maintenance mode first, then the replica is promoted.
    assert_eq!(
        v["plan"]["alternatives"][0]["steps"][0]["commands"][0],
        "ssh -p 122 admin@ghe-primary -- 'ghe-maintenance -s'"
    );
    assert_eq!(
        v["plan"]["alternatives"][0]["steps"][1]["commands"][0],
        "ssh -p 122 admin@ghe-replica-1 -- ghe-repl-promote"
    );
    // 3.13: no -all commands.
    let (out, _, _) = live("ghes-ha-3-13", &["--format", "json"]).await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let commands: Vec<&str> = v["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["commands"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c.as_str())
        })
        .collect();
    assert!(
        !commands
            .iter()
            .any(|c| c.contains("ghe-repl-stop-all") || c.contains("ghe-repl-start-all")),
        "3.13 has no -all commands: {commands:?}"
    );
    assert!(
        commands.contains(&"ssh -p 122 admin@ghe-replica-1 -- ghe-repl-stop"),
        "{commands:?}"
    );
    assert!(
        commands.contains(&"ssh -p 122 admin@ghe-replica-1 -- ghe-repl-start"),
        "{commands:?}"
    );
}

#[test]
fn ghes_primary_down_from_flags_only() {
    let (out, err, code) = ripcord(
        &scenario_args("ghes-primary-down")
            .into_iter()
            .chain(args(&["--format", "json"]))
            .collect::<Vec<_>>(),
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["source"]["kind"], "flags");
    assert_eq!(v["upgrade"]["kind"], "feature");
    let steps = v["plan"]["steps"].as_array().unwrap();
    assert!(
        steps.iter().any(|s| s["title"]
            .as_str()
            .unwrap()
            .contains("EBS disk snapshots snap-0a1b2c of the root and data volumes")),
        "{steps:?}"
    );
    assert!(
        v["plan"]["alternatives"][0]["title"]
            .as_str()
            .unwrap()
            .contains("ghe-replica-1")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ghes_password_never_printed_and_sent_as_api_key_user() {
    let secret = "r00t-Site-Admin-pw";
    let s = common::start("ghes-single-node").await;
    let mut a = args(&[
        "preflight",
        "ghes",
        "--to",
        "3.19.2",
        "-v",
        "--format",
        "json",
        "--now",
        "2026-11-20T12:00:00Z",
    ]);
    a.extend(s.target_args());
    let (out, err, _) = ripcord_env(&a, &[("RIPCORD_GHES_PASSWORD", secret)]);
    let basic = base64_of(&format!("api_key:{secret}"));
    for text in [&out, &err] {
        assert!(!text.contains(secret) && !text.contains(&basic));
    }
    let received = s.ghes.as_ref().unwrap().received_requests().await.unwrap();
    assert!(!received.is_empty());
    assert!(received.iter().all(|r| r.method.as_str() == "GET"));
    assert!(received.iter().all(|r| {
        r.headers
            .get("authorization")
            .is_some_and(|h| h.to_str().unwrap() == format!("Basic {basic}"))
    }));
}

#[test]
fn a_bundle_of_another_product_or_with_an_unknown_field_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // Keys sorted (`jq -S`): the GHES facts key comes before `product`.
    let ghes: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(facts("ghes-single-node")).unwrap()).unwrap();
    let sorted = dir.path().join("sorted.json");
    let keys: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_value(ghes).unwrap();
    std::fs::write(&sorted, serde_json::to_string_pretty(&keys).unwrap()).unwrap();
    let (_, err, code) = ripcord(&args(&[
        "rollback",
        "elastic",
        "--facts",
        sorted.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("is for product \"ghes\", not \"elastic\""),
        "{err}"
    );
    let extra = dir.path().join("extra.json");
    let good = std::fs::read_to_string(facts("failed-minor-upgrade")).unwrap();
    std::fs::write(
        &extra,
        good.replacen("\"failures\":", "\"extra\": 1,\n  \"failures\":", 1),
    )
    .unwrap();
    let (_, err, code) = ripcord(&args(&[
        "rollback",
        "elastic",
        "--facts",
        extra.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("at `extra`: unknown field `extra`"), "{err}");
}

#[test]
fn a_bundle_with_its_keys_sorted_gives_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let bundle: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(facts("failed-minor-upgrade")).unwrap())
            .unwrap();
    let sorted = dir.path().join("sorted.json");
    std::fs::write(&sorted, serde_json::to_string(&bundle).unwrap()).unwrap();
    let run = |path: &str| {
        // One clock: the plan's snapshot age is measured at the report's time.
        let (out, err, code) = ripcord(&args(&[
            "rollback",
            "elastic",
            "--facts",
            path,
            "--format",
            "json",
            "--now",
            "2026-11-22T12:00:00Z",
        ]));
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (v["findings"].clone(), v["plan"].clone())
    };
    assert_eq!(
        run(sorted.to_str().unwrap()),
        run(&facts("failed-minor-upgrade"))
    );
}

#[test]
fn odd_bundles_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(facts("failed-minor-upgrade")).unwrap();
    let run = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (_, err, code) = ripcord(&args(&[
            "rollback",
            "elastic",
            "--facts",
            path.to_str().unwrap(),
        ]));
        assert_eq!(code, 2, "{name}: {err}");
        err
    };
    let err = run("trailing.json", &format!("{good}garbage"));
    assert!(err.contains("trailing characters"), "{err}");
    // Keys sorted, so the facts are parsed after `product`: still exact.
    let sorted: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&good).unwrap();
    let sorted = serde_json::to_string(&sorted).unwrap();
    let err = run(
        "duplicate.json",
        &sorted.replacen(
            "\"name\":\"es-hot-1\"",
            "\"name\":\"x\",\"name\":\"es-hot-1\"",
            1,
        ),
    );
    assert!(
        err.contains("at `elastic.nodes[0]`: duplicate field `name`"),
        "{err}"
    );
    let err = run(
        "late-type.json",
        &sorted.replacen("\"name\":\"es-hot-1\"", "\"name\":5", 1),
    );
    assert!(
        err.contains("at `elastic.nodes[0].name`: invalid type"),
        "{err}"
    );
    // A pipe is read once: the diagnostic still names the field.
    let out = Ripcord::new(&["rollback", "elastic", "--facts", "/dev/stdin"])
        .stdin(
            good.replacen("\"name\": \"es-hot-1\"", "\"name\": 5", 1)
                .as_bytes(),
        )
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("at `elastic.nodes[0].name`: invalid type"),
        "{}",
        out.stderr
    );
    let out = Ripcord::new(&[
        "rollback",
        "elastic",
        "--facts",
        "/dev/stdin",
        "--format",
        "json",
    ])
    .stdin(good.as_bytes())
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// A version that names no single release cannot end up in a package name: a usage error
/// that says what is needed, before anything is collected.
#[test]
fn versions_must_name_one_release() {
    let (out, err, code) = ripcord(&args(&[
        "rollback",
        "ghes",
        "--facts",
        &facts("ghes-ha-patch-failure"),
        "--from",
        "3.17",
    ]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("MAJOR.MINOR.PATCH"), "{err}");
    let (out, err, code) = ripcord(&args(&[
        "rollback",
        "ghes",
        "--now",
        "2026-11-20T12:00:00Z",
        "--facts",
        &facts("ghes-ha-patch-failure"),
        "--from",
        "v3.17.8",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["upgrade"]["from"], "3.17.8", "normalised");
}

/// Every format names the target and when its facts were collected; a bundle judged more
/// than an hour after it was collected (`--now`, a two-stage pipeline) is warned about on
/// stderr and in the report.
#[test]
fn reports_say_which_system_and_as_of_when() {
    // The scenario's bundle judged 37 h after it was collected.
    let later = |format: &str| {
        let mut a = scenario_args("failed-minor-upgrade");
        a.retain(|x| x != "--timeout" && x != "1");
        if let Some(i) = a.iter().position(|x| x == "--now") {
            a[i + 1] = "2026-11-21T19:00:00Z".to_string();
        }
        a.extend(args(&[
            "--facts",
            &facts("failed-minor-upgrade"),
            "--format",
            format,
        ]));
        ripcord(&a)
    };
    let (json, err, _) = later("json");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["source"]["age_seconds"], 37 * 3600);
    let warning = "these facts were collected 2026-11-20T06:00Z, 37 h before this report";
    assert!(
        v["warnings"][0]
            .as_str()
            .is_some_and(|w| w.starts_with(warning)),
        "{v:#}"
    );
    assert!(err.contains(warning), "{err}");
    for format in ["table", "markdown", "junit"] {
        let (out, _, _) = later(format);
        // The table wraps its prose to the width (120 without a terminal): read it unwrapped.
        let out = out.replace("\n  ", " ");
        assert!(
            out.contains("Elasticsearch cluster prod-logs (zk-HjQtYQGyL3NFSSu7InA)"),
            "{format}: {out:.800}"
        );
        assert!(
            out.contains("as of 2026-11-20T06:00Z (37 h before this report)"),
            "{format}: {out:.800}"
        );
        assert!(out.contains(warning), "{format}");
    }
    let (json, err, _) = offline("failed-minor-upgrade", &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert!(v.get("warnings").is_none(), "fresh facts: no warning");
    assert!(!err.contains("these facts were collected"), "{err}");
    let (out, _, _) = offline("ghes-ha-feature-failure", &["--format", "table"]);
    assert!(
        out.lines().nth(1).is_some_and(|l| l.starts_with("GHES ")),
        "{out:.400}"
    );
}
