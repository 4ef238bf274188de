//! Input files are what they claim, and nothing is lost when writing.

use super::run_limited;
use super::server::{Act, Hostile};
use std::path::Path;

const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/facts/failed-minor-upgrade.json"
);

fn rollback_facts(path: &str) -> crate::common::Output {
    run_limited(&["rollback", "elastic", "--facts", path], &[]).output
}

/// A FIFO, a device, a folder and an oversized sparse file are refused at once by name; a
/// bundle with trailing garbage is an error, not exit 0.
#[test]
fn facts_must_be_a_regular_bounded_json_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.display().to_string()).expect("path");
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(600 * 1024 * 1024))
        .expect("sparse file");
    let trailing = dir.path().join("trailing.json");
    std::fs::write(
        &trailing,
        format!("{}\n{{}}\n", std::fs::read_to_string(DEMO).expect("demo")),
    )
    .expect("write");
    for (path, expected) in [
        (
            fifo.display().to_string(),
            "is not a regular file (a named pipe)",
        ),
        ("/dev/zero".to_string(), "is not a regular file (a device)"),
        (
            dir.path().display().to_string(),
            "is not a regular file (a folder)",
        ),
        (huge.display().to_string(), "is larger than"),
        (trailing.display().to_string(), "trailing characters"),
    ] {
        let out = rollback_facts(&path);
        assert_eq!(out.code, 2, "{path}: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{path}: {}", out.stderr);
        assert!(
            out.stderr.contains(
                Path::new(&path)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("/")
            ),
            "names the file"
        );
    }
}

/// `--ca-cert` must hold X.509 certificates in PEM: text, random bytes, an empty file and a
/// private key are usage errors naming the file; the test CA is accepted.
#[test]
fn ca_cert_must_be_a_pem_certificate() {
    let dir = tempfile::tempdir().expect("tmp");
    let es = Hostile::start(&[], Act::Json(404, "{}".into()));
    let bad_cert = "-----BEGIN CERTIFICATE-----\nTUlJQm9ndXM=\n-----END CERTIFICATE-----\n";
    let key =
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBQ2pA==\n-----END PRIVATE KEY-----\n";
    for (name, bytes, expected) in [
        (
            "text.pem",
            b"hello, I am not a certificate\n".to_vec(),
            "holds no PEM certificate",
        ),
        (
            "random.pem",
            (0..=255u8).cycle().take(4096).collect(),
            "holds no PEM certificate",
        ),
        ("empty.pem", Vec::new(), "is empty"),
        ("key.pem", key.as_bytes().to_vec(), "holds a private key"),
        (
            "bogus.pem",
            bad_cert.as_bytes().to_vec(),
            "not a valid X.509 certificate",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let out = run_limited(
            &[
                "rollback",
                "elastic",
                "--es",
                &es.url,
                "--ca-cert",
                &path.display().to_string(),
            ],
            &[],
        )
        .output;
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        assert!(
            out.stderr.contains(name) && out.stderr.contains(expected),
            "{name}: {}",
            out.stderr
        );
    }
    assert_eq!(es.requests(), 0, "refused before any request");
    let good = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls/test-ca.pem");
    let out = run_limited(
        &[
            "rollback",
            "elastic",
            "--es",
            &es.url,
            "--ca-cert",
            good,
            "--no-progress",
        ],
        &[],
    )
    .output;
    assert_eq!(out.code, 3, "{}", out.stderr);
}

/// `--timeout` and `--deadline` take sane values only.
#[test]
fn timeouts_are_bounded() {
    for args in [
        ["--timeout", "0"],
        ["--timeout", "3601"],
        ["--deadline", "0"],
        ["--timeout", "99999999999999999999"],
    ] {
        let out = run_limited(
            &[
                &["rollback", "elastic", "--es", "http://127.0.0.1:9"][..],
                &args[..],
            ]
            .concat(),
            &[],
        )
        .output;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
    }
}

/// `collect --output`: an existing file is kept unless --force, a folder that cannot take the
/// file fails before any request, and the write leaves no temporary file behind.
#[test]
fn collect_output_is_checked_first_and_written_whole() {
    let es = Hostile::start(&[], Act::Json(404, "{}".into()));
    let dir = tempfile::tempdir().expect("tmp");
    let old = dir.path().join("facts.json");
    std::fs::write(&old, "old bundle").expect("write");
    let old_arg = old.display().to_string();
    let out = run_limited(
        &["collect", "elastic", "--es", &es.url, "--output", &old_arg],
        &[],
    )
    .output;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("refusing to overwrite") && out.stderr.contains("--force"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&old).expect("kept"), "old bundle");
    assert_eq!(es.requests(), 0, "refused before collecting");

    let missing = dir
        .path()
        .join("no/such/folder/facts.json")
        .display()
        .to_string();
    let out = run_limited(
        &["collect", "elastic", "--es", &es.url, "--output", &missing],
        &[],
    )
    .output;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("cannot write to the folder"),
        "{}",
        out.stderr
    );
    assert_eq!(es.requests(), 0, "refused before collecting");

    let out = run_limited(
        &[
            "collect", "elastic", "--es", &es.url, "--output", &old_arg, "--force",
        ],
        &[],
    )
    .output;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&old).expect("replaced");
    assert!(text.starts_with('{') && text.contains("ripcord.facts/v1"));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["facts.json".to_string()],
        "no temporary file left"
    );
}

/// A bundle with a 10 MB unbroken token in a server's reason renders in every text format
/// (cut, linear), and the JSON report keeps it bounded.
#[test]
fn a_huge_token_renders_cut() {
    let mut bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(DEMO).expect("demo")).expect("json");
    let token = "X".repeat(10_000_000);
    bundle["failures"][0]["reason"] = serde_json::Value::String(token);
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("huge-token.json");
    std::fs::write(&path, bundle.to_string()).expect("write");
    let path = path.display().to_string();
    for format in ["table", "markdown", "junit", "json"] {
        let run = run_limited(
            &["rollback", "elastic", "--facts", &path, "--format", format],
            &[],
        );
        // JUnit shows findings only; the others list the collection failure, cut.
        assert!(
            format == "junit" || run.output.stdout.contains("more characters)"),
            "{format}: cut"
        );
        assert!(
            run.output.stdout.len() < 1_000_000,
            "{format}: {} bytes",
            run.output.stdout.len()
        );
    }
}
