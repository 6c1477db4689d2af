//! A bounds-checked big-endian reader over a `Bytes` buffer, shared by the
//! container and codec-record parsers.

use bytes::Bytes;

/// A read that ran past the end of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Short {
    /// The field that did not fit.
    pub(crate) what: &'static str,
    /// Where the field starts.
    pub(crate) offset: usize,
}

/// Reads fields front to back; slices share the buffer (no copy).
pub(crate) struct ByteReader<'a> {
    data: &'a Bytes,
    pos: usize,
    /// Added to offsets in errors, when `data` is a slice of a larger body.
    base: usize,
}

impl<'a> ByteReader<'a> {
    /// A reader at the start of `data`.
    pub(crate) fn new(data: &'a Bytes) -> Self {
        ByteReader::with_base(data, 0)
    }

    /// A reader over `data` that starts at offset `base` of the body errors
    /// should point into.
    pub(crate) fn with_base(data: &'a Bytes, base: usize) -> Self {
        ByteReader { data, pos: 0, base }
    }

    /// Offset of the next byte, counted from the start of the body.
    pub(crate) fn position(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Short> {
        let bytes = self.data.get(self.pos..self.pos + N).ok_or(Short {
            what,
            offset: self.position(),
        })?;
        self.pos += N;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// One byte.
    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, Short> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A big-endian `u16`.
    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, Short> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// A big-endian 24-bit unsigned number.
    pub(crate) fn u24(&mut self, what: &'static str) -> Result<u32, Short> {
        let [a, b, c] = self.array(what)?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// A big-endian 24-bit two's-complement number (FLV's `SI24`).
    pub(crate) fn i24(&mut self, what: &'static str) -> Result<i32, Short> {
        let [a, b, c] = self.array(what)?;
        // Place the 24 bits at the top, then shift back with sign extension.
        Ok(i32::from_be_bytes([a, b, c, 0]) >> 8)
    }

    /// Four bytes as they are (a FourCC).
    pub(crate) fn four(&mut self, what: &'static str) -> Result<[u8; 4], Short> {
        self.array(what)
    }

    /// The next `len` bytes as a zero-copy slice.
    pub(crate) fn take(&mut self, len: usize, what: &'static str) -> Result<Bytes, Short> {
        let start = self.pos;
        if len > self.remaining() {
            return Err(Short {
                what,
                offset: self.position(),
            });
        }
        self.pos += len;
        Ok(self.data.slice(start..start + len))
    }

    /// Everything left, as a zero-copy slice.
    pub(crate) fn rest(&mut self) -> Bytes {
        let start = self.pos;
        self.pos = self.data.len();
        self.data.slice(start..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_signed_24_bit() {
        let data = Bytes::from_static(&[0xff, 0xff, 0xfe, 0x00, 0x00, 0x50, 0x80, 0x00, 0x00]);
        let mut r = ByteReader::new(&data);
        assert_eq!(r.i24("a").unwrap(), -2);
        assert_eq!(r.i24("b").unwrap(), 80);
        assert_eq!(r.i24("c").unwrap(), -(1 << 23));
        assert_eq!(
            r.u8("d"),
            Err(Short {
                what: "d",
                offset: 9
            })
        );
    }

    #[test]
    fn take_is_bounded() {
        let data = Bytes::from_static(b"abcdef");
        let mut r = ByteReader::new(&data);
        assert_eq!(r.take(2, "x").unwrap(), "ab");
        assert_eq!(
            r.take(5, "y"),
            Err(Short {
                what: "y",
                offset: 2
            })
        );
        assert_eq!(r.rest(), "cdef");
        assert_eq!(r.remaining(), 0);
    }
}
