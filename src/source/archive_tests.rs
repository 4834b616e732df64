//! Tests of `archive` (beside it, so the production file stays short).

use super::*;

fn member(index: usize, name: &str) -> Member {
    Member {
        index,
        name: name.to_owned(),
        is_dir: name.ends_with('/'),
    }
}

#[test]
fn chooses_the_one_image_among_folders_and_misc_files() {
    let members = vec![
        member(0, "dist/"),
        member(1, "dist/.DS_Store"),
        member(2, "__MACOSX/dist/._balena.img"),
        member(3, "dist/balena.img"),
        member(4, "dist/balena.img.sha256"),
        member(5, "dist/hello/world"),
    ];
    assert_eq!(
        choose_image(members),
        Choice::One(member(3, "dist/balena.img"))
    );
}

#[test]
fn no_image_or_several_images_are_reported() {
    let only_misc = vec![
        member(0, "x/"),
        member(1, "x/foo"),
        member(2, "x/.DS_Store"),
    ];
    assert_eq!(choose_image(only_misc), Choice::NoImage);
    assert_eq!(choose_image(Vec::new()), Choice::NoImage);
    // A folder named like an image is still a folder.
    let mut folder = member(0, "looks.img");
    folder.is_dir = true;
    assert_eq!(choose_image(vec![folder]), Choice::NoImage);

    let two = vec![
        member(0, "a.img"),
        member(1, "notes.txt"),
        member(2, "b.wic"),
    ];
    assert_eq!(
        choose_image(two),
        Choice::Several(vec!["a.img".to_owned(), "b.wic".to_owned()])
    );
}

#[test]
fn disk_image_names() {
    for name in [
        "a.img",
        "images/etcher-test.img",
        "balena.IMG",
        "x.iso",
        "x.raw",
        "x.bin",
        "x.dsk",
        "core-image.wic",
        "x.sdcard",
        "x.hddimg",
        "x.rpi-sdimg",
    ] {
        assert!(is_disk_image_name(name), "{name}");
    }
    for name in [
        "dir.img/",
        ".DS_Store",
        "foo",
        "hello/world",
        "README.txt",
        "image.img.sha256",
        "__MACOSX/images/._etcher-test.img",
        "images/._etcher-test.img",
        ".img",
    ] {
        assert!(!is_disk_image_name(name), "{name}");
    }
}
