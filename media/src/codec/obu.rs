//! AV1 open bitstream units (AV1 spec 5.3): walking the OBUs of a temporal
//! unit or of `av1C`'s `configOBUs`.

use super::CodecError;

/// `obu_type` of a sequence header.
pub(crate) const OBU_SEQUENCE_HEADER: u8 = 1;
/// `obu_type` of a frame header.
pub(crate) const OBU_FRAME_HEADER: u8 = 3;
/// `obu_type` of a frame (header and tile group together).
pub(crate) const OBU_FRAME: u8 = 6;

/// `leb128()` codes longer than this are refused (AV1 spec 4.10.5).
const MAX_LEB128_BYTES: usize = 8;

/// One OBU: its type and payload (after the header and size field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Obu<'a> {
    /// `obu_type`.
    pub(crate) kind: u8,
    /// The OBU's payload.
    pub(crate) payload: &'a [u8],
}

/// Iterates over the OBUs of `data`, each with `obu_has_size_field` set
/// except possibly the last (which then runs to the end, as AV1-ISOBMFF
/// allows for the last OBU of a sample).
///
/// Yields an error, then stops, at the first OBU that does not fit or whose
/// forbidden bit is set.
pub(crate) struct Obus<'a> {
    data: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Obus<'a> {
    /// The OBUs of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Obus {
            data,
            pos: 0,
            failed: false,
        }
    }

    fn read(&mut self) -> Result<Obu<'a>, CodecError> {
        let start = self.pos;
        let header = self.data[start];
        if header & 0x80 != 0 {
            return Err(CodecError::Invalid {
                what: "obu forbidden bit",
                offset: start,
            });
        }
        let kind = (header >> 3) & 0x0f;
        let has_extension = header & 0x04 != 0;
        let has_size = header & 0x02 != 0;
        let mut pos = start + 1 + usize::from(has_extension);
        if pos > self.data.len() {
            return Err(CodecError::Truncated {
                what: "obu extension header",
                offset: start + 1,
            });
        }
        let size = if has_size {
            let (size, len) = leb128(&self.data[pos..], pos)?;
            pos += len;
            // leb128 refuses values above u32::MAX.
            usize::try_from(size).unwrap_or(usize::MAX)
        } else {
            self.data.len() - pos
        };
        let end = pos
            .checked_add(size)
            .filter(|&end| end <= self.data.len())
            .ok_or(CodecError::Truncated {
                what: "obu payload",
                offset: pos,
            })?;
        self.pos = end;
        Ok(Obu {
            kind,
            payload: &self.data[pos..end],
        })
    }
}

impl<'a> Iterator for Obus<'a> {
    type Item = Result<Obu<'a>, CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        let obu = self.read();
        self.failed = obu.is_err();
        Some(obu)
    }
}

/// Reads a `leb128()` value from the front of `data`; returns it and its
/// length in bytes. `offset` is where `data` starts, for errors.
pub(crate) fn leb128(data: &[u8], offset: usize) -> Result<(u64, usize), CodecError> {
    let mut value = 0u64;
    for (i, &byte) in data.iter().take(MAX_LEB128_BYTES).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if value > u64::from(u32::MAX) {
                return Err(CodecError::OutOfRange {
                    what: "leb128 value",
                    value,
                    limit: u64::from(u32::MAX),
                });
            }
            return Ok((value, i + 1));
        }
    }
    if data.len() >= MAX_LEB128_BYTES {
        return Err(CodecError::Invalid {
            what: "leb128 code longer than 8 bytes",
            offset,
        });
    }
    Err(CodecError::Truncated {
        what: "leb128 value",
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_leb128() {
        assert_eq!(leb128(&[0x00], 0), Ok((0, 1)));
        assert_eq!(leb128(&[0xe5, 0x8e, 0x26, 0xff], 0), Ok((624_485, 3)));
        // Padded with continuation bytes, as the spec allows.
        assert_eq!(leb128(&[0x81, 0x80, 0x80, 0x00], 0), Ok((1, 4)));
        assert!(matches!(
            leb128(&[0x80, 0x80], 3),
            Err(CodecError::Truncated { offset: 3, .. })
        ));
        assert!(matches!(
            leb128(&[0xff; 9], 0),
            Err(CodecError::Invalid { .. })
        ));
        assert!(matches!(
            leb128(&[0xff, 0xff, 0xff, 0xff, 0x7f], 0),
            Err(CodecError::OutOfRange { .. })
        ));
    }

    #[test]
    fn walks_obus() {
        // Temporal delimiter (size 0), sequence header with an extension
        // byte (size 2), then a frame without a size field.
        let data = [
            0x12, 0x00, 0x0e, 0x00, 0x02, 0xaa, 0xbb, 0x30, 0x01, 0x02, 0x03,
        ];
        let obus: Vec<_> = Obus::new(&data).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            obus,
            [
                Obu {
                    kind: 2,
                    payload: &[]
                },
                Obu {
                    kind: 1,
                    payload: &[0xaa, 0xbb]
                },
                Obu {
                    kind: 6,
                    payload: &[0x01, 0x02, 0x03]
                },
            ]
        );
    }

    #[test]
    fn stops_at_bad_obus() {
        let cases: [&[u8]; 4] = [&[0x92, 0x00], &[0x0e], &[0x0a, 0x05, 0x00], &[0x0a, 0x80]];
        for data in cases {
            let results: Vec<_> = Obus::new(data).collect();
            assert_eq!(results.len(), 1, "{data:02x?}");
            assert!(results[0].is_err(), "{data:02x?}");
        }
    }
}
