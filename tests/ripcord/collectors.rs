//! Collectors against loopback servers answering with the documented bodies: status formats,
//! error bodies, auth headers, fallbacks, timeouts. Each runs `ripcord collect` through the
//! pipeline (in-process, or the binary where credentials come from the environment) and reads
//! the bundle it writes.

use crate::common::{self, Ripcord, args, pipeline};
use serde_json::Value;
use std::time::Duration;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NOW: &str = "2026-11-20T12:00:00Z";

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(common::fixtures_dir().join("http").join(rel)).expect(rel)
}

fn json(rel: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(fixture(rel), "application/json")
}

async fn mount(server: &MockServer, route: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(response)
        .mount(server)
        .await;
}

/// `collect PRODUCT --now NOW --no-progress [flags]` through the pipeline: the bundle.
async fn collect(product: &str, flags: &[&str]) -> Value {
    let mut a = args(&["collect", product, "--now", NOW, "--no-progress"]);
    a.extend(args(flags));
    pipeline::collect_json(&a).await
}

/// The one Kibana instance of a bundle, and the failures.
async fn kibana(url: &str, timeout: &str) -> (Value, Vec<Value>) {
    let b = collect("elastic", &["--kibana", url, "--timeout", timeout]).await;
    (
        b["elastic"]["kibana"][0].clone(),
        b["failures"].as_array().cloned().unwrap_or_default(),
    )
}

async fn kibana_answering(status: u16, body: Vec<u8>, content_type: &str) -> MockServer {
    let s = MockServer::start().await;
    mount(
        &s,
        "/api/status",
        ResponseTemplate::new(status).set_body_raw(body, content_type),
    )
    .await;
    s
}

fn failure<'a>(bundle: &'a Value, group: &str) -> &'a Value {
    bundle["failures"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["group"] == group))
        .unwrap_or_else(|| panic!("no {group} failure in {}", bundle["failures"]))
}

#[tokio::test]
async fn kibana_v8_running() {
    let s = kibana_answering(
        200,
        fixture("healthy-preflight/kibana/kb-1-status.json"),
        "application/json",
    )
    .await;
    let (k, failures) = kibana(&s.uri(), "5").await;
    assert_eq!(
        (&k["state"], &k["version"], &k["level"]),
        (&"running".into(), &"8.14.3".into(), &"available".into())
    );
    assert!(
        k["elasticsearch_summary"]
            .as_str()
            .unwrap()
            .starts_with("You're running Kibana 8.14.3")
    );
    assert!(failures.is_empty(), "{failures:?}");
}

#[tokio::test]
async fn kibana_v7_legacy_format() {
    let s = kibana_answering(
        200,
        fixture("major-7-to-8/kibana/kb-1-status.json"),
        "application/json",
    )
    .await;
    let (k, _) = kibana(&s.uri(), "5").await;
    assert_eq!(
        (&k["state"], &k["version"], &k["level"]),
        (&"running".into(), &"7.17.9".into(), &"available".into())
    );
    assert_eq!(k["elasticsearch_summary"], "Elasticsearch is available");
}

#[tokio::test]
async fn kibana_503_incompatible_es_is_starting_with_version() {
    let s = kibana_answering(
        503,
        fixture("kibana-refused-by-es/kibana/kb-1-status.json"),
        "application/json",
    )
    .await;
    let (k, _) = kibana(&s.uri(), "5").await;
    assert_eq!(
        (&k["state"], &k["version"], &k["level"]),
        (&"starting".into(), &"8.18.0".into(), &"critical".into())
    );
    assert!(
        k["elasticsearch_summary"]
            .as_str()
            .unwrap()
            .contains("is incompatible with the following Elasticsearch nodes")
    );
}

#[tokio::test]
async fn kibana_503_preboot_and_plain_text_not_ready() {
    let preboot = br#"{"status":{"overall":{"level":"unavailable"}}}"#.to_vec();
    let s = kibana_answering(503, preboot, "application/json").await;
    let (k, f) = kibana(&s.uri(), "5").await;
    assert_eq!(
        (&k["state"], &k["version"], &k["level"]),
        (&"starting".into(), &Value::Null, &"unavailable".into())
    );
    assert!(f.is_empty());
    let s = kibana_answering(
        503,
        b"Kibana server is not ready yet".to_vec(),
        "text/plain",
    )
    .await;
    let (k, f) = kibana(&s.uri(), "5").await;
    assert_eq!(k["state"], "starting");
    assert_eq!(k["summary"], "Kibana server is not ready yet");
    assert!(f.is_empty());
}

#[tokio::test]
async fn kibana_401_is_running_and_names_the_credentials() {
    let body = br#"{"statusCode":401,"error":"Unauthorized","message":"Unauthorized"}"#.to_vec();
    let s = kibana_answering(401, body, "application/json").await;
    let (k, f) = kibana(&s.uri(), "5").await;
    assert_eq!(k["state"], "running");
    assert_eq!(f[0]["status"], 401);
    assert!(
        f[0]["hint"]
            .as_str()
            .unwrap()
            .contains("RIPCORD_KIBANA_API_KEY")
    );
}

#[tokio::test]
async fn kibana_refused_is_stopped_and_timeout_is_unreachable() {
    let (k, f) = kibana(&common::closed_port_url(), "5").await;
    assert_eq!(k["state"], "stopped");
    assert!(f.is_empty());
    let s = MockServer::start().await;
    mount(
        &s,
        "/api/status",
        ResponseTemplate::new(200).set_delay(Duration::from_secs(3)),
    )
    .await;
    let (k, f) = kibana(&s.uri(), "1").await;
    assert_eq!(k["state"], "unreachable");
    assert!(
        f[0]["reason"].as_str().unwrap().contains("timed out"),
        "{f:?}"
    );
}

/// Credentials come from the environment, so these run the binary.
#[tokio::test(flavor = "multi_thread")]
async fn credentials_are_sent_as_documented() {
    let api_key = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";
    for (env, expected) in [
        (
            vec![("RIPCORD_ES_API_KEY", api_key)],
            format!("ApiKey {api_key}"),
        ),
        (
            vec![
                ("RIPCORD_ES_USERNAME", "elastic"),
                ("RIPCORD_ES_PASSWORD", "changeme"),
            ],
            "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==".to_string(),
        ),
    ] {
        let s = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/"))
            .and(header("authorization", expected.as_str()))
            .respond_with(json("healthy-preflight/es/root.json"))
            .expect(1)
            .mount(&s)
            .await;
        let out = env
            .iter()
            .fold(
                Ripcord::new(&["collect", "elastic", "--no-progress", "--output", "-"])
                    .args(&["--es", &s.uri()]),
                |r, (k, v)| r.env(k, v),
            )
            .run();
        assert_eq!(out.code, 0, "{}", out.stderr);
        let bundle: Value = serde_json::from_str(&out.stdout).expect("bundle");
        assert_eq!(bundle["elastic"]["cluster"]["cluster_name"], "prod-logs");
        assert!(!out.stdout.contains(api_key) && !out.stdout.contains("changeme"));
    }
}

#[tokio::test]
async fn forbidden_names_the_privilege_elasticsearch_asks_for() {
    let s = common::start("es-forbidden-snapshots").await;
    let b = collect("elastic", &["--es", &s.es_url()]).await;
    let f = failure(&b, "es.repositories");
    assert_eq!(f["status"], 403);
    assert!(
        f["reason"].as_str().unwrap().contains("security_exception"),
        "{f}"
    );
    assert!(
        f["hint"].as_str().unwrap().contains(
            "cluster privileges [monitor_snapshot,create_snapshot,manage_slm,manage,all]"
        ),
        "{f}"
    );
}

#[tokio::test]
async fn pre_7_14_lists_snapshots_per_repository() {
    let s = common::start("pre-7-14").await;
    let b = collect("elastic", &["--es", &s.es_url()]).await;
    let requests = s.requests().await;
    for r in ["GET /_snapshot/backups/_all", "GET /_snapshot/nightly/_all"] {
        assert!(requests.contains(&r.to_string()), "{requests:?}");
    }
    assert!(
        !requests.iter().any(|r| r.contains("/_snapshot/_all/_all")),
        "no multi-repository request before 7.14"
    );
    let snaps = b["elastic"]["snapshots"].as_array().expect("snapshots");
    let names: Vec<String> = snaps
        .iter()
        .map(|s| format!("{}/{}", s["repository"], s["snapshot"]).replace('"', ""))
        .collect();
    assert_eq!(
        names,
        [
            "backups/pre-upgrade-7.13.4",
            "nightly/nightly-2026.11.20",
            "nightly/nightly-2026.11.19"
        ]
    );
    assert_eq!(snaps[0]["feature_states"][0]["feature_name"], "kibana");
}

#[tokio::test]
async fn multi_repository_failure_falls_back_to_per_repository() {
    // An 8.x cluster whose proxy refuses the `_all/_all` form: per-repository requests still work.
    let s = MockServer::start().await;
    mount(&s, "/_nodes", json("healthy-preflight/es/nodes.json")).await;
    mount(
        &s,
        "/_snapshot",
        json("healthy-preflight/es/snapshot-repositories.json"),
    )
    .await;
    mount(&s, "/_snapshot/_all/_all", ResponseTemplate::new(400)).await;
    mount(
        &s,
        "/_snapshot/found-snapshots/_all",
        json("healthy-preflight/es/snapshots.json"),
    )
    .await;
    let b = collect("elastic", &["--es", &s.uri()]).await;
    assert_eq!(
        b["elastic"]["snapshots"].as_array().expect("listed").len(),
        2
    );
    assert!(
        !b["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["group"] == "es.snapshots"),
        "{}",
        b["failures"]
    );
}

#[tokio::test]
async fn html_truncated_and_timeout_are_clear_failures() {
    for (scenario, group, needle) in [
        ("es-html-proxy", "es.nodes", "HTML page"),
        ("es-truncated", "es.nodes", "truncated JSON"),
        ("es-timeout", "es.snapshots", "timed out after 1 s"),
        (
            "es-unauthorized",
            "es.cluster",
            "missing authentication credentials",
        ),
    ] {
        let s = common::start(scenario).await;
        let b = collect("elastic", &["--es", &s.es_url(), "--timeout", "1"]).await;
        let f = failure(&b, group);
        assert!(
            f["reason"].as_str().unwrap().contains(needle),
            "{scenario}: {f}"
        );
        assert!(f["hint"].is_string(), "{scenario}: a hint");
    }
}

#[tokio::test]
async fn an_empty_listing_is_no_snapshots_not_a_failure() {
    // `filter_path` drops empty arrays: a cluster without snapshots answers `{}`.
    let s = MockServer::start().await;
    let empty = || ResponseTemplate::new(200).set_body_raw("{}", "application/json");
    mount(&s, "/_nodes", json("healthy-preflight/es/nodes.json")).await;
    mount(&s, "/_snapshot", empty()).await;
    mount(&s, "/_snapshot/_all/_all", empty()).await;
    let b = collect("elastic", &["--es", &s.uri()]).await;
    assert_eq!(b["elastic"]["snapshots"], serde_json::json!([]));
    assert!(
        !b["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["group"] == "es.snapshots")
    );
}

#[tokio::test]
async fn creation_dates_fall_back_and_their_failure_is_reported() {
    let s = MockServer::start().await;
    mount(
        &s,
        "/.kibana*/_alias",
        json("failed-minor-upgrade/es/kibana-index-aliases.json"),
    )
    .await;
    // The setting-filtered form is refused; the plain `_settings` form answers.
    mount(
        &s,
        "/.kibana*/_settings",
        json("failed-minor-upgrade/es/kibana-creation-dates.json"),
    )
    .await;
    let b = collect("elastic", &["--es", &s.uri()]).await;
    let indices = b["elastic"]["kibana_indices"].as_array().expect("indices");
    let temp = indices
        .iter()
        .find(|i| i["index"] == ".kibana_8.18.0_reindex_temp")
        .expect("temp index");
    assert_eq!(temp["created_at"], "2026-11-20T03:00:05Z");
    assert!(
        indices
            .iter()
            .find(|i| i["index"] == ".kibana_task_manager_8.17.3_001")
            .is_some_and(|i| i["aliases"]
                .as_array()
                .unwrap()
                .contains(&".kibana_task_manager_8.18.0".into()))
    );
    // Neither form answers: the indices still count, the failure says why dates are missing.
    let s = MockServer::start().await;
    mount(
        &s,
        "/.kibana*/_alias",
        json("failed-minor-upgrade/es/kibana-index-aliases.json"),
    )
    .await;
    let b = collect("elastic", &["--es", &s.uri()]).await;
    let indices = b["elastic"]["kibana_indices"].as_array().expect("indices");
    assert!(indices.iter().all(|i| i["created_at"].is_null()));
    assert_eq!(failure(&b, "es.kibana_indices")["status"], 404);
}

#[tokio::test]
async fn ghes_404_and_401_say_what_to_do() {
    let s = common::start("ghes-old-404").await;
    let b = collect("ghes", &["--ghes", &s.ghes.as_ref().unwrap().uri()]).await;
    assert!(b["ghes"]["versions"].is_null());
    assert_eq!(b["failures"].as_array().unwrap().len(), 5);
    let hint = |g: &str| failure(&b, g)["hint"].as_str().unwrap().to_string();
    assert!(hint("ghes.versions").contains("older than 3.9"));
    assert!(hint("ghes.maintenance").contains("3.10"));
    let s = common::start("ghes-unauthorized").await;
    let b = collect("ghes", &["--ghes", &s.ghes.as_ref().unwrap().uri()]).await;
    assert!(b["failures"].as_array().unwrap().iter().all(|f| {
        f["status"] == 401
            && f["hint"]
                .as_str()
                .unwrap()
                .contains("RIPCORD_GHES_PASSWORD")
    }));
}

#[tokio::test]
async fn ghes_documented_bodies_parse() {
    let s = common::start("ghes-replication-critical").await;
    let b = collect("ghes", &["--ghes", &s.ghes.as_ref().unwrap().uri()]).await;
    assert_eq!(b["failures"], serde_json::json!([]));
    let g = &b["ghes"];
    assert_eq!(
        (
            &g["versions"][0]["hostname"],
            &g["versions"][0]["version"],
            &g["versions"][0]["platform"]
        ),
        (&"ghe-primary".into(), &"3.14.6".into(), &"ami".into())
    );
    assert_eq!(g["topology"]["topology"], "Ha");
    assert_eq!(g["replication"]["status"], "CRITICAL");
    assert_eq!(g["replication"]["nodes"][1]["services"][1]["name"], "git");
    assert_eq!(g["maintenance"][0]["status"], "off");
    assert_eq!(g["system_requirements"]["status"], "OK");
}

/// A 401 says which fix applies: no credentials were set, or the ones set were rejected; and
/// when every request is refused, the run is one line and exit 2 (the bundle of `collect` is
/// still written, for the ticket).
#[tokio::test(flavor = "multi_thread")]
async fn every_request_refused_is_one_line_that_tells_unset_from_rejected() {
    let s = common::start("ghes-unauthorized").await;
    let url = s.ghes.as_ref().expect("ghes").uri();
    let run_args = args(&[
        "preflight",
        "ghes",
        "--ghes",
        &url,
        "--to",
        "3.15.2",
        "--no-progress",
    ]);
    let unset = Ripcord::new(&run_args).run();
    let rejected = Ripcord::new(&run_args)
        .env("RIPCORD_GHES_PASSWORD", "not-the-password")
        .run();
    for (out, says) in [
        (&unset, "no credentials were set: set RIPCORD_GHES_PASSWORD"),
        (&rejected, "the credentials were rejected"),
    ] {
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{}", out.stderr);
        assert!(out.stderr.contains(says), "{says}: {}", out.stderr);
        assert!(
            out.stderr.contains("nothing could be collected from"),
            "{}",
            out.stderr
        );
        assert_eq!(out.stderr.matches("HTTP 401").count(), 1, "{}", out.stderr);
    }
    let dir = tempfile::tempdir().expect("tmp");
    let bundle = dir.path().join("facts.json");
    let collect = Ripcord::new(&args(&[
        "collect",
        "ghes",
        "--ghes",
        &url,
        "--no-progress",
        "--output",
        bundle.to_str().expect("utf-8"),
    ]))
    .run();
    assert_eq!(collect.code, 2, "{}", collect.stderr);
    assert!(
        collect.stderr.contains("nothing could be collected"),
        "{}",
        collect.stderr
    );
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).expect("bundle written"))
            .expect("json");
    assert_eq!(written["failures"].as_array().map(Vec::len), Some(5));
}

/// Elasticsearch that nobody answers for — a closed port, a name that does not resolve — is
/// one line naming the URL and the cause, and exit 2, like GHES: not a wall of `unknown`.
#[test]
fn elasticsearch_unreachable_is_one_line_and_exit_2() {
    for (url, cause) in [
        (common::closed_port_url(), "connection refused"),
        ("http://ripcord-test.invalid:9200".to_string(), "dns error"),
    ] {
        for mode in ["rollback", "preflight"] {
            let out = Ripcord::new(&args(&[
                mode,
                "elastic",
                "--es",
                &url,
                "--to",
                "8.18.0",
                "--no-progress",
            ]))
            .run();
            assert_eq!(
                (out.code, out.stdout.as_str()),
                (2, ""),
                "{mode} {url}: {}",
                out.stderr
            );
            let line = out
                .stderr
                .lines()
                .find(|l| l.contains("nothing could be collected from"))
                .unwrap_or_else(|| panic!("{mode} {url}: {}", out.stderr));
            assert!(line.contains(url.trim_end_matches('/')), "{line}");
            assert!(line.contains(cause), "{line}");
        }
    }
}
