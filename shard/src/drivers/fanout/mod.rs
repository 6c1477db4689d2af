//! The shard's fan-out: one task per stream copy writes each frame to
//! every caught-up viewer's socket.
//!
//! A viewer's task used to wake for every frame, pull it, encode it and
//! write it: at 25 video frames a second and thousands of viewers, the
//! wake-ups and future polls cost as much as the writes. Now, after every
//! change of a copy (frames pushed, the stream ended or rebuilt), the
//! copy's fan-out task walks its viewers: each pulls what is ready into its
//! [`Batch`](super::batch::Batch) (shared encodings, audio waiting for its
//! video frame, merge windows) and, when a write is due, sends it with one
//! non-blocking `sendmsg` over the shared parts.
//!
//! The viewer's own task only reads its connection and waits for a
//! [`Handover`]: when the socket does not take a whole write (the viewer
//! reads slowly), the rest goes to the task, which waits for the socket
//! (within its write timeout) and then hands the viewer back; when the
//! stream stops for the viewer (ended, evicted, a failed write), the task
//! ends the session. Lag is judged as before: the engine sees the bytes
//! waiting in the batch and the handover.

mod framing;
mod group;
mod outlet;
mod run;

pub(crate) use framing::Framing;
pub(crate) use outlet::{Handover, Outlet};
