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

/// The error that ends the run (exit 2): on stderr as a diagnostic, and, when the command
/// line asked for `--format json`, as a `ripcord.error/v1` document on stdout too.
pub fn fail(error: crate::error::Error, json: bool) {
    use miette::Diagnostic as _;
    let code = error
        .code()
        .map_or_else(|| "ripcord::error".to_string(), |c| c.to_string());
    let message = error_line(&error);
    let help = error.help().map(|h| h.to_string());
    let rendered = super::text::visible(&format!("{:?}", miette::Report::new(error)));
    emit(&rendered);
    if json {
        print_error_document(code, message, help, Some(rendered));
    }
}

/// An error and its causes as one line: `cannot read facts bundle x: No such file…`.
pub(crate) fn error_line(error: &crate::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(c) = cause {
        message = format!("{message}: {c}");
        cause = c.source();
    }
    one_line(&message)
}

/// A command line clap refused (exit 2): clap's message on stderr, and the error document
/// on stdout when `--format json` was asked for.
pub fn usage(error: &clap::Error, json: bool) {
    let rendered = error.render().to_string();
    emit(rendered.trim_end());
    if json {
        let mut parts = rendered.splitn(2, '\n');
        let first = parts.next().unwrap_or_default();
        let message = first.strip_prefix("error: ").unwrap_or(first).to_string();
        let help = parts
            .next()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_string);
        let code = format!("clap::{:?}", error.kind());
        print_error_document(code, message, help, None);
    }
}

fn print_error_document(
    code: String,
    message: String,
    help: Option<String>,
    detail: Option<String>,
) {
    use crate::report::v1::{ERROR_SCHEMA, ErrorDetail, ErrorDocument};
    let document = ErrorDocument {
        schema: ERROR_SCHEMA.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        exit_code: 2,
        error: ErrorDetail {
            code,
            message,
            help,
            detail,
        },
    };
    // Errors quote outside text (a server's, a file's): redacted like every stderr line.
    let redactor = Redactor::from_env();
    let mut document = document;
    document.error.message = redactor.redact(&document.error.message).into_owned();
    document.error.help = document
        .error
        .help
        .map(|h| redactor.redact(&h).into_owned());
    document.error.detail = document
        .error
        .detail
        .map(|d| redactor.redact(&d).into_owned());
    if let Ok(text) = serde_json::to_string_pretty(&document) {
        // stdout's own writer: a closed pipe is not an error.
        let _ = super::write_stdout(&(text + "\n"));
    }
}

/// Whether the command line asks for JSON on stdout (`--format json`, `--format=json` or
/// `RIPCORD_FORMAT=json`), read from the raw arguments so that it works even for a command
/// line clap refuses.
pub fn wants_json(args: &[std::ffi::OsString]) -> bool {
    let mut asked = std::env::var("RIPCORD_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let mut args = args.iter().map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let value = if arg == "--format" {
            args.next().map(|v| v.into_owned())
        } else {
            arg.strip_prefix("--format=").map(str::to_string)
        };
        if let Some(v) = value {
            // The last --format wins, as in clap.
            asked = v.eq_ignore_ascii_case("json");
        }
    }
    asked
}
