//! The thread-per-core runtime of arcly (being built; see issue 2).
#![deny(unsafe_op_in_unsafe_fn)]

pub mod owner;
pub mod placement;
pub mod preflight;
