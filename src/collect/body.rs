//! A response body parsed as it arrives, so its text is never in memory whole.
//!
//! The HTTP side ([`crate::collect::http::BodyTo::Stream`]) sends each chunk down a small bounded
//! channel; a blocking thread reads them through [`ChunkReader`] and deserializes straight
//! into the typed wire struct. Memory is then what the struct keeps (unknown fields are skipped
//! unread), plus a few chunks in flight; the per-endpoint byte cap bounds the rest. The first
//! bytes are kept to tell an HTML page or plain text from JSON when parsing fails.
//!
//! Bytes do not bound what the struct keeps (tiny entries expand tens of times), so between
//! reads the parser checks what it holds against the endpoint's and the run's memory budgets
//! ([`crate::base::memory::Meter`]) and stops when one is exceeded.

use crate::base::memory::{Mark, Meter, OverBudget, RunMemory};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use std::sync::Arc;
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
    /// Set when the parse was stopped by a memory budget (then `error` only says it stopped).
    pub(crate) over_budget: Option<OverBudget>,
    /// The first bytes of the body.
    pub(crate) prefix: Vec<u8>,
    /// How many bytes the parser read.
    pub(crate) read: usize,
}

/// Where the chunks of a body come from.
trait Chunks {
    /// The next chunk; `None` at the end of the body.
    fn next_chunk(&mut self) -> Option<Bytes>;
}

/// A body arriving from the network (waits: run on a blocking thread).
impl Chunks for mpsc::Receiver<Bytes> {
    fn next_chunk(&mut self) -> Option<Bytes> {
        self.blocking_recv()
    }
}

/// A body already in memory, handed out a read at a time so the meter checks it as often.
struct Buffered(Bytes);

impl Chunks for Buffered {
    fn next_chunk(&mut self) -> Option<Bytes> {
        (!self.0.is_empty()).then(|| self.0.split_to(self.0.len().min(READ_BYTES)))
    }
}

/// Reads the chunks of one body as a `std::io::Read`, checking the parse's memory before
/// each read.
struct ChunkReader<C> {
    chunks: C,
    current: Bytes,
    prefix: Vec<u8>,
    read: usize,
    meter: Meter,
    /// The budget that stopped the parse, if one did.
    stopped: Option<OverBudget>,
}

impl<C: Chunks> ChunkReader<C> {
    /// The next bytes into `buf`: network chunks arrive here, allocated on another thread
    /// and freed on this one, so this is measured apart from the parse.
    fn next_bytes(&mut self, buf: &mut [u8]) -> usize {
        while self.current.is_empty() {
            match self.chunks.next_chunk() {
                Some(chunk) => self.current = chunk,
                None => return 0,
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
        n
    }
}

impl<C: Chunks> std::io::Read for ChunkReader<C> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Once stopped, stopped for good: a caller that goes on reading gets the same error.
        if let Some(over) = &self.stopped {
            return Err(std::io::Error::other(over.to_string()));
        }
        if let Err(over) = self.meter.check() {
            let message = over.to_string();
            self.stopped = Some(over);
            return Err(std::io::Error::other(message));
        }
        let mark = Mark::now();
        let n = self.next_bytes(buf);
        self.meter.exclude_since(mark);
        Ok(n)
    }
}

/// Bytes the parser reads at a time, and so how far a parse may go past its memory budget
/// before it is checked again (tens of times this, for the tiniest entries).
const READ_BYTES: usize = 64 * 1024;

/// The memory budgets of one parse: its run's, and its own.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    pub(crate) run: Arc<RunMemory>,
    pub(crate) answer: usize,
}

/// Parses the body arriving on `chunks` into `T` within `budget`; nothing but whitespace may
/// follow it. Run on a blocking thread: it waits on the channel.
pub(crate) fn parse<T: DeserializeOwned>(
    chunks: mpsc::Receiver<Bytes>,
    budget: Budget,
) -> Result<T, StreamError> {
    parse_from(chunks, budget)
}

/// [`parse`] for a body already read whole (a buffered answer).
pub(crate) fn parse_buffered<T: DeserializeOwned>(
    body: &[u8],
    budget: Budget,
) -> Result<T, StreamError> {
    parse_from(Buffered(Bytes::copy_from_slice(body)), budget)
}

fn parse_from<T: DeserializeOwned, C: Chunks>(chunks: C, budget: Budget) -> Result<T, StreamError> {
    let mut reader = std::io::BufReader::with_capacity(
        READ_BYTES,
        ChunkReader {
            chunks,
            current: Bytes::new(),
            prefix: Vec::with_capacity(PREFIX_BYTES),
            read: 0,
            // Started before the 64 KiB read buffer is allocated, which counts toward the
            // answer: negligible beside budgets of megabytes.
            meter: Meter::start(budget.run, budget.answer),
            stopped: None,
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
            over_budget: inner.stopped,
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
        let budget = Budget {
            run: RunMemory::new(usize::MAX),
            answer: usize::MAX,
        };
        let parser = std::thread::spawn(move || parse::<T>(rx, budget));
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
