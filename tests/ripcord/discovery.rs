//! Discovery: completions, man pages, `--help` (examples, the product's own variables, 80
//! columns), `--version`, and a suggestion for a mistyped rule id.

use crate::common::{Ripcord, args};

/// Every command path of the CLI, for help checks.
const COMMANDS: &[&[&str]] = &[
    &[],
    &["preflight"],
    &["rollback"],
    &["collect"],
    &["preflight", "elastic"],
    &["preflight", "ghes"],
    &["rollback", "elastic"],
    &["rollback", "ghes"],
    &["collect", "elastic"],
    &["collect", "ghes"],
    &["rules"],
    &["rules", "list"],
    &["rules", "explain"],
    &["completions"],
    &["man"],
];

fn help(command: &[&str]) -> String {
    let mut a: Vec<&str> = command.to_vec();
    a.push("--help");
    // A wide terminal must not widen the help past 80 columns.
    let out = Ripcord::new(&args(&a)).env("COLUMNS", "200").run();
    assert_eq!(out.code, 0, "{command:?}: {}", out.stderr);
    out.stdout
}

#[test]
fn help_fits_80_columns_with_examples_and_only_the_products_variables() {
    for command in COMMANDS {
        let text = help(command);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{command:?}: {} columns: {line}",
                line.chars().count()
            );
        }
        if command.len() == 2 && ["elastic", "ghes"].contains(&command[1]) {
            assert!(text.contains("Examples:\n  "), "{command:?}");
            assert!(
                text.contains(&format!("ripcord {} {}", command[0], command[1])),
                "{command:?}"
            );
            let (own, other) = if command[1] == "elastic" {
                ("RIPCORD_ES_API_KEY", "RIPCORD_GHES_PASSWORD")
            } else {
                ("RIPCORD_GHES_PASSWORD", "RIPCORD_ES_API_KEY")
            };
            assert!(text.contains(own), "{command:?}");
            assert!(
                !text.contains(other),
                "{command:?} lists another product's variable"
            );
        }
    }
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = Ripcord::new(&args(&["completions", shell])).run();
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        for word in ["preflight", "rollback", "waivers", "exit-zero"] {
            assert!(out.stdout.contains(word), "{shell}: {word}");
        }
        if shell == "bash" {
            // The script is valid bash.
            let dir = tempfile::tempdir().expect("tmp");
            let file = dir.path().join("ripcord.bash");
            std::fs::write(&file, &out.stdout).expect("write");
            let check = std::process::Command::new("bash")
                .arg("-n")
                .arg(&file)
                .status()
                .expect("bash");
            assert!(check.success(), "bash -n refuses the script");
        }
    }
    let bad = Ripcord::new(&args(&["completions", "tcsh"])).run();
    assert_eq!(bad.code, 2);
}

#[test]
fn man_pages_for_every_command() {
    let out = Ripcord::new(&args(&["man"])).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(".ie") || out.stdout.contains(".TH ripcord 1"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("preflight"));
    let dir = tempfile::tempdir().expect("tmp");
    let written = Ripcord::new(&args(&[
        "man",
        "--dir",
        dir.path().to_str().expect("utf-8"),
    ]))
    .run();
    assert_eq!(written.code, 0, "{}", written.stderr);
    for page in [
        "ripcord.1",
        "ripcord-preflight-elastic.1",
        "ripcord-rollback-ghes.1",
        "ripcord-rules-explain.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page))
            .unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
    let page =
        std::fs::read_to_string(dir.path().join("ripcord-preflight-elastic.1")).expect("page");
    assert!(
        page.contains("waivers") && page.contains("RIPCORD\\_FORMAT")
            || page.contains("RIPCORD_FORMAT"),
        "{page}"
    );
}

#[test]
fn version_names_the_commit_and_the_release_data() {
    let out = Ripcord::new(&args(&["--version"])).run();
    assert_eq!(out.code, 0);
    let first = out.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("ripcord {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{first}"
    );
    for data in [
        "Elasticsearch release dates: through 20",
        "GHES feature release dates: through 20",
        "GHES known upgrade issues: ",
    ] {
        assert!(out.stdout.contains(data), "{data}: {}", out.stdout);
    }
}

#[test]
fn a_mistyped_rule_id_gets_the_closest_one() {
    let out = Ripcord::new(&args(&["rules", "explain", "kibana-snapshots"])).run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("did you mean \"kibana-snapshot\""),
        "{}",
        out.stderr
    );
    let far = Ripcord::new(&args(&["rules", "explain", "zzz"])).run();
    assert_eq!(far.code, 2);
    assert!(!far.stderr.contains("did you mean"), "{}", far.stderr);
}
