//! Renderers: the only code that writes the report to stdout.

mod json;
mod junit;
mod markdown;
mod table;

use crate::report::Report;
use std::io::Write;

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Markdown,
    Junit,
}

/// Renders `report` in `format` into a string.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Table => table::render(report),
        Format::Json => json::render(report),
        Format::Markdown => markdown::render(report),
        Format::Junit => junit::render(report),
    }
}

/// Writes the rendered report to stdout; a closed pipe (`| head`) is not an error.
pub fn print(report: &Report, format: Format) -> std::io::Result<()> {
    write_stdout(&render(report, format))
}

/// Writes text to stdout, ignoring a broken pipe.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `pass`/`fail`/… in upper case for tables.
fn outcome_label(o: crate::report::Outcome) -> &'static str {
    match o {
        crate::report::Outcome::Pass => "PASS",
        crate::report::Outcome::Fail => "FAIL",
        crate::report::Outcome::Skip => "SKIP",
        crate::report::Outcome::Unknown => "UNKNOWN",
        crate::report::Outcome::Error => "ERROR",
    }
}

/// One summary line shared by the text formats.
fn summary_line(r: &Report) -> String {
    let s = &r.summary;
    let verdict = match r.verdict {
        crate::report::Verdict::Ready => "READY",
        crate::report::Verdict::NotReady => "NOT READY",
        crate::report::Verdict::Incomplete => "INCOMPLETE",
    };
    format!(
        "{verdict} (exit {}): {} pass, {} fail, {} skip, {} unknown, {} error — {} {} {} → {}",
        r.exit_code,
        s.pass,
        s.fail,
        s.skip,
        s.unknown,
        s.error,
        r.product,
        r.mode,
        r.upgrade.from.as_deref().unwrap_or("?"),
        r.upgrade.to.as_deref().unwrap_or("?"),
    )
}

/// `METHOD path body` of a plan step's request, shared by the text formats.
fn request_line(req: &crate::plan::Request) -> String {
    if req.body.is_null() {
        format!("{} {}", req.method, req.path)
    } else {
        format!("{} {} {}", req.method, req.path, req.body)
    }
}

/// ` — hint` after a collection failure, or nothing.
fn hint_suffix(f: &crate::facts::CollectFailure) -> String {
    f.hint
        .as_deref()
        .map(|h| format!(" — {h}"))
        .unwrap_or_default()
}
