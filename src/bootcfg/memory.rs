//! How much of a boot partition Imprint allows itself to hold in memory.

/// Used when the system does not say how much memory is available.
const FALLBACK_LIMIT_BYTES: u64 = 512 << 20;

/// The largest boot partition Imprint will hold: a quarter of the available
/// memory, since an edit that creates a directory keeps a second copy to
/// compare with, and the engine's buffers need room too.
pub fn partition_memory_limit_bytes() -> u64 {
    let available = sysinfo::System::new()
        .map(|mut system| {
            system.refresh_memory();
            system.available_memory()
        })
        .unwrap_or(0);
    if available == 0 {
        FALLBACK_LIMIT_BYTES
    } else {
        available / 4
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_limit_is_some_memory() {
        assert!(super::partition_memory_limit_bytes() > 0);
    }
}
