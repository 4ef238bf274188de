//! Writing a file so that nothing is lost: `collect --output` checks the destination before the
//! collection starts (a full collection must not end in "permission denied"), writes into a
//! temporary file in the same folder, flushes it to disk and renames it over the destination,
//! so a kill mid-write leaves the old bundle whole and no half-written one behind.

use super::OutputError as Error;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Where a command's output goes, checked before any work is done.
#[derive(Debug)]
pub enum Destination {
    /// `-`: standard output.
    Stdout,
    /// A file, written through a temporary file beside it.
    File(Prepared),
}

/// A destination file whose folder has been shown writable: the temporary file already exists
/// there and becomes the destination on [`Destination::write`].
#[derive(Debug)]
pub struct Prepared {
    path: PathBuf,
    temp: tempfile::NamedTempFile,
    overwrite: bool,
}

impl Destination {
    /// Checks `path` before anything is collected: `-` is stdout; an existing file is refused
    /// unless `overwrite`; the folder must exist and take a new file.
    pub(crate) fn prepare(path: &Path, overwrite: bool, flag: &str) -> Result<Self, Error> {
        if path.as_os_str() == "-" {
            return Ok(Self::Stdout);
        }
        let shown = path.display();
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(Error::usage(
                    format!("{flag} {shown} is a folder"),
                    Some("give a file name"),
                ));
            }
            Ok(meta) if !overwrite => {
                let what = if meta.is_file() {
                    "a file"
                } else {
                    "something that is not a regular file"
                };
                return Err(Error::usage(
                    format!("{flag} {shown} exists ({what}); refusing to overwrite it"),
                    Some("give --force to replace it, or another file name"),
                ));
            }
            _ => {}
        }
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".ripcord-")
            .suffix(".partial")
            .tempfile_in(&folder)
            .map_err(|e| {
                Error::usage(
                    format!("cannot write to the folder {}: {e}", folder.display()),
                    Some("check that the folder exists and is writable before collecting"),
                )
            })?;
        Ok(Self::File(Prepared {
            path: path.to_path_buf(),
            temp,
            overwrite,
        }))
    }

    /// Writes `text` whole (made from redacted facts): to stdout, or into the temporary file, synced,
    /// then renamed over the destination (without `--force`, only if nothing appeared there
    /// in the meantime).
    pub(crate) fn write(self, text: &str) -> Result<(), Error> {
        match self {
            Self::Stdout => Ok(super::write_stdout(text)?),
            Self::File(Prepared {
                path,
                mut temp,
                overwrite,
            }) => {
                let write_error = |source| {
                    Error::from(crate::model::facts::bundle::BundleError::Write {
                        path: path.display().to_string(),
                        source,
                    })
                };
                temp.write_all(text.as_bytes())
                    .and_then(|()| temp.as_file().sync_all())
                    .map_err(write_error)?;
                let persisted = if overwrite {
                    temp.persist(&path)
                } else {
                    temp.persist_noclobber(&path)
                };
                persisted.map_err(|e| write_error(e.error))?;
                Ok(())
            }
        }
    }

    /// The file written, for the note on stderr.
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            Self::Stdout => None,
            Self::File(p) => Some(&p.path),
        }
    }
}
