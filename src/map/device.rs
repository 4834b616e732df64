//! The map of used bytes read from a device (or an image file) by random
//! access, for `imprint backup`: the same parsers and layout rules as a
//! stream (docs/architecture.md §2), but instead of waiting for the bytes
//! to stream past, the mapper's lowest pending request is read at once.
//! Requests are served in ascending order, as a stream would serve them, so
//! the answer is the stream's, except that nothing is ever "too late": every
//! request is answered. Only the metadata is read here; the caller then
//! reads the used ranges.

use std::io;
use std::ops::Range;

use super::layout::Kind;
use super::{ALIGN, Mapper, PROBE_LEN, Want, total};

/// The used bytes of a device and what each partition was found to hold.
#[derive(Debug, Clone)]
pub(crate) struct DeviceMap {
    /// Sorted, disjoint; starts [`ALIGN`]ed, gaps below `MIN_GAP` closed.
    pub(crate) used: Vec<Range<u64>>,
    pub(crate) partitions: Vec<PartitionMap>,
    /// Bytes read to make the map (tables, superblocks, bitmaps, FATs).
    pub(crate) metadata_read: u64,
}

/// One partition of the tables that count.
#[derive(Debug, Clone)]
pub(crate) struct PartitionMap {
    pub(crate) range: Range<u64>,
    /// `"ext2/3/4"` or `"FAT"`; `None`: not understood, copied whole.
    pub(crate) filesystem: Option<&'static str>,
    /// Bytes of the partition the map keeps.
    pub(crate) used_bytes: u64,
}

/// Maps a device of `size` bytes, reading its metadata through `read`
/// (offset and length multiples of [`ALIGN`], except at the end).
pub(crate) fn map_device(
    size: u64,
    mut read: impl FnMut(u64, &mut [u8]) -> io::Result<()>,
) -> io::Result<DeviceMap> {
    let mut mapper = Mapper::new(Vec::new());
    let mut metadata_read = answer_requests(&mut mapper, size, &mut read)?;
    if mapper.layout.partitions().is_empty() && size >= PROBE_LEN as u64 {
        // No partition table: a partition or a bare filesystem named
        // itself. Read it as one partition covering the device.
        mapper.layout.add(0..size, Kind::Partition);
        mapper.push(0, PROBE_LEN, Want::Probe { part: 0..size });
        metadata_read += answer_requests(&mut mapper, size, &mut read)?;
    }
    let used = mapper.used_between(0, size);
    let partitions = mapper
        .layout
        .partitions()
        .into_iter()
        .map(|range| {
            let filesystem = mapper
                .found
                .iter()
                .find(|(r, _)| *r == range)
                .map(|(_, kind)| *kind);
            let inside: Vec<Range<u64>> = used
                .iter()
                .filter(|u| u.start < range.end && range.start < u.end)
                .map(|u| u.start.max(range.start)..u.end.min(range.end))
                .collect();
            PartitionMap {
                used_bytes: total(&inside),
                range,
                filesystem,
            }
        })
        .collect();
    Ok(DeviceMap {
        used,
        partitions,
        metadata_read,
    })
}

/// Reads the pending requests' bytes, lowest first, until none is left
/// within the device; the bytes read.
fn answer_requests(
    mapper: &mut Mapper,
    size: u64,
    read: &mut impl FnMut(u64, &mut [u8]) -> io::Result<()>,
) -> io::Result<u64> {
    let mut metadata_read = 0;
    let mut buf = Vec::new();
    while let Some((&(at, _), request)) = mapper.requests.first_key_value() {
        if at >= size {
            break;
        }
        let need = (request.len - request.buf.len()) as u64;
        let start = at / ALIGN * ALIGN;
        let end = (at + need).next_multiple_of(ALIGN).min(size);
        buf.resize((end - start) as usize, 0);
        read(start, &mut buf)?;
        metadata_read += end - start;
        mapper.feed(start, &buf);
    }
    Ok(metadata_read)
}

#[cfg(test)]
#[path = "device_tests.rs"]
mod tests;
