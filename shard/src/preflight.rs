//! Start-up checks.
