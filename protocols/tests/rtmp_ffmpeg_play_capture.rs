//! What ffmpeg sends when it plays (captured, see `data/README.md`), fed
//! to a `ServerSession`: the play request, the replies ffmpeg waits for,
//! and proof that ffmpeg accepted arcly's digest handshake.

mod rtmp_support;

use std::time::Instant;

use arcly_protocols::amf0::Amf0Value;
use arcly_protocols::rtmp::chunk::ChunkDecoder;
use arcly_protocols::rtmp::handshake::{DigestScheme, HANDSHAKE_SIZE};
use arcly_protocols::rtmp::message::Message;
use arcly_protocols::rtmp::status::StatusInfo;
use arcly_protocols::rtmp::{RtmpLimits, ServerConfig, ServerSession, SessionEvent};
use bytes::BytesMut;
use rtmp_support::{Decisions, drain_and_decide, drain_server, replay};

const PLAY: &[u8] = include_bytes!("data/ffmpeg_play.bin");

#[test]
fn reads_the_play_request() {
    let (events, error) = replay(PLAY, PLAY.len());
    assert_eq!(error, None);
    assert_eq!(replay(PLAY, 1).0, events);
    assert_eq!(
        events,
        [
            SessionEvent::Connected {
                app: "live".into(),
                tc_url: Some("rtmp://127.0.0.1:19350/live".into()),
                query: String::new(),
                flash_ver: Some("LNX 9,0,124,2".into()),
            },
            SessionEvent::PlayRequested {
                stream_id: 1,
                app: "live".into(),
                stream: "cam1".into(),
                query: "token=abc".into(),
                // ffmpeg sends its -rtmp_live default (-2) in milliseconds.
                start: -2000.0,
                duration: -1.0,
                reset: true,
            },
        ]
    );
}

#[test]
fn ffmpeg_signed_its_c2_over_our_s1() {
    // ffmpeg checks S1's digest and S2's signature when it plays, and signs
    // C2 with a key derived from S1's digest. S1 is derived from C1, so the
    // session sends the S1 ffmpeg saw when the capture was made, and the
    // signature in the captured C2 checks out against it.
    let now = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), now);
    server
        .handle_input(&PLAY[..1 + 2 * HANDSHAKE_SIZE], now)
        .unwrap();
    let info = server.handshake_info().unwrap();
    assert_eq!(info.scheme, Some(DigestScheme::Scheme1));
    assert!(info.c2_signed);
}

#[test]
fn answers_with_what_ffmpeg_waits_for() {
    let now = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), now);
    server.handle_input(PLAY, now).unwrap();
    let mut sent = BytesMut::new();
    let out = drain_server(&mut server);
    sent.extend_from_slice(&out.bytes);
    assert!(matches!(out.events[..], [SessionEvent::Connected { .. }]));
    server.accept_connect().unwrap();
    let out = drain_server(&mut server);
    sent.extend_from_slice(&out.bytes);
    assert!(matches!(
        out.events[..],
        [SessionEvent::PlayRequested { .. }]
    ));
    server.accept_play().unwrap();
    sent.extend_from_slice(&drain_server(&mut server).bytes);

    // Skip S0 S1 S2 and read the chunk stream the server sent.
    let mut buf = sent.split_off(1 + 2 * HANDSHAKE_SIZE);
    let mut decoder = ChunkDecoder::new(&RtmpLimits::default());
    let mut replies = Vec::new();
    while let Some(raw) = decoder.feed(&mut buf).unwrap() {
        let message = Message::decode(raw.header.type_id, raw.payload, Default::default()).unwrap();
        if let Message::SetChunkSize(size) = message {
            decoder.set_chunk_size(size).unwrap();
        }
        replies.push((raw.header.stream_id, message));
    }
    assert!(buf.is_empty());
    let summary: Vec<String> = replies
        .iter()
        .map(|(stream_id, message)| match message {
            Message::Command(command) => {
                let code = command
                    .args
                    .iter()
                    .map(|a| match a {
                        Amf0Value::Number(n) => n.to_string(),
                        other => StatusInfo::from_info(other).code,
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                format!(
                    "{stream_id} {} {} {code}",
                    command.name, command.transaction_id
                )
            }
            Message::Data(body) => format!("{stream_id} data {}", body.len()),
            other => format!("{stream_id} {other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "0 WindowAckSize(2500000)",
            "0 SetPeerBandwidth { size: 2500000, limit_type: 2 }",
            "0 SetChunkSize(60000)",
            "0 _result 1 NetConnection.Connect.Success",
            "0 _result 2 1",
            "0 _result 3 0",
            "0 UserControl(StreamBegin(1))",
            "1 onStatus 0 NetStream.Play.Reset",
            "1 onStatus 0 NetStream.Play.Start",
            "1 data 24",
        ]
    );
    assert!(drain_and_decide(&mut server, Decisions::Wait).is_empty());
}
