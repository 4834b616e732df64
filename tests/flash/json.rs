//! `--json`: stdout is JSON lines and nothing else, with the events and
//! fields of docs/architecture.md §5 (the protocol the GUI's privileged helper reads).

use serde_json::Value;

use crate::require_root;
use crate::support::flashing::{
    ExpectedImage, assert_exit, devices, drive_size_for, events, flash, json_events, target_done,
    three_drives,
};
use crate::support::loopdev::LoopLock;
use crate::support::{TEST_IMG_BYTES, fixture};

fn has_fields(event: &Value, fields: &[&str]) {
    for field in fields {
        assert!(
            event.get(field).is_some(),
            "{} event has `{field}`: {event}",
            event["event"]
        );
    }
}

#[test]
fn json_flash_of_xz_to_three_drives_emits_every_event_of_the_protocol() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), drive_size_for(TEST_IMG_BYTES));
    let image = fixture("test.img.xz");

    let output = flash(&image, &devices(&drives), &["--json"]);

    assert_exit(&output, 0);
    let all = json_events(&output);
    let names: Vec<_> = drives.iter().map(|d| d.name()).collect();

    assert_eq!(all[0]["event"], "start", "the first line is start");
    has_fields(&all[0], &["image", "format", "size", "targets"]);
    assert_eq!(all[0]["image"], image.display().to_string());
    assert_eq!(all[0]["format"], "xz");
    assert_eq!(all[0]["size"], TEST_IMG_BYTES);
    assert_eq!(all[0]["targets"], serde_json::json!(names));

    for name in &names {
        for phase in ["write", "verify"] {
            let progress: Vec<_> = events(&all, "progress")
                .into_iter()
                .filter(|e| e["target"] == name.as_str() && e["phase"] == phase)
                .collect();
            assert!(!progress.is_empty(), "{phase} progress for {name}");
            for event in &progress {
                has_fields(event, &["target", "phase", "bytes", "total"]);
                assert_eq!(event["total"], TEST_IMG_BYTES, "{event}");
            }
            let bytes: Vec<_> = progress
                .iter()
                .map(|e| e["bytes"].as_u64().unwrap())
                .collect();
            assert!(
                bytes.windows(2).all(|w| w[0] <= w[1]),
                "{phase} progress never goes back: {bytes:?}"
            );
            assert_eq!(
                bytes.last(),
                Some(&(TEST_IMG_BYTES as u64)),
                "{phase} progress of {name} ends at the image size"
            );
        }
        let done = target_done(&all, std::path::Path::new(name));
        has_fields(done, &["target", "ok", "error", "sha256"]);
        assert_eq!(done["ok"], true);
        assert_eq!(done["error"], Value::Null);
        // Not compared, not asked for: not taken (docs/architecture.md §2).
        assert_eq!(done["sha256"], Value::Null);
    }

    let last = all.last().unwrap();
    assert_eq!(last["event"], "done", "the last line is done");
    has_fields(last, &["ok", "failed", "image_sha256"]);
    assert_eq!(last["ok"], 3);
    assert_eq!(last["failed"], 0);
    assert_eq!(last["image_sha256"], Value::Null);
    assert_eq!(events(&all, "done").len(), 1);
    for drive in &drives {
        drive.assert_holds(&ExpectedImage::test_img());
    }
}

#[test]
fn json_refusal_is_a_json_line_naming_the_drive() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), 1 << 20);
    let image = fixture("test.img.xz");

    let output = flash(&image, &devices(&drives[..1]), &["--json"]);

    assert_exit(&output, 2);
    let all = json_events(&output);
    let refused = events(&all, "refused");
    assert_eq!(refused.len(), 1, "{all:#?}");
    assert_eq!(refused[0]["target"], drives[0].name());
    assert!(
        refused[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("too small")),
        "{}",
        refused[0]
    );
    assert!(
        events(&all, "start").is_empty(),
        "nothing started: {all:#?}"
    );
    drives[0].assert_unchanged();
}
