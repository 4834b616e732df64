//! Parsing a bmap file's XML into a checked [`Bmap`], one step a function:
//! the document, its version, the numbers of its header, its checksum
//! scheme, its ranges. Every refusal is a `BmapError::Malformed` naming the
//! file and what is wrong in it.

use std::path::Path;

use super::*;

/// Elements and text nodes roxmltree may build (a bound on memory).
const MAX_XML_NODES: u32 = 8 << 20;

/// How a format carries its checksums: the hash, the element holding the
/// file's own checksum, the attribute holding each range's.
#[derive(Clone, Copy)]
struct Scheme {
    kind: ChecksumType,
    element: &'static str,
    attribute: &'static str,
}

/// The numbers of a bmap's header.
struct Header {
    image_size: u64,
    block_size: u64,
    blocks_count: u64,
    mapped_blocks: u64,
}

impl Bmap {
    /// [`Bmap::parse`], optionally without checking the file's own checksum:
    /// the fuzz target cannot forge one, and would stop there.
    pub(crate) fn parse_with(
        path: &Path,
        bytes: &[u8],
        own_checksum: OwnChecksum,
    ) -> Result<Bmap, BmapError> {
        let bad = |detail: String| malformed(path, detail);
        let text = std::str::from_utf8(bytes)
            .map_err(|e| bad(format!("it is not UTF-8 text (byte {})", e.valid_up_to())))?;
        let doc = document(path, text)?;
        let root = doc.root_element();
        let (version, major, minor) = version(path, root)?;
        let header = header(path, root)?;
        let scheme = scheme(path, root, major, minor)?;
        if let Some(scheme) = scheme
            && own_checksum == OwnChecksum::Check
        {
            check_file_checksum(path, bytes, root, scheme.kind, scheme.element)?;
        }
        let ranges = ranges(path, root, header.blocks_count, scheme)?;
        Ok(Bmap {
            path: path.to_path_buf(),
            version,
            image_size: header.image_size,
            block_size: header.block_size,
            mapped_blocks: header.mapped_blocks,
            checksum_type: scheme.map(|s| s.kind),
            ranges,
        })
    }
}

/// The XML document, without DTDs and with bounded nodes, whose root is
/// `<bmap>`.
fn document<'a>(path: &Path, text: &'a str) -> Result<roxmltree::Document<'a>, BmapError> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_XML_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options)
        .map_err(|e| malformed(path, format!("it is not well-formed XML: {e}")))?;
    let name = doc.root_element().tag_name().name();
    if name != "bmap" {
        return Err(malformed(
            path,
            format!("its root element is <{name}>, not <bmap>"),
        ));
    }
    Ok(doc)
}

/// The `version` attribute as written, and its major and minor numbers,
/// when it is a supported one (1.0 to 2.x).
fn version(path: &Path, root: roxmltree::Node) -> Result<(String, u64, u64), BmapError> {
    let bad = |detail: String| malformed(path, detail);
    let version = root
        .attribute("version")
        .ok_or_else(|| bad("<bmap> has no version attribute".into()))?
        .trim()
        .to_string();
    let (major, minor) = parse_version(&version)
        .ok_or_else(|| bad(format!("version {version:?} is not major.minor")))?;
    if major > 2 || major == 0 {
        return Err(bad(format!(
            "format version {version} is not supported (1.0 to 2.x are)"
        )));
    }
    Ok((version, major, minor))
}

/// The image's size and blocks, which must fit together.
fn header(path: &Path, root: roxmltree::Node) -> Result<Header, BmapError> {
    let bad = |detail: String| malformed(path, detail);
    let field = |name: &str| -> Result<u64, BmapError> {
        let text = child_text(root, name).ok_or_else(|| bad(format!("<{name}> is missing")))?;
        text.trim()
            .parse::<u64>()
            .map_err(|_| bad(format!("<{name}> is {:?}, not a number", text.trim())))
    };
    let header = Header {
        image_size: field("ImageSize")?,
        block_size: field("BlockSize")?,
        blocks_count: field("BlocksCount")?,
        mapped_blocks: field("MappedBlocksCount")?,
    };
    let Header {
        image_size,
        block_size,
        blocks_count,
        ..
    } = header;
    if block_size == 0 {
        return Err(bad("<BlockSize> is 0".into()));
    }
    if image_size.div_ceil(block_size) != blocks_count {
        return Err(bad(format!(
            "<BlocksCount> {blocks_count} does not fit <ImageSize> {image_size} in blocks of {block_size} bytes"
        )));
    }
    Ok(header)
}

/// The checksum scheme of format `major.minor`: none before 1.3, SHA-1 in
/// 1.3, the one `<ChecksumType>` names from 1.4 on.
fn scheme(
    path: &Path,
    root: roxmltree::Node,
    major: u64,
    minor: u64,
) -> Result<Option<Scheme>, BmapError> {
    if major >= 2 || minor >= 4 {
        let name = child_text(root, "ChecksumType")
            .ok_or_else(|| malformed(path, "<ChecksumType> is missing".into()))?;
        let kind = match name.trim().to_ascii_lowercase().as_str() {
            "sha256" => ChecksumType::Sha256,
            "sha1" => ChecksumType::Sha1,
            other => {
                return Err(malformed(
                    path,
                    format!("checksum type {other:?} is not supported (sha256 and sha1 are)"),
                ));
            }
        };
        Ok(Some(Scheme {
            kind,
            element: "BmapFileChecksum",
            attribute: "chksum",
        }))
    } else if minor == 3 {
        Ok(Some(Scheme {
            kind: ChecksumType::Sha1,
            element: "BmapFileSHA1",
            attribute: "sha1",
        }))
    } else {
        Ok(None)
    }
}

/// The `<Range>`s of `<BlockMap>`: in order, disjoint, inside the image's
/// `blocks_count` blocks, each with its checksum when the scheme has one.
fn ranges(
    path: &Path,
    root: roxmltree::Node,
    blocks_count: u64,
    scheme: Option<Scheme>,
) -> Result<Vec<BmapRange>, BmapError> {
    let bad = |detail: String| malformed(path, detail);
    let block_map = root
        .children()
        .find(|n| n.has_tag_name("BlockMap"))
        .ok_or_else(|| bad("<BlockMap> is missing".into()))?;
    let mut ranges: Vec<BmapRange> = Vec::new();
    for node in block_map.children().filter(|n| n.has_tag_name("Range")) {
        let text = node.text().unwrap_or("").trim();
        let (first, last) = parse_range(text)
            .ok_or_else(|| bad(format!("range {text:?} is not \"first-last\" or \"block\"")))?;
        if first > last {
            return Err(bad(format!("range {text:?} ends before it starts")));
        }
        if last >= blocks_count {
            return Err(bad(format!(
                "range {text:?} lies beyond the image's {blocks_count} blocks"
            )));
        }
        if let Some(previous) = ranges.last()
            && first <= previous.last
        {
            return Err(bad(format!(
                "range {text:?} overlaps or precedes the range before it"
            )));
        }
        let checksum = match scheme {
            Some(scheme) => range_checksum(path, node, text, scheme)?,
            None => None,
        };
        ranges.push(BmapRange {
            first,
            last,
            checksum,
        });
    }
    Ok(ranges)
}

/// A range's checksum attribute, when it has one, as bytes.
fn range_checksum(
    path: &Path,
    node: roxmltree::Node,
    text: &str,
    scheme: Scheme,
) -> Result<Option<Vec<u8>>, BmapError> {
    let Some(hex) = node.attribute(scheme.attribute) else {
        return Ok(None);
    };
    let len = scheme.kind.len();
    parse_hex(hex.trim(), len).map(Some).ok_or_else(|| {
        malformed(
            path,
            format!(
                "range {text:?} has checksum {hex:?}, not {} hexadecimal digits",
                2 * len
            ),
        )
    })
}

/// The text of `parent`'s first child element called `name`.
pub(super) fn child_text<'a>(parent: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
    parent
        .children()
        .find(|n| n.has_tag_name(name))
        .map(|n| n.text().unwrap_or(""))
}

fn parse_version(version: &str) -> Option<(u64, u64)> {
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// `"12-40"` or `"12 - 40"`, or one block `"12"`.
fn parse_range(text: &str) -> Option<(u64, u64)> {
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        // `u64::from_str` takes a leading '+'; a range never has one.
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match text.split_once('-') {
        Some((first, last)) => Some((number(first)?, number(last)?)),
        None => {
            let block = number(text)?;
            Some((block, block))
        }
    }
}

/// `len` bytes written as `2 * len` hexadecimal digits.
pub(super) fn parse_hex(hex: &str, len: usize) -> Option<Vec<u8>> {
    if hex.len() != 2 * len || !hex.is_ascii() {
        return None;
    }
    (0..len)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect()
}
