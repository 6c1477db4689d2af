//! Hostile HTTP next to live HLS viewers: malformed request lines, 100 KB
//! of headers, path traversal, unknown methods, bogus HLS names and a head
//! sent one byte a second each get a clear 4xx and (where the connection
//! cannot go on) a closed connection, with no panic; meanwhile an RTMP
//! player and an HLS playlist reader of the same server carry on.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{Arcly, Healthy, get_file, get_playlist, wait_closed, wait_segments};

const STREAM: &str = "live/healthy";

/// Sends `request` and returns the status line of the answer, after the
/// server closed the connection.
fn refused(server: &Arcly, request: &[u8]) -> String {
    let mut conn = TcpStream::connect(server.http).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.write_all(request).unwrap();
    let mut answer = [0u8; 512];
    let n = conn.read(&mut answer).unwrap();
    let status = String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_owned();
    if let Err(why) = wait_closed(&mut conn, Instant::now(), Duration::from_secs(5)) {
        panic!("after `{status}` the connection stayed open: {why}");
    }
    status
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

#[test]
fn bad_http_requests_are_refused_while_hls_viewers_carry_on() {
    let server = Arcly::start();
    let mut healthy = Healthy::start(&server);
    let first = wait_segments(&server, STREAM, "index.m3u8", 1);

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage",
            b"\x16\x03\x01 no request at all\r\n\r\n".to_vec(),
            "400",
        ),
        (
            "100 KB of headers",
            format!(
                "GET /{STREAM}/index.m3u8 HTTP/1.1\r\nX-Big: {}\r\n\r\n",
                "a".repeat(100 << 10)
            )
            .into_bytes(),
            "431",
        ),
        ("traversal", get("/live/../../etc/passwd"), "400"),
        ("traversal into a key", get("/live/../x/index.m3u8"), "400"),
        (
            "encoded traversal",
            get("/%2e%2e/healthy/index.m3u8"),
            "400",
        ),
        (
            "unknown method",
            b"BREW /live/healthy/index.m3u8 HTTP/1.1\r\n\r\n".to_vec(),
            "501",
        ),
        (
            "a method not served",
            b"DELETE /live/healthy/index.m3u8 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                .to_vec(),
            "405",
        ),
        ("unknown HLS name", get("/live/healthy/passwd"), "404"),
        (
            "a segment long gone",
            get("/live/healthy/seg18446744073709551615.ts"),
            "404",
        ),
        (
            "a directive far ahead",
            get("/live/healthy/ll.m3u8?_HLS_msn=99999"),
            "400",
        ),
    ];
    for (what, request, status) in cases {
        let line = refused(&server, &request);
        assert!(
            line.contains(&format!(" {status} ")),
            "{what}: got `{line}`, wanted {status}"
        );
    }

    // One byte a second: refused once the head has taken too long.
    let mut slow = TcpStream::connect(server.http).unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    for byte in b"GET /live/healthy/index.m3u8 HTTP/1.1\r\nHost: x\r\n" {
        if slow.write_all(&[*byte]).is_err() {
            break;
        }
        slow.set_read_timeout(Some(Duration::from_millis(1000)))
            .unwrap();
        let mut buf = [0u8; 256];
        if let Ok(n) = slow.read(&mut buf) {
            answer.extend_from_slice(&buf[..n]);
            break;
        }
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "after {:?}: `{answer}`",
        started.elapsed()
    );
    wait_closed(&mut slow, Instant::now(), Duration::from_secs(5)).unwrap();

    // The bystanders: the RTMP player flows and HLS moves on.
    healthy.assert_unaffected(&server);
    thread::sleep(Duration::from_millis(100));
    let later = wait_segments(&server, STREAM, "index.m3u8", 1);
    let (status, _) = get_playlist(&server, STREAM, "ll.m3u8");
    assert_eq!(status, 200);
    assert_ne!(first.text, later.text, "the playlist moved on");
    let newest = later.segments().pop().unwrap();
    assert_eq!(
        &get_file(&server, STREAM, &newest.uri)[..1],
        b"G",
        "a TS segment starts with a sync byte"
    );
}
