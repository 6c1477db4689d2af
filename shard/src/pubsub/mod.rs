//! Streams across shards: the directory of origins and mirrors, the relays
//! between them, and the in-process publish/subscribe API.
//!
//! A stream lives on its owner shard (`owner(key)`) as an origin. A viewer
//! on another shard joins that shard's mirror: the first one makes the
//! shard subscribe, the owner answers with a snapshot (configs, metadata
//! and the cached GOP) and then relays each change once per mirroring
//! shard, batched per turn. Every later viewer on the shard costs no
//! cross-core traffic at all.

mod directory;
mod error;
mod forward;
pub(crate) mod handlers;
mod hub;
mod mirror;
mod origin;
mod publisher;
mod relay;
mod subscription;
mod watch;

pub(crate) use directory::Directory;
pub(crate) use error::PublishRefusal;
pub use error::{PublishError, SubscribeError};
pub(crate) use forward::IngestItem;
pub use publisher::Publisher;
pub(crate) use relay::RelayItem;
pub use subscription::{Subscription, ViewerEvent};
pub(crate) use watch::StreamWatch;
