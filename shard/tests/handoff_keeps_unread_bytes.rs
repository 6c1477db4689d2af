//! A connection accepted by one shard is handed to the other after its
//! first line was read, together with the bytes read past that line; the
//! other shard echoes everything, and the client sees every byte it sent
//! once and in order.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use arcly_shard::{Arrival, Connection, Runtime, RuntimeConfig, ShardCtx};
use bytes::{Bytes, BytesMut};

/// Accepting shard: read a first line, hand the rest over. Other shard:
/// echo the line (sent along as the protocol state), then everything else.
async fn serve(
    ctx: ShardCtx,
    mut conn: Connection,
    arrival: Arrival,
    unread_seen: Arc<AtomicUsize>,
) {
    match arrival {
        Arrival::Accepted => {
            let mut buf = BytesMut::new();
            let line_end = loop {
                if let Some(pos) = buf.iter().position(|&b| b == b'\n') {
                    break pos + 1;
                }
                if conn.read(&mut buf).await.unwrap() == 0 {
                    return;
                }
            };
            let first_line = buf.split_to(line_end).freeze();
            unread_seen.store(buf.len(), Ordering::SeqCst);
            let to = (ctx.id() + 1) % ctx.shards();
            let state = Box::new(first_line);
            if let Err(e) = ctx.hand_off(to, conn, state, buf.freeze()) {
                panic!("{e}");
            }
        }
        Arrival::HandedOff { from, state } => {
            assert_ne!(from, ctx.id());
            let first_line = state.downcast::<Bytes>().unwrap();
            conn.write_all(&first_line).await.unwrap();
            let mut buf = BytesMut::new();
            while conn.read(&mut buf).await.unwrap() > 0 {
                conn.write_all(&buf).await.unwrap();
                buf.clear();
            }
            conn.close_write().await.unwrap();
        }
    }
}

#[test]
fn handoff_keeps_unread_bytes() {
    let runtime = Runtime::start(RuntimeConfig::local(2)).unwrap();
    let unread_seen = Arc::new(AtomicUsize::new(0));
    let seen = unread_seen.clone();
    let addr = runtime
        .listen("127.0.0.1:0", move |ctx, conn, arrival| {
            serve(ctx, conn, arrival, seen.clone())
        })
        .unwrap();

    let mut client = TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Read the echo while writing, so neither side's buffers fill up.
    let mut reader = client.try_clone().unwrap();
    let echo = std::thread::spawn(move || {
        let mut echoed = Vec::new();
        reader.read_to_end(&mut echoed).map(|_| echoed)
    });
    // The first line and more in one write, so the accepting shard reads
    // past the line; then more after the hand-off.
    let head: Vec<u8> = b"HELLO arcly\n"
        .iter()
        .copied()
        .chain((0..3000u32).map(|i| (i % 251) as u8))
        .collect();
    let tail: Vec<u8> = (0..200_000u32).map(|i| (i % 241) as u8).collect();
    client.write_all(&head).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    client.write_all(&tail).unwrap();
    client.shutdown(Shutdown::Write).unwrap();

    let echoed = echo.join().unwrap().unwrap();
    let sent: Vec<u8> = head.iter().chain(&tail).copied().collect();
    assert_eq!(echoed.len(), sent.len());
    assert!(echoed == sent, "the echo differs from what was sent");
    assert!(
        unread_seen.load(Ordering::SeqCst) > 0,
        "nothing was read past the first line"
    );

    let stats = runtime.stats().unwrap();
    let sent_handoffs: u64 = stats.iter().map(|s| s.handoffs_sent).sum();
    let received: u64 = stats.iter().map(|s| s.handoffs_received).sum();
    assert_eq!((sent_handoffs, received), (1, 1));
    runtime.shutdown();
    runtime.join().unwrap();
}
