//! `arcly check-config FILE`: validate a config and show what it means.

use std::path::Path;

use super::Failure;
use crate::config::Settings;

/// Parses `file` and prints the settings it resolves to.
pub(crate) fn run(file: &Path) -> Result<(), Failure> {
    let settings = Settings::from_file(file)?;
    println!("{}: ok", file.display());
    println!("rtmp_listen = {}", settings.rtmp_listen);
    println!("http_listen = {}", settings.http_listen);
    println!("placement = {:?}", settings.placement);
    println!("streams = {:?}", settings.stream_defaults);
    for (app, limits) in &settings.apps {
        println!("apps.{app} = {limits:?}");
    }
    println!("unpublish_grace = {:?}", settings.unpublish_grace);
    println!("rtmp = {:?}", settings.rtmp);
    println!(
        "rtmp.max_connections_per_shard = {}",
        settings.rtmp_max_connections_per_shard
    );
    let auth = if settings.auth.is_open() {
        "open (no tokens)"
    } else {
        "tokens required where configured"
    };
    println!("auth = {auth}");
    println!("write_batch = {:?}", settings.write_batch);
    println!("tcp_nodelay = {:?}", settings.tcp_nodelay);
    println!("log = {:?}", settings.log);
    Ok(())
}
