//! The only HTTP client in ripcord, and it can only read.
//!
//! `ReadOnlyClient` exposes `get` and nothing else: no method parameter, no body.
//! That makes the read-only promise a property of the type rather than of reviewers' care.
//! It also owns what every request needs: credentials (held as `SecretString`, exposed only
//! while building a sensitive header), TLS trust, per-request timeout, a response size cap,
//! the request log that goes into the bundle, and `-v` logging (URL and status, never headers).
#![allow(
    clippy::disallowed_types,
    reason = "the one module that holds reqwest's client and requests (clippy.toml)"
)]

use crate::model::facts::{AuthMethod, AuthUsed, RequestRecord};
use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `tracing` target of the request events `-v` shows (`output::log` writes them).
pub(crate) const REQUEST_TARGET: &str = "ripcord::request";

/// Largest error body read (a 4xx/5xx answer is read for its reason only): Elasticsearch's
/// longest error bodies, with a stack trace, are a few kilobytes.
pub(crate) const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// How to authenticate to one service.
#[derive(Clone, Default)]
pub(crate) enum Credentials {
    #[default]
    None,
    /// `Authorization: ApiKey <key>` (the base64 `id:api_key` form Elastic prints).
    ApiKey(SecretString),
    /// HTTP basic.
    Basic {
        username: String,
        password: SecretString,
    },
    /// `Authorization: Bearer <token>` (a Google Cloud or Azure access token).
    Bearer(SecretString),
    /// AWS Signature Version 4, computed per request over its URL and time.
    AwsSigV4(AwsKeys),
}

/// The AWS credentials of the standard environment, and where to sign for.
#[derive(Clone)]
pub(crate) struct AwsKeys {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: SecretString,
    pub(crate) session_token: Option<SecretString>,
    pub(crate) region: String,
    /// The service name in the credential scope (`ec2`).
    pub(crate) service: &'static str,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::ApiKey(_) => f.write_str("ApiKey([redacted])"),
            Self::Basic { username, .. } => write!(f, "Basic({username}, [redacted])"),
            Self::Bearer(_) => f.write_str("Bearer([redacted])"),
            Self::AwsSigV4(keys) => write!(f, "AwsSigV4({}, [redacted])", keys.region),
        }
    }
}

impl Credentials {
    /// The headers that authenticate a GET of `url`, marked sensitive (reqwest keeps them out
    /// of its `Debug`). SigV4 signs the URL and the current time, so it is computed here, per
    /// request; a URL it cannot sign is an error, not an unsigned request.
    fn headers(&self, url: &str) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
        let raw = match self {
            Self::None => return Ok(Vec::new()),
            Self::ApiKey(key) => format!("ApiKey {}", key.expose_secret()),
            Self::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose_secret());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
            Self::Bearer(token) => format!("Bearer {}", token.expose_secret()),
            Self::AwsSigV4(keys) => return sigv4_headers(keys, url),
        };
        Ok(vec![(AUTHORIZATION, sensitive(&raw)?)])
    }
}

fn sensitive(raw: &str) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::from_str(raw)
        .map_err(|_| "the credential cannot travel in an HTTP header".to_string())?;
    value.set_sensitive(true);
    Ok(value)
}

/// Signs `GET url` (empty body) with SigV4 by the `aws-sigv4` crate: `Authorization`,
/// `X-Amz-Date`, and `X-Amz-Security-Token` for temporary credentials.
fn sigv4_headers(keys: &AwsKeys, url: &str) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity = aws_credential_types::Credentials::new(
        keys.access_key_id.clone(),
        keys.secret_access_key.expose_secret().to_string(),
        keys.session_token
            .as_ref()
            .map(|t| t.expose_secret().to_string()),
        None,
        "environment",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&keys.region)
        .name(keys.service)
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into();
    let request = SignableRequest::new("GET", url, std::iter::empty(), SignableBody::Bytes(&[]))
        .map_err(|e| format!("cannot sign the request: {e}"))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into_parts();
    instructions
        .headers()
        .map(|(name, value)| {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("cannot sign the request: bad header {name}"))?;
            Ok((name, sensitive(value)?))
        })
        .collect()
}

/// Connection settings shared by every request of a run.
#[derive(Debug, Clone)]
pub(crate) struct ClientOptions {
    pub timeout: Duration,
    /// The whole run's budget, from the client's creation: a request that would end after it
    /// is cut short (or not sent), so what was collected by then is judged.
    pub deadline: Duration,
    pub ca_cert: Option<std::path::PathBuf>,
    pub insecure: bool,
    pub verbose: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(120),
            ca_cert: None,
            insecure: false,
            verbose: false,
        }
    }
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ClientError {
    #[error("cannot read CA certificate {path}")]
    #[diagnostic(code(ripcord::http::ca_cert), help("pass a PEM file with --ca-cert"))]
    CaCertRead {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("--ca-cert {path} {why}")]
    #[diagnostic(
        code(ripcord::http::ca_cert),
        help(
            "pass the CA certificate in PEM (-----BEGIN CERTIFICATE-----), e.g. Elasticsearch's config/certs/http_ca.crt"
        )
    )]
    CaCertInvalid { path: String, why: String },
    #[error("cannot build the HTTP client")]
    #[diagnostic(code(ripcord::http::client))]
    Build(#[source] reqwest::Error),
}

/// A request that did not produce a usable HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RequestError {
    #[error("timed out after {0} s")]
    Timeout(u64),
    #[error("the run's deadline ({0} s, --deadline) was reached before this answer")]
    Deadline(u64),
    #[error("connection refused")]
    Refused,
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("answer too large: over {0} bytes, more than this endpoint can really return")]
    TooLarge(usize),
    #[error("{0}")]
    Other(String),
}

/// A response as read: status, headers and the buffered body (a 2xx body sent to a
/// [`BodyTo::Stream`] is not buffered: `body` is empty).
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    /// The response headers (a proxy's, such as Elastic Cloud's `X-Found-Handling-Cluster`,
    /// tell what serves the cluster).
    pub headers: reqwest::header::HeaderMap,
}

/// Where a response body goes, and how much of it may come.
///
/// Every body is bounded twice: by `max_bytes`, sized per endpoint to what the vendor can
/// really return (a server that sends more is cut off, "answer too large"), and, as it is
/// never held whole, by what its consumer keeps. An error body (not 2xx) is always buffered,
/// up to [`MAX_ERROR_BODY_BYTES`], for its reason.
pub(crate) enum BodyTo {
    /// Held in memory, up to `max_bytes`.
    Buffer { max_bytes: usize },
    /// A 2xx body goes chunk by chunk to a parser reading the other end, so a large listing is
    /// never in memory as text; the sender is dropped at the end (or when the cap is hit).
    Stream {
        max_bytes: usize,
        chunks: tokio::sync::mpsc::Sender<bytes::Bytes>,
    },
}

impl BodyTo {
    fn max_bytes(&self) -> usize {
        match self {
            Self::Buffer { max_bytes } | Self::Stream { max_bytes, .. } => *max_bytes,
        }
    }
}

/// A GET/HEAD-only HTTP client. See the module docs.
#[derive(Clone)]
pub(crate) struct ReadOnlyClient {
    inner: reqwest::Client,
    options: ClientOptions,
    /// When the run's deadline falls.
    deadline: Instant,
    log: Arc<Mutex<Vec<RequestRecord>>>,
    /// What the answers of this run hold once parsed ([`crate::base::memory`]).
    answers: Arc<crate::base::memory::RunMemory>,
}

impl ReadOnlyClient {
    /// Builds the client; fails only on an unreadable CA file.
    pub(crate) fn new(options: ClientOptions) -> Result<Self, ClientError> {
        let inner = shared_client(&options)?;
        Ok(Self {
            inner,
            deadline: Instant::now() + options.deadline,
            options,
            log: Arc::default(),
            answers: crate::base::memory::RunMemory::new(crate::base::memory::RUN_BUDGET),
        })
    }

    /// `GET base + path` with the given credentials; the body goes where `body` says.
    pub(crate) async fn get(
        &self,
        base: &str,
        path_and_query: &str,
        credentials: &Credentials,
        body: BodyTo,
    ) -> Result<Response, RequestError> {
        let url = join_url(base, path_and_query);
        self.send("GET", self.inner.get(&url), &url, credentials, body)
            .await
    }

    /// The memory budget shared by every answer this client's run parses.
    pub(crate) fn answers_memory(&self) -> Arc<crate::base::memory::RunMemory> {
        Arc::clone(&self.answers)
    }

    /// Every request made so far, in the order they finished.
    pub(crate) fn request_log(&self) -> Vec<RequestRecord> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    async fn send(
        &self,
        method: &str,
        mut request: reqwest::RequestBuilder,
        url: &str,
        credentials: &Credentials,
        body: BodyTo,
    ) -> Result<Response, RequestError> {
        let started = Instant::now();
        let left = self.deadline.saturating_duration_since(started);
        let result = match credentials.headers(url) {
            Err(why) => Err(RequestError::Other(why)),
            Ok(_) if left.is_zero() => Err(RequestError::Deadline(self.options.deadline.as_secs())),
            Ok(headers) => {
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                self.read(request.timeout(self.options.timeout.min(left)), body)
                    .await
            }
        };
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let shown_url = strip_userinfo(url);
        let (status, error) = match &result {
            Ok(r) => (Some(r.status), None),
            Err(e) => (None, Some(e.to_string())),
        };
        if self.options.verbose {
            let outcome = match (&status, &error) {
                (Some(s), _) => s.to_string(),
                (None, Some(e)) => e.clone(),
                (None, None) => String::new(),
            };
            tracing::debug!(
                target: REQUEST_TARGET,
                method,
                url = shown_url.as_str(),
                outcome = outcome.as_str(),
                duration_ms
            );
        }
        if let Ok(mut log) = self.log.lock() {
            log.push(RequestRecord {
                method: method.to_string(),
                url: shown_url,
                status,
                duration_ms,
                error,
            });
        }
        result
    }

    async fn read(
        &self,
        request: reqwest::RequestBuilder,
        to: BodyTo,
    ) -> Result<Response, RequestError> {
        let mut response = request.send().await.map_err(|e| self.classify(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let ok = (200..300).contains(&status);
        let cap = if ok {
            to.max_bytes()
        } else {
            MAX_ERROR_BODY_BYTES
        };
        let stream = match to {
            BodyTo::Stream { chunks, .. } if ok => Some(chunks),
            _ => None,
        };
        let mut body = Vec::new();
        let mut read = 0usize;
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(&e))? {
            read = read.saturating_add(chunk.len());
            if read > cap {
                if !ok {
                    // Enough of an error page to say what it is; the rest is not read.
                    let room = cap.saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..room.min(chunk.len())]);
                    break;
                }
                return Err(RequestError::TooLarge(cap));
            }
            match &stream {
                // The parser stopped reading (it failed, or the document ended): so do we.
                Some(tx) => {
                    if tx.send(chunk).await.is_err() {
                        break;
                    }
                }
                None => body.extend_from_slice(&chunk),
            }
        }
        Ok(Response {
            status,
            body,
            headers,
        })
    }

    fn classify(&self, error: &reqwest::Error) -> RequestError {
        if error.is_timeout() {
            if Instant::now() >= self.deadline {
                return RequestError::Deadline(self.options.deadline.as_secs());
            }
            return RequestError::Timeout(self.options.timeout.as_secs());
        }
        let chain = error_chain(error);
        if chain.contains("Connection refused") || chain.contains("ConnectionRefused") {
            return RequestError::Refused;
        }
        if error.is_connect() {
            return RequestError::Connect(chain);
        }
        RequestError::Other(chain)
    }
}

/// Largest CA file read: a bundle of a few hundred certificates is well under it.
const MAX_CA_BYTES: u64 = 1024 * 1024;

/// The certificates of a `--ca-cert` file, each checked to be an X.509 certificate a TLS
/// client can trust. Anything else (text, random bytes, an empty file, a private key, a FIFO)
/// is refused here by name, not later as a TLS failure on every request.
fn read_ca_certs(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, ClientError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    let shown = path.display().to_string();
    let invalid = |why: String| ClientError::CaCertInvalid {
        path: shown.clone(),
        why,
    };
    let pem = crate::base::files::read_regular(path, MAX_CA_BYTES).map_err(|e| match e {
        crate::base::files::ReadError::Io(source) => ClientError::CaCertRead {
            path: shown.clone(),
            source,
        },
        other => invalid(other.to_string()),
    })?;
    let mut certs = Vec::new();
    let mut store = rustls::RootCertStore::empty();
    for (i, der) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        let der = der.map_err(|e| invalid(format!("is not valid PEM: {e}")))?;
        store.add(der.clone()).map_err(|e| {
            invalid(format!(
                "certificate {} is not a valid X.509 certificate: {e}",
                i + 1
            ))
        })?;
        let cert = reqwest::Certificate::from_der(&der)
            .map_err(|e| invalid(format!("certificate {} cannot be used: {e}", i + 1)))?;
        certs.push(cert);
    }
    if certs.is_empty() {
        let text = String::from_utf8_lossy(&pem);
        return Err(invalid(if text.contains("PRIVATE KEY-----") {
            "holds a private key, not a certificate".to_string()
        } else if pem.is_empty() {
            "is empty".to_string()
        } else {
            "holds no PEM certificate".to_string()
        }));
    }
    Ok(certs)
}

/// The reqwest clients of one fleet run, by TLS and timeout options: building one loads and
/// parses the system's root certificates, milliseconds that a thousand targets would pay a
/// thousand times. Sharing one shares only its connection pool (keyed by host); credentials
/// are per request, the request log and deadline per [`ReadOnlyClient`]. Scoped to one run
/// (one runtime): a pooled connection must not outlive the runtime that drives it.
#[derive(Debug, Default, Clone)]
pub(crate) struct ClientCache(Arc<Mutex<Vec<(CacheKey, reqwest::Client)>>>);

type CacheKey = (Duration, Option<std::path::PathBuf>, bool);

tokio::task_local! {
    static CLIENTS: ClientCache;
}

impl ClientCache {
    /// Runs `future` with every [`ReadOnlyClient`] it creates drawn from this cache.
    pub(crate) async fn run<F: Future>(self, future: F) -> F::Output {
        CLIENTS.scope(self, future).await
    }
}

/// The reqwest client for these options: from the run's [`ClientCache`] when there is one.
fn shared_client(options: &ClientOptions) -> Result<reqwest::Client, ClientError> {
    let Ok(cache) = CLIENTS.try_with(Clone::clone) else {
        return build_client(options);
    };
    let key: CacheKey = (options.timeout, options.ca_cert.clone(), options.insecure);
    let mut built = cache.0.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, client)) = built.iter().find(|(k, _)| *k == key) {
        return Ok(client.clone());
    }
    let client = build_client(options)?;
    built.push((key, client.clone()));
    Ok(client)
}

fn build_client(options: &ClientOptions) -> Result<reqwest::Client, ClientError> {
    #[allow(
        clippy::disallowed_methods,
        reason = "the one HTTP client of ripcord is built here, and it only sends GET"
    )]
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("ripcord/", env!("CARGO_PKG_VERSION")))
        .timeout(options.timeout)
        .connect_timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = &options.ca_cert {
        builder = builder.tls_certs_merge(read_ca_certs(path)?);
    }
    if options.insecure {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    builder.build().map_err(ClientError::Build)
}

/// The error and its sources in one line; reqwest's top-level message alone says too little.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

/// Credentials for one service from `RIPCORD_<PREFIX>_API_KEY`, or `_USERNAME` + `_PASSWORD`,
/// and how they were found (method and variable names, never the secret),
/// for the bundle to record.
pub(crate) fn env_credentials_used(prefix: &str) -> (Credentials, AuthUsed) {
    let api_key = format!("RIPCORD_{prefix}_API_KEY");
    if let Some(key) = env_secret(&api_key) {
        return (
            Credentials::ApiKey(key),
            AuthUsed {
                method: AuthMethod::ApiKey,
                variables: vec![crate::base::secrets::shown_name(&api_key)],
            },
        );
    }
    let (user, pass) = (
        format!("RIPCORD_{prefix}_USERNAME"),
        format!("RIPCORD_{prefix}_PASSWORD"),
    );
    match (env_text(&user), env_secret(&pass)) {
        (Some(username), Some(password)) => (
            Credentials::Basic { username, password },
            AuthUsed {
                method: AuthMethod::Basic,
                variables: vec![
                    crate::base::secrets::shown_name(&user),
                    crate::base::secrets::shown_name(&pass),
                ],
            },
        ),
        _ => (Credentials::None, AuthUsed::default()),
    }
}

/// A non-empty environment variable, held as a secret.
pub(crate) fn env_secret(name: &str) -> Option<SecretString> {
    env_text(name).map(SecretString::from)
}

/// A non-empty credential variable, its trailing line break dropped (see
/// [`crate::base::secrets::lookup`]; a value that still cannot be a header stopped the run before).
pub(crate) fn env_text(name: &str) -> Option<String> {
    crate::base::secrets::lookup(name)
}

/// Joins a base URL (with or without trailing slash or path prefix) and an absolute path.
pub(crate) fn join_url(base: &str, path_and_query: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path_and_query.trim_start_matches('/')
    )
}

/// Percent-encodes one URL path segment (repository and snapshot names may hold any
/// character, e.g. `<`, `>`, `{`, `}` from date math).
pub(crate) fn encode_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Removes `user:password@` from a URL so it can be logged or stored.
pub(crate) fn strip_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        // Unparsable (a password with `/`, `#` or `?`): mask whatever could be user info.
        Err(_) => crate::base::secrets::mask_userinfo(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_paths() {
        assert_eq!(
            join_url("http://h:9200/", "/_nodes"),
            "http://h:9200/_nodes"
        );
        assert_eq!(join_url("http://h/es", "_nodes"), "http://h/es/_nodes");
    }

    #[test]
    fn strips_userinfo() {
        assert_eq!(strip_userinfo("https://u:p@h:9200/x"), "https://h:9200/x");
        assert_eq!(strip_userinfo("https://h:9200/x"), "https://h:9200/x");
    }

    #[tokio::test]
    async fn response_size_is_capped() {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let s = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/_nodes"))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(vec![b' '; 4096], "application/json"),
            )
            .mount(&s)
            .await;
        let c = ReadOnlyClient::new(ClientOptions::default()).expect("client");
        let e = c
            .get(
                &s.uri(),
                "/_nodes",
                &Credentials::None,
                BodyTo::Buffer { max_bytes: 1024 },
            )
            .await
            .expect_err("too large");
        assert_eq!(e, RequestError::TooLarge(1024));
        assert_eq!(c.request_log()[0].method, "GET");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::Basic {
            username: "elastic".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
