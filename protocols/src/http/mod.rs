//! HTTP/1.1 for HTTP-FLV, HLS and the API, sans-IO.
//!
//! - [`RequestParser::feed`] reads one request head from the front of the
//!   connection's buffer, consuming exactly its bytes so pipelined requests
//!   stay queued behind it. Requests with a body are refused for now.
//! - [`ResponseHead`] writes a status line and headers with the body framing
//!   chosen by [`BodyFraming`]: a length, chunked, or until close.
//! - [`ResponseParser::feed`] reads a response head, for arcly as a client
//!   (the auth hooks).
//! - [`encode_chunk`] and [`encode_last_chunk`] write a chunked body.
//! - [`percent_decode`] undoes URL escapes in paths and query strings.
//! - [`RangeRequest`] reads a single-range `Range` header for a segment.

mod chunked;
mod error;
mod headers;
mod percent;
mod range;
mod request;
mod response;
mod response_parser;

pub use chunked::{LAST_CHUNK, encode_chunk, encode_chunk_prefix, encode_last_chunk};
pub use error::HttpError;
pub use headers::Headers;
pub use percent::percent_decode;
pub use range::RangeRequest;
pub use request::{
    DEFAULT_MAX_HEAD_LEN, DEFAULT_MAX_HEADERS, Method, RequestHead, RequestParser, Version,
};
pub use response::{BodyFraming, ResponseHead, reason_phrase};
pub use response_parser::{ParsedResponseHead, ResponseHeadError, ResponseParser};
