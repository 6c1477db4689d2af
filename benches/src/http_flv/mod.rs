//! HTTP-FLV players: `GET /APP/STREAM.flv`, then the FLV tags of the
//! response body, parsed incrementally and only as far as a player
//! measures — the response head's status and framing ([`response`]), the
//! chunked framing stripped in place ([`body`]), and of each tag its header
//! and the head of its body ([`tags`]). [`parser::HttpFlvParser`] stacks the
//! three;
//! [`HttpFlvClient`] drives it over a harness connection.

mod body;
mod client;
mod parser;
mod response;
mod tags;

pub(crate) use body::BodyReader;
pub(crate) use client::HttpFlvClient;
pub(crate) use response::HeadReader;
