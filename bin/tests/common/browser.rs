//! A real browser as an HLS client: headless Debian Chromium, driven by
//! puppeteer-core, plays a playlist with hls.js in low-latency mode
//! (`tests/browser/play_hls.mjs` and `play_hls.html`), and says how much it
//! played, at what size, with which errors, and keeps a screenshot of the
//! `<video>` as a test artifact.
//!
//! Screenshots go to `<target dir>/test-artifacts/`, beside the `tmp/`
//! scratch space: cargo compiles the target's `tmp/` into every integration
//! test as `CARGO_TARGET_TMPDIR`, so its parent is the target directory
//! whatever `CARGO_TARGET_DIR` or `--target-dir` said. They are kept after
//! the test, passing or failing, for a person to look at.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::process::run;

/// How to install Chromium when a test cannot find it.
pub(crate) const INSTALL_CHROMIUM: &str = "apt-get update && apt-get install -y chromium";
/// How to install Node.js and npm when a test cannot find them (a machine
/// with NodeSource's `nodejs`, which bundles npm, needs only `chromium`:
/// Debian's `npm` conflicts with it).
pub(crate) const INSTALL_NODE: &str = "apt-get update && apt-get install -y nodejs npm";
/// How to install puppeteer-core and hls.js, from the workspace root.
pub(crate) const INSTALL_BROWSER_SCRIPT: &str = "(cd tests/browser && npm ci)";

/// The Chromium the browser tests drive: `$CHROMIUM`, or Debian's.
pub(crate) fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// `tests/browser` in the workspace: the script, the page, `node_modules`.
fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/browser")
}

/// Fails the test, with the install command, unless Chromium and Node.js
/// run and `tests/browser/node_modules` holds puppeteer-core and hls.js.
pub(crate) fn require_browser() {
    let chromium = chromium();
    let runs = |program: &Path, arg: &str| {
        Command::new(program)
            .arg(arg)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    assert!(
        runs(&chromium, "--version").is_some(),
        "{} is needed by this test and did not run: install it with `{INSTALL_CHROMIUM}` \
         (or point $CHROMIUM at another Chromium); scripts/test.sh installs everything",
        chromium.display()
    );
    let node = runs(Path::new("node"), "--version");
    let major = node
        .as_deref()
        .and_then(|v| v.strip_prefix('v')?.split('.').next()?.parse::<u32>().ok());
    assert!(
        major.is_some_and(|m| m >= 18),
        "Node.js 18 or later is needed by this test (found {node:?}): install it with \
         `{INSTALL_NODE}`; scripts/test.sh installs everything"
    );
    let modules = browser_dir().join("node_modules");
    for file in ["puppeteer-core/package.json", "hls.js/dist/hls.min.js"] {
        assert!(
            modules.join(file).is_file(),
            "{} is missing: install it with `{INSTALL_BROWSER_SCRIPT}` from the workspace root; \
             scripts/test.sh installs everything",
            modules.join(file).display()
        );
    }
}

/// `<target dir>/test-artifacts/NAME`, its folder created. A file left there
/// by an earlier run is removed, so what is found there is this run's.
pub(crate) fn artifact_path(name: &str) -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target dir>/tmp");
    let dir = target.join("test-artifacts");
    fs::create_dir_all(&dir).expect("create target/test-artifacts");
    let path = dir.join(name);
    let _ = fs::remove_file(&path);
    path
}

/// What headless Chromium did with an HLS stream, as play_hls.mjs printed it.
#[derive(Debug)]
pub(crate) struct BrowserPlayback {
    /// Whether it played more than the threshold before the timeout.
    pub(crate) ready: bool,
    /// `video.currentTime` at the end, in seconds: the media timeline, which
    /// on a live stream starts wherever hls.js joined it.
    pub(crate) current_time: f64,
    /// Seconds actually played: the total length of `video.played`.
    pub(crate) played_secs: f64,
    /// Video frames the browser decoded (`getVideoPlaybackQuality`).
    pub(crate) frames_decoded: u64,
    /// The decoded picture's size; 0 until the first frame.
    pub(crate) video_width: u32,
    pub(crate) video_height: u32,
    /// hls.js fatal errors, `<video>` errors, console errors and uncaught
    /// page errors, in that order.
    pub(crate) errors: Vec<String>,
    /// The screenshot of the `<video>` element, taken when polling stopped.
    pub(crate) screenshot: PathBuf,
    /// The node command, its exit status and its output, for messages.
    pub(crate) details: String,
}

impl BrowserPlayback {
    /// Everything about the run, for an assertion message.
    pub(crate) fn describe(&self) -> String {
        format!(
            "ready: {}, played {:.2} s (currentTime {:.2} s, {} frames, {}x{}), screenshot {}\n\
             errors: {:#?}\n{}",
            self.ready,
            self.played_secs,
            self.current_time,
            self.frames_decoded,
            self.video_width,
            self.video_height,
            self.screenshot.display(),
            self.errors,
            self.details
        )
    }
}

/// Plays `url` (arcly's `…/ll.m3u8`; served with
/// `Access-Control-Allow-Origin: *`, since the page is on another origin)
/// until more than `threshold_secs` have played or `timeout` has passed
/// since the page loaded; writes the screenshot to `screenshot`.
///
/// Panics, with the script's output, only if the harness itself failed (no
/// browser, no JSON); a stream that does not play comes back with `ready`
/// false and the reason in `errors`.
pub(crate) fn play_hls(
    url: &str,
    screenshot: &Path,
    threshold_secs: f64,
    timeout: Duration,
) -> BrowserPlayback {
    play(url, None, screenshot, threshold_secs, timeout)
}

/// [`play_hls`] for a stream in a directory (`playlist` relative to it),
/// which the script serves on its own port the way arcly would, with
/// `Access-Control-Allow-Origin: *`.
pub(crate) fn play_hls_dir(
    dir: &Path,
    playlist: &str,
    screenshot: &Path,
    threshold_secs: f64,
    timeout: Duration,
) -> BrowserPlayback {
    play(playlist, Some(dir), screenshot, threshold_secs, timeout)
}

fn play(
    url: &str,
    serve: Option<&Path>,
    screenshot: &Path,
    threshold_secs: f64,
    timeout: Duration,
) -> BrowserPlayback {
    let mut cmd = Command::new("node");
    cmd.arg(browser_dir().join("play_hls.mjs"))
        .arg(url)
        .arg(screenshot)
        .args(["--threshold", &threshold_secs.to_string()])
        .args(["--timeout", &timeout.as_secs_f64().to_string()]);
    if let Some(dir) = serve {
        cmd.arg("--serve").arg(dir);
    }
    cmd.env("CHROMIUM", chromium());
    // `timeout` starts at page load; launching Chromium, the screenshot and
    // closing come on top (the script gives each at most 30 s).
    let finished = run(&mut cmd, timeout + Duration::from_secs(90));
    let details = finished.describe();
    let report = finished
        .stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
        .unwrap_or_else(|| panic!("play_hls.mjs printed no JSON report: {details}"));
    // Exit code 2: the harness failed (arguments, browser launch, page).
    assert!(
        !finished.timed_out() && finished.status.and_then(|s| s.code()) != Some(2),
        "play_hls.mjs failed: {details}"
    );
    let number = |key: &str| report[key].as_f64().unwrap_or(0.0);
    BrowserPlayback {
        ready: report["ready"].as_bool().unwrap_or(false),
        current_time: number("currentTime"),
        played_secs: number("playedSecs"),
        frames_decoded: report["framesDecoded"].as_u64().unwrap_or(0),
        video_width: number("videoWidth") as u32,
        video_height: number("videoHeight") as u32,
        errors: report["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        screenshot: screenshot.to_owned(),
        details,
    }
}
