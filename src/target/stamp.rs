//! Self-identifying blocks for the counterfeit probe ([`super::probe`]):
//! each 4 KiB block says which position it was written at, and carries a
//! tag only this run can make — SHA-256 of a random per-run salt and the
//! position, the salt itself never written — so that a block read back is
//! known to be this run's block for that position, another position's
//! (the card folded two addresses onto one), or neither (the card lost the
//! write). Old data, or a block of an earlier run, is never taken for one.

use sha2::{Digest, Sha256};

/// The size of a probe block: every logical sector size in use divides it.
pub(crate) const STAMP_BYTES: usize = 4096;

/// What a block read back holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// This run's block for the position read.
    Own,
    /// This run's block for another position.
    Other(u64),
    /// Not one of this run's blocks: the write was lost.
    Lost,
}

/// A run's salt.
pub(crate) struct Stamper {
    salt: [u8; 32],
}

impl Stamper {
    /// A stamper with a fresh random salt.
    pub(crate) fn new() -> Stamper {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).expect("the OS's random number source works");
        Stamper { salt }
    }

    #[cfg(test)]
    pub(crate) fn with_salt(salt: [u8; 32]) -> Stamper {
        Stamper { salt }
    }

    fn tag(&self, position: u64) -> [u8; 32] {
        let mut sha = Sha256::new();
        sha.update(self.salt);
        sha.update(position.to_le_bytes());
        sha.finalize().into()
    }

    /// Fills `block` (at least [`STAMP_BYTES`]) as the block of `position`:
    /// the position, its tag, then bytes drawn from the tag (so that no
    /// two positions' blocks share a byte pattern a card could dedupe).
    pub(crate) fn fill(&self, position: u64, block: &mut [u8]) {
        let tag = self.tag(position);
        block[..8].copy_from_slice(&position.to_le_bytes());
        block[8..40].copy_from_slice(&tag);
        let mut state = u64::from_le_bytes(tag[..8].try_into().expect("8 bytes")) | 1;
        for word in block[40..STAMP_BYTES].chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
    }

    /// What `block`, read back at `position`, holds.
    pub(crate) fn check(&self, position: u64, block: &[u8]) -> Found {
        let claimed = u64::from_le_bytes(block[..8].try_into().expect("8 bytes"));
        let mut expected = vec![0u8; STAMP_BYTES];
        self.fill(claimed, &mut expected);
        match (expected[..] == block[..STAMP_BYTES], claimed == position) {
            (true, true) => Found::Own,
            (true, false) => Found::Other(claimed),
            (false, _) => Found::Lost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_names_its_position_and_nothing_else_passes() {
        let stamper = Stamper::with_salt([7; 32]);
        let mut block = vec![0u8; STAMP_BYTES];
        stamper.fill(1 << 20, &mut block);
        assert_eq!(stamper.check(1 << 20, &block), Found::Own);
        assert_eq!(stamper.check(5 << 20, &block), Found::Other(1 << 20));
        // Another run's block for the same position is not this run's.
        assert_eq!(
            Stamper::with_salt([8; 32]).check(1 << 20, &block),
            Found::Lost
        );
        block[4000] ^= 1;
        assert_eq!(stamper.check(1 << 20, &block), Found::Lost);
        assert_eq!(stamper.check(0, &[0u8; STAMP_BYTES]), Found::Lost);
        // The salt is nowhere in the block.
        let salt = [7u8; 32];
        assert!(!block.windows(32).any(|w| w == salt));
    }
}
