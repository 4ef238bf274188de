//! `--format markdown`: the report for a PR comment or a nightly page.

use super::{as_of_line, headline, outcome_label, summary_line, target_line};
use crate::report::v1::Report;
use std::fmt::Write as _;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub(super) fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# ripcord {} {}\n", r.mode, r.product);
    let _ = writeln!(out, "**{}**\n", summary_line(r));
    let _ = writeln!(
        out,
        "{} · {}\n",
        cell(&target_line(r)),
        cell(&as_of_line(r))
    );
    for w in &r.warnings {
        let _ = writeln!(out, "> **Warning:** {}\n", cell(w));
    }
    if let Some((line, basis)) = headline(r) {
        let _ = writeln!(out, "> {}\n", cell(line));
        for b in basis {
            let _ = writeln!(out, "- {}", cell(b));
        }
        if !basis.is_empty() {
            let _ = writeln!(out);
        }
    }
    write_plan(&mut out, &r.plan);
    let _ = writeln!(out, "\n## Findings\n");
    let _ = writeln!(out, "| outcome | rule | severity | message |");
    let _ = writeln!(out, "|---|---|---|---|");
    for f in &r.findings {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            outcome_label(f.outcome),
            f.rule,
            f.severity.as_str(),
            cell(&f.message)
        );
    }
    if !r.collection_failures.is_empty() {
        let _ = writeln!(out, "\n## Could not collect\n");
        for f in &r.collection_failures {
            let _ = writeln!(
                out,
                "- `{}`: {}{}",
                f.endpoint,
                f.reason,
                super::hint_suffix(f)
            );
        }
    }
    out
}

/// The numbered plan, its warnings, then any alternative plans the same way.
fn write_plan(out: &mut String, plan: &crate::report::v1::Plan) {
    let _ = writeln!(out, "## {}\n", plan.title);
    for (i, step) in plan.steps.iter().enumerate() {
        let _ = writeln!(out, "{}. **{}** (on {})", i + 1, step.title, step.run_on);
        if let Some(req) = &step.request {
            let _ = writeln!(out, "   request: `{}`", super::request_line(req));
        }
        if !step.commands.is_empty() {
            let _ = writeln!(out, "   ```sh");
            for c in &step.commands {
                let _ = writeln!(out, "   {c}");
            }
            let _ = writeln!(out, "   ```");
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "\n## Warnings\n");
        for w in &plan.warnings {
            let _ = writeln!(out, "- {w}");
        }
    }
    for alt in &plan.alternatives {
        let _ = writeln!(out);
        write_plan(out, alt);
    }
}
