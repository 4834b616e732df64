//! The engine's data path tested without root or a drive: writer, verifier
//! and `imprint verify`'s comparer run against [`MockDisk`], an in-memory
//! block device behind [`BlockTarget`] that checks every call against what
//! O_DIRECT requires of a real one and records it, and that can flip a byte
//! on read or fail a write, as a bad card does.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::chunk::CHUNK_BYTES;
use super::spool::SpoolConfig;
use super::{FailureKind, FlashJob, FlashReport, hex};
use crate::patch::Patch;
use crate::source::ImageSource;
use crate::target::{
    AlignedBuf, BlockTarget, IO_ALIGNMENT, TargetError, TargetInfo, TargetKind, TargetOpener,
};

/// What the disk's bytes are before the run: not zero, so that a chunk of
/// zeros the writer skipped would show.
const OLD_BYTE: u8 = 0xEE;

/// The device's state, shared by every handle opened on it.
struct Disk {
    bytes: Vec<u8>,
    /// Logical block size: the O_DIRECT granularity of offsets and lengths.
    block: usize,
    /// Every write and read, as (offset, length).
    writes: Vec<(u64, usize)>,
    reads: Vec<(u64, usize)>,
    /// Where writes that end off a sector boundary end: allowed only for
    /// the image's last bytes, which `finish` then checks.
    unaligned_ends: Vec<u64>,
    finished: Option<u64>,
    /// Every broken O_DIRECT rule, one line each.
    violations: Vec<String>,
    /// A bad card: a read covering this byte returns it changed.
    flip_on_read: Option<u64>,
    /// A bad card: a write covering this byte fails.
    fail_write_at: Option<u64>,
}

/// An in-memory block device and the opener that hands it to the engine.
#[derive(Clone)]
struct MockDisk {
    disk: Arc<Mutex<Disk>>,
    path: PathBuf,
}

impl MockDisk {
    fn new(size: usize, block: usize) -> MockDisk {
        MockDisk::named(size, block, "/dev/mock0")
    }

    fn named(size: usize, block: usize, path: &str) -> MockDisk {
        MockDisk {
            disk: Arc::new(Mutex::new(Disk {
                bytes: vec![OLD_BYTE; size],
                block,
                writes: Vec::new(),
                reads: Vec::new(),
                unaligned_ends: Vec::new(),
                finished: None,
                violations: Vec::new(),
                flip_on_read: None,
                fail_write_at: None,
            })),
            path: PathBuf::from(path),
        }
    }

    /// The engine's view of the device, as `target::inspect` gives it.
    fn info(&self, scratch: &Path) -> TargetInfo {
        let disk = self.disk.lock().unwrap();
        // `inspect` is the only way to make a TargetInfo; a file still to
        // be created is the one that needs nothing on disk.
        let mut info = crate::target::inspect(&scratch.join("mock")).unwrap();
        info.path = self.path.clone();
        info.kind = TargetKind::BlockDevice;
        info.size_bytes = Some(disk.bytes.len() as u64);
        info.logical_block_size = disk.block as u32;
        info
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Disk> {
        self.disk.lock().unwrap()
    }
}

impl TargetOpener for MockDisk {
    fn open_for_write(&self, _: &TargetInfo) -> Result<Box<dyn BlockTarget>, TargetError> {
        Ok(Box::new(self.clone()))
    }

    fn open_for_read(&self, _: &TargetInfo) -> Result<Box<dyn BlockTarget>, TargetError> {
        Ok(Box::new(self.clone()))
    }
}

/// Several mock disks, each opened by its path.
struct MockDisks(Vec<MockDisk>);

impl MockDisks {
    fn by_path(&self, info: &TargetInfo) -> MockDisk {
        let disk = self.0.iter().find(|d| d.path == info.path);
        disk.expect("a mock disk of that path").clone()
    }
}

impl TargetOpener for MockDisks {
    fn open_for_write(&self, info: &TargetInfo) -> Result<Box<dyn BlockTarget>, TargetError> {
        Ok(Box::new(self.by_path(info)))
    }

    fn open_for_read(&self, info: &TargetInfo) -> Result<Box<dyn BlockTarget>, TargetError> {
        Ok(Box::new(self.by_path(info)))
    }
}

impl Disk {
    /// Records a broken rule when `ok` is false.
    fn require(&mut self, ok: bool, rule: impl FnOnce() -> String) {
        if !ok {
            self.violations.push(rule());
        }
    }
}

impl BlockTarget for MockDisk {
    fn path(&self) -> &Path {
        &self.path
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), TargetError> {
        let mut disk = self.state();
        let (block, len, end) = (disk.block, data.len(), offset + data.len() as u64);
        disk.writes.push((offset, len));
        let address = data.as_ptr() as usize;
        disk.require(address % IO_ALIGNMENT == 0, || {
            format!("write at {offset}: buffer address {address:#x} not {IO_ALIGNMENT}-aligned")
        });
        disk.require(offset % block as u64 == 0, || {
            format!("write at {offset}: offset not a multiple of {block}")
        });
        if len % block != 0 {
            disk.unaligned_ends.push(end);
        }
        let size_bytes = disk.bytes.len() as u64;
        if end > size_bytes {
            disk.violations.push(format!(
                "write at {offset}: {len} bytes go past the device's end"
            ));
            return Err(TargetError::TooSmall {
                path: self.path.clone(),
                size_bytes,
                offset: size_bytes.max(offset),
            });
        }
        if let Some(bad) = disk.fail_write_at
            && (offset..end).contains(&bad)
        {
            return Err(TargetError::Write {
                path: self.path.clone(),
                target_kind: TargetKind::BlockDevice,
                offset,
                source: io::Error::other("input/output error"),
            });
        }
        disk.bytes[offset as usize..end as usize].copy_from_slice(data);
        Ok(())
    }

    fn read_at(
        &mut self,
        offset: u64,
        buf: &mut AlignedBuf,
        len: usize,
    ) -> Result<(), TargetError> {
        let mut disk = self.state();
        let block = disk.block;
        disk.reads.push((offset, len));
        let address = buf.as_ptr() as usize;
        disk.require(address % IO_ALIGNMENT == 0, || {
            format!("read at {offset}: buffer address {address:#x} not {IO_ALIGNMENT}-aligned")
        });
        disk.require(offset % block as u64 == 0, || {
            format!("read at {offset}: offset not a multiple of {block}")
        });
        // O_DIRECT reads whole sectors: the buffer must hold the last one.
        let whole = len.next_multiple_of(block);
        disk.require(buf.len() >= whole, || {
            format!(
                "read at {offset}: buffer of {} bytes for {len} bytes",
                buf.len()
            )
        });
        let start = offset as usize;
        let end = (start + whole).min(disk.bytes.len()).min(start + buf.len());
        buf[..end - start].copy_from_slice(&disk.bytes[start..end]);
        if let Some(flip) = disk.flip_on_read
            && (offset..offset + len as u64).contains(&flip)
        {
            buf[(flip - offset) as usize] ^= 0x01;
        }
        Ok(())
    }

    fn finish(&mut self, image_len: u64) -> Result<(), TargetError> {
        let mut disk = self.state();
        disk.finished = Some(image_len);
        let ends = disk.unaligned_ends.clone();
        disk.require(ends.iter().all(|&end| end == image_len), || {
            format!(
                "writes ending off a sector at {ends:?}, not only at the image's end {image_len}"
            )
        });
        Ok(())
    }
}

#[path = "mock_target_tests.rs"]
mod tests;

#[path = "table_last_tests.rs"]
mod table_last_tests;

#[path = "mock_sparse_tests.rs"]
mod sparse_tests;
