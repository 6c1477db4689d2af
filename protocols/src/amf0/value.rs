//! The AMF0 value model.

/// Named properties of an object, ECMA array or typed object, in wire order
/// (RTMP peers care about order, and keys may repeat).
pub type Properties = Vec<(String, Amf0Value)>;

/// One AMF0 value.
#[derive(Clone, Debug, PartialEq)]
pub enum Amf0Value {
    /// A double (marker 0x00). RTMP transaction ids and every number.
    Number(f64),
    /// A boolean (0x01).
    Boolean(bool),
    /// A string of up to 65,535 bytes (0x02). Longer strings are written as
    /// [`LongString`](Self::LongString).
    String(String),
    /// An anonymous object (0x03).
    Object(Properties),
    /// `null` (0x05).
    Null,
    /// `undefined` (0x06).
    Undefined,
    /// An associative array (0x08), as `onMetaData` usually comes. The count
    /// on the wire is only a hint and is recomputed on encoding.
    EcmaArray(Properties),
    /// A dense array (0x0a).
    StrictArray(Vec<Amf0Value>),
    /// A date (0x0b): milliseconds since the Unix epoch, and a time zone
    /// field that the specification says to write as 0 and ignore.
    Date {
        /// Milliseconds since 1970-01-01 UTC.
        millis: f64,
        /// Minutes from UTC, as sent.
        timezone: i16,
    },
    /// A string with a 32-bit length (0x0c).
    LongString(String),
    /// An XML document as a string with a 32-bit length (0x0f).
    XmlDocument(String),
    /// An object with a registered class name (0x10).
    TypedObject {
        /// The class name.
        class_name: String,
        /// The properties.
        properties: Properties,
    },
}

impl Amf0Value {
    /// An [`Object`](Self::Object) from `(key, value)` pairs, in order.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Amf0Value)>) -> Amf0Value {
        Amf0Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The type's name in the specification, for errors and logs.
    pub fn type_name(&self) -> &'static str {
        match self {
            Amf0Value::Number(_) => "number",
            Amf0Value::Boolean(_) => "boolean",
            Amf0Value::String(_) => "string",
            Amf0Value::Object(_) => "object",
            Amf0Value::Null => "null",
            Amf0Value::Undefined => "undefined",
            Amf0Value::EcmaArray(_) => "ecma-array",
            Amf0Value::StrictArray(_) => "strict-array",
            Amf0Value::Date { .. } => "date",
            Amf0Value::LongString(_) => "long-string",
            Amf0Value::XmlDocument(_) => "xml-document",
            Amf0Value::TypedObject { .. } => "typed-object",
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Amf0Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Amf0Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The text of a string or long string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf0Value::String(s) | Amf0Value::LongString(s) => Some(s),
            _ => None,
        }
    }

    /// The properties of an object, ECMA array or typed object. Readers
    /// should accept either of the first two wherever one is expected, as
    /// the Enhanced RTMP specification advises.
    pub fn properties(&self) -> Option<&[(String, Amf0Value)]> {
        match self {
            Amf0Value::Object(p)
            | Amf0Value::EcmaArray(p)
            | Amf0Value::TypedObject { properties: p, .. } => Some(p),
            _ => None,
        }
    }

    /// The first property named `key`, if this has properties.
    pub fn get(&self, key: &str) -> Option<&Amf0Value> {
        self.properties()?
            .iter()
            .find_map(|(k, v)| (k == key).then_some(v))
    }

    /// Whether this is `null` or `undefined`.
    pub fn is_null_or_undefined(&self) -> bool {
        matches!(self, Amf0Value::Null | Amf0Value::Undefined)
    }
}

impl From<f64> for Amf0Value {
    fn from(n: f64) -> Self {
        Amf0Value::Number(n)
    }
}

impl From<bool> for Amf0Value {
    fn from(b: bool) -> Self {
        Amf0Value::Boolean(b)
    }
}

impl From<&str> for Amf0Value {
    fn from(s: &str) -> Self {
        Amf0Value::String(s.to_owned())
    }
}

impl From<String> for Amf0Value {
    fn from(s: String) -> Self {
        Amf0Value::String(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_properties() {
        let object = Amf0Value::object([("app", "live".into()), ("fpad", false.into())]);
        assert_eq!(object.get("app").and_then(Amf0Value::as_str), Some("live"));
        assert_eq!(object.get("fpad").and_then(Amf0Value::as_bool), Some(false));
        assert_eq!(object.get("tcUrl"), None);
        let array = Amf0Value::EcmaArray(vec![("duration".into(), 0.0.into())]);
        assert_eq!(array.get("duration").and_then(Amf0Value::as_f64), Some(0.0));
        assert_eq!(Amf0Value::Null.get("x"), None);
        assert!(Amf0Value::Undefined.is_null_or_undefined());
        assert_eq!(Amf0Value::LongString("x".into()).as_str(), Some("x"));
        assert_eq!(Amf0Value::Number(1.0).as_str(), None);
    }
}
