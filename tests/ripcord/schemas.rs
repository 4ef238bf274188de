//! The committed JSON Schemas (`schema/`) are exactly what the types generate, and real
//! reports and bundles have the shape they describe.

use crate::common;

fn check(file: &str, generated: serde_json::Value) {
    let path = common::fixtures_dir().join("../schema").join(file);
    let text = serde_json::to_string_pretty(&generated).expect("json") + "\n";
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
    check("report.v1.json", ripcord::schema::report_v1());
    check("facts.v1.json", ripcord::schema::facts_v1());
}
