//! A minisign signature checked over a stream of bytes as it passes, for
//! an image that is read once and never held whole (docs/architecture.md
//! §2 "One source, read once"). The crate verifies from a reader it pulls;
//! the stream is pushed, so the check runs on its own thread reading a
//! channel the stream's bytes are copied into.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::detached::{check_key, parse};
use super::{PublicKey, SignError};

/// Blocks in flight between the stream and the check: enough to keep
/// both busy, little memory (the stream's reads are at most a few MiB).
const IN_FLIGHT: usize = 8;

/// A signature being checked over the bytes given to [`StreamCheck::update`].
#[derive(Debug)]
pub(crate) struct StreamCheck {
    sender: Option<SyncSender<Vec<u8>>>,
    check: Option<JoinHandle<Result<(), SignError>>>,
}

impl StreamCheck {
    /// Starts checking `signature` (the text of the `.minisig` at
    /// `signature_path`) with `key` (from `key_path`). A signature that
    /// cannot be parsed, or names another key, is refused now, before a
    /// byte streams.
    pub(crate) fn start(
        key: PublicKey,
        key_path: &Path,
        signature: &str,
        signature_path: &Path,
    ) -> Result<StreamCheck, SignError> {
        let signature = parse(signature, signature_path)?;
        check_key(&key, key_path, &signature, signature_path)?;
        let (sender, receiver) = sync_channel(IN_FLIGHT);
        let (key_path, signature_path): (PathBuf, PathBuf) =
            (key_path.into(), signature_path.into());
        let check = std::thread::Builder::new()
            .name("verify/signature".into())
            .spawn(move || {
                let reader = ChannelReader {
                    receiver,
                    block: Vec::new(),
                    at: 0,
                };
                minisign::verify(&key, &signature, reader, true, false, true).map_err(|e| {
                    SignError::Mismatch {
                        path: signature_path,
                        key: key_path,
                        cause: e.to_string(),
                    }
                })
            })
            .map_err(|e| SignError::Sign(format!("cannot start the signature check: {e}")))?;
        Ok(StreamCheck {
            sender: Some(sender),
            check: Some(check),
        })
    }

    /// The next bytes of the stream.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        if let Some(sender) = &self.sender
            && sender.send(bytes.to_vec()).is_err()
        {
            // The check ended early (it cannot, short of a panic): the
            // result says so at `finish`.
            self.sender = None;
        }
    }

    /// The stream ended: whether the signature verifies over every byte
    /// given.
    pub(crate) fn finish(&mut self) -> Result<(), SignError> {
        self.sender = None;
        match self.check.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(SignError::Sign("the signature check failed".into())),
            None => Err(SignError::Sign("the signature was checked already".into())),
        }
    }
}

/// The stream's bytes as the crate's verifier reads them; the end of the
/// stream is the channel's closing.
struct ChannelReader {
    receiver: Receiver<Vec<u8>>,
    block: Vec<u8>,
    at: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.block.len() {
            match self.receiver.recv() {
                Ok(block) => (self.block, self.at) = (block, 0),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.block.len() - self.at);
        out[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The verifier seeks only to copy the data out, which it is never asked.
impl Seek for ChannelReader {
    fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}
