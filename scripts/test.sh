#!/usr/bin/env bash
# Installs what the test suite needs (when missing) and runs all of it:
# formatting, lints, the dependency rule for the pure crates, and every test.
# Usage: scripts/test.sh            (CI calls exactly this, via .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# --- tools -------------------------------------------------------------------
# Each external tool a test needs is installed here when it is missing, so a
# fresh machine needs nothing but this script.
apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    if ((${#missing[@]})); then
        step "installing ${missing[*]}"
        local sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}
pip_install() {
    local module=$1 package=$2
    if ! python3 -c "import $module" >/dev/null 2>&1; then
        step "installing $package (PyPI)"
        python3 -m pip install --quiet --disable-pip-version-check "$package"
    fi
}
npm_ci() {
    local dir=$1
    # npm ci writes node_modules/.package-lock.json: older than the lockfile
    # (or absent, as in a fresh clone) means the install is out of date.
    if [[ ! $dir/node_modules/.package-lock.json -nt $dir/package-lock.json ]]; then
        step "installing $dir (npm ci)"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}
rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy
apt_install ffmpeg          # ffmpeg/ffprobe: RTMP interop tests (bin/tests/rtmp_*)
apt_install prometheus      # promtool: /metrics must pass `promtool check metrics` (bin/tests/api_*)
pip_install av av           # PyAV (bundles FFmpeg 8): enhanced RTMP (HEVC, AV1) interop
apt_install chromium        # headless Chromium: HLS plays in a real browser (bin/tests/browser_*)
# Node.js runs tests/browser/play_hls.mjs. NodeSource's nodejs bundles npm and
# conflicts with Debian's npm package, so install them only when npm is absent.
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
npm_ci tests/browser        # puppeteer-core (drives Chromium) and hls.js

# --- static checks -----------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "pure crates depend on no runtime or sockets"
for crate in arcly-engine arcly-media arcly-protocols; do
    if cargo tree -p "$crate" -e normal --prefix none | grep -E '^(glommio|tokio|socket2|mio) '; then
        echo "$crate must not depend on an async runtime or sockets" >&2
        exit 1
    fi
done
echo "ok: arcly-engine, arcly-media, arcly-protocols use no glommio, tokio or socket2"

step "fuzz targets still build (cargo check; running them: fuzz/README.md)"
cargo check --quiet --manifest-path fuzz/Cargo.toml --target-dir target/fuzz-check

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

# --- tests -------------------------------------------------------------------
step "cargo test --workspace"
cargo build --release --quiet -p arcly -p arcly-bench
cargo test --workspace --quiet 2>&1 | tee target/test-output.txt
