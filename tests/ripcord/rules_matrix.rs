//! Every rule × every scenario: collect each HTTP fixture scenario over loopback, check the
//! committed facts bundle is exactly what collection produces, evaluate, and snapshot each
//! rule's outcome per scenario. Every rule must pass somewhere and fail somewhere.
//!
//! Regenerate bundles with `RIPCORD_UPDATE_FIXTURES=1 cargo test`; review snapshots with
//! `cargo insta review`.

use crate::common;
use ripcord::collect::{ElasticTarget, collect_elastic};
use ripcord::facts::derive::{Mode, Overrides, derive};
use ripcord::facts::{Bundle, OperatorFacts};
use ripcord::http::{ClientOptions, ReadOnlyClient};
use ripcord::report::{Finding, Outcome};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// Collects a scenario live and returns its normalized bundle.
pub async fn collect_scenario(name: &str) -> (Bundle, common::Running) {
    let manifest = common::manifest(name);
    let run = manifest
        .run
        .clone()
        .unwrap_or_else(|| panic!("{name}: no [run]"));
    let servers = common::start(name).await;
    let timeout = run
        .flag("--timeout")
        .map(|t| t.parse().expect("timeout"))
        .unwrap_or(10);
    let client = ReadOnlyClient::new(ClientOptions {
        timeout: Duration::from_secs(timeout),
        ..ClientOptions::default()
    })
    .expect("client");
    let target = ElasticTarget {
        es: servers.es.as_ref().map(|s| s.uri()),
        kibana: servers.kibana_urls(),
        ..Default::default()
    };
    let now: jiff::Timestamp = run.now.parse().expect("now");
    let bundle = if run.product == "ghes" {
        // Operator facts come from the run's flags, exactly as `ripcord rollback ghes …` records them.
        let a = ghes_args(&run);
        let operator = a.facts.operator_facts();
        let url = servers.ghes.as_ref().map(|s| s.uri());
        ripcord::collect::collect_ghes(
            &client,
            url.as_deref(),
            &ripcord::http::Credentials::None,
            operator,
            now,
        )
        .await
    } else {
        collect_elastic(&client, &target, OperatorFacts::default(), now).await
    };
    let mut value = serde_json::to_value(&bundle).expect("json");
    for r in value["requests"].as_array_mut().expect("requests") {
        r["duration_ms"] = json!(0);
    }
    let text = servers.normalize(&serde_json::to_string_pretty(&value).expect("json"));
    let mut bundle: Bundle = serde_json::from_str(&text).expect("normalized bundle");
    // Ports are random, so the collector's order by URL is re-established on stable names.
    bundle.requests.sort_by(|a, b| a.url.cmp(&b.url));
    (bundle, servers)
}

/// Derives and evaluates a bundle the way the scenario's `[run]` says.
pub fn evaluate(name: &str, bundle: &Bundle) -> Vec<Finding> {
    let run = common::manifest(name).run.expect("run");
    let mode = if run.mode == "rollback" {
        Mode::Rollback
    } else {
        Mode::Preflight
    };
    let overrides = Overrides {
        from: run.flag("--from"),
        to: run.flag("--to"),
        upgrade_started_at: None,
    };
    let rules = ripcord::app::load_rules(None).expect("rules");
    if run.product == "ghes" {
        let derived = ripcord::facts::ghes::derive(bundle, mode, &Overrides::default());
        return ripcord::engine::evaluate(&rules, &ripcord::engine::ghes(bundle, &derived));
    }
    let derived = derive(bundle, mode, &overrides);
    ripcord::engine::evaluate(&rules, &ripcord::engine::elastic(bundle, &derived))
}

/// The run's flags parsed by the real CLI parser.
pub fn ghes_args(run: &common::Run) -> ripcord::cli::GhesEvaluate {
    use clap::Parser as _;
    let mut argv = vec!["ripcord".to_string(), run.mode.clone(), "ghes".to_string()];
    argv.extend(run.args.iter().cloned());
    match ripcord::cli::Cli::try_parse_from(argv)
        .expect("run args parse")
        .command
    {
        ripcord::cli::Command::Preflight {
            product: ripcord::cli::PreflightProduct::Ghes(a),
        }
        | ripcord::cli::Command::Rollback {
            product: ripcord::cli::RollbackProduct::Ghes(a),
        } => a,
        _ => unreachable!("a ghes command"),
    }
}

fn bundle_path(name: &str) -> std::path::PathBuf {
    common::fixtures_dir()
        .join("facts")
        .join(format!("{name}.json"))
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_by_scenario() {
    let update = std::env::var_os("RIPCORD_UPDATE_FIXTURES").is_some();
    let mut by_rule: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    for name in common::scenarios() {
        let (bundle, servers) = collect_scenario(&name).await;
        for r in servers.requests().await {
            assert!(
                r.starts_with("GET ") || r.starts_with("HEAD "),
                "{name}: ripcord sent {r}"
            );
        }
        let path = bundle_path(&name);
        let text = serde_json::to_string_pretty(&bundle).expect("json") + "\n";
        if update {
            std::fs::write(&path, &text).expect("write bundle");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "{}: missing; run with RIPCORD_UPDATE_FIXTURES=1",
                path.display()
            )
        });
        if committed != text {
            let line = committed
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{}: stale at line {}: committed {:?}, collected {:?}; run with RIPCORD_UPDATE_FIXTURES=1 and review the diff",
                path.display(),
                line + 1,
                committed.lines().nth(line),
                text.lines().nth(line)
            );
        }
        for f in evaluate(&name, &bundle) {
            by_rule.entry(f.rule.clone()).or_default().insert(
                name.clone(),
                json!({"outcome": f.outcome, "message": f.message, "evidence": f.evidence}),
            );
        }
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots/rules");
    settings.bind(|| {
        for (rule, scenarios) in &by_rule {
            insta::assert_json_snapshot!(rule.as_str(), scenarios);
        }
    });
    let rules = ripcord::app::load_rules(None).expect("rules");
    for (rule, scenarios) in &by_rule {
        let has = |o: Outcome| scenarios.values().any(|v| v["outcome"] == json!(o));
        assert!(has(Outcome::Pass), "{rule} passes in no scenario");
        // A purely informative rule whose expression is `true` (ghes-upgrade-kind) cannot fail.
        let always = rules
            .get(rule)
            .is_some_and(|r| r.expr.source.trim() == "true");
        assert!(always || has(Outcome::Fail), "{rule} fails in no scenario");
    }
}
