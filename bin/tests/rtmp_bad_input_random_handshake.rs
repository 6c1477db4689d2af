//! Random bytes instead of C0/C1 close that one connection at once, with a
//! logged reason and a `protocol_errors` count; a publisher and a player on
//! the same server carry on, and the server still takes new connections.

mod common;

use common::{BadInput, HANDSHAKE_SIZE, Rng, tcp_connect};

#[test]
fn random_bytes_instead_of_a_handshake_close_only_that_connection() {
    let bad = BadInput::start();

    let mut conn = tcp_connect(bad.server.rtmp);
    let mut garbage = Rng::new(0x0bad_5eed).bytes(1 + 2 * HANDSHAKE_SIZE);
    garbage[0] = 0xfa; // not version 3 (nor 6, the encrypted variant)
    // The server may close before it has read everything: a failed write
    // is expected then.
    bad.send_and_expect_close(&mut conn, &garbage);
}
