//! Hostile answers: endless streams, huge bodies, stalls, control characters, redirects.

use super::server::{Act, Hostile, hostile_mix, hostile_mix_args};
use super::{Limited, run_limited};
use std::time::Duration;

fn report(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("not a JSON report ({e}): {stdout:.2000}"))
}

/// `rollback elastic --es URL --format json --no-progress` and `extra`: the run and its
/// report.
fn rollback_json(url: &str, extra: &[&str]) -> (Limited, serde_json::Value) {
    let args = [
        &[
            "rollback",
            "elastic",
            "--es",
            url,
            "--format",
            "json",
            "--no-progress",
        ][..],
        extra,
    ]
    .concat();
    let run = run_limited(&args, &[]);
    let r = report(&run.output.stdout);
    (run, r)
}

/// The reason of the collection failure of `GET path` (query stripped, as reports show it).
fn reason<'a>(r: &'a serde_json::Value, path: &str) -> &'a str {
    let endpoint = format!("GET {path}");
    r["collection_failures"]
        .as_array()
        .expect("failures")
        .iter()
        .find(|f| f["endpoint"] == endpoint.as_str())
        .and_then(|f| f["reason"].as_str())
        .unwrap_or_else(|| panic!("no failure for {path}: {:#}", r["collection_failures"]))
}

/// The failure of `GET path` says `needle`.
fn assert_reason(r: &serde_json::Value, path: &str, needle: &str) {
    let why = reason(r, path);
    assert!(why.contains(needle), "{path}: {needle:?} not in {why:?}");
}

/// Every endpoint answers something hostile at once; the run stays within its data limit,
/// ends, and reports each endpoint as a named failure (exit 3: nothing could be verified).
#[test]
fn a_mix_of_hostile_answers_yields_a_report_naming_each_endpoint() {
    let (routes, fallback) = hostile_mix();
    let es = Hostile::start(&routes, fallback);
    let args = hostile_mix_args(&es.url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_limited(&args, &[]);
    assert_eq!(es.not_get(), 0, "ripcord sent something other than GET");
    assert_eq!(run.output.code, 3, "stderr: {}", run.output.stderr);
    let r = report(&run.output.stdout);
    for path in [
        "/",
        "/_snapshot/_all/_all",
        "/_cluster/health",
        "/_migration/deprecations",
    ] {
        assert_reason(&r, path, "answer too large");
    }
    for path in ["/_nodes", "/_features"] {
        let why = reason(&r, path);
        assert!(
            why.contains("not JSON")
                || why.contains("unexpected response shape")
                || why.contains("answer too large"),
            "{path}: {why}"
        );
    }
    assert_reason(&r, "/_migration/system_features", "HTML page");
    for finding in r["findings"].as_array().expect("findings") {
        assert_ne!(finding["outcome"], "pass", "{finding:#}");
    }
}

/// Tiny entries without end: thirty bytes of JSON each, a few hundred parsed. The byte caps
/// alone let them fill gigabytes (tiny feature states took 1.25 GB); the memory budget stops
/// each answer, named, within the 1 GiB data limit of the child.
#[test]
fn tiny_entries_without_end_stop_at_the_memory_budget() {
    let endless = |prefix: &str, unit: &str| Act::Endless {
        prefix: prefix.into(),
        unit: unit.into(),
    };
    // Snapshots without end, each with 500 feature states (the count per snapshot is capped).
    let snapshot = format!(
        r#"{{"snapshot":"s","repository":"r","state":"SUCCESS","feature_states":[{}{{"feature_name":"k"}}]}},"#,
        r#"{"feature_name":"k","indices":["i"]},"#.repeat(500)
    );
    let feature_states = endless(r#"{"snapshots":["#, &snapshot);
    let es = Hostile::start(
        &[
            (
                "/",
                Act::Json(
                    200,
                    r#"{"cluster_name":"c","cluster_uuid":"u","version":{"number":"8.17.3"}}"#
                        .into(),
                ),
            ),
            (
                "/_snapshot",
                Act::Json(200, r#"{"r":{"type":"fs","settings":{}}}"#.into()),
            ),
            ("/_snapshot/_all/_all", feature_states.clone()),
            ("/_snapshot/r/_all", feature_states),
            (
                "/_migration/deprecations",
                endless(
                    r#"{"index_settings":{"i":["#,
                    r#"{"level":"critical","message":"m"},"#,
                ),
            ),
        ],
        Act::Json(200, "{}".into()),
    );
    let (run, r) = rollback_json(&es.url, &["--from", "8.17.3", "--to", "8.18.0"]);
    assert_eq!(es.not_get(), 0, "ripcord sent something other than GET");
    assert_eq!(run.output.code, 3, "stderr: {}", run.output.stderr);
    assert_reason(&r, "/_migration/deprecations", "MiB of memory");
    let failures = r["collection_failures"].as_array().expect("failures");
    assert!(
        failures.iter().any(|f| {
            f["endpoint"]
                .as_str()
                .is_some_and(|e| e.starts_with("GET /_snapshot/"))
                && f["reason"].as_str().is_some_and(|why| {
                    why.starts_with("answer too large") && why.contains("MiB of memory")
                })
        }),
        "{failures:#?}"
    );
}

/// Every endpoint stalls: the run ends at its deadline instead of waiting per request in
/// turn, and with nothing answered that is one line naming the deadline, exit 2.
#[test]
fn stalled_endpoints_end_at_the_deadline() {
    let es = Hostile::start(&[], Act::Stall);
    let start = std::time::Instant::now();
    let out = crate::common::Ripcord::new(&[
        "rollback",
        "elastic",
        "--es",
        &es.url,
        "--kibana",
        &es.url,
        "--timeout",
        "30",
        "--deadline",
        "3",
        "--no-progress",
    ])
    .run();
    let wall = start.elapsed();
    assert!(wall < Duration::from_secs(15), "took {wall:?}");
    assert_eq!(out.code, 2, "stderr: {}", out.stderr);
    assert!(
        out.stderr.contains("nothing could be collected") && out.stderr.contains("deadline"),
        "{}",
        out.stderr
    );
}

/// A server that drips its answer slower than the per-request timeout is cut off by it.
#[test]
fn a_dripping_answer_is_cut_by_the_request_timeout() {
    let es = Hostile::start(
        &[(
            "/",
            Act::Drip {
                body: r#"{"cluster_name":"c","version":{"number":"8.17.3"}}"#.into(),
                every: Duration::from_millis(200),
            },
        )],
        Act::Json(404, "{}".into()),
    );
    let (run, r) = rollback_json(&es.url, &["--timeout", "1"]);
    assert!(run.wall < Duration::from_secs(10), "took {:?}", run.wall);
    assert_reason(&r, "/", "timed out");
}

/// Control characters a server sends never reach the terminal or Markdown raw.
#[test]
fn control_characters_from_servers_are_escaped() {
    let evil = "\u{1b}]0;pwned\u{7}\u{1b}[2J\r\n# Injected heading\u{0}";
    let body =
        serde_json::json!({"error": {"type": "x", "reason": evil}, "status": 500}).to_string();
    let es = Hostile::start(&[], Act::Json(500, body));
    for format in ["table", "markdown", "junit"] {
        let run = run_limited(
            &[
                "rollback",
                "elastic",
                "--es",
                &es.url,
                "--format",
                format,
                "--no-progress",
            ],
            &[],
        );
        let out = &run.output.stdout;
        assert!(
            out.contains("pwned"),
            "{format}: the reason is shown: {out}"
        );
        for raw in ['\u{1b}', '\u{7}', '\u{0}', '\r'] {
            assert!(!out.contains(raw), "{format}: raw {raw:?} in {out}");
            assert!(
                !run.output.stderr.contains(raw),
                "{format}: raw {raw:?} on stderr"
            );
        }
        assert!(
            !out.lines()
                .any(|l| l.trim_start().starts_with("# Injected")),
            "{format}: a server newline started a line: {out}"
        );
        assert!(out.contains("\\u{1b}"), "{format}: escaped visibly: {out}");
    }
    let (_, r) = rollback_json(&es.url, &[]);
    assert_reason(&r, "/", evil);
}

/// A redirect is never followed, and the finding says where it pointed.
#[test]
fn a_redirect_names_its_target() {
    let es = Hostile::start(
        &[],
        Act::Redirect("https://sso.example.com/login?next=%2F".into()),
    );
    let (_, r) = rollback_json(&es.url, &[]);
    assert_reason(&r, "/", "https://sso.example.com/login");
    assert_eq!(es.not_get(), 0);
}
