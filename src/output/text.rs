//! The report made safe to render: every string of it through `base::text` (control
//! characters escaped, long strings cut), plan commands whole.

use crate::base::text::{DISPLAY_CHARS, JSON_CHARS, cut, one_line, visible};
use crate::model::report::v1::Report;
use serde_json::Value;

/// The report as the text formats show it: control characters escaped (line feeds kept only
/// in remediation texts and plan commands, which are ours), and strings cut to
/// [`DISPLAY_CHARS`] except plan commands.
pub(crate) fn for_display(report: &Report) -> Report {
    transform(report, &|key, text| match key {
        "commands" | "check" | "verify" => visible(text),
        "remediation" => visible(&cut(text, DISPLAY_CHARS * 4)),
        _ => one_line(&cut(text, DISPLAY_CHARS)),
    })
}

/// The report as `--format json` writes it: strings bounded to [`JSON_CHARS`] (plan commands
/// whole); control characters are JSON's to escape.
pub(crate) fn for_json(report: &Report) -> Report {
    transform(report, &|key, text| {
        if matches!(key, "commands" | "check" | "verify") {
            text.to_string()
        } else {
            cut(text, JSON_CHARS)
        }
    })
}

/// Applies `f` (given the nearest object key) to every string of the report, keys of the
/// evidence maps included. A report that does not survive the round trip (it always does: the
/// types are the same) is returned as it was.
fn transform(report: &Report, f: &dyn Fn(&str, &str) -> String) -> Report {
    let Ok(mut value) = serde_json::to_value(report) else {
        return report.clone();
    };
    walk(&mut value, "", f);
    serde_json::from_value(value).unwrap_or_else(|_| report.clone())
}

fn walk(value: &mut Value, key: &str, f: &dyn Fn(&str, &str) -> String) {
    match value {
        Value::String(s) => *s = f(key, s),
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, key, f)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut v) in entries {
                walk(&mut v, &k, f);
                map.insert(f("", &k), v);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}
