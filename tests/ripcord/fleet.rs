//! `ripcord fleet`: the same findings as the single-target commands for the same facts, live
//! targets on loopback servers each with its own credentials, the baseline's changes, shards
//! merged into the unsharded report, and every format checked by a real consumer (JSON Schema
//! validator, xmllint, the Prometheus client's parser, headless Chromium).

use crate::common::{self, Ripcord};
use serde_json::Value;
use std::path::Path;

/// The fleet's one clock in these tests.
const NOW: &str = "2026-11-22T12:00:00Z";

/// An inventory target of a fixture scenario: its product and mode, its run flags as keys.
fn scenario_target(name: &str) -> String {
    let run = common::manifest(name).run.expect("run");
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    let mut args = run.args.iter();
    while let Some(flag) = args.next() {
        let key = flag.trim_start_matches("--").replace('-', "_");
        let value = args.next().expect("every run flag takes a value").clone();
        match keys.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => keys.push((key, vec![value])),
        }
    }
    let mut toml = format!(
        "[[target]]\nname = {name:?}\nproduct = {:?}\nmode = {:?}\ntags = [\"fixture\"]\n",
        run.product, run.mode
    );
    for (key, values) in keys {
        let line = match (key.as_str(), values.as_slice()) {
            ("timeout", [v]) => format!("{key} = {v}\n"),
            (_, [v]) => format!("{key} = {v:?}\n"),
            (_, vs) => format!("{key} = {vs:?}\n"),
        };
        toml.push_str(&line);
    }
    toml
}

fn write(dir: &Path, file: &str, text: &str) -> String {
    let path = dir.join(file);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

fn json(out: &common::Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", out.stdout, out.stderr))
}

fn target<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no target {name}"))
}

/// Every scenario with a report, as one fleet judged offline from the committed bundles.
fn all_scenarios_inventory(dir: &Path) -> (String, Vec<String>) {
    let names = common::reported_scenarios();
    let text: String = names.iter().map(|n| scenario_target(n)).collect();
    (write(dir, "fleet.toml", &text), names)
}

#[test]
fn every_target_gets_exactly_the_single_target_report() {
    let dir = tempfile::tempdir().expect("tmp");
    let (inventory, names) = all_scenarios_inventory(dir.path());
    let out = Ripcord::new(&[
        "fleet",
        "--inventory",
        &inventory,
        "--facts",
        "fixtures/facts",
        "--now",
        NOW,
        "--format",
        "json",
    ])
    .run();
    let fleet = json(&out);
    crate::schemas::assert_valid("fleet.v1.json", &fleet, "the fleet report");
    assert_eq!(fleet["schema"], "ripcord.fleet/v1");
    assert_eq!(fleet["summary"]["targets"], names.len());
    let mut worst = 0;
    for name in &names {
        let run = common::manifest(name).run.expect("run");
        let mut single = vec![
            run.mode.clone(),
            run.product.clone(),
            "--facts".into(),
            common::facts_path(name),
            "--now".into(),
            NOW.into(),
            "--format".into(),
            "json".into(),
        ];
        single.extend(run.args.iter().cloned());
        let alone = Ripcord::new(&single).run();
        let alone_report = json(&alone);
        let t = target(&fleet, name);
        let report = &t["report"];
        for key in [
            "findings",
            "plan",
            "verdict",
            "exit_code",
            "summary",
            "upgrade",
        ] {
            assert_eq!(report[key], alone_report[key], "{name}: {key}");
        }
        assert_eq!(report["target"]["name"], name.as_str());
        assert_eq!(t["verdict"], alone_report["verdict"], "{name}");
        assert_eq!(t["exit_code"], alone.code, "{name}");
        assert_eq!(t["product"], run.product.as_str());
        assert_eq!(t["tags"], serde_json::json!(["fixture"]));
        worst = match (worst, alone.code) {
            (1, _) | (_, 1) => 1,
            (3, _) | (_, 3) => 3,
            _ => 0,
        };
    }
    assert_eq!(out.code, worst, "{}", out.stderr);
    assert_eq!(fleet["exit_code"], worst);
}

#[test]
fn shards_merge_into_the_unsharded_report() {
    let dir = tempfile::tempdir().expect("tmp");
    let (inventory, names) = all_scenarios_inventory(dir.path());
    let base = [
        "fleet",
        "--inventory",
        &inventory,
        "--facts",
        "fixtures/facts",
        "--now",
        NOW,
    ];
    let whole = Ripcord::new(&base).args(&["--format", "json"]).run();
    let mut shard_files = Vec::new();
    let mut seen = 0;
    for i in 1..=3 {
        let file = dir.path().join(format!("shard-{i}.json"));
        let out = Ripcord::new(&base)
            .args(&["--shard", &format!("{i}/3"), "--report"])
            .args(&[format!("json={}", file.display())])
            .run();
        assert!(matches!(out.code, 0 | 1 | 3), "{}", out.stderr);
        let shard: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("shard")).expect("json");
        assert_eq!(
            shard["shards"],
            serde_json::json!({"count": 3, "covered": [i]})
        );
        let n = shard["targets"].as_array().expect("targets").len();
        assert!(n.abs_diff(names.len() / 3) <= 1, "balanced: {n}");
        seen += n;
        shard_files.push(file.display().to_string());
    }
    assert_eq!(seen, names.len(), "every target in exactly one shard");

    // Kubernetes' Indexed Job: JOB_COMPLETION_INDEX is 0-based.
    let indexed = Ripcord::new(&base)
        .args(&["--shards", "3", "--format", "json"])
        .env("JOB_COMPLETION_INDEX", "1")
        .run();
    let second: Value =
        serde_json::from_str(&std::fs::read_to_string(&shard_files[1]).expect("shard"))
            .expect("json");
    assert_eq!(json(&indexed)["targets"], second["targets"]);

    let mut merge = vec!["fleet".to_string(), "merge".into()];
    merge.extend(shard_files.iter().rev().cloned());
    merge.extend(["--format".into(), "json".into()]);
    let merged = Ripcord::new(&merge).run();
    assert_eq!(merged.code, whole.code, "{}", merged.stderr);
    assert_eq!(
        json(&merged),
        json(&whole),
        "the merge equals the unsharded run"
    );

    // A shard missing, or given twice, would silently change the fleet: refused.
    let missing = Ripcord::new(&["fleet", "merge", &shard_files[0], &shard_files[2]]).run();
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("shard 2/3 missing"),
        "{}",
        missing.stderr
    );
    let twice = Ripcord::new(&[
        "fleet",
        "merge",
        &shard_files[0],
        &shard_files[0],
        &shard_files[1],
        &shard_files[2],
    ])
    .run();
    assert_eq!(twice.code, 2);
    assert!(
        twice.stderr.contains("shard 1/3 is in both"),
        "{}",
        twice.stderr
    );
    let not_fleet =
        Ripcord::new(&["fleet", "merge", "fixtures/facts/healthy-preflight.json"]).run();
    assert_eq!(not_fleet.code, 2);
    assert!(
        not_fleet.stderr.contains("not a ripcord.fleet/v1 report"),
        "{}",
        not_fleet.stderr
    );
}

#[test]
fn the_baseline_s_changes_come_first() {
    let dir = tempfile::tempdir().expect("tmp");
    let last = dir.path().join("last");
    let tonight = dir.path().join("tonight");
    for d in [&last, &tonight] {
        std::fs::create_dir(d).expect("mkdir");
    }
    let copy = |scenario: &str, to: &Path, name: &str| {
        std::fs::copy(
            common::facts_path(scenario),
            to.join(format!("{name}.json")),
        )
        .expect("copy");
    };
    // logs: its snapshot went stale; ghe: unchanged; old: removed; new: added.
    copy("healthy-preflight", &last, "logs");
    copy("healthy-preflight-stale", &tonight, "logs");
    copy("ghes-ha-preflight", &last, "ghe");
    copy("ghes-ha-preflight", &tonight, "ghe");
    copy("healthy-preflight", &last, "old");
    copy("healthy-preflight", &tonight, "new");
    let target = |name: &str, product: &str, to: &str| {
        format!(
            "[[target]]\nname = \"{name}\"\nproduct = \"{product}\"\n{} = \"https://{name}.example:9200\"\nto = \"{to}\"\n",
            if product == "ghes" { "ghes" } else { "es" }
        )
    };
    let last_inventory = write(
        dir.path(),
        "last.toml",
        &(target("logs", "elastic", "8.15.3")
            + &target("ghe", "ghes", "3.19.2")
            + &target("old", "elastic", "8.15.3")),
    );
    let inventory = write(
        dir.path(),
        "fleet.toml",
        &(target("logs", "elastic", "8.15.3")
            + &target("ghe", "ghes", "3.19.2")
            + &target("new", "elastic", "8.15.3")),
    );
    let baseline = dir.path().join("last-night.json");
    let first = Ripcord::new(&[
        "fleet",
        "--inventory",
        &last_inventory,
        "--facts",
        last.to_str().expect("utf-8"),
        "--now",
        "2026-11-20T12:00:00Z",
        "--report",
    ])
    .args(&[format!("json={}", baseline.display())])
    .run();
    assert_eq!(first.code, 0, "{}", first.stderr);

    let base = [
        "fleet",
        "--inventory",
        &inventory,
        "--facts",
        tonight.to_str().expect("utf-8"),
        "--now",
        NOW,
        "--baseline",
        baseline.to_str().expect("utf-8"),
    ];
    let out = Ripcord::new(&base).args(&["--format", "json"]).run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = json(&out);
    let changes: Vec<(String, String, String)> = report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["target"].as_str().unwrap_or_default().to_string(),
                c["kind"].as_str().unwrap_or_default().to_string(),
                c["rule"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("logs", "verdict_changed", ""),
        ("logs", "started_failing", "kibana-snapshot"),
        ("new", "target_added", ""),
        ("old", "target_removed", ""),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(changes, expected);
    assert_eq!(report["baseline"]["generated_at"], "2026-11-20T12:00:00Z");
    let logs = &report["changes"][0];
    assert_eq!(
        (logs["from"].as_str(), logs["to"].as_str()),
        (Some("ready"), Some("not_ready"))
    );

    for format in ["table", "markdown", "html"] {
        let text = Ripcord::new(&base).args(&["--format", format]).run().stdout;
        let changes_at = text
            .find("Changes")
            .unwrap_or_else(|| panic!("{format}: no changes\n{text}"));
        let started = text
            .find("started failing: kibana-snapshot")
            .unwrap_or_else(|| panic!("{format}: {text}"));
        let matrix_or_table = ["Targets", "│ target"]
            .iter()
            .filter_map(|m| text.find(m))
            .min()
            .expect("targets");
        assert!(
            changes_at < matrix_or_table && started < matrix_or_table,
            "{format}: changes first\n{text}"
        );
    }
}

#[test]
fn a_bad_inventory_is_exit_2_at_its_line_and_column() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = write(
        dir.path(),
        "fleet.toml",
        "[[target]]\nname = \"logs\"\nproduct = \"elastic\"\nes = \"https://es:9200\"\nto = \"8.15.3\"\nkibanna = \"https://kb:5601\"\n",
    );
    let out = Ripcord::new(&["fleet", "--inventory", &inventory]).run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("fleet.toml:6:1: target \"logs\": unknown key \"kibanna\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean \"kibana\"?"),
        "{}",
        out.stderr
    );
    let doc = Ripcord::new(&["fleet", "--inventory", &inventory, "--format", "json"]).run();
    let error: Value = serde_json::from_str(&doc.stdout).expect("error document");
    assert_eq!(error["error"]["code"], "ripcord::fleet::inventory");

    // A secret written where a variable's name belongs is refused, and never echoed.
    let secret = write(
        dir.path(),
        "secret.toml",
        "[[target]]\nname = \"logs\"\nproduct = \"elastic\"\nes = \"https://es:9200\"\nto = \"8.15.3\"\ncredentials = { api_key_env = \"dGhpcyBpcyBzZWNyZXQ=\" }\n",
    );
    let out = Ripcord::new(&["fleet", "--inventory", &secret]).run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("must name an environment variable"),
        "{}",
        out.stderr
    );
}

/// A server that answers 401 with the `Authorization` header it was sent in its body, as a
/// careless proxy does.
struct EchoAuthorization;

impl wiremock::Respond for EchoAuthorization {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
            .to_string();
        wiremock::ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": {"type": "security_exception", "reason": format!("unable to authenticate with [{auth}]")},
            "status": 401
        }))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_fleet_runs_every_target_with_its_own_credentials() {
    let logs = common::start("healthy-preflight").await;
    let ghe = common::start("ghes-ha-preflight").await;
    let echo = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(EchoAuthorization)
        .mount(&echo)
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let kibana: Vec<String> = logs.kibana_urls();
    let text = format!(
        r#"[defaults]
mode = "preflight"
timeout = 5

[[target]]
name = "logs"
product = "elastic"
es = "{es}"
kibana = {kibana:?}
to = "8.15.3"
tags = ["prod"]
credentials = {{ api_key_env = "LOGS_ES_API_KEY" }}

[[target]]
name = "ghe"
product = "ghes"
ghes = "{ghe}"
to = "3.19.2"
vm_snapshot = "snap-0a1b2c"
vm_snapshot_taken_at = 2026-11-20T11:00:00Z
credentials = {{ password_env = "GHE_ROOT_PASSWORD" }}

[[target]]
name = "echo"
product = "elastic"
es = "{echo}"
to = "8.15.3"
credentials = {{ username_env = "ECHO_USER", password_env = "ECHO_PASSWORD" }}

[[target]]
name = "down"
product = "elastic"
es = "{down}"
to = "8.15.3"
credentials = {{ api_key_env = "DOWN_ES_API_KEY" }}
"#,
        es = logs.es_url(),
        ghe = ghe.target_args()[1],
        echo = echo.uri(),
        down = common::closed_port_url(),
    );
    let inventory = write(dir.path(), "fleet.toml", &text);
    let bundles = dir.path().join("bundles");
    let secrets = [
        ("LOGS_ES_API_KEY", "bG9nczpzM2NyZXQtbG9ncw=="),
        ("GHE_ROOT_PASSWORD", "s3cret-ghe-root"),
        ("ECHO_USER", "ripcord"),
        ("ECHO_PASSWORD", "s3cret-echo-pass"),
    ];
    let run = move |extra: Vec<String>| {
        // The scenarios' own clock: their snapshots are fresh then.
        let mut r = Ripcord::new(&[
            "fleet",
            "--inventory",
            &inventory,
            "--now",
            "2026-11-20T12:00:00Z",
            "--format",
            "json",
        ])
        .args(&extra);
        for (k, v) in secrets {
            r = r.env(k, v);
        }
        r.run()
    };
    let bundles_arg = vec!["--bundles".to_string(), bundles.display().to_string()];
    let run_again = run.clone();
    let out = tokio::task::spawn_blocking(move || run(bundles_arg))
        .await
        .expect("run");
    let report = json(&out);
    let verdicts: Vec<String> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            format!(
                "{} {} {} {}",
                t["name"], t["verdict"], t["error"], t["hint"]
            )
        })
        .collect();
    assert_eq!(
        out.code, 3,
        "down and echo without an answer, nothing fails: {verdicts:#?}\n{}",
        out.stderr
    );
    assert_eq!(target(&report, "logs")["verdict"], "ready");
    assert_eq!(target(&report, "ghe")["verdict"], "ready");
    // Unreachable: as the single-target run ends, nothing collected (exit 2), said in one line.
    let down = target(&report, "down");
    assert_eq!(down["verdict"], "error");
    assert_eq!(down["exit_code"], 2);
    assert!(
        down["error"].as_str().is_some_and(
            |e| e.contains("nothing could be collected") && e.contains("connection refused")
        ),
        "{down}"
    );
    // Unset: the hint names the inventory's variable, not RIPCORD_ES_API_KEY.
    assert!(
        out.stderr
            .contains("DOWN_ES_API_KEY (credentials of target down) is not set"),
        "{}",
        out.stderr
    );
    // Refused: the hint names the inventory's variables, not RIPCORD_ES_*.
    // Every answer a 401: nothing collected, and the one line's hint says what to set.
    let echo_target = target(&report, "echo");
    assert_eq!(echo_target["verdict"], "error");
    let hint = echo_target["hint"].as_str().expect("hint");
    assert!(
        hint.contains("credentials were rejected")
            && hint.contains(
                "ECHO_USER and ECHO_PASSWORD (credentials of target \"echo\" in the inventory)"
            ),
        "{hint}"
    );

    // Each target's own credentials went to its own server only.
    async fn sent(server: &wiremock::MockServer) -> std::collections::BTreeSet<String> {
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter_map(|r| {
                r.headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .collect()
    }
    assert_eq!(
        sent(logs.es.as_ref().expect("es"))
            .await
            .into_iter()
            .collect::<Vec<_>>(),
        ["ApiKey bG9nczpzM2NyZXQtbG9ncw=="]
    );
    use base64::Engine as _;
    let basic = |u: &str, p: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    };
    assert_eq!(
        sent(ghe.ghes.as_ref().expect("ghes"))
            .await
            .into_iter()
            .collect::<Vec<_>>(),
        [basic("api_key", "s3cret-ghe-root")]
    );
    assert_eq!(
        sent(&echo).await.into_iter().collect::<Vec<_>>(),
        [basic("ripcord", "s3cret-echo-pass")]
    );

    // The echoed secret is in no output and no bundle; the plan names the inventory variable.
    let mut everything = format!("{}{}", out.stdout, out.stderr);
    for entry in std::fs::read_dir(&bundles).expect("bundles") {
        let path = entry.expect("entry").path();
        everything.push_str(&std::fs::read_to_string(&path).expect("bundle"));
    }
    for secret in ["s3cret-ghe-root", "s3cret-echo-pass"] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    for leaked in [
        "bG9nczpzM2NyZXQtbG9ncw==",
        "logs:s3cret-logs",
        &basic("ripcord", "s3cret-echo-pass")[6..],
    ] {
        assert!(!everything.contains(leaked), "{leaked} leaked");
    }
    assert!(everything.contains("[redacted]"), "the echo was redacted");
    let logs_report = &target(&report, "logs")["report"];
    let commands = logs_report["plan"].to_string();
    assert!(commands.contains("$LOGS_ES_API_KEY"), "{commands}");

    // --bundles kept what was collected (down too: it says why); --facts DIR judges them again.
    let mut kept: Vec<String> = std::fs::read_dir(&bundles)
        .expect("bundles")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(kept, ["down.json", "echo.json", "ghe.json", "logs.json"]);
    let facts_arg = vec!["--facts".to_string(), bundles.display().to_string()];
    let again = tokio::task::spawn_blocking(move || run_again(facts_arg))
        .await
        .expect("run");
    let offline = json(&again);
    for name in ["logs", "ghe"] {
        assert_eq!(
            target(&offline, name)["report"]["findings"],
            target(&report, name)["report"]["findings"],
            "{name}"
        );
        assert_eq!(
            target(&offline, name)["report"]["plan"],
            target(&report, name)["report"]["plan"],
            "{name}"
        );
    }
    // Its kept bundle records why nothing was collected; judged again, the same error.
    assert_eq!(target(&offline, "down")["verdict"], "error");
    logs.assert_read_only("logs").await;
    ghe.assert_read_only("ghe").await;
}

#[test]
fn the_prometheus_textfile_parses_with_the_prometheus_client() {
    let dir = tempfile::tempdir().expect("tmp");
    let (inventory, names) = all_scenarios_inventory(dir.path());
    let prom = dir.path().join("ripcord.prom");
    let out = Ripcord::new(&[
        "fleet",
        "--inventory",
        &inventory,
        "--facts",
        "fixtures/facts",
        "--now",
        NOW,
        "--report",
    ])
    .args(&[format!("prometheus={}", prom.display())])
    .run();
    assert!(matches!(out.code, 1 | 3), "{}", out.stderr);
    let script = r#"
import sys, json
from prometheus_client.parser import text_string_to_metric_families
families = {}
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    families[f.name] = [(s.name, s.labels, s.value) for s in f.samples]
print(json.dumps(families))
"#;
    let parsed = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&prom)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed: {e}"));
    assert!(
        parsed.status.success(),
        "the Prometheus client's parser refused the file (./test.sh installs prometheus-client): {}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let families: Value = serde_json::from_slice(&parsed.stdout).expect("json");
    let ready = families["ripcord_target_ready"].as_array().expect("ready");
    assert_eq!(ready.len(), names.len());
    let fleet: Value = json(
        &Ripcord::new(&[
            "fleet",
            "--inventory",
            &inventory,
            "--facts",
            "fixtures/facts",
            "--now",
            NOW,
            "--format",
            "json",
        ])
        .run(),
    );
    for sample in ready {
        let name = sample[1]["target"].as_str().expect("target");
        let t = target(&fleet, name);
        let expected = if matches!(
            t["verdict"].as_str(),
            Some("ready" | "nothing_to_roll_back")
        ) {
            1.0
        } else {
            0.0
        };
        assert_eq!(sample[2].as_f64(), Some(expected), "{name}");
        assert_eq!(sample[1]["product"], t["product"]);
    }
    // The rule state set: exactly one state is 1 per (target, rule).
    let mut ones: std::collections::BTreeMap<(String, String), u32> = Default::default();
    for s in families["ripcord_rule_outcome"]
        .as_array()
        .expect("outcomes")
    {
        let key = (
            s[1]["target"].as_str().unwrap_or_default().to_string(),
            s[1]["rule"].as_str().unwrap_or_default().to_string(),
        );
        *ones.entry(key).or_default() += u32::from(s[2].as_f64() == Some(1.0));
    }
    assert!(!ones.is_empty() && ones.values().all(|n| *n == 1));
    let ts = &families["ripcord_run_timestamp_seconds"][0][2];
    assert_eq!(
        ts.as_f64(),
        Some(jiff::Timestamp::from_str(NOW).expect("ts").as_second() as f64)
    );
    let ages = families["ripcord_snapshot_age_seconds"]
        .as_array()
        .expect("ages");
    let healthy = ages
        .iter()
        .find(|s| s[1]["target"] == "healthy-preflight")
        .expect("healthy-preflight has a snapshot");
    assert_eq!(healthy[1]["snapshot"], "nightly-2026.11.20-0130");
    assert_eq!(healthy[2].as_f64(), Some((2.0 * 86400.0) + 10.5 * 3600.0));
}

use std::str::FromStr as _;

#[test]
fn the_fleet_junit_has_one_valid_suite_per_target() {
    let dir = tempfile::tempdir().expect("tmp");
    let (inventory, names) = all_scenarios_inventory(dir.path());
    let extra = write(
        dir.path(),
        "extra.toml",
        "[[target]]\nname = \"missing-bundle\"\nproduct = \"ghes\"\nghes = \"https://ghe:8443\"\nto = \"3.19.2\"\n",
    );
    let both = write(
        dir.path(),
        "both.toml",
        &(std::fs::read_to_string(&inventory).expect("inv")
            + &std::fs::read_to_string(&extra).expect("extra")),
    );
    let out = Ripcord::new(&[
        "fleet",
        "--inventory",
        &both,
        "--facts",
        "fixtures/facts",
        "--now",
        NOW,
        "--format",
        "junit",
    ])
    .run();
    if let Err(why) = crate::junit::validate(&out.stdout) {
        panic!("fleet JUnit is not valid: {why}\n{}", out.stdout);
    }
    assert_eq!(out.stdout.matches("<testsuite ").count(), names.len() + 1);
    assert!(
        out.stdout.contains("cannot read facts bundle"),
        "the missing bundle is an <error>"
    );
}

#[test]
fn the_markdown_renders_every_target() {
    let dir = tempfile::tempdir().expect("tmp");
    let (inventory, names) = all_scenarios_inventory(dir.path());
    let out = Ripcord::new(&[
        "fleet",
        "--inventory",
        &inventory,
        "--facts",
        "fixtures/facts",
        "--now",
        NOW,
        "--format",
        "markdown",
    ])
    .run();
    let mut in_table = 0;
    let mut html = false;
    let parser =
        pulldown_cmark::Parser::new_ext(&out.stdout, pulldown_cmark::Options::ENABLE_TABLES);
    for event in parser {
        match event {
            pulldown_cmark::Event::Start(pulldown_cmark::Tag::TableRow) => in_table += 1,
            pulldown_cmark::Event::Html(_) | pulldown_cmark::Event::InlineHtml(_) => html = true,
            _ => {}
        }
    }
    assert_eq!(in_table, names.len(), "one row per target");
    assert!(!html, "no raw HTML");
}

/// Headless Chromium (Debian's `chromium`, which `./test.sh` installs) with the flags a closed
/// network needs, on a fresh profile; returns (stdout, stderr).
fn chromium(args: &[String]) -> (String, String) {
    let binary = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .unwrap_or_else(|| {
            panic!("Chromium is needed (Debian: apt-get install chromium; ./test.sh does)")
        });
    let profile = tempfile::tempdir().expect("profile");
    let out = std::process::Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .output()
        .expect("chromium runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What Chromium said the page did wrong: console errors, blocked loads, failed requests.
fn page_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.contains(":CONSOLE")
                || l.contains("Content Security Policy")
                || l.contains("net::ERR_")
        })
        .collect()
}

#[test]
fn the_html_report_loads_in_a_headless_browser_with_every_target_in_the_matrix() {
    let dir = tempfile::tempdir().expect("tmp");
    let (inventory, names) = all_scenarios_inventory(dir.path());
    let html = dir.path().join("fleet.html");
    let out = Ripcord::new(&[
        "fleet",
        "--inventory",
        &inventory,
        "--facts",
        "fixtures/facts",
        "--now",
        NOW,
        "--report",
    ])
    .args(&[format!("html={}", html.display())])
    .run();
    assert!(matches!(out.code, 1 | 3), "{}", out.stderr);
    let text = std::fs::read_to_string(&html).expect("html");
    // Nothing that loads: no such element (every server string is escaped, so `<` in the
    // page is markup), nothing fetched from the style sheet.
    for tag in [
        "<script", "<link", "<img", "<iframe", "<object", "<embed", "<base",
    ] {
        assert!(
            !text.contains(tag),
            "{tag} in the page: it must be self-contained"
        );
    }
    let style =
        &text[text.find("<style>").expect("style")..text.find("</style>").expect("style end")];
    assert!(
        !style.contains("url(") && !style.contains("@import"),
        "the style loads nothing"
    );
    assert!(text.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    let url = format!("file://{}", html.display());

    // The DOM after load: one matrix row per target, and no error from the page.
    let (dom, stderr) = chromium(&["--dump-dom".into(), url.clone()]);
    assert!(dom.contains("<table id=\"matrix\">"), "{stderr}");
    for name in &names {
        assert!(
            dom.contains(&format!("<tr data-target=\"{name}\">")),
            "{name} missing from the matrix"
        );
    }
    assert_eq!(dom.matches("<tr data-target=").count(), names.len());
    assert!(
        page_errors(&stderr).is_empty(),
        "{:#?}",
        page_errors(&stderr)
    );

    // The check can fail: the same page with an external stylesheet is blocked and said so.
    let tainted = dir.path().join("tainted.html");
    std::fs::write(
        &tainted,
        text.replacen(
            "</head>",
            "<link rel=\"stylesheet\" href=\"https://cdn.example/x.css\"></head>",
            1,
        ),
    )
    .expect("write");
    let (_, stderr) = chromium(&["--dump-dom".into(), format!("file://{}", tainted.display())]);
    assert!(
        !page_errors(&stderr).is_empty(),
        "a blocked load must show: {stderr}"
    );

    // Screenshots as a phone and a laptop show it (kept for the reviewer under target/tmp).
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    for (file, size) in [
        ("fleet-report-phone.png", "412,915"),
        ("fleet-report-desktop.png", "1280,1000"),
    ] {
        let path = shots.join(file);
        let _ = std::fs::remove_file(&path);
        chromium(&[
            format!("--window-size={size}"),
            format!("--screenshot={}", path.display()),
            url.clone(),
        ]);
        let png = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{} is a real screenshot",
            path.display()
        );
    }
}

/// The code blocks of README's fleet section, in order, as (language, text).
fn readme_fleet_blocks() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let start = readme
        .find("\n## Fleet")
        .expect("README has a Fleet section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```") {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            blocks.push((lang.to_string(), body.join("\n")));
        }
    }
    blocks
}

/// A shell block's `ripcord` commands as argument lists: continuations joined, comments and
/// other commands left out. The README keeps them free of quotes, so words split on spaces.
fn ripcord_commands(block: &str) -> Vec<Vec<String>> {
    let joined = block.replace("\\\n", " ");
    joined
        .lines()
        .map(|l| l.split(" #").next().unwrap_or_default().trim())
        .filter(|l| l.starts_with("ripcord "))
        .map(|l| l.split_whitespace().skip(1).map(str::to_string).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_fleet_section_runs_as_written() {
    let logs = common::start("healthy-preflight").await;
    let ghe = common::start("ghes-single-node").await;
    let blocks = readme_fleet_blocks();
    let toml = &blocks
        .iter()
        .find(|(lang, _)| lang == "toml")
        .expect("an inventory")
        .1;
    let shells: Vec<&String> = blocks
        .iter()
        .filter(|(lang, _)| lang == "sh")
        .map(|(_, b)| b)
        .collect();
    assert_eq!(
        shells.len(),
        2,
        "the nightly commands, then the sharded ones"
    );
    let kibana = logs.kibana_urls();
    let inventory = toml
        .replace("https://es-logs:9200", &logs.es_url())
        .replace("https://kb-1:5601", &kibana[0])
        .replace("https://kb-2:5601", &kibana[1])
        .replace("https://ghe.example.com:8443", &ghe.target_args()[1]);
    assert_ne!(&inventory, toml);
    let dir = tempfile::tempdir().expect("tmp");
    write(dir.path(), "fleet.toml", &inventory);
    let work = dir.path().to_path_buf();
    let run = move |args: Vec<String>| {
        Ripcord::new(&args)
            .dir(&work)
            .env("LOGS_PROD_ES_API_KEY", "bG9nczpzM2NyZXQ=")
            .env("GHE_ROOT_PASSWORD", "s3cret-root")
            .run()
    };

    let nightly = ripcord_commands(shells[0]);
    assert_eq!(nightly.len(), 2);
    for args in nightly {
        let run = run.clone();
        let out = tokio::task::spawn_blocking(move || run(args))
            .await
            .expect("run");
        assert!(matches!(out.code, 0 | 1 | 3), "{}", out.stderr);
        assert!(!out.stderr.contains("is not set"), "{}", out.stderr);
    }
    for file in [
        "last-night.json",
        "tonight.html",
        "tonight.json",
        "ripcord.prom",
    ] {
        assert!(dir.path().join(file).is_file(), "{file} written");
    }
    let tonight: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("tonight.json")).expect("json"),
    )
    .expect("json");
    assert_eq!(tonight["baseline"]["file"], "last-night.json");
    assert_eq!(tonight["summary"]["targets"], 2);
    for name in ["logs-prod", "ghe"] {
        assert!(
            target(&tonight, name)["report"].is_object(),
            "{name} was judged: {}",
            target(&tonight, name)
        );
    }

    // One Indexed Job pod per shard, then the aggregate step, with the shell's glob expanded.
    let sharded = ripcord_commands(shells[1]);
    assert_eq!(sharded.len(), 2);
    for i in 1..=8 {
        let args: Vec<String> = sharded[0]
            .iter()
            .map(|a| {
                a.replace("3/8", &format!("{i}/8"))
                    .replace("shard-3", &format!("shard-{i}"))
            })
            .collect();
        let run = run.clone();
        let out = tokio::task::spawn_blocking(move || run(args))
            .await
            .expect("run");
        assert!(matches!(out.code, 0 | 1 | 3), "{}", out.stderr);
    }
    let mut shards: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("shard-") && n.ends_with(".json"))
        .collect();
    shards.sort();
    assert_eq!(shards.len(), 8);
    let merge: Vec<String> = sharded[1]
        .iter()
        .flat_map(|a| {
            if a == "shard-*.json" {
                shards.clone()
            } else {
                vec![a.clone()]
            }
        })
        .collect();
    let out = tokio::task::spawn_blocking(move || run(merge))
        .await
        .expect("run");
    assert!(matches!(out.code, 0 | 1 | 3), "{}", out.stderr);
    let html = std::fs::read_to_string(dir.path().join("tonight.html")).expect("merged html");
    for name in ["logs-prod", "ghe"] {
        assert!(
            html.contains(&format!("<tr data-target=\"{name}\">")),
            "{name}"
        );
    }
    logs.assert_read_only("logs").await;
    ghe.assert_read_only("ghe").await;
}
