//! AMF0, the value encoding of RTMP commands and FLV/RTMP metadata
//! (Adobe "Action Message Format – AMF 0", 2006).
//!
//! - [`Amf0Value`]: every AMF0 type a peer can send, objects kept in wire
//!   order.
//! - [`Amf0Reader`]: decodes values from a complete message body, with byte
//!   offsets in every error and limits on nesting depth and value count.
//! - [`Amf0Value::encode`] / [`encode_all`]: the reverse, into any
//!   [`bytes::BufMut`] (`BytesMut`, `Vec<u8>`).
//! - [`Command`]: an RTMP command message (`connect`, `createStream`,
//!   `publish`, `_result` ...): name, transaction id, command object, args.
//! - [`strip_set_data_frame`]: turns an RTMP `@setDataFrame` data message
//!   into the FLV script-tag form the media layer stores.
//!
//! The AMF3 switch marker, references, movie clips and record sets are
//! refused with [`Amf0Error::UnsupportedType`]: RTMP peers negotiate AMF0
//! (`objectEncoding` 0) and none of the clients arcly serves send them.

mod command;
mod decode;
mod encode;
mod error;
mod marker;
mod value;

pub use command::{Command, strip_set_data_frame};
pub use decode::{Amf0Limits, Amf0Reader, DEFAULT_MAX_DEPTH, DEFAULT_MAX_VALUES};
pub use encode::encode_all;
pub use error::Amf0Error;
pub use value::{Amf0Value, Properties};
