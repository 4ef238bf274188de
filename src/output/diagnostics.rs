//! Lines for the operator on stderr: warnings, notes, and `-v`'s request log. Never headers,
#![allow(
    clippy::print_stderr,
    reason = "this module is where operator-facing stderr lines are written"
)]
//! never secrets: callers pass URLs already stripped of user info.

/// `ripcord: WARNING: …`.
pub(crate) fn warn(message: &str) {
    eprintln!("ripcord: WARNING: {message}");
}

/// `ripcord: …`.
pub(crate) fn note(message: &str) {
    eprintln!("ripcord: {message}");
}

/// One request of `-v`: method, URL, status or error, duration.
pub(crate) fn request(method: &str, url: &str, outcome: &str, duration_ms: u64) {
    eprintln!("ripcord: {method} {url} -> {outcome} ({duration_ms} ms)");
}
