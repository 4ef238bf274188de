//! A response body parsed as it arrives, so its text is never in memory whole.
//!
//! The HTTP side ([`crate::http::BodyTo::Stream`]) sends each chunk down a small bounded
//! channel; a blocking thread reads them through [`ChunkReader`] and deserializes straight
//! into the typed wire struct. Memory is then what the struct keeps (unknown fields are skipped
//! unread), plus a few chunks in flight; the per-endpoint byte cap bounds the rest. The first
//! bytes are kept to tell an HTML page or plain text from JSON when parsing fails.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

/// Chunks in flight between the socket and the parser: enough to keep both busy, small
/// enough not to matter (each is at most a TLS record or a socket read).
pub(crate) const CHANNEL_CHUNKS: usize = 16;

/// Bytes of the start of a body kept for the diagnosis of a failed parse.
const PREFIX_BYTES: usize = 512;

/// Why a streamed body did not parse, with what is needed to say so plainly.
#[derive(Debug)]
pub(crate) struct StreamError {
    pub(crate) error: serde_json::Error,
    /// The first bytes of the body.
    pub(crate) prefix: Vec<u8>,
    /// How many bytes the parser read.
    pub(crate) read: usize,
}

/// Reads the chunks of one body as a `std::io::Read` (on a blocking thread).
struct ChunkReader {
    chunks: mpsc::Receiver<Bytes>,
    current: Bytes,
    prefix: Vec<u8>,
    read: usize,
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        let taken = self.current.split_to(n);
        buf[..n].copy_from_slice(&taken);
        if self.prefix.len() < PREFIX_BYTES {
            let room = PREFIX_BYTES - self.prefix.len();
            self.prefix.extend_from_slice(&taken[..room.min(n)]);
        }
        self.read += n;
        Ok(n)
    }
}

/// Parses the body arriving on `chunks` into `T`; nothing but whitespace may follow it. Run
/// on a blocking thread: it waits on the channel.
pub(crate) fn parse<T: DeserializeOwned>(chunks: mpsc::Receiver<Bytes>) -> Result<T, StreamError> {
    let mut reader = std::io::BufReader::with_capacity(
        64 * 1024,
        ChunkReader {
            chunks,
            current: Bytes::new(),
            prefix: Vec::new(),
            read: 0,
        },
    );
    let result = {
        let mut de = serde_json::Deserializer::from_reader(&mut reader);
        T::deserialize(&mut de).and_then(|value| de.end().map(|()| value))
    };
    result.map_err(|error| {
        let inner = reader.into_inner();
        StreamError {
            error,
            prefix: inner.prefix,
            read: inner.read,
        }
    })
}

/// The channel a streamed body travels through.
pub(crate) fn channel() -> (mpsc::Sender<Bytes>, mpsc::Receiver<Bytes>) {
    mpsc::channel(CHANNEL_CHUNKS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_chunks<T: DeserializeOwned + Send + 'static>(
        chunks: &[&'static str],
    ) -> Result<T, StreamError> {
        let (tx, rx) = channel();
        let chunks: Vec<Bytes> = chunks
            .iter()
            .map(|c| Bytes::from_static(c.as_bytes()))
            .collect();
        let parser = std::thread::spawn(move || parse::<T>(rx));
        for c in chunks {
            tx.blocking_send(c).expect("parser is reading");
        }
        drop(tx);
        parser.join().expect("parser thread")
    }

    #[test]
    fn parses_across_chunk_boundaries() {
        let v: Vec<u32> = parse_chunks(&["[1,", "2", "3,4", "]  "]).expect("parses");
        assert_eq!(v, vec![1, 23, 4]);
    }

    #[test]
    fn keeps_the_prefix_and_refuses_trailing_data() {
        let e = parse_chunks::<Vec<u32>>(&["<html>", "oops"]).expect_err("not JSON");
        assert!(e.error.is_syntax());
        assert!(e.prefix.starts_with(b"<html>"), "{:?}", e.prefix);
        let e = parse_chunks::<Vec<u32>>(&["[1]", " [2]"]).expect_err("trailing");
        assert!(e.error.to_string().contains("trailing characters"));
        let e = parse_chunks::<Vec<u32>>(&["[1,"]).expect_err("cut");
        assert!(e.error.is_eof());
    }
}
