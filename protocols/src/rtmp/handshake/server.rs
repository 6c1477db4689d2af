//! The server side: C0 C1 in, S0 S1 S2 out, C2 in.

use bytes::{Buf, BufMut, BytesMut};
use sha2::{Digest, Sha256};

use super::digest::{
    self, DIGEST_LEN, DigestScheme, PLAYER_KEY, PLAYER_KEY_TEXT, Packet, SERVER_KEY,
    SERVER_KEY_TEXT,
};
use super::{HANDSHAKE_SIZE, RTMP_VERSION};
use crate::rtmp::SessionError;

/// The version S1 announces in the digest handshake: FMS 4.5.0.1. Clients
/// check S1's digest only when its first byte is 3 or more.
const SERVER_VERSION: [u8; 4] = [4, 5, 0, 1];

/// What the handshake learned about the client, for logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HandshakeInfo {
    /// The version in C1 bytes 4..8 (zero for a plain client).
    pub client_version: [u8; 4],
    /// The digest scheme of C1, or `None` for the plain handshake.
    pub scheme: Option<DigestScheme>,
    /// In the digest handshake, whether C2 carried the signature over S1's
    /// digest: players that check the server do, publishers mostly echo S1.
    pub c2_signed: bool,
}

#[derive(Clone, Debug)]
enum State {
    /// Waiting for C0 and C1.
    C0C1,
    /// S0 S1 S2 sent; waiting for C2.
    C2 {
        /// S1's digest, to check C2's signature against.
        s1_digest: Option<[u8; DIGEST_LEN]>,
    },
    /// C2 read.
    Done,
}

/// The server half of the handshake.
///
/// [`feed`](Self::feed) consumes C0, C1 and C2 from the front of the buffer
/// as they arrive and writes S0, S1 and S2 as soon as C1 is complete
/// (without waiting for C2, as clients expect). C0 is checked as soon as
/// its byte arrives, so a peer that is not speaking RTMP is refused at once.
///
/// A C1 with a valid digest (either scheme) gets a digest S1 in the same
/// scheme and an S2 signed from C1's digest; any other C1 gets the plain
/// handshake: S2 echoes C1. C2 is read and never refused: clients differ
/// too much in what they put there.
#[derive(Clone, Debug)]
pub struct ServerHandshake {
    state: State,
    info: Option<HandshakeInfo>,
}

impl Default for ServerHandshake {
    fn default() -> Self {
        ServerHandshake::new()
    }
}

impl ServerHandshake {
    /// A handshake waiting for C0.
    pub fn new() -> Self {
        ServerHandshake {
            state: State::C0C1,
            info: None,
        }
    }

    /// What was learned about the client, once C1 has been read.
    pub fn info(&self) -> Option<HandshakeInfo> {
        self.info
    }

    /// Whether C2 has been read.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Reads what it can from the front of `buf`, appending S0 S1 S2 to
    /// `out` once C1 is in. Returns `Ok(true)` once C2 has been consumed;
    /// the bytes after it are the chunk stream.
    ///
    /// Refused: a C0 other than 3.
    pub fn feed(&mut self, buf: &mut BytesMut, out: &mut BytesMut) -> Result<bool, SessionError> {
        loop {
            match &self.state {
                State::C0C1 => {
                    let Some(&version) = buf.first() else {
                        return Ok(false);
                    };
                    if version != RTMP_VERSION {
                        return Err(SessionError::UnsupportedVersion { version });
                    }
                    let Some(c1) = buf
                        .get(1..)
                        .and_then(|rest| rest.first_chunk::<HANDSHAKE_SIZE>())
                    else {
                        return Ok(false);
                    };
                    let c1 = *c1;
                    buf.advance(1 + HANDSHAKE_SIZE);
                    let s1_digest = self.answer(&c1, out);
                    self.state = State::C2 { s1_digest };
                }
                State::C2 { s1_digest } => {
                    let Some(c2) = buf.first_chunk::<HANDSHAKE_SIZE>() else {
                        return Ok(false);
                    };
                    if let (Some(s1_digest), Some(info)) = (s1_digest, self.info.as_mut()) {
                        let signature = digest::response_signature(c2, PLAYER_KEY, s1_digest);
                        info.c2_signed = c2[HANDSHAKE_SIZE - DIGEST_LEN..] == signature;
                    }
                    buf.advance(HANDSHAKE_SIZE);
                    self.state = State::Done;
                }
                State::Done => return Ok(true),
            }
        }
    }

    /// Writes S0 S1 S2 for `c1`; returns S1's digest in the digest form.
    fn answer(&mut self, c1: &Packet, out: &mut BytesMut) -> Option<[u8; DIGEST_LEN]> {
        let client_version = [c1[4], c1[5], c1[6], c1[7]];
        let found = if client_version == [0; 4] {
            None
        } else {
            digest::find_digest(c1, &PLAYER_KEY[..PLAYER_KEY_TEXT])
        };
        self.info = Some(HandshakeInfo {
            client_version,
            scheme: found.map(|(scheme, _)| scheme),
            c2_signed: false,
        });
        let seed = Sha256::digest(c1);
        let mut s1 = [0; HANDSHAKE_SIZE];
        digest::fill(&seed, b"s1", &mut s1);
        // Time zero: the server's epoch starts now.
        s1[..4].fill(0);
        out.reserve(1 + 2 * HANDSHAKE_SIZE);
        out.put_u8(RTMP_VERSION);
        let Some((scheme, c1_offset)) = found else {
            s1[4..8].fill(0);
            out.put_slice(&s1);
            out.put_slice(c1);
            return None;
        };
        s1[4..8].copy_from_slice(&SERVER_VERSION);
        let s1_offset = digest::imprint(&mut s1, scheme, &SERVER_KEY[..SERVER_KEY_TEXT]);
        let mut s2 = [0; HANDSHAKE_SIZE];
        digest::fill(&seed, b"s2", &mut s2);
        let c1_digest = &c1[c1_offset..c1_offset + DIGEST_LEN];
        let signature = digest::response_signature(&s2, SERVER_KEY, c1_digest);
        s2[HANDSHAKE_SIZE - DIGEST_LEN..].copy_from_slice(&signature);
        out.put_slice(&s1);
        out.put_slice(&s2);
        s1[s1_offset..s1_offset + DIGEST_LEN].try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A C1 as ffmpeg and Flash Player 10 build it: version 9.0.124.2 and a
    /// scheme 1 digest.
    fn digest_c1(scheme: DigestScheme) -> Packet {
        let mut c1 = [0; HANDSHAKE_SIZE];
        digest::fill(b"client", b"c1", &mut c1);
        c1[..4].fill(0);
        c1[4..8].copy_from_slice(&[9, 0, 124, 2]);
        digest::imprint(&mut c1, scheme, &PLAYER_KEY[..PLAYER_KEY_TEXT]);
        c1
    }

    fn run(c0c1: &[u8]) -> (ServerHandshake, BytesMut) {
        let mut handshake = ServerHandshake::new();
        let mut buf = BytesMut::from(c0c1);
        let mut out = BytesMut::new();
        assert_eq!(handshake.feed(&mut buf, &mut out), Ok(false));
        assert!(buf.is_empty());
        (handshake, out)
    }

    #[test]
    fn echoes_a_plain_c1() {
        let mut c0c1 = vec![3];
        c0c1.extend((0..HANDSHAKE_SIZE).map(|i| (i % 251) as u8));
        c0c1[1..9].fill(0);
        let (mut handshake, out) = run(&c0c1);
        assert_eq!(out.len(), 1 + 2 * HANDSHAKE_SIZE);
        assert_eq!(out[0], 3);
        assert_eq!(&out[1..9], &[0; 8]);
        assert_eq!(&out[1 + HANDSHAKE_SIZE..], &c0c1[1..]);
        assert_eq!(handshake.info().unwrap().scheme, None);

        let mut c2 = BytesMut::from(&out[1..1 + HANDSHAKE_SIZE]);
        c2.extend_from_slice(b"\x03after");
        assert_eq!(handshake.feed(&mut c2, &mut BytesMut::new()), Ok(true));
        assert_eq!(&c2[..], b"\x03after");
        assert!(handshake.is_done());
    }

    #[test]
    fn answers_a_digest_c1_in_its_scheme() {
        for scheme in [DigestScheme::Scheme0, DigestScheme::Scheme1] {
            let c1 = digest_c1(scheme);
            let mut c0c1 = vec![3];
            c0c1.extend_from_slice(&c1);
            let (_, out) = run(&c0c1);
            let s1: &Packet = out[1..1 + HANDSHAKE_SIZE].try_into().unwrap();
            let s2: &Packet = out[1 + HANDSHAKE_SIZE..].try_into().unwrap();
            assert_eq!(&s1[4..8], &SERVER_VERSION);
            // What ffmpeg checks when it plays: S1's digest under the
            // server key's text ...
            let (found, _) = digest::find_digest(s1, &SERVER_KEY[..SERVER_KEY_TEXT]).unwrap();
            assert_eq!(found, scheme);
            // ... and S2's signature, keyed from C1's digest.
            let offset = scheme.digest_offset(&c1);
            let signature = digest::response_signature(s2, SERVER_KEY, &c1[offset..offset + 32]);
            assert_eq!(&s2[HANDSHAKE_SIZE - 32..], &signature);
        }
    }

    #[test]
    fn notices_a_signed_c2() {
        let mut c0c1 = vec![3];
        c0c1.extend_from_slice(&digest_c1(DigestScheme::Scheme1));
        let (mut handshake, out) = run(&c0c1);
        let s1: &Packet = out[1..1 + HANDSHAKE_SIZE].try_into().unwrap();
        let offset = DigestScheme::Scheme1.digest_offset(s1);
        let mut c2 = [7; HANDSHAKE_SIZE];
        let signature = digest::response_signature(&c2, PLAYER_KEY, &s1[offset..offset + 32]);
        c2[HANDSHAKE_SIZE - 32..].copy_from_slice(&signature);
        let mut buf = BytesMut::from(&c2[..]);
        assert_eq!(handshake.feed(&mut buf, &mut BytesMut::new()), Ok(true));
        assert!(handshake.info().unwrap().c2_signed);
    }

    #[test]
    fn falls_back_to_plain_for_a_bad_digest() {
        let mut c0c1 = vec![3];
        c0c1.extend_from_slice(&digest_c1(DigestScheme::Scheme1));
        c0c1[100] ^= 0xff;
        let (handshake, out) = run(&c0c1);
        assert_eq!(handshake.info().unwrap().scheme, None);
        assert_eq!(&out[1 + HANDSHAKE_SIZE..], &c0c1[1..]);
    }

    #[test]
    fn refuses_other_versions_at_the_first_byte() {
        for version in [0, 6, 0x16, b'G'] {
            let mut handshake = ServerHandshake::new();
            let mut buf = BytesMut::from(&[version][..]);
            assert_eq!(
                handshake.feed(&mut buf, &mut BytesMut::new()),
                Err(SessionError::UnsupportedVersion { version })
            );
        }
    }

    #[test]
    fn answers_byte_by_byte() {
        let mut c0c1 = vec![3];
        c0c1.extend_from_slice(&digest_c1(DigestScheme::Scheme0));
        let (_, whole) = run(&c0c1);
        let mut handshake = ServerHandshake::new();
        let mut buf = BytesMut::new();
        let mut out = BytesMut::new();
        for byte in &c0c1 {
            buf.put_u8(*byte);
            assert_eq!(handshake.feed(&mut buf, &mut out), Ok(false));
        }
        assert_eq!(out, whole);
    }
}
