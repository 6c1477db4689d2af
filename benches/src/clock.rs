//! The wall clock the stamps use: µs since the UNIX epoch, comparable
//! between the publisher and every player process on this machine.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, µs since the UNIX epoch.
pub(crate) fn wall_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
