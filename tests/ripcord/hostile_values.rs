//! The property behind the quoting guarantee, over every plan builder: take any scenario's
//! bundle, put hostile strings into its server-controlled fields (the product's facts, the
//! recorded target, connection and operator facts), judge it, and every command of the plan
//! parses in bash, stays on one line, and runs against stub host commands without running
//! anything the plan did not intend (see `rehearse`). A bundle the screening refuses is a
//! clear error (exit 2), never a panic.

use crate::common;
use crate::rehearse::{commands, rehearse};
use proptest::prelude::*;
use ripcord::app::{Done, run_args};

/// How many bundles are tried (each judged, then its plan rehearsed in bash).
pub const CASES: u32 = 256;

/// Strings that are shell syntax, some of which Elasticsearch accepts as names.
const PAYLOADS: &[&str] = &[
    "$(pwned)",
    "`pwned`",
    ";pwned;",
    "&pwned&",
    "|pwned",
    "&&pwned",
    "'$(pwned)'",
    "\"$(pwned)\"",
    "\n pwned\n",
    "\r\npwned",
    ">pwned",
    "$(touch${IFS}pwned)",
    "'; touch pwned; '",
    "\\'; pwned; #",
    "${IFS}pwned",
    "-oProxyCommand=pwned",
    "\u{1b}[2J$(pwned)",
    "\u{202e}$(pwned)",
    "x y",
    "",
];

/// A hostile string: a payload, alone or between two short arbitrary strings.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(PAYLOADS).prop_map(str::to_string),
        (
            "[a-z0-9._-]{0,8}",
            proptest::sample::select(PAYLOADS),
            "[a-z0-9._-]{0,8}"
        )
            .prop_map(|(a, p, b)| format!("{a}{p}{b}")),
        "\\PC{0,12}",
    ]
}

/// Keys whose strings are enums or timestamps: a hostile value there only makes the bundle
/// unreadable, which another test covers.
fn skipped(key: &str, value: &str) -> bool {
    matches!(
        key,
        "schema" | "product" | "method" | "flavor" | "tool_version"
    ) || value.len() >= 20 && value.as_bytes()[4] == b'-' && value.as_bytes()[10] == b'T'
}

/// Replaces string leaves of `value` (under server- and bundle-controlled keys) with
/// `choices[k]` where `picks[k]` says so.
fn mutate(value: &mut serde_json::Value, key: &str, picks: &[(bool, String)], k: &mut usize) {
    match value {
        serde_json::Value::String(s) if !skipped(key, s) => {
            let (take, with) = &picks[*k % picks.len()];
            *k += 1;
            if *take {
                *s = with.clone();
            }
        }
        serde_json::Value::Array(items) => {
            for item in items.iter_mut() {
                mutate(item, key, picks, k);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                mutate(item, key, picks, k);
            }
        }
        _ => {}
    }
}

fn case() -> impl Strategy<Value = (usize, Vec<(bool, String)>)> {
    (
        any::<usize>(),
        proptest::collection::vec((proptest::bool::weighted(0.3), hostile()), 48),
    )
}

#[test]
#[allow(clippy::print_stderr, reason = "the case count, for the record")]
fn every_plan_builder_quotes_every_hostile_value() {
    let scenarios = common::reported_scenarios();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let work = tempfile::tempdir().expect("tempdir");
    let config = ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let judged = std::cell::Cell::new(0u32);
    proptest!(config, |((pick, picks) in case())| {
        let scenario = &scenarios[pick % scenarios.len()];
        let text = std::fs::read_to_string(common::facts_path(scenario)).expect("bundle");
        let mut bundle: serde_json::Value = serde_json::from_str(&text).expect("json");
        let mut k = 0;
        for section in ["elastic", "ghes", "target", "connection", "operator"] {
            if let Some(v) = bundle.get_mut(section) {
                mutate(v, section, &picks, &mut k);
            }
        }
        let dir = tempfile::tempdir_in(work.path()).expect("case dir");
        let path = dir.path().join("bundle.json");
        std::fs::write(&path, bundle.to_string()).expect("write");
        let mut args = common::scenario_args(scenario);
        args.extend(["--facts".to_string(), path.display().to_string()]);
        let argv: Vec<String> = std::iter::once("ripcord".to_string()).chain(args).collect();
        match runtime.block_on(run_args(argv)) {
            Ok(Done::Report(ripcord::run::Evaluated { report, .. })) => {
                judged.set(judged.get() + 1);
                let all = commands(&report.plan);
                rehearse(dir.path(), &all).assert_clean(&format!("{scenario}: {picks:?}"));
            }
            Ok(other) => panic!("{scenario}: not a report: {other:?}"),
            // Refused with a message (a recorded URL, variable or operator fact): exit 2.
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    });
    // The property is about plans: most cases must have been judged, not refused.
    let judged = judged.get();
    assert!(
        judged > CASES / 4,
        "only {judged} of {CASES} bundles were judged"
    );
    eprintln!("{CASES} hostile bundles, {judged} judged and their plans rehearsed");
}
