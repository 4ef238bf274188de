//! Hostile answers: endless streams, huge bodies, stalls, control characters, redirects.

use super::run_limited;
use super::server::{Act, Hostile};
use std::time::Duration;

/// A JSON body of `n` bytes: `[0,0,0,…]`.
fn zeros(n: usize) -> String {
    let mut s = String::with_capacity(n + 2);
    s.push('[');
    while s.len() < n {
        s.push_str("0,");
    }
    s.push('0');
    s.push(']');
    s
}

fn report(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("not a JSON report ({e}): {stdout:.2000}"))
}

/// The collection failure of the endpoint whose path starts with `path`.
fn failure<'a>(r: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    r["collection_failures"]
        .as_array()
        .expect("failures")
        .iter()
        .find(|f| {
            f["endpoint"]
                .as_str()
                .is_some_and(|e| e.starts_with(&format!("GET {path}")))
        })
        .unwrap_or_else(|| panic!("no failure for {path}: {:#}", r["collection_failures"]))
}

/// Every endpoint answers something hostile at once; the run stays within its data limit,
/// ends, and reports each endpoint as a named failure (exit 3: nothing could be verified).
#[test]
fn a_mix_of_hostile_answers_yields_a_report_naming_each_endpoint() {
    let endless_snapshots = Act::Endless {
        prefix: r#"{"snapshots":["#.into(),
        unit: r#"{"snapshot":"s","uuid":"u","repository":"r","state":"SUCCESS","version":"8.17.3","start_time_in_millis":1,"end_time_in_millis":2},"#.into(),
    };
    let routes = [
        (
            "/",
            Act::Endless {
                prefix: r#"{"cluster_name":""#.into(),
                unit: "A".into(),
            },
        ),
        ("/_nodes", Act::Json(200, zeros(50_000_000))),
        (
            "/_cluster/health",
            Act::Endless {
                prefix: String::new(),
                unit: " ".into(),
            },
        ),
        (
            "/_snapshot",
            Act::Json(
                200,
                format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            ),
        ),
        ("/_snapshot/_all/_all", endless_snapshots),
        (
            "/_features",
            Act::Body(200, "application/json", vec![0xff, 0xfe, b'{', 0x80]),
        ),
        (
            "/_migration/deprecations",
            Act::Endless {
                prefix: r#"{"index_settings":{"i":["#.into(),
                unit: r#"{"level":"critical","message":"m"},"#.into(),
            },
        ),
        (
            "/_migration/system_features",
            Act::Body(
                502,
                "text/html",
                format!("<html>{}</html>", "x".repeat(5_000_000)).into_bytes(),
            ),
        ),
        (
            "/api/status",
            Act::Endless {
                prefix: "[".into(),
                unit: "0,".into(),
            },
        ),
    ];
    let es = Hostile::start(&routes, Act::Json(200, zeros(20_000_000)));
    let run = run_limited(
        &[
            "rollback",
            "elastic",
            "--es",
            &es.url,
            "--kibana",
            &es.url,
            "--format",
            "json",
            "--from",
            "8.17.3",
            "--to",
            "8.18.0",
            "--timeout",
            "60",
            "--no-progress",
        ],
        &[],
    );
    assert_eq!(es.not_get(), 0, "ripcord sent something other than GET");
    assert_eq!(run.output.code, 3, "stderr: {}", run.output.stderr);
    let r = report(&run.output.stdout);
    for path in [
        "/ ",
        "/_snapshot/_all/_all",
        "/_cluster/health",
        "/_migration/deprecations",
    ] {
        let f = failure(&r, path.trim_end());
        assert!(
            f["reason"]
                .as_str()
                .is_some_and(|t| t.contains("answer too large")),
            "{path}: {f:#}"
        );
    }
    for path in ["/_nodes", "/_features"] {
        let f = failure(&r, path);
        let reason = f["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("not JSON")
                || reason.contains("unexpected response shape")
                || reason.contains("answer too large"),
            "{path}: {f:#}"
        );
    }
    let html = failure(&r, "/_migration/system_features");
    assert!(
        html["reason"]
            .as_str()
            .is_some_and(|t| t.contains("HTML page")),
        "{html:#}"
    );
    for finding in r["findings"].as_array().expect("findings") {
        assert_ne!(finding["outcome"], "pass", "{finding:#}");
    }
}

/// Every endpoint stalls: the run ends at its deadline with what it has (nothing), each
/// endpoint unknown, instead of waiting per request in turn.
#[test]
fn stalled_endpoints_end_at_the_deadline() {
    let es = Hostile::start(&[], Act::Stall);
    let run = run_limited(
        &[
            "rollback",
            "elastic",
            "--es",
            &es.url,
            "--kibana",
            &es.url,
            "--format",
            "json",
            "--timeout",
            "30",
            "--deadline",
            "3",
            "--no-progress",
        ],
        &[],
    );
    assert!(run.wall < Duration::from_secs(15), "took {:?}", run.wall);
    assert_eq!(run.output.code, 3, "stderr: {}", run.output.stderr);
    let r = report(&run.output.stdout);
    let root = failure(&r, "/");
    assert!(
        root["reason"]
            .as_str()
            .is_some_and(|t| t.contains("deadline")),
        "{root:#}"
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
    let run = run_limited(
        &[
            "rollback",
            "elastic",
            "--es",
            &es.url,
            "--format",
            "json",
            "--timeout",
            "1",
            "--no-progress",
        ],
        &[],
    );
    assert!(run.wall < Duration::from_secs(10), "took {:?}", run.wall);
    let r = report(&run.output.stdout);
    let root = failure(&r, "/");
    assert!(
        root["reason"]
            .as_str()
            .is_some_and(|t| t.contains("timed out")),
        "{root:#}"
    );
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
    let json = run_limited(
        &[
            "rollback",
            "elastic",
            "--es",
            &es.url,
            "--format",
            "json",
            "--no-progress",
        ],
        &[],
    );
    let r = report(&json.output.stdout);
    assert!(
        failure(&r, "/")["reason"]
            .as_str()
            .is_some_and(|t| t.contains(evil)),
        "JSON keeps the text"
    );
}

/// A redirect is never followed, and the finding says where it pointed.
#[test]
fn a_redirect_names_its_target() {
    let es = Hostile::start(
        &[],
        Act::Redirect("https://sso.example.com/login?next=%2F".into()),
    );
    let run = run_limited(
        &[
            "rollback",
            "elastic",
            "--es",
            &es.url,
            "--format",
            "json",
            "--no-progress",
        ],
        &[],
    );
    let r = report(&run.output.stdout);
    let root = failure(&r, "/");
    assert!(
        root["reason"]
            .as_str()
            .is_some_and(|t| t.contains("https://sso.example.com/login")),
        "{root:#}"
    );
    assert_eq!(es.not_get(), 0);
}
