//! HTTP failures in the user's words: a status, a ureq error, a TLS
//! failure, a body read that failed. Each is a sentence saying what
//! happened and what to do — never a library's `Debug` text ("rustls:
//! invalid peer certificate: UnknownIssuer"), which means nothing to a
//! person choosing a link.

use std::io;

use rustls::{AlertDescription, CertificateError};
use ureq::http::StatusCode;

use super::http::stall_timeout;

/// A status other than the one asked for, with advice.
pub(super) fn status_error(status: StatusCode) -> String {
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
pub(super) fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::HostNotFound => {
            "the server's name was not found; check the link and the network connection".into()
        }
        ureq::Error::Timeout(_) => format!(
            "the server did not answer within {} s",
            stall_timeout().as_secs_f64()
        ),
        ureq::Error::ConnectionFailed => {
            "the connection to the server failed; check the link and the network connection".into()
        }
        ureq::Error::TooManyRedirects => "the link redirects too many times".into(),
        ureq::Error::BadUri(uri) => format!("{uri} is not a valid link"),
        ureq::Error::Tls(_) => secure_connection_failed("it could not be set up"),
        ureq::Error::Rustls(why) => describe_tls(why),
        ureq::Error::Io(e) => describe_io(e),
        ureq::Error::Protocol(_) => "the server's answer is not valid HTTP; check the link (is it \
                                     an https:// link on an http:// server, or the wrong port?)"
            .into(),
        ureq::Error::RedirectFailed => "a redirect of the link could not be followed; open it \
                                        in a browser to check"
            .into(),
        ureq::Error::InvalidProxyUrl => "the proxy setting (HTTPS_PROXY, HTTP_PROXY) is not a \
                                         valid address; correct or unset it"
            .into(),
        other => format!("the download failed: {other}"),
    }
}

/// An I/O error of a body read in the user's words (a stall is a timeout).
pub(super) fn describe_io(error: &io::Error) -> String {
    if let Some(inner) = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<ureq::Error>())
    {
        return describe(inner);
    }
    if let Some(tls) = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        return describe_tls(tls);
    }
    describe_plain_io(error)
}

fn describe_plain_io(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            format!("no data for {} s", stall_timeout().as_secs_f64())
        }
        io::ErrorKind::UnexpectedEof => "the connection closed early".into(),
        io::ErrorKind::ConnectionRefused => {
            "the server refused the connection; check the link (and its port)".into()
        }
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
            "the connection was closed by the server or the network".into()
        }
        _ => match error.raw_os_error() {
            // The OS's words ("Network is unreachable") are a sentence.
            Some(_) => format!("the connection failed: {error}"),
            None => "the connection failed".into(),
        },
    }
}

/// "the secure connection to the server failed: WHY; …advice".
fn secure_connection_failed(why: &str) -> String {
    format!(
        "the secure (https) connection to the server failed: {why}; check the link, the \
         system's date and time, and the network (a proxy or firewall may intercept it)"
    )
}

/// A TLS failure in words, with advice; no library names or enum names.
pub(super) fn describe_tls(error: &rustls::Error) -> String {
    let certificate = |why: &str| {
        format!(
            "the server's certificate is not trusted ({why}); check the address, or the \
             system's certificates (a proxy or firewall may replace them)"
        )
    };
    match error {
        rustls::Error::InvalidCertificate(cause) => match cause {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                certificate("it has expired, or the system's clock is wrong")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                certificate("it is not valid yet, or the system's clock is wrong")
            }
            CertificateError::UnknownIssuer => {
                certificate("it is not signed by an authority this system trusts")
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                certificate("it is made out for another name")
            }
            CertificateError::Revoked => certificate("it was revoked"),
            _ => certificate("it could not be verified"),
        },
        rustls::Error::NoCertificatesPresented => certificate("the server sent none"),
        rustls::Error::AlertReceived(AlertDescription::HandshakeFailure)
        | rustls::Error::PeerIncompatible(_) => secure_connection_failed(
            "the server and this system share no security settings (protocol version or cipher)",
        ),
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. }
        | rustls::Error::PeerSentOversizedRecord => secure_connection_failed(
            "the server did not answer in https (is it an http:// link, or the wrong port?)",
        ),
        rustls::Error::AlertReceived(_) => {
            secure_connection_failed("the server refused the connection's security")
        }
        _ => secure_connection_failed("the security check did not pass"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_failures_are_sentences_with_advice_not_debug_text() {
        let cases = [
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
            rustls::Error::InvalidCertificate(CertificateError::Expired),
            rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            rustls::Error::AlertReceived(AlertDescription::HandshakeFailure),
        ];
        for error in cases {
            let text = describe(&ureq::Error::Rustls(error.clone()));
            for leak in [
                "rustls",
                "UnknownIssuer",
                "InvalidMessage",
                "Expired",
                "{",
                "::",
            ] {
                assert!(!text.contains(leak), "{error:?}: {text}");
            }
            assert!(text.contains("check"), "{error:?}: advice missing: {text}");
        }
        let untrusted = describe_tls(&rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        assert!(untrusted.starts_with("the server's certificate is not trusted"));
    }
}
