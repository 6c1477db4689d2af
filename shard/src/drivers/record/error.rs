//! Why a recording stopped.

use std::io;
use std::path::PathBuf;

use arcly_engine::Codec;
use arcly_media::codec::CodecError;
use arcly_media::flv::FlvError;
use arcly_media::fmp4::Fmp4Error;

/// Why a recording stopped before its stream ended. The stream itself is
/// never affected: only the recording's subscription goes away.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordError {
    /// A file or directory operation failed (permission denied, disk full,
    /// a path component that is a file).
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done: `create directory`, `create`, `write`,
        /// `close`, `rename`.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Writes waited in memory beyond the bound: the disk is not keeping up
    /// with the stream.
    #[error("the disk is not keeping up: {queued} bytes waiting to be written, limit {limit}")]
    QueueFull {
        /// Bytes waiting, with the write that did not fit.
        queued: usize,
        /// The bound ([`RecordConfig::queue_bytes`](super::RecordConfig::queue_bytes)).
        limit: usize,
    },
    /// The stream carries a codec the recording format cannot hold.
    #[error("{format} cannot hold {codec}")]
    UnsupportedCodec {
        /// `fmp4` or `flv`.
        format: &'static str,
        /// The codec.
        codec: Codec,
    },
    /// A config record did not parse.
    #[error("unreadable {codec} config: {source}")]
    Config {
        /// The codec of the config frame.
        codec: Codec,
        /// What the reader said.
        source: CodecError,
    },
    /// A config says nothing of what a sample entry needs (picture size,
    /// sample rate or channels).
    #[error("the {0} config does not say enough to describe the track")]
    Incomplete(Codec),
    /// The fMP4 muxer refused a frame or a track.
    #[error("fmp4: {0}")]
    Fmp4(#[from] Fmp4Error),
    /// The FLV muxer refused a frame.
    #[error("flv: {0}")]
    Flv(#[from] FlvError),
    /// The recorder fell behind its stream and was removed by the lag
    /// policy.
    #[error("the recorder lagged behind the stream and was evicted")]
    Evicted,
    /// The stream could not be joined.
    #[error("cannot join the stream: {0}")]
    Subscribe(String),
}

impl RecordError {
    /// An I/O error of `op` on `path`, with the OS error glommio reported.
    pub(super) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
        error: glommio::GlommioError<()>,
    ) -> Self {
        let source = match error {
            glommio::GlommioError::IoError(e) => e,
            glommio::GlommioError::EnhancedIoError { source, .. } => source,
            other => io::Error::other(other.to_string()),
        };
        RecordError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
