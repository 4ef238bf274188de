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
    // Unwrapped lines keep `file:line:column` greppable in CI logs.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
    }));
    match ripcord::app::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("{:?}", miette::Report::new(error));
            ExitCode::from(2)
        }
    }
}
