//! CLI contract: exit codes, formats, flags, secrets, read-only.

use crate::common;
use assert_cmd::Command;

pub const NOW_FAILED_MINOR: &str = "2026-11-20T06:00:00Z";

/// Runs the binary with `args` and a clean credential environment.
pub fn ripcord(args: &[String]) -> (String, String, i32) {
    let out = Command::cargo_bin("ripcord")
        .expect("binary")
        .env_remove("RIPCORD_ES_API_KEY")
        .env_remove("RIPCORD_ES_USERNAME")
        .env_remove("RIPCORD_ES_PASSWORD")
        .env_remove("RIPCORD_KIBANA_API_KEY")
        .env_remove("RIPCORD_KIBANA_USERNAME")
        .env_remove("RIPCORD_KIBANA_PASSWORD")
        .args(args)
        .output()
        .expect("run");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_failed_minor_upgrade_live() {
    let s = common::start("failed-minor-upgrade").await;
    let mut a = args(&["rollback", "elastic", "--format", "json", "--no-progress", "--now", NOW_FAILED_MINOR]);
    a.extend(s.target_args());
    let (stdout, stderr, code) = ripcord(&a);
    eprintln!("{stderr}");
    println!("{stdout}");
    assert_eq!(code, 0, "{stdout}");
}
