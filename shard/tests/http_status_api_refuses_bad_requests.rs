//! The HTTP driver: the status API answers (pipelined requests included),
//! and a malformed or oversized head gets its 4xx and a closed connection,
//! while the server goes on serving others.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use arcly_shard::{HttpConfig, Runtime, RuntimeConfig};

fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut client = TcpStream::connect(addr).unwrap();
    client.write_all(request).unwrap();
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).unwrap();
    String::from_utf8_lossy(&reply).into_owned()
}

#[test]
fn status_api_and_bad_requests() {
    let runtime = Runtime::start(RuntimeConfig::local(2)).unwrap();
    let addr = runtime
        .listen_http("127.0.0.1:0".parse().unwrap(), HttpConfig::default())
        .unwrap();

    // Two pipelined requests, the second asking to close.
    let reply = exchange(
        addr,
        b"GET /api/v1/shards HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(reply.matches("HTTP/1.1 200 OK").count(), 2, "{reply}");
    assert!(reply.contains("{\"shards\":[{\"shard\":0,"), "{reply}");
    assert!(reply.contains("{\"shard\":1,"), "{reply}");
    assert!(reply.ends_with("ok\n"), "{reply}");

    let reply = exchange(addr, b"\x16\x03\x01garbage that is no request\r\n\r\n");
    assert!(reply.starts_with("HTTP/1.1 400 Bad Request"), "{reply}");

    let huge = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 << 10)
    );
    let reply = exchange(addr, huge.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");

    let reply = exchange(
        addr,
        b"POST /api/v1/shards HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 405"), "{reply}");

    let reply = exchange(
        addr,
        b"GET /live/x.flv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");

    // Still serving after all that.
    let reply = exchange(addr, b"GET /healthz HTTP/1.0\r\n\r\n");
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");

    runtime.shutdown();
    runtime.join().unwrap();
}
