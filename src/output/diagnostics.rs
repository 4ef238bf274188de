//! Lines for the operator on stderr: warnings, notes, `-v`'s request log and the error that
//! ends a run. Never headers, never secrets: every line goes through the same redaction as the
//! reports, and server text in it has its control characters escaped.
#![allow(
    clippy::print_stderr,
    reason = "this module is where operator-facing stderr lines are written"
)]

use super::text::one_line;
use crate::secrets::Redactor;

/// Writes one line (or a rendered diagnostic) to stderr, redacted.
fn emit(text: &str) {
    eprintln!("{}", Redactor::from_env().redact(text));
}

/// `ripcord: WARNING: …`.
pub(crate) fn warn(message: &str) {
    emit(&format!("ripcord: WARNING: {}", one_line(message)));
}

/// `ripcord: …`.
pub(crate) fn note(message: &str) {
    emit(&format!("ripcord: {}", one_line(message)));
}

/// One request of `-v`: method, URL, status or error, duration.
pub(crate) fn request(method: &str, url: &str, outcome: &str, duration_ms: u64) {
    emit(&format!(
        "ripcord: {method} {} -> {} ({duration_ms} ms)",
        one_line(url),
        one_line(outcome)
    ));
}

/// The error that ends the run (exit 2), as a miette diagnostic; the bundle or rule file text
/// it quotes has its control characters escaped (line breaks kept: the snippet is multi-line).
pub fn error(error: crate::error::Error) {
    let rendered = format!("{:?}", miette::Report::new(error));
    emit(&super::text::visible(&rendered));
}
