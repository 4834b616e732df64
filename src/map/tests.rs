//! The map against real filesystems made by mkfs: every range the map calls
//! free is overwritten with garbage (as a drive holding random bytes would
//! keep it), and the filesystem must still check clean and give back every
//! file; the map must also skip most of the free space. The cases, by
//! theme: ext2/3/4 (`tests_ext.rs`), FAT (`tests_fat.rs`), partition tables
//! and the ranges forced used (`tests_tables.rs`); the helpers they and the
//! oracle tests beside `ext.rs`, `ext_csum.rs` and `fat.rs` share are here.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

#[path = "tests_ext.rs"]
mod ext_cases;
#[path = "tests_fat.rs"]
mod fat_cases;
#[path = "tests_tables.rs"]
mod tables;

pub(super) const MIB: u64 = 1 << 20;
/// The engine's chunk (`engine::chunk::CHUNK_BYTES`).
pub(super) const CHUNK: usize = 4 << 20;

fn map_of(image: &[u8]) -> Vec<Range<u64>> {
    let mut mapper = Mapper::new(Vec::new());
    let mut used = Vec::new();
    for (i, chunk) in image.chunks(CHUNK).enumerate() {
        let offset = (i * CHUNK) as u64;
        let ranges = mapper.used_in(offset, chunk);
        let mut last = offset;
        for r in &ranges {
            assert!(r.start >= last && r.end > r.start && r.end <= offset + chunk.len() as u64);
            assert_eq!(r.start % ALIGN, 0, "{r:?}");
            last = r.end;
        }
        used.extend(ranges);
    }
    used
}

/// The image with every byte outside `used` replaced by a pseudo-random
/// pattern.
fn scramble(image: &[u8], used: &[Range<u64>]) -> Vec<u8> {
    let mut out = image.to_vec();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut cursor = 0usize;
    let mut fill = |from: usize, to: usize, out: &mut Vec<u8>| {
        for b in &mut out[from..to] {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = seed as u8;
        }
    };
    for r in used {
        fill(cursor, r.start as usize, &mut out);
        cursor = r.end as usize;
    }
    fill(cursor, image.len(), &mut out);
    out
}

/// Runs a command that must succeed; its standard output.
pub(super) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("running a filesystem tool");
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A folder of files: some large, one empty, a symlink, a nested folder.
fn populate(dir: &Path) {
    std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    let mut seed = 7u32;
    for (name, len) in [
        ("big.bin", 3 << 20),
        ("sub/mid.bin", 300_000),
        ("sub/deeper/small.txt", 1234),
        ("empty", 0),
        ("f1.bin", 200_000),
        ("f2.bin", 500_000),
    ] {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    // A symlink, made by ln: no OS call outside src/platform, even in tests.
    run(Command::new("ln")
        .arg("-s")
        .arg("sub/mid.bin")
        .arg(dir.join("link")));
}

/// Makes an ext filesystem of `mib` MiB from `dir` with mkfs options `opts`,
/// then deletes and rewrites files with debugfs so the allocation is
/// fragmented and freed blocks hold old data.
fn make_ext(dir: &Path, image: &Path, mib: u64, opts: &[&str]) {
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-E", "lazy_itable_init=1", "-d"])
        .arg(dir)
        .args(opts)
        .arg(image)
        .arg(format!("{mib}M")));
    run(Command::new("debugfs")
        .args(["-w", "-R", "rm /f1.bin"])
        .arg(image));
    let again = dir.join("f1.bin");
    run(Command::new("debugfs")
        .arg("-w")
        .arg("-R")
        .arg(format!("write {} again.bin", again.display()))
        .arg(image));
    std::fs::rename(dir.join("f1.bin"), dir.join("again.bin")).unwrap();
}

/// An MBR disk of `len` bytes with the given (offset, bytes, type)
/// partitions.
fn with_mbr(parts: &[(u64, &[u8], u8)], len: u64) -> Vec<u8> {
    let mut disk = vec![0u8; len as usize];
    for (i, (offset, bytes, kind)) in parts.iter().enumerate() {
        let e = 446 + 16 * i;
        disk[e + 4] = *kind;
        disk[e + 8..e + 12].copy_from_slice(&((offset / 512) as u32).to_le_bytes());
        disk[e + 12..e + 16].copy_from_slice(&((bytes.len() as u64 / 512) as u32).to_le_bytes());
        disk[*offset as usize..*offset as usize + bytes.len()].copy_from_slice(bytes);
    }
    disk[510] = 0x55;
    disk[511] = 0xAA;
    disk
}

// Helpers for the oracle tests beside `ext.rs`, `ext_csum.rs` and `fat.rs`,
// which map sparse images of gigabytes without holding them in memory.

/// Makes `image` an ext filesystem of `size` (as mkfs.ext4 reads it) with
/// 4 KiB blocks, the files of a fresh [`populate`]d folder and the mkfs
/// options `opts`; returns the folder.
pub(super) fn make_ext_4k(work: &Path, image: &Path, size: &str, opts: &[&str]) -> PathBuf {
    let dir = work.join("files");
    if !dir.exists() {
        populate(&dir);
    }
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-b", "4096", "-E", "lazy_itable_init=1", "-d"])
        .arg(&dir)
        .args(opts)
        .arg(image)
        .arg(size));
    dir
}

/// Streams the filesystem in the file `fs` as the one partition (of type
/// `kind`, at 1 MiB) of an MBR disk through a [`Mapper`], `chunk` bytes at
/// a time; the used ranges, merged. Reads a sparse file's holes only.
pub(super) fn map_partition(fs: &Path, kind: u8, chunk: usize) -> Vec<Range<u64>> {
    use std::io::Read;
    let len = std::fs::metadata(fs).unwrap().len();
    let mut header = vec![0u8; MIB as usize];
    header[446 + 4] = kind;
    header[446 + 8..446 + 12].copy_from_slice(&((MIB / 512) as u32).to_le_bytes());
    header[446 + 12..446 + 16].copy_from_slice(&((len / 512) as u32).to_le_bytes());
    header[510] = 0x55;
    header[511] = 0xAA;
    let file = std::fs::File::open(fs).unwrap();
    let mut stream =
        std::io::BufReader::with_capacity(CHUNK, std::io::Cursor::new(header).chain(file));
    let mut mapper = Mapper::new(Vec::new());
    let mut used: Vec<Range<u64>> = Vec::new();
    let mut buf = vec![0u8; chunk];
    let mut offset = 0u64;
    loop {
        let mut filled = 0;
        while filled < chunk {
            match stream.read(&mut buf[filled..]).unwrap() {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            break;
        }
        let end = offset + filled as u64;
        for r in mapper.used_in(offset, &buf[..filled]) {
            assert!(
                r.start >= offset && r.start < r.end && r.end <= end,
                "{r:?}"
            );
            match used.last_mut() {
                Some(last) if last.end == r.start => last.end = r.end,
                _ => used.push(r),
            }
        }
        offset = end;
    }
    assert_eq!(offset, MIB + len);
    used
}

/// The parts of `wanted` (sorted ranges) outside `used` (sorted, disjoint).
pub(super) fn uncovered(used: &[Range<u64>], wanted: &[Range<u64>]) -> Vec<Range<u64>> {
    let mut missing = Vec::new();
    for w in wanted {
        let mut cursor = w.start;
        let first = used.partition_point(|u| u.end <= w.start);
        for u in used[first..].iter().take_while(|u| u.start < w.end) {
            if u.start > cursor {
                missing.push(cursor..u.start);
            }
            cursor = cursor.max(u.end);
        }
        if cursor < w.end {
            missing.push(cursor..w.end);
        }
    }
    missing
}

/// Whether `range` lies inside `used` (sorted, disjoint).
pub(super) fn covers(used: &[Range<u64>], range: Range<u64>) -> bool {
    uncovered(used, std::slice::from_ref(&range)).is_empty()
}

/// Overwrites `bytes` at `at` in the file `path`; returns what was there.
pub(super) fn patch(path: &Path, at: u64, bytes: &[u8]) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut old = vec![0u8; bytes.len()];
    file.seek(SeekFrom::Start(at)).unwrap();
    file.read_exact(&mut old).unwrap();
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(bytes).unwrap();
    old
}

/// `len` bytes at `at` of the file `path`.
pub(super) fn read_at(path: &Path, at: u64, len: usize) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).unwrap();
    let mut out = vec![0u8; len];
    file.seek(SeekFrom::Start(at)).unwrap();
    file.read_exact(&mut out).unwrap();
    out
}
