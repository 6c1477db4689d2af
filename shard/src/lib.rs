//! The thread-per-core runtime of arcly.
//!
//! One shard is one OS thread pinned to one CPU, running one glommio
//! executor. Shards share nothing: each owns the streams that
//! [`owner::owner`] assigns to it, keeps mirrors of streams owned elsewhere,
//! and talks to the other shards only through its mailbox of bounded,
//! batched queues. Inside a shard everything is `Rc`, `RefCell` and `Cell`.
//!
//! glommio stays inside this crate: the public API is [`Runtime`] (started
//! from a [`RuntimeConfig`], reached from outside threads) and [`ShardCtx`]
//! (the handle tasks on a shard work through). This crate never parses a
//! protocol; it runs the sans-IO sessions of `arcly-protocols` over sockets.
//!
//! ```no_run
//! use arcly_engine::{PublishInfo, StreamKey};
//! use arcly_shard::{Runtime, RuntimeConfig, ShardCtx, ViewerEvent};
//!
//! let mut runtime = Runtime::start(RuntimeConfig::local(2))?;
//! runtime.install_signal_handlers()?;
//! let key = StreamKey::new("live", "cam")?;
//! // A viewer on shard 1; the stream may be owned by either shard.
//! let seen = runtime.spawn_on(1, move |ctx: ShardCtx| async move {
//!     let mut viewer = ctx.subscribe(&key).await?;
//!     let mut frames = 0;
//!     while let ViewerEvent::Frame { .. } = viewer.next().await {
//!         frames += 1;
//!     }
//!     Ok::<_, arcly_shard::SubscribeError>(frames)
//! });
//! println!("{:?}", seen.join()?);
//! runtime.join()?; // returns once SIGINT/SIGTERM drained every shard
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_op_in_unsafe_fn)]

pub mod owner;
pub mod placement;
pub mod preflight;

mod auth;
mod bench;
mod config;
mod ctx;
mod drivers;
mod error;
mod inbox;
mod latch;
mod mailbox;
mod message;
mod net;
mod pubsub;
mod reaper;
mod reply;
mod runtime;
mod shutdown;
mod signals;
mod stats;
mod task;

pub use auth::{DEFAULT_HOOK_TIMEOUT, HLS_VERDICT_TTL, HookConfig, HookUrl, HookUrlError, Hooks};
pub use config::RuntimeConfig;
pub use ctx::ShardCtx;
pub use drivers::batch::WriteBatching;
pub use drivers::http::HttpConfig;
pub use drivers::nodelay::TcpNoDelay;
pub use drivers::per_app::PerApp;
pub use drivers::record::{RecordConfig, RecordFormat, RecordStats};
pub use drivers::rtmp::{DEFAULT_MAX_CONNECTIONS_PER_SHARD, RtmpConfig};
pub use error::ShardError;
pub use mailbox::{MailboxConfig, SendError};
pub use net::{Arrival, Connection, HandoffError, HandoffFailure, ListenerId};
pub use pubsub::{PublishError, Publisher, SubscribeError, Subscription, ViewerEvent};
pub use runtime::{Reload, Runtime, ShardJoinHandle};
pub use stats::ShardStats;
pub use task::Task;
