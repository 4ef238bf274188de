//! The fleet at scale, measured: `cargo bench --bench fleet`.
//!
//! 1,000 Elastic targets (Elasticsearch and one Kibana each, the `healthy-preflight`
//! scenario's documented bodies) on loopback servers that add 100 ms to every response. Each
//! target is its own URL (a path prefix on the shared servers), so every target is collected,
//! judged and reported in full. Budgets, on the 2-core CI machine (MB are 10^6 bytes):
//!
//! 1. `ripcord fleet` (default `--concurrency 32`) finishes the 1,000 targets in **10 s**,
//!    writing the JSON, HTML and Prometheus reports;
//! 2. with a peak RSS of **500 MB**.
//!
//! For the ratio, the same 1,000 targets through the shell fan-out the fleet replaces:
//! `xargs -P 8` over single-target `ripcord preflight elastic … --format json` runs, timed in
//! the same run (no budget: it is the comparison). Prints one line per figure; exits 1 when a
//! budget is exceeded.
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
#[allow(
    dead_code,
    reason = "the rollback bench's helpers; this bench uses the launcher and the report"
)]
mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};
use support::launcher;
use support::measure::{self, Samples};
use support::report::{Check, Report};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TARGETS: usize = 1_000;
/// Added to every response.
const LATENCY: Duration = Duration::from_millis(100);
const FLEET_TIME: Duration = Duration::from_secs(10);
const FLEET_RSS_MB: f64 = 500.0;
/// A run this long has blown the budget many times over.
const CAP: Duration = Duration::from_secs(180);

/// A regex matching `path` exactly after any `/tNNNN` target prefix.
fn prefixed(path: &str) -> String {
    let mut escaped = String::new();
    for c in path.chars() {
        if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
            escaped.push(c);
        } else {
            escaped.push('\\');
            escaped.push(c);
        }
    }
    format!("^/t[0-9]+{escaped}$")
}

/// One server answering `routes` for every target prefix, after [`LATENCY`].
async fn serve(routes: &[common::Route]) -> MockServer {
    let server = MockServer::builder().start().await;
    for r in routes {
        let body = match (&r.file, &r.body) {
            (Some(f), _) => std::fs::read(r.base.join(f)).expect("fixture body"),
            (None, Some(b)) => b.clone().into_bytes(),
            (None, None) => Vec::new(),
        };
        Mock::given(method("GET"))
            .and(path_regex(prefixed(&r.path)))
            .respond_with(
                ResponseTemplate::new(r.status)
                    .set_body_raw(body, "application/json")
                    .set_delay(LATENCY),
            )
            .mount(&server)
            .await;
    }
    server
}

fn main() {
    launcher::serve_as_launcher();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let manifest = common::manifest("healthy-preflight");
    let run = manifest.run.clone().expect("run");
    let (es, kibana) = rt.block_on(async {
        let es = serve(&manifest.es.as_ref().expect("es").routes).await;
        let kibana = serve(&manifest.kibana.as_ref().expect("kibana")[0].routes).await;
        (es, kibana)
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let mut inventory = String::from("[defaults]\nmode = \"preflight\"\n\n");
    let mut urls = String::new();
    for i in 0..TARGETS {
        let (es_url, kb_url) = (
            format!("{}/t{i:04}", es.uri()),
            format!("{}/t{i:04}", kibana.uri()),
        );
        let _ = writeln!(
            inventory,
            "[[target]]\nname = \"logs-{i:04}\"\nproduct = \"elastic\"\nes = \"{es_url}\"\nkibana = [\"{kb_url}\"]\nto = \"8.15.3\"\ntags = [\"bench\"]\n"
        );
        let _ = writeln!(urls, "{es_url} {kb_url}");
    }
    let inventory_path = dir.path().join("fleet.toml");
    std::fs::write(&inventory_path, inventory).expect("inventory");
    eprintln!(
        "fleet bench: {TARGETS} targets, +{} ms per response, `ripcord fleet` vs `xargs -P 8`",
        LATENCY.as_millis()
    );

    let fleet = || {
        let mut c = measure::ripcord();
        c.arg("fleet")
            .arg("--inventory")
            .arg(&inventory_path)
            .args(["--now", &run.now, "--no-progress", "--format", "json"])
            .arg("--report")
            .arg(format!("html={}", dir.path().join("fleet.html").display()))
            .arg("--report")
            .arg(format!(
                "prometheus={}",
                dir.path().join("fleet.prom").display()
            ));
        // For exploring (`FLEET_BENCH_ARGS="--concurrency 64"`); the budget is for the default.
        if let Ok(extra) = std::env::var("FLEET_BENCH_ARGS") {
            c.args(extra.split_whitespace());
        }
        c
    };
    let samples = measure::repeat(1, CAP, fleet);
    let mut report = Report::default();
    let detail = format!(", {TARGETS} targets at +{} ms", LATENCY.as_millis());
    report.add(Check::time(
        "fleet, 1000 targets",
        &samples,
        FLEET_TIME,
        &detail,
    ));
    report.add(Check::rss(
        "fleet, 1000 targets",
        &samples,
        FLEET_RSS_MB,
        &detail,
    ));

    if std::env::var_os("FLEET_BENCH_NO_XARGS").is_some() {
        report.summary();
        return;
    }
    // The shell fan-out it replaces: one process per target, 8 at a time.
    let urls_path = dir.path().join("targets.txt");
    std::fs::write(&urls_path, urls).expect("targets");
    let out = dir.path().join("single");
    std::fs::create_dir(&out).expect("out dir");
    let script = format!(
        "xargs -P 8 -L 1 sh -c '\"$0\" preflight elastic --es \"$1\" --kibana \"$2\" --to 8.15.3 --now {} --no-progress --format json > \"{}/$(basename \"$1\").json\"; [ $? -le 3 ]' '{}' < '{}'",
        run.now,
        out.display(),
        env!("CARGO_BIN_EXE_ripcord"),
        urls_path.display()
    );
    let started = Instant::now();
    let status = std::process::Command::new("sh")
        .args(["-c", &script])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("sh");
    let xargs = started.elapsed();
    let written = std::fs::read_dir(&out).map_or(0, |d| d.count());
    let fleet_wall = Samples::median(&samples);
    println!(
        "shell fan-out (xargs -P 8, one process per target): {} ms for {written} reports ({}); fleet {} ms: {:.1}x faster",
        xargs.as_millis(),
        if status.success() {
            "all ran"
        } else {
            "some failed"
        },
        fleet_wall.as_millis(),
        xargs.as_secs_f64() / fleet_wall.as_secs_f64().max(0.001)
    );
    drop((es, kibana));
    if !report.summary() {
        std::process::exit(1);
    }
}
