//! A writer of ISO BMFF boxes: size-prefixed boxes and full boxes, nested by
//! closures, into one `BytesMut`.
//!
//! A box's size is only known once its children are written, so the writer
//! puts a placeholder and patches it when the closure returns. Callers check
//! what they write (samples, records, counts) against limits far below 4 GiB
//! before they write it, so every box fits the 32-bit size field and the
//! writer itself cannot fail.

use bytes::{BufMut, BytesMut};

/// Writes boxes front to back.
pub(crate) struct BoxWriter {
    buf: BytesMut,
}

impl BoxWriter {
    /// A writer with room for `capacity` bytes before it reallocates.
    pub(crate) fn with_capacity(capacity: usize) -> BoxWriter {
        BoxWriter {
            buf: BytesMut::with_capacity(capacity),
        }
    }

    /// Writes a box of type `kind` whose body `body` writes.
    pub(crate) fn write_box(&mut self, kind: [u8; 4], body: impl FnOnce(&mut BoxWriter)) {
        let start = self.buf.len();
        self.buf.put_u32(0);
        self.buf.put_slice(&kind);
        body(self);
        let size = self.buf.len() - start;
        debug_assert!(u32::try_from(size).is_ok(), "unbounded box {kind:?}");
        self.patch_u32(start, u32::try_from(size).unwrap_or(u32::MAX));
    }

    /// Writes a full box: a box whose body starts with a version byte and
    /// 24 bits of flags.
    pub(crate) fn write_full_box(
        &mut self,
        kind: [u8; 4],
        version: u8,
        flags: u32,
        body: impl FnOnce(&mut BoxWriter),
    ) {
        self.write_box(kind, |w| {
            w.u32(u32::from(version) << 24 | (flags & 0x00ff_ffff));
            body(w);
        });
    }

    /// Bytes written so far.
    pub(crate) fn position(&self) -> usize {
        self.buf.len()
    }

    /// Overwrites the four bytes at `at` (a placeholder written earlier).
    pub(crate) fn patch_u32(&mut self, at: usize, value: u32) {
        if let Some(field) = self.buf.get_mut(at..at + 4) {
            field.copy_from_slice(&value.to_be_bytes());
        }
    }

    /// One byte.
    pub(crate) fn u8(&mut self, value: u8) {
        self.buf.put_u8(value);
    }

    /// A big-endian `u16`.
    pub(crate) fn u16(&mut self, value: u16) {
        self.buf.put_u16(value);
    }

    /// A big-endian 24-bit number (the top byte of `value` is dropped).
    pub(crate) fn u24(&mut self, value: u32) {
        self.buf.put_slice(&value.to_be_bytes()[1..]);
    }

    /// A big-endian `u32`.
    pub(crate) fn u32(&mut self, value: u32) {
        self.buf.put_u32(value);
    }

    /// A big-endian two's-complement `i32`.
    pub(crate) fn i32(&mut self, value: i32) {
        self.buf.put_i32(value);
    }

    /// A big-endian `u64`.
    pub(crate) fn u64(&mut self, value: u64) {
        self.buf.put_u64(value);
    }

    /// Bytes as they are.
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }

    /// `count` zero bytes (reserved fields).
    pub(crate) fn zeros(&mut self, count: usize) {
        self.buf.put_bytes(0, count);
    }

    /// The bytes written.
    pub(crate) fn finish(self) -> BytesMut {
        self.buf
    }
}

/// A reader of box trees for the unit tests: finds the body of the box at a
/// path of types, looking only at the first box of each type on the way.
#[cfg(test)]
pub(crate) mod test_reader {
    /// Full boxes whose children start after the version, flags and an entry
    /// count; plain containers.
    const CONTAINERS: &[&[u8; 4]] = &[
        b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl", b"mvex", b"moof", b"traf",
    ];

    /// The boxes directly in `data`, as (type, body).
    pub(crate) fn children(mut data: &[u8]) -> Vec<([u8; 4], &[u8])> {
        let mut out = Vec::new();
        while !data.is_empty() {
            assert!(data.len() >= 8, "box header truncated: {data:?}");
            let size = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
            assert!(size >= 8 && size <= data.len(), "bad box size {size}");
            let kind: [u8; 4] = data[4..8].try_into().unwrap();
            out.push((kind, &data[8..size]));
            data = &data[size..];
        }
        out
    }

    /// The body of the first box at `path`, descending only into the
    /// containers this crate writes.
    pub(crate) fn find<'a>(data: &'a [u8], path: &[&[u8; 4]]) -> Option<&'a [u8]> {
        let (first, rest) = path.split_first()?;
        let (kind, body) = children(data).into_iter().find(|(k, _)| k == *first)?;
        if rest.is_empty() {
            return Some(body);
        }
        assert!(CONTAINERS.contains(&&kind), "not a container");
        find(body, rest)
    }

    /// Every box of type `kind` directly in `data`.
    pub(crate) fn all<'a>(data: &'a [u8], kind: &[u8; 4]) -> Vec<&'a [u8]> {
        children(data)
            .into_iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, body)| body)
            .collect()
    }

    /// A big-endian `u32` at `at`.
    pub(crate) fn u32_at(data: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(data[at..at + 4].try_into().unwrap())
    }

    /// A big-endian `u64` at `at`.
    pub(crate) fn u64_at(data: &[u8], at: usize) -> u64 {
        u64::from_be_bytes(data[at..at + 8].try_into().unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_size_prefixed_boxes() {
        let mut w = BoxWriter::with_capacity(0);
        w.write_box(*b"free", |w| w.bytes(b"abc"));
        assert_eq!(&w.finish()[..], b"\0\0\0\x0bfreeabc");
    }

    #[test]
    fn writes_full_box_headers() {
        let mut w = BoxWriter::with_capacity(0);
        w.write_full_box(*b"tfdt", 1, 0x0102_0304, |w| w.u64(7));
        assert_eq!(
            &w.finish()[..],
            b"\0\0\0\x14tfdt\x01\x02\x03\x04\0\0\0\0\0\0\0\x07"
        );
    }

    #[test]
    fn nests_and_patches_every_size() {
        let mut w = BoxWriter::with_capacity(0);
        w.write_box(*b"moov", |w| {
            w.write_box(*b"trak", |w| {
                w.write_full_box(*b"tkhd", 0, 3, |w| w.u16(0xabcd));
                w.write_box(*b"free", |_| {});
            });
            w.write_box(*b"skip", |w| {
                w.u24(0x0012_3456);
                w.i32(-2);
                w.zeros(2);
            });
        });
        let out = w.finish();
        assert_eq!(
            &out[..],
            b"\0\0\0\x37moov\
              \0\0\0\x1etrak\
              \0\0\0\x0etkhd\0\0\0\x03\xab\xcd\
              \0\0\0\x08free\
              \0\0\0\x11skip\x12\x34\x56\xff\xff\xff\xfe\0\0"
        );
        assert_eq!(
            test_reader::find(&out, &[b"moov", b"trak", b"tkhd"]),
            Some(&b"\0\0\0\x03\xab\xcd"[..])
        );
    }

    #[test]
    fn patches_placeholders() {
        let mut w = BoxWriter::with_capacity(0);
        w.u32(0);
        let at = w.position();
        w.u32(0);
        w.patch_u32(at, 0xdead_beef);
        // Out of range: ignored rather than a panic.
        w.patch_u32(6, 1);
        assert_eq!(&w.finish()[..], b"\0\0\0\0\xde\xad\xbe\xef");
    }
}
