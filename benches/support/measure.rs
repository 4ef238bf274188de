//! Whole-process measurements of the ripcord binary: wall time and peak RSS.

use super::launcher;
use std::process::Command;
use std::time::Duration;

/// One finished run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    /// From spawn to exit.
    pub(crate) wall: Duration,
    /// The process's own peak resident set, in bytes.
    pub(crate) peak_rss: u64,
    /// The exit code; `None` when a signal ended the run.
    pub(crate) code: Option<i32>,
    /// The run hit its time cap and was killed.
    pub(crate) timed_out: bool,
}

/// The runs of one measurement.
#[derive(Debug, Default)]
pub(crate) struct Samples(pub(crate) Vec<Sample>);

impl Samples {
    /// Wall times, shortest first.
    fn sorted_walls(&self) -> Vec<Duration> {
        let mut walls: Vec<Duration> = self.0.iter().map(|s| s.wall).collect();
        walls.sort();
        walls
    }

    /// The median wall time (the upper one of an even count, the stricter reading).
    pub(crate) fn median(&self) -> Duration {
        let walls = self.sorted_walls();
        walls[walls.len() / 2]
    }

    pub(crate) fn min(&self) -> Duration {
        self.sorted_walls()[0]
    }

    pub(crate) fn max(&self) -> Duration {
        *self.sorted_walls().last().expect("at least one run")
    }

    /// A run was killed at the cap: the figures are lower bounds.
    pub(crate) fn timed_out(&self) -> bool {
        self.0.iter().any(|s| s.timed_out)
    }

    /// The highest peak RSS of any run, in bytes.
    pub(crate) fn peak_rss(&self) -> u64 {
        self.0.iter().map(|s| s.peak_rss).max().unwrap_or(0)
    }

    /// Why these runs cannot be trusted, if they cannot: a run timed out, was killed or
    /// exited with a code outside `allowed`.
    pub(crate) fn problem(&self, allowed: &[i32]) -> Option<String> {
        self.0.iter().find_map(|s| {
            if s.timed_out {
                return Some(format!("killed at the {} s cap", s.wall.as_secs()));
            }
            match s.code {
                None => Some("ended by a signal".to_string()),
                Some(c) if !allowed.contains(&c) => Some(format!("exit code {c}")),
                Some(_) => None,
            }
        })
    }
}

/// The binary under test, with a clean credential environment (as the tests run it). Its
/// stdin, stdout and stderr are always null (see [`launcher::run`]): rendering the report
/// is part of the measured work, printing it is not.
pub(crate) fn ripcord() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ripcord"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RIPCORD_") {
            c.env_remove(key);
        }
    }
    c
}

/// One untimed warm-up run (page cache, lazily loaded libraries), then `runs` timed ones.
/// A run that times out ends the series: the budget is blown and more runs would only
/// make the bench slower.
pub(crate) fn repeat(runs: usize, cap: Duration, mut command: impl FnMut() -> Command) -> Samples {
    let warm_up = launcher::run(&command(), cap);
    if warm_up.timed_out {
        return Samples(vec![warm_up]);
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let sample = launcher::run(&command(), cap);
        samples.push(sample);
        if sample.timed_out {
            break;
        }
    }
    Samples(samples)
}
