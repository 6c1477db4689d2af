//! The parts of Enhanced RTMP headers that audio and video share: ModEx
//! modifiers and multitrack packets (E-RTMP v2, "Enhanced Audio" and
//! "Enhanced Video").

use bytes::Bytes;

use super::{FlvError, FourCc};
use crate::byte_reader::ByteReader;

/// The packet type value (audio and video alike) that introduces a ModEx.
pub(crate) const MOD_EX: u8 = 7;

/// ModEx type: a sub-millisecond timestamp offset in nanoseconds.
const MOD_EX_TIMESTAMP_OFFSET_NANO: u8 = 0;

/// Multitrack types.
const ONE_TRACK: u8 = 0;
const MANY_TRACKS: u8 = 1;
const MANY_TRACKS_MANY_CODECS: u8 = 2;

/// The track that arcly keeps from a multitrack packet: the spec recommends
/// id 0 for the default (highest priority) track.
const DEFAULT_TRACK_ID: u8 = 0;

/// Resolves the ModEx chain that may precede the real packet type.
///
/// Returns the packet type that follows the chain and the timestamp offset
/// in nanoseconds (0 when none is given). Unknown ModEx types are skipped,
/// as the spec allows; each step consumes at least two bytes, so the loop is
/// bounded by the body size.
pub(crate) fn read_mod_ex(
    r: &mut ByteReader<'_>,
    mut packet_type: u8,
) -> Result<(u8, u32), FlvError> {
    let mut nanos = 0;
    while packet_type == MOD_EX {
        let mut size = usize::from(r.u8("mod-ex size")?) + 1;
        if size == 256 {
            size = usize::from(r.u16("mod-ex size")?) + 1;
        }
        let data = r.take(size, "mod-ex data")?;
        let next = r.u8("mod-ex type")?;
        packet_type = next & 0x0f;
        if next >> 4 == MOD_EX_TIMESTAMP_OFFSET_NANO {
            let [a, b, c] = data
                .get(..3)
                .and_then(|d| <[u8; 3]>::try_from(d).ok())
                .ok_or(FlvError::ShortTimestampOffset(data.len()))?;
            nanos = u32::from_be_bytes([0, a, b, c]);
        }
    }
    Ok((packet_type, nanos))
}

/// The packet of one track: its codec, its body, and where that body starts
/// in the tag body (for error offsets).
pub(crate) struct Track {
    pub(crate) fourcc: FourCc,
    pub(crate) body: Bytes,
    pub(crate) offset: usize,
}

/// Reads what follows the ModEx chain, given the `packet_type` it ended on:
/// a FourCC and a body, or, when `packet_type` is the kind's `multitrack`
/// value, a multitrack packet.
///
/// Returns the packet type that applies to the track (for a multitrack
/// packet, the one in its header) and the track, or `None` for a multitrack
/// packet without track 0. `fourcc` names the FourCC in errors ("audio
/// fourcc", "video fourcc").
pub(crate) fn read_track(
    r: &mut ByteReader<'_>,
    packet_type: u8,
    multitrack: u8,
    fourcc: &'static str,
) -> Result<Option<(u8, Track)>, FlvError> {
    if packet_type != multitrack {
        let fourcc = FourCc(r.four(fourcc)?);
        let offset = r.position();
        let body = r.rest();
        return Ok(Some((
            packet_type,
            Track {
                fourcc,
                body,
                offset,
            },
        )));
    }
    let byte = r.u8("multitrack type")?;
    let packet_type = byte & 0x0f;
    if packet_type == multitrack {
        return Err(FlvError::NestedMultitrack);
    }
    Ok(default_track(r, byte >> 4)?.map(|track| (packet_type, track)))
}

/// Reads a multitrack packet (after the byte holding the multitrack type and
/// the tracks' packet type) and returns the default track, or `None` if the
/// packet has no track 0. Other tracks are skipped: the engine keeps one
/// track per kind.
fn default_track(r: &mut ByteReader<'_>, multitrack_type: u8) -> Result<Option<Track>, FlvError> {
    if !matches!(
        multitrack_type,
        ONE_TRACK | MANY_TRACKS | MANY_TRACKS_MANY_CODECS
    ) {
        return Err(FlvError::UnknownMultitrackType(multitrack_type));
    }
    let shared = if multitrack_type == MANY_TRACKS_MANY_CODECS {
        None
    } else {
        Some(FourCc(r.four("multitrack fourcc")?))
    };
    while r.remaining() > 0 {
        let fourcc = match shared {
            Some(fourcc) => fourcc,
            None => FourCc(r.four("track fourcc")?),
        };
        let track_id = r.u8("track id")?;
        let offset = r.position() + if multitrack_type == ONE_TRACK { 0 } else { 3 };
        let body = if multitrack_type == ONE_TRACK {
            r.rest()
        } else {
            let size = r.u24("track size")? as usize;
            r.take(size, "track body")?
        };
        if track_id == DEFAULT_TRACK_ID {
            return Ok(Some(Track {
                fourcc,
                body,
                offset,
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_timestamp_offset_mod_ex() {
        // size 3 (2 + 1), 500_000 ns, then type 0 / packet type 1.
        let body = Bytes::from_static(&[0x02, 0x07, 0xa1, 0x20, 0x01, 0xaa]);
        let mut r = ByteReader::new(&body);
        assert_eq!(read_mod_ex(&mut r, MOD_EX).unwrap(), (1, 500_000));
        assert_eq!(r.remaining(), 1);
    }

    #[test]
    fn skips_unknown_and_long_mod_ex() {
        // A 16-bit-sized ModEx of 300 bytes with type 5, then packet type 3.
        let mut body = vec![0xff, 0x01, 0x2b];
        body.extend([0u8; 300]);
        body.push(0x53);
        let body = Bytes::from(body);
        let mut r = ByteReader::new(&body);
        assert_eq!(read_mod_ex(&mut r, MOD_EX).unwrap(), (3, 0));
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn refuses_short_mod_ex() {
        let body = Bytes::from_static(&[0x01, 0x00, 0x00, 0x01]);
        let mut r = ByteReader::new(&body);
        assert_eq!(
            read_mod_ex(&mut r, MOD_EX),
            Err(FlvError::ShortTimestampOffset(2))
        );
        let body = Bytes::from_static(&[0x05, 0x00]);
        let mut r = ByteReader::new(&body);
        assert!(matches!(
            read_mod_ex(&mut r, MOD_EX),
            Err(FlvError::Truncated { .. })
        ));
    }

    #[test]
    fn reads_a_single_track_or_a_multitrack_header() {
        // Not multitrack: FourCC, then the body from offset 4.
        let body = Bytes::from_static(b"hvc1pic");
        let mut r = ByteReader::new(&body);
        let (packet_type, track) = read_track(&mut r, 1, 6, "video fourcc").unwrap().unwrap();
        assert_eq!(
            (packet_type, track.fourcc, track.offset),
            (1, FourCc::HVC1, 4)
        );
        assert_eq!(track.body, "pic");

        // Multitrack (5 for audio): one track, id 0, packet type 1.
        let body = Bytes::from_static(b"\x01Opus\x00frame");
        let mut r = ByteReader::new(&body);
        let (packet_type, track) = read_track(&mut r, 5, 5, "audio fourcc").unwrap().unwrap();
        assert_eq!((packet_type, track.fourcc), (1, FourCc::OPUS));
        assert_eq!(track.body, "frame");

        let body = Bytes::from_static(b"\x05Opus\x00frame");
        let mut r = ByteReader::new(&body);
        assert_eq!(
            read_track(&mut r, 5, 5, "audio fourcc").err(),
            Some(FlvError::NestedMultitrack)
        );
        let body = Bytes::from_static(b"Op");
        let mut r = ByteReader::new(&body);
        assert_eq!(
            read_track(&mut r, 1, 5, "audio fourcc").err(),
            Some(FlvError::Truncated {
                what: "audio fourcc",
                offset: 0
            })
        );
    }

    #[test]
    fn picks_track_zero() {
        // Many tracks, one codec: track 1 (2 bytes) then track 0 (3 bytes).
        let body = Bytes::from_static(b"hvc1\x01\x00\x00\x02ab\x00\x00\x00\x03xyz");
        let mut r = ByteReader::new(&body);
        let track = default_track(&mut r, MANY_TRACKS).unwrap().unwrap();
        assert_eq!(track.fourcc, FourCc::HVC1);
        assert_eq!(track.body, "xyz");
        assert_eq!(track.offset, 14);

        // Many codecs: one track, id 2, so no default track.
        let body = Bytes::from_static(b"av01\x02\x00\x00\x01z");
        let mut r = ByteReader::new(&body);
        assert!(
            default_track(&mut r, MANY_TRACKS_MANY_CODECS)
                .unwrap()
                .is_none()
        );

        // One track: the rest of the body is the track.
        let body = Bytes::from_static(b"vp09\x00frame");
        let mut r = ByteReader::new(&body);
        let track = default_track(&mut r, ONE_TRACK).unwrap().unwrap();
        assert_eq!(
            (track.fourcc, &track.body[..]),
            (FourCc::VP09, &b"frame"[..])
        );

        let mut r = ByteReader::new(&body);
        assert_eq!(
            default_track(&mut r, 9).err(),
            Some(FlvError::UnknownMultitrackType(9))
        );
    }
}
