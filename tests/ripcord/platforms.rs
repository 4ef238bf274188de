//! The GHES primary's VM snapshot, verified on the platform: against moto (a real EC2 API
//! emulator, `pip install 'moto[server]'`, which `./test.sh` installs into its virtual environment) started here on loopback,
//! with state built through its API; moto answers SigV4-signed Query API GETs as EC2 does, and
//! enforces IAM when asked to.

use crate::common::{Ripcord, args};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A moto server on a free loopback port, stopped when dropped.
struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    fn start(env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut cmd = Command::new("python3");
        cmd.args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("python3 runs");
        let moto = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let until = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < until,
                "moto did not start: pip install 'moto[server]' (./test.sh does)"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        moto
    }

    /// Builds state through moto's API (`tests/ripcord/moto/ec2.py MODE`).
    fn setup(&self, mode: &str) -> Value {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ripcord/moto/ec2.py");
        let out = Command::new("python3")
            .args([script, &self.url, mode])
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "moto setup {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("setup JSON")
    }
}

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// `MODE ghes` from flags (the primary is down) on AWS, reading instance `vm` from moto.
fn run(moto: &Moto, vm: &str, mode: &[&str], keys: Option<(&str, &str)>) -> (Value, String) {
    let mut argv = args(&mode[..1]);
    argv.extend(args(&[
        "ghes",
        "--no-progress",
        "--format",
        "json",
        "--from",
        "3.14.6",
        "--to",
        "3.15.2",
        "--platform",
        "ami",
        "--vm",
        vm,
        "--aws-endpoint",
        &moto.url,
    ]));
    argv.extend(args(&mode[1..]));
    let mut r = Ripcord::new(&argv).env("AWS_REGION", "us-east-1");
    if let Some((id, secret)) = keys {
        r = r
            .env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", secret);
    }
    let out = r.run();
    for secret in [SECRET, KEY_ID] {
        assert!(
            !out.stdout.contains(secret),
            "a platform credential in the report"
        );
        assert!(
            !out.stderr.contains(secret),
            "a platform credential on stderr"
        );
    }
    let report: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    (report, out.stderr)
}

fn vm_finding(report: &Value) -> &Value {
    report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "ghes-vm-snapshot"))
        .expect("ghes-vm-snapshot finding")
}

fn minutes_from_now(minutes: i64) -> String {
    let t = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(minutes * 60);
    t.to_string()
}

#[test]
fn moto_both_volumes_completed_before_the_start_pass_verified_on_the_platform() {
    let moto = Moto::start(&[]);
    let state = moto.setup("both");
    let vm = state["instance"].as_str().expect("instance");
    // Preflight: the upgrade "starts" now; the snapshots were just taken.
    let (report, _) = run(&moto, vm, &["preflight"], Some((KEY_ID, SECRET)));
    let f = vm_finding(&report);
    assert_eq!(f["outcome"], "pass", "{f:#}");
    assert_eq!(f["evidence"]["source"], "platform");
    assert_eq!(f["evidence"]["vm_snapshot"], state["root_snapshot"]);
    let volumes = f["evidence"]["volumes"].as_array().expect("volumes");
    assert_eq!(volumes.len(), 2, "{volumes:#?}");
    for (role, volume, snapshot) in [
        ("root", &state["root_volume"], &state["root_snapshot"]),
        ("data", &state["data_volume"], &state["data_snapshot"]),
    ] {
        let v = volumes.iter().find(|v| v["role"] == role).expect(role);
        assert_eq!(&v["volume"], volume);
        assert_eq!(&v["snapshot"], snapshot);
        assert_eq!(v["state"], "completed");
    }
    // The plan names both disk snapshots, and the bundle-free report names no credential.
    let plan = report["plan"].to_string();
    assert!(
        plan.contains(state["data_snapshot"].as_str().expect("id")),
        "{plan}"
    );
    // Rollback from the same facts: the upgrade started after the snapshots.
    let (report, _) = run(
        &moto,
        vm,
        &["rollback", "--upgrade-started-at", &minutes_from_now(30)],
        Some((KEY_ID, SECRET)),
    );
    assert_eq!(vm_finding(&report)["outcome"], "pass");
    assert!(
        report["plan"]["headline"]
            .as_str()
            .is_some_and(|h| h.starts_with("Rollback possible: restore the VM snapshot snap-")),
        "{}",
        report["plan"]["headline"]
    );
}

#[test]
fn moto_data_volume_without_snapshot_fails_with_what_was_found() {
    let moto = Moto::start(&[]);
    let state = moto.setup("root-only");
    let vm = state["instance"].as_str().expect("instance");
    let root = state["root_snapshot"].as_str().expect("root");
    // Declared by the operator, and the platform contradicts it: the data disk is left out.
    let (report, _) = run(
        &moto,
        vm,
        &["preflight", "--vm-snapshot", root],
        Some((KEY_ID, SECRET)),
    );
    let f = vm_finding(&report);
    assert_eq!(f["outcome"], "fail", "{f:#}");
    assert_eq!(f["evidence"]["source"], "platform");
    let message = f["message"].as_str().expect("message");
    let data = state["data_volume"].as_str().expect("data");
    assert!(
        message.contains(&format!(
            "no complete snapshot of the data disk {data} (/dev/xvdf)"
        )),
        "{message}"
    );
    assert!(message.contains(": it has none"), "{message}");
    assert_eq!(report["exit_code"], 1);
}

#[test]
fn moto_snapshot_after_the_upgrade_start_fails() {
    let moto = Moto::start(&[]);
    let state = moto.setup("both");
    let vm = state["instance"].as_str().expect("instance");
    let root = state["root_snapshot"].as_str().expect("root");
    let started = minutes_from_now(-60);
    // Declared: the platform says it started after the upgrade.
    let (report, _) = run(
        &moto,
        vm,
        &[
            "rollback",
            "--upgrade-started-at",
            &started,
            "--vm-snapshot",
            root,
        ],
        Some((KEY_ID, SECRET)),
    );
    let f = vm_finding(&report);
    assert_eq!(f["outcome"], "fail", "{f:#}");
    let message = f["message"].as_str().expect("message");
    assert!(
        message.contains(&format!("VM snapshot {root} started ")),
        "{message}"
    );
    assert!(message.contains("after the upgrade started"), "{message}");
    assert_eq!(
        report["plan"]["headline"]
            .as_str()
            .map(|h| h.starts_with("No verified way back")),
        Some(true)
    );
    // Not declared: nothing on the platform predates the upgrade.
    let (report, _) = run(
        &moto,
        vm,
        &["rollback", "--upgrade-started-at", &started],
        Some((KEY_ID, SECRET)),
    );
    let message = vm_finding(&report)["message"]
        .as_str()
        .expect("message")
        .to_string();
    assert!(
        message.contains("no complete snapshot of the root disk"),
        "{message}"
    );
    assert!(
        message.contains(&format!("found {root} (completed, 100%")),
        "{message}"
    );
}

#[test]
fn moto_without_or_with_rejected_credentials_is_unknown_and_says_what_to_set() {
    // No credentials: nothing is sent; the finding says which variables to set.
    let moto = Moto::start(&[]);
    let state = moto.setup("both");
    let vm = state["instance"].as_str().expect("instance");
    let (report, _) = run(&moto, vm, &["preflight"], None);
    let f = vm_finding(&report);
    assert_eq!(f["outcome"], "unknown", "{f:#}");
    let failure = &f["evidence"]["collection_failures"][0];
    assert_eq!(
        failure["reason"],
        "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"
    );
    assert!(
        failure["hint"]
            .as_str()
            .is_some_and(|h| h.contains("ec2:DescribeSnapshots"))
    );
    assert_eq!(report["exit_code"], 3);

    // moto enforcing IAM (INITIAL_NO_AUTH_ACTION_COUNT): it rejects every SigV4-signed GET,
    // botocore's own signature included (it verifies the Query API as a POST form), so what it
    // gives here is AWS's answer to rejected credentials: 401 AuthFailure. The 403
    // UnauthorizedOperation of an identity without ec2:DescribeInstances is the recorded EC2
    // body of the `ghes-aws-forbidden` scenario.
    let strict = Moto::start(&[("INITIAL_NO_AUTH_ACTION_COUNT", "2")]);
    let user = strict.setup("forbidden-user");
    let (id, secret) = (
        user["access_key_id"].as_str().expect("key id"),
        user["secret_access_key"].as_str().expect("secret"),
    );
    let (report, stderr) = run(
        &strict,
        "i-0abcd1234ef567890",
        &["preflight"],
        Some((id, secret)),
    );
    let f = vm_finding(&report);
    assert_eq!(f["outcome"], "unknown", "{f:#}");
    let failure = &f["evidence"]["collection_failures"][0];
    assert_eq!(failure["status"], 401, "{failure:#}");
    assert_eq!(
        failure["reason"],
        "HTTP 401: AuthFailure: AWS was not able to validate the provided access credentials"
    );
    assert!(
        failure["hint"]
            .as_str()
            .is_some_and(|h| h.starts_with("the platform rejected the credentials")),
        "{failure:#}"
    );
    assert!(!report.to_string().contains(secret) && !stderr.contains(secret));
    assert_eq!(report["exit_code"], 3);
}
