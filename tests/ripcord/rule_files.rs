//! Rule files from strangers (`--rules DIR` holds a ticket's attachments): whatever the folder
//! holds — garbage text, links and link loops, FIFOs and devices, huge files, two rules with
//! one id, loops within loops over 20,000 snapshots — ripcord answers with a clear problem
//! (exit 2) or an `error` finding, never a panic, a hang, a stack overflow or an unbounded read.
//!
//! The property tests and the evaluation tests run the pipeline in-process
//! (`ripcord::app::run_args`, as the matrix does) under `catch_unwind`; the rest runs the
//! binary, with a timeout where the old behaviour was to hang.

use crate::common::{args, facts_path, scenario_args};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use ripcord::app::error::Error;
use ripcord::app::{Done, run_args};
use serde_json::{Value, json};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The scenario whose bundle the rules are evaluated against (rollback mode, 8 snapshots).
const SCENARIO: &str = "failed-minor-upgrade";
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

/// What the in-process pipeline did: its result, or the panic it raised.
type Ran = std::thread::Result<Result<Done, Error>>;

/// Runs `rollback elastic` of the scenario in-process with `--facts facts` and, when given,
/// `--rules dir`, catching any panic.
fn rollback_in_process(
    runtime: &tokio::runtime::Runtime,
    facts: &Path,
    rules: Option<&Path>,
) -> Ran {
    let mut argv = vec!["ripcord".to_string()];
    argv.extend(scenario_args(SCENARIO));
    argv.extend(["--facts".to_string(), facts.display().to_string()]);
    if let Some(dir) = rules {
        argv.extend(["--rules".to_string(), dir.display().to_string()]);
    }
    std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(run_args(argv))))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The report's findings as JSON, by rule id.
fn findings(ran: Ran) -> serde_json::Map<String, Value> {
    let report = match ran {
        Ok(Ok(Done::Report(ripcord::run::Evaluated { report, .. }))) => report,
        Ok(Ok(other)) => panic!("not a report: {other:?}"),
        Ok(Err(e)) => panic!("{e:?}"),
        Err(_) => panic!("the pipeline panicked"),
    };
    let v = serde_json::to_value(&*report).expect("report json");
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f.clone(),
            )
        })
        .collect()
}

/// A few cases: each loads every built-in rule (and may evaluate), in a debug build.
fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Text with any Unicode: arbitrary strings, printable ones, and CEL-looking fragments with
/// multi-byte characters (which reach the parser's and the checker's error paths).
fn unicode_text() -> BoxedStrategy<String> {
    let fragments = prop::collection::vec(
        prop::sample::select(vec![
            "es",
            ".snapshots",
            ".all(",
            ".map(",
            ".exists(",
            "a",
            "b",
            ",",
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            "'ééé'",
            "\"",
            "'",
            "😀",
            "日本",
            "«»",
            "==",
            "!",
            "&&",
            "||",
            "?",
            ":",
            " in ",
            "1",
            "size(",
            "\n",
            " ",
            "\\",
            "{count}",
            "{nope}",
            "params.",
            ".",
        ]),
        0..24,
    )
    .prop_map(|parts| parts.concat());
    prop_oneof![any::<String>(), "\\PC{0,40}", fragments].boxed()
}

/// A whole rule file: the template with arbitrary values (escaped, or pasted raw into the
/// quotes so they may break the TOML), or garbage text or bytes.
fn rule_file_bytes() -> impl Strategy<Value = Vec<u8>> {
    let values = (
        unicode_text(),
        unicode_text(),
        unicode_text(),
        unicode_text(),
        unicode_text(),
    );
    let escaped = values.clone().prop_map(|(id, title, expr, pass, fail)| {
        rule_text(
            &basic(&id),
            &basic(&title),
            &basic(&expr),
            &basic(&pass),
            &basic(&fail),
        )
        .into_bytes()
    });
    // The file's own id, so a valid expression gets evaluated too.
    let named = (unicode_text(), unicode_text(), unicode_text()).prop_map(|(title, expr, fail)| {
        rule_text(
            &basic(NAME),
            &basic(&title),
            &basic(&expr),
            "\"p\"",
            &basic(&fail),
        )
        .into_bytes()
    });
    let raw = values.prop_map(|(id, title, expr, pass, fail)| {
        let q = |s: &str| format!("\"{s}\"");
        rule_text(
            &q(&id),
            &q(&title),
            &format!("'{expr}'"),
            &q(&pass),
            &q(&fail),
        )
        .into_bytes()
    });
    prop_oneof![
        escaped,
        named,
        raw,
        any::<String>().prop_map(String::into_bytes),
        any::<Vec<u8>>(),
    ]
}

/// Loading never panics: any file text gives a report (the rule was valid) or a `LoadError`.
#[test]
fn loading_arbitrary_rule_text_never_panics() {
    let runtime = runtime();
    let facts = PathBuf::from(facts_path(SCENARIO));
    let mut runner = TestRunner::new(config(128));
    runner
        .run(&rule_file_bytes(), |bytes| {
            let dir = tempfile::tempdir().expect("tmp");
            write(dir.path(), &format!("{NAME}.toml"), &bytes);
            match rollback_in_process(&runtime, &facts, Some(dir.path())) {
                Ok(Ok(_) | Err(Error::Run(ripcord::run::Error::Rules(_)))) => Ok(()),
                Ok(Err(other)) => Err(TestCaseError::fail(format!("not a LoadError: {other:?}"))),
                Err(_) => Err(TestCaseError::fail("loading panicked")),
            }
        })
        .expect("no panic, only reports and load errors");
}

/// One change to a bundle: a value replaced, a member or element removed.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
}

/// JSON values that bundles do not expect: wrong types, extremes, odd strings.
fn odd_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[0-9]{0,3}(\\.[0-9]{0,3}){0,3}(-[A-Za-z0-9]{0,6})?".prop_map(Value::String),
        Just(json!([])),
        Just(json!({})),
        Just(json!([null, 1, "x", {}])),
        Just(json!({"snapshot": "é😀", "state": 7})),
    ]
}

/// Every JSON pointer in `v`, the root excluded.
fn pointers(v: &Value, at: &str, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match v {
        Value::Object(map) => map
            .iter()
            .map(|(k, c)| (k.replace('~', "~0").replace('/', "~1"), c))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, c)| (i.to_string(), c))
            .collect(),
        _ => Vec::new(),
    };
    for (key, child) in children {
        let pointer = format!("{at}/{key}");
        out.push(pointer.clone());
        pointers(child, &pointer, out);
    }
}

/// Applies `m` to `bundle`, whose pointers are `all`.
fn mutate(bundle: &mut Value, all: &[String], m: &Mutation) {
    match m {
        Mutation::Replace(i, value) => {
            if let Some(slot) = bundle.pointer_mut(&all[i % all.len()]) {
                *slot = value.clone();
            }
        }
        Mutation::Remove(i) => {
            let pointer = &all[i % all.len()];
            let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
            match bundle.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = key.parse::<usize>()
                        && i < items.len()
                    {
                        items.remove(i);
                    }
                }
                _ => {}
            }
        }
    }
}

/// A bundle's bytes: arbitrary, the scenario's cut short, or the scenario's with a few
/// values replaced or removed.
fn bundle_bytes(original: String, parsed: Value) -> impl Strategy<Value = Vec<u8>> {
    let mut all = Vec::new();
    pointers(&parsed, "", &mut all);
    let mutation = prop_oneof![
        (any::<usize>(), odd_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        any::<usize>().prop_map(Mutation::Remove),
    ];
    let mutated = prop::collection::vec(mutation, 1..4).prop_map(move |ms| {
        let mut bundle = parsed.clone();
        for m in &ms {
            mutate(&mut bundle, &all, m);
        }
        serde_json::to_vec(&bundle).unwrap_or_default()
    });
    let cut = any::<prop::sample::Index>().prop_map(move |i| {
        let bytes = original.as_bytes();
        bytes[..i.index(bytes.len() + 1)].to_vec()
    });
    prop_oneof![1 => any::<Vec<u8>>(), 1 => cut, 6 => mutated]
}

/// Evaluating a damaged or hostile bundle never panics: a report or an error.
#[test]
fn evaluating_mutated_bundles_never_panics() {
    let runtime = runtime();
    let original = std::fs::read_to_string(facts_path(SCENARIO)).expect("fixture bundle");
    let parsed: Value = serde_json::from_str(&original).expect("fixture is JSON");
    let mut runner = TestRunner::new(config(96));
    runner
        .run(&bundle_bytes(original, parsed), |bytes| {
            let dir = tempfile::tempdir().expect("tmp");
            let facts = write(dir.path(), "bundle.json", &bytes);
            match rollback_in_process(&runtime, &facts, None) {
                Ok(_) => Ok(()),
                Err(_) => Err(TestCaseError::fail("evaluation panicked")),
            }
        })
        .expect("no panic, only reports and errors");
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

/// Expressions deep enough to overflow the parser's or the evaluator's stack are refused
/// when loaded, with the file and position; nothing crashes.
#[test]
fn deeply_nested_expressions_are_load_errors_not_stack_overflows() {
    let refused = [
        // 20,004 bytes: the length limit comes first.
        (
            format!("{}true{}", "(".repeat(10_000), ")".repeat(10_000)),
            "longer than 16384 bytes",
        ),
        (
            format!("{}true{}", "(".repeat(5_000), ")".repeat(5_000)),
            "brackets nested more than 32 deep",
        ),
        (
            format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000)),
            "brackets nested more than 32 deep",
        ),
        (
            format!("es{}", ".a".repeat(8_000)),
            "nested more than 200 levels deep",
        ),
        (
            format!("{} > 0", vec!["1"; 5_000].join("+")),
            "nested more than 200 levels deep",
        ),
        ("x".repeat(70_000), "longer than 16384 bytes"),
    ];
    for (expr, why) in refused {
        let dir = tempfile::tempdir().expect("tmp");
        write(dir.path(), &format!("{NAME}.toml"), rule_with_expr(&expr));
        let (_, err, code) = list_rules(dir.path());
        assert_eq!(code, 2, "{why}: {err}");
        assert!(err.contains(&format!("{NAME}.toml:7:")), "{why}: {err}");
        assert!(err.contains(why), "{why}: {err}");
        assert!(
            !err.contains("syntax error"),
            "a limit, not a syntax error: {err}"
        );
    }
    // The parser folds a run of `!` (an even number of them is no `!`): no depth at all.
    let dir = tempfile::tempdir().expect("tmp");
    let nots = format!("{}size(es.snapshots) > 0", "!".repeat(10_000));
    write(dir.path(), &format!("{NAME}.toml"), rule_with_expr(&nots));
    let (out, err, code) = list_rules(dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(listed_ids(&out).contains(&NAME.to_string()));
}

/// Loops within loops deeper than three are refused at load time, at the loop too deep.
#[test]
fn comprehensions_nested_four_deep_are_refused_at_load() {
    let four = "es.snapshots.all(a, es.snapshots.all(b, es.snapshots.all(c, \
                es.snapshots.exists(d, d.snapshot == a.snapshot))))";
    let dir = tempfile::tempdir().expect("tmp");
    write(dir.path(), &format!("{NAME}.toml"), rule_with_expr(four));
    let (_, err, code) = list_rules(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{NAME}.toml:7:")) && err.contains("nested more than 3 deep"),
        "{err}"
    );
    // Three deep loads (the evaluation budget judges it against the actual lists).
    let three = "es.snapshots.all(a, es.snapshots.all(b, es.snapshots.exists(c, c == a)))";
    write(dir.path(), &format!("{NAME}.toml"), rule_with_expr(three));
    let (_, err, code) = list_rules(dir.path());
    assert_eq!(code, 0, "{err}");
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

/// The scenario's bundle with its snapshot listing grown to `total` (copies of its first
/// snapshot under new names), written into `dir`.
fn grown_bundle(dir: &Path, total: usize) -> PathBuf {
    let text = std::fs::read_to_string(facts_path(SCENARIO)).expect("fixture bundle");
    let mut bundle: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let snapshots = bundle["elastic"]["snapshots"]
        .as_array_mut()
        .expect("the scenario lists snapshots");
    let first = snapshots[0].clone();
    while snapshots.len() < total {
        let mut copy = first.clone();
        copy["snapshot"] = json!(format!("generated-{}", snapshots.len()));
        copy["uuid"] = json!(format!("generated-uuid-{}", snapshots.len()));
        snapshots.push(copy);
    }
    write(
        dir,
        "large.json",
        serde_json::to_vec(&bundle).expect("json"),
    )
}

/// Loops nested over a large listing are `error` at once, never run; the built-in rules and a
/// double loop over the scenario's few snapshots evaluate as before.
#[test]
fn loops_over_a_large_listing_exceed_the_budget_and_are_not_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let rules = dir.path().join("rules");
    let heavy = [
        (
            "custom-triple",
            "es.snapshots.all(a, es.snapshots.all(b, es.snapshots.all(c, a.snapshot != c.snapshot)))",
        ),
        (
            "custom-map-nest",
            "es.snapshots.map(a, es.snapshots.map(b, b)).size() > 0",
        ),
        ("custom-in-loop", "es.snapshots.all(a, a in es.snapshots)"),
        (
            "custom-computed",
            "es.snapshots.map(s, s.snapshot).all(a, es.snapshots.exists(b, b.snapshot == a))",
        ),
    ];
    for (id, expr) in heavy {
        let text = rule_text(&basic(id), "\"t\"", &basic(expr), "\"p\"", "\"f\"");
        write(&rules, &format!("{id}.toml"), text);
    }
    let double = "es.snapshots.all(a, es.snapshots.exists(b, a.snapshot == b.snapshot))";
    write(&rules, &format!("{NAME}.toml"), rule_with_expr(double));
    let large = grown_bundle(dir.path(), 20_000);
    let runtime = runtime();
    let found = findings(rollback_in_process(&runtime, &large, Some(&rules)));
    for (id, _) in heavy {
        let f = &found[id];
        assert_eq!(f["outcome"], "error", "{id}: {f}");
        let message = f["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("evaluation budget exceeded: about "),
            "{id}: {message}"
        );
        assert!(message.contains("(budget 2,000,000)"), "{id}: {message}");
    }
    // 20,000 × 20,000 is over budget too; on the scenario's 8 snapshots it runs.
    assert_eq!(found[NAME]["outcome"], "error", "{}", found[NAME]);
    for (id, f) in &found {
        let message = f["message"].as_str().unwrap_or_default();
        assert!(
            id.starts_with("custom-") || !message.contains("budget"),
            "built-in {id}: {message}"
        );
    }

    let small = findings(rollback_in_process(
        &runtime,
        Path::new(&facts_path(SCENARIO)),
        Some(&rules),
    ));
    assert_eq!(small[NAME]["outcome"], "pass", "{}", small[NAME]);
    assert_eq!(small[NAME]["message"], "pass 8", "{}", small[NAME]);
    assert_eq!(
        small["custom-triple"]["outcome"], "fail",
        "{}",
        small["custom-triple"]
    );
    let plain = findings(rollback_in_process(&runtime, &large, None));
    for (id, f) in &plain {
        assert_eq!(
            found[id], *f,
            "{id}: a built-in rule's finding changed with user rules"
        );
    }
}

/// Nested `map`s keep every inner list: over 1,000 snapshots that is a million copies
/// (gigabytes), refused although the iterations are within budget.
#[test]
fn nested_maps_over_a_thousand_snapshots_exceed_the_budget() {
    let dir = tempfile::tempdir().expect("tmp");
    let rules = dir.path().join("rules");
    let nest = "es.snapshots.map(a, es.snapshots.map(b, b)).size() > 0";
    write(&rules, &format!("{NAME}.toml"), rule_with_expr(nest));
    let bundle = grown_bundle(dir.path(), 1_000);
    let found = findings(rollback_in_process(&runtime(), &bundle, Some(&rules)));
    let f = &found[NAME];
    assert_eq!(f["outcome"], "error", "{f}");
    assert_eq!(
        f["message"],
        "evaluation budget exceeded: builds a list of about 1,000,000 elements (budget 500,000); the rule was not run",
        "{f}"
    );
}

/// `unknown_when`: asked only when `expr` passed (a definite failure stays a failure), true
/// gives `unknown` with `message.unknown`; without its message, or a message without it, the
/// file is refused with the line.
#[test]
fn unknown_when_turns_only_a_pass_into_unknown() {
    let with = |id: &str, expr: &str, unknown_when: &str| {
        rule_text(
            &basic(id),
            "\"t\"",
            &basic(expr),
            "\"pass {count}\"",
            "\"fail {count}\"",
        )
        .replace(
            "\n\n[evidence]",
            &format!("\nunknown_when = {}\n\n[evidence]", basic(unknown_when)),
        )
        .replace(
            "fail = \"fail {count}\"",
            "fail = \"fail {count}\"\nunknown = \"not vouched for: {count}\"",
        )
    };
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "pass-unknown.toml",
        with("pass-unknown", "true", "true"),
    );
    write(
        dir.path(),
        "fail-stays.toml",
        with("fail-stays", "false", "true"),
    );
    write(
        dir.path(),
        "plain-pass.toml",
        with("plain-pass", "true", "false"),
    );
    let facts = PathBuf::from(facts_path(SCENARIO));
    let found = findings(rollback_in_process(&runtime(), &facts, Some(dir.path())));
    let outcome = |id: &str| {
        (
            found[id]["outcome"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            found[id]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    };
    let (o, m) = outcome("pass-unknown");
    assert_eq!(o, "unknown");
    assert!(m.starts_with("not vouched for: "), "{m}");
    assert_eq!(outcome("fail-stays").0, "fail");
    assert_eq!(outcome("plain-pass").0, "pass");

    let bad = tempfile::tempdir().expect("tmp");
    let no_message =
        with(NAME, "true", "true").replace("\nunknown = \"not vouched for: {count}\"", "");
    write(bad.path(), &format!("{NAME}.toml"), &no_message);
    let (_, stderr, code) = list_rules(bad.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("unknown_when needs a message.unknown"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{NAME}.toml:8:")),
        "names the line: {stderr}"
    );
}
