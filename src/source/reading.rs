//! Reading an opened image: at an offset (positional sources), as a
//! stream of decoded bytes, or a bounded probe; and closing it.

use super::*;

impl ImageSource {
    /// For a positional source, fills `buf` with the image's bytes at
    /// `offset` from the one open handle (`pread`): how the flash engine
    /// lets a target that fell behind read at its own pace without a copy.
    /// Past the image's end the bytes are zeros.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let Reading::Seekable {
            file, len, stamp, ..
        } = &*self.reading
        else {
            return Err(io::Error::other("a stream cannot be read at an offset"));
        };
        if !self.is_positional() {
            return Err(io::Error::other(
                "a compressed image cannot be read at an offset",
            ));
        }
        let mut filled = 0;
        while filled < buf.len() {
            let at = offset + filled as u64;
            let left = len.saturating_sub(at);
            let want = (buf.len() - filled).min(usize::try_from(left).unwrap_or(usize::MAX));
            if want == 0 {
                break;
            }
            match crate::platform::read_at(file, &mut buf[filled..filled + want], at) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf[filled..].fill(0);
        // Checked after the read: a change before it or during it is seen.
        match stamp {
            Some(stamp) => stamp.check(file, &self.path),
            None => Ok(()),
        }
    }

    /// Ends a stream that will not be read: its pump stops and, for a URL,
    /// the download and its connection end. What the app does with the
    /// image it looked at when a privileged helper downloads it itself.
    /// Files and devices are not affected.
    pub fn close(&self) {
        if let Reading::Stream { state, .. } = &*self.reading {
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            state.decoder = None;
            state.head = Vec::new();
        }
    }

    /// The reader of the decompressed image from its first byte, for the
    /// run that writes or hashes it.
    ///
    /// A file or device gives a new reader each time. A stream can be read
    /// once: the first call takes it (after the bytes earlier probes read),
    /// later calls are an error.
    ///
    /// Errors while reading are `io::Error`s whose message says what is wrong
    /// with the data ("corrupt xz data", "unexpected end of gzip data"); the
    /// caller adds the path and offset.
    pub fn stream(&self) -> Result<Box<dyn Read + Send>, SourceError> {
        match &*self.reading {
            Reading::Seekable {
                file,
                len,
                zip_entry,
                ..
            } => {
                let reader = PositionalReader::new(file.clone(), *len);
                if let Some(entry) = zip_entry {
                    return archive::open_entry(&self.path, entry, reader);
                }
                if let Some(spec) = &self.signature {
                    // docs/architecture.md §2: the signature checked over
                    // the bytes this reader reads, its verdict at the end.
                    let read_error = |cause| SourceError::Read {
                        path: self.path.clone(),
                        offset: 0,
                        cause,
                    };
                    let (raw, inner) = signature::wrap(spec, reader).map_err(read_error)?;
                    let input = BufReader::with_capacity(READ_BUFFER_BYTES, raw);
                    let decoded = decoder(&self.path, self.format, input)?;
                    return Ok(Box::new(signature::CheckedEnd { decoded, inner }));
                }
                let input = BufReader::with_capacity(READ_BUFFER_BYTES, reader);
                decoder(&self.path, self.format, input)
            }
            Reading::Stream { state, .. } => {
                let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
                let decoder =
                    state
                        .decoder
                        .take()
                        .ok_or_else(|| SourceError::StreamAlreadyRead {
                            path: self.path.clone(),
                        })?;
                let head = std::mem::take(&mut state.head);
                Ok(Box::new(io::Cursor::new(head).chain(decoder)))
            }
        }
    }

    /// A reader of the decompressed image from its first byte, for looking
    /// at its start before the run (the partition table, the boot
    /// partition). Any number may be made. For a stream, the bytes a probe
    /// reads are kept in memory for the readers after it, up to
    /// `limit_bytes`: reading further is an error saying so.
    pub fn probe(&self, limit_bytes: u64) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        match &*self.reading {
            Reading::Seekable { .. } => self.stream(),
            Reading::Stream { state, .. } => {
                if state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .decoder
                    .is_none()
                {
                    return Err(SourceError::StreamAlreadyRead {
                        path: self.path.clone(),
                    });
                }
                Ok(Box::new(StreamProbe {
                    state,
                    pos: 0,
                    limit_bytes,
                    path: &self.path,
                }))
            }
        }
    }
}
