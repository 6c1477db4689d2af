//! What arcly's fuzz targets share: reading a fuzz input as a byte stream
//! and the reads it arrives in.
//!
//! Every parser in arcly is incremental, and a parser that works on a whole
//! buffer but breaks when the same bytes come in other pieces is a classic
//! bug. So the targets that feed a parser take their input in the
//! [`Splits`] layout: a few bytes that say where the reads end, then the
//! stream. A real capture with `[0x00]` in front is a valid input (the
//! whole capture in one read), which is how the seed corpora are built.
//!
//! This crate never decides what is a bug: the targets do, with `assert!`s
//! that say which documented property failed.
#![forbid(unsafe_code)]

/// A fuzz input read as `[n] [n read sizes] [stream]`, iterated as the reads
/// that deliver the stream.
///
/// Read sizes are used in turn, cycling when they run out; a size byte of 0
/// stands for everything left. With no size bytes (`n` = 0, or an input too
/// short for `n`), the stream comes in one read. The reads always cover the
/// whole stream, in order.
#[derive(Clone, Debug)]
pub struct Splits<'a> {
    sizes: &'a [u8],
    next_size: usize,
    rest: &'a [u8],
    stream: &'a [u8],
}

impl<'a> Splits<'a> {
    /// Reads the layout from the front of `input`.
    pub fn new(input: &'a [u8]) -> Self {
        let (count, input) = match input.split_first() {
            Some((&count, input)) => (usize::from(count), input),
            None => (0, input),
        };
        let (sizes, stream) = input.split_at(count.min(input.len()));
        Splits {
            sizes,
            next_size: 0,
            rest: stream,
            stream,
        }
    }

    /// The whole stream, as one read would deliver it.
    pub fn stream(&self) -> &'a [u8] {
        self.stream
    }
}

impl<'a> Iterator for Splits<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let size = match self.sizes.get(self.next_size % self.sizes.len().max(1)) {
            Some(&size) if size > 0 => usize::from(size),
            _ => self.rest.len(),
        };
        self.next_size += 1;
        let (read, rest) = self.rest.split_at(size.min(self.rest.len()));
        self.rest = rest;
        Some(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_through_the_sizes() {
        let reads: Vec<&[u8]> = Splits::new(b"\x02\x01\x03abcdefg").collect();
        assert_eq!(reads, [&b"a"[..], b"bcd", b"e", b"fg"]);
    }

    #[test]
    fn zero_size_takes_the_rest() {
        let reads: Vec<&[u8]> = Splits::new(b"\x02\x02\x00abcdefg").collect();
        assert_eq!(reads, [&b"ab"[..], b"cdefg"]);
    }

    #[test]
    fn no_sizes_is_one_read() {
        let splits = Splits::new(b"\x00abc");
        assert_eq!(splits.stream(), b"abc");
        assert_eq!(splits.collect::<Vec<_>>(), [&b"abc"[..]]);
        // A count longer than the input takes all of it as sizes.
        assert_eq!(Splits::new(b"\x09ab").count(), 0);
        assert_eq!(Splits::new(b"").count(), 0);
    }
}
