//! What the fMP4 interop tests share: cutting a frame list into init +
//! fragments the way a packager would, and asking ffprobe and ffmpeg what
//! they make of the result.

// Each test file uses part of this.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use arcly_engine::{MediaFrame, Timestamp, TrackKind};
use arcly_media::fmp4::{Fmp4Track, Fragment, Fragmenter, init_segment};

/// Fails the test, with the command that installs the tool, if `tool` (an
/// ffmpeg program) is not on the path.
pub(crate) fn require(tool: &str) {
    let found = Command::new(tool)
        .arg("-version")
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        found,
        "{tool} not found; install it with `apt-get install -y ffmpeg`"
    );
}

/// A directory under the system temp dir, removed when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("arcly-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where fragments end.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cuts {
    /// Before every video keyframe: one fragment per GOP (HLS segments).
    AtKeyframes,
    /// Before every keyframe and whenever the fragment's video (or, with no
    /// video, any track) has reached this length (LL-HLS parts).
    Parts(Timestamp),
}

/// Init segment and fragments of `frames`, as a packager would cut them.
/// The last fragment ends at the end of the stream, where every track's
/// last sample lasts as long as the one before it.
pub(crate) fn fragment(
    tracks: &[Fmp4Track],
    frames: &[MediaFrame],
    cuts: Cuts,
) -> (Vec<u8>, Vec<Fragment>) {
    let init = init_segment(tracks).unwrap();
    let has_video = tracks.iter().any(|t| t.media.is_video());
    let mut fragmenter = Fragmenter::new(tracks);
    let mut fragments = Vec::new();
    let mut part_start = None;
    let mut sequence = 1;
    for frame in frames {
        if frame.is_config() || frame.track() == TrackKind::Data {
            fragmenter.push(frame).unwrap();
            continue;
        }
        let paced = !has_video || frame.track() == TrackKind::Video;
        let due = match cuts {
            Cuts::AtKeyframes => false,
            Cuts::Parts(length) => {
                paced
                    && part_start.is_some_and(|start: Timestamp| frame.dts.0 - start.0 >= length.0)
            }
        };
        if (frame.starts_gop() || due) && fragmenter.pending_samples() > 0 {
            fragments.push(fragmenter.cut(sequence, frame.dts).unwrap());
            sequence += 1;
            part_start = None;
        }
        if paced && part_start.is_none() {
            part_start = Some(frame.dts);
        }
        fragmenter.push(frame).unwrap();
    }
    fragments.extend(fragmenter.cut(sequence, Timestamp::ZERO));
    (init.to_vec(), fragments)
}

/// Writes init and fragments as one file.
pub(crate) fn write_mp4(dir: &TempDir, name: &str, init: &[u8], fragments: &[Fragment]) -> PathBuf {
    let mut file = init.to_vec();
    for fragment in fragments {
        file.extend_from_slice(&fragment.bytes);
    }
    let path = dir.path().join(name);
    std::fs::write(&path, file).unwrap();
    path
}

/// Runs a tool, asserting it succeeds; returns stdout and stderr.
fn run(tool: &str, args: &[&str]) -> (String, String) {
    require(tool);
    let out = Command::new(tool).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{tool} {args:?} failed: {stderr}");
    (stdout, stderr)
}

/// `key=value|key=value` lines of ffprobe's compact output.
fn compact_lines(stdout: &str) -> Vec<BTreeMap<String, String>> {
    stdout
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            line.split('|')
                .filter_map(|field| field.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// `ffprobe -show_streams -count_frames`: every stream's fields, with the
/// requirement that ffprobe said nothing on stderr.
pub(crate) fn probe_streams(path: &Path) -> Vec<BTreeMap<String, String>> {
    let path = path.to_str().unwrap();
    let (stdout, stderr) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_streams",
            "-count_frames",
            "-of",
            "compact=p=0",
            path,
        ],
    );
    assert_eq!(stderr, "", "ffprobe complained");
    compact_lines(&stdout)
}

/// One packet as ffprobe reads it: times in the stream's timescale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Packet {
    pub(crate) stream: usize,
    pub(crate) dts: i64,
    pub(crate) pts: i64,
    pub(crate) size: usize,
    pub(crate) key: bool,
}

/// Every packet ffprobe reads, in file order.
pub(crate) fn probe_packets(path: &Path) -> Vec<Packet> {
    let path = path.to_str().unwrap();
    let (stdout, stderr) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "packet=stream_index,pts,dts,size,flags",
            "-of",
            "compact=p=0",
            path,
        ],
    );
    assert_eq!(stderr, "", "ffprobe complained");
    compact_lines(&stdout)
        .into_iter()
        .map(|p| Packet {
            stream: p["stream_index"].parse().unwrap(),
            dts: p["dts"].parse().unwrap(),
            pts: p["pts"].parse().unwrap(),
            size: p["size"].parse().unwrap(),
            key: p["flags"].starts_with('K'),
        })
        .collect()
}

/// What ffmpeg prints decoding the whole file: empty if it decodes cleanly.
pub(crate) fn decode_errors(path: &Path) -> String {
    let path = path.to_str().unwrap();
    run("ffmpeg", &["-v", "error", "-i", path, "-f", "null", "-"]).1
}

/// The packets a demuxer should find for `frames` on track `index` of
/// `tracks`: times converted to the track timescale, rounded to nearest.
pub(crate) fn expected_packets(
    tracks: &[Fmp4Track],
    index: usize,
    frames: &[MediaFrame],
) -> Vec<Packet> {
    let track = &tracks[index];
    let ticks = |t: Timestamp| {
        let product = i128::from(t.0) * i128::from(track.timescale);
        (product + 500_000).div_euclid(1_000_000) as i64
    };
    frames
        .iter()
        .filter(|f| !f.is_config() && f.codec == track.media.codec())
        .map(|f| Packet {
            stream: index,
            dts: ticks(f.dts),
            pts: ticks(f.pts),
            size: f.payload.len(),
            key: !track.media.is_video() || f.is_keyframe(),
        })
        .collect()
}

/// Asserts that ffprobe reads back exactly `frames`, track by track.
pub(crate) fn assert_packets_match(path: &Path, tracks: &[Fmp4Track], frames: &[MediaFrame]) {
    let packets = probe_packets(path);
    for index in 0..tracks.len() {
        let read: Vec<_> = packets
            .iter()
            .filter(|p| p.stream == index)
            .cloned()
            .collect();
        let expected = expected_packets(tracks, index, frames);
        assert_eq!(read.len(), expected.len(), "packets of stream {index}");
        for (read, expected) in read.iter().zip(&expected) {
            assert_eq!(read, expected);
        }
    }
}

/// Asserts what every fragment says of itself: sequence and keyframe flags,
/// and durations that add up to the file's.
pub(crate) fn assert_fragments_consistent(fragments: &[Fragment], cuts: Cuts) {
    assert!(fragments[0].starts_with_keyframe);
    for pair in fragments.windows(2) {
        // Each fragment starts where the one before it ended.
        let end = pair[0].first_dts.0 + pair[0].duration.0;
        assert!(
            (pair[1].first_dts.0 - end).abs() <= 1,
            "{} then {}",
            end,
            pair[1].first_dts.0
        );
    }
    if let Cuts::Parts(length) = cuts {
        for fragment in fragments {
            assert!(
                fragment.duration.0 <= length.0 + 100_000,
                "{:?}",
                fragment.duration
            );
        }
    }
}
