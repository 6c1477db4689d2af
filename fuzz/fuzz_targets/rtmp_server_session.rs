//! A `ServerSession` driven by a script of operations on a virtual clock.
//!
//! Input: `[config] [script length n] [n script bytes] [stream]`. The
//! stream is what the client sends (C0 C1 C2, then chunks: a capture is a
//! valid stream). Each script byte is one [`Op`]: feed the next bytes of
//! the stream, move the clock, answer a pending `connect`, `publish` or
//! `play` (rightly or wrongly), or end a played stream. After the script,
//! the rest of the stream is fed in one read, every request is accepted,
//! and the clock runs from deadline to deadline with no input.
//!
//! The driver follows the contract on `ServerSession`'s doc: it drains
//! `poll_output` after every call, and after `Closed` it only feeds input
//! and time (a real driver drops the session). Checked on top of "never
//! panics":
//!
//! - `Timeout` comes last, and polling again returns the same `Timeout`;
//!   after `handle_timeout` the next deadline of an open session is later
//!   than now;
//! - `Closed` is the last event and no bytes follow it; every `Err` but
//!   `InvalidCall` has closed the session; input after `Closed` is refused
//!   with `SessionError::Closed`;
//! - at most one request waits for an answer, and `is_awaiting_decision`
//!   says whether one does; answering the wrong request (or none) is
//!   `InvalidCall` and changes nothing;
//! - every published frame encodes for players (`egress::encode_media`);
//! - a silent peer is cut off within three deadlines.
#![no_main]

use std::time::{Duration, Instant};

use arcly_protocols::rtmp::egress::encode_media;
use arcly_protocols::rtmp::{
    Output, PlayRejection, PublishRejection, RtmpLimits, ServerConfig, ServerSession, SessionError,
    SessionEvent,
};
use libfuzzer_sys::fuzz_target;

/// Read sizes for [`Op::Feed`]: small ones to split every header, the
/// handshake's own sizes, and 0 for all that is left.
const FEED_SIZES: [usize; 32] = [
    1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 16, 17, 31, 32, 64, 127, 128, 129, 255, 256, 1000, 1536,
    1537, 3072, 3073, 4096, 4097, 8192, 16384, 65536, 0,
];

/// Clock steps in milliseconds for [`Op::Advance`] and [`Op::Stall`],
/// around the default handshake (10 s), ping (15 s) and idle (30 s)
/// deadlines. The 32nd step goes to the session's own deadline.
const CLOCK_STEPS_MS: [u64; 31] = [
    0,
    1,
    2,
    10,
    100,
    500,
    999,
    1_000,
    2_000,
    4_999,
    5_000,
    7_500,
    9_999,
    10_000,
    10_001,
    12_000,
    14_999,
    15_000,
    15_001,
    20_000,
    25_000,
    29_999,
    30_000,
    30_001,
    45_000,
    60_000,
    120_000,
    600_000,
    3_600_000,
    86_400_000,
    31_536_000_000,
];

/// Deadlines a silent peer may pass before the session closes: the
/// handshake timeout, or a ping and then the idle timeout.
const SILENT_DEADLINES: usize = 3;

/// A request the session waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Request {
    Connect,
    Publish,
    Play,
}

/// Which request an answer is for: the pending one, or a given one.
#[derive(Clone, Copy, Debug)]
enum Target {
    Pending,
    Given(Request),
}

/// One script byte: the top three bits pick the operation, the low five
/// its argument.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// One read of `FEED_SIZES[arg]` bytes of the stream.
    Feed(usize),
    /// Reads of `FEED_SIZES[arg]` bytes until a request is pending, the
    /// session is closed or the stream is used up.
    FeedUntilRequest(usize),
    /// The clock moves on by a step (`None`: to the deadline) and the
    /// driver calls `handle_timeout`.
    Advance(Option<Duration>),
    /// The clock moves on by a step without `handle_timeout`: a late driver.
    Stall(Option<Duration>),
    /// `accept_*` for the target.
    Accept(Target),
    /// `reject_*` for the target, with reason `arg >> 2`.
    Reject(Target, u8),
    /// `end_of_stream`.
    EndOfStream,
    /// `handle_input` with no bytes.
    EmptyRead,
}

impl Op {
    fn parse(byte: u8) -> Op {
        let arg = usize::from(byte & 0x1f);
        let step = || CLOCK_STEPS_MS.get(arg).map(|&ms| Duration::from_millis(ms));
        let target = match arg % 4 {
            0 => Target::Pending,
            1 => Target::Given(Request::Connect),
            2 => Target::Given(Request::Publish),
            _ => Target::Given(Request::Play),
        };
        match byte >> 5 {
            0 => Op::Feed(FEED_SIZES[arg]),
            1 => Op::FeedUntilRequest(FEED_SIZES[arg]),
            2 => Op::Advance(step()),
            3 => Op::Stall(step()),
            4 => Op::Accept(target),
            5 => Op::Reject(target, (byte & 0x1f) >> 2),
            6 => Op::EndOfStream,
            _ => Op::EmptyRead,
        }
    }
}

/// The session's configuration from the config byte: bit 0 small limits,
/// bits 1-2 the outgoing chunk size (with the out-of-range values the
/// session clamps), bit 3 short timers.
fn config(byte: u8) -> ServerConfig {
    let defaults = ServerConfig::default();
    let mut limits = RtmpLimits::default();
    if byte & 0x01 != 0 {
        limits.max_message_len = 4096;
        limits.max_chunk_streams = 4;
        limits.max_streams = 1;
        limits.max_reassembly_bytes = 8192;
        limits.amf0.max_depth = 3;
        limits.amf0.max_values = 32;
    }
    if byte & 0x08 != 0 {
        limits.handshake_timeout = Duration::from_secs(1);
        limits.idle_timeout = Duration::from_secs(2);
    }
    ServerConfig {
        limits,
        chunk_size: [defaults.chunk_size, 0, 128, u32::MAX][usize::from((byte >> 1) & 0x03)],
        ..defaults
    }
}

/// A driver that checks the session's side of the contract.
struct Driver<'a> {
    session: ServerSession,
    now: Instant,
    /// The stream not yet fed.
    stream: &'a [u8],
    /// The request the session told about and nobody answered yet.
    pending: Option<Request>,
    /// Whether `Closed` came.
    closed: bool,
    /// The last `Timeout`.
    deadline: Instant,
}

impl<'a> Driver<'a> {
    fn new(config: ServerConfig, stream: &'a [u8]) -> Self {
        let now = Instant::now();
        let mut driver = Driver {
            session: ServerSession::new(config, now),
            now,
            stream,
            pending: None,
            closed: false,
            deadline: now,
        };
        driver.drain();
        driver
    }

    fn run(&mut self, op: Op) {
        match op {
            Op::Feed(size) => self.feed(size),
            Op::FeedUntilRequest(size) => {
                while !self.stream.is_empty() && self.pending.is_none() && !self.closed {
                    self.feed(size);
                }
            }
            Op::Advance(step) => self.advance(step),
            Op::Stall(step) => self.now = self.later(step),
            Op::Accept(target) => self.answer(target, true, 0),
            Op::Reject(target, reason) => self.answer(target, false, reason),
            Op::EndOfStream => self.end_of_stream(),
            Op::EmptyRead => self.input(&[]),
        }
    }

    /// What is left after the script: the rest of the stream, yes to every
    /// request, then silence.
    fn finish(&mut self) {
        self.feed(0);
        while self.pending.is_some() {
            self.answer(Target::Pending, true, 0);
        }
        for _ in 0..SILENT_DEADLINES {
            if self.closed {
                break;
            }
            self.advance(None);
        }
        assert!(
            self.closed,
            "a silent peer outlived {SILENT_DEADLINES} deadlines"
        );
    }

    /// Feeds the next `size` bytes of the stream (0: all of it).
    fn feed(&mut self, size: usize) {
        let size = if size == 0 { self.stream.len() } else { size };
        let (read, rest) = self.stream.split_at(size.min(self.stream.len()));
        self.stream = rest;
        if !read.is_empty() {
            self.input(read);
        }
    }

    fn input(&mut self, read: &[u8]) {
        let result = self.session.handle_input(read, self.now);
        if self.closed {
            assert_eq!(result, Err(SessionError::Closed), "input after Closed");
        }
        self.settle(result, "handle_input");
    }

    /// Moves the clock by `step` (to the deadline if `None`) and lets the
    /// session act on it.
    fn advance(&mut self, step: Option<Duration>) {
        self.now = self.later(step);
        let result = self.session.handle_timeout(self.now);
        if self.closed {
            assert_eq!(result, Ok(()), "handle_timeout after Closed");
        }
        self.settle(result, "handle_timeout");
        if !self.closed {
            assert!(self.deadline > self.now, "a deadline that has passed");
        }
    }

    /// Now plus `step`, or the deadline if `None` (now, if that passed).
    fn later(&self, step: Option<Duration>) -> Instant {
        match step {
            Some(step) => self.now + step,
            None => self.deadline.max(self.now),
        }
    }

    fn answer(&mut self, target: Target, accept: bool, reason: u8) {
        if self.closed {
            return;
        }
        let request = match target {
            Target::Pending => self.pending.unwrap_or(Request::Connect),
            Target::Given(request) => request,
        };
        let session = &mut self.session;
        let result = match (request, accept) {
            (Request::Connect, true) => session.accept_connect(),
            (Request::Connect, false) => session.reject_connect("fuzz says no"),
            (Request::Publish, true) => session.accept_publish(),
            (Request::Publish, false) => session.reject_publish(match reason % 3 {
                0 => PublishRejection::BadName,
                1 => PublishRejection::Unauthorized,
                _ => PublishRejection::Rejected("fuzz says no".to_owned()),
            }),
            (Request::Play, true) => session.accept_play(),
            (Request::Play, false) => session.reject_play(match reason % 3 {
                0 => PlayRejection::NotFound,
                1 => PlayRejection::Unauthorized,
                _ => PlayRejection::Failed("fuzz says no".to_owned()),
            }),
        };
        if self.pending == Some(request) {
            self.pending = None;
            self.settle(result, "answer");
            if !accept {
                assert!(self.closed, "a rejection closes");
            }
        } else {
            self.refused(result);
        }
    }

    fn end_of_stream(&mut self) {
        if self.closed {
            return;
        }
        let playing = self.session.playing_stream_id().is_some();
        let result = self.session.end_of_stream();
        if playing {
            self.settle(result, "end_of_stream");
        } else {
            self.refused(result);
        }
    }

    /// A command the session must refuse with `InvalidCall`, changing
    /// nothing.
    fn refused(&mut self, result: Result<(), SessionError>) {
        assert!(
            matches!(result, Err(SessionError::InvalidCall { .. })),
            "a call out of turn gave {result:?}"
        );
        assert_eq!(self.session.poll_output(), Output::Timeout(self.deadline));
        self.check_state();
    }

    /// After a call: an error other than `InvalidCall` has closed the
    /// session; then drains the output.
    fn settle(&mut self, result: Result<(), SessionError>, call: &str) {
        match result {
            Ok(()) => {}
            Err(SessionError::InvalidCall { .. }) => panic!("{call}: InvalidCall in turn"),
            Err(error) => assert!(self.session.is_closed(), "{call}: {error} did not close"),
        }
        self.drain();
    }

    fn drain(&mut self) {
        loop {
            match self.session.poll_output() {
                Output::Transmit(bytes) => {
                    assert!(!self.closed, "bytes to send after Closed");
                    assert!(!bytes.is_empty(), "an empty transmit");
                }
                Output::Event(event) => self.event(event),
                Output::Timeout(at) => {
                    self.deadline = at;
                    break;
                }
            }
        }
        assert_eq!(
            self.session.poll_output(),
            Output::Timeout(self.deadline),
            "Timeout is not last"
        );
        self.check_state();
    }

    fn event(&mut self, event: SessionEvent) {
        assert!(!self.closed, "{event:?} after Closed");
        let request = match event {
            SessionEvent::Connected { .. } => Request::Connect,
            SessionEvent::PublishRequested { .. } => Request::Publish,
            SessionEvent::PlayRequested { .. } => Request::Play,
            SessionEvent::Frame(frame) => {
                let chunk_size = self.session.out_chunk_size();
                if let Err(error) = encode_media(&frame, chunk_size, 1) {
                    panic!("published frame does not encode for players: {error}: {frame:?}");
                }
                return;
            }
            SessionEvent::Closed { .. } => {
                self.closed = true;
                self.pending = None;
                return;
            }
            SessionEvent::Unpublished { .. }
            | SessionEvent::PauseChanged { .. }
            | SessionEvent::PlayStopped { .. } => return,
        };
        assert_eq!(self.pending, None, "{request:?} while one is pending");
        self.pending = Some(request);
    }

    fn check_state(&self) {
        assert_eq!(self.session.is_closed(), self.closed, "is_closed");
        assert_eq!(
            self.session.is_awaiting_decision(),
            self.pending.is_some(),
            "is_awaiting_decision"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let [config_byte, script_len, rest @ ..] = data else {
        return;
    };
    let (script, stream) = rest.split_at(usize::from(*script_len).min(rest.len()));
    let mut driver = Driver::new(config(*config_byte), stream);
    for &byte in script {
        driver.run(Op::parse(byte));
    }
    driver.finish();
});
