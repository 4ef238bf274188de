//! The `ripcord` binary: parse arguments, run, map errors to exit code 2.

#![allow(
    clippy::print_stderr,
    reason = "main reports the errors that end the run, as miette diagnostics"
)]

use clap::Parser;
use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;

/// The system allocator, telling `ripcord::base::memory` of every allocation and free so that what
/// a parsed answer holds is measured, not guessed (see that module). The only `unsafe` of
/// ripcord, kept out of the library (which forbids it): `GlobalAlloc` is an unsafe trait,
/// and each method only forwards its arguments to `System` unchanged.
struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments, so `System`'s
// guarantees hold; `record` never allocates (a `const` thread-local `Cell`), so it cannot
// re-enter the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged (see above).
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            ripcord::base::memory::record(ripcord::base::memory::cost(layout.size()));
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged (see above).
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            ripcord::base::memory::record(ripcord::base::memory::cost(layout.size()));
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.dealloc(ptr, layout) };
        ripcord::base::memory::record(-ripcord::base::memory::cost(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged (see above).
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            ripcord::base::memory::record(
                ripcord::base::memory::cost(new_size)
                    .wrapping_sub(ripcord::base::memory::cost(layout.size())),
            );
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One malloc arena for the whole process. glibc gives threads arenas of their own, and what
/// a parse frees stays in its thread's arena while the next parse, on another thread, takes
/// fresh pages: a run fed hostile answers on every endpoint reached 350 MB of RSS while its
/// live heap never passed 193 MiB. With one arena freed memory is reused (216 MB). ripcord's
/// threads mostly wait on the network, so they hardly contend for it.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets a malloc parameter; called first thing, before any thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

fn main() -> ExitCode {
    one_malloc_arena();
    // Warnings, notes and -v's request lines are tracing events; this writes them to stderr.
    ripcord::output::log::install();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json = ripcord::output::diagnostics::wants_json(&args);
    // Unwrapped lines keep `file:line:column` greppable in CI logs; no colour, because every
    // control character of the rendered error is escaped (it quotes bundles and rule files).
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .wrap_lines(false)
                .color(false)
                .build(),
        )
    }));
    let cli = match ripcord::cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // A usage error is exit 2 (our "could not do its job"), in JSON too when asked.
            ripcord::output::diagnostics::usage(&e, json);
            return ExitCode::from(2);
        }
        Err(e) => {
            // --help, --version: exit 0.
            let _ = e.print();
            return ExitCode::from(0);
        }
    };
    // Rule expressions are parsed and evaluated by recursion; a roomy stack keeps a long (but
    // allowed) expression from overflowing it. The memory is only reserved, not used.
    let worker = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || ripcord::app::run(cli));
    match worker.map(std::thread::JoinHandle::join) {
        Ok(Ok(Ok(code))) => ExitCode::from(code),
        Ok(Ok(Err(error))) => {
            ripcord::output::diagnostics::fail(error, json);
            ExitCode::from(2)
        }
        Ok(Err(_)) => ExitCode::from(101),
        Err(e) => {
            eprintln!("ripcord: cannot start: {e}");
            ExitCode::from(2)
        }
    }
}

/// The stack of the thread that does the work.
const STACK_BYTES: usize = 256 * 1024 * 1024;
