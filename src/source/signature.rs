//! A signed image (`--trusted-key PUB`, its `.minisig` beside it or
//! `--signature FILE`): the minisign signature is checked over the image
//! file's own bytes as the run reads them — never a pass of its own
//! (docs/architecture.md §2 "One source, read once"). The raw reader feeds
//! every byte it reads to the check; when the decoded image ends, the rest
//! of the file (a compressed format's trailer, anything after it) is read
//! into the check too, and a signature that does not verify is the
//! stream's last read failing: a source fault, which fails every target
//! not yet finished (exit 1) — reported before any of them is ok.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::input::PositionalReader;
use crate::sign::{PublicKey, StreamCheck};

/// What an image's signature is checked with.
#[derive(Debug, Clone)]
pub(crate) struct SignatureSpec {
    pub key: PublicKey,
    pub key_path: PathBuf,
    /// The `.minisig`'s text.
    pub text: String,
    pub signature_path: PathBuf,
}

/// The raw file as a signed reader, and the end of its decoded stream.
pub(super) fn wrap(
    spec: &SignatureSpec,
    raw: PositionalReader,
) -> io::Result<(SignedRaw, Arc<Mutex<Inner>>)> {
    let check = StreamCheck::start(
        spec.key.clone(),
        &spec.key_path,
        &spec.text,
        &spec.signature_path,
    )
    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    let inner = Arc::new(Mutex::new(Inner {
        raw,
        check,
        result: None,
    }));
    Ok((SignedRaw(inner.clone()), inner))
}

/// The file, the check its bytes go to, and the check's result once the
/// file was read to its end.
pub(super) struct Inner {
    raw: PositionalReader,
    check: StreamCheck,
    result: Option<Result<(), String>>,
}

impl Inner {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.raw.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.finish();
        } else {
            self.check.update(&buf[..n]);
        }
        Ok(n)
    }

    fn finish(&mut self) {
        if self.result.is_none() {
            self.result = Some(self.check.finish().map_err(|e| {
                format!("{e}: the image is not the one that was signed (changed, damaged or swapped), so no drive was written from it successfully")
            }));
        }
    }

    /// Reads what is left of the file into the check: the verdict.
    fn drain(&mut self) -> io::Result<()> {
        let mut buf = vec![0; 1 << 20];
        while self.result.is_none() {
            self.read(&mut buf)?;
        }
        match &self.result {
            Some(Err(message)) => Err(io::Error::new(io::ErrorKind::InvalidData, message.clone())),
            _ => Ok(()),
        }
    }
}

fn lock(inner: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|e| e.into_inner())
}

/// The raw file's bytes, each also given to the check.
pub(super) struct SignedRaw(Arc<Mutex<Inner>>);

impl Read for SignedRaw {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        lock(&self.0).read(buf)
    }
}

/// The decoded image, whose end waits for the signature's verdict.
pub(super) struct CheckedEnd {
    pub(super) decoded: Box<dyn Read + Send>,
    pub(super) inner: Arc<Mutex<Inner>>,
}

impl Read for CheckedEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.decoded.read(buf)?;
        if n == 0 && !buf.is_empty() {
            lock(&self.inner).drain()?;
        }
        Ok(n)
    }
}
