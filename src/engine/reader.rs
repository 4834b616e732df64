//! The reader: decompresses the image once and fans every chunk out to all
//! consumers. Chunks hold the image's own bytes: each target applies its
//! own patch (its configured boot partition) to a private copy.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::Sender;

use super::chunk::{BufferPool, CHUNK_BYTES, Chunk, Message};
use super::{FailureKind, TargetFailure};
use crate::map::Mapper;
use crate::source::ImageSource;

/// A consumer of the chunk stream. The reader stops early when no
/// `required` consumer (a target) is left: hashing alone is pointless.
pub struct Consumer {
    pub tx: Sender<Message>,
    pub required: bool,
}

/// Reads `source` to its end and sends each chunk to every consumer. A
/// consumer whose channel is closed (a failed target) leaves the fan-out;
/// the others carry on. Returns the image length when read to its end.
///
/// Unless `full`, each chunk carries the used ranges the map of used bytes
/// (`crate::map`) gives it, computed here as it streams; the `patched`
/// regions (configured boot partitions) are always used.
pub fn read_image(
    source: &ImageSource,
    patched: &[Range<u64>],
    full: bool,
    pool: &BufferPool,
    mut consumers: Vec<Consumer>,
    cancel: &AtomicBool,
) -> Result<u64, TargetFailure> {
    let mut mapper = (!full).then(|| Mapper::new(patched.to_vec()));
    let patched_end = patched.iter().map(|r| r.end).max();
    let result = stream_chunks(
        source,
        patched_end,
        mapper.as_mut(),
        pool,
        &mut consumers,
        cancel,
    );
    let last = match &result {
        Ok(image_bytes) => Message::End {
            image_bytes: *image_bytes,
        },
        Err(failure) => Message::Failed(failure.clone()),
    };
    for consumer in &consumers {
        let _ = consumer.tx.send(clone_message(&last));
    }
    result
}

fn stream_chunks(
    source: &ImageSource,
    patched_end: Option<u64>,
    mut mapper: Option<&mut Mapper>,
    pool: &BufferPool,
    consumers: &mut Vec<Consumer>,
    cancel: &AtomicBool,
) -> Result<u64, TargetFailure> {
    let path = source.path().display().to_string();
    let mut stream = source.stream().map_err(|e| TargetFailure {
        kind: FailureKind::Source,
        offset: None,
        message: e.to_string(),
    })?;
    let mut offset = 0u64;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(cancelled(offset));
        }
        let mut buf = pool.take();
        let len = fill(&mut stream, &mut buf[..CHUNK_BYTES]).map_err(|(filled, e)| {
            let at = offset + filled as u64;
            // A stream waiting for data gives up when the run is cancelled:
            // that is the cancellation, not a fault of the image.
            if cancel.load(Ordering::Relaxed) {
                return cancelled(offset);
            }
            TargetFailure {
                kind: FailureKind::Source,
                offset: Some(at),
                message: format!(
                    "reading the image {path} failed at byte {at} of its decompressed data: {e}; the file is corrupt or truncated, download it again"
                ),
            }
        })?;
        if len == 0 {
            break;
        }
        let used = mapper.as_mut().map(|m| m.used_in(offset, &buf[..len]));
        let mut chunk = Chunk::new(offset, len, buf, pool.home());
        if let Some(used) = used {
            chunk.used = used;
        }
        let chunk = Arc::new(chunk);
        consumers.retain(|c| c.tx.send(Message::Chunk(chunk.clone())).is_ok());
        drop(chunk);
        offset += len as u64;
        if !consumers.iter().any(|c| c.required) {
            return Err(TargetFailure {
                kind: FailureKind::Write,
                offset: Some(offset),
                message: format!(
                    "every target failed (each says why), so reading the image {path} stopped at byte {offset}"
                ),
            });
        }
        if len < CHUNK_BYTES {
            break;
        }
    }
    if offset == 0 {
        return Err(TargetFailure {
            kind: FailureKind::Source,
            offset: Some(0),
            message: format!(
                "the image {path} holds no data (it decompresses to nothing); choose another image"
            ),
        });
    }
    if let Some(end) = patched_end
        && end > offset
    {
        return Err(TargetFailure {
            kind: FailureKind::Source,
            offset: Some(offset),
            message: format!(
                "the image {path} ends at byte {offset}, inside its boot partition; the file is truncated"
            ),
        });
    }
    Ok(offset)
}

fn cancelled(offset: u64) -> TargetFailure {
    TargetFailure {
        kind: FailureKind::Cancelled,
        offset: Some(offset),
        message: format!(
            "cancelled after {offset} bytes; the target is incomplete and will not boot, flash it again"
        ),
    }
}

/// Reads until `buf` is full or the stream ends. On error, says how many
/// bytes of `buf` were filled.
fn fill(stream: &mut dyn Read, buf: &mut [u8]) -> Result<usize, (usize, io::Error)> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((filled, e)),
        }
    }
    Ok(filled)
}

fn clone_message(message: &Message) -> Message {
    match message {
        Message::Chunk(chunk) => Message::Chunk(chunk.clone()),
        Message::End { image_bytes } => Message::End {
            image_bytes: *image_bytes,
        },
        Message::Failed(failure) => Message::Failed(failure.clone()),
    }
}
