//! bmap files on loop devices pre-filled with a random pattern. The image
//! (ext4 and FAT32 with deleted files, a bootloader in the gap: the one of
//! `sparse.rs`) is published as bmaptool publishes it: a sparse `os.img`,
//! its `os.img.bmap` from `bmaptool create`, and `os.img.xz`.
//!
//! Found beside the `.xz`, the bmap is used: the filesystems check clean
//! (its ranges are added to the filesystems' map, never the other way), and
//! every block it maps is written, the deleted files' bytes included. A
//! damaged image fails every target naming the bmap range; a malformed bmap
//! refuses the run (exit 2) with nothing written, unless `--no-bmap`;
//! `--bmap FILE` names one elsewhere, for `flash` and `verify`. With
//! `--config` the checksums are taken on the published bytes; a piped image
//! takes its size from the bmap.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::sparse::{
    EXT_AT, FAT_AT, FAT_LEN, IMAGE_LEN, check_filesystems, make_image, run, tools_present,
    written_blocks,
};
use crate::require_root;
use crate::support::flashing::{
    PatternedDrive, assert_exit, assert_kept_after, describe, drive_size_for, flash_sparse,
    json_events, stderr, target_done,
};
use crate::support::imprint;
use crate::support::loopdev::LoopLock;

const BLOCK: usize = 4096;

/// `os.img` written sparse (its zero blocks are holes, as an image build
/// leaves them), `os.img.bmap` made by bmaptool, and `os.img.xz`.
struct Published {
    image: Vec<u8>,
    raw: PathBuf,
    xz: PathBuf,
    bmap: PathBuf,
}

fn publish(work: &Path) -> Published {
    assert!(
        tools_present(),
        "e2fsprogs, dosfstools and mtools are needed"
    );
    let image = make_image(work);
    let raw = work.join("os.img");
    let file = std::fs::File::create(&raw).unwrap();
    file.set_len(image.len() as u64).unwrap();
    for (i, block) in image.chunks(BLOCK).enumerate() {
        if block.iter().any(|b| *b != 0) {
            file.write_all_at(block, (i * BLOCK) as u64).unwrap();
        }
    }
    drop(file);
    let bmap = work.join("os.img.bmap");
    run(Command::new("bmaptool")
        .arg("create")
        .arg("-o")
        .arg(&bmap)
        .arg(&raw));
    run(Command::new("xz").args(["-k", "-1", "-T1"]).arg(&raw));
    Published {
        image,
        xz: work.join("os.img.xz"),
        raw,
        bmap,
    }
}

/// The block ranges (inclusive) of a bmap file, read as text.
fn bmap_ranges(bmap: &Path) -> Vec<(usize, usize)> {
    let text = std::fs::read_to_string(bmap).unwrap();
    text.split("<Range")
        .skip(1)
        .map(|tail| {
            let inner = &tail[tail.find('>').unwrap() + 1..tail.find("</Range>").unwrap()];
            let (first, last) = inner.split_once('-').unwrap_or((inner, inner));
            (first.trim().parse().unwrap(), last.trim().parse().unwrap())
        })
        .collect()
}

fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_bmap_beside_an_xz_image_adds_its_ranges_and_leaves_clean_filesystems() {
    require_root!();
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let published = publish(work.path());
    let image = &published.image;
    let ranges = bmap_ranges(&published.bmap);
    assert!(ranges.len() > 3, "{ranges:?}");
    let size = drive_size_for(IMAGE_LEN);
    let drives: Vec<_> = (0..2)
        .map(|i| PatternedDrive::create(work.path(), &format!("d{i}.bin"), size, 300 + i))
        .collect();
    let paths: Vec<&Path> = drives.iter().map(PatternedDrive::device).collect();
    let out = flash_sparse(&published.xz, &paths, &["--json"]);
    assert_exit(&out, 0);
    let events = json_events(&out);
    assert_eq!(events[0]["map"], "bmap", "{}", events[0]);
    assert_eq!(events[0]["size"], IMAGE_LEN as u64, "{}", events[0]);
    for drive in &drives {
        let now = drive.loop_device.contents();
        let written = written_blocks(image, &drive.before()[..IMAGE_LEN], &now[..IMAGE_LEN]);
        check_filesystems(work.path(), &now);
        assert_eq!(now[..EXT_AT], image[..EXT_AT]);
        assert_eq!(now[FAT_AT + FAT_LEN..IMAGE_LEN], image[FAT_AT + FAT_LEN..]);
        assert_kept_after(&now, drive.before(), IMAGE_LEN);
        // Every block the bmap maps holds the image: the deleted files'
        // bytes too, which the filesystems alone call free.
        for &(first, last) in &ranges {
            for block in first..=last {
                assert!(
                    written[block]
                        || image[block * BLOCK..][..BLOCK]
                            == drive.before()[block * BLOCK..][..BLOCK],
                    "{}: block {block} of bmap range {first}-{last} was not written",
                    drive.name()
                );
            }
        }
        // Free space the bmap does not map either still holds the drive's
        // old bytes.
        let kept = written.iter().filter(|w| !**w).count() * BLOCK;
        assert!(
            kept > IMAGE_LEN / 3,
            "only {kept} bytes of {IMAGE_LEN} kept the old pattern"
        );
        let done = target_done(&events, drive.device());
        assert_eq!(done["ok"], true, "{done}");
    }
    // The same image with the filesystems' map alone leaves the deleted
    // files' blocks: the bmap is what wrote them.
    let drive = PatternedDrive::create(work.path(), "alone.bin", size, 399);
    let out = flash_sparse(&published.xz, &[drive.device()], &["--json", "--no-bmap"]);
    assert_exit(&out, 0);
    assert_eq!(json_events(&out)[0]["map"], "filesystems");
    let now = drive.loop_device.contents();
    let alone = written_blocks(image, &drive.before()[..IMAGE_LEN], &now[..IMAGE_LEN]);
    let only_bmap = ranges
        .iter()
        .flat_map(|&(first, last)| first..=last)
        .filter(|&b| !alone[b])
        .count();
    assert!(
        only_bmap > 0,
        "the bmap mapped nothing the filesystems left"
    );
}

#[test]
fn an_image_that_does_not_match_its_bmap_fails_every_target_naming_the_range() {
    require_root!();
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let published = publish(work.path());
    // One byte of the bootloader (block 1) damaged after the bmap was made.
    let at = BLOCK + 10;
    let raw = OpenOptions::new().write(true).open(&published.raw).unwrap();
    raw.write_all_at(&[published.image[at] ^ 0x55], at as u64)
        .unwrap();
    drop(raw);
    let (first, last) = bmap_ranges(&published.bmap)
        .into_iter()
        .find(|&(first, last)| first <= 1 && 1 <= last)
        .expect("the bootloader is mapped");
    let size = drive_size_for(IMAGE_LEN);
    let drives: Vec<_> = (0..2)
        .map(|i| PatternedDrive::create(work.path(), &format!("d{i}.bin"), size, 500 + i))
        .collect();
    let paths: Vec<&Path> = drives.iter().map(PatternedDrive::device).collect();
    let out = flash_sparse(&published.raw, &paths, &["--json"]);
    assert_exit(&out, 1);
    let events = json_events(&out);
    let name = format!("bmap range {first}-{last} ");
    for drive in &drives {
        let done = target_done(&events, drive.device());
        assert_eq!(done["ok"], false, "{done}");
        let error = done["error"].as_str().unwrap();
        assert!(
            error.contains(&name) && error.contains("os.img.bmap"),
            "{done}"
        );
    }
    let last_event = events.last().unwrap();
    assert_eq!(last_event["ok"], 0, "{last_event}");
    // On a terminal, too, the message names the range.
    let drive = PatternedDrive::create(work.path(), "t.bin", size, 599);
    let out = flash_sparse(&published.raw, &[drive.device()], &[]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains(&format!("Bmap    {}", published.bmap.display())),
        "the terminal says which bmap it found: {}",
        describe(&out)
    );
    assert!(output_text(&out).contains(&name), "{}", describe(&out));
}

#[test]
fn a_malformed_bmap_beside_the_image_refuses_unless_no_bmap() {
    require_root!();
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let published = publish(work.path());
    // Cut short, as a failed download leaves it.
    let text = std::fs::read(&published.bmap).unwrap();
    std::fs::write(&published.bmap, &text[..text.len() / 2]).unwrap();
    let drive = PatternedDrive::create(work.path(), "d.bin", drive_size_for(IMAGE_LEN), 700);
    let out = flash_sparse(&published.xz, &[drive.device()], &[]);
    assert_exit(&out, 2);
    let message = stderr(&out);
    assert!(
        message.contains(&published.bmap.display().to_string())
            && message.contains("malformed")
            && message.contains("--no-bmap"),
        "{}",
        describe(&out)
    );
    drive.assert_unchanged();
    // The same, as JSON: one error event naming it.
    let out = flash_sparse(&published.xz, &[drive.device()], &["--json"]);
    assert_exit(&out, 2);
    assert!(
        output_text(&out).contains("os.img.bmap"),
        "{}",
        describe(&out)
    );
    drive.assert_unchanged();
    // --no-bmap: the filesystems' map alone, and a clean result.
    let out = flash_sparse(&published.xz, &[drive.device()], &["--no-bmap"]);
    assert_exit(&out, 0);
    assert!(!stderr(&out).contains("Bmap "), "{}", describe(&out));
    check_filesystems(work.path(), &drive.loop_device.contents());
}

#[test]
fn an_explicit_bmap_is_used_by_flash_and_verify() {
    require_root!();
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let published = publish(work.path());
    // Elsewhere, under another name: not found beside the image.
    let maps = work.path().join("maps");
    std::fs::create_dir(&maps).unwrap();
    let bmap = maps.join("release.bmap");
    std::fs::rename(&published.bmap, &bmap).unwrap();
    let bmap_arg = bmap.to_str().unwrap();
    let drive = PatternedDrive::create(work.path(), "d.bin", drive_size_for(IMAGE_LEN), 800);
    let out = flash_sparse(&published.xz, &[drive.device()], &["--json"]);
    assert_exit(&out, 0);
    assert_eq!(json_events(&out)[0]["map"], "filesystems");
    let out = flash_sparse(
        &published.xz,
        &[drive.device()],
        &["--json", "--bmap", bmap_arg],
    );
    assert_exit(&out, 0);
    assert_eq!(json_events(&out)[0]["map"], "bmap");
    check_filesystems(work.path(), &drive.loop_device.contents());
    let verify = |image: &Path| {
        imprint()
            .arg("verify")
            .arg(image)
            .args(["--json", "--bmap", bmap_arg])
            .arg("-t")
            .arg(drive.device())
            .output()
            .unwrap()
    };
    let out = verify(&published.xz);
    assert_exit(&out, 0);
    assert_eq!(json_events(&out)[0]["map"], "bmap");
    // `verify` checks the bmap's ranges against the image too.
    let at = BLOCK + 10;
    let raw = OpenOptions::new().write(true).open(&published.raw).unwrap();
    raw.write_all_at(&[published.image[at] ^ 1], at as u64)
        .unwrap();
    drop(raw);
    let out = verify(&published.raw);
    assert_exit(&out, 1);
    assert!(
        output_text(&out).contains("bmap range "),
        "{}",
        describe(&out)
    );
    // A --bmap that does not exist refuses the run.
    let missing = work.path().join("missing.bmap");
    let out = flash_sparse(
        &published.xz,
        &[drive.device()],
        &["--bmap", missing.to_str().unwrap()],
    );
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("missing.bmap"), "{}", describe(&out));
    // --bmap and --no-bmap contradict each other.
    let out = flash_sparse(
        &published.xz,
        &[drive.device()],
        &["--bmap", bmap_arg, "--no-bmap"],
    );
    assert_exit(&out, 2);
}

/// With `--config` the boot partition is patched on the way to the drive,
/// but the bmap describes the published image: its checksums are taken
/// on the image's own bytes, so a configured flash passes them.
#[test]
fn with_a_config_the_bmap_checks_the_published_bytes() {
    require_root!();
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let source = crate::support::balena_image::mbr_fat16_resin_boot(work.path());
    let mut bmap = source.path.clone().into_os_string();
    bmap.push(".bmap");
    // Made from a fully allocated file: every block is mapped, the boot
    // partition's included.
    run(Command::new("bmaptool")
        .arg("create")
        .arg("-o")
        .arg(&bmap)
        .arg(&source.path));
    let config = work.path().join("config.json");
    std::fs::write(&config, crate::support::balena_image::FLEET_CONFIG).unwrap();
    let expected = work.path().join("expected.img");
    let configured = imprint()
        .arg("configure")
        .arg(&source.path)
        .arg("--config")
        .arg(&config)
        .arg("-o")
        .arg(&expected)
        .output()
        .unwrap();
    assert_exit(&configured, 0);
    let expected = std::fs::read(&expected).unwrap();
    let drive = PatternedDrive::create(work.path(), "d.bin", drive_size_for(expected.len()), 14);
    let out = flash_sparse(
        &source.path,
        &[drive.device()],
        &["--json", "--config", config.to_str().unwrap()],
    );
    assert_exit(&out, 0);
    assert_eq!(json_events(&out)[0]["map"], "bmap");
    let now = drive.loop_device.contents();
    let boot = source.boot_offset as usize..(source.boot_offset + source.boot_size) as usize;
    assert!(
        now[boot.clone()] == expected[boot],
        "the boot partition differs"
    );
    // The configuration changed bytes of mapped blocks (else this proves
    // nothing): their checksums held because they were taken on the
    // published bytes.
    let published = std::fs::read(&source.path).unwrap();
    let changed_and_mapped = bmap_ranges(Path::new(&bmap))
        .into_iter()
        .flat_map(|(first, last)| first..=last)
        .filter(|&b| published[b * BLOCK..][..BLOCK] != expected[b * BLOCK..][..BLOCK])
        .count();
    assert!(
        changed_and_mapped > 0,
        "the configuration changed no mapped block"
    );
}

/// A piped image has no size up front; its bmap gives one, so a drive too
/// small for it is refused before anything is written.
#[test]
fn a_piped_image_takes_its_size_from_the_bmap() {
    require_root!();
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let published = publish(work.path());
    let bmap_arg = published.bmap.to_str().unwrap();
    let piped = |drive: &Path| {
        let mut cat = Command::new("cat")
            .arg(&published.xz)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = imprint()
            .args(["flash", "-", "--yes", "--json", "--bmap", bmap_arg, "-t"])
            .arg(drive)
            .stdin(cat.stdout.take().unwrap())
            .output()
            .unwrap();
        cat.wait().unwrap();
        out
    };
    let drive = PatternedDrive::create(work.path(), "d.bin", drive_size_for(IMAGE_LEN), 900);
    let out = piped(drive.device());
    assert_exit(&out, 0);
    let start = &json_events(&out)[0];
    assert_eq!(start["size"], IMAGE_LEN as u64, "{start}");
    assert_eq!(start["map"], "bmap", "{start}");
    check_filesystems(work.path(), &drive.loop_device.contents());
    let small = PatternedDrive::create(work.path(), "small.bin", IMAGE_LEN - 8 * BLOCK, 901);
    let out = piped(small.device());
    assert_exit(&out, 2);
    small.assert_unchanged();
}

/// An image whose size differs from its bmap's `ImageSize` (here: 8 blocks
/// longer, as another build of it would be) is refused before any drive is
/// opened — exit 2, naming both sizes — not failed after the drive was
/// written.
#[test]
fn a_bmap_for_an_image_of_another_size_refuses_before_writing() {
    require_root!();
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let published = publish(work.path());
    let longer = (IMAGE_LEN + 8 * BLOCK) as u64;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&published.raw)
        .unwrap()
        .set_len(longer)
        .unwrap();
    let drive = PatternedDrive::create(work.path(), "d.bin", drive_size_for(IMAGE_LEN * 2), 950);
    let out = flash_sparse(&published.raw, &[drive.device()], &[]);
    assert_exit(&out, 2);
    let message = stderr(&out);
    assert!(
        message.contains(&longer.to_string())
            && message.contains(&IMAGE_LEN.to_string())
            && message.contains("os.img.bmap"),
        "{}",
        describe(&out)
    );
    drive.assert_unchanged();
}

/// A FIFO named like the bmap beside the image: opening it would wait for
/// a writer for ever. It is refused (exit 2, naming it) without being
/// opened, and nothing is written; `--no-bmap` flashes without it.
#[test]
fn a_fifo_named_like_the_bmap_is_refused_without_hanging() {
    let work = tempfile::tempdir().unwrap();
    let image = work.path().join("os.img");
    std::fs::write(&image, crate::support::pseudo_random_bytes(1 << 20, 0xB1)).unwrap();
    let fifo = work.path().join("os.img.bmap");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success(), "mkfifo");
    let target = work.path().join("out.img");
    let run = |extra: &[&str]| {
        let mut child = imprint()
            .arg("flash")
            .arg(&image)
            .arg("-t")
            .arg(&target)
            .arg("--yes")
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("imprint hung on the FIFO named like a bmap");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        child.wait_with_output().unwrap()
    };
    let out = run(&[]);
    assert_exit(&out, 2);
    let message = stderr(&out);
    assert!(
        message.contains("os.img.bmap")
            && message.contains("FIFO")
            && message.contains("--no-bmap"),
        "{}",
        describe(&out)
    );
    assert!(!target.exists(), "nothing is written");
    let out = run(&["--no-bmap"]);
    assert_exit(&out, 0);
    assert_eq!(std::fs::read(&target).unwrap().len(), 1 << 20);
}
