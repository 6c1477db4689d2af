//! The framing of a response body — chunked, a length, or until the server
//! closes — stripped as bytes stream past: the reader consumes size lines
//! and CRLFs and says how many of the next bytes are body, which the caller
//! reads in place (nothing is copied).

/// The longest chunk-size line (size, extensions) or trailer line accepted.
const MAX_LINE: usize = 4096;

/// How the body is framed, and where the reader is in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BodyReader {
    /// `Transfer-Encoding: chunked`.
    Chunked(Chunked),
    /// `Content-Length`: body bytes still to come.
    Length(u64),
    /// Everything until the server closes (HTTP/1.0 streaming).
    UntilClose,
}

/// A chunked body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Chunked {
    state: ChunkState,
    /// Wire bytes of the body consumed, for error messages.
    offset: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChunkState {
    /// In a chunk-size line: the size so far, its hex digits, whether the
    /// digits are over (an extension or whitespace follows), whether the CR
    /// came, and the line's length.
    Size {
        size: u64,
        digits: u8,
        after: bool,
        cr: bool,
        len: usize,
    },
    /// Data bytes left in the chunk.
    Data(u64),
    /// The CRLF after a chunk's data; whether the CR came.
    DataEnd { cr: bool },
    /// After the last chunk, trailer lines until an empty one: the current
    /// line's length, whether its CR came.
    Trailer { len: usize, cr: bool },
    /// The body is complete.
    Done,
}

impl ChunkState {
    const SIZE: ChunkState = ChunkState::Size {
        size: 0,
        digits: 0,
        after: false,
        cr: false,
        len: 0,
    };
}

impl BodyReader {
    /// A chunked body, before its first size line.
    pub(crate) fn chunked() -> BodyReader {
        BodyReader::Chunked(Chunked {
            state: ChunkState::SIZE,
            offset: 0,
        })
    }

    /// Consumes framing from the front of `input` up to the next body bytes
    /// and returns how many of `input`'s next bytes are body; 0 when
    /// `input` ran out, or the body is complete ([`BodyReader::is_done`]).
    /// Call [`BodyReader::consume`] with what was taken of them.
    pub(crate) fn next_data(&mut self, input: &mut &[u8]) -> anyhow::Result<usize> {
        match self {
            BodyReader::Length(left) => Ok(input
                .len()
                .min(usize::try_from(*left).unwrap_or(usize::MAX))),
            BodyReader::UntilClose => Ok(input.len()),
            BodyReader::Chunked(chunked) => chunked.next_data(input),
        }
    }

    /// Takes `n` body bytes, at most what [`BodyReader::next_data`] said.
    pub(crate) fn consume(&mut self, n: usize) {
        match self {
            BodyReader::Length(left) => *left -= n as u64,
            BodyReader::UntilClose => {}
            BodyReader::Chunked(chunked) => {
                chunked.offset += n as u64;
                if let ChunkState::Data(left) = &mut chunked.state {
                    *left -= n as u64;
                    if *left == 0 {
                        chunked.state = ChunkState::DataEnd { cr: false };
                    }
                }
            }
        }
    }

    /// Whether the whole body was read (never, for a body that runs until
    /// the server closes).
    pub(crate) fn is_done(&self) -> bool {
        match self {
            BodyReader::Length(left) => *left == 0,
            BodyReader::UntilClose => false,
            BodyReader::Chunked(chunked) => chunked.state == ChunkState::Done,
        }
    }
}

impl Chunked {
    fn next_data(&mut self, input: &mut &[u8]) -> anyhow::Result<usize> {
        loop {
            match self.state {
                ChunkState::Data(left) => {
                    return Ok(input.len().min(usize::try_from(left).unwrap_or(usize::MAX)));
                }
                ChunkState::Done => return Ok(0),
                _ => {
                    let Some((&byte, rest)) = input.split_first() else {
                        return Ok(0);
                    };
                    *input = rest;
                    self.step(byte)?;
                    self.offset += 1;
                }
            }
        }
    }

    /// Takes one framing byte.
    fn step(&mut self, byte: u8) -> anyhow::Result<()> {
        let offset = self.offset;
        let bad = |what: &str| anyhow::anyhow!("{what} at body byte {offset}");
        self.state = match self.state {
            ChunkState::Size { cr: true, size, .. } => match byte {
                b'\n' if size == 0 => ChunkState::Trailer { len: 0, cr: false },
                b'\n' => ChunkState::Data(size),
                _ => return Err(bad("a chunk-size line's CR without its LF")),
            },
            ChunkState::Size {
                size,
                digits,
                after,
                len,
                ..
            } => {
                anyhow::ensure!(len < MAX_LINE, bad("a chunk-size line too long"));
                let len = len + 1;
                let digit = (byte as char).to_digit(16);
                match (byte, digit) {
                    (_, Some(d)) if !after => {
                        anyhow::ensure!(digits < 15, bad("a chunk size too large"));
                        ChunkState::Size {
                            size: size << 4 | u64::from(d),
                            digits: digits + 1,
                            after,
                            cr: false,
                            len,
                        }
                    }
                    _ if digits == 0 => return Err(bad("a chunk-size line without a size")),
                    (b'\r', _) => ChunkState::Size {
                        size,
                        digits,
                        after,
                        cr: true,
                        len,
                    },
                    (b'\n', _) => return Err(bad("a chunk-size line ending in a bare LF")),
                    (b';' | b' ' | b'\t', _) => ChunkState::Size {
                        size,
                        digits,
                        after: true,
                        cr: false,
                        len,
                    },
                    _ if after => ChunkState::Size {
                        size,
                        digits,
                        after,
                        cr: false,
                        len,
                    },
                    _ => return Err(bad("a chunk size that is not hex")),
                }
            }
            ChunkState::DataEnd { cr: false } if byte == b'\r' => ChunkState::DataEnd { cr: true },
            ChunkState::DataEnd { cr: true } if byte == b'\n' => ChunkState::SIZE,
            ChunkState::DataEnd { .. } => return Err(bad("a chunk's data not followed by CRLF")),
            ChunkState::Trailer { len, cr: true } => match byte {
                b'\n' if len == 0 => ChunkState::Done,
                b'\n' => ChunkState::Trailer { len: 0, cr: false },
                _ => return Err(bad("a trailer line's CR without its LF")),
            },
            ChunkState::Trailer { len, cr: false } => match byte {
                b'\r' => ChunkState::Trailer { len, cr: true },
                b'\n' => return Err(bad("a trailer line ending in a bare LF")),
                _ if len >= MAX_LINE => return Err(bad("a trailer line too long")),
                _ => ChunkState::Trailer {
                    len: len + 1,
                    cr: false,
                },
            },
            ChunkState::Data(_) | ChunkState::Done => {
                unreachable!("data and the end take no framing byte")
            }
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `wire` in the pieces `cuts` gives, returning the body and
    /// whether it was complete.
    fn read(
        mut reader: BodyReader,
        wire: &[u8],
        cuts: &[usize],
    ) -> anyhow::Result<(Vec<u8>, bool)> {
        let mut body = Vec::new();
        let mut from = 0;
        for &to in cuts.iter().chain([&wire.len()]) {
            let mut input = &wire[from..to];
            from = to;
            loop {
                let n = reader.next_data(&mut input)?;
                if n == 0 {
                    break;
                }
                // Take the bytes in two bites, as a tag parser may.
                let first = n.div_ceil(2);
                body.extend_from_slice(&input[..first]);
                reader.consume(first);
                input = &input[first..];
                let n = reader.next_data(&mut input)?;
                let second = n.min(n / 2 + 1);
                body.extend_from_slice(&input[..second]);
                reader.consume(second);
                input = &input[second..];
            }
            assert!(input.is_empty() || reader.is_done());
        }
        Ok((body, reader.is_done()))
    }

    const WIRE: &[u8] =
        b"5\r\nhello\r\n1A;name=\"x\"\r\nabcdefghijklmnopqrstuvwxyz\r\n3 \r\n123\r\n0\r\nx-trailer: 1\r\n\r\n";
    const BODY: &[u8] = b"helloabcdefghijklmnopqrstuvwxyz123";

    #[test]
    fn a_chunked_body_split_at_every_byte_and_every_pair() {
        for a in 0..=WIRE.len() {
            let (body, done) = read(BodyReader::chunked(), WIRE, &[a]).unwrap();
            assert_eq!((body.as_slice(), done), (BODY, true), "split at {a}");
            for b in a..=WIRE.len() {
                let (body, done) = read(BodyReader::chunked(), WIRE, &[a, b]).unwrap();
                assert_eq!((body.as_slice(), done), (BODY, true), "split at {a}, {b}");
            }
        }
    }

    #[test]
    fn an_unfinished_chunked_body_is_not_done() {
        let (body, done) = read(BodyReader::chunked(), &WIRE[..WIRE.len() - 2], &[]).unwrap();
        assert_eq!((body.as_slice(), done), (BODY, false));
    }

    #[test]
    fn length_and_close_delimited_bodies() {
        let (body, done) = read(BodyReader::Length(4), b"abcdefgh", &[1, 3]).unwrap();
        assert_eq!((body.as_slice(), done), (&b"abcd"[..], true));
        let (body, done) = read(BodyReader::UntilClose, b"abcdefgh", &[5]).unwrap();
        assert_eq!((body.as_slice(), done), (&b"abcdefgh"[..], false));
    }

    #[test]
    fn refuses_bad_framing_and_says_where() {
        for (wire, offset) in [
            (&b"x\r\n"[..], 0),
            (b"\r\n", 0),
            (b"5\nhello", 1),
            (b"5\r\nhelloX", 8),
            (b"5\r\nhello\rX", 9),
            (b"5\rX", 2),
            (b"1234567890abcdef\r\n", 15),
            (b"0\r\nx\ny", 4),
        ] {
            let e = read(BodyReader::chunked(), wire, &[])
                .unwrap_err()
                .to_string();
            assert!(
                e.ends_with(&format!("at body byte {offset}")),
                "{wire:?}: {e}"
            );
        }
        let long = [b"1;".as_slice(), &[b'x'; MAX_LINE]].concat();
        assert!(read(BodyReader::chunked(), &long, &[]).is_err());
    }
}
