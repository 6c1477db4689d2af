//! The outside tools the interop tests drive (ffmpeg, ffprobe, PyAV) and
//! the check that fails a test, with the install command, when one is
//! missing, so a test never passes silently without its tool.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How to install ffmpeg and ffprobe when a test cannot find them.
pub(crate) const INSTALL_FFMPEG: &str = "apt-get update && apt-get install -y ffmpeg";
/// How to install PyAV (it bundles FFmpeg 8 with libx265, libsvtav1, libdav1d).
pub(crate) const INSTALL_PYAV: &str = "pip install av";

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
