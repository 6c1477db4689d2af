//! HTTP callback hooks against a real `arcly`: a small HTTP server in the
//! test answers `on_publish` / `on_play` (a refusal refuses, a 2xx allows),
//! is told `on_publish_done` / `on_play_done` when sessions end, and when
//! it is down or slow the publish is refused with the reason in the log
//! (fail closed) — or allowed with `fail_open`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{Arcly, Clip, Player, RawRtmp, ffmpeg_publish, http_get, run};
use serde_json::Value;
use socket2::{Domain, Socket, Type};

/// What the hook server answers an event with: a status, after a delay.
type Decide = dyn Fn(&Value) -> (u16, Duration) + Send + Sync;

/// An operator's hook endpoint: records every JSON event posted to it and
/// answers with what `decide` says.
struct HookServer {
    addr: SocketAddr,
    events: Arc<Mutex<Vec<Value>>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl HookServer {
    fn start(decide: impl Fn(&Value) -> (u16, Duration) + Send + Sync + 'static) -> HookServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let decide: Arc<Decide> = Arc::new(decide);
        let (keep, stopped) = (events.clone(), stop.clone());
        let thread = thread::spawn(move || {
            for socket in listener.incoming() {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(socket) = socket else { continue };
                let (keep, decide) = (keep.clone(), decide.clone());
                thread::spawn(move || answer(socket, &keep, &*decide));
            }
        });
        HookServer {
            addr,
            events,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// Waits up to `timeout` for an event with `action` for `stream` over
    /// `protocol`.
    fn wait_event(
        &self,
        action: &str,
        stream: &str,
        protocol: &str,
        timeout: Duration,
        server: &Arcly,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(event) = self.events().into_iter().find(|e| {
                e["action"] == action && e["stream"] == stream && e["protocol"] == protocol
            }) {
                return event;
            }
            if Instant::now() >= deadline {
                panic!(
                    "no {action} event for {stream} over {protocol} within {timeout:?}; events: {:?}\nserver log:\n{}",
                    self.events(),
                    server.log_tail()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for HookServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one POST (head, then `Content-Length` bytes of JSON), records it,
/// and answers.
fn answer(socket: TcpStream, events: &Mutex<Vec<Value>>, decide: &Decide) {
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(socket);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return; // the shutdown poke
    }
    assert!(
        request_line.starts_with("POST /"),
        "hook request line: {request_line:?}"
    );
    let mut length = 0;
    let mut content_type = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap(),
            "content-type" => content_type = value.trim().to_owned(),
            _ => {}
        }
    }
    assert_eq!(content_type, "application/json");
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).unwrap();
    let event: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("hook body is not JSON ({e}): {body:?}"));
    let (status, delay) = decide(&event);
    events.lock().unwrap().push(event);
    thread::sleep(delay);
    let mut socket = reader.into_inner();
    let _ = write!(
        socket,
        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
}

/// Asserts a raw RTMP publish of `app/name` is refused, and returns the
/// server's log line saying why.
fn assert_publish_refused(server: &Arcly, app: &str, name: &str, why: &str) -> String {
    match RawRtmp::try_publish(server.rtmp, app, name) {
        Ok(a) => assert!(
            !a.accepted(),
            "publishing {app}/{name} was accepted: {}",
            a.describe()
        ),
        Err(e) => eprintln!("raw publish {app}/{name}: connection ended without a status: {e}"),
    }
    let stream = name.split('?').next().unwrap();
    let refused = format!("publish {app}/{stream} refused: ");
    server
        .wait_log_line(&[&refused, why], Duration::from_secs(5))
        .unwrap_or_else(|| {
            panic!(
                "no log line with `{refused}` and `{why}`\nserver log:\n{}",
                server.log_tail()
            )
        })
}

fn assert_publish_accepted(server: &Arcly, app: &str, name: &str) -> RawRtmp {
    let attempt = RawRtmp::try_publish(server.rtmp, app, name)
        .unwrap_or_else(|e| panic!("raw publish {app}/{name}: {e}\n{}", server.log_tail()));
    assert!(
        attempt.accepted(),
        "publishing {app}/{name} was refused: {}\nserver log:\n{}",
        attempt.describe(),
        server.log_tail()
    );
    attempt.client
}

/// A loopback port nothing listens on, kept so while the returned socket
/// lives: it is bound there without listening (and without
/// `SO_REUSEADDR`), so no other socket — say another test's hook server —
/// can take the port meanwhile.
fn closed_port() -> (SocketAddr, Socket) {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    (addr, socket)
}

#[test]
fn the_hook_decides_and_hears_when_sessions_end() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    // Refuse the stream key `banned`, and plays that ask with `deny=1`.
    let hooks = HookServer::start(|event| {
        let refused = event["stream"] == "banned"
            || event["query"]
                .as_str()
                .is_some_and(|q| q.contains("deny=1"));
        (if refused { 403 } else { 204 }, Duration::ZERO)
    });
    let server = Arcly::start_with_config(&format!(
        r#"
[hooks]
on_publish = "{}"
on_play = "{}"
on_publish_done = "{}"
on_play_done = "{}"
"#,
        hooks.url("/publish"),
        hooks.url("/play"),
        hooks.url("/publish_done"),
        hooks.url("/play_done"),
    ));

    // Refused: ffmpeg gives up at once, and the server says why.
    let banned = run(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-nostats", "-v", "error", "-re"])
            .arg("-i")
            .arg(&clip)
            .args(["-t", "5", "-c", "copy", "-f", "flv"])
            .arg(server.url("live/banned?key=k1")),
        Duration::from_secs(15),
    );
    assert!(
        !banned.timed_out() && !banned.success() && banned.elapsed < Duration::from_secs(4),
        "ffmpeg publishing a key the hook refuses was not refused quickly: {}\nserver log:\n{}",
        banned.describe(),
        server.log_tail()
    );
    let line = assert_publish_refused(
        &server,
        "live",
        "banned",
        "on_publish hook refused with status 403",
    );
    eprintln!("refusal: {line}");
    let asked = hooks.wait_event(
        "on_publish",
        "banned",
        "rtmp",
        Duration::from_secs(1),
        &server,
    );
    assert_eq!(asked["app"], "live");
    assert_eq!(asked["query"], "key=k1");
    assert_eq!(asked["protocol"], "rtmp");
    assert!(from_loopback(&asked), "{asked}");
    assert!(asked["shard"].as_u64().is_some_and(|s| s < 2), "{asked}");
    assert_eq!(
        server.total("streams_owned"),
        0,
        "a refused publisher left a stream behind"
    );

    // Allowed: the stream goes live and plays, over RTMP and HTTP-FLV.
    let mut publisher = ffmpeg_publish(&clip, &server.url("live/cam?key=k2"), true);
    server.wait_live(1, &mut publisher);
    let mut player = Player::copy(&server.url("live/cam?viewer=v1"));
    player.wait_video_frames(10, Duration::from_secs(10), &server);
    let play = hooks.wait_event("on_play", "cam", "rtmp", Duration::from_secs(1), &server);
    assert_eq!(
        (&play["query"], &play["protocol"]),
        (&"viewer=v1".into(), &"rtmp".into())
    );
    let (status, body) = http_get(server.http, "/live/cam.flv?deny=1").unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("on_play hook refused with status 403"),
        "{body}"
    );
    let flv_play = hooks.wait_event(
        "on_play",
        "cam",
        "http-flv",
        Duration::from_secs(1),
        &server,
    );
    assert!(
        from_loopback(&flv_play),
        "the hook is told who plays over HTTP too: {flv_play}"
    );
    let probe = run(
        Command::new("ffprobe").args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            &format!("http://{}/live/cam.flv?viewer=v2", server.http),
        ]),
        Duration::from_secs(20),
    );
    assert!(
        probe.success() && probe.stdout.contains("h264"),
        "ffprobe over HTTP-FLV: {}",
        probe.describe()
    );
    let flv_done = hooks.wait_event(
        "on_play_done",
        "cam",
        "http-flv",
        Duration::from_secs(5),
        &server,
    );
    assert_eq!(flv_done["query"], "viewer=v2");
    assert!(flv_done["peer"].as_str().is_some(), "{flv_done}");

    // The player leaves, then the publisher: each end is told.
    drop(player);
    let done = hooks.wait_event(
        "on_play_done",
        "cam",
        "rtmp",
        Duration::from_secs(5),
        &server,
    );
    assert_eq!(done["query"], "viewer=v1");
    drop(publisher);
    let done = hooks.wait_event(
        "on_publish_done",
        "cam",
        "rtmp",
        Duration::from_secs(5),
        &server,
    );
    assert_eq!(
        (&done["app"], &done["protocol"], &done["query"]),
        (&"live".into(), &"rtmp".into(), &"key=k2".into())
    );
    // A refused publish never started, so it never ends.
    assert!(
        !hooks
            .events()
            .iter()
            .any(|e| e["action"] == "on_publish_done" && e["stream"] == "banned"),
        "{:?}",
        hooks.events()
    );
    server.stop();
}

#[test]
fn a_hook_that_is_down_refuses_with_the_reason_in_the_log() {
    let (down, _held) = closed_port();
    let server = Arcly::start_with_config(&format!(
        "[hooks]\non_publish = \"http://{down}/publish\"\n"
    ));
    let line = assert_publish_refused(
        &server,
        "live",
        "cam",
        "on_publish hook failed, refusing (fail closed)",
    );
    assert!(line.contains("cannot connect"), "{line}");
    let detail = server
        .wait_log_line(
            &["hooks: on_publish live/cam", &down.to_string(), "refused"],
            Duration::from_secs(1),
        )
        .unwrap_or_else(|| panic!("no hook failure line\n{}", server.log_tail()));
    eprintln!("{detail}");
    assert!(detail.contains("fail_open = true would allow"), "{detail}");
    server.stop();
}

#[test]
fn fail_open_allows_when_the_hook_is_down_unless_the_app_says_otherwise() {
    let (down, _held) = closed_port();
    let server = Arcly::start_with_config(&format!(
        r#"
[hooks]
on_publish = "http://{down}/publish"
fail_open = true

[apps.strict.hooks]
fail_open = false
"#
    ));
    let publisher = assert_publish_accepted(&server, "live", "cam");
    server
        .wait_log_line(
            &["hooks: on_publish live/cam", "allowing (fail_open)"],
            Duration::from_secs(1),
        )
        .unwrap_or_else(|| panic!("no fail-open line\n{}", server.log_tail()));
    assert_publish_refused(&server, "strict", "cam", "fail closed");
    drop(publisher);
    server.stop();
}

#[test]
fn a_slow_hook_times_out_without_stalling_the_shards() {
    let hooks = HookServer::start(|_| (200, Duration::from_secs(3)));
    let server = Arcly::start_with_config(&format!(
        r#"
[apps.slow.hooks]
on_publish = "{}"
timeout_ms = 1500
"#,
        hooks.url("/publish")
    ));
    // Several publishers wait on the slow hook at once, on both shards.
    let started = Instant::now();
    let waiting: Vec<_> = (0..4)
        .map(|i| {
            let rtmp = server.rtmp;
            thread::spawn(move || RawRtmp::try_publish(rtmp, "slow", &format!("s{i}")))
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    // Meanwhile every shard keeps serving.
    for _ in 0..8 {
        let asked = Instant::now();
        let (status, _) = http_get(server.http, "/healthz").unwrap();
        assert_eq!(status, 200);
        assert!(
            asked.elapsed() < Duration::from_millis(500),
            "/healthz took {:?} while hooks were pending",
            asked.elapsed()
        );
    }
    let open = assert_publish_accepted(&server, "live", "open");
    assert!(started.elapsed() < Duration::from_millis(1400));
    for attempt in waiting {
        if let Ok(a) = attempt.join().unwrap() {
            assert!(!a.accepted(), "{}", a.describe());
        }
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1400) && waited < Duration::from_millis(2900),
        "the refusals came after {waited:?}, the timeout is 1.5 s"
    );
    server
        .wait_log_line(
            &["publish slow/s0 refused", "no answer within 1.5s"],
            Duration::from_secs(1),
        )
        .unwrap_or_else(|| panic!("no timeout line\n{}", server.log_tail()));
    drop(open);
    server.stop();
}

/// Whether a hook event names a client on 127.0.0.1 as its peer.
fn from_loopback(event: &Value) -> bool {
    event["peer"]
        .as_str()
        .is_some_and(|p| p.starts_with("127.0.0.1:"))
}
