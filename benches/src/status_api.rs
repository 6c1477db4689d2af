//! What the server says about its shards: arcly's status API,
//! `GET /api/v1/shards` → `{"shards":[{"shard":0,"viewers":..,...},...]}`,
//! read at both edges of the steady window. A server without it (nginx-rtmp,
//! or no `--server-http`) has an unknown shard count, and the report says
//! so.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::http_flv::{BodyReader, HeadReader};
use crate::target::HttpUrl;

/// The status API's path.
pub(crate) const SHARDS_PATH: &str = "/api/v1/shards";

/// How long the status API may take to answer.
const TIMEOUT: Duration = Duration::from_secs(3);

/// The largest answer read.
const MAX_BODY: usize = 4 << 20;

/// One shard's counters that say where the load went: gauges as at the end
/// of the window, counters as their increase over it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ShardCounters {
    pub(crate) shard: u64,
    /// Streams whose publisher is on this shard.
    pub(crate) streams_owned: u64,
    /// Streams relayed here from their owner.
    pub(crate) streams_mirrored: u64,
    pub(crate) viewers: u64,
    pub(crate) frames_in: u64,
    pub(crate) frames_out: u64,
    pub(crate) bytes_out: u64,
    pub(crate) relay_drops: u64,
    pub(crate) connections_accepted: u64,
    pub(crate) handoffs_sent: u64,
    pub(crate) handoffs_received: u64,
}

impl ShardCounters {
    /// This reading's gauges, and its counters minus those of `start`.
    fn since(&self, start: &ShardCounters) -> ShardCounters {
        ShardCounters {
            frames_in: self.frames_in.saturating_sub(start.frames_in),
            frames_out: self.frames_out.saturating_sub(start.frames_out),
            bytes_out: self.bytes_out.saturating_sub(start.bytes_out),
            relay_drops: self.relay_drops.saturating_sub(start.relay_drops),
            connections_accepted: self
                .connections_accepted
                .saturating_sub(start.connections_accepted),
            handoffs_sent: self.handoffs_sent.saturating_sub(start.handoffs_sent),
            handoffs_received: self
                .handoffs_received
                .saturating_sub(start.handoffs_received),
            ..self.clone()
        }
    }
}

#[derive(Deserialize)]
struct ShardsDoc {
    shards: Vec<ShardCounters>,
}

/// The server's shards over a run, as far as known.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ServerShards {
    /// The status API asked, if any.
    pub(crate) api: Option<String>,
    /// How many shards; `None` when unknown.
    pub(crate) count: Option<usize>,
    /// Why the count is unknown.
    pub(crate) unknown: Option<String>,
    /// Per shard: streams and viewers at the end of the window, frames and
    /// bytes out (and the other counters) over it.
    pub(crate) shards: Vec<ShardCounters>,
}

impl ServerShards {
    /// From readings at the start and the end of the window.
    pub(crate) fn over(
        api: Option<&HttpUrl>,
        start: &Result<Vec<ShardCounters>, String>,
        end: &Result<Vec<ShardCounters>, String>,
    ) -> ServerShards {
        let api_text = api.map(|a| a.at(SHARDS_PATH).to_string());
        let unknown = |why: String| ServerShards {
            api: api_text.clone(),
            count: None,
            unknown: Some(why),
            shards: Vec::new(),
        };
        match (start, end) {
            (Err(e), _) | (_, Err(e)) => unknown(e.clone()),
            (Ok(start), Ok(end)) => {
                let shards: Vec<ShardCounters> = end
                    .iter()
                    .map(|e| match start.iter().find(|s| s.shard == e.shard) {
                        Some(s) => e.since(s),
                        None => e.clone(),
                    })
                    .collect();
                ServerShards {
                    api: api_text.clone(),
                    count: Some(shards.len()),
                    unknown: None,
                    shards,
                }
            }
        }
    }
}

/// Asks `server` (an `http://HOST:PORT` root) for its shards; `Err` with a
/// line for the report when the server has no such API. Without a server,
/// the count is unknown.
pub(crate) fn read_shards(server: Option<&HttpUrl>) -> Result<Vec<ShardCounters>, String> {
    let Some(server) = server else {
        return Err("no --server-http given".to_owned());
    };
    let url = server.at(SHARDS_PATH);
    fetch_shards(&url).map_err(|e| format!("GET {url}: {e:#}"))
}

fn fetch_shards(url: &HttpUrl) -> anyhow::Result<Vec<ShardCounters>> {
    let body = get(url)?;
    let doc: ShardsDoc = serde_json::from_slice(&body)
        .context("not arcly's status API (no {\"shards\":[...]} in the answer)")?;
    anyhow::ensure!(!doc.shards.is_empty(), "no shards in the answer");
    Ok(doc.shards)
}

/// A blocking `GET`: the body of a 200 answer.
fn get(url: &HttpUrl) -> anyhow::Result<Vec<u8>> {
    let mut stream = TcpStream::connect_timeout(&url.addr, TIMEOUT).context("connect")?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: arcly-bench\r\nConnection: close\r\n\r\n",
        url.path, url.host
    );
    stream.write_all(request.as_bytes()).context("write")?;
    let mut head = HeadReader::default();
    let mut framing: Option<BodyReader> = None;
    let mut body = Vec::new();
    let mut buf = vec![0u8; 16 << 10];
    loop {
        let n = stream.read(&mut buf).context("read")?;
        if n == 0 {
            let whole = framing
                .as_ref()
                .is_some_and(|f| matches!(f, BodyReader::UntilClose));
            anyhow::ensure!(whole, "the server closed before the answer was whole");
            return Ok(body);
        }
        let mut input = &buf[..n];
        if framing.is_none() {
            let Some(start) = head.feed(&mut input)? else {
                continue;
            };
            anyhow::ensure!(
                start.status == 200,
                "the server answered {} {}",
                start.status,
                start.reason
            );
            framing = Some(start.body);
        }
        let Some(reader) = framing.as_mut() else {
            continue;
        };
        loop {
            let n = reader.next_data(&mut input)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&input[..n]);
            reader.consume(n);
            input = &input[n..];
        }
        anyhow::ensure!(body.len() <= MAX_BODY, "an answer over {MAX_BODY} bytes");
        if reader.is_done() {
            return Ok(body);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    /// Serves `answer` once on a loopback port and returns the server's
    /// root URL.
    fn serve_once(answer: &'static [u8]) -> HttpUrl {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = conn.read(&mut request).unwrap();
            conn.write_all(answer).unwrap();
        });
        format!("http://127.0.0.1:{port}").parse().unwrap()
    }

    #[test]
    fn reads_arclys_shards_and_their_change_over_the_window() {
        let body = br#"{"shards":[{"shard":0,"streams_owned":1,"viewers":3,"frames_out":100,"mailbox_depth":0},{"shard":1,"viewers":4,"frames_out":50}]}"#;
        let answer: &'static [u8] = Box::leak(
            [
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
                body,
            ]
            .concat()
            .into_boxed_slice(),
        );
        let server = serve_once(answer);
        let start = read_shards(Some(&server));
        let shards = start.as_ref().unwrap();
        assert_eq!(shards.len(), 2);
        assert_eq!((shards[0].streams_owned, shards[0].viewers), (1, 3));
        let mut end = shards.clone();
        end[0].frames_out = 160;
        end[1].viewers = 9;
        let over = ServerShards::over(Some(&server), &start, &Ok(end));
        assert_eq!(over.count, Some(2));
        assert_eq!(over.shards[0].frames_out, 60);
        assert_eq!(over.shards[1].viewers, 9);
        assert!(over.api.unwrap().ends_with("/api/v1/shards"));
    }

    #[test]
    fn a_chunked_answer_is_read_whole() {
        let server = serve_once(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n8\r\n{\"shards\r\n8\r\n\":[{}]}\n\r\n0\r\n\r\n",
        );
        assert_eq!(
            read_shards(Some(&server)).unwrap(),
            vec![ShardCounters::default()]
        );
    }

    #[test]
    fn another_server_leaves_the_count_unknown() {
        let none = ServerShards::over(None, &read_shards(None), &read_shards(None));
        assert_eq!(none.count, None);
        assert_eq!(none.unknown.as_deref(), Some("no --server-http given"));
        let nginx = serve_once(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        let e = read_shards(Some(&nginx)).unwrap_err();
        assert!(e.ends_with("the server answered 404 Not Found"), "{e}");
        let html = serve_once(b"HTTP/1.0 200 OK\r\n\r\n<html></html>");
        let e = read_shards(Some(&html)).unwrap_err();
        assert!(e.contains("not arcly's status API"), "{e}");
    }
}
