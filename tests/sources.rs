//! Image sources as the engine uses them: `ImageSource::open` then
//! `stream()`, over every test image of tests/fixtures/ and over the awkward shapes of
//! real downloads (concatenated streams, truncated and damaged files).

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use imprint::source::{ImageFormat, ImageSource, SourceError};
use sha2::{Digest, Sha256};

use crate::support::{
    GPT_TEST_IMG_BYTES, GPT_TEST_IMG_SHA256, TEST_IMG_BYTES, TEST_IMG_SHA256, fixture,
    pseudo_random_bytes, sha256_hex,
};
/// The engine reads chunks of this size.
const ENGINE_CHUNK_BYTES: usize = 4 << 20;

/// Decompressed length and SHA-256 (hex) of the whole stream, read the way
/// the engine reads it.
fn length_and_sha256(source: &ImageSource) -> io::Result<(u64, String)> {
    let mut reader = source.stream().expect("stream");
    let mut hasher = Sha256::new();
    let mut chunk = vec![0u8; ENGINE_CHUNK_BYTES];
    let mut len_bytes = 0u64;
    loop {
        let got = reader.read(&mut chunk)?;
        if got == 0 {
            break;
        }
        hasher.update(&chunk[..got]);
        len_bytes += got as u64;
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((len_bytes, hex))
}

fn read_all(source: &ImageSource) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    source.stream().expect("stream").read_to_end(&mut out)?;
    Ok(out)
}

fn open(path: &Path) -> ImageSource {
    ImageSource::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// Asserts that the fixture decodes to test.img.
fn assert_is_test_img(name: &str, format: ImageFormat) -> ImageSource {
    let source = open(&fixture(name));
    assert_eq!(source.format(), format, "{name}");
    let (len, sha) = length_and_sha256(&source).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(len, TEST_IMG_BYTES as u64, "{name}");
    assert_eq!(sha, TEST_IMG_SHA256, "{name}");
    source
}

/// The on-disk size of a fixture.
fn file_len(name: &str) -> u64 {
    std::fs::metadata(fixture(name)).unwrap().len()
}

#[test]
fn gzip_test_image() {
    let source = assert_is_test_img("test.img.gz", ImageFormat::Gzip);
    assert_eq!(source.size_hint(), None, "gzip records no reliable size");
}

#[test]
fn xz_test_image_with_size_from_index() {
    let source = assert_is_test_img("test.img.xz", ImageFormat::Xz);
    assert_eq!(source.size_hint(), Some(TEST_IMG_BYTES as u64));
    assert_eq!(source.file_size(), Some(file_len("test.img.xz")));
}

#[test]
fn zstd_test_image_with_size_from_frame_header() {
    let source = assert_is_test_img("test.img.zst", ImageFormat::Zstd);
    assert_eq!(source.size_hint(), Some(TEST_IMG_BYTES as u64));
    assert_eq!(source.file_size(), Some(file_len("test.img.zst")));
}

#[test]
fn bzip2_test_images_of_100k_and_900k_blocks() {
    for fixture in ["test.img.bz2", "test-9.img.bz2"] {
        let source = assert_is_test_img(fixture, ImageFormat::Bzip2);
        assert_eq!(source.size_hint(), None);
    }
}

#[test]
fn zip_test_images_in_every_method() {
    for fixture in ["zip-deflate.zip", "zip-bzip2.zip", "zip-lzma.zip"] {
        let source = assert_is_test_img(fixture, ImageFormat::Zip);
        assert_eq!(source.entry_name(), Some("images/test.img"));
        assert_eq!(source.size_hint(), Some(TEST_IMG_BYTES as u64));
    }
}

#[test]
fn zip_image_is_chosen_among_folders_and_misc_files() {
    for fixture in [
        "zip-directory-image-only.zip",
        "zip-directory-image-and-misc.zip",
    ] {
        let source = assert_is_test_img(fixture, ImageFormat::Zip);
        let name = source.entry_name().expect("entry name");
        assert_eq!(name, "disk/test.img", "{fixture}");
    }
}

#[test]
fn zip_without_disk_image_is_refused_at_open() {
    for name in [
        "zip-directory-empty.zip",
        "zip-directory-no-image-only-misc.zip",
    ] {
        let path = fixture(name);
        let error = ImageSource::open(&path).expect_err(name);
        assert!(
            matches!(&error, SourceError::NoImageInArchive { path: p } if *p == path),
            "{name}: {error:?}"
        );
        assert!(error.to_string().contains("no disk image in archive"));
    }
}

#[test]
fn tiny_image_in_zip() {
    let source = open(&fixture("data.img.zip"));
    assert_eq!(source.format(), ImageFormat::Zip);
    assert_eq!(source.entry_name(), Some("data.img"));
    assert_eq!(source.size_hint(), Some(10));
    assert_eq!(read_all(&source).unwrap(), b"0123456789");
}

#[test]
fn xz_is_detected_by_content_whatever_the_name() {
    for fixture in ["xz-without-extension", "xz-with-invalid-extension.foo"] {
        assert_is_test_img(fixture, ImageFormat::Xz);
    }
}

#[test]
fn files_without_compression_magic_are_raw() {
    for name in ["random.rpi-sdcard", "raw-image-not-a-dmg.dmg"] {
        let path = fixture(name);
        let source = open(&path);
        assert_eq!(source.format(), ImageFormat::Raw, "{name}");
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(source.size_hint(), Some(on_disk.len() as u64));
        assert_eq!(source.file_size(), Some(on_disk.len() as u64));
        assert!(read_all(&source).unwrap() == on_disk, "{name}");
    }
    let random = open(&fixture("random.rpi-sdcard"));
    assert_eq!(random.file_size(), Some(512 * 1024));
}

#[test]
fn gpt_test_image_gzip() {
    let source = open(&fixture("gpt-test.img.gz"));
    assert_eq!(source.format(), ImageFormat::Gzip);
    let (len, sha) = length_and_sha256(&source).unwrap();
    assert_eq!(len, GPT_TEST_IMG_BYTES as u64);
    assert_eq!(sha, GPT_TEST_IMG_SHA256);
}

#[test]
fn stream_can_be_read_twice() {
    let source = open(&fixture("test.img.xz"));
    let first = read_all(&source).unwrap();
    let second = read_all(&source).unwrap();
    assert!(first == second);
    assert_eq!(sha256_hex(&first), TEST_IMG_SHA256);
}

// ---- the shapes of real downloads, made here --------------------------------

/// A temporary file holding `bytes`.
fn temp_image(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// An image-like payload: random blocks between runs of zeros.
fn image_like(len: usize, seed: u64) -> Vec<u8> {
    let mut image = pseudo_random_bytes(len, seed);
    for run in image.chunks_mut(256 * 1024).step_by(2) {
        run.fill(0);
    }
    image
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 1);
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// Asserts that `parts`, each compressed by `compress` and concatenated,
/// decode to all of `parts` in order.
fn assert_concatenation_decodes(
    name: &str,
    format: ImageFormat,
    compress: fn(&[u8]) -> Vec<u8>,
) -> ImageSource {
    let dir = tempfile::tempdir().unwrap();
    let parts = [
        image_like(1 << 20, 1),
        image_like(300_000, 2),
        image_like(700_001, 3),
    ];
    let file: Vec<u8> = parts.iter().flat_map(|part| compress(part)).collect();
    let source = open(&temp_image(&dir, name, &file));
    assert_eq!(source.format(), format);
    let decoded = read_all(&source).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        decoded.len(),
        parts.iter().map(Vec::len).sum::<usize>(),
        "{name}"
    );
    assert!(decoded == parts.concat(), "{name}: bytes differ");
    source
}

#[test]
fn multi_member_gzip_decodes_fully() {
    assert_concatenation_decodes("multi.img.gz", ImageFormat::Gzip, gzip);
}

#[test]
fn multi_stream_bzip2_decodes_fully() {
    assert_concatenation_decodes("multi.img.bz2", ImageFormat::Bzip2, bzip2);
}

#[test]
fn concatenated_xz_streams_decode_fully_and_sum_in_size_hint() {
    let source = assert_concatenation_decodes("multi.img.xz", ImageFormat::Xz, xz);
    assert_eq!(source.size_hint(), Some((1 << 20) + 300_000 + 700_001));
}

#[test]
fn multi_frame_zstd_decodes_fully_and_sums_frame_sizes() {
    let source = assert_concatenation_decodes("multi.img.zst", ImageFormat::Zstd, |part| {
        zstd::bulk::compress(part, 3).unwrap()
    });
    assert_eq!(source.size_hint(), Some((1 << 20) + 300_000 + 700_001));
}

#[test]
fn multi_block_xz_from_the_threaded_encoder_decodes() {
    let data = image_like(6 << 20, 4);
    let encoder_stream = liblzma::stream::MtStreamBuilder::new()
        .threads(2)
        .block_size(1 << 20)
        .preset(1)
        .encoder()
        .unwrap();
    let mut encoder = liblzma::write::XzEncoder::new_stream(Vec::new(), encoder_stream);
    encoder.write_all(&data).unwrap();
    let file = encoder.finish().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let source = open(&temp_image(&dir, "blocks.img.xz", &file));
    assert_eq!(source.size_hint(), Some(6 << 20));
    assert!(read_all(&source).unwrap() == data);
}

/// Reads the whole stream and returns the error it must end with.
fn read_error(source: &ImageSource) -> io::Error {
    match read_all(source) {
        Ok(bytes) => panic!(
            "{} ({}) decoded to {} bytes instead of failing",
            source.path().display(),
            source.format(),
            bytes.len()
        ),
        Err(error) => error,
    }
}

#[test]
fn truncated_downloads_are_errors_not_short_images() {
    let data = image_like(2 << 20, 5);
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("cut.img.gz", gzip(&data), "gzip"),
        ("cut.img.xz", xz(&data), "xz"),
        (
            "cut.img.zst",
            zstd::bulk::compress(&data, 3).unwrap(),
            "zstd",
        ),
        ("cut.img.bz2", bzip2(&data), "bzip2"),
    ];
    for (name, file, format) in cases {
        let path = temp_image(&dir, name, &file[..file.len() * 2 / 3]);
        let error = read_error(&open(&path));
        let message = error.to_string();
        assert!(
            message.contains(&format!("unexpected end of {format} data")),
            "{name}: {message}"
        );
    }
}

#[test]
fn xz_with_one_flipped_byte_is_corrupt() {
    let file = xz(&image_like(2 << 20, 6));
    let mut damaged = file.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x10;
    let dir = tempfile::tempdir().unwrap();
    let error = read_error(&open(&temp_image(&dir, "flipped.img.xz", &damaged)));
    assert!(error.to_string().contains("corrupt xz data"), "{error}");
}

#[test]
fn gzip_with_one_flipped_byte_is_corrupt() {
    let mut damaged = gzip(&image_like(2 << 20, 7));
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x10;
    let dir = tempfile::tempdir().unwrap();
    let error = read_error(&open(&temp_image(&dir, "flipped.img.gz", &damaged)));
    assert!(error.to_string().contains("corrupt gzip data"), "{error}");
}

#[test]
fn zip_entry_with_damaged_data_is_an_error() {
    let mut damaged = std::fs::read(fixture("zip-deflate.zip")).unwrap();
    // The deflate data starts after the 30-byte local header, the name and
    // the extra field; the local header states its compressed size.
    let le16 = |at: usize| u16::from_le_bytes([damaged[at], damaged[at + 1]]) as usize;
    let data_start = 30 + le16(26) + le16(28);
    let compressed = u32::from_le_bytes(damaged[18..22].try_into().unwrap()) as usize;
    assert!(
        compressed > 1000,
        "the local header states the size: {compressed}"
    );
    damaged[data_start + compressed / 2] ^= 0x01;
    let dir = tempfile::tempdir().unwrap();
    let source = open(&temp_image(&dir, "damaged.zip", &damaged));
    let message = read_error(&source).to_string();
    assert!(message.contains("corrupt zip data"), "{message}");
}

#[test]
fn zip_with_several_images_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for name in ["a.img", "b.iso", "readme.txt"] {
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(b"0123456789").unwrap();
    }
    writer.finish().unwrap();
    match ImageSource::open(&path) {
        Err(SourceError::SeveralImagesInArchive { names, .. }) => {
            assert_eq!(names, ["a.img", "b.iso"]);
        }
        other => panic!("expected SeveralImagesInArchive, got {other:?}"),
    }
}

#[test]
fn stored_zip_entry_is_read_in_place() {
    let data = image_like(3 << 20, 8);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stored.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    writer
        .start_file(
            "__MACOSX/._disk.img",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
    writer.write_all(b"resource fork").unwrap();
    writer
        .start_file(
            "out/disk.img",
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored),
        )
        .unwrap();
    writer.write_all(&data).unwrap();
    writer.finish().unwrap();

    let source = open(&path);
    assert_eq!(source.entry_name(), Some("out/disk.img"));
    assert_eq!(source.size_hint(), Some(data.len() as u64));
    assert!(read_all(&source).unwrap() == data);

    // Stored data has no decoder to notice damage: the CRC-32 must.
    let mut damaged = std::fs::read(&path).unwrap();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x01;
    let source = open(&temp_image(&dir, "damaged-stored.zip", &damaged));
    let message = read_error(&source).to_string();
    assert!(message.contains("CRC-32"), "{message}");
}

#[test]
fn missing_file_is_an_open_error_naming_it() {
    let path = Path::new("/nonexistent/imprint/image.img.xz");
    let error = ImageSource::open(path).unwrap_err();
    assert!(matches!(error, SourceError::Open { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("/nonexistent/imprint/image.img.xz")
    );
}

#[test]
fn demo_image_is_an_8_mib_mbr_disk_with_a_fat_boot_partition() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo.img.xz");
    let source = open(&path);
    assert_eq!(source.format(), ImageFormat::Xz);
    assert_eq!(source.size_hint(), Some(8 << 20));
    let image = read_all(&source).unwrap();
    assert_eq!(image.len(), 8 << 20);
    assert_eq!(&image[510..512], &[0x55, 0xAA], "MBR signature");
    let first_entry = &image[446..462];
    assert_eq!(first_entry[4], 0x0E, "partition 1 is FAT16 (LBA)");
    assert_eq!(
        u32::from_le_bytes(first_entry[8..12].try_into().unwrap()),
        2048
    );
    let boot_sector = &image[1 << 20..(1 << 20) + 512];
    assert_eq!(&boot_sector[43..54], b"resin-boot ", "FAT volume label");
}

/// An error's message already says its cause: walking the error chain (as
/// `anyhow` and many loggers do) must not print the cause a second time.
#[test]
fn error_chains_say_the_cause_once() {
    let error = ImageSource::open(std::path::Path::new("/nonexistent/os.img")).unwrap_err();
    let mut chain = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        chain.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    assert_eq!(chain.matches("No such file").count(), 1, "{chain}");
}
