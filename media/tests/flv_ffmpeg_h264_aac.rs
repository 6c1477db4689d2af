//! Walks an FLV file ffmpeg wrote (see `data/README.md`) through the reader,
//! the body decoders and the encoders.

use arcly_engine::{Codec, MediaFrame, TrackKind};
use arcly_media::codec::{AudioSpecificConfig, AvcDecoderConfig};
use arcly_media::flv::{FlvHeader, FlvReader, FlvTag, TagType};
use bytes::BytesMut;

const FILE: &[u8] = include_bytes!("data/ffmpeg_h264_aac.flv");

/// Reads every tag, feeding the file in uneven chunks as a socket would.
fn read_tags() -> Vec<FlvTag> {
    let mut reader = FlvReader::new();
    let mut buf = BytesMut::new();
    let mut tags = Vec::new();
    for chunk in FILE.chunks(1009) {
        buf.extend_from_slice(chunk);
        while let Some(tag) = reader.feed(&mut buf).unwrap() {
            tags.push(tag);
        }
    }
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    assert_eq!(reader.offset(), FILE.len() as u64);
    let header = reader.header().unwrap();
    assert!(header.has_audio && header.has_video);
    tags
}

fn frames(tags: &[FlvTag]) -> Vec<MediaFrame> {
    tags.iter()
        .filter_map(|tag| tag.decode_frame().unwrap())
        .collect()
}

#[test]
fn starts_with_metadata_then_configs() {
    let tags = read_tags();
    assert_eq!(tags[0].tag_type, TagType::Script);
    assert!(tags[0].body.starts_with(b"\x02\x00\x0aonMetaData"));
    let frames = frames(&tags);
    assert_eq!(frames[0].codec, Codec::Script);

    let video: Vec<_> = frames
        .iter()
        .filter(|f| f.track() == TrackKind::Video)
        .collect();
    assert!(video[0].is_config());
    assert!(video[1..].iter().all(|f| !f.is_config()));
    let avcc = AvcDecoderConfig::decode(&video[0].payload).unwrap();
    assert_eq!(avcc.codec_string(), "avc1.64000d");
    assert_eq!(avcc.length_size, 4);
    let sps = avcc.first_sps().unwrap().unwrap();
    assert_eq!((sps.width, sps.height), (320, 240));
    assert_eq!(sps.frame_rate(), Some(25.0));

    let audio: Vec<_> = frames
        .iter()
        .filter(|f| f.track() == TrackKind::Audio)
        .collect();
    assert!(audio[0].is_config());
    assert!(
        audio[1..]
            .iter()
            .all(|f| !f.is_config() && f.codec == Codec::Aac)
    );
    let asc = AudioSpecificConfig::decode(&audio[0].payload).unwrap();
    assert_eq!(asc.codec_string(), "mp4a.40.2");
    assert_eq!(
        (asc.sampling_frequency, asc.channel_configuration),
        (44_100, 1)
    );
}

#[test]
fn keyframes_every_fifty_frames() {
    let frames = frames(&read_tags());
    let pictures: Vec<_> = frames
        .iter()
        .filter(|f| f.track() == TrackKind::Video && !f.is_config())
        .collect();
    assert_eq!(pictures.len(), 100);
    for (i, frame) in pictures.iter().enumerate() {
        assert_eq!(frame.is_keyframe(), i % 50 == 0, "frame {i}");
        assert_eq!(frame.starts_gop(), i % 50 == 0, "frame {i}");
    }
}

#[test]
fn timestamps_are_ordered() {
    let frames = frames(&read_tags());
    let mut reordered = 0;
    for track in [TrackKind::Video, TrackKind::Audio] {
        let mut last_dts = None;
        for frame in frames.iter().filter(|f| f.track() == track) {
            assert!(frame.pts >= frame.dts, "{frame:?}");
            if frame.pts > frame.dts {
                reordered += 1;
            }
            if let Some(last) = last_dts {
                assert!(frame.dts >= last, "dts went back: {frame:?}");
            }
            last_dts = Some(frame.dts);
        }
    }
    // x264 uses B-frames, so composition offsets are exercised.
    assert!(reordered > 50, "only {reordered} frames with pts > dts");
}

#[test]
fn pictures_are_length_prefixed_nal_units() {
    for frame in frames(&read_tags()) {
        if frame.codec != Codec::H264 || frame.is_config() {
            continue;
        }
        let mut rest = &frame.payload[..];
        while !rest.is_empty() {
            let (len, tail) = rest.split_first_chunk::<4>().unwrap();
            let len = u32::from_be_bytes(*len) as usize;
            assert!(len > 0 && len <= tail.len(), "bad nal length {len}");
            rest = &tail[len..];
        }
    }
}

#[test]
fn every_frame_re_encodes_to_its_tag_body() {
    let tags = read_tags();
    let mut skipped = 0;
    for tag in &tags {
        match tag.decode_frame().unwrap() {
            Some(frame) => {
                let again = FlvTag::from_frame(&frame).unwrap();
                assert_eq!(&again, tag);
            }
            None => {
                // The AVC end-of-sequence tag ffmpeg appends.
                assert_eq!(&tag.body[..], &[0x17, 0x02, 0, 0, 0]);
                skipped += 1;
            }
        }
    }
    assert_eq!(skipped, 1);
}

#[test]
fn re_encoding_the_frames_rebuilds_the_file() {
    let tags = read_tags();
    let mut out = BytesMut::new();
    FlvHeader {
        has_audio: true,
        has_video: true,
    }
    .encode(&mut out);
    for frame in frames(&tags) {
        FlvTag::from_frame(&frame)
            .unwrap()
            .encode(&mut out)
            .unwrap();
    }
    // Everything but the trailing end-of-sequence tag (11 + 5 + 4 bytes).
    assert_eq!(&out[..], &FILE[..FILE.len() - 20]);
}
