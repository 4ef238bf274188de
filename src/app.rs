//! Wires the pipeline for each command: rules → facts (collect or bundle) → derive → engine
//! → plan → report → render. Returns the exit code; errors are miette diagnostics (exit 2).

use crate::cli::{
    Cli, CollectProduct, Command, ConnectionArgs, ElasticTargetArgs, Evaluate, GhesEvaluate,
    ListFormat, PreflightProduct, RollbackProduct, RulesCommand,
};
use crate::collect::{self, ElasticTarget};
use crate::facts::derive::{self, Mode, Overrides};
use crate::facts::{Bundle, OperatorFacts, bundle};
use crate::http::{ClientOptions, Credentials, ReadOnlyClient};
use crate::plan::elastic::{CurlAuth, CurlOptions};
use crate::report::{self, Report, Source, UpgradeSummary};
use crate::ruleset::load;
use crate::ruleset::{RuleSet, Severity};
use crate::{engine, output};
use secrecy::SecretString;
use std::io::IsTerminal;
use std::path::Path;

/// Why ripcord could not do its job (exit 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AppError {
    #[error("{0}")]
    #[diagnostic(code(ripcord::usage))]
    Usage(String, #[help] Option<String>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Bundle(#[from] bundle::BundleError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Rules(#[from] load::LoadError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Client(#[from] crate::http::ClientError),
    #[error("unknown rule {0:?}")]
    #[diagnostic(
        code(ripcord::rules::unknown),
        help("`ripcord rules list` shows every rule id")
    )]
    UnknownRule(String),
    #[error("cannot write output")]
    #[diagnostic(code(ripcord::io))]
    Io(#[from] std::io::Error),
    #[error("cannot start the async runtime")]
    #[diagnostic(code(ripcord::runtime))]
    Runtime(#[source] std::io::Error),
}

fn usage(message: impl Into<String>, help: Option<&str>) -> AppError {
    AppError::Usage(message.into(), help.map(str::to_string))
}

/// Runs one command and returns its exit code.
pub fn run(cli: Cli) -> Result<u8, AppError> {
    match cli.command {
        Command::Preflight {
            product: PreflightProduct::Elastic(a),
        } => evaluate(Evaluate {
            mode: Mode::Preflight,
            target: &a.target,
            from: a.from.clone(),
            to: a.to.clone(),
            operator: &a.operator,
            common: &a.common,
            connection: &a.connection,
        }),
        Command::Rollback {
            product: RollbackProduct::Elastic(a),
        } => evaluate(Evaluate {
            mode: Mode::Rollback,
            target: &a.target,
            from: a.from.clone(),
            to: a.to.clone(),
            operator: &a.operator,
            common: &a.common,
            connection: &a.connection,
        }),
        Command::Collect {
            product: CollectProduct::Elastic(a),
        } => {
            require_target(&a.target)?;
            let operator = OperatorFacts {
                from: a.from.clone(),
                to: a.to.clone(),
                upgrade_started_at: a.operator.upgrade_started_at,
                ..Default::default()
            };
            let now = a.now.unwrap_or_else(jiff::Timestamp::now);
            let bundle = collect_live(&a.target, &a.connection, operator, now)?;
            write_bundle(&a.output, &bundle)?;
            Ok(0)
        }
        Command::Preflight {
            product: PreflightProduct::Ghes(a),
        } => evaluate_ghes(Mode::Preflight, &a),
        Command::Rollback {
            product: RollbackProduct::Ghes(a),
        } => evaluate_ghes(Mode::Rollback, &a),
        Command::Collect {
            product: CollectProduct::Ghes(a),
        } => {
            let operator = a.facts.operator_facts();
            let now = a.now.unwrap_or_else(jiff::Timestamp::now);
            let bundle = collect_ghes(a.facts.ghes.as_deref(), &a.connection, operator, now)?;
            write_bundle(&a.output, &bundle)?;
            Ok(0)
        }
        Command::Rules { command } => rules_command(command),
    }
}

/// Loads the built-in rules and `extra`'s, checked against the fact schema.
pub fn load_rules(extra: Option<&Path>) -> Result<RuleSet, AppError> {
    let schema = crate::facts::sample::schemas();
    Ok(load::load(extra, &schema)?)
}

fn rules_command(command: RulesCommand) -> Result<u8, AppError> {
    match command {
        RulesCommand::List { format, rules } => {
            let set = load_rules(rules.as_deref())?;
            let text = match format {
                ListFormat::Json => {
                    let list: Vec<serde_json::Value> = set
                        .rules
                        .iter()
                        .map(|r| {
                            serde_json::json!({
                                "id": r.id, "title": r.title, "product": r.product, "severity": r.severity,
                                "modes": r.modes, "requires": r.requires, "params": r.params,
                                "summary": r.docs.summary, "docs": r.docs.reference, "origin": r.origin,
                            })
                        })
                        .collect();
                    serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
                }
                ListFormat::Table => {
                    let mut t = comfy_table::Table::new();
                    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
                        .set_width(120);
                    t.set_header(vec!["rule", "product", "severity", "modes", "title"]);
                    for r in &set.rules {
                        t.add_row(vec![
                            r.id.clone(),
                            r.product.clone(),
                            r.severity.as_str().into(),
                            r.modes.join(", "),
                            r.title.clone(),
                        ]);
                    }
                    format!("{t}\n")
                }
            };
            output::write_stdout(&text)?;
            Ok(0)
        }
        RulesCommand::Explain { rule_id, rules } => {
            let set = load_rules(rules.as_deref())?;
            let rule = set
                .get(&rule_id)
                .ok_or_else(|| AppError::UnknownRule(rule_id.clone()))?;
            output::write_stdout(&explain(rule))?;
            Ok(0)
        }
    }
}

/// The text of `rules explain`.
pub fn explain(r: &crate::ruleset::Rule) -> String {
    let mut out = format!(
        "{id} — {title}\n\nproduct:  {product}\nseverity: {sev}{gate}\nmodes:    {modes}\nrequires: {req}\n",
        id = r.id,
        title = r.title,
        product = r.product,
        sev = r.severity.as_str(),
        gate = if r.severity == Severity::Blocker {
            " (a failure blocks: exit 1)"
        } else {
            ""
        },
        modes = r.modes.join(", "),
        req = if r.requires.is_empty() {
            "-".to_string()
        } else {
            r.requires.join(", ")
        },
    );
    if !r.params.is_empty() {
        let params: Vec<String> = r.params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        out.push_str(&format!("params:   {}\n", params.join(", ")));
    }
    if let Some(w) = &r.when {
        out.push_str(&format!("when:     {}\n", w.source.trim()));
    }
    out.push_str(&format!(
        "passes when:\n  {}\n",
        r.expr.source.trim().replace('\n', "\n  ")
    ));
    out.push_str(&format!(
        "\n{}\n\nWhy:\n{}\n\nRemediation:\n{}\n",
        r.docs.summary.trim(),
        r.docs.why.trim(),
        r.docs.remediation.trim()
    ));
    if !r.docs.reference.is_empty() {
        out.push_str(&format!("\nReference: {}\n", r.docs.reference));
    }
    out.push_str(&format!(
        "Source: {}\n",
        if r.origin == "built-in" {
            format!("built-in (rules/{}/{}.toml)", r.product, r.id)
        } else {
            r.origin.clone()
        }
    ));
    out
}

fn require_target(t: &ElasticTargetArgs) -> Result<(), AppError> {
    if t.es.is_none() && t.kibana.is_empty() {
        return Err(usage(
            "nothing to check: give --es URL and --kibana URL (or --facts FILE)",
            Some("e.g. --es https://es:9200 --kibana https://kb-1:5601"),
        ));
    }
    for url in t.es.iter().chain(t.kibana.iter()) {
        check_url(url, "https://es:9200")?;
    }
    Ok(())
}

/// An http(s) URL, or a usage error showing `example`.
fn check_url(url: &str, example: &str) -> Result<(), AppError> {
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(()),
        _ => Err(usage(
            format!("not an http(s) URL: {url:?}"),
            Some(&format!("e.g. {example}")),
        )),
    }
}

/// The read-only client for `conn`, warning loudly about `--insecure`.
fn read_only_client(conn: &ConnectionArgs) -> Result<ReadOnlyClient, AppError> {
    if conn.insecure {
        eprintln!(
            "ripcord: WARNING: --insecure: TLS certificates are NOT verified; anyone on the path can read the credentials. Prefer --ca-cert."
        );
    }
    Ok(ReadOnlyClient::new(ClientOptions {
        timeout: std::time::Duration::from_secs(conn.timeout.max(1)),
        ca_cert: conn.ca_cert.clone(),
        insecure: conn.insecure,
        verbose: conn.verbose,
        ..ClientOptions::default()
    })?)
}

/// Runs a collection on a single-threaded runtime (I/O-bound: concurrency needs no threads)
/// with the spinner on stderr while it lasts.
fn run_collection<F: std::future::Future>(
    conn: &ConnectionArgs,
    collection: F,
) -> Result<F::Output, AppError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AppError::Runtime)?;
    let spinner = spinner(conn);
    let out = runtime.block_on(collection);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    Ok(out)
}

fn env_secret(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

fn env_text(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Credentials for one service from `RIPCORD_<PREFIX>_API_KEY` or `_USERNAME` + `_PASSWORD`.
pub fn credentials_from_env(prefix: &str) -> Credentials {
    if let Some(key) = env_secret(&format!("RIPCORD_{prefix}_API_KEY")) {
        return Credentials::ApiKey(key);
    }
    match (
        env_text(&format!("RIPCORD_{prefix}_USERNAME")),
        env_secret(&format!("RIPCORD_{prefix}_PASSWORD")),
    ) {
        (Some(username), Some(password)) => Credentials::Basic { username, password },
        _ => Credentials::None,
    }
}

fn collect_live(
    target: &ElasticTargetArgs,
    conn: &ConnectionArgs,
    operator: OperatorFacts,
    now: jiff::Timestamp,
) -> Result<Bundle, AppError> {
    let client = read_only_client(conn)?;
    let es_credentials = credentials_from_env("ES");
    let kibana_credentials = match credentials_from_env("KIBANA") {
        Credentials::None => es_credentials.clone(),
        c => c,
    };
    let t = ElasticTarget {
        es: target.es.clone(),
        kibana: target.kibana.clone(),
        es_credentials,
        kibana_credentials,
    };
    run_collection(conn, collect::collect_elastic(&client, &t, operator, now))
}

fn spinner(conn: &ConnectionArgs) -> Option<indicatif::ProgressBar> {
    if conn.no_progress || conn.verbose || !std::io::stderr().is_terminal() {
        return None;
    }
    let s = indicatif::ProgressBar::new_spinner().with_message("collecting facts (GET only)…");
    s.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    s.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(s)
}

fn evaluate(e: Evaluate<'_>) -> Result<u8, AppError> {
    // Arguments first: a typo must not cost a full collection.
    for (flag, v) in [("--from", &e.from), ("--to", &e.to)] {
        if let Some(v) = v
            && crate::version::parse_lenient(v).is_err()
        {
            return Err(usage(
                format!("{flag} {v:?} is not a version"),
                Some("e.g. 8.15.3"),
            ));
        }
    }
    let missing_to = || {
        usage(
            "preflight needs the target version: --to VERSION",
            Some("e.g. --to 8.15.3"),
        )
    };
    let rules = load_rules(e.common.rules.as_deref())?;
    let (bundle, source_kind, overrides) = match &e.common.facts {
        Some(path) => {
            if e.target.es.is_some() || !e.target.kibana.is_empty() {
                return Err(usage(
                    "give either --facts or --es/--kibana, not both",
                    None,
                ));
            }
            let bundle = bundle::read(path, "elastic")?;
            if e.mode == Mode::Preflight && e.to.is_none() && bundle.operator.to.is_none() {
                return Err(missing_to());
            }
            // Flags given at evaluation override what the bundle recorded.
            let overrides = Overrides {
                from: e.from.clone(),
                to: e.to.clone(),
                upgrade_started_at: e.operator.upgrade_started_at,
            };
            (bundle, "facts", overrides)
        }
        None => {
            require_target(e.target)?;
            if e.mode == Mode::Preflight && e.to.is_none() {
                return Err(missing_to());
            }
            let operator = OperatorFacts {
                from: e.from.clone(),
                to: e.to.clone(),
                upgrade_started_at: e.operator.upgrade_started_at,
                ..Default::default()
            };
            let now = e.common.now.unwrap_or_else(jiff::Timestamp::now);
            // The flags are in the bundle as operator facts: evaluating it later gives the
            // same findings, sources included.
            let bundle = collect_live(e.target, e.connection, operator, now)?;
            (bundle, "live", Overrides::default())
        }
    };
    let derived = derive::derive(&bundle, e.mode, &overrides);
    let findings = engine::evaluate(&rules, &engine::elastic(&bundle, &derived));
    let curl = CurlOptions {
        auth: match credentials_from_env("ES") {
            Credentials::ApiKey(_) => CurlAuth::ApiKey,
            Credentials::Basic { .. } => CurlAuth::Basic,
            Credentials::None => CurlAuth::None,
        },
        ca_cert: e
            .connection
            .ca_cert
            .as_ref()
            .map(|p| p.display().to_string()),
        insecure: e.connection.insecure,
    };
    let plan = crate::plan::elastic::plan(&bundle, &derived, &findings, &curl);
    let source = Source {
        kind: source_kind.into(),
        collected_at: bundle.collected_at,
        facts_file: e.common.facts.as_ref().map(|p| p.display().to_string()),
        elasticsearch: bundle.target.es.clone(),
        kibana: bundle.target.kibana.clone(),
        ghes: None,
    };
    let upgrade: UpgradeSummary = derived.upgrade.basis.clone();
    finish(
        "elastic", e.mode, upgrade, findings, plan, source, &bundle, e.common,
    )
}

/// Assembles the report, prints it in the requested format, and returns the exit code.
#[expect(
    clippy::too_many_arguments,
    reason = "one call per product; the parts are all distinct"
)]
fn finish(
    product: &str,
    mode: Mode,
    upgrade: UpgradeSummary,
    findings: Vec<crate::report::Finding>,
    plan: crate::plan::Plan,
    source: Source,
    bundle: &Bundle,
    common: &crate::cli::CommonArgs,
) -> Result<u8, AppError> {
    let verdict = report::verdict(&findings, common.fail_on);
    let report = Report {
        schema: report::REPORT_SCHEMA,
        tool_version: env!("CARGO_PKG_VERSION"),
        generated_at: common.now.unwrap_or_else(jiff::Timestamp::now),
        product: product.into(),
        mode: mode.as_str().into(),
        upgrade,
        verdict,
        exit_code: verdict.exit_code(),
        summary: report::summarize(&findings),
        findings,
        plan,
        source,
        collection_failures: bundle.failures.clone(),
    };
    output::print(&report, common.format)?;
    Ok(report.exit_code)
}

fn write_bundle(output: &Path, bundle: &Bundle) -> Result<(), AppError> {
    if output.as_os_str() == "-" {
        let text = serde_json::to_string_pretty(bundle).unwrap_or_default() + "\n";
        output::write_stdout(&text)?;
    } else {
        bundle::write(output, bundle)?;
        eprintln!(
            "ripcord: wrote {} ({} requests, {} could not be collected)",
            output.display(),
            bundle.requests.len(),
            bundle.failures.len()
        );
    }
    Ok(())
}

/// Flags given at evaluation win over what a bundle recorded; replicas are merged by host.
fn merge_operator(recorded: &mut OperatorFacts, flags: OperatorFacts) {
    recorded.from = flags.from.or(recorded.from.take());
    recorded.to = flags.to.or(recorded.to.take());
    recorded.upgrade_started_at = flags.upgrade_started_at.or(recorded.upgrade_started_at);
    recorded.platform = flags.platform.or(recorded.platform.take());
    recorded.vm_snapshot = flags.vm_snapshot.or(recorded.vm_snapshot.take());
    recorded.vm_snapshot_taken_at = flags.vm_snapshot_taken_at.or(recorded.vm_snapshot_taken_at);
    for r in flags.replicas {
        recorded.replicas.retain(|x| x.hostname != r.hostname);
        recorded.replicas.push(r);
    }
}

/// Collects from the Manage API when a URL is given; otherwise the facts are the flags alone
/// (the primary is down, or GHES is older than 3.9).
fn collect_ghes(
    url: Option<&str>,
    conn: &ConnectionArgs,
    operator: OperatorFacts,
    now: jiff::Timestamp,
) -> Result<Bundle, AppError> {
    let mut bundle = Bundle::new("ghes", now);
    bundle.operator = operator;
    let Some(url) = url else {
        return Ok(bundle);
    };
    check_url(url, "https://ghe.example.com:8443")?;
    let client = read_only_client(conn)?;
    let credentials = match (
        env_text("RIPCORD_GHES_USERNAME"),
        env_secret("RIPCORD_GHES_PASSWORD"),
    ) {
        (user, Some(password)) => Credentials::Basic {
            username: user.unwrap_or_else(|| "api_key".into()),
            password,
        },
        _ => Credentials::None,
    };
    run_collection(
        conn,
        crate::collect::collect_ghes(&client, Some(url), &credentials, bundle.operator, now),
    )
}

fn evaluate_ghes(mode: Mode, a: &GhesEvaluate) -> Result<u8, AppError> {
    for (flag, v) in [("--from", &a.facts.from), ("--to", &a.facts.to)] {
        if let Some(v) = v
            && crate::version::parse_lenient(v).is_err()
        {
            return Err(usage(
                format!("{flag} {v:?} is not a version"),
                Some("e.g. 3.15.2"),
            ));
        }
    }
    let rules = load_rules(a.common.rules.as_deref())?;
    let flags = a.facts.operator_facts();
    let (bundle, source_kind) = match &a.common.facts {
        Some(path) => {
            if a.facts.ghes.is_some() {
                return Err(usage("give either --facts or --ghes, not both", None));
            }
            let mut bundle = bundle::read(path, "ghes")?;
            merge_operator(&mut bundle.operator, flags);
            (bundle, "facts")
        }
        None => {
            let now = a.common.now.unwrap_or_else(jiff::Timestamp::now);
            let kind = if a.facts.ghes.is_some() {
                "live"
            } else {
                "flags"
            };
            (
                collect_ghes(a.facts.ghes.as_deref(), &a.connection, flags, now)?,
                kind,
            )
        }
    };
    if mode == Mode::Preflight && bundle.operator.to.is_none() {
        return Err(usage(
            "preflight needs the target version: --to VERSION",
            Some("e.g. --to 3.15.2"),
        ));
    }
    let derived = crate::facts::ghes::derive(&bundle, mode, &Overrides::default());
    let findings = engine::evaluate(&rules, &engine::ghes(&bundle, &derived));
    let plan = crate::plan::ghes::plan(&derived);
    let source = Source {
        kind: source_kind.into(),
        collected_at: bundle.collected_at,
        facts_file: a.common.facts.as_ref().map(|p| p.display().to_string()),
        elasticsearch: None,
        kibana: vec![],
        ghes: bundle.target.ghes.clone(),
    };
    let upgrade: UpgradeSummary = derived.upgrade.basis.clone();
    finish(
        "ghes", mode, upgrade, findings, plan, source, &bundle, &a.common,
    )
}
