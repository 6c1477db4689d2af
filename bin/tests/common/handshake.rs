//! Opening a raw TCP connection and the client side of the plain RTMP
//! handshake (C0+C1, S0+S1+S2, C2), written from the specification.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::rng::Rng;

/// RTMP handshake packet size (C1, C2, S1, S2).
pub(crate) const HANDSHAKE_SIZE: usize = 1536;

/// Opens a TCP connection with 5 s read and write timeouts.
pub(crate) fn tcp_connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// C0 (version 3) + C1 (time 0, zero version field, filler): the plain
/// handshake, which a server must take since C1 carries no digest.
pub(crate) fn c0c1() -> Vec<u8> {
    let mut out = vec![3u8];
    out.extend_from_slice(&[0; 8]);
    out.extend(Rng::new(0x00c1_c1c1).bytes(HANDSHAKE_SIZE - 8));
    out
}

/// The client side of the plain handshake: sends C0+C1, reads S0+S1+S2,
/// sends C2 (an echo of S1).
pub(crate) fn plain_handshake(s: &mut TcpStream) -> io::Result<()> {
    s.write_all(&c0c1())?;
    let mut s0s1s2 = vec![0u8; 1 + 2 * HANDSHAKE_SIZE];
    s.read_exact(&mut s0s1s2)?;
    if s0s1s2[0] != 3 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("S0 is {}, not 3", s0s1s2[0]),
        ));
    }
    s.write_all(&s0s1s2[1..1 + HANDSHAKE_SIZE])
}
