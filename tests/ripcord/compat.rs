//! Kibana's own compatibility test cases (copied verbatim, with their files and commits, into
//! `fixtures/compat/kibana-es-compat-acceptance.json` from `es_kibana_version_compatability.test.ts`
//! on main, the 8.18/8.x line and older lines, and from `nodes_version_compatibility.test.ts` /
//! `ensure_es_version.test.ts`) against our implementation of the rule.

use crate::common;
use ripcord::base::version::{es_compatible_with_kibana, kibana_accepts_es, same_release};
use serde_json::Value;

fn cases() -> Value {
    let path = common::fixtures_dir().join("compat/kibana-es-compat-acceptance.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
}

/// Every `it(...)` of the per-node function, on the branch it comes from (main has no
/// next-major clause; the 8.18 line accepts ES 9 from any Kibana 8; "ES is not
/// SemVer-compliant" is incompatible; "ES major > Kibana major + 1" never is).
#[test]
fn es_version_compatible_with_kibana_unit_cases() {
    let all = cases();
    let list = all["cases"].as_array().expect("cases");
    assert!(list.len() >= 30, "main, 8.18 and the older lines");
    for title in [
        "ES is not SemVer-compliant",
        "when ES major is greater than Kibana major + 1",
        "when ES major is 9 and Kibana major 8 (8.18 forward compatibility)",
    ] {
        assert!(list.iter().any(|c| c["it"] == title), "{title}");
    }
    for c in list {
        let es = c["esVersion"].as_str().unwrap();
        let kibana = c["kibanaVersion"].as_str().unwrap();
        let next_major = c["next_major_clause"].as_bool().unwrap();
        let expected = c["expected"].as_bool().unwrap();
        assert_eq!(
            es_compatible_with_kibana(es, kibana, next_major).unwrap(),
            expected,
            "{} ({}): es {es}, kibana {kibana}",
            c["it"],
            c["branch"]
        );
    }
}

/// The whole-cluster cases: compatible ⇔ there are nodes and every one is accepted; a node
/// without a version, or with one that is not SemVer, is incompatible (as ripcord's derive
/// counts it); warnings ⇔ some node is not the same release. `ignoreVersionMismatch` is a
/// development switch with no place in a production check, so those cases are skipped.
#[test]
fn nodes_version_compatibility_cluster_cases() {
    let all = cases();
    let mut checked = 0;
    for c in all["nodes_cases"].as_array().unwrap() {
        if c["ignoreVersionMismatch"].as_bool() == Some(true) {
            continue;
        }
        let kibana = c["kibanaVersion"].as_str().unwrap();
        let Some(nodes) = c["nodes"].as_array().filter(|n| !n.is_empty()) else {
            continue; // the nodes request failed: Kibana polls again, no verdict to compare
        };
        let versions: Vec<Option<&str>> = nodes.iter().map(|n| n["version"].as_str()).collect();
        let expected = c["isCompatible"].as_bool().unwrap();
        let compatible = versions
            .iter()
            .all(|v| v.is_some_and(|v| kibana_accepts_es(kibana, v).unwrap()));
        assert_eq!(compatible, expected, "{}: nodes {versions:?}", c["it"]);
        if let Some(n) = c["incompatibleNodes"].as_u64() {
            let refused = versions
                .iter()
                .filter(|v| !v.is_some_and(|v| kibana_accepts_es(kibana, v).unwrap()))
                .count();
            assert_eq!(refused as u64, n, "{}", c["it"]);
        }
        if let Some(message) = c["message"].as_str()
            && message.starts_with("You're running Kibana")
        {
            assert!(
                versions
                    .iter()
                    .any(|v| v.is_none_or(|v| !same_release(kibana, v).unwrap_or(false))),
                "a warning needs a different release: {versions:?}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
}

#[test]
fn last_minor_branches_accept_the_next_major() {
    // 5.6, 6.7/6.8, 7.17, 8.18, 8.19 accept ES of the next major, not two majors ahead.
    for k in ["5.6.16", "6.7.2", "6.8.23", "7.17.0", "8.18.0", "8.19.2"] {
        let major: u64 = k.split('.').next().unwrap().parse().unwrap();
        assert!(
            kibana_accepts_es(k, &format!("{}.0.0", major + 1)).unwrap(),
            "{k}"
        );
        assert!(
            !kibana_accepts_es(k, &format!("{}.0.0", major + 2)).unwrap(),
            "{k}"
        );
    }
    for k in ["7.16.3", "8.17.3", "8.0.0", "9.1.0"] {
        let major: u64 = k.split('.').next().unwrap().parse().unwrap();
        assert!(
            !kibana_accepts_es(k, &format!("{}.0.0", major + 1)).unwrap(),
            "{k}"
        );
    }
    // The README matrix (Kibana 5.1.2).
    for (es, ok) in [
        ("5.1.2", true),
        ("5.1.5", true),
        ("5.5.0", true),
        ("6.0.0", false),
        ("5.1.0", true),
        ("5.0.0", false),
        ("4.0.0", false),
    ] {
        assert_eq!(kibana_accepts_es("5.1.2", es).unwrap(), ok, "es {es}");
    }
}
