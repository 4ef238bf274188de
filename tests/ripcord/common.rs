//! Loopback fixture servers: each `fixtures/http/<scenario>/scenario.toml` becomes one
//! wiremock server for Elasticsearch and one per running Kibana instance (a stopped instance
//! is a closed port). Every server fails the test on any method other than GET or HEAD.
//!
//! Also the two ways a test runs ripcord: [`Ripcord`] (the binary, for the CLI contract) and
//! [`pipeline`] (the same pipeline function in-process, for the matrix and the collectors).

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub description: String,
    /// Another scenario whose routes this one starts from (same path: this one wins).
    pub extends: Option<String>,
    #[serde(default)]
    pub es: Option<EsSection>,
    /// Replaces the parent's Kibana instances when given.
    pub kibana: Option<Vec<KibanaSection>>,
    /// The GHES Manage API server (routes merge like `es`).
    #[serde(default)]
    pub ghes: Option<EsSection>,
    /// The GHES primary's cloud API (`kind` = `aws`, `gce` or `azure`): its loopback URL is
    /// passed as `--aws-endpoint`, `--gce-endpoint` or `--azure-endpoint`. Not inherited.
    #[serde(default)]
    pub platform: Option<PlatformSection>,
    /// How the matrix and CLI tests run this scenario (inherited when absent).
    pub run: Option<Run>,
    /// Nothing at all can be collected (every request refused or unanswered): evaluating it
    /// is exit 2 with one line, no report. Not inherited.
    #[serde(default)]
    pub nothing_collected: bool,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// `elastic` (default) or `ghes`.
    #[serde(default = "elastic")]
    pub product: String,
    /// `preflight` or `rollback`.
    pub mode: String,
    /// The pinned clock (`--now`).
    pub now: String,
    /// Extra CLI arguments (`--to 8.15.3`, `--timeout 1`).
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment for the collection (credentials): the binary collects it in a child
    /// process, so the test process's environment is never touched.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct EsSection {
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Answer every path not listed with this route (e.g. a proxy's error page).
    pub fallback: Option<Route>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct PlatformSection {
    pub kind: String,
    #[serde(default)]
    pub routes: Vec<Route>,
}

impl PlatformSection {
    /// The stable name a bundle commits for the loopback URL.
    fn stable_url(&self) -> &'static str {
        match self.kind.as_str() {
            "aws" => "https://ec2.us-east-1.amazonaws.com",
            "gce" => "https://compute.googleapis.com",
            _ => "https://management.azure.com",
        }
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct KibanaSection {
    pub name: String,
    /// `running` (default) or `stopped` (nothing listens).
    #[serde(default = "running")]
    pub state: String,
    #[serde(default)]
    pub routes: Vec<Route>,
}

fn elastic() -> String {
    "elastic".into()
}

fn running() -> String {
    "running".into()
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Route {
    #[serde(default)]
    pub path: String,
    /// Body file relative to the scenario folder that declares the route.
    pub file: Option<String>,
    /// Inline body, for short error bodies.
    pub body: Option<String>,
    #[serde(default = "ok")]
    pub status: u16,
    pub content_type: Option<String>,
    #[serde(default)]
    pub delay_ms: u64,
    /// Cut the body after this many bytes (a connection dropped mid-response).
    pub truncate_at: Option<usize>,
    /// Extra response headers (a proxy's, such as Elastic Cloud's `X-Found-Handling-Cluster`).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// Query parameters the request must carry (the EC2 Query API answers everything on `/`).
    #[serde(default)]
    pub query: std::collections::BTreeMap<String, String>,
    /// wiremock priority (1 wins; default: 1 with `query`, else 5), for a route whose query
    /// is a superset of another's (page 2 carries page 1's parameters and a token).
    pub priority: Option<u8>,
    #[serde(skip)]
    pub base: PathBuf,
}

fn ok() -> u16 {
    200
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Reads a scenario manifest with its `extends` chain resolved.
pub fn manifest(name: &str) -> Manifest {
    let dir = fixtures_dir().join("http").join(name);
    let text = std::fs::read_to_string(dir.join("scenario.toml"))
        .unwrap_or_else(|e| panic!("scenario {name}: {e}"));
    let mut m: Manifest = toml::from_str(&text).unwrap_or_else(|e| panic!("scenario {name}: {e}"));
    let set_base = |routes: &mut Vec<Route>| routes.iter_mut().for_each(|r| r.base = dir.clone());
    if let Some(g) = &mut m.ghes {
        set_base(&mut g.routes);
    }
    if let Some(es) = &mut m.es {
        set_base(&mut es.routes);
        if let Some(f) = &mut es.fallback {
            f.base = dir.clone();
        }
    }
    if let Some(ks) = &mut m.kibana {
        ks.iter_mut().for_each(|k| set_base(&mut k.routes));
    }
    if let Some(p) = &mut m.platform {
        set_base(&mut p.routes);
    }
    if let Some(parent) = m.extends.clone() {
        let p = manifest(&parent);
        if let Some(mut ghes) = p.ghes.clone() {
            if let Some(own) = m.ghes.take() {
                for r in own.routes {
                    ghes.routes.retain(|x| x.path != r.path);
                    ghes.routes.push(r);
                }
            }
            m.ghes = Some(ghes);
        }
        let es_parent = p.es.clone();
        let had_es = es_parent.is_some() || m.es.is_some();
        let mut es = es_parent.unwrap_or_default();
        if let Some(own) = m.es.take() {
            for r in own.routes {
                es.routes.retain(|x| x.path != r.path || x.query != r.query);
                es.routes.push(r);
            }
            if own.fallback.is_some() {
                es.fallback = own.fallback;
            }
        }
        m.es = had_es.then_some(es);
        if m.kibana.is_none() {
            m.kibana = p.kibana;
        }
        if m.run.is_none() {
            m.run = p.run;
        }
    }
    m
}

/// Running servers for one scenario.
pub struct Running {
    pub es: Option<MockServer>,
    pub ghes: Option<MockServer>,
    pub platform: Option<(PlatformSection, MockServer)>,
    pub kibana: Vec<(String, String, Option<MockServer>)>,
}

impl Drop for Running {
    /// wiremock verifies expectations (here: no write method ever) with a blocking `block_on`
    /// in its `Drop`. Inside a tokio task whose coop budget is spent that spins forever, so
    /// the servers are dropped on a plain thread; a failed verification still fails the test.
    fn drop(&mut self) {
        let es = self.es.take();
        let ghes = self.ghes.take();
        let platform = self.platform.take();
        let kibana: Vec<_> = self.kibana.drain(..).collect();
        let result = std::thread::spawn(move || drop((es, ghes, platform, kibana))).join();
        if let Err(panic) = result
            && !std::thread::panicking()
        {
            std::panic::resume_unwind(panic);
        }
    }
}

impl Running {
    pub fn es_url(&self) -> String {
        self.es
            .as_ref()
            .map(|s| s.uri())
            .expect("scenario has no Elasticsearch")
    }

    pub fn kibana_urls(&self) -> Vec<String> {
        self.kibana.iter().map(|(_, url, _)| url.clone()).collect()
    }

    /// `--es URL --kibana URL …` for the CLI.
    pub fn target_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(es) = &self.es {
            args.extend(["--es".to_string(), es.uri()]);
        }
        for url in self.kibana_urls() {
            args.extend(["--kibana".to_string(), url]);
        }
        if let Some(g) = &self.ghes {
            args.extend(["--ghes".to_string(), g.uri()]);
        }
        if let Some((p, server)) = &self.platform {
            args.extend([format!("--{}-endpoint", p.kind), server.uri()]);
        }
        args
    }

    /// Every request every server saw, as `METHOD path`.
    pub async fn requests(&self) -> Vec<String> {
        let mut out = Vec::new();
        for server in self
            .es
            .iter()
            .chain(self.ghes.iter())
            .chain(self.platform.iter().map(|(_, s)| s))
            .chain(self.kibana.iter().filter_map(|(_, _, s)| s.as_ref()))
        {
            for r in server.received_requests().await.unwrap_or_default() {
                out.push(format!("{} {}", r.method, r.url.path()));
            }
        }
        out
    }
}

fn response(route: &Route, extra_delay: Duration) -> ResponseTemplate {
    let mut body: Vec<u8> = match (&route.file, &route.body) {
        (Some(f), _) => std::fs::read(route.base.join(f))
            .unwrap_or_else(|e| panic!("{}: {e}", route.base.join(f).display())),
        (None, Some(b)) => b.clone().into_bytes(),
        (None, None) => Vec::new(),
    };
    if let Some(n) = route.truncate_at {
        body.truncate(n);
    }
    let content_type = route.content_type.clone().unwrap_or_else(|| {
        if route.file.as_deref().is_some_and(|f| f.ends_with(".html")) {
            "text/html".into()
        } else {
            "application/json".into()
        }
    });
    let mut template = ResponseTemplate::new(route.status)
        .set_body_raw(body, &content_type)
        .set_delay(Duration::from_millis(route.delay_ms) + extra_delay);
    for (name, value) in &route.headers {
        template = template.insert_header(name.as_str(), value.as_str());
    }
    template
}

async fn serve(routes: &[Route], fallback: Option<&Route>, extra_delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    for m in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        // The read-only guarantee: any such request fails the test when the server drops.
        Mock::given(method(m))
            .respond_with(ResponseTemplate::new(405))
            .expect(0)
            .named(format!("no {m} ever"))
            .mount(&server)
            .await;
    }
    for r in routes {
        let mut get = Mock::given(method("GET")).and(path(r.path.as_str()));
        for (name, value) in &r.query {
            get = get.and(query_param(name.as_str(), value.as_str()));
        }
        // The most specific route first: one with query parameters before its bare path.
        get.respond_with(response(r, extra_delay))
            .with_priority(r.priority.unwrap_or(if r.query.is_empty() { 5 } else { 2 }))
            .mount(&server)
            .await;
        Mock::given(method("HEAD"))
            .and(path(r.path.as_str()))
            .respond_with(ResponseTemplate::new(r.status))
            .mount(&server)
            .await;
    }
    if let Some(f) = fallback {
        Mock::given(method("GET"))
            .respond_with(response(f, extra_delay))
            .with_priority(10)
            .mount(&server)
            .await;
    }
    server
}

/// Starts the servers of `name`.
pub async fn start(name: &str) -> Running {
    start_with_delay(name, Duration::ZERO).await
}

/// Starts the servers of `name`, adding `delay` to every response.
pub async fn start_with_delay(name: &str, delay: Duration) -> Running {
    let m = manifest(name);
    let es = match &m.es {
        Some(es) => Some(serve(&es.routes, es.fallback.as_ref(), delay).await),
        None => None,
    };
    let ghes = match &m.ghes {
        Some(g) => Some(serve(&g.routes, g.fallback.as_ref(), delay).await),
        None => None,
    };
    let platform = match &m.platform {
        Some(p) => Some((p.clone(), serve(&p.routes, None, delay).await)),
        None => None,
    };
    let mut kibana = Vec::new();
    for k in m.kibana.iter().flatten() {
        if k.state == "stopped" {
            kibana.push((k.name.clone(), closed_port_url(), None));
        } else {
            let s = serve(&k.routes, None, delay).await;
            kibana.push((k.name.clone(), s.uri(), Some(s)));
        }
    }
    Running {
        es,
        ghes,
        platform,
        kibana,
    }
}

/// A loopback URL nothing listens on (connection refused).
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

impl Running {
    /// Replaces this run's loopback URLs with stable names, so a bundle can be committed.
    pub fn normalize(&self, text: &str) -> String {
        // Paths recorded absolute (`--ca-cert`) become relative to the package root again.
        let mut out = text.replace(concat!(env!("CARGO_MANIFEST_DIR"), "/"), "");
        if let Some((p, server)) = &self.platform {
            out = out.replace(&server.uri(), p.stable_url());
        }
        if let Some(g) = &self.ghes {
            out = out.replace(&g.uri(), "https://ghe.example.com:8443");
            // The primary's name from the URL, where the Manage API gave none.
            out = out.replace("127.0.0.1", "ghe.example.com");
        }
        if let Some(es) = &self.es {
            out = out.replace(&es.uri(), "https://es.example:9200");
            out = out.replace(es.uri().trim_start_matches("http://"), "es.example:9200");
        }
        for (name, url, _) in &self.kibana {
            out = out.replace(url, &format!("https://{name}.example:5601"));
            out = out.replace(
                url.trim_start_matches("http://"),
                &format!("{name}.example:5601"),
            );
        }
        out
    }
}

/// Every scenario folder name.
pub fn scenarios() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir().join("http"))
        .expect("fixtures/http")
        .flatten()
        .filter(|e| e.path().join("scenario.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

impl Running {
    /// Checks that every request any server saw was a GET or a HEAD.
    pub async fn assert_read_only(&self, what: &str) {
        for r in self.requests().await {
            assert!(
                r.starts_with("GET ") || r.starts_with("HEAD "),
                "{what}: ripcord sent {r}"
            );
        }
    }
}

/// Every scenario that evaluates to a report (see [`Manifest::nothing_collected`]).
pub fn reported_scenarios() -> Vec<String> {
    scenarios()
        .into_iter()
        .filter(|name| !manifest(name).nothing_collected)
        .collect()
}

/// `MODE PRODUCT --no-progress --now NOW [run args]`: how a scenario is evaluated.
pub fn scenario_args(name: &str) -> Vec<String> {
    let run = manifest(name)
        .run
        .unwrap_or_else(|| panic!("{name}: no [run]"));
    let mut a = vec![
        run.mode.clone(),
        run.product.clone(),
        "--no-progress".into(),
    ];
    a.extend(["--now".to_string(), run.now.clone()]);
    a.extend(run.args.iter().cloned());
    a
}

/// `collect PRODUCT --no-progress --now NOW [run args]`: how a scenario's bundle is made.
pub fn scenario_collect_args(name: &str) -> Vec<String> {
    let mut a = scenario_args(name);
    a[0] = "collect".into();
    a
}

/// The committed bundle of a scenario, relative to the package root (the tests' working
/// directory), so reports that name the file are the same on every machine.
pub fn facts_path(name: &str) -> String {
    format!("fixtures/facts/{name}.json")
}

/// Runs ripcord's pipeline in-process, exactly as the binary does, and returns what it would
/// print.
pub mod pipeline {
    use ripcord::app::{Done, run_args};
    use ripcord::model::report::v1::Report;

    fn argv(args: &[String]) -> Vec<String> {
        std::iter::once("ripcord".to_string())
            .chain(args.iter().cloned())
            .collect()
    }

    /// The report of `preflight`/`rollback` with `args`.
    pub async fn report(args: &[String]) -> Report {
        match run_args(argv(args)).await {
            Ok(Done::Report(ripcord::run::Evaluated { report, .. })) => *report,
            Ok(other) => panic!("{args:?}: not a report: {other:?}"),
            Err(e) => panic!("{args:?}: {e:?}"),
        }
    }

    /// The error `preflight`/`rollback` with `args` ends in (exit 2), as its message.
    pub async fn failure(args: &[String]) -> String {
        match run_args(argv(args)).await {
            Ok(other) => panic!("{args:?}: expected an error, got {other:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// The bundle text of `collect` with `args` (`--output -` is added).
    pub async fn collect(args: &[String]) -> String {
        let mut args = args.to_vec();
        args.extend(["--output".to_string(), "-".to_string()]);
        match run_args(argv(&args)).await {
            Ok(Done::Bundle { collected, .. }) => collected.text,
            Ok(other) => panic!("{args:?}: not a bundle: {other:?}"),
            Err(e) => panic!("{args:?}: {e:?}"),
        }
    }

    /// The bundle `collect` writes, parsed.
    pub async fn collect_json(args: &[String]) -> serde_json::Value {
        serde_json::from_str(&collect(args).await).expect("bundle is JSON")
    }
}

/// The binary, with a clean credential environment: one builder for every CLI run.
pub struct Ripcord {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
    dir: Option<PathBuf>,
}

/// What one run of the binary printed and returned.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Ripcord {
    pub fn new<S: AsRef<str>>(args: &[S]) -> Self {
        Self {
            args: args.iter().map(|a| a.as_ref().to_string()).collect(),
            env: Vec::new(),
            stdin: None,
            dir: None,
        }
    }

    /// Runs in `dir` (relative paths in the arguments are from there).
    pub fn dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// Adds arguments.
    pub fn args<S: AsRef<str>>(mut self, more: &[S]) -> Self {
        self.args
            .extend(more.iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// Sets an environment variable for this run.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Feeds `bytes` on standard input.
    pub fn stdin(mut self, bytes: &[u8]) -> Self {
        self.stdin = Some(bytes.to_vec());
        self
    }

    pub fn run(&self) -> Output {
        let mut cmd = assert_cmd::Command::cargo_bin("ripcord").expect("binary");
        // Nothing of the caller's terminal or CI settings leaks into what a test sees.
        for (key, _) in std::env::vars() {
            if key.starts_with("RIPCORD_") || key.starts_with("AWS_") {
                cmd.env_remove(key);
            }
        }
        for key in ["COLUMNS", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"] {
            cmd.env_remove(key);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some(bytes) = &self.stdin {
            cmd.write_stdin(bytes.clone());
        }
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir);
        }
        let out = cmd.args(&self.args).output().expect("run");
        Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }
}

/// Runs the binary with `args` and a clean credential environment.
pub fn ripcord(args: &[String]) -> (String, String, i32) {
    let out = Ripcord::new(args).run();
    (out.stdout, out.stderr, out.code)
}

/// `&str`s as owned arguments.
pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}
