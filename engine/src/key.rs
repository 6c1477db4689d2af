//! Stream keys: the `app/stream` name every protocol resolves a request to.

use std::fmt;
use std::sync::Arc;

/// The longest accepted key (app and stream name together), in bytes.
pub const MAX_KEY_LEN: usize = 256;

/// Why a stream key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The app or the stream name is empty.
    #[error("empty {0} in stream key")]
    Empty(&'static str),
    /// The key is longer than [`MAX_KEY_LEN`].
    #[error("stream key is {0} bytes, longer than the limit of {MAX_KEY_LEN}")]
    TooLong(usize),
    /// The key contains `..`, which could escape a directory when recording.
    #[error("stream key contains '..'")]
    DotDot,
    /// The key contains a control character (byte offset given).
    #[error("stream key has a control character at byte {0}")]
    Control(usize),
    /// The app name contains `/`; apps are one path segment.
    #[error("app name contains '/'")]
    SlashInApp,
}

/// A validated `app/stream` key.
///
/// Cloning is an atomic increment, and keys are `Send`, so they travel through
/// the mailbox as they are.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    /// `app/stream`.
    full: Arc<str>,
    /// Byte index of the `/` between app and stream.
    split: usize,
}

impl StreamKey {
    /// Validates and builds a key from an app and a stream name.
    ///
    /// Refused: an empty app or name, a total over [`MAX_KEY_LEN`] bytes,
    /// `..` anywhere, control characters, and `/` in the app. A stream name
    /// may contain `/` (`live/cam/1` is app `live`, stream `cam/1`).
    pub fn new(app: &str, stream: &str) -> Result<StreamKey, KeyError> {
        if app.is_empty() {
            return Err(KeyError::Empty("app"));
        }
        if stream.is_empty() {
            return Err(KeyError::Empty("stream name"));
        }
        let len = app.len() + 1 + stream.len();
        if len > MAX_KEY_LEN {
            return Err(KeyError::TooLong(len));
        }
        if app.contains('/') {
            return Err(KeyError::SlashInApp);
        }
        let full = format!("{app}/{stream}");
        if full.contains("..") {
            return Err(KeyError::DotDot);
        }
        if let Some(pos) = full.bytes().position(|b| b.is_ascii_control()) {
            return Err(KeyError::Control(pos));
        }
        if let Some((pos, _)) = full.char_indices().find(|(_, c)| c.is_control()) {
            return Err(KeyError::Control(pos));
        }
        Ok(StreamKey {
            full: full.into(),
            split: app.len(),
        })
    }

    /// Parses `app/stream`.
    pub fn parse(path: &str) -> Result<StreamKey, KeyError> {
        match path.split_once('/') {
            Some((app, stream)) => StreamKey::new(app, stream),
            None => StreamKey::new(path, ""),
        }
    }

    /// The application part.
    pub fn app(&self) -> &str {
        &self.full[..self.split]
    }

    /// The stream name part.
    pub fn name(&self) -> &str {
        &self.full[self.split + 1..]
    }

    /// `app/stream`.
    pub fn as_str(&self) -> &str {
        &self.full
    }
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamKey({:?})", &*self.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_keys() {
        let key = StreamKey::new("live", "cam/1").unwrap();
        assert_eq!(key.app(), "live");
        assert_eq!(key.name(), "cam/1");
        assert_eq!(key.as_str(), "live/cam/1");
        assert_eq!(StreamKey::parse("live/cam/1").unwrap(), key);
    }

    #[test]
    fn refuses_bad_keys() {
        assert_eq!(StreamKey::new("", "a"), Err(KeyError::Empty("app")));
        assert_eq!(StreamKey::new("a", ""), Err(KeyError::Empty("stream name")));
        assert_eq!(
            StreamKey::parse("live"),
            Err(KeyError::Empty("stream name"))
        );
        assert_eq!(StreamKey::new("live", "../etc"), Err(KeyError::DotDot));
        assert_eq!(StreamKey::new("li/ve", "x"), Err(KeyError::SlashInApp));
        assert_eq!(StreamKey::new("live", "a\nb"), Err(KeyError::Control(6)));
        assert_eq!(
            StreamKey::new("live", "a\u{85}b"),
            Err(KeyError::Control(6))
        );
        let long = "x".repeat(MAX_KEY_LEN);
        assert_eq!(
            StreamKey::new("live", &long),
            Err(KeyError::TooLong(MAX_KEY_LEN + 5))
        );
        let fits = "x".repeat(MAX_KEY_LEN - 5);
        assert!(StreamKey::new("live", &fits).is_ok());
    }
}
