//! The image's SHA-256 and the bmap's per-range digests, taken on a thread
//! of their own (`backup-hash`) while the caller's thread compresses: on a
//! card's worth of bytes both are CPU work of the same order, and a backup
//! should take the time of its reads, not of one core's hashing.

use std::ops::Range;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Sender, bounded};
use sha2::{Digest, Sha256};

use super::read::Piece;
use super::sink::ZEROS;
use crate::hex::hex;
use crate::map::bmap_write::BmapWriter;

/// The next bytes of the image, in order.
enum Bytes {
    Zeros(u64),
    Piece(Arc<Piece>),
}

/// What the hashing thread gives back: the image's SHA-256, and the bmap's
/// text (`None` when not every used range streamed).
pub(crate) type Digested = (String, Option<String>);

/// The hashing thread and its queue.
pub(crate) struct Digests {
    send: Sender<Bytes>,
    handle: JoinHandle<Digested>,
}

impl Digests {
    /// Starts hashing an image of `size` bytes whose `used` ranges the bmap
    /// maps.
    pub(crate) fn start(size: u64, used: &[Range<u64>]) -> std::io::Result<Digests> {
        let (send, receive) = bounded::<Bytes>(16);
        let mut bmap = BmapWriter::new(size, used);
        let handle = std::thread::Builder::new()
            .name("backup-hash".into())
            .spawn(move || {
                let mut image = Sha256::new();
                for bytes in receive.iter() {
                    match bytes {
                        Bytes::Zeros(mut len) => {
                            while len > 0 {
                                let n = len.min(ZEROS.len() as u64) as usize;
                                image.update(&ZEROS[..n]);
                                bmap.feed(&ZEROS[..n]);
                                len -= n as u64;
                            }
                        }
                        Bytes::Piece(piece) => {
                            let bytes = &piece.buf[..piece.len];
                            image.update(bytes);
                            bmap.feed(bytes);
                        }
                    }
                }
                (hex(&image.finalize()), bmap.finish())
            })?;
        Ok(Digests { send, handle })
    }

    /// `len` zeros of free space.
    pub(crate) fn zeros(&self, len: u64) {
        if len > 0 {
            let _ = self.send.send(Bytes::Zeros(len));
        }
    }

    /// A piece of used bytes.
    pub(crate) fn piece(&self, piece: Arc<Piece>) {
        let _ = self.send.send(Bytes::Piece(piece));
    }

    /// Waits for the digests of everything sent.
    pub(crate) fn finish(self) -> Digested {
        drop(self.send);
        self.handle.join().unwrap_or_else(|_| (String::new(), None))
    }
}
