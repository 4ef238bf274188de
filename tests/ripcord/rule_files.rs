//! Rule files from strangers (`--rules DIR` holds a ticket's attachments): whatever the folder
//! holds — links and link loops, FIFOs and devices, huge files, two rules with one id — ripcord
//! answers with a clear problem (exit 2), never a panic, a hang or an unbounded read. These
//! run the binary, with a timeout where the old behaviour was to hang.

use crate::common::args;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file name (and so the id) of the rule most tests write.
const NAME: &str = "custom-rule";
/// Long enough for a debug build on a busy 2-core machine; a hang is caught, not waited out.
const TIMEOUT: Duration = Duration::from_secs(120);

/// A rule file with the given TOML values (each already a TOML string, quotes included).
fn rule_text(id: &str, title: &str, expr: &str, pass: &str, fail: &str) -> String {
    format!(
        r#"id = {id}
title = {title}
product = "elastic"
modes = ["preflight", "rollback"]
severity = "warning"
requires = ["es.snapshots"]
expr = {expr}

[evidence]
count = "size(es.snapshots)"

[message]
pass = {pass}
fail = {fail}

[docs]
summary = "s"
why = "w"
remediation = "r"
"#
    )
}

/// A valid rule named `NAME` with expression `expr` (a CEL source, any text).
fn rule_with_expr(expr: &str) -> String {
    rule_text(
        &basic(NAME),
        "\"t\"",
        &basic(expr),
        "\"pass {count}\"",
        "\"fail {count}\"",
    )
}

/// `s` as a TOML basic string: quotes, backslashes and every control character escaped, so
/// any text at all reaches the rule checks intact.
fn basic(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes `bytes` to `dir/rel`, creating folders.
fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, bytes).expect("write");
    path
}

/// The binary's stdout, stderr and exit code (-1: killed by a signal or the timeout).
fn run_binary(argv: &[String]) -> (String, String, i32) {
    let out = assert_cmd::Command::cargo_bin("ripcord")
        .expect("binary")
        .args(argv)
        .timeout(TIMEOUT)
        .output()
        .expect("run");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// `rules list --format json --rules DIR` through the binary.
fn list_rules(dir: &Path) -> (String, String, i32) {
    run_binary(&args(&[
        "rules",
        "list",
        "--format",
        "json",
        "--rules",
        dir.to_str().expect("utf-8 path"),
    ]))
}

/// The ids `rules list --format json` printed.
fn listed_ids(out: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(out).expect("rules list json");
    v.as_array()
        .expect("a list")
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect()
}

/// Regression: a CEL syntax error right after multi-byte characters is a load error with
/// the right column (exit 2), not a panic on a character boundary (exit 101).
#[test]
fn a_cel_syntax_error_after_multibyte_text_is_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        &format!("{NAME}.toml"),
        rule_with_expr("'ééé')"),
    );
    let (_, err, code) = list_rules(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // `expr = "` is 8 characters; the `)` is the 6th character of the expression.
    assert!(
        err.contains(&format!("{NAME}.toml:7:14: expr: CEL syntax error")),
        "{err}"
    );
}

/// `ln -s . loop1; ln -s loop1 loop2` used to make the walk go on forever; links to folders
/// are not followed at all, links to rule files are read.
#[cfg(unix)]
#[test]
fn symbolic_links_to_folders_are_not_followed() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().expect("tmp");
    write(
        outside.path(),
        "custom-linked.toml",
        rule_text("\"custom-linked\"", "\"t\"", "\"true\"", "\"p\"", "\"f\""),
    );
    write(
        outside.path(),
        "more/custom-hidden.toml",
        rule_text("\"custom-hidden\"", "\"t\"", "\"true\"", "\"p\"", "\"f\""),
    );
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        &format!("sub/{NAME}.toml"),
        rule_with_expr("true"),
    );
    symlink(".", dir.path().join("loop1")).expect("symlink");
    symlink("loop1", dir.path().join("loop2")).expect("symlink");
    symlink("..", dir.path().join("sub/up")).expect("symlink");
    symlink(outside.path().join("more"), dir.path().join("more")).expect("symlink");
    symlink(
        outside.path().join("custom-linked.toml"),
        dir.path().join("custom-linked.toml"),
    )
    .expect("symlink");
    let (out, err, code) = list_rules(dir.path());
    assert_eq!(code, 0, "{err}");
    let ids = listed_ids(&out);
    assert_eq!(ids.iter().filter(|id| *id == NAME).count(), 1, "{ids:?}");
    assert!(ids.contains(&"custom-linked".to_string()), "{ids:?}");
    assert!(!ids.contains(&"custom-hidden".to_string()), "{ids:?}");
}

/// The walk stops at 16 folder levels and 10,000 entries, each with a problem saying so.
#[test]
fn the_walk_is_bounded_in_depth_and_entries() {
    let dir = tempfile::tempdir().expect("tmp");
    let sixteen: String = (1..=16).map(|i| format!("l{i}/")).collect();
    write(
        dir.path(),
        &format!("{sixteen}{NAME}.toml"),
        rule_with_expr("true"),
    );
    let (out, err, code) = list_rules(dir.path());
    assert_eq!(code, 0, "sixteen levels are walked: {err}");
    assert!(listed_ids(&out).contains(&NAME.to_string()));
    write(
        dir.path(),
        &format!("{sixteen}l17/custom-deep.toml"),
        "not read",
    );
    let (_, err, code) = list_rules(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("l17") && err.contains("nested more than 16 levels deep"),
        "{err}"
    );

    let many = tempfile::tempdir().expect("tmp");
    for i in 0..10_001 {
        std::fs::write(many.path().join(format!("note-{i}.txt")), "").expect("write");
    }
    let (_, err, code) = list_rules(many.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("more than 10000 files and folders"), "{err}");
}

/// A `.toml` that is a FIFO, a device, a link to a folder, larger than 1 MiB or not UTF-8
/// is a problem naming the file, found without opening (a FIFO) or reading it all (a device).
#[cfg(unix)]
#[test]
fn rule_files_must_be_small_regular_utf8_files() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = dir.path().join("custom-fifo.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    symlink("/dev/zero", dir.path().join("custom-zero.toml")).expect("symlink");
    std::fs::create_dir(dir.path().join("folder")).expect("mkdir");
    symlink("folder", dir.path().join("custom-folder.toml")).expect("symlink");
    write(dir.path(), "custom-large.toml", vec![b'#'; 1024 * 1024 + 1]);
    write(dir.path(), "custom-latin1.toml", b"id = \"caf\xe9\"\n");
    // Exactly 1 MiB (a rule padded with a comment) is fine.
    let mut padded = rule_with_expr("true").into_bytes();
    padded.extend(b"#");
    padded.resize(1024 * 1024 - 1, b'x');
    padded.push(b'\n');
    write(dir.path(), &format!("{NAME}.toml"), &padded);
    let (_, err, code) = list_rules(dir.path());
    assert_eq!(code, 2, "{err}");
    for expected in [
        "custom-fifo.toml:1:1: cannot read: not a regular file",
        "custom-zero.toml:1:1: cannot read: not a regular file",
        "custom-folder.toml:1:1: cannot read: not a regular file",
        "custom-large.toml:1:1: cannot read: larger than 1 MiB",
        "custom-latin1.toml:1:10: cannot read: not UTF-8 text",
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
    assert!(
        !err.contains(&format!("{NAME}.toml:")),
        "1 MiB is within the limit: {err}"
    );
    assert_eq!(err.matches("cannot read").count(), 5, "{err}");
}

/// Two files under `--rules` with one id: an error naming both (the later one used to win in
/// silence). A user rule with a built-in id still replaces the built-in one.
#[test]
fn a_duplicate_user_id_names_both_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let first = write(
        dir.path(),
        &format!("a/{NAME}.toml"),
        rule_with_expr("true"),
    );
    let second = write(
        dir.path(),
        &format!("b/{NAME}.toml"),
        rule_with_expr("false"),
    );
    let (_, err, code) = list_rules(dir.path());
    assert_eq!(code, 2, "{err}");
    let (first, second) = (first.display().to_string(), second.display().to_string());
    assert!(
        err.contains(&format!(
            "{second}:1:6: id \"{NAME}\" is also the id of {first}"
        )),
        "{err}"
    );

    let replacing = tempfile::tempdir().expect("tmp");
    let health = rule_text(
        "\"es-cluster-health\"",
        "\"Replaced\"",
        "\"true\"",
        "\"p\"",
        "\"f\"",
    );
    write(replacing.path(), "es-cluster-health.toml", &health);
    let (out, err, code) = list_rules(replacing.path());
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    let replaced = v
        .as_array()
        .and_then(|l| l.iter().find(|r| r["id"] == "es-cluster-health"))
        .expect("listed");
    assert_eq!(replaced["title"], "Replaced");
    write(replacing.path(), "again/es-cluster-health.toml", &health);
    let (_, err, code) = list_rules(replacing.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is also the id of"), "{err}");
}
