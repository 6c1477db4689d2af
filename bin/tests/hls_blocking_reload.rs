//! LL-HLS blocking playlist reload, end to end: a request for the next part
//! (`_HLS_msn` / `_HLS_part`) is held until the part exists and then answered
//! with a playlist that lists it; a preload-hinted part is served as soon as
//! it is ready; directives too far ahead, or malformed, are `400`.

mod common;

use std::time::{Duration, Instant};

use common::{Arcly, Clip, ffmpeg_publish, get_playlist, http_get_bytes, wait_segments};

const STREAM: &str = "live/blocking";

#[test]
fn blocking_reload_returns_once_the_part_exists() {
    let server = Arcly::start();
    let mut publisher = ffmpeg_publish(&Clip::SMALL.file(), &server.url(STREAM), true);
    server.wait_live(1, &mut publisher);
    let playlist = wait_segments(&server, STREAM, "ll.m3u8", 1);
    let target: f64 = playlist
        .tag("EXT-X-TARGETDURATION")
        .unwrap()
        .parse()
        .unwrap();

    for _ in 0..5 {
        let (_, playlist) = get_playlist(&server, STREAM, "ll.m3u8");
        let (msn, part) = playlist
            .preload_hint()
            .expect("a live playlist has a preload hint");
        let asked = Instant::now();
        let (status, blocked) = get_playlist(
            &server,
            STREAM,
            &format!("ll.m3u8?_HLS_msn={msn}&_HLS_part={part}"),
        );
        let waited = asked.elapsed();
        assert_eq!(status, 200, "{}", blocked.text);
        assert!(
            blocked
                .text
                .contains(&format!("URI=\"part{msn}.{part}.m4s\"")),
            "the answer lists the part it waited for:\n{}",
            blocked.text
        );
        assert!(
            waited < Duration::from_secs_f64(3.0 * target),
            "answered within the blocking timeout, took {waited:?}"
        );

        // The next hinted part: its bytes arrive once it is cut.
        let (msn, part) = blocked.preload_hint().unwrap();
        let (status, body) =
            http_get_bytes(server.http, &format!("/{STREAM}/part{msn}.{part}.m4s")).unwrap();
        assert_eq!(status, 200);
        assert_eq!(&body[4..8], b"moof", "a part is a moof + mdat");
    }

    let (_, playlist) = get_playlist(&server, STREAM, "ll.m3u8");
    let (msn, _) = playlist.preload_hint().unwrap();
    for query in [
        format!("_HLS_msn={}", msn + 10),
        "_HLS_part=1".to_owned(),
        "_HLS_msn=abc".to_owned(),
        format!("_HLS_msn={msn}&_HLS_part=1000"),
    ] {
        let (status, answer) = get_playlist(&server, STREAM, &format!("ll.m3u8?{query}"));
        assert_eq!(status, 400, "{query}: {}", answer.text);
    }
}
