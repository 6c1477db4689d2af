//! The init segment: `ftyp` and a `moov` with empty sample tables.

use bytes::Bytes;

use super::boxes::BoxWriter;
use super::sample_entry::SampleEntry;
use super::{Fmp4Error, Fmp4Track, MAX_TRACKS};

/// `mvhd` timescale: nothing is timed in the movie header of a fragmented
/// file (its duration is 0), so the usual millisecond clock.
const MOVIE_TIMESCALE: u32 = 1000;

/// The unity matrix of `mvhd` and `tkhd`.
const UNITY_MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// ISO 639-2 "und" packed into three 5-bit letters.
const LANGUAGE_UND: u16 =
    (((b'u' - 0x60) as u16) << 10) | (((b'n' - 0x60) as u16) << 5) | (b'd' - 0x60) as u16;

/// `tkhd` flags: track enabled, used in the presentation.
const TRACK_ENABLED_IN_MOVIE: u32 = 0x000003;

/// `url ` flag: the media data is in this file.
const SELF_CONTAINED: u32 = 0x000001;

/// Writes the init segment of `tracks`: `ftyp` (major brand `iso6`, which
/// covers `tfdt` and `trun` version 1; `cmfc` too when there is a single
/// track, as CMAF allows one track per header), then `moov` with `mvhd`, a
/// `trak` per track (`tkhd`, `mdia` with `mdhd`, `hdlr`, and `minf` whose
/// `stbl` holds the sample entry and empty `stts`, `stsc`, `stsz`, `stco`),
/// and `mvex` with a `trex` per track.
///
/// Refused: no tracks or more than [`MAX_TRACKS`], a zero or repeated track
/// id, a zero timescale, and a track whose codec or record cannot be
/// described (see [`Fmp4Error`]).
pub fn init_segment(tracks: &[Fmp4Track]) -> Result<Bytes, Fmp4Error> {
    check_tracks(tracks)?;
    let entries = tracks
        .iter()
        .map(SampleEntry::for_track)
        .collect::<Result<Vec<_>, _>>()?;
    let next_track_id = tracks
        .iter()
        .map(|t| t.track_id)
        .max()
        .unwrap_or(0)
        .saturating_add(1);

    let mut w = BoxWriter::with_capacity(1024);
    w.write_box(*b"ftyp", |w| {
        w.bytes(b"iso6");
        w.u32(0); // minor_version
        w.bytes(b"iso6");
        if tracks.len() == 1 {
            w.bytes(b"cmfc");
        }
        w.bytes(b"mp41");
    });
    w.write_box(*b"moov", |w| {
        write_mvhd(w, next_track_id);
        for (track, entry) in tracks.iter().zip(&entries) {
            write_trak(w, track, entry);
        }
        w.write_box(*b"mvex", |w| {
            for track in tracks {
                w.write_full_box(*b"trex", 0, 0, |w| {
                    w.u32(track.track_id);
                    w.u32(1); // default_sample_description_index
                    w.u32(0); // default_sample_duration
                    w.u32(0); // default_sample_size
                    w.u32(0); // default_sample_flags
                });
            }
        });
    });
    Ok(w.finish().freeze())
}

/// Checks what the sample entries do not: the track list itself.
pub(crate) fn check_tracks(tracks: &[Fmp4Track]) -> Result<(), Fmp4Error> {
    if tracks.is_empty() {
        return Err(Fmp4Error::NoTracks);
    }
    if tracks.len() > MAX_TRACKS {
        return Err(Fmp4Error::TooManyTracks {
            count: tracks.len(),
            limit: MAX_TRACKS,
        });
    }
    for (i, track) in tracks.iter().enumerate() {
        if track.track_id == 0 || tracks[..i].iter().any(|t| t.track_id == track.track_id) {
            return Err(Fmp4Error::BadTrackId(track.track_id));
        }
        if track.timescale == 0 {
            return Err(Fmp4Error::ZeroTimescale {
                track_id: track.track_id,
            });
        }
    }
    Ok(())
}

fn write_mvhd(w: &mut BoxWriter, next_track_id: u32) {
    w.write_full_box(*b"mvhd", 0, 0, |w| {
        w.u32(0); // creation_time
        w.u32(0); // modification_time
        w.u32(MOVIE_TIMESCALE);
        w.u32(0); // duration: unknown, the samples are in fragments
        w.u32(0x0001_0000); // rate 1.0
        w.u16(0x0100); // volume 1.0
        w.zeros(2 + 8); // reserved
        for value in UNITY_MATRIX {
            w.u32(value);
        }
        w.zeros(6 * 4); // pre_defined
        w.u32(next_track_id);
    });
}

fn write_trak(w: &mut BoxWriter, track: &Fmp4Track, entry: &SampleEntry) {
    let (width, height) = match entry {
        SampleEntry::Visual { width, height, .. } => (*width, *height),
        SampleEntry::Audio { .. } => (0, 0),
    };
    let video = track.media.is_video();
    w.write_box(*b"trak", |w| {
        w.write_full_box(*b"tkhd", 0, TRACK_ENABLED_IN_MOVIE, |w| {
            w.u32(0); // creation_time
            w.u32(0); // modification_time
            w.u32(track.track_id);
            w.u32(0); // reserved
            w.u32(0); // duration
            w.zeros(8); // reserved
            w.u16(0); // layer
            w.u16(0); // alternate_group
            w.u16(if video { 0 } else { 0x0100 }); // volume
            w.u16(0); // reserved
            for value in UNITY_MATRIX {
                w.u32(value);
            }
            // 16.16 fixed point.
            w.u32(u32::from(width) << 16);
            w.u32(u32::from(height) << 16);
        });
        w.write_box(*b"mdia", |w| {
            w.write_full_box(*b"mdhd", 0, 0, |w| {
                w.u32(0); // creation_time
                w.u32(0); // modification_time
                w.u32(track.timescale);
                w.u32(0); // duration
                w.u16(LANGUAGE_UND);
                w.u16(0); // pre_defined
            });
            w.write_full_box(*b"hdlr", 0, 0, |w| {
                w.u32(0); // pre_defined
                w.bytes(if video { b"vide" } else { b"soun" });
                w.zeros(12); // reserved
                w.bytes(if video {
                    b"VideoHandler\0"
                } else {
                    b"SoundHandler\0"
                });
            });
            w.write_box(*b"minf", |w| {
                if video {
                    w.write_full_box(*b"vmhd", 0, 1, |w| {
                        w.u16(0); // graphicsmode: copy
                        w.zeros(6); // opcolor
                    });
                } else {
                    w.write_full_box(*b"smhd", 0, 0, |w| {
                        w.u16(0); // balance
                        w.u16(0); // reserved
                    });
                }
                w.write_box(*b"dinf", |w| {
                    w.write_full_box(*b"dref", 0, 0, |w| {
                        w.u32(1); // entry_count
                        w.write_full_box(*b"url ", 0, SELF_CONTAINED, |_| {});
                    });
                });
                w.write_box(*b"stbl", |w| {
                    w.write_full_box(*b"stsd", 0, 0, |w| {
                        w.u32(1); // entry_count
                        entry.write(w);
                    });
                    // The samples are all in fragments: empty tables.
                    w.write_full_box(*b"stts", 0, 0, |w| w.u32(0));
                    w.write_full_box(*b"stsc", 0, 0, |w| w.u32(0));
                    w.write_full_box(*b"stsz", 0, 0, |w| {
                        w.u32(0); // sample_size
                        w.u32(0); // sample_count
                    });
                    w.write_full_box(*b"stco", 0, 0, |w| w.u32(0));
                });
            });
        });
    });
}

#[cfg(test)]
mod tests {
    use arcly_engine::Codec;

    use super::super::TrackMedia;
    use super::super::boxes::test_reader::{all, children, find, u32_at};
    use super::*;

    const AVCC: &[u8] = &[1, 0x64, 0, 0x0d, 0xff, 0xe0, 0];

    fn tracks() -> Vec<Fmp4Track> {
        vec![
            Fmp4Track {
                track_id: 1,
                timescale: 90_000,
                media: TrackMedia::Video {
                    codec: Codec::H264,
                    width: 320,
                    height: 240,
                    config: Bytes::from_static(AVCC),
                },
            },
            Fmp4Track {
                track_id: 2,
                timescale: 44_100,
                media: TrackMedia::Audio {
                    codec: Codec::Aac,
                    sample_rate: 44_100,
                    channels: 1,
                    config: Bytes::from_static(&[0x12, 0x08]),
                },
            },
        ]
    }

    #[test]
    fn starts_with_ftyp_then_moov() {
        let init = init_segment(&tracks()).unwrap();
        let top: Vec<_> = children(&init).into_iter().map(|(k, _)| k).collect();
        assert_eq!(top, [*b"ftyp", *b"moov"]);
        assert_eq!(&init[..24], b"\0\0\0\x18ftypiso6\0\0\0\0iso6mp41");
        let one = init_segment(&tracks()[..1]).unwrap();
        assert_eq!(&one[..28], b"\0\0\0\x1cftypiso6\0\0\0\0iso6cmfcmp41");
    }

    #[test]
    fn writes_mvhd_with_next_track_id() {
        let init = init_segment(&tracks()).unwrap();
        let mvhd = find(&init, &[b"moov", b"mvhd"]).unwrap();
        assert_eq!(mvhd.len(), 100);
        assert_eq!(u32_at(mvhd, 12), 1000);
        assert_eq!(u32_at(mvhd, 16), 0);
        assert_eq!(u32_at(mvhd, 96), 3);
    }

    #[test]
    fn writes_a_trak_per_track() {
        let init = init_segment(&tracks()).unwrap();
        let moov = find(&init, &[b"moov"]).unwrap();
        let traks = all(moov, b"trak");
        assert_eq!(traks.len(), 2);

        let tkhd = find(traks[0], &[b"tkhd"]).unwrap();
        assert_eq!(tkhd.len(), 84);
        assert_eq!(u32_at(tkhd, 0), 3); // version 0, enabled | in movie
        assert_eq!(u32_at(tkhd, 12), 1);
        assert_eq!(u32_at(tkhd, 76), 320 << 16);
        assert_eq!(u32_at(tkhd, 80), 240 << 16);
        let audio_tkhd = find(traks[1], &[b"tkhd"]).unwrap();
        assert_eq!(u32_at(audio_tkhd, 12), 2);
        assert_eq!(&audio_tkhd[36..38], &[1, 0]); // volume

        let mdhd = find(traks[1], &[b"mdia", b"mdhd"]).unwrap();
        assert_eq!(
            mdhd,
            &[
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xac, 0x44, 0, 0, 0, 0, 0x55, 0xc4, 0, 0
            ]
        );
        let hdlr = find(traks[0], &[b"mdia", b"hdlr"]).unwrap();
        assert_eq!(&hdlr[8..12], b"vide");
        assert_eq!(&hdlr[24..], b"VideoHandler\0");
        let vmhd = find(traks[0], &[b"mdia", b"minf", b"vmhd"]).unwrap();
        assert_eq!(vmhd, &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        let smhd = find(traks[1], &[b"mdia", b"minf", b"smhd"]).unwrap();
        assert_eq!(smhd, &[0; 8]);
        let dref = find(traks[0], &[b"mdia", b"minf", b"dinf", b"dref"]).unwrap();
        assert_eq!(dref, b"\0\0\0\0\0\0\0\x01\0\0\0\x0curl \0\0\0\x01");
    }

    #[test]
    fn writes_empty_sample_tables() {
        let init = init_segment(&tracks()).unwrap();
        let stbl = find(&init, &[b"moov", b"trak", b"mdia", b"minf", b"stbl"]).unwrap();
        let kinds: Vec<_> = children(stbl).into_iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [*b"stsd", *b"stts", *b"stsc", *b"stsz", *b"stco"]);
        assert_eq!(find(stbl, &[b"stts"]).unwrap(), &[0; 8]);
        assert_eq!(find(stbl, &[b"stsc"]).unwrap(), &[0; 8]);
        assert_eq!(find(stbl, &[b"stsz"]).unwrap(), &[0; 12]);
        assert_eq!(find(stbl, &[b"stco"]).unwrap(), &[0; 8]);
        let stsd = find(stbl, &[b"stsd"]).unwrap();
        assert_eq!(u32_at(stsd, 4), 1);
        assert_eq!(&stsd[12..16], b"avc1");
    }

    #[test]
    fn writes_a_trex_per_track() {
        let init = init_segment(&tracks()).unwrap();
        let mvex = find(&init, &[b"moov", b"mvex"]).unwrap();
        let trex = all(mvex, b"trex");
        assert_eq!(trex.len(), 2);
        assert_eq!(
            trex[1],
            &[
                0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ]
        );
    }

    #[test]
    fn refuses_bad_track_lists() {
        assert_eq!(init_segment(&[]), Err(Fmp4Error::NoTracks));
        let mut twice = tracks();
        twice[1].track_id = 1;
        assert_eq!(init_segment(&twice), Err(Fmp4Error::BadTrackId(1)));
        let mut zero = tracks();
        zero[0].track_id = 0;
        assert_eq!(init_segment(&zero), Err(Fmp4Error::BadTrackId(0)));
        let mut no_clock = tracks();
        no_clock[1].timescale = 0;
        assert_eq!(
            init_segment(&no_clock),
            Err(Fmp4Error::ZeroTimescale { track_id: 2 })
        );
        let many: Vec<_> = (1..=33)
            .map(|id| Fmp4Track {
                track_id: id,
                ..tracks()[1].clone()
            })
            .collect();
        assert_eq!(
            init_segment(&many),
            Err(Fmp4Error::TooManyTracks {
                count: 33,
                limit: 32
            })
        );
    }
}
