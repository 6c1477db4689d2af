//! The stamps inside an fMP4 part (or segment): its `moof`s are walked as
//! far as they locate samples — each `traf`'s `tfhd` and `trun` — and each
//! sample's first bytes are read for the synthetic source's stamp.
//!
//! A part is `moof`+`mdat` per track (arcly writes video, then audio);
//! samples are the frames' payloads as published. A video sample is AVCC,
//! and its stamp is the body of the leading SEI NAL; an audio sample (raw
//! AAC) starts with its stamp. Which is which is read from the sample
//! itself, so the init segment is not needed.

use anyhow::Context;
use arcly_engine::TrackKind;

use crate::source::stamp_in;

/// `tfhd` flags.
const BASE_DATA_OFFSET: u32 = 0x01;
const SAMPLE_DESCRIPTION_INDEX: u32 = 0x02;
const DEFAULT_SAMPLE_DURATION: u32 = 0x08;
const DEFAULT_SAMPLE_SIZE: u32 = 0x10;
const DEFAULT_SAMPLE_FLAGS: u32 = 0x20;

/// `trun` flags.
const DATA_OFFSET: u32 = 0x001;
const FIRST_SAMPLE_FLAGS: u32 = 0x004;
const SAMPLE_DURATION: u32 = 0x100;
const SAMPLE_SIZE: u32 = 0x200;
const SAMPLE_FLAGS: u32 = 0x400;
const SAMPLE_COMPOSITION_OFFSET: u32 = 0x800;

/// One frame's stamp: its sequence number on its track and its send time
/// (µs since the UNIX epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameStamp {
    pub(crate) seq: u64,
    pub(crate) sent_us: u64,
}

/// What the samples of a part say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PartStamps {
    /// The first and the last video sample (in decode order).
    pub(crate) first_video: FrameStamp,
    pub(crate) last_video: FrameStamp,
    pub(crate) video_samples: usize,
    pub(crate) audio_samples: usize,
    /// Samples that carry no stamp.
    pub(crate) unstamped: usize,
}

/// Reads the stamps of a part's samples; an error names the byte offset
/// where the part stops making sense, or says it has no stamped video.
pub(crate) fn part_stamps(part: &[u8]) -> anyhow::Result<PartStamps> {
    let mut video: Option<(FrameStamp, FrameStamp)> = None;
    let (mut video_samples, mut audio_samples, mut unstamped) = (0, 0, 0);
    for sample in samples(part)? {
        let (at, len) = sample;
        let bytes = &part[at..at + len];
        if let Some(s) = stamp_in(TrackKind::Video, bytes) {
            let s = FrameStamp {
                seq: s.seq,
                sent_us: s.sent_us,
            };
            video = Some(video.map_or((s, s), |(first, _)| (first, s)));
            video_samples += 1;
        } else if stamp_in(TrackKind::Audio, bytes).is_some() {
            audio_samples += 1;
        } else {
            unstamped += 1;
        }
    }
    let (first_video, last_video) = video.with_context(|| {
        format!(
            "no stamped video sample among the part's {} samples: \
             not the synthetic source, or not a video part",
            audio_samples + unstamped
        )
    })?;
    Ok(PartStamps {
        first_video,
        last_video,
        video_samples,
        audio_samples,
        unstamped,
    })
}

/// Every sample of the part, in order: (offset, length) within `part`.
fn samples(part: &[u8]) -> anyhow::Result<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    for b in boxes(part, 0)? {
        if b.kind == *b"moof" {
            moof_samples(part, b.at, b.body, &mut out)?;
        }
    }
    Ok(out)
}

/// The samples one `moof` (its box starting at `moof_at`) locates.
fn moof_samples(
    part: &[u8],
    moof_at: usize,
    moof: (usize, usize),
    out: &mut Vec<(usize, usize)>,
) -> anyhow::Result<()> {
    for traf in boxes(&part[..moof.1], moof.0)? {
        if traf.kind != *b"traf" {
            continue;
        }
        let traf = traf.body;
        let mut base = moof_at;
        let mut default_size = None;
        let mut tfhd_seen = false;
        for child in boxes(&part[..traf.1], traf.0)? {
            let (at, (from, to)) = (child.at, child.body);
            let mut r = Reader {
                bytes: &part[..to],
                at: from,
            };
            match &child.kind {
                b"tfhd" => {
                    let flags = r.u32()? & 0x00ff_ffff;
                    r.u32()?; // track_ID
                    if flags & BASE_DATA_OFFSET != 0 {
                        base = usize::try_from(r.u64()?).context("base_data_offset")?;
                    }
                    for field in [SAMPLE_DESCRIPTION_INDEX, DEFAULT_SAMPLE_DURATION] {
                        if flags & field != 0 {
                            r.u32()?;
                        }
                    }
                    if flags & DEFAULT_SAMPLE_SIZE != 0 {
                        default_size = Some(r.u32()?);
                    }
                    if flags & DEFAULT_SAMPLE_FLAGS != 0 {
                        r.u32()?;
                    }
                    tfhd_seen = true;
                }
                b"trun" => {
                    anyhow::ensure!(tfhd_seen, "a trun before its tfhd at byte {at}");
                    let flags = r.u32()? & 0x00ff_ffff;
                    let count = r.u32()?;
                    let mut data = base;
                    if flags & DATA_OFFSET != 0 {
                        let offset = r.u32()? as i32;
                        data = base
                            .checked_add_signed(offset as isize)
                            .with_context(|| format!("a data offset before the part at {at}"))?;
                    }
                    if flags & FIRST_SAMPLE_FLAGS != 0 {
                        r.u32()?;
                    }
                    for _ in 0..count {
                        if flags & SAMPLE_DURATION != 0 {
                            r.u32()?;
                        }
                        let size = if flags & SAMPLE_SIZE != 0 {
                            r.u32()?
                        } else {
                            default_size.with_context(|| {
                                format!("no sample size in the trun at byte {at} nor its tfhd")
                            })?
                        } as usize;
                        if flags & SAMPLE_FLAGS != 0 {
                            r.u32()?;
                        }
                        if flags & SAMPLE_COMPOSITION_OFFSET != 0 {
                            r.u32()?;
                        }
                        anyhow::ensure!(
                            data.checked_add(size).is_some_and(|end| end <= part.len()),
                            "a sample of {size} bytes at byte {data} runs past the part's \
                             {} bytes (trun at byte {at})",
                            part.len()
                        );
                        out.push((data, size));
                        data += size;
                    }
                    // A later trun without a data offset continues here.
                    base = data;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// A box found in a part.
struct BoxAt {
    kind: [u8; 4],
    /// Where the box starts.
    at: usize,
    /// Where its body starts and ends.
    body: (usize, usize),
}

/// The boxes in `bytes[from..]`.
fn boxes(bytes: &[u8], from: usize) -> anyhow::Result<Vec<BoxAt>> {
    let mut out = Vec::new();
    let mut at = from;
    while at < bytes.len() {
        let mut r = Reader { bytes, at };
        let size = r.u32()? as u64;
        let kind: [u8; 4] = r.take(4)?.try_into().expect("four bytes");
        let size = match size {
            0 => (bytes.len() - at) as u64,
            1 => r.u64()?,
            n => n,
        };
        let header = r.at - at;
        let end = usize::try_from(size)
            .ok()
            .and_then(|s| at.checked_add(s))
            .filter(|&end| end <= bytes.len() && end >= at + header)
            .with_context(|| {
                format!(
                    "a {} box of {size} bytes at byte {at} does not fit in {} bytes",
                    String::from_utf8_lossy(&kind),
                    bytes.len()
                )
            })?;
        out.push(BoxAt {
            kind,
            at,
            body: (at + header, end),
        });
        at = end;
    }
    Ok(out)
}

/// Big-endian fields, with the offset in every error.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> anyhow::Result<&[u8]> {
        let out = self
            .bytes
            .get(self.at..self.at + n)
            .with_context(|| format!("{n} bytes missing at byte {}", self.at))?;
        self.at += n;
        Ok(out)
    }

    fn u32(&mut self) -> anyhow::Result<u32> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("four bytes"),
        ))
    }

    fn u64(&mut self) -> anyhow::Result<u64> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().expect("eight bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use arcly_engine::Timestamp;
    use arcly_media::hls::{HlsPackager, HlsSettings, Resource};

    use super::*;
    use crate::source::{Shape, Synthetic, stamp_of};

    /// The synthetic source through arcly's packager: each part's last
    /// video sample is the frame whose push published it, stamped with
    /// that frame's send time, and parts follow each other frame by frame.
    #[test]
    fn finds_the_frame_that_completed_each_part() {
        let mut source = Synthetic::new(Shape {
            bitrate_kbps: 200,
            fps: 25.0,
            gop_secs: 2.0,
            audio_kbps: 32,
        })
        .unwrap();
        let mut packager = HlsPackager::new(HlsSettings::default()).unwrap();
        for config in source.configs() {
            packager.push(&config, Timestamp::ZERO).unwrap();
        }
        let mut parts = 0;
        let mut last_seq = None;
        for n in 0..400u64 {
            let sent_us = 1_700_000_000_000_000 + n * 1_000;
            let frame = source.take(sent_us);
            let outcome = packager.push(&frame, frame.dts).unwrap();
            let Some((msn, index)) = outcome.part else {
                continue;
            };
            let bytes = packager.resource(Resource::Part(msn, index)).unwrap();
            let stamps = part_stamps(&bytes).unwrap();
            let pushed = stamp_of(&frame).unwrap();
            assert_eq!(frame.track(), TrackKind::Video, "part {msn}.{index}");
            assert_eq!(
                stamps.last_video,
                FrameStamp {
                    seq: pushed.seq,
                    sent_us
                }
            );
            // 25 fps into 200 ms parts: five frames each.
            assert_eq!(stamps.video_samples, 5, "part {msn}.{index}");
            assert!(stamps.audio_samples > 0, "part {msn}.{index}");
            assert_eq!(stamps.unstamped, 0);
            if let Some(last) = last_seq {
                assert_eq!(stamps.first_video.seq, last + 1);
            }
            last_seq = Some(stamps.last_video.seq);
            parts += 1;
        }
        assert!(parts > 20, "{parts}");
    }

    /// A box header with a size.
    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    /// One moof+mdat of two samples, sized by the tfhd's default and
    /// located from the base data offset, as other muxers write them.
    #[test]
    fn reads_default_sizes_and_explicit_base_offsets() {
        let stamp = |seq| {
            // So low a bitrate that key and inter frames are both the
            // smallest frame: one default size fits both.
            let mut frame = Synthetic::new(Shape {
                bitrate_kbps: 1,
                fps: 25.0,
                gop_secs: 2.0,
                audio_kbps: 0,
            })
            .unwrap();
            let mut payload = Vec::new();
            for _ in 0..=seq {
                payload = frame.take(500 + seq).payload.to_vec();
            }
            payload
        };
        let (a, b) = (stamp(0), stamp(1));
        assert_eq!(a.len(), b.len());
        let mut tfhd = (BASE_DATA_OFFSET | DEFAULT_SAMPLE_SIZE)
            .to_be_bytes()
            .to_vec();
        tfhd.extend(1u32.to_be_bytes());
        let base_at = tfhd.len();
        tfhd.extend(0u64.to_be_bytes()); // patched below
        tfhd.extend((a.len() as u32).to_be_bytes());
        let mut trun = 0u32.to_be_bytes().to_vec();
        trun.extend(2u32.to_be_bytes());
        let build = |tfhd: &[u8]| {
            let traf = [boxed(b"tfhd", tfhd), boxed(b"trun", &trun)].concat();
            let moof = boxed(b"moof", &boxed(b"traf", &traf));
            let mdat = boxed(b"mdat", &[a.clone(), b.clone()].concat());
            (moof.len(), [moof, mdat].concat())
        };
        let (moof_len, _) = build(&tfhd);
        tfhd[base_at..base_at + 8].copy_from_slice(&(moof_len as u64 + 8).to_be_bytes());
        let (_, part) = build(&tfhd);
        let stamps = part_stamps(&part).unwrap();
        assert_eq!(stamps.video_samples, 2);
        assert_eq!(stamps.first_video.seq, 0);
        assert_eq!(
            stamps.last_video,
            FrameStamp {
                seq: 1,
                sent_us: 501
            }
        );
    }

    #[test]
    fn says_where_a_broken_part_breaks() {
        let mut source = Synthetic::new(Shape {
            bitrate_kbps: 200,
            fps: 25.0,
            gop_secs: 2.0,
            audio_kbps: 32,
        })
        .unwrap();
        let mut packager = HlsPackager::new(HlsSettings::default()).unwrap();
        for config in source.configs() {
            packager.push(&config, Timestamp::ZERO).unwrap();
        }
        let part = loop {
            let frame = source.take(0);
            if let Some((msn, i)) = packager.push(&frame, frame.dts).unwrap().part {
                break packager.resource(Resource::Part(msn, i)).unwrap();
            }
        };
        let e = part_stamps(&part[..part.len() - 1])
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not fit") || e.contains("runs past"), "{e}");
        assert!(e.contains("at byte"), "{e}");
        // Audio only: no video stamp to measure from.
        let audio = boxed(b"mdat", b"");
        let e = part_stamps(&audio).unwrap_err().to_string();
        assert!(e.contains("no stamped video sample"), "{e}");
    }
}
