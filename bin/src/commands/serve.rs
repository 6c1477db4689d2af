//! `arcly serve`: run the origin.

use super::Failure;
use crate::cli::ServeArgs;
use crate::config::Settings;

/// Runs the origin until SIGINT or SIGTERM.
pub(crate) fn run(args: &ServeArgs) -> Result<(), Failure> {
    let _settings = Settings::resolve(args)?;
    Err(Failure::runtime(
        "serve: the shard runtime is not wired in yet",
    ))
}
