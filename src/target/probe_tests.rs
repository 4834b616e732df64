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
    assert!(probed.io_bytes <= 1 << 20, "{} bytes", probed.io_bytes);
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
    assert!(probed.io_bytes <= 1 << 20, "{} bytes", probed.io_bytes);
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

/// Wrap sizes the probe must name exactly on a card claiming `size`: every
/// adversarial shape (powers of two and one block off them, `3·2^k` and a
/// MiB past it, 100 MiB) and random whole MiBs, all at or past the image.
fn wrap_sizes(size: u64, image_end: u64) -> Vec<u64> {
    let mut sizes = vec![100 * MIB, size - 2 * MIB, size / 2 + MIB];
    for k in 21..63 {
        let p = 1u64 << k;
        sizes.extend([p, p - 4096, p + 4096, 3 * p + MIB, 3 * p, p + MIB, p - MIB]);
    }
    let mut random = random_u64s();
    sizes.extend((0..40).map(|_| (random.next().unwrap() % (size / MIB)) * MIB));
    sizes.extend((0..20).map(|_| (random.next().unwrap() % (size / MIB / 4)) * 4 * MIB));
    // The plan's grid step: whole MiBs up to 16 GiB, coarser above.
    let mut step = MIB;
    while size / step > 1 << 14 {
        step *= 2;
    }
    let on_grid =
        |n: u64| n % step == 0 || [n - 4096, n + 4096, n].iter().any(|m| m.is_power_of_two());
    // A wrap folding only onto the first MiB escapes (see probe_plan).
    sizes.retain(|&n| n >= image_end && n + MIB + 4096 <= size && on_grid(n));
    sizes
}

#[test]
fn wraps_at_any_whole_mib_and_one_block_off_a_power_of_two_are_named() {
    for (size, budget) in [(GIB, 1 << 20), (8 * GIB, 2 << 20), (64 * GIB, 3 << 20)] {
        let mut most = 0;
        for n in wrap_sizes(size, 8 * MIB) {
            let (probed, _) = run(Card::Wraps(n), size, 8 * MIB, ProbeMode::Quick);
            assert_eq!(probed.verdict, Verdict::WrapsAt(n), "wrap at {n} of {size}");
            assert!(
                probed.io_bytes <= budget,
                "{} bytes at {n} of {size}",
                probed.io_bytes
            );
            most = most.max(probed.io_bytes);
        }
        println!("claiming {size}: at most {most} bytes of I/O");
    }
}

#[test]
fn a_wrap_between_the_grid_steps_is_not_misnamed() {
    // Not a whole MiB nor a block off a power of two: documented as
    // possibly missed; when a fold does show, the size named is right.
    for n in [100 * MIB + 4096, 300 * MIB - 8192, 777 * MIB + 12288] {
        let (probed, _) = run(Card::Wraps(n), GIB, 8 * MIB, ProbeMode::Quick);
        assert!(
            matches!(probed.verdict, Verdict::NoEvidence | Verdict::WrapsAt(_)),
            "{:?}",
            probed.verdict
        );
        if let Verdict::WrapsAt(m) = probed.verdict {
            assert_eq!(m, n);
        }
    }
}
