//! Property: over generated layouts (MBR, protective or hybrid GPT, a stale
//! GPT behind a plain MBR; nested and overlapping partitions; ISO 9660 and
//! UDF signatures; random bytes in the tables), the map never calls a byte
//! free unless exactly one structure covers it, that structure is a FAT16
//! volume whose own FAT says the cluster is free, and no optical signature
//! is at the image's or the partition's start. The oracle reads the final
//! bytes with its own few lines, not with `crate::disk`.

use super::*;

/// The disk of each layout.
const DISK: u64 = 16 * MIB;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A generated layout: the image, and the GPT entries it was given.
struct Layout {
    disk: Vec<u8>,
    gpt: Vec<Range<u64>>,
}

fn generate(rng: &mut Rng) -> Layout {
    let mut disk = vec![0u8; DISK as usize];
    let count = 1 + rng.below(4) as usize;
    let parts: Vec<Range<u64>> = (0..count)
        .map(|_| {
            let start = MIB + rng.below(160) * (64 << 10);
            let len = 3 * MIB + rng.below(48) * (64 << 10);
            start..(start + len).min(DISK - MIB)
        })
        .collect();
    let mode = rng.below(4);
    let mut gpt = Vec::new();
    if mode > 0 {
        // gptman writes no overlapping entries: overlaps come from the MBR.
        for r in parts.iter().filter(|_| rng.below(3) > 0) {
            if gpt
                .iter()
                .all(|g: &Range<u64>| g.end <= r.start || r.end <= g.start)
            {
                gpt.push(r.clone());
            }
        }
        write_gpt(&mut disk, &gpt);
    }
    let mbr_parts: Vec<&Range<u64>> = match mode {
        // A plain MBR, or a stale GPT behind one.
        0 | 3 => {
            disk[446..510].fill(0);
            parts.iter().take(4).collect()
        }
        // A protective MBR.
        1 => Vec::new(),
        // A hybrid MBR: the 0xEE entry, then up to three others.
        _ => parts.iter().filter(|_| rng.below(2) == 0).take(3).collect(),
    };
    let first_slot = usize::from(mode == 1 || mode == 2);
    for (i, r) in mbr_parts.into_iter().enumerate() {
        mbr_entry(&mut disk, first_slot + i, 0x0e, r.clone());
    }
    for r in &parts {
        with_fat(&mut disk, r);
    }
    if rng.below(8) == 0 {
        put(&mut disk, 32769, b"CD001");
    }
    if rng.below(6) == 0 {
        let r = &parts[rng.below(parts.len() as u64) as usize];
        let slot = r.start + 32768 + rng.below(16) * 2048 + 1;
        put(
            &mut disk,
            slot,
            [b"CD001", b"BEA01", b"NSR03"][rng.below(3) as usize],
        );
    }
    if rng.below(3) == 0 {
        for _ in 0..1 + rng.below(4) {
            let areas = [446..512, 512..604, 1024..1536];
            let area = &areas[rng.below(3) as usize];
            let at = area.start + rng.below(area.end - area.start);
            disk[at as usize] = rng.next() as u8;
        }
    }
    Layout { disk, gpt }
}

fn le(bytes: &[u8], at: u64, len: usize) -> u64 {
    let at = at as usize;
    bytes[at..at + len]
        .iter()
        .rev()
        .fold(0, |n, b| n << 8 | u64::from(*b))
}

/// The distinct structures covering bytes, read from the final bytes: the
/// MBR's entries, and the GPT's when the MBR holds a 0xEE entry.
fn structures(layout: &Layout) -> Vec<Range<u64>> {
    let disk = &layout.disk;
    if disk[510..512] != [0x55, 0xAA] {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut protective = false;
    for slot in 0..4u64 {
        let e = 446 + 16 * slot;
        let sys = disk[e as usize + 4];
        protective |= sys == 0xEE;
        if sys != 0 && sys != 0xEE {
            let start = le(disk, e + 8, 4) * 512;
            found.push(start..start + le(disk, e + 12, 4) * 512);
        }
    }
    if protective {
        found.extend(layout.gpt.iter().cloned());
    }
    found.sort_by_key(|r| (r.start, r.end));
    found.dedup();
    found
}

fn optical_at(disk: &[u8], start: u64) -> bool {
    (0..16).any(|slot| {
        let at = (start + 32768 + slot * 2048 + 1) as usize;
        disk.get(at..at + 5).is_some_and(|id| {
            [b"CD001", b"BEA01", b"NSR02", b"NSR03"]
                .iter()
                .any(|k| id == *k)
        })
    })
}

/// Why the block at `at` may not be free; `None` when it may.
fn violation(layout: &Layout, structures: &[Range<u64>], at: u64) -> Option<String> {
    let disk = &layout.disk;
    let covering: Vec<&Range<u64>> = structures.iter().filter(|r| r.contains(&at)).collect();
    let [only] = covering.as_slice() else {
        return Some(format!("covered by {covering:?}"));
    };
    let total = le(disk, only.start + 32, 4);
    let fat_sectors = le(disk, only.start + 22, 2);
    let data = only.start + (RESERVED + 2 * fat_sectors + ROOT_SECTORS) * 512;
    let end = (only.start + total * 512).min(only.end);
    if disk[only.start as usize + 510..][..2] != [0x55, 0xAA] || at < data || at >= end {
        return Some(format!("not in the data region of a FAT at {}", only.start));
    }
    let cluster = (at - data) / 512 + 2;
    let entry = le(disk, only.start + RESERVED * 512 + cluster * 2, 2);
    (entry != 0).then(|| {
        format!(
            "cluster {cluster} of the FAT at {} is {entry:#x}",
            only.start
        )
    })
}

#[test]
fn generated_layouts_never_map_a_doubtful_byte_free() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut layouts_with_free_space = 0;
    for round in 0..100 {
        let layout = generate(&mut rng);
        let structures = structures(&layout);
        let free = free_bytes(&layout.disk);
        layouts_with_free_space += usize::from(!free.is_empty());
        // A signature at the image's start makes everything used; at a
        // structure's start, that structure.
        let whole = optical_at(&layout.disk, 0);
        let signed: Vec<&Range<u64>> = structures
            .iter()
            .filter(|r| whole || optical_at(&layout.disk, r.start))
            .collect();
        for f in &free {
            assert!(
                !whole && signed.iter().all(|r| f.end <= r.start || r.end <= f.start),
                "round {round}: {f:?} mapped free in an ISO 9660 / UDF volume"
            );
        }
        for range in free {
            for at in (range.start..range.end).step_by(512) {
                if let Some(why) = violation(&layout, &structures, at) {
                    panic!(
                        "round {round}: byte {at} mapped free but {why}; structures {structures:?}"
                    );
                }
            }
        }
    }
    // The property is not met by mapping nothing.
    assert!(layouts_with_free_space > 15, "{layouts_with_free_space}");
}
