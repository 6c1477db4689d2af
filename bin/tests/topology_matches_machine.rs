//! `arcly topology` reports what the kernel says this machine has.

use std::process::Command;

fn online_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[test]
fn prints_cpus_nodes_and_placement() {
    let out = Command::new(env!("CARGO_BIN_EXE_arcly"))
        .arg("topology")
        .output()
        .expect("run arcly");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let cpus = online_cpus();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("{cpus} CPU")) && first.contains("NUMA node"),
        "{text}"
    );
    assert!(text.contains(&format!("placement: {cpus} shard")), "{text}");
}

#[test]
fn shards_flag_limits_the_placement() {
    let out = Command::new(env!("CARGO_BIN_EXE_arcly"))
        .args(["topology", "--shards", "1"])
        .output()
        .expect("run arcly");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("placement: 1 shard\n  shard 0 -> cpu"),
        "{text}"
    );
}
