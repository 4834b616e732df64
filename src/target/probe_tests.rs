//! The probe against in-memory cards that claim more than they hold: the
//! wrap and the lost writes are found and measured, a faithful card gives
//! no false alarm and gets its bytes back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;

const GIB: u64 = 1 << 30;

/// How an in-memory card maps a claimed byte to a real one.
#[derive(Clone, Copy)]
enum Card {
    Faithful,
    Wraps(u64),
    /// Writes at or past N are acknowledged and dropped.
    Drops(u64),
}

/// A sparse in-memory card: blocks never written read as `0xEE`.
struct Fake {
    card: Card,
    blocks: HashMap<u64, Vec<u8>>,
    path: PathBuf,
}

impl Fake {
    fn new(card: Card) -> Fake {
        Fake {
            card,
            blocks: HashMap::new(),
            path: PathBuf::from("/dev/fake"),
        }
    }

    fn real(&self, at: u64) -> Option<u64> {
        match self.card {
            Card::Faithful => Some(at),
            Card::Wraps(n) => Some(at % n),
            Card::Drops(n) => (at < n).then_some(at),
        }
    }
}

impl BlockTarget for Fake {
    fn path(&self) -> &Path {
        &self.path
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), TargetError> {
        for (i, block) in data.chunks(4096).enumerate() {
            if let Some(real) = self.real(offset + i as u64 * 4096) {
                self.blocks.insert(real, block.to_vec());
            }
        }
        Ok(())
    }

    fn read_at(
        &mut self,
        offset: u64,
        buf: &mut AlignedBuf,
        len: usize,
    ) -> Result<(), TargetError> {
        for (i, block) in buf[..len].chunks_mut(4096).enumerate() {
            let at = offset + i as u64 * 4096;
            let real = self.real(at).unwrap_or(at);
            match self.blocks.get(&real) {
                Some(stored) => block.copy_from_slice(stored),
                None => block.fill(0xEE),
            }
        }
        Ok(())
    }

    fn finish(&mut self, _image_len: u64) -> Result<(), TargetError> {
        Ok(())
    }
}

fn run(card: Card, size: u64, image_end: u64, mode: ProbeMode) -> (Probed, Fake) {
    let mut fake = Fake::new(card);
    let probed = probe(
        &mut fake,
        size,
        Some(image_end),
        mode,
        &AtomicBool::new(false),
    )
    .unwrap()
    .unwrap();
    (probed, fake)
}

#[test]
fn a_card_wrapping_at_64_mib_under_a_1_gib_claim_is_named() {
    let (probed, _) = run(Card::Wraps(64 * MIB), GIB, 8 * MIB, ProbeMode::Quick);
    assert_eq!(probed.verdict, Verdict::WrapsAt(64 * MIB));
    assert_eq!(probed.verdict.words(), format!("wraps at {}", 64 * MIB));
    assert!(probed.io_bytes < 512 << 10, "{} bytes", probed.io_bytes);
}

#[test]
fn wraps_at_other_sizes_are_named_too() {
    for (n, size) in [
        (512 * MIB, 8 * GIB),
        (96 * MIB, GIB),
        (3 * GIB, 64 * GIB),
        (8 * GIB, 64 * GIB),
    ] {
        let (probed, _) = run(Card::Wraps(n), size, 4 * MIB, ProbeMode::Quick);
        assert_eq!(probed.verdict, Verdict::WrapsAt(n), "wrap at {n} of {size}");
    }
}

#[test]
fn a_card_losing_writes_past_96_mib_is_named_to_the_mib() {
    let (probed, _) = run(Card::Drops(96 * MIB), GIB, 8 * MIB, ProbeMode::Quick);
    assert_eq!(probed.verdict, Verdict::LosesWritesBeyond(96 * MIB));
    // Past a power of two and not on a MiB: found to the MiB above.
    let (probed, _) = run(
        Card::Drops(300 * MIB + 4096),
        GIB,
        8 * MIB,
        ProbeMode::Quick,
    );
    assert_eq!(probed.verdict, Verdict::LosesWritesBeyond(301 * MIB));
    assert!(probed.io_bytes < 512 << 10, "{} bytes", probed.io_bytes);
}

#[test]
fn a_faithful_card_gives_no_evidence_and_gets_its_bytes_back() {
    for _ in 0..50 {
        let (probed, fake) = run(Card::Faithful, 64 * GIB, 8 * MIB, ProbeMode::Quick);
        assert_eq!(probed.verdict, Verdict::NoEvidence);
        assert!(fake.blocks.values().all(|b| b.iter().all(|&x| x == 0xEE)));
    }
}

#[test]
fn a_limbo_tail_past_the_image_is_sampled() {
    // Loses writes just before the claimed end: the last block tells.
    let (probed, _) = run(Card::Drops(GIB - 2 * MIB), GIB, 8 * MIB, ProbeMode::Quick);
    assert_eq!(probed.verdict, Verdict::LosesWritesBeyond(GIB - 2 * MIB));
}

#[test]
fn the_full_probe_finds_what_the_quick_one_does() {
    let size = 48 * MIB;
    let (probed, _) = run(Card::Drops(40 * MIB), size, 4 * MIB, ProbeMode::Full);
    assert_eq!(probed.verdict, Verdict::LosesWritesBeyond(40 * MIB));
    let (probed, _) = run(Card::Wraps(24 * MIB), size, 4 * MIB, ProbeMode::Full);
    assert_eq!(probed.verdict, Verdict::WrapsAt(24 * MIB));
    let (probed, _) = run(Card::Faithful, size, 4 * MIB, ProbeMode::Full);
    assert_eq!(probed.verdict, Verdict::NoEvidence);
}

#[test]
fn a_cancelled_probe_says_so() {
    let mut fake = Fake::new(Card::Faithful);
    let probed = probe(
        &mut fake,
        GIB,
        None,
        ProbeMode::Quick,
        &AtomicBool::new(true),
    )
    .unwrap();
    assert_eq!(probed, None);
}
