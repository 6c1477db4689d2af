//! The RTMP handshake: C0 C1 C2 from the client, S0 S1 S2 from the server,
//! before the first chunk.
//!
//! C0 and S0 are one byte, the protocol version (3). C1, S1, C2 and S2 are
//! [`HANDSHAKE_SIZE`] bytes each. In the plain handshake of the
//! specification S2 echoes C1 and C2 echoes S1. Flash Player 9 and later,
//! ffmpeg and librtmp put a version in bytes 4..8 of C1 and an HMAC-SHA256
//! digest somewhere in it (the "complex" handshake); such clients, when
//! they play, check that S1 carries a digest made with the Flash Media
//! Server key and that S2 is signed with a key derived from C1's digest.
//! [`ServerHandshake`] answers each client in the form it spoke;
//! [`ClientHandshake`] speaks the plain form, which every server accepts.

mod client;
mod digest;
mod server;

pub use client::ClientHandshake;
pub use digest::DigestScheme;
pub use server::{HandshakeInfo, ServerHandshake};

/// The protocol version in C0 and S0.
pub const RTMP_VERSION: u8 = 3;

/// The length of C1, C2, S1 and S2.
pub const HANDSHAKE_SIZE: usize = 1536;
