//! Every rule × every scenario, through the pipeline the binary runs: collect each HTTP
//! fixture scenario over loopback (`ripcord collect`), check the committed facts bundle is
//! exactly what collection produces, evaluate it (`ripcord MODE PRODUCT --facts`), snapshot
//! each rule's outcome per scenario and each scenario's plan. Every rule must pass somewhere
//! and fail somewhere.
//!
//! Regenerate bundles with `RIPCORD_UPDATE_FIXTURES=1 cargo test`; review snapshots with
//! `cargo insta review`.

use crate::common::{self, pipeline};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Collects a scenario live and returns its bundle with this run's loopback URLs replaced by
/// stable names and durations zeroed, as committed.
async fn collect_scenario(name: &str) -> String {
    let servers = common::start(name).await;
    let mut args = common::scenario_collect_args(name);
    args.extend(servers.target_args());
    let env = common::manifest(name)
        .run
        .map(|r| r.env)
        .unwrap_or_default();
    let text = if env.is_empty() {
        pipeline::collect(&args).await
    } else {
        args.extend(["--output".to_string(), "-".to_string()]);
        let run = env
            .iter()
            .fold(common::Ripcord::new(&args), |r, (k, v)| r.env(k, v))
            .run();
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        for secret in env.values() {
            assert!(
                !run.stdout.contains(secret.as_str()),
                "{name}: a secret in the bundle"
            );
        }
        run.stdout
    };
    servers.assert_read_only(name).await;
    let mut value: Value = serde_json::from_str(&servers.normalize(&text)).expect("bundle");
    let requests = value["requests"].as_array_mut().expect("requests");
    for r in requests.iter_mut() {
        r["duration_ms"] = json!(0);
    }
    // Ports are random, so the collector's order by URL is re-established on stable names.
    requests.sort_by(|a, b| a["url"].as_str().cmp(&b["url"].as_str()));
    serde_json::to_string_pretty(&value).expect("json") + "\n"
}

fn check_committed(name: &str, collected: &str) {
    let path = common::fixtures_dir()
        .join("facts")
        .join(format!("{name}.json"));
    if std::env::var_os("RIPCORD_UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, collected).expect("write bundle");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{}: missing; run with RIPCORD_UPDATE_FIXTURES=1",
            path.display()
        )
    });
    if committed != collected {
        let line = committed
            .lines()
            .zip(collected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{}: stale at line {}: committed {:?}, collected {:?}; run with RIPCORD_UPDATE_FIXTURES=1 and review the diff",
            path.display(),
            line + 1,
            committed.lines().nth(line),
            collected.lines().nth(line)
        );
    }
}

/// Rule ids whose expression is the literal `true`: informative rules that cannot fail.
fn always_passing_rules() -> Vec<String> {
    let mut out = Vec::new();
    let products = std::fs::read_dir(common::fixtures_dir().join("../rules")).expect("rules/");
    for product in products.flatten().filter(|e| e.path().is_dir()) {
        for entry in std::fs::read_dir(product.path())
            .expect("rules dir")
            .flatten()
        {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let Ok(rule) = text.parse::<toml::Table>() else {
                continue;
            };
            if rule.get("expr").and_then(|e| e.as_str()).map(str::trim) == Some("true") {
                out.extend(rule.get("id").and_then(|i| i.as_str()).map(str::to_string));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_and_plans_by_scenario() {
    let mut by_rule: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    let mut plans: BTreeMap<String, Value> = BTreeMap::new();
    for name in common::scenarios() {
        check_committed(&name, &collect_scenario(&name).await);
        let mut args = common::scenario_args(&name);
        args.extend(["--facts".to_string(), common::facts_path(&name)]);
        if common::manifest(&name).nothing_collected {
            let error = pipeline::failure(&args).await;
            assert!(
                error.starts_with("nothing could be collected"),
                "{name}: {error}"
            );
            plans.insert(
                name.clone(),
                json!({"scenario": common::manifest(&name).description, "exit_code": 2, "error": error}),
            );
            continue;
        }
        let report = pipeline::report(&args).await;
        let json = serde_json::to_value(&report).expect("report");
        crate::schemas::assert_valid("report.v1.json", &json, &name);
        crate::pasteable::assert_pasteable(&name, &report.product, &report.plan);
        for f in &report.findings {
            by_rule.entry(f.rule.clone()).or_default().insert(
                name.clone(),
                json!({"outcome": f.outcome, "message": f.message, "evidence": f.evidence}),
            );
        }
        plans.insert(
            name.clone(),
            json!({
                "scenario": common::manifest(&name).description,
                "verdict": report.verdict,
                "exit_code": report.exit_code,
                "upgrade": report.upgrade,
                "plan": report.plan,
            }),
        );
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots/rules");
    settings.bind(|| {
        for (rule, scenarios) in &by_rule {
            insta::assert_json_snapshot!(rule.as_str(), scenarios);
        }
    });
    settings.set_snapshot_path("snapshots/plans");
    settings.bind(|| {
        for (scenario, plan) in &plans {
            insta::assert_json_snapshot!(scenario.as_str(), plan);
        }
    });
    let always = always_passing_rules();
    for (rule, scenarios) in &by_rule {
        let has = |o: &str| scenarios.values().any(|v| v["outcome"] == json!(o));
        assert!(has("pass"), "{rule} passes in no scenario");
        assert!(
            always.contains(rule) || has("fail"),
            "{rule} fails in no scenario"
        );
    }
    assert_eq!(always, ["ghes-upgrade-kind"], "the only informative rule");
}
