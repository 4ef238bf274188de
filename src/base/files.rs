//! Reading an input file that is what it claims (a facts bundle, a CA file, a rule file): a
//! regular file of bounded size. A FIFO would block forever, `/dev/zero` would be read until
//! memory runs out, and a 10 GB "bundle" would be read whole before being found wrong; each is
//! refused by name instead.

use std::io::Read as _;
use std::path::Path;

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("is not a regular file ({0})")]
    NotRegular(&'static str),
    #[error("is larger than {limit} bytes ({size} bytes)")]
    TooLarge { size: u64, limit: u64 },
}

/// What kind of file it is, for the message.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// Opens `path` if it is a regular file of at most `limit` bytes (symbolic links followed).
/// Checked before opening (opening a FIFO blocks) and again on the open file, in case the path
/// was swapped in between.
pub(crate) fn open_regular(path: &Path, limit: u64) -> Result<(std::fs::File, u64), ReadError> {
    let check = |meta: &std::fs::Metadata| {
        if !meta.is_file() {
            return Err(ReadError::NotRegular(kind(meta)));
        }
        if meta.len() > limit {
            return Err(ReadError::TooLarge {
                size: meta.len(),
                limit,
            });
        }
        Ok(meta.len())
    };
    check(&std::fs::metadata(path)?)?;
    let file = std::fs::File::open(path)?;
    let size = check(&file.metadata()?)?;
    Ok((file, size))
}

/// Reads `path` whole if it is a regular file of at most `limit` bytes; never more than
/// `limit` bytes even if the file grows while it is read.
pub(crate) fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, size) = open_regular(path, limit)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}
