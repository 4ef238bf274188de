//! Renderers and the terminal: the only code that writes to stdout or stderr (besides
//! `main`). Reports render from the `ripcord.report/v1` contract types.

pub(crate) mod diagnostics;
mod json;
mod junit;
mod markdown;
pub(crate) mod progress;
pub(crate) mod rules;
mod table;

use crate::error::Error;
use crate::facts::bundle::BundleError;
use crate::pipeline::Collected;
use crate::report::v1::{CollectionFailure, Outcome, Report, Request, Verdict};
use std::io::Write;
use std::path::Path;

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Markdown,
    Junit,
}

/// Renders `report` in `format`.
pub(crate) fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Table => table::render(report),
        Format::Json => json::render(report),
        Format::Markdown => markdown::render(report),
        Format::Junit => junit::render(report),
    }
}

/// Writes the rendered report to stdout.
pub(crate) fn print_report(report: &Report, format: Format) -> Result<(), Error> {
    Ok(write_stdout(&render(report, format))?)
}

/// Writes a collected bundle to `output` (`-`: stdout) and says so on stderr.
pub(crate) fn write_bundle(output: &Path, collected: &Collected) -> Result<(), Error> {
    if output.as_os_str() == "-" {
        write_stdout(&collected.text)?;
        return Ok(());
    }
    std::fs::write(output, &collected.text).map_err(|source| BundleError::Write {
        path: output.display().to_string(),
        source,
    })?;
    diagnostics::note(&format!(
        "wrote {} ({} requests, {} could not be collected)",
        output.display(),
        collected.requests,
        collected.failures
    ));
    Ok(())
}

/// Writes text to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
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
    }
}

/// One summary line shared by the text formats: the verdict, the counts, and the upgrade in
/// the direction the plan title uses ("rollback from 8.18.0 back to 8.17.3").
fn summary_line(r: &Report) -> String {
    let s = &r.summary;
    let verdict = match r.verdict {
        Verdict::Ready => "READY",
        Verdict::NotReady => "NOT READY",
        Verdict::Incomplete => "INCOMPLETE",
        Verdict::NothingToRollBack => "NOTHING TO ROLL BACK",
    };
    let from = r.upgrade.from.as_deref().unwrap_or("?");
    let to = r.upgrade.to.as_deref().unwrap_or("?");
    let direction = if r.mode == "rollback" {
        format!("from {to} back to {from}")
    } else {
        format!("from {from} to {to}")
    };
    format!(
        "{verdict} (exit {}): {} pass, {} fail, {} skip, {} unknown, {} error — {} {} {direction}",
        r.exit_code, s.pass, s.fail, s.skip, s.unknown, s.error, r.product, r.mode,
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

/// ` — hint` after a collection failure, or nothing.
fn hint_suffix(f: &CollectionFailure) -> String {
    f.hint
        .as_deref()
        .map(|h| format!(" — {h}"))
        .unwrap_or_default()
}
