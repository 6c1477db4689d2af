//! Why an HTTP request was refused, and with which status.

/// An error reading a request head or building a response head.
///
/// [`status`](Self::status) gives the response a server should send before
/// closing the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The head is longer than the parser's limit.
    #[error("request head is over the limit of {limit} bytes")]
    HeadTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// More header fields than the parser's limit.
    #[error("request has more than the limit of {limit} header fields")]
    TooManyHeaders {
        /// The limit in force.
        limit: usize,
    },
    /// The head is not HTTP/1.x syntax.
    #[error("malformed request head: {0}")]
    Malformed(&'static str),
    /// An HTTP version other than 1.0 and 1.1.
    #[error("unsupported http version")]
    UnsupportedVersion,
    /// A method arcly does not implement.
    #[error("unsupported method {0:?}")]
    UnsupportedMethod(String),
    /// The request target is neither an absolute path, an absolute URL nor
    /// `*`.
    #[error("request target is not a path")]
    BadTarget,
    /// A `%` not followed by two hex digits.
    #[error("bad percent-encoding at byte {offset} of the {what}")]
    BadPercentEncoding {
        /// `"path"` or `"query"`.
        what: &'static str,
        /// Offset of the `%`.
        offset: usize,
    },
    /// Percent-decoding produced bytes that are not UTF-8.
    #[error("percent-decoded {0} is not utf-8")]
    NotUtf8(&'static str),
    /// An HTTP/1.1 request without a `Host` header (RFC 9112 3.2).
    #[error("http/1.1 request without a host header")]
    MissingHost,
    /// `Content-Length` that is not a number, or several that disagree.
    #[error("invalid content-length")]
    BadContentLength,
    /// Both `Content-Length` and `Transfer-Encoding`, a request-smuggling
    /// shape (RFC 9112 6.1).
    #[error("request has both content-length and transfer-encoding")]
    ConflictingFraming,
    /// A request with a body: not accepted yet.
    #[error("request bodies are not accepted (content-length {0})")]
    BodyNotAccepted(u64),
    /// A request with `Transfer-Encoding`: bodies are not accepted yet.
    #[error("request bodies are not accepted (transfer-encoding)")]
    TransferEncodingNotAccepted,
    /// A response header name that is not a token, or a value with CR, LF
    /// or NUL, or one of the framing headers [`ResponseHead`] writes itself.
    ///
    /// [`ResponseHead`]: super::ResponseHead
    #[error("invalid response header {0:?}")]
    InvalidResponseHeader(String),
}

impl HttpError {
    /// The status to answer with: 400, 413, 431, 501 or 505 for request
    /// errors; 500 for a response the server itself built wrong.
    pub fn status(&self) -> u16 {
        match self {
            HttpError::HeadTooLarge { .. } | HttpError::TooManyHeaders { .. } => 431,
            HttpError::Malformed(_)
            | HttpError::BadTarget
            | HttpError::BadPercentEncoding { .. }
            | HttpError::NotUtf8(_)
            | HttpError::MissingHost
            | HttpError::BadContentLength
            | HttpError::ConflictingFraming => 400,
            HttpError::BodyNotAccepted(_) | HttpError::TransferEncodingNotAccepted => 413,
            HttpError::UnsupportedMethod(_) => 501,
            HttpError::UnsupportedVersion => 505,
            HttpError::InvalidResponseHeader(_) => 500,
        }
    }
}
