//! A fleet report in every format. The text formats read top-down the way the SRE does: what
//! changed since the baseline, then one line per target, then what fails where.

use super::{FleetFormat, Look, markdown, paint, text};
use crate::base::secrets::Redactor;
use crate::base::text::{cut, one_line};
use crate::model::report::fleet_v1::{ChangeKind, FleetReport, TargetResult, TargetVerdict};
use crate::model::report::v1::{Outcome, Report};
use comfy_table::{Cell, Color, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use std::fmt::Write as _;

/// Renders `report` in `format`, every string made safe first as the single-target formats
/// do (secrets redacted, control characters escaped, server strings cut).
pub(super) fn render(report: &FleetReport, format: FleetFormat, look: &Look) -> String {
    let json = format == FleetFormat::Json;
    let safe = safe(report, json);
    match format {
        FleetFormat::Json => {
            let mut text = serde_json::to_string_pretty(&safe)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            text.push('\n');
            text
        }
        FleetFormat::Table => table(&safe, look),
        FleetFormat::Markdown => markdown_report(&safe, look),
        FleetFormat::Junit => super::junit::render_fleet(&safe),
        FleetFormat::Html => super::html::render(&safe),
        FleetFormat::Prometheus => super::prometheus::render(&safe),
    }
}

/// The report with every target's report, error and change message made safe to show.
fn safe(report: &FleetReport, json: bool) -> FleetReport {
    let redactor = Redactor::from_env();
    let string = |s: &str| {
        let s = redactor.redact(s);
        if json {
            cut(&s, 4096)
        } else {
            one_line(&cut(&s, 1000))
        }
    };
    let mut safe = report.clone();
    for target in &mut safe.targets {
        if let Some(r) = &target.report {
            let r = if json {
                text::for_json(r)
            } else {
                text::for_display(r)
            };
            target.report = Some(Box::new(r));
        }
        target.error = target.error.as_deref().map(string);
        target.hint = target.hint.as_deref().map(string);
    }
    for change in &mut safe.changes {
        change.message = change.message.as_deref().map(string);
    }
    safe.warnings = safe.warnings.iter().map(|w| string(w)).collect();
    safe
}

/// `READY`, `NOT READY`, … as the text formats spell a verdict.
pub(super) fn verdict_label(v: TargetVerdict) -> &'static str {
    match v {
        TargetVerdict::Ready => "READY",
        TargetVerdict::NotReady => "NOT READY",
        TargetVerdict::Incomplete => "INCOMPLETE",
        TargetVerdict::NothingToRollBack => "NOTHING TO ROLL BACK",
        TargetVerdict::Error => "ERROR",
    }
}

fn verdict_color(v: TargetVerdict) -> Color {
    match v {
        TargetVerdict::Ready | TargetVerdict::NothingToRollBack => Color::Green,
        TargetVerdict::NotReady => Color::Red,
        TargetVerdict::Incomplete => Color::Yellow,
        TargetVerdict::Error => Color::Magenta,
    }
}

/// The fleet's verdict line: `NOT READY (exit 1): 35 targets — 30 ready, 2 not ready, …`.
pub(super) fn summary_line(r: &FleetReport) -> String {
    let s = &r.summary;
    let verdict = match r.exit_code {
        0 => "READY",
        1 => "NOT READY",
        _ => "INCOMPLETE",
    };
    let mut counts = vec![
        format!("{} ready", s.ready),
        format!("{} not ready", s.not_ready),
        format!("{} incomplete", s.incomplete),
        format!("{} error", s.error),
    ];
    if s.nothing_to_roll_back > 0 {
        counts.push(format!("{} nothing to roll back", s.nothing_to_roll_back));
    }
    format!(
        "{verdict} (exit {}): {} targets — {}",
        r.exit_code,
        s.targets,
        counts.join(", ")
    )
}

/// `ripcord fleet: fleet.toml, shard 3/8 (as of 2026-11-22T02:00Z)`.
pub(super) fn heading(r: &FleetReport) -> String {
    let shards = match &r.shards {
        Some(s) if s.covered.len() as u32 == s.count => format!(", {} shards merged", s.count),
        Some(s) => format!(
            ", shard {} of {}",
            s.covered
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join("+"),
            s.count
        ),
        None => String::new(),
    };
    format!(
        "ripcord fleet: {}{shards} (as of {})",
        r.inventory,
        crate::model::report::as_of(r.generated_at)
    )
}

/// `since 2026-11-21T02:00Z (last-night.json)`: the baseline, as every format names it.
pub(super) fn since(b: &crate::model::report::fleet_v1::Baseline) -> String {
    format!(
        "since {} ({})",
        crate::model::report::as_of(b.generated_at),
        b.file
    )
}

/// One change in words: `ready → not ready`, `started failing: kibana-snapshot — …`.
pub(super) fn change_text(c: &crate::model::report::fleet_v1::Change) -> String {
    let verdict = |v: Option<TargetVerdict>| v.map_or("-", verdict_label);
    let rule = c.rule.as_deref().unwrap_or_default();
    let message = c
        .message
        .as_deref()
        .map(|m| format!(" — {m}"))
        .unwrap_or_default();
    match c.kind {
        ChangeKind::VerdictChanged => format!("{} → {}", verdict(c.from), verdict(c.to)),
        ChangeKind::StartedFailing => format!("started failing: {rule}{message}"),
        ChangeKind::StoppedFailing => format!("stopped failing: {rule}"),
        ChangeKind::TargetAdded => format!("new target ({})", verdict(c.to)),
        ChangeKind::TargetRemoved => {
            format!("removed from the inventory (was {})", verdict(c.from))
        }
    }
}

/// The findings that make a target not ready or incomplete: failures, and blockers unknown
/// or errored; waived failures are listed with their waiver.
pub(super) fn attention(r: &Report) -> impl Iterator<Item = &crate::model::report::v1::Finding> {
    r.findings.iter().filter(|f| {
        matches!(f.outcome, Outcome::Fail | Outcome::Waived)
            || (matches!(f.outcome, Outcome::Unknown | Outcome::Error)
                && f.severity == crate::model::report::v1::Severity::Blocker)
    })
}

/// Counts of a target's findings as one cell: `1 fail, 2 unknown`.
fn counts(t: &TargetResult) -> String {
    let Some(r) = &t.report else {
        return String::new();
    };
    let s = &r.summary;
    let mut parts = Vec::new();
    for (n, what) in [
        (s.fail, "fail"),
        (s.unknown, "unknown"),
        (s.error, "error"),
        (s.waived, "waived"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if parts.is_empty() {
        parts.push(format!("{} pass", s.pass));
    }
    parts.join(", ")
}

fn table(r: &FleetReport, look: &Look) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", heading(r));
    let _ = writeln!(
        out,
        "{}",
        paint(&summary_line(r), look.color, super::red().bold())
    );
    for w in &r.warnings {
        let _ = writeln!(
            out,
            "{}",
            paint(&format!("! {w}"), look.color, super::yellow())
        );
    }
    if let Some(b) = &r.baseline {
        let since = since(b);
        if r.changes.is_empty() {
            let _ = writeln!(out, "\nNo changes {since}.");
        } else {
            let _ = writeln!(out, "\nChanges {since}:");
            for c in &r.changes {
                let _ = writeln!(out, "  {}: {}", c.target, change_text(c));
            }
        }
    }
    let mut grid = Table::new();
    grid.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(look.width);
    if look.color {
        grid.enforce_styling();
    } else {
        grid.force_no_tty();
    }
    grid.set_header(vec![
        "target", "product", "mode", "verdict", "findings", "tags",
    ]);
    for t in &r.targets {
        let mut verdict = Cell::new(verdict_label(t.verdict));
        if look.color {
            verdict = verdict.fg(verdict_color(t.verdict));
        }
        grid.add_row(vec![
            Cell::new(&t.name),
            Cell::new(&t.product),
            Cell::new(&t.mode),
            verdict,
            Cell::new(counts(t)),
            Cell::new(t.tags.join(", ")),
        ]);
    }
    let _ = writeln!(out, "\n{grid}");
    let mut first = true;
    for t in &r.targets {
        let lines = target_lines(t);
        if lines.is_empty() {
            continue;
        }
        if first {
            let _ = writeln!(out, "\nNeeds attention:");
            first = false;
        }
        let _ = writeln!(
            out,
            "\n{} ({} {}): {}",
            t.name,
            t.product,
            t.mode,
            verdict_label(t.verdict)
        );
        for line in lines {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

/// What a target that is not ready shows under "Needs attention": its error and hint, or
/// its failing (and unverified blocker) findings, with the plan's headline in rollback.
fn target_lines(t: &TargetResult) -> Vec<String> {
    if let Some(e) = &t.error {
        let mut lines = vec![format!("could not be judged: {e}")];
        if let Some(h) = &t.hint {
            lines.push(format!("hint: {h}"));
        }
        return lines;
    }
    let Some(r) = &t.report else {
        return Vec::new();
    };
    let mut lines: Vec<String> = attention(r)
        .map(|f| {
            format!(
                "{} {} ({}): {}",
                super::outcome_label(f.outcome),
                f.rule,
                f.severity.as_str(),
                super::finding_message(f)
            )
        })
        .collect();
    for w in &r.warnings {
        lines.push(format!("! {w}"));
    }
    lines
}

fn markdown_report(r: &FleetReport, _look: &Look) -> String {
    use markdown::{code, text};
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", text(&heading(r)));
    let _ = writeln!(out, "**{}**\n", text(&summary_line(r)));
    for w in &r.warnings {
        let _ = writeln!(out, "> {}\n", text(w));
    }
    if let Some(b) = &r.baseline {
        let since = since(b);
        if r.changes.is_empty() {
            let _ = writeln!(out, "## Changes\n\nNo changes {}.\n", text(&since));
        } else {
            let _ = writeln!(out, "## Changes {}\n", text(&since));
            for c in &r.changes {
                let _ = writeln!(out, "- {}: {}", code(&c.target), text(&change_text(c)));
            }
            out.push('\n');
        }
    }
    let _ = writeln!(out, "## Targets\n");
    let _ = writeln!(
        out,
        "| target | product | mode | verdict | findings | tags |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for t in &r.targets {
        let _ = writeln!(
            out,
            "| {} | {} | {} | **{}** | {} | {} |",
            cell(&t.name),
            cell(&t.product),
            cell(&t.mode),
            verdict_label(t.verdict),
            cell(&counts(t)),
            cell(&t.tags.join(", "))
        );
    }
    let attention: Vec<(&TargetResult, Vec<String>)> = r
        .targets
        .iter()
        .map(|t| (t, target_lines(t)))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    if !attention.is_empty() {
        let _ = writeln!(out, "\n## Needs attention");
        for (t, lines) in attention {
            let _ = writeln!(
                out,
                "\n### {} ({} {}): {}\n",
                text(&t.name),
                text(&t.product),
                text(&t.mode),
                verdict_label(t.verdict)
            );
            for line in lines {
                let _ = writeln!(out, "- {}", text(&line));
            }
        }
    }
    out
}

/// A table cell: [`markdown::text`] escapes `|` too.
fn cell(s: &str) -> String {
    markdown::text(s)
}
