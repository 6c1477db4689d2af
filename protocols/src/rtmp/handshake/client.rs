//! The client side, plain: C0 C1 out, S0 S1 S2 in, C2 out.

use bytes::{Buf, BufMut, BytesMut};

use super::digest;
use super::{HANDSHAKE_SIZE, RTMP_VERSION};
use crate::rtmp::SessionError;

/// The client half of the plain handshake, which every server accepts.
///
/// [`start`](Self::start) writes C0 and C1 (time and version zero, so the
/// server answers plainly); [`feed`](Self::feed) reads S0, S1 and S2 and
/// writes C2, an echo of S1. S2 is read and not checked.
#[derive(Clone, Debug)]
pub struct ClientHandshake {
    done: bool,
}

impl ClientHandshake {
    /// Appends C0 and C1 to `out`.
    pub fn start(out: &mut BytesMut) -> ClientHandshake {
        let mut c1 = [0; HANDSHAKE_SIZE];
        digest::fill(b"arcly client", b"c1", &mut c1);
        c1[..8].fill(0);
        out.reserve(1 + HANDSHAKE_SIZE);
        out.put_u8(RTMP_VERSION);
        out.put_slice(&c1);
        ClientHandshake { done: false }
    }

    /// Whether S0 S1 S2 have been read and C2 written.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Reads S0 S1 S2 from the front of `buf` once all of them are there,
    /// and appends C2 to `out`. Returns `Ok(true)` when done; the bytes
    /// after S2 are the chunk stream.
    ///
    /// Refused: an S0 other than 3.
    pub fn feed(&mut self, buf: &mut BytesMut, out: &mut BytesMut) -> Result<bool, SessionError> {
        if self.done {
            return Ok(true);
        }
        let Some(&version) = buf.first() else {
            return Ok(false);
        };
        if version != RTMP_VERSION {
            return Err(SessionError::UnsupportedVersion { version });
        }
        if buf.len() < 1 + 2 * HANDSHAKE_SIZE {
            return Ok(false);
        }
        out.put_slice(&buf[1..1 + HANDSHAKE_SIZE]);
        buf.advance(1 + 2 * HANDSHAKE_SIZE);
        self.done = true;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtmp::handshake::ServerHandshake;

    #[test]
    fn completes_against_the_server() {
        let mut to_server = BytesMut::new();
        let mut client = ClientHandshake::start(&mut to_server);
        assert_eq!(to_server.len(), 1 + HANDSHAKE_SIZE);
        assert_eq!(&to_server[1..9], &[0; 8]);

        let mut server = ServerHandshake::new();
        let mut to_client = BytesMut::new();
        assert_eq!(server.feed(&mut to_server, &mut to_client), Ok(false));
        assert_eq!(server.info().unwrap().scheme, None);

        let s1 = to_client[1..1 + HANDSHAKE_SIZE].to_vec();
        assert_eq!(client.feed(&mut to_client, &mut to_server), Ok(true));
        assert!(client.is_done());
        assert_eq!(&to_server[..], &s1[..]);
        assert_eq!(server.feed(&mut to_server, &mut to_client), Ok(true));
    }

    #[test]
    fn refuses_another_version() {
        let mut out = BytesMut::new();
        let mut client = ClientHandshake::start(&mut out);
        let mut buf = BytesMut::from(&[6u8][..]);
        assert_eq!(
            client.feed(&mut buf, &mut out),
            Err(SessionError::UnsupportedVersion { version: 6 })
        );
    }
}
