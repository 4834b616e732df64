//! Whether any byte has reached any target of this process yet — what an
//! interrupt before writing may promise (docs/architecture.md §3: exit 2
//! means nothing was written). The first write of each target passes
//! through [`may_write_first_byte`]; an interrupt calls
//! [`close_if_untouched`]. Both take one lock, so once the interrupt has
//! seen "nothing written" and closed the gate, no first byte follows it.

use std::sync::Mutex;

#[derive(Default)]
struct Gate {
    /// A first byte went (or is going) to a target.
    written: bool,
    /// An interrupt found nothing written: no write may start now.
    closed: bool,
}

static GATE: Mutex<Gate> = Mutex::new(Gate {
    written: false,
    closed: false,
});

fn gate() -> std::sync::MutexGuard<'static, Gate> {
    GATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Called before a target's first write: `false` when the run was
/// interrupted before any byte was written (the write must not happen).
pub(super) fn may_write_first_byte() -> bool {
    let mut gate = gate();
    if gate.closed {
        return false;
    }
    gate.written = true;
    true
}

/// When no byte has reached any target yet, closes the gate for good and
/// returns `true`: every target is untouched and stays so. `false` once a
/// byte may have been written.
pub(crate) fn close_if_untouched() -> bool {
    let mut gate = gate();
    if !gate.written {
        gate.closed = true;
    }
    gate.closed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_an_interrupt_before_writing_no_first_byte_goes_out() {
        // One process-wide gate: this test is its only user in the unit
        // tests (nextest runs each test in a process of its own).
        assert!(close_if_untouched());
        assert!(!may_write_first_byte());
        assert!(close_if_untouched());
    }
}
