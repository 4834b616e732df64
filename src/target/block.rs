//! The seam between the engine and the storage it writes: the few calls the
//! writer, the verifier and `imprint verify` make on an open target
//! ([`BlockTarget`]), and how they open one ([`TargetOpener`]). A run opens
//! real targets through [`OpenTargetFile`]; the engine's unit tests replace
//! it with an in-memory target that asserts every call is aligned as
//! O_DIRECT requires, so the data path is tested without root or a drive.

use std::path::Path;

use super::{AlignedBuf, TargetError, TargetFile, TargetInfo};

/// An open target. The contract is the one O_DIRECT imposes on a block
/// device, which every caller keeps even for files:
///
/// - `write_at`: `data` starts at a [`super::IO_ALIGNMENT`]-aligned address,
///   `offset` is a multiple of the logical block size, and so is
///   `data.len()` — except for the image's last write, which may end off a
///   sector boundary (the implementation completes that sector itself);
/// - `read_at`: `offset` is a multiple of the logical block size and `buf`
///   has room for `len` rounded up to it;
/// - `finish` makes the image durable; a file is cut to `image_len`.
pub(crate) trait BlockTarget: Send {
    /// The target as the user named it, for messages.
    fn path(&self) -> &Path;
    /// Writes `data` at `offset`.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), TargetError>;
    /// Reads `len` bytes at `offset` into `buf[..len]`.
    fn read_at(&mut self, offset: u64, buf: &mut AlignedBuf, len: usize)
    -> Result<(), TargetError>;
    /// Makes everything written durable, the image being `image_len` long.
    fn finish(&mut self, image_len: u64) -> Result<(), TargetError>;
}

impl BlockTarget for TargetFile {
    fn path(&self) -> &Path {
        TargetFile::path(self)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), TargetError> {
        TargetFile::write_at(self, offset, data)
    }

    fn read_at(
        &mut self,
        offset: u64,
        buf: &mut AlignedBuf,
        len: usize,
    ) -> Result<(), TargetError> {
        TargetFile::read_at(self, offset, buf, len)
    }

    fn finish(&mut self, image_len: u64) -> Result<(), TargetError> {
        TargetFile::finish(self, image_len)
    }
}

/// How a run opens its checked targets: once for writing, and again (as
/// often as it needs) to read them back.
pub(crate) trait TargetOpener: Sync {
    fn open_for_write(&self, info: &TargetInfo) -> Result<Box<dyn BlockTarget>, TargetError>;
    fn open_for_read(&self, info: &TargetInfo) -> Result<Box<dyn BlockTarget>, TargetError>;
}

/// The real targets: [`TargetFile::open_for_write`] and
/// [`TargetFile::open_for_read`].
pub(crate) struct OpenTargetFile;

impl TargetOpener for OpenTargetFile {
    fn open_for_write(&self, info: &TargetInfo) -> Result<Box<dyn BlockTarget>, TargetError> {
        Ok(Box::new(TargetFile::open_for_write(info)?))
    }

    fn open_for_read(&self, info: &TargetInfo) -> Result<Box<dyn BlockTarget>, TargetError> {
        Ok(Box::new(TargetFile::open_for_read(info)?))
    }
}
