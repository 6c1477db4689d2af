//! The servers `compare` starts and stops: arcly (a child process, pinned
//! with its own flags) and nginx-rtmp (through `benches/peer/nginx-rtmp.sh`).

use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// How long a server may take to listen, and to stop.
const START_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How to start `arcly serve` for a run.
#[derive(Clone, Debug)]
pub(crate) struct ArclyLaunch<'a> {
    /// The `arcly` binary.
    pub(crate) bin: &'a Path,
    /// `--shards`, one per CPU of `cpus`.
    pub(crate) shards: usize,
    /// `--cpus`, e.g. `0` or `0,1`.
    pub(crate) cpus: String,
    pub(crate) rtmp: SocketAddr,
    pub(crate) http: SocketAddr,
    /// `[streams] write_batch_ms`.
    pub(crate) write_batch_ms: u64,
    /// Room for this many RTMP connections per shard.
    pub(crate) connections: usize,
    /// `--share-cpus`: more shards than CPUs, taking turns.
    pub(crate) share_cpus: bool,
    /// Where its config and log go.
    pub(crate) dir: &'a Path,
}

/// A server started for a run.
pub(crate) struct Server {
    /// The processes to measure (the arcly process, the nginx worker).
    pub(crate) pids: Vec<u32>,
    /// Where its output goes.
    pub(crate) log: PathBuf,
    stop: Stop,
}

enum Stop {
    Child(Child),
    Script { script: PathBuf, port: u16 },
}

impl Server {
    /// Starts `arcly serve` as `launch` says; its log goes to a file in
    /// its folder.
    pub(crate) fn arcly(launch: &ArclyLaunch<'_>) -> anyhow::Result<Server> {
        let ArclyLaunch {
            bin,
            shards,
            ref cpus,
            rtmp,
            http,
            write_batch_ms,
            connections,
            share_cpus,
            dir,
        } = *launch;
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        let config = dir.join("arcly.toml");
        std::fs::write(
            &config,
            format!(
                "[rtmp]\nmax_connections_per_shard = {connections}\n\n\
                 [streams]\nwrite_batch_ms = {write_batch_ms}\n"
            ),
        )
        .with_context(|| format!("write {}", config.display()))?;
        let log = dir.join("arcly.log");
        let out = File::create(&log).with_context(|| format!("create {}", log.display()))?;
        let child = Command::new(bin)
            .arg("serve")
            .args(["--shards", &shards.to_string(), "--cpus", cpus])
            .args(share_cpus.then_some("--share-cpus"))
            .args(["--rtmp-listen", &rtmp.to_string()])
            .args(["--http-listen", &http.to_string()])
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("start {}", bin.display()))?;
        let server = Server {
            pids: vec![child.id()],
            log,
            stop: Stop::Child(child),
        };
        wait_listening(rtmp).with_context(|| format!("arcly: see {}", server.log.display()))?;
        Ok(server)
    }

    /// Starts nginx-rtmp on 127.0.0.1:`port`, its worker pinned to `cpu`.
    pub(crate) fn nginx(script: &Path, port: u16, cpu: usize) -> anyhow::Result<Server> {
        let output = Command::new(script)
            .args(["start", &port.to_string(), &cpu.to_string()])
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("run {}", script.display()))?;
        anyhow::ensure!(
            output.status.success(),
            "{} start failed ({})",
            script.display(),
            output.status
        );
        let text = String::from_utf8_lossy(&output.stdout);
        let worker = text
            .split_ascii_whitespace()
            .find_map(|field| field.strip_prefix("worker="))
            .and_then(|pid| pid.parse().ok())
            .with_context(|| format!("no worker pid in {text:?}"))?;
        let server = Server {
            pids: vec![worker],
            log: PathBuf::from(format!("/tmp/arcly-bench-nginx-{port}/error.log")),
            stop: Stop::Script {
                script: script.to_owned(),
                port,
            },
        };
        wait_listening(SocketAddr::from(([127, 0, 0, 1], port)))?;
        Ok(server)
    }

    /// Stops the server and waits for it.
    pub(crate) fn stop(self) -> anyhow::Result<()> {
        match self.stop {
            Stop::Child(mut child) => {
                // SIGTERM drains; a server that does not stop in time is killed.
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
                let deadline = Instant::now() + STOP_TIMEOUT;
                while child.try_wait()?.is_none() {
                    if Instant::now() > deadline {
                        child.kill()?;
                        child.wait()?;
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(())
            }
            Stop::Script { script, port } => {
                let status = Command::new(&script)
                    .args(["stop", &port.to_string()])
                    .status()?;
                anyhow::ensure!(status.success(), "{} stop failed", script.display());
                Ok(())
            }
        }
    }
}

/// Waits until something accepts connections on `addr`.
fn wait_listening(addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "nothing listens on {addr} after {START_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
