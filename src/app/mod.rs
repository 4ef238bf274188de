//! Command wiring only: run the pipeline (or the rules commands), hand the result to `output`,
//! return the exit code. Errors are miette diagnostics (exit 2).

mod discovery;
mod dispatch;
pub mod error;
pub mod schema;

use crate::cli::{Cli, Command, RulesCommand};
use crate::output;
use crate::run::load_rules;
pub use dispatch::{Done, run_args};
use error::Error;

/// Runs one command and returns its exit code.
pub fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Rules { command } => return rules(command),
        Command::Completions { shell } => {
            discovery::completions(shell)?;
            return Ok(0);
        }
        Command::Man { dir } => {
            discovery::man(dir.as_deref())?;
            return Ok(0);
        }
        _ => {}
    }
    match block_on(dispatch::execute(&cli.command))?? {
        Done::Report(crate::run::Evaluated {
            report,
            outputs,
            exit_zero,
        }) => {
            output::write_report(&report, outputs)?;
            Ok(exit_code(report.exit_code, exit_zero))
        }
        Done::Fleet(done) => {
            output::write_fleet(&done.report, done.outputs)?;
            Ok(exit_code(done.report.exit_code, done.exit_zero))
        }
        Done::Bundle {
            collected,
            destination,
        } => {
            output::write_bundle(
                destination,
                &collected.text,
                collected.requests,
                collected.failures,
            )?;
            match collected.nothing {
                Some(error) => Err(error.into()),
                None => Ok(0),
            }
        }
    }
}

/// The process exit code of a report: its own, or 0 for 1 and 3 under `--exit-zero` (said on
/// stderr, so a report-only job's log still shows what the gate would have done).
fn exit_code(report: u8, exit_zero: bool) -> u8 {
    if exit_zero && matches!(report, 1 | 3) {
        tracing::info!(
            "--exit-zero: exiting 0 instead of {report} ({})",
            if report == 1 {
                "not ready"
            } else {
                "incomplete"
            }
        );
        0
    } else {
        report
    }
}

/// Runs a future on a single-threaded runtime: collection is I/O-bound, concurrency needs no
/// threads.
fn block_on<F: Future>(future: F) -> Result<F::Output, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    Ok(runtime.block_on(future))
}

fn rules(command: RulesCommand) -> Result<u8, Error> {
    match command {
        RulesCommand::List { format, rules } => {
            let set = load_rules(rules.as_deref())?;
            output::rules::print_list(&set, format)?;
        }
        RulesCommand::Explain { rule_id, rules } => {
            let set = load_rules(rules.as_deref())?;
            let rule = set.get(&rule_id).ok_or_else(|| Error::UnknownRule {
                help: match set.closest(&rule_id) {
                    Some(id) => {
                        format!("did you mean {id:?}? `ripcord rules list` shows every rule")
                    }
                    None => "`ripcord rules list` shows every rule id".to_string(),
                },
                id: rule_id.clone(),
            })?;
            output::rules::print_explain(rule)?;
        }
    }
    Ok(0)
}
