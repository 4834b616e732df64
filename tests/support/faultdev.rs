//! A block device that fails or lies on demand: a loop device over a file
//! served by a FUSE server inside the test process. The file is opened with
//! `FOPEN_DIRECT_IO` (and the loop device with `--direct-io=on` when the
//! kernel allows it), so no page cache sits between the loop device and the
//! server: every write and read-back that Imprint issues reaches
//! [`FaultFs`], which applies the test's [`Fault`] to it.
//!
//! The device's bytes live in memory; [`FaultDevice::contents`] is what the
//! "drive" really holds, whatever it told Imprint. Drop detaches the loop
//! device, then unmounts. Callers hold [`super::loopdev::LoopLock`], as for
//! every loop-device test.

// Needs unsafe: umount2 through libc, and the FUSE file system.
#![allow(unsafe_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use fuser::{
    BackgroundSession, Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags,
    Generation, INodeNo, LockOwner, MountOption, OpenFlags, ReplyAttr, ReplyData, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyWrite, Request, WriteFlags,
};

/// What the device does wrong. Offsets are bytes on the device; a fault
/// "at X" applies to every request whose range holds byte X.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A faithful device.
    None,
    /// Writes holding byte `at` fail with EIO (a bad sector).
    WriteError { at: u64 },
    /// Writes reaching byte `from` or beyond fail with ENOSPC: a card that
    /// stops taking data part-way, as a counterfeit one can.
    NoSpace { from: u64 },
    /// Reads holding byte `at` fail with EIO.
    ReadError { at: u64 },
    /// Byte `at` reads back with its bits inverted; the stored byte is right.
    FlipOnRead { at: u64 },
    /// Writes are acknowledged but nothing from byte `from` on is stored.
    DropWrites { from: u64 },
    /// A counterfeit card: it claims its full size but stores only
    /// `real_bytes`; byte X really lives at X mod `real_bytes`, for writes
    /// and reads alike.
    Wrap { real_bytes: u64 },
    /// The first write holding byte `at` hangs for `stall` before it is
    /// done (once: a device that stops answering for a while).
    StallWrite { at: u64, stall: Duration },
    /// The same for the first read holding byte `at`.
    StallRead { at: u64, stall: Duration },
}

/// The shared state of the device: its bytes, the fault, and what happened.
struct State {
    bytes: Mutex<Vec<u8>>,
    fault: Mutex<Fault>,
    /// Set when the stall began (the stall is one-shot).
    stalled: AtomicBool,
    /// Requests that reached the server, to prove the device was used.
    writes: AtomicU64,
    reads: AtomicU64,
}

/// The inode of the one file, `disk`.
const DISK: INodeNo = INodeNo(2);
const DISK_NAME: &str = "disk";
const TTL: Duration = Duration::from_secs(60);

/// The FUSE server: one directory holding one file, `disk`.
struct FaultFs {
    state: Arc<State>,
    size: u64,
}

impl FaultFs {
    fn attr(&self, ino: INodeNo) -> Option<FileAttr> {
        let (kind, size, perm, nlink) = match ino {
            INodeNo::ROOT => (FileType::Directory, 0, 0o755, 2),
            DISK => (FileType::RegularFile, self.size, 0o600, 1),
            _ => return None,
        };
        Some(FileAttr {
            ino,
            size,
            blocks: size.div_ceil(512),
            atime: SystemTime::UNIX_EPOCH,
            mtime: SystemTime::UNIX_EPOCH,
            ctime: SystemTime::UNIX_EPOCH,
            crtime: SystemTime::UNIX_EPOCH,
            kind,
            perm,
            nlink,
            uid: 0,
            gid: 0,
            rdev: 0,
            flags: 0,
            blksize: 4096,
        })
    }
}

impl FaultFs {
    /// Sleeps `stall` the first time only. The server's only thread sleeps:
    /// every other request to the device waits too, as on a card that
    /// stopped answering.
    fn stall_once(&self, stall: Duration) {
        if !self.state.stalled.swap(true, Ordering::SeqCst) {
            std::thread::sleep(stall);
        }
    }
}

/// Whether `[offset, offset + len)` holds byte `at`.
fn holds(offset: u64, len: usize, at: u64) -> bool {
    offset <= at && at < offset + len as u64
}

impl Filesystem for FaultFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.attr(DISK) {
            Some(attr) if parent == INodeNo::ROOT && name == DISK_NAME => {
                reply.entry(&TTL, &attr, Generation(0))
            }
            _ => reply.error(Errno::ENOENT),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.attr(ino) {
            Some(attr) => reply.attr(&TTL, &attr),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn open(&self, _req: &Request, _ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        // Direct I/O: the kernel keeps no page cache of this file, so every
        // read reaches `read` below and a lie cannot be hidden by a cache.
        reply.opened(FileHandle(0), FopenFlags::FOPEN_DIRECT_IO);
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        self.state.reads.fetch_add(1, Ordering::Relaxed);
        let fault = *self.state.fault.lock().unwrap();
        let end = (offset + u64::from(size)).min(self.size);
        let len = end.saturating_sub(offset) as usize;
        match fault {
            Fault::ReadError { at } if holds(offset, len, at) => {
                return reply.error(Errno::EIO);
            }
            Fault::StallRead { at, stall } if holds(offset, len, at) => self.stall_once(stall),
            _ => {}
        }
        let bytes = self.state.bytes.lock().unwrap();
        let mut out: Vec<u8> = match fault {
            Fault::Wrap { real_bytes } => (offset..end)
                .map(|x| bytes[(x % real_bytes) as usize])
                .collect(),
            // Past the bytes kept (a card claiming more than it holds):
            // zeros.
            _ => {
                let start = (offset as usize).min(bytes.len());
                let kept = (end as usize).min(bytes.len()).max(start);
                let mut out = bytes[start..kept].to_vec();
                out.resize(len, 0);
                out
            }
        };
        if let Fault::FlipOnRead { at } = fault
            && holds(offset, len, at)
        {
            out[(at - offset) as usize] ^= 0xFF;
        }
        reply.data(&out);
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        self.state.writes.fetch_add(1, Ordering::Relaxed);
        let fault = *self.state.fault.lock().unwrap();
        if offset + data.len() as u64 > self.size {
            return reply.error(Errno::ENOSPC);
        }
        match fault {
            Fault::WriteError { at } if holds(offset, data.len(), at) => {
                return reply.error(Errno::EIO);
            }
            Fault::NoSpace { from } if offset + data.len() as u64 > from => {
                return reply.error(Errno::ENOSPC);
            }
            Fault::StallWrite { at, stall } if holds(offset, data.len(), at) => {
                self.stall_once(stall)
            }
            _ => {}
        }
        let mut bytes = self.state.bytes.lock().unwrap();
        match fault {
            Fault::DropWrites { from } => {
                let from = from.min(bytes.len() as u64);
                let kept = from.saturating_sub(offset).min(data.len() as u64) as usize;
                if kept == 0 {
                    return reply.written(data.len() as u32);
                }
                bytes[offset as usize..offset as usize + kept].copy_from_slice(&data[..kept]);
            }
            Fault::Wrap { real_bytes } => {
                for (i, &b) in data.iter().enumerate() {
                    bytes[((offset + i as u64) % real_bytes) as usize] = b;
                }
            }
            _ => bytes[offset as usize..offset as usize + data.len()].copy_from_slice(data),
        }
        reply.written(data.len() as u32);
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }
}

/// A loop device over the FUSE file; detached and unmounted on Drop.
pub struct FaultDevice {
    pub device: PathBuf,
    state: Arc<State>,
    session: Option<BackgroundSession>,
    mount_point: PathBuf,
    /// Whether the kernel took `--direct-io=on` for the loop device.
    pub loop_direct_io: bool,
    _dir: tempfile::TempDir,
}

impl FaultDevice {
    /// A device of `initial.len()` bytes holding `initial`, behaving as
    /// `fault` says (change it with [`FaultDevice::set_fault`]).
    pub fn new(initial: Vec<u8>, fault: Fault) -> FaultDevice {
        let size = initial.len() as u64;
        FaultDevice::claiming(initial, size, fault)
    }

    /// A counterfeit card: it claims `size` bytes but keeps only
    /// `initial` (past it, reads are zeros); `fault` must be a
    /// [`Fault::Wrap`] or [`Fault::DropWrites`] within `initial`, so that
    /// a 1 GiB claim costs only what the card holds.
    pub fn claiming(initial: Vec<u8>, size: u64, fault: Fault) -> FaultDevice {
        let held = initial.len() as u64;
        assert!(
            held == size
                || matches!(fault, Fault::Wrap { real_bytes } if real_bytes <= held)
                || matches!(fault, Fault::DropWrites { from } if from <= held),
            "a device keeping fewer bytes than it claims must wrap or drop writes within them"
        );
        let state = Arc::new(State {
            bytes: Mutex::new(initial),
            fault: Mutex::new(fault),
            stalled: AtomicBool::new(false),
            writes: AtomicU64::new(0),
            reads: AtomicU64::new(0),
        });
        let dir = tempfile::tempdir().expect("a mount point for the fault device");
        let mount_point = dir.path().join("mnt");
        std::fs::create_dir(&mount_point).unwrap();
        let mut config = Config::default();
        config.mount_options = vec![
            MountOption::FSName("imprint-faultdev".to_string()),
            MountOption::DefaultPermissions,
        ];
        let fs = FaultFs {
            state: state.clone(),
            size,
        };
        let session = fuser::spawn_mount(fs, &mount_point, &config).expect("mount the FUSE file");
        let file = mount_point.join(DISK_NAME);
        let (device, loop_direct_io) = match attach(&file, true) {
            Ok(device) => (device, true),
            // Some kernels refuse direct I/O on a FUSE backing file; the file
            // is FOPEN_DIRECT_IO anyway, so the loop's reads still reach us.
            Err(_) => (attach(&file, false).expect("losetup the FUSE file"), false),
        };
        FaultDevice {
            device,
            state,
            session: Some(session),
            mount_point,
            loop_direct_io,
            _dir: dir,
        }
    }

    /// `/dev/loopN`.
    pub fn device(&self) -> &Path {
        &self.device
    }

    pub fn name(&self) -> String {
        self.device.display().to_string()
    }

    pub fn set_fault(&self, fault: Fault) {
        *self.state.fault.lock().unwrap() = fault;
    }

    /// What the device really stores (not what it tells a reader).
    pub fn contents(&self) -> Vec<u8> {
        self.state.bytes.lock().unwrap().clone()
    }

    /// Whether a [`Fault::StallWrite`] or [`Fault::StallRead`] has begun.
    pub fn stall_began(&self) -> bool {
        self.state.stalled.load(Ordering::SeqCst)
    }

    /// Write and read requests the server has answered (or is answering).
    pub fn requests(&self) -> (u64, u64) {
        (
            self.state.writes.load(Ordering::Relaxed),
            self.state.reads.load(Ordering::Relaxed),
        )
    }
}

/// `losetup -f --show FILE`, with direct I/O when asked.
fn attach(file: &Path, direct_io: bool) -> Result<PathBuf, String> {
    let mut cmd = Command::new("losetup");
    if direct_io {
        cmd.arg("--direct-io=on");
    }
    let out = cmd
        .args(["-f", "--show"])
        .arg(file)
        .output()
        .expect("run losetup");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    ))
}

impl Drop for FaultDevice {
    fn drop(&mut self) {
        // A request still stalled would keep the device busy: end the fault.
        self.set_fault(Fault::None);
        let _ = Command::new("losetup").arg("-d").arg(&self.device).status();
        let Some(session) = self.session.take() else {
            return;
        };
        // The loop device lets go of the file asynchronously when something
        // still has it open; wait a little before unmounting lazily.
        for _ in 0..50 {
            if loop_holds(&self.device, &self.mount_point) {
                std::thread::sleep(Duration::from_millis(100));
            } else {
                let _ = session.umount_and_join();
                return;
            }
        }
        let mount_point = std::ffi::CString::new(self.mount_point.as_os_str().as_encoded_bytes())
            .expect("a mount point without NUL");
        // SAFETY: umount2 with a valid C string; MNT_DETACH leaves the
        // filesystem to go when its last user (the loop device) lets go.
        unsafe { libc::umount2(mount_point.as_ptr(), libc::MNT_DETACH) };
        drop(session);
    }
}

/// Whether loop device `device` still has a file under `mount_point`.
fn loop_holds(device: &Path, mount_point: &Path) -> bool {
    let name = device.file_name().unwrap_or_default().to_string_lossy();
    std::fs::read_to_string(format!("/sys/block/{name}/loop/backing_file"))
        .is_ok_and(|backing| Path::new(backing.trim()).starts_with(mount_point))
}
