//! Finding and reading rule files: a bounded walk of `--rules DIR` that never follows a link
//! to a directory, each file read only when regular, bounded and UTF-8, every refusal a problem
//! naming the file.

use super::*;

/// How many directory levels below `--rules DIR` are walked. Rules are organised a level or
/// two deep (`rules/<product>/`); a deeper tree is a mistake or a trap, reported rather than
/// walked.
pub(super) const MAX_DIR_DEPTH: usize = 16;
/// How many directory entries (files, folders, links) the walk looks at in all. A rule set
/// holds tens of files; an attachment holding more than this is not one, and a bound keeps
/// the walk (and the parsing after it) short whatever it holds.
pub(super) const MAX_DIR_ENTRIES: usize = 10_000;
/// The largest rule file read, in bytes. The longest built-in rule is a few KiB; anything
/// near this is not a rule, and a bound read keeps `/dev/zero` or a huge file from filling
/// memory.
pub(super) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A problem with the rules directory itself (no file text to point into).
pub(super) fn dir_problem(path: &Path, message: String) -> RuleFileError {
    problem(&path.display().to_string(), "", 0..0, message, "", None)
}

/// The `.toml` files under `dir`, sorted, walked without following symbolic links to
/// directories.
///
/// Links to directories are skipped rather than followed with a record of visited
/// (device, inode) pairs: that record needs platform-specific metadata, and a rules folder
/// from a ticket attachment has no business reaching outside itself (a link to `/` would
/// walk the whole disk even without a loop). A link to a file is kept: reading it checks
/// that its target is a regular file. The walk stops at [`MAX_DIR_DEPTH`] levels and
/// [`MAX_DIR_ENTRIES`] entries, each with a problem that says so.
pub(super) fn rule_files(dir: &Path, problems: &mut Vec<RuleFileError>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut seen = 0usize;
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(dir_problem(&d, format!("cannot read rules directory: {e}")));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    problems.push(dir_problem(&d, format!("cannot read rules directory: {e}")));
                    break;
                }
            };
            seen += 1;
            if seen > MAX_DIR_ENTRIES {
                problems.push(dir_problem(
                    dir,
                    format!(
                        "more than {MAX_DIR_ENTRIES} files and folders under the rules directory: not a rule set (nothing past them was read)"
                    ),
                ));
                out.sort();
                return out;
            }
            let path = entry.path();
            // `DirEntry::file_type` does not follow symbolic links.
            match entry.file_type() {
                Ok(t) if t.is_dir() && depth < MAX_DIR_DEPTH => stack.push((path, depth + 1)),
                Ok(t) if t.is_dir() => problems.push(dir_problem(
                    &path,
                    format!(
                        "rules directory nested more than {MAX_DIR_DEPTH} levels deep: not read"
                    ),
                )),
                // Files, links to files and anything else named `.toml`: reading it tells
                // a regular file from a FIFO, a device or a link to a directory.
                Ok(_) if path.extension().is_some_and(|e| e == "toml") => out.push(path),
                Ok(_) => {}
                Err(e) => problems.push(dir_problem(&path, format!("cannot read: {e}"))),
            }
        }
    }
    out.sort();
    out
}

/// Why a rule file could not be read as text.
pub(super) enum Unreadable {
    /// Not a regular file, too large, or an I/O error: the message.
    File(String),
    /// Not UTF-8: the text with invalid bytes replaced, and the offset of the first one.
    NotUtf8 { lossy: String, at: usize },
}

impl Unreadable {
    /// The problem for the file shown as `path`.
    pub(super) fn problem(self, path: &str) -> RuleFileError {
        match self {
            Self::File(message) => problem(path, "", 0..0, message, "", None),
            Self::NotUtf8 { lossy, at } => problem(
                path,
                &lossy,
                at..at,
                "cannot read: not UTF-8 text".into(),
                "invalid byte here",
                Some("save the rule file as UTF-8".into()),
            ),
        }
    }
}

/// Reads one rule file, which must be a regular file of at most [`MAX_FILE_BYTES`] of UTF-8
/// (see [`crate::base::files`]: a FIFO or a device is refused before it is opened).
pub(super) fn read_rule_file(path: &Path) -> Result<String, Unreadable> {
    use crate::base::files::ReadError;
    let bytes = crate::base::files::read_regular(path, MAX_FILE_BYTES).map_err(|e| {
        Unreadable::File(match e {
            ReadError::Io(e) => format!("cannot read: {e}"),
            ReadError::NotRegular(kind) => format!("cannot read: not a regular file ({kind})"),
            ReadError::TooLarge { .. } => format!(
                "cannot read: larger than {} MiB",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        })
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        Unreadable::NotUtf8 {
            lossy: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            at,
        }
    })
}
