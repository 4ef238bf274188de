//! Collectors against loopback servers answering with the documented bodies: status formats,
//! error bodies, auth headers, fallbacks, timeouts.

use crate::common;
use ripcord::collect::{ElasticTarget, collect_elastic, kibana};
use ripcord::facts::OperatorFacts;
use ripcord::http::{ClientOptions, Credentials, ReadOnlyClient};
use std::time::Duration;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(timeout_secs: u64) -> ReadOnlyClient {
    ReadOnlyClient::new(ClientOptions {
        timeout: Duration::from_secs(timeout_secs),
        ..ClientOptions::default()
    })
    .expect("client")
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(common::fixtures_dir().join("http").join(rel)).expect(rel)
}

fn reference_example(name: &str) -> Vec<u8> {
    // The vendor examples travel with the fixtures where a scenario uses them.
    fixture(name)
}

async fn kibana_answering(status: u16, body: Vec<u8>, content_type: &str) -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/status"))
        .respond_with(ResponseTemplate::new(status).set_body_raw(body, content_type))
        .mount(&s)
        .await;
    s
}

#[tokio::test]
async fn kibana_v8_running() {
    let s = kibana_answering(
        200,
        fixture("healthy-preflight/kibana/kb-1-status.json"),
        "application/json",
    )
    .await;
    let (k, failure) = kibana::status(&client(5), &s.uri(), &Credentials::None).await;
    assert_eq!(
        (k.state.as_str(), k.version.as_deref(), k.level.as_deref()),
        ("running", Some("8.14.3"), Some("available"))
    );
    assert!(
        k.elasticsearch_summary
            .unwrap()
            .starts_with("You're running Kibana 8.14.3")
    );
    assert!(failure.is_none());
}

#[tokio::test]
async fn kibana_v7_legacy_format() {
    let s = kibana_answering(
        200,
        fixture("major-7-to-8/kibana/kb-1-status.json"),
        "application/json",
    )
    .await;
    let (k, _) = kibana::status(&client(5), &s.uri(), &Credentials::None).await;
    assert_eq!(
        (k.state.as_str(), k.version.as_deref(), k.level.as_deref()),
        ("running", Some("7.17.9"), Some("available"))
    );
    assert_eq!(
        k.elasticsearch_summary.as_deref(),
        Some("Elasticsearch is available")
    );
}

#[tokio::test]
async fn kibana_503_incompatible_es_is_starting_with_version() {
    let s = kibana_answering(
        503,
        fixture("kibana-refused-by-es/kibana/kb-1-status.json"),
        "application/json",
    )
    .await;
    let (k, _) = kibana::status(&client(5), &s.uri(), &Credentials::None).await;
    assert_eq!(
        (k.state.as_str(), k.version.as_deref(), k.level.as_deref()),
        ("starting", Some("8.18.0"), Some("critical"))
    );
    assert!(
        k.elasticsearch_summary
            .unwrap()
            .contains("is incompatible with the following Elasticsearch nodes")
    );
}

#[tokio::test]
async fn kibana_503_preboot_and_plain_text_not_ready() {
    let preboot = br#"{"status":{"overall":{"level":"unavailable"}}}"#.to_vec();
    let s = kibana_answering(503, preboot, "application/json").await;
    let (k, f) = kibana::status(&client(5), &s.uri(), &Credentials::None).await;
    assert_eq!(
        (k.state.as_str(), k.version, k.level.as_deref()),
        ("starting", None, Some("unavailable"))
    );
    assert!(f.is_none());
    let s = kibana_answering(
        503,
        b"Kibana server is not ready yet".to_vec(),
        "text/plain",
    )
    .await;
    let (k, f) = kibana::status(&client(5), &s.uri(), &Credentials::None).await;
    assert_eq!(k.state, "starting");
    assert_eq!(k.summary.as_deref(), Some("Kibana server is not ready yet"));
    assert!(f.is_none());
}

#[tokio::test]
async fn kibana_401_is_running_and_names_the_credentials() {
    let body = br#"{"statusCode":401,"error":"Unauthorized","message":"Unauthorized"}"#.to_vec();
    let s = kibana_answering(401, body, "application/json").await;
    let (k, f) = kibana::status(&client(5), &s.uri(), &Credentials::None).await;
    assert_eq!(k.state, "running");
    let f = f.expect("failure");
    assert_eq!(f.status, Some(401));
    assert!(f.hint.unwrap().contains("RIPCORD_KIBANA_API_KEY"));
}

#[tokio::test]
async fn kibana_refused_is_stopped_and_timeout_is_unreachable() {
    let (k, f) = kibana::status(&client(5), &common::closed_port_url(), &Credentials::None).await;
    assert_eq!(k.state, "stopped");
    assert!(f.is_none());
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/status"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&s)
        .await;
    let (k, f) = kibana::status(&client(1), &s.uri(), &Credentials::None).await;
    assert_eq!(k.state, "unreachable");
    let f = f.expect("failure");
    assert!(f.reason.contains("timed out"), "{}", f.reason);
}

#[tokio::test]
async fn credentials_are_sent_as_documented() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .and(header(
            "authorization",
            "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            fixture("healthy-preflight/es/root.json"),
            "application/json",
        ))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/_cluster/health"))
        .and(header("authorization", "Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            fixture("healthy-preflight/es/cluster-health.json"),
            "application/json",
        ))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(5);
    let key =
        Credentials::ApiKey("VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==".into());
    ripcord::collect::elastic::cluster(&c, &s.uri(), &key)
        .await
        .expect("root");
    let basic = Credentials::Basic {
        username: "elastic".into(),
        password: "changeme".into(),
    };
    ripcord::collect::elastic::health(&c, &s.uri(), &basic)
        .await
        .expect("health");
}

#[tokio::test]
async fn forbidden_names_the_privilege_elasticsearch_asks_for() {
    let s = common::start("es-forbidden-snapshots").await;
    let c = client(5);
    let f = ripcord::collect::elastic::repositories(&c, &s.es_url(), &Credentials::None)
        .await
        .expect_err("403");
    assert_eq!(f.status, Some(403));
    assert!(f.reason.contains("security_exception"), "{}", f.reason);
    assert!(
        f.hint.as_deref().unwrap().contains(
            "cluster privileges [monitor_snapshot,create_snapshot,manage_slm,manage,all]"
        ),
        "{f:?}"
    );
}

#[tokio::test]
async fn pre_7_14_lists_snapshots_per_repository() {
    let s = common::start("pre-7-14").await;
    let target = ElasticTarget {
        es: Some(s.es_url()),
        ..Default::default()
    };
    let bundle = collect_elastic(
        &client(5),
        &target,
        OperatorFacts::default(),
        jiff::Timestamp::UNIX_EPOCH,
    )
    .await;
    let requests = s.requests().await;
    assert!(
        requests.contains(&"GET /_snapshot/backups/_all".to_string()),
        "{requests:?}"
    );
    assert!(
        requests.contains(&"GET /_snapshot/nightly/_all".to_string()),
        "{requests:?}"
    );
    assert!(
        !requests.iter().any(|r| r.contains("/_snapshot/_all/_all")),
        "no multi-repository request before 7.14"
    );
    let snaps = bundle.elastic.snapshots.expect("snapshots");
    let names: Vec<String> = snaps
        .iter()
        .map(|s| format!("{}/{}", s.repository, s.snapshot))
        .collect();
    assert_eq!(
        names,
        [
            "backups/pre-upgrade-7.13.4",
            "nightly/nightly-2026.11.20",
            "nightly/nightly-2026.11.19"
        ]
    );
    assert_eq!(snaps[0].feature_states[0].feature_name, "kibana");
}

#[tokio::test]
async fn multi_repository_failure_falls_back_to_per_repository() {
    // An 8.x cluster whose proxy refuses the `_all/_all` form: per-repository requests still work.
    let s = MockServer::start().await;
    let json =
        |rel: &str| ResponseTemplate::new(200).set_body_raw(fixture(rel), "application/json");
    Mock::given(method("GET"))
        .and(path("/_nodes"))
        .respond_with(json("healthy-preflight/es/nodes.json"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/_snapshot"))
        .respond_with(json("healthy-preflight/es/snapshot-repositories.json"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/_snapshot/_all/_all"))
        .respond_with(ResponseTemplate::new(400))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/_snapshot/found-snapshots/_all"))
        .respond_with(json("healthy-preflight/es/snapshots.json"))
        .mount(&s)
        .await;
    let target = ElasticTarget {
        es: Some(s.uri()),
        ..Default::default()
    };
    let bundle = collect_elastic(
        &client(5),
        &target,
        OperatorFacts::default(),
        jiff::Timestamp::UNIX_EPOCH,
    )
    .await;
    assert_eq!(bundle.elastic.snapshots.expect("snapshots").len(), 2);
    assert!(
        !bundle.failures.iter().any(|f| f.group == "es.snapshots"),
        "{:?}",
        bundle.failures
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
        let target = ElasticTarget {
            es: Some(s.es_url()),
            ..Default::default()
        };
        let bundle = collect_elastic(
            &client(1),
            &target,
            OperatorFacts::default(),
            jiff::Timestamp::UNIX_EPOCH,
        )
        .await;
        let f = bundle
            .failures
            .iter()
            .find(|f| f.group == group)
            .unwrap_or_else(|| panic!("{scenario}: {:?}", bundle.failures));
        assert!(f.reason.contains(needle), "{scenario}: {}", f.reason);
        assert!(f.hint.is_some(), "{scenario}: a hint");
    }
}

#[tokio::test]
async fn response_size_is_capped() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/_nodes"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(vec![b' '; 4096], "application/json"))
        .mount(&s)
        .await;
    let c = ReadOnlyClient::new(ClientOptions {
        max_body_bytes: 1024,
        ..ClientOptions::default()
    })
    .expect("client");
    let f = ripcord::collect::elastic::nodes(&c, &s.uri(), &Credentials::None)
        .await
        .expect_err("too large");
    assert!(f.reason.contains("larger than 1024 bytes"), "{}", f.reason);
}

#[tokio::test]
async fn reference_alias_body_parses() {
    let _ = reference_example;
    let v: serde_json::Value = serde_json::from_slice(&fixture(
        "failed-minor-upgrade/es/kibana-index-aliases.json",
    ))
    .unwrap();
    let mut indices = std::collections::BTreeMap::new();
    ripcord::collect::elastic::merge_aliases(&v, &mut indices);
    assert!(indices[".kibana_task_manager_8.17.3_001"].contains(".kibana_task_manager_8.18.0"));
    assert!(indices[".kibana_8.18.0_reindex_temp"].is_empty());
}

#[tokio::test]
async fn an_empty_listing_is_no_snapshots_not_a_failure() {
    // `filter_path` drops empty arrays: a cluster without snapshots answers `{}`.
    let s = MockServer::start().await;
    let json =
        |rel: &str| ResponseTemplate::new(200).set_body_raw(fixture(rel), "application/json");
    Mock::given(method("GET"))
        .and(path("/_nodes"))
        .respond_with(json("healthy-preflight/es/nodes.json"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/_snapshot"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{}", "application/json"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/_snapshot/_all/_all"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{}", "application/json"))
        .mount(&s)
        .await;
    let target = ElasticTarget {
        es: Some(s.uri()),
        ..Default::default()
    };
    let bundle = collect_elastic(
        &client(5),
        &target,
        OperatorFacts::default(),
        jiff::Timestamp::UNIX_EPOCH,
    )
    .await;
    assert_eq!(bundle.elastic.snapshots, Some(vec![]));
    assert!(!bundle.failures.iter().any(|f| f.group == "es.snapshots"));
}

#[tokio::test]
async fn creation_dates_fall_back_and_their_failure_is_reported() {
    let s = MockServer::start().await;
    let json =
        |rel: &str| ResponseTemplate::new(200).set_body_raw(fixture(rel), "application/json");
    Mock::given(method("GET"))
        .and(path("/.kibana*/_alias"))
        .respond_with(json("failed-minor-upgrade/es/kibana-index-aliases.json"))
        .mount(&s)
        .await;
    // The setting-filtered form is refused; the plain `_settings` form answers.
    Mock::given(method("GET"))
        .and(path("/.kibana*/_settings"))
        .respond_with(json("failed-minor-upgrade/es/kibana-creation-dates.json"))
        .mount(&s)
        .await;
    let (indices, failure) =
        ripcord::collect::elastic::kibana_indices(&client(5), &s.uri(), &Credentials::None)
            .await
            .expect("aliases");
    assert!(failure.is_none());
    let temp = indices
        .iter()
        .find(|i| i.index == ".kibana_8.18.0_reindex_temp")
        .unwrap();
    assert_eq!(temp.created_at.unwrap().to_string(), "2026-11-20T03:00:05Z");
    // Neither form answers: the indices still count, the failure says why dates are missing.
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.kibana*/_alias"))
        .respond_with(json("failed-minor-upgrade/es/kibana-index-aliases.json"))
        .mount(&s)
        .await;
    let (indices, failure) =
        ripcord::collect::elastic::kibana_indices(&client(5), &s.uri(), &Credentials::None)
            .await
            .expect("aliases");
    assert!(indices.iter().all(|i| i.created_at.is_none()));
    assert_eq!(failure.expect("reported").status, Some(404));
}

#[tokio::test]
async fn ghes_404_and_401_say_what_to_do() {
    let s = common::start("ghes-old-404").await;
    let (facts, failures) = ripcord::collect::ghes::collect(
        &client(5),
        &s.ghes.as_ref().unwrap().uri(),
        &Credentials::None,
    )
    .await;
    assert!(facts.versions.is_none());
    assert_eq!(failures.len(), 5);
    let version = failures
        .iter()
        .find(|f| f.group == "ghes.versions")
        .unwrap();
    assert!(
        version.hint.as_deref().unwrap().contains("older than 3.9"),
        "{failures:?}"
    );
    let maintenance = failures
        .iter()
        .find(|f| f.group == "ghes.maintenance")
        .unwrap();
    assert!(
        maintenance.hint.as_deref().unwrap().contains("3.10"),
        "{failures:?}"
    );
    let s = common::start("ghes-unauthorized").await;
    let (_, failures) = ripcord::collect::ghes::collect(
        &client(5),
        &s.ghes.as_ref().unwrap().uri(),
        &Credentials::None,
    )
    .await;
    assert!(
        failures.iter().all(|f| f.status == Some(401)
            && f.hint.as_deref().unwrap().contains("RIPCORD_GHES_PASSWORD"))
    );
}

#[tokio::test]
async fn ghes_documented_bodies_parse() {
    let s = common::start("ghes-replication-critical").await;
    let (facts, failures) = ripcord::collect::ghes::collect(
        &client(5),
        &s.ghes.as_ref().unwrap().uri(),
        &Credentials::None,
    )
    .await;
    assert!(failures.is_empty(), "{failures:?}");
    let versions = facts.versions.unwrap();
    assert_eq!(
        (
            versions[0].hostname.as_str(),
            versions[0].version.as_str(),
            versions[0].platform.as_deref()
        ),
        ("ghe-primary", "3.14.6", Some("ami"))
    );
    assert_eq!(facts.topology.unwrap().topology, "Ha");
    let repl = facts.replication.unwrap();
    assert_eq!(repl.status, "CRITICAL");
    assert_eq!(repl.nodes[1].services[1].name, "git");
    assert_eq!(facts.maintenance.unwrap()[0].status, "off");
    assert_eq!(facts.system_requirements.unwrap().status, "OK");
}
