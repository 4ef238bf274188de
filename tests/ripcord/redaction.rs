//! Redaction never rewrites ripcord's own text (DESIGN §7): a secret that is also a common
//! word gives the same plan as a long random one (and a warning at start), a long secret that
//! is ripcord's own text stays out of nothing ripcord composed, and a diagnostic's source
//! snippet never shows the credentials it refuses.

use crate::common::{self, Ripcord};
use serde_json::Value;

/// The plan commands, every alternative's too, of a JSON report.
fn plan_commands(report: &Value) -> Vec<String> {
    fn walk(plan: &Value, out: &mut Vec<String>) {
        for step in plan["steps"].as_array().into_iter().flatten() {
            for c in step["commands"].as_array().into_iter().flatten() {
                out.push(c.as_str().unwrap_or_default().to_string());
            }
        }
        for alternative in plan["alternatives"].as_array().into_iter().flatten() {
            walk(alternative, out);
        }
    }
    let mut out = Vec::new();
    walk(&report["plan"], &mut out);
    out
}

/// A live run of `scenario` with `env`: its JSON report and stderr.
fn live(scenario: &str, env: &[(&str, &str)]) -> (Value, String) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let servers = runtime.block_on(common::start(scenario));
    let mut args = common::scenario_args(scenario);
    args.extend(servers.target_args());
    args.extend(["--format".to_string(), "json".to_string()]);
    let out = env
        .iter()
        .fold(Ripcord::new(&args), |r, (k, v)| r.env(k, v))
        .run();
    let report: Value = serde_json::from_str(&servers.normalize(&out.stdout))
        .unwrap_or_else(|e| panic!("{scenario}: {e}: {}\n{}", out.stdout, out.stderr));
    drop(servers);
    (report, out.stderr)
}

/// A scenario, the variables of a run with short secrets, and of one with long secrets.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [(&'a str, &'a str)]);

const LONG: &str = "c0rrect-h0rse-battery-staple-9f2";

#[test]
fn secrets_that_are_common_words_leave_the_plan_as_it_is() {
    let cases: &[Case<'_>] = &[
        (
            "failed-minor-upgrade",
            &[
                ("RIPCORD_ES_USERNAME", "elastic"),
                ("RIPCORD_ES_PASSWORD", "kibana"),
            ],
            &[
                ("RIPCORD_ES_USERNAME", "elastic"),
                ("RIPCORD_ES_PASSWORD", LONG),
            ],
        ),
        (
            "failed-minor-upgrade",
            &[
                ("RIPCORD_ES_API_KEY", LONG),
                ("RIPCORD_KIBANA_API_KEY", "elastic"),
            ],
            &[
                ("RIPCORD_ES_API_KEY", LONG),
                ("RIPCORD_KIBANA_API_KEY", LONG),
            ],
        ),
        (
            "ghes-ha-patch-failure",
            &[("RIPCORD_GHES_PASSWORD", "admin")],
            &[("RIPCORD_GHES_PASSWORD", LONG)],
        ),
        (
            "ghes-primary-down",
            &[("RIPCORD_GHES_PASSWORD", "admin")],
            &[("RIPCORD_GHES_PASSWORD", LONG)],
        ),
    ];
    for (scenario, short, long) in cases {
        let (with_short, stderr) = live(scenario, short);
        let (with_long, _) = live(scenario, long);
        let commands = plan_commands(&with_short);
        assert!(!commands.is_empty(), "{scenario}: no commands");
        assert_eq!(
            commands,
            plan_commands(&with_long),
            "{scenario} with {short:?}"
        );
        assert!(
            !commands.iter().any(|c| c.contains("[redacted]")),
            "{scenario}: {commands:#?}"
        );
        assert_eq!(with_short["plan"]["title"], with_long["plan"]["title"]);
        assert!(
            stderr.contains("is shorter than 8 characters"),
            "{scenario}: no warning about the short secret: {stderr}"
        );
    }
}

#[test]
fn a_long_secret_that_is_ripcord_s_own_text_is_not_cut_out_of_it() {
    // Ripcord's own words: a unit name and the feature state the restore names.
    let (report, _) = live(
        "failed-minor-upgrade",
        &[
            ("RIPCORD_ES_USERNAME", "elastic"),
            ("RIPCORD_ES_PASSWORD", "kibana.service"),
        ],
    );
    let commands = plan_commands(&report).join("\n");
    assert!(
        commands.contains("systemctl stop kibana.service"),
        "{commands}"
    );
    assert!(!commands.contains("[redacted]"), "{commands}");
}

#[test]
fn an_inventory_error_never_shows_the_password_it_refuses() {
    // The second password holds `/`: the URL does not parse, and must be masked all the same.
    for (url, secret) in [
        ("http://user:s3cr3tpw@127.0.0.1:9200", "s3cr3tpw"),
        ("https://user:pa/ss-s3cr3t@127.0.0.1:9200", "ss-s3cr3t"),
    ] {
        inventory_error_is_masked(url, secret);
    }
}

fn inventory_error_is_masked(url: &str, secret: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("fleet.toml");
    std::fs::write(
        &path,
        format!(
            "[[target]]\nname = \"logs\"\nproduct = \"elastic\"\nes = \"{url}\"\nto = \"8.15.3\"\n"
        ),
    )
    .expect("write");
    let inventory = path.display().to_string();
    for extra in [&[][..], &["--format", "json"][..]] {
        let out = Ripcord::new(&["fleet", "--inventory", &inventory])
            .args(extra)
            .run();
        assert_eq!(out.code, 2, "{}", out.stderr);
        for text in [&out.stdout, &out.stderr] {
            assert!(!text.contains(secret), "{extra:?}: {text}");
            assert!(!text.contains("user:s"), "{extra:?}: {text}");
        }
        // The snippet is still there, the user info masked, the rest as written.
        assert!(out.stderr.contains("@127.0.0.1:9200"), "{}", out.stderr);
    }
}
