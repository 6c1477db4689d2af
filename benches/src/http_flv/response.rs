//! The head of an HTTP/1.x response, read incrementally: the status and
//! how the body is framed — all a player needs of it.

use anyhow::Context;

use super::body::BodyReader;

/// The longest response head accepted.
const MAX_HEAD_LEN: usize = 16 << 10;

/// What a response head says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResponseStart {
    /// The status code.
    pub(crate) status: u16,
    /// The reason phrase, for messages.
    pub(crate) reason: String,
    /// How the body that follows is framed.
    pub(crate) body: BodyReader,
}

/// Collects a response head until its empty line.
#[derive(Clone, Debug, Default)]
pub(crate) struct HeadReader {
    head: Vec<u8>,
}

impl HeadReader {
    /// Takes bytes from the front of `input` up to the end of the head,
    /// leaving what follows (the body) in `input`; `Ok(None)` until the head
    /// is complete.
    pub(crate) fn feed(&mut self, input: &mut &[u8]) -> anyhow::Result<Option<ResponseStart>> {
        // Only the bytes that might complete `\r\n\r\n` are searched again.
        let already = self.head.len();
        let searched_from = already.saturating_sub(3);
        let take = input.len().min(MAX_HEAD_LEN + 1 - already);
        self.head.extend_from_slice(&input[..take]);
        let end = self.head[searched_from..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|at| searched_from + at + 4);
        let Some(end) = end else {
            anyhow::ensure!(
                self.head.len() <= MAX_HEAD_LEN,
                "the response head is longer than {MAX_HEAD_LEN} bytes"
            );
            *input = &input[take..];
            return Ok(None);
        };
        // Give back what follows the head.
        *input = &input[end - already..];
        self.head.truncate(end);
        parse_head(&self.head).map(Some)
    }
}

/// Parses a complete head (ending with its empty line).
fn parse_head(head: &[u8]) -> anyhow::Result<ResponseStart> {
    let text = std::str::from_utf8(head).context("the response head is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    anyhow::ensure!(
        matches!(version, "HTTP/1.1" | "HTTP/1.0"),
        "not an HTTP/1.x response: {status_line:?}"
    );
    let status = parts
        .next()
        .filter(|code| code.len() == 3)
        .and_then(|code| code.parse::<u16>().ok())
        .with_context(|| format!("no status code in {status_line:?}"))?;
    let reason = parts.next().unwrap_or_default().to_owned();
    let mut chunked = false;
    let mut coded = false;
    let mut length = None;
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .with_context(|| format!("a header line without a colon: {line:?}"))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked must be the last coding; anything else runs to close.
            coded = true;
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse::<u64>()
                .with_context(|| format!("a bad content-length: {value:?}"))?;
            anyhow::ensure!(
                length.is_none_or(|l| l == n),
                "two different content-lengths"
            );
            length = Some(n);
        }
    }
    let body = match (chunked, coded, length) {
        (true, _, _) => BodyReader::chunked(),
        (false, true, _) | (false, false, None) => BodyReader::UntilClose,
        (false, false, Some(n)) => BodyReader::Length(n),
    };
    Ok(ResponseStart {
        status,
        reason,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: video/x-flv\r\nTransfer-Encoding: chunked\r\nconnection: close\r\n\r\n";

    #[test]
    fn reads_a_head_split_anywhere_and_leaves_the_body() {
        let mut wire = HEAD.to_vec();
        wire.extend_from_slice(b"5\r\nFLV");
        for split in 0..=wire.len() {
            let mut reader = HeadReader::default();
            let mut start = None;
            let mut body = Vec::new();
            for part in [&wire[..split], &wire[split..]] {
                let mut input = part;
                if start.is_none() {
                    start = reader.feed(&mut input).unwrap();
                }
                if start.is_some() {
                    body.extend_from_slice(input);
                } else {
                    assert!(input.is_empty(), "split at {split}");
                }
            }
            let start = start.unwrap();
            assert_eq!(start.status, 200, "split at {split}");
            assert_eq!(start.body, BodyReader::chunked());
            assert_eq!(body, b"5\r\nFLV", "split at {split}");
        }
    }

    #[test]
    fn frames_bodies_by_length_coding_or_close() {
        let parse = |head: &str| parse_head(head.as_bytes()).unwrap();
        let r = parse("HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\n\r\n");
        assert_eq!((r.status, r.reason.as_str()), (404, "Not Found"));
        assert_eq!(r.body, BodyReader::Length(12));
        let r = parse("HTTP/1.0 200 OK\r\ncontent-type: video/x-flv\r\n\r\n");
        assert_eq!(r.body, BodyReader::UntilClose);
        let r = parse("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\ncontent-length: 5\r\n\r\n");
        assert_eq!(r.body, BodyReader::UntilClose);
        let r = parse("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\n\r\n");
        assert_eq!(r.body, BodyReader::chunked());
    }

    #[test]
    fn refuses_what_is_not_a_response_head() {
        for head in [
            "RTMP/1.0 200 OK\r\n\r\n",
            "HTTP/1.1 20 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
        ] {
            assert!(parse_head(head.as_bytes()).is_err(), "{head:?}");
        }
        let long = vec![b'x'; MAX_HEAD_LEN + 10];
        let mut reader = HeadReader::default();
        assert!(reader.feed(&mut &long[..]).is_err());
    }
}
