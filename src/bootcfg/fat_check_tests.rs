//! Tests of `fat_check` (beside it, so the production file stays short).

use std::io::{Cursor, Write};

use super::*;

/// A FAT16 of 8 MiB with 1 KiB clusters holding `a.txt` (3 clusters)
/// and `b.txt` (1 cluster); returns it with the two first clusters.
fn volume() -> (Vec<u8>, u32, u32) {
    let mut bytes = vec![0u8; 8 << 20];
    fatfs::format_volume(
        Cursor::new(&mut bytes),
        fatfs::FormatVolumeOptions::new()
            .fat_type(fatfs::FatType::Fat16)
            .bytes_per_cluster(1024),
    )
    .unwrap();
    {
        let fs = fatfs::FileSystem::new(Cursor::new(&mut bytes), fatfs::FsOptions::new()).unwrap();
        let dir = fs.root_dir().create_dir("sub").unwrap();
        dir.create_file("a.txt")
            .unwrap()
            .write_all(&[b'a'; 2500])
            .unwrap();
        fs.root_dir()
            .create_file("b.txt")
            .unwrap()
            .write_all(b"b")
            .unwrap();
    }
    let layout = Layout::parse(&bytes).unwrap();
    assert_eq!(layout.bits, 16);
    let first = |path: &str| -> u32 {
        let (start, len) = layout.root_dir;
        let root = entries(&bytes[start..start + len], false);
        let sub = root.iter().find(|e| e.name == "sub").unwrap();
        let sub_bytes = layout.cluster_bytes(&bytes, sub.first_cluster);
        root.into_iter()
            .chain(entries(sub_bytes, false))
            .find(|e| e.name == path)
            .unwrap()
            .first_cluster
    };
    let (a, b) = (first("a.txt"), first("b.txt"));
    (bytes, a, b)
}

/// The chain from `first`, read from the (undamaged) FAT.
fn chain(bytes: &[u8], first: u32) -> Vec<u32> {
    let layout = Layout::parse(bytes).unwrap();
    let mut out = vec![first];
    while let Next::Cluster(next) = layout.next(bytes, *out.last().unwrap()) {
        out.push(next);
    }
    out
}

fn set_fat16(bytes: &mut [u8], cluster: u32, value: u16) {
    let layout = Layout::parse(bytes).unwrap();
    let at = layout.fat_start + 2 * cluster as usize;
    bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn a_clean_volume_passes() {
    let (bytes, a, b) = volume();
    assert_ne!(a, b);
    check_chains(&bytes, &["sub/a.txt", "b.txt"]).unwrap();
}

/// Damages a volume, given a.txt's chain and b.txt's first cluster.
type Damage = fn(&mut [u8], &[u32], u32);

#[test]
fn finds_each_kind_of_damage() {
    // `a` is a.txt's chain (3 clusters), `b` b.txt's first cluster.
    let cases: [(&str, Damage); 6] = [
        ("share cluster", |v, a, b| set_fat16(v, a[2], b as u16)),
        ("loops back", |v, a, _| set_fat16(v, a[2], a[0] as u16)),
        ("marks free", |v, a, _| set_fat16(v, a[1], 0)),
        ("marks bad", |v, a, _| set_fat16(v, a[1], 0xFFF7)),
        ("past the end of the filesystem", |v, a, _| {
            set_fat16(v, a[0], 0xFF00)
        }),
        ("takes 3 clusters, but its chain has 2", |v, a, _| {
            set_fat16(v, a[1], 0xFFFF)
        }),
    ];
    for (said, damage) in cases {
        let (mut bytes, a, b) = volume();
        let a = chain(&bytes, a);
        assert_eq!(a.len(), 3);
        damage(&mut bytes, &a, b);
        let err = check_chains(&bytes, &["sub/a.txt"]).unwrap_err();
        assert!(err.contains(said), "{said}: {err}");
        assert!(err.contains("/sub/a.txt"), "{err}");
    }
}

#[test]
fn any_boot_sector_is_an_answer_not_a_panic() {
    let (volume, _, _) = volume();
    let mut random = crate::test_random::XorShift::new(0x2545_F491_4F6C_DD1D);
    for _ in 0..2000 {
        let mut bytes = volume.clone();
        // Random values in the BPB fields (bytes 11..48).
        for _ in 0..4 {
            let state = random.next_u64();
            bytes[11 + (state % 37) as usize] = (state >> 32) as u8;
        }
        let _ = check_chains(&bytes, &["b.txt"]);
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let (mut bytes, _, _) = volume();
    for (i, b) in bytes.iter_mut().enumerate().skip(512).take(64 << 10) {
        *b = (i * 7919 % 251) as u8;
    }
    assert!(check_chains(&bytes, &[]).is_err());
    assert!(check_chains(&[0u8; 100], &[]).is_err());
}
