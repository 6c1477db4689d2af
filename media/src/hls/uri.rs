//! The names of a stream's HLS resources, relative to its playlists.
//!
//! The renderers write these names and the HTTP layer reads them back with
//! [`Resource::parse`], so both sides agree by construction.

use std::fmt;

/// The MPEG-TS media playlist.
pub const TS_PLAYLIST: &str = "index.m3u8";
/// The LL-HLS fMP4 media playlist.
pub const LL_PLAYLIST: &str = "ll.m3u8";
/// The multivariant (master) playlist.
pub const MASTER_PLAYLIST: &str = "master.m3u8";

/// One resource of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    /// [`MASTER_PLAYLIST`].
    MasterPlaylist,
    /// [`TS_PLAYLIST`].
    TsPlaylist,
    /// [`LL_PLAYLIST`].
    LlPlaylist,
    /// An fMP4 init segment, by version: `init.mp4`, then `init{v}.mp4`
    /// after each codec configuration change.
    Init(u32),
    /// `seg{msn}.ts`.
    TsSegment(u64),
    /// `seg{msn}.m4s`.
    Fmp4Segment(u64),
    /// `part{msn}.{index}.m4s`.
    Part(u64, u32),
}

impl Resource {
    /// Reads a file name (no directory, no query). `None` for anything that
    /// is not exactly a name [`Display`](fmt::Display) writes: no leading
    /// zeros, no sign, no other extension.
    pub fn parse(name: &str) -> Option<Resource> {
        match name {
            MASTER_PLAYLIST => return Some(Resource::MasterPlaylist),
            TS_PLAYLIST => return Some(Resource::TsPlaylist),
            LL_PLAYLIST => return Some(Resource::LlPlaylist),
            "init.mp4" => return Some(Resource::Init(0)),
            _ => {}
        }
        if let Some(v) = name
            .strip_prefix("init")
            .and_then(|r| r.strip_suffix(".mp4"))
        {
            return number(v).filter(|&v| v > 0).map(Resource::Init);
        }
        if let Some(msn) = name.strip_prefix("seg").and_then(|r| r.strip_suffix(".ts")) {
            return number(msn).map(Resource::TsSegment);
        }
        if let Some(msn) = name
            .strip_prefix("seg")
            .and_then(|r| r.strip_suffix(".m4s"))
        {
            return number(msn).map(Resource::Fmp4Segment);
        }
        let rest = name.strip_prefix("part")?.strip_suffix(".m4s")?;
        let (msn, index) = rest.split_once('.')?;
        Some(Resource::Part(number(msn)?, number(index)?))
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Resource::MasterPlaylist => f.write_str(MASTER_PLAYLIST),
            Resource::TsPlaylist => f.write_str(TS_PLAYLIST),
            Resource::LlPlaylist => f.write_str(LL_PLAYLIST),
            Resource::Init(0) => f.write_str("init.mp4"),
            Resource::Init(v) => write!(f, "init{v}.mp4"),
            Resource::TsSegment(msn) => write!(f, "seg{msn}.ts"),
            Resource::Fmp4Segment(msn) => write!(f, "seg{msn}.m4s"),
            Resource::Part(msn, index) => write!(f, "part{msn}.{index}.m4s"),
        }
    }
}

/// The name of init segment version `version`.
pub fn init_uri(version: u32) -> String {
    Resource::Init(version).to_string()
}

/// A canonical decimal: digits only, no leading zero unless it is `0`.
fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for resource in [
            Resource::MasterPlaylist,
            Resource::TsPlaylist,
            Resource::LlPlaylist,
            Resource::Init(0),
            Resource::Init(3),
            Resource::TsSegment(0),
            Resource::TsSegment(u64::MAX),
            Resource::Fmp4Segment(17),
            Resource::Part(17, 0),
            Resource::Part(17, 12),
        ] {
            assert_eq!(Resource::parse(&resource.to_string()), Some(resource));
        }
        assert_eq!(init_uri(0), "init.mp4");
        assert_eq!(Resource::Part(4, 2).to_string(), "part4.2.m4s");
    }

    #[test]
    fn refuses_near_misses() {
        for name in [
            "",
            "seg.ts",
            "seg01.ts",
            "seg-1.ts",
            "seg+1.ts",
            "seg1.mp4",
            "init0.mp4",
            "part1.m4s",
            "part1.2.3.m4s",
            "part1..m4s",
            "seg99999999999999999999999.ts",
            "../seg1.ts",
            "seg1.ts?x",
        ] {
            assert_eq!(Resource::parse(name), None, "{name}");
        }
    }
}
