#!/usr/bin/env python3
"""Publish a synthetic video stream to an RTMP URL with PyAV, in real time.

FFmpeg 6.1+ (PyAV bundles FFmpeg 8) writes HEVC and AV1 in FLV as enhanced
RTMP (FourCC `hvc1` / `av01` video tags) with no extra option, so the same
`format="flv"` output serves both codecs.

Prints one JSON object on stdout:
  {"ok": true, "codec": ..., "encoder": ..., "audio": ..., "frames": N,
   "packets": N (video), "keyframes": N, "audio_frames": N, "seconds": S}

With --audio opus the audio goes out as enhanced RTMP audio (FourCC
`Opus`); with --audio aac as a legacy AAC tag.
or {"ok": false, "error": "..."} and exits 1.
"""

import argparse
import json
import math
import struct
import sys
import time

import av

ENCODERS = {
    "hevc": (
        "libx265",
        lambda gop: {
            "preset": "ultrafast",
            "x265-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:log-level=error",
        },
    ),
    "av1": (
        "libsvtav1",
        lambda gop: {"preset": "12", "svtav1-params": f"keyint={gop}"},
    ),
    "h264": (
        "libx264",
        lambda gop: {"preset": "ultrafast", "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"},
    ),
}


AUDIO_ENCODERS = {"opus": ("libopus", 960), "aac": ("aac", 1024)}
SAMPLE_RATE = 48000


def tone(samples):
    """One frame of a 375 Hz stereo tone, s16 interleaved."""
    values = (int(8000 * math.sin(2 * math.pi * 375 * n / SAMPLE_RATE)) for n in range(samples))
    return b"".join(struct.pack("<hh", v, v) for v in values)


def synthetic_frame(index, width, height):
    """A moving luma gradient with a bar, cheap to make in pure Python."""
    frame = av.VideoFrame(width, height, "yuv420p")
    luma = frame.planes[0]
    row = bytes((x + 4 * index) % 256 for x in range(luma.line_size))
    bar_row = bytearray(row)
    start = (8 * index) % max(1, width - 32)
    bar_row[start : start + 32] = b"\xeb" * 32
    bar = bytes(bar_row)
    luma.update(b"".join(bar if (y // 16) % 4 == 0 else row for y in range(height)))
    for p, plane in enumerate(frame.planes[1:]):
        plane.update(bytes([(96 + 64 * p + index) % 256]) * plane.buffer_size)
    return frame


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--codec", choices=sorted(ENCODERS), required=True)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--gop", type=int, default=30, help="keyframe interval in frames")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--audio", choices=["none", *sorted(AUDIO_ENCODERS)], default="none")
    args = ap.parse_args()

    encoder, options = ENCODERS[args.codec]
    result = {"codec": args.codec, "encoder": encoder, "audio": args.audio}
    frames = packets = keyframes = audio_frames = 0
    started = time.monotonic()
    try:
        out = av.open(args.url, "w", format="flv", timeout=10)
        stream = out.add_stream(encoder, rate=args.fps)
        stream.width = args.width
        stream.height = args.height
        stream.pix_fmt = "yuv420p"
        stream.options = options(args.gop)
        audio = None
        if args.audio != "none":
            audio_encoder, audio_samples = AUDIO_ENCODERS[args.audio]
            audio = out.add_stream(audio_encoder, rate=SAMPLE_RATE)
            audio.layout = "stereo"
            audio_pcm = tone(audio_samples)

        def mux(pkts):
            nonlocal packets, keyframes
            for pkt in pkts:
                if pkt.stream is stream:
                    packets += 1
                    keyframes += int(pkt.is_keyframe)
                out.mux(pkt)

        total = int(args.seconds * args.fps)
        for i in range(total):
            # Real time: frame i leaves no earlier than i / fps after start.
            delay = started + i / args.fps - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            frame = synthetic_frame(i, args.width, args.height)
            frame.pts = i
            mux(stream.encode(frame))
            frames += 1
            # Audio up to the same time as the video, so the two interleave.
            while audio is not None and audio_frames * audio_samples <= (i + 1) * SAMPLE_RATE // args.fps:
                chunk = av.AudioFrame(format="s16", layout="stereo", samples=audio_samples)
                chunk.planes[0].update(audio_pcm)
                chunk.sample_rate = SAMPLE_RATE
                chunk.pts = audio_frames * audio_samples
                mux(audio.encode(chunk))
                audio_frames += 1
        mux(stream.encode(None))
        if audio is not None:
            mux(audio.encode(None))
        out.close()
    except Exception as e:  # noqa: BLE001 - reported as JSON to the Rust test
        result.update(ok=False, error=f"{type(e).__name__}: {e}", frames=frames, packets=packets)
        print(json.dumps(result), flush=True)
        return 1
    result.update(
        ok=True,
        frames=frames,
        packets=packets,
        keyframes=keyframes,
        audio_frames=audio_frames,
        seconds=round(time.monotonic() - started, 3),
    )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
