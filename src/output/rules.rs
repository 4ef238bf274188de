//! `rules list` and `rules explain`.

use super::write_stdout;
use crate::judge::ruleset::{Rule, RuleSet, Severity};
use std::fmt::Write as _;

/// Output format of `rules list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListFormat {
    Table,
    Json,
}

impl crate::base::named::Named for ListFormat {
    const ALL: &'static [Self] = &[Self::Table, Self::Json];

    fn name(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Json => "json",
        }
    }
}

/// Prints every rule as a table or a JSON array.
pub(crate) fn print_list(set: &RuleSet, format: ListFormat) -> std::io::Result<()> {
    let text = match format {
        ListFormat::Json => {
            let list: Vec<serde_json::Value> = set
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "title": r.title, "product": r.product, "severity": r.severity,
                        "modes": r.modes, "requires": r.requires, "params": r.params,
                        "summary": r.docs.summary, "why": r.docs.why, "remediation": r.docs.remediation,
                        "docs": r.docs.reference, "origin": r.origin,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
        }
        ListFormat::Table => {
            let mut t = comfy_table::Table::new();
            t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_width(120);
            t.set_header(vec!["rule", "product", "severity", "modes", "title"]);
            for r in &set.rules {
                t.add_row(vec![
                    r.id.clone(),
                    r.product.clone(),
                    r.severity.as_str().into(),
                    r.modes.join(", "),
                    r.title.clone(),
                ]);
            }
            format!("{t}\n")
        }
    };
    write_stdout(&text)
}

/// Prints what one rule checks, why, and how to fix it.
pub(crate) fn print_explain(rule: &Rule) -> std::io::Result<()> {
    write_stdout(&explain(rule))
}

fn explain(r: &Rule) -> String {
    let mut out = format!(
        "{id} — {title}\n\nproduct:  {product}\nseverity: {sev}{gate}\nmodes:    {modes}\nrequires: {req}\n",
        id = r.id,
        title = r.title,
        product = r.product,
        sev = r.severity.as_str(),
        gate = if r.severity == Severity::Blocker {
            " (a failure blocks: exit 1)"
        } else {
            ""
        },
        modes = r.modes.join(", "),
        req = if r.requires.is_empty() {
            "-".to_string()
        } else {
            r.requires.join(", ")
        },
    );
    if !r.params.is_empty() {
        let params: Vec<String> = r.params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        let _ = writeln!(out, "params:   {}", params.join(", "));
    }
    if let Some(w) = &r.when {
        let _ = writeln!(out, "when:     {}", w.source.trim());
    }
    let _ = writeln!(
        out,
        "passes when:\n  {}",
        r.expr.source.trim().replace('\n', "\n  ")
    );
    let _ = write!(
        out,
        "\n{}\n\nWhy:\n{}\n\nRemediation:\n{}\n",
        r.docs.summary.trim(),
        r.docs.why.trim(),
        r.docs.remediation.trim()
    );
    if !r.docs.reference.is_empty() {
        let _ = writeln!(out, "\nReference: {}", r.docs.reference);
    }
    let _ = writeln!(
        out,
        "Source: {}",
        if r.origin == "built-in" {
            format!("built-in (rules/{}/{}.toml)", r.product, r.id)
        } else {
            r.origin.clone()
        }
    );
    out
}
