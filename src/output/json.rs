//! `--format json`: the `ripcord.report/v1` document, exactly the contract types.

use crate::model::report::v1::Report;

pub(super) fn render(report: &Report) -> String {
    let mut text =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
