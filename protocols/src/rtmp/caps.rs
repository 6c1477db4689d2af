//! Enhanced RTMP capability negotiation in `connect` (E-RTMP v2,
//! "Enhancing NetConnection connect Command"): what a client says it can
//! decode, and what the server says back.

use arcly_engine::Codec;
use arcly_media::flv::FourCc;

use crate::amf0::{Amf0Value, Properties};

/// `FourCcInfoMask.CanDecode`.
pub const CAN_DECODE: u32 = 0x01;
/// `FourCcInfoMask.CanEncode`.
pub const CAN_ENCODE: u32 = 0x02;
/// `FourCcInfoMask.CanForward`.
pub const CAN_FORWARD: u32 = 0x04;

/// `CapsExMask.Reconnect`: understands a reconnect request.
pub const CAPS_EX_RECONNECT: u32 = 0x01;
/// `CapsExMask.Multitrack`.
pub const CAPS_EX_MULTITRACK: u32 = 0x02;
/// `CapsExMask.ModEx`: parses ModEx packets.
pub const CAPS_EX_MOD_EX: u32 = 0x04;
/// `CapsExMask.TimestampNanoOffset`.
pub const CAPS_EX_TIMESTAMP_NANO_OFFSET: u32 = 0x08;

/// What arcly announces in `capsEx`: it reads ModEx packets and their
/// nanosecond offsets on ingest; it sends no reconnect requests and keeps
/// only track 0 of a multitrack stream.
pub const SERVER_CAPS_EX: u32 = CAPS_EX_MOD_EX | CAPS_EX_TIMESTAMP_NANO_OFFSET;

/// The most entries read from each list or map; real clients send a dozen.
const MAX_ENTRIES: usize = 64;

/// The video codecs arcly forwards, by FourCC.
const VIDEO_FOURCCS: [FourCc; 4] = [FourCc::AVC1, FourCc::HVC1, FourCc::AV01, FourCc::VP09];

/// The audio codecs arcly forwards, by FourCC.
const AUDIO_FOURCCS: [FourCc; 3] = [FourCc::MP4A, FourCc::OPUS, FourCc::MP3];

/// What a client declared about itself in `connect`.
///
/// A client that declares nothing is a legacy client (or one that does not
/// say, as ffmpeg before 7.1 when it plays): it is known to read H.264, AAC
/// and MP3, and nothing is known about the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientCaps {
    /// `fourCcList` (E-RTMP v1) as sent; `*` means any codec.
    pub fourcc_list: Vec<String>,
    /// `videoFourCcInfoMap`: FourCC (or `*`) and its `CAN_*` flags.
    pub video: Vec<(String, u32)>,
    /// `audioFourCcInfoMap`: FourCC (or `*`) and its `CAN_*` flags.
    pub audio: Vec<(String, u32)>,
    /// `capsEx`, the `CAPS_EX_*` flags.
    pub caps_ex: u32,
}

impl ClientCaps {
    /// Reads the capability properties of a `connect` command object.
    /// Malformed entries are skipped; at most 64 are read from each list.
    pub fn from_connect(command_object: &Amf0Value) -> ClientCaps {
        let fourcc_list = match command_object.get("fourCcList") {
            Some(Amf0Value::StrictArray(values)) => values
                .iter()
                .filter_map(Amf0Value::as_str)
                .take(MAX_ENTRIES)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let map = |key| {
            command_object
                .get(key)
                .and_then(Amf0Value::properties)
                .map(|properties| {
                    properties
                        .iter()
                        .filter_map(|(name, value)| Some((name.clone(), flags(value)?)))
                        .take(MAX_ENTRIES)
                        .collect()
                })
                .unwrap_or_default()
        };
        ClientCaps {
            fourcc_list,
            video: map("videoFourCcInfoMap"),
            audio: map("audioFourCcInfoMap"),
            caps_ex: command_object.get("capsEx").and_then(flags).unwrap_or(0),
        }
    }

    /// Whether the client declared any Enhanced RTMP capability.
    pub fn is_enhanced(&self) -> bool {
        !self.fourcc_list.is_empty()
            || !self.video.is_empty()
            || !self.audio.is_empty()
            || self.caps_ex != 0
    }

    /// The `CAN_*` flags declared for a codec: an entry in `fourCcList`
    /// counts as all three; in an info map, a `*` entry overrides the
    /// codec's own, as the specification says.
    pub fn flags(&self, codec: Codec) -> u32 {
        let Some(fourcc) = fourcc(codec) else {
            return 0;
        };
        let name = |entry: &str| entry == "*" || entry.as_bytes() == fourcc.0;
        let listed = if self.fourcc_list.iter().any(|entry| name(entry)) {
            CAN_DECODE | CAN_ENCODE | CAN_FORWARD
        } else {
            0
        };
        let map = match codec.track() {
            arcly_engine::TrackKind::Video => &self.video,
            _ => &self.audio,
        };
        let lookup = |key: &str| map.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
        let mapped = lookup("*")
            .or_else(|| lookup(std::str::from_utf8(&fourcc.0).unwrap_or_default()))
            .unwrap_or(0);
        listed | mapped
    }

    /// Whether the client can take frames of `codec`: always for the
    /// codecs legacy RTMP carries (H.264, AAC, MP3, script data); for the
    /// rest, when it declared it can decode or forward them.
    pub fn accepts(&self, codec: Codec) -> bool {
        matches!(codec, Codec::H264 | Codec::Aac | Codec::Mp3 | Codec::Script)
            || self.flags(codec) & (CAN_DECODE | CAN_FORWARD) != 0
    }

    /// The properties the server adds to its `connect` `_result` for this
    /// client: none for a legacy client; for an enhanced one, the codecs
    /// arcly forwards (`fourCcList` too if the client sent one) and
    /// [`SERVER_CAPS_EX`].
    pub fn server_reply(&self) -> Properties {
        if !self.is_enhanced() {
            return Vec::new();
        }
        let names = |fourccs: &[FourCc]| -> Vec<String> {
            fourccs
                .iter()
                .map(|f| String::from_utf8_lossy(&f.0).into_owned())
                .collect()
        };
        let info_map = |fourccs: &[FourCc]| {
            Amf0Value::Object(
                names(fourccs)
                    .into_iter()
                    .map(|name| (name, Amf0Value::Number(f64::from(CAN_FORWARD))))
                    .collect(),
            )
        };
        let mut properties = Vec::new();
        if !self.fourcc_list.is_empty() {
            let all = names(&VIDEO_FOURCCS)
                .into_iter()
                .chain(names(&AUDIO_FOURCCS))
                .map(Amf0Value::String)
                .collect();
            properties.push(("fourCcList".to_owned(), Amf0Value::StrictArray(all)));
        }
        properties.push(("videoFourCcInfoMap".to_owned(), info_map(&VIDEO_FOURCCS)));
        properties.push(("audioFourCcInfoMap".to_owned(), info_map(&AUDIO_FOURCCS)));
        properties.push((
            "capsEx".to_owned(),
            Amf0Value::Number(f64::from(SERVER_CAPS_EX)),
        ));
        properties
    }
}

/// A flag word from an AMF0 number: whole, in `u32` range.
fn flags(value: &Amf0Value) -> Option<u32> {
    let n = value.as_f64()?;
    (n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n)).then_some(n as u32)
}

/// The FourCC Enhanced RTMP names a codec by.
fn fourcc(codec: Codec) -> Option<FourCc> {
    Some(match codec {
        Codec::H264 => FourCc::AVC1,
        Codec::H265 => FourCc::HVC1,
        Codec::Av1 => FourCc::AV01,
        Codec::Vp9 => FourCc::VP09,
        Codec::Vvc => FourCc(*b"vvc1"),
        Codec::Aac => FourCc::MP4A,
        Codec::Opus => FourCc::OPUS,
        Codec::Mp3 => FourCc::MP3,
        Codec::Script => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_clients_take_legacy_codecs_only() {
        let caps = ClientCaps::from_connect(&Amf0Value::object([("app", "live".into())]));
        assert!(!caps.is_enhanced());
        assert!(caps.accepts(Codec::H264) && caps.accepts(Codec::Aac));
        assert!(!caps.accepts(Codec::H265) && !caps.accepts(Codec::Opus));
        assert!(caps.server_reply().is_empty());
    }

    #[test]
    fn reads_a_fourcc_list() {
        let object = Amf0Value::object([(
            "fourCcList",
            Amf0Value::StrictArray(vec!["av01".into(), "hvc1".into(), 5.0.into()]),
        )]);
        let caps = ClientCaps::from_connect(&object);
        assert_eq!(caps.fourcc_list, ["av01", "hvc1"]);
        assert!(caps.accepts(Codec::Av1) && caps.accepts(Codec::H265));
        assert!(!caps.accepts(Codec::Vp9));
        let reply = caps.server_reply();
        let keys: Vec<_> = reply.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "fourCcList",
                "videoFourCcInfoMap",
                "audioFourCcInfoMap",
                "capsEx"
            ]
        );
    }

    #[test]
    fn reads_info_maps_with_their_wildcard() {
        let object = Amf0Value::object([
            (
                "videoFourCcInfoMap",
                Amf0Value::object([
                    ("vp09", f64::from(CAN_DECODE | CAN_ENCODE).into()),
                    ("hvc1", 0.0.into()),
                ]),
            ),
            (
                "audioFourCcInfoMap",
                Amf0Value::EcmaArray(vec![
                    ("Opus".into(), f64::from(CAN_ENCODE).into()),
                    ("*".into(), f64::from(CAN_FORWARD).into()),
                ]),
            ),
            ("capsEx", 3.0.into()),
        ]);
        let caps = ClientCaps::from_connect(&object);
        assert!(caps.accepts(Codec::Vp9));
        assert!(!caps.accepts(Codec::H265));
        // The audio wildcard overrides Opus's own encode-only flags.
        assert_eq!(caps.flags(Codec::Opus), CAN_FORWARD);
        assert!(caps.accepts(Codec::Opus));
        assert_eq!(caps.caps_ex, CAPS_EX_RECONNECT | CAPS_EX_MULTITRACK);
        assert_eq!(caps.server_reply().len(), 3);
    }

    #[test]
    fn skips_malformed_flags() {
        let object = Amf0Value::object([
            ("capsEx", (-1.0).into()),
            (
                "videoFourCcInfoMap",
                Amf0Value::object([("hvc1", 1.5.into()), ("av01", "1".into())]),
            ),
        ]);
        let caps = ClientCaps::from_connect(&object);
        assert_eq!(caps, ClientCaps::default());
    }
}
