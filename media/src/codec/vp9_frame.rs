//! The start of a VP9 frame's uncompressed header (VP9 bitstream spec
//! 6.2): frame type and, for intra frames, the picture size. Superframes
//! (several frames behind one index, Annex B) are split first.

use super::CodecError;
use super::bit_reader::BitReader;

/// The most frames a superframe index can list.
const MAX_SUPERFRAME_FRAMES: usize = 8;

/// `frame_sync_code` of key and intra-only frames.
const SYNC_CODE: u32 = 0x49_83_42;

/// `color_space` value of RGB.
const CS_RGB: u32 = 7;

/// What the uncompressed header of one frame says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Vp9Header {
    /// `frame_type == KEY_FRAME` (and not `show_existing_frame`).
    pub(crate) key_frame: bool,
    /// `frame_width_minus_1 + 1`, `frame_height_minus_1 + 1`, for key and
    /// intra-only frames.
    pub(crate) size: Option<(u32, u32)>,
}

/// The width and height of a VP9 key frame or intra-only frame, from its
/// uncompressed header; `None` for inter frames and for bytes that are not
/// a VP9 frame.
///
/// A superframe gives the size of the first of its frames that has one.
pub fn vp9_frame_size(frame: &[u8]) -> Option<(u32, u32)> {
    let (frames, count) = split_superframe(frame)?;
    frames[..count]
        .iter()
        .find_map(|frame| read_header(frame).ok()?.size)
}

/// Splits a superframe into its frames; anything else is one frame. `None`
/// if the index lists more bytes than precede it.
pub(crate) fn split_superframe(data: &[u8]) -> Option<([&[u8]; MAX_SUPERFRAME_FRAMES], usize)> {
    let mut frames: [&[u8]; MAX_SUPERFRAME_FRAMES] = [&[]; MAX_SUPERFRAME_FRAMES];
    let Some(&marker) = data.last() else {
        return Some((frames, 0));
    };
    let count = usize::from(marker & 0x07) + 1;
    let size_bytes = usize::from((marker >> 3) & 0x03) + 1;
    let index_len = 2 + size_bytes * count;
    let is_index =
        marker & 0xe0 == 0xc0 && data.len() >= index_len && data[data.len() - index_len] == marker;
    if !is_index {
        frames[0] = data;
        return Some((frames, 1));
    }
    let index_start = data.len() - index_len;
    let sizes = &data[index_start + 1..data.len() - 1];
    let mut pos = 0usize;
    for (slot, size) in frames.iter_mut().zip(sizes.chunks_exact(size_bytes)) {
        let len = size
            .iter()
            .rev()
            .fold(0usize, |len, &byte| (len << 8) | usize::from(byte));
        let end = pos.checked_add(len).filter(|&end| end <= index_start)?;
        *slot = &data[pos..end];
        pos = end;
    }
    Some((frames, count))
}

/// Reads one frame's uncompressed header as far as the frame size.
pub(crate) fn read_header(frame: &[u8]) -> Result<Vp9Header, CodecError> {
    let mut r = BitReader::new(frame);
    if r.read_bits(2)? != 2 {
        return Err(CodecError::Invalid {
            what: "vp9 frame marker",
            offset: 0,
        });
    }
    let low = r.read_bits(1)?;
    let profile = (r.read_bits(1)? << 1) | low;
    if profile == 3 && r.read_flag()? {
        return Err(CodecError::Invalid {
            what: "vp9 reserved bit after profile 3",
            offset: 0,
        });
    }
    if r.read_flag()? {
        // show_existing_frame: a repeat of a decoded frame, no new picture.
        return Ok(Vp9Header {
            key_frame: false,
            size: None,
        });
    }
    let key_frame = !r.read_flag()?;
    let show_frame = r.read_flag()?;
    let error_resilient = r.read_flag()?;
    let intra_only = if key_frame {
        true
    } else {
        let intra_only = !show_frame && r.read_flag()?;
        if !error_resilient {
            r.skip_bits(2)?; // reset_frame_context
        }
        intra_only
    };
    if !intra_only {
        return Ok(Vp9Header {
            key_frame,
            size: None,
        });
    }
    if r.read_bits(24)? != SYNC_CODE {
        return Err(CodecError::Invalid {
            what: "vp9 frame sync code",
            offset: 1,
        });
    }
    if key_frame || profile > 0 {
        skip_color_config(&mut r, profile)?;
    }
    if !key_frame {
        r.skip_bits(8)?; // refresh_frame_flags
    }
    let width = r.read_bits(16)? + 1;
    let height = r.read_bits(16)? + 1;
    Ok(Vp9Header {
        key_frame,
        size: Some((width, height)),
    })
}

fn skip_color_config(r: &mut BitReader<'_>, profile: u32) -> Result<(), CodecError> {
    if profile >= 2 {
        r.skip_bits(1)?; // ten_or_twelve_bit
    }
    let odd_profile = profile == 1 || profile == 3;
    if r.read_bits(3)? != CS_RGB {
        r.skip_bits(1)?; // color_range
        if odd_profile {
            r.skip_bits(3)?; // subsampling_x, subsampling_y, reserved_zero
        }
    } else if odd_profile {
        r.skip_bits(1)?; // reserved_zero
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first bytes of the key frame libvpx wrote for 320x240 profile 0.
    const LIBVPX_KEY: &[u8] = &[0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xf0, 0x0e, 0xf6, 0x00];

    #[test]
    fn reads_key_frame_size() {
        assert_eq!(
            read_header(LIBVPX_KEY),
            Ok(Vp9Header {
                key_frame: true,
                size: Some((320, 240))
            })
        );
        assert_eq!(vp9_frame_size(LIBVPX_KEY), Some((320, 240)));
        for len in 0..8 {
            assert_eq!(vp9_frame_size(&LIBVPX_KEY[..len]), None);
        }
    }

    #[test]
    fn reads_inter_and_intra_only_frames() {
        // Profile 0 inter frame, shown: marker 10, profile 00, show_existing
        // 0, frame_type 1, show 1, error_resilient 0.
        assert_eq!(
            read_header(&[0x86, 0x00]),
            Ok(Vp9Header {
                key_frame: false,
                size: None
            })
        );
        // show_existing_frame.
        assert_eq!(read_header(&[0x88]).map(|h| h.key_frame), Ok(false));
        // Profile 1 intra-only, hidden, error resilient: 10 1 0 0 1 0 1, intra_only 1,
        // sync code, color space 0 + range + subsampling 3 bits, refresh 8
        // bits, then 63 / 47 (64x48).
        let bits = "10 1 0 0 1 0 1 1 010010011000001101000010 000 0 000 11111111
            0000000000111111 0000000000101111";
        let frame = pack(bits);
        assert_eq!(
            read_header(&frame),
            Ok(Vp9Header {
                key_frame: false,
                size: Some((64, 48))
            })
        );
        assert_eq!(
            read_header(&[0x42]).map(|_| ()),
            Err(CodecError::Invalid {
                what: "vp9 frame marker",
                offset: 0
            })
        );
    }

    #[test]
    fn splits_superframes() {
        // Two frames of 3 and 2 bytes, one size byte each: marker 0b11000_001.
        let data = [0x86, 0x00, 0x00, 0x82, 0x49, 0xc1, 0x03, 0x02, 0xc1];
        let (frames, count) = split_superframe(&data).unwrap();
        assert_eq!(&frames[..count], [&data[..3], &data[3..5]]);
        // Sizes larger than the data before the index.
        let bad = [0x86, 0x00, 0xc1, 0x03, 0x02, 0xc1];
        assert_eq!(split_superframe(&bad), None);
        // A frame whose last byte looks like a marker, without an index.
        let (frames, count) = split_superframe(&[0x86, 0xc0]).unwrap();
        assert_eq!(&frames[..count], [&[0x86, 0xc0][..]]);
        assert_eq!(split_superframe(&[]).map(|(_, n)| n), Some(0));
    }

    fn pack(bits: &str) -> Vec<u8> {
        let bits: Vec<u8> = bits.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        bits.chunks(8)
            .map(|chunk| {
                chunk
                    .iter()
                    .enumerate()
                    .filter(|(_, bit)| **bit == b'1')
                    .fold(0u8, |byte, (i, _)| byte | 0x80 >> i)
            })
            .collect()
    }
}
