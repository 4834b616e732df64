//! Opening an image off the UI thread: format, sizes and partition table,
//! for the image card.

use std::io::Read;
use std::path::{Path, PathBuf};

use crossbeam_channel::Receiver;

use super::incomplete;
use super::message::{self, Problem};
use crate::source::{ImageFormat, ImageSource};

/// The partition table at the start of the decompressed image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PartitionTable {
    Gpt,
    Mbr,
    /// The first sector has neither signature (a filesystem image, an ISO).
    None,
    /// The start of the image could not be read.
    Unknown,
}

impl PartitionTable {
    pub(super) fn describe(self) -> &'static str {
        match self {
            PartitionTable::Gpt => "GPT partition table",
            PartitionTable::Mbr => "MBR partition table",
            PartitionTable::None => "no partition table",
            PartitionTable::Unknown => "partition table unknown",
        }
    }
}

/// An opened image and what the card shows about it.
#[derive(Debug, Clone)]
pub(super) struct ImageInfo {
    pub source: ImageSource,
    /// The file name as the user knows it.
    pub name: String,
    pub partition_table: PartitionTable,
}

/// The result of opening one image.
pub(super) type ProbeResult = Result<ImageInfo, Problem>;

/// Opens `path` on a thread named `image-probe`; the result arrives on the
/// returned channel (which closes without a result if opening panicked).
pub(super) fn start(path: PathBuf, ctx: &egui::Context) -> Receiver<ProbeResult> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let ctx = ctx.clone();
    let spawned = std::thread::Builder::new()
        .name("image-probe".into())
        .spawn({
            let tx = tx.clone();
            move || {
                let _ = tx.send(probe(&path));
                ctx.request_repaint();
            }
        });
    if let Err(e) = spawned {
        let _ = tx.send(Err(message::image_unreadable(&format!(
            "cannot open the image: {e}"
        ))));
    }
    rx
}

fn probe(path: &Path) -> ProbeResult {
    let source = ImageSource::open(path).map_err(|e| {
        let raw = e.to_string();
        if crate::source::is_url(path) {
            return message::link_unusable(&path.display().to_string(), &raw);
        }
        let denied = message::os_error(&raw)
            .map(std::io::Error::from_raw_os_error)
            .is_some_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied);
        if is_drive(path) && denied {
            // Cloning a drive as a user: the drive is fine, the rights are not.
            return Problem::new(
                "Imprint may not read this drive.",
                "Reading a drive to clone it needs administrator rights: start Imprint as \
                 administrator (sudo imprint), or choose an image file.",
            )
            .with_details(raw);
        }
        // A zip whose central directory is missing was cut short.
        if matches!(e, crate::source::SourceError::Zip { .. })
            && incomplete::is_cut_short(path, ImageFormat::Zip)
        {
            return message::image_incomplete(&raw);
        }
        message::image_unreadable(&raw)
    })?;
    // An .xz without its footer was cut short: its start decodes, but the
    // drives would be erased before the decoder finds the end missing.
    if source.format() == ImageFormat::Xz
        && source.size_hint().is_none()
        && !crate::source::is_url(path)
        && incomplete::is_cut_short(path, ImageFormat::Xz)
    {
        return Err(message::image_incomplete(&format!(
            "{}: the .xz stream footer is missing",
            path.display()
        )));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    // A start that cannot be decompressed is a damaged image: say so now,
    // before any drive is erased, rather than mid-stream.
    let partition_table = sniff_partition_table(&source).map_err(|e| {
        message::image_damaged(&format!("reading the start of {}: {e}", path.display()))
    })?;
    Ok(ImageInfo {
        source,
        name,
        partition_table,
    })
}

/// Whether `path` is a block device (a drive to clone, not a file).
pub(super) fn is_drive(path: &Path) -> bool {
    crate::platform::path_kind(path) == Some(crate::platform::NodeKind::BlockDevice)
}

/// Reads the first two sectors and names the table that counts, by the
/// kernel's rule (`disk::tables::read_tables`): a GPT ("EFI PART" at byte
/// 512) only behind an MBR (0x55AA at byte 510) holding a 0xEE entry; a GPT
/// without one is stale and the MBR is read.
fn sniff_partition_table(source: &ImageSource) -> Result<PartitionTable, String> {
    let mut head = [0u8; 1024];
    let Ok(stream) = source.probe(head.len() as u64) else {
        return Ok(PartitionTable::Unknown);
    };
    let mut filled = 0;
    let mut stream = stream.take(head.len() as u64);
    while filled < head.len() {
        match stream.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(classify(&head[..filled]))
}

/// The SHA-256 of the image file as it is on disk (compressed or not):
/// the checksum a publisher lists beside the download. Computed on a
/// thread named `file-hash`; the app shows it once it arrives.
pub(super) fn hash_file(path: PathBuf, ctx: &egui::Context) -> Receiver<Result<String, String>> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let ctx = ctx.clone();
    let spawned = std::thread::Builder::new().name("file-hash".into()).spawn({
        let tx = tx.clone();
        move || {
            let _ = tx.send(sha256_of(&path).map_err(|e| e.to_string()));
            ctx.request_repaint();
        }
    });
    if let Err(e) = spawned {
        let _ = tx.send(Err(e.to_string()));
    }
    rx
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(crate::engine::hex(&hasher.finalize()))
}

fn classify(head: &[u8]) -> PartitionTable {
    if head.get(510..512) != Some([0x55, 0xAA].as_slice()) {
        return PartitionTable::None;
    }
    // The type byte of each of the four primary entries (from byte 446).
    let protective = (0..4).any(|i| head.get(446 + 16 * i + 4) == Some(&0xEE));
    if protective && head.get(512..520) == Some(b"EFI PART".as_slice()) {
        PartitionTable::Gpt
    } else {
        PartitionTable::Mbr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_tables_are_told_apart_by_their_signatures() {
        let mut mbr = vec![0u8; 1024];
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        assert_eq!(classify(&mbr), PartitionTable::Mbr);
        // A GPT header behind an MBR without a 0xEE entry is stale: the
        // kernel reads the MBR.
        let mut stale_gpt = mbr.clone();
        stale_gpt[512..520].copy_from_slice(b"EFI PART");
        assert_eq!(classify(&stale_gpt), PartitionTable::Mbr);
        let mut gpt = stale_gpt.clone();
        gpt[446 + 4] = 0xEE;
        assert_eq!(classify(&gpt), PartitionTable::Gpt);
        assert_eq!(classify(&[0u8; 1024]), PartitionTable::None);
        assert_eq!(classify(&[0u8; 100]), PartitionTable::None);
    }
}
