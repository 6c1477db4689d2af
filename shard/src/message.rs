//! What shards say to each other through the mailbox.

use std::any::Any;

use arcly_engine::{PublishInfo, StreamKey};

use crate::ShardCtx;
use crate::net::handoff::Handoff;
use crate::pubsub::{IngestItem, PublishRefusal, RelayItem};
use crate::stats::ShardStats;

/// One message between shards, by class.
pub(crate) enum Message {
    /// Coordination: run a closure, subscribe, hand off, shut down.
    Control(Control),
    /// Frames and stream changes, batched per stream.
    Media(Media),
    /// Counters and mailbox probes.
    Stats(Stats),
}

/// Control messages.
pub(crate) enum Control {
    /// Run a closure on the receiving shard.
    Run(Box<dyn RunOnShard>),
    /// Stop: stop accepting, end streams, let the executor return.
    Shutdown,
    /// A connection moving to the receiver.
    Handoff(Box<Handoff>),
    /// The sender wants to mirror `key` (answered by a relay starting with
    /// a snapshot, or by `SubscribeRefused`).
    Subscribe {
        /// The stream.
        key: StreamKey,
    },
    /// The owner has no such stream.
    SubscribeRefused {
        /// The stream.
        key: StreamKey,
    },
    /// The sender no longer mirrors instance `instance` of `key`.
    Unsubscribe {
        /// The stream.
        key: StreamKey,
        /// The owner-side instance it mirrored.
        instance: u64,
    },
    /// A publisher on the sender asks to publish `key`.
    Publish {
        /// The stream.
        key: StreamKey,
        /// The publisher.
        info: Box<PublishInfo>,
        /// The publisher's token on the sender.
        token: u64,
        /// The request's token, for the reply.
        request: u64,
    },
    /// The owner's answer to `Publish`.
    PublishReply {
        /// The stream.
        key: StreamKey,
        /// The publisher's token on the receiver.
        token: u64,
        /// The request's token.
        request: u64,
        /// Accepted, or why not.
        result: Result<(), PublishRefusal>,
    },
    /// The owner ended the stream of the sender's remote publisher.
    PublisherEnded {
        /// The publisher's token.
        token: u64,
    },
}

/// Media between shards, one message per stream per turn.
pub(crate) enum Media {
    /// Owner to mirror: what changed in the stream, in order.
    Relay {
        /// The stream.
        key: StreamKey,
        /// The owner-side instance.
        instance: u64,
        /// The changes.
        items: Vec<RelayItem>,
    },
    /// Remote publisher to owner: frames and commands, in order.
    Ingest {
        /// The stream.
        key: StreamKey,
        /// The publisher's token on the sender.
        token: u64,
        /// The frames and commands.
        items: Vec<IngestItem>,
    },
}

/// Counter gathering (map-reduce over shards) and mailbox probes.
pub(crate) enum Stats {
    /// Send your counters back under this token.
    Gather {
        /// The requester's token.
        token: u64,
    },
    /// A shard's counters, answering `Gather`.
    Report {
        /// The requester's token.
        token: u64,
        /// The counters.
        stats: Box<ShardStats>,
    },
    /// A probe of the mailbox itself (benchmarks): the receiver answers the
    /// `last` one with a `ProbeAck`.
    Probe {
        /// The requester's token.
        token: u64,
        /// Whether this is the last probe of the run.
        last: bool,
    },
    /// The receiver has seen the last probe.
    ProbeAck {
        /// The requester's token.
        token: u64,
    },
}

/// A closure sent to run on another shard.
///
/// Boxed as a trait object so it can travel, and still convertible back into
/// its concrete type so that a refused send hands the caller's own closure
/// back.
pub(crate) trait RunOnShard: Send {
    /// Runs it.
    fn run(self: Box<Self>, ctx: ShardCtx);
    /// Turns it back into the caller's value.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<F: FnOnce(ShardCtx) + Send + 'static> RunOnShard for F {
    fn run(self: Box<Self>, ctx: ShardCtx) {
        (*self)(ctx)
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}
