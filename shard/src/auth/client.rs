//! One hook call over the shard's own sockets: connect, send the request,
//! read the status line, close. Everything is awaited on the shard's
//! io_uring and bounded by the hook timeout, so a slow or dead hook server
//! holds up only the session that asked.

use std::time::Duration;

use arcly_protocols::http::{ResponseHeadError, ResponseParser};
use bytes::BytesMut;

use super::HookUrl;
use crate::{ShardCtx, task};

/// Most response bytes read before the head must be complete.
const MAX_RESPONSE_HEAD: usize = 8 << 10;

/// Why a hook gave no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HookError {
    /// The TCP connection could not be made.
    #[error("cannot connect to {addr}: {error}")]
    Connect {
        /// Where.
        addr: std::net::SocketAddr,
        /// The OS error.
        error: std::io::Error,
    },
    /// Sending the request or reading the answer failed.
    #[error("socket error: {0}")]
    Io(std::io::Error),
    /// The server closed before a whole response head.
    #[error("the hook server closed the connection before answering")]
    ClosedEarly,
    /// The answer is not an HTTP/1.x response.
    #[error("the hook server's answer is not http: {0}")]
    BadResponse(ResponseHeadError),
    /// No answer within the hook timeout.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
}

/// Posts `request` (a whole HTTP request) to `url` and returns the status
/// of the answer.
pub(crate) async fn call(
    ctx: &ShardCtx,
    url: &HookUrl,
    request: &[u8],
    limit: Duration,
) -> Result<u16, HookError> {
    task::timeout(limit, exchange(ctx, url, request))
        .await
        .unwrap_or(Err(HookError::TimedOut(limit)))
}

async fn exchange(ctx: &ShardCtx, url: &HookUrl, request: &[u8]) -> Result<u16, HookError> {
    let addr = url.addr();
    let mut conn = ctx
        .connect(addr, None)
        .await
        .map_err(|error| HookError::Connect { addr, error })?;
    conn.write_all(request).await.map_err(HookError::Io)?;
    let mut parser = ResponseParser::with_limits(MAX_RESPONSE_HEAD, 64);
    let mut buf = BytesMut::new();
    loop {
        if conn.read(&mut buf).await.map_err(HookError::Io)? == 0 {
            return Err(HookError::ClosedEarly);
        }
        if let Some(head) = parser.feed(&mut buf).map_err(HookError::BadResponse)? {
            return Ok(head.status);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::thread;

    use super::*;
    use crate::{Runtime, RuntimeConfig};

    /// A one-shot server: reads the request, then writes `answer` (or
    /// nothing, holding the connection, when `None`).
    fn one_shot(answer: Option<&'static [u8]>) -> (HookUrl, thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url =
            HookUrl::resolve(&format!("http://{}/hook", listener.local_addr().unwrap())).unwrap();
        let server = thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut chunk = [0u8; 1024];
            // The request is small: read until its body is in.
            while !request.ends_with(b"}") {
                let n = socket.read(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&chunk[..n]);
            }
            match answer {
                Some(answer) => socket.write_all(answer).unwrap(),
                None => thread::sleep(Duration::from_millis(600)),
            }
            request
        });
        (url, server)
    }

    fn call_once(url: HookUrl, limit: Duration) -> Result<u16, String> {
        let runtime = Runtime::start(RuntimeConfig::local(1)).unwrap();
        let result = runtime
            .spawn_on(0, move |ctx: ShardCtx| async move {
                call(
                    &ctx,
                    &url,
                    b"POST /hook HTTP/1.1\r\nHost: x\r\n\r\n{}",
                    limit,
                )
                .await
                .map_err(|e| e.to_string())
            })
            .join()
            .unwrap();
        runtime.shutdown();
        runtime.join().unwrap();
        result
    }

    #[test]
    fn returns_the_status() {
        let (url, server) = one_shot(Some(
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno",
        ));
        assert_eq!(call_once(url, Duration::from_secs(2)), Ok(403));
        assert!(
            server
                .join()
                .unwrap()
                .starts_with(b"POST /hook HTTP/1.1\r\n")
        );
        let (url, server) = one_shot(Some(b"HTTP/1.0 204 No Content\r\n\r\n"));
        assert_eq!(call_once(url, Duration::from_secs(2)), Ok(204));
        server.join().unwrap();
    }

    #[test]
    fn says_why_there_is_no_answer() {
        let (url, server) = one_shot(None);
        assert_eq!(
            call_once(url, Duration::from_millis(200)),
            Err("no answer within 200ms".into())
        );
        server.join().unwrap();
        let (url, server) = one_shot(Some(b"SSH-2.0-OpenSSH_9.6\r\n"));
        let e = call_once(url, Duration::from_secs(2)).unwrap_err();
        assert!(e.starts_with("the hook server's answer is not http"), "{e}");
        server.join().unwrap();
        let (url, server) = one_shot(Some(b""));
        assert_eq!(
            call_once(url, Duration::from_secs(2)),
            Err("the hook server closed the connection before answering".into())
        );
        server.join().unwrap();
        // Bound without listening: refused, and no other test can take it.
        let held =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        held.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        let closed = held.local_addr().unwrap().as_socket().unwrap();
        let url = HookUrl::resolve(&format!("http://{closed}/")).unwrap();
        let e = call_once(url, Duration::from_secs(2)).unwrap_err();
        assert!(e.starts_with(&format!("cannot connect to {closed}")), "{e}");
        assert!(e.contains("refused"), "{e}");
    }
}
