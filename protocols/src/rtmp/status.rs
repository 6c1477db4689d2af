//! `onStatus` and `_result` / `_error` replies: the codes players expect
//! and the commands that carry them.

use crate::amf0::{Amf0Value, Command};

/// `connect` succeeded.
pub const CONNECT_SUCCESS: &str = "NetConnection.Connect.Success";
/// `connect` refused, or a publish or play refused for want of
/// authorization.
pub const CONNECT_REJECTED: &str = "NetConnection.Connect.Rejected";
/// A call the server does not know or cannot honour.
pub const CALL_FAILED: &str = "NetConnection.Call.Failed";
/// Publishing started.
pub const PUBLISH_START: &str = "NetStream.Publish.Start";
/// The stream name is taken (a key already live) or unusable.
pub const PUBLISH_BAD_NAME: &str = "NetStream.Publish.BadName";
/// Publishing refused for another reason.
pub const PUBLISH_REJECTED: &str = "NetStream.Publish.Rejected";
/// `FCUnpublish` acknowledged.
pub const UNPUBLISH_SUCCESS: &str = "NetStream.Unpublish.Success";
/// Sent before Play.Start when the player asked to reset.
pub const PLAY_RESET: &str = "NetStream.Play.Reset";
/// Playing started.
pub const PLAY_START: &str = "NetStream.Play.Start";
/// No such stream.
pub const PLAY_STREAM_NOT_FOUND: &str = "NetStream.Play.StreamNotFound";
/// Playing refused for another reason.
pub const PLAY_FAILED: &str = "NetStream.Play.Failed";
/// The publisher of the stream being played has gone.
pub const PLAY_UNPUBLISH_NOTIFY: &str = "NetStream.Play.UnpublishNotify";
/// The stream was paused.
pub const PAUSE_NOTIFY: &str = "NetStream.Pause.Notify";
/// The stream was resumed.
pub const UNPAUSE_NOTIFY: &str = "NetStream.Unpause.Notify";

/// `level` of a status that reports success or progress.
pub const LEVEL_STATUS: &str = "status";
/// `level` of a status that reports failure.
pub const LEVEL_ERROR: &str = "error";

/// The info object of an `onStatus`, `_result` or `_error`, as a client
/// reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusInfo {
    /// `status`, `warning` or `error`.
    pub level: String,
    /// `NetStream.Publish.Start` ...
    pub code: String,
    /// Text for people.
    pub description: String,
}

impl StatusInfo {
    /// Reads the fields of an info object; missing ones are empty.
    pub fn from_info(info: &Amf0Value) -> StatusInfo {
        let field = |key| {
            info.get(key)
                .and_then(Amf0Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        StatusInfo {
            level: field("level"),
            code: field("code"),
            description: field("description"),
        }
    }

    /// Whether the level is `error`.
    pub fn is_error(&self) -> bool {
        self.level == LEVEL_ERROR
    }
}

/// An info object with `level`, `code` and `description`.
pub(crate) fn info(level: &str, code: &str, description: String) -> Amf0Value {
    Amf0Value::object([
        ("level", level.into()),
        ("code", code.into()),
        ("description", description.into()),
    ])
}

/// `onStatus` with an info object.
pub(crate) fn on_status(level: &str, code: &str, description: String) -> Command {
    new_command(
        "onStatus",
        0.0,
        Amf0Value::Null,
        vec![info(level, code, description)],
    )
}

/// A command with its parts.
pub(crate) fn new_command(
    name: &str,
    transaction_id: f64,
    command_object: Amf0Value,
    args: Vec<Amf0Value>,
) -> Command {
    Command {
        name: name.to_owned(),
        transaction_id,
        command_object,
        args,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_reads_status_objects() {
        let command = on_status(LEVEL_ERROR, PUBLISH_BAD_NAME, "taken".into());
        assert_eq!(command.name, "onStatus");
        assert_eq!(command.transaction_id, 0.0);
        let status = StatusInfo::from_info(command.arg(0).unwrap());
        assert_eq!(status.code, PUBLISH_BAD_NAME);
        assert!(status.is_error());
        assert_eq!(
            StatusInfo::from_info(&Amf0Value::Null),
            StatusInfo::default()
        );
    }
}
