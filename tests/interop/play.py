#!/usr/bin/env python3
"""Play an RTMP URL with PyAV and decode video frames.

Stops after --frames decoded video frames (or at the end of the stream).
Prints one JSON object on stdout:
  {"ok": true, "codec": "hevc"|"av1"|..., "decoder": "libdav1d"|...,
   "width": W, "height": H, "frames": N, "first_key": bool,
   "first_pts_s": float, "time_to_first_frame_s": float, "errors": [...],
   and, when the stream has audio, "audio_codec", "audio_frames",
   "audio_sample_rate"}
or {"ok": false, "error": "..."} and exits 1.
"""

import argparse
import json
import sys
import time

import av

# AVPictureType as PyAV 18 returns it (a plain int).
PICT_TYPES = {0: "?", 1: "I", 2: "P", 3: "B", 4: "S", 5: "SI", 6: "SP", 7: "BI"}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--timeout", type=float, default=10.0, help="open and read timeout, seconds")
    args = ap.parse_args()

    started = time.monotonic()
    result = {"frames": 0, "errors": []}
    try:
        container = av.open(args.url, "r", timeout=(args.timeout, args.timeout))
        if not container.streams.video:
            raise RuntimeError(f"no video stream among {container.streams}")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        result.update(codec=ctx.codec.canonical_name, decoder=ctx.codec.name)
        audio = container.streams.audio[0] if container.streams.audio else None
        if audio is not None:
            result.update(audio_codec=audio.codec_context.codec.canonical_name, audio_frames=0)
        for packet in container.demux([s for s in (stream, audio) if s is not None]):
            try:
                frames = packet.decode()
            except av.error.FFmpegError as e:
                result["errors"].append(f"{type(e).__name__}: {e}")
                continue
            if packet.stream is audio:
                result["audio_frames"] += len(frames)
                if frames:
                    result["audio_sample_rate"] = frames[0].sample_rate
                continue
            for frame in frames:
                if result["frames"] == 0:
                    result.update(
                        first_key=bool(frame.key_frame),
                        first_pict_type=PICT_TYPES.get(int(frame.pict_type), str(frame.pict_type)),
                        first_pts_s=float(frame.time) if frame.time is not None else None,
                        time_to_first_frame_s=round(time.monotonic() - started, 3),
                    )
                result["frames"] += 1
                result.update(width=frame.width, height=frame.height, format=frame.format.name)
            if result["frames"] >= args.frames:
                break
        container.close()
    except Exception as e:  # noqa: BLE001 - reported as JSON to the Rust test
        result.update(ok=False, error=f"{type(e).__name__}: {e}")
        print(json.dumps(result), flush=True)
        return 1
    result["ok"] = True
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
