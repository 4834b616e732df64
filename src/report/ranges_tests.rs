use super::*;

#[test]
fn leaves_follow_the_used_ranges_and_split_at_the_leaf_size() {
    let mut leaves = Leaves::default();
    let big = vec![7u8; (LEAF_BYTES + 4096) as usize];
    leaves.add(0, &big[..4096]);
    leaves.add(4096, &big[..4096]);
    leaves.add(1 << 20, &big);
    let done = leaves.finish();
    let spans: Vec<(u64, u64)> = done.iter().map(|r| (r.start, r.len)).collect();
    assert_eq!(
        spans,
        vec![
            (0, 8192),
            (1 << 20, LEAF_BYTES),
            ((1 << 20) + LEAF_BYTES, 4096)
        ]
    );
    assert_eq!(done[0].sha256, to_hex(&Sha256::digest(&big[..8192])));
}

#[test]
fn a_changed_byte_names_its_piece_and_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drive.img");
    let len = 3 * LEAF_BYTES + 12_345;
    // A 4 KiB block repeated (quick to make unoptimised); each piece hashes alike,
    // so only the changed one can differ.
    let block: Vec<u8> = (0..4096u32).map(|i| (i * 31 % 253) as u8).collect();
    let mut bytes = block.repeat(len.div_ceil(4096) as usize);
    bytes.truncate(len as usize);
    std::fs::write(&path, &bytes).unwrap();
    let ranges = hash_drive(&path, len, Vec::new(), true).unwrap();
    assert_eq!(ranges.len(), 4);
    assert_eq!(ranges.iter().map(|r| r.len).sum::<u64>(), len);
    let cancel = AtomicBool::new(false);
    assert!(changed_ranges(&path, &ranges, &cancel).unwrap().is_empty());
    let mut changed = bytes.clone();
    changed[(2 * LEAF_BYTES + 5) as usize] ^= 0x40;
    std::fs::write(&path, &changed).unwrap();
    let found = changed_ranges(&path, &ranges, &cancel).unwrap();
    assert_eq!(found, vec![ranges[2].clone()]);
}
