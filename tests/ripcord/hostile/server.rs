//! A loopback HTTP server that misbehaves on purpose: endless streams, huge bodies, stalls, a
//! one-byte-at-a-time drip, echoed `Authorization` headers, control characters, redirects.
//! wiremock answers whole bodies only; these answers need the raw socket.
//!
//! Like every test server, it counts any method other than GET or HEAD, and tests assert that
//! count is zero: ripcord is read-only against hostile servers too.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers one path.
#[derive(Clone, Debug)]
pub enum Act {
    /// `status`, JSON body, with Content-Length.
    Json(u16, String),
    /// `status`, content type, body.
    Body(u16, &'static str, Vec<u8>),
    /// 200, then `prefix` followed by `unit` repeated until the client hangs up (no length).
    Endless { prefix: String, unit: String },
    /// Reads the request and never answers.
    Stall,
    /// 200 and a valid body, one byte every `every`.
    Drip { body: String, every: Duration },
    /// `status`, the request's `Authorization` header reflected in a body of `kind`.
    Echo { status: u16, kind: EchoKind },
    /// 302 to this location.
    Redirect(String),
}

/// The body an echoing proxy reflects the header into.
#[derive(Clone, Copy, Debug)]
pub enum EchoKind {
    /// Elasticsearch's 401 `security_exception` body, header quoted in the reason.
    Json,
    /// An HTML 502 page.
    Html,
    /// A plain-text 500.
    Text,
}

/// A JSON body of about `n` bytes: `[0,0,0,…]` (two bytes per value: the cheapest way to
/// make a generic JSON tree huge).
fn zeros(n: usize) -> String {
    format!("[{}0]", "0,".repeat(n / 2))
}

/// The hostile mix of the test and of the bench's memory budget: every endpoint ripcord asks
/// answers something hostile at once (routes, and the answer of every other path).
pub fn hostile_mix() -> (Vec<(&'static str, Act)>, Act) {
    let endless = |prefix: &str, unit: &str| Act::Endless {
        prefix: prefix.into(),
        unit: unit.into(),
    };
    let routes = vec![
        // An endless string, endless whitespace.
        ("/", endless(r#"{"cluster_name":""#, "A")),
        ("/_cluster/health", endless("", " ")),
        // Huge arrays, deep nesting, bytes that are not UTF-8.
        ("/_nodes", Act::Json(200, zeros(50_000_000))),
        (
            "/_snapshot",
            Act::Json(
                200,
                format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            ),
        ),
        (
            "/_features",
            Act::Body(200, "application/json", vec![0xff, 0xfe, b'{', 0x80]),
        ),
        // Valid entries without end, each with 500 tiny feature states: thirty bytes of JSON
        // that parse into a few hundred, the worst case for memory.
        (
            "/_snapshot/_all/_all",
            endless(
                r#"{"snapshots":["#,
                &format!(
                    r#"{{"snapshot":"s","uuid":"u","repository":"r","state":"SUCCESS","version":"8.17.3","start_time_in_millis":1,"end_time_in_millis":2,"feature_states":[{}{{"feature_name":"kibana","indices":[".kibana_1"]}}]}},"#,
                    r#"{"feature_name":"k","indices":["i"]},"#.repeat(500)
                ),
            ),
        ),
        (
            "/_migration/deprecations",
            endless(
                r#"{"index_settings":{"i":["#,
                r#"{"level":"critical","message":"m"},"#,
            ),
        ),
        // A 50 MB HTML error page; Kibana's status, an endless string.
        (
            "/_migration/system_features",
            Act::Body(
                502,
                "text/html",
                format!("<html>{}</html>", "x".repeat(50_000_000)).into_bytes(),
            ),
        ),
        (
            "/api/status",
            endless(r#"{"status":{"overall":{"level":""#, "a"),
        ),
    ];
    (routes, Act::Json(200, zeros(50_000_000)))
}

/// The command line run against [`hostile_mix`] (after the program name).
pub fn hostile_mix_args(url: &str) -> Vec<String> {
    [
        "rollback",
        "elastic",
        "--es",
        url,
        "--kibana",
        url,
        "--format",
        "json",
        "--from",
        "8.17.3",
        "--to",
        "8.18.0",
        "--timeout",
        "60",
        "--no-progress",
    ]
    .map(str::to_string)
    .to_vec()
}

/// What the server saw.
#[derive(Default, Debug)]
pub struct Seen {
    pub requests: AtomicUsize,
    pub not_get: AtomicUsize,
    /// Every `Authorization` header value, per request, in arrival order.
    pub authorization: Mutex<Vec<Vec<String>>>,
}

/// A running hostile server; stopped when dropped.
pub struct Hostile {
    pub url: String,
    pub seen: Arc<Seen>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Hostile {
    /// Serves `routes` (exact path, query ignored) and `fallback` for every other path.
    pub fn start(routes: &[(&str, Act)], fallback: Act) -> Self {
        let routes: Arc<BTreeMap<String, Act>> = Arc::new(
            routes
                .iter()
                .map(|(p, a)| (p.to_string(), a.clone()))
                .collect(),
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Seen::default());
        let seen_by_server = Arc::clone(&seen);
        runtime.spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (routes, fallback, seen) = (
                    Arc::clone(&routes),
                    fallback.clone(),
                    Arc::clone(&seen_by_server),
                );
                tokio::spawn(async move {
                    let _ = serve(socket, &routes, &fallback, &seen).await;
                });
            }
        });
        Self {
            url,
            seen,
            runtime: Some(runtime),
        }
    }

    /// Requests other than GET and HEAD (must stay 0).
    pub fn not_get(&self) -> usize {
        self.seen.not_get.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.seen.requests.load(Ordering::SeqCst)
    }
}

/// One connection: one request, one answer, then close.
async fn serve(
    mut socket: TcpStream,
    routes: &BTreeMap<String, Act>,
    fallback: &Act,
    seen: &Seen,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let authorization: Vec<String> = lines
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.trim().to_string())
        .collect();
    seen.requests.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut all) = seen.authorization.lock() {
        all.push(authorization.clone());
    }
    if method != "GET" && method != "HEAD" {
        seen.not_get.fetch_add(1, Ordering::SeqCst);
        return respond(&mut socket, 405, "text/plain", b"read-only test server").await;
    }
    let act = routes.get(&path).unwrap_or(fallback);
    let header = authorization.first().cloned().unwrap_or_default();
    match act {
        Act::Json(status, body) => {
            respond(&mut socket, *status, "application/json", body.as_bytes()).await
        }
        Act::Body(status, kind, body) => respond(&mut socket, *status, kind, body).await,
        Act::Endless { prefix, unit } => {
            socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
                .await?;
            socket.write_all(prefix.as_bytes()).await?;
            let chunk = unit.repeat((64 * 1024 / unit.len().max(1)).max(1));
            loop {
                socket.write_all(chunk.as_bytes()).await?;
            }
        }
        Act::Stall => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        }
        Act::Drip { body, every } => {
            socket
                .write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .as_bytes(),
                )
                .await?;
            for b in body.as_bytes() {
                socket.write_all(&[*b]).await?;
                tokio::time::sleep(*every).await;
            }
            Ok(())
        }
        Act::Echo { status, kind } => {
            let (content_type, body) = match kind {
                EchoKind::Json => (
                    "application/json",
                    serde_json::json!({
                        "error": {
                            "root_cause": [{"type": "security_exception", "reason": format!("unable to authenticate with provided credentials [{header}]")}],
                            "type": "security_exception",
                            "reason": format!("unable to authenticate with provided credentials [{header}]"),
                        },
                        "status": 401
                    })
                    .to_string(),
                ),
                EchoKind::Html => (
                    "text/html",
                    format!("<html><body><h1>502 Bad Gateway</h1><p>upstream refused request with Authorization: {header}</p></body></html>"),
                ),
                EchoKind::Text => ("text/plain", format!("internal error; request headers: Authorization: {header}")),
            };
            respond(&mut socket, *status, content_type, body.as_bytes()).await
        }
        Act::Redirect(location) => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            socket.write_all(head.as_bytes()).await
        }
    }
}

async fn respond(
    socket: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body).await?;
    socket.shutdown().await
}
