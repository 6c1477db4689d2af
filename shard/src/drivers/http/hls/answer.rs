//! What the owner shard answers for one HLS resource: `Send`, so it can
//! travel back through the mailbox to the shard that took the request.

use bytes::Bytes;

/// The kind of body, for `Content-Type` and caching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Body {
    /// A playlist: changes, never cached.
    Playlist,
    /// An MPEG-TS segment.
    Ts,
    /// An fMP4 init segment.
    Init,
    /// An fMP4 segment or part.
    Fmp4,
}

impl Body {
    pub(super) fn content_type(self) -> &'static str {
        match self {
            Body::Playlist => "application/vnd.apple.mpegurl",
            Body::Ts => "video/mp2t",
            Body::Init => "video/mp4",
            Body::Fmp4 => "video/iso.segment",
        }
    }

    /// Whether the bytes under this name never change (so any shard may
    /// keep them and players may cache them).
    pub(super) fn is_immutable(self) -> bool {
        self != Body::Playlist
    }
}

/// The owner's answer, with the instance of the stream's packaging that
/// gave it (a new publisher of the same key starts a new instance, whose
/// file names start over).
#[derive(Clone, Debug)]
pub(super) struct Reply {
    /// The packaging instance; 0 when there is none.
    pub(super) instance: u64,
    /// The answer.
    pub(super) answer: Answer,
}

/// What the owner answered.
#[derive(Clone, Debug)]
pub(super) enum Answer {
    /// The resource.
    Found(Body, Bytes),
    /// A status other than 200, with its reason.
    Refused(u16, String),
}

impl Answer {
    pub(super) fn refused(status: u16, reason: impl Into<String>) -> Answer {
        Answer::Refused(status, reason.into())
    }
}
