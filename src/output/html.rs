//! `--format html`: the fleet report as one self-contained page, to mail, attach to a ticket
//! or open on a phone at 3 a.m. No script, no font, no request: a Content-Security-Policy
//! that allows nothing but the inline style makes any external load fail loudly. First what
//! changed, then a targets × rules matrix coloured by outcome, then each target's findings and
//! plan, its commands as written.

use super::fleet::{attention, change_text, heading, summary_line, verdict_label};
use crate::model::report::fleet_v1::{FleetReport, TargetResult, TargetVerdict};
use crate::model::report::v1::{Outcome, Plan};
use std::collections::BTreeSet;
use std::fmt::Write as _;

const STYLE: &str = r#"
:root { color-scheme: light dark; --pass:#1a7f37; --fail:#cf222e; --skip:#8c959f; --unknown:#bf8700; --error:#8250df; --waived:#0969da; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; padding: 12px; max-width: 1200px; }
h1 { font-size: 1.25em; margin: .2em 0; } h2 { font-size: 1.1em; margin-top: 1.6em; } h3 { font-size: 1em; margin: 0; display: inline; }
.verdict { font-weight: 600; padding: .4em .6em; border-radius: 6px; display: inline-block; }
.v-ready, .v-nothing_to_roll_back { background: var(--pass); color: #fff; }
.v-not_ready { background: var(--fail); color: #fff; }
.v-incomplete { background: var(--unknown); color: #fff; }
.v-error { background: var(--error); color: #fff; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; border: 1px solid #8c959f55; border-radius: 6px; }
table { border-collapse: collapse; font-size: .9em; }
th, td { padding: .3em .5em; border-bottom: 1px solid #8c959f33; text-align: left; white-space: nowrap; }
#matrix th.rule { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: 500; }
#matrix th.target { position: sticky; left: 0; background: Canvas; z-index: 1; }
td.o { text-align: center; color: #fff; font-weight: 600; min-width: 1.6em; }
.o-pass { background: var(--pass); } .o-fail { background: var(--fail); } .o-skip { background: var(--skip); }
.o-unknown { background: var(--unknown); } .o-error { background: var(--error); } .o-waived { background: var(--waived); }
.o-none { background: transparent; color: inherit; }
details { border: 1px solid #8c959f55; border-radius: 6px; padding: .5em .7em; margin: .5em 0; }
summary { cursor: pointer; }
pre { background: #8c959f22; padding: .5em; overflow-x: auto; white-space: pre; border-radius: 4px; }
ul.findings { padding-left: 1.2em; } .legend span { display: inline-block; padding: 0 .4em; margin-right: .3em; border-radius: 3px; color: #fff; }
.muted { color: #8c959f; } .change { margin: .2em 0; }
"#;

pub(super) fn render(r: &FleetReport) -> String {
    let mut out = String::new();
    let title = heading(r);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    let fleet_class = match r.exit_code {
        0 => "v-ready",
        1 => "v-not_ready",
        _ => "v-incomplete",
    };
    let _ = writeln!(out, "<h1>{}</h1>", esc(&title));
    let _ = writeln!(
        out,
        "<p><span class=\"verdict {fleet_class}\" id=\"fleet-verdict\">{}</span></p>",
        esc(&summary_line(r))
    );
    for w in &r.warnings {
        let _ = writeln!(out, "<p class=\"muted\">⚠ {}</p>", esc(w));
    }
    write_changes(&mut out, r);
    write_matrix(&mut out, r);
    let _ = writeln!(out, "<h2>Targets</h2>");
    for t in &r.targets {
        write_target(&mut out, t);
    }
    let _ = writeln!(
        out,
        "<p class=\"muted\">ripcord {} · {} · read-only: ripcord only ever sent GET and HEAD requests.</p>\n</body>\n</html>",
        esc(&r.tool_version),
        esc(&r.schema)
    );
    out
}

fn write_changes(out: &mut String, r: &FleetReport) {
    let Some(b) = &r.baseline else {
        return;
    };
    let since = super::fleet::since(b);
    let _ = writeln!(out, "<h2 id=\"changes\">Changes {}</h2>", esc(&since));
    if r.changes.is_empty() {
        let _ = writeln!(out, "<p>No changes.</p>");
        return;
    }
    let _ = writeln!(out, "<ul>");
    for c in &r.changes {
        let _ = writeln!(
            out,
            "<li class=\"change\"><a href=\"#t-{}\">{}</a>: {}</li>",
            esc(&c.target),
            esc(&c.target),
            esc(&change_text(c))
        );
    }
    let _ = writeln!(out, "</ul>");
}

/// One row per target, one column per rule any target ran; a cell's colour is the outcome,
/// its letter the same for colour-blind readers, its tooltip the message.
fn write_matrix(out: &mut String, r: &FleetReport) {
    let rules: BTreeSet<&str> = r
        .targets
        .iter()
        .flat_map(|t| {
            t.report
                .iter()
                .flat_map(|rep| rep.findings.iter().map(|f| f.rule.as_str()))
        })
        .collect();
    let _ = writeln!(out, "<h2>Targets × rules</h2>");
    let _ = writeln!(
        out,
        "<p class=\"legend\"><span class=\"o-pass\">✓ pass</span><span class=\"o-fail\">✗ fail</span><span class=\"o-unknown\">? unknown</span><span class=\"o-error\">! error</span><span class=\"o-waived\">W waived</span><span class=\"o-skip\">– skip</span></p>"
    );
    let _ = writeln!(
        out,
        "<div class=\"scroll\"><table id=\"matrix\">\n<thead><tr><th class=\"target\">target</th><th>verdict</th>"
    );
    for rule in &rules {
        let _ = write!(out, "<th class=\"rule\" scope=\"col\">{}</th>", esc(rule));
    }
    let _ = writeln!(out, "</tr></thead>\n<tbody>");
    for t in &r.targets {
        let _ = write!(
            out,
            "<tr data-target=\"{}\"><th class=\"target\" scope=\"row\"><a href=\"#t-{}\">{}</a></th><td><span class=\"verdict v-{}\">{}</span></td>",
            esc(&t.name),
            esc(&t.name),
            esc(&t.name),
            t.verdict.as_str(),
            verdict_label(t.verdict)
        );
        for rule in &rules {
            let finding = t
                .report
                .as_ref()
                .and_then(|rep| rep.findings.iter().find(|f| f.rule == *rule));
            match finding {
                Some(f) => {
                    let _ = write!(
                        out,
                        "<td class=\"o o-{}\" title=\"{}: {}\">{}</td>",
                        f.outcome.as_str(),
                        esc(f.outcome.as_str()),
                        esc(&f.message),
                        letter(f.outcome)
                    );
                }
                None => {
                    let _ = write!(out, "<td class=\"o o-none\"></td>");
                }
            }
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody></table></div>");
}

fn letter(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "✓",
        Outcome::Fail => "✗",
        Outcome::Skip => "–",
        Outcome::Unknown => "?",
        Outcome::Error => "!",
        Outcome::Waived => "W",
    }
}

/// A target: open when it needs attention, its findings that are not passes, and its plan.
fn write_target(out: &mut String, t: &TargetResult) {
    let open = if matches!(
        t.verdict,
        TargetVerdict::Ready | TargetVerdict::NothingToRollBack
    ) {
        ""
    } else {
        " open"
    };
    let _ = writeln!(
        out,
        "<details id=\"t-{}\"{open}><summary><h3>{}</h3> · {} {} · <span class=\"verdict v-{}\">{}</span>{}</summary>",
        esc(&t.name),
        esc(&t.name),
        esc(&t.product),
        esc(&t.mode),
        t.verdict.as_str(),
        verdict_label(t.verdict),
        if t.tags.is_empty() {
            String::new()
        } else {
            format!(" <span class=\"muted\">{}</span>", esc(&t.tags.join(", ")))
        }
    );
    if let Some(e) = &t.error {
        let _ = writeln!(
            out,
            "<p><strong>Could not be judged:</strong> {}</p>",
            esc(e)
        );
        if let Some(h) = &t.hint {
            let _ = writeln!(out, "<p>Hint: {}</p>", esc(h));
        }
    }
    if let Some(r) = &t.report {
        let _ = writeln!(
            out,
            "<p>{}</p>",
            esc(&format!(
                "{} · as of {} · {} pass, {} fail, {} skip, {} unknown, {} error, {} waived",
                super::target_line(r),
                crate::model::report::as_of(r.source.collected_at),
                r.summary.pass,
                r.summary.fail,
                r.summary.skip,
                r.summary.unknown,
                r.summary.error,
                r.summary.waived
            ))
        );
        for w in &r.warnings {
            let _ = writeln!(out, "<p class=\"muted\">⚠ {}</p>", esc(w));
        }
        let shown: Vec<_> = attention(r).collect();
        if !shown.is_empty() {
            let _ = writeln!(out, "<ul class=\"findings\">");
            for f in shown {
                let _ = writeln!(
                    out,
                    "<li><span class=\"verdict o-{}\">{}</span> <code>{}</code> ({}): {}</li>",
                    f.outcome.as_str(),
                    esc(&f.outcome.as_str().to_uppercase()),
                    esc(&f.rule),
                    esc(f.severity.as_str()),
                    esc(&super::finding_message(f))
                );
            }
            let _ = writeln!(out, "</ul>");
        }
        write_plan(out, &r.plan);
    }
    let _ = writeln!(out, "</details>");
}

fn write_plan(out: &mut String, plan: &Plan) {
    let _ = writeln!(out, "<h4>{}</h4>", esc(&plan.title));
    if !plan.headline.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", esc(&plan.headline));
    }
    if !plan.steps.is_empty() {
        let _ = writeln!(out, "<ol>");
        for step in &plan.steps {
            let _ = writeln!(
                out,
                "<li>{} <span class=\"muted\">on {}</span>",
                esc(&step.title),
                esc(&step.run_on)
            );
            if let Some(req) = &step.request {
                let _ = writeln!(out, "<pre>{}</pre>", esc(&super::request_line(req)));
            }
            if !step.check.is_empty() {
                let _ = writeln!(
                    out,
                    "<p class=\"muted\">check first:</p><pre>{}</pre>",
                    esc(&step.check.join("\n"))
                );
            }
            if !step.commands.is_empty() {
                let _ = writeln!(out, "<pre>{}</pre>", esc(&step.commands.join("\n")));
            }
            if !step.verify.is_empty() {
                let _ = writeln!(
                    out,
                    "<p class=\"muted\">then verify:</p><pre>{}</pre>",
                    esc(&step.verify.join("\n"))
                );
            }
            let _ = writeln!(out, "</li>");
        }
        let _ = writeln!(out, "</ol>");
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "<ul>");
        for w in &plan.warnings {
            let _ = writeln!(out, "<li>⚠ {}</li>", esc(w));
        }
        let _ = writeln!(out, "</ul>");
    }
    for alt in &plan.alternatives {
        write_plan(out, alt);
    }
}

/// Text as HTML: `&`, `<`, `>`, `"` and `'` escaped (attribute values and content alike).
fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}
