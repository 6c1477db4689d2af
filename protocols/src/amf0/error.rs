//! Why AMF0 could not be read or written.

/// An error decoding or encoding AMF0. Offsets count from the start of the
/// buffer handed to the reader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Amf0Error {
    /// The buffer ends inside a value.
    #[error("amf0 {what} truncated at byte {offset}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where it starts.
        offset: usize,
    },
    /// A type marker AMF0 does not define.
    #[error("unknown amf0 type marker 0x{marker:02x} at byte {offset}")]
    UnknownMarker {
        /// The marker byte.
        marker: u8,
        /// Where it is.
        offset: usize,
    },
    /// A defined type arcly does not accept (AMF3 switch, reference, movie
    /// clip, record set, the `unsupported` marker).
    #[error("unsupported amf0 type {name} at byte {offset}")]
    UnsupportedType {
        /// The type's name in the specification.
        name: &'static str,
        /// Where its marker is.
        offset: usize,
    },
    /// An object-end marker where a value should be.
    #[error("amf0 object-end marker outside an object at byte {offset}")]
    UnexpectedObjectEnd {
        /// Where it is.
        offset: usize,
    },
    /// A string that is not valid UTF-8.
    #[error("amf0 string at byte {offset} is not utf-8")]
    InvalidUtf8 {
        /// Where the string's bytes start.
        offset: usize,
    },
    /// Objects and arrays nested deeper than the reader's limit.
    #[error("amf0 nesting deeper than the limit of {limit} at byte {offset}")]
    TooDeep {
        /// The limit in force.
        limit: usize,
        /// Where the container that went too deep starts.
        offset: usize,
    },
    /// More values in one buffer than the reader's limit.
    #[error("more than the limit of {limit} amf0 values, at byte {offset}")]
    TooManyValues {
        /// The limit in force.
        limit: usize,
        /// Where the value over the limit starts.
        offset: usize,
    },
    /// A string, key or array too long for its AMF0 length field.
    #[error("amf0 {what} of {len} is over the limit of {limit}")]
    TooLong {
        /// `"object key"`, `"string"` or `"array"`.
        what: &'static str,
        /// Its length.
        len: usize,
        /// What the length field can hold.
        limit: u64,
    },
    /// A command whose name, transaction id or command object has the wrong
    /// type.
    #[error("command {field} at byte {offset} is {found}, expected {expected}")]
    BadCommand {
        /// `"name"`, `"transaction id"` ...
        field: &'static str,
        /// The AMF0 type expected.
        expected: &'static str,
        /// The AMF0 type found (or `"missing"`).
        found: &'static str,
        /// Where the value starts.
        offset: usize,
    },
}
