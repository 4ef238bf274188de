//! How much memory the answers being parsed hold, and the budget that stops them.
//!
//! A byte cap alone does not bound memory: thirty bytes of JSON (`{"feature_name":"k"},`) can
//! become a few hundred bytes of parsed struct, so a server streaming tiny entries without end
//! fills gigabytes long before a 512 MiB byte cap. What the parse of an answer *holds* is
//! therefore measured, not estimated: the binary installs a counting allocator (`main.rs`) that
//! reports every allocation and free to [`record`], which keeps a running total per thread.
//! A parse runs on one thread (a blocking thread for a streamed body), so what that thread's
//! total grew by while it parsed, less what the reading itself allocated and freed (network
//! chunks allocated elsewhere and freed here), is what the parsed answer holds. [`Meter`]
//! checks it between reads, against the endpoint's budget and the run's.
//!
//! Without the counting allocator (the library linked into a test binary) every total stays 0
//! and the budgets never trip; the byte caps still hold.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};

thread_local! {
    /// Bytes allocated minus bytes freed on this thread, since it started. `const` and a
    /// type without `Drop`: reading it never allocates, which an allocator hook requires.
    static NET: Cell<isize> = const { Cell::new(0) };
}

/// Called by the counting allocator on every allocation (positive) and free (negative) of
/// this thread. Never allocates; during thread teardown it is silently skipped.
pub fn record(delta: isize) {
    let _ = NET.try_with(|net| net.set(net.get().wrapping_add(delta)));
}

/// What an allocation of `size` bytes costs the heap: a small one costs much more than it asks
/// for (a one-byte string takes a 32-byte chunk of glibc's malloc: a header, 16-byte
/// alignment, a minimum size), and a parsed answer is mostly small strings, so counting the
/// bytes asked for would miss half of what it holds. For the counting allocator.
pub fn cost(size: usize) -> isize {
    let chunk = size.saturating_add(8).next_multiple_of(16).max(32);
    isize::try_from(chunk).unwrap_or(isize::MAX)
}

/// This thread's running total (see [`NET`]).
fn thread_net() -> isize {
    NET.try_with(Cell::get).unwrap_or(0)
}

/// The most that the answers parsed in one run may hold together. A 270,000-snapshot listing
/// with two feature states each (the largest deployment ripcord is measured on) holds
/// 218 MiB parsed; 256 MiB leaves room for the other answers of a real cluster and keeps a run
/// fed hostile answers on every endpoint under 300 MB of RSS (`cargo bench`, budget 6).
pub(crate) const RUN_BUDGET: usize = 256 * 1024 * 1024;

/// What the answers of one run hold: each parse adds its peak as it grows. Nothing is
/// given back when a parse ends, even a failed one: a parsed answer's facts live until the
/// report is written, and the memory of a failed one is not handed back to the system at once
/// (each parsing thread has its own allocator arena), so peak RSS, which this bounds, keeps it.
#[derive(Debug)]
pub(crate) struct RunMemory {
    limit: usize,
    held: AtomicIsize,
}

impl RunMemory {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            held: AtomicIsize::new(0),
        })
    }

    fn held(&self) -> usize {
        usize::try_from(self.held.load(Ordering::Relaxed)).unwrap_or(0)
    }
}

/// Why a parse was stopped: it would hold more than one of its budgets allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OverBudget {
    /// This answer alone.
    #[error(
        "answer too large: parsed, it would hold over {} MiB of memory, more than this endpoint can really need",
        mib(*limit)
    )]
    Answer { limit: usize },
    /// Every answer of the run together.
    #[error(
        "answer too large: the answers of this run would hold over {} MiB of memory together (ripcord's budget for a run)",
        mib(*limit)
    )]
    Run { limit: usize },
}

fn mib(bytes: usize) -> usize {
    bytes / (1024 * 1024)
}

/// This thread's total at one moment, for [`Meter::exclude_since`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark(isize);

impl Mark {
    pub(crate) fn now() -> Self {
        Mark(thread_net())
    }
}

/// Measures what one parse holds, on the thread that parses (create it there).
#[derive(Debug)]
pub(crate) struct Meter {
    run: Arc<RunMemory>,
    /// The budget of this answer alone.
    limit: usize,
    /// The thread's total when the parse started.
    start: isize,
    /// What reading (not parsing) changed the thread's total by: excluded.
    reading: isize,
    /// What this parse has added to the run's total so far.
    published: isize,
}

impl Meter {
    pub(crate) fn start(run: Arc<RunMemory>, limit: usize) -> Self {
        Self {
            run,
            limit,
            start: thread_net(),
            reading: 0,
            published: 0,
        }
    }

    /// What the parse holds now, in bytes.
    pub(crate) fn held(&self) -> usize {
        let held = thread_net()
            .wrapping_sub(self.start)
            .wrapping_sub(self.reading);
        usize::try_from(held).unwrap_or(0)
    }

    /// Publishes what the parse holds to the run and checks both budgets.
    pub(crate) fn check(&mut self) -> Result<(), OverBudget> {
        let held = self.held();
        // The parse's peak is what counts: memory it frees again (a list moved to a larger
        // one) is not handed back to the system at once either.
        let now = isize::try_from(held).unwrap_or(isize::MAX);
        if now > self.published {
            self.run
                .held
                .fetch_add(now.wrapping_sub(self.published), Ordering::Relaxed);
            self.published = now;
        }
        if held > self.limit {
            return Err(OverBudget::Answer { limit: self.limit });
        }
        if self.run.held() > self.run.limit {
            return Err(OverBudget::Run {
                limit: self.run.limit,
            });
        }
        Ok(())
    }

    /// Leaves out of what the parse holds what this thread allocated and freed since `mark`
    /// (taking a chunk off the network and copying it is reading, not parsing).
    pub(crate) fn exclude_since(&mut self, mark: Mark) {
        self.reading = self.reading.wrapping_add(thread_net().wrapping_sub(mark.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_allocations_cost_a_whole_chunk() {
        assert_eq!(cost(1), 32);
        assert_eq!(cost(24), 32);
        assert_eq!(cost(25), 48);
        assert_eq!(cost(4096), 4112);
    }

    #[test]
    fn a_parse_over_its_budget_is_stopped() {
        let run = RunMemory::new(1000);
        let mut meter = Meter::start(Arc::clone(&run), 100);
        record(60);
        assert_eq!(meter.check(), Ok(()));
        record(60);
        assert_eq!(meter.check(), Err(OverBudget::Answer { limit: 100 }));
        assert_eq!(run.held(), 120);
        record(-120);
    }

    #[test]
    fn the_run_budget_spans_parses_and_reading_is_not_counted() {
        let run = RunMemory::new(100);
        let mut first = Meter::start(Arc::clone(&run), 1000);
        record(70);
        assert_eq!(first.check(), Ok(()));
        let mut second = Meter::start(Arc::clone(&run), 1000);
        let mark = Mark::now();
        record(500);
        second.exclude_since(mark);
        assert_eq!(second.held(), 0);
        record(40);
        assert_eq!(second.check(), Err(OverBudget::Run { limit: 100 }));
        assert_eq!(run.held(), 110);
        record(-610);
    }
}
