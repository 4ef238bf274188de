//! Rule meta-tests: ids are a contract, every rule is documented and explained, broken rule
//! files are diagnosed with file, line and column.

use crate::cli::{args, ripcord};

const CONTRACT_IDS: &[&str] = &[
    "elastic-upgrade-path",
    "es-cluster-health",
    "es-deprecations",
    "es-rollback-needed",
    "es-system-features",
    "es-version-uniform",
    "ghes-nodes-version",
    "ghes-release-supported",
    "ghes-replica-promotable",
    "ghes-replication",
    "ghes-upgrade-kind",
    "ghes-upgrade-path",
    "ghes-vm-snapshot",
    "kibana-es-compat",
    "kibana-es-same-version",
    "kibana-instances-stopped",
    "kibana-migration-state",
    "kibana-snapshot",
];

#[test]
fn rule_ids_are_the_contract_and_documented() {
    let rules = ripcord::app::load_rules(None).expect("built-in rules load");
    let ids: Vec<&str> = rules.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, CONTRACT_IDS);
    for r in &rules.rules {
        assert!(!r.docs.summary.trim().is_empty(), "{}: summary", r.id);
        assert!(!r.docs.why.trim().is_empty(), "{}: why", r.id);
        assert!(
            !r.docs.remediation.trim().is_empty(),
            "{}: remediation",
            r.id
        );
        assert!(
            r.docs.reference.starts_with("https://"),
            "{}: reference",
            r.id
        );
        let expected_product = if r.id.starts_with("ghes-") {
            "ghes"
        } else {
            "elastic"
        };
        assert_eq!(r.product, expected_product, "{}", r.id);
    }
}

#[test]
fn severities_and_modes_match_the_contract() {
    let rules = ripcord::app::load_rules(None).expect("rules");
    let expect = [
        ("kibana-snapshot", "blocker", "preflight,rollback"),
        ("kibana-es-compat", "blocker", "preflight,rollback"),
        ("kibana-es-same-version", "warning", "preflight,rollback"),
        ("es-rollback-needed", "blocker", "rollback"),
        ("kibana-instances-stopped", "warning", "rollback"),
        ("kibana-migration-state", "info", "rollback"),
        ("es-version-uniform", "warning", "preflight,rollback"),
        ("elastic-upgrade-path", "blocker", "preflight"),
        ("es-cluster-health", "blocker", "preflight"),
        ("es-system-features", "blocker", "preflight"),
        ("es-deprecations", "blocker", "preflight"),
        ("ghes-upgrade-kind", "info", "preflight,rollback"),
        ("ghes-vm-snapshot", "blocker", "preflight,rollback"),
        ("ghes-upgrade-path", "blocker", "preflight"),
        ("ghes-release-supported", "warning", "preflight"),
        ("ghes-replication", "blocker", "preflight"),
        ("ghes-nodes-version", "warning", "preflight,rollback"),
        ("ghes-replica-promotable", "info", "rollback"),
    ];
    for (id, severity, modes) in expect {
        let r = rules.get(id).expect(id);
        assert_eq!(r.severity.as_str(), severity, "{id}");
        assert_eq!(r.modes.join(","), modes, "{id}");
    }
}

#[test]
fn every_rule_is_explained() {
    for id in CONTRACT_IDS {
        let (out, _, code) = ripcord(&args(&["rules", "explain", id]));
        assert_eq!(code, 0, "{id}");
        assert!(out.starts_with(id), "{out}");
        assert!(
            out.contains("Why:") && out.contains("Remediation:") && out.contains("passes when:"),
            "{out}"
        );
    }
}

#[test]
fn explain_output_snapshot() {
    let (out, _, _) = ripcord(&args(&["rules", "explain", "kibana-snapshot"]));
    insta::assert_snapshot!(out);
}

#[test]
fn unknown_rule_is_exit_2() {
    let (_, err, code) = ripcord(&args(&["rules", "explain", "no-such-rule"]));
    assert_eq!(code, 2);
    assert!(err.contains("no-such-rule"), "{err}");
}

#[test]
fn rules_list_json() {
    let (out, _, code) = ripcord(&args(&["rules", "list", "--format", "json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v.as_array().unwrap().len(), CONTRACT_IDS.len());
    let (table, _, code) = ripcord(&args(&["rules", "list"]));
    assert_eq!(code, 0);
    for id in CONTRACT_IDS {
        assert!(table.contains(id), "{table}");
    }
}

fn write_rule(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write rule");
}

const GOOD: &str = r#"id = "custom-green"
title = "Custom: the cluster is green"
product = "elastic"
modes = ["preflight"]
severity = "warning"
requires = ["es.health"]
expr = 'es.health.status == "green"'

[evidence]
status = "es.health.status"

[message]
pass = "green"
fail = "health is {status}"

[docs]
summary = "s"
why = "w"
remediation = "r"
reference = "https://example.com"
"#;

#[test]
fn broken_cel_points_at_file_line_column() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = GOOD.replace(
        "expr = 'es.health.status == \"green\"'",
        "expr = '''\nes.health.status ==\n  (\"green\" &&\n'''",
    );
    write_rule(dir.path(), "custom-green.toml", &text);
    let (_, err, code) = ripcord(&args(&[
        "rules",
        "list",
        "--rules",
        dir.path().to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("custom-green.toml:"), "{err}");
    assert!(err.contains("CEL syntax error"), "{err}");
}

#[test]
fn toml_error_unknown_fact_and_bad_placeholder_are_all_reported() {
    let dir = tempfile::tempdir().expect("tmp");
    write_rule(
        dir.path(),
        "custom-green.toml",
        &GOOD.replace("es.health.status ==", "es.helth.status =="),
    );
    write_rule(
        dir.path(),
        "custom-syntax.toml",
        "id = \"custom-syntax\"\ntitle = \n",
    );
    write_rule(
        dir.path(),
        "custom-msg.toml",
        &GOOD
            .replace("custom-green", "custom-msg")
            .replace("health is {status}", "health is {nope}"),
    );
    let (_, err, code) = ripcord(&args(&[
        "rules",
        "list",
        "--rules",
        dir.path().to_str().unwrap(),
    ]));
    assert_eq!(code, 2);
    assert!(
        err.contains("custom-green.toml:7:"),
        "line and column of the unknown fact: {err}"
    );
    assert!(err.contains("unknown fact `es.helth`"), "{err}");
    assert!(err.contains("custom-syntax.toml:2:"), "{err}");
    assert!(err.contains("{nope}"), "{err}");
}

#[test]
fn extra_rules_add_and_replace() {
    let dir = tempfile::tempdir().expect("tmp");
    write_rule(dir.path(), "custom-green.toml", GOOD);
    let replaced = GOOD
        .replace("custom-green", "es-cluster-health")
        .replace("Custom: the cluster is green", "Replaced health rule");
    write_rule(dir.path(), "es-cluster-health.toml", &replaced);
    let (out, err, code) = ripcord(&args(&[
        "rules",
        "list",
        "--format",
        "json",
        "--rules",
        dir.path().to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), CONTRACT_IDS.len() + 1);
    let health = list
        .iter()
        .find(|r| r["id"] == "es-cluster-health")
        .unwrap();
    assert_eq!(health["title"], "Replaced health rule");
    assert_eq!(health["severity"], "warning");
}
