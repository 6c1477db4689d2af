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
    println!("hooks = {:?}", settings.hooks.default);
    let mut hooked: Vec<_> = settings.hooks.apps.iter().collect();
    hooked.sort_by_key(|(app, _)| *app);
    for (app, hooks) in hooked {
        println!("apps.{app}.hooks = {hooks:?}");
    }
    println!("write_batch = {:?}", settings.write_batch);
    println!("tcp_nodelay = {:?}", settings.tcp_nodelay);
    println!("hls = {:?}", settings.hls);
    match &settings.record {
        Some(record) => println!("record = {record:?}"),
        None => println!("record = off (no [record] dir)"),
    }
    let admin = match settings.admin_token {
        Some(_) => "token required for /metrics and /api",
        None => "open (no admin token)",
    };
    println!("admin = {admin}");
    println!("log = {:?}", settings.log);
    Ok(())
}
