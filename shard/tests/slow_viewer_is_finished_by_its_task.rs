//! The shard's fan-out writes each frame straight to every caught-up
//! viewer's socket. A viewer whose socket fills up (a small receive buffer
//! and a pause in reading) is handed to its own task, which finishes the
//! write once the viewer reads again: that viewer still reads a
//! well-formed HTTP-FLV body (whole chunks, whole tags) to its end, and a
//! viewer reading all along gets every frame in order.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use arcly_engine::{Codec, FrameFlags, MediaFrame, PublishInfo, StreamKey, Timestamp};
use arcly_shard::{HttpConfig, Runtime, RuntimeConfig, ShardCtx};
use bytes::Bytes;
use crossbeam_channel::{Receiver, bounded};
use socket2::{Domain, SockAddr, Socket, Type};

/// Video frames pushed after both viewers joined, 100 a second.
const FRAMES: i64 = 300;
/// Large frames, so the slow viewer's socket fills within its pause.
const FRAME_BYTES: usize = 32 << 10;
const GOP_FRAMES: i64 = 25;

#[test]
fn a_slow_viewer_is_finished_by_its_own_task() {
    let runtime = Runtime::start(RuntimeConfig::local(1)).unwrap();
    let addr = runtime
        .listen_http("127.0.0.1:0".parse().unwrap(), HttpConfig::default())
        .unwrap();
    let (live_tx, live) = bounded(1);
    let (go, go_rx) = bounded(1);
    let publisher = runtime.spawn_on(0, move |ctx: ShardCtx| async move {
        let key = StreamKey::new("live", "slow").unwrap();
        let info = PublishInfo::new("test", None, std::time::Instant::now());
        let publisher = ctx.publish(key, info).await.unwrap();
        publisher.push(frame(0, FrameFlags::CONFIG, 40)).unwrap();
        publisher
            .push(frame(0, FrameFlags::KEYFRAME, 1000))
            .unwrap();
        live_tx.send(()).unwrap();
        wait(&ctx, &go_rx).await;
        for n in 1..=FRAMES {
            let flags = if n % GOP_FRAMES == 0 {
                FrameFlags::KEYFRAME
            } else {
                FrameFlags::NONE
            };
            publisher
                .push(frame(n * 10_000, flags, FRAME_BYTES))
                .unwrap();
            ctx.sleep(Duration::from_millis(10)).await;
        }
        publisher.finish();
    });
    live.recv_timeout(Duration::from_secs(10)).unwrap();

    let mut fast = get_flv(addr, None);
    let mut slow = get_flv(addr, Some(4096));
    go.send(()).unwrap();
    let slow_reader = std::thread::spawn(move || {
        let mut first = vec![0; 64 << 10];
        slow.read_exact(&mut first).unwrap();
        std::thread::sleep(Duration::from_secs(2));
        let mut body = first;
        slow.read_to_end(&mut body).unwrap();
        body
    });
    let fast_tags = flv_tags(&read_body(&mut fast));
    let video: Vec<u32> = fast_tags
        .iter()
        .filter(|t| t.kind == 9)
        .map(|t| t.timestamp)
        .collect();
    assert_eq!(
        video.len() as i64,
        FRAMES + 2,
        "the fast viewer gets every frame"
    );
    assert!(
        video.windows(2).all(|w| w[0] <= w[1]),
        "in order: {video:?}"
    );

    let slow_body = dechunk_after_head(&slow_reader.join().unwrap());
    let slow_tags = flv_tags(&slow_body);
    assert!(
        slow_tags.iter().filter(|t| t.kind == 9).count() > 2,
        "the slow viewer got frames after its pause"
    );
    publisher.join().unwrap();

    let slow_writes: u64 = runtime.stats().unwrap().iter().map(|s| s.slow_writes).sum();
    assert!(slow_writes > 0, "the slow viewer's socket filled up");
    runtime.shutdown();
    runtime.join().unwrap();
}

fn frame(dts_us: i64, flags: FrameFlags, size: usize) -> MediaFrame {
    MediaFrame {
        codec: Codec::H264,
        dts: Timestamp(dts_us),
        pts: Timestamp(dts_us),
        flags,
        payload: Bytes::from(vec![0x5a; size]),
    }
}

/// Waits for the test thread's go without blocking the shard.
async fn wait(ctx: &ShardCtx, go: &Receiver<()>) {
    while go.try_recv().is_err() {
        ctx.sleep(Duration::from_millis(5)).await;
    }
}

/// Starts `GET /live/slow.flv`, with a receive buffer of `receive_buffer`
/// bytes if given.
fn get_flv(addr: SocketAddr, receive_buffer: Option<usize>) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    if let Some(bytes) = receive_buffer {
        socket.set_recv_buffer_size(bytes).unwrap();
    }
    socket.connect(&SockAddr::from(addr)).unwrap();
    let mut stream = TcpStream::from(socket);
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(b"GET /live/slow.flv HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    stream
}

/// The whole chunked body of the response on `stream`.
fn read_body(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    stream.read_to_end(&mut all).unwrap();
    dechunk_after_head(&all)
}

/// Checks the response head and decodes the chunked body after it, which
/// must end with the last chunk.
fn dechunk_after_head(response: &[u8]) -> Vec<u8> {
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    let head = String::from_utf8_lossy(&response[..head_end]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let mut reader = BufReader::new(&response[head_end..]);
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let size = usize::from_str_radix(line.trim_end(), 16)
            .unwrap_or_else(|_| panic!("chunk size line {line:?} after {} bytes", body.len()));
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).unwrap();
        assert_eq!(&chunk[size..], b"\r\n", "a chunk ends with CRLF");
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

struct Tag {
    kind: u8,
    timestamp: u32,
}

/// The tags of an FLV body, each checked against its previous-tag-size.
fn flv_tags(body: &[u8]) -> Vec<Tag> {
    assert_eq!(&body[..3], b"FLV", "an FLV header first");
    let mut at = 9 + 4;
    let mut tags = Vec::new();
    while at < body.len() {
        let header = &body[at..at + 11];
        let kind = header[0];
        assert!(matches!(kind, 8 | 9 | 18), "tag type {kind} at byte {at}");
        let size = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        let timestamp = u32::from_be_bytes([header[7], header[4], header[5], header[6]]);
        let end = at + 11 + size;
        let previous = u32::from_be_bytes(body[end..end + 4].try_into().unwrap()) as usize;
        assert_eq!(previous, 11 + size, "previous tag size at byte {end}");
        tags.push(Tag { kind, timestamp });
        at = end + 4;
    }
    tags
}
