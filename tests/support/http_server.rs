//! A tiny HTTP/1.1 server on 127.0.0.1 for the URL tests, with knobs for
//! what real servers and networks do: a Content-Length or a chunked body,
//! byte ranges or not, a redirect, a connection dropped at a chosen byte, a
//! stall, an ETag that changes, an error status, a web page — and the ways
//! servers get resuming wrong: only a Last-Modified date, a 206 without the
//! ETag, `If-Range` ignored, a `Content-Range` with another total, a body
//! ended by closing the connection (no length at all). It counts the
//! requests it answers. Every response closes its connection, so each
//! request is a new connection the client makes.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Knobs {
    pub body: Vec<u8>,
    /// Send a Content-Length; otherwise the body is chunked.
    pub content_length: bool,
    /// Neither a Content-Length nor chunks: the body ends when the
    /// connection closes (so a cut looks like the end).
    pub close_delimited: bool,
    /// Serve byte ranges (`Accept-Ranges: bytes`, 206).
    pub ranges: bool,
    pub etag: Option<String>,
    /// After the first whole-body response, the ETag becomes this: the file
    /// changed on the server.
    pub etag_after_first: Option<String>,
    pub last_modified: Option<String>,
    pub last_modified_after_first: Option<String>,
    /// After the first whole-body response, the file holds these bytes
    /// (whatever its ETag or date say).
    pub body_after_first: Option<Vec<u8>>,
    /// Answer a range whatever `If-Range` says.
    pub ignore_if_range: bool,
    /// Send the ETag with a 206 too (as servers must).
    pub etag_on_ranges: bool,
    /// The total `Content-Range` states, instead of the file's length.
    pub range_total: Option<u64>,
    /// Close the connection after sending byte `.0` of the file, `.1` times.
    pub drop_at: Option<(u64, usize)>,
    /// Send nothing for `.1` after byte `.0` of the file, once, then close.
    pub stall_at: Option<(u64, Duration)>,
    /// Answer every request with this status and a short page.
    pub status: Option<u16>,
    pub content_type: &'static str,
}

impl Knobs {
    /// A well-behaved server: Content-Length, ranges, a strong ETag.
    pub fn serving(body: Vec<u8>) -> Knobs {
        Knobs {
            body,
            content_length: true,
            close_delimited: false,
            ranges: true,
            etag: Some("\"v1\"".into()),
            etag_after_first: None,
            last_modified: None,
            last_modified_after_first: None,
            body_after_first: None,
            ignore_if_range: false,
            etag_on_ranges: true,
            range_total: None,
            drop_at: None,
            stall_at: None,
            status: None,
            content_type: "application/octet-stream",
        }
    }
}

/// What the server saw.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Requests for the whole body (no Range header).
    pub whole: usize,
    /// Range requests, by their first byte.
    pub ranges: Vec<u64>,
    pub user_agents: Vec<String>,
    /// Responses the client stopped reading before their end.
    pub aborted: usize,
}

struct State {
    knobs: Knobs,
    seen: Seen,
    drops_left: usize,
    stalled: bool,
    /// The first whole-body response went out: the `*_after_first` knobs
    /// apply.
    changed: bool,
}

/// A running server; stops accepting when dropped.
pub struct HttpServer {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl HttpServer {
    pub fn start(knobs: Knobs) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            drops_left: knobs.drop_at.map_or(0, |(_, n)| n),
            knobs,
            seen: Seen::default(),
            stalled: false,
            changed: false,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        std::thread::Builder::new()
            .name("http-server".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if sp.load(Ordering::Relaxed) {
                        return;
                    }
                    let Ok(conn) = conn else { continue };
                    let st = st.clone();
                    std::thread::Builder::new()
                        .name("http-conn".into())
                        .spawn(move || {
                            let _ = serve(conn, &st);
                        })
                        .unwrap();
                }
            })
            .unwrap();
        HttpServer { port, state, stop }
    }

    /// The URL of the image (`/image`), or of a redirect to it (`/redirect`).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    pub fn seen(&self) -> Seen {
        self.state.lock().unwrap().seen.clone()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(conn: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let mut out = conn;
    if path == "/redirect" {
        return write!(
            out,
            "HTTP/1.1 302 Found\r\nLocation: /image\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }

    let result = respond(&mut out, &headers, state);
    if result.is_err() {
        state.lock().unwrap().seen.aborted += 1;
    }
    result
}

fn respond(
    out: &mut TcpStream,
    headers: &[(String, String)],
    state: &Mutex<State>,
) -> std::io::Result<()> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut st = state.lock().unwrap();
    if let Some(agent) = header("user-agent") {
        st.seen.user_agents.push(agent);
    }
    if let Some(status) = st.knobs.status {
        let page = b"<html><body>no</body></html>";
        write!(
            out,
            "HTTP/1.1 {status} Status\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            page.len()
        )?;
        return out.write_all(page);
    }
    let after = |now: &Option<_>, later: &Option<_>, changed| match later {
        Some(later) if changed => Some(Clone::clone(later)),
        _ => now.clone(),
    };
    let changed = st.changed;
    let etag = after(&st.knobs.etag, &st.knobs.etag_after_first, changed);
    let last_modified = after(
        &st.knobs.last_modified,
        &st.knobs.last_modified_after_first,
        changed,
    );
    let file: Vec<u8> = match &st.knobs.body_after_first {
        Some(later) if changed => later.clone(),
        _ => st.knobs.body.clone(),
    };
    let len = file.len() as u64;
    let range = header("range").filter(|_| st.knobs.ranges).and_then(|r| {
        let (a, b) = r.strip_prefix("bytes=")?.split_once('-')?;
        let start: u64 = a.parse().ok()?;
        let end: u64 = if b.is_empty() {
            len
        } else {
            b.parse::<u64>().ok()? + 1
        };
        Some((start, end.min(len)))
    });
    // If-Range: a range only of the version the client names (by ETag or
    // date), unless the server ignores it.
    let range = range.filter(|_| match header("if-range") {
        _ if st.knobs.ignore_if_range => true,
        Some(v) => etag.as_deref() == Some(v.as_str()) || last_modified.as_deref() == Some(&v),
        None => true,
    });
    let (start, end, status) = match range {
        Some((start, end)) => {
            st.seen.ranges.push(start);
            (start, end, "206 Partial Content")
        }
        None => {
            st.seen.whole += 1;
            (0, len, "200 OK")
        }
    };
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nConnection: close\r\n",
        st.knobs.content_type
    );
    if st.knobs.ranges {
        head.push_str("Accept-Ranges: bytes\r\n");
    }
    if let Some(etag) = &etag
        && (range.is_none() || st.knobs.etag_on_ranges)
    {
        head.push_str(&format!("ETag: {etag}\r\n"));
    }
    if let Some(date) = &last_modified {
        head.push_str(&format!("Last-Modified: {date}\r\n"));
    }
    if range.is_some() {
        head.push_str(&format!(
            "Content-Range: bytes {start}-{}/{}\r\n",
            end - 1,
            st.knobs.range_total.unwrap_or(len)
        ));
    }
    let chunked = !st.knobs.content_length && !st.knobs.close_delimited;
    if chunked {
        head.push_str("Transfer-Encoding: chunked\r\n");
    } else if st.knobs.close_delimited {
        // The end of the body is the end of the connection.
    } else {
        head.push_str(&format!("Content-Length: {}\r\n", end - start));
    }
    head.push_str("\r\n");
    // Where this response stops early, if it does.
    let mut cut = None;
    if let Some((at, _)) = st.knobs.drop_at
        && st.drops_left > 0
        && (start..end).contains(&at)
    {
        st.drops_left -= 1;
        cut = Some((at, Duration::ZERO));
    }
    if let Some((at, pause)) = st.knobs.stall_at
        && !st.stalled
        && (start..end).contains(&at)
    {
        st.stalled = true;
        cut = Some((at, pause));
    }
    if range.is_none() {
        st.changed = true;
    }
    let body = file[start as usize..end as usize].to_vec();
    drop(st);

    out.write_all(head.as_bytes())?;
    let send_to = cut.map_or(body.len(), |(at, _)| (at - start) as usize);
    for piece in body[..send_to].chunks(64 << 10) {
        if chunked {
            write!(out, "{:x}\r\n", piece.len())?;
            out.write_all(piece)?;
            out.write_all(b"\r\n")?;
        } else {
            out.write_all(piece)?;
        }
    }
    out.flush()?;
    if let Some((_, pause)) = cut {
        std::thread::sleep(pause);
        // Reset, not a clean end: the client must see the cut.
        return out.shutdown(std::net::Shutdown::Both);
    }
    if chunked {
        out.write_all(b"0\r\n\r\n")?;
    }
    out.flush()
}
