//! The spinner on stderr while facts are collected: on a terminal only, never in pipes or CI
//! logs, and never mixed with `-v`'s request lines.

use std::io::IsTerminal;

/// Clears the spinner when dropped.
pub(crate) struct Spinner(Option<indicatif::ProgressBar>);

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(s) = &self.0 {
            s.finish_and_clear();
        }
    }
}

/// Starts the spinner unless `quiet` or stderr is not a terminal.
pub(crate) fn collecting(quiet: bool) -> Spinner {
    if quiet || !std::io::stderr().is_terminal() {
        return Spinner(None);
    }
    let s = indicatif::ProgressBar::new_spinner().with_message("collecting facts (GET only)…");
    s.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    s.enable_steady_tick(std::time::Duration::from_millis(100));
    Spinner(Some(s))
}
