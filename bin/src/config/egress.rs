//! How media is written to RTMP and HTTP-FLV viewers, per app: the merge
//! window and `TCP_NODELAY`. Both are read at start-up (a reload keeps
//! them).
//!
//! ```toml
//! [streams]
//! write_batch_ms = 0     # media merged per write (0: one write per video frame)
//! tcp_nodelay = false    # true: no Nagle after the join, every frame on the wire at once
//!
//! [apps.studio]
//! tcp_nodelay = true
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use arcly_shard::{TcpNoDelay, WriteBatching};

use super::{ConfigError, FileApp, FileStreams, invalid};

/// The longest merge window accepted.
const MAX_WRITE_BATCH: Duration = Duration::from_secs(10);

/// The write batching and `TCP_NODELAY` of every app.
pub(super) fn apply(
    streams: &FileStreams,
    apps: &BTreeMap<String, FileApp>,
) -> Result<(WriteBatching, TcpNoDelay), ConfigError> {
    let window = |setting: String, ms: u64| {
        let window = Duration::from_millis(ms);
        if window > MAX_WRITE_BATCH {
            return Err(invalid(setting, "must be at most 10000"));
        }
        Ok(window)
    };
    let mut write_batch = WriteBatching {
        default: window(
            "streams.write_batch_ms".into(),
            streams.write_batch_ms.unwrap_or(0),
        )?,
        ..WriteBatching::default()
    };
    let mut nodelay = TcpNoDelay {
        default: streams.tcp_nodelay.unwrap_or(false),
        ..TcpNoDelay::default()
    };
    for (app, section) in apps {
        if let Some(ms) = section.streams.write_batch_ms {
            let setting = format!("apps.{app}.write_batch_ms");
            write_batch.apps.insert(app.clone(), window(setting, ms)?);
        }
        if let Some(on) = section.streams.tcp_nodelay {
            nodelay.apps.insert(app.clone(), on);
        }
    }
    Ok((write_batch, nodelay))
}
