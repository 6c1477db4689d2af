//! ffmpeg as a real RTMP client: a publisher sending a clip, and a player
//! counting the packets or frames it receives.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::process::Background;
use super::server::Arcly;

/// `ffmpeg -re [-stream_loop -1] -i FILE -c copy -f flv URL`.
pub(crate) fn ffmpeg_publish(file: &Path, url: &str, looped: bool) -> Background {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-nostats", "-v", "error", "-re"]);
    if looped {
        cmd.args(["-stream_loop", "-1"]);
    }
    cmd.arg("-i")
        .arg(file)
        .args(["-c", "copy", "-f", "flv", url]);
    Background::spawn(&mut cmd)
}

/// An ffmpeg player writing one `framecrc` line per packet (copy) or per
/// decoded frame (decode), counted as they arrive. Stream 0 is video,
/// stream 1 audio.
pub(crate) struct Player {
    pub(crate) process: Background,
    counts: Arc<[AtomicU64; 2]>,
    first_pts: Arc<Mutex<[Option<i64>; 2]>>,
}

impl Player {
    /// Plays `url` with `-c copy`: counts packets, decodes nothing.
    pub(crate) fn copy(url: &str) -> Player {
        Self::spawn(url, false)
    }

    /// Plays `url` and decodes both tracks, keeping stream timestamps
    /// (`-copyts`): video pts are then in 1/fps units.
    pub(crate) fn decode(url: &str) -> Player {
        Self::spawn(url, true)
    }

    fn spawn(url: &str, decode: bool) -> Player {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-hide_banner", "-nostdin", "-nostats", "-v", "error"]);
        if decode {
            cmd.arg("-copyts");
        }
        cmd.args(["-i", url, "-map", "0:v:0", "-map", "0:a:0?"]);
        if !decode {
            cmd.args(["-c", "copy"]);
        }
        cmd.args(["-f", "framecrc", "-flush_packets", "1", "pipe:1"]);
        let counts: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let first_pts = Arc::new(Mutex::new([None, None]));
        let (c, f) = (counts.clone(), first_pts.clone());
        let process = Background::spawn_with(&mut cmd, move |line| {
            if line.starts_with('#') {
                return;
            }
            let mut fields = line.split(',').map(str::trim);
            let (Some(Ok(index)), _dts, Some(Ok(pts))) = (
                fields.next().map(str::parse::<usize>),
                fields.next(),
                fields.next().map(str::parse::<i64>),
            ) else {
                return;
            };
            if index < 2 {
                f.lock().unwrap()[index].get_or_insert(pts);
                c[index].fetch_add(1, Ordering::Relaxed);
            }
        });
        Player {
            process,
            counts,
            first_pts,
        }
    }

    pub(crate) fn video_frames(&self) -> u64 {
        self.counts[0].load(Ordering::Relaxed)
    }

    pub(crate) fn audio_frames(&self) -> u64 {
        self.counts[1].load(Ordering::Relaxed)
    }

    pub(crate) fn first_video_pts(&self) -> Option<i64> {
        self.first_pts.lock().unwrap()[0]
    }

    /// Waits until at least `n` video frames have arrived.
    pub(crate) fn wait_video_frames(&mut self, n: u64, timeout: Duration, server: &Arcly) {
        let deadline = Instant::now() + timeout;
        while self.video_frames() < n {
            if Instant::now() >= deadline || self.process.try_status().is_some() {
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "the player got {} video frames, wanted {n} within {timeout:?}: {}\nserver log:\n{}",
                    self.video_frames(),
                    self.process.describe(),
                    server.log_tail()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Asserts the player still receives video: `more` frames within 5 s.
    pub(crate) fn assert_flowing(&mut self, more: u64, what: &str, server: &Arcly) {
        let start = self.video_frames();
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.video_frames() < start + more {
            if Instant::now() >= deadline || self.process.try_status().is_some() {
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "{what}: the player stopped receiving video ({} frames in 5 s, wanted {more}): {}\nserver log:\n{}",
                    self.video_frames() - start,
                    self.process.describe(),
                    server.log_tail()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}
