//! One printed line per budget, and the summary that decides the exit code.

use super::measure::Samples;
use std::time::Duration;

/// Exit codes of a run that did its job: ready, not ready, incomplete (2 is "could not run").
pub(crate) const VERDICT_CODES: &[i32] = &[0, 1, 3];
/// Budgets are in decimal megabytes, the stricter reading of "MB"; figures show MiB too.
const MB: f64 = 1_000_000.0;
const MIB: f64 = 1_048_576.0;

/// One budget, measured.
pub(crate) struct Check {
    pub(crate) name: String,
    pub(crate) figure: String,
    pub(crate) budget: String,
    pub(crate) pass: bool,
}

impl Check {
    /// The median wall time of `samples` against `budget`; `detail` says what was run.
    /// Untrustworthy runs (see [`Samples::problem`]) fail the check.
    pub(crate) fn time(name: &str, samples: &Samples, budget: Duration, detail: &str) -> Check {
        Self::time_exiting(name, samples, budget, detail, VERDICT_CODES)
    }

    /// [`Check::time`] of runs that must exit with one of `codes` (a run that collects
    /// nothing exits 2, and that is what it is measured for).
    pub(crate) fn time_exiting(
        name: &str,
        samples: &Samples,
        budget: Duration,
        detail: &str,
        codes: &[i32],
    ) -> Check {
        let figure = if samples.timed_out() {
            format!(
                "over {} ms (no median: {}{detail})",
                samples.max().as_millis(),
                runs(samples)
            )
        } else {
            format!(
                "median {} ms (min {} ms, max {} ms; {}{detail})",
                samples.median().as_millis(),
                samples.min().as_millis(),
                samples.max().as_millis(),
                runs(samples)
            )
        };
        Check::judge(
            name,
            figure,
            format!("<= {} ms", budget.as_millis()),
            samples.median() <= budget,
            samples.problem(codes),
        )
    }

    /// The highest peak RSS of `samples` against `budget_mb` (decimal megabytes).
    pub(crate) fn rss(name: &str, samples: &Samples, budget_mb: f64, detail: &str) -> Check {
        let bytes = samples.peak_rss() as f64;
        let (mb, mib) = (bytes / MB, bytes / MIB);
        let at_least = if samples.timed_out() { "at least " } else { "" };
        Check::judge(
            name,
            format!(
                "peak RSS {at_least}{mb:.1} MB = {mib:.1} MiB (max of {}{detail})",
                runs(samples)
            ),
            format!("<= {budget_mb:.0} MB"),
            mb <= budget_mb,
            samples.problem(VERDICT_CODES),
        )
    }

    /// A check that passes only when its figure is within budget and nothing went wrong;
    /// what went wrong is appended to the figure.
    pub(crate) fn judge(
        name: &str,
        figure: String,
        budget: String,
        within: bool,
        problem: Option<String>,
    ) -> Check {
        let figure = match &problem {
            Some(p) => format!("{figure}; {p}"),
            None => figure,
        };
        Check {
            name: name.to_string(),
            figure,
            budget,
            pass: within && problem.is_none(),
        }
    }
}

/// "1 run", "5 runs".
fn runs(samples: &Samples) -> String {
    match samples.0.len() {
        1 => "1 run".to_string(),
        n => format!("{n} runs"),
    }
}

/// Every check so far, printed as it comes in.
#[derive(Default)]
pub(crate) struct Report(Vec<Check>);

impl Report {
    pub(crate) fn add(&mut self, check: Check) {
        println!(
            "{:<5} {:<34} {}  (budget {})",
            if check.pass { "PASS" } else { "FAIL" },
            check.name,
            check.figure,
            check.budget
        );
        self.0.push(check);
    }

    /// Prints the summary; true when every check passed.
    pub(crate) fn summary(&self) -> bool {
        let failed: Vec<&str> = self
            .0
            .iter()
            .filter(|c| !c.pass)
            .map(|c| c.name.as_str())
            .collect();
        println!();
        if failed.is_empty() {
            println!("summary: all {} budgets met", self.0.len());
        } else {
            println!(
                "summary: {} of {} budgets exceeded: {}",
                failed.len(),
                self.0.len(),
                failed.join(", ")
            );
        }
        failed.is_empty()
    }
}
