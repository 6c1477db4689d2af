//! What the harness publishes: the synthetic stamped stream, or a real
//! FLV file replayed.

mod file;
mod stamp;
mod synthetic;

use std::path::PathBuf;
use std::time::Duration;

use arcly_media::flv::FlvTag;

pub(crate) use self::file::FileReplay;
#[cfg(test)]
pub(crate) use self::synthetic::stamp_of;
pub(crate) use self::synthetic::{Shape, Synthetic, stamp_in};

/// Flags that shape the published stream.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct SourceArgs {
    /// Video bitrate of the synthetic source, kbit/s.
    #[arg(long, default_value_t = 200)]
    pub(crate) bitrate_kbps: u32,
    /// Video frames per second.
    #[arg(long, default_value_t = 25.0)]
    pub(crate) fps: f64,
    /// Seconds between keyframes.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) gop_secs: f64,
    /// Audio bitrate (AAC-LC 44.1 kHz), kbit/s; 0 for no audio.
    #[arg(long, default_value_t = 32)]
    pub(crate) audio_kbps: u32,
    /// Replay this FLV file (looped) instead of the synthetic source;
    /// latency is then measured from arrival spacing only, and gaps are
    /// not measured (the frames carry no sequence numbers).
    #[arg(long, value_name = "FILE.flv")]
    pub(crate) source: Option<PathBuf>,
}

impl SourceArgs {
    /// The synthetic shape these flags give (also the frame intervals
    /// players assume for a file).
    pub(crate) fn shape(&self) -> Shape {
        Shape {
            bitrate_kbps: self.bitrate_kbps,
            fps: self.fps,
            gop_secs: self.gop_secs,
            audio_kbps: self.audio_kbps,
        }
    }

    /// Opens the source.
    pub(crate) fn open(&self) -> anyhow::Result<Source> {
        match &self.source {
            Some(path) => Ok(Source::File(FileReplay::open(path)?)),
            None => {
                let synthetic = Synthetic::new(self.shape())?;
                let configs = synthetic
                    .configs()
                    .iter()
                    .map(FlvTag::from_frame)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Source::Synthetic { configs, synthetic })
            }
        }
    }
}

/// The tags to publish, on demand.
#[derive(Debug)]
pub(crate) enum Source {
    /// Stamped frames, after the sequence headers.
    Synthetic {
        /// Sequence headers not yet sent.
        configs: Vec<FlvTag>,
        /// The frames.
        synthetic: Synthetic,
    },
    /// A file, looped.
    File(FileReplay),
}

impl Source {
    /// Whether frames carry stamps (send time and sequence number).
    pub(crate) fn stamped(&self) -> bool {
        matches!(self, Source::Synthetic { .. })
    }

    /// When the next tag is due, from the start of the stream.
    pub(crate) fn next_due(&self) -> Duration {
        match self {
            Source::Synthetic { configs, .. } if !configs.is_empty() => Duration::ZERO,
            Source::Synthetic { synthetic, .. } => synthetic.next_due().0,
            Source::File(file) => file.next_due(),
        }
    }

    /// The next tag; a synthetic frame is stamped as sent at `sent_us`
    /// (µs since the UNIX epoch).
    pub(crate) fn take(&mut self, sent_us: u64) -> anyhow::Result<FlvTag> {
        match self {
            Source::Synthetic { configs, synthetic } => {
                if !configs.is_empty() {
                    return Ok(configs.remove(0));
                }
                Ok(FlvTag::from_frame(&synthetic.take(sent_us))?)
            }
            Source::File(file) => Ok(file.take()),
        }
    }
}
