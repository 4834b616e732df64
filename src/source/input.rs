//! Where an image's bytes come from, opened exactly once.
//!
//! A regular file or a block device is read at any offset through the one
//! handle opened by [`Input::open`] (positional reads: every reader keeps its
//! own position, and the path is never opened again, so a file replaced or a
//! FIFO re-opened in between cannot change what is read). A pipe, a FIFO or
//! standard input is a *stream*: it can be read once, front to back, so its
//! first bytes are sniffed by peeking and a pump thread reads it into memory
//! blocks that readers take in turn.
//!
//! The pump exists for two reasons. Opening a FIFO blocks until a writer
//! comes, and reading a pipe blocks until data comes; in both cases the
//! blocked thread must not be one the run waits for, or Ctrl-C could never
//! end the run. The pump is detached: a reader waits on its channel with a
//! timeout and gives up when the stream is interrupted.

use std::fs::{File, Metadata};
use std::io::{self, IsTerminal, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, bounded};

use super::SourceError;
use super::device_source;
use crate::platform::{self, NodeKind, UserOpen};

/// The name that means "standard input" wherever an image is taken.
pub const STDIN_NAME: &str = "-";

/// Bytes the pump reads per block from a stream.
const PUMP_BLOCK_BYTES: usize = 256 << 10;
/// Blocks the pump may read ahead of the readers (4 MiB).
const PUMP_BLOCKS_AHEAD: usize = 16;
/// How often a reader waiting for a stream looks whether it was interrupted.
const INTERRUPT_POLL: Duration = Duration::from_millis(100);

/// What kind of thing the image is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    File,
    BlockDevice,
    /// A pipe, FIFO or standard input: no size, read once.
    Stream,
    /// A file on a web server (`http://`, `https://`): read once, as it
    /// downloads.
    Url,
}

/// An opened image input.
#[derive(Debug)]
pub(super) enum Input {
    /// A regular file or block device of `len` bytes.
    Seekable {
        file: Arc<File>,
        len: u64,
        kind: InputKind,
    },
    /// A stream, read by the pump thread.
    Stream(StreamReader),
}

impl Input {
    /// Opens `path` (or standard input for `-`) once. Character devices,
    /// folders and sockets are refused: none of them holds an image.
    pub(super) fn open(path: &Path) -> Result<Input, SourceError> {
        let open_error = |source| SourceError::Open {
            path: path.to_owned(),
            cause: source,
        };
        if path.as_os_str() == STDIN_NAME {
            let file = platform::stdin_file().map_err(open_error)?;
            let metadata = file.metadata().map_err(open_error)?;
            return match classify(&metadata, path)? {
                InputKind::Stream => Ok(Input::Stream(StreamReader::spawn(path, move || Ok(file)))),
                // A drive redirected (`< /dev/sdb`) is opened again, as a
                // named one is: exclusively, and not while mounted
                // read-write.
                InputKind::BlockDevice => {
                    let reopened = device_source::open(platform::stdin_path(), path)?;
                    let same = reopened.metadata().map_err(open_error)?;
                    if platform::node_id(&same) != platform::node_id(&metadata) {
                        return Err(open_error(io::Error::other(
                            "standard input changed while it was being opened",
                        )));
                    }
                    Input::seekable(reopened, InputKind::BlockDevice, path)
                }
                kind => Input::seekable(file, kind, path),
            };
        }
        let metadata = std::fs::metadata(path).map_err(open_error)?;
        match classify(&metadata, path)? {
            InputKind::Stream => {
                // Opening a FIFO blocks until a writer opens it: the pump
                // does it, so that the run stays interruptible.
                let owned = path.to_owned();
                Ok(Input::Stream(StreamReader::spawn(path, move || {
                    platform::open_as_user(&owned, UserOpen::Read)
                })))
            }
            kind => {
                let file = match kind {
                    InputKind::BlockDevice => device_source::open(path, path)?,
                    // As the user, even in an elevated helper
                    // (docs/architecture.md §3).
                    _ => platform::open_as_user(path, UserOpen::Read).map_err(open_error)?,
                };
                // The path may have been replaced between the look and the
                // open: what counts is what was opened.
                let opened = file.metadata().map_err(open_error)?;
                if classify(&opened, path)? != kind {
                    return Err(open_error(io::Error::other(
                        "the file changed while it was being opened",
                    )));
                }
                Input::seekable(file, kind, path)
            }
        }
    }

    fn seekable(file: File, kind: InputKind, path: &Path) -> Result<Input, SourceError> {
        let len = match kind {
            InputKind::BlockDevice => {
                platform::block_device_size_bytes(&file).map_err(|source| SourceError::Open {
                    path: path.to_owned(),
                    cause: source,
                })?
            }
            _ => file
                .metadata()
                .map_err(|source| SourceError::Open {
                    path: path.to_owned(),
                    cause: source,
                })?
                .len(),
        };
        Ok(Input::Seekable {
            file: Arc::new(file),
            len,
            kind,
        })
    }

    pub(super) fn kind(&self) -> InputKind {
        match self {
            Input::Seekable { kind, .. } => *kind,
            Input::Stream(_) => InputKind::Stream,
        }
    }
}

/// What `metadata` says the input is; an error for what cannot be an image.
fn classify(metadata: &Metadata, path: &Path) -> Result<InputKind, SourceError> {
    let refuse = |why: &str| {
        Err(SourceError::NotAnImage {
            path: path.to_owned(),
            why: why.to_string(),
        })
    };
    match platform::node_kind(metadata) {
        NodeKind::File => Ok(InputKind::File),
        NodeKind::BlockDevice => Ok(InputKind::BlockDevice),
        NodeKind::Pipe => Ok(InputKind::Stream),
        NodeKind::Dir => refuse("it is a folder; choose the image file inside it"),
        NodeKind::CharDevice if path.as_os_str() == STDIN_NAME && io::stdin().is_terminal() => {
            refuse(
                "standard input is a terminal, not an image; pipe the image in \
                 (`curl … | imprint flash - …`) or name the image file",
            )
        }
        NodeKind::CharDevice => refuse(
            "it is a character device (such as /dev/zero or a terminal), which has no end \
             and no size; name an image file, a drive, or `-` for standard input",
        ),
        NodeKind::Socket | NodeKind::Other => refuse("it is neither a file, a drive nor a pipe"),
    }
}

/// A reader of a seekable input from a position of its own: many may read
/// the one open handle at once (`pread`), none disturbs another.
#[derive(Debug, Clone)]
pub(super) struct PositionalReader {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl PositionalReader {
    pub(super) fn new(file: Arc<File>, len: u64) -> PositionalReader {
        PositionalReader { file, pos: 0, len }
    }
}

impl Read for PositionalReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // A block device's or file's end is its length when opened: a file
        // growing meanwhile does not lengthen the image.
        let left = self.len.saturating_sub(self.pos);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = platform::read_at(&self.file, &mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for PositionalReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

/// A stream read by a detached pump thread; [`Read`] takes the blocks in
/// order. Reading waits for data, but gives up (an error saying so) once
/// [`super::ImageSource::interrupt`] was called.
#[derive(Debug)]
pub(super) struct StreamReader {
    path: PathBuf,
    blocks: Receiver<io::Result<Vec<u8>>>,
    block: Vec<u8>,
    at: usize,
    ended: bool,
    interrupted: Arc<AtomicBool>,
}

impl StreamReader {
    /// Starts the pump over what `open` opens (on the pump thread: opening
    /// may block too).
    pub(super) fn spawn<R: Read>(
        path: &Path,
        open: impl FnOnce() -> io::Result<R> + Send + 'static,
    ) -> Self {
        let (tx, blocks) = bounded(PUMP_BLOCKS_AHEAD);
        let spawned = std::thread::Builder::new()
            .name("input".into())
            .spawn(move || {
                let mut file = match open() {
                    Ok(file) => file,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                loop {
                    let mut block = vec![0u8; PUMP_BLOCK_BYTES];
                    match file.read(&mut block) {
                        Ok(0) => return,
                        Ok(n) => {
                            block.truncate(n);
                            if tx.send(Ok(block)).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
            });
        let (blocks, ended) = match spawned {
            Ok(_) => (blocks, false),
            Err(_) => (blocks, true),
        };
        StreamReader {
            path: path.to_owned(),
            blocks,
            block: Vec::new(),
            at: 0,
            ended,
            interrupted: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A handle that makes every waiting or future read of this stream fail.
    pub(super) fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.interrupted.clone()
    }

    fn next_block(&mut self) -> io::Result<bool> {
        loop {
            if self.interrupted.load(Ordering::Relaxed) {
                return Err(io::Error::other(format!(
                    "stopped while waiting for data from {}",
                    self.path.display()
                )));
            }
            match self.blocks.recv_timeout(INTERRUPT_POLL) {
                Ok(Ok(block)) => {
                    self.block = block;
                    self.at = 0;
                    return Ok(true);
                }
                Ok(Err(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.ended = true;
                    return Ok(false);
                }
            }
        }
    }
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.at == self.block.len() {
            if self.ended || !self.next_block()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.block.len() - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
