//! A real `arcly serve` process on loopback: start it, read its log and
//! its per-shard counters, wait on them, and stop it with SIGTERM.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http::http_get;
use super::process::{Background, command_line, tail};
use super::temp_dir::TempDir;

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

    /// Replaces the config file the server was started with (for a
    /// reload); panics if it was started without one.
    pub(crate) fn rewrite_config(&self, toml: &str) {
        let dir = self._config.as_ref().expect("started with a config file");
        fs::write(dir.path().join("arcly.toml"), toml).expect("rewrite config");
    }

    /// Sends signal `name` (`HUP`, `TERM`...) to the server.
    pub(crate) fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status();
        assert!(
            sent.as_ref().is_ok_and(|s| s.success()),
            "kill -{name}: {sent:?}"
        );
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
