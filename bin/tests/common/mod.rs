//! Helpers shared by the RTMP interop tests: start a real `arcly` with two
//! shards, drive ffmpeg, ffprobe and PyAV against it, read its per-shard
//! counters over HTTP, and speak just enough RTMP by hand (plain handshake,
//! chunks, AMF0) to send hostile input and to read exact status codes.
//!
//! Nothing here uses the workspace crates: the client side is written from
//! the RTMP and AMF0 specifications so the server is not checked against
//! its own code.
//!
//! Every helper is re-exported here, so tests name it `common::NAME`
//! whichever file it lives in.
#![allow(dead_code)] // each test binary uses a different subset

mod amf;
pub(crate) mod browser;
mod ffmpeg;
mod handshake;
mod hls;
mod http;
mod isolation;
mod media;
mod process;
mod raw_rtmp;
mod rng;
mod server;
mod temp_dir;
mod tools;

// Each test binary uses a different subset; the rest would warn.
#[allow(unused_imports)]
pub(crate) use self::{
    amf::Amf,
    ffmpeg::{Player, ffmpeg_publish},
    handshake::{HANDSHAKE_SIZE, c0c1, plain_handshake, tcp_connect},
    hls::{MediaPlaylist, get_file, get_playlist, wait_segments},
    http::{http_get, http_get_bytes},
    isolation::{
        BadInput, Healthy, assert_bad_connection_isolated, assert_still_accepting, wait_closed,
    },
    media::{Clip, Packet, video_packets},
    process::{Background, Finished, run, tail},
    raw_rtmp::{Attempt, RawRtmp, Reply, RtmpMessage, chunk_header_type0},
    rng::Rng,
    server::Arcly,
    temp_dir::TempDir,
    tools::{INSTALL_FFMPEG, INSTALL_PYAV, interop_script, python, require_ffmpeg, require_pyav},
};
