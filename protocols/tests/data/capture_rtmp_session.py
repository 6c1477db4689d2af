# Records every byte an RTMP client sends, from C0 to the end, while playing
# just enough of a server for the client to get there:
#   python3 capture_rtmp_session.py publish OUT.bin [PORT]   # answers up to
#       NetStream.Publish.Start and records until the client hangs up;
#   python3 capture_rtmp_session.py play OUT.bin [PORT]      # answers up to
#       NetStream.Play.Start, waits a moment for what follows, and hangs up.
# The server side is canned. The handshake is the one arcly's ServerHandshake
# sends, byte for byte (S1 and S2 are derived from C1 with SHA-256, so they
# are reproducible): a digest S1 and signed S2 for a C1 with a digest (ffmpeg
# checks both when it plays), else the plain echo. The replies after it are
# fixed. The capture is the client's half only; tests feed it to the real
# ServerSession, which sends the same S1 and so can check the C2 signature.
import hashlib, hmac, socket, struct, sys, time

mode, out = sys.argv[1], sys.argv[2]
port = int(sys.argv[3]) if len(sys.argv) > 3 else 19350

def amf_str(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b

def amf_num(n):
    return b"\x00" + struct.pack(">d", n)

def amf_obj(pairs):
    body = b"".join(struct.pack(">H", len(k)) + k.encode() + v for k, v in pairs)
    return b"\x03" + body + b"\x00\x00\x09"

NULL = b"\x05"

def message(csid, type_id, stream_id, body):
    # Type 0 header, then type 3 continuations at the default chunk size 128.
    out = bytes([csid]) + b"\x00\x00\x00" + struct.pack(">I", len(body))[1:] \
        + bytes([type_id]) + struct.pack("<I", stream_id)
    for i in range(0, len(body), 128):
        if i:
            out += bytes([0xc0 | csid])
        out += body[i:i + 128]
    return out

def status(code):
    return amf_str("onStatus") + amf_num(0) + NULL + amf_obj([
        ("level", amf_str("status")), ("code", amf_str(code)),
        ("description", amf_str(code))])

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(1); srv.settimeout(20)
conn, _ = srv.accept(); conn.settimeout(5)
recorded = bytearray()

def rd(n):
    b = b""
    while len(b) < n:
        x = conn.recv(n - len(b))
        if not x:
            raise EOFError
        b += x
    recorded.extend(b)
    return b

TAIL = bytes.fromhex("f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae")
PLAYER_KEY = b"Genuine Adobe Flash Player 001" + TAIL
SERVER_KEY = b"Genuine Adobe Flash Media Server 001" + TAIL

def fill(seed, label, n):
    return b"".join(hashlib.sha256(seed + label + struct.pack(">I", i)).digest()
                    for i in range((n + 31) // 32))[:n]

def digest_offset(packet, block):
    return block + 4 + sum(packet[block:block + 4]) % 728

def mac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()

def find_digest(packet, key):
    for block in (8, 772):
        at = digest_offset(packet, block)
        if mac(key, packet[:at] + packet[at + 32:]) == packet[at:at + 32]:
            return block, at
    return None

c1 = rd(1537)[1:]
seed = hashlib.sha256(c1).digest()
s1 = bytearray(fill(seed, b"s1", 1536))
s1[0:4] = bytes(4)
found = find_digest(c1, PLAYER_KEY[:30]) if c1[4:8] != bytes(4) else None
if found:
    block, at = found
    s1[4:8] = bytes([4, 5, 0, 1])
    s1_at = digest_offset(s1, block)
    s1[s1_at:s1_at + 32] = mac(SERVER_KEY[:36], bytes(s1[:s1_at] + s1[s1_at + 32:]))
    s2 = bytearray(fill(seed, b"s2", 1536))
    s2[1504:] = mac(mac(SERVER_KEY, c1[at:at + 32]), bytes(s2[:1504]))
    print("digest handshake, block at", block, file=sys.stderr)
else:
    s1[4:8] = bytes(4)
    s2 = c1
conn.sendall(b"\x03" + bytes(s1) + bytes(s2))
rd(1536)

chunk, hdrs, msgs = 128, {}, {}
play_started = None
try:
    while True:
        if play_started and time.time() - play_started > 1.0:
            break
        b0 = rd(1)[0]; fmt = b0 >> 6; csid = b0 & 0x3f
        if csid == 0: csid = 64 + rd(1)[0]
        elif csid == 1: x = rd(2); csid = 64 + x[0] + 256 * x[1]
        h = dict(hdrs.get(csid, {}))
        if fmt == 0:
            m = rd(11)
            h = dict(ts=int.from_bytes(m[0:3], "big"), len=int.from_bytes(m[3:6], "big"),
                     typ=m[6], sid=int.from_bytes(m[7:11], "little"), ext=m[0:3] == b"\xff\xff\xff")
        elif fmt == 1:
            m = rd(7)
            h.update(len=int.from_bytes(m[3:6], "big"), typ=m[6], ext=m[0:3] == b"\xff\xff\xff")
        elif fmt == 2:
            m = rd(3); h.update(ext=m == b"\xff\xff\xff")
        if h.get("ext"):
            rd(4)
        hdrs[csid] = h
        buf = msgs.get(csid, b"")
        buf += rd(min(chunk, h["len"] - len(buf)))
        if len(buf) < h["len"]:
            msgs[csid] = buf
            continue
        msgs[csid] = b""
        typ = h["typ"]
        if typ == 1:
            chunk = int.from_bytes(buf[:4], "big")
        if typ != 20:
            continue
        name = buf[3:3 + int.from_bytes(buf[1:3], "big")].decode()
        tid = struct.unpack(">d", buf[4 + len(name):12 + len(name)])[0]
        print("command", name, tid, file=sys.stderr)
        if name == "connect":
            conn.sendall(message(2, 5, 0, struct.pack(">I", 2500000))
                         + message(2, 6, 0, struct.pack(">I", 2500000) + b"\x02")
                         + message(3, 20, 0, amf_str("_result") + amf_num(tid) + amf_obj([
                             ("fmsVer", amf_str("FMS/3,0,1,123")), ("capabilities", amf_num(31))])
                             + amf_obj([("level", amf_str("status")),
                                        ("code", amf_str("NetConnection.Connect.Success")),
                                        ("description", amf_str("ok")),
                                        ("objectEncoding", amf_num(0))])))
        elif name == "createStream":
            conn.sendall(message(3, 20, 0, amf_str("_result") + amf_num(tid) + NULL + amf_num(1)))
        elif name == "publish":
            conn.sendall(message(5, 20, 1, status("NetStream.Publish.Start")))
        elif name == "play":
            conn.sendall(message(2, 4, 0, b"\x00\x00\x00\x00\x00\x01")
                         + message(5, 20, 1, status("NetStream.Play.Start")))
            play_started = time.time()
except (EOFError, socket.timeout):
    pass
conn.close()
open(out, "wb").write(recorded)
print("recorded", len(recorded), "bytes", file=sys.stderr)
