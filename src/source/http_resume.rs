//! The body of a download that survives dropped connections and stalls:
//! resumed from the byte where it stopped, never spliced.
//!
//! When a read fails (the connection dropped, no byte came for the stall
//! timeout, or the body ended before the file's known length), the download waits a little longer each time and asks for the
//! rest of the file with a range request guarded by the file's validator
//! (`If-Range`), a bounded number of times. Readers downstream only see a
//! read that took longer. A server that does not serve ranges or names the
//! file by no strong ETag, a file that changed in between (another ETag or
//! length), or the last try failing ends the download with a
//! [`DownloadFailed`] error saying why and what to do: the engine then fails
//! every target, so no card ever holds two versions of a file.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use super::download::DownloadStatus;
use super::http::{Body, RangeError, Remote, Validator};
use super::http_errors::describe_io;
use crate::humanize;

/// Words every download failure's message holds, so that front ends can
/// tell a failed download from a damaged image ("the download failed at
/// 312 MB").
pub const DOWNLOAD_FAILED_AT: &str = "the download failed at";
/// Tries to resume after the first failure, before giving up.
pub(super) const MAX_RETRIES: u32 = 5;
/// The wait before the first retry; each next one waits twice as long.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// A download that cannot go on. Decoders pass it through unchanged, so the
/// user reads why the download failed, not "corrupt data".
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct DownloadFailed(pub String);

impl DownloadFailed {
    fn into_io(self) -> io::Error {
        io::Error::other(self)
    }
}

/// Whether `error` is a download failure (see `DownloadFailed`).
pub fn is_download_failure(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|e| e.is::<DownloadFailed>())
}

/// The file's bytes from `pos`, resumed across failures.
pub(super) struct ResumingBody {
    remote: Remote,
    body: Option<Body>,
    /// Bytes of the file received before the next one read.
    pos: u64,
    retries: u32,
    status: Arc<DownloadStatus>,
    /// The file's own SHA-256 (what publishers list), over each byte
    /// received once, in order: a resume goes on from `pos`.
    /// `None` once told.
    sha256: Option<sha2::Sha256>,
}

impl ResumingBody {
    /// Goes on with `body`, which yields the file's bytes from `pos`.
    pub(super) fn new(remote: Remote, body: Body, pos: u64, status: Arc<DownloadStatus>) -> Self {
        ResumingBody {
            remote,
            body: Some(body),
            pos,
            retries: 0,
            status,
            sha256: Some(sha2::Digest::new()),
        }
    }

    /// Why the rest of the file cannot be asked for without risking bytes
    /// of another version of it (only a strong ETag names the bytes).
    fn not_resumable(&self) -> Option<String> {
        let weak = match &self.remote.validator {
            Some(Validator::ETag(_)) if self.remote.len.is_some() => return None,
            Some(Validator::ETag(_)) => {
                return Some("the server did not say the file's length".into());
            }
            Some(Validator::WeakETag(_)) => "only a weak ETag",
            Some(Validator::LastModified(_)) => "only a Last-Modified date",
            None => "no ETag or Last-Modified",
        };
        Some(format!(
            "the server does not identify the file strongly enough to resume its download \
             ({weak}, no strong ETag)"
        ))
    }

    /// The connection failed for `reason`: gets the rest of the file, or
    /// says why it cannot.
    fn resume(&mut self, mut reason: String) -> Result<(), DownloadFailed> {
        self.body = None;
        let at = humanize::bytes(self.pos);
        if !self.remote.ranges {
            return Err(DownloadFailed(format!(
                "the server does not support resuming; {DOWNLOAD_FAILED_AT} {at} ({reason}); \
                 try again"
            )));
        }
        if let Some(why) = self.not_resumable() {
            return Err(DownloadFailed(format!(
                "{why}, so it cannot be resumed safely; {DOWNLOAD_FAILED_AT} {at} ({reason}); \
                 try again, or download the file first and flash the file"
            )));
        }
        loop {
            if self.retries >= MAX_RETRIES {
                return Err(DownloadFailed(format!(
                    "{DOWNLOAD_FAILED_AT} {at} after {MAX_RETRIES} tries to resume it \
                     ({reason}); check the network connection and try again"
                )));
            }
            self.retries += 1;
            self.status.retry(self.retries, self.pos, &reason);
            std::thread::sleep(backoff(self.retries));
            match self.remote.get_range(self.pos, None) {
                Ok(body) => {
                    self.body = Some(body);
                    return Ok(());
                }
                Err(RangeError::WholeFile) => {
                    return Err(DownloadFailed(format!(
                        "the file on the server changed during the download (or the server \
                         stopped serving parts of it), so it cannot be resumed; \
                         {DOWNLOAD_FAILED_AT} {at}; try again"
                    )));
                }
                Err(RangeError::Mismatch(why)) => {
                    return Err(DownloadFailed(format!(
                        "{why}; {DOWNLOAD_FAILED_AT} {at}; try again"
                    )));
                }
                Err(RangeError::Failed(why)) => reason = why,
            }
        }
    }
}

impl ResumingBody {
    /// Tells the file's SHA-256, once, when all of it was received.
    fn finish_hash(&mut self) {
        if self.pos == 0 {
            return;
        }
        if let Some(sha256) = self.sha256.take() {
            let digest = sha2::Digest::finalize(sha256);
            self.status.finished(crate::hex::hex(&digest));
        }
    }
}

/// The wait before retry number `attempt` (from 1).
fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1 << attempt.saturating_sub(1).min(10))
        .min(MAX_BACKOFF)
}

impl Read for ResumingBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(body) = self.body.as_mut() else {
                return Err(DownloadFailed("the download was stopped".into()).into_io());
            };
            let reason = match body.read(buf) {
                Ok(0) => match self.remote.len {
                    // The server promised more: the connection was cut.
                    Some(len) if self.pos < len => "the connection closed early".to_string(),
                    _ => {
                        self.status.received(self.pos, true);
                        self.finish_hash();
                        return Ok(0);
                    }
                },
                Ok(n) => {
                    self.pos += n as u64;
                    if let Some(len) = self.remote.len
                        && self.pos > len
                    {
                        self.body = None;
                        return Err(DownloadFailed(format!(
                            "the server sent more than the {len} bytes it said the file holds; \
                             {DOWNLOAD_FAILED_AT} {}; try again",
                            humanize::bytes(len)
                        ))
                        .into_io());
                    }
                    if let Some(sha256) = &mut self.sha256 {
                        sha2::Digest::update(sha256, &buf[..n]);
                    }
                    self.status.received(self.pos, false);
                    // A reader that stops at the file's known end (a raw
                    // image of known size) never asks for the end of file.
                    if self.remote.len == Some(self.pos) {
                        self.finish_hash();
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => describe_io(&e),
            };
            self.resume(reason).map_err(DownloadFailed::into_io)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_secs(1));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }

    #[test]
    fn download_failures_are_recognised_through_io_errors() {
        let error = DownloadFailed("x".into()).into_io();
        assert!(is_download_failure(&error));
        assert!(!is_download_failure(&io::Error::other("x")));
    }
}
