//! A most-significant-bit-first reader over RBSP bytes, with the Exp-Golomb
//! codes H.264 and H.265 parameter sets are written in.

use super::CodecError;

/// Reads bits from a byte slice, most significant bit first.
///
/// Every read checks the remaining length, so a short or hostile input yields
/// [`CodecError::BitstreamEnd`] and never a panic.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Position of the next bit to read, counted from the first byte's MSB.
    bit: usize,
}

impl<'a> BitReader<'a> {
    /// A reader positioned at the first bit of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader { data, bit: 0 }
    }

    /// One bit as a flag.
    pub(crate) fn read_flag(&mut self) -> Result<bool, CodecError> {
        let byte = self
            .data
            .get(self.bit / 8)
            .ok_or(CodecError::BitstreamEnd { bit: self.bit })?;
        let value = (byte >> (7 - self.bit % 8)) & 1 == 1;
        self.bit += 1;
        Ok(value)
    }

    /// `n` bits (at most 32) as an unsigned number.
    pub(crate) fn read_bits(&mut self, n: u32) -> Result<u32, CodecError> {
        debug_assert!(n <= 32, "read_bits reads at most 32 bits");
        if self.bit + n as usize > self.data.len() * 8 {
            return Err(CodecError::BitstreamEnd { bit: self.bit });
        }
        let mut value: u64 = 0;
        for _ in 0..n {
            value = (value << 1) | u64::from(self.read_flag()?);
        }
        // At most 32 bits were shifted in.
        Ok(value as u32)
    }

    /// Eight bits.
    pub(crate) fn read_u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.read_bits(8)? as u8)
    }

    /// Skips `n` bits.
    pub(crate) fn skip_bits(&mut self, n: usize) -> Result<(), CodecError> {
        if self.bit + n > self.data.len() * 8 {
            return Err(CodecError::BitstreamEnd { bit: self.bit });
        }
        self.bit += n;
        Ok(())
    }

    /// An unsigned Exp-Golomb code, `ue(v)`.
    pub(crate) fn read_ue(&mut self) -> Result<u32, CodecError> {
        let start = self.bit;
        let mut zeros = 0u32;
        while !self.read_flag()? {
            zeros += 1;
            if zeros > 31 {
                return Err(CodecError::ExpGolombOverflow { bit: start });
            }
        }
        let suffix = u64::from(self.read_bits(zeros)?);
        let value = (1u64 << zeros) - 1 + suffix;
        u32::try_from(value).map_err(|_| CodecError::ExpGolombOverflow { bit: start })
    }

    /// A signed Exp-Golomb code, `se(v)`.
    pub(crate) fn read_se(&mut self) -> Result<i32, CodecError> {
        let code = i64::from(self.read_ue()?);
        // 1, 2, 3, 4 ... map to 1, -1, 2, -2 ...
        let value = if code % 2 == 1 {
            (code + 1) / 2
        } else {
            -(code / 2)
        };
        // read_ue is at most 2^32 - 2, so |value| <= 2^31 - 1 and fits.
        Ok(value as i32)
    }

    /// A `ue(v)` that must not exceed `limit`.
    pub(crate) fn read_ue_max(
        &mut self,
        what: &'static str,
        limit: u32,
    ) -> Result<u32, CodecError> {
        let value = self.read_ue()?;
        if value > limit {
            return Err(CodecError::OutOfRange {
                what,
                value: u64::from(value),
                limit: u64::from(limit),
            });
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bits_across_bytes() {
        let mut r = BitReader::new(&[0b1010_1100, 0b0101_0000]);
        assert!(r.read_flag().unwrap());
        assert_eq!(r.read_bits(3).unwrap(), 0b010);
        assert_eq!(r.read_bits(8).unwrap(), 0b1100_0101);
        assert_eq!(r.read_bits(4).unwrap(), 0);
        assert_eq!(r.read_flag(), Err(CodecError::BitstreamEnd { bit: 16 }));
    }

    #[test]
    fn reads_exp_golomb() {
        // ue: 1 -> 0, 010 -> 1, 011 -> 2, 00100 -> 3, 00111 -> 6
        let mut r = BitReader::new(&[0b1010_0110, 0b0100_0011, 0b1000_0000]);
        assert_eq!(r.read_ue().unwrap(), 0);
        assert_eq!(r.read_ue().unwrap(), 1);
        assert_eq!(r.read_ue().unwrap(), 2);
        assert_eq!(r.read_ue().unwrap(), 3);
        assert_eq!(r.read_ue().unwrap(), 6);
        // se: 010 -> 1, 011 -> -1, 00100 -> 2, 00101 -> -2
        let mut r = BitReader::new(&[0b0100_1100, 0b1000_0101]);
        assert_eq!(r.read_se().unwrap(), 1);
        assert_eq!(r.read_se().unwrap(), -1);
        assert_eq!(r.read_se().unwrap(), 2);
        assert_eq!(r.read_se().unwrap(), -2);
    }

    #[test]
    fn refuses_overlong_exp_golomb() {
        let zeros = [0u8; 8];
        assert_eq!(
            BitReader::new(&zeros).read_ue(),
            Err(CodecError::ExpGolombOverflow { bit: 0 })
        );
        // 31 zeros, a one, then 31 ones: the largest ue(v) that fits.
        let mut max = vec![0u8, 0, 0, 1];
        max.extend([0xff; 4]);
        assert_eq!(BitReader::new(&max).read_ue().unwrap(), u32::MAX - 1);
        assert_eq!(
            BitReader::new(&[0x00, 0x01]).read_ue(),
            Err(CodecError::BitstreamEnd { bit: 16 })
        );
    }
}
