//! A station customises each drive as `flash` does: the same flags, the
//! same preparation, and `{n}` giving each card it flashes its own
//! hostname on a Raspberry Pi OS-like image (a `firstrun.sh` on its boot
//! FAT), while the rest of the customisation is the same for every card.

use std::fs;

use super::Station;
use crate::require_root;
use crate::support::custom_images::{self as ci, boot_file};
use crate::support::flashing::PatternedDrive;
use crate::support::loopdev::LoopLock;

#[test]
fn a_station_gives_each_card_its_own_hostname_on_raspberry_pi_os() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    fs::create_dir(&images).unwrap();
    let image = ci::make(&images, "rpios-bookworm");
    let (key, _) = ci::inputs(&images);
    let cards = dir.path().join("cards");
    fs::create_dir(&cards).unwrap();
    let len = fs::metadata(&image).unwrap().len() as usize + (1 << 20);
    let key = key.display().to_string();
    let pattern = format!("{}/*", cards.display());
    let extra = [
        "--hostname",
        "node-{n}",
        "--user",
        "u",
        "--ssh-key",
        &key,
        "--wifi-ssid",
        "s",
        "--wifi-psk",
        "password1",
        "--wifi-country",
        "GB",
        "--timezone",
        "Europe/London",
    ];
    let mut station = Station::start_with(&image, &pattern, &extra);
    // One card after the other, so that their numbers are known.
    let first = PatternedDrive::create(&cards, "card-1.bin", len, 60);
    assert_eq!(station.done(first.device())["outcome"], "ok");
    let second = PatternedDrive::create(&cards, "card-2.bin", len, 61);
    assert_eq!(station.done(second.device())["outcome"], "ok");
    let (code, events) = station.interrupt();
    assert_eq!(code, 0, "{events:#?}");

    for (card, name) in [(&first, "node-1"), (&second, "node-2")] {
        let script = boot_file(&card.loop_device.backing, "firstrun.sh");
        let hostname = format!("/usr/lib/raspberrypi-sys-mods/imager_custom set_hostname '{name}'");
        assert!(script.contains(&hostname), "{script}");
        assert!(script.contains("country=GB\n"), "{script}");
        assert!(script.contains("Europe/London"), "{script}");
        let cmdline = boot_file(&card.loop_device.backing, "cmdline.txt");
        assert!(
            cmdline.contains("systemd.run=/boot/firstrun.sh"),
            "{cmdline}"
        );
    }
}
