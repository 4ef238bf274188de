//! Lines for the operator on stderr: warnings, notes, `-v`'s request log and the error that
//! ends a run. Never headers, never secrets: every line goes through the same redaction as the
//! reports, and server text in it has its control characters escaped.
#![allow(
    clippy::print_stderr,
    reason = "this module is where operator-facing stderr lines are written"
)]

use crate::base::secrets::Redactor;
use crate::base::text::one_line;

/// Writes one line (or a rendered diagnostic) to stderr, redacted.
fn emit(text: &str) {
    eprintln!("{}", Redactor::from_env().redact(text));
}

/// `ripcord: WARNING: …`.
pub(super) fn warn(message: &str) {
    emit(&format!("ripcord: WARNING: {}", one_line(message)));
}

/// `ripcord: …`.
pub(super) fn note(message: &str) {
    emit(&format!("ripcord: {}", one_line(message)));
}

/// One request of `-v`: method, URL, status or error, duration.
pub(super) fn request(method: &str, url: &str, outcome: &str, duration_ms: u64) {
    emit(&format!(
        "ripcord: {method} {} -> {} ({duration_ms} ms)",
        one_line(url),
        one_line(outcome)
    ));
}

/// The error that ends the run (exit 2), as a miette diagnostic; the bundle or rule file text
/// it quotes has its control characters escaped (line breaks kept: the snippet is multi-line).
pub fn error(error: impl miette::Diagnostic + Send + Sync + 'static) {
    let rendered = format!("{:?}", miette::Report::new(error));
    emit(&crate::base::text::visible(&rendered));
}

/// The error that ends the run (exit 2): on stderr as a diagnostic, and, when the command
/// line asked for `--format json`, as a `ripcord.error/v1` document on stdout too.
pub fn fail<E: miette::Diagnostic + Send + Sync + 'static>(error: E, json: bool) {
    let code = error
        .code()
        .map_or_else(|| "ripcord::error".to_string(), |c| c.to_string());
    let message = error_line(&error);
    let help = error.help().map(|h| h.to_string());
    let rendered = crate::base::text::visible(&format!("{:?}", miette::Report::new(error)));
    emit(&rendered);
    if json {
        print_error_document(code, message, help, Some(rendered));
    }
}

/// An error and its causes as one line: `cannot read facts bundle x: No such file…`.
pub(crate) fn error_line(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(c) = cause {
        message = format!("{message}: {c}");
        cause = c.source();
    }
    one_line(&message)
}

/// A command line clap refused (exit 2), in the same miette style as every other error that
/// ends a run (a newcomer meets one shape of error, not two): clap's first line is the
/// message, what clap adds (possible values, a tip, the usage line) the help. On stdout too,
/// as the error document, when `--format json` was asked for.
pub fn usage(error: &clap::Error, json: bool) {
    let refused = RefusedCommandLine::from_clap(error);
    let rendered = format!("{:?}", miette::Report::new(refused.clone()));
    emit(crate::base::text::visible(&rendered).trim_end());
    if json {
        print_error_document(refused.code, refused.message, refused.help, None);
    }
}

/// A refused command line as a diagnostic. Its code stays `clap::<kind>` (the error
/// document's contract, DESIGN §4), so a CI script can tell an unknown flag from a bad value.
#[derive(Debug, Clone)]
struct RefusedCommandLine {
    code: String,
    message: String,
    help: Option<String>,
}

impl RefusedCommandLine {
    fn from_clap(error: &clap::Error) -> Self {
        let rendered = error.render().to_string();
        let mut lines = rendered.lines();
        let first = lines.next().unwrap_or_default();
        let message = first
            .strip_prefix("error: ")
            .unwrap_or(first)
            .trim()
            .to_string();
        let help: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
        Self {
            code: format!("clap::{:?}", error.kind()),
            message,
            help: (!help.is_empty()).then(|| help.join("\n")),
        }
    }
}

impl std::fmt::Display for RefusedCommandLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RefusedCommandLine {}

impl miette::Diagnostic for RefusedCommandLine {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
}

fn print_error_document(
    code: String,
    message: String,
    help: Option<String>,
    detail: Option<String>,
) {
    use crate::model::report::v1::{ERROR_SCHEMA, ErrorDetail, ErrorDocument};
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
