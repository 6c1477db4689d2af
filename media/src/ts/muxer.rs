//! [`TsMuxer`]: media frames in, transport stream packets out.

use arcly_engine::{Codec, MediaFrame, Timestamp};
use bytes::{Bytes, BytesMut};

use super::adts::AdtsHeader;
use super::annexb::{self, NalSyntax};
use super::packet::{AdaptationField, ContinuityCounter, packetize};
use super::pes::{AUDIO_STREAM_ID, PesHeader, TIMESTAMP_MASK, VIDEO_STREAM_ID};
use super::psi::{PmtStream, write_pat, write_pmt};
use super::{AUDIO_PID, PCR_DELAY, PMT_PID, PROGRAM_NUMBER, TIMESTAMP_OFFSET, TsError, VIDEO_PID};

/// `stream_type` values in the PMT (ISO/IEC 13818-1 table 2-34).
const STREAM_TYPE_MPEG1_AUDIO: u8 = 0x03;
const STREAM_TYPE_AAC_ADTS: u8 = 0x0f;
const STREAM_TYPE_H264: u8 = 0x1b;
const STREAM_TYPE_HEVC: u8 = 0x24;

/// The video track of a [`TsMuxer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TsVideo {
    /// [`Codec::H264`] or [`Codec::H265`].
    pub codec: Codec,
    /// Bytes in each NAL unit length prefix of the frames: 1, 2 or 4 (the
    /// `length_size` of the `avcC` / `hvcC` record).
    pub length_size: u8,
    /// The parameter sets written before each keyframe: SPS then PPS
    /// (H.264) or VPS, SPS, PPS (HEVC), NAL header included, no start code.
    pub parameter_sets: Vec<Bytes>,
}

/// The audio track of a [`TsMuxer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TsAudio {
    /// [`Codec::Aac`] or [`Codec::Mp3`].
    pub codec: Codec,
    /// The AAC config the ADTS headers are made from; required for AAC,
    /// ignored for MP3.
    pub aac: Option<crate::codec::AudioSpecificConfig>,
}

/// An MPEG-TS muxer for one program of up to one video and one audio track,
/// as HLS segments carry it.
///
/// A driver calls [`write_tables`](Self::write_tables) at the start of every
/// segment, then [`push`](Self::push) for each frame in decode order,
/// starting each segment on a keyframe. Output is whole 188-byte packets
/// appended to the caller's buffer; the muxer keeps only the continuity
/// counters, which run on from segment to segment so that a player can
/// append them to one demuxer.
///
/// The layout is ffmpeg's: the program is number [`PROGRAM_NUMBER`], its
/// PMT on [`PMT_PID`], video on [`VIDEO_PID`] and audio on [`AUDIO_PID`].
/// The PCR travels on the video PID (the audio PID when there is no
/// video), in the first packet of every PES, which also carries the
/// `random_access_indicator` on keyframes. Each video frame is one PES
/// (`stream_id` 0xe0) with its access unit in Annex B form; each audio frame
/// is one PES (0xc0), an AAC frame behind its ADTS header.
///
/// Timestamps are the frames' microseconds on the 90 kHz clock plus
/// [`TIMESTAMP_OFFSET`], kept to 33 bits: a stream that starts at 0 starts
/// at 1.4 s in the segments, as ffmpeg's do, so B-frames' DTS and a PCR
/// [`PCR_DELAY`] before the DTS stay positive; a stream that runs past 26.5
/// hours (or arrives with negative times) wraps as MPEG-TS timestamps do.
#[derive(Debug)]
pub struct TsMuxer {
    video: Option<VideoTrack>,
    audio: Option<AudioTrack>,
    pat_cc: ContinuityCounter,
    pmt_cc: ContinuityCounter,
}

#[derive(Debug)]
struct VideoTrack {
    codec: Codec,
    syntax: NalSyntax,
    length_size: u8,
    parameter_sets: Vec<Bytes>,
    cc: ContinuityCounter,
}

#[derive(Debug)]
struct AudioTrack {
    codec: Codec,
    /// `None` for MP3, whose frames carry their own headers.
    adts: Option<AdtsHeader>,
    /// Whether this track carries the PCR (there is no video).
    pcr: bool,
    cc: ContinuityCounter,
}

impl TsMuxer {
    /// A muxer for the given tracks; at least one is needed.
    ///
    /// Refused: video other than H.264 / H.265, audio other than AAC / MP3,
    /// a length size other than 1, 2 or 4, an empty parameter set, and an
    /// AAC track without a config or with one ADTS cannot describe.
    pub fn new(video: Option<TsVideo>, audio: Option<TsAudio>) -> Result<TsMuxer, TsError> {
        if video.is_none() && audio.is_none() {
            return Err(TsError::NoTracks);
        }
        let video = video.map(VideoTrack::new).transpose()?;
        let audio = audio
            .map(|audio| AudioTrack::new(audio, video.is_none()))
            .transpose()?;
        Ok(TsMuxer {
            video,
            audio,
            pat_cc: ContinuityCounter::default(),
            pmt_cc: ContinuityCounter::default(),
        })
    }

    /// Writes the PAT and the PMT: two packets. Call it at the start of
    /// every segment, so that each one can be decoded alone.
    pub fn write_tables(&mut self, out: &mut BytesMut) {
        write_pat(out, &mut self.pat_cc, PROGRAM_NUMBER, PMT_PID);
        let mut streams = Vec::with_capacity(2);
        if let Some(video) = &self.video {
            streams.push(PmtStream {
                stream_type: match video.syntax {
                    NalSyntax::H264 => STREAM_TYPE_H264,
                    NalSyntax::H265 => STREAM_TYPE_HEVC,
                },
                pid: VIDEO_PID,
            });
        }
        if let Some(audio) = &self.audio {
            streams.push(PmtStream {
                // MP3 is MPEG-1 audio (0x03) whatever its sampling rate:
                // without a config the rate is unknown when the tables are
                // written, and decoders read the version from each frame
                // header, as they do for ffmpeg's segments.
                stream_type: match audio.adts {
                    Some(_) => STREAM_TYPE_AAC_ADTS,
                    None => STREAM_TYPE_MPEG1_AUDIO,
                },
                pid: AUDIO_PID,
            });
        }
        let pcr_pid = if self.video.is_some() {
            VIDEO_PID
        } else {
            AUDIO_PID
        };
        write_pmt(
            out,
            &mut self.pmt_cc,
            PROGRAM_NUMBER,
            PMT_PID,
            pcr_pid,
            &streams,
        );
    }

    /// Writes one frame as one PES packet.
    ///
    /// Config frames and script frames are skipped, as is a frame with an
    /// empty payload. Refused, with nothing written: a codec this muxer
    /// cannot carry, a frame for a track it does not have or of another
    /// codec than its track, a NAL unit length prefix that overruns the
    /// payload, and an AAC frame over ADTS's size limit.
    pub fn push(&mut self, frame: &MediaFrame, out: &mut BytesMut) -> Result<(), TsError> {
        match frame.codec {
            Codec::Script => return Ok(()),
            _ if frame.is_config() => return Ok(()),
            Codec::H264 | Codec::H265 => {}
            Codec::Aac | Codec::Mp3 => {}
            other => return Err(TsError::UnsupportedCodec(other)),
        }
        if frame.payload.is_empty() {
            // Still checks that the frame belongs here.
            self.track_of(frame)?;
            return Ok(());
        }
        match self.track_of(frame)? {
            Track::Video => self.push_video(frame, out),
            Track::Audio => self.push_audio(frame, out),
        }
    }

    fn track_of(&self, frame: &MediaFrame) -> Result<Track, TsError> {
        let (track, codec) = match frame.codec {
            Codec::H264 | Codec::H265 => (Track::Video, self.video.as_ref().map(|v| v.codec)),
            _ => (Track::Audio, self.audio.as_ref().map(|a| a.codec)),
        };
        match codec {
            None => Err(TsError::NoTrack(frame.codec)),
            Some(expected) if expected != frame.codec => Err(TsError::CodecMismatch {
                expected,
                found: frame.codec,
            }),
            Some(_) => Ok(track),
        }
    }

    fn push_video(&mut self, frame: &MediaFrame, out: &mut BytesMut) -> Result<(), TsError> {
        let Some(video) = &mut self.video else {
            return Err(TsError::NoTrack(frame.codec));
        };
        let nals = annexb::split_nal_units(&frame.payload, video.length_size)?;
        let pieces = annexb::access_unit(
            video.syntax,
            &nals,
            &video.parameter_sets,
            frame.is_keyframe(),
        );
        let len = pieces.iter().map(|piece| piece.len()).sum();
        let dts = to_90khz(frame.dts);
        let header = PesHeader::new(VIDEO_STREAM_ID, to_90khz(frame.pts), dts, len)?;
        let field = AdaptationField {
            random_access: frame.is_keyframe(),
            pcr: Some(pcr(dts)),
        };
        packetize(
            out,
            VIDEO_PID,
            &mut video.cc,
            field,
            header.as_bytes(),
            &pieces,
        );
        Ok(())
    }

    fn push_audio(&mut self, frame: &MediaFrame, out: &mut BytesMut) -> Result<(), TsError> {
        let Some(audio) = &mut self.audio else {
            return Err(TsError::NoTrack(frame.codec));
        };
        let adts = audio
            .adts
            .map(|adts| adts.encode(frame.payload.len()))
            .transpose()?;
        let adts: &[u8] = adts.as_ref().map_or(&[], |header| &header[..]);
        let len = adts.len() + frame.payload.len();
        // Audio frames carry no reordering: their DTS is their PTS.
        let pts = to_90khz(frame.pts);
        let header = PesHeader::new(AUDIO_STREAM_ID, pts, pts, len)?;
        // Without video the audio carries the clock, and any audio frame is
        // a place to start.
        let field = AdaptationField {
            random_access: audio.pcr,
            pcr: audio.pcr.then(|| pcr(to_90khz(frame.dts))),
        };
        packetize(
            out,
            AUDIO_PID,
            &mut audio.cc,
            field,
            header.as_bytes(),
            &[adts, &frame.payload],
        );
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Track {
    Video,
    Audio,
}

impl VideoTrack {
    fn new(video: TsVideo) -> Result<VideoTrack, TsError> {
        let syntax = match video.codec {
            Codec::H264 => NalSyntax::H264,
            Codec::H265 => NalSyntax::H265,
            other => return Err(TsError::UnsupportedCodec(other)),
        };
        if !matches!(video.length_size, 1 | 2 | 4) {
            return Err(TsError::BadLengthSize(video.length_size));
        }
        if let Some(index) = video.parameter_sets.iter().position(Bytes::is_empty) {
            return Err(TsError::EmptyParameterSet(index));
        }
        Ok(VideoTrack {
            codec: video.codec,
            syntax,
            length_size: video.length_size,
            parameter_sets: video.parameter_sets,
            cc: ContinuityCounter::default(),
        })
    }
}

impl AudioTrack {
    fn new(audio: TsAudio, pcr: bool) -> Result<AudioTrack, TsError> {
        let adts = match audio.codec {
            Codec::Aac => Some(AdtsHeader::new(
                audio.aac.as_ref().ok_or(TsError::MissingAacConfig)?,
            )?),
            Codec::Mp3 => None,
            other => return Err(TsError::UnsupportedCodec(other)),
        };
        Ok(AudioTrack {
            codec: audio.codec,
            adts,
            pcr,
            cc: ContinuityCounter::default(),
        })
    }
}

/// A frame time on the segments' 33-bit 90 kHz clock.
fn to_90khz(time: Timestamp) -> u64 {
    // Wrapping in 64 bits and then to 33 bits is wrapping to 33 bits.
    (time.as_90khz().wrapping_add(TIMESTAMP_OFFSET as i64) as u64) & TIMESTAMP_MASK
}

/// The PCR base for a PES decoded at `dts` (90 kHz, 33 bits).
fn pcr(dts: u64) -> u64 {
    dts.wrapping_sub(PCR_DELAY) & TIMESTAMP_MASK
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arcly_engine::FrameFlags;

    use super::super::PACKET_SIZE;
    use super::super::packet::tests::parse;
    use super::super::pes::tests::decode_timestamp;
    use super::*;
    use crate::codec::AudioSpecificConfig;

    const SPS: &[u8] = &[0x67, 0x64, 0x00, 0x0d];
    const PPS: &[u8] = &[0x68, 0xeb, 0xe3];

    fn h264() -> TsVideo {
        TsVideo {
            codec: Codec::H264,
            length_size: 4,
            parameter_sets: vec![Bytes::from_static(SPS), Bytes::from_static(PPS)],
        }
    }

    fn aac() -> TsAudio {
        TsAudio {
            codec: Codec::Aac,
            aac: Some(AudioSpecificConfig::decode(&Bytes::from_static(&[0x12, 0x08])).unwrap()),
        }
    }

    fn frame(codec: Codec, ms: i64, cts_ms: i64, flags: FrameFlags, payload: &[u8]) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp::from_millis(ms),
            pts: Timestamp::from_millis(ms + cts_ms),
            flags,
            payload: Bytes::copy_from_slice(payload),
        }
    }

    fn length_prefixed(nals: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for nal in nals {
            out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
            out.extend_from_slice(nal);
        }
        out
    }

    /// A payload unit as a demuxer reassembles it.
    #[derive(Debug)]
    struct Unit {
        pid: u16,
        /// The first packet's adaptation field, without its length byte.
        field: Option<Vec<u8>>,
        data: Vec<u8>,
    }

    /// Splits `out` into payload units, checking every continuity counter
    /// against the one before on its PID (starting from `counters`).
    fn demux(out: &[u8], counters: &mut HashMap<u16, u8>) -> Vec<Unit> {
        assert_eq!(out.len() % PACKET_SIZE, 0);
        let mut units: Vec<Unit> = Vec::new();
        let mut open: HashMap<u16, usize> = HashMap::new();
        for packet in out.chunks(PACKET_SIZE) {
            let p = parse(packet);
            if let Some(last) = counters.insert(p.pid, p.cc) {
                assert_eq!(p.cc, (last + 1) % 16, "pid {:#x}", p.pid);
            }
            if p.pusi {
                open.insert(p.pid, units.len());
                units.push(Unit {
                    pid: p.pid,
                    field: p.field.map(<[u8]>::to_vec),
                    data: Vec::new(),
                });
            }
            let index = open[&p.pid];
            units[index].data.extend_from_slice(p.payload);
        }
        units
    }

    /// (PTS, DTS if present, elementary stream) of a PES, checking its
    /// length field.
    fn pes(unit: &Unit) -> (u64, Option<u64>, &[u8]) {
        let data = &unit.data;
        assert_eq!(&data[..3], &[0, 0, 1]);
        let length = usize::from(u16::from_be_bytes([data[4], data[5]]));
        assert!(length == 0 || length == data.len() - 6);
        let header_len = usize::from(data[8]);
        let es = &data[9 + header_len..];
        let (_, pts) = decode_timestamp(&data[9..14]);
        let dts = (data[7] == 0xc0).then(|| decode_timestamp(&data[14..19]).1);
        (pts, dts, es)
    }

    fn pcr_of(field: &[u8]) -> u64 {
        assert_ne!(field[0] & 0x10, 0, "no pcr");
        (u64::from(u32::from_be_bytes([field[1], field[2], field[3], field[4]])) << 1)
            | u64::from(field[5] >> 7)
    }

    #[test]
    fn keyframe_pes_starts_with_pcr_aud_and_parameter_sets() {
        let mut muxer = TsMuxer::new(Some(h264()), Some(aac())).unwrap();
        let mut out = BytesMut::new();
        muxer.write_tables(&mut out);
        let idr = vec![0x65; 500];
        let key = frame(
            Codec::H264,
            0,
            80,
            FrameFlags::KEYFRAME,
            &length_prefixed(&[&[0x06, 0x05], &idr]),
        );
        muxer.push(&key, &mut out).unwrap();
        let units = demux(&out, &mut HashMap::new());
        assert_eq!(units.len(), 3);
        assert_eq!(
            units.iter().map(|u| u.pid).collect::<Vec<_>>(),
            [0, PMT_PID, VIDEO_PID]
        );
        let video = &units[2];
        let field = video.field.as_deref().unwrap();
        assert_eq!(field[0], 0x50, "random access and pcr");
        assert_eq!(pcr_of(field), TIMESTAMP_OFFSET - PCR_DELAY);
        let (pts, dts, es) = pes(video);
        assert_eq!(video.data[3], 0xe0);
        assert_eq!(pts, TIMESTAMP_OFFSET + 7200);
        assert_eq!(dts, Some(TIMESTAMP_OFFSET));
        let mut expected = vec![0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1];
        expected.extend_from_slice(SPS);
        expected.extend_from_slice(&[0, 0, 0, 1]);
        expected.extend_from_slice(PPS);
        expected.extend_from_slice(&[0, 0, 0, 1, 0x06, 0x05, 0, 0, 0, 1]);
        expected.extend_from_slice(&idr);
        assert_eq!(es, expected);

        // A delta frame: PCR, no random access, no parameter sets, PTS only.
        let mut out = BytesMut::new();
        let delta = frame(
            Codec::H264,
            40,
            0,
            FrameFlags::NONE,
            &length_prefixed(&[&[0x41, 1]]),
        );
        muxer.push(&delta, &mut out).unwrap();
        let units = demux(&out, &mut HashMap::new());
        let field = units[0].field.as_deref().unwrap();
        assert_eq!(field[0], 0x10);
        assert_eq!(pcr_of(field), TIMESTAMP_OFFSET + 3600 - PCR_DELAY);
        let (pts, dts, es) = pes(&units[0]);
        assert_eq!((pts, dts), (TIMESTAMP_OFFSET + 3600, None));
        assert_eq!(es, [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41, 1]);
    }

    #[test]
    fn aac_frames_get_adts_headers_and_no_pcr_beside_video() {
        let mut muxer = TsMuxer::new(Some(h264()), Some(aac())).unwrap();
        let mut out = BytesMut::new();
        let raw = [0x21; 371];
        muxer
            .push(&frame(Codec::Aac, 23, 0, FrameFlags::NONE, &raw), &mut out)
            .unwrap();
        let units = demux(&out, &mut HashMap::new());
        assert_eq!(units.len(), 1);
        assert_eq!(units[0].pid, AUDIO_PID);
        assert_eq!(units[0].data[3], 0xc0);
        // Only stuffing in the last packet, no PCR in the first.
        assert!(units[0].field.is_none());
        let (pts, dts, es) = pes(&units[0]);
        assert_eq!((pts, dts), (TIMESTAMP_OFFSET + 2070, None));
        assert_eq!(&es[..7], &[0xff, 0xf1, 0x50, 0x40, 0x2f, 0x5f, 0xfc]);
        assert_eq!(&es[7..], &raw);
    }

    #[test]
    fn audio_alone_carries_the_clock() {
        let mut muxer = TsMuxer::new(None, Some(aac())).unwrap();
        let mut out = BytesMut::new();
        muxer.write_tables(&mut out);
        muxer
            .push(
                &frame(Codec::Aac, 1000, 0, FrameFlags::NONE, &[1; 10]),
                &mut out,
            )
            .unwrap();
        let units = demux(&out, &mut HashMap::new());
        // PCR PID 0x101 and a single stream of type 0x0f.
        let pmt = &units[1].data;
        assert_eq!(&pmt[9..11], &[0xe1, 0x01]);
        assert_eq!(&pmt[13..18], &[0x0f, 0xe1, 0x01, 0xf0, 0x00]);
        assert_eq!(usize::from(pmt[3]), 13 + 5);
        let field = units[2].field.as_deref().unwrap();
        assert_eq!(field[0], 0x50);
        assert_eq!(pcr_of(field), TIMESTAMP_OFFSET + 90_000 - PCR_DELAY);
    }

    #[test]
    fn pmt_names_each_codec() {
        let cases = [
            (Some(Codec::H265), None, 0x24),
            (None, Some(Codec::Mp3), 0x03),
            (Some(Codec::H264), None, 0x1b),
        ];
        for (video, audio, stream_type) in cases {
            let video = video.map(|codec| TsVideo {
                codec,
                length_size: 4,
                parameter_sets: Vec::new(),
            });
            let audio = audio.map(|codec| TsAudio { codec, aac: None });
            let mut muxer = TsMuxer::new(video, audio).unwrap();
            let mut out = BytesMut::new();
            muxer.write_tables(&mut out);
            assert_eq!(out[PACKET_SIZE + 4 + 1 + 12], stream_type);
        }
    }

    #[test]
    fn counters_run_on_across_segments() {
        let mut muxer = TsMuxer::new(Some(h264()), Some(aac())).unwrap();
        let mut counters = HashMap::new();
        let picture = length_prefixed(&[&[0x41; 1000]]);
        for segment in 0..20 {
            let mut out = BytesMut::new();
            muxer.write_tables(&mut out);
            for i in 0..5 {
                let ms = segment * 200 + i * 40;
                let flags = if i == 0 {
                    FrameFlags::KEYFRAME
                } else {
                    FrameFlags::NONE
                };
                muxer
                    .push(&frame(Codec::H264, ms, 0, flags, &picture), &mut out)
                    .unwrap();
                muxer
                    .push(
                        &frame(Codec::Aac, ms, 0, FrameFlags::NONE, &[0; 300]),
                        &mut out,
                    )
                    .unwrap();
            }
            // Each segment is checked against the counters the one before
            // left: they run on, and wrap.
            demux(&out, &mut counters);
        }
        assert_eq!(counters.len(), 4);
    }

    #[test]
    fn a_refused_frame_writes_nothing() {
        let mut muxer = TsMuxer::new(Some(h264()), Some(aac())).unwrap();
        let mut out = BytesMut::new();
        let lying = frame(Codec::H264, 0, 0, FrameFlags::KEYFRAME, &[0, 0, 0, 9, 0x65]);
        assert_eq!(
            muxer.push(&lying, &mut out),
            Err(TsError::NalOverrun {
                offset: 0,
                length: 9,
                available: 1
            })
        );
        let huge = frame(Codec::Aac, 0, 0, FrameFlags::NONE, &[0; 9000]);
        assert_eq!(
            muxer.push(&huge, &mut out),
            Err(TsError::AdtsFrameTooLarge(9000))
        );
        assert!(out.is_empty());
        let ok = frame(Codec::H264, 0, 0, FrameFlags::KEYFRAME, &[0, 0, 0, 1, 0x65]);
        muxer.push(&ok, &mut out).unwrap();
        assert_eq!(parse(&out[..PACKET_SIZE]).cc, 0);
    }

    #[test]
    fn skips_config_script_and_empty_frames() {
        let mut muxer = TsMuxer::new(Some(h264()), None).unwrap();
        let mut out = BytesMut::new();
        let skipped = [
            frame(Codec::H264, 0, 0, FrameFlags::CONFIG, &[1, 2, 3]),
            frame(Codec::Aac, 0, 0, FrameFlags::CONFIG, &[0x12, 0x08]),
            frame(Codec::Script, 0, 0, FrameFlags::NONE, b"\x02"),
            frame(Codec::H264, 0, 0, FrameFlags::KEYFRAME, &[]),
        ];
        for frame in &skipped {
            muxer.push(frame, &mut out).unwrap();
        }
        assert!(out.is_empty());
    }

    #[test]
    fn refuses_what_it_cannot_carry() {
        assert_eq!(TsMuxer::new(None, None).unwrap_err(), TsError::NoTracks);
        let mut av1 = h264();
        av1.codec = Codec::Av1;
        assert_eq!(
            TsMuxer::new(Some(av1), None).unwrap_err(),
            TsError::UnsupportedCodec(Codec::Av1)
        );
        let mut three = h264();
        three.length_size = 3;
        assert_eq!(
            TsMuxer::new(Some(three), None).unwrap_err(),
            TsError::BadLengthSize(3)
        );
        let mut empty = h264();
        empty.parameter_sets.push(Bytes::new());
        assert_eq!(
            TsMuxer::new(Some(empty), None).unwrap_err(),
            TsError::EmptyParameterSet(2)
        );
        let opus = TsAudio {
            codec: Codec::Opus,
            aac: None,
        };
        assert_eq!(
            TsMuxer::new(None, Some(opus)).unwrap_err(),
            TsError::UnsupportedCodec(Codec::Opus)
        );
        let bare = TsAudio {
            codec: Codec::Aac,
            aac: None,
        };
        assert_eq!(
            TsMuxer::new(None, Some(bare)).unwrap_err(),
            TsError::MissingAacConfig
        );

        let mut muxer = TsMuxer::new(Some(h264()), None).unwrap();
        let mut out = BytesMut::new();
        let cases = [
            (Codec::Opus, TsError::UnsupportedCodec(Codec::Opus)),
            (Codec::Vp9, TsError::UnsupportedCodec(Codec::Vp9)),
            (Codec::Aac, TsError::NoTrack(Codec::Aac)),
            (
                Codec::H265,
                TsError::CodecMismatch {
                    expected: Codec::H264,
                    found: Codec::H265,
                },
            ),
        ];
        for (codec, error) in cases {
            let f = frame(codec, 0, 0, FrameFlags::NONE, &[0, 0, 0, 1, 0x41]);
            assert_eq!(muxer.push(&f, &mut out), Err(error));
        }
        assert!(out.is_empty());
    }

    #[test]
    fn timestamps_wrap_at_33_bits() {
        assert_eq!(to_90khz(Timestamp::ZERO), TIMESTAMP_OFFSET);
        // One tick before the offset: the last value of the clock.
        let before = Timestamp::from_90khz(-(TIMESTAMP_OFFSET as i64) - 1);
        assert_eq!(to_90khz(before), TIMESTAMP_MASK);
        assert_eq!(to_90khz(Timestamp(i64::MAX)) >> 33, 0);
        assert_eq!(to_90khz(Timestamp(i64::MIN)) >> 33, 0);
        assert_eq!(pcr(0), (1 << 33) - PCR_DELAY);
    }
}
