//! Reading arcly's HLS playlists in tests: fetch, wait for segments, and
//! pull out the segments, parts and tags a test checks.

use std::time::Duration;

use super::http::{http_get, http_get_bytes};
use super::server::Arcly;

/// One `EXTINF` entry.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ListedSegment {
    /// Its `EXTINF` duration, seconds.
    pub(crate) duration: f64,
    /// Its URI.
    pub(crate) uri: String,
}

/// A media playlist as text, with accessors for what tests check.
#[derive(Clone, Debug)]
pub(crate) struct MediaPlaylist {
    pub(crate) text: String,
}

impl MediaPlaylist {
    /// The complete segments, in order.
    pub(crate) fn segments(&self) -> Vec<ListedSegment> {
        let mut out = Vec::new();
        let mut lines = self.text.lines();
        while let Some(line) = lines.next() {
            if let Some(rest) = line.strip_prefix("#EXTINF:") {
                let duration = rest.split(',').next().unwrap().parse().unwrap();
                let uri = lines
                    .by_ref()
                    .find(|l| !l.starts_with('#'))
                    .unwrap()
                    .to_owned();
                out.push(ListedSegment { duration, uri });
            }
        }
        out
    }

    /// The value of the first `#TAG:` line.
    pub(crate) fn tag(&self, tag: &str) -> Option<&str> {
        let prefix = format!("#{tag}:");
        self.text.lines().find_map(|l| l.strip_prefix(&prefix))
    }

    /// Whether a bare tag (`#EXT-X-ENDLIST`) is present.
    pub(crate) fn has(&self, tag: &str) -> bool {
        self.text.lines().any(|l| l == format!("#{tag}"))
    }

    /// `(msn, part)` of the `EXT-X-PRELOAD-HINT`.
    pub(crate) fn preload_hint(&self) -> Option<(u64, u32)> {
        let uri = self.tag("EXT-X-PRELOAD-HINT")?.split("URI=\"").nth(1)?;
        let name = uri.split('"').next()?;
        let (msn, part) = name
            .strip_prefix("part")?
            .strip_suffix(".m4s")?
            .split_once('.')?;
        Some((msn.parse().ok()?, part.parse().ok()?))
    }
}

/// `GET /{stream}/{file}`: the status and the playlist.
pub(crate) fn get_playlist(server: &Arcly, stream: &str, file: &str) -> (u16, MediaPlaylist) {
    let (status, text) = http_get(server.http, &format!("/{stream}/{file}"))
        .unwrap_or_else(|e| panic!("GET /{stream}/{file}: {e}"));
    (status, MediaPlaylist { text })
}

/// The body of `/{stream}/{file}`, which must be 200.
pub(crate) fn get_file(server: &Arcly, stream: &str, file: &str) -> Vec<u8> {
    let (status, body) = http_get_bytes(server.http, &format!("/{stream}/{file}"))
        .unwrap_or_else(|e| panic!("GET /{stream}/{file}: {e}"));
    assert_eq!(
        status,
        200,
        "GET /{stream}/{file}: {}",
        String::from_utf8_lossy(&body)
    );
    body
}

/// Waits until `file` lists at least `segments` complete segments.
pub(crate) fn wait_segments(
    server: &Arcly,
    stream: &str,
    file: &str,
    segments: usize,
) -> MediaPlaylist {
    let mut last = None;
    server.wait_until(
        &format!("{segments} segments in /{stream}/{file}"),
        Duration::from_secs(30),
        || {
            let (status, playlist) = get_playlist(server, stream, file);
            let done = status == 200 && playlist.segments().len() >= segments;
            last = Some(playlist);
            done
        },
    );
    last.unwrap()
}
