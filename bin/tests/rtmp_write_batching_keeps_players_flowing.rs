//! With write batching on (`write_batch_ms = 350`, SRS's merged writes),
//! players keep receiving media, in fewer, larger writes; an app set
//! back to 0 in the same config flows too.

mod common;

use std::time::Duration;

use common::{Arcly, Clip, Player, ffmpeg_publish};

#[test]
fn merged_writes_lose_nothing() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    let server = Arcly::start_with_config(
        "[streams]\nwrite_batch_ms = 350\n[apps.fast]\nwrite_batch_ms = 0\n",
    );
    let urls = [server.url("live/batched"), server.url("fast/unbatched")];
    let mut publishers: Vec<_> = urls
        .iter()
        .map(|url| ffmpeg_publish(&clip, url, true))
        .collect();
    server.wait_live(2, &mut publishers[1]);
    for url in &urls {
        let mut player = Player::copy(url);
        player.wait_video_frames(30, Duration::from_secs(15), &server);
        player.assert_flowing(60, url, &server);
    }
}
