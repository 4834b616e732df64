//! FAT12/16/32 images made by mkfs.vfat and filled with mtools: their free
//! clusters scrambled, fsck.fat must pass and every file come back.

use std::path::Path;
use std::process::Command;

use super::*;

fn fat_case(bits: &str, mib: u64, cluster_sectors: &str) {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("files");
    populate(&dir);
    std::fs::remove_file(dir.join("link")).unwrap();
    let image = work.path().join("fs.fat");
    run(Command::new("mkfs.vfat")
        .args(["-F", bits, "-s", cluster_sectors, "-C"])
        .arg(&image)
        .arg((mib * 1024).to_string()));
    let mcopy = |args: &[&str]| {
        run(Command::new("mcopy")
            .args(["-s", "-o", "-i"])
            .arg(&image)
            .args(args));
    };
    // Written, a file deleted, then another written: fragmented, and the
    // deleted file's clusters are free but not zero.
    for name in ["f1.bin", "f2.bin", "empty", "sub", "big.bin"] {
        mcopy(&[dir.join(name).to_str().unwrap(), "::/"]);
    }
    run(Command::new("mdel").arg("-i").arg(&image).arg("::/f1.bin"));
    std::fs::rename(dir.join("f1.bin"), dir.join("again.bin")).unwrap();
    mcopy(&[dir.join("again.bin").to_str().unwrap(), "::/"]);
    let bytes = std::fs::read(&image).unwrap();
    let disk = with_mbr(&[(MIB, &bytes, 0x0c)], MIB + bytes.len() as u64);
    let used = map_of(&disk);
    let mapped = total(&used);
    let written: u64 = walk(&dir).iter().map(|p| p.metadata().unwrap().len()).sum();
    assert!(
        mapped < written + 3 * MIB + bytes.len() as u64 / 10,
        "FAT{bits}: mapped {mapped} of {} bytes, {written} in files",
        disk.len()
    );
    let scrambled = scramble(&disk, &used);
    let copy = work.path().join("scrambled.fat");
    std::fs::write(&copy, &scrambled[MIB as usize..MIB as usize + bytes.len()]).unwrap();
    run(Command::new("fsck.fat").arg("-n").arg(&copy));
    let out = work.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    run(Command::new("mcopy")
        .args(["-s", "-n", "-i"])
        .arg(&copy)
        .arg("::/*")
        .arg(&out));
    run(Command::new("diff").arg("-r").arg(&dir).arg(&out));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn fat12() {
    fat_case("12", 8, "4");
}

#[test]
fn fat16() {
    fat_case("16", 40, "4");
}

#[test]
fn fat32() {
    fat_case("32", 100, "1");
}
