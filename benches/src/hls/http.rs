//! A keep-alive HTTP/1.1 client for one player: one `GET` at a time on one
//! connection, the response head and body framing read incrementally with
//! the HTTP-FLV player's [`HeadReader`] and [`BodyReader`]. A body is kept
//! (playlists, parts) or only counted (segments: the harness pays for the
//! receive, not for a copy it does not need).
//!
//! A connection the server closed (an idle timeout, `Connection: close`) is
//! opened again for the next request, and a request that found it closed
//! before any answer is sent once more; a request that timed out leaves
//! the connection out of step, so it is dropped.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use arcly_shard::{Connection, ShardCtx};
use bytes::{Buf, BytesMut};
use futures_lite::future;

use crate::clock::wall_us;
use crate::http_flv::{BodyReader, HeadReader};

/// The largest body kept (playlists and parts; segments are only counted).
const MAX_KEPT_BODY: usize = 16 << 20;

/// What came back for a `GET`.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) reason: String,
    /// The body, when asked to keep it.
    pub(crate) body: Vec<u8>,
    /// Body bytes received (kept or not).
    pub(crate) len: u64,
    /// When the first byte of the answer was read: monotonic, and wall
    /// clock (µs since the UNIX epoch, comparable with the stamps).
    pub(crate) first_byte: Instant,
    pub(crate) first_byte_wall_us: u64,
    /// When the last byte was read.
    pub(crate) done: Instant,
}

/// Why a `GET` failed, as the report counts it.
#[derive(Debug)]
pub(crate) enum GetError {
    /// No whole answer within the limit.
    Timeout,
    /// Connecting, writing, reading or parsing failed.
    Failed(anyhow::Error),
}

impl GetError {
    /// A short label for the report's error counts.
    pub(crate) fn label(&self) -> String {
        match self {
            GetError::Timeout => "timed out".to_owned(),
            GetError::Failed(e) => format!("{e:#}"),
        }
    }
}

/// One player's connection to the server.
pub(crate) struct HttpClient {
    ctx: ShardCtx,
    addr: SocketAddr,
    host: String,
    conn: Option<Connection>,
    /// Bytes read but not yet parsed (none between answers, unless the
    /// server sent more than it announced).
    buf: BytesMut,
    /// Connections opened, the first included.
    pub(crate) connects: u64,
}

impl HttpClient {
    /// A client of the server at `addr`, sending `host` as `Host`; it
    /// connects on its first request.
    pub(crate) fn new(ctx: ShardCtx, addr: SocketAddr, host: String) -> HttpClient {
        HttpClient {
            ctx,
            addr,
            host,
            conn: None,
            buf: BytesMut::new(),
            connects: 0,
        }
    }

    /// `GET path`, waiting at most `limit` for the whole answer; `keep`
    /// keeps the body, else it is only counted.
    pub(crate) async fn get(
        &mut self,
        path: &str,
        keep: bool,
        limit: Duration,
    ) -> Result<Answer, GetError> {
        let ctx = self.ctx.clone();
        let attempt = async { Some(self.exchange(path, keep).await) };
        let timer = async {
            ctx.sleep(limit).await;
            None
        };
        match future::or(attempt, timer).await {
            Some(Ok(answer)) => Ok(answer),
            Some(Err(e)) => {
                self.drop_connection();
                Err(GetError::Failed(e))
            }
            None => {
                self.drop_connection();
                Err(GetError::Timeout)
            }
        }
    }

    fn drop_connection(&mut self) {
        self.conn = None;
        self.buf.clear();
    }

    /// Sends the request and reads its answer; on a reused connection the
    /// server had closed, once more on a new one.
    async fn exchange(&mut self, path: &str, keep: bool) -> anyhow::Result<Answer> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: arcly-bench\r\nAccept: */*\r\n\r\n",
            self.host
        );
        let reused = self.conn.is_some();
        match self.send_and_read(&request, keep).await? {
            Some(answer) => Ok(answer),
            None if reused => {
                self.drop_connection();
                self.send_and_read(&request, keep)
                    .await?
                    .context("the server closed a new connection before answering")
            }
            None => anyhow::bail!("the server closed the connection before answering"),
        }
    }

    /// `None` when the connection turned out closed before any answer.
    async fn send_and_read(&mut self, request: &str, keep: bool) -> anyhow::Result<Option<Answer>> {
        if self.conn.is_none() {
            let conn = self
                .ctx
                .connect(self.addr, None)
                .await
                .with_context(|| format!("connect to {}", self.addr))?;
            self.conn = Some(conn);
            self.connects += 1;
        }
        let conn = self.conn.as_mut().expect("connected above");
        if conn.write_all(request.as_bytes()).await.is_err() {
            // Written into a connection the server closed: try afresh.
            return Ok(None);
        }
        let mut head = HeadReader::default();
        let mut start = None;
        let mut body = Vec::new();
        let mut len = 0u64;
        let mut first = None;
        loop {
            if self.buf.is_empty() {
                let n = match conn.read(&mut self.buf).await {
                    Ok(n) => n,
                    Err(_) if first.is_none() => 0,
                    Err(e) => return Err(e).context("read"),
                };
                if n == 0 {
                    self.conn = None;
                    return match start {
                        None if first.is_none() => Ok(None),
                        Some((status, reason, BodyReader::UntilClose)) => {
                            let (first_byte, first_byte_wall_us) =
                                first.expect("bytes came before the head ended");
                            Ok(Some(Answer {
                                status,
                                reason,
                                body,
                                len,
                                first_byte,
                                first_byte_wall_us,
                                done: Instant::now(),
                            }))
                        }
                        _ => anyhow::bail!("the server closed mid-answer"),
                    };
                }
            }
            if first.is_none() {
                first = Some((Instant::now(), wall_us()));
            }
            let mut input = &self.buf[..];
            if start.is_none()
                && let Some(s) = head.feed(&mut input)?
            {
                start = Some((s.status, s.reason, s.body));
            }
            if let Some((status, reason, reader)) = &mut start {
                loop {
                    let n = reader.next_data(&mut input)?;
                    if n == 0 {
                        break;
                    }
                    if keep {
                        anyhow::ensure!(
                            body.len() + n <= MAX_KEPT_BODY,
                            "a body over {MAX_KEPT_BODY} bytes"
                        );
                        body.extend_from_slice(&input[..n]);
                    }
                    len += n as u64;
                    reader.consume(n);
                    input = &input[n..];
                }
                if reader.is_done() {
                    let rest = input.len();
                    let used = self.buf.len() - rest;
                    self.buf.advance(used);
                    let (first_byte, first_byte_wall_us) =
                        first.expect("bytes came before the answer ended");
                    return Ok(Some(Answer {
                        status: *status,
                        reason: std::mem::take(reason),
                        body,
                        len,
                        first_byte,
                        first_byte_wall_us,
                        done: Instant::now(),
                    }));
                }
            }
            // Everything here was taken (the head reader keeps its part).
            self.buf.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    use arcly_shard::{Runtime, RuntimeConfig};

    use super::*;

    /// Reads one request head from `conn`; its request line.
    fn request_line(conn: &mut TcpStream) -> String {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if conn.read(&mut byte).unwrap() == 0 {
                return String::new();
            }
            head.push(byte[0]);
        }
        String::from_utf8(head)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_owned()
    }

    /// Runs `f` with a client on a one-shard runtime.
    fn with_client<T: Send + 'static>(
        addr: SocketAddr,
        f: impl AsyncFnOnce(HttpClient) -> T + Send + 'static,
    ) -> T {
        let runtime = Runtime::start(RuntimeConfig::local(1)).unwrap();
        let out = runtime
            .spawn_on(0, move |ctx: ShardCtx| async move {
                f(HttpClient::new(ctx, addr, addr.to_string())).await
            })
            .join()
            .unwrap();
        runtime.shutdown();
        runtime.join().unwrap();
        out
    }

    /// Answers on one keep-alive connection (a length in two writes, then
    /// chunked), closes it, and answers once more on a new connection.
    #[test]
    fn keeps_the_connection_and_opens_another_when_the_server_closes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let mut seen = Vec::new();
            let (mut conn, _) = listener.accept().unwrap();
            seen.push(request_line(&mut conn));
            conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n01234")
                .unwrap();
            std::thread::sleep(Duration::from_millis(20));
            conn.write_all(b"56789").unwrap();
            seen.push(request_line(&mut conn));
            conn.write_all(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            )
            .unwrap();
            drop(conn);
            let (mut conn, _) = listener.accept().unwrap();
            seen.push(request_line(&mut conn));
            conn.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 4\r\n\r\nnope")
                .unwrap();
            seen
        });
        let (answers, connects) = with_client(addr, async move |mut client| {
            let limit = Duration::from_secs(5);
            let mut answers = Vec::new();
            for (path, keep) in [("/a/ll.m3u8", true), ("/a/seg1.ts", false), ("/a/x", true)] {
                let a = client.get(path, keep, limit).await.unwrap();
                answers.push((a.status, a.body, a.len, a.done >= a.first_byte));
            }
            (answers, client.connects)
        });
        assert_eq!(
            answers,
            vec![
                (200, b"0123456789".to_vec(), 10, true),
                (200, Vec::new(), 3, true),
                (404, b"nope".to_vec(), 4, true),
            ]
        );
        assert_eq!(connects, 2);
        assert_eq!(
            server.join().unwrap(),
            vec![
                "GET /a/ll.m3u8 HTTP/1.1",
                "GET /a/seg1.ts HTTP/1.1",
                "GET /a/x HTTP/1.1"
            ]
        );
    }

    #[test]
    fn a_server_that_never_answers_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            request_line(&mut conn);
            // Hold the connection until the client gives up.
            let _ = conn.read(&mut [0u8; 1]);
        });
        let outcome = with_client(addr, async move |mut client| {
            let began = Instant::now();
            let e = client
                .get(
                    "/a/ll.m3u8?_HLS_msn=9&_HLS_part=0",
                    true,
                    Duration::from_millis(100),
                )
                .await
                .unwrap_err();
            (e.label(), began.elapsed())
        });
        assert_eq!(outcome.0, "timed out");
        assert!(outcome.1 < Duration::from_secs(2), "{:?}", outcome.1);
        server.join().unwrap();
    }
}
