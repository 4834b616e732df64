//! What a target's writer keeps while it writes the image: its counts, its
//! bytes held back to be written last (docs/architecture.md §11 "The first
//! MiB last"), and its line to the verifier.

use std::ops::Range;

use crossbeam_channel::Sender;
use sha2::Sha256;

use super::chunk::Payload;
use super::compare_first::CompareFirst;
use super::device_io::DeviceIo;
use super::held::HeldZones;
use super::table_last::HeldBytes;
use super::verifier::Written;
use crate::target::{AlignedBuf, IO_ALIGNMENT};

/// A copy of `range` of `payload`, held back to be written last.
pub(super) fn held_copy(payload: &Payload, range: &Range<u64>) -> HeldBytes {
    let bytes = payload.bytes_of(range);
    let mut copy = AlignedBuf::zeroed(bytes.len().next_multiple_of(IO_ALIGNMENT));
    copy[..bytes.len()].copy_from_slice(bytes);
    HeldBytes {
        offset: range.start,
        len: bytes.len(),
        bytes: copy,
    }
}

/// The writer's state while it writes the image.
pub(super) struct Writing<'w> {
    pub(super) file: &'w DeviceIo,
    pub(super) verifier: Option<Sender<Written>>,
    pub(super) counts: &'w mut Counts,
    pub(super) own_sha: &'w mut Option<Sha256>,
    /// A block device's zones to hold back, known from the first chunk;
    /// `None` for a file, written in order.
    pub(super) zones: Option<HeldZones>,
    pub(super) held: &'w mut Vec<HeldBytes>,
    /// When to read a range first and skip writing what the target holds.
    pub(super) compare: CompareFirst,
}

impl<'w> Writing<'w> {
    pub(super) fn new(
        file: &'w DeviceIo,
        verifier: Option<Sender<Written>>,
        counts: &'w mut Counts,
        own_sha: &'w mut Option<Sha256>,
        held: &'w mut Vec<HeldBytes>,
    ) -> Writing<'w> {
        Writing {
            file,
            verifier,
            counts,
            own_sha,
            zones: None,
            held,
            compare: CompareFirst::new(false),
        }
    }

    pub(super) fn tell(&self, note: Written) {
        if let Some(tx) = &self.verifier {
            let _ = tx.send(note);
        }
    }
}

/// What a target's writer counted.
#[derive(Default)]
pub(super) struct Counts {
    /// A block device whose first and last MiB were cleared: until its
    /// held bytes are written, it has no partition table.
    pub(super) cleared: bool,
    /// How far into the image it has come.
    pub(super) position: u64,
    /// Bytes written.
    pub(super) written: u64,
    /// Bytes of used ranges the target already held, so not written.
    pub(super) matched: u64,
    /// Bytes of used ranges handed to the verifier.
    pub(super) used: u64,
}
