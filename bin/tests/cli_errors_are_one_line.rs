//! Bad flags and config values: one clear line on stderr, exit code 2.

use std::process::{Command, Output};

fn arcly(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arcly"))
        .args(args)
        .output()
        .expect("run arcly")
}

fn assert_usage_error(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.contains(expected), "{stderr:?} lacks {expected:?}");
}

#[test]
fn unknown_flag() {
    assert_usage_error(&arcly(&["serve", "--bogus"]), "--bogus");
}

#[test]
fn bad_address() {
    assert_usage_error(
        &arcly(&["serve", "--rtmp-listen", "nowhere"]),
        "invalid value 'nowhere' for '--rtmp-listen <ADDR>'",
    );
}

#[test]
fn bad_cpu_list() {
    assert_usage_error(
        &arcly(&["topology", "--cpus", "3-1"]),
        "--cpus: bad cpu list '3-1'",
    );
}

#[test]
fn too_many_shards() {
    assert_usage_error(
        &arcly(&["topology", "--shards", "4096"]),
        "--shards 4096 asks for more shards",
    );
}

#[test]
fn bad_config_value() {
    let path = std::env::temp_dir().join(format!("arcly-bad-{}.toml", std::process::id()));
    std::fs::write(&path, "[streams]\nring_bytes = 0\n").unwrap();
    let out = arcly(&["check-config", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    assert_usage_error(&out, "streams.ring_bytes: must be at least 1");
}

#[test]
fn missing_config_file() {
    assert_usage_error(
        &arcly(&["serve", "--config", "/nonexistent/arcly.toml"]),
        "config /nonexistent/arcly.toml: No such file or directory",
    );
}
