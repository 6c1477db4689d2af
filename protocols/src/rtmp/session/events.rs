//! What a server session tells its driver, and what the driver answers
//! with when it refuses a request.

use arcly_engine::MediaFrame;

use crate::rtmp::SessionError;
use crate::rtmp::status;

/// Something the driver must act on.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionEvent {
    /// The client sent `connect`. Answer with
    /// [`accept_connect`](super::ServerSession::accept_connect) or
    /// [`reject_connect`](super::ServerSession::reject_connect); nothing
    /// else is read until then.
    Connected {
        /// The application, without a query string or trailing `/`.
        app: String,
        /// `tcUrl` as sent (`rtmp://host/app`), if sent.
        tc_url: Option<String>,
        /// The query string of the app or, failing that, of `tcUrl`,
        /// without the `?`.
        query: String,
        /// `flashVer` as sent (`FMLE/3.0 (compatible; obs-output 30.0)`).
        flash_ver: Option<String>,
    },
    /// The client asked to publish. Answer with
    /// [`accept_publish`](super::ServerSession::accept_publish) or
    /// [`reject_publish`](super::ServerSession::reject_publish); nothing
    /// else is read until then.
    PublishRequested {
        /// The message stream it publishes on.
        stream_id: u32,
        /// The application of `connect`.
        app: String,
        /// The stream name before any `?`.
        stream: String,
        /// The query string after the stream name's `?` (the app's if the
        /// name has none), for credentials such as `token=`.
        query: String,
        /// `live`, `record` or `append`, as sent (`live` if missing).
        publish_type: String,
    },
    /// The client asked to play. Answer with
    /// [`accept_play`](super::ServerSession::accept_play) or
    /// [`reject_play`](super::ServerSession::reject_play); nothing else is
    /// read until then.
    PlayRequested {
        /// The message stream to send media on: encode egress for it.
        stream_id: u32,
        /// The application of `connect`.
        app: String,
        /// The stream name before any `?`.
        stream: String,
        /// The query string, as for `PublishRequested`.
        query: String,
        /// Start, in seconds: -2 live or recorded, -1 live only, else a
        /// position in a recording (as sent; some clients send ms).
        start: f64,
        /// Duration in seconds; -1 until the end.
        duration: f64,
        /// Whether the client asked to reset its playlist.
        reset: bool,
    },
    /// A frame from the publisher: audio, video or a data message (a
    /// `@setDataFrame` wrapper removed). Timestamps are unwrapped past
    /// 2^32 ms to `i64`: audio and video on one timeline, data messages
    /// (metadata sent at 0 while media runs on) on their own.
    Frame(MediaFrame),
    /// The publisher stopped publishing (`FCUnpublish`, `closeStream` or
    /// `deleteStream` of its stream); the connection may stay open.
    Unpublished {
        /// The stream it published on.
        stream_id: u32,
    },
    /// The player paused or resumed (`pause`). A paused player gets no
    /// media; on resume it wants to start at a keyframe.
    PauseChanged {
        /// The stream it plays on.
        stream_id: u32,
        /// Whether it is now paused.
        paused: bool,
    },
    /// The player stopped playing (`closeStream` or `deleteStream`); the
    /// connection may stay open.
    PlayStopped {
        /// The stream it played on.
        stream_id: u32,
    },
    /// The session is over: write what `poll_output` already gave, then
    /// close the connection. Always the last event.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Why a session closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The peer broke the protocol, sent too much or too little, or a
    /// timer ran out.
    Error(SessionError),
    /// The driver refused the client; the status code it was sent.
    Rejected {
        /// `NetConnection.Connect.Rejected`, `NetStream.Publish.BadName` ...
        code: &'static str,
    },
}

/// Why the driver refuses a publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublishRejection {
    /// The stream key is live already, or not a valid key:
    /// `NetStream.Publish.BadName`.
    BadName,
    /// The credentials were missing or wrong:
    /// `NetConnection.Connect.Rejected`.
    Unauthorized,
    /// Any other reason, with a description for the client:
    /// `NetStream.Publish.Rejected`.
    Rejected(String),
}

impl PublishRejection {
    /// The status code and description sent to the client.
    pub(super) fn status(&self) -> (&'static str, String) {
        match self {
            PublishRejection::BadName => (
                status::PUBLISH_BAD_NAME,
                "Stream name is already in use or not valid.".to_owned(),
            ),
            PublishRejection::Unauthorized => {
                (status::CONNECT_REJECTED, "Authorization failed.".to_owned())
            }
            PublishRejection::Rejected(text) => (status::PUBLISH_REJECTED, text.clone()),
        }
    }
}

/// Why the driver refuses a play.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlayRejection {
    /// No such stream: `NetStream.Play.StreamNotFound`.
    NotFound,
    /// The credentials were missing or wrong:
    /// `NetConnection.Connect.Rejected`.
    Unauthorized,
    /// Any other reason, with a description for the client:
    /// `NetStream.Play.Failed`.
    Failed(String),
}

impl PlayRejection {
    /// The status code and description sent to the client.
    pub(super) fn status(&self) -> (&'static str, String) {
        match self {
            PlayRejection::NotFound => (
                status::PLAY_STREAM_NOT_FOUND,
                "Stream not found.".to_owned(),
            ),
            PlayRejection::Unauthorized => {
                (status::CONNECT_REJECTED, "Authorization failed.".to_owned())
            }
            PlayRejection::Failed(text) => (status::PLAY_FAILED, text.clone()),
        }
    }
}
