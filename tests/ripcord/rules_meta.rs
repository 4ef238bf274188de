//! Rule meta-tests: ids are a contract, every rule is documented and explained, broken rule
//! files are diagnosed with file, line and column.

use crate::common::{self, args, ripcord};

const CONTRACT_IDS: &[&str] = &[
    "elastic-upgrade-path",
    "es-cluster-health",
    "es-deprecations",
    "es-deprecations-within-major",
    "es-rollback-needed",
    "es-system-features",
    "es-version-uniform",
    "ghes-known-upgrade-issues",
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

/// The built-in rules as `rules list --format json` prints them.
fn rules_json() -> Vec<serde_json::Value> {
    let (out, err, code) = ripcord(&args(&["rules", "list", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("json")
}

#[test]
fn rule_ids_are_the_contract_and_documented() {
    let rules = rules_json();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, CONTRACT_IDS);
    for r in &rules {
        let id = &r["id"];
        for doc in ["summary", "why", "remediation"] {
            assert!(!r[doc].as_str().unwrap().trim().is_empty(), "{id}: {doc}");
        }
        assert!(
            r["docs"].as_str().unwrap().starts_with("https://"),
            "{id}: reference"
        );
        // Built-in rules live in rules/<product>/<id>.toml.
        let file = format!(
            "rules/{}/{}.toml",
            r["product"].as_str().unwrap(),
            id.as_str().unwrap()
        );
        assert!(
            common::fixtures_dir().join("..").join(&file).is_file(),
            "{file}"
        );
    }
}

#[test]
fn severities_and_modes_match_the_contract() {
    let rules = rules_json();
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
        let r = rules.iter().find(|r| r["id"] == id).expect(id);
        assert_eq!(r["severity"], severity, "{id}");
        let listed: Vec<&str> = r["modes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        assert_eq!(listed.join(","), modes, "{id}");
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

/// A valid rule with non-ASCII text everywhere (comment, title, messages, docs, a multi-line
/// expression). Line 18 is the `fail` message; line 10 the last expression line.
const UNICODE: &str = r#"# Règle « personnalisée » — 日本語 😀
id = "custom-unicode"
title = "Custom: «santé» du cluster 😀 — 日本"
product = "elastic"
modes = ["preflight"]
severity = "warning"
requires = ["es.health"]
expr = '''
es.health.status == "green" &&
  "«ééé»" != "😀"
'''

[evidence]
status = "es.health.status"

[message]
pass = "état «vert» ✅ 日本 {status}"
fail = "état «{status}» — 😀 日本 {status}"

[docs]
summary = "Résumé 😀 «x» 日本"
why = "w"
remediation = "r"
reference = "https://example.com"
"#;

/// `rules list --rules DIR` with `files` (name, text) written into a fresh DIR.
fn list_rules(files: &[(&str, &str)]) -> (String, String, i32) {
    let dir = tempfile::tempdir().expect("tmp");
    for (name, text) in files {
        write_rule(dir.path(), name, text);
    }
    ripcord(&args(&[
        "rules",
        "list",
        "--format",
        "json",
        "--rules",
        dir.path().to_str().unwrap(),
    ]))
}

#[test]
fn non_ascii_rule_loads_intact() {
    let (out, err, code) = list_rules(&[("custom-unicode.toml", UNICODE)]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let rule = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "custom-unicode")
        .expect("custom-unicode listed");
    assert_eq!(rule["title"], "Custom: «santé» du cluster 😀 — 日本");
}

#[test]
fn non_ascii_errors_on_late_lines_have_exact_character_columns() {
    let placeholder = UNICODE.replace("日本 {status}\"\n\n[docs]", "日本 {nope}\"\n\n[docs]");
    let cel = UNICODE
        .replace("custom-unicode", "custom-unicode-cel")
        .replace("\"😀\"\n'''", "\"😀\")\n'''");
    let (_, err, code) = list_rules(&[
        ("custom-unicode.toml", &placeholder),
        ("custom-unicode-cel.toml", &cel),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("custom-unicode.toml:18:32: message.fail uses {nope}"),
        "the placeholder, counted in characters: {err}"
    );
    assert!(
        err.contains("custom-unicode-cel.toml:10:17: expr: CEL syntax error"),
        "the `)` after «ééé» and 😀, counted in characters: {err}"
    );
}

#[test]
fn multi_byte_text_before_an_error_never_panics() {
    let cases = [
        // A placeholder-looking title right after a multi-byte character; the real error is
        // the message's placeholder.
        (
            GOOD.replace("Custom: the cluster is green", "«{nope}»")
                .replace("health is {status}", "{nope}"),
            "custom-green.toml:14:9: message.fail uses {nope}",
        ),
        (
            GOOD.replace("Custom: the cluster is green", "«x {nope}»")
                .replace("health is {status}", "«{nope}»"),
            "custom-green.toml:14:10: message.fail uses {nope}",
        ),
        // The CEL column counts characters: the `)` is the 6th character, 9th byte.
        (
            GOOD.replace("'es.health.status == \"green\"'", "\"'ééé')\""),
            "custom-green.toml:7:14: expr: CEL syntax error",
        ),
    ];
    for (text, expected) in cases {
        let (_, err, code) = list_rules(&[("custom-green.toml", &text)]);
        assert_eq!(code, 2, "{text}\n{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(expected), "{expected}\n{err}");
    }
}

#[test]
fn the_same_text_earlier_in_the_file_is_not_pointed_at() {
    let text = UNICODE
        .replace(
            "# Règle « personnalisée » — 日本語 😀\n",
            "# «é» es.health.statuz\n# état «{status}» — 😀 日本 {nope}\n",
        )
        .replace("\"es.health.status\"", "\"es.health.statuz\"")
        .replace("日本 {status}\"\n\n[docs]", "日本 {nope}\"\n\n[docs]");
    let (_, err, code) = list_rules(&[("custom-unicode.toml", &text)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("custom-unicode.toml:15:21: evidence.status refers to unknown fact"),
        "the evidence value on line 15, not the comment on line 1: {err}"
    );
    assert!(
        err.contains("custom-unicode.toml:19:32: message.fail uses {nope}"),
        "the message on line 19, not the comment on line 2: {err}"
    );
}

/// Loads `text` as `NAME.toml` from a fresh directory: the exit code and stderr.
fn load_one(name: &str, text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().expect("tmp");
    write_rule(dir.path(), &format!("{name}.toml"), text);
    let (_, err, code) = ripcord(&args(&[
        "rules",
        "list",
        "--rules",
        dir.path().to_str().unwrap(),
    ]));
    (code, err)
}

#[test]
fn paths_inside_list_macros_are_checked_at_load() {
    // `all`, `exists`, `exists_one`, `filter` and `map` bind their variable to the list's
    // element type: a misspelt member is refused before anything runs.
    for (expr, bad) in [
        ("es.nodes.all(n, n.verison == \"x\")", "es.nodes[].verison"),
        ("es.nodes.exists(n, n.rols.size() > 0)", "es.nodes[].rols"),
        (
            "es.snapshots.filter(s, s.state == \"SUCCESS\").map(s, s.feature_state).size() > 0",
            "es.snapshots[].feature_state",
        ),
        (
            "derived.kibana_snapshot.versoin == null",
            "derived.kibana_snapshot.versoin",
        ),
    ] {
        let text = GOOD.replace("es.health.status == \"green\"", expr);
        let (code, err) = load_one("custom-green", &text);
        assert_eq!(code, 2, "{expr}: {err}");
        assert!(
            err.contains(&format!("unknown fact `{bad}`")),
            "{expr}: {err}"
        );
        assert!(err.contains("custom-green.toml:7:"), "{expr}: {err}");
    }
    let text = GOOD.replace(
        "es.health.status == \"green\"",
        "es.nodes.all(n, n.version == \"x\" && n.roles.exists(r, r == \"master\"))",
    );
    let (code, err) = load_one("custom-green", &text);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_rule_cannot_read_another_products_facts() {
    let text = GOOD
        .replace("product = \"elastic\"", "product = \"ghes\"")
        .replace("requires = [\"es.health\"]", "requires = []");
    let (code, err) = load_one("custom-green", &text);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown variable `es`"), "{err}");
    assert!(err.contains("custom-green.toml:7:"), "{err}");
    let (code, err) = load_one(
        "custom-green",
        &GOOD.replace("[\"es.health\"]", "[\"ghes.versions\"]"),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown fact group \"ghes.versions\""),
        "{err}"
    );
}

#[test]
fn a_deeply_nested_expression_is_refused_not_a_crash() {
    let deep = format!("{}true{}", "(".repeat(200), ")".repeat(200));
    let (code, err) = load_one(
        "custom-green",
        &GOOD.replace("'es.health.status == \"green\"'", &format!("'{deep}'")),
    );
    assert_eq!(code, 2, "{err}");
    // The 33rd bracket: `expr = '` is 8 characters, then 32 brackets.
    assert!(err.contains("custom-green.toml:7:41"), "{err}");
    assert!(err.contains("nested more than 32 deep"), "{err}");
}
