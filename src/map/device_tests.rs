//! The map read by random access equals the map of the same image streamed,
//! reads only metadata, and names what each partition holds.

use std::process::Command;

use super::{DeviceMap, map_device};
use crate::map::Mapper;
use crate::test_random::low_bytes;

const MIB: usize = 1 << 20;

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run a filesystem tool");
    assert!(out.status.success(), "{cmd:?}: {out:?}");
}

/// An MBR disk: ext4 (16 MiB at 1 MiB), FAT (16 MiB), random bytes under
/// an unknown partition type (4 MiB), and 1 MiB after.
fn disk(work: &std::path::Path) -> Vec<u8> {
    let files = work.join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("a.bin"), low_bytes(3 * MIB, 3)).unwrap();
    let ext = work.join("p1");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-d"])
        .arg(&files)
        .arg(&ext)
        .arg("16M"));
    let fat = work.join("p2");
    run(Command::new("mkfs.vfat").arg("-C").arg(&fat).arg("16384"));
    run(Command::new("mcopy")
        .arg("-i")
        .arg(&fat)
        .arg(files.join("a.bin"))
        .arg("::/"));
    let parts: [(usize, Vec<u8>, u8); 3] = [
        (MIB, std::fs::read(&ext).unwrap(), 0x83),
        (17 * MIB, std::fs::read(&fat).unwrap(), 0x0c),
        (33 * MIB, low_bytes(4 * MIB, 9), 0xda),
    ];
    let mut image = vec![0u8; 38 * MIB];
    for (i, (at, bytes, kind)) in parts.iter().enumerate() {
        let e = 446 + 16 * i;
        image[e + 4] = *kind;
        image[e + 8..e + 12].copy_from_slice(&((at / 512) as u32).to_le_bytes());
        image[e + 12..e + 16].copy_from_slice(&((bytes.len() / 512) as u32).to_le_bytes());
        image[*at..at + bytes.len()].copy_from_slice(bytes);
    }
    image[510] = 0x55;
    image[511] = 0xAA;
    image
}

fn streamed(image: &[u8]) -> Vec<std::ops::Range<u64>> {
    let mut mapper = Mapper::new(Vec::new());
    let mut used: Vec<std::ops::Range<u64>> = Vec::new();
    for (i, chunk) in image.chunks(4 * MIB).enumerate() {
        for r in mapper.used_in((i * 4 * MIB) as u64, chunk) {
            match used.last_mut() {
                Some(last) if last.end == r.start => last.end = r.end,
                _ => used.push(r),
            }
        }
    }
    used
}

fn mapped(image: &[u8]) -> DeviceMap {
    map_device(image.len() as u64, |at, buf| {
        assert_eq!(at % 4096, 0, "aligned reads");
        buf.copy_from_slice(&image[at as usize..at as usize + buf.len()]);
        Ok(())
    })
    .unwrap()
}

fn covered(used: &[std::ops::Range<u64>], at: u64) -> bool {
    used.iter().any(|r| r.start <= at && at < r.end)
}

#[test]
fn random_access_finds_no_more_free_space_than_a_stream_and_names_each_partition() {
    let work = tempfile::tempdir().unwrap();
    let image = disk(work.path());
    let map = mapped(&image);
    let stream = streamed(&image);
    // Every byte the stream keeps is kept (free means free everywhere);
    // the stream may keep more (metadata it learnt of too late).
    for r in &stream {
        for at in (r.start..r.end).step_by(4096) {
            assert!(covered(&map.used, at), "byte {at} used by the stream");
        }
    }
    let kinds: Vec<Option<&str>> = map.partitions.iter().map(|p| p.filesystem).collect();
    assert_eq!(kinds, vec![Some("ext2/3/4"), Some("FAT"), None]);
    let unknown = &map.partitions[2];
    assert_eq!(unknown.used_bytes, unknown.range.end - unknown.range.start);
    for p in &map.partitions[..2] {
        let len = p.range.end - p.range.start;
        assert!(p.used_bytes < len / 2, "{p:?} mostly free");
        assert!(p.used_bytes > 3 * MIB as u64, "{p:?} holds the file");
    }
    // Only metadata was read to make the map.
    assert!(map.metadata_read < 2 * MIB as u64, "{}", map.metadata_read);
}

#[test]
fn a_read_error_while_mapping_is_returned() {
    let image = vec![0u8; MIB];
    let failed = map_device(image.len() as u64, |_, _| {
        Err(std::io::Error::other("the device reported an error"))
    });
    assert!(failed.is_err());
}
