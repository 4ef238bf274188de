//! `--format table`: the verdict and (rollback) the plan's headline first, then the numbered
//! plan, then one row per rule and what could not be collected.

use super::{Look, paint, prose, write_collection_failures, write_preamble};
use crate::model::report::v1::{Outcome, Report};
use comfy_table::{Cell, Color, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use std::fmt::Write as _;

pub(super) fn render(r: &Report, look: &Look) -> String {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(look.width);
    if look.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(vec!["outcome", "rule", "severity", "message"]);
    let mut folded = 0;
    for f in &r.findings {
        if f.outcome == Outcome::Skip && !look.show_skipped {
            folded += 1;
            continue;
        }
        let mut outcome = Cell::new(super::finding_label(f));
        if look.color {
            outcome = outcome.fg(outcome_color(f));
        }
        table.add_row(vec![
            outcome,
            Cell::new(&f.rule),
            Cell::new(f.severity.as_str()),
            Cell::new(super::finding_message(f)),
        ]);
    }
    let mut out = String::new();
    let width = Some(look.width);
    write_preamble(&mut out, r, look.color, width);
    write_plan(&mut out, &r.plan, width);
    let _ = writeln!(out, "\n{table}");
    if folded > 0 {
        let mut lines = String::new();
        prose(&mut lines, width, "", "  ", &super::folded_skips(folded));
        for line in lines.lines() {
            let _ = writeln!(out, "{}", paint(line, look.color, super::dim()));
        }
    }
    write_collection_failures(&mut out, r, width);
    out
}

/// Each outcome's colour in the table: a failure as loud as it matters.
fn outcome_color(f: &crate::model::report::v1::Finding) -> Color {
    use crate::model::report::v1::Severity;
    match f.outcome {
        Outcome::Pass => Color::Green,
        Outcome::Fail if f.severity == Severity::Info => Color::Reset,
        Outcome::Fail if f.severity == Severity::Warning => Color::Yellow,
        Outcome::Fail => Color::Red,
        Outcome::Skip => Color::DarkGrey,
        Outcome::Unknown => Color::Yellow,
        Outcome::Error => Color::Magenta,
        Outcome::Waived => Color::Cyan,
    }
}

/// The numbered plan, its warnings, then any alternative plans the same way. Prose is wrapped
/// to `width`; a request and a command stay on one line, copyable as they are.
pub(super) fn write_plan(
    out: &mut String,
    plan: &crate::model::report::v1::Plan,
    width: Option<u16>,
) {
    out.push('\n');
    prose(out, width, "", "  ", &plan.title);
    for (i, step) in plan.steps.iter().enumerate() {
        let number = format!("  {}. ", i + 1);
        let hang = " ".repeat(number.len());
        prose(out, width, &number, &hang, &step.title);
        prose(
            out,
            width,
            &format!("{hang}on: "),
            &format!("{hang}    "),
            &step.run_on,
        );
        if let Some(req) = &step.request {
            let _ = writeln!(out, "{hang}request: {}", super::request_line(req));
        }
        // Every command on a line of its own (`$ …`), copyable whole; the labels say which
        // must pass before and after.
        if !step.check.is_empty() {
            let _ = writeln!(out, "{hang}check first (each must succeed):");
            for c in &step.check {
                let _ = writeln!(out, "{hang}$ {c}");
            }
            if !step.commands.is_empty() {
                let _ = writeln!(out, "{hang}then run:");
            }
        }
        for c in &step.commands {
            let _ = writeln!(out, "{hang}$ {c}");
        }
        if !step.verify.is_empty() {
            let _ = writeln!(out, "{hang}then verify (each must succeed):");
            for c in &step.verify {
                let _ = writeln!(out, "{hang}$ {c}");
            }
        }
        if !step.on_failure.is_empty() {
            prose(
                out,
                width,
                &format!("{hang}if it fails: "),
                &format!("{hang}    "),
                &step.on_failure,
            );
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "\nWarnings:");
        for w in &plan.warnings {
            prose(out, width, "  ! ", "    ", w);
        }
    }
    for alt in &plan.alternatives {
        write_plan(out, alt, width);
    }
}
