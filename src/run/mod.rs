//! The one pipeline, for every product and every command (DESIGN §2):
//!
//! ```text
//! facts (collect | bundle) → derive → evaluate → plan → report
//! ```
//!
//! The registry (`product::registry`) hands the pipeline each product's type through
//! [`ForProduct`], so the commands reach every product by name while the pipeline itself stays
//! generic and typed.

mod error;

use crate::cli::{CollectArgs, CommonArgs, ConnectionArgs};
use crate::collect::http::{ClientOptions, ReadOnlyClient};
use crate::judge::report;
use crate::judge::ruleset::RuleSet;
use crate::model::facts::Connection;
use crate::model::facts::{Bundle, bundle};
use crate::model::report::v1;
use crate::model::upgrade::Mode;
use crate::output::file::Destination;
use crate::product::{Entry, ForProduct, LiveSource, OperatorFacts as _, PlanContext, Product};
use crate::{judge::engine, output};
use clap::{ArgMatches, FromArgMatches};
pub use error::Error;
use futures::future::LocalBoxFuture;

/// A fleet target's product arguments (its product's `Product::Args`), filled from its
/// inventory entry; the registry's [`ForProduct`] hands each product back its own type.
pub(crate) type TargetArgs = Box<dyn std::any::Any + Send + Sync>;

/// One fleet target to run: its product's arguments, and what the fleet loaded once for
/// every target.
pub(crate) struct TargetJob<'a> {
    pub(crate) mode: Mode,
    /// The target's product arguments (`es`, `to`, …), as [`TargetArgs`].
    pub(crate) args: &'a (dyn std::any::Any + Send + Sync),
    /// The fleet's common flags, `facts` set to this target's bundle for an offline run.
    pub(crate) common: &'a CommonArgs,
    pub(crate) connection: &'a ConnectionArgs,
    pub(crate) rules: &'a RuleSet,
    pub(crate) waivers: &'a [crate::judge::waivers::Waiver],
    /// The inventory name, set as the report's `target.name`.
    pub(crate) name: &'a str,
    /// Keep the facts bundle (`--bundles DIR`).
    pub(crate) keep_bundle: bool,
}

/// What one fleet target's run gave: its report or why there is none, and its facts bundle
/// when asked for and collected (also when nothing could be collected: it says why).
#[derive(Debug)]
pub(crate) struct TargetRun {
    pub(crate) report: Result<v1::Report, Error>,
    pub(crate) bundle: Option<String>,
}

/// A collected bundle, ready to be written.
#[derive(Debug)]
pub struct Collected {
    /// The bundle as pretty JSON.
    pub text: String,
    pub requests: usize,
    pub failures: usize,
    /// Why nothing at all could be collected, if so: the bundle is written, then the run
    /// ends with this (exit 2).
    pub nothing: Option<Error>,
}

/// `preflight` or `rollback` of `product` from its flags: the report, and where it goes
/// (checked, temporary files made, before collecting).
pub(crate) async fn report(
    mode: Mode,
    product: &'static dyn Entry,
    matches: &ArgMatches,
) -> Result<Evaluated, Error> {
    let common: CommonArgs = parse(matches)?;
    let connection: ConnectionArgs = parse(matches)?;
    let outputs = output::Outputs::prepare_wanted(common.report.wanted())?;
    let report = product
        .with(Evaluate {
            mode,
            matches,
            common: &common,
            connection: &connection,
        })
        .await?;
    Ok(Evaluated {
        report: Box::new(report),
        outputs,
        exit_zero: common.report.exit_zero,
    })
}

/// A report ready to be written.
#[derive(Debug)]
pub struct Evaluated {
    pub report: Box<v1::Report>,
    /// Where it goes: checked (temporary files made) before collecting.
    pub outputs: output::Outputs,
    /// `--exit-zero`: the process exits 0 for a verdict of 1 or 3.
    pub exit_zero: bool,
}

/// `collect` of `product` from its flags: the bundle and where it goes (checked, and a
/// temporary file made there, before collecting).
pub(crate) async fn collect(
    product: &'static dyn Entry,
    matches: &ArgMatches,
) -> Result<(Collected, Destination), Error> {
    let args: CollectArgs = parse(matches)?;
    let now = args.now.unwrap_or_else(jiff::Timestamp::now);
    // Before collecting: a collection must not end in "cannot write".
    let destination = Destination::prepare(&args.output, args.force, "--output")?;
    let collected = product
        .with(CollectBundle {
            matches,
            connection: &args.connection,
            now,
        })
        .await?;
    Ok((collected, destination))
}

fn parse<T: FromArgMatches>(matches: &ArgMatches) -> Result<T, Error> {
    T::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string(), None))
}

fn product_args<P: Product>(matches: &ArgMatches) -> Result<P::Args, Error> {
    parse(matches)
}

/// A fleet target's arguments as its product's own type.
fn target_args<P: Product>(args: &(dyn std::any::Any + Send + Sync)) -> Result<&P::Args, Error> {
    args.downcast_ref::<P::Args>().ok_or_else(|| {
        Error::usage(
            format!(
                "internal: a {} target holds another product's arguments",
                P::NAME
            ),
            None,
        )
    })
}

/// `preflight` or `rollback` of one product, from its flags.
struct Evaluate<'a> {
    mode: Mode,
    matches: &'a ArgMatches,
    common: &'a CommonArgs,
    connection: &'a ConnectionArgs,
}

impl<'a> ForProduct for Evaluate<'a> {
    type Output = LocalBoxFuture<'a, Result<v1::Report, Error>>;

    fn call<P: Product>(self) -> Self::Output {
        Box::pin(async move {
            let args = product_args::<P>(self.matches)?;
            evaluate::<P>(self.mode, &args, self.common, self.connection).await
        })
    }
}

/// Checks a fleet target's arguments (filled from its inventory entry) as `preflight` or
/// `rollback` would before collecting: a bad URL or version must fail the inventory, not the
/// night's run.
pub(crate) fn check_target(
    product: &dyn Entry,
    mode: Mode,
    args: &(dyn std::any::Any + Send + Sync),
    offline: bool,
) -> Result<(), Error> {
    product.with(CheckTarget {
        mode,
        args,
        offline,
    })
}

struct CheckTarget<'a> {
    mode: Mode,
    args: &'a (dyn std::any::Any + Send + Sync),
    offline: bool,
}

impl ForProduct for CheckTarget<'_> {
    type Output = Result<(), Error>;

    fn call<P: Product>(self) -> Self::Output {
        let args = target_args::<P>(self.args)?;
        let mut flags = P::operator(args);
        check_versions::<P>(&mut flags)?;
        if !self.offline {
            P::live_source(args).map_err(Error::from)?;
        }
        if self.mode == Mode::Preflight && flags.declared().to.is_none() {
            return Err(missing_to::<P>());
        }
        Ok(())
    }
}

/// Runs one fleet target (`preflight` or `rollback`) with the fleet's rules and waivers.
pub(crate) fn run_target<'a>(
    product: &dyn Entry,
    job: TargetJob<'a>,
) -> LocalBoxFuture<'a, TargetRun> {
    product.with(RunTarget(job))
}

struct RunTarget<'a>(TargetJob<'a>);

impl<'a> ForProduct for RunTarget<'a> {
    type Output = LocalBoxFuture<'a, TargetRun>;

    fn call<P: Product>(self) -> Self::Output {
        let job = self.0;
        Box::pin(async move {
            let mut bundle = None;
            let report = async {
                let args = target_args::<P>(job.args)?;
                let mut flags = P::operator(args);
                check_versions::<P>(&mut flags)?;
                judge::<P>(
                    Judge {
                        mode: job.mode,
                        args,
                        flags,
                        common: job.common,
                        connection: job.connection,
                        rules: job.rules,
                        waivers: job.waivers,
                        name: Some(job.name),
                    },
                    job.keep_bundle.then_some(&mut bundle),
                )
                .await
            }
            .await;
            TargetRun { report, bundle }
        })
    }
}

/// `collect` of one product: the bundle's text.
struct CollectBundle<'a> {
    matches: &'a ArgMatches,
    connection: &'a ConnectionArgs,
    now: jiff::Timestamp,
}

impl<'a> ForProduct for CollectBundle<'a> {
    type Output = LocalBoxFuture<'a, Result<Collected, Error>>;

    fn call<P: Product>(self) -> Self::Output {
        Box::pin(async move {
            let args = product_args::<P>(self.matches)?;
            let mut operator = P::operator(&args);
            check_versions::<P>(&mut operator)?;
            let source = P::live_source(&args).map_err(Error::from)?;
            let bundle = gather::<P>(source, &args, self.connection, operator, self.now).await?;
            Ok(Collected {
                // Written all the same: the failures it records are what a ticket needs.
                nothing: check_something_collected(&bundle).err(),
                text: bundle::to_text(&bundle),
                requests: bundle.requests.len(),
                failures: bundle.failures.len(),
            })
        })
    }
}

/// `--from`/`--to` must each name one release (they end up in package names and image tags),
/// and are normalised (`v8.17.3` → `8.17.3`): a typo must not cost a full collection.
fn check_versions<P: Product>(operator: &mut P::Operator) -> Result<(), Error> {
    for (flag, value) in operator.declared_mut() {
        if let Some(v) = value.as_mut() {
            *v = crate::base::version::release(v).map_err(|why| {
                Error::usage(
                    format!("{flag} {why}"),
                    Some(&format!("e.g. {flag} {}", P::VERSION_EXAMPLE)),
                )
            })?;
        }
    }
    Ok(())
}

fn missing_to<P: Product>() -> Error {
    Error::usage(
        "preflight needs the target version: --to VERSION",
        Some(&format!("e.g. --to {}", P::VERSION_EXAMPLE)),
    )
}

/// The read-only client for the connection flags, warning loudly about `--insecure`. The
/// credential variables are checked here, before anything is sent: one that cannot travel in
/// a header must stop the run, not be dropped.
fn client(connection: &ConnectionArgs) -> Result<ReadOnlyClient, Error> {
    crate::base::secrets::check_environment().map_err(|bad| {
        Error::usage(
            format!("{} {}", bad.variable, bad.why),
            Some("set it to the credential alone (a trailing line break is dropped for you)"),
        )
    })?;
    if connection.insecure {
        tracing::warn!(
            "--insecure: TLS certificates are NOT verified; anyone on the path can read the credentials. Prefer --ca-cert."
        );
    }
    Ok(ReadOnlyClient::new(ClientOptions {
        timeout: std::time::Duration::from_secs(connection.timeout),
        deadline: std::time::Duration::from_secs(connection.deadline),
        ca_cert: connection.ca_cert.clone(),
        insecure: connection.insecure,
        verbose: connection.verbose,
    })?)
}

/// Says, once per run, which secrets are too short to be redacted as they are.
fn warn_short_secrets() {
    for variable in crate::base::secrets::short_secrets() {
        tracing::warn!(
            "{variable} is shorter than {} characters: ripcord cannot tell it from ordinary words (a host, a package, a feature), so it is redacted only in its encoded forms, not where a server echoes it as it is; use a longer secret",
            crate::base::secrets::SHORTEST_REDACTED
        );
    }
}

/// The bundle with every configured secret removed from what came from outside (server
/// answers, failures and their hints, the request log, recorded URLs and flags): the one
/// redaction boundary, before anything is derived, so ripcord's own text is never rewritten.
fn redacted<P: Product>(mut bundle: Bundle<P>) -> Bundle<P> {
    let redactor = crate::base::secrets::Redactor::from_env();
    if redactor.is_empty() {
        return bundle;
    }
    bundle.target = redactor.redact_serde(bundle.target);
    bundle.connection = redactor.redact_serde(bundle.connection);
    bundle.operator = redactor.redact_serde(bundle.operator);
    bundle.facts = redactor.redact_serde(bundle.facts);
    bundle.failures = redactor.redact_serde(bundle.failures);
    bundle.requests = redactor.redact_serde(bundle.requests);
    bundle
}

/// The facts of a live source: collected from the target, with the spinner on stderr while it
/// lasts, or the operator's flags alone.
async fn gather<P: Product>(
    source: LiveSource,
    args: &P::Args,
    connection: &ConnectionArgs,
    operator: P::Operator,
    now: jiff::Timestamp,
) -> Result<Bundle<P>, Error> {
    warn_short_secrets();
    match source {
        LiveSource::Live => {
            let client = client(connection)?;
            let _spinner =
                output::progress::collecting(connection.no_progress || connection.verbose);
            let mut bundle = redacted(P::collect(&client, args, operator, now).await);
            let recorded = bundle.connection.get_or_insert_with(Default::default);
            // Absolute, so the plan's `--cacert` works from wherever the bundle is evaluated.
            recorded.ca_cert = connection.ca_cert.as_ref().map(|p| {
                std::path::absolute(p)
                    .unwrap_or_else(|_| p.clone())
                    .display()
                    .to_string()
            });
            recorded.insecure = connection.insecure;
            Ok(bundle)
        }
        LiveSource::Flags => {
            let mut bundle = Bundle::<P>::new(now);
            bundle.operator = operator;
            Ok(bundle)
        }
    }
}

/// The facts of an evaluating command: the bundle given with `--facts` (flags given now win
/// over what it recorded), or a live collection (the flags recorded as operator facts, so
/// evaluating the bundle later gives the same findings, sources included).
async fn facts<P: Product>(
    mode: Mode,
    args: &P::Args,
    flags: P::Operator,
    common: &CommonArgs,
    connection: &ConnectionArgs,
    fleet: bool,
) -> Result<(Bundle<P>, &'static str), Error> {
    match &common.facts {
        Some(path) => {
            // A fleet's `--facts DIR` judges each target's bundle; its inventory URLs are
            // where the bundle came from, not a second source.
            if P::has_target(args) && !fleet {
                return Err(Error::usage(
                    format!("give either --facts or {}, not both", P::TARGET_FLAGS),
                    None,
                ));
            }
            warn_short_secrets();
            let mut bundle = redacted(bundle::read::<P>(path)?);
            bundle.operator.merge(flags);
            // A bundle written by hand (or by another tool) may record what no flag accepts.
            check_versions::<P>(&mut bundle.operator).map_err(|e| match e {
                Error::Usage(u) => Error::usage(
                    format!("{}: the recorded {}", path.display(), u.message),
                    u.help.as_deref(),
                ),
                other => other,
            })?;
            Ok((bundle, "facts"))
        }
        None => {
            let source = P::live_source(args).map_err(Error::from)?;
            // Before collecting: the same check after reading a bundle (in `evaluate`) would
            // come only after a whole collection.
            if mode == Mode::Preflight && flags.declared().to.is_none() {
                return Err(missing_to::<P>());
            }
            let now = common.now.unwrap_or_else(jiff::Timestamp::now);
            let bundle = gather::<P>(source, args, connection, flags, now).await?;
            Ok((bundle, source.as_str()))
        }
    }
}

/// Stops the run (exit 2) when requests were sent and every one failed with no answer (DNS,
/// connection, TLS, timeout) or a refusal to authenticate or authorise: there is nothing to
/// judge, and a report of every rule `unknown` would bury the one thing to fix. Said in one
/// line, by root cause. A request that tells something without an answer (a Kibana that
/// refuses connections is stopped) is no failure, so it counts as collected.
fn check_something_collected<P: Product>(bundle: &Bundle<P>) -> Result<(), Error> {
    let useless = |status: Option<u16>| status.is_none_or(|s| matches!(s, 401 | 403 | 407));
    // Judged by the request log, not by the failures: one failure may stand for several
    // requests (a listing and its fallback), and a refused connection is no answer whatever
    // it is recorded as.
    if bundle.requests.is_empty()
        || P::flags_are_facts(bundle)
        || !bundle.requests.iter().all(|r| useless(r.status))
    {
        return Ok(());
    }
    let causes = crate::model::causes::group(
        bundle
            .failures
            .iter()
            .map(|f| (f.endpoint.as_str(), f.reason.as_str(), f.hint.as_deref())),
    );
    let cause = causes
        .iter()
        .take(3)
        .map(|c| format!("{}, on {}", c.reason, c.requests()))
        .collect::<Vec<_>>()
        .join("; ");
    let target = P::endpoints(bundle)
        .values()
        .flat_map(|v| match v {
            serde_json::Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        })
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect::<Vec<_>>()
        .join(", ");
    Err(Error::NothingCollected {
        target: if target.is_empty() {
            P::NAME.to_string()
        } else {
            target
        },
        cause: if cause.is_empty() {
            format!("{} requests, none answered", bundle.requests.len())
        } else {
            cause
        },
        help: causes.first().and_then(|c| c.hint.clone()),
    })
}

/// Screens the facts (DESIGN §7): the product's own checks, and the variable names a bundle
/// records for the plan's curl commands. Refused facts join the bundle's failures and are
/// returned; a refused recorded value is a usage error naming the bundle.
fn screen<P: Product>(
    bundle: &mut Bundle<P>,
    common: &CommonArgs,
    insecure_now: bool,
) -> Result<(Vec<crate::model::facts::CollectFailure>, Vec<String>), Error> {
    let in_bundle = |message: String| match &common.facts {
        Some(path) => format!("{}: {message}", path.display()),
        None => message,
    };
    let mut warnings = Vec::new();
    if let Some(connection) = &mut bundle.connection {
        for (service, used) in &connection.auth {
            if let Some(bad) = used
                .variables
                .iter()
                .find(|v| !crate::model::plan::shell::is_variable_name(v))
            {
                return Err(Error::usage(
                    in_bundle(format!(
                        "the recorded credential variable of {service} {bad:?} is not a variable name"
                    )),
                    None,
                ));
            }
        }
        // Only ripcord's own credential variables (or this fleet target's) reach the plan.
        connection.auth.retain(|service, used| {
            let foreign: Vec<&String> = used
                .variables
                .iter()
                .filter(|v| !crate::base::secrets::recordable(service, v))
                .collect();
            if foreign.is_empty() {
                return true;
            }
            warnings.push(format!(
                "the facts name {} as the {service} credential, which is not one of ripcord's variables for it: the plan's commands carry no {service} credentials (add them yourself)",
                foreign.iter().map(|v| format!("${v}")).collect::<Vec<_>>().join(" and ")
            ));
            false
        });
        // A bundle's --insecure is carried into the plan's commands (-k) only when this run
        // says --insecure too: a bundle must not turn TLS verification off by itself.
        if common.facts.is_some() && connection.insecure && !insecure_now {
            connection.insecure = false;
            warnings.push("the facts were collected with --insecure: the plan's commands verify TLS all the same (pass --insecure to this run to add -k to them)".into());
        }
    }
    let refused = P::screen(bundle)
        .map_err(|usage| Error::usage(in_bundle(usage.message), usage.help.as_deref()))?;
    bundle.failures.extend(refused.iter().cloned());
    Ok((refused, warnings))
}

/// `preflight` or `rollback` of product `P`, from flags to report. Arguments are checked
/// first, then the rules, then the facts: a typo must not cost a collection.
pub(crate) async fn evaluate<P: Product>(
    mode: Mode,
    args: &P::Args,
    common: &CommonArgs,
    connection: &ConnectionArgs,
) -> Result<v1::Report, Error> {
    let mut flags = P::operator(args);
    check_versions::<P>(&mut flags)?;
    let rules = load_rules(common.rules.as_deref())?;
    let waivers = match &common.waivers {
        Some(path) => crate::judge::waivers::load(path, &rules)?,
        None => Vec::new(),
    };
    judge::<P>(
        Judge {
            mode,
            args,
            flags,
            common,
            connection,
            rules: &rules,
            waivers: &waivers,
            name: None,
        },
        None,
    )
    .await
}

/// One evaluation's inputs, its flags checked and its rules and waivers loaded.
struct Judge<'a, P: Product> {
    mode: Mode,
    args: &'a P::Args,
    flags: P::Operator,
    common: &'a CommonArgs,
    connection: &'a ConnectionArgs,
    rules: &'a RuleSet,
    waivers: &'a [crate::judge::waivers::Waiver],
    /// A fleet target's inventory name.
    name: Option<&'a str>,
}

/// Facts → derive → rules → plan → report, for one target. `keep_bundle` receives the facts
/// bundle's text as soon as it is gathered live (before the checks that may end the run).
async fn judge<P: Product>(
    job: Judge<'_, P>,
    keep_bundle: Option<&mut Option<String>>,
) -> Result<v1::Report, Error> {
    let Judge {
        mode,
        args,
        flags,
        common,
        connection,
        rules,
        waivers,
        name,
    } = job;
    let (mut bundle, source_kind) =
        facts::<P>(mode, args, flags, common, connection, name.is_some()).await?;
    if let Some(keep) = keep_bundle
        && source_kind == LiveSource::Live.as_str()
    {
        *keep = Some(bundle::to_text(&bundle));
    }
    check_something_collected(&bundle)?;
    // A bundle may have recorded `--to` at collection; the flags merged into it may add it.
    if mode == Mode::Preflight && bundle.operator.declared().to.is_none() {
        return Err(missing_to::<P>());
    }
    // Before derive: no value that fails what it names reaches a rule's judgement or a plan.
    let (refused, warnings) = screen::<P>(&mut bundle, common, connection.insecure)?;
    let derived = P::derive(&bundle, mode);
    let mut availability = P::availability(&bundle, &derived);
    for failure in &refused {
        if let Some(known) = availability.groups.get_mut(failure.group.as_str()) {
            *known = false;
        }
    }
    let findings = engine::evaluate(
        rules.for_product(P::NAME),
        mode,
        &P::inputs(&bundle, &derived),
        &availability,
        &bundle.failures,
    );
    // The plan authenticates and verifies TLS the way the collection did; a bundle that does
    // not record it (older ripcord, flags only) gets this run's TLS flags and no auth method.
    let context = PlanContext {
        connection: bundle.connection.clone().unwrap_or_else(|| Connection {
            // Absolute: the plan's commands run wherever the operator is, not where ripcord ran.
            ca_cert: connection.ca_cert.as_ref().map(|p| {
                std::path::absolute(p)
                    .unwrap_or_else(|_| p.clone())
                    .display()
                    .to_string()
            }),
            insecure: connection.insecure,
            ..Connection::default()
        }),
        recorded: bundle.connection.is_some(),
    };
    let plan = P::plan(&bundle, &derived, &context);
    let mut target = P::target(&bundle, &derived);
    target.name = name.map(str::to_string);
    Ok(report::assemble(report::Parts {
        product: P::NAME,
        mode,
        target,
        upgrade: P::upgrade(&derived),
        findings,
        plan,
        source: v1::Source {
            kind: source_kind.into(),
            collected_at: bundle.collected_at,
            facts_file: common.facts.as_ref().map(|p| p.display().to_string()),
            // Set when the report is assembled, from `generated_at`.
            age_seconds: 0,
            endpoints: P::endpoints(&bundle),
        },
        failures: &bundle.failures,
        warnings,
        fail_on: common.fail_on,
        snapshot: P::rollback_snapshot(&bundle, &derived),
        waivers,
        generated_at: common.now.unwrap_or_else(jiff::Timestamp::now),
    }))
}

/// Loads the built-in rules and `extra`'s, each checked against its product's input schema.
///
/// On a thread with a roomy stack: the CEL parser recurses per nesting level, with large
/// frames in a debug build, and this may run on a caller's small thread (a test's).
pub(crate) fn load_rules(extra: Option<&std::path::Path>) -> Result<RuleSet, Error> {
    let schemas = crate::product::REGISTRY
        .iter()
        .map(|p| (p.name().to_string(), p.input_schema()))
        .collect();
    let load = || crate::judge::ruleset::load::load(extra, &schemas);
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .stack_size(LOAD_STACK_BYTES)
            .spawn_scoped(scope, load)
        {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => load(),
        }
    })
    .map_err(Error::from)
}

/// The stack of the rule-loading thread.
const LOAD_STACK_BYTES: usize = 64 * 1024 * 1024;
