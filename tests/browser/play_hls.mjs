#!/usr/bin/env node
// Plays an HLS URL in headless Chromium with hls.js and says how far it got.
//
//   node play_hls.mjs URL SCREENSHOT.png [--threshold SECS] [--timeout SECS] [--serve DIR]
//
// It serves play_hls.html and hls.js from node_modules on 127.0.0.1 (an
// ephemeral port), opens the page in the system Chromium ($CHROMIUM, else
// /usr/bin/chromium) through puppeteer-core with a fresh profile, and polls
// the <video> until it has played more than --threshold seconds (default
// 2.0), a fatal error happens, or --timeout (default 30 s, counted from page
// load) runs out. It then screenshots the <video> element to SCREENSHOT.png
// and prints one JSON line on stdout:
//
//   {"ready":true,"currentTime":2.03,"playedSecs":2.03,"framesDecoded":53,
//    "videoWidth":640,"videoHeight":360,"errors":[],"waitedSecs":2.4,
//    "hlsVersion":"1.7.4","browser":"Chrome/156.0.8078.79"}
//
// "Played" is the total length of video.played, not currentTime: on a live
// stream hls.js seeks to the live edge before the first frame, so
// currentTime passes 2 s at once without anything having played. On a
// stream that starts at 0 the two are equal.
//
// `errors` holds hls.js fatal errors, <video> errors, console errors and
// uncaught page errors. Exit code: 0 when the threshold was passed, 1 when
// not, 2 when the harness itself failed (bad arguments, no browser); the
// JSON line is printed in every case that gets that far.
//
// --serve DIR also serves DIR on a second port, with
// `Access-Control-Allow-Origin: *` as arcly sends, so the page fetches the
// stream cross-origin exactly as it would from arcly; a relative URL is then
// resolved against that server (`ll.m3u8` -> http://127.0.0.1:PORT/ll.m3u8).
//
// Diagnostics (which ports, which browser) go to stderr.

import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import puppeteer from "puppeteer-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PAGE = path.join(HERE, "play_hls.html");
const HLS_JS = path.join(HERE, "node_modules/hls.js/dist/hls.min.js");

// Chromium as a test client: no first-run UI, no background traffic to
// Google (there is no network here but loopback), no GPU (none in CI), and
// autoplay without a click. --headless=new is added by puppeteer itself
// (headless: true), as are --mute-audio and --hide-scrollbars.
const CHROMIUM_FLAGS = [
  "--no-sandbox", // CI runs as root, where Chromium's sandbox refuses to start
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--autoplay-policy=no-user-gesture-required",
  // /dev/shm is small in some containers; Chromium crashes when it fills.
  "--disable-dev-shm-usage",
];

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".m3u8": "application/vnd.apple.mpegurl",
  ".mp4": "video/mp4",
  ".m4s": "video/iso.segment",
  ".m4a": "audio/mp4",
  ".m4v": "video/mp4",
  ".ts": "video/mp2t",
  ".aac": "audio/aac",
};

function log(message) {
  process.stderr.write(`play_hls: ${message}\n`);
}

function usage(problem) {
  log(problem);
  log("usage: node play_hls.mjs URL SCREENSHOT.png [--threshold SECS] [--timeout SECS] [--serve DIR]");
  process.exit(2);
}

function parseCommandLine() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        threshold: { type: "string", default: "2.0" },
        timeout: { type: "string", default: "30" },
        serve: { type: "string" },
      },
    });
  } catch (e) {
    usage(e.message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 2) usage(`expected URL and SCREENSHOT.png, got ${positionals.length} arguments`);
  const threshold = Number(values.threshold);
  const timeout = Number(values.timeout);
  if (!(threshold >= 0)) usage(`--threshold ${values.threshold} is not a number of seconds`);
  if (!(timeout > 0)) usage(`--timeout ${values.timeout} is not a positive number of seconds`);
  return { url: positionals[0], screenshot: path.resolve(positionals[1]), threshold, timeout, serve: values.serve };
}

// A static file server on 127.0.0.1:0. `files(pathname)` maps a request path
// to a file, or null for 404.
async function serve(files, headers = {}) {
  const server = http.createServer(async (req, res) => {
    if (req.method === "OPTIONS") {
      res.writeHead(204, { ...headers, "Access-Control-Allow-Headers": "*" }).end();
      return;
    }
    let file = null;
    try {
      // The query (an LL-HLS client's _HLS_msn=...) does not pick the file.
      file = files(decodeURIComponent(new URL(req.url, "http://x").pathname));
    } catch {
      // A malformed %-escape: no such file.
    }
    const stat = file && (await fs.stat(file).catch(() => null));
    if (!stat || !stat.isFile()) {
      res.writeHead(404, headers).end();
      return;
    }
    res.writeHead(200, {
      ...headers,
      "Content-Type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream",
      "Content-Length": stat.size,
      "Cache-Control": "no-store",
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

function servePage() {
  return serve((p) => (p === "/" ? PAGE : p === "/hls.min.js" ? HLS_JS : null));
}

function serveDirectory(dir) {
  const root = path.resolve(dir);
  return serve(
    (p) => {
      const file = path.resolve(root, `.${p}`);
      return file.startsWith(root + path.sep) ? file : null;
    },
    { "Access-Control-Allow-Origin": "*" },
  );
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const args = parseCommandLine();
  const result = {
    ready: false,
    currentTime: 0,
    playedSecs: 0,
    framesDecoded: 0,
    videoWidth: 0,
    videoHeight: 0,
    errors: [],
    waitedSecs: 0,
    hlsVersion: null,
    browser: null,
  };
  const servers = [];
  let browser;
  const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), "arcly-chromium-"));
  try {
    await fs.access(HLS_JS).catch(() => {
      throw new Error(`${HLS_JS} is missing: run \`npm ci\` in ${HERE}`);
    });
    const pageServer = await servePage();
    servers.push(pageServer.server);
    let url = args.url;
    if (args.serve) {
      const media = await serveDirectory(args.serve);
      servers.push(media.server);
      url = new URL(url, `${media.origin}/`).href;
      log(`serving ${path.resolve(args.serve)} at ${media.origin}`);
    }
    const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      args: CHROMIUM_FLAGS,
      userDataDir,
      defaultViewport: { width: 640, height: 360 },
      timeout: 30_000,
      // A hung browser fails the run instead of outliving the test.
      protocolTimeout: 30_000,
    });
    result.browser = await browser.version();
    log(`${executablePath} is ${result.browser}; page at ${pageServer.origin}; playing ${url}`);

    const page = await browser.newPage();
    page.on("console", (msg) => {
      if (msg.type() !== "error") return;
      const where = msg.location()?.url;
      result.errors.push(`console: ${msg.text()}${where ? ` (${where})` : ""}`);
    });
    page.on("pageerror", (e) => result.errors.push(`page: ${e.message ?? e}`));
    await page.goto(`${pageServer.origin}/?src=${encodeURIComponent(url)}`, { waitUntil: "load" });

    const started = Date.now();
    const deadline = started + args.timeout * 1000;
    let state;
    for (;;) {
      state = await page.evaluate(() => {
        const video = document.getElementById("video");
        let playedSecs = 0;
        for (let i = 0; i < video.played.length; i++) playedSecs += video.played.end(i) - video.played.start(i);
        return {
          currentTime: video.currentTime,
          playedSecs,
          framesDecoded: video.getVideoPlaybackQuality().totalVideoFrames,
          videoWidth: video.videoWidth,
          videoHeight: video.videoHeight,
          fatal: window.playback.fatal,
          pageErrors: window.playback.errors,
          hlsVersion: window.playback.hlsVersion,
        };
      });
      if (state.playedSecs > args.threshold || state.fatal || Date.now() >= deadline) break;
      await sleep(100);
    }
    result.waitedSecs = (Date.now() - started) / 1000;
    result.ready = state.playedSecs > args.threshold;
    result.currentTime = state.currentTime;
    result.playedSecs = state.playedSecs;
    result.framesDecoded = state.framesDecoded;
    result.videoWidth = state.videoWidth;
    result.videoHeight = state.videoHeight;
    result.hlsVersion = state.hlsVersion;
    result.errors.unshift(...state.pageErrors);

    await fs.mkdir(path.dirname(args.screenshot), { recursive: true });
    const video = await page.$("video");
    await video.screenshot({ path: args.screenshot });
    log(`screenshot: ${args.screenshot}`);
  } catch (e) {
    result.errors.push(`harness: ${e.message ?? e}`);
    process.exitCode = 2;
  } finally {
    await browser?.close().catch(() => {});
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    await fs.rm(userDataDir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (process.exitCode !== 2) process.exitCode = result.ready ? 0 : 1;
}

await main();
