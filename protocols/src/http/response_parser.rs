//! Response heads read by a client (the auth hooks' calls to an operator's
//! server): status line and header fields, nothing of the body.

use bytes::{Buf, BytesMut};

use super::{DEFAULT_MAX_HEAD_LEN, DEFAULT_MAX_HEADERS, Headers, Version};

/// Why a response head could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseHeadError {
    /// No complete head within the parser's limit.
    #[error("response head is over the limit of {limit} bytes")]
    TooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// More header fields than the parser's limit.
    #[error("response has more than the limit of {limit} header fields")]
    TooManyHeaders {
        /// The limit in force.
        limit: usize,
    },
    /// The head is not HTTP/1.x syntax; says what is wrong.
    #[error("malformed response head: {0}")]
    Malformed(String),
}

/// A parsed response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedResponseHead {
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The three-digit status code.
    pub status: u16,
    /// The reason phrase, as sent (informational only).
    pub reason: String,
    /// The header fields, in order; values trimmed, bytes that are not
    /// UTF-8 replaced with U+FFFD.
    pub headers: Headers,
}

impl ParsedResponseHead {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Reads the final response head at the front of a buffer.
///
/// [`feed`](Self::feed) returns `Ok(None)` until a whole head has arrived,
/// then consumes exactly its bytes (the body, if any, stays in the
/// buffer). Interim `1xx` heads are consumed and skipped. A buffer that
/// passes the head-size limit without a complete head is refused.
#[derive(Clone, Debug)]
pub struct ResponseParser {
    max_head_len: usize,
    max_headers: usize,
}

impl Default for ResponseParser {
    fn default() -> Self {
        ResponseParser::new()
    }
}

impl ResponseParser {
    /// A parser with [`DEFAULT_MAX_HEAD_LEN`] and [`DEFAULT_MAX_HEADERS`].
    pub fn new() -> Self {
        ResponseParser::with_limits(DEFAULT_MAX_HEAD_LEN, DEFAULT_MAX_HEADERS)
    }

    /// A parser with the given limits on head length and field count.
    pub fn with_limits(max_head_len: usize, max_headers: usize) -> Self {
        ResponseParser {
            max_head_len,
            max_headers,
        }
    }

    /// Parses the next final response head at the front of `buf`.
    pub fn feed(
        &mut self,
        buf: &mut BytesMut,
    ) -> Result<Option<ParsedResponseHead>, ResponseHeadError> {
        loop {
            let mut fields = vec![httparse::EMPTY_HEADER; self.max_headers];
            let mut response = httparse::Response::new(&mut fields);
            let len = match response.parse(buf) {
                Ok(httparse::Status::Complete(len)) => len,
                Ok(httparse::Status::Partial) if buf.len() > self.max_head_len => {
                    return Err(ResponseHeadError::TooLarge {
                        limit: self.max_head_len,
                    });
                }
                Ok(httparse::Status::Partial) => return Ok(None),
                Err(httparse::Error::TooManyHeaders) => {
                    return Err(ResponseHeadError::TooManyHeaders {
                        limit: self.max_headers,
                    });
                }
                Err(error) => {
                    return Err(ResponseHeadError::Malformed(error.to_string()));
                }
            };
            if len > self.max_head_len {
                return Err(ResponseHeadError::TooLarge {
                    limit: self.max_head_len,
                });
            }
            let (Some(version), Some(status)) = (response.version, response.code) else {
                return Err(ResponseHeadError::Malformed(
                    "incomplete status line".into(),
                ));
            };
            let version = match version {
                0 => Version::Http10,
                _ => Version::Http11,
            };
            if !(100..=999).contains(&status) {
                return Err(ResponseHeadError::Malformed(format!(
                    "status {status} is not three digits"
                )));
            }
            let head = ParsedResponseHead {
                version,
                status,
                reason: response.reason.unwrap_or("").to_owned(),
                headers: Headers::new(
                    response
                        .headers
                        .iter()
                        .map(|h| {
                            let value = String::from_utf8_lossy(h.value).trim().to_owned();
                            (h.name.to_owned(), value)
                        })
                        .collect(),
                ),
            };
            buf.advance(len);
            if (100..200).contains(&status) {
                continue;
            }
            return Ok(Some(head));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(text: &[u8]) -> Result<Option<ParsedResponseHead>, ResponseHeadError> {
        ResponseParser::new().feed(&mut BytesMut::from(text))
    }

    #[test]
    fn reads_a_head_and_leaves_the_body() {
        let mut buf =
            BytesMut::from(&b"HTTP/1.1 204 No Content\r\nServer: hook\r\nX-A:  1 \r\n\r\nbody"[..]);
        let head = ResponseParser::new().feed(&mut buf).unwrap().unwrap();
        assert_eq!(head.version, Version::Http11);
        assert_eq!(head.status, 204);
        assert_eq!(head.reason, "No Content");
        assert!(head.is_success());
        assert_eq!(head.headers.get("x-a"), Some("1"));
        assert_eq!(&buf[..], b"body");
    }

    #[test]
    fn waits_for_the_whole_head_byte_by_byte() {
        let text = b"HTTP/1.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
        let mut parser = ResponseParser::new();
        let mut buf = BytesMut::new();
        for (i, byte) in text.iter().enumerate() {
            buf.extend_from_slice(&[*byte]);
            let got = parser.feed(&mut buf).unwrap();
            if i + 1 < text.len() {
                assert_eq!(got, None, "complete after {} bytes", i + 1);
            } else {
                let head = got.unwrap();
                assert_eq!((head.version, head.status), (Version::Http10, 403));
                assert!(!head.is_success());
            }
        }
        assert!(buf.is_empty());
    }

    #[test]
    fn skips_interim_heads() {
        let head = feed_all(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(
            feed_all(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2").unwrap(),
            None
        );
    }

    #[test]
    fn refuses_what_is_not_a_response() {
        for text in [
            &b"GET / HTTP/1.1\r\n\r\n"[..],
            b"HTTP/2 200 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 OK\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        ] {
            assert!(
                matches!(feed_all(text), Err(ResponseHeadError::Malformed(_))),
                "{:?}: {:?}",
                String::from_utf8_lossy(text),
                feed_all(text)
            );
        }
    }

    #[test]
    fn bounds_the_head() {
        let mut parser = ResponseParser::with_limits(64, 2);
        let mut long = BytesMut::from(&b"HTTP/1.1 200 OK\r\nX: "[..]);
        long.extend_from_slice(&[b'a'; 80]);
        assert_eq!(
            parser.feed(&mut long),
            Err(ResponseHeadError::TooLarge { limit: 64 })
        );
        let mut many = BytesMut::from(&b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"[..]);
        assert_eq!(
            parser.feed(&mut many),
            Err(ResponseHeadError::TooManyHeaders { limit: 2 })
        );
    }
}
