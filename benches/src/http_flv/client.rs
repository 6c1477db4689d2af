//! An HTTP-FLV player's connection: sends the `GET`, then parses what
//! arrives with an [`HttpFlvParser`] and hands each media tag over as a
//! [`ReceivedFrame`].

use std::net::IpAddr;

use anyhow::Context;
use arcly_engine::MediaFrame;
use arcly_media::flv::{FlvTag, TagType};
use arcly_shard::{Connection, ShardCtx};
use bytes::{Bytes, BytesMut};

use super::parser::{HttpFlvEvent, HttpFlvParser};
use super::tags::TagSeen;
use crate::player::PlaySession;
use crate::target::HttpUrl;
use crate::watch::ReceivedFrame;

/// A connected HTTP-FLV player.
pub(crate) struct HttpFlvClient {
    conn: Connection,
    /// What the last read brought; parsed and emptied by `drain`.
    buf: BytesMut,
    parser: HttpFlvParser,
}

impl HttpFlvClient {
    /// Connects to `url`'s server (from `local_ip` when given) and asks for
    /// the stream.
    pub(crate) async fn open(
        ctx: &ShardCtx,
        url: &HttpUrl,
        local_ip: Option<IpAddr>,
    ) -> anyhow::Result<HttpFlvClient> {
        let mut conn = ctx
            .connect(url.addr, local_ip)
            .await
            .with_context(|| format!("connect to {}", url.addr))?;
        conn.write_all(request(url).as_bytes())
            .await
            .context("write the request")?;
        Ok(HttpFlvClient {
            conn,
            buf: BytesMut::new(),
            parser: HttpFlvParser::default(),
        })
    }
}

/// The request for `url`.
fn request(url: &HttpUrl) -> String {
    format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: arcly-bench\r\nAccept: */*\r\n\r\n",
        url.path, url.host
    )
}

impl PlaySession for HttpFlvClient {
    async fn read(&mut self) -> anyhow::Result<usize> {
        self.conn.read(&mut self.buf).await.context("read")
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    fn drain(&mut self, on_frame: &mut dyn FnMut(&ReceivedFrame<'_>)) -> Option<String> {
        let end = drain_bytes(&mut self.parser, &self.buf, on_frame);
        self.buf.clear();
        end
    }

    async fn close(mut self) {
        let _ = self.conn.close_write().await;
    }
}

/// Parses all of `bytes`, handing over each media frame; `Some(reason)` if
/// the response ended or broke.
fn drain_bytes(
    parser: &mut HttpFlvParser,
    bytes: &[u8],
    on_frame: &mut dyn FnMut(&ReceivedFrame<'_>),
) -> Option<String> {
    let mut input = bytes;
    loop {
        match parser.feed(&mut input) {
            Ok(Some(HttpFlvEvent::Tag(tag))) => match frame_of(&tag) {
                Ok(Some((frame, len))) => on_frame(&ReceivedFrame {
                    len,
                    ..ReceivedFrame::of(&frame)
                }),
                Ok(None) => {}
                Err(e) => return Some(format!("http-flv: a tag that does not decode: {e}")),
            },
            Ok(Some(HttpFlvEvent::End)) => return Some("the stream ended".to_owned()),
            Ok(None) => return None,
            Err(e) => return Some(format!("http-flv: {e:#}")),
        }
    }
}

/// The frame of a tag (its payload cut where the tag's head ends) and the
/// whole payload's length; `None` for tags without media. The body is
/// decoded by arcly's own FLV decoder, so every codec and header form it
/// knows counts alike; the codec header is whatever the head holds beyond
/// the payload.
fn frame_of(tag: &TagSeen) -> anyhow::Result<Option<(MediaFrame, u64)>> {
    let Some(tag_type) = TagType::from_code(tag.tag_type) else {
        return Ok(None);
    };
    let head = tag.head();
    let flv = FlvTag {
        tag_type,
        timestamp_ms: tag.timestamp_ms,
        body: Bytes::copy_from_slice(head),
    };
    let Some(frame) = flv.decode_frame()? else {
        return Ok(None);
    };
    let header = head.len().saturating_sub(frame.len());
    let len = u64::from(tag.body_len).saturating_sub(header as u64);
    Ok(Some((frame, len)))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use arcly_engine::TrackKind;
    use arcly_media::flv::FlvHeader;
    use arcly_protocols::http::{encode_chunk, encode_last_chunk};

    use super::*;
    use crate::player::tests::plan;
    use crate::player::{PlayerRecord, Role};
    use crate::source::{Shape, Synthetic};
    use crate::tally::Tally;
    use crate::watch::Watch;

    #[test]
    fn asks_for_the_path_with_a_host() {
        let url: HttpUrl = "http://127.0.0.1:19551/live/b.flv?k=v".parse().unwrap();
        assert_eq!(
            request(&url),
            "GET /live/b.flv?k=v HTTP/1.1\r\nHost: 127.0.0.1:19551\r\nUser-Agent: arcly-bench\r\nAccept: */*\r\n\r\n"
        );
    }

    /// Two seconds of the standard synthetic stream as frames, and as the
    /// HTTP-FLV response arcly sends for it (chunked, metadata and configs
    /// first, one chunk per video frame with the audio due before it).
    fn synthetic() -> (Vec<MediaFrame>, Vec<u8>) {
        let mut source = Synthetic::new(Shape {
            bitrate_kbps: 200,
            fps: 25.0,
            gop_secs: 2.0,
            audio_kbps: 32,
        })
        .unwrap();
        let mut frames = source.configs();
        while source.next_due().0 < Duration::from_secs(2) {
            let due = source.next_due().0;
            frames.push(source.take(1_000_000 + due.as_micros() as u64));
        }
        let mut wire =
            BytesMut::from(&b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"[..]);
        let mut batch = BytesMut::new();
        FlvHeader {
            has_audio: true,
            has_video: true,
        }
        .encode(&mut batch);
        for frame in &frames {
            FlvTag::from_frame(frame)
                .unwrap()
                .encode(&mut batch)
                .unwrap();
            if frame.track() == TrackKind::Video {
                encode_chunk(&batch, &mut wire);
                batch.clear();
            }
        }
        encode_chunk(&batch, &mut wire);
        encode_last_chunk(&mut wire);
        (frames, wire.to_vec())
    }

    /// Something that hands frames to a callback.
    type Feed<'a> = &'a mut dyn FnMut(&mut dyn FnMut(&ReceivedFrame<'_>));

    #[test]
    fn http_flv_measures_what_rtmp_measures_for_the_same_frames() {
        let (frames, wire) = synthetic();
        let t0 = Instant::now();
        let measure = |feed: Feed<'_>| {
            let mut watch = Watch::new(&plan(true), true, t0, 0);
            let mut tally = Tally::default();
            let record = PlayerRecord::new(Role::Probe);
            feed(&mut |frame| {
                watch.on_frame(frame, t0, 1_050_000, true, &mut tally, &record);
            });
            (tally, record.gaps.get(), watch.gop_complete)
        };
        let rtmp = measure(&mut |on_frame| {
            for frame in &frames {
                on_frame(&ReceivedFrame::of(frame));
            }
        });
        assert!(rtmp.0.frames > 100 && rtmp.0.latency_us.len() > 100);
        // The same response in reads of every size from 1 byte up.
        for step in [1, 2, 7, 100, 1460, 16_384, wire.len()] {
            let http = measure(&mut |on_frame| {
                let mut parser = HttpFlvParser::default();
                let mut ended = None;
                for piece in wire.chunks(step) {
                    assert_eq!(ended, None, "read size {step}");
                    ended = drain_bytes(&mut parser, piece, on_frame);
                }
                assert_eq!(ended.as_deref(), Some("the stream ended"));
            });
            assert_eq!(http, rtmp, "read size {step}");
        }
    }

    #[test]
    fn a_refusal_ends_the_session_with_its_status() {
        let mut parser = HttpFlvParser::default();
        let end = drain_bytes(
            &mut parser,
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            &mut |_| panic!("no frames"),
        );
        assert_eq!(
            end.as_deref(),
            Some("http-flv: the server answered 404 Not Found")
        );
    }
}
