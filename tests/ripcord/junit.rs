//! JUnit that CI systems accept and that agrees with the exit code: every scenario's report is
//! validated with a real XML Schema validator (`xmllint`, installed by `./test.sh`) against the
//! strictest common JUnit schema, and its `<failure>`/`<error>` elements are checked against
//! the JSON report's findings and exit code.

use crate::cli::offline;
use crate::common;
use std::path::Path;
use std::process::Command;

const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/ripcord/junit/strict-junit.xsd"
);

/// `xmllint --schema`'s verdict on `xml`: `Ok` or its complaint.
pub fn validate(xml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("report.xml");
    std::fs::write(&file, xml).expect("write");
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", SCHEMA])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!("xmllint is needed (Debian: apt-get install libxml2-utils; ./test.sh does): {e}")
        });
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn every_scenario_is_valid_junit() {
    assert!(Path::new(SCHEMA).is_file());
    for name in common::reported_scenarios() {
        for fail_on in ["blocker", "warning"] {
            let (xml, err, _) = offline(&name, &["--format", "junit", "--fail-on", fail_on]);
            assert!(xml.starts_with("<?xml"), "{name}: {err}");
            if let Err(why) = validate(&xml) {
                panic!("{name} (--fail-on {fail_on}): not valid JUnit:\n{why}\n{xml:.3000}");
            }
        }
    }
}

/// The validator is strict where CI systems are: the former `<skipped message=…>`, a
/// suite without `hostname` and a zoned timestamp are refused (so the test above can fail).
#[test]
fn the_validator_refuses_what_ci_systems_refuse() {
    let (xml, _, _) = offline("failed-minor-upgrade", &["--format", "junit"]);
    assert_eq!(validate(&xml), Ok(()));
    let broken = [
        xml.replacen("<skipped/>", r#"<skipped message="skip"/>"#, 1),
        xml.replacen(r#" hostname="es.example""#, "", 1),
        xml.replacen(
            r#"timestamp="2026-11-20T06:00:00""#,
            r#"timestamp="2026-11-20T06:00:00Z""#,
            1,
        ),
    ];
    for doc in broken {
        assert_ne!(doc, xml, "the mutation applies");
        assert!(validate(&doc).is_err(), "accepted:\n{doc:.1500}");
    }
}

/// `<failure>` exactly for the failures that set exit code 1 (per `--fail-on`), `<error>`
/// exactly for unverified blockers, and both agree with the exit code.
#[test]
fn failures_in_junit_are_what_sets_the_exit_code() {
    for name in common::reported_scenarios() {
        for fail_on in ["blocker", "warning"] {
            let (json, _, code) = offline(&name, &["--format", "json", "--fail-on", fail_on]);
            let (xml, _, xml_code) = offline(&name, &["--format", "junit", "--fail-on", fail_on]);
            assert_eq!(code, xml_code, "{name}");
            let report: serde_json::Value = serde_json::from_str(&json).expect("json");
            let findings = report["findings"].as_array().expect("findings");
            let gating = |f: &&serde_json::Value| {
                f["outcome"] == "fail"
                    && (f["severity"] == "blocker"
                        || (fail_on == "warning" && f["severity"] == "warning"))
            };
            let unverified = |f: &&serde_json::Value| {
                f["severity"] == "blocker" && (f["outcome"] == "unknown" || f["outcome"] == "error")
            };
            let failures = findings.iter().filter(gating).count();
            let errors = findings.iter().filter(unverified).count();
            assert_eq!(
                xml.matches("<failure ").count(),
                failures,
                "{name} --fail-on {fail_on}"
            );
            assert_eq!(
                xml.matches("<error ").count(),
                errors,
                "{name} --fail-on {fail_on}"
            );
            if report["verdict"] != "nothing_to_roll_back" {
                assert_eq!(
                    code == 1,
                    failures > 0,
                    "{name} --fail-on {fail_on}: exit {code}"
                );
            }
            for f in findings.iter().filter(|f| f["outcome"] == "pass") {
                let rule = f["rule"].as_str().expect("rule");
                assert!(
                    xml.contains(&format!(r#"<testcase name="{rule}""#)),
                    "{name}: {rule}"
                );
            }
        }
    }
}

/// The suite names the target, the plan is in `<system-out>` with its commands as they paste,
/// and a non-gating failure is listed there with its message.
#[test]
fn the_suite_names_the_target_and_carries_the_plan() {
    let (xml, _, _) = offline("failed-minor-upgrade", &["--format", "junit"]);
    assert!(
        xml.contains(
            r#"<testsuite name="ripcord rollback elastic: Elasticsearch cluster prod-logs"#
        ),
        "{xml:.600}"
    );
    assert!(xml.contains(r#"classname="ripcord.elastic.rollback.prod-logs""#));
    let out = &xml[xml.find("<system-out>").expect("system-out")..];
    assert!(
        out.contains("Roll Kibana from 8.18.0 back to 8.17.3"),
        "{out:.2000}"
    );
    assert!(
        out.contains(r#"if [ "$rc" -eq 7 ]"#),
        "commands keep their quotes: {out:.2000}"
    );
    assert!(
        out.contains("Not passed, not gating (--fail-on blocker):"),
        "{out:.4000}"
    );
}
