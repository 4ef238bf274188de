//! Speed and memory, measured (not asserted in unit tests): `cargo bench --bench rollback`.
//!
//! 1. A live `ripcord rollback elastic` against loopback servers that add 250 ms to every
//!    response must finish within 4 such latencies (1 s): collection is concurrent, so the
//!    run costs two round trips (everything at once, then the snapshot listing).
//! 2. Collecting a cluster with a 20,000-snapshot listing (full bodies, index names
//!    included, as a server that ignores `filter_path` would send) must stay under 100 MB
//!    peak RSS.
//!
//! Prints the figures and exits non-zero when a budget is exceeded.
#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]
#![allow(
    unreachable_pub,
    reason = "the shared test helpers are `pub` for the test binary's modules"
)]

#[path = "../tests/ripcord/common.rs"]
#[allow(
    dead_code,
    reason = "the test helpers, of which a benchmark uses a few"
)]
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const LATENCY: Duration = Duration::from_millis(250);
const RUNS: usize = 5;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut ok = true;
    ok &= rt.block_on(latency());
    ok &= rt.block_on(memory());
    if !ok {
        std::process::exit(1);
    }
}

fn ripcord() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ripcord"));
    c.stdout(Stdio::null()).stderr(Stdio::null());
    c
}

async fn latency() -> bool {
    let s = common::start_with_delay("failed-minor-upgrade", LATENCY).await;
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let status = ripcord()
            .args(["rollback", "elastic", "--no-progress", "--format", "json"])
            .args(s.target_args())
            .status()
            .expect("run ripcord");
        times.push(started.elapsed());
        assert!(
            status.code().is_some_and(|c| c <= 3),
            "ripcord failed: {status}"
        );
    }
    times.sort();
    let median = times[RUNS / 2];
    let budget = LATENCY * 4;
    let pass = median <= budget;
    println!(
        "rollback, {} ms added per request: median {} ms, min {} ms, max {} ms over {RUNS} runs (budget {} ms = 4 latencies) {}",
        LATENCY.as_millis(),
        median.as_millis(),
        times[0].as_millis(),
        times[RUNS - 1].as_millis(),
        budget.as_millis(),
        if pass { "PASS" } else { "FAIL" }
    );
    pass
}

/// A 20,000-snapshot get-snapshot body in the documented verbose shape.
fn big_listing(count: usize) -> Vec<u8> {
    let mut out = String::with_capacity(count * 900);
    out.push_str("{\"snapshots\":[");
    for i in 0..count {
        if i > 0 {
            out.push(',');
        }
        let start = 1_700_000_000_000_i64 + i as i64 * 3_600_000;
        let indices: Vec<String> = (0..8)
            .map(|n| format!("\"logs-app-{:06}\"", (i * 8 + n) % 100_000))
            .collect();
        out.push_str(&format!(
            concat!(
                "{{\"snapshot\":\"nightly-{i:05}\",\"uuid\":\"u{i:021}\",\"repository\":\"found-snapshots\",",
                "\"version_id\":8170399,\"version\":\"8.17.3\",\"indices\":[{indices},\".kibana_8.17.3_001\",\".kibana_task_manager_8.17.3_001\"],",
                "\"data_streams\":[],\"include_global_state\":true,\"metadata\":{{\"policy\":\"nightly-snapshots\"}},\"state\":\"SUCCESS\",",
                "\"start_time\":\"2023-11-14T22:13:20.000Z\",\"start_time_in_millis\":{start},\"end_time\":\"2023-11-14T22:14:20.000Z\",",
                "\"end_time_in_millis\":{end},\"duration_in_millis\":60000,\"failures\":[],\"shards\":{{\"total\":10,\"failed\":0,\"successful\":10}},",
                "\"feature_states\":[{{\"feature_name\":\"kibana\",\"indices\":[\".kibana_8.17.3_001\",\".kibana_task_manager_8.17.3_001\"]}},",
                "{{\"feature_name\":\"security\",\"indices\":[\".security-7\"]}}]}}"
            ),
            i = i,
            indices = indices.join(","),
            start = start,
            end = start + 60_000
        ));
    }
    out.push_str(&format!("],\"total\":{count},\"remaining\":0}}"));
    out.into_bytes()
}

async fn memory() -> bool {
    const COUNT: usize = 20_000;
    let body = big_listing(COUNT);
    let server = MockServer::start().await;
    let fixture = |rel: &str| {
        std::fs::read(
            common::fixtures_dir()
                .join("http/healthy-preflight")
                .join(rel),
        )
        .expect(rel)
    };
    for (p, rel) in [
        ("/", "es/root.json"),
        ("/_nodes", "es/nodes.json"),
        ("/_snapshot", "es/snapshot-repositories.json"),
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_raw(fixture(rel), "application/json"))
            .mount(&server)
            .await;
    }
    let size = body.len();
    Mock::given(method("GET"))
        .and(path("/_snapshot/_all/_all"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("facts.json");
    let started = Instant::now();
    // Reaped by wait4 below (std's wait would discard the child's own rusage).
    #[expect(
        clippy::zombie_processes,
        reason = "reaped with wait4 to read its peak RSS"
    )]
    let child = ripcord()
        .args([
            "collect",
            "elastic",
            "--no-progress",
            "--es",
            &server.uri(),
            "--output",
        ])
        .arg(&out)
        .spawn()
        .expect("spawn");
    let (code, max_rss_kib) = wait_with_rusage(child.id());
    let elapsed = started.elapsed();
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("bundle")).expect("json");
    let listed = bundle["elastic"]["snapshots"]
        .as_array()
        .map_or(0, Vec::len);
    let mib = max_rss_kib as f64 / 1024.0;
    let pass = code == 0 && listed == COUNT && mib < 100.0;
    println!(
        "collect with a {COUNT}-snapshot listing ({:.1} MB body): {listed} snapshots in {} ms, peak RSS {mib:.1} MiB (budget 100 MB) {}",
        size as f64 / 1_000_000.0,
        elapsed.as_millis(),
        if pass { "PASS" } else { "FAIL" }
    );
    pass
}

/// Waits for `pid` and returns its exit code and its own peak RSS (KiB), via wait4(2).
fn wait_with_rusage(pid: u32) -> (i32, i64) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be filled in by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet reaped; the pointers are to live locals.
    let rc = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid as libc::pid_t, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss)
}
