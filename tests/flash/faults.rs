//! Drives that fail or lie (the FUSE fault device of `support::faultdev`):
//! a bad sector on write or read, a byte that reads back flipped, writes
//! silently dropped, a counterfeit card that wraps around, a drive that
//! stops answering. One faulty drive among three fails alone, named with
//! the offset where it failed; the other two are verified and hold the
//! image; and no drive is ever reported ok with bytes that differ.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::require_root;
use crate::support::faultdev::{Fault, FaultDevice};
use crate::support::flashing::{
    ExpectedImage, PatternedDrive, assert_exit, describe, drive_size_for, events, flash,
    json_events, target_done,
};
use crate::support::loopdev::LoopLock;
use crate::support::{imprint, pseudo_random_bytes, sha256_hex};

/// The engine's chunk: reads, writes and verification go a chunk at a time,
/// so a difference is reported at the start of the chunk that holds it.
pub(super) const CHUNK: u64 = 4 << 20;
/// An I/O error is located to the 4 KiB piece that fails.
const PIECE: u64 = 4096;
/// Random, zeros (verified by a zero scan, not a hash), random, and a
/// shorter random last chunk.
const IMAGE_BYTES: usize = 13 << 20;

fn test_image(len: usize) -> Vec<u8> {
    let mut image = pseudo_random_bytes(len, 0xFA);
    image[CHUNK as usize..2 * CHUNK as usize].fill(0);
    image
}

/// An image file, two ordinary drives and a faulty one between them.
pub(super) struct Rig {
    _dir: tempfile::TempDir,
    pub(super) image_path: PathBuf,
    pub(super) expected: ExpectedImage,
    pub(super) good: [PatternedDrive; 2],
    pub(super) faulty: FaultDevice,
    /// What the faulty drive held before the test.
    faulty_before: Vec<u8>,
}

impl Rig {
    pub(super) fn new(fault: Fault) -> Rig {
        Rig::with_image_len(fault, IMAGE_BYTES)
    }

    pub(super) fn with_image_len(fault: Fault, len: usize) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let image = test_image(len);
        let image_path = dir.path().join("faults.img");
        std::fs::write(&image_path, &image).unwrap();
        let size = drive_size_for(len);
        let good = [
            PatternedDrive::create(dir.path(), "first.bin", size, 0x600D1),
            PatternedDrive::create(dir.path(), "last.bin", size, 0x600D2),
        ];
        let faulty_before = pseudo_random_bytes(size, 0xBAD);
        let faulty = FaultDevice::new(faulty_before.clone(), fault);
        Rig {
            _dir: dir,
            image_path,
            expected: ExpectedImage::from_bytes(image),
            good,
            faulty,
            faulty_before,
        }
    }

    pub(super) fn devices(&self) -> Vec<&Path> {
        vec![
            self.good[0].device(),
            self.faulty.device(),
            self.good[1].device(),
        ]
    }

    pub(super) fn flash_json(&self) -> Output {
        flash(&self.image_path, &self.devices(), &["--json"])
    }

    /// Both ordinary drives reported ok, verified to the image's end, and
    /// holding exactly the image.
    pub(super) fn assert_good_drives_verified(&self, all: &[Value], output: &Output) {
        for good in &self.good {
            let done = target_done(all, good.device());
            assert_eq!(done["ok"], true, "{}: {}", good.name(), describe(output));
            let verified = events(all, "progress").into_iter().any(|e| {
                e["target"] == good.name().as_str()
                    && e["phase"] == "verify"
                    && e["bytes"] == self.expected.len as u64
            });
            assert!(verified, "{} verified to the end: {all:#?}", good.name());
            good.assert_holds(&self.expected);
        }
    }

    /// Whether the faulty drive really stores the image at its start, and
    /// its old bytes after the image's end but for its last MiB (cleared).
    fn faulty_holds_the_image(&self) -> bool {
        let stored = self.faulty.contents();
        let kept = self.expected.len..stored.len().saturating_sub(1 << 20).max(self.expected.len);
        sha256_hex(&stored[..self.expected.len]) == self.expected.sha256
            && stored[kept.clone()] == self.faulty_before[kept]
    }

    /// Whether the faulty drive's first MiB is zero: no partition table.
    fn faulty_left_blank(&self) -> bool {
        self.faulty.contents()[..1 << 20].iter().all(|&b| b == 0)
    }
}

/// `dd` with O_DIRECT on `device`, as Imprint reads and writes it.
fn dd(args: &[&str]) {
    let out = std::process::Command::new("dd")
        .args(args)
        .arg("status=none")
        .output()
        .expect("run dd");
    assert!(
        out.status.success(),
        "dd {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The test tool itself: O_DIRECT writes land in its bytes, and every
/// O_DIRECT read-back reaches the server (no cache hides a lie).
#[test]
fn the_fault_device_stores_writes_and_answers_every_read_itself() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let device = FaultDevice::new(vec![0u8; 1 << 20], Fault::None);
    let dev = device.name();
    let pattern = dir.path().join("pattern");
    std::fs::write(&pattern, vec![0x5A; 64 << 10]).unwrap();
    dd(&[
        &format!("if={}", pattern.display()),
        &format!("of={dev}"),
        "bs=64k",
        "seek=2",
        "oflag=direct",
        "conv=notrunc",
    ]);
    let stored = device.contents();
    assert!(stored[128 << 10..192 << 10].iter().all(|&b| b == 0x5A));
    assert!(
        stored[..128 << 10]
            .iter()
            .chain(&stored[192 << 10..])
            .all(|&b| b == 0)
    );

    let read_back = dir.path().join("read-back");
    let read = |what: &str| {
        dd(&[
            &format!("if={dev}"),
            &format!("of={}", read_back.display()),
            "bs=64k",
            "skip=2",
            "count=1",
            "iflag=direct",
        ]);
        let bytes = std::fs::read(&read_back).unwrap();
        assert_eq!(bytes.len(), 64 << 10, "{what}");
        bytes
    };
    device.set_fault(Fault::FlipOnRead {
        at: (128 << 10) + 10,
    });
    for attempt in ["first read", "second read"] {
        let (_, reads_before) = device.requests();
        let bytes = read(attempt);
        assert_eq!(bytes[10], 0xA5, "{attempt}: the lie is told");
        assert!(bytes.iter().enumerate().all(|(i, &b)| i == 10 || b == 0x5A));
        assert!(
            device.requests().1 > reads_before,
            "{attempt} reached the server"
        );
    }
    device.set_fault(Fault::None);
    assert!(read("faithful read").iter().all(|&b| b == 0x5A));
    eprintln!(
        "loop direct I/O on the FUSE file: {}",
        if device.loop_direct_io {
            "on"
        } else {
            "refused, buffered"
        }
    );
}

/// Flashes to three drives, the middle one with `fault`: exit 1, the
/// faulty drive fails alone with an error naming it, `words` and the start
/// of the `granularity` bytes holding byte `at` (a 4 KiB piece for an I/O
/// error, a chunk for a difference); the others are verified and hold the
/// image. Returns the faulty drive's error.
fn one_faulty_drive_of_three(fault: Fault, at: u64, granularity: u64, words: &[&str]) -> String {
    let _lock = LoopLock::acquire();
    let rig = Rig::new(fault);

    // Read-back verification is what is tested here: the counterfeit probe
    // would name a card that drops writes fake before it is written
    // (tests/flash/counterfeit.rs).
    let output = flash(&rig.image_path, &rig.devices(), &["--json", "--no-probe"]);

    assert_exit(&output, 1);
    let all = json_events(&output);
    rig.assert_good_drives_verified(&all, &output);
    let failed = target_done(&all, rig.faulty.device());
    assert_eq!(failed["ok"], false, "{failed}");
    let offset = at / granularity * granularity;
    assert_eq!(
        failed["offset"].as_u64(),
        Some(offset),
        "the failure is placed at the start of the {granularity} bytes holding byte {at}: {failed}"
    );
    let error = failed["error"].as_str().unwrap_or_default().to_string();
    assert!(
        error.contains(&rig.faulty.name()) && error.contains(&format!("byte {offset}")),
        "the error names the drive and the byte: {error}"
    );
    for word in words {
        assert!(error.contains(word), "the error says {word:?}: {error}");
    }
    let done = &events(&all, "done")[0];
    assert_eq!(
        (done["ok"].as_u64(), done["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(
        rig.faulty.requests().0 > 0,
        "the image reached the FUSE server"
    );
    // Its partition table was never written, or was zeroed again.
    assert!(
        rig.faulty_left_blank(),
        "{}: first MiB not zero",
        rig.faulty.name()
    );
    assert!(
        error.contains(LEFT_BLANK),
        "the error says the card was left blank: {error}"
    );
    error
}

/// What the result of a failed or cancelled drive says.
const LEFT_BLANK: &str = "the card was left blank so it cannot be mistaken for a good one";

#[test]
fn a_write_error_on_one_drive_of_three_names_it_and_the_byte_exit_1() {
    require_root!();
    let at = 2 * CHUNK + 12345;
    one_faulty_drive_of_three(Fault::WriteError { at }, at, PIECE, &["writing", "failed"]);
}

#[test]
fn a_read_error_during_verification_names_the_drive_and_the_byte_exit_1() {
    require_root!();
    let at = CHUNK + 777;
    one_faulty_drive_of_three(
        Fault::ReadError { at },
        at,
        PIECE,
        &["reading", "back failed"],
    );
}

#[test]
fn imprint_verify_names_the_4_kib_piece_a_drive_cannot_read_exit_1() {
    require_root!();
    let _lock = LoopLock::acquire();
    let rig = Rig::new(Fault::None);
    assert_exit(&rig.flash_json(), 0);
    let at = 3 * CHUNK + 40_000;
    rig.faulty.set_fault(Fault::ReadError { at });

    let mut cmd = imprint();
    cmd.arg("verify").arg(&rig.image_path);
    for device in rig.devices() {
        cmd.arg("-t").arg(device);
    }
    let output = cmd.arg("--json").output().unwrap();

    assert_exit(&output, 1);
    let all = json_events(&output);
    for good in &rig.good {
        assert_eq!(
            target_done(&all, good.device())["ok"],
            true,
            "{}",
            describe(&output)
        );
    }
    let failed = target_done(&all, rig.faulty.device());
    assert_eq!(
        failed["offset"].as_u64(),
        Some(at / PIECE * PIECE),
        "{failed}"
    );
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&rig.faulty.name())
            && error.contains(&format!("byte {}", at / PIECE * PIECE)),
        "{error}"
    );
}

#[test]
fn a_byte_flipped_on_read_back_fails_verification_exit_1() {
    require_root!();
    let at = 3 * CHUNK + 4097;
    one_faulty_drive_of_three(
        Fault::FlipOnRead { at },
        at,
        CHUNK,
        &["verification", "differ from the image"],
    );
}

#[test]
fn writes_silently_dropped_in_a_zero_chunk_fail_verification_exit_1() {
    require_root!();
    // The zero chunk is checked by a zero scan: the drive's old bytes there
    // must not pass for zeros.
    let from = CHUNK + 8192;
    one_faulty_drive_of_three(
        Fault::DropWrites { from },
        from,
        CHUNK,
        &["differ from the image"],
    );
}

#[test]
fn writes_silently_dropped_in_a_hashed_chunk_fail_verification_exit_1() {
    require_root!();
    let from = 2 * CHUNK + (1 << 20);
    one_faulty_drive_of_three(
        Fault::DropWrites { from },
        from,
        CHUNK,
        &["differ from the image"],
    );
}

#[test]
fn a_counterfeit_card_that_wraps_around_is_named_fake_before_writing_exit_1() {
    require_root!();
    let _lock = LoopLock::acquire();
    // It stores 6 MiB and claims 14: the probe finds the fold before the
    // image is written (the read-back would too, later).
    let rig = Rig::new(Fault::Wrap {
        real_bytes: 6 << 20,
    });
    let output = rig.flash_json();
    assert_exit(&output, 1);
    let all = json_events(&output);
    rig.assert_good_drives_verified(&all, &output);
    let failed = target_done(&all, rig.faulty.device());
    assert_eq!(failed["kind"], "fake", "{failed}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("This card is fake: it holds only 6.3 MB")
            && error.contains(&format!("wraps at {}", 6 << 20))
            && error.contains(LEFT_BLANK),
        "{error}"
    );
    assert!(rig.faulty_left_blank());
}

/// Every fault at several places, the property: a drive reported ok holds
/// exactly the image; a drive that does not hold it is reported failed.
#[test]
fn never_a_drive_reported_ok_whose_bytes_differ_from_the_image() {
    require_root!();
    // An image that ends mid-sector: its last sector is read, patched and
    // written back, one more path for a fault to slip through.
    let image_len = IMAGE_BYTES - 100;
    let image_end = image_len as u64;
    // Faults the image never meets: these runs must succeed, or the
    // property would hold only because everything fails.
    let mut cases = vec![
        (Fault::None, true),
        // The drive's last MiB is cleared: a bad sector there fails it.
        (
            Fault::WriteError {
                at: image_end + 4096,
            },
            false,
        ),
        // Writes lost past the image: the probe names the card fake.
        (Fault::DropWrites { from: image_end }, false),
        (
            Fault::Wrap {
                real_bytes: image_end + 4096,
            },
            true,
        ),
        (
            Fault::Wrap {
                real_bytes: image_end - 4096,
            },
            false,
        ),
    ];
    for at in [0, CHUNK - 1, CHUNK + 3 * 4096, 3 * CHUNK, image_end - 1] {
        cases.extend([
            (Fault::WriteError { at }, false),
            (Fault::ReadError { at }, false),
            (Fault::FlipOnRead { at }, false),
            (Fault::DropWrites { from: at }, false),
        ]);
    }
    for (fault, must_succeed) in cases {
        let _lock = LoopLock::acquire();
        let rig = Rig::with_image_len(fault, image_len);
        let output = flash(&rig.image_path, &[rig.faulty.device()], &["--json"]);
        let all = json_events(&output);
        let ok = target_done(&all, rig.faulty.device())["ok"] == true;
        let holds = rig.faulty_holds_the_image();
        // A lying read-back may fail a drive that holds the image; the
        // reverse is the false success this test exists for.
        assert!(
            !ok || holds,
            "{fault:?}: reported ok without holding the image\n{}",
            describe(&output)
        );
        if must_succeed {
            assert!(
                ok,
                "{fault:?}: the image never meets the fault\n{}",
                describe(&output)
            );
        }
        assert_eq!(
            output.status.code(),
            Some(if ok { 0 } else { 1 }),
            "{fault:?}: {}",
            describe(&output)
        );
    }
}
