//! The test media: H.264 + AAC clips made once by ffmpeg, and their video
//! packets as ffprobe lists them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::process::run;
use super::tools::require_ffmpeg;

/// An H.264 + AAC FLV made by ffmpeg from lavfi sources.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clip {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) fps: u32,
    /// Keyframe interval in frames (closed GOPs, no scene cuts).
    pub(crate) gop: u32,
    pub(crate) seconds: u32,
}

impl Clip {
    /// The small clip the healthy publishers loop: 320x240, 30 fps, 2 s GOP.
    pub(crate) const SMALL: Clip = Clip {
        width: 320,
        height: 240,
        fps: 30,
        gop: 60,
        seconds: 10,
    };

    /// The FLV file, made once per target dir and reused by every test.
    pub(crate) fn file(&self) -> PathBuf {
        require_ffmpeg();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rtmp-media");
        fs::create_dir_all(&dir).expect("create media dir");
        let name = format!(
            "h264-aac-{}x{}-{}fps-g{}-{}s.flv",
            self.width, self.height, self.fps, self.gop, self.seconds
        );
        let path = dir.join(&name);
        if path.exists() {
            return path;
        }
        // Tests of one binary run on threads of one process: the part file
        // is unique per call, the rename makes the finished file appear whole.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let partial = dir.join(format!(
            "{name}.{}-{}.part",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let done = run(
            Command::new("ffmpeg")
                .args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
                .args(["-f", "lavfi", "-i"])
                .arg(format!(
                    "testsrc2=size={}x{}:rate={}",
                    self.width, self.height, self.fps
                ))
                .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
                .args([
                    "-t",
                    &self.seconds.to_string(),
                    "-map",
                    "0:v",
                    "-map",
                    "1:a",
                ])
                .args([
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-pix_fmt",
                    "yuv420p",
                ])
                .args([
                    "-g",
                    &self.gop.to_string(),
                    "-keyint_min",
                    &self.gop.to_string(),
                ])
                .args(["-sc_threshold", "0", "-bf", "2"])
                .args(["-c:a", "aac", "-b:a", "96k", "-ac", "2", "-f", "flv"])
                .arg(&partial),
            Duration::from_secs(120),
        );
        assert!(
            done.success(),
            "could not make the test clip: {}",
            done.describe()
        );
        fs::rename(&partial, &path).expect("rename clip");
        path
    }
}

/// One packet of a file or stream as ffprobe lists it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Packet {
    pub(crate) pts_ms: i64,
    pub(crate) key: bool,
}

/// The video packets of `file`, in file order.
pub(crate) fn video_packets(file: &Path) -> Vec<Packet> {
    let done = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0"])
            .args(["-show_entries", "packet=pts,flags", "-of", "csv=p=0"])
            .arg(file),
        Duration::from_secs(60),
    );
    assert!(done.success(), "{}", done.describe());
    done.stdout
        .lines()
        .filter_map(|l| {
            let mut f = l.split(',');
            let pts_ms = f.next()?.trim().parse().ok()?;
            let key = f.next()?.contains('K');
            Some(Packet { pts_ms, key })
        })
        .collect()
}
