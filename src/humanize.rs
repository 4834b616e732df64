//! Sizes, rates and durations in human units, shared by the CLI and the GUI.

/// `1_500_000_000` → `"1.5 GB"` (decimal units, as drive makers count).
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// Bytes per second → `"85 MB/s"`.
// The command line shows rates with indicatif's own units; only the app
// uses these two.
#[cfg_attr(not(feature = "gui"), allow(dead_code))]
pub(crate) fn rate(bytes_per_second: f64) -> String {
    format!("{}/s", bytes(bytes_per_second.max(0.0) as u64))
}

/// Seconds left → `"about 2 min left"`, `"12 s left"`.
#[cfg_attr(not(feature = "gui"), allow(dead_code))]
pub(crate) fn eta(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s < 60 {
        format!("{s} s left")
    } else if s < 3600 {
        format!("about {} min left", (s + 30) / 60)
    } else {
        format!("about {} h {} min left", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_drive_label() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(5_242_880), "5.2 MB");
        assert_eq!(bytes(32_000_000_000), "32 GB");
        assert_eq!(rate(85_000_000.0), "85 MB/s");
        assert_eq!(eta(12.2), "12 s left");
        assert_eq!(eta(110.0), "about 2 min left");
    }
}
