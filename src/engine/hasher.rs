//! The two hashing consumers of the chunk stream, each on its own thread so
//! they overlap with decompression and writing: the SHA-256 of the whole
//! image, and a digest per chunk that every target's verification compares
//! its read-back with. Both stop at once when the run is cancelled: the
//! chunks still queued are dropped, not hashed.

use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender};
use sha2::{Digest, Sha256};

use super::chunk::{ChunkDigest, Message, digest_of};

/// Hashes the whole image. Sends the result (`None` when the image could
/// not be read to its end) to every waiting target and returns it.
pub fn hash_image(
    chunks: Receiver<Message>,
    waiting: Vec<Sender<Option<[u8; 32]>>>,
    cancel: &AtomicBool,
) -> Option<[u8; 32]> {
    let mut hasher = Sha256::new();
    let mut result = None;
    for message in chunks {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        match message {
            Message::Chunk(chunk) => hasher.update(chunk.bytes()),
            Message::End { .. } => {
                result = Some(hasher.finalize().into());
                break;
            }
            Message::Failed(_) => break,
        }
    }
    for tx in waiting {
        let _ = tx.send(result);
    }
    result
}

/// Digests every used range of every chunk and sends each digest, in
/// order, to every target that verifies (each verifies the same ranges).
pub fn digest_chunks(
    chunks: Receiver<Message>,
    mut targets: Vec<Sender<ChunkDigest>>,
    cancel: &AtomicBool,
) {
    for message in chunks {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let Message::Chunk(chunk) = message else {
            break;
        };
        for range in &chunk.used {
            let digest = digest_of(chunk.bytes_of(range));
            targets.retain(|tx| tx.send(digest).is_ok());
        }
        drop(chunk);
        if targets.is_empty() {
            break;
        }
    }
}
