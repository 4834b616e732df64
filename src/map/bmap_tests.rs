//! bmap files of every format, written here as bmaptool writes them, and
//! damaged ones: the parser names what is wrong and never panics; the
//! checker finds a damaged range wherever chunk boundaries fall.

use super::*;

const BLOCK: u64 = 4096;

/// An image of `blocks` pseudo-random blocks, the last one `tail` bytes
/// short.
fn image(blocks: u64, tail: u64) -> Vec<u8> {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    (0..blocks * BLOCK - tail)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A bmap of `image` in format `version` listing `ranges` (inclusive block
/// numbers), with checksums and the file's own checksum where the format
/// has them, in bmaptool's layout.
fn bmap_xml(version: &str, image: &[u8], ranges: &[(u64, u64)]) -> String {
    let (kind, file_element, attribute) = match version {
        "1.3" => (Some(ChecksumType::Sha1), "BmapFileSHA1", "sha1"),
        "1.4" | "2.0" => (Some(ChecksumType::Sha256), "BmapFileChecksum", "chksum"),
        _ => (None, "", ""),
    };
    let blocks = (image.len() as u64).div_ceil(BLOCK);
    let mapped: u64 = ranges.iter().map(|(a, b)| b - a + 1).sum();
    let mut xml = format!(
        "<?xml version=\"1.0\" ?>\n<!-- a block map -->\n<bmap version=\"{version}\">\n    \
         <ImageSize> {} </ImageSize>\n    <BlockSize> {BLOCK} </BlockSize>\n    \
         <BlocksCount> {blocks} </BlocksCount>\n    <MappedBlocksCount> {mapped}    </MappedBlocksCount>\n",
        image.len()
    );
    if let Some(kind) = kind {
        if version != "1.3" {
            let name = if kind == ChecksumType::Sha1 {
                "sha1"
            } else {
                "sha256"
            };
            xml += &format!("    <ChecksumType> {name} </ChecksumType>\n");
        }
        xml += &format!(
            "    <{file_element}> {} </{file_element}>\n",
            "0".repeat(2 * kind.len())
        );
    }
    xml += "    <BlockMap>\n";
    for &(first, last) in ranges {
        let text = if first == last {
            format!("{first}")
        } else {
            format!("{first}-{last}")
        };
        let checksum = kind.map(|kind| {
            let end = ((last + 1) * BLOCK).min(image.len() as u64) as usize;
            let digest = kind.digest(&image[(first * BLOCK) as usize..end]);
            format!(" {attribute}=\"{}\"", hex(&digest))
        });
        xml += &format!(
            "        <Range{}> {text} </Range>\n",
            checksum.unwrap_or_default()
        );
    }
    xml += "    </BlockMap>\n</bmap>\n";
    if let Some(kind) = kind {
        let zeros = "0".repeat(2 * kind.len());
        let digest = hex(&kind.digest(xml.as_bytes()));
        xml = xml.replacen(&zeros, &digest, 1);
    }
    xml
}

/// `xml` (format 2.0) with its own checksum made right again after an edit.
fn reseal(xml: &str) -> String {
    let open = xml.find("<BmapFileChecksum> ").unwrap() + 19;
    let mut zeroed = xml.to_string();
    zeroed.replace_range(open..open + 64, &"0".repeat(64));
    let digest = hex(&ChecksumType::Sha256.digest(zeroed.as_bytes()));
    zeroed.replace_range(open..open + 64, &digest);
    zeroed
}

fn parse(xml: &str) -> Result<Bmap, BmapError> {
    Bmap::parse(Path::new("os.img.bmap"), xml.as_bytes())
}

fn detail(xml: &str) -> String {
    match parse(xml) {
        Err(e @ BmapError::Malformed { .. }) => e.to_string(),
        other => panic!("not refused as malformed: {other:?}"),
    }
}

/// Feeds `image` to a checker in chunks of `chunk` bytes.
fn check(bmap: &Bmap, image: &[u8], chunk: usize) -> Result<(), BmapMismatch> {
    let mut checker = BmapChecker::new(bmap);
    for (i, bytes) in image.chunks(chunk).enumerate() {
        checker.feed((i * chunk) as u64, bytes)?;
    }
    checker.finish(image.len() as u64)
}

const RANGES: [(u64, u64); 4] = [(0, 2), (5, 5), (7, 20), (30, 39)];

#[test]
fn format_2_0_with_sha256_parses_and_its_ranges_check() {
    let image = image(40, 1000);
    let bmap = parse(&bmap_xml("2.0", &image, &RANGES)).unwrap();
    assert_eq!(bmap.version, "2.0");
    assert_eq!(bmap.image_size, image.len() as u64);
    assert_eq!(bmap.block_size, BLOCK);
    assert_eq!(bmap.mapped_blocks, 3 + 1 + 14 + 10);
    assert_eq!(bmap.checksum_type, Some(ChecksumType::Sha256));
    assert_eq!(bmap.ranges.len(), 4);
    assert!(bmap.ranges.iter().all(|r| r.checksum.is_some()));
    assert_eq!((bmap.ranges[1].first, bmap.ranges[1].last), (5, 5));
    // The last range ends with the image, inside its last block.
    assert_eq!(
        bmap.byte_ranges().last().unwrap(),
        &(30 * BLOCK..image.len() as u64)
    );
    for chunk in [1000, 4096, 5000, 1 << 20] {
        check(&bmap, &image, chunk).unwrap();
    }
}

#[test]
fn format_1_4_is_2_0_under_its_mistaken_name() {
    let image = image(40, 0);
    let bmap = parse(&bmap_xml("1.4", &image, &RANGES)).unwrap();
    assert_eq!(bmap.checksum_type, Some(ChecksumType::Sha256));
    check(&bmap, &image, 7777).unwrap();
}

#[test]
fn format_1_3_with_sha1_parses_and_its_ranges_check() {
    let image = image(40, 3);
    let xml = bmap_xml("1.3", &image, &RANGES);
    assert!(xml.contains("<BmapFileSHA1>") && xml.contains(" sha1=\""));
    let bmap = parse(&xml).unwrap();
    assert_eq!(bmap.checksum_type, Some(ChecksumType::Sha1));
    assert!(
        bmap.ranges
            .iter()
            .all(|r| r.checksum.as_ref().unwrap().len() == 20)
    );
    check(&bmap, &image, 3000).unwrap();
    let mut damaged = image.clone();
    damaged[6 * BLOCK as usize] ^= 1;
    // Block 6 is not mapped: no range covers it.
    check(&bmap, &damaged, 3000).unwrap();
    damaged[5 * BLOCK as usize + 9] ^= 1;
    let err = check(&bmap, &damaged, 3000).unwrap_err();
    assert!(err.to_string().contains("bmap range 5-5 "), "{err}");
}

#[test]
fn formats_before_1_3_have_no_checksums_and_ranges_with_spaces_parse() {
    let image = image(40, 0);
    let xml = bmap_xml("1.2", &image, &RANGES).replace("7-20", "7 - 20");
    let bmap = parse(&xml).unwrap();
    assert_eq!(bmap.checksum_type, None);
    assert_eq!((bmap.ranges[2].first, bmap.ranges[2].last), (7, 20));
    // Nothing to check, whatever the bytes.
    check(&bmap, &vec![0u8; image.len()], 4096).unwrap();
}

#[test]
fn a_damaged_range_is_named_wherever_the_chunks_split_it() {
    let image = image(40, 1000);
    let bmap = parse(&bmap_xml("2.0", &image, &RANGES)).unwrap();
    for (byte, name) in [
        (0, "0-2"),
        (3 * BLOCK - 1, "0-2"),
        (7 * BLOCK, "7-20"),
        (15 * BLOCK + 17, "7-20"),
        (image.len() as u64 - 1, "30-39"),
    ] {
        let mut damaged = image.clone();
        damaged[byte as usize] ^= 0x80;
        for chunk in [4096, 5000, 1 << 20] {
            let err = check(&bmap, &damaged, chunk).unwrap_err();
            let message = err.to_string();
            assert!(
                message.contains(&format!("bmap range {name} ")) && message.contains("os.img.bmap"),
                "byte {byte}, chunks of {chunk}: {message}"
            );
        }
    }
}

#[test]
fn an_image_of_another_length_fails_at_its_end() {
    let image = image(40, 1000);
    let bmap = parse(&bmap_xml("2.0", &image, &RANGES)).unwrap();
    let longer = [image.as_slice(), &[0u8; 10]].concat();
    let err = check(&bmap, &longer, 4096).unwrap_err();
    assert!(matches!(err, BmapMismatch::Size { actual, .. } if actual == longer.len() as u64));
    // Shorter: the last range cannot be complete.
    let err = check(&bmap, &image[..image.len() - 1], 4096).unwrap_err();
    assert!(
        err.to_string().contains("belongs to another image"),
        "{err}"
    );
}

#[test]
fn a_bmap_whose_own_checksum_is_wrong_is_malformed() {
    let image = image(40, 0);
    let xml = bmap_xml("2.0", &image, &RANGES);
    // One range edited after the file was made: its own checksum no longer
    // matches.
    let edited = xml.replace("7-20", "7-21");
    assert!(detail(&edited).contains("its own checksum <BmapFileChecksum> does not match"));
    // Made right again, the file parses (so the edit was what was found).
    assert_eq!(parse(&reseal(&edited)).unwrap().ranges[2].last, 21);
    let edited = bmap_xml("1.3", &image, &RANGES).replace("30-39", "31-39");
    assert!(detail(&edited).contains("<BmapFileSHA1> does not match"));
}

#[test]
fn inconsistent_or_unsupported_bmaps_are_refused_naming_the_problem() {
    let image = image(40, 0);
    // Edits made before the file's own checksum (version 1.2 has none, so
    // the edit itself is what is found).
    let v12 = bmap_xml("1.2", &image, &RANGES);
    for (from, to, expected) in [
        ("7-20", "20-7", "ends before it starts"),
        ("30-39", "30-40", "beyond the image's 40 blocks"),
        (
            "<Range> 5 </Range>",
            "<Range> 1 </Range>",
            "overlaps or precedes",
        ),
        ("7-20", "7-x", "is not \"first-last\""),
        ("7-20", "+7-20", "is not \"first-last\""),
        (
            "<BlocksCount> 40",
            "<BlocksCount> 41",
            "<BlocksCount> 41 does not fit",
        ),
        ("<BlockSize> 4096", "<BlockSize> 0", "<BlockSize> is 0"),
        (
            "<ImageSize> 163840",
            "<ImageSize> -1",
            "<ImageSize> is \"-1\", not a number",
        ),
        (
            "version=\"1.2\"",
            "version=\"3.0\"",
            "version 3.0 is not supported",
        ),
        ("version=\"1.2\"", "version=\"two\"", "is not major.minor"),
        ("<MappedBlocksCount>", "<Mapped>", "is not well-formed XML"),
    ] {
        assert!(v12.contains(from), "{from}");
        let message = detail(&v12.replace(from, to));
        assert!(message.contains(expected), "{from} -> {to}: {message}");
        assert!(
            message.starts_with("the bmap file os.img.bmap is malformed"),
            "{message}"
        );
    }
    let renamed = v12
        .replace("<bmap version", "<map version")
        .replace("</bmap>", "</map>");
    assert!(detail(&renamed).contains("its root element is <map>, not <bmap>"));
    let v20 = bmap_xml("2.0", &image, &RANGES);
    let message = detail(&v20.replace("sha256 </ChecksumType>", "md5 </ChecksumType>"));
    assert!(
        message.contains("checksum type \"md5\" is not supported"),
        "{message}"
    );
    let message = detail(&v20.replace("ChecksumType", "Checksum"));
    assert!(message.contains("<ChecksumType> is missing"), "{message}");
    // A range's checksum of the wrong length.
    let start = v20.find("chksum=\"").unwrap() + 8;
    let mut short = v20.clone();
    short.replace_range(start..start + 2, "");
    let message = detail(&reseal(&short));
    assert!(message.contains("not 64 hexadecimal digits"), "{message}");
    let message = detail(&reseal(&v20.replace("BlockMap", "Blocks")));
    assert!(message.contains("<BlockMap> is missing"), "{message}");
}

#[test]
fn truncated_and_garbage_files_are_errors_never_panics() {
    let image = image(40, 0);
    for version in ["1.2", "1.3", "2.0"] {
        let xml = bmap_xml(version, &image, &RANGES);
        // Every prefix: most are not well-formed, the others lack a field or
        // their own checksum; none parses, none panics.
        for len in 0..xml.len() - 1 {
            if let Ok(bmap) = Bmap::parse(Path::new("x.bmap"), &xml.as_bytes()[..len]) {
                panic!("a truncated {version} bmap of {len} bytes parsed: {bmap:?}");
            }
        }
    }
    let mut seed = 1u32;
    for len in [0usize, 1, 7, 100, 5000] {
        let garbage: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        assert!(Bmap::parse(Path::new("x.bmap"), &garbage).is_err());
    }
    assert!(detail("\u{feff}not xml").contains("not well-formed XML"));
    assert!(Bmap::parse(Path::new("x.bmap"), &[0xff, 0xfe, b'<']).is_err());
    // A DTD (the door to entity expansion) is refused.
    let dtd = "<!DOCTYPE bmap [<!ENTITY a \"aaaa\">]><bmap version=\"1.2\">&a;</bmap>";
    assert!(detail(dtd).contains("not well-formed XML"));
}

#[test]
fn a_bmap_is_found_beside_the_image_under_either_name() {
    let dir = tempfile::tempdir().unwrap();
    let xz = dir.path().join("os.img.xz");
    assert_eq!(beside(&xz), None, "no image, no neighbour");
    std::fs::write(&xz, b"x").unwrap();
    assert_eq!(beside(&xz), None);
    let plain = dir.path().join("os.img.bmap");
    std::fs::write(&plain, b"").unwrap();
    assert_eq!(beside(&xz), Some(plain.clone()));
    let full = dir.path().join("os.img.xz.bmap");
    std::fs::write(&full, b"").unwrap();
    assert_eq!(beside(&xz), Some(full));
    // A raw image: only its own name plus .bmap.
    let raw = dir.path().join("os.img");
    std::fs::write(&raw, b"x").unwrap();
    assert_eq!(beside(&raw), Some(plain));
    let other = dir.path().join("disk.raw");
    std::fs::write(&other, b"x").unwrap();
    assert_eq!(beside(&other), None);
    // Not a regular file: no neighbours are looked for.
    assert_eq!(beside(dir.path()), None);
}

#[test]
fn load_names_a_missing_file_and_refuses_a_huge_one() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone.bmap");
    let err = Bmap::load(&missing).unwrap_err();
    assert!(matches!(err, BmapError::Read { .. }));
    assert!(err.to_string().contains("gone.bmap"), "{err}");
    let huge = dir.path().join("huge.bmap");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(MAX_BMAP_BYTES + 1)
        .unwrap();
    assert!(
        Bmap::load(&huge)
            .unwrap_err()
            .to_string()
            .contains("larger than")
    );
}
