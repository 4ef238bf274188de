//! The committed JSON Schemas (`schema/`) are exactly what the types generate, and what
//! ripcord writes (every scenario's report, every committed bundle) is valid against them,
//! checked by a real validator.

use crate::common;
use serde_json::Value;

fn committed_path(file: &str) -> std::path::PathBuf {
    common::fixtures_dir().join("../schema").join(file)
}

fn check(file: &str, generated: &Value) {
    let path = committed_path(file);
    let text = serde_json::to_string_pretty(generated).expect("json") + "\n";
    if std::env::var_os("RIPCORD_UPDATE_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, &text).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} drifted from the types; run with RIPCORD_UPDATE_FIXTURES=1 and review the diff",
        path.display()
    );
}

#[test]
fn committed_schemas_match_the_types() {
    check("report.v1.json", &ripcord::schema::report_v1());
    check("facts.v1.json", &ripcord::schema::facts_v1());
}

/// Fails the test unless `instance` is valid against the committed schema `file`.
pub fn assert_valid(file: &str, instance: &Value, what: &str) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(committed_path(file)).expect("committed schema"),
    )
    .expect("schema is JSON");
    let location = format!("https://ripcord.invalid/schema/{file}");
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource(&location, schema)
        .expect("schema resource");
    let mut schemas = boon::Schemas::new();
    let index = compiler
        .compile(&location, &mut schemas)
        .unwrap_or_else(|e| panic!("{file} is not a valid JSON Schema: {e}"));
    if let Err(e) = schemas.validate(instance, index) {
        panic!("{what} is not valid against {file}: {e:#}");
    }
}

#[test]
fn committed_bundles_are_valid_facts() {
    for name in common::scenarios() {
        let text = std::fs::read_to_string(common::facts_path(&name)).expect("bundle");
        let bundle: Value = serde_json::from_str(&text).expect("json");
        assert_valid("facts.v1.json", &bundle, &name);
    }
}

#[test]
fn the_schemas_reject_what_the_contract_forbids() {
    let text = std::fs::read_to_string(common::facts_path("failed-minor-upgrade")).expect("bundle");
    let mut bundle: Value = serde_json::from_str(&text).expect("json");
    bundle["elastic"]["snapshots"][0]["state"] = Value::from(7);
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(committed_path("facts.v1.json")).unwrap())
            .unwrap();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("facts.json", schema).unwrap();
    let mut schemas = boon::Schemas::new();
    let index = compiler.compile("facts.json", &mut schemas).unwrap();
    assert!(
        schemas.validate(&bundle, index).is_err(),
        "a number as a state"
    );
}
