import socket, sys, os
out = sys.argv[1]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 19350)); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.settimeout(10)
def rd(n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x: raise SystemExit("eof")
        b += x
    return b
c0c1 = rd(1537)
c.sendall(b"\x03" + bytes(1536) + c0c1[1:])
rd(1536)
chunk = 128
msgs = {}
hdrs = {}
while True:
    b0 = rd(1)[0]; fmt = b0 >> 6; csid = b0 & 0x3f
    if csid == 0: csid = 64 + rd(1)[0]
    elif csid == 1: x = rd(2); csid = 64 + x[0] + 256 * x[1]
    h = hdrs.get(csid, {})
    if fmt == 0:
        m = rd(11); h = dict(ts=int.from_bytes(m[0:3], 'big'), len=int.from_bytes(m[3:6], 'big'), typ=m[6], sid=int.from_bytes(m[7:11], 'little'))
    elif fmt == 1:
        m = rd(7); h = dict(h, len=int.from_bytes(m[3:6], 'big'), typ=m[6])
    elif fmt == 2:
        rd(3)
    hdrs[csid] = h
    buf = msgs.get(csid, b"")
    take = min(chunk, h["len"] - len(buf))
    buf += rd(take)
    if len(buf) < h["len"]:
        msgs[csid] = buf; continue
    msgs[csid] = b""
    print("message type", h["typ"], "len", h["len"], file=sys.stderr)
    if h["typ"] == 1:
        chunk = int.from_bytes(buf[:4], 'big')
    if h["typ"] == 20:
        open(out, "wb").write(buf); break
c.close()
