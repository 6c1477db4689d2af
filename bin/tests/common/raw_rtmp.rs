//! A hand-written RTMP client over the chunk stream: chunk headers, message
//! reassembly, and the connect / createStream / publish / play commands,
//! to send exactly the bytes a test wants and read exact status codes.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

use super::amf::Amf;
use super::handshake::{plain_handshake, tcp_connect};

/// A type 0 chunk header (basic header with `csid` 2..=63).
pub(crate) fn chunk_header_type0(
    csid: u8,
    timestamp: u32,
    len: u32,
    msg_type: u8,
    stream_id: u32,
) -> Vec<u8> {
    assert!((2..=63).contains(&csid));
    let mut out = vec![csid];
    out.extend_from_slice(&timestamp.min(0xff_ffff).to_be_bytes()[1..]);
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(msg_type);
    out.extend_from_slice(&stream_id.to_le_bytes());
    out
}

/// One complete message read from the server.
#[derive(Clone, Debug)]
pub(crate) struct RtmpMessage {
    pub(crate) msg_type: u8,
    pub(crate) stream_id: u32,
    pub(crate) timestamp: u32,
    pub(crate) payload: Vec<u8>,
}

/// A command from the server: `_result`, `_error`, `onStatus`, ...
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) values: Vec<Amf>,
}

impl Reply {
    /// The command name.
    pub(crate) fn name(&self) -> &str {
        self.values.first().and_then(Amf::as_str).unwrap_or("")
    }

    /// The transaction id.
    pub(crate) fn txn(&self) -> f64 {
        self.values.get(1).and_then(Amf::as_f64).unwrap_or(-1.0)
    }

    /// `code` of the first info object among the arguments.
    pub(crate) fn code(&self) -> Option<&str> {
        self.values
            .iter()
            .skip(2)
            .find_map(|v| v.get("code").and_then(Amf::as_str))
    }

    /// `level` of the first info object among the arguments.
    pub(crate) fn level(&self) -> Option<&str> {
        self.values
            .iter()
            .skip(2)
            .find_map(|v| v.get("level").and_then(Amf::as_str))
    }
}

#[derive(Clone, Debug, Default)]
struct InChunkStream {
    timestamp: u32,
    delta: u32,
    len: usize,
    msg_type: u8,
    stream_id: u32,
    extended: bool,
    buf: Vec<u8>,
}

/// A hand-written RTMP client: enough of the chunk stream and AMF0 to
/// connect, create a stream, publish or play, and read status codes.
pub(crate) struct RawRtmp {
    pub(crate) stream: TcpStream,
    in_chunk_size: usize,
    out_chunk_size: usize,
    chunk_streams: HashMap<u32, InChunkStream>,
    next_txn: f64,
    /// Every message read so far (media payloads dropped), for messages.
    pub(crate) seen: Vec<String>,
}

impl RawRtmp {
    /// Connects and completes the plain handshake.
    pub(crate) fn handshake(addr: SocketAddr) -> io::Result<RawRtmp> {
        let mut stream = tcp_connect(addr);
        plain_handshake(&mut stream)?;
        Ok(RawRtmp {
            stream,
            in_chunk_size: 128,
            out_chunk_size: 128,
            chunk_streams: HashMap::new(),
            next_txn: 1.0,
            seen: Vec::new(),
        })
    }

    /// Sends one message as a type 0 chunk plus type 3 continuations.
    pub(crate) fn send_message(
        &mut self,
        csid: u8,
        msg_type: u8,
        stream_id: u32,
        payload: &[u8],
    ) -> io::Result<()> {
        let mut out = chunk_header_type0(csid, 0, payload.len() as u32, msg_type, stream_id);
        for (i, part) in payload.chunks(self.out_chunk_size).enumerate() {
            if i > 0 {
                out.push(0xc0 | csid);
            }
            out.extend_from_slice(part);
        }
        self.stream.write_all(&out)
    }

    /// Sends Set Chunk Size and uses it from then on.
    pub(crate) fn set_chunk_size(&mut self, size: u32) -> io::Result<()> {
        self.send_message(2, 1, 0, &size.to_be_bytes())?;
        self.out_chunk_size = size as usize;
        Ok(())
    }

    /// Sends an AMF0 command (type 20): on chunk stream 3 for stream 0,
    /// on 8 for a message stream.
    pub(crate) fn send_command(&mut self, stream_id: u32, values: &[Amf]) -> io::Result<()> {
        let mut payload = Vec::new();
        for v in values {
            v.encode(&mut payload);
        }
        let csid = if stream_id == 0 { 3 } else { 8 };
        self.send_message(csid, 20, stream_id, &payload)
    }

    fn read_u8(&mut self) -> io::Result<u8> {
        let mut b = [0u8; 1];
        self.stream.read_exact(&mut b)?;
        Ok(b[0])
    }

    fn read_be(&mut self, n: usize) -> io::Result<u32> {
        let mut b = [0u8; 4];
        self.stream.read_exact(&mut b[4 - n..])?;
        Ok(u32::from_be_bytes(b))
    }

    /// Reads chunks until one message is complete. Set Chunk Size from the
    /// server is applied here (and still returned).
    pub(crate) fn read_message(&mut self) -> io::Result<RtmpMessage> {
        loop {
            let b0 = self.read_u8()?;
            let fmt = b0 >> 6;
            let csid = match b0 & 0x3f {
                0 => 64 + self.read_u8()? as u32,
                1 => {
                    let lo = self.read_u8()? as u32;
                    let hi = self.read_u8()? as u32;
                    64 + lo + hi * 256
                }
                n => n as u32,
            };
            let mut cs = self.chunk_streams.remove(&csid).unwrap_or_default();
            let starting = cs.buf.is_empty();
            match fmt {
                0 => {
                    let ts = self.read_be(3)?;
                    cs.len = self.read_be(3)? as usize;
                    cs.msg_type = self.read_u8()?;
                    let mut sid = [0u8; 4];
                    self.stream.read_exact(&mut sid)?;
                    cs.stream_id = u32::from_le_bytes(sid);
                    cs.extended = ts == 0xff_ffff;
                    cs.timestamp = if cs.extended { self.read_be(4)? } else { ts };
                    cs.delta = 0;
                }
                1 | 2 => {
                    let delta = self.read_be(3)?;
                    if fmt == 1 {
                        cs.len = self.read_be(3)? as usize;
                        cs.msg_type = self.read_u8()?;
                    }
                    cs.extended = delta == 0xff_ffff;
                    cs.delta = if cs.extended { self.read_be(4)? } else { delta };
                    cs.timestamp = cs.timestamp.wrapping_add(cs.delta);
                }
                _ => {
                    if cs.extended {
                        self.read_be(4)?;
                    }
                    if starting {
                        cs.timestamp = cs.timestamp.wrapping_add(cs.delta);
                    }
                }
            }
            if cs.len > 16 << 20 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("server announced a {} byte message", cs.len),
                ));
            }
            let want = self.in_chunk_size.min(cs.len - cs.buf.len());
            let at = cs.buf.len();
            cs.buf.resize(at + want, 0);
            self.stream.read_exact(&mut cs.buf[at..])?;
            if cs.buf.len() < cs.len {
                self.chunk_streams.insert(csid, cs);
                continue;
            }
            let payload = std::mem::take(&mut cs.buf);
            let msg = RtmpMessage {
                msg_type: cs.msg_type,
                stream_id: cs.stream_id,
                timestamp: cs.timestamp,
                payload,
            };
            self.chunk_streams.insert(csid, cs);
            if msg.msg_type == 1 && msg.payload.len() >= 4 {
                let size = u32::from_be_bytes(msg.payload[..4].try_into().unwrap()) & 0x7fff_ffff;
                self.in_chunk_size = size.max(1) as usize;
            }
            self.seen.push(describe_message(&msg));
            return Ok(msg);
        }
    }

    /// Reads messages until a command arrives (AMF0 type 20, or AMF3
    /// command type 17 with its AMF0 body).
    pub(crate) fn read_command(&mut self) -> io::Result<Reply> {
        loop {
            let msg = self.read_message()?;
            let body = match msg.msg_type {
                20 => &msg.payload[..],
                17 if !msg.payload.is_empty() => &msg.payload[1..],
                _ => continue,
            };
            let values =
                Amf::decode_all(body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            return Ok(Reply { values });
        }
    }

    /// Reads commands until one named in `names` arrives.
    pub(crate) fn read_reply(&mut self, names: &[&str]) -> io::Result<Reply> {
        loop {
            let reply = self.read_command()?;
            if names.contains(&reply.name()) {
                return Ok(reply);
            }
        }
    }

    fn txn(&mut self) -> f64 {
        let t = self.next_txn;
        self.next_txn += 1.0;
        t
    }

    /// `connect` to `app`; returns `_result` or `_error`.
    pub(crate) fn connect(&mut self, app: &str) -> io::Result<Reply> {
        let tc_url = format!("rtmp://{}/{app}", self.stream.peer_addr()?);
        let txn = self.txn();
        self.send_command(
            0,
            &[
                Amf::str("connect"),
                Amf::Number(txn),
                Amf::object(&[
                    ("app", Amf::str(app)),
                    ("type", Amf::str("nonprivate")),
                    ("flashVer", Amf::str("FMLE/3.0 (compatible; arcly-tests)")),
                    ("tcUrl", Amf::Str(tc_url)),
                ]),
            ],
        )?;
        self.read_reply(&["_result", "_error"])
    }

    /// `createStream`; returns the message stream id.
    pub(crate) fn create_stream(&mut self) -> io::Result<u32> {
        let txn = self.txn();
        self.send_command(0, &[Amf::str("createStream"), Amf::Number(txn), Amf::Null])?;
        let reply = self.read_reply(&["_result", "_error"])?;
        match (reply.name(), reply.values.get(3).and_then(Amf::as_f64)) {
            ("_result", Some(id)) => Ok(id as u32),
            _ => Err(io::Error::other(format!(
                "createStream answered {:?}",
                reply.values
            ))),
        }
    }

    /// `publish NAME live` on `stream_id`; returns the `onStatus` (or
    /// `_error`) that answers it.
    pub(crate) fn publish(&mut self, stream_id: u32, name: &str) -> io::Result<Reply> {
        let txn = self.txn();
        self.send_command(
            stream_id,
            &[
                Amf::str("publish"),
                Amf::Number(txn),
                Amf::Null,
                Amf::str(name),
                Amf::str("live"),
            ],
        )?;
        self.read_reply(&["onStatus", "_error"])
    }

    /// `play NAME` (live only) on `stream_id`; returns the first `onStatus`
    /// (or `_error`) that answers it.
    pub(crate) fn play(&mut self, stream_id: u32, name: &str) -> io::Result<Reply> {
        let txn = self.txn();
        self.send_command(
            stream_id,
            &[
                Amf::str("play"),
                Amf::Number(txn),
                Amf::Null,
                Amf::str(name),
                // What ffmpeg sends: start -2 (live or recorded), in ms.
                Amf::Number(-2000.0),
            ],
        )?;
        self.read_reply(&["onStatus", "_error"])
    }

    /// connect + createStream + publish, as an encoder does.
    pub(crate) fn try_publish(addr: SocketAddr, app: &str, name: &str) -> io::Result<Attempt> {
        let mut c = RawRtmp::handshake(addr)?;
        let connect = c.connect(app)?;
        if connect.name() != "_result" {
            return Ok(Attempt {
                client: c,
                stage: "connect",
                reply: connect,
            });
        }
        let sid = c.create_stream()?;
        let reply = c.publish(sid, name)?;
        Ok(Attempt {
            client: c,
            stage: "publish",
            reply,
        })
    }

    /// connect + createStream + play, as a player does.
    pub(crate) fn try_play(addr: SocketAddr, app: &str, name: &str) -> io::Result<Attempt> {
        let mut c = RawRtmp::handshake(addr)?;
        let connect = c.connect(app)?;
        if connect.name() != "_result" {
            return Ok(Attempt {
                client: c,
                stage: "connect",
                reply: connect,
            });
        }
        let sid = c.create_stream()?;
        let reply = c.play(sid, name)?;
        Ok(Attempt {
            client: c,
            stage: "play",
            reply,
        })
    }
}

/// How far a raw publish or play got, and the reply that ended it.
pub(crate) struct Attempt {
    pub(crate) client: RawRtmp,
    /// `connect`, `publish` or `play`: the step whose reply is `reply`.
    pub(crate) stage: &'static str,
    pub(crate) reply: Reply,
}

impl Attempt {
    /// What came back, for assertion messages.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} answered {} code={:?} level={:?} ({:?})",
            self.stage,
            self.reply.name(),
            self.reply.code(),
            self.reply.level(),
            self.reply.values
        )
    }

    /// The server said yes: connect and publish/play both succeeded.
    pub(crate) fn accepted(&self) -> bool {
        self.stage != "connect"
            && self.reply.name() == "onStatus"
            && self.reply.level() != Some("error")
            && self
                .reply
                .code()
                .is_some_and(|c| c.ends_with(".Start") || c.ends_with(".Reset"))
    }
}

fn describe_message(msg: &RtmpMessage) -> String {
    match msg.msg_type {
        20 => format!(
            "command {:?}",
            Amf::decode_all(&msg.payload).unwrap_or_default()
        ),
        18 => "data".to_owned(),
        8 => "audio".to_owned(),
        9 => "video".to_owned(),
        4 if msg.payload.len() >= 2 => format!(
            "user control {}",
            u16::from_be_bytes([msg.payload[0], msg.payload[1]])
        ),
        t => format!("type {t} ({} bytes)", msg.payload.len()),
    }
}
