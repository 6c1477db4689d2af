"""Pull the codec config box body and two samples (the first sync sample and
the first non-sync sample) out of a one-track MP4 that ffmpeg wrote.

    python3 extract_mp4_config.py in.mp4 hvcC ffmpeg_x265_320x240

writes ffmpeg_x265_320x240.hvcC, .keyframe and .interframe."""
import struct, sys

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}

def boxes(data, start, end):
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        yield kind, pos + header, pos + size
        pos += size

def find(data, start, end, path):
    for kind, body, stop in boxes(data, start, end):
        if kind == path[0]:
            if len(path) == 1:
                return body, stop
            return find(data, body, stop, path[1:])
    return None

def main(mp4, config_kind, out_prefix):
    data = open(mp4, "rb").read()
    stbl = find(data, 0, len(data), [b"moov", b"trak", b"mdia", b"minf", b"stbl"])
    sb, se = stbl
    stsd_b, stsd_e = find(data, sb, se, [b"stsd"])
    # stsd: fullbox(4) entry_count(4), then the sample entry box.
    entry = next(boxes(data, stsd_b + 8, stsd_e))
    kind, eb, ee = entry
    # Visual sample entry: 78 bytes before child boxes; audio: 28.
    skip = 78 if kind in (b"hvc1", b"hev1", b"av01", b"vp09") else 28
    cfg = find(data, eb + skip, ee, [config_kind])
    open(out_prefix + "." + config_kind.decode(), "wb").write(data[cfg[0]:cfg[1]])
    # Sample table.
    b, e = find(data, sb, se, [b"stsz"])
    size_all, count = struct.unpack(">II", data[b + 4:b + 12])
    sizes = [size_all] * count if size_all else list(struct.unpack(">%dI" % count, data[b + 12:b + 12 + 4 * count]))
    b, e = find(data, sb, se, [b"stco"])
    n = struct.unpack(">I", data[b + 4:b + 8])[0]
    chunks = struct.unpack(">%dI" % n, data[b + 8:b + 8 + 4 * n])
    b, e = find(data, sb, se, [b"stsc"])
    n = struct.unpack(">I", data[b + 4:b + 8])[0]
    stsc = [struct.unpack(">III", data[b + 8 + 12 * i:b + 20 + 12 * i]) for i in range(n)]
    offsets = []
    s = 0
    for ci, chunk_off in enumerate(chunks, start=1):
        per = [spc for first, spc, _ in stsc if first <= ci][-1]
        off = chunk_off
        for _ in range(per):
            if s >= count:
                break
            offsets.append(off)
            off += sizes[s]
            s += 1
    stss = find(data, sb, se, [b"stss"])
    if stss:
        b, e = stss
        n = struct.unpack(">I", data[b + 4:b + 8])[0]
        sync = set(struct.unpack(">%dI" % n, data[b + 8:b + 8 + 4 * n]))
    else:
        sync = set(range(1, count + 1))
    samples = [data[o:o + z] for o, z in zip(offsets, sizes)]
    key = next(i for i in range(count) if i + 1 in sync)
    open(out_prefix + ".keyframe", "wb").write(samples[key])
    delta = [i for i in range(count) if i + 1 not in sync]
    if delta:
        open(out_prefix + ".interframe", "wb").write(samples[delta[0]])
    print(out_prefix, kind.decode(), "config", cfg[1] - cfg[0], "bytes; key", len(samples[key]),
          "delta", len(samples[delta[0]]) if delta else None, "samples", count, "sync", sorted(sync)[:5])

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2].encode(), sys.argv[3])
