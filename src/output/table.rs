//! `--format table`: the verdict and (rollback) the plan's headline first, then the numbered
//! plan, then one row per rule and what could not be collected.

use super::{outcome_label, write_collection_failures, write_preamble};
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
    write_preamble(&mut out, r);
    write_plan(&mut out, &r.plan);
    let _ = writeln!(out, "\n{table}");
    write_collection_failures(&mut out, r);
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
