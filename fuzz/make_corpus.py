#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Seeds are small slices of the real captures in protocols/tests/data and
media/tests/data (ffmpeg 5.1), laid out as each target reads its input (see
the doc comment at the top of each fuzz_targets/*.rs), plus a few hand-made
inputs for what the captures lack (Enhanced RTMP bodies, HTTP requests).
Running it again rewrites the same files.

    python3 fuzz/make_corpus.py
"""

import pathlib
import struct

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
RTMP_DATA = ROOT / "protocols" / "tests" / "data"
FLV_FILE = ROOT / "media" / "tests" / "data" / "ffmpeg_h264_aac.flv"

# C0 C1 C2: where the chunk stream of a capture starts.
HANDSHAKE = 1 + 2 * 1536

PUBLISH = (RTMP_DATA / "ffmpeg_publish_h264_aac.bin").read_bytes()
PUBLISH_EXT = (RTMP_DATA / "ffmpeg_publish_extended_timestamp.bin").read_bytes()
PLAY = (RTMP_DATA / "ffmpeg_play.bin").read_bytes()
FLV = FLV_FILE.read_bytes()


def splits(sizes, stream):
    """The arcly_fuzz::Splits layout: count, read sizes, stream."""
    return bytes([len(sizes), *sizes]) + stream


def flv_tags(data):
    """(offset, end, type, timestamp, body) of each tag of an FLV file."""
    pos = int.from_bytes(data[5:9], "big") + 4
    while pos + 11 <= len(data):
        size = int.from_bytes(data[pos + 1 : pos + 4], "big")
        timestamp = int.from_bytes(data[pos + 4 : pos + 7], "big") | data[pos + 7] << 24
        end = pos + 11 + size + 4
        yield pos, end, data[pos], timestamp, data[pos + 11 : pos + 11 + size]
        pos = end


TAGS = list(flv_tags(FLV))
METADATA_BODY = TAGS[0][4]
AVC_SEQUENCE_HEADER = TAGS[1][4]
AAC_SEQUENCE_HEADER = TAGS[2][4]
AVC_INTER_FRAME = next(t[4] for t in TAGS if t[2] == 9 and t[4][0] >> 4 == 2 and len(t[4]) < 64)
AAC_FRAME = TAGS[8][4]


def amf0_string(text):
    raw = text.encode()
    return b"\x02" + len(raw).to_bytes(2, "big") + raw


def amf0_number(value):
    return b"\x00" + struct.pack(">d", value)


# Session script operations (rtmp_server_session.rs, Op::parse).
FEED_SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 16, 17, 31, 32, 64, 127, 128, 129,
              255, 256, 1000, 1536, 1537, 3072, 3073, 4096, 4097, 8192, 16384, 65536, 0]
CLOCK_STEPS_MS = [0, 1, 2, 10, 100, 500, 999, 1000, 2000, 4999, 5000, 7500, 9999, 10000,
                  10001, 12000, 14999, 15000, 15001, 20000, 25000, 29999, 30000, 30001,
                  45000, 60000, 120000, 600000, 3600000, 86400000, 31536000000]
PENDING, CONNECT, PUBLISH_REQ, PLAY_REQ = range(4)


def feed(size):
    return 0x00 | FEED_SIZES.index(size)


def feed_until_request(size):
    return 0x20 | FEED_SIZES.index(size)


def advance(ms=None):
    return 0x40 | (31 if ms is None else CLOCK_STEPS_MS.index(ms))


def accept(target=PENDING):
    return 0x80 | target


def reject(target=PENDING, reason=0):
    return 0xA0 | reason << 2 | target


END_OF_STREAM = 0xC0
EMPTY_READ = 0xE0


def session(config, script, stream):
    return bytes([config, len(script), *script]) + stream


SEEDS = {
    "rtmp_handshake": {
        # ffmpeg's digest C1 (publisher) and signed C2 (player), then chunks.
        "ffmpeg_publish_whole": splits([], PUBLISH[: HANDSHAKE + 64]),
        "ffmpeg_publish_split": splits([1, 200, 0], PUBLISH[: HANDSHAKE + 64]),
        "ffmpeg_play_whole": splits([], PLAY[: HANDSHAKE + 64]),
        "ffmpeg_play_c0c1_only": splits([255], PLAY[: 1 + 1536]),
        "bad_version": splits([], b"\x06" + PLAY[1:64]),
    },
    "rtmp_chunk_decoder": {
        "ffmpeg_publish": bytes([0]) + splits([], PUBLISH[HANDSHAKE:]),
        "ffmpeg_publish_extended_timestamp": bytes([0]) + splits([3, 1, 7, 128], PUBLISH_EXT[HANDSHAKE:]),
        "ffmpeg_play": bytes([0]) + splits([], PLAY[HANDSHAKE:]),
        "ffmpeg_play_bytewise_small_limits": bytes([0b1011_1011]) + splits([1], PLAY[HANDSHAKE:]),
        "ffmpeg_publish_start_split": bytes([0]) + splits([2, 13, 200], PUBLISH[HANDSHAKE : HANDSHAKE + 2000]),
    },
    "rtmp_server_session": {
        # The whole capture in one read, every request accepted.
        "ffmpeg_publish": session(0, [], PUBLISH),
        "ffmpeg_publish_extended_timestamp": session(
            0, [feed_until_request(129), accept(), feed_until_request(7), advance(1000), accept()], PUBLISH_EXT
        ),
        "ffmpeg_publish_small_limits": session(1, [], PUBLISH[:5000]),
        "ffmpeg_publish_connect_rejected": session(0, [feed_until_request(1537), reject()], PUBLISH[:5000]),
        "ffmpeg_publish_bad_name": session(
            0, [feed_until_request(1537), accept(), feed_until_request(1537), reject(PENDING, 0)], PUBLISH[:5000]
        ),
        "ffmpeg_publish_unauthorized": session(
            0, [feed_until_request(0), accept(), reject(PUBLISH_REQ, 1)], PUBLISH[:5000]
        ),
        "ffmpeg_play_end_of_stream": session(
            0,
            [feed_until_request(1537), accept(), feed_until_request(1537), accept(),
             END_OF_STREAM, advance(15000), advance()],
            PLAY,
        ),
        "ffmpeg_play_not_found": session(0, [feed_until_request(0), accept(), reject(PLAY_REQ, 0)], PLAY),
        "ffmpeg_play_bytewise_short_timers": session(
            0b1110, [feed_until_request(1), accept(), feed_until_request(1), accept(), advance(1000)], PLAY
        ),
        "handshake_timeout_and_calls_out_of_turn": session(
            0,
            [accept(CONNECT), accept(PUBLISH_REQ), reject(PLAY_REQ), END_OF_STREAM, EMPTY_READ,
             feed(1000), advance(10000)],
            PLAY[:1000],
        ),
    },
    "amf0_decode": {
        "ffmpeg_publish_connect": (RTMP_DATA / "ffmpeg_publish_connect.bin").read_bytes(),
        "ffmpeg_play_connect": (RTMP_DATA / "ffmpeg_play_connect.bin").read_bytes(),
        "ffmpeg_on_metadata": METADATA_BODY,
        "ffmpeg_set_data_frame": amf0_string("@setDataFrame") + METADATA_BODY,
        "publish_command": amf0_string("publish") + amf0_number(5) + b"\x05"
        + amf0_string("cam1?token=s3cret") + amf0_string("live"),
        # Every type: number, boolean, string, null, undefined, date, long
        # string, xml, object, ecma array, strict array, typed object.
        "every_type": bytes.fromhex(
            "003ff0000000000000" "0101" "02000268 69" "05" "06"
            "0b4275d3ef798000000000" "0c0000000178" "0f000000033c613e"
            "030001610500 0009" "080000000100016201000000 09"
            "0a000000020506" "100001430000 09"
        ),
    },
    "flv_tags": {
        # Even mode: an FLV stream. Header, metadata, both sequence headers
        # and the first frames, whole or split.
        "ffmpeg_flv_start": bytes([0]) + splits([], FLV[: TAGS[8][1]]),
        "ffmpeg_flv_start_split": bytes([0]) + splits([5, 100, 1, 0], FLV[:1000]),
        "ffmpeg_flv_end_of_sequence": bytes([0]) + splits([], FLV[:13] + FLV[TAGS[-1][0] :]),
        # Odd modes: one body; 1 video, 3 audio, 5 script; a u32 timestamp.
        "avc_sequence_header": bytes([1]) + (0).to_bytes(4, "big") + AVC_SEQUENCE_HEADER,
        "avc_inter_frame": bytes([1]) + (120).to_bytes(4, "big") + AVC_INTER_FRAME,
        "aac_sequence_header": bytes([3]) + (0).to_bytes(4, "big") + AAC_SEQUENCE_HEADER,
        "aac_frame": bytes([3]) + (103).to_bytes(4, "big") + AAC_FRAME,
        "on_metadata": bytes([5]) + (0).to_bytes(4, "big") + METADATA_BODY,
        # Enhanced RTMP video: hvc1 sequence start, hvc1 coded frames with a
        # composition time, av01 coded frames, a nanosecond ModEx on vp09,
        # and a multitrack packet whose track 0 is avc1.
        "hvc1_sequence_start": bytes([1]) + bytes(4) + b"\x90hvc1" + bytes.fromhex("01016000000090"),
        "hvc1_coded_frames": bytes([1]) + (40).to_bytes(4, "big") + b"\x91hvc1\x00\x00\x28" + bytes(8),
        "av01_coded_frames": bytes([1]) + (40).to_bytes(4, "big") + b"\xa1av01" + bytes.fromhex("12000a0b"),
        "vp09_mod_ex_nanos": bytes([1]) + (40).to_bytes(4, "big") + b"\x97\x02\x07\xa1\x20\x01vp09" + bytes(6),
        "avc1_multitrack": bytes([1]) + (40).to_bytes(4, "big")
        + b"\x96\x11avc1" + b"\x01\x00\x00\x02ab" + b"\x00\x00\x00\x07\x00\x00\x00" + bytes(4),
        # Enhanced RTMP audio: Opus sequence start, mp4a coded frames, a
        # many-codec multitrack packet; and a legacy MP3 frame.
        "opus_sequence_start": bytes([3]) + bytes(4) + b"\x90Opus" + b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00",
        "mp4a_coded_frames": bytes([3]) + (23).to_bytes(4, "big") + b"\x91mp4a" + bytes.fromhex("21100465"),
        "mp3_multitrack": bytes([3]) + (23).to_bytes(4, "big") + b"\x95\x21.mp3\x00\x00\x00\x04" + bytes.fromhex("fffb9064"),
        "mp3_legacy": bytes([3]) + (23).to_bytes(4, "big") + bytes.fromhex("2ffffb906400000000"),
    },
    "http_request": {
        "http_flv_get": bytes([0]) + splits([], b"GET /live/cam1.flv?token=a%20b HTTP/1.1\r\nHost: origin\r\nUser-Agent: ffmpeg\r\n\r\n"),
        "http10_keep_alive_split": bytes([0]) + splits([1, 7, 30], b"GET /live/cam1.m3u8 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
        "pipelined_with_blank_lines": bytes([0]) + splits(
            [9, 0], b"\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b?x=1&token=%7e HTTP/1.1\nHost: x\n\n"
        ),
        "body_refused_small_limits": bytes([0b1011]) + splits([], b"POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"),
    },
    "codec_records": {
        # The avcC of ffmpeg's H.264 sequence header, its SPS, and the AAC
        # AudioSpecificConfig (44.1 kHz mono with the SBR signalling tail).
        "ffmpeg_avcc": AVC_SEQUENCE_HEADER[5:],
        "ffmpeg_sps": AVC_SEQUENCE_HEADER[5 + 8 : 5 + 8 + int.from_bytes(AVC_SEQUENCE_HEADER[5 + 6 : 5 + 8], "big")],
        "ffmpeg_aac_asc": AAC_SEQUENCE_HEADER[2:],
    },
}


def main():
    total = 0
    for target, seeds in SEEDS.items():
        folder = FUZZ / "corpus" / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (folder / name).write_bytes(data)
            total += len(data)
    print(f"{sum(map(len, SEEDS.values()))} seeds, {total} bytes")


if __name__ == "__main__":
    main()
