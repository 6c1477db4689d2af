//! ffprobe and ffmpeg read the fMP4 arcly writes for every other sample
//! entry: H.265 + Opus, AV1 + AAC and VP9 + MP3. ffmpeg 5.1 cannot write
//! those video codecs to FLV, so it encodes each pair into a plain MP4 and a
//! tiny reader below turns its sample tables back into [`MediaFrame`]s and
//! its sample entries into config records, as an ingest would carry them.

mod fmp4_support;

use std::process::Command;

use arcly_engine::{Codec, FrameFlags, MediaFrame, Timestamp};
use arcly_media::fmp4::{Fmp4Track, TrackMedia};
use bytes::Bytes;
use fmp4_support::{
    Cuts, TempDir, assert_fragments_consistent, assert_packets_match, decode_errors, fragment,
    probe_streams, require, write_mp4,
};

/// A source for one codec pair, and what ffprobe should call each codec.
struct Case {
    name: &'static str,
    encode: &'static [&'static str],
    sample_rate: u32,
    video: (Codec, &'static str),
    audio: (Codec, &'static str),
}

const CASES: &[Case] = &[
    Case {
        name: "hevc-opus",
        encode: &[
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error:keyint=25:min-keyint=25:scenecut=0",
            "-c:a",
            "libopus",
        ],
        sample_rate: 48_000,
        video: (Codec::H265, "hevc"),
        audio: (Codec::Opus, "opus"),
    },
    Case {
        name: "av1-aac",
        encode: &[
            "-c:v",
            "libsvtav1",
            "-preset",
            "12",
            "-svtav1-params",
            "verbosity=0",
            "-c:a",
            "aac",
        ],
        sample_rate: 48_000,
        video: (Codec::Av1, "av1"),
        audio: (Codec::Aac, "aac"),
    },
    Case {
        name: "vp9-mp3",
        encode: &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-c:a",
            "libmp3lame",
        ],
        sample_rate: 44_100,
        video: (Codec::Vp9, "vp9"),
        audio: (Codec::Mp3, "mp3"),
    },
];

/// Has ffmpeg encode 2 s of test pattern and tone as an MP4.
fn encode(case: &Case, dir: &TempDir) -> Vec<u8> {
    require("ffmpeg");
    let path = dir.path().join("source.mp4");
    let sine = format!("sine=sample_rate={}", case.sample_rate);
    let mut args = vec![
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        &sine,
        "-t",
        "2",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "25",
    ];
    args.extend_from_slice(case.encode);
    args.push(path.to_str().unwrap());
    let out = Command::new("ffmpeg").args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(path).unwrap()
}

/// The boxes directly in `data`, as (type, body).
fn boxes(mut data: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 8 {
        let size = be(&data[..4]) as usize;
        let kind = data[4..8].try_into().unwrap();
        let (header, size) = match size {
            0 => (8, data.len()),
            1 => (16, be(&data[8..16]) as usize),
            size => (8, size),
        };
        out.push((kind, &data[header..size]));
        data = &data[size..];
    }
    out
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data)
        .into_iter()
        .find(|(k, _)| k == kind)
        .map(|(_, body)| body)
}

fn path<'a>(data: &'a [u8], kinds: &[&[u8; 4]]) -> &'a [u8] {
    kinds.iter().fold(data, |data, kind| {
        child(data, kind).unwrap_or_else(|| panic!("no {kind:?}"))
    })
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |n, &b| n << 8 | u64::from(b))
}

/// The `count` entries of `width` bytes of a full box table.
fn table(full_box: &[u8], width: usize) -> Vec<&[u8]> {
    let count = be(&full_box[4..8]) as usize;
    full_box[8..8 + count * width].chunks(width).collect()
}

/// One track of the source: its sample entry and its samples as frames.
struct SourceTrack {
    /// The sample entry body.
    entry: Vec<u8>,
    frames: Vec<MediaFrame>,
}

/// Reads every track's samples through `stts`, `ctts`, `stss`, `stsz`,
/// `stsc` and `stco`.
fn read_mp4(file: &[u8], codecs: [Codec; 2]) -> Vec<SourceTrack> {
    let moov = child(file, b"moov").unwrap();
    boxes(moov)
        .into_iter()
        .filter(|(k, _)| k == b"trak")
        .map(|(_, trak)| {
            let mdhd = path(trak, &[b"mdia", b"mdhd"]);
            let timescale = if mdhd[0] == 1 {
                be(&mdhd[20..24])
            } else {
                be(&mdhd[12..16])
            };
            let video = &path(trak, &[b"mdia", b"hdlr"])[8..12] == b"vide";
            let codec = codecs[usize::from(!video)];
            let stbl = path(trak, &[b"mdia", b"minf", b"stbl"]);
            let (_, entry) = boxes(&path(stbl, &[b"stsd"])[8..])[0];

            let mut dts = Vec::new();
            let mut t = 0;
            for e in table(child(stbl, b"stts").unwrap(), 8) {
                for _ in 0..be(&e[..4]) {
                    dts.push(t);
                    t += be(&e[4..]);
                }
            }
            let mut offsets = Vec::new();
            if let Some(ctts) = child(stbl, b"ctts") {
                for e in table(ctts, 8) {
                    for _ in 0..be(&e[..4]) {
                        offsets.push(i64::from(be(&e[4..]) as u32 as i32));
                    }
                }
            }
            let sync: Option<Vec<u64>> =
                child(stbl, b"stss").map(|stss| table(stss, 4).iter().map(|e| be(e)).collect());
            let stsz = child(stbl, b"stsz").unwrap();
            let sizes: Vec<u64> = match be(&stsz[4..8]) {
                0 => table(&stsz[4..], 4).iter().map(|e| be(e)).collect(),
                size => vec![size; be(&stsz[8..12]) as usize],
            };
            let chunks: Vec<u64> = match child(stbl, b"stco") {
                Some(stco) => table(stco, 4).iter().map(|e| be(e)).collect(),
                None => table(child(stbl, b"co64").unwrap(), 8)
                    .iter()
                    .map(|e| be(e))
                    .collect(),
            };
            let stsc = table(child(stbl, b"stsc").unwrap(), 12);
            let mut positions = Vec::new();
            for (i, &chunk) in chunks.iter().enumerate() {
                let per_chunk = stsc
                    .iter()
                    .rev()
                    .find(|e| be(&e[..4]) as usize <= i + 1)
                    .map(|e| be(&e[4..8]))
                    .unwrap();
                let mut at = chunk;
                for _ in 0..per_chunk {
                    let size = sizes[positions.len()];
                    positions.push((at as usize, size as usize));
                    at += size;
                }
            }
            assert_eq!(positions.len(), dts.len());

            let micros = |ticks: i64| {
                let product = i128::from(ticks) * 1_000_000;
                let scale = i128::from(timescale);
                Timestamp(((product + scale / 2).div_euclid(scale)) as i64)
            };
            let frames = positions
                .iter()
                .enumerate()
                .map(|(i, &(at, size))| {
                    let dts = dts[i] as i64;
                    let key = sync.as_ref().is_none_or(|s| s.contains(&(i as u64 + 1)));
                    MediaFrame {
                        codec,
                        dts: micros(dts),
                        pts: micros(dts + offsets.get(i).copied().unwrap_or(0)),
                        flags: if key {
                            FrameFlags::KEYFRAME
                        } else {
                            FrameFlags::NONE
                        },
                        payload: Bytes::copy_from_slice(&file[at..at + size]),
                    }
                })
                .collect();
            SourceTrack {
                entry: entry.to_vec(),
                frames,
            }
        })
        .collect()
}

/// The AudioSpecificConfig in an `esds` body: ES_Descriptor >
/// DecoderConfigDescriptor > DecSpecificInfo.
fn asc_in_esds(esds: &[u8]) -> Bytes {
    fn descriptor(data: &[u8]) -> (u8, &[u8], &[u8]) {
        let mut len = 0;
        let mut i = 1;
        loop {
            len = len << 7 | usize::from(data[i] & 0x7f);
            i += 1;
            if data[i - 1] & 0x80 == 0 {
                break;
            }
        }
        (data[0], &data[i..i + len], &data[i + len..])
    }
    let (tag, es, _) = descriptor(&esds[4..]);
    assert_eq!(tag, 3);
    let flags = es[2];
    let mut skip = 3;
    if flags & 0x80 != 0 {
        skip += 2;
    }
    if flags & 0x40 != 0 {
        skip += 1 + usize::from(es[skip]);
    }
    if flags & 0x20 != 0 {
        skip += 2;
    }
    let (tag, dcd, _) = descriptor(&es[skip..]);
    assert_eq!(tag, 4);
    let (tag, asc, _) = descriptor(&dcd[13..]);
    assert_eq!(tag, 5);
    Bytes::copy_from_slice(asc)
}

/// The tracks a packager would build from the source's config records.
fn tracks(case: &Case, source: &[SourceTrack]) -> Vec<Fmp4Track> {
    source
        .iter()
        .enumerate()
        .map(|(i, track)| {
            let configs = boxes(if i == 0 {
                &track.entry[78..]
            } else {
                &track.entry[28..]
            });
            let (_, config) = configs[0];
            let media = if i == 0 {
                TrackMedia::Video {
                    codec: case.video.0,
                    width: be(&track.entry[24..26]) as u32,
                    height: be(&track.entry[26..28]) as u32,
                    // `vpcC` with its version and flags, as ffmpeg's
                    // Enhanced RTMP writer sends it.
                    config: Bytes::copy_from_slice(config),
                }
            } else {
                TrackMedia::Audio {
                    codec: case.audio.0,
                    sample_rate: case.sample_rate,
                    channels: be(&track.entry[16..18]) as u8,
                    config: match case.audio.0 {
                        Codec::Aac => asc_in_esds(config),
                        Codec::Opus => Bytes::copy_from_slice(config),
                        _ => Bytes::new(),
                    },
                }
            };
            Fmp4Track {
                track_id: i as u32 + 1,
                timescale: if i == 0 { 90_000 } else { case.sample_rate },
                media,
            }
        })
        .collect()
}

fn check(case: &Case, cuts: Cuts) {
    let dir = TempDir::new(&format!("fmp4-{}-{cuts:?}", case.name).replace(['(', ')'], ""));
    let source = read_mp4(&encode(case, &dir), [case.video.0, case.audio.0]);
    assert_eq!(source.len(), 2);
    let tracks = tracks(case, &source);
    // Interleaved by decode time, as a live ingest delivers them.
    let mut frames: Vec<_> = source.iter().flat_map(|t| t.frames.clone()).collect();
    frames.sort_by_key(|f| f.dts);
    let counts = [source[0].frames.len(), source[1].frames.len()];

    let (init, fragments) = fragment(&tracks, &frames, cuts);
    assert_fragments_consistent(&fragments, cuts);
    if let Cuts::AtKeyframes = cuts {
        // A keyframe every 25 frames of 50.
        assert_eq!(fragments.len(), 2, "{}", case.name);
    }
    let path = write_mp4(&dir, "out.mp4", &init, &fragments);

    let streams = probe_streams(&path);
    assert_eq!(streams.len(), 2, "{streams:?}");
    let (video, audio) = (&streams[0], &streams[1]);
    assert_eq!(video["codec_name"], case.video.1);
    assert_eq!((&video["width"][..], &video["height"][..]), ("320", "240"));
    assert_eq!(
        video["nb_read_frames"],
        counts[0].to_string(),
        "{}",
        case.name
    );
    assert_eq!(audio["codec_name"], case.audio.1);
    assert_eq!(audio["sample_rate"], case.sample_rate.to_string());
    assert_eq!(audio["channels"], "1");
    assert_eq!(
        audio["nb_read_frames"],
        counts[1].to_string(),
        "{}",
        case.name
    );

    assert_packets_match(&path, &tracks, &frames);
    assert_eq!(decode_errors(&path), "", "{}", case.name);
}

#[test]
fn ffprobe_reads_hevc_and_opus() {
    let case = &CASES[0];
    check(case, Cuts::AtKeyframes);
    check(case, Cuts::Parts(Timestamp::from_millis(200)));
}

#[test]
fn ffprobe_reads_av1_and_aac() {
    let case = &CASES[1];
    check(case, Cuts::AtKeyframes);
    check(case, Cuts::Parts(Timestamp::from_millis(200)));
}

#[test]
fn ffprobe_reads_vp9_and_mp3() {
    let case = &CASES[2];
    check(case, Cuts::AtKeyframes);
    check(case, Cuts::Parts(Timestamp::from_millis(200)));
}
