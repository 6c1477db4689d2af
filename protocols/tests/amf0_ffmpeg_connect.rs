//! The `connect` commands ffmpeg sends (captured, see `data/README.md`)
//! decode to their known fields and re-encode byte for byte.

use arcly_protocols::amf0::{Amf0Value, Command};

const PUBLISH: &[u8] = include_bytes!("data/ffmpeg_publish_connect.bin");
const PLAY: &[u8] = include_bytes!("data/ffmpeg_play_connect.bin");

fn str_property<'a>(command: &'a Command, key: &str) -> Option<&'a str> {
    command.property(key).and_then(Amf0Value::as_str)
}

fn encoded(command: &Command) -> Vec<u8> {
    let mut buf = Vec::new();
    command.encode(&mut buf).unwrap();
    buf
}

#[test]
fn reads_the_publish_connect() {
    let command = Command::decode(PUBLISH).unwrap();
    assert_eq!(command.name, "connect");
    assert_eq!(command.transaction_id, 1.0);
    assert_eq!(str_property(&command, "app"), Some("live"));
    assert_eq!(str_property(&command, "type"), Some("nonprivate"));
    assert_eq!(
        str_property(&command, "flashVer"),
        Some("FMLE/3.0 (compatible; Lavf59.27.100)")
    );
    assert_eq!(
        str_property(&command, "tcUrl"),
        Some("rtmp://127.0.0.1:19350/live")
    );
    assert!(command.args.is_empty());
    assert_eq!(encoded(&command), PUBLISH);
}

#[test]
fn builds_the_publish_connect_from_its_fields() {
    let command = Command {
        name: "connect".into(),
        transaction_id: 1.0,
        command_object: Amf0Value::object([
            ("app", "live".into()),
            ("type", "nonprivate".into()),
            ("flashVer", "FMLE/3.0 (compatible; Lavf59.27.100)".into()),
            ("tcUrl", "rtmp://127.0.0.1:19350/live".into()),
        ]),
        args: vec![],
    };
    assert_eq!(encoded(&command), PUBLISH);
}

#[test]
fn reads_the_play_connect() {
    let command = Command::decode(PLAY).unwrap();
    assert_eq!(command.name, "connect");
    assert_eq!(str_property(&command, "flashVer"), Some("LNX 9,0,124,2"));
    let number = |key| command.property(key).and_then(Amf0Value::as_f64);
    assert_eq!(
        command.property("fpad").and_then(Amf0Value::as_bool),
        Some(false)
    );
    assert_eq!(number("capabilities"), Some(15.0));
    assert_eq!(number("audioCodecs"), Some(4071.0));
    assert_eq!(number("videoCodecs"), Some(252.0));
    assert_eq!(number("videoFunction"), Some(1.0));
    let keys: Vec<_> = command
        .command_object
        .properties()
        .unwrap()
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "app",
            "flashVer",
            "tcUrl",
            "fpad",
            "capabilities",
            "audioCodecs",
            "videoCodecs",
            "videoFunction"
        ]
    );
    assert_eq!(encoded(&command), PLAY);
}

#[test]
fn answers_connect_with_a_result() {
    // The `_result` a server sends back, as nginx-rtmp and SRS shape it.
    let result = Command {
        name: "_result".into(),
        transaction_id: 1.0,
        command_object: Amf0Value::object([
            ("fmsVer", "FMS/3,0,1,123".into()),
            ("capabilities", 31.0.into()),
        ]),
        args: vec![Amf0Value::object([
            ("level", "status".into()),
            ("code", "NetConnection.Connect.Success".into()),
            ("description", "Connection succeeded.".into()),
            ("objectEncoding", 0.0.into()),
        ])],
    };
    let bytes = encoded(&result);
    assert_eq!(Command::decode(&bytes).unwrap(), result);
}
