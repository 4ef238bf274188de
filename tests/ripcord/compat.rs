//! Kibana's own compatibility test cases (copied verbatim into
//! `fixtures/compat/kibana-es-compat-acceptance.json` from `es_kibana_version_compatability.test.ts`
//! and `ensure_es_version.test.ts`) against our implementation of the rule.

use crate::common;
use ripcord::version::{kibana_accepts_es, same_release};
use serde_json::Value;

fn cases() -> Value {
    let path = common::fixtures_dir().join("compat/kibana-es-compat-acceptance.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
}

#[test]
fn es_version_compatible_with_kibana_unit_cases() {
    let all = cases();
    let list = all["cases"].as_array().expect("cases");
    assert_eq!(list.len(), 7, "the whole Kibana test file");
    for c in list {
        let es = c["esVersion"].as_str().unwrap();
        let kibana = c["kibanaVersion"].as_str().unwrap();
        let expected = c["expected"].as_bool().unwrap();
        assert_eq!(
            kibana_accepts_es(kibana, es).unwrap(),
            expected,
            "{}: es {es}, kibana {kibana}",
            c["it"]
        );
    }
}

/// The whole-cluster cases: compatible ⇔ every node is accepted (ignoreVersionMismatch is
/// dev-mode only and has no place in a production check, so those cases are skipped); a
/// non-semver node version is incompatible for Kibana and an evaluation error for ripcord;
/// warnings ⇔ some node is not the same release.
#[test]
fn ensure_es_version_cluster_cases() {
    let all = cases();
    let block = &all["ensure_es_version_cases"];
    let kibana = block["kibanaVersion"].as_str().unwrap();
    let mut checked = 0;
    for c in block["cases"].as_array().unwrap() {
        if c["ignoreVersionMismatch"].as_bool() == Some(true) {
            continue;
        }
        let nodes: Vec<&str> = c["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().split(' ').next().unwrap())
            .collect();
        let expected = c["isCompatible"].as_bool().unwrap();
        let results: Vec<Result<bool, _>> =
            nodes.iter().map(|n| kibana_accepts_es(kibana, n)).collect();
        if results.iter().any(Result::is_err) {
            assert!(
                !expected,
                "Kibana rejects an unparsable node; ripcord reports an error for it"
            );
            checked += 1;
            continue;
        }
        // No nodes (or the nodes request failed) is incompatible for Kibana.
        let compatible = !nodes.is_empty() && results.iter().all(|r| *r.as_ref().unwrap());
        assert_eq!(compatible, expected, "nodes {nodes:?}");
        if let Some(message) = c["message"].as_str()
            && message.starts_with("You're running Kibana")
        {
            assert!(
                nodes.iter().any(|n| !same_release(kibana, n).unwrap()),
                "a warning needs a different release: {nodes:?}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 8);
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
