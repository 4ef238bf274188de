//! Secrets never leave, even when a server echoes them, and credentials come from the
//! environment only, in one header.

use super::run_limited;
use super::server::{Act, EchoKind, Hostile};
use base64::Engine as _;

const PASSWORD: &str = "s3cr3t-Pa55w0rd!";
const API_KEY: &str = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";

fn forbidden() -> Vec<String> {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("elastic:{PASSWORD}"));
    let decoded = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(API_KEY)
            .expect("base64"),
    )
    .expect("utf-8");
    vec![PASSWORD.into(), basic, API_KEY.into(), decoded]
}

fn assert_clean(what: &str, text: &str) {
    for secret in forbidden() {
        assert!(
            !text.contains(&secret),
            "{what} leaks {secret:?}:\n{text:.3000}"
        );
    }
}

/// A proxy that reflects the Authorization header into a 401 JSON, an HTML 502 and a text
/// 500, and a server that puts the password in a 200 body: nothing of it in any format, on
/// stderr (with -v) or in a collected bundle.
#[test]
fn echoed_credentials_are_redacted_everywhere() {
    let es = Hostile::start(
        &[
            (
                "/",
                Act::Echo {
                    status: 401,
                    kind: EchoKind::Json,
                },
            ),
            (
                "/_nodes",
                Act::Echo {
                    status: 502,
                    kind: EchoKind::Html,
                },
            ),
            (
                "/_cluster/health",
                Act::Echo {
                    status: 500,
                    kind: EchoKind::Text,
                },
            ),
            (
                "/_features",
                Act::Json(
                    200,
                    format!(r#"{{"features":[{{"name":"{PASSWORD}","description":"x"}}]}}"#),
                ),
            ),
        ],
        Act::Echo {
            status: 401,
            kind: EchoKind::Json,
        },
    );
    let kibana = Hostile::start(
        &[],
        Act::Echo {
            status: 401,
            kind: EchoKind::Json,
        },
    );
    let env = [
        ("RIPCORD_ES_USERNAME", "elastic"),
        ("RIPCORD_ES_PASSWORD", PASSWORD),
        ("RIPCORD_KIBANA_API_KEY", API_KEY),
    ];
    for format in ["table", "json", "markdown", "junit"] {
        let run = run_limited(
            &[
                "rollback",
                "elastic",
                "--es",
                &es.url,
                "--kibana",
                &kibana.url,
                "--format",
                format,
                "--verbose",
                "--from",
                "8.17.3",
                "--to",
                "8.18.0",
            ],
            &env,
        );
        // Markdown escapes the brackets (`\[redacted\]` renders as `[redacted]`).
        assert!(
            run.output.stdout.contains("[redacted]")
                || run.output.stdout.contains("\\[redacted\\]"),
            "{format}: {}",
            run.output.stdout
        );
        assert_clean(format, &run.output.stdout);
        assert_clean("stderr", &run.output.stderr);
    }
    let dir = tempfile::tempdir().expect("tmp");
    let bundle = dir.path().join("facts.json");
    let bundle_arg = bundle.display().to_string();
    let run = run_limited(
        &[
            "collect",
            "elastic",
            "--es",
            &es.url,
            "--kibana",
            &kibana.url,
            "--output",
            &bundle_arg,
        ],
        &env,
    );
    assert_eq!(run.output.code, 0, "{}", run.output.stderr);
    let text = std::fs::read_to_string(&bundle).expect("bundle written");
    assert!(text.contains("[redacted]"));
    assert_clean("bundle", &text);
    assert_eq!(es.not_get() + kibana.not_get(), 0);
    // Every request carried exactly one Authorization header, the configured one.
    let basic = format!("Basic {}", forbidden()[1]);
    for headers in es.seen.authorization.lock().expect("lock").iter() {
        assert_eq!(headers, &vec![basic.clone()]);
    }
    for headers in kibana.seen.authorization.lock().expect("lock").iter() {
        assert_eq!(headers, &vec![format!("ApiKey {API_KEY}")]);
    }
}

/// A credential read from a file with a trailing line break is sent without it; one with a
/// line break inside stops the run before any request (never sent unauthenticated).
#[test]
fn credentials_with_line_breaks_are_trimmed_or_refused() {
    let es = Hostile::start(&[], Act::Json(401, "{}".into()));
    let with_crlf = format!("{API_KEY}\r\n");
    let run = run_limited(
        &["rollback", "elastic", "--es", &es.url, "--format", "json"],
        &[("RIPCORD_ES_API_KEY", &with_crlf)],
    );
    // Every answer a 401: nothing collected (exit 2), the key sent as it should be.
    assert_eq!(run.output.code, 2, "{}", run.output.stderr);
    for headers in es.seen.authorization.lock().expect("lock").iter() {
        assert_eq!(headers, &vec![format!("ApiKey {API_KEY}")]);
    }
    let before = es.requests();
    let run = run_limited(
        &["rollback", "elastic", "--es", &es.url],
        &[
            ("RIPCORD_ES_PASSWORD", "pass\nword"),
            ("RIPCORD_ES_USERNAME", "elastic"),
        ],
    );
    assert_eq!(run.output.code, 2);
    assert!(
        run.output
            .stderr
            .contains("RIPCORD_ES_PASSWORD holds a control character"),
        "{}",
        run.output.stderr
    );
    assert!(!run.output.stderr.contains("pass\nword"));
    assert_eq!(es.requests(), before, "nothing was sent");
}

/// Credentials in a URL are refused (they would be a second Authorization header), and
/// credentials about to go over plain http:// are warned about.
#[test]
fn urls_carry_no_credentials_and_plain_http_is_warned() {
    let es = Hostile::start(&[], Act::Json(404, "{}".into()));
    let with_userinfo = es.url.replace("http://", "http://elastic:hunter2@");
    let run = run_limited(&["rollback", "elastic", "--es", &with_userinfo], &[]);
    assert_eq!(run.output.code, 2);
    assert!(
        run.output
            .stderr
            .contains("credentials in a URL are refused"),
        "{}",
        run.output.stderr
    );
    assert!(!run.output.stderr.contains("hunter2"));
    assert_eq!(es.requests(), 0);
    for (url, why) in [
        (format!("{}/?pretty", es.url), "no `?query`"),
        (format!("{}/#frag", es.url), "no `#fragment`"),
    ] {
        let run = run_limited(&["rollback", "elastic", "--es", &url], &[]);
        assert_eq!(run.output.code, 2, "{url}");
        assert!(run.output.stderr.contains(why), "{}", run.output.stderr);
    }
    let run = run_limited(
        &["rollback", "elastic", "--es", &es.url, "--no-progress"],
        &[("RIPCORD_ES_API_KEY", API_KEY)],
    );
    assert!(
        run.output
            .stderr
            .contains("RIPCORD_ES_API_KEY will be sent over plain http://"),
        "{}",
        run.output.stderr
    );
}
