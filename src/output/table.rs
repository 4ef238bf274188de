//! `--format table`: the verdict and (rollback) the plan's headline first, then the numbered
//! plan, then one row per rule and what could not be collected.

use super::{as_of_line, headline, outcome_label, summary_line, target_line};
use crate::report::v1::Report;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use std::fmt::Write as _;

pub(super) fn render(r: &Report) -> String {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(120);
    table.set_header(vec!["outcome", "rule", "severity", "message"]);
    for f in &r.findings {
        table.add_row(vec![
            outcome_label(f.outcome),
            &f.rule,
            f.severity.as_str(),
            &f.message,
        ]);
    }
    let mut out = String::new();
    let _ = writeln!(out, "{}", summary_line(r));
    let _ = writeln!(out, "{} · {}", target_line(r), as_of_line(r));
    for w in &r.warnings {
        let _ = writeln!(out, "! {w}");
    }
    if let Some((line, basis)) = headline(r) {
        let _ = writeln!(out, "{line}");
        for b in basis {
            let _ = writeln!(out, "  - {b}");
        }
    }
    write_plan(&mut out, &r.plan);
    let _ = writeln!(out, "\n{table}");
    if !r.collection_failures.is_empty() {
        let _ = writeln!(out, "\nCould not collect:");
        for f in &r.collection_failures {
            let _ = writeln!(
                out,
                "  - {}: {}{}",
                f.endpoint,
                f.reason,
                super::hint_suffix(f)
            );
        }
    }
    out
}

/// The numbered plan, its warnings, then any alternative plans the same way.
pub(super) fn write_plan(out: &mut String, plan: &crate::report::v1::Plan) {
    let _ = writeln!(out, "\n{}", plan.title);
    for (i, step) in plan.steps.iter().enumerate() {
        let _ = writeln!(out, "  {}. {}", i + 1, step.title);
        let _ = writeln!(out, "     on: {}", step.run_on);
        if let Some(req) = &step.request {
            let _ = writeln!(out, "     request: {}", super::request_line(req));
        }
        for c in &step.commands {
            let _ = writeln!(out, "     $ {c}");
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "\nWarnings:");
        for w in &plan.warnings {
            let _ = writeln!(out, "  ! {w}");
        }
    }
    for alt in &plan.alternatives {
        write_plan(out, alt);
    }
}
