//! The backup of an image file (no root needed): names choose the format,
//! existing files are never overwritten, the image written is the source
//! with its free space zeroed, the bmap checks against it, and a failed
//! backup leaves no file behind.

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::*;
use crate::map::bmap::{Bmap, BmapChecker};
use crate::test_random::low_bytes;
use sha2::{Digest, Sha256};

const MIB: usize = 1 << 20;

#[test]
fn the_name_chooses_the_format_and_unknown_endings_are_refused() {
    for (name, kind) in [
        ("a.img.zst", Compression::Zstd),
        ("a.IMG.XZ", Compression::Xz),
        ("a.img.gz", Compression::Gzip),
        ("a.img", Compression::Raw),
    ] {
        assert_eq!(Compression::from_name(Path::new(name)), Ok(kind), "{name}");
    }
    for name in ["a.img.bz2", "a.zip", "a", ".zst"] {
        let refused = Compression::from_name(Path::new(name)).unwrap_err();
        assert!(refused.contains(".img.zst"), "{refused}");
    }
}

#[test]
fn an_existing_output_is_refused_and_nothing_is_touched() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("b.img.zst");
    std::fs::write(out.with_extension("zst.bmap"), b"keep").unwrap();
    let refused = output::Outputs::plan(&out).err().unwrap();
    assert!(refused.contains("already exists"), "{refused}");
    assert_eq!(
        std::fs::read(out.with_extension("zst.bmap")).unwrap(),
        b"keep"
    );
}

/// An MBR image: a FAT partition holding a file, free space filled with
/// random bytes (a file written and deleted), and random bytes under an
/// unknown partition type.
fn image(work: &Path) -> Vec<u8> {
    let fat = work.join("fat");
    let run = |cmd: &mut Command| assert!(cmd.status().unwrap().success(), "{cmd:?}");
    run(Command::new("mkfs.vfat").arg("-C").arg(&fat).arg("16384"));
    let file = work.join("keep.bin");
    std::fs::write(&file, low_bytes(2 * MIB, 4)).unwrap();
    let gone = work.join("gone.bin");
    std::fs::write(&gone, low_bytes(10 * MIB, 5)).unwrap();
    for f in [&gone, &file] {
        run(Command::new("mcopy").arg("-i").arg(&fat).arg(f).arg("::/"));
    }
    run(Command::new("mdel").arg("-i").arg(&fat).arg("::/gone.bin"));
    let fat = std::fs::read(&fat).unwrap();
    let mut disk = vec![0u8; 22 * MIB];
    for (i, (at, len, kind)) in [(MIB, fat.len(), 0x0cu8), (17 * MIB, 4 * MIB, 0xda)]
        .into_iter()
        .enumerate()
    {
        let e = 446 + 16 * i;
        disk[e + 4] = kind;
        disk[e + 8..e + 12].copy_from_slice(&((at / 512) as u32).to_le_bytes());
        disk[e + 12..e + 16].copy_from_slice(&((len / 512) as u32).to_le_bytes());
    }
    disk[510] = 0x55;
    disk[511] = 0xAA;
    disk[MIB..MIB + fat.len()].copy_from_slice(&fat);
    disk[17 * MIB..21 * MIB].copy_from_slice(&low_bytes(4 * MIB, 6));
    disk
}

#[test]
fn an_image_file_is_backed_up_as_its_used_bytes_with_a_bmap_that_checks() {
    let work = tempfile::tempdir().unwrap();
    let disk = image(work.path());
    let source = work.path().join("card.img");
    std::fs::write(&source, &disk).unwrap();
    let out = work.path().join("backup.img.zst");
    let backup = prepare(&source, &out).unwrap();
    assert!(
        backup.notes.iter().any(|n| n.contains("FAT")),
        "{:?}",
        backup.notes
    );
    assert!(
        backup.notes.iter().any(|n| n.contains("copied whole")),
        "{:?}",
        backup.notes
    );
    let used = backup.to_read();
    assert!(used < 10 * MIB as u64, "the deleted file is free: {used}");
    let done = backup
        .run(Arc::new(AtomicBool::new(false)), &mut |_| {})
        .unwrap();

    let mut restored = Vec::new();
    zstd::stream::read::Decoder::new(std::fs::File::open(&out).unwrap())
        .unwrap()
        .read_to_end(&mut restored)
        .unwrap();
    assert_eq!(restored.len(), disk.len());
    assert_eq!(hex(&Sha256::digest(&restored)), done.image_sha256);
    // Every byte is the source's or a zero of its free space, the unknown
    // partition whole, and the deleted file's bytes are gone.
    for (i, (a, b)) in restored.iter().zip(&disk).enumerate() {
        assert!(a == b || *a == 0, "byte {i}");
    }
    assert_eq!(restored[17 * MIB..21 * MIB], disk[17 * MIB..21 * MIB]);
    assert_ne!(restored, disk, "free space was not copied");

    let text = std::fs::read(&done.bmap).unwrap();
    let bmap = Bmap::parse(&done.bmap, &text).unwrap();
    let mut checker = BmapChecker::new(&bmap);
    checker.feed(0, &restored).unwrap();
    checker.finish(restored.len() as u64).unwrap();
    let line = std::fs::read_to_string(&done.sha256_file).unwrap();
    let file_hash = hex(&Sha256::digest(std::fs::read(&out).unwrap()));
    assert_eq!(line, format!("{file_hash}  backup.img.zst\n"));
}

#[test]
fn a_raw_backup_is_sparse_and_equal_to_the_image() {
    let work = tempfile::tempdir().unwrap();
    let disk = image(work.path());
    let source = work.path().join("card.img");
    std::fs::write(&source, &disk).unwrap();
    let out = work.path().join("backup.img");
    let done = prepare(&source, &out)
        .unwrap()
        .run(Arc::new(AtomicBool::new(false)), &mut |_| {})
        .unwrap();
    let raw = std::fs::read(&out).unwrap();
    assert_eq!(raw.len(), disk.len());
    assert_eq!(hex(&Sha256::digest(&raw)), done.image_sha256);
    assert_eq!(done.file_sha256, done.image_sha256);
}

#[test]
fn a_cancelled_backup_leaves_no_file() {
    let work = tempfile::tempdir().unwrap();
    let disk = image(work.path());
    let source = work.path().join("card.img");
    std::fs::write(&source, &disk).unwrap();
    let out = work.path().join("backup.img.gz");
    let failed = prepare(&source, &out)
        .unwrap()
        .run(Arc::new(AtomicBool::new(true)), &mut |_| {})
        .unwrap_err();
    assert!(matches!(failed, BackupError::Cancelled), "{failed}");
    for path in [
        "backup.img.gz",
        "backup.img.gz.bmap",
        "backup.img.gz.sha256",
    ] {
        assert!(!work.path().join(path).exists(), "{path} left behind");
    }
}
