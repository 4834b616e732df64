//! The HTTP(S) client under a URL source: one blocking agent (ureq, rustls
//! with the system's certificate store, redirects followed, `HTTPS_PROXY`,
//! `HTTP_PROXY` and `NO_PROXY` honoured) and the two requests a download
//! makes: the whole file, and a byte range guarded by the file's validator.
//!
//! A range request always carries `If-Range`: if the file changed on the
//! server since the first response, the server answers with the whole new
//! file (200) instead of the range, and the caller refuses it. So bytes of
//! two versions of a file are never joined.

use std::io;
use std::path::Path;
use std::time::Duration;

use ureq::Agent;
use ureq::http::{Response, StatusCode, header};
use ureq::tls::{RootCerts, TlsConfig};

/// How long a connection may go without a byte before it counts as stalled.
const STALL_SECS: u64 = 30;
/// Shortens [`STALL_SECS`] (tests make servers stall on purpose).
pub const STALL_ENV: &str = "IMPRINT_HTTP_STALL_SECS";

/// Whether the image `path` names an `http://` or `https://` URL.
pub fn is_url(path: &Path) -> bool {
    path.to_str().is_some_and(|s| {
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        lower.starts_with("http://") || lower.starts_with("https://")
    })
}

/// The time without a byte after which a connection counts as stalled.
pub fn stall_timeout() -> Duration {
    let secs = std::env::var(STALL_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(STALL_SECS as f64);
    Duration::from_secs_f64(secs)
}

/// What identifies one version of the file, for `If-Range`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validator {
    /// A strong ETag (weak ones may not be used for ranges, RFC 9110 §13.1.5).
    ETag(String),
    LastModified(String),
}

impl Validator {
    fn header_value(&self) -> &str {
        match self {
            Validator::ETag(v) | Validator::LastModified(v) => v,
        }
    }
}

/// A file on a server, as its first response described it.
#[derive(Debug, Clone)]
pub struct Remote {
    pub url: String,
    agent: Agent,
    /// Content-Length of the whole file; `None` for a chunked response.
    pub len: Option<u64>,
    pub validator: Option<Validator>,
    /// The server said it serves byte ranges (`Accept-Ranges: bytes`).
    pub ranges: bool,
}

/// A body being received.
pub type Body = ureq::BodyReader<'static>;

/// Why a range request gave no usable range.
#[derive(Debug)]
pub enum RangeError {
    /// The server sent the whole file (200): it ignores ranges, or the file
    /// changed since the first response (`If-Range` did not match).
    WholeFile,
    /// The server answered a range, but of another version of the file or
    /// another place in it.
    Mismatch(String),
    /// No answer, or an error status: worth trying again.
    Failed(String),
}

impl Remote {
    /// Requests the whole file at `url`. Errors are sentences for the user
    /// ("the server answered 404 Not Found: check the link").
    pub fn get(url: &str) -> Result<(Remote, Body), String> {
        let agent = agent();
        let response = agent.get(url).call().map_err(|e| describe(&e))?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(status_error(status));
        }
        let remote = Remote {
            url: url.to_owned(),
            len: content_length(&response),
            validator: validator(&response),
            ranges: header_str(&response, header::ACCEPT_RANGES)
                .is_some_and(|v| v.eq_ignore_ascii_case("bytes")),
            agent,
        };
        Ok((remote, response.into_body().into_reader()))
    }

    /// Requests bytes `start..end` (`end` `None`: to the end of the file) of
    /// the version of the file the first response described.
    pub fn get_range(&self, start: u64, end: Option<u64>) -> Result<Body, RangeError> {
        let range = match end {
            Some(end) => format!("bytes={start}-{}", end.saturating_sub(1)),
            None => format!("bytes={start}-"),
        };
        let mut request = self.agent.get(&self.url).header(header::RANGE, range);
        if let Some(validator) = &self.validator {
            request = request.header(header::IF_RANGE, validator.header_value());
        }
        let response = request
            .call()
            .map_err(|e| RangeError::Failed(describe(&e)))?;
        let status = response.status();
        if status == StatusCode::OK {
            return Err(RangeError::WholeFile);
        }
        if status != StatusCode::PARTIAL_CONTENT {
            return Err(RangeError::Failed(status_error(status)));
        }
        // A server may ignore If-Range; then the validator it sends with
        // the range is the last guard against joining two versions.
        let answered = validator(&response);
        if let (Some(Validator::ETag(ours)), Some(Validator::ETag(theirs))) =
            (&self.validator, &answered)
            && ours != theirs
        {
            return Err(RangeError::Mismatch(format!(
                "the file on the server changed during the download (its ETag was {ours}, \
                 now {theirs})"
            )));
        }
        let range_start = header_str(&response, header::CONTENT_RANGE)
            .and_then(|v| v.strip_prefix("bytes "))
            .and_then(|v| v.split('-').next())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if range_start != Some(start) {
            return Err(RangeError::Mismatch(format!(
                "the server answered a range request for byte {start} with another range"
            )));
        }
        Ok(response.into_body().into_reader())
    }
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
    if let Some(etag) = header_str(response, header::ETAG)
        && !etag.starts_with("W/")
    {
        return Some(Validator::ETag(etag.to_owned()));
    }
    header_str(response, header::LAST_MODIFIED).map(|v| Validator::LastModified(v.to_owned()))
}

fn status_error(status: StatusCode) -> String {
    let advice = match status.as_u16() {
        401 | 403 => "the link may have expired or need a login; open it in a browser to check",
        404 | 410 => "check the link",
        416 => "the server refused the byte range asked for",
        500..=599 => "the server has a problem; try again later",
        _ => "check the link",
    };
    format!("the server answered {status}; {advice}")
}

/// A ureq error in the user's words.
pub fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::HostNotFound => {
            "the server's name was not found; check the link and the network connection".into()
        }
        ureq::Error::Timeout(_) => format!(
            "the server did not answer within {} s",
            stall_timeout().as_secs_f64()
        ),
        ureq::Error::ConnectionFailed => "the connection to the server failed".into(),
        ureq::Error::TooManyRedirects => "the link redirects too many times".into(),
        ureq::Error::BadUri(uri) => format!("{uri} is not a valid link"),
        ureq::Error::Tls(why) => format!("the secure connection failed: {why}"),
        ureq::Error::Rustls(why) => format!("the secure connection failed: {why}"),
        ureq::Error::Io(e) => format!("the connection failed: {e}"),
        other => other.to_string(),
    }
}

/// An I/O error of a body read in the user's words (a stall is a timeout).
pub fn describe_io(error: &io::Error) -> String {
    if let Some(inner) = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<ureq::Error>())
    {
        return describe(inner);
    }
    match error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            format!("no data for {} s", stall_timeout().as_secs_f64())
        }
        io::ErrorKind::UnexpectedEof => "the connection closed early".into(),
        _ => format!("the connection failed: {error}"),
    }
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
