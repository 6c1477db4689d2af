//! Reading AMF0 values from a complete message body.

use super::marker;
use super::{Amf0Error, Amf0Value, Properties};

/// Default [`Amf0Limits::max_depth`]: far beyond any real command or
/// metadata object, far below what the stack can take.
pub const DEFAULT_MAX_DEPTH: usize = 32;

/// Default [`Amf0Limits::max_values`]: a large `onMetaData` (keyframe index
/// included) has a few thousand.
pub const DEFAULT_MAX_VALUES: usize = 65_536;

/// Bounds on what one [`Amf0Reader`] accepts, so a hostile body costs at
/// most a known amount of memory and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amf0Limits {
    /// How deep objects and arrays may nest (a top-level object is depth 1).
    pub max_depth: usize,
    /// How many values (at every depth together) one reader decodes.
    pub max_values: usize,
}

impl Default for Amf0Limits {
    fn default() -> Self {
        Amf0Limits {
            max_depth: DEFAULT_MAX_DEPTH,
            max_values: DEFAULT_MAX_VALUES,
        }
    }
}

/// Decodes AMF0 values one after another from a buffer holding a whole
/// message (an RTMP command or data message, an FLV script tag).
///
/// Errors carry the byte offset from the start of the buffer. Strings are
/// copied out; every length is checked against the bytes left before
/// anything is allocated.
#[derive(Clone, Debug)]
pub struct Amf0Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    limits: Amf0Limits,
    values: usize,
}

impl<'a> Amf0Reader<'a> {
    /// A reader at the start of `buf` with the default limits.
    pub fn new(buf: &'a [u8]) -> Self {
        Amf0Reader::with_limits(buf, Amf0Limits::default())
    }

    /// A reader at the start of `buf` with the given limits.
    pub fn with_limits(buf: &'a [u8], limits: Amf0Limits) -> Self {
        Amf0Reader {
            buf,
            pos: 0,
            limits,
            values: 0,
        }
    }

    /// Offset of the next byte to read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Reads the next value.
    pub fn read(&mut self) -> Result<Amf0Value, Amf0Error> {
        self.value(0)
    }

    /// Reads values until the buffer is used up.
    pub fn read_all(&mut self) -> Result<Vec<Amf0Value>, Amf0Error> {
        let mut values = Vec::new();
        while !self.is_empty() {
            values.push(self.read()?);
        }
        Ok(values)
    }

    fn value(&mut self, depth: usize) -> Result<Amf0Value, Amf0Error> {
        let offset = self.pos;
        if self.values >= self.limits.max_values {
            return Err(Amf0Error::TooManyValues {
                limit: self.limits.max_values,
                offset,
            });
        }
        self.values += 1;
        let marker = self.u8("type marker")?;
        let unsupported = |name| Err(Amf0Error::UnsupportedType { name, offset });
        Ok(match marker {
            marker::NUMBER => Amf0Value::Number(self.f64("number")?),
            marker::BOOLEAN => Amf0Value::Boolean(self.u8("boolean")? != 0),
            marker::STRING => Amf0Value::String(self.short_string("string")?),
            marker::OBJECT => Amf0Value::Object(self.properties(depth, offset, None)?),
            marker::NULL => Amf0Value::Null,
            marker::UNDEFINED => Amf0Value::Undefined,
            marker::ECMA_ARRAY => {
                let count = self.u32("ecma-array count")?;
                Amf0Value::EcmaArray(self.properties(depth, offset, Some(count))?)
            }
            marker::STRICT_ARRAY => Amf0Value::StrictArray(self.strict_array(depth, offset)?),
            marker::DATE => Amf0Value::Date {
                millis: self.f64("date")?,
                timezone: i16::from_be_bytes(self.array("date time zone")?),
            },
            marker::LONG_STRING => Amf0Value::LongString(self.long_string("long-string")?),
            marker::XML_DOCUMENT => Amf0Value::XmlDocument(self.long_string("xml-document")?),
            marker::TYPED_OBJECT => {
                let class_name = self.short_string("typed-object class name")?;
                let properties = self.properties(depth, offset, None)?;
                Amf0Value::TypedObject {
                    class_name,
                    properties,
                }
            }
            marker::OBJECT_END => return Err(Amf0Error::UnexpectedObjectEnd { offset }),
            marker::MOVIE_CLIP => return unsupported("movieclip"),
            marker::REFERENCE => return unsupported("reference"),
            marker::UNSUPPORTED => return unsupported("unsupported"),
            marker::RECORD_SET => return unsupported("recordset"),
            marker::AVMPLUS_OBJECT => return unsupported("avmplus-object (amf3)"),
            marker => return Err(Amf0Error::UnknownMarker { marker, offset }),
        })
    }

    /// Properties up to the object-end marker. For an ECMA array (`hint` is
    /// its count), a body that ends right after `hint` properties without
    /// the end marker is accepted too, as some encoders write it so.
    fn properties(
        &mut self,
        depth: usize,
        offset: usize,
        hint: Option<u32>,
    ) -> Result<Properties, Amf0Error> {
        self.enter(depth, offset)?;
        let mut properties = Vec::new();
        loop {
            if self.buf[self.pos.min(self.buf.len())..].starts_with(&marker::OBJECT_END_SEQUENCE) {
                self.pos += marker::OBJECT_END_SEQUENCE.len();
                return Ok(properties);
            }
            if self.is_empty() && hint.is_some_and(|n| n as usize == properties.len()) {
                return Ok(properties);
            }
            let key = self.short_string("property name")?;
            let value = self.value(depth + 1)?;
            properties.push((key, value));
        }
    }

    fn strict_array(&mut self, depth: usize, offset: usize) -> Result<Vec<Amf0Value>, Amf0Error> {
        self.enter(depth, offset)?;
        let count = self.u32("strict-array count")? as usize;
        let left = self.limits.max_values - self.values;
        if count > left {
            return Err(Amf0Error::TooManyValues {
                limit: self.limits.max_values,
                offset,
            });
        }
        // Every value takes at least its marker byte.
        if count > self.buf.len() - self.pos {
            return Err(Amf0Error::Truncated {
                what: "strict-array",
                offset,
            });
        }
        let mut values = Vec::with_capacity(count);
        for _ in 0..count {
            values.push(self.value(depth + 1)?);
        }
        Ok(values)
    }

    fn enter(&self, depth: usize, offset: usize) -> Result<(), Amf0Error> {
        if depth + 1 > self.limits.max_depth {
            return Err(Amf0Error::TooDeep {
                limit: self.limits.max_depth,
                offset,
            });
        }
        Ok(())
    }

    fn short_string(&mut self, what: &'static str) -> Result<String, Amf0Error> {
        let len = u16::from_be_bytes(self.array(what)?);
        self.utf8(usize::from(len), what)
    }

    fn long_string(&mut self, what: &'static str) -> Result<String, Amf0Error> {
        let len = self.u32(what)?;
        self.utf8(len as usize, what)
    }

    fn utf8(&mut self, len: usize, what: &'static str) -> Result<String, Amf0Error> {
        let offset = self.pos;
        let bytes = self
            .buf
            .get(offset..offset.saturating_add(len))
            .ok_or(Amf0Error::Truncated { what, offset })?;
        let text = std::str::from_utf8(bytes).map_err(|_| Amf0Error::InvalidUtf8 { offset })?;
        self.pos += len;
        Ok(text.to_owned())
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Amf0Error> {
        let offset = self.pos;
        let bytes = self
            .buf
            .get(offset..)
            .and_then(|rest| rest.first_chunk::<N>())
            .ok_or(Amf0Error::Truncated { what, offset })?;
        self.pos += N;
        Ok(*bytes)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, Amf0Error> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, Amf0Error> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    fn f64(&mut self, what: &'static str) -> Result<f64, Amf0Error> {
        Ok(f64::from_be_bytes(self.array(what)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Result<Vec<Amf0Value>, Amf0Error> {
        Amf0Reader::new(bytes).read_all()
    }

    #[test]
    fn reads_scalars() {
        let bytes = [
            0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, // 1.0
            0x01, 0x01, // true
            0x02, 0x00, 0x02, b'h', b'i', // "hi"
            0x05, 0x06, // null, undefined
            0x0b, 0x42, 0x75, 0xd3, 0xef, 0x79, 0x80, 0x00, 0x00, 0x00, 0x00, // a date
            0x0c, 0x00, 0x00, 0x00, 0x01, b'x', // long string
            0x0f, 0x00, 0x00, 0x00, 0x03, b'<', b'a', b'>', // xml
        ];
        assert_eq!(
            read_all(&bytes).unwrap(),
            vec![
                Amf0Value::Number(1.0),
                Amf0Value::Boolean(true),
                Amf0Value::String("hi".into()),
                Amf0Value::Null,
                Amf0Value::Undefined,
                Amf0Value::Date {
                    millis: 1_500_000_000_000.0,
                    timezone: 0
                },
                Amf0Value::LongString("x".into()),
                Amf0Value::XmlDocument("<a>".into()),
            ]
        );
    }

    #[test]
    fn reads_containers() {
        let bytes = [
            0x03, 0x00, 0x01, b'a', 0x05, 0x00, 0x00, 0x09, // {a: null}
            0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, b'b', 0x01, 0x00, 0x00, 0x00,
            0x09, // ecma [b: false]
            0x0a, 0x00, 0x00, 0x00, 0x02, 0x05, 0x06, // strict [null, undefined]
            0x10, 0x00, 0x01, b'C', 0x00, 0x00, 0x09, // typed object C {}
        ];
        assert_eq!(
            read_all(&bytes).unwrap(),
            vec![
                Amf0Value::object([("a", Amf0Value::Null)]),
                Amf0Value::EcmaArray(vec![("b".into(), Amf0Value::Boolean(false))]),
                Amf0Value::StrictArray(vec![Amf0Value::Null, Amf0Value::Undefined]),
                Amf0Value::TypedObject {
                    class_name: "C".into(),
                    properties: vec![]
                },
            ]
        );
    }

    #[test]
    fn accepts_an_ecma_array_without_end_marker() {
        let bytes = [0x08, 0, 0, 0, 1, 0x00, 0x01, b'k', 0x05];
        assert_eq!(
            read_all(&bytes).unwrap(),
            vec![Amf0Value::EcmaArray(vec![("k".into(), Amf0Value::Null)])]
        );
        // Any other early end is still a truncation.
        let bytes = [0x08, 0, 0, 0, 2, 0x00, 0x01, b'k', 0x05];
        assert_eq!(
            read_all(&bytes),
            Err(Amf0Error::Truncated {
                what: "property name",
                offset: 9
            })
        );
    }

    #[test]
    fn errors_name_the_offset() {
        assert_eq!(
            read_all(&[0x05, 0x02, 0x00, 0x05, b'a']),
            Err(Amf0Error::Truncated {
                what: "string",
                offset: 4
            })
        );
        assert_eq!(
            read_all(&[0x05, 0x12]),
            Err(Amf0Error::UnknownMarker {
                marker: 0x12,
                offset: 1
            })
        );
        assert_eq!(
            read_all(&[0x07, 0x00, 0x01]),
            Err(Amf0Error::UnsupportedType {
                name: "reference",
                offset: 0
            })
        );
        assert_eq!(
            read_all(&[0x11, 0x01]),
            Err(Amf0Error::UnsupportedType {
                name: "avmplus-object (amf3)",
                offset: 0
            })
        );
        assert_eq!(
            read_all(&[0x09]),
            Err(Amf0Error::UnexpectedObjectEnd { offset: 0 })
        );
        assert_eq!(
            read_all(&[0x02, 0x00, 0x02, 0xc3, 0x28]),
            Err(Amf0Error::InvalidUtf8 { offset: 3 })
        );
        assert_eq!(
            read_all(&[0x0c, 0xff, 0xff, 0xff, 0xff, b'a']),
            Err(Amf0Error::Truncated {
                what: "long-string",
                offset: 5
            })
        );
    }

    #[test]
    fn enforces_limits() {
        let limits = Amf0Limits {
            max_depth: 2,
            max_values: 4,
        };
        // [[[]]] is three deep.
        let deep = [0x0a, 0, 0, 0, 1, 0x0a, 0, 0, 0, 1, 0x0a, 0, 0, 0, 0];
        assert_eq!(
            Amf0Reader::with_limits(&deep, limits).read(),
            Err(Amf0Error::TooDeep {
                limit: 2,
                offset: 10
            })
        );
        let many = [0x05; 5];
        assert_eq!(
            Amf0Reader::with_limits(&many, limits).read_all(),
            Err(Amf0Error::TooManyValues {
                limit: 4,
                offset: 4
            })
        );
        // A strict array announcing a billion values is refused before any
        // allocation.
        let huge = [0x0a, 0x40, 0, 0, 0, 0x05];
        assert_eq!(
            Amf0Reader::new(&huge).read(),
            Err(Amf0Error::TooManyValues {
                limit: DEFAULT_MAX_VALUES,
                offset: 0
            })
        );
        let short = [0x0a, 0, 0, 0, 9, 0x05];
        assert_eq!(
            Amf0Reader::new(&short).read(),
            Err(Amf0Error::Truncated {
                what: "strict-array",
                offset: 0
            })
        );
    }
}
