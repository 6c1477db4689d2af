//! The RTMP handshake, both halves, fed the input's stream in the input's
//! reads ([`Splits`]).
//!
//! The stream is what a client sends the server (C0 C1 C2, then chunks) and
//! also what a server sends the client (S0 S1 S2, then chunks). Checked:
//! a version byte other than 3 is the only refusal; each half consumes
//! exactly its handshake and leaves the rest; the server answers S0 S1 S2
//! as soon as C1 is in, echoing C1 in a plain handshake; the client echoes
//! S1 as C2; and neither answer depends on how the bytes were split.
#![no_main]

use arcly_fuzz::Splits;
use arcly_protocols::rtmp::SessionError;
use arcly_protocols::rtmp::handshake::{
    ClientHandshake, HANDSHAKE_SIZE, RTMP_VERSION, ServerHandshake,
};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

/// C0 and C1, or S0 and S1.
const HELLO: usize = 1 + HANDSHAKE_SIZE;

/// The whole handshake of one side: C0 C1 C2, or S0 S1 S2.
const WHOLE: usize = 1 + 2 * HANDSHAKE_SIZE;

/// What one half of the handshake did with a stream.
#[derive(Debug)]
struct Run {
    result: Result<bool, SessionError>,
    /// What it wrote.
    out: BytesMut,
    /// What it left of the input.
    left: BytesMut,
}

/// Feeds the reads one by one, as a driver does after every socket read,
/// stopping at the first error.
fn run<'a>(
    reads: impl IntoIterator<Item = &'a [u8]>,
    mut out: BytesMut,
    mut feed: impl FnMut(&mut BytesMut, &mut BytesMut) -> Result<bool, SessionError>,
) -> Run {
    let mut left = BytesMut::new();
    let mut result = Ok(false);
    for read in reads {
        left.extend_from_slice(read);
        result = feed(&mut left, &mut out);
        if result.is_err() {
            break;
        }
    }
    Run { result, out, left }
}

/// The result every half must reach on `stream` once all of it is in.
fn expected(stream: &[u8]) -> Result<bool, SessionError> {
    match stream.first() {
        Some(&version) if version != RTMP_VERSION => {
            Err(SessionError::UnsupportedVersion { version })
        }
        _ => Ok(stream.len() >= WHOLE),
    }
}

fn server(splits: &Splits<'_>) {
    let stream = splits.stream();
    let mut handshake = ServerHandshake::new();
    let split = run(splits.clone(), BytesMut::new(), |input, out| {
        handshake.feed(input, out)
    });
    assert_eq!(split.result, expected(stream), "server result");
    assert_eq!(handshake.is_done(), split.result == Ok(true));
    if split.result.is_ok() && stream.len() >= HELLO {
        assert_eq!(split.out.len(), WHOLE, "S0 S1 S2 once C1 is in");
        assert_eq!(split.out[0], RTMP_VERSION);
        let info = handshake.info().expect("C1 was read");
        if info.scheme.is_none() {
            assert_eq!(&split.out[HELLO..], &stream[1..HELLO], "S2 echoes C1");
        }
        let consumed = if stream.len() >= WHOLE { WHOLE } else { HELLO };
        assert_eq!(&split.left[..], &stream[consumed..], "consumed its part");
    } else {
        assert!(split.out.is_empty(), "nothing sent before C1");
        assert!(handshake.info().is_none());
    }

    let mut whole_handshake = ServerHandshake::new();
    let whole = run([stream], BytesMut::new(), |input, out| {
        whole_handshake.feed(input, out)
    });
    // A refused stream is not read past the read that was refused.
    assert_eq!(
        split.result, whole.result,
        "server result depends on the reads"
    );
    assert_eq!(split.out, whole.out, "server answer depends on the reads");
    if split.result.is_ok() {
        assert_eq!(split.left, whole.left);
    }
    assert_eq!(handshake.info(), whole_handshake.info());
}

fn client(splits: &Splits<'_>) {
    let stream = splits.stream();
    let mut c0c1 = BytesMut::new();
    let mut handshake = ClientHandshake::start(&mut c0c1);
    assert_eq!(c0c1.len(), HELLO);
    let split = run(splits.clone(), BytesMut::new(), |input, out| {
        handshake.feed(input, out)
    });
    assert_eq!(split.result, expected(stream), "client result");
    assert_eq!(handshake.is_done(), split.result == Ok(true));
    if split.result == Ok(true) {
        assert_eq!(&split.out[..], &stream[1..HELLO], "C2 echoes S1");
        assert_eq!(&split.left[..], &stream[WHOLE..], "consumed its part");
    } else {
        assert!(split.out.is_empty(), "C2 only after S2");
    }
}

fuzz_target!(|data: &[u8]| {
    let splits = Splits::new(data);
    server(&splits);
    client(&splits);
});
