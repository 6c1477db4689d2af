//! Request heads: parsing the request line and header fields.

use bytes::{Buf, BytesMut};

use super::{Headers, HttpError, percent_decode};

/// Default longest request head: request line, headers and the blank line.
pub const DEFAULT_MAX_HEAD_LEN: usize = 16 * 1024;

/// Default most header fields in one request.
pub const DEFAULT_MAX_HEADERS: usize = 64;

/// The request methods arcly serves; others get 501.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `DELETE`.
    Delete,
    /// `OPTIONS` (CORS preflight).
    Options,
    /// `PATCH`.
    Patch,
}

impl Method {
    /// The method's token.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Patch => "PATCH",
        }
    }

    fn parse(token: &str) -> Result<Method, HttpError> {
        // Methods are case-sensitive (RFC 9110 9.1).
        Ok(match token {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            "PATCH" => Method::Patch,
            other => return Err(HttpError::UnsupportedMethod(other.to_owned())),
        })
    }
}

/// The HTTP version of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// HTTP/1.0: one request per connection unless `keep-alive` is asked
    /// for, no chunked bodies.
    Http10,
    /// HTTP/1.1.
    Http11,
}

/// A parsed request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// The method.
    pub method: Method,
    /// The percent-decoded path, starting with `/` (or `*` for
    /// `OPTIONS *`). An absolute-form target (`http://host/path`) is reduced
    /// to its path.
    pub path: String,
    /// The query string after `?`, as sent (not decoded); see
    /// [`query_param`](Self::query_param).
    pub query: Option<String>,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The header fields, in order. Values are trimmed; bytes that are not
    /// UTF-8 are replaced with U+FFFD.
    pub headers: Headers,
}

impl RequestHead {
    /// Whether the connection stays open after the response: HTTP/1.1
    /// unless `Connection: close`, HTTP/1.0 only with
    /// `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        match self.version {
            Version::Http11 => !self.headers.has_token("connection", "close"),
            Version::Http10 => self.headers.has_token("connection", "keep-alive"),
        }
    }

    /// The first value of header `name`, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The decoded value of the first query parameter named `name`
    /// (`?token=a%20b` gives `a b`; `+` is a space); `Ok(None)` if absent.
    /// Pairs whose name does not decode are skipped.
    pub fn query_param(&self, name: &str) -> Result<Option<String>, HttpError> {
        let Some(query) = &self.query else {
            return Ok(None);
        };
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if percent_decode(key, true, "query").is_ok_and(|key| key == name) {
                return percent_decode(value, true, "query").map(Some);
            }
        }
        Ok(None)
    }
}

/// Reads request heads from the front of a connection's read buffer.
///
/// [`feed`](Self::feed) returns `Ok(None)` until the blank line that ends a
/// head has arrived, then parses it and consumes exactly the head, leaving
/// pipelined requests behind it in the buffer. It remembers how far it has
/// scanned, so a head trickling in byte by byte costs linear time. A buffer
/// that passes the head-size limit without a complete head is refused, so
/// the driver never buffers more than the limit.
///
/// Requests that announce a body are refused for now
/// ([`HttpError::BodyNotAccepted`], [`HttpError::TransferEncodingNotAccepted`],
/// status 413). After an error the connection should get
/// [`HttpError::status`] and be closed.
#[derive(Clone, Debug)]
pub struct RequestParser {
    max_head_len: usize,
    max_headers: usize,
    /// Bytes at the front of the buffer already searched for the end of
    /// the head.
    scanned: usize,
}

impl Default for RequestParser {
    fn default() -> Self {
        RequestParser::new()
    }
}

impl RequestParser {
    /// A parser with [`DEFAULT_MAX_HEAD_LEN`] and [`DEFAULT_MAX_HEADERS`].
    pub fn new() -> Self {
        RequestParser::with_limits(DEFAULT_MAX_HEAD_LEN, DEFAULT_MAX_HEADERS)
    }

    /// A parser with the given limits on head length and field count.
    pub fn with_limits(max_head_len: usize, max_headers: usize) -> Self {
        RequestParser {
            max_head_len,
            max_headers,
            scanned: 0,
        }
    }

    /// Parses the next request head at the front of `buf`.
    pub fn feed(&mut self, buf: &mut BytesMut) -> Result<Option<RequestHead>, HttpError> {
        // Empty lines before a request line are ignored (RFC 9112 2.2).
        let blank = buf
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        if blank > 0 {
            buf.advance(blank);
            self.scanned = self.scanned.saturating_sub(blank);
        }
        let Some(end) = self.find_head_end(buf) else {
            if buf.len() > self.max_head_len {
                return Err(HttpError::HeadTooLarge {
                    limit: self.max_head_len,
                });
            }
            return Ok(None);
        };
        if end > self.max_head_len {
            return Err(HttpError::HeadTooLarge {
                limit: self.max_head_len,
            });
        }
        self.scanned = 0;
        let head = self.parse(&buf[..end])?;
        buf.advance(end);
        Ok(Some(head))
    }

    /// The length of the head (through its blank line), if it is complete.
    fn find_head_end(&mut self, buf: &[u8]) -> Option<usize> {
        for i in self.scanned..buf.len() {
            if buf[i] != b'\n' {
                continue;
            }
            match (buf.get(i + 1), buf.get(i + 2)) {
                (Some(b'\n'), _) => return Some(i + 2),
                (Some(b'\r'), Some(b'\n')) => return Some(i + 3),
                _ => {}
            }
        }
        // A terminator may start in the last two bytes; look at them again.
        self.scanned = buf.len().saturating_sub(2);
        None
    }

    fn parse(&self, head: &[u8]) -> Result<RequestHead, HttpError> {
        let mut fields = vec![httparse::EMPTY_HEADER; self.max_headers];
        let mut request = httparse::Request::new(&mut fields);
        match request.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(HttpError::Malformed("incomplete head")),
            Err(error) => return Err(from_httparse(error, self.max_headers)),
        }
        let (Some(method), Some(target), Some(version)) =
            (request.method, request.path, request.version)
        else {
            return Err(HttpError::Malformed("incomplete request line"));
        };
        let version = match version {
            0 => Version::Http10,
            1 => Version::Http11,
            _ => return Err(HttpError::UnsupportedVersion),
        };
        let method = Method::parse(method)?;
        let (path, query) = split_target(target)?;
        let headers = Headers::new(
            request
                .headers
                .iter()
                .map(|h| {
                    let value = String::from_utf8_lossy(h.value).trim().to_owned();
                    (h.name.to_owned(), value)
                })
                .collect(),
        );
        check_body(&headers)?;
        match headers.get_all("host").count() {
            0 if version == Version::Http11 => return Err(HttpError::MissingHost),
            0 | 1 => {}
            _ => return Err(HttpError::Malformed("more than one host header")),
        }
        Ok(RequestHead {
            method,
            path,
            query,
            version,
            headers,
        })
    }
}

fn from_httparse(error: httparse::Error, max_headers: usize) -> HttpError {
    match error {
        httparse::Error::TooManyHeaders => HttpError::TooManyHeaders { limit: max_headers },
        httparse::Error::Version => HttpError::UnsupportedVersion,
        httparse::Error::HeaderName => HttpError::Malformed("invalid header name"),
        httparse::Error::HeaderValue => HttpError::Malformed("invalid header value"),
        httparse::Error::NewLine => HttpError::Malformed("invalid line ending"),
        httparse::Error::Status | httparse::Error::Token => {
            HttpError::Malformed("invalid request line")
        }
    }
}

/// Splits a request target into the decoded path and the raw query.
fn split_target(target: &str) -> Result<(String, Option<String>), HttpError> {
    if target == "*" {
        return Ok(("*".to_owned(), None));
    }
    let origin_form = if target.starts_with('/') {
        target
    } else {
        // Absolute form: drop the scheme and authority (RFC 9112 3.2.2).
        let scheme_end = target.find("://").ok_or(HttpError::BadTarget)?;
        let scheme = &target[..scheme_end];
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(HttpError::BadTarget);
        }
        let rest = &target[scheme_end + 3..];
        match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => &rest[i..],
            _ => {
                return Ok((
                    "/".to_owned(),
                    rest.split_once('?').map(|(_, q)| q.to_owned()),
                ));
            }
        }
    };
    let (path, query) = match origin_form.split_once('?') {
        Some((path, query)) => (path, Some(query.to_owned())),
        None => (origin_form, None),
    };
    Ok((percent_decode(path, false, "path")?, query))
}

/// Refuses requests with a body, and ambiguous framing.
fn check_body(headers: &Headers) -> Result<(), HttpError> {
    let mut length = None;
    for value in headers.get_all("content-length") {
        for item in value.split(',') {
            let item = item.trim();
            if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HttpError::BadContentLength);
            }
            let n: u64 = item.parse().map_err(|_| HttpError::BadContentLength)?;
            if length.is_some_and(|l| l != n) {
                return Err(HttpError::BadContentLength);
            }
            length = Some(n);
        }
    }
    if headers.get("transfer-encoding").is_some() {
        if length.is_some() {
            return Err(HttpError::ConflictingFraming);
        }
        return Err(HttpError::TransferEncodingNotAccepted);
    }
    match length {
        Some(n) if n > 0 => Err(HttpError::BodyNotAccepted(n)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<RequestHead>, HttpError> {
        RequestParser::new().feed(&mut BytesMut::from(text))
    }

    #[test]
    fn parses_an_http_flv_request() {
        let head = parse(
            "GET /live/cam%201.flv?token=a%2Bb&x HTTP/1.1\r\nHost: origin:8080\r\n\
             User-Agent: VLC/3.0\r\nConnection: close\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(head.method, Method::Get);
        assert_eq!(head.path, "/live/cam 1.flv");
        assert_eq!(head.query.as_deref(), Some("token=a%2Bb&x"));
        assert_eq!(head.query_param("token").unwrap().as_deref(), Some("a+b"));
        assert_eq!(head.query_param("x").unwrap().as_deref(), Some(""));
        assert_eq!(head.query_param("y").unwrap(), None);
        assert_eq!(head.version, Version::Http11);
        assert_eq!(head.header("user-agent"), Some("VLC/3.0"));
        assert!(!head.keep_alive());
    }

    #[test]
    fn decides_keep_alive_by_version() {
        let head = |text| parse(text).unwrap().unwrap();
        assert!(head("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive());
        assert!(!head("GET / HTTP/1.0\r\n\r\n").keep_alive());
        assert!(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive());
    }

    #[test]
    fn reduces_absolute_targets() {
        let head = |text| parse(text).unwrap().unwrap();
        let h = head("GET http://origin/live/a.m3u8?x=1 HTTP/1.1\r\nHost: origin\r\n\r\n");
        assert_eq!(
            (h.path.as_str(), h.query.as_deref()),
            ("/live/a.m3u8", Some("x=1"))
        );
        let h = head("GET HTTPS://origin?q HTTP/1.1\r\nHost: origin\r\n\r\n");
        assert_eq!((h.path.as_str(), h.query.as_deref()), ("/", Some("q")));
        let h = head("OPTIONS * HTTP/1.1\r\nHost: origin\r\n\r\n");
        assert_eq!(h.path, "*");
        assert_eq!(
            parse("GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n"),
            Err(HttpError::BadTarget)
        );
    }

    #[test]
    fn accepts_bare_line_feeds_and_leading_blank_lines() {
        let mut buf = BytesMut::from("\r\n\r\nGET /a HTTP/1.1\nHost: x\n\n");
        let head = RequestParser::new().feed(&mut buf).unwrap().unwrap();
        assert_eq!(head.path, "/a");
        assert!(buf.is_empty());
    }

    #[test]
    fn refuses_bodies_and_bad_framing() {
        let req = |extra: &str| parse(&format!("POST /api HTTP/1.1\r\nHost: a\r\n{extra}\r\n"));
        assert!(req("Content-Length: 0\r\n").unwrap().is_some());
        assert_eq!(
            req("Content-Length: 5\r\n"),
            Err(HttpError::BodyNotAccepted(5))
        );
        assert_eq!(
            req("Transfer-Encoding: chunked\r\n"),
            Err(HttpError::TransferEncodingNotAccepted)
        );
        assert_eq!(
            req("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n"),
            Err(HttpError::ConflictingFraming)
        );
        assert_eq!(
            req("Content-Length: +0\r\n"),
            Err(HttpError::BadContentLength)
        );
        assert_eq!(
            req("Content-Length: 1\r\nContent-Length: 2\r\n"),
            Err(HttpError::BadContentLength)
        );
        assert_eq!(
            req("Content-Length: 99999999999999999999999\r\n"),
            Err(HttpError::BadContentLength)
        );
        assert_eq!(HttpError::BodyNotAccepted(5).status(), 413);
    }

    #[test]
    fn refuses_bad_heads() {
        assert_eq!(parse("GET / HTTP/1.1\r\n\r\n"), Err(HttpError::MissingHost));
        assert_eq!(
            parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            Err(HttpError::Malformed("more than one host header"))
        );
        assert_eq!(
            parse("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n"),
            Err(HttpError::UnsupportedMethod("BREW".into()))
        );
        assert_eq!(
            parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
            Err(HttpError::UnsupportedVersion)
        );
        assert_eq!(
            parse("GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n"),
            Err(HttpError::BadPercentEncoding {
                what: "path",
                offset: 2
            })
        );
        assert_eq!(
            parse("GET / HTTP/1.1\r\nBad Name: a\r\n\r\n"),
            Err(HttpError::Malformed("invalid header name"))
        );
        assert_eq!(
            parse("GET a HTTP/1.1\r\nHost: a\r\n\r\n"),
            Err(HttpError::BadTarget)
        );
    }

    #[test]
    fn enforces_limits() {
        let mut parser = RequestParser::with_limits(64, 2);
        let mut buf = BytesMut::from("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n");
        assert_eq!(
            parser.feed(&mut buf),
            Err(HttpError::TooManyHeaders { limit: 2 })
        );
        let mut parser = RequestParser::with_limits(64, 2);
        let mut buf = BytesMut::from(&b"GET /"[..]);
        buf.extend_from_slice(&[b'a'; 60]);
        assert_eq!(
            parser.feed(&mut buf),
            Err(HttpError::HeadTooLarge { limit: 64 })
        );
        let mut parser = RequestParser::with_limits(20, 2);
        let mut buf = BytesMut::from("GET /abcdefgh HTTP/1.1\r\n\r\n");
        assert_eq!(
            parser.feed(&mut buf),
            Err(HttpError::HeadTooLarge { limit: 20 })
        );
    }
}
