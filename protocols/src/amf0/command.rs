//! RTMP command and data messages as AMF0 value sequences.

use bytes::{BufMut, Bytes};

use super::{Amf0Error, Amf0Limits, Amf0Reader, Amf0Value};

/// The AMF0 encoding of the string `@setDataFrame`: marker, length, text.
const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";

/// An RTMP command message (type 20): `connect`, `createStream`,
/// `publish`, `play`, `_result`, `onStatus` ...
///
/// On the wire: the name (string), the transaction id (number), the command
/// object (an object, or null), then any number of arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    /// The command or response name.
    pub name: String,
    /// Matches a response to its request; 0 when no response is expected.
    pub transaction_id: f64,
    /// Connection properties for `connect`, usually null otherwise.
    pub command_object: Amf0Value,
    /// The remaining values: the stream name of `publish`, the info object
    /// of `onStatus` ...
    pub args: Vec<Amf0Value>,
}

impl Command {
    /// Decodes a command message body with the default [`Amf0Limits`].
    pub fn decode(body: &[u8]) -> Result<Command, Amf0Error> {
        Command::decode_with_limits(body, Amf0Limits::default())
    }

    /// Decodes a command message body.
    ///
    /// Refused: a first value that is not a string or a second that is not a
    /// number. A body that stops after the transaction id has a null command
    /// object and no arguments.
    pub fn decode_with_limits(body: &[u8], limits: Amf0Limits) -> Result<Command, Amf0Error> {
        let mut r = Amf0Reader::with_limits(body, limits);
        let name = match r.read()? {
            Amf0Value::String(name) | Amf0Value::LongString(name) => name,
            other => return Err(bad("name", "string", other.type_name(), 0)),
        };
        let offset = r.position();
        if r.is_empty() {
            return Err(bad("transaction id", "number", "missing", offset));
        }
        let transaction_id = match r.read()? {
            Amf0Value::Number(id) => id,
            other => return Err(bad("transaction id", "number", other.type_name(), offset)),
        };
        let command_object = if r.is_empty() {
            Amf0Value::Null
        } else {
            r.read()?
        };
        let args = r.read_all()?;
        Ok(Command {
            name,
            transaction_id,
            command_object,
            args,
        })
    }

    /// Appends the command's AMF0 body to `dst`.
    pub fn encode(&self, dst: &mut impl BufMut) -> Result<(), Amf0Error> {
        Amf0Value::String(self.name.clone()).encode(dst)?;
        Amf0Value::Number(self.transaction_id).encode(dst)?;
        self.command_object.encode(dst)?;
        super::encode_all(&self.args, dst)
    }

    /// A property of the command object (`app`, `tcUrl`, `flashVer` ... of
    /// `connect`).
    pub fn property(&self, key: &str) -> Option<&Amf0Value> {
        self.command_object.get(key)
    }

    /// The argument at `index` (0 is the first value after the command
    /// object).
    pub fn arg(&self, index: usize) -> Option<&Amf0Value> {
        self.args.get(index)
    }
}

fn bad(
    field: &'static str,
    expected: &'static str,
    found: &'static str,
    offset: usize,
) -> Amf0Error {
    Amf0Error::BadCommand {
        field,
        expected,
        found,
        offset,
    }
}

/// The body of an RTMP data message without a leading `@setDataFrame`.
///
/// Publishers send metadata as `@setDataFrame`, `onMetaData`, object: the
/// first value tells the server to keep the rest as the stream's data frame.
/// Viewers and FLV files expect `onMetaData`, object, so the RTMP session
/// strips the wrapper once, on ingest, and hands the rest to
/// `arcly_media::flv::decode_script`. Any other body is returned unchanged.
/// The result shares `body`'s buffer.
pub fn strip_set_data_frame(body: &Bytes) -> Bytes {
    if body.starts_with(SET_DATA_FRAME) {
        body.slice(SET_DATA_FRAME.len()..)
    } else {
        body.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(values: &[Amf0Value]) -> Vec<u8> {
        let mut buf = Vec::new();
        super::super::encode_all(values, &mut buf).unwrap();
        buf
    }

    #[test]
    fn reads_publish() {
        let body = encoded(&[
            "publish".into(),
            5.0.into(),
            Amf0Value::Null,
            "cam1".into(),
            "live".into(),
        ]);
        let command = Command::decode(&body).unwrap();
        assert_eq!(command.name, "publish");
        assert_eq!(command.transaction_id, 5.0);
        assert!(command.command_object.is_null_or_undefined());
        assert_eq!(command.arg(0).and_then(Amf0Value::as_str), Some("cam1"));
        assert_eq!(command.arg(1).and_then(Amf0Value::as_str), Some("live"));
        let mut again = Vec::new();
        command.encode(&mut again).unwrap();
        assert_eq!(again, body);
    }

    #[test]
    fn tolerates_a_missing_command_object() {
        let command = Command::decode(&encoded(&["closeStream".into(), 0.0.into()])).unwrap();
        assert_eq!(command.command_object, Amf0Value::Null);
        assert!(command.args.is_empty());
    }

    #[test]
    fn refuses_non_commands() {
        assert_eq!(
            Command::decode(&encoded(&[1.0.into()])),
            Err(Amf0Error::BadCommand {
                field: "name",
                expected: "string",
                found: "number",
                offset: 0
            })
        );
        assert_eq!(
            Command::decode(&encoded(&["onMetaData".into()])),
            Err(Amf0Error::BadCommand {
                field: "transaction id",
                expected: "number",
                found: "missing",
                offset: 13
            })
        );
        assert_eq!(
            Command::decode(&encoded(&["x".into(), Amf0Value::Null])),
            Err(Amf0Error::BadCommand {
                field: "transaction id",
                expected: "number",
                found: "null",
                offset: 4
            })
        );
        assert!(matches!(
            Command::decode(&[]),
            Err(Amf0Error::Truncated { offset: 0, .. })
        ));
    }

    #[test]
    fn strips_set_data_frame() {
        let metadata = encoded(&[
            "onMetaData".into(),
            Amf0Value::EcmaArray(vec![("width".into(), 1280.0.into())]),
        ]);
        let mut wrapped = encoded(&["@setDataFrame".into()]);
        wrapped.extend_from_slice(&metadata);
        assert_eq!(strip_set_data_frame(&Bytes::from(wrapped)), metadata);
        let plain = Bytes::from(metadata);
        assert_eq!(strip_set_data_frame(&plain), plain);
    }
}
