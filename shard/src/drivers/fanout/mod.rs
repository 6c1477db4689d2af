//! The shard's fan-out: one task per stream copy writes each frame to
//! every caught-up viewer's socket.
//!
//! A viewer's task used to wake for every frame, pull it, encode it and
//! write it: at 25 video frames a second and thousands of viewers, the
//! wake-ups and future polls cost as much as the writes. Now, after every
//! change of a copy (frames pushed, the stream ended or rebuilt), the
//! copy's fan-out task walks its viewers. A steady viewer (past its join)
//! at the same place as others takes the tail of a [`run`]: the frames
//! since that place, encoded once per walk into one buffer, written to each
//! of them in one part; the engine moves the viewer past them at once. A
//! viewer that is joining, lagging or elsewhere pulls what is ready into
//! its own [`Batch`](super::batch::Batch). Either way the batch's policy
//! decides when a write is due (audio waiting for its video frame, merge
//! windows), and a due write goes out with one non-blocking `sendmsg`.
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
