//! The stream model of arcly.
//!
//! This crate knows what a live stream *is*: [`MediaFrame`]s with `Bytes`
//! payloads, validated [`StreamKey`]s, and the [`Stream`] on one shard with
//! its codec configs ([`ConfigSet`]), [`GopCache`], [`Ring`], viewer cursors
//! and lag policy, [`Qos`] meters, and the [`Authenticator`] and
//! [`Observer`] traits the server plugs in.
//!
//! It never does I/O, never reads the clock (time is passed in by the caller
//! as `now`) and never touches an async runtime, so everything here is
//! tested by feeding values in and looking at what comes out.
#![forbid(unsafe_code)]

mod app_limits;
mod auth;
mod bounded;
mod configs;
mod frame;
mod gop;
mod info;
mod key;
mod limits;
mod observer;
mod qos;
mod ring;
mod snapshot;
mod stream;
mod viewer;
mod viewers;

pub use app_limits::AppLimits;
pub use auth::{
    AllowAll, AuthError, AuthRequest, Authenticator, SigningSecret, TokenAuthenticator, query_param,
};
pub use configs::ConfigSet;
pub use frame::{Codec, FrameFlags, MediaFrame, Timestamp, TrackKind};
pub use gop::GopCache;
pub use info::{MediaInfo, PublishInfo};
pub use key::{KeyError, MAX_KEY_LEN, StreamKey};
pub use limits::StreamLimits;
pub use observer::{NoopObserver, Observer};
pub use qos::{Qos, QosReport, TrackQos};
pub use ring::{Ring, Seq};
pub use snapshot::Snapshot;
pub use stream::{Pull, Stream, StreamState};
pub use viewer::{EvictReason, ViewerCursor, ViewerId};
