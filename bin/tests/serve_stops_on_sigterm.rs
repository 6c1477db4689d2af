//! `arcly serve` starts, prints its placement and addresses, answers on its
//! HTTP port, and exits 0 soon after SIGTERM, even with a client connected.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn serve_prints_placement_serves_and_exits_zero_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_arcly"))
        .args(["serve", "--shards", "2", "--http-listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start arcly serve");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let http = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "serve exited early: {printed}"
        );
        printed.push_str(&line);
        if let Some(rest) = line.strip_prefix("http: listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    assert!(printed.contains("placement: 2 shards"), "{printed}");
    assert!(printed.contains("shard 1 -> cpu"), "{printed}");

    // A keep-alive client that stays connected must not hold up the exit.
    let mut client = TcpStream::connect(&http).unwrap();
    client
        .write_all(b"GET /api/v1/shards HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reply = [0u8; 4096];
    let n = client.read(&mut reply).unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]);
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");

    let sent = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    eprintln!("exited {:?} after SIGTERM", sent.elapsed());
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("arcly: stopped"), "{rest}");
}
