//! `--format markdown`: the report for a PR comment, a job summary (`$GITHUB_STEP_SUMMARY`) or
//! a nightly page. CommonMark with GFM tables, written so that it renders as it reads: every
//! command is in a fenced code block (indented to stay inside its numbered step), and every
//! piece of text is escaped, so `<primary-host>` or a server's `<html>` error page shows as
//! text instead of vanishing as raw HTML.

use super::{Look, as_of_line, headline, summary_line, target_line};
use crate::model::report::v1::{Outcome, Plan, Report};
use std::fmt::Write as _;

pub(super) fn render(r: &Report, look: &Look) -> String {
    let mut out = String::new();
    // The heading names what was judged, how, and as of when: a page of several reports (one
    // per cluster) stays readable by its headings alone.
    let _ = writeln!(
        out,
        "# ripcord {} {}: {} (as of {})\n",
        r.mode,
        r.product,
        text(&target_line(r)),
        crate::model::report::as_of(r.source.collected_at)
    );
    let _ = writeln!(out, "**{}**\n", text(&summary_line(r, false)));
    let _ = writeln!(out, "{}\n", text(&as_of_line(r)));
    for w in &r.warnings {
        let _ = writeln!(out, "> **Warning:** {}\n", text(w));
    }
    if let Some((line, basis)) = headline(r) {
        let _ = writeln!(out, "> {}\n", text(line));
        for b in basis.iter().chain(&r.plan.loses) {
            let _ = writeln!(out, "- {}", text(b));
        }
        if !basis.is_empty() || r.plan.loses.is_some() {
            let _ = writeln!(out);
        }
    }
    write_plan(&mut out, &r.plan, 2);
    let _ = writeln!(out, "\n## Findings\n");
    let _ = writeln!(out, "| outcome | rule | severity | message |");
    let _ = writeln!(out, "|---|---|---|---|");
    let mut folded = 0;
    for f in &r.findings {
        if f.outcome == Outcome::Skip && !look.show_skipped {
            folded += 1;
            continue;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            super::finding_label(f),
            cell(&code(&f.rule)),
            f.severity.as_str(),
            cell(&text(&super::finding_message(f)))
        );
    }
    if folded > 0 {
        let _ = writeln!(out, "\n{}", text(&super::folded_skips(folded)));
    }
    if !r.collection_failures.is_empty() {
        let _ = writeln!(out, "\n## Could not collect\n");
        for cause in super::root_causes(&r.collection_failures) {
            let requests = match cause.endpoints.as_slice() {
                [one] => code(one),
                _ => text(&cause.requests()),
            };
            let _ = writeln!(out, "- {requests}: {}", text(&super::cause_text(&cause)));
        }
    }
    out
}

/// The numbered plan at heading `level`, its warnings, then any alternative plans the same way.
fn write_plan(out: &mut String, plan: &Plan, level: usize) {
    let hashes = "#".repeat(level.min(6));
    let _ = writeln!(out, "{hashes} {}\n", text(&plan.title));
    for (i, step) in plan.steps.iter().enumerate() {
        let marker = format!("{}. ", i + 1);
        // Everything of the step is indented to its text, or it would end the list item.
        let indent = " ".repeat(marker.len());
        let _ = writeln!(
            out,
            "{marker}**{}** (on {})",
            text(&step.title),
            text(&step.run_on)
        );
        if let Some(req) = &step.request {
            let _ = writeln!(
                out,
                "\n{indent}request: {}",
                code(&super::request_line(req))
            );
        }
        let then_run = if step.check.is_empty() {
            ""
        } else {
            "Then run:"
        };
        for (label, lines) in [
            ("Check first (each must succeed):", &step.check),
            (then_run, &step.commands),
            ("Then verify (each must succeed):", &step.verify),
        ] {
            if lines.is_empty() {
                continue;
            }
            if !label.is_empty() {
                blank_line(out);
                let _ = writeln!(out, "{indent}{label}");
            }
            let fence = fence_for(lines);
            blank_line(out);
            let _ = writeln!(out, "{indent}{fence}sh");
            for line in lines.iter().flat_map(|c| c.lines()) {
                let _ = writeln!(out, "{indent}{line}");
            }
            let _ = writeln!(out, "{indent}{fence}");
        }
        if !step.on_failure.is_empty() {
            blank_line(out);
            let _ = writeln!(out, "{indent}If it fails: {}", text(&step.on_failure));
        }
        blank_line(out);
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "\n{hashes}# Warnings\n");
        for w in &plan.warnings {
            let _ = writeln!(out, "- {}", text(w));
        }
    }
    for alt in &plan.alternatives {
        let _ = writeln!(out);
        write_plan(out, alt, level + 1);
    }
}

/// Text made literal: every character Markdown or HTML could take as syntax is
/// backslash-escaped (CommonMark lets any ASCII punctuation be), line breaks become spaces.
/// `.` and `-` are escaped only where they could start a list (`1.` / `-` at the start).
pub(super) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.chars().enumerate() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    // `1. text` at the start would make an ordered list (`8.17.3` would not).
    if let Some(dot) = out.find(['.', ')'])
        && dot > 0
        && out[..dot].bytes().all(|b| b.is_ascii_digit())
        && matches!(out.as_bytes().get(dot + 1), None | Some(b' ' | b'\t'))
    {
        out.insert(dot, '\\');
    }
    out
}

/// A code span that holds `s` exactly: a fence of more backticks than any run inside it,
/// padded when `s` starts or ends with a backtick or a space (CommonMark strips one space).
pub(super) fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let ticks = "`".repeat(longest_backtick_run(&s) + 1);
    let pad = s.starts_with('`')
        || s.ends_with('`')
        || (s.starts_with(' ') && s.ends_with(' ') && !s.trim().is_empty());
    let space = if pad { " " } else { "" };
    format!("{ticks}{space}{s}{space}{ticks}")
}

/// A table cell: a `|` inside it would end the cell, even inside a code span (GFM).
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Ends `out` with exactly one empty line (Markdown's paragraph break).
fn blank_line(out: &mut String) {
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');
}

/// The fence of a code block: more backticks than any run in the commands, at least three.
fn fence_for(commands: &[String]) -> String {
    let longest = commands
        .iter()
        .map(|c| longest_backtick_run(c))
        .max()
        .unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_what_markdown_or_html_would_take() {
        assert_eq!(
            text("ssh admin@<primary-host> *now*"),
            "ssh admin@\\<primary-host\\> \\*now\\*"
        );
        assert_eq!(text("1. first"), "1\\. first");
        assert_eq!(text("- item"), "\\- item");
        assert_eq!(text("a\nb"), "a b");
        assert_eq!(text("8.17.3 → 8.18.0"), "8.17.3 → 8.18.0");
    }

    #[test]
    fn code_spans_outlast_the_backticks_inside() {
        assert_eq!(code("GET /"), "`GET /`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(fence_for(&["echo ```".into()]), "````");
        assert_eq!(fence_for(&[]), "```");
    }
}
