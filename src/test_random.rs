//! The unit tests' one random generator: xorshift64, deterministic from a
//! seed, so a failing test fails the same way again. (The integration tests
//! have theirs in `tests/support`: a separate crate.)

/// xorshift64 (Marsaglia): three shifts a step.
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (not 0: zero stays zero).
    pub(crate) fn new(seed: u64) -> XorShift {
        XorShift(seed)
    }

    /// The next state.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `len` bytes: the low byte of each next state from `seed`.
pub(crate) fn low_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut random = XorShift::new(seed);
    (0..len).map(|_| random.next_u64() as u8).collect()
}
