//! Where one run's report goes: the `--format` rendering to stdout or `--output FILE`, plus
//! every `--report FORMAT=FILE`, all from the same report. Every file is checked before the
//! collection starts (a run must not end in "permission denied") and written whole or not at
//! all ([`Destination`]).

use super::OutputError as Error;
use super::file::Destination;
use super::{Format, Look, render};
use crate::base::named::Named;
use crate::model::report::v1::Report;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it).
    #[default]
    Auto,
    Always,
    Never,
}

impl Named for ColorChoice {
    const ALL: &'static [Self] = &[Self::Auto, Self::Always, Self::Never];

    fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Always => "always",
            Self::Never => "never",
        }
    }

    fn help(self) -> Option<&'static str> {
        (self == Self::Auto)
            .then_some("On a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it)")
    }
}

/// One `--report FORMAT=FILE`, of a single-target report's [`Format`] or a fleet's
/// [`super::FleetFormat`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFile<F = Format> {
    pub format: F,
    pub path: PathBuf,
}

impl<F: Named + std::fmt::Debug> ReportFile<F> {
    /// Parses `FORMAT=FILE` (clap's value parser for `--report`).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let names = || {
            F::ALL
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some((format, path)) = text.split_once('=') else {
            return Err(format!(
                "expected FORMAT=FILE, e.g. junit=ripcord.xml (formats: {})",
                names()
            ));
        };
        let format = F::named(format)
            .ok_or_else(|| format!("unknown format {format:?} (formats: {})", names()))?;
        match path {
            "" => Err(format!(
                "no file after {}=, e.g. junit=ripcord.xml",
                format.name()
            )),
            "-" => Err(
                "stdout takes the --format report; --report writes files (e.g. junit=ripcord.xml)"
                    .to_string(),
            ),
            _ => Ok(Self {
                format,
                path: PathBuf::from(path),
            }),
        }
    }
}

/// Every destination of one run's report, prepared before any work is done.
#[derive(Debug)]
pub struct Outputs<F = Format> {
    /// `--format`, to stdout or `--output`.
    main: (F, Destination),
    /// `--report FORMAT=FILE`, in the order given.
    files: Vec<(F, Destination)>,
    /// How the `--format` report looks where it goes (a file gets [`Look::file`]).
    main_look: Look,
    show_skipped: bool,
}

/// What a run's flags say about its outputs (`--format`, `--output`, `--report`, `--color`,
/// `--show-skipped`).
pub(crate) struct Wanted<'a, F> {
    pub(crate) format: F,
    pub(crate) output: Option<&'a Path>,
    pub(crate) reports: &'a [ReportFile<F>],
    pub(crate) color: ColorChoice,
    pub(crate) show_skipped: bool,
}

impl Outputs {
    /// Writes the report to every destination (see [`Outputs::write_with`]).
    pub(crate) fn write(self, report: &Report) -> Result<(), Error> {
        self.write_with(|format, look| render(report, format, look))
    }
}

impl<F: Named> Outputs<F> {
    /// Checks every destination: each file's folder takes a new file, and no two outputs
    /// name the same file (one would silently replace the other).
    pub(crate) fn prepare_wanted(wanted: Wanted<'_, F>) -> Result<Self, Error> {
        let common = wanted;
        let mut seen: Vec<(PathBuf, String)> = Vec::new();
        let mut claim = |path: &Path, flag: String| -> Result<(), Error> {
            let key = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            if let Some((_, first)) = seen.iter().find(|(p, _)| *p == key) {
                return Err(Error::usage(
                    format!("{flag} and {first} name the same file; one would replace the other"),
                    Some("give each report its own file"),
                ));
            }
            seen.push((key, flag));
            Ok(())
        };
        let main = match common.output {
            Some(path) if path.as_os_str() != "-" => {
                claim(path, format!("--output {}", path.display()))?;
                Destination::prepare(path, true, "--output")?
            }
            _ => Destination::Stdout,
        };
        let mut files = Vec::with_capacity(common.reports.len());
        for report in common.reports {
            let flag = format!(
                "--report {}={}",
                report.format.name(),
                report.path.display()
            );
            claim(&report.path, flag)?;
            files.push((
                report.format,
                Destination::prepare(&report.path, true, "--report")?,
            ));
        }
        let main_look = if matches!(main, Destination::Stdout) {
            Look::stdout(common.color, common.show_skipped)
        } else {
            Look::file(common.show_skipped)
        };
        Ok(Self {
            main: (common.format, main),
            files,
            main_look,
            show_skipped: common.show_skipped,
        })
    }

    /// Writes the report, rendered by `render`, to every destination. A file that cannot be
    /// written does not stop the others; the first such error is returned (exit 2) once all
    /// were tried.
    pub(crate) fn write_with(self, render: impl Fn(F, &Look) -> String) -> Result<(), Error> {
        let (format, main) = self.main;
        let mut first_error = None;
        let all = std::iter::once((format, main, self.main_look)).chain(
            self.files
                .into_iter()
                .map(|(f, d)| (f, d, Look::file(self.show_skipped))),
        );
        for (format, destination, look) in all {
            let shown = destination.path().map(|p| p.display().to_string());
            match destination.write(&render(format, &look)) {
                Ok(()) => {
                    if let Some(path) = shown {
                        tracing::info!("wrote the {} report to {path}", format.name());
                    }
                }
                Err(e) => {
                    if first_error.is_none() {
                        first_error = Some(e);
                    } else {
                        super::diagnostics::error(e);
                    }
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Look {
    /// A file: no colour, the default width.
    pub(crate) fn file(show_skipped: bool) -> Self {
        Self {
            color: false,
            width: DEFAULT_WIDTH,
            show_skipped,
        }
    }

    /// Standard output: colour per `--color` and the environment, the terminal's width.
    pub(crate) fn stdout(choice: ColorChoice, show_skipped: bool) -> Self {
        let terminal = std::io::stdout().is_terminal();
        Self {
            color: use_color(choice, terminal, |name| std::env::var_os(name)),
            width: width(terminal, std::env::var("COLUMNS").ok().as_deref()),
            show_skipped,
        }
    }
}

/// The width of a table written to a file or a pipe, where no terminal says otherwise.
pub(crate) const DEFAULT_WIDTH: u16 = 120;

/// Tables narrower than this are unreadable; a smaller `COLUMNS` is taken as this.
const MIN_WIDTH: u16 = 40;

/// The table's width: `COLUMNS` when set (as shells export it), else the terminal's, else
/// [`DEFAULT_WIDTH`].
fn width(terminal: bool, columns: Option<&str>) -> u16 {
    if let Some(n) = columns.and_then(|c| c.trim().parse::<u16>().ok()) {
        return n.max(MIN_WIDTH);
    }
    let measured = terminal
        .then(|| terminal_size::terminal_size_of(std::io::stdout()))
        .flatten()
        .map(|(terminal_size::Width(w), _)| w);
    measured.map_or(DEFAULT_WIDTH, |w| w.max(MIN_WIDTH))
}

/// Whether to colour: `--color always|never` win; `auto` follows NO_COLOR (set and not
/// empty: never, <https://no-color.org>), then CLICOLOR_FORCE (set and not `0`: always),
/// then CLICOLOR=0 (never), then whether stdout is a terminal that is not `dumb`.
fn use_color(
    choice: ColorChoice,
    terminal: bool,
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> bool {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if set("NO_COLOR").is_some() {
                false
            } else if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                true
            } else if set("CLICOLOR").is_some_and(|v| v == "0") {
                false
            } else {
                terminal && var("TERM").is_none_or(|t| t != "dumb")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<std::ffi::OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.into())
        }
    }

    #[test]
    fn colour_follows_the_flag_then_the_environment_then_the_terminal() {
        use ColorChoice::{Always, Auto, Never};
        assert!(use_color(Always, false, env(&[("NO_COLOR", "1")])));
        assert!(!use_color(Never, true, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(use_color(Auto, true, env(&[])));
        assert!(!use_color(Auto, false, env(&[])));
        assert!(!use_color(Auto, true, env(&[("NO_COLOR", "1")])));
        // An empty NO_COLOR is not set (no-color.org).
        assert!(use_color(Auto, true, env(&[("NO_COLOR", "")])));
        assert!(!use_color(
            Auto,
            true,
            env(&[("NO_COLOR", "x"), ("CLICOLOR_FORCE", "1")])
        ));
        assert!(use_color(Auto, false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!use_color(Auto, false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(!use_color(Auto, true, env(&[("CLICOLOR", "0")])));
        assert!(!use_color(Auto, true, env(&[("TERM", "dumb")])));
    }

    #[test]
    fn width_comes_from_columns_else_the_default() {
        assert_eq!(width(false, Some("80")), 80);
        assert_eq!(width(true, Some(" 200 ")), 200);
        assert_eq!(width(false, Some("10")), MIN_WIDTH);
        assert_eq!(width(false, Some("wide")), DEFAULT_WIDTH);
        assert_eq!(width(false, None), DEFAULT_WIDTH);
    }

    #[test]
    fn report_files_parse_format_then_file() {
        assert_eq!(
            ReportFile::<Format>::parse("junit=out/ripcord.xml"),
            Ok(ReportFile {
                format: Format::Junit,
                path: PathBuf::from("out/ripcord.xml")
            })
        );
        assert_eq!(
            ReportFile::<Format>::parse("Markdown=a=b.md").map(|r| r.path),
            Ok(PathBuf::from("a=b.md"))
        );
        for bad in ["junit", "xml=a.xml", "json=", "table=-"] {
            assert!(ReportFile::<Format>::parse(bad).is_err(), "{bad}");
        }
    }
}
