//! The HTTP(S) client under a URL source: one blocking agent (ureq, rustls
//! with the system's certificate store, redirects followed, `HTTPS_PROXY`,
//! `HTTP_PROXY` and `NO_PROXY` honoured) and the two requests a download
//! makes: the whole file, and a byte range guarded by the file's validator.
//!
//! A range request is made only for a file with a strong ETag and a known
//! length, and always carries `If-Range`: if the file changed on the server
//! since the first response, the server answers with the whole new file
//! (200) instead of the range, and the caller refuses it. A 206 must repeat
//! the ETag and the length (`Content-Range`'s total), or it is refused too:
//! servers that ignore `If-Range` exist. So bytes of two versions of a file
//! are never joined. A first answer without a length is followed by
//! `Range: bytes=0-0`, whose `Content-Range` states it, so that a body cut
//! short is never taken for the whole file.

use std::path::Path;
use std::time::Duration;

use ureq::Agent;
use ureq::http::{Response, StatusCode, header};
use ureq::tls::{RootCerts, TlsConfig};

use super::http_errors::{describe, status_error};

/// How long a connection may go without a byte before it counts as stalled.
const STALL_SECS: u64 = 30;
/// Shortens `STALL_SECS` (tests make servers stall on purpose).
pub const STALL_ENV: &str = "IMPRINT_HTTP_STALL_SECS";

/// Whether the image `path` names an `http://` or `https://` URL.
pub fn is_url(path: &Path) -> bool {
    path.to_str().is_some_and(|s| {
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        lower.starts_with("http://") || lower.starts_with("https://")
    })
}

/// The time without a byte after which a connection counts as stalled.
pub(super) fn stall_timeout() -> Duration {
    let secs = std::env::var(STALL_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(STALL_SECS as f64);
    Duration::from_secs_f64(secs)
}

/// What identifies one version of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Validator {
    /// A strong ETag: the only validator a download is resumed with, since
    /// only it names the bytes themselves (RFC 9110 §8.8.1).
    ETag(String),
    /// A weak ETag (`W/"…"`): the same meaning, not the same bytes.
    WeakETag(String),
    /// A date, to the second: a file replaced within that second keeps it.
    LastModified(String),
}

/// A file on a server, as its first response described it.
#[derive(Debug, Clone)]
pub(super) struct Remote {
    pub url: String,
    agent: Agent,
    /// The whole file's length: the first response's Content-Length, or,
    /// without one, the total of a `Range: bytes=0-0` answer; `None` when
    /// neither said.
    pub len: Option<u64>,
    pub validator: Option<Validator>,
    /// The server said it serves byte ranges (`Accept-Ranges: bytes`).
    pub ranges: bool,
}

/// A body being received.
pub(super) type Body = ureq::BodyReader<'static>;

/// Why a range request gave no usable range.
#[derive(Debug)]
pub(super) enum RangeError {
    /// The server sent the whole file (200): it ignores ranges, or the file
    /// changed since the first response (`If-Range` did not match).
    WholeFile,
    /// The server answered a range, but of another version of the file,
    /// without naming the version, or of another place in it.
    Mismatch(String),
    /// No answer, or an error status: worth trying again.
    Failed(String),
}

impl Remote {
    /// Requests the whole file at `url`. Errors are sentences for the user
    /// ("the server answered 404 Not Found: check the link").
    pub(super) fn get(url: &str) -> Result<(Remote, Body), String> {
        let agent = agent();
        let response = agent.get(url).call().map_err(|e| describe(&e))?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(status_error(status));
        }
        let mut remote = Remote {
            url: url.to_owned(),
            len: content_length(&response),
            validator: validator(&response),
            ranges: header_str(&response, header::ACCEPT_RANGES)
                .is_some_and(|v| v.eq_ignore_ascii_case("bytes")),
            agent,
        };
        if remote.len.is_none() && remote.ranges {
            // Without a length, a body cut short would look complete.
            remote.len = remote.probe_len();
        }
        Ok((remote, response.into_body().into_reader()))
    }

    /// The strong ETag the first response named, if it named one.
    pub(super) fn strong_etag(&self) -> Option<&str> {
        match &self.validator {
            Some(Validator::ETag(tag)) => Some(tag),
            _ => None,
        }
    }

    /// Whether parts of this version of the file can be asked for without
    /// risking bytes of another: the server serves ranges, the file has a
    /// strong ETag and a known length (each range answer must repeat both).
    pub(super) fn ranges_are_safe(&self) -> bool {
        self.ranges && self.len.is_some() && self.strong_etag().is_some()
    }

    /// The file's length from `Range: bytes=0-0`'s `Content-Range: bytes
    /// 0-0/TOTAL`, when the server answers one for this version of the file
    /// (any failure only leaves the length unknown).
    fn probe_len(&self) -> Option<u64> {
        let mut request = self.agent.get(&self.url).header(header::RANGE, "bytes=0-0");
        if let Some(tag) = self.strong_etag() {
            request = request.header(header::IF_RANGE, tag);
        }
        let response = request.call().ok()?;
        if response.status() != StatusCode::PARTIAL_CONTENT {
            return None;
        }
        if self.strong_etag().is_some() && validator(&response) != self.validator {
            return None;
        }
        let range = content_range(&response)?;
        (range.start == 0).then_some(range.total?)
    }

    /// Requests bytes `start..end` (`end` `None`: to the end of the file) of
    /// the version of the file the first response described. Only when
    /// [`Remote::ranges_are_safe`]; the answer must repeat the strong ETag
    /// and the file's length, or it is refused: a server that ignores
    /// `If-Range`, or forgets the ETag in a 206, must not splice two files.
    pub(super) fn get_range(&self, start: u64, end: Option<u64>) -> Result<Body, RangeError> {
        let (Some(ours), Some(len)) = (self.strong_etag(), self.len) else {
            return Err(RangeError::Mismatch(
                "the server does not identify the file strongly enough (a strong ETag and \
                 its length) to ask for a part of it"
                    .into(),
            ));
        };
        let range = match end {
            Some(end) => format!("bytes={start}-{}", end.saturating_sub(1)),
            None => format!("bytes={start}-"),
        };
        let response = self
            .agent
            .get(&self.url)
            .header(header::RANGE, range)
            .header(header::IF_RANGE, ours)
            .call()
            .map_err(|e| RangeError::Failed(describe(&e)))?;
        let status = response.status();
        if status == StatusCode::OK {
            return Err(RangeError::WholeFile);
        }
        if status != StatusCode::PARTIAL_CONTENT {
            return Err(RangeError::Failed(status_error(status)));
        }
        match validator(&response) {
            Some(Validator::ETag(theirs)) if theirs == ours => {}
            Some(Validator::ETag(theirs)) => {
                return Err(RangeError::Mismatch(format!(
                    "the file on the server changed during the download (its ETag was {ours}, \
                     now {theirs})"
                )));
            }
            _ => {
                return Err(RangeError::Mismatch(
                    "the server's answer to a range request does not name the file's version \
                     (no ETag), so its bytes may belong to another file"
                        .into(),
                ));
            }
        }
        let expected_end = end.unwrap_or(len).min(len);
        match content_range(&response) {
            // Fewer bytes than asked for are allowed: the rest is asked
            // for again (a resume) or refused (`RangeReader` counts them).
            Some(r)
                if r.start == start
                    && r.end > start
                    && r.end <= expected_end
                    && r.total == Some(len) => {}
            Some(ContentRange {
                total: Some(total), ..
            }) if total != len => {
                return Err(RangeError::Mismatch(format!(
                    "the file on the server changed during the download (it was {len} bytes \
                     long, now {total})"
                )));
            }
            _ => {
                return Err(RangeError::Mismatch(format!(
                    "the server answered a range request for byte {start} with another range"
                )));
            }
        }
        Ok(response.into_body().into_reader())
    }
}

/// A `Content-Range: bytes START-LAST/TOTAL` header, `end` past `LAST`.
struct ContentRange {
    start: u64,
    end: u64,
    /// `None` for `*` (the server does not know).
    total: Option<u64>,
}

fn content_range<B>(response: &Response<B>) -> Option<ContentRange> {
    let value = header_str(response, header::CONTENT_RANGE)?.trim();
    let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (start, last) = range.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let last: u64 = last.trim().parse().ok()?;
    let total = match total.trim() {
        "*" => None,
        n => Some(n.parse().ok()?),
    };
    Some(ContentRange {
        start,
        end: last.checked_add(1)?,
        total,
    })
}

/// The one agent configuration of every request.
fn agent() -> Agent {
    let stall = Some(stall_timeout());
    Agent::config_builder()
        .user_agent(format!("imprint/{}", env!("CARGO_PKG_VERSION")))
        // Statuses are read here: a 404 is a sentence for the user, a 200
        // to a range request a refusal to splice.
        .http_status_as_error(false)
        // The body is the image's bytes exactly: no content coding.
        .accept_encoding("identity")
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::PlatformVerifier)
                .build(),
        )
        .timeout_connect(stall)
        .timeout_recv_response(stall)
        .timeout_per_read(stall)
        .build()
        .into()
}

fn header_str<B>(response: &Response<B>, name: header::HeaderName) -> Option<&str> {
    response.headers().get(name)?.to_str().ok()
}

fn content_length<B>(response: &Response<B>) -> Option<u64> {
    header_str(response, header::CONTENT_LENGTH)?
        .trim()
        .parse()
        .ok()
}

fn validator<B>(response: &Response<B>) -> Option<Validator> {
    if let Some(etag) = header_str(response, header::ETAG) {
        let etag = etag.trim().to_owned();
        return Some(if etag.starts_with("W/") {
            Validator::WeakETag(etag)
        } else {
            Validator::ETag(etag)
        });
    }
    header_str(response, header::LAST_MODIFIED).map(|v| Validator::LastModified(v.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        assert!(is_url(Path::new("https://example.com/os.img.xz")));
        assert!(is_url(Path::new("HTTP://example.com/os.img")));
        assert!(!is_url(Path::new("http.img")));
        assert!(!is_url(Path::new("/tmp/https://x")));
        assert!(!is_url(Path::new("-")));
    }
}
