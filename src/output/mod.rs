//! Renderers and the terminal: the only code that writes to stdout or stderr (besides
//! `main`). Reports render from the `ripcord.report/v1` contract types.

pub mod diagnostics;
pub mod file;
mod fleet;
mod html;
mod json;
mod junit;
pub mod log;
mod markdown;
mod outputs;
pub(crate) mod progress;
mod prometheus;
pub(crate) mod rules;
mod runbook;
mod table;
pub(crate) mod text;

use crate::model::report::v1::{CollectionFailure, Outcome, Report, Request, Severity, Verdict};
use file::Destination;
pub(crate) use outputs::ColorChoice;
pub(crate) use outputs::Wanted;
pub use outputs::{Outputs, ReportFile};
use std::io::Write;

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Markdown,
    Junit,
    /// The plan as a bash script that checks every step (DESIGN §8).
    Runbook,
}

/// Output format of a fleet report: the single-target formats, plus a self-contained HTML page
/// and a Prometheus textfile for node_exporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FleetFormat {
    #[default]
    Table,
    Json,
    Markdown,
    Junit,
    Html,
    Prometheus,
}

impl crate::base::named::Named for Format {
    const ALL: &'static [Self] = &[
        Self::Table,
        Self::Json,
        Self::Markdown,
        Self::Junit,
        Self::Runbook,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Json => "json",
            Self::Markdown => "markdown",
            Self::Junit => "junit",
            Self::Runbook => "runbook",
        }
    }
}

impl crate::base::named::Named for FleetFormat {
    const ALL: &'static [Self] = &[
        Self::Table,
        Self::Json,
        Self::Markdown,
        Self::Junit,
        Self::Html,
        Self::Prometheus,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Json => "json",
            Self::Markdown => "markdown",
            Self::Junit => "junit",
            Self::Html => "html",
            Self::Prometheus => "prometheus",
        }
    }
}

/// How a report looks where it is written: colour and width matter only to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// ANSI colours for outcomes and the verdict.
    pub color: bool,
    /// The table's width in columns.
    pub width: u16,
    /// List `skip` findings instead of folding them into a count (table, Markdown).
    pub show_skipped: bool,
}

/// Renders `report` in `format`, made safe to show first (see [`text`]): control characters
/// escaped, long server strings cut. Secrets were removed where the facts came in (the
/// pipeline's one redaction boundary), so ripcord's own text is written as composed.
pub(crate) fn render(report: &Report, format: Format, look: &Look) -> String {
    match format {
        Format::Json => json::render(&text::for_json(report)),
        Format::Table => table::render(&text::for_display(report), look),
        Format::Markdown => markdown::render(&text::for_display(report), look),
        Format::Junit => junit::render(&text::for_display(report)),
        // Commands whole; every other string reaches the script as one quoted word.
        Format::Runbook => runbook::render(&text::for_json(report)),
    }
}

/// Writes the report to every destination of the run; the report's own warnings (stale facts,
/// expired waivers) go to stderr too, where a CI log shows them whatever the format.
pub(crate) fn write_report(report: &Report, outputs: Outputs) -> Result<(), Error> {
    for warning in &report.warnings {
        tracing::warn!("{}", warning);
    }
    outputs.write(report)
}

/// How many warnings about a fleet's targets stderr shows.
const FLEET_WARNINGS_SHOWN: usize = 20;

/// Writes a fleet report to every destination; its warnings, and every target's, go to
/// stderr.
pub(crate) fn write_fleet(
    report: &crate::model::report::fleet_v1::FleetReport,
    outputs: Outputs<FleetFormat>,
) -> Result<(), Error> {
    for warning in &report.warnings {
        tracing::warn!("{}", warning);
    }
    // A thousand targets' stale-facts warnings would bury the log: the first few, then a count.
    let warnings: Vec<String> = report
        .targets
        .iter()
        .flat_map(|t| {
            t.report
                .iter()
                .flat_map(|r| &r.warnings)
                .map(move |w| format!("{}: {w}", t.name))
        })
        .collect();
    for warning in warnings.iter().take(FLEET_WARNINGS_SHOWN) {
        tracing::warn!("{}", warning);
    }
    if warnings.len() > FLEET_WARNINGS_SHOWN {
        tracing::warn!(
            "and {} more warnings about targets: each target's report lists its own",
            warnings.len() - FLEET_WARNINGS_SHOWN
        );
    }
    outputs.write_with(|format, look| fleet::render(report, format, look))
}

/// Writes a collected bundle to its destination (checked before collecting) and says so on
/// stderr. Secrets a server echoed into the facts are redacted there, like everywhere else.
pub(crate) fn write_bundle(
    destination: Destination,
    text: &str,
    requests: usize,
    failures: usize,
) -> Result<(), Error> {
    let shown = destination.path().map(|p| p.display().to_string());
    destination.write(text)?;
    if let Some(path) = shown {
        tracing::info!("wrote {path} ({requests} requests, {failures} could not be collected)");
    }
    Ok(())
}

/// Why output could not be written: a destination refused before anything ran (it exists,
/// it is a folder, two outputs claim it), or the write itself failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum OutputError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Usage(#[from] crate::base::usage::Usage),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Write(#[from] crate::model::facts::bundle::BundleError),
    #[error("cannot write output")]
    #[diagnostic(code(ripcord::io))]
    Io(#[from] std::io::Error),
}

impl OutputError {
    pub(crate) fn usage(message: impl Into<String>, help: Option<&str>) -> Self {
        Self::Usage(crate::base::usage::Usage::new(message, help))
    }
}

/// What this module's functions return when they fail.
type Error = OutputError;

/// Writes text to stdout; a closed pipe (`| head`) is not an error. What it writes was made
/// from facts redacted where they came in (or is an error document, redacted as it is made).
pub(crate) fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// A finding's outcome as the tables show it: a failure says how much it matters — `FAIL`
/// for a blocker, `WARN` for a warning, `NOTE` for information — so a failed `info` rule does
/// not read as something broken.
fn finding_label(f: &crate::model::report::v1::Finding) -> &'static str {
    match (f.outcome, f.severity) {
        (Outcome::Fail, Severity::Warning) => "WARN",
        (Outcome::Fail, Severity::Info) => "NOTE",
        (o, _) => outcome_label(o),
    }
}

/// `pass`/`fail`/… in upper case for tables.
fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
        Outcome::Skip => "SKIP",
        Outcome::Unknown => "UNKNOWN",
        Outcome::Error => "ERROR",
        Outcome::Waived => "WAIVED",
    }
}

/// A finding's message as the text formats show it: a waived one says by whom, why and until
/// when, so an exception is never silent.
fn finding_message(f: &crate::model::report::v1::Finding) -> String {
    match &f.waived_by {
        Some(w) => format!(
            "{} — waived until {} by {}: {}",
            f.message, w.expires, w.owner, w.reason
        ),
        None => f.message.clone(),
    }
}

/// One summary line shared by the text formats: in rollback mode the answer to "can I get
/// back?" (the plan's, as the headline under it says), in preflight the verdict; then the
/// exit code, the counts by severity, and the upgrade in the direction the plan title uses
/// ("rollback from 8.18.0 back to 8.17.3").
fn summary_line(r: &Report, color: bool) -> String {
    use crate::model::report::v1::RollbackAnswer;
    let (verdict, style) = match (r.rollback, r.verdict) {
        (Some(answer), _) => (
            answer.label(),
            match answer {
                RollbackAnswer::Possible | RollbackAnswer::NothingToRollBack => green(),
                RollbackAnswer::MayBePossible | RollbackAnswer::CannotTell => yellow(),
                RollbackAnswer::NoWayBack => red(),
            },
        ),
        (None, Verdict::Ready) => ("READY", green()),
        (None, Verdict::NotReady) => ("NOT READY", red()),
        (None, Verdict::Incomplete) => ("INCOMPLETE", yellow()),
        (None, Verdict::NothingToRollBack) => ("NOTHING TO ROLL BACK", green()),
    };
    let verdict = paint(verdict, color, style.bold());
    let from = r.upgrade.from.as_deref().unwrap_or("?");
    let to = r.upgrade.to.as_deref().unwrap_or("?");
    let direction = if r.mode == "rollback" {
        format!("from {to} back to {from}")
    } else {
        format!("from {from} to {to}")
    };
    format!(
        "{verdict} (exit {}): {} — {} {} {direction}",
        r.exit_code,
        counts(r),
        r.product,
        r.mode,
    )
}

/// `failed: 2 warnings, 1 info; unknown: 1 blocker; 4 passed, 5 skipped`: what did not pass,
/// by how much it matters, then the rest.
fn counts(r: &Report) -> String {
    let by_severity = |outcome: Outcome| -> Option<String> {
        let parts: Vec<String> = [
            (Severity::Blocker, "blocker", "blockers"),
            (Severity::Warning, "warning", "warnings"),
            (Severity::Info, "info", "info"),
        ]
        .iter()
        .filter_map(|(severity, one, many)| {
            let n = r
                .findings
                .iter()
                .filter(|f| f.outcome == outcome && f.severity == *severity)
                .count();
            (n > 0).then(|| format!("{n} {}", if n == 1 { one } else { many }))
        })
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    };
    let mut out: Vec<String> = [
        (Outcome::Fail, "failed"),
        (Outcome::Unknown, "unknown"),
        (Outcome::Error, "errors"),
        (Outcome::Waived, "waived"),
    ]
    .into_iter()
    .filter_map(|(outcome, word)| by_severity(outcome).map(|s| format!("{word}: {s}")))
    .collect();
    out.push(format!(
        "{} passed, {} skipped",
        r.summary.pass, r.summary.skip
    ));
    out.join("; ")
}

/// The system judged, in words: `Elasticsearch cluster logs-prod (uuid …), 2 Kibana
/// instances`, `GHES ghe.example.com`.
fn target_line(r: &Report) -> String {
    match &r.target.name {
        Some(name) => format!("{name}: {}", system_line(r)),
        None => system_line(r),
    }
}

/// The system itself, without its fleet name.
fn system_line(r: &Report) -> String {
    let t = &r.target;
    if let Some(host) = &t.ghes_primary {
        return format!("GHES {host}");
    }
    let endpoint = |key: &str| r.source.endpoints.get(key).and_then(|v| v.as_str());
    let mut line = match (&t.cluster_name, &t.cluster_uuid) {
        (Some(name), Some(uuid)) => format!("Elasticsearch cluster {name} ({uuid})"),
        (Some(name), None) => format!("Elasticsearch cluster {name}"),
        (None, _) => match endpoint("elasticsearch").or_else(|| endpoint("ghes")) {
            Some(url) => format!("{} at {url}", product_name(&r.product)),
            None => product_name(&r.product).to_string(),
        },
    };
    match t.kibana.len() {
        0 => {}
        1 => line.push_str(&format!(", Kibana {}", t.kibana[0])),
        n => line.push_str(&format!(", {n} Kibana instances")),
    }
    line
}

fn product_name(product: &str) -> &str {
    match product {
        "elastic" => "Elasticsearch",
        "ghes" => "GHES",
        other => other,
    }
}

/// `as of 2026-11-20T12:00Z (37 h before this report), live`: when the facts were collected.
fn as_of_line(r: &Report) -> String {
    let age = crate::model::report::age_text(r.source.age_seconds);
    let how = match r.source.kind.as_str() {
        "live" => "collected live".to_string(),
        "facts" => match &r.source.facts_file {
            Some(file) => format!("from {file}"),
            None => "from a bundle".to_string(),
        },
        other => other.to_string(),
    };
    format!(
        "as of {} ({age} before this report), {how}",
        crate::model::report::as_of(r.source.collected_at)
    )
}

/// The plan's headline and the facts it rests on, shown right under the verdict in rollback
/// mode (the line an on-call engineer reads first).
fn headline(r: &Report) -> Option<(&str, &[String])> {
    (r.mode == "rollback" && !r.plan.headline.is_empty())
        .then_some((r.plan.headline.as_str(), r.plan.basis.as_slice()))
}

/// `METHOD path body` of a plan step's request, shared by the text formats.
fn request_line(req: &Request) -> String {
    if req.body.is_null() {
        format!("{} {}", req.method, req.path)
    } else {
        format!("{} {} {}", req.method, req.path, req.body)
    }
}

/// Writes one prose line — a verdict, a title, a warning, a message; never a command —
/// wrapped to `width` with a hanging indent: the first line opens with `first`, the others
/// with `rest`. Words are not split at hyphens (snapshot names, versions); only a word longer
/// than the line is broken. Without a width (JUnit's `<system-out>`), one line.
fn prose(out: &mut String, width: Option<u16>, first: &str, rest: &str, text: &str) {
    use std::fmt::Write as _;
    match width {
        Some(width) => {
            let options = textwrap::Options::new(usize::from(width).max(20))
                .initial_indent(first)
                .subsequent_indent(rest)
                .word_separator(textwrap::WordSeparator::AsciiSpace)
                .word_splitter(textwrap::WordSplitter::NoHyphenation);
            for line in textwrap::wrap(text, options) {
                let _ = writeln!(out, "{}", line.trim_end());
            }
        }
        None => {
            let _ = writeln!(out, "{first}{text}");
        }
    }
}

/// The opening of the plain-text formats (table, JUnit's `<system-out>`): the verdict, the
/// target and the facts' age, the report's warnings, then (rollback) the headline and its basis,
/// each wrapped to `width` when there is one.
fn write_preamble(out: &mut String, r: &Report, color: bool, width: Option<u16>) {
    prose(out, width, "", "  ", &summary_line(r, color));
    prose(
        out,
        width,
        "",
        "  ",
        &format!("{} · {}", target_line(r), as_of_line(r)),
    );
    for w in &r.warnings {
        let mut lines = String::new();
        prose(&mut lines, width, "! ", "  ", w);
        for line in lines.lines() {
            use std::fmt::Write as _;
            let _ = writeln!(out, "{}", paint(line, color, yellow()));
        }
    }
    if let Some((line, basis)) = headline(r) {
        prose(out, width, "", "  ", line);
        for b in basis {
            prose(out, width, "  - ", "    ", b);
        }
        if let Some(loses) = &r.plan.loses {
            prose(out, width, "  - ", "    ", loses);
        }
    }
}

/// "Could not collect:" and one line per root cause, in the plain-text formats (JSON lists
/// every failure).
fn write_collection_failures(out: &mut String, r: &Report, width: Option<u16>) {
    use std::fmt::Write as _;
    if r.collection_failures.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nCould not collect:");
    for cause in root_causes(&r.collection_failures) {
        prose(
            out,
            width,
            "  - ",
            "    ",
            &format!("{}: {}", cause.requests(), cause_text(&cause)),
        );
    }
}

/// The failures grouped by root cause.
fn root_causes(failures: &[CollectionFailure]) -> Vec<crate::model::causes::Cause> {
    crate::model::causes::group(
        failures
            .iter()
            .map(|f| (f.endpoint.as_str(), f.reason.as_str(), f.hint.as_deref())),
    )
}

/// `reason — hint`.
fn cause_text(cause: &crate::model::causes::Cause) -> String {
    match &cause.hint {
        Some(h) => format!("{} — {h}", cause.reason),
        None => cause.reason.clone(),
    }
}

/// `text` in `style` when colouring, else as it is.
fn paint(text: &str, color: bool, style: anstyle::Style) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

fn fg(color: anstyle::AnsiColor) -> anstyle::Style {
    anstyle::Style::new().fg_color(Some(color.into()))
}

fn green() -> anstyle::Style {
    fg(anstyle::AnsiColor::Green)
}

fn red() -> anstyle::Style {
    fg(anstyle::AnsiColor::Red)
}

fn yellow() -> anstyle::Style {
    fg(anstyle::AnsiColor::Yellow)
}

fn dim() -> anstyle::Style {
    anstyle::Style::new().dimmed()
}

/// The line that stands for the `skip` rows left out of a table.
fn folded_skips(n: usize) -> String {
    let rules = if n == 1 { "rule" } else { "rules" };
    format!("{n} {rules} skipped (not applicable here); --show-skipped lists them")
}
