//! A `ClientSession` and a `ServerSession` joined in memory on a virtual
//! clock: frames published by the client come out of the server as the
//! same `MediaFrame`s, and egress bytes fed to a playing client come out as
//! the frames they were built from.

mod rtmp_support;

use std::time::Duration;

use arcly_engine::{Codec, FrameFlags, MediaFrame, Timestamp};
use arcly_protocols::rtmp::egress::{MEDIA_STREAM_ID, encode_media};
use arcly_protocols::rtmp::{
    ClientEvent, ClientRole, CloseReason, SessionError, SessionEvent, status,
};
use bytes::Bytes;
use rtmp_support::{Decisions, Pair, flv_frames, flv_tags};

#[test]
fn published_frames_come_out_of_the_server_unchanged() {
    let mut pair = Pair::new(ClientRole::Publish, "cam1?token=s3cret");
    pair.run();
    assert_eq!(
        pair.client_events,
        [
            ClientEvent::Connected,
            ClientEvent::Publishing {
                stream_id: MEDIA_STREAM_ID
            }
        ]
    );
    assert!(matches!(
        &pair.server_events[..],
        [
            SessionEvent::Connected { app, .. },
            SessionEvent::PublishRequested { stream_id: 1, stream, query, publish_type, .. },
        ] if app == "live" && stream == "cam1" && query == "token=s3cret" && publish_type == "live"
    ));

    // The tags as an encoder replaying the file sends them.
    for tag in flv_tags() {
        pair.client.send_tag(&tag).unwrap();
        pair.run();
    }
    let expected = flv_frames();
    assert_eq!(expected.len(), 277);
    assert_eq!(pair.server_frames(), expected);
    // The metadata arrived without its `@setDataFrame` wrapper.
    assert!(expected[0].payload.starts_with(b"\x02\x00\x0aonMetaData"));

    pair.client.close_stream().unwrap();
    pair.run();
    assert_eq!(
        pair.server_events.last(),
        Some(&SessionEvent::Unpublished { stream_id: 1 })
    );
    assert_eq!(pair.server.publishing_stream_id(), None);
}

#[test]
fn frames_sent_as_frames_round_trip_too() {
    let mut pair = Pair::new(ClientRole::Publish, "cam1");
    pair.run();
    let frames = flv_frames();
    for frame in &frames {
        pair.client.send_frame(frame).unwrap();
    }
    pair.run();
    assert_eq!(pair.server_frames(), frames);
}

#[test]
fn egress_bytes_play_back_as_the_same_frames() {
    let mut pair = Pair::new(ClientRole::Play, "cam1?token=abc");
    pair.run();
    assert!(matches!(
        &pair.server_events[..],
        [
            SessionEvent::Connected { .. },
            SessionEvent::PlayRequested { stream_id: 1, stream, query, start, reset: true, .. },
        ] if stream == "cam1" && query == "token=abc" && *start == -2.0
    ));
    assert_eq!(
        pair.client_events,
        [
            ClientEvent::Connected,
            ClientEvent::Status(arcly_protocols::rtmp::status::StatusInfo {
                level: "status".into(),
                code: status::PLAY_RESET.into(),
                description: "Playing and resetting cam1.".into(),
            }),
            ClientEvent::Playing { stream_id: 1 },
        ]
    );
    let stream_id = pair.server.playing_stream_id().unwrap();
    let frames = flv_frames();
    for frame in &frames {
        let bytes = encode_media(frame, pair.server.out_chunk_size(), stream_id).unwrap();
        pair.deliver(&bytes);
    }
    assert_eq!(pair.client_frames(), frames);

    pair.server.end_of_stream().unwrap();
    pair.run();
    assert_eq!(pair.client_events.last(), Some(&ClientEvent::StreamEnded));
}

#[test]
fn every_player_gets_the_same_bytes() {
    // Two players on one shard: the shared bytes are built once, and each
    // player's own session output only frames them.
    let frames = flv_frames();
    let mut players: Vec<Pair> = (0..2)
        .map(|_| {
            let mut pair = Pair::new(ClientRole::Play, "cam1");
            pair.run();
            pair
        })
        .collect();
    let chunk_size = players[0].server.out_chunk_size();
    assert!(
        players
            .iter()
            .all(|p| p.server.playing_stream_id() == Some(MEDIA_STREAM_ID)
                && p.server.out_chunk_size() == chunk_size)
    );
    let shared: Vec<Bytes> = frames
        .iter()
        .map(|frame| encode_media(frame, chunk_size, MEDIA_STREAM_ID).unwrap())
        .collect();
    // The second player joins late, at the second keyframe.
    let second_gop = frames
        .iter()
        .enumerate()
        .filter(|(_, f)| f.starts_gop())
        .nth(1)
        .map(|(i, _)| i)
        .unwrap();
    for bytes in &shared {
        players[0].deliver(bytes);
    }
    let configs: Vec<usize> = (0..frames.len())
        .filter(|i| frames[*i].is_config())
        .collect();
    for i in configs.iter().copied().chain(second_gop..frames.len()) {
        players[1].deliver(&shared[i]);
    }
    assert_eq!(players[0].client_frames(), frames);
    let late = players[1].client_frames();
    assert!(late.iter().take(configs.len()).all(MediaFrame::is_config));
    assert!(late[configs.len()..].iter().all(|f| !f.is_config()));
    assert_eq!(&late[configs.len()..], &frames[second_gop..]);
}

#[test]
fn extended_timestamps_and_wrap_reach_the_player() {
    let mut pair = Pair::new(ClientRole::Play, "long");
    pair.run();
    let start = (1i64 << 32) - 40;
    let frames: Vec<MediaFrame> = (0..4)
        .map(|i| MediaFrame {
            codec: Codec::Aac,
            dts: Timestamp::from_millis(start + 20 * i),
            pts: Timestamp::from_millis(start + 20 * i),
            flags: FrameFlags::KEYFRAME,
            payload: Bytes::from(vec![0x21; 100_000]),
        })
        .collect();
    for frame in &frames {
        let bytes = encode_media(frame, pair.server.out_chunk_size(), 1).unwrap();
        pair.deliver(&bytes);
    }
    // The player's timeline runs past 2^32 ms without a jump.
    let times: Vec<i64> = pair
        .client_frames()
        .iter()
        .map(|f| f.dts.as_millis())
        .collect();
    assert_eq!(times, [start, start + 20, start + 40, start + 60]);
}

#[test]
fn a_quiet_player_is_pinged_and_kept() {
    let mut pair = Pair::new(ClientRole::Play, "cam1");
    pair.run();
    // The player sends nothing while it plays; the server pings at half
    // the idle timeout and the client's answer keeps the session alive.
    for _ in 0..10 {
        pair.advance(Duration::from_secs(16));
    }
    assert!(!pair.server.is_closed());
    assert!(!pair.client.is_closed());
}

#[test]
fn a_player_that_stops_answering_is_closed() {
    let mut pair = Pair::new(ClientRole::Play, "cam1");
    pair.run();
    pair.now += Duration::from_secs(31);
    assert!(matches!(
        pair.server.handle_timeout(pair.now),
        Err(SessionError::IdleTimeout { .. })
    ));
    pair.run();
    assert!(matches!(
        pair.server_events.last(),
        Some(SessionEvent::Closed {
            reason: CloseReason::Error(SessionError::IdleTimeout { .. })
        })
    ));
}

#[test]
fn a_player_reading_a_backlog_is_not_idle() {
    let mut pair = Pair::new(ClientRole::Play, "cam1");
    pair.run();
    // Its pong waits behind media it is still reading, but the driver
    // sees its socket drain and says so.
    for _ in 0..4 {
        pair.now += Duration::from_secs(20);
        pair.server.handle_peer_reading(pair.now);
        assert!(pair.server.handle_timeout(pair.now).is_ok());
    }
    pair.now += Duration::from_secs(31);
    assert!(
        matches!(
            pair.server.handle_timeout(pair.now),
            Err(SessionError::IdleTimeout { .. })
        ),
        "once it stops reading too, the idle limit applies"
    );
}

#[test]
fn decisions_may_come_later() {
    let mut pair = Pair::new(ClientRole::Publish, "cam1");
    pair.decisions = Decisions::Wait;
    pair.run();
    assert!(pair.server.is_awaiting_decision());
    assert_eq!(pair.client_events, []);
    // The driver answers after, say, a hand-off to the owner shard.
    pair.server.accept_connect().unwrap();
    pair.run();
    assert!(matches!(
        pair.server_events.last(),
        Some(SessionEvent::PublishRequested { .. })
    ));
    pair.server.accept_publish().unwrap();
    pair.run();
    assert_eq!(
        pair.client_events.last(),
        Some(&ClientEvent::Publishing { stream_id: 1 })
    );
}

#[test]
fn a_taken_key_is_refused_with_bad_name() {
    let mut pair = Pair::new(ClientRole::Publish, "cam1");
    pair.decisions = Decisions::Wait;
    pair.run();
    pair.server.accept_connect().unwrap();
    pair.run();
    pair.server
        .reject_publish(arcly_protocols::rtmp::PublishRejection::BadName)
        .unwrap();
    pair.run();
    assert!(matches!(
        pair.client_events.last(),
        Some(ClientEvent::Status(info)) if info.code == status::PUBLISH_BAD_NAME && info.is_error()
    ));
    assert_eq!(
        pair.server_events.last(),
        Some(&SessionEvent::Closed {
            reason: CloseReason::Rejected {
                code: status::PUBLISH_BAD_NAME
            }
        })
    );
    assert!(pair.server.is_closed());
}

#[test]
fn a_wrong_token_is_refused_at_connect_level() {
    let mut pair = Pair::new(ClientRole::Play, "cam1?token=wrong");
    pair.decisions = Decisions::Wait;
    pair.run();
    pair.server.accept_connect().unwrap();
    pair.run();
    pair.server
        .reject_play(arcly_protocols::rtmp::PlayRejection::Unauthorized)
        .unwrap();
    pair.run();
    assert!(matches!(
        pair.client_events.last(),
        Some(ClientEvent::Status(info)) if info.code == status::CONNECT_REJECTED
    ));
}
