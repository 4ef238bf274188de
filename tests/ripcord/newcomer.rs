//! A newcomer's first ten minutes (issue "A newcomer's first ten minutes"): the table's prose
//! fits the terminal, commands stay whole.

use crate::common::{self, Ripcord};

/// At 80 columns, every line of every scenario's table is at most 80 characters wide, except
/// a command (`$ …`) or a request (`request: …`), which stay on one line to be copied whole.
#[test]
fn prose_fits_80_columns_and_commands_stay_whole() {
    for scenario in common::reported_scenarios() {
        let mut args = common::scenario_args(&scenario);
        args.extend(["--facts".to_string(), common::facts_path(&scenario)]);
        let out = Ripcord::new(&args).env("COLUMNS", "80").run();
        assert!(matches!(out.code, 0 | 1 | 3), "{scenario}: {}", out.stderr);
        for line in out.stdout.lines() {
            let body = line.trim_start();
            if body.starts_with("$ ") || body.starts_with("request: ") {
                continue;
            }
            assert!(
                line.chars().count() <= 80,
                "{scenario}: a prose line of {} columns: {line}",
                line.chars().count()
            );
        }
        // Commands are never wrapped: each one printed is one whole command of the plan.
        let report = Ripcord::new(&args).args(&["--format", "json"]).run();
        let json: serde_json::Value = serde_json::from_str(&report.stdout).expect("json");
        let printed: Vec<&str> = out
            .stdout
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("$ "))
            .collect();
        for step in json["plan"]["steps"].as_array().into_iter().flatten() {
            let lines = ["check", "commands", "verify"]
                .iter()
                .flat_map(|key| step[*key].as_array().into_iter().flatten());
            for c in lines {
                let c = c.as_str().unwrap_or_default();
                assert!(printed.contains(&c), "{scenario}: {c:?} not printed whole");
            }
        }
    }
}

/// In rollback mode line 1 answers "can I get back?" in the words the headline under it uses,
/// then the exit code and what did not pass by severity; JSON carries the same answer.
#[test]
fn line_one_answers_and_agrees_with_the_headline() {
    for scenario in common::reported_scenarios() {
        let mut args = common::scenario_args(&scenario);
        args.extend(["--facts".to_string(), common::facts_path(&scenario)]);
        let json = Ripcord::new(&args).args(&["--format", "json"]).run();
        let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
        let table = Ripcord::new(&args).env("COLUMNS", "200").run();
        let first = table.stdout.lines().next().unwrap_or_default().to_string();
        assert!(
            !first.contains(" fail,") && first.contains(&format!("(exit {})", report["exit_code"])),
            "{scenario}: {first}"
        );
        if report["mode"] != "rollback" {
            assert!(report.get("rollback").is_none(), "{scenario}");
            assert!(
                first.starts_with("READY")
                    || first.starts_with("NOT READY")
                    || first.starts_with("INCOMPLETE"),
                "{scenario}: {first}"
            );
            continue;
        }
        let headline = report["plan"]["headline"].as_str().unwrap_or_default();
        let (label, says): (&str, &[&str]) = match report["rollback"].as_str() {
            Some("possible") => ("ROLLBACK POSSIBLE", &["Rollback possible"]),
            Some("may_be_possible") => ("ROLLBACK MAY BE POSSIBLE", &["Rollback may be possible"]),
            Some("no_way_back") => (
                "NO WAY BACK",
                &[
                    "No way back",
                    "No documented way back",
                    "No recorded way back",
                    "No verified way back",
                ],
            ),
            Some("cannot_tell") => ("CANNOT TELL", &["No plan yet"]),
            Some("nothing_to_roll_back") => ("NOTHING TO ROLL BACK", &["Nothing to roll back"]),
            other => panic!("{scenario}: rollback {other:?}"),
        };
        assert!(
            first.starts_with(&format!("{label} (exit ")),
            "{scenario}: {first}"
        );
        assert!(
            says.iter().any(|s| headline.starts_with(s)),
            "{scenario}: line 1 says {label}, the headline {headline:?}"
        );
    }
}

/// The README's demo shows what the restore loses, counted, beside the headline; its warnings
/// say one thing each in at most two sentences, and what was not counted is one entry per
/// cause.
#[test]
fn the_demo_counts_what_the_rollback_loses() {
    let out = Ripcord::new(&[
        "rollback",
        "elastic",
        "--facts",
        "fixtures/facts/failed-minor-upgrade.json",
    ])
    .env("COLUMNS", "80")
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let head: String = out
        .stdout
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .replace("\n    ", " ");
    assert!(
        head.contains("Loses what Kibana saved after 2026-11-20T02:00:00Z: 12 dashboards, 4 visualizations and 3 rules changed since"),
        "{head}"
    );
    let json = Ripcord::new(&[
        "rollback",
        "elastic",
        "--facts",
        "fixtures/facts/failed-minor-upgrade.json",
        "--format",
        "json",
    ])
    .run();
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    for w in report["plan"]["warnings"].as_array().into_iter().flatten() {
        let w = w.as_str().unwrap_or_default();
        assert!(w.matches(". ").count() <= 1, "more than two sentences: {w}");
        assert!(!w.contains("HTTP 404"), "{w}");
    }
    assert_eq!(report["plan"]["data_loss"]["counts"]["dashboard"], 12);
}

/// Help and messages a newcomer understands: every command says what it does, and a time
/// that does not parse says what to write.
#[test]
fn help_describes_every_command_and_times_say_their_format() {
    let help = Ripcord::new(&["--help"]).run().stdout;
    for (command, says) in [
        ("fleet", "Check every deployment"),
        ("rules", "List the rules, or explain one"),
    ] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(command))
            .unwrap_or_else(|| panic!("{command}: {help}"));
        assert!(line.contains(says), "{line}");
    }
    assert!(
        !help.contains("List the rules or explain one. Check"),
        "{help}"
    );
    let out = Ripcord::new(&[
        "rollback",
        "ghes",
        "--from",
        "3.14.6",
        "--vm-snapshot-taken-at",
        "yesterday",
    ])
    .run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("is not a time: give it as RFC 3339")
            && !out.stderr.contains("four digit integer"),
        "{}",
        out.stderr
    );
}

/// A refused command line is a miette diagnostic like every other error that ends a run: the
/// code, then `×` and the message, then what to try; never clap's `error:` style beside it.
#[test]
fn usage_errors_look_like_every_other_error() {
    for (args, code, says) in [
        (
            vec!["rollback", "elastic", "--no-such-flag"],
            "clap::UnknownArgument",
            "unexpected argument '--no-such-flag' found",
        ),
        (
            vec![
                "rollback", "elastic", "--format", "yaml", "--facts", "x.json",
            ],
            "clap::InvalidValue",
            "possible values: table, json, markdown, junit",
        ),
    ] {
        let out = Ripcord::new(&args).run();
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.starts_with(code), "{}", out.stderr);
        assert!(out.stderr.contains("  × "), "{}", out.stderr);
        assert!(out.stderr.contains(says), "{}", out.stderr);
        assert!(!out.stderr.contains("error: "), "{}", out.stderr);
    }
    let bad_bundle =
        Ripcord::new(&["rollback", "elastic", "--facts", "/no/such/bundle.json"]).run();
    assert!(bad_bundle.stderr.contains("  × "), "{}", bad_bundle.stderr);
}

/// What a finding says names things as people do: no fact-group ids (`ghes.versions:`,
/// `upgrade.snapshot_cutoff:`) and no `rejected: none`, in any scenario's recorded output
/// (the snapshots hold every scenario's findings in every format).
#[test]
fn findings_never_name_internal_ids() {
    fn snapshots(dir: &std::path::Path, into: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("snapshot dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                snapshots(&path, into);
            } else if path.extension().is_some_and(|e| e == "snap") {
                into.push(path);
            }
        }
    }
    /// `es.nodes: …`, `upgrade.snapshot_cutoff: …`: an id where words belong.
    fn is_internal_id(part: &str) -> bool {
        let Some((id, _)) = part.split_once(':') else {
            return false;
        };
        let mut segments = id.split('.');
        let head = segments.next().unwrap_or_default();
        ["es", "ghes", "kibana", "upgrade", "platform", "derived"].contains(&head)
            && segments.clone().count() > 0
            && segments
                .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    }
    let mut files = Vec::new();
    snapshots(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ripcord/snapshots"),
        &mut files,
    );
    assert!(files.len() > 50, "only {} snapshots", files.len());
    let mut judged = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("snapshot");
        for (_, after) in text
            .match_indices("could not verify: ")
            .map(|(i, m)| (i, &text[i + m.len()..]))
        {
            let message = after.split(['"', '\n']).next().unwrap_or_default();
            judged += 1;
            for part in message.split("; ") {
                assert!(!is_internal_id(part), "{}: {message}", file.display());
            }
        }
        assert!(!text.contains("rejected: "), "{}", file.display());
    }
    assert!(judged > 20, "only {judged} unknown messages read");
    assert!(is_internal_id("ghes.versions: no --ghes URL given"));
    assert!(!is_internal_id("the snapshot listing (not collected)"));
}
