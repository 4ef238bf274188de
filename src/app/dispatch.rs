//! From a parsed command line to what it produced, before it is printed: the single-target
//! pipeline (`run`) or the fleet.

use super::error::Error;
use crate::cli::Command;
use crate::model::upgrade::Mode;
use crate::output::file::Destination;
use crate::run::{self, Collected};

/// What `preflight`, `rollback` or `collect` produced, before it is printed.
#[derive(Debug)]
pub enum Done {
    Report(run::Evaluated),
    /// `ripcord fleet` and `fleet merge`.
    Fleet(crate::fleet::FleetDone),
    Bundle {
        collected: Collected,
        /// Checked (and a temporary file made there) before collecting.
        destination: Destination,
    },
}

/// Runs a pipeline command as the binary does, from its command line (`argv[0]` is the program
/// name), returning what it would print: the entry point of the tests and benches.
pub async fn run_args<I, T>(argv: I) -> Result<Done, Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser as _;
    let cli =
        crate::cli::Cli::try_parse_from(argv).map_err(|e| Error::usage(e.to_string(), None))?;
    execute(&cli.command).await
}

/// Runs `preflight`, `rollback`, `collect` or `fleet`.
pub(crate) async fn execute(command: &Command) -> Result<Done, Error> {
    match command {
        Command::Preflight { product } => Ok(Done::Report(
            run::report(Mode::Preflight, product.product, &product.matches).await?,
        )),
        Command::Rollback { product } => Ok(Done::Report(
            run::report(Mode::Rollback, product.product, &product.matches).await?,
        )),
        Command::Collect { product } => {
            let (collected, destination) = run::collect(product.product, &product.matches).await?;
            Ok(Done::Bundle {
                collected,
                destination,
            })
        }
        Command::Fleet { args, command } => match command {
            Some(crate::cli::FleetCommand::Merge { shards, out }) => {
                Ok(Done::Fleet(crate::fleet::merge(shards, out)?))
            }
            None => Ok(Done::Fleet(crate::fleet::run(args).await?)),
        },
        Command::Rules { .. } | Command::Completions { .. } | Command::Man { .. } => {
            Err(Error::usage("this command runs no pipeline", None))
        }
    }
}
