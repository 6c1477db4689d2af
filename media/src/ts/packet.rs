//! 188-byte transport stream packets: the header, the adaptation field
//! (PCR, random access, stuffing) and the continuity counter.

use bytes::{BufMut, BytesMut};

/// Bytes in a transport stream packet.
pub const PACKET_SIZE: usize = 188;

/// Bytes after the 4-byte packet header.
const BODY_SIZE: usize = PACKET_SIZE - 4;

const SYNC_BYTE: u8 = 0x47;

/// `adaptation_field_control`: payload only, and adaptation field then
/// payload.
const PAYLOAD_ONLY: u8 = 0b01;
const FIELD_AND_PAYLOAD: u8 = 0b11;

/// Adaptation field flags.
const RANDOM_ACCESS_INDICATOR: u8 = 0x40;
const PCR_FLAG: u8 = 0x10;

/// Bytes of a PCR: 33-bit base, 6 reserved bits, 9-bit extension.
const PCR_SIZE: usize = 6;

/// The 4-bit `continuity_counter` of one PID.
///
/// It counts packets that carry a payload, wraps at 16, and must run on
/// across segments: an HLS player that appends segments feeds one demuxer,
/// which reports a jump as lost packets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ContinuityCounter(u8);

impl ContinuityCounter {
    /// The counter for the next packet; advances it.
    pub(crate) fn next(&mut self) -> u8 {
        let current = self.0;
        self.0 = (self.0 + 1) & 0x0f;
        current
    }
}

/// What the first packet of a payload unit announces in its adaptation
/// field. Later packets carry a field only for stuffing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AdaptationField {
    /// `random_access_indicator`: decoding can start in this PES.
    pub(crate) random_access: bool,
    /// `program_clock_reference_base` in 90 kHz ticks (33 bits); the 27 MHz
    /// extension is written as 0.
    pub(crate) pcr: Option<u64>,
}

impl AdaptationField {
    /// Bytes the field takes without stuffing: none when it has nothing to
    /// say, else the length and flags bytes and the PCR.
    fn len(&self) -> usize {
        match (self.random_access, self.pcr) {
            (false, None) => 0,
            (_, None) => 2,
            (_, Some(_)) => 2 + PCR_SIZE,
        }
    }

    fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.random_access {
            flags |= RANDOM_ACCESS_INDICATOR;
        }
        if self.pcr.is_some() {
            flags |= PCR_FLAG;
        }
        flags
    }
}

/// Writes `head` then each slice of `body` as one payload unit (a PES
/// packet, or a pointer field and section) on `pid`.
///
/// The first packet sets `payload_unit_start_indicator` and carries `field`;
/// the last is filled to 188 bytes with adaptation field stuffing. Nothing
/// is written for an empty unit.
pub(crate) fn packetize(
    out: &mut BytesMut,
    pid: u16,
    cc: &mut ContinuityCounter,
    field: AdaptationField,
    head: &[u8],
    body: &[&[u8]],
) {
    let total = head.len() + body.iter().map(|piece| piece.len()).sum::<usize>();
    if total == 0 {
        return;
    }
    out.reserve((total / BODY_SIZE + 2) * PACKET_SIZE);
    let mut payload = Pieces {
        head,
        body,
        index: 0,
    };
    let mut remaining = total;
    let mut field = Some(field);
    while remaining > 0 {
        let this = field.take().unwrap_or_default();
        let field_len = this.len();
        let room = BODY_SIZE - field_len;
        let take = room.min(remaining);
        let field_total = field_len + (room - take);
        let pusi = if remaining == total { 0x40 } else { 0 };
        let control = if field_total > 0 {
            FIELD_AND_PAYLOAD
        } else {
            PAYLOAD_ONLY
        };
        out.put_u8(SYNC_BYTE);
        out.put_u8(pusi | ((pid >> 8) as u8 & 0x1f));
        out.put_u8(pid as u8);
        out.put_u8((control << 4) | cc.next());
        if field_total > 0 {
            // At most 183, the longest field a packet with payload can hold.
            out.put_u8((field_total - 1) as u8);
        }
        if field_total > 1 {
            out.put_u8(this.flags());
            if let Some(pcr) = this.pcr {
                put_pcr(out, pcr);
            }
            out.put_bytes(0xff, field_total - field_len.max(2));
        }
        payload.copy_to(out, take);
        remaining -= take;
    }
}

/// Writes a PCR with a 33-bit `base` and a zero extension.
fn put_pcr(out: &mut BytesMut, base: u64) {
    let base = base & ((1 << 33) - 1);
    out.put_u32((base >> 1) as u32);
    out.put_u8((((base & 1) as u8) << 7) | 0x7e);
    out.put_u8(0);
}

/// A cursor over `head` followed by the slices of `body`.
struct Pieces<'a> {
    head: &'a [u8],
    body: &'a [&'a [u8]],
    index: usize,
}

impl Pieces<'_> {
    /// Copies the next `n` bytes (which the caller knows are there).
    fn copy_to(&mut self, out: &mut BytesMut, mut n: usize) {
        while n > 0 {
            if self.head.is_empty() {
                self.head = self.body[self.index];
                self.index += 1;
                continue;
            }
            let take = n.min(self.head.len());
            out.put_slice(&self.head[..take]);
            self.head = &self.head[take..];
            n -= take;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One packet's header fields and its adaptation field and payload.
    #[derive(Debug)]
    pub(crate) struct Parsed<'a> {
        pub(crate) pid: u16,
        pub(crate) pusi: bool,
        pub(crate) cc: u8,
        pub(crate) field: Option<&'a [u8]>,
        pub(crate) payload: &'a [u8],
    }

    /// Splits a packet, checking the fields a demuxer checks.
    pub(crate) fn parse(packet: &[u8]) -> Parsed<'_> {
        assert_eq!(packet.len(), PACKET_SIZE);
        assert_eq!(packet[0], SYNC_BYTE);
        let control = packet[3] >> 4;
        assert!(control == 1 || control == 3, "control {control}");
        let (field, payload) = if control == 3 {
            let len = usize::from(packet[4]);
            assert!(len <= 183);
            (Some(&packet[5..5 + len]), &packet[5 + len..])
        } else {
            (None, &packet[4..])
        };
        Parsed {
            pid: u16::from_be_bytes([packet[1] & 0x1f, packet[2]]),
            pusi: packet[1] & 0x40 != 0,
            cc: packet[3] & 0x0f,
            field,
            payload,
        }
    }

    fn packets(out: &[u8]) -> Vec<Parsed<'_>> {
        assert_eq!(out.len() % PACKET_SIZE, 0);
        out.chunks(PACKET_SIZE).map(parse).collect()
    }

    #[test]
    fn continuity_counter_wraps_at_16() {
        let mut cc = ContinuityCounter::default();
        let seen: Vec<u8> = (0..34).map(|_| cc.next()).collect();
        let expected: Vec<u8> = (0..34).map(|i| i % 16).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn counters_run_on_across_units() {
        let mut cc = ContinuityCounter::default();
        let mut out = BytesMut::new();
        let data = vec![0xab; 1000];
        for _ in 0..5 {
            packetize(
                &mut out,
                0x100,
                &mut cc,
                AdaptationField::default(),
                &data,
                &[],
            );
        }
        let parsed = packets(&out);
        assert_eq!(parsed.len(), 30);
        for (i, packet) in parsed.iter().enumerate() {
            assert_eq!(usize::from(packet.cc), i % 16);
            assert_eq!(packet.pusi, i % 6 == 0);
        }
    }

    #[test]
    fn stuffs_every_size_of_last_packet() {
        // Every remainder from a full packet down to one byte, including the
        // one-byte field (a bare length) and the two-byte field (length and
        // flags).
        for len in 1..=2 * BODY_SIZE + 1 {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut out = BytesMut::new();
            let mut cc = ContinuityCounter::default();
            packetize(
                &mut out,
                0x101,
                &mut cc,
                AdaptationField::default(),
                &[],
                &[&data[..3.min(len)], &data[3.min(len)..]],
            );
            let parsed = packets(&out);
            assert_eq!(parsed.len(), len.div_ceil(BODY_SIZE), "len {len}");
            let mut joined = Vec::new();
            for packet in &parsed {
                assert_eq!(packet.pid, 0x101);
                if let Some((flags, stuffing)) = packet.field.and_then(<[u8]>::split_first) {
                    assert_eq!(*flags, 0);
                    assert!(stuffing.iter().all(|&b| b == 0xff));
                }
                joined.extend_from_slice(packet.payload);
            }
            assert_eq!(joined, data, "len {len}");
        }
    }

    #[test]
    fn first_packet_carries_pcr_and_random_access() {
        let mut out = BytesMut::new();
        let mut cc = ContinuityCounter::default();
        let field = AdaptationField {
            random_access: true,
            pcr: Some(0x1_2345_6789),
        };
        packetize(&mut out, 0x100, &mut cc, field, &[7; 300], &[]);
        let parsed = packets(&out);
        assert_eq!(parsed.len(), 2);
        let field = parsed[0].field.unwrap();
        assert_eq!(field[0], RANDOM_ACCESS_INDICATOR | PCR_FLAG);
        let pcr = &field[1..7];
        let base = (u64::from(u32::from_be_bytes([pcr[0], pcr[1], pcr[2], pcr[3]])) << 1)
            | u64::from(pcr[4] >> 7);
        assert_eq!(base, 0x1_2345_6789);
        assert_eq!(pcr[4] & 0x7f, 0x7e);
        assert_eq!(pcr[5], 0);
        assert_eq!(parsed[0].payload.len(), BODY_SIZE - 8);
        // The second packet has no PCR, only stuffing.
        assert_eq!(parsed[1].field.unwrap()[0], 0);
        assert_eq!(parsed[0].payload.len() + parsed[1].payload.len(), 300);
    }

    #[test]
    fn random_access_alone_takes_two_bytes() {
        let mut out = BytesMut::new();
        let mut cc = ContinuityCounter::default();
        let field = AdaptationField {
            random_access: true,
            pcr: None,
        };
        packetize(&mut out, 0x100, &mut cc, field, &[1; BODY_SIZE - 2], &[]);
        let parsed = packets(&out);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].field, Some(&[RANDOM_ACCESS_INDICATOR][..]));
    }

    #[test]
    fn empty_unit_writes_nothing() {
        let mut out = BytesMut::new();
        let mut cc = ContinuityCounter::default();
        packetize(
            &mut out,
            0x100,
            &mut cc,
            AdaptationField::default(),
            &[],
            &[&[]],
        );
        assert!(out.is_empty());
        assert_eq!(cc.next(), 0);
    }
}
