//! The Opus identification header: the `OpusHead` packet of RFC 7845 5.1
//! and the `dOps` box of Opus in ISOBMFF, which carry the same fields.

use bytes::{BufMut, Bytes, BytesMut};

use super::CodecError;
use crate::byte_reader::ByteReader;

/// The magic signature that starts an `OpusHead` packet.
const MAGIC: &[u8; 8] = b"OpusHead";

/// Every Opus decoder outputs 48 kHz, whatever the input rate was.
pub const OPUS_SAMPLE_RATE: u32 = 48_000;

/// An Opus identification header. It is the payload of an Opus config
/// [`MediaFrame`], in either of its two encodings.
///
/// [`MediaFrame`]: arcly_engine::MediaFrame
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpusHead {
    /// Output channels (1 to 255).
    pub channels: u8,
    /// Samples at 48 kHz to drop from the start of the decoded output.
    pub pre_skip: u16,
    /// The sample rate of the encoder's input, for information only (0 if
    /// unknown); playback is at [`OPUS_SAMPLE_RATE`].
    pub input_sample_rate: u32,
    /// Gain to apply to the output, in Q7.8 dB.
    pub output_gain: i16,
    /// The channel mapping family: 0 mono or stereo, 1 Vorbis order
    /// surround, 255 undefined.
    pub mapping_family: u8,
    /// The channel mapping table, present for every family but 0.
    pub mapping: Option<OpusChannelMapping>,
}

/// How an Opus stream's coded streams map to output channels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpusChannelMapping {
    /// Opus streams in each packet (at least 1).
    pub stream_count: u8,
    /// How many of those streams are coupled (stereo).
    pub coupled_count: u8,
    /// For each output channel, the decoded channel it takes (255 = silence).
    pub channel_mapping: Vec<u8>,
}

/// Which byte order and framing a header was read from.
#[derive(Clone, Copy)]
enum Layout {
    /// RFC 7845: magic, little-endian fields.
    Packet,
    /// ISOBMFF `dOps`: no magic, big-endian fields.
    Dops,
}

impl OpusHead {
    /// Reads an `OpusHead` packet (it starts with the magic `OpusHead`) or
    /// a `dOps` box body (anything else).
    ///
    /// A packet's version must have a zero upper nibble (RFC 7845 asks
    /// readers to accept 0 to 15); a `dOps` version must be 0. Bytes after
    /// the mapping table are ignored.
    pub fn decode(header: &Bytes) -> Result<OpusHead, CodecError> {
        let mut r = ByteReader::new(header);
        let layout = if header.starts_with(MAGIC) {
            r.take(MAGIC.len(), "opus magic")?;
            Layout::Packet
        } else {
            Layout::Dops
        };
        let version = r.u8("opus version")?;
        let supported = match layout {
            Layout::Packet => version & 0xf0 == 0,
            Layout::Dops => version == 0,
        };
        if !supported {
            return Err(CodecError::UnsupportedVersion {
                what: match layout {
                    Layout::Packet => "OpusHead",
                    Layout::Dops => "dOps",
                },
                version,
            });
        }
        let channels_offset = r.position();
        let channels = r.u8("opus channel count")?;
        if channels == 0 {
            return Err(CodecError::Invalid {
                what: "opus channel count 0",
                offset: channels_offset,
            });
        }
        let (pre_skip, input_sample_rate, output_gain) = match layout {
            Layout::Packet => {
                let pre_skip = u16::from_le_bytes(r.u16("opus pre-skip")?.to_be_bytes());
                let rate = u32::from_le_bytes(r.four("opus input sample rate")?);
                let gain = i16::from_le_bytes(r.u16("opus output gain")?.to_be_bytes());
                (pre_skip, rate, gain)
            }
            Layout::Dops => {
                let pre_skip = r.u16("opus pre-skip")?;
                let rate = u32::from_be_bytes(r.four("opus input sample rate")?);
                let gain = r.u16("opus output gain")? as i16;
                (pre_skip, rate, gain)
            }
        };
        let mapping_family = r.u8("opus mapping family")?;
        let mapping = if mapping_family == 0 {
            if channels > 2 {
                return Err(CodecError::Invalid {
                    what: "opus channel count above 2 for mapping family 0",
                    offset: channels_offset,
                });
            }
            None
        } else {
            Some(read_mapping(&mut r, channels)?)
        };
        Ok(OpusHead {
            channels,
            pre_skip,
            input_sample_rate,
            output_gain,
            mapping_family,
            mapping,
        })
    }

    /// Writes the `dOps` box body (version 0, big-endian) the fMP4 `Opus`
    /// sample entry carries.
    ///
    /// A mapping table is written whenever the family is not 0; for a
    /// non-zero family without a table, the RFC 7845 defaults for mono and
    /// stereo are written (one stream, coupled if stereo). A table with more
    /// or fewer entries than channels is cut, or padded with 255 (silence).
    pub fn encode_dops(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(11 + 2 + usize::from(self.channels));
        out.put_u8(0);
        out.put_u8(self.channels);
        out.put_u16(self.pre_skip);
        out.put_u32(self.input_sample_rate);
        out.put_i16(self.output_gain);
        out.put_u8(self.mapping_family);
        if self.mapping_family != 0 {
            match &self.mapping {
                Some(mapping) => {
                    out.put_u8(mapping.stream_count);
                    out.put_u8(mapping.coupled_count);
                    // The table has exactly one entry per output channel.
                    let mut table = mapping.channel_mapping.clone();
                    table.resize(usize::from(self.channels), 255);
                    out.put_slice(&table);
                }
                None => {
                    let stereo = self.channels >= 2;
                    out.put_u8(1);
                    out.put_u8(u8::from(stereo));
                    out.put_slice(&[0, 1][..usize::from(self.channels).min(2)]);
                    out.put_bytes(255, usize::from(self.channels).saturating_sub(2));
                }
            }
        }
        out.freeze()
    }

    /// The codec string for HLS and MSE: `opus`.
    pub fn codec_string(&self) -> String {
        "opus".to_owned()
    }
}

fn read_mapping(r: &mut ByteReader<'_>, channels: u8) -> Result<OpusChannelMapping, CodecError> {
    let streams_offset = r.position();
    let stream_count = r.u8("opus stream count")?;
    let coupled_count = r.u8("opus coupled count")?;
    if stream_count == 0 {
        return Err(CodecError::Invalid {
            what: "opus stream count 0",
            offset: streams_offset,
        });
    }
    if coupled_count > stream_count || u16::from(stream_count) + u16::from(coupled_count) > 255 {
        return Err(CodecError::Invalid {
            what: "opus coupled stream count",
            offset: streams_offset + 1,
        });
    }
    let table = r.take(usize::from(channels), "opus channel mapping")?;
    Ok(OpusChannelMapping {
        stream_count,
        coupled_count,
        channel_mapping: table.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `OpusHead` ffmpeg's Ogg muxer wrote for libopus stereo.
    const LIBOPUS_HEAD: &[u8] = b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00";

    /// The `dOps` ffmpeg wrote for libopus 5.1 (family 1).
    const LIBOPUS_DOPS_5_1: &[u8] = &[
        0x00, 0x06, 0x01, 0x38, 0x00, 0x00, 0xbb, 0x80, 0x00, 0x00, 0x01, 0x04, 0x02, 0x00, 0x04,
        0x01, 0x02, 0x03, 0x05,
    ];

    #[test]
    fn reads_opus_head_packet() {
        let head = OpusHead::decode(&Bytes::from_static(LIBOPUS_HEAD)).unwrap();
        assert_eq!(head.channels, 2);
        assert_eq!(head.pre_skip, 312);
        assert_eq!(head.input_sample_rate, 48_000);
        assert_eq!(head.output_gain, 0);
        assert_eq!(head.mapping_family, 0);
        assert_eq!(head.mapping, None);
        assert_eq!(head.codec_string(), "opus");
        let dops = head.encode_dops();
        assert_eq!(&dops[..], b"\x00\x02\x01\x38\x00\x00\xbb\x80\x00\x00\x00");
        assert_eq!(OpusHead::decode(&dops).unwrap(), head);
    }

    #[test]
    fn reads_dops_with_mapping_table() {
        let record = Bytes::from_static(LIBOPUS_DOPS_5_1);
        let head = OpusHead::decode(&record).unwrap();
        assert_eq!(
            (head.channels, head.pre_skip, head.input_sample_rate),
            (6, 312, 48_000)
        );
        let mapping = head.mapping.as_ref().unwrap();
        assert_eq!((mapping.stream_count, mapping.coupled_count), (4, 2));
        assert_eq!(mapping.channel_mapping, [0, 4, 1, 2, 3, 5]);
        assert_eq!(head.encode_dops(), record);
    }

    #[test]
    fn reads_negative_gain_in_both_byte_orders() {
        let packet = Bytes::from_static(b"OpusHead\x01\x01\x00\x00\x80\xbb\x00\x00\x00\xff\x00");
        assert_eq!(OpusHead::decode(&packet).unwrap().output_gain, -256);
        let dops = Bytes::from_static(b"\x00\x01\x00\x00\x00\x00\xbb\x80\xff\x00\x00");
        assert_eq!(OpusHead::decode(&dops).unwrap().output_gain, -256);
    }

    #[test]
    fn writes_default_mapping_for_a_missing_table() {
        let head = OpusHead {
            channels: 2,
            pre_skip: 0,
            input_sample_rate: 0,
            output_gain: 0,
            mapping_family: 255,
            mapping: None,
        };
        let decoded = OpusHead::decode(&head.encode_dops()).unwrap();
        assert_eq!(
            decoded.mapping,
            Some(OpusChannelMapping {
                stream_count: 1,
                coupled_count: 1,
                channel_mapping: vec![0, 1],
            })
        );
    }

    #[test]
    fn refuses_bad_headers() {
        let mut v = LIBOPUS_HEAD.to_vec();
        v[8] = 0x10;
        assert!(matches!(
            OpusHead::decode(&Bytes::from(v)),
            Err(CodecError::UnsupportedVersion {
                what: "OpusHead",
                version: 16
            })
        ));
        let mut v = LIBOPUS_DOPS_5_1.to_vec();
        v[0] = 1;
        assert!(matches!(
            OpusHead::decode(&Bytes::from(v)),
            Err(CodecError::UnsupportedVersion {
                what: "dOps",
                version: 1
            })
        ));
        let mut v = LIBOPUS_DOPS_5_1.to_vec();
        v[1] = 0;
        assert!(matches!(
            OpusHead::decode(&Bytes::from(v)),
            Err(CodecError::Invalid { offset: 1, .. })
        ));
        let mut v = LIBOPUS_DOPS_5_1.to_vec();
        v[10] = 0;
        assert!(matches!(
            OpusHead::decode(&Bytes::from(v)),
            Err(CodecError::Invalid { offset: 1, .. })
        ));
        let mut v = LIBOPUS_DOPS_5_1.to_vec();
        v[11] = 0;
        assert!(matches!(
            OpusHead::decode(&Bytes::from(v)),
            Err(CodecError::Invalid { offset: 11, .. })
        ));
        let mut v = LIBOPUS_DOPS_5_1.to_vec();
        v[12] = 5;
        assert!(matches!(
            OpusHead::decode(&Bytes::from(v)),
            Err(CodecError::Invalid { offset: 12, .. })
        ));
        for len in 0..LIBOPUS_DOPS_5_1.len() {
            assert!(OpusHead::decode(&Bytes::copy_from_slice(&LIBOPUS_DOPS_5_1[..len])).is_err());
        }
        for len in 0..LIBOPUS_HEAD.len() {
            assert!(OpusHead::decode(&Bytes::copy_from_slice(&LIBOPUS_HEAD[..len])).is_err());
        }
    }
}
