//! One target's thread: write every chunk as it arrives, make it durable,
//! then read the target back and compare it chunk by chunk with the image.

use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender};
use sha2::{Digest, Sha256};

use super::chunk::{CHUNK_BYTES, ChunkDigest, Message, hex, is_all_zero};
use super::progress::ProgressReporter;
use super::{FailureKind, FlashEvent, Phase, TargetFailure, TargetOutcome};
use crate::target::{AlignedBuf, TargetError, TargetFile, TargetInfo};

/// What a target's thread is given.
pub struct TargetRun<'a> {
    pub index: usize,
    pub info: TargetInfo,
    pub chunks: Receiver<Message>,
    /// Per-chunk digests, in order; `None` when verification is off.
    pub digests: Option<Receiver<ChunkDigest>>,
    /// The SHA-256 of the whole image, once it has been read to its end.
    pub image_sha256: Receiver<Option<[u8; 32]>>,
    pub expected_sha256: Option<String>,
    pub size_hint: Option<u64>,
    pub events: &'a Sender<FlashEvent>,
    pub cancel: &'a AtomicBool,
}

impl TargetRun<'_> {
    /// Runs the target to its end and reports `TargetDone`.
    pub fn run(self) -> TargetOutcome {
        let mut bytes_written = 0;
        let mut verified = false;
        let result = self.write_and_verify(&mut bytes_written, &mut verified);
        let _ = self.events.send(FlashEvent::TargetDone {
            target: self.index,
            result: result.as_ref().map(|_| ()).map_err(Clone::clone),
            sha256: result.as_ref().ok().map(|sha| hex(sha)),
        });
        TargetOutcome {
            target: self.info.path.clone(),
            result: result.map(|_| ()),
            bytes_written,
            verified,
        }
    }

    fn write_and_verify(
        &self,
        bytes_written: &mut u64,
        verified: &mut bool,
    ) -> Result<[u8; 32], TargetFailure> {
        // The exclusive write handle stays open until verification ends, so
        // nothing (an automounter) can grab the device in between.
        let (_exclusive, image_bytes) = self.write(bytes_written)?;
        if let Some(digests) = &self.digests {
            self.verify(image_bytes, digests)?;
            *verified = true;
        }
        self.check_image_sha256()
    }

    /// Writes every chunk; returns the still open target and the image
    /// length.
    fn write(&self, bytes_written: &mut u64) -> Result<(TargetFile, u64), TargetFailure> {
        let mut file = TargetFile::open_for_write(&self.info).map_err(target_failure)?;
        let mut progress =
            ProgressReporter::new(self.events, self.index, Phase::Write, self.size_hint);
        progress.update(0);
        for message in &self.chunks {
            match message {
                Message::Chunk(chunk) => {
                    if self.cancel.load(Ordering::Relaxed) {
                        return Err(self.cancelled(chunk.offset));
                    }
                    file.write_at(chunk.offset, chunk.bytes())
                        .map_err(target_failure)?;
                    *bytes_written = chunk.offset + chunk.len as u64;
                    progress.update(*bytes_written);
                }
                Message::End { image_bytes } => {
                    file.finish(image_bytes).map_err(target_failure)?;
                    progress.finish(image_bytes);
                    return Ok((file, image_bytes));
                }
                Message::Failed(failure) => return Err(failure),
            }
        }
        Err(self.cancelled(*bytes_written))
    }

    /// Reads the target back, bypassing the page cache, and compares each
    /// chunk with the image's digest of it.
    fn verify(
        &self,
        image_bytes: u64,
        digests: &Receiver<ChunkDigest>,
    ) -> Result<(), TargetFailure> {
        let mut file = TargetFile::open_for_read(&self.info).map_err(target_failure)?;
        let mut progress =
            ProgressReporter::new(self.events, self.index, Phase::Verify, Some(image_bytes));
        progress.update(0);
        let mut buf = AlignedBuf::zeroed(CHUNK_BYTES);
        let mut offset = 0u64;
        while offset < image_bytes {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(self.cancelled(offset));
            }
            let len = (image_bytes - offset).min(CHUNK_BYTES as u64) as usize;
            file.read_at(offset, &mut buf, len)
                .map_err(|e| TargetFailure {
                    kind: FailureKind::Verify,
                    offset: e.offset(),
                    message: e.to_string(),
                })?;
            let expected = digests.recv().map_err(|_| TargetFailure {
                kind: FailureKind::Verify,
                offset: Some(offset),
                message: "the image's checksums stopped before its end; cannot verify".to_string(),
            })?;
            let bytes = &buf[..len];
            let matches = match expected {
                ChunkDigest::Zero => is_all_zero(bytes),
                ChunkDigest::Sha256(sha) => <[u8; 32]>::from(Sha256::digest(bytes)) == sha,
            };
            if !matches {
                return Err(TargetFailure {
                    kind: FailureKind::Verify,
                    offset: Some(offset),
                    message: format!(
                        "verification of {} failed: the {} bytes read back from byte {offset} differ from the image; the drive may be failing or fake, try another drive",
                        self.info.path.display(),
                        len
                    ),
                });
            }
            offset += len as u64;
            progress.update(offset);
        }
        progress.finish(image_bytes);
        Ok(())
    }

    /// `--sha256`: the image must be the one the user expects before the
    /// target is declared good.
    /// Returns the image's SHA-256.
    fn check_image_sha256(&self) -> Result<[u8; 32], TargetFailure> {
        let actual = self.image_sha256.recv().ok().flatten();
        match (&self.expected_sha256, actual) {
            (_, None) => Err(TargetFailure {
                kind: FailureKind::Source,
                offset: None,
                message: "the image could not be read to its end".to_string(),
            }),
            (Some(expected), Some(actual)) if !expected.eq_ignore_ascii_case(&hex(&actual)) => {
                Err(TargetFailure {
                    kind: FailureKind::Checksum,
                    offset: None,
                    message: format!(
                        "the image's SHA-256 is {}, not the expected {expected}; the download is corrupt or is another image, and {} must not be used",
                        hex(&actual),
                        self.info.path.display()
                    ),
                })
            }
            (_, Some(actual)) => Ok(actual),
        }
    }

    fn cancelled(&self, offset: u64) -> TargetFailure {
        TargetFailure {
            kind: FailureKind::Cancelled,
            offset: Some(offset),
            message: format!(
                "cancelled at byte {offset}: {} is incomplete and will not boot; flash it again",
                self.info.path.display()
            ),
        }
    }
}

fn target_failure(error: TargetError) -> TargetFailure {
    let kind = match error {
        TargetError::TooSmall { .. } => FailureKind::TooSmall,
        _ => FailureKind::Write,
    };
    TargetFailure {
        kind,
        offset: error.offset(),
        message: error.to_string(),
    }
}
