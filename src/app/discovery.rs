//! Discovery: shell completions (`clap_complete`) and man pages (`clap_mangen`), generated from
//! the same command definition as `--help`, so they never drift from the flags.

use crate::app::error::Error;
use crate::cli::Cli;
use clap::CommandFactory as _;
use std::path::Path;

/// Writes the completion script for `shell` to stdout.
pub(crate) fn completions(shell: clap_complete::Shell) -> Result<(), Error> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ripcord", &mut script);
    Ok(crate::output::write_stdout(&String::from_utf8_lossy(
        &script,
    ))?)
}

/// Writes `ripcord.1` to stdout, or every page (`ripcord.1`, `ripcord-preflight.1`,
/// `ripcord-preflight-elastic.1`, …) into `dir`, each written whole or not at all.
pub(crate) fn man(dir: Option<&Path>) -> Result<(), Error> {
    let command = Cli::command();
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        return Ok(crate::output::write_stdout(&String::from_utf8_lossy(
            &page,
        ))?);
    };
    let mut pages = Vec::new();
    collect_pages(command, "ripcord", &mut pages)?;
    for (name, text) in &pages {
        let path = dir.join(format!("{name}.1"));
        crate::output::file::Destination::prepare(&path, true, "--dir")?.write(text)?;
    }
    tracing::info!("wrote {} man pages to {}", pages.len(), dir.display());
    Ok(())
}

/// Renders `command`'s page as `name`, then each subcommand's as `name-sub`.
fn collect_pages(
    command: clap::Command,
    name: &str,
    pages: &mut Vec<(String, String)>,
) -> Result<(), Error> {
    let command = command
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    pages.push((
        name.to_string(),
        String::from_utf8_lossy(&page).into_owned(),
    ));
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        collect_pages(sub.clone(), &format!("{name}-{}", sub.get_name()), pages)?;
    }
    Ok(())
}
