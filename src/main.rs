//! The `ripcord` binary: parse arguments, run, map errors to exit code 2.

#![allow(
    clippy::print_stderr,
    reason = "main reports the errors that end the run, as miette diagnostics"
)]

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match ripcord::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap: --help/--version exit 0, usage errors 2 (our "could not do its job").
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
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
    // Rule expressions are parsed and evaluated by recursion; a roomy stack keeps a long (but
    // allowed) expression from overflowing it. The memory is only reserved, not used.
    let worker = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || ripcord::app::run(cli));
    match worker.map(std::thread::JoinHandle::join) {
        Ok(Ok(Ok(code))) => ExitCode::from(code),
        Ok(Ok(Err(error))) => {
            ripcord::output::diagnostics::error(error);
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
