use super::*;

fn gpt_image(sector: u64, alternate_lba: u64) -> Vec<u8> {
    let mut image = vec![0u8; 8192];
    let at = sector as usize;
    image[at..at + 8].copy_from_slice(b"EFI PART");
    image[at + 32..at + 40].copy_from_slice(&alternate_lba.to_le_bytes());
    image
}

#[test]
fn without_a_gpt_only_the_first_mib_is_held() {
    let zones = HeldZones::from_first_chunk(&[0u8; 8192]);
    assert!(zones.holds(&(0..4096)));
    assert!(zones.holds(&(1_044_480..FIRST_MIB)));
    assert!(!zones.holds(&(FIRST_MIB..FIRST_MIB + 4096)));
    assert_eq!(zones, HeldZones::default());
}

#[test]
fn a_gpts_backup_header_block_is_held_too() {
    // A 64 MiB image of 512-byte sectors: the backup header on its last one.
    let last_lba = (64 << 20) / 512 - 1;
    let zones = HeldZones::from_first_chunk(&gpt_image(512, last_lba));
    let block = (64 << 20) - 4096..64 << 20;
    assert!(zones.holds(&block));
    assert!(!zones.holds(&((64 << 20) - 8192..(64 << 20) - 4096)));
    // 4096-byte sectors: LBA 1 is at 4096.
    let zones = HeldZones::from_first_chunk(&gpt_image(4096, 1000));
    assert!(zones.holds(&(4096 * 1000..4096 * 1001)));
}

#[test]
fn ranges_are_cut_at_every_zone_edge() {
    let last_lba = (8 << 20) / 512 - 1;
    let zones = HeldZones::from_first_chunk(&gpt_image(512, last_lba));
    let split = zones.split(vec![0..4 << 20, (4 << 20)..(8 << 20)]);
    assert_eq!(
        split,
        vec![
            0..FIRST_MIB,
            FIRST_MIB..4 << 20,
            (4 << 20)..(8 << 20) - 4096,
            (8 << 20) - 4096..8 << 20,
        ]
    );
    let held: Vec<_> = split.iter().filter(|r| zones.holds(r)).collect();
    assert_eq!(held, vec![&(0..FIRST_MIB), &((8 << 20) - 4096..8 << 20)]);
}

#[test]
fn a_backup_header_inside_the_first_mib_adds_nothing() {
    assert_eq!(
        HeldZones::from_first_chunk(&gpt_image(512, 100)),
        HeldZones::default()
    );
}
