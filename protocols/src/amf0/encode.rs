//! Writing AMF0 values.

use bytes::BufMut;

use super::marker;
use super::{Amf0Error, Amf0Value};

impl Amf0Value {
    /// Appends the value to `dst`.
    ///
    /// A [`String`](Amf0Value::String) over 65,535 bytes is written as a long
    /// string (marker 0x0c) so that it can be written at all; it reads back
    /// as [`LongString`](Amf0Value::LongString).
    ///
    /// Refused: an object key over 65,535 bytes, and strings or arrays over
    /// 2^32 - 1 bytes or elements. On error, `dst` may hold part of the value.
    pub fn encode(&self, dst: &mut impl BufMut) -> Result<(), Amf0Error> {
        match self {
            Amf0Value::Number(n) => {
                dst.put_u8(marker::NUMBER);
                dst.put_f64(*n);
            }
            Amf0Value::Boolean(b) => {
                dst.put_u8(marker::BOOLEAN);
                dst.put_u8(u8::from(*b));
            }
            Amf0Value::String(s) if s.len() <= usize::from(u16::MAX) => {
                dst.put_u8(marker::STRING);
                put_short_string(dst, s, "string")?;
            }
            Amf0Value::String(s) | Amf0Value::LongString(s) => {
                dst.put_u8(marker::LONG_STRING);
                put_long_string(dst, s)?;
            }
            Amf0Value::Object(properties) => {
                dst.put_u8(marker::OBJECT);
                put_properties(dst, properties)?;
            }
            Amf0Value::Null => dst.put_u8(marker::NULL),
            Amf0Value::Undefined => dst.put_u8(marker::UNDEFINED),
            Amf0Value::EcmaArray(properties) => {
                dst.put_u8(marker::ECMA_ARRAY);
                dst.put_u32(length_u32(properties.len(), "ecma-array")?);
                put_properties(dst, properties)?;
            }
            Amf0Value::StrictArray(values) => {
                dst.put_u8(marker::STRICT_ARRAY);
                dst.put_u32(length_u32(values.len(), "strict-array")?);
                for value in values {
                    value.encode(dst)?;
                }
            }
            Amf0Value::Date { millis, timezone } => {
                dst.put_u8(marker::DATE);
                dst.put_f64(*millis);
                dst.put_i16(*timezone);
            }
            Amf0Value::XmlDocument(s) => {
                dst.put_u8(marker::XML_DOCUMENT);
                put_long_string(dst, s)?;
            }
            Amf0Value::TypedObject {
                class_name,
                properties,
            } => {
                dst.put_u8(marker::TYPED_OBJECT);
                put_short_string(dst, class_name, "typed-object class name")?;
                put_properties(dst, properties)?;
            }
        }
        Ok(())
    }
}

/// Appends every value in order: the body of a command or data message.
pub fn encode_all(values: &[Amf0Value], dst: &mut impl BufMut) -> Result<(), Amf0Error> {
    values.iter().try_for_each(|value| value.encode(dst))
}

fn put_properties(
    dst: &mut impl BufMut,
    properties: &[(String, Amf0Value)],
) -> Result<(), Amf0Error> {
    for (key, value) in properties {
        put_short_string(dst, key, "object key")?;
        value.encode(dst)?;
    }
    dst.put_slice(&marker::OBJECT_END_SEQUENCE);
    Ok(())
}

fn put_short_string(dst: &mut impl BufMut, s: &str, what: &'static str) -> Result<(), Amf0Error> {
    let len = u16::try_from(s.len()).map_err(|_| Amf0Error::TooLong {
        what,
        len: s.len(),
        limit: u64::from(u16::MAX),
    })?;
    dst.put_u16(len);
    dst.put_slice(s.as_bytes());
    Ok(())
}

fn put_long_string(dst: &mut impl BufMut, s: &str) -> Result<(), Amf0Error> {
    dst.put_u32(length_u32(s.len(), "string")?);
    dst.put_slice(s.as_bytes());
    Ok(())
}

fn length_u32(len: usize, what: &'static str) -> Result<u32, Amf0Error> {
    u32::try_from(len).map_err(|_| Amf0Error::TooLong {
        what,
        len,
        limit: u64::from(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::super::Amf0Reader;
    use super::*;

    fn round_trip(value: &Amf0Value) -> Amf0Value {
        let mut buf = Vec::new();
        value.encode(&mut buf).unwrap();
        let mut reader = Amf0Reader::new(&buf);
        let back = reader.read().unwrap();
        assert!(reader.is_empty());
        back
    }

    #[test]
    fn writes_the_reference_bytes() {
        let mut buf = Vec::new();
        encode_all(
            &[
                "connect".into(),
                1.0.into(),
                Amf0Value::object([("app", "live".into())]),
            ],
            &mut buf,
        )
        .unwrap();
        assert_eq!(
            buf,
            b"\x02\x00\x07connect\x00\x3f\xf0\x00\x00\x00\x00\x00\x00\
              \x03\x00\x03app\x02\x00\x04live\x00\x00\x09"
        );
    }

    #[test]
    fn round_trips_every_type() {
        let values = [
            Amf0Value::Number(-2.5),
            Amf0Value::Boolean(true),
            Amf0Value::String("ünïcödé".into()),
            Amf0Value::object([("a", Amf0Value::Null), ("a", Amf0Value::Undefined)]),
            Amf0Value::EcmaArray(vec![("duration".into(), 12.0.into())]),
            Amf0Value::StrictArray(vec!["x".into(), Amf0Value::StrictArray(vec![])]),
            Amf0Value::Date {
                millis: 1.0e12,
                timezone: -60,
            },
            Amf0Value::LongString("long".into()),
            Amf0Value::XmlDocument("<x/>".into()),
            Amf0Value::TypedObject {
                class_name: "flex.Foo".into(),
                properties: vec![("n".into(), 1.0.into())],
            },
        ];
        for value in values {
            assert_eq!(round_trip(&value), value);
        }
    }

    #[test]
    fn writes_long_strings_as_long_strings() {
        let long = "x".repeat(70_000);
        assert_eq!(
            round_trip(&Amf0Value::String(long.clone())),
            Amf0Value::LongString(long)
        );
    }

    #[test]
    fn refuses_long_keys() {
        let value = Amf0Value::object([("k".repeat(65_536), Amf0Value::Null)]);
        assert_eq!(
            value.encode(&mut Vec::new()),
            Err(Amf0Error::TooLong {
                what: "object key",
                len: 65_536,
                limit: 65_535
            })
        );
    }
}
