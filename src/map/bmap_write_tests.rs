//! The bmap written is one the reader accepts (format 2.0, file checksum),
//! and its range digests check against the image, however it was fed.

use std::path::Path;

use super::BmapWriter;
use crate::map::bmap::{Bmap, BmapChecker};
use crate::test_random::low_bytes as random_bytes;

fn written(image: &[u8], used: &[std::ops::Range<u64>], piece: usize) -> String {
    let mut writer = BmapWriter::new(image.len() as u64, used);
    for bytes in image.chunks(piece) {
        writer.feed(bytes);
    }
    writer.finish().expect("every range streamed")
}

#[test]
fn a_written_bmap_parses_and_its_ranges_check() {
    let image = random_bytes(10 * 4096 + 100, 7);
    let used = [
        0..4096,
        3 * 4096..5 * 4096 + 10,
        9 * 4096..image.len() as u64,
    ];
    for piece in [1, 4095, 4096, 10_000, image.len()] {
        let xml = written(&image, &used, piece);
        let bmap = Bmap::parse(Path::new("x.bmap"), xml.as_bytes()).expect("parses");
        assert_eq!(bmap.image_size, image.len() as u64);
        assert_eq!(
            bmap.byte_ranges(),
            vec![0..4096, 3 * 4096..6 * 4096, 9 * 4096..image.len() as u64]
        );
        let mut checker = BmapChecker::new(&bmap);
        checker.feed(0, &image).expect("digests hold");
        checker.finish(image.len() as u64).expect("size holds");
    }
}

#[test]
fn a_changed_byte_fails_the_written_bmap() {
    let mut image = random_bytes(8 * 4096, 8);
    let xml = written(&image, std::slice::from_ref(&(4096..8192)), 4096);
    let bmap = Bmap::parse(Path::new("x.bmap"), xml.as_bytes()).expect("parses");
    image[5000] ^= 1;
    let mut checker = BmapChecker::new(&bmap);
    assert!(checker.feed(0, &image).is_err());
}

#[test]
fn an_unfinished_stream_gives_no_bmap() {
    let mut writer = BmapWriter::new(8192, std::slice::from_ref(&(0..8192)));
    writer.feed(&[0; 4096]);
    assert!(writer.finish().is_none());
}
