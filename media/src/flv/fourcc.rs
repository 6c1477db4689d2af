//! Four-character codec codes, as Enhanced RTMP signals codecs.

use std::fmt;

/// A FourCC: four bytes naming a codec (`hvc1`, `Opus` ...).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourCc(pub [u8; 4]);

impl FourCc {
    /// H.264.
    pub const AVC1: FourCc = FourCc(*b"avc1");
    /// H.265.
    pub const HVC1: FourCc = FourCc(*b"hvc1");
    /// AV1.
    pub const AV01: FourCc = FourCc(*b"av01");
    /// VP9.
    pub const VP09: FourCc = FourCc(*b"vp09");
    /// AAC.
    pub const MP4A: FourCc = FourCc(*b"mp4a");
    /// Opus.
    pub const OPUS: FourCc = FourCc(*b"Opus");
    /// MP3.
    pub const MP3: FourCc = FourCc(*b".mp3");
}

impl fmt::Display for FourCc {
    /// Printable ASCII as is, anything else as `\xNN`, so a hostile code
    /// cannot inject into a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            if byte.is_ascii_graphic() || byte == b' ' {
                write!(f, "{}", byte as char)?;
            } else {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc(\"{self}\")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_safely() {
        assert_eq!(FourCc::OPUS.to_string(), "Opus");
        assert_eq!(FourCc(*b"a\nb\x00").to_string(), "a\\x0ab\\x00");
        assert_eq!(format!("{:?}", FourCc::HVC1), "FourCc(\"hvc1\")");
    }
}
