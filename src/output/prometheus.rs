//! `--format prometheus`: a textfile for node_exporter's textfile collector (the Prometheus
//! text format, version 0.0.4, which the collector parses; written atomically like every
//! output, as the collector requires). Every series is a gauge: the collector accepts no
//! OpenMetrics-only type, so the per-rule outcome is a state set the OpenMetrics way, one
//! series per state with 1 on the current one (`ripcord_rule_outcome{…,outcome="fail"} 1`).
//!
//! Alert examples: `ripcord_target_ready == 0`, `ripcord_snapshot_age_seconds > 86400`,
//! `time() - ripcord_run_timestamp_seconds > 90000` (the nightly run did not run).

use crate::model::report::fleet_v1::{FleetReport, TargetVerdict};
use crate::model::report::v1::Outcome;
use std::fmt::Write as _;

const VERDICTS: [TargetVerdict; 5] = [
    TargetVerdict::Ready,
    TargetVerdict::NotReady,
    TargetVerdict::Incomplete,
    TargetVerdict::NothingToRollBack,
    TargetVerdict::Error,
];

const OUTCOMES: [Outcome; 6] = [
    Outcome::Pass,
    Outcome::Fail,
    Outcome::Skip,
    Outcome::Unknown,
    Outcome::Error,
    Outcome::Waived,
];

pub(super) fn render(r: &FleetReport) -> String {
    let mut out = String::new();
    let mut family = |name: &str, help: &str, samples: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    family(
        "ripcord_run_timestamp_seconds",
        "When the fleet run judged its targets (Unix time).",
        vec![(String::new(), seconds(r.generated_at))],
    );
    family(
        "ripcord_fleet_exit_code",
        "The fleet run's exit code: 0 ready, 1 a target not ready, 3 a target incomplete or in error.",
        vec![(String::new(), r.exit_code.to_string())],
    );
    family(
        "ripcord_fleet_targets",
        "Targets per verdict.",
        VERDICTS
            .iter()
            .map(|v| {
                let n = r.targets.iter().filter(|t| t.verdict == *v).count();
                (labels(&[("verdict", v.as_str())]), n.to_string())
            })
            .collect(),
    );
    family(
        "ripcord_target_ready",
        "1 when the target could be rolled back if its upgrade failed (ready, or nothing to roll back), else 0.",
        r.targets
            .iter()
            .map(|t| {
                let ready = matches!(
                    t.verdict,
                    TargetVerdict::Ready | TargetVerdict::NothingToRollBack
                );
                (
                    labels(&[("target", &t.name), ("product", &t.product)]),
                    u8::from(ready).to_string(),
                )
            })
            .collect(),
    );
    family(
        "ripcord_target_verdict",
        "The target's verdict, as a state set: 1 on the current verdict.",
        r.targets
            .iter()
            .flat_map(|t| {
                VERDICTS.iter().map(move |v| {
                    (
                        labels(&[
                            ("target", &t.name),
                            ("product", &t.product),
                            ("verdict", v.as_str()),
                        ]),
                        u8::from(t.verdict == *v).to_string(),
                    )
                })
            })
            .collect(),
    );
    family(
        "ripcord_target_exit_code",
        "The exit code the target's single-target run would have (2: it could not be judged).",
        r.targets
            .iter()
            .map(|t| {
                (
                    labels(&[("target", &t.name), ("product", &t.product)]),
                    t.exit_code.to_string(),
                )
            })
            .collect(),
    );
    family(
        "ripcord_rule_outcome",
        "Each rule's outcome per target, as a state set: 1 on the current outcome.",
        r.targets
            .iter()
            .flat_map(|t| {
                t.report.iter().flat_map(move |report| {
                    report.findings.iter().flat_map(move |f| {
                        OUTCOMES.iter().map(move |o| {
                            (
                                labels(&[
                                    ("target", &t.name),
                                    ("product", &t.product),
                                    ("rule", &f.rule),
                                    ("severity", f.severity.as_str()),
                                    ("outcome", o.as_str()),
                                ]),
                                u8::from(f.outcome == *o).to_string(),
                            )
                        })
                    })
                })
            })
            .collect(),
    );
    family(
        "ripcord_snapshot_age_seconds",
        "Age of the snapshot the target's rollback plan restores, at the run's time; absent when the plan restores none.",
        r.targets
            .iter()
            .filter_map(|t| {
                let snapshot = t.report.as_ref()?.plan.snapshot.as_ref()?;
                let age = snapshot.age_seconds?;
                Some((
                    labels(&[
                        ("target", &t.name),
                        ("product", &t.product),
                        ("snapshot", &snapshot.name),
                    ]),
                    age.to_string(),
                ))
            })
            .collect(),
    );
    family(
        "ripcord_target_facts_age_seconds",
        "Age of the facts the target was judged on, at the run's time.",
        r.targets
            .iter()
            .filter_map(|t| {
                let report = t.report.as_ref()?;
                Some((
                    labels(&[("target", &t.name), ("product", &t.product)]),
                    report.source.age_seconds.to_string(),
                ))
            })
            .collect(),
    );
    out
}

/// Unix seconds, with milliseconds.
fn seconds(t: jiff::Timestamp) -> String {
    let ms = t.as_millisecond();
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// `{a="x",b="y"}`, values escaped as the text format asks (`\`, `"`, line feed).
fn labels(pairs: &[(&str, &str)]) -> String {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("a", "x\"y\\z\nw")]), r#"{a="x\"y\\z\nw"}"#);
        assert_eq!(
            seconds(jiff::Timestamp::from_millisecond(1_500).expect("ts")),
            "1.500"
        );
    }
}
