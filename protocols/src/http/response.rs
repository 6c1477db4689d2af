//! Response heads: status line, header fields and body framing.

use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};

use super::{HttpError, RequestHead, Version};

/// How the body after a response head is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BodyFraming {
    /// `Content-Length: n` (0 for no body; also what a `HEAD` response
    /// announces without sending it).
    Length(u64),
    /// `Transfer-Encoding: chunked`: a live body of unknown length on
    /// HTTP/1.1, written with [`encode_chunk`](super::encode_chunk).
    Chunked,
    /// The body ends when the server closes the connection (HTTP/1.0 live
    /// bodies, or players that dislike chunking).
    UntilClose,
}

impl BodyFraming {
    /// The framing for a live body (HTTP-FLV, a growing LL-HLS part):
    /// chunked on HTTP/1.1, until close on HTTP/1.0.
    pub fn streaming(version: Version) -> BodyFraming {
        match version {
            Version::Http11 => BodyFraming::Chunked,
            Version::Http10 => BodyFraming::UntilClose,
        }
    }
}

/// What the `Connection` header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Persistence {
    /// Nothing: HTTP/1.1 keeps the connection.
    Default,
    /// `Connection: keep-alive`, for HTTP/1.0 clients that asked.
    KeepAlive,
    /// `Connection: close`.
    Close,
}

/// A response head, written as HTTP/1.1.
///
/// The framing headers (`Content-Length`, `Transfer-Encoding`,
/// `Connection`) come from [`BodyFraming`] and the keep-alive decision and
/// cannot be set by hand, so a head can never announce two framings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    status: u16,
    headers: Vec<(String, String)>,
    framing: BodyFraming,
    persistence: Persistence,
}

impl ResponseHead {
    /// A head with a three-digit `status`, its standard reason phrase, and
    /// `framing`.
    pub fn new(status: u16, framing: BodyFraming) -> ResponseHead {
        ResponseHead {
            status,
            headers: Vec::new(),
            framing,
            persistence: Persistence::Default,
        }
    }

    /// Adds a header field.
    ///
    /// Refused: a name that is not an RFC 9110 token, a value with CR, LF,
    /// NUL or another control character but tab, and the framing headers.
    pub fn header(mut self, name: &str, value: &str) -> Result<ResponseHead, HttpError> {
        let token = !name.is_empty() && name.bytes().all(is_token_byte);
        let clean = value.bytes().all(|b| b == b'\t' || !b.is_ascii_control());
        let framing = ["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|f| name.eq_ignore_ascii_case(f));
        if !token || !clean || framing {
            return Err(HttpError::InvalidResponseHeader(name.to_owned()));
        }
        self.headers.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// Closes the connection after this response (`Connection: close`).
    pub fn close(mut self) -> ResponseHead {
        self.persistence = Persistence::Close;
        self
    }

    /// Keeps or closes the connection as `request` asked: close if it did
    /// not ask to stay open, `Connection: keep-alive` for an HTTP/1.0 client
    /// that did. A head already set to [`close`](Self::close) stays so.
    pub fn persist_for(mut self, request: &RequestHead) -> ResponseHead {
        if self.persistence == Persistence::Close {
            return self;
        }
        self.persistence = match (request.keep_alive(), request.version) {
            (false, _) => Persistence::Close,
            (true, Version::Http10) => Persistence::KeepAlive,
            (true, Version::Http11) => Persistence::Default,
        };
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body framing.
    pub fn framing(&self) -> BodyFraming {
        self.framing
    }

    /// Whether the connection can carry another request after this
    /// response's body.
    pub fn keeps_alive(&self) -> bool {
        self.persistence != Persistence::Close && self.framing != BodyFraming::UntilClose
    }

    /// Appends the head, through its blank line, to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let mut head = String::with_capacity(128);
        // Writing to a String cannot fail.
        let _ = write!(
            head,
            "HTTP/1.1 {} {}\r\n",
            self.status,
            reason_phrase(self.status)
        );
        for (name, value) in &self.headers {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        match self.framing {
            BodyFraming::Length(n) => {
                let _ = write!(head, "Content-Length: {n}\r\n");
            }
            BodyFraming::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
            BodyFraming::UntilClose => {}
        }
        if !self.keeps_alive() {
            head.push_str("Connection: close\r\n");
        } else if self.persistence == Persistence::KeepAlive {
            head.push_str("Connection: keep-alive\r\n");
        }
        head.push_str("\r\n");
        dst.put_slice(head.as_bytes());
    }
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The standard reason phrase of a status code ("" for codes without one;
/// the phrase is informational only).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::RequestParser;

    fn encoded(head: &ResponseHead) -> String {
        let mut buf = BytesMut::new();
        head.encode(&mut buf);
        String::from_utf8(buf.to_vec()).unwrap()
    }

    #[test]
    fn writes_an_http_flv_head() {
        let head = ResponseHead::new(200, BodyFraming::Chunked)
            .header("Content-Type", "video/x-flv")
            .unwrap()
            .header("Access-Control-Allow-Origin", "*")
            .unwrap();
        assert!(head.keeps_alive());
        assert_eq!(
            encoded(&head),
            "HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\n\
             Access-Control-Allow-Origin: *\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
    }

    #[test]
    fn writes_each_framing() {
        let head = ResponseHead::new(404, BodyFraming::Length(9));
        assert_eq!(
            encoded(&head),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n"
        );
        let head = ResponseHead::new(200, BodyFraming::UntilClose);
        assert!(!head.keeps_alive());
        assert_eq!(
            encoded(&head),
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
        );
        let head = ResponseHead::new(299, BodyFraming::Length(0)).close();
        assert_eq!(
            encoded(&head),
            "HTTP/1.1 299 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn follows_the_request_on_persistence() {
        let request = |text: &str| {
            RequestParser::new()
                .feed(&mut BytesMut::from(text))
                .unwrap()
                .unwrap()
        };
        let http10 = request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert_eq!(
            BodyFraming::streaming(http10.version),
            BodyFraming::UntilClose
        );
        let head = ResponseHead::new(200, BodyFraming::Length(2)).persist_for(&http10);
        assert!(encoded(&head).ends_with("Content-Length: 2\r\nConnection: keep-alive\r\n\r\n"));
        let closing = request("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        let head = ResponseHead::new(200, BodyFraming::Length(2)).persist_for(&closing);
        assert!(!head.keeps_alive());
        let http11 = request("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(BodyFraming::streaming(http11.version), BodyFraming::Chunked);
        let head = ResponseHead::new(200, BodyFraming::Chunked).persist_for(&http11);
        assert!(head.keeps_alive());
        assert!(!encoded(&head).contains("Connection"));
    }

    #[test]
    fn refuses_bad_headers() {
        let head = || ResponseHead::new(200, BodyFraming::Length(0));
        for (name, value) in [
            ("X-Name", "a\r\nSet-Cookie: x"),
            ("Bad Name", "v"),
            ("", "v"),
            ("content-length", "5"),
            ("Connection", "close"),
            ("X-Nul", "a\0b"),
        ] {
            assert_eq!(
                head().header(name, value),
                Err(HttpError::InvalidResponseHeader(name.into()))
            );
        }
        assert!(head().header("X-Tab", "a\tb").is_ok());
    }
}
