//! Program specific information: the program association table (PAT) and
//! the program map table (PMT), each one section in one packet, with the
//! CRC-32/MPEG-2 that closes every section.

use bytes::BytesMut;

use super::packet::{AdaptationField, ContinuityCounter, PACKET_SIZE, packetize};

/// `table_id` of the PAT and of a PMT.
const PAT_TABLE_ID: u8 = 0x00;
const PMT_TABLE_ID: u8 = 0x02;

/// `transport_stream_id` in the PAT. One program per stream, so any value
/// does; 1 is what ffmpeg writes.
const TRANSPORT_STREAM_ID: u16 = 1;

/// Bytes after the packet header of a section packet: a pointer field, the
/// section and 0xff filler.
const PSI_PAYLOAD: usize = PACKET_SIZE - 4;

/// The CRC-32/MPEG-2 lookup table: polynomial 0x04c11db7, most significant
/// bit first.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC-32/MPEG-2 (initial value all ones, no reflection, no final xor), as
/// ISO/IEC 13818-1 Annex A defines it for PSI sections.
pub(crate) fn crc32_mpeg2(data: &[u8]) -> u32 {
    data.iter().fold(0xffff_ffff, |crc, &byte| {
        (crc << 8) ^ CRC_TABLE[usize::from((crc >> 24) as u8 ^ byte)]
    })
}

/// One elementary stream of the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PmtStream {
    /// `stream_type`: 0x1b H.264, 0x24 HEVC, 0x0f AAC ADTS, 0x03 MPEG-1
    /// audio.
    pub(crate) stream_type: u8,
    /// The PID its PES packets travel on.
    pub(crate) pid: u16,
}

/// Writes the PAT (program `program` at `pmt_pid`) as one packet on PID 0.
pub(crate) fn write_pat(
    out: &mut BytesMut,
    cc: &mut ContinuityCounter,
    program: u16,
    pmt_pid: u16,
) {
    let mut body = [0u8; 4];
    body[..2].copy_from_slice(&program.to_be_bytes());
    body[2..].copy_from_slice(&(0xe000 | pmt_pid).to_be_bytes());
    write_section(out, 0, cc, PAT_TABLE_ID, TRANSPORT_STREAM_ID, &body);
}

/// Writes the PMT of `program` (at most two streams) as one packet on
/// `pmt_pid`, with the PCR on `pcr_pid`.
pub(crate) fn write_pmt(
    out: &mut BytesMut,
    cc: &mut ContinuityCounter,
    program: u16,
    pmt_pid: u16,
    pcr_pid: u16,
    streams: &[PmtStream],
) {
    // PCR PID and an empty program info loop, then 5 bytes per stream
    // without descriptors.
    let mut body = Vec::with_capacity(4 + 5 * streams.len());
    body.extend_from_slice(&(0xe000 | pcr_pid).to_be_bytes());
    body.extend_from_slice(&0xf000u16.to_be_bytes());
    for stream in streams {
        body.push(stream.stream_type);
        body.extend_from_slice(&(0xe000 | stream.pid).to_be_bytes());
        body.extend_from_slice(&0xf000u16.to_be_bytes());
    }
    write_section(out, pmt_pid, cc, PMT_TABLE_ID, program, &body);
}

/// Writes a long-form section with version 0, `current_next_indicator` set
/// and a single section number, in one packet filled with 0xff.
fn write_section(
    out: &mut BytesMut,
    pid: u16,
    cc: &mut ContinuityCounter,
    table_id: u8,
    table_id_extension: u16,
    body: &[u8],
) {
    // Everything after `section_length`: the extension, version, the two
    // section numbers, the body and the CRC.
    let section_length = 5 + body.len() + 4;
    let mut section = Vec::with_capacity(1 + 3 + section_length);
    section.push(0); // pointer_field: the section starts right after it.
    section.push(table_id);
    // section_syntax_indicator, '0', two reserved bits, 12-bit length; the
    // tables here are a few dozen bytes.
    section.extend_from_slice(&(0xb000 | section_length as u16).to_be_bytes());
    section.extend_from_slice(&table_id_extension.to_be_bytes());
    section.push(0xc1); // reserved, version 0, current_next_indicator
    section.push(0); // section_number
    section.push(0); // last_section_number
    section.extend_from_slice(body);
    let crc = crc32_mpeg2(&section[1..]);
    section.extend_from_slice(&crc.to_be_bytes());
    debug_assert!(section.len() <= PSI_PAYLOAD);
    let filler = [0xff; PSI_PAYLOAD];
    let fill = PSI_PAYLOAD.saturating_sub(section.len());
    packetize(
        out,
        pid,
        cc,
        AdaptationField::default(),
        &section,
        &[&filler[..fill]],
    );
}

#[cfg(test)]
mod tests {
    use super::super::packet::tests::parse;
    use super::*;

    #[test]
    fn crc_matches_the_check_value() {
        // The catalogue check value of CRC-32/MPEG-2.
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_e6e7);
        assert_eq!(crc32_mpeg2(&[]), 0xffff_ffff);
    }

    #[test]
    fn pat_matches_ffmpeg() {
        // The PAT ffmpeg writes for program 1 with its PMT on 0x1000.
        let mut out = BytesMut::new();
        let mut cc = ContinuityCounter::default();
        write_pat(&mut out, &mut cc, 1, 0x1000);
        assert_eq!(out.len(), PACKET_SIZE);
        assert_eq!(
            &out[..21],
            &[
                0x47, 0x40, 0x00, 0x10, 0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00,
                0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2
            ]
        );
        assert!(out[21..].iter().all(|&b| b == 0xff));
    }

    #[test]
    fn pmt_lists_streams_and_checks_out() {
        let mut out = BytesMut::new();
        let mut cc = ContinuityCounter::default();
        let streams = [
            PmtStream {
                stream_type: 0x1b,
                pid: 0x100,
            },
            PmtStream {
                stream_type: 0x0f,
                pid: 0x101,
            },
        ];
        write_pmt(&mut out, &mut cc, 1, 0x1000, 0x100, &streams);
        write_pmt(&mut out, &mut cc, 1, 0x1000, 0x100, &streams);
        let first = parse(&out[..PACKET_SIZE]);
        let second = parse(&out[PACKET_SIZE..]);
        assert_eq!((first.pid, first.pusi, first.cc), (0x1000, true, 0));
        assert_eq!(second.cc, 1);
        let payload = first.payload;
        assert_eq!(payload[0], 0, "pointer field");
        let length = usize::from(u16::from_be_bytes([payload[2], payload[3]]) & 0x0fff);
        assert_eq!(length, 13 + 10);
        let section = &payload[1..4 + length];
        // A section whose CRC is appended has a CRC of zero.
        assert_eq!(crc32_mpeg2(section), 0);
        assert_eq!(
            &section[..section.len() - 4],
            &[
                0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1,
                0x00, 0xf0, 0x00, 0x0f, 0xe1, 0x01, 0xf0, 0x00
            ]
        );
    }
}
