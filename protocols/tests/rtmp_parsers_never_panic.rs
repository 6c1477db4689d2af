//! Property tests over the RTMP sessions: no input panics them, and how
//! the input is split into reads never changes what comes out.

mod rtmp_support;

use std::time::Instant;

use arcly_protocols::rtmp::chunk::ChunkDecoder;
use arcly_protocols::rtmp::handshake::{HANDSHAKE_SIZE, ServerHandshake};
use arcly_protocols::rtmp::{
    ClientConfig, ClientRole, ClientSession, Output, RtmpLimits, ServerConfig, ServerSession,
    SessionEvent,
};
use bytes::BytesMut;
use proptest::prelude::*;
use rtmp_support::{Decisions, drain_and_decide, replay};

const PUBLISH: &[u8] = include_bytes!("data/ffmpeg_publish_h264_aac.bin");
const PLAY: &[u8] = include_bytes!("data/ffmpeg_play.bin");

/// Feeds `input` split at `cuts` (piece sizes, cycled), accepting every
/// request; returns the events and whether an error closed the session.
fn feed_split(input: &[u8], cuts: &[usize]) -> (Vec<SessionEvent>, bool) {
    let now = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), now);
    let mut events = Vec::new();
    let mut at = 0;
    for piece in cuts.iter().cycle() {
        if at >= input.len() {
            break;
        }
        let end = (at + piece).min(input.len());
        let failed = server.handle_input(&input[at..end], now).is_err();
        events.extend(drain_and_decide(&mut server, Decisions::AcceptAll));
        if failed {
            return (events, true);
        }
        at = end;
    }
    (events, false)
}

/// A plain C0 C1 C2, so what follows reaches the chunk stream.
fn plain_hello() -> Vec<u8> {
    let mut hello = vec![3];
    hello.extend_from_slice(&[0; 2 * HANDSHAKE_SIZE]);
    hello
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn splitting_the_publish_never_changes_the_events(
        cuts in proptest::collection::vec(1usize..3000, 1..40),
    ) {
        let (whole, error) = replay(PUBLISH, PUBLISH.len());
        prop_assert!(error.is_none());
        let (split, failed) = feed_split(PUBLISH, &cuts);
        prop_assert!(!failed);
        prop_assert_eq!(split, whole);
    }

    #[test]
    fn splitting_the_play_never_changes_the_events(
        cuts in proptest::collection::vec(1usize..600, 1..20),
    ) {
        let (whole, _) = replay(PLAY, PLAY.len());
        prop_assert_eq!(feed_split(PLAY, &cuts).0, whole);
    }

    #[test]
    fn server_never_panics_on_random_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        cuts in proptest::collection::vec(1usize..512, 1..8),
        after_handshake in any::<bool>(),
    ) {
        let mut input = if after_handshake { plain_hello() } else { Vec::new() };
        input.extend_from_slice(&bytes);
        let _ = feed_split(&input, &cuts);
    }

    #[test]
    fn server_never_panics_on_a_damaged_publish(
        edits in proptest::collection::vec((3073..PUBLISH.len(), any::<u8>()), 1..12),
        cut in 3073..=PUBLISH.len(),
        piece in 1usize..2000,
    ) {
        let mut input = PUBLISH.to_vec();
        for (at, byte) in edits {
            input[at] = byte;
        }
        input.truncate(cut);
        let (events, failed) = feed_split(&input, &[piece]);
        if failed {
            let closed = matches!(events.last(), Some(SessionEvent::Closed { .. }));
            prop_assert!(closed);
        }
    }

    #[test]
    fn server_never_panics_on_its_timers(
        steps in proptest::collection::vec((0u64..40_000, proptest::option::of(1usize..200)), 1..20),
    ) {
        let start = Instant::now();
        let mut now = start;
        let mut server = ServerSession::new(ServerConfig::default(), start);
        let mut at = 0;
        for (millis, read) in steps {
            now += std::time::Duration::from_millis(millis);
            let _ = server.handle_timeout(now);
            if let Some(len) = read {
                let end = (at + len).min(PLAY.len());
                let _ = server.handle_input(&PLAY[at..end], now);
                at = end;
            }
            drain_and_decide(&mut server, Decisions::AcceptAll);
            // Once the timers have run, the next deadline is in the future:
            // a driver never spins on it.
            let Output::Timeout(deadline) = server.poll_output() else {
                panic!("drained");
            };
            prop_assert!(server.is_closed() || deadline > now);
        }
    }

    #[test]
    fn client_never_panics_on_random_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        piece in 1usize..700,
        role in prop_oneof![Just(ClientRole::Publish), Just(ClientRole::Play)],
    ) {
        let now = Instant::now();
        let config = ClientConfig::new(role, "rtmp://127.0.0.1/live", "cam1");
        let mut client = ClientSession::new(config, now);
        let mut input = plain_hello();
        input.push(3);
        input.extend_from_slice(&bytes);
        for chunk in input.chunks(piece) {
            let failed = client.handle_input(chunk, now).is_err();
            while !matches!(client.poll_output(), Output::Timeout(_)) {}
            if failed {
                break;
            }
        }
    }

    #[test]
    fn chunk_decoder_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        chunk_size in 1u32..300,
    ) {
        let limits = RtmpLimits {
            max_message_len: 1000,
            max_chunk_streams: 4,
            max_reassembly_bytes: 1500,
            ..RtmpLimits::default()
        };
        let mut decoder = ChunkDecoder::new(&limits);
        decoder.set_chunk_size(chunk_size).unwrap();
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(message)) = decoder.feed(&mut buf) {
            prop_assert!(message.payload.len() <= 1000);
            prop_assert!(decoder.held_bytes() <= 1500);
        }
    }

    #[test]
    fn handshake_answers_any_c1(c1 in proptest::collection::vec(any::<u8>(), HANDSHAKE_SIZE)) {
        let mut handshake = ServerHandshake::new();
        let mut buf = BytesMut::from(&[3u8][..]);
        buf.extend_from_slice(&c1);
        let mut out = BytesMut::new();
        prop_assert_eq!(handshake.feed(&mut buf, &mut out), Ok(false));
        prop_assert_eq!(out.len(), 1 + 2 * HANDSHAKE_SIZE);
    }
}
