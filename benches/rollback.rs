//! Speed and memory, measured (not asserted in unit tests): `cargo bench --bench rollback`.
//!
//! Every figure is a whole ripcord process (wall time from spawn to exit, peak RSS from
//! wait4, ripcord's own: see `support::launcher::run`), after one untimed warm-up run; a run
//! still going after 120 s is killed and fails its budgets. Budgets, on the 2-core CI
//! machine (MB are 10^6 bytes):
//!
//! 1. latency: a live `rollback elastic` against loopback servers that add 250 ms to every
//!    response finishes within 4 such latencies (1 s), median of 5: collection is
//!    concurrent, so the run costs two round trips (everything at once, then the listing).
//! 2. collect: `collect elastic` of a cluster whose listing has 20,000 snapshots (full
//!    bodies, index names included, as a server that ignores `filter_path` sends) stays
//!    under 100 MB peak RSS. Its time is printed too.
//! 3. evaluate: `rollback elastic --facts` on a 20,000-snapshot bundle takes at most
//!    100 ms (median of 5) and 60 MB peak RSS (max of the runs).
//! 4. evaluate at scale: the same with 270,000 snapshots (a 125 MB bundle): 1.35 s (median
//!    of 3, the 5 µs per snapshot of the former 200,000-snapshot budget) and 300 MB.
//! 5. end to end: a live `rollback elastic` (collect and evaluate in one process) of the
//!    20,000-snapshot cluster: 2 s (median of 3) and 100 MB.
//! 6. hostile mix: every endpoint answers something hostile at once (endless streams of valid
//!    JSON, snapshots of 500 tiny feature states without end, 50 MB `[0,0,…]` bodies, a huge
//!    HTML error page, deep nesting): peak RSS under 300 MB, and a report (exit 3).
//! 7. stalled: every endpoint accepts and never answers; with `--deadline 5` the run ends
//!    within 7 s (exit 2: nothing collected).
//!
//! The clusters are the `failed-minor-upgrade` scenario with its listing grown (see
//! `support::listing`); the bundles are written by ripcord itself, so they are always in the
//! current bundle format. Prints one line per budget and a summary; exits 1 when a budget
//! is exceeded.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark prints its figures (stdout) and its setup (stderr)"
)]

#[path = "../tests/ripcord/common.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "the test helpers, `pub` for the test binary; a benchmark uses a few"
)]
mod common;
#[path = "../tests/ripcord/hostile/server.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "the tests' hostile server, `pub` for the test binary; the bench uses some of it"
)]
mod hostile;
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;
use support::measure::{self, Samples};
use support::report::{Check, Report};
use support::{cluster, launcher};

/// Added to every response of the latency bench.
const LATENCY: Duration = Duration::from_millis(250);
/// A run this long has blown any budget here many times over; it is killed so a
/// pathological build fails the bench in minutes, not hours.
const CAP: Duration = Duration::from_secs(120);
/// Snapshots of the cluster behind budgets 2, 3 and 5.
const MIDSIZE: usize = 20_000;
/// Snapshots of the bundle behind budget 4.
const LARGE: usize = 270_000;
/// Data index names per snapshot of the midsize cluster: full bodies, as a server ignoring
/// `filter_path` sends them.
const FULL_INDICES: usize = 8;
/// Index names never reach a bundle, so the large cluster, only there to write one, sends
/// few and keeps its body (and the setup) small.
const LEAN_INDICES: usize = 2;

/// A time and a memory budget over a number of timed runs.
struct Budget {
    runs: usize,
    /// For the median run.
    time: Duration,
    /// For the highest peak RSS of any run, in decimal megabytes.
    rss_mb: f64,
}

const EVALUATE: Budget = Budget {
    runs: 5,
    time: Duration::from_millis(100),
    rss_mb: 60.0,
};
const EVALUATE_AT_SCALE: Budget = Budget {
    runs: 3,
    time: Duration::from_millis(1350),
    rss_mb: 300.0,
};
/// Budget 6.
const HOSTILE_RSS_MB: f64 = 300.0;
/// Budget 7: the run's deadline, and how long after it the run must have ended.
const STALL_DEADLINE: Duration = Duration::from_secs(5);
const STALL_SLACK: Duration = Duration::from_secs(2);
const END_TO_END: Budget = Budget {
    runs: 3,
    time: Duration::from_secs(2),
    rss_mb: 100.0,
};
const COLLECT_RSS_MB: f64 = 100.0;

fn main() {
    launcher::serve_as_launcher();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut report = Report::default();

    latency(&rt, &mut report);
    hostile_mix(&mut report);
    stalled(&mut report);

    let servers = rt.block_on(cluster::start(MIDSIZE, FULL_INDICES));
    let bundle = prepare_bundle(&servers, dir.path(), MIDSIZE);
    collect(&servers, dir.path(), &mut report);
    let samples = measure::repeat(EVALUATE.runs, CAP, || cluster::evaluate(&bundle));
    judge("evaluate, 20k", &samples, &EVALUATE, &mut report);
    let samples = measure::repeat(END_TO_END.runs, CAP, || cluster::live_rollback(&servers));
    judge("end to end, 20k", &samples, &END_TO_END, &mut report);
    drop(servers);

    let servers = rt.block_on(cluster::start(LARGE, LEAN_INDICES));
    let bundle = prepare_bundle(&servers, dir.path(), LARGE);
    // The servers hold the listing body; free it before timing.
    drop(servers);
    let samples = measure::repeat(EVALUATE_AT_SCALE.runs, CAP, || cluster::evaluate(&bundle));
    judge("evaluate, 270k", &samples, &EVALUATE_AT_SCALE, &mut report);

    if !report.summary() {
        std::process::exit(1);
    }
}

/// Budget 1: a live check pays for round trips, not for sequential requests.
fn latency(rt: &tokio::runtime::Runtime, report: &mut Report) {
    const RUNS: usize = 5;
    let servers = rt.block_on(common::start_with_delay(cluster::SCENARIO, LATENCY));
    let samples = measure::repeat(RUNS, CAP, || cluster::live_rollback(&servers));
    let detail = format!(", +{} ms per response", LATENCY.as_millis());
    report.add(Check::time("latency", &samples, LATENCY * 4, &detail));
}

/// Budget 6: whatever servers send, memory stays bounded and a report comes out.
fn hostile_mix(report: &mut Report) {
    let (routes, fallback) = hostile::hostile_mix();
    let server = hostile::Hostile::start(&routes, fallback);
    let samples = measure::repeat(1, CAP, || {
        let mut cmd = measure::ripcord();
        cmd.args(hostile::hostile_mix_args(&server.url));
        cmd
    });
    let code = samples.0.first().and_then(|s| s.code);
    let detail = format!("; {} ms; exit {code:?}", samples.median().as_millis());
    let mut check = Check::rss("hostile mix: memory", &samples, HOSTILE_RSS_MB, &detail);
    check.pass &= code == Some(3) && server.not_get() == 0;
    report.add(check);
}

/// Budget 7: every endpoint stalled; the deadline ends the run.
fn stalled(report: &mut Report) {
    let server = hostile::Hostile::start(&[], hostile::Act::Stall);
    let deadline = STALL_DEADLINE.as_secs().to_string();
    let samples = measure::repeat(1, CAP, || {
        let mut cmd = measure::ripcord();
        cmd.args([
            "rollback",
            "elastic",
            "--es",
            &server.url,
            "--kibana",
            &server.url,
            "--format",
            "json",
            "--deadline",
            &deadline,
        ]);
        cmd
    });
    let code = samples.0.first().and_then(|s| s.code);
    let detail = format!(", --deadline {deadline}; exit {code:?}");
    let mut check = Check::time_exiting(
        "stalled: wall time",
        &samples,
        STALL_DEADLINE + STALL_SLACK,
        &detail,
        &[2],
    );
    // Nothing answered at all: one line, exit 2 (nothing collected).
    check.pass &= code == Some(2);
    report.add(check);
}

/// Budget 2: memory is the budget; the time is printed for the record. A failed run (exit
/// 2) or a bundle short of snapshots fails the check: the figure would not be of a
/// collection of the whole cluster.
fn collect(servers: &common::Running, dir: &Path, report: &mut Report) {
    let output = dir.join("collected.json");
    let samples = measure::repeat(3, CAP, || cluster::collect(servers, &output));
    let listed = cluster::snapshots_in(&output);
    let detail = format!(
        "; median {} ms; {listed} of {MIDSIZE} snapshots collected",
        samples.median().as_millis()
    );
    let mut check = Check::rss("collect, 20k: memory", &samples, COLLECT_RSS_MB, &detail);
    check.pass &= listed == MIDSIZE;
    report.add(check);
}

/// A bundle of `snapshots` snapshots, written by ripcord from `servers` (setup, untimed).
fn prepare_bundle(servers: &common::Running, dir: &Path, snapshots: usize) -> PathBuf {
    let path = dir.join(format!("facts-{snapshots}.json"));
    cluster::write_bundle(servers, &path, snapshots);
    let bytes = std::fs::metadata(&path).expect("bundle written").len();
    eprintln!(
        "setup: bundle with {snapshots} snapshots written ({:.1} MB)",
        bytes as f64 / 1_000_000.0
    );
    path
}

/// Adds the time and the memory check of `samples` against `budget`.
fn judge(name: &str, samples: &Samples, budget: &Budget, report: &mut Report) {
    report.add(Check::time(
        &format!("{name}: time"),
        samples,
        budget.time,
        "",
    ));
    report.add(Check::rss(
        &format!("{name}: memory"),
        samples,
        budget.rss_mb,
        "",
    ));
}
