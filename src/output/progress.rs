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

/// The fleet's `12/35 done` line; cleared when dropped.
pub(crate) struct Counter(Option<indicatif::ProgressBar>);

impl Counter {
    /// One more target finished.
    pub(crate) fn done(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Counts finished targets on stderr, unless `quiet` or stderr is not a terminal.
pub(crate) fn fleet(total: usize, quiet: bool) -> Counter {
    if quiet || !std::io::stderr().is_terminal() {
        return Counter(None);
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{pos}/{len} done ({elapsed})") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Counter(Some(bar))
}
