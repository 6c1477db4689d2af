//! Helpers shared by the RTMP interop tests: start a real `arcly` with two
//! shards, drive ffmpeg, ffprobe and PyAV against it, read its per-shard
//! counters over HTTP, and speak just enough RTMP by hand (plain handshake,
//! chunks, AMF0) to send hostile input and to read exact status codes.
//!
//! Nothing here uses the workspace crates: the client side is written from
//! the RTMP and AMF0 specifications so the server is not checked against
//! its own code.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How to install ffmpeg and ffprobe when a test cannot find them.
pub(crate) const INSTALL_FFMPEG: &str = "apt-get update && apt-get install -y ffmpeg";
/// How to install PyAV (it bundles FFmpeg 8 with libx265, libsvtav1, libdav1d).
pub(crate) const INSTALL_PYAV: &str = "pip install av";

// ---------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------

/// Fails the test, with the install command, unless ffmpeg and ffprobe run.
pub(crate) fn require_ffmpeg() {
    for tool in ["ffmpeg", "ffprobe"] {
        let runs = Command::new(tool)
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            runs,
            "{tool} is needed by this test and was not found: install it with `{INSTALL_FFMPEG}`"
        );
    }
}

/// The Python that runs the PyAV scripts: `$PYTHON`, or `python3`.
pub(crate) fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Fails the test, with the install command, unless PyAV imports and bundles
/// an FFmpeg whose flv muxer writes enhanced RTMP (libavformat 60.16+, i.e.
/// FFmpeg 6.1+) and has the encoders and decoders named.
pub(crate) fn require_pyav(codecs: &[&str]) {
    let py = python();
    let script = format!(
        "import av, sys\n\
         v = av.library_versions['libavformat']\n\
         missing = [c for c in {codecs:?} if c not in av.codecs_available]\n\
         print(av.__version__, v, missing)\n\
         sys.exit(0 if v >= (60, 16, 0) and not missing else 3)\n"
    );
    let out = Command::new(&py).args(["-c", &script]).output();
    match out {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "PyAV under `{py}` is too old or lacks codecs {codecs:?} ({} {}): install it with `{INSTALL_PYAV}`",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => panic!("`{py}` did not run ({e}): install Python 3 and then `{INSTALL_PYAV}`"),
    }
}

/// `tests/interop/NAME` in the workspace.
pub(crate) fn interop_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/interop")
        .join(name)
}

// ---------------------------------------------------------------------------
// Temporary directories
// ---------------------------------------------------------------------------

/// A directory under the target's test scratch space, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{label}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

/// A command that ran to its end or was killed at its time limit.
#[derive(Debug)]
pub(crate) struct Finished {
    /// The command line, for messages.
    pub(crate) command: String,
    /// `None` when it was killed at the time limit.
    pub(crate) status: Option<ExitStatus>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// From spawn to exit (or to the kill).
    pub(crate) elapsed: Duration,
}

impl Finished {
    pub(crate) fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub(crate) fn timed_out(&self) -> bool {
        self.status.is_none()
    }

    /// Everything about the run, for an assertion message.
    pub(crate) fn describe(&self) -> String {
        let status = match self.status {
            Some(s) => format!("{s}"),
            None => "killed at its time limit".to_owned(),
        };
        format!(
            "`{}` -> {status} after {:.2?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.elapsed,
            tail(&self.stdout, 40),
            tail(&self.stderr, 40)
        )
    }
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn command_line(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

fn collect(mut from: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs `cmd` to its end, killing it after `timeout`.
pub(crate) fn run(cmd: &mut Command, timeout: Duration) -> Finished {
    let command = command_line(cmd);
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{command}`: {e}"));
    let stdout = collect(child.stdout.take().unwrap());
    let stderr = collect(child.stderr.take().unwrap());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    Finished {
        command,
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        elapsed,
    }
}

/// A process that runs beside the test (a publisher, a player) and is
/// killed when dropped. Its stdout lines go to an optional callback; its
/// stderr is kept.
pub(crate) struct Background {
    pub(crate) command: String,
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Background {
    pub(crate) fn spawn(cmd: &mut Command) -> Background {
        Self::spawn_with(cmd, |_| {})
    }

    /// Spawns `cmd`, calling `on_line` for each stdout line as it arrives.
    pub(crate) fn spawn_with(
        cmd: &mut Command,
        mut on_line: impl FnMut(&str) + Send + 'static,
    ) -> Background {
        let command = command_line(cmd);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{command}`: {e}"));
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let keep_out = stdout.clone();
        let keep_err = stderr.clone();
        let readers = vec![
            thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    on_line(&line);
                    let mut kept = keep_out.lock().unwrap();
                    kept.push_str(&line);
                    kept.push('\n');
                }
            }),
            thread::spawn(move || {
                for line in BufReader::new(err).lines() {
                    let Ok(line) = line else { break };
                    let mut kept = keep_err.lock().unwrap();
                    kept.push_str(&line);
                    kept.push('\n');
                }
            }),
        ];
        Background {
            command,
            child,
            stdout,
            stderr,
            readers,
            status: None,
        }
    }

    /// The exit status if it has exited.
    pub(crate) fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().unwrap();
        }
        self.status
    }

    /// Waits up to `timeout` for it to exit on its own.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.try_status() {
                // Let the readers take the last lines.
                for reader in self.readers.drain(..) {
                    let _ = reader.join();
                }
                return Some(status);
            }
            thread::sleep(Duration::from_millis(10));
        }
        None
    }

    pub(crate) fn kill(&mut self) {
        if self.try_status().is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }

    pub(crate) fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The command, its status and its output, for an assertion message.
    pub(crate) fn describe(&mut self) -> String {
        let status = match self.try_status() {
            Some(s) => format!("exited: {s}"),
            None => "still running".to_owned(),
        };
        format!(
            "`{}` ({status})\n--- stderr ---\n{}",
            self.command,
            tail(&self.stderr(), 30)
        )
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/// A running `arcly serve --shards 2` on free loopback ports. Dropping it
/// sends SIGTERM and (unless the test is already failing) asserts exit 0.
pub(crate) struct Arcly {
    child: Child,
    pub(crate) rtmp: SocketAddr,
    pub(crate) http: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    stdout: Arc<Mutex<Vec<String>>>,
    _config: Option<TempDir>,
    stopped: bool,
}

impl Arcly {
    /// With no config file and no extra flags.
    pub(crate) fn start() -> Arcly {
        Self::start_with(&[], None)
    }

    /// With `toml` as its config file.
    pub(crate) fn start_with_config(toml: &str) -> Arcly {
        Self::start_with(&[], Some(toml))
    }

    /// With extra flags and an optional config file.
    pub(crate) fn start_with(flags: &[&str], config: Option<&str>) -> Arcly {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_arcly"));
        cmd.args([
            "serve",
            "--shards",
            "2",
            "--rtmp-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ]);
        let config_dir = config.map(|toml| {
            let dir = TempDir::new("arcly-config");
            let file = dir.path().join("arcly.toml");
            fs::write(&file, toml).expect("write config");
            cmd.arg("--config").arg(&file);
            dir
        });
        cmd.args(flags);
        let command = command_line(&cmd);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{command}`: {e}"));

        let log = Arc::new(Mutex::new(Vec::new()));
        let keep = log.clone();
        let err = child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                keep.lock().unwrap().push(line);
            }
        });
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let keep = stdout.clone();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                keep.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });

        let deadline = Instant::now() + Duration::from_secs(20);
        let (mut rtmp, mut http) = (None, None);
        while rtmp.is_none() || http.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("rtmp: listening on ") {
                        rtmp = rest.split_whitespace().next().and_then(|a| a.parse().ok());
                    } else if let Some(rest) = line.strip_prefix("http: listening on ") {
                        http = rest.split_whitespace().next().and_then(|a| a.parse().ok());
                    }
                }
                Err(why) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    thread::sleep(Duration::from_millis(100));
                    panic!(
                        "`{command}` did not print both `rtmp: listening on` and `http: listening on` \
                         ({why:?}; exit {status:?}); stdout:\n{}\nstderr:\n{}",
                        stdout.lock().unwrap().join("\n"),
                        tail(&log.lock().unwrap().join("\n"), 30)
                    );
                }
            }
        }
        Arcly {
            child,
            rtmp: rtmp.unwrap(),
            http: http.unwrap(),
            log,
            stdout,
            _config: config_dir,
            stopped: false,
        }
    }

    /// `rtmp://127.0.0.1:PORT/{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("rtmp://{}/{path}", self.rtmp)
    }

    /// Every stderr line so far.
    pub(crate) fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The last lines of stderr, for assertion messages.
    pub(crate) fn log_tail(&self) -> String {
        tail(&self.log().join("\n"), 25)
    }

    /// Waits up to `timeout` for a stderr line containing all of `needles`.
    pub(crate) fn wait_log_line(&self, needles: &[&str], timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self
                .log()
                .into_iter()
                .find(|l| needles.iter().all(|n| l.contains(n)))
            {
                return Some(line);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET /api/v1/shards`: one JSON object per shard.
    pub(crate) fn shards(&self) -> Vec<Value> {
        let (status, body) = http_get(self.http, "/api/v1/shards")
            .unwrap_or_else(|e| panic!("GET /api/v1/shards: {e}\n{}", self.log_tail()));
        assert_eq!(status, 200, "GET /api/v1/shards: {body}");
        let doc: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET /api/v1/shards is not JSON ({e}): {body}"));
        let shards = doc["shards"]
            .as_array()
            .unwrap_or_else(|| panic!("GET /api/v1/shards has no `shards` array: {body}"))
            .clone();
        assert_eq!(shards.len(), 2, "expected 2 shards: {body}");
        shards
    }

    /// Counter `name` of each shard, in shard order. Fails if a shard does
    /// not report it.
    pub(crate) fn counter(&self, name: &str) -> Vec<u64> {
        self.shards()
            .iter()
            .map(|s| {
                s.get(name).and_then(Value::as_u64).unwrap_or_else(|| {
                    panic!(
                        "/api/v1/shards reports no counter `{name}` (the contract lists it): {s}"
                    )
                })
            })
            .collect()
    }

    /// Counter `name` summed over the shards.
    pub(crate) fn total(&self, name: &str) -> u64 {
        self.counter(name).iter().sum()
    }

    /// Polls until `done` holds, failing after `timeout` with `what`.
    pub(crate) fn wait_until(&self, what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while !done() {
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}\nshards: {}\nserver log:\n{}",
                    Value::Array(self.shards()),
                    self.log_tail()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until counter `name` (summed) is at least `value`.
    pub(crate) fn wait_total_at_least(&self, name: &str, value: u64, timeout: Duration) -> u64 {
        let mut now = 0;
        self.wait_until(&format!("{name} >= {value}"), timeout, || {
            now = self.total(name);
            now >= value
        });
        now
    }

    /// Waits until `streams` streams are owned and frames come in past
    /// `frames_before`, failing early with the publisher's output if it
    /// exits. Returns when the first new frame was seen.
    pub(crate) fn wait_live(&self, streams: u64, publisher: &mut Background) -> Instant {
        let frames_before = self.total("frames_in");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if self.total("streams_owned") >= streams && self.total("frames_in") > frames_before {
                return Instant::now();
            }
            if publisher.try_status().is_some() {
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "the publisher exited before its stream went live: {}\nserver log:\n{}",
                    publisher.describe(),
                    self.log_tail()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "no live stream 15 s after the publisher started (want streams_owned >= {streams} \
                     and frames_in > {frames_before}): {}\nshards: {}\nserver log:\n{}",
                    publisher.describe(),
                    Value::Array(self.shards()),
                    self.log_tail()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM and asserts a clean exit 0 within 10 s.
    pub(crate) fn stop(mut self) {
        self.stopped = true;
        let status = self.terminate();
        assert!(
            status.is_some_and(|s| s.code() == Some(0)),
            "arcly did not exit 0 within 10 s of SIGTERM: {status:?}\nserver log:\n{}",
            self.log_tail()
        );
    }

    fn terminate(&mut self) -> Option<ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Arcly {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        let status = self.terminate();
        if !thread::panicking() {
            assert!(
                status.is_some_and(|s| s.code() == Some(0)),
                "arcly did not exit 0 within 10 s of SIGTERM: {status:?}\nserver log:\n{}",
                self.log_tail()
            );
        }
    }
}

/// A minimal HTTP/1.1 GET over std's `TcpStream`: status and body.
pub(crate) fn http_get(addr: SocketAddr, path: &str) -> io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed inside the response head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, head.clone()))?;
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let mut body = buf[head_end..].to_vec();
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while body.len() < len {
            let n = s.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
    } else {
        s.read_to_end(&mut body)?;
        if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            body = dechunk(&body);
        }
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = find(data, b"\r\n") {
        let size = std::str::from_utf8(&data[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 || data.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[(eol + 4 + size).min(data.len())..];
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------
// Media
// ---------------------------------------------------------------------------

/// An H.264 + AAC FLV made by ffmpeg from lavfi sources.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clip {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) fps: u32,
    /// Keyframe interval in frames (closed GOPs, no scene cuts).
    pub(crate) gop: u32,
    pub(crate) seconds: u32,
}

impl Clip {
    /// The small clip the healthy publishers loop: 320x240, 30 fps, 2 s GOP.
    pub(crate) const SMALL: Clip = Clip {
        width: 320,
        height: 240,
        fps: 30,
        gop: 60,
        seconds: 10,
    };

    /// The FLV file, made once per target dir and reused by every test.
    pub(crate) fn file(&self) -> PathBuf {
        require_ffmpeg();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rtmp-media");
        fs::create_dir_all(&dir).expect("create media dir");
        let name = format!(
            "h264-aac-{}x{}-{}fps-g{}-{}s.flv",
            self.width, self.height, self.fps, self.gop, self.seconds
        );
        let path = dir.join(&name);
        if path.exists() {
            return path;
        }
        // Tests of one binary run on threads of one process: the part file
        // is unique per call, the rename makes the finished file appear whole.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let partial = dir.join(format!(
            "{name}.{}-{}.part",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let done = run(
            Command::new("ffmpeg")
                .args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
                .args(["-f", "lavfi", "-i"])
                .arg(format!(
                    "testsrc2=size={}x{}:rate={}",
                    self.width, self.height, self.fps
                ))
                .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
                .args([
                    "-t",
                    &self.seconds.to_string(),
                    "-map",
                    "0:v",
                    "-map",
                    "1:a",
                ])
                .args([
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-pix_fmt",
                    "yuv420p",
                ])
                .args([
                    "-g",
                    &self.gop.to_string(),
                    "-keyint_min",
                    &self.gop.to_string(),
                ])
                .args(["-sc_threshold", "0", "-bf", "2"])
                .args(["-c:a", "aac", "-b:a", "96k", "-ac", "2", "-f", "flv"])
                .arg(&partial),
            Duration::from_secs(120),
        );
        assert!(
            done.success(),
            "could not make the test clip: {}",
            done.describe()
        );
        fs::rename(&partial, &path).expect("rename clip");
        path
    }
}

/// One packet of a file or stream as ffprobe lists it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Packet {
    pub(crate) pts_ms: i64,
    pub(crate) key: bool,
}

/// The video packets of `file`, in file order.
pub(crate) fn video_packets(file: &Path) -> Vec<Packet> {
    let done = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0"])
            .args(["-show_entries", "packet=pts,flags", "-of", "csv=p=0"])
            .arg(file),
        Duration::from_secs(60),
    );
    assert!(done.success(), "{}", done.describe());
    done.stdout
        .lines()
        .filter_map(|l| {
            let mut f = l.split(',');
            let pts_ms = f.next()?.trim().parse().ok()?;
            let key = f.next()?.contains('K');
            Some(Packet { pts_ms, key })
        })
        .collect()
}

/// `ffmpeg -re [-stream_loop -1] -i FILE -c copy -f flv URL`.
pub(crate) fn ffmpeg_publish(file: &Path, url: &str, looped: bool) -> Background {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-nostats", "-v", "error", "-re"]);
    if looped {
        cmd.args(["-stream_loop", "-1"]);
    }
    cmd.arg("-i")
        .arg(file)
        .args(["-c", "copy", "-f", "flv", url]);
    Background::spawn(&mut cmd)
}

/// An ffmpeg player writing one `framecrc` line per packet (copy) or per
/// decoded frame (decode), counted as they arrive. Stream 0 is video,
/// stream 1 audio.
pub(crate) struct Player {
    pub(crate) process: Background,
    counts: Arc<[AtomicU64; 2]>,
    first_pts: Arc<Mutex<[Option<i64>; 2]>>,
}

impl Player {
    /// Plays `url` with `-c copy`: counts packets, decodes nothing.
    pub(crate) fn copy(url: &str) -> Player {
        Self::spawn(url, false)
    }

    /// Plays `url` and decodes both tracks, keeping stream timestamps
    /// (`-copyts`): video pts are then in 1/fps units.
    pub(crate) fn decode(url: &str) -> Player {
        Self::spawn(url, true)
    }

    fn spawn(url: &str, decode: bool) -> Player {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-hide_banner", "-nostdin", "-nostats", "-v", "error"]);
        if decode {
            cmd.arg("-copyts");
        }
        cmd.args(["-i", url, "-map", "0:v:0", "-map", "0:a:0?"]);
        if !decode {
            cmd.args(["-c", "copy"]);
        }
        cmd.args(["-f", "framecrc", "-flush_packets", "1", "pipe:1"]);
        let counts: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let first_pts = Arc::new(Mutex::new([None, None]));
        let (c, f) = (counts.clone(), first_pts.clone());
        let process = Background::spawn_with(&mut cmd, move |line| {
            if line.starts_with('#') {
                return;
            }
            let mut fields = line.split(',').map(str::trim);
            let (Some(Ok(index)), _dts, Some(Ok(pts))) = (
                fields.next().map(str::parse::<usize>),
                fields.next(),
                fields.next().map(str::parse::<i64>),
            ) else {
                return;
            };
            if index < 2 {
                f.lock().unwrap()[index].get_or_insert(pts);
                c[index].fetch_add(1, Ordering::Relaxed);
            }
        });
        Player {
            process,
            counts,
            first_pts,
        }
    }

    pub(crate) fn video_frames(&self) -> u64 {
        self.counts[0].load(Ordering::Relaxed)
    }

    pub(crate) fn audio_frames(&self) -> u64 {
        self.counts[1].load(Ordering::Relaxed)
    }

    pub(crate) fn first_video_pts(&self) -> Option<i64> {
        self.first_pts.lock().unwrap()[0]
    }

    /// Waits until at least `n` video frames have arrived.
    pub(crate) fn wait_video_frames(&mut self, n: u64, timeout: Duration, server: &Arcly) {
        let deadline = Instant::now() + timeout;
        while self.video_frames() < n {
            if Instant::now() >= deadline || self.process.try_status().is_some() {
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "the player got {} video frames, wanted {n} within {timeout:?}: {}\nserver log:\n{}",
                    self.video_frames(),
                    self.process.describe(),
                    server.log_tail()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Asserts the player still receives video: `more` frames within 5 s.
    pub(crate) fn assert_flowing(&mut self, more: u64, what: &str, server: &Arcly) {
        let start = self.video_frames();
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.video_frames() < start + more {
            if Instant::now() >= deadline || self.process.try_status().is_some() {
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "{what}: the player stopped receiving video ({} frames in 5 s, wanted {more}): {}\nserver log:\n{}",
                    self.video_frames() - start,
                    self.process.describe(),
                    server.log_tail()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A publisher and a player on `live/healthy`, the bystanders every
/// bad-input test checks are unaffected.
pub(crate) struct Healthy {
    pub(crate) publisher: Background,
    pub(crate) player: Player,
}

impl Healthy {
    pub(crate) fn start(server: &Arcly) -> Healthy {
        let clip = Clip::SMALL.file();
        let url = server.url("live/healthy");
        let mut publisher = ffmpeg_publish(&clip, &url, true);
        server.wait_live(1, &mut publisher);
        let mut player = Player::copy(&url);
        player.wait_video_frames(10, Duration::from_secs(10), server);
        Healthy { publisher, player }
    }

    /// The publisher still runs and the player still receives frames.
    pub(crate) fn assert_unaffected(&mut self, server: &Arcly) {
        self.player
            .assert_flowing(15, "after the bad connection", server);
        assert!(
            self.publisher.try_status().is_none(),
            "the healthy publisher died: {}\nserver log:\n{}",
            self.publisher.describe(),
            server.log_tail()
        );
    }
}

// ---------------------------------------------------------------------------
// Raw RTMP: handshake, chunks, AMF0
// ---------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*) for handshake filler and
/// hostile bytes.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_u64() >> 56) as u8).collect()
    }
}

/// RTMP handshake packet size (C1, C2, S1, S2).
pub(crate) const HANDSHAKE_SIZE: usize = 1536;

/// Opens a TCP connection with 5 s read and write timeouts.
pub(crate) fn tcp_connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// C0 (version 3) + C1 (time 0, zero version field, filler): the plain
/// handshake, which a server must take since C1 carries no digest.
pub(crate) fn c0c1() -> Vec<u8> {
    let mut out = vec![3u8];
    out.extend_from_slice(&[0; 8]);
    out.extend(Rng::new(0x00c1_c1c1).bytes(HANDSHAKE_SIZE - 8));
    out
}

/// The client side of the plain handshake: sends C0+C1, reads S0+S1+S2,
/// sends C2 (an echo of S1).
pub(crate) fn plain_handshake(s: &mut TcpStream) -> io::Result<()> {
    s.write_all(&c0c1())?;
    let mut s0s1s2 = vec![0u8; 1 + 2 * HANDSHAKE_SIZE];
    s.read_exact(&mut s0s1s2)?;
    if s0s1s2[0] != 3 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("S0 is {}, not 3", s0s1s2[0]),
        ));
    }
    s.write_all(&s0s1s2[1..1 + HANDSHAKE_SIZE])
}

/// A type 0 chunk header (basic header with `csid` 2..=63).
pub(crate) fn chunk_header_type0(
    csid: u8,
    timestamp: u32,
    len: u32,
    msg_type: u8,
    stream_id: u32,
) -> Vec<u8> {
    assert!((2..=63).contains(&csid));
    let mut out = vec![csid];
    out.extend_from_slice(&timestamp.min(0xff_ffff).to_be_bytes()[1..]);
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(msg_type);
    out.extend_from_slice(&stream_id.to_le_bytes());
    out
}

/// Drains `s` until the peer closes it (read returns 0, or a reset) and
/// returns the time since `since`, or an error once `timeout` has passed
/// with the connection still open.
pub(crate) fn wait_closed(
    s: &mut TcpStream,
    since: Instant,
    timeout: Duration,
) -> Result<Duration, String> {
    let deadline = since + timeout;
    let mut buf = [0u8; 16 * 1024];
    let mut drained = 0usize;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "still open {timeout:?} after the bad input ({drained} bytes received meanwhile)"
            ));
        }
        s.set_read_timeout(Some(left.min(Duration::from_millis(200))))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => return Ok(since.elapsed()),
            Ok(n) => drained += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::BrokenPipe
                ) =>
            {
                return Ok(since.elapsed());
            }
            Err(e) => return Err(format!("read failed with an unexpected error: {e}")),
        }
    }
}

/// An AMF0 value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Amf {
    Number(f64),
    Bool(bool),
    Str(String),
    Object(Vec<(String, Amf)>),
    Null,
    Undefined,
    EcmaArray(Vec<(String, Amf)>),
    StrictArray(Vec<Amf>),
    Date(f64),
}

impl Amf {
    pub(crate) fn str(s: &str) -> Amf {
        Amf::Str(s.to_owned())
    }

    pub(crate) fn object(pairs: &[(&str, Amf)]) -> Amf {
        Amf::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Amf> {
        match self {
            Amf::Object(p) | Amf::EcmaArray(p) => p.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Amf::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Amf::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        fn key(out: &mut Vec<u8>, k: &str) {
            out.extend_from_slice(&(k.len() as u16).to_be_bytes());
            out.extend_from_slice(k.as_bytes());
        }
        match self {
            Amf::Number(n) => {
                out.push(0);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Amf::Bool(b) => out.extend_from_slice(&[1, *b as u8]),
            Amf::Str(s) if s.len() > 0xffff => {
                out.push(12);
                out.extend_from_slice(&(s.len() as u32).to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Amf::Str(s) => {
                out.push(2);
                key(out, s);
            }
            Amf::Object(pairs) | Amf::EcmaArray(pairs) => {
                if let Amf::EcmaArray(_) = self {
                    out.push(8);
                    out.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
                } else {
                    out.push(3);
                }
                for (k, v) in pairs {
                    key(out, k);
                    v.encode(out);
                }
                out.extend_from_slice(&[0, 0, 9]);
            }
            Amf::Null => out.push(5),
            Amf::Undefined => out.push(6),
            Amf::StrictArray(items) => {
                out.push(10);
                out.extend_from_slice(&(items.len() as u32).to_be_bytes());
                for v in items {
                    v.encode(out);
                }
            }
            Amf::Date(ms) => {
                out.push(11);
                out.extend_from_slice(&ms.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
            }
        }
    }

    /// Decodes every value in `buf`.
    pub(crate) fn decode_all(mut buf: &[u8]) -> Result<Vec<Amf>, String> {
        let mut values = Vec::new();
        while !buf.is_empty() {
            values.push(Self::decode(&mut buf, 0)?);
        }
        Ok(values)
    }

    fn decode(buf: &mut &[u8], depth: usize) -> Result<Amf, String> {
        fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
            if buf.len() < n {
                return Err(format!("amf0: need {n} bytes, {} left", buf.len()));
            }
            let (head, rest) = buf.split_at(n);
            *buf = rest;
            Ok(head)
        }
        fn short_str(buf: &mut &[u8]) -> Result<String, String> {
            let len = u16::from_be_bytes(take(buf, 2)?.try_into().unwrap()) as usize;
            Ok(String::from_utf8_lossy(take(buf, len)?).into_owned())
        }
        fn pairs(buf: &mut &[u8], depth: usize) -> Result<Vec<(String, Amf)>, String> {
            let mut out = Vec::new();
            loop {
                let k = short_str(buf)?;
                if k.is_empty() && buf.first() == Some(&9) {
                    *buf = &buf[1..];
                    return Ok(out);
                }
                out.push((k, Amf::decode(buf, depth + 1)?));
            }
        }
        if depth > 32 {
            return Err("amf0: nested too deep".to_owned());
        }
        let marker = take(buf, 1)?[0];
        Ok(match marker {
            0 => Amf::Number(f64::from_be_bytes(take(buf, 8)?.try_into().unwrap())),
            1 => Amf::Bool(take(buf, 1)?[0] != 0),
            2 => Amf::Str(short_str(buf)?),
            3 => Amf::Object(pairs(buf, depth)?),
            5 => Amf::Null,
            6 => Amf::Undefined,
            8 => {
                take(buf, 4)?;
                Amf::EcmaArray(pairs(buf, depth)?)
            }
            10 => {
                let n = u32::from_be_bytes(take(buf, 4)?.try_into().unwrap());
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(Amf::decode(buf, depth + 1)?);
                }
                Amf::StrictArray(items)
            }
            11 => {
                let ms = f64::from_be_bytes(take(buf, 8)?.try_into().unwrap());
                take(buf, 2)?;
                Amf::Date(ms)
            }
            12 => {
                let len = u32::from_be_bytes(take(buf, 4)?.try_into().unwrap()) as usize;
                Amf::Str(String::from_utf8_lossy(take(buf, len)?).into_owned())
            }
            other => return Err(format!("amf0: unsupported marker {other}")),
        })
    }
}

/// One complete message read from the server.
#[derive(Clone, Debug)]
pub(crate) struct RtmpMessage {
    pub(crate) msg_type: u8,
    pub(crate) stream_id: u32,
    pub(crate) timestamp: u32,
    pub(crate) payload: Vec<u8>,
}

/// A command from the server: `_result`, `_error`, `onStatus`, ...
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) values: Vec<Amf>,
}

impl Reply {
    /// The command name.
    pub(crate) fn name(&self) -> &str {
        self.values.first().and_then(Amf::as_str).unwrap_or("")
    }

    /// The transaction id.
    pub(crate) fn txn(&self) -> f64 {
        self.values.get(1).and_then(Amf::as_f64).unwrap_or(-1.0)
    }

    /// `code` of the first info object among the arguments.
    pub(crate) fn code(&self) -> Option<&str> {
        self.values
            .iter()
            .skip(2)
            .find_map(|v| v.get("code").and_then(Amf::as_str))
    }

    /// `level` of the first info object among the arguments.
    pub(crate) fn level(&self) -> Option<&str> {
        self.values
            .iter()
            .skip(2)
            .find_map(|v| v.get("level").and_then(Amf::as_str))
    }
}

#[derive(Clone, Debug, Default)]
struct InChunkStream {
    timestamp: u32,
    delta: u32,
    len: usize,
    msg_type: u8,
    stream_id: u32,
    extended: bool,
    buf: Vec<u8>,
}

/// A hand-written RTMP client: enough of the chunk stream and AMF0 to
/// connect, create a stream, publish or play, and read status codes.
pub(crate) struct RawRtmp {
    pub(crate) stream: TcpStream,
    in_chunk_size: usize,
    out_chunk_size: usize,
    chunk_streams: HashMap<u32, InChunkStream>,
    next_txn: f64,
    /// Every message read so far (media payloads dropped), for messages.
    pub(crate) seen: Vec<String>,
}

impl RawRtmp {
    /// Connects and completes the plain handshake.
    pub(crate) fn handshake(addr: SocketAddr) -> io::Result<RawRtmp> {
        let mut stream = tcp_connect(addr);
        plain_handshake(&mut stream)?;
        Ok(RawRtmp {
            stream,
            in_chunk_size: 128,
            out_chunk_size: 128,
            chunk_streams: HashMap::new(),
            next_txn: 1.0,
            seen: Vec::new(),
        })
    }

    /// Sends one message as a type 0 chunk plus type 3 continuations.
    pub(crate) fn send_message(
        &mut self,
        csid: u8,
        msg_type: u8,
        stream_id: u32,
        payload: &[u8],
    ) -> io::Result<()> {
        let mut out = chunk_header_type0(csid, 0, payload.len() as u32, msg_type, stream_id);
        for (i, part) in payload.chunks(self.out_chunk_size).enumerate() {
            if i > 0 {
                out.push(0xc0 | csid);
            }
            out.extend_from_slice(part);
        }
        self.stream.write_all(&out)
    }

    /// Sends Set Chunk Size and uses it from then on.
    pub(crate) fn set_chunk_size(&mut self, size: u32) -> io::Result<()> {
        self.send_message(2, 1, 0, &size.to_be_bytes())?;
        self.out_chunk_size = size as usize;
        Ok(())
    }

    /// Sends an AMF0 command (type 20): on chunk stream 3 for stream 0,
    /// on 8 for a message stream.
    pub(crate) fn send_command(&mut self, stream_id: u32, values: &[Amf]) -> io::Result<()> {
        let mut payload = Vec::new();
        for v in values {
            v.encode(&mut payload);
        }
        let csid = if stream_id == 0 { 3 } else { 8 };
        self.send_message(csid, 20, stream_id, &payload)
    }

    fn read_u8(&mut self) -> io::Result<u8> {
        let mut b = [0u8; 1];
        self.stream.read_exact(&mut b)?;
        Ok(b[0])
    }

    fn read_be(&mut self, n: usize) -> io::Result<u32> {
        let mut b = [0u8; 4];
        self.stream.read_exact(&mut b[4 - n..])?;
        Ok(u32::from_be_bytes(b))
    }

    /// Reads chunks until one message is complete. Set Chunk Size from the
    /// server is applied here (and still returned).
    pub(crate) fn read_message(&mut self) -> io::Result<RtmpMessage> {
        loop {
            let b0 = self.read_u8()?;
            let fmt = b0 >> 6;
            let csid = match b0 & 0x3f {
                0 => 64 + self.read_u8()? as u32,
                1 => {
                    let lo = self.read_u8()? as u32;
                    let hi = self.read_u8()? as u32;
                    64 + lo + hi * 256
                }
                n => n as u32,
            };
            let mut cs = self.chunk_streams.remove(&csid).unwrap_or_default();
            let starting = cs.buf.is_empty();
            match fmt {
                0 => {
                    let ts = self.read_be(3)?;
                    cs.len = self.read_be(3)? as usize;
                    cs.msg_type = self.read_u8()?;
                    let mut sid = [0u8; 4];
                    self.stream.read_exact(&mut sid)?;
                    cs.stream_id = u32::from_le_bytes(sid);
                    cs.extended = ts == 0xff_ffff;
                    cs.timestamp = if cs.extended { self.read_be(4)? } else { ts };
                    cs.delta = 0;
                }
                1 | 2 => {
                    let delta = self.read_be(3)?;
                    if fmt == 1 {
                        cs.len = self.read_be(3)? as usize;
                        cs.msg_type = self.read_u8()?;
                    }
                    cs.extended = delta == 0xff_ffff;
                    cs.delta = if cs.extended { self.read_be(4)? } else { delta };
                    cs.timestamp = cs.timestamp.wrapping_add(cs.delta);
                }
                _ => {
                    if cs.extended {
                        self.read_be(4)?;
                    }
                    if starting {
                        cs.timestamp = cs.timestamp.wrapping_add(cs.delta);
                    }
                }
            }
            if cs.len > 16 << 20 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("server announced a {} byte message", cs.len),
                ));
            }
            let want = self.in_chunk_size.min(cs.len - cs.buf.len());
            let at = cs.buf.len();
            cs.buf.resize(at + want, 0);
            self.stream.read_exact(&mut cs.buf[at..])?;
            if cs.buf.len() < cs.len {
                self.chunk_streams.insert(csid, cs);
                continue;
            }
            let payload = std::mem::take(&mut cs.buf);
            let msg = RtmpMessage {
                msg_type: cs.msg_type,
                stream_id: cs.stream_id,
                timestamp: cs.timestamp,
                payload,
            };
            self.chunk_streams.insert(csid, cs);
            if msg.msg_type == 1 && msg.payload.len() >= 4 {
                let size = u32::from_be_bytes(msg.payload[..4].try_into().unwrap()) & 0x7fff_ffff;
                self.in_chunk_size = size.max(1) as usize;
            }
            self.seen.push(describe_message(&msg));
            return Ok(msg);
        }
    }

    /// Reads messages until a command arrives (AMF0 type 20, or AMF3
    /// command type 17 with its AMF0 body).
    pub(crate) fn read_command(&mut self) -> io::Result<Reply> {
        loop {
            let msg = self.read_message()?;
            let body = match msg.msg_type {
                20 => &msg.payload[..],
                17 if !msg.payload.is_empty() => &msg.payload[1..],
                _ => continue,
            };
            let values =
                Amf::decode_all(body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            return Ok(Reply { values });
        }
    }

    /// Reads commands until one named in `names` arrives.
    pub(crate) fn read_reply(&mut self, names: &[&str]) -> io::Result<Reply> {
        loop {
            let reply = self.read_command()?;
            if names.contains(&reply.name()) {
                return Ok(reply);
            }
        }
    }

    fn txn(&mut self) -> f64 {
        let t = self.next_txn;
        self.next_txn += 1.0;
        t
    }

    /// `connect` to `app`; returns `_result` or `_error`.
    pub(crate) fn connect(&mut self, app: &str) -> io::Result<Reply> {
        let tc_url = format!("rtmp://{}/{app}", self.stream.peer_addr()?);
        let txn = self.txn();
        self.send_command(
            0,
            &[
                Amf::str("connect"),
                Amf::Number(txn),
                Amf::object(&[
                    ("app", Amf::str(app)),
                    ("type", Amf::str("nonprivate")),
                    ("flashVer", Amf::str("FMLE/3.0 (compatible; arcly-tests)")),
                    ("tcUrl", Amf::Str(tc_url)),
                ]),
            ],
        )?;
        self.read_reply(&["_result", "_error"])
    }

    /// `createStream`; returns the message stream id.
    pub(crate) fn create_stream(&mut self) -> io::Result<u32> {
        let txn = self.txn();
        self.send_command(0, &[Amf::str("createStream"), Amf::Number(txn), Amf::Null])?;
        let reply = self.read_reply(&["_result", "_error"])?;
        match (reply.name(), reply.values.get(3).and_then(Amf::as_f64)) {
            ("_result", Some(id)) => Ok(id as u32),
            _ => Err(io::Error::other(format!(
                "createStream answered {:?}",
                reply.values
            ))),
        }
    }

    /// `publish NAME live` on `stream_id`; returns the `onStatus` (or
    /// `_error`) that answers it.
    pub(crate) fn publish(&mut self, stream_id: u32, name: &str) -> io::Result<Reply> {
        let txn = self.txn();
        self.send_command(
            stream_id,
            &[
                Amf::str("publish"),
                Amf::Number(txn),
                Amf::Null,
                Amf::str(name),
                Amf::str("live"),
            ],
        )?;
        self.read_reply(&["onStatus", "_error"])
    }

    /// `play NAME` (live only) on `stream_id`; returns the first `onStatus`
    /// (or `_error`) that answers it.
    pub(crate) fn play(&mut self, stream_id: u32, name: &str) -> io::Result<Reply> {
        let txn = self.txn();
        self.send_command(
            stream_id,
            &[
                Amf::str("play"),
                Amf::Number(txn),
                Amf::Null,
                Amf::str(name),
                // What ffmpeg sends: start -2 (live or recorded), in ms.
                Amf::Number(-2000.0),
            ],
        )?;
        self.read_reply(&["onStatus", "_error"])
    }

    /// connect + createStream + publish, as an encoder does.
    pub(crate) fn try_publish(addr: SocketAddr, app: &str, name: &str) -> io::Result<Attempt> {
        let mut c = RawRtmp::handshake(addr)?;
        let connect = c.connect(app)?;
        if connect.name() != "_result" {
            return Ok(Attempt {
                client: c,
                stage: "connect",
                reply: connect,
            });
        }
        let sid = c.create_stream()?;
        let reply = c.publish(sid, name)?;
        Ok(Attempt {
            client: c,
            stage: "publish",
            reply,
        })
    }

    /// connect + createStream + play, as a player does.
    pub(crate) fn try_play(addr: SocketAddr, app: &str, name: &str) -> io::Result<Attempt> {
        let mut c = RawRtmp::handshake(addr)?;
        let connect = c.connect(app)?;
        if connect.name() != "_result" {
            return Ok(Attempt {
                client: c,
                stage: "connect",
                reply: connect,
            });
        }
        let sid = c.create_stream()?;
        let reply = c.play(sid, name)?;
        Ok(Attempt {
            client: c,
            stage: "play",
            reply,
        })
    }
}

/// How far a raw publish or play got, and the reply that ended it.
pub(crate) struct Attempt {
    pub(crate) client: RawRtmp,
    /// `connect`, `publish` or `play`: the step whose reply is `reply`.
    pub(crate) stage: &'static str,
    pub(crate) reply: Reply,
}

impl Attempt {
    /// What came back, for assertion messages.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} answered {} code={:?} level={:?} ({:?})",
            self.stage,
            self.reply.name(),
            self.reply.code(),
            self.reply.level(),
            self.reply.values
        )
    }

    /// The server said yes: connect and publish/play both succeeded.
    pub(crate) fn accepted(&self) -> bool {
        self.stage != "connect"
            && self.reply.name() == "onStatus"
            && self.reply.level() != Some("error")
            && self
                .reply
                .code()
                .is_some_and(|c| c.ends_with(".Start") || c.ends_with(".Reset"))
    }
}

fn describe_message(msg: &RtmpMessage) -> String {
    match msg.msg_type {
        20 => format!(
            "command {:?}",
            Amf::decode_all(&msg.payload).unwrap_or_default()
        ),
        18 => "data".to_owned(),
        8 => "audio".to_owned(),
        9 => "video".to_owned(),
        4 if msg.payload.len() >= 2 => format!(
            "user control {}",
            u16::from_be_bytes([msg.payload[0], msg.payload[1]])
        ),
        t => format!("type {t} ({} bytes)", msg.payload.len()),
    }
}

/// The server still takes a new connection: a fresh plain handshake and
/// `connect` to `live` get `NetConnection.Connect.Success`.
pub(crate) fn assert_still_accepting(server: &Arcly) {
    let reply = RawRtmp::handshake(server.rtmp)
        .and_then(|mut c| c.connect("live"))
        .unwrap_or_else(|e| {
            panic!(
                "a new connection after the bad one failed: {e}\nserver log:\n{}",
                server.log_tail()
            )
        });
    assert_eq!(
        reply.code(),
        Some("NetConnection.Connect.Success"),
        "a new connection after the bad one: {:?}",
        reply.values
    );
}

/// The checks every bad-input test makes once it has sent its bytes on
/// `conn`: the server closes `conn` within `close_within`, bumps `counter`
/// past `before`, logs the close against this peer, keeps the healthy
/// publisher and player going, and still takes new connections.
pub(crate) fn assert_bad_connection_isolated(
    server: &Arcly,
    healthy: &mut Healthy,
    conn: &mut TcpStream,
    sent_at: Instant,
    close_within: Duration,
    counter: &str,
    before: u64,
) -> Duration {
    let peer = conn.local_addr().unwrap();
    let closed_after = wait_closed(conn, sent_at, close_within).unwrap_or_else(|why| {
        panic!(
            "the server did not close the bad connection from {peer}: {why}\nshards: {}\nserver log:\n{}",
            Value::Array(server.shards()),
            server.log_tail()
        )
    });
    eprintln!("bad connection {peer} closed after {closed_after:.2?}");
    server.wait_until(
        &format!("counter `{counter}` to go past {before}"),
        Duration::from_secs(3),
        || server.total(counter) > before,
    );
    let logged = server
        .wait_log_line(&[&format!("peer={peer}"), "closed"], Duration::from_secs(3))
        .unwrap_or_else(|| {
            panic!(
                "no log line says the bad connection `peer={peer}` was closed (the contract's form: \
                 `shard=N peer={peer} rtmp: closed: <reason>`)\nserver log:\n{}",
                server.log_tail()
            )
        });
    eprintln!("server logged: {logged}");
    healthy.assert_unaffected(server);
    assert_still_accepting(server);
    closed_after
}
