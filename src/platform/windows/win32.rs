//! The real Win32 seam ([`Win32`]): physical disks probed by number and
//! described by `IOCTL_STORAGE_QUERY_PROPERTY`, `IOCTL_DISK_GET_DRIVE_GEOMETRY_EX`
//! and `IOCTL_DISK_IS_WRITABLE`; volumes enumerated with `FindFirstVolumeW`,
//! placed with `IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS`; locks and dismounts
//! as `FSCTL_*` on a volume handle. Nothing here decides anything: that is
//! `drives.rs` and `take.rs`.

// DeviceIoControl and the volume functions are FFI.
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io;
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::AsRawHandle;
use std::path::{Path, PathBuf};
use std::time::Duration;

use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Storage::FileSystem::{
    FILE_SHARE_READ, FILE_SHARE_WRITE, FindFirstVolumeW, FindNextVolumeW, FindVolumeClose,
    GetVolumeNameForVolumeMountPointW, GetVolumePathNameW, GetVolumePathNamesForVolumeNameW,
    IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS,
};
use windows_sys::Win32::System::IO::DeviceIoControl;
use windows_sys::Win32::System::Ioctl::{
    FSCTL_DISMOUNT_VOLUME, FSCTL_LOCK_VOLUME, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX,
    IOCTL_DISK_IS_WRITABLE, IOCTL_STORAGE_QUERY_PROPERTY,
};
use windows_sys::Win32::System::SystemInformation::GetSystemWindowsDirectoryW;

use super::answers::{device_descriptor, disk_extents, geometry, multi_sz, wide, wide_str};
use super::drives::disk_path;
use super::seam::{DiskAnswer, VolumeAnswer, Win32};

/// Physical drive numbers probed (Windows numbers disks from 0, with gaps
/// when one is removed).
const MAX_DISKS: u32 = 64;
/// ERROR_WRITE_PROTECT: what `IOCTL_DISK_IS_WRITABLE` answers for a
/// write-protected medium.
const ERROR_WRITE_PROTECT: i32 = 19;

/// The machine this process runs on.
pub(crate) struct RealWindows;

/// An output buffer aligned for the IOCTL structures (they hold 64-bit
/// fields).
#[repr(C, align(8))]
struct Answer([u8; 4096]);

/// `DeviceIoControl` on an open handle, synchronously; the answer's bytes.
pub(crate) fn ioctl(file: &File, code: u32, input: &[u8]) -> io::Result<Vec<u8>> {
    let mut answer = Answer([0; 4096]);
    let mut returned = 0u32;
    // SAFETY: the handle is open for the call (borrowed from `file`); the
    // input and output buffers are valid for the lengths given; the handle
    // is synchronous, so no OVERLAPPED is needed.
    let ok = unsafe {
        DeviceIoControl(
            file.as_raw_handle() as HANDLE,
            code,
            input.as_ptr().cast(),
            input.len() as u32,
            answer.0.as_mut_ptr().cast(),
            answer.0.len() as u32,
            &mut returned,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(answer.0[..returned as usize].to_vec())
}

/// Opens a device only to ask it questions (no read or write access, so
/// no administrator rights needed and nothing held).
pub(crate) fn open_to_query(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .access_mode(0)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
        .open(path)
}

/// A volume GUID path as a device to open: without its trailing `\`
/// (with it, it names the volume's root folder).
fn volume_device(name: &str) -> PathBuf {
    PathBuf::from(name.trim_end_matches('\\'))
}

fn disk_answer(number: u32) -> io::Result<DiskAnswer> {
    let file = open_to_query(&disk_path(number))?;
    // STORAGE_PROPERTY_QUERY { StorageDeviceProperty, PropertyStandardQuery }.
    let query = [0u8; 12];
    let bytes = ioctl(&file, IOCTL_STORAGE_QUERY_PROPERTY, &query)?;
    let descriptor = device_descriptor(&bytes)
        .ok_or_else(|| io::Error::other("a storage descriptor too short to read"))?;
    let (sector_size, size_bytes) = geometry(&ioctl(&file, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, &[])?)
        .ok_or_else(|| io::Error::other("a disk geometry too short to read"))?;
    let read_only = match ioctl(&file, IOCTL_DISK_IS_WRITABLE, &[]) {
        Err(e) if e.raw_os_error() == Some(ERROR_WRITE_PROTECT) => true,
        _ => false,
    };
    Ok(DiskAnswer {
        number,
        size_bytes,
        sector_size,
        bus_type: descriptor.bus_type,
        removable: descriptor.removable,
        read_only,
        vendor: descriptor.vendor,
        model: descriptor.model,
        serial: descriptor.serial,
    })
}

fn volume_answer(name: String) -> VolumeAnswer {
    // A volume that has no extents (a CD, a network mount) lies on no disk.
    let extents = open_to_query(&volume_device(&name))
        .and_then(|f| ioctl(&f, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, &[]))
        .ok()
        .and_then(|bytes| disk_extents(&bytes))
        .unwrap_or_default();
    let mut paths = vec![0u16; 4096];
    let mut needed = 0u32;
    let name_w = wide(&name);
    // SAFETY: `name_w` is NUL-terminated; `paths` is valid for its length.
    let ok = unsafe {
        GetVolumePathNamesForVolumeNameW(
            name_w.as_ptr(),
            paths.as_mut_ptr(),
            paths.len() as u32,
            &mut needed,
        )
    };
    let mount_points = if ok != 0 {
        multi_sz(&paths).into_iter().map(PathBuf::from).collect()
    } else {
        Vec::new()
    };
    VolumeAnswer {
        name,
        extents,
        mount_points,
    }
}

/// The volume (GUID path) holding `path`.
pub(crate) fn volume_of_path(path: &Path) -> io::Result<String> {
    let path_w = wide(&path.to_string_lossy());
    let mut root = vec![0u16; 1024];
    // SAFETY: both buffers are valid for their lengths; `path_w` is
    // NUL-terminated.
    if unsafe { GetVolumePathNameW(path_w.as_ptr(), root.as_mut_ptr(), root.len() as u32) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let mut name = vec![0u16; 64];
    // SAFETY: `root` was NUL-terminated by the call above; `name` is valid.
    if unsafe { GetVolumeNameForVolumeMountPointW(root.as_ptr(), name.as_mut_ptr(), 64) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(wide_str(&name))
}

impl Win32 for RealWindows {
    type Volume = File;

    fn disks(&self) -> io::Result<Vec<DiskAnswer>> {
        // A number with no disk, or a reader with no card (no geometry), is
        // left out: nobody flashes those.
        Ok((0..MAX_DISKS).filter_map(|n| disk_answer(n).ok()).collect())
    }

    fn volumes(&self) -> io::Result<Vec<VolumeAnswer>> {
        let mut name = vec![0u16; 64];
        // SAFETY: `name` is valid for 64 characters (a GUID path is 49).
        let find = unsafe { FindFirstVolumeW(name.as_mut_ptr(), 64) };
        if find == INVALID_HANDLE_VALUE {
            return Err(io::Error::last_os_error());
        }
        let mut volumes = vec![volume_answer(wide_str(&name))];
        // SAFETY: `find` is the open search handle; `name` as above.
        while unsafe { FindNextVolumeW(find, name.as_mut_ptr(), 64) } != 0 {
            volumes.push(volume_answer(wide_str(&name)));
        }
        // SAFETY: `find` is open and closed once.
        unsafe { FindVolumeClose(find) };
        Ok(volumes)
    }

    fn system_volume(&self) -> io::Result<String> {
        let mut dir = vec![0u16; 1024];
        // SAFETY: `dir` is valid for its length.
        let len = unsafe { GetSystemWindowsDirectoryW(dir.as_mut_ptr(), dir.len() as u32) };
        if len == 0 || len as usize >= dir.len() {
            return Err(io::Error::last_os_error());
        }
        volume_of_path(Path::new(&wide_str(&dir)))
    }

    fn open_volume(&self, name: &str) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
            .open(volume_device(name))
    }

    fn lock_volume(&self, volume: &File) -> io::Result<()> {
        ioctl(volume, FSCTL_LOCK_VOLUME, &[]).map(drop)
    }

    fn dismount_volume(&self, volume: &File) -> io::Result<()> {
        ioctl(volume, FSCTL_DISMOUNT_VOLUME, &[]).map(drop)
    }

    fn pause(&self) {
        std::thread::sleep(Duration::from_millis(500));
    }
}
