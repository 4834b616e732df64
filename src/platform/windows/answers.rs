//! The IOCTL answers read from their bytes: `STORAGE_DEVICE_DESCRIPTOR`,
//! `DISK_GEOMETRY_EX` and `VOLUME_DISK_EXTENTS` (winioctl.h layouts, x64),
//! and the NUL-separated string lists of the volume API. Reading fields at
//! their documented offsets, bounds-checked, rather than casting buffers to
//! structs keeps the unsafe code to the calls themselves, and lets the
//! parsing be tested with recorded answers on any OS.

use super::seam::Extent;

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// What `IOCTL_STORAGE_QUERY_PROPERTY` (StorageDeviceProperty) says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Descriptor {
    pub(crate) removable: bool,
    pub(crate) bus_type: i32,
    pub(crate) vendor: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) serial: Option<String>,
}

/// A `STORAGE_DEVICE_DESCRIPTOR`: RemovableMedia at 10, the vendor,
/// product and serial string offsets at 12, 16 and 24, BusType at 28.
pub(crate) fn device_descriptor(bytes: &[u8]) -> Option<Descriptor> {
    let text = |field: usize| -> Option<String> {
        let offset = u32_at(bytes, field)? as usize;
        if offset == 0 || offset >= bytes.len() {
            return None;
        }
        let raw = &bytes[offset..];
        let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
        let value = String::from_utf8_lossy(&raw[..end]).trim().to_string();
        (!value.is_empty()).then_some(value)
    };
    Some(Descriptor {
        removable: *bytes.get(10)? != 0,
        bus_type: u32_at(bytes, 28)? as i32,
        vendor: text(12),
        model: text(16),
        serial: text(24),
    })
}

/// A `DISK_GEOMETRY_EX`: (BytesPerSector at 20, DiskSize at 24).
pub(crate) fn geometry(bytes: &[u8]) -> Option<(u32, u64)> {
    Some((u32_at(bytes, 20)?, u64_at(bytes, 24)?))
}

/// A `VOLUME_DISK_EXTENTS`: a count, then from offset 8 extents of 24
/// bytes (DiskNumber, padding, StartingOffset, ExtentLength).
pub(crate) fn disk_extents(bytes: &[u8]) -> Option<Vec<Extent>> {
    let count = u32_at(bytes, 0)? as usize;
    (0..count)
        .map(|i| {
            let at = 8 + 24 * i;
            Some(Extent {
                disk: u32_at(bytes, at)?,
                offset: u64_at(bytes, at + 8)?,
                length: u64_at(bytes, at + 16)?,
            })
        })
        .collect()
}

/// A wide string up to its first NUL.
pub(crate) fn wide_str(wide: &[u16]) -> String {
    let end = wide.iter().position(|c| *c == 0).unwrap_or(wide.len());
    String::from_utf16_lossy(&wide[..end])
}

/// A `REG_MULTI_SZ`-style list (`a\0b\0\0`), as strings.
pub(crate) fn multi_sz(wide: &[u16]) -> Vec<String> {
    wide.split(|c| *c == 0)
        .take_while(|s| !s.is_empty())
        .map(String::from_utf16_lossy)
        .collect()
}

/// A string as a NUL-terminated wide string for the W functions.
#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

#[cfg(test)]
#[path = "answers_tests.rs"]
mod tests;
