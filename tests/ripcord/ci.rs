//! In CI and in the terminal: several reports from one run, JSON on stdout even when the run
//! fails, waivers, `--exit-zero`, `RIPCORD_*` variables, colour, width and folded skips.
//! Every run is the real binary on a scenario's committed bundle.

use crate::common::{self, Ripcord, facts_path, scenario_args};
use serde_json::Value;
use std::path::Path;

/// The scenario's offline command line (its bundle, its clock) plus `extra`.
fn offline_args(name: &str, extra: &[&str]) -> Vec<String> {
    let mut a = scenario_args(name);
    a.retain(|x| x != "--timeout" && x != "1");
    a.extend(["--facts".to_string(), facts_path(name)]);
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn run(name: &str, extra: &[&str]) -> common::Output {
    Ripcord::new(&offline_args(name, extra)).run()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// No temporary file is left beside the reports.
fn assert_no_partial_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".partial"), "left behind: {name}");
    }
}

#[test]
fn one_run_writes_every_report_asked_for() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = |n: &str| dir.path().join(n);
    // An old report in the way is replaced whole.
    std::fs::write(file("report.json"), "old").expect("write");
    let out = run(
        "major-7-to-8",
        &[
            "--report",
            &format!("junit={}", path_str(&file("ripcord.xml"))),
            "--report",
            &format!("markdown={}", path_str(&file("summary.md"))),
            "--report",
            &format!("json={}", path_str(&file("report.json"))),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    // stdout keeps the --format report (the table).
    assert!(
        out.stdout.starts_with("NOT READY (exit 1)"),
        "{}",
        out.stdout
    );
    let report = json(&std::fs::read_to_string(file("report.json")).expect("json"));
    let alone = run("major-7-to-8", &["--format", "json"]);
    assert_eq!(
        report,
        json(&alone.stdout),
        "the same report as --format json"
    );
    let xml = std::fs::read_to_string(file("ripcord.xml")).expect("xml");
    crate::junit::validate(&xml).expect("valid JUnit");
    assert!(xml.contains("<failure"), "{xml}");
    let md = std::fs::read_to_string(file("summary.md")).expect("md");
    assert!(md.starts_with("# ripcord preflight elastic"), "{md}");
    for written in ["ripcord.xml", "summary.md", "report.json"] {
        assert!(out.stderr.contains(written), "{written}: {}", out.stderr);
    }
    assert_no_partial_files(dir.path());
}

#[test]
fn output_sends_the_format_to_a_file_and_nothing_to_stdout() {
    let dir = tempfile::tempdir().expect("tmp");
    let target = dir.path().join("ripcord.xml");
    let out = run(
        "healthy-preflight",
        &["--format", "junit", "-o", path_str(&target)],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    crate::junit::validate(&std::fs::read_to_string(&target).expect("xml")).expect("valid");
    // `--output -` is stdout.
    let out = run("healthy-preflight", &["--format", "json", "--output", "-"]);
    assert_eq!(json(&out.stdout)["verdict"], "ready");
}

#[test]
fn report_destinations_are_checked_before_anything_is_done() {
    let dir = tempfile::tempdir().expect("tmp");
    let same = path_str(&dir.path().join("r.xml")).to_string();
    let missing = path_str(&dir.path().join("no/such/folder/r.xml")).to_string();
    for (extra, says) in [
        (
            vec![
                "--output",
                same.as_str(),
                "--report",
                &format!("junit={same}"),
            ],
            "name the same file",
        ),
        (
            vec!["--report", &format!("xml={same}")],
            "unknown format \"xml\"",
        ),
        (vec!["--report", "junit"], "expected FORMAT=FILE"),
        (
            vec!["--report", "json=-"],
            "stdout takes the --format report",
        ),
        (
            vec!["--report", &format!("junit={missing}")],
            "cannot write to the folder",
        ),
    ] {
        let out = run("healthy-preflight", &extra);
        assert_eq!(out.code, 2, "{extra:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{extra:?}: {}", out.stderr);
    }
    assert_no_partial_files(dir.path());
}

#[test]
fn under_format_json_a_failed_run_still_prints_json() {
    let bad_bundle = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(bad_bundle.path(), "{ not json").expect("write");
    /// Arguments, environment, the error code expected.
    type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            offline_args("healthy-preflight", &["--format", "json", "--no-such-flag"]),
            vec![],
            "clap::UnknownArgument",
        ),
        (
            offline_args(
                "healthy-preflight",
                &["--format=json", "--fail-on", "sometimes"],
            ),
            vec![],
            "clap::InvalidValue",
        ),
        (
            common::args(&[
                "preflight",
                "elastic",
                "--to",
                "8.18.0",
                "--facts",
                path_str(bad_bundle.path()),
            ]),
            vec![("RIPCORD_FORMAT", "json")],
            "ripcord::bundle",
        ),
        (
            common::args(&["preflight", "elastic", "--format", "json", "--to", "8.18"]),
            vec![],
            "ripcord::usage",
        ),
    ];
    for (args, env, code) in cases {
        let mut cmd = Ripcord::new(&args);
        for (k, v) in &env {
            cmd = cmd.env(k, v);
        }
        let out = cmd.run();
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        let doc = json(&out.stdout);
        crate::schemas::assert_valid("error.v1.json", &doc, "the error document");
        assert_eq!(doc["schema"], "ripcord.error/v1");
        assert_eq!(doc["exit_code"], 2);
        let got = doc["error"]["code"].as_str().unwrap_or_default();
        assert!(got.starts_with(code), "{args:?}: {got}");
        assert!(
            !doc["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        );
        // People still get the diagnostic on stderr.
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    // Without --format json, stdout stays empty on failure.
    let out = Ripcord::new(&offline_args("healthy-preflight", &["--no-such-flag"])).run();
    assert_eq!((out.code, out.stdout.as_str()), (2, ""));
}

fn waivers_file(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("tmp");
    std::fs::write(file.path(), text).expect("write");
    file
}

fn waiver(rule: &str, target: &str, expires: &str) -> String {
    format!(
        "[[waiver]]\nrule = \"{rule}\"\ntarget = \"{target}\"\nreason = \"snapshot taken by hand before the window\"\nowner = \"platform-team@example.com\"\nexpires = {expires}\n\n"
    )
}

#[test]
fn a_waiver_turns_its_failure_into_waived_with_reason_and_owner() {
    // healthy-preflight-stale: kibana-snapshot (blocker) fails on cluster prod-logs; judged
    // on 2026-11-22.
    let file = waivers_file(&waiver("kibana-snapshot", "prod-*", "2026-12-31"));
    let before = run("healthy-preflight-stale", &["--format", "json"]);
    assert_eq!(before.code, 1);
    let out = run(
        "healthy-preflight-stale",
        &["--format", "json", "--waivers", path_str(file.path())],
    );
    assert_eq!(
        out.code, 0,
        "the only failing blocker is waived: {}",
        out.stderr
    );
    let report = json(&out.stdout);
    assert_eq!(report["verdict"], "ready");
    assert_eq!(report["summary"]["waived"], 1);
    assert_eq!(report["summary"]["fail"], 0);
    let finding = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "kibana-snapshot")
        .expect("kibana-snapshot");
    assert_eq!(finding["outcome"], "waived");
    assert_eq!(finding["waived_by"]["owner"], "platform-team@example.com");
    assert_eq!(finding["waived_by"]["expires"], "2026-12-31");
    assert_eq!(report["waivers"][0]["status"], "applied");
    crate::schemas::assert_valid("report.v1.json", &report, "a report with waivers");
    // Every format shows it, with its reason and owner: never silently.
    for format in ["table", "markdown", "junit"] {
        let out = run(
            "healthy-preflight-stale",
            &["--format", format, "--waivers", path_str(file.path())],
        );
        assert!(
            out.stdout.contains("WAIVED") || out.stdout.contains("Waived"),
            "{format}"
        );
        assert!(
            out.stdout.contains("platform-team@example.com"),
            "{format}: {}",
            out.stdout
        );
        if format == "junit" {
            crate::junit::validate(&out.stdout).expect("valid JUnit");
            assert!(!out.stdout.contains("<failure"), "waived is not a failure");
            // The suite's count agrees with its `<skipped/>` elements (skips and the waiver).
            let skipped = out.stdout.matches("<skipped/>").count();
            assert!(
                out.stdout.contains(&format!(" skipped=\"{skipped}\"")),
                "{}",
                out.stdout
            );
        }
    }
}

#[test]
fn a_waiver_for_another_target_or_an_expired_one_does_not_apply() {
    let other = waivers_file(&waiver("kibana-snapshot", "metrics-*", "2026-12-31"));
    let out = run(
        "healthy-preflight-stale",
        &["--format", "json", "--waivers", path_str(other.path())],
    );
    assert_eq!(out.code, 1);
    let report = json(&out.stdout);
    assert_eq!(report["summary"]["waived"], 0);
    assert!(report.get("waivers").is_none(), "about another target");

    // Expired from the day after its date: the scenario is judged on 2026-11-22.
    for (expires, applies) in [("2026-11-22", true), ("2026-11-21", false)] {
        let file = waivers_file(&waiver("kibana-snapshot", "prod-logs", expires));
        let out = run(
            "healthy-preflight-stale",
            &["--format", "json", "--waivers", path_str(file.path())],
        );
        let report = json(&out.stdout);
        assert_eq!(out.code, if applies { 0 } else { 1 }, "{expires}");
        if !applies {
            assert_eq!(report["waivers"][0]["status"], "expired");
            let warnings = report["warnings"].to_string();
            assert!(warnings.contains("expired on 2026-11-21"), "{warnings}");
            assert!(
                out.stderr.contains("expired on 2026-11-21"),
                "{}",
                out.stderr
            );
        }
    }
}

#[test]
fn a_bad_waivers_file_is_exit_2_with_file_and_line() {
    let full = waiver("kibana-snapshot", "prod-*", "2026-12-31");
    for (text, says) in [
        (
            full.replace("owner = \"platform-team@example.com\"\n", ""),
            ":1:",
        ),
        (
            full.replace("kibana-snapshot", "kibana-snapshots"),
            "did you mean \"kibana-snapshot\"",
        ),
        (full.replace("2026-12-31", "\"next year\""), ":6:"),
        (
            format!("{full}[[waiver]]\nrule = \"es-deprecations\"\n"),
            ":8:",
        ),
    ] {
        let file = waivers_file(&text);
        let out = run(
            "healthy-preflight-stale",
            &["--waivers", path_str(file.path())],
        );
        assert_eq!(out.code, 2, "{text}\n{}", out.stderr);
        let shown = path_str(file.path());
        assert!(out.stderr.contains(shown), "{}", out.stderr);
        assert!(out.stderr.contains(says), "{says}: {}", out.stderr);
    }
}

#[test]
fn exit_zero_reports_without_gating_but_not_when_ripcord_failed() {
    for (name, code) in [
        ("major-7-to-8", 1),
        ("es-unauthorized", 3),
        ("healthy-preflight", 0),
    ] {
        let gate = run(name, &[]);
        assert_eq!(gate.code, code, "{name}");
        let report_only = run(name, &["--exit-zero", "--format", "json"]);
        assert_eq!(report_only.code, 0, "{name}");
        // The report still says what the gate would have done.
        assert_eq!(json(&report_only.stdout)["exit_code"], code, "{name}");
        let by_env = Ripcord::new(&offline_args(name, &[]))
            .env("RIPCORD_EXIT_ZERO", "true")
            .run();
        assert_eq!(by_env.code, 0, "{name}: RIPCORD_EXIT_ZERO");
    }
    let broken = Ripcord::new(&offline_args(
        "healthy-preflight",
        &["--exit-zero", "--to", "8.18"],
    ))
    .run();
    assert_eq!(broken.code, 2, "ripcord could not do its job");
}

#[test]
fn ci_variables_set_flags_and_flags_win() {
    // mixed-version fails a warning (es-version-uniform) besides its blocker; healthy
    // preflight with a warning-only failure: preflight-minor-critical-deprecation.
    let name = "preflight-minor-critical-deprecation";
    assert_eq!(run(name, &[]).code, 0);
    let env = Ripcord::new(&offline_args(name, &[]))
        .env("RIPCORD_FAIL_ON", "warning")
        .run();
    assert_eq!(env.code, 1, "RIPCORD_FAIL_ON=warning");
    let flag_wins = Ripcord::new(&offline_args(name, &["--fail-on", "blocker"]))
        .env("RIPCORD_FAIL_ON", "warning")
        .run();
    assert_eq!(flag_wins.code, 0);
    let as_json = Ripcord::new(&offline_args(name, &[]))
        .env("RIPCORD_FORMAT", "json")
        .run();
    assert_eq!(json(&as_json.stdout)["schema"], "ripcord.report/v1");
    // Documented in --help.
    let help = Ripcord::new(&["preflight", "elastic", "--help"]).run();
    for var in [
        "RIPCORD_FORMAT",
        "RIPCORD_FAIL_ON",
        "RIPCORD_WAIVERS",
        "RIPCORD_EXIT_ZERO",
    ] {
        assert!(help.stdout.contains(var), "{var}");
    }
}

const ESC: &str = "\u{1b}[";

#[test]
fn colour_honours_the_flag_no_color_and_clicolor_force() {
    let name = "major-7-to-8";
    let with = |extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Ripcord::new(&offline_args(name, extra));
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        cmd.run().stdout
    };
    assert!(!with(&[], &[]).contains(ESC), "not a terminal: no colour");
    assert!(with(&["--color", "always"], &[]).contains(ESC));
    assert!(
        with(&["--color", "always"], &[("NO_COLOR", "1")]).contains(ESC),
        "the flag wins"
    );
    assert!(with(&[], &[("CLICOLOR_FORCE", "1")]).contains(ESC));
    assert!(!with(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains(ESC));
    assert!(!with(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]).contains(ESC));
    let coloured = with(&["--color", "always"], &[]);
    assert!(coloured.contains("NOT READY"), "{coloured}");
    // Only the table is coloured: JSON, Markdown and JUnit are read by programs.
    for format in ["json", "markdown", "junit"] {
        assert!(
            !with(&["--format", format, "--color", "always"], &[]).contains(ESC),
            "{format}"
        );
    }
    // Files never are.
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("t.txt");
    with(
        &[
            "--color",
            "always",
            "--report",
            &format!("table={}", path_str(&file)),
        ],
        &[],
    );
    assert!(!std::fs::read_to_string(&file).expect("table").contains(ESC));
}

#[test]
fn the_table_fits_the_terminal_width() {
    for columns in [80usize, 100, 160] {
        let out = Ripcord::new(&offline_args("major-7-to-8", &[]))
            .env("COLUMNS", &columns.to_string())
            .run();
        let table: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| l.starts_with(['┌', '│', '╞', '├', '└']))
            .collect();
        assert!(!table.is_empty());
        for line in &table {
            assert!(
                line.chars().count() <= columns,
                "COLUMNS={columns}: {} wide: {line}",
                line.chars().count()
            );
        }
        if columns == 160 {
            assert!(
                table.iter().any(|l| l.chars().count() > 120),
                "uses the room"
            );
        }
    }
}

#[test]
fn skips_are_folded_unless_asked_for() {
    let name = "failed-minor-upgrade";
    let json_report = json(&run(name, &["--format", "json"]).stdout);
    let skipped = json_report["summary"]["skip"].as_u64().expect("skip");
    assert!(skipped > 0);
    for format in ["table", "markdown"] {
        let folded = run(name, &["--format", format]).stdout;
        assert!(!folded.contains("SKIP "), "{format}: {folded}");
        assert!(
            folded.contains(&format!("{skipped} rules skipped")),
            "{format}: {folded}"
        );
        let shown = run(name, &["--format", format, "--show-skipped"]).stdout;
        assert_eq!(
            shown.matches("SKIP ").count() as u64,
            skipped,
            "{format}: {shown}"
        );
    }
    // JSON keeps every finding.
    let all = json_report["findings"].as_array().expect("findings");
    assert_eq!(
        all.iter().filter(|f| f["outcome"] == "skip").count() as u64,
        skipped
    );
}
