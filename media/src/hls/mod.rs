//! HLS and Low-Latency HLS packaging: RFC 8216 and
//! draft-pantos-hls-rfc8216bis.
//!
//! One stream is served two ways from the same cut points:
//!
//! - `index.m3u8`: MPEG-TS segments (`seg{msn}.ts`) for every HLS player.
//! - `ll.m3u8`: fMP4 (`init.mp4`, `seg{msn}.m4s`) with LL-HLS parts
//!   (`part{msn}.{i}.m4s`), blocking reload and delta updates; players
//!   without LL-HLS ignore the extra tags and play the whole segments.
//!
//! The pieces:
//!
//! - [`HlsPackager`]: frames in; MPEG-TS segments, fMP4 parts and
//!   segments and init segments out, cut at the same points.
//! - [`HlsSettings`]: target duration, part target, window.
//! - [`Timeline`]: the segments and parts in memory, a sliding window.
//! - [`ts_media_playlist`], [`ll_media_playlist`], [`master_playlist`]: the
//!   playlists as text.
//! - [`BlockingQuery`], [`Timeline::satisfies`], [`Waiters`]: the
//!   `_HLS_msn` / `_HLS_part` / `_HLS_skip` directives and the requests
//!   blocked on them.
//! - [`Resource`]: the file names, written and parsed.
//!
//! Like the rest of the crate, none of it does I/O or reads a clock: the
//! driver passes `now` (microseconds on its own clock) wherever time
//! matters, and asks [`Waiters::next_deadline`] when to call back.

mod blocking;
mod cutter;
mod error;
mod ll_playlist;
mod packager;
mod playlist;
mod settings;
mod timeline;
mod tracks;
mod uri;

pub use blocking::{BlockingQuery, Skip, Waiters};
pub use error::HlsError;
pub use ll_playlist::ll_media_playlist;
pub use packager::{HlsPackager, PushOutcome};
pub use playlist::{Variant, iso8601, master_playlist, ts_media_playlist};
pub use settings::{HlsSettings, SKIP_SEGMENTS};
pub use timeline::{Bandwidth, Container, Part, Segment, SegmentStart, Timeline};
pub use uri::{LL_PLAYLIST, MASTER_PLAYLIST, Resource, TS_PLAYLIST, init_uri};
