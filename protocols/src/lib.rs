//! The wire protocols of arcly, sans-IO.
//!
//! Every protocol here is a parser, an encoder or a state machine that takes
//! bytes (and, where a protocol has timers, the current time) and returns
//! values, bytes to send and deadlines. [`amf0`] is the value encoding of
//! RTMP commands and metadata; [`http`] reads HTTP/1.1 request heads and
//! writes response heads and chunked bodies for HTTP-FLV, HLS and the API;
//! [`rtmp`] is the handshake, chunk stream, messages and the server and
//! client sessions of RTMP and Enhanced RTMP, with the egress encoding that
//! a shard builds once per frame for all its players.
//!
//! This crate never does I/O: it opens no sockets, reads no clock, spawns
//! no tasks and depends on no async runtime, so every protocol is tested by
//! feeding it bytes. Parsers never panic on any input, and every length read
//! from the wire is checked against a limit before anything is allocated;
//! malformed input is an error naming the byte offset or the limit.
#![forbid(unsafe_code)]

pub mod amf0;
pub mod http;
pub mod rtmp;
