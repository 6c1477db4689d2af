//! The part of a session both sides share: buffers, the chunk stream in
//! both directions and the protocol control messages.

use bytes::{Bytes, BytesMut};

use super::CSID_CONTROL;
use crate::amf0::Command;
use crate::rtmp::chunk::{ChunkDecoder, DEFAULT_CHUNK_SIZE, MessageHeader, encode_message};
use crate::rtmp::message::{Message, UserControl};
use crate::rtmp::{RtmpLimits, SessionError};

/// A message for the session, after the link handled the control ones.
#[derive(Debug)]
pub(super) struct Incoming {
    /// Timestamp, type and message stream.
    pub(super) header: MessageHeader,
    /// Where its first chunk starts in the connection.
    pub(super) offset: u64,
    /// The parsed message.
    pub(super) message: Message,
}

/// Input and output buffers, the chunk decoder and encoder state, and
/// acknowledgements.
#[derive(Debug)]
pub(super) struct Link {
    limits: RtmpLimits,
    /// Received bytes not yet parsed.
    input: BytesMut,
    decoder: ChunkDecoder,
    /// Bytes to send.
    output: BytesMut,
    out_chunk_size: u32,
    /// Bytes received in all.
    received: u64,
    /// The peer's Window Acknowledgement Size, once it sent one.
    ack_window: Option<u32>,
    /// `received` when the last acknowledgement went out.
    acked: u64,
}

impl Link {
    /// A link whose chunk stream starts after `handshake_len` bytes.
    pub(super) fn new(limits: RtmpLimits, handshake_len: u64) -> Link {
        Link {
            limits,
            input: BytesMut::new(),
            decoder: ChunkDecoder::new(&limits).starting_at(handshake_len),
            output: BytesMut::new(),
            out_chunk_size: DEFAULT_CHUNK_SIZE,
            received: 0,
            ack_window: None,
            acked: 0,
        }
    }

    /// Appends received bytes.
    pub(super) fn push_input(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
        self.received += bytes.len() as u64;
    }

    /// Unparsed input and pending output, for the handshake.
    pub(super) fn buffers(&mut self) -> (&mut BytesMut, &mut BytesMut) {
        (&mut self.input, &mut self.output)
    }

    /// Bytes received in all.
    #[cfg(test)]
    pub(super) fn received_bytes(&self) -> u64 {
        self.received
    }

    /// Bytes the input and output buffers can hold without growing.
    #[cfg(test)]
    pub(super) fn buffer_capacity(&self) -> usize {
        self.input.capacity() + self.output.capacity()
    }

    /// Bytes received and not yet parsed.
    pub(super) fn buffered(&self) -> usize {
        self.input.len()
    }

    /// The outgoing chunk size.
    pub(super) fn out_chunk_size(&self) -> u32 {
        self.out_chunk_size
    }

    /// Pending output, if any. The buffer goes with it: `split` would
    /// leave the rest of its capacity here, and a player, which sends a
    /// few small messages a minute, kept the 3 KiB of S0 S1 S2 for good.
    pub(super) fn take_output(&mut self) -> Option<Bytes> {
        (!self.output.is_empty()).then(|| std::mem::take(&mut self.output).freeze())
    }

    /// Frees the input buffer if everything in it was read. For a
    /// connection whose input is a few small messages a minute (a player):
    /// it would otherwise keep the handshake's 4 KiB for good.
    pub(super) fn release_input(&mut self) {
        if self.input.is_empty() {
            self.input = BytesMut::new();
        }
    }

    /// The next message the session must handle. Set Chunk Size, Abort,
    /// Window Acknowledgement Size, Acknowledgement, Set Peer Bandwidth and
    /// Ping Request are handled here (a Ping Request is answered).
    pub(super) fn next_message(&mut self) -> Result<Option<Incoming>, SessionError> {
        loop {
            let raw = match self.decoder.feed(&mut self.input) {
                Ok(Some(raw)) => raw,
                Ok(None) => return Ok(None),
                Err(source) => {
                    return Err(SessionError::Chunk {
                        offset: self.decoder.offset(),
                        source,
                    });
                }
            };
            let type_id = raw.header.type_id;
            let offset = raw.offset;
            let message =
                Message::decode(type_id, raw.payload, self.limits.amf0).map_err(|source| {
                    SessionError::Message {
                        offset,
                        type_id,
                        source,
                    }
                })?;
            match message {
                Message::SetChunkSize(size) => self
                    .decoder
                    .set_chunk_size(size)
                    .map_err(|source| SessionError::Chunk { offset, source })?,
                Message::Abort { csid } => self.decoder.abort(csid),
                Message::WindowAckSize(size) => self.ack_window = (size > 0).then_some(size),
                Message::Acknowledgement { .. } | Message::SetPeerBandwidth { .. } => {}
                Message::UserControl(UserControl::PingRequest(time)) => self.send(
                    CSID_CONTROL,
                    0,
                    0,
                    &Message::UserControl(UserControl::PingResponse(time)),
                )?,
                message => {
                    return Ok(Some(Incoming {
                        header: raw.header,
                        offset,
                        message,
                    }));
                }
            }
        }
    }

    /// Sends an Acknowledgement if a window's worth of bytes came in since
    /// the last one.
    pub(super) fn acknowledge(&mut self) -> Result<(), SessionError> {
        let Some(window) = self.ack_window else {
            return Ok(());
        };
        if self.received - self.acked < u64::from(window) {
            return Ok(());
        }
        self.acked = self.received;
        let sequence = self.received as u32;
        self.send(CSID_CONTROL, 0, 0, &Message::Acknowledgement { sequence })
    }

    /// Sends Set Chunk Size and uses the new size from the next message on.
    pub(super) fn set_out_chunk_size(&mut self, size: u32) -> Result<(), SessionError> {
        self.send(CSID_CONTROL, 0, 0, &Message::SetChunkSize(size))?;
        self.out_chunk_size = size;
        Ok(())
    }

    /// Sends a command.
    pub(super) fn send_command(
        &mut self,
        csid: u32,
        stream_id: u32,
        command: Command,
    ) -> Result<(), SessionError> {
        self.send(csid, stream_id, 0, &Message::Command(command))
    }

    /// Sends a message.
    pub(super) fn send(
        &mut self,
        csid: u32,
        stream_id: u32,
        timestamp: u32,
        message: &Message,
    ) -> Result<(), SessionError> {
        let mut payload = BytesMut::new();
        message
            .encode_payload(&mut payload)
            .map_err(|e| encode_error("a message", e))?;
        self.send_payload(csid, stream_id, timestamp, message.type_id(), &payload)
    }

    /// Sends a payload already encoded.
    pub(super) fn send_payload(
        &mut self,
        csid: u32,
        stream_id: u32,
        timestamp: u32,
        type_id: u8,
        payload: &[u8],
    ) -> Result<(), SessionError> {
        let header = MessageHeader {
            timestamp,
            type_id,
            stream_id,
        };
        encode_message(&mut self.output, csid, header, payload, self.out_chunk_size)
            .map_err(|e| encode_error("a message", e))
    }
}

/// An encoder's error as a [`SessionError`].
pub(super) fn encode_error(what: &'static str, error: impl std::fmt::Display) -> SessionError {
    SessionError::Encode {
        what,
        reason: error.to_string(),
    }
}
