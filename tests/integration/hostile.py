#!/usr/bin/env python3
"""Clients for the fault, hostile-client and soak tests (not a general tool).

Every mode is bounded in time (SECONDS) and count; sources are loopback
addresses (127.0.0.0/8) or whatever address the caller's namespace has.

  hostile.py scrape URL SECONDS PERIOD [--auth U:P] [--cafile F]
             [--stop FILE] [--log FILE] [--src ADDR] [--slow-ms MS]
      GET URL every PERIOD s over one HTTP/1.1 keep-alive connection,
      reconnecting when the server closes it. Prints one line:
      "n=.. ok=.. fail=.. reconnects=.. max_ms=.. p50_ms=.. p90_ms=.. slow=.."
      (slow: answers taking --slow-ms or more, default 1000). --log writes
      "epoch_ms status latency_ms" lines (wall clock at the request's start).
  hostile.py authflood HOST PORT N SECONDS ADDRS [--cafile F] [--user U]
      N keep-alive connections spread over the source addresses in ADDRS
      (comma-separated), each sending requests with a wrong password as
      fast as answers come back. Prints "requests=.. statuses={...}".
  hostile.py connflood HOST PORT SRC HOLD SECONDS
      Holds HOLD connections from SRC, then connects and closes in a loop
      from SRC for SECONDS. Prints "held=.. attempts=.. refused=..".
  hostile.py stall HOST PORT N SRCS SECONDS MODE
      N connections over source addresses SRCS (comma-separated) that stall:
      MODE silent (connect, send nothing), halfhello (half a TLS
      ClientHello).
      Prints "opened=.. cut=.. still_open=.." after SECONDS.
  hostile.py slowheaders HOST PORT N SRCS SECONDS [--cafile F]
      N connections over source addresses SRCS (comma-separated; TLS when
      --cafile) dribbling header lines, one byte every 0.5 s. Prints "opened=.. cut=.. still_open=..".
  hostile.py stuckreader HOST PORT N SRC SECONDS PATH
      N connections that pipeline 50 requests for PATH and never read.
  hostile.py malformed HOST PORT SRC KIND [--cafile F]
      One malformed request; prints the status code or "cut".
"""
import argparse, itertools, os, select, socket, ssl, sys, time, base64

MALFORMED = {
    # Oversized
    "huge-url": b"GET /" + b"u" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "huge-header": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: " + b"h" * 200000 + b"\r\n\r\n",
    "huge-method": b"G" * 100000 + b" /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    "huge-auth": b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " +
        b"QUFB" * 20000 + b"\r\n\r\n",
    # Invalid methods and versions
    "method-lowercase": b"get /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    "method-binary": b"\x01\x02\x03 /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    "method-connect": b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n",
    "options-star": b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    "version-0.9": b"GET /metrics\r\n\r\n",
    "version-2": b"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n",
    "version-garbage": b"GET /metrics HTTP/1.x\r\nHost: x\r\n\r\n",
    "h2-preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    # NUL bytes and control characters
    "nul-in-header": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "nul-in-method": b"GE\x00T /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    "nul-in-auth": b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " +
        base64.b64encode(b"prometheus:sec\x00ret") + b"\r\n\r\n",
    "bare-lf": b"GET /metrics HTTP/1.1\nHost: x\n\n",
    "header-no-colon": b"GET /metrics HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
    "obs-fold": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n",
    "auth-bad-base64": b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic !!!*\r\n\r\n",
    "auth-no-colon": b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " +
        base64.b64encode(b"prometheus") + b"\r\n\r\n",
    "auth-unknown-scheme": b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc\r\n\r\n",
    "pipelined-500": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 500,
}


def connect(host, port, src=None, timeout=5.0, cafile=None):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if src:
        s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((host, port))
    if cafile:
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = False
        s = ctx.wrap_socket(s, server_hostname=host)
    return s


class Conn:
    """One HTTP/1.1 keep-alive connection; reconnects when closed."""

    def __init__(self, host, port, src=None, cafile=None, timeout=5.0):
        self.host, self.port, self.src, self.cafile = host, port, src, cafile
        self.timeout = timeout
        self.s = None
        self.buf = b""
        self.connects = 0

    def close(self):
        if self.s is not None:
            try:
                self.s.close()
            except OSError:
                pass
        self.s, self.buf = None, b""

    def request(self, path, headers=b""):
        """Returns (status, will_close); raises OSError on failure."""
        for attempt in (0, 1):
            fresh = self.s is None
            if fresh:
                self.s = connect(self.host, self.port, self.src, self.timeout, self.cafile)
                self.connects += 1
            try:
                self.s.settimeout(self.timeout)
                self.s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " +
                               self.host.encode() + b"\r\n" + headers + b"\r\n")
                return self._response()
            except (OSError, EOFError):
                self.close()
                if fresh or attempt:   # a fresh connection failing is a failure
                    raise
        raise OSError("unreachable")

    def _fill(self):
        c = self.s.recv(65536)
        if not c:
            raise EOFError
        self.buf += c

    def _response(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        hdr = {}
        for l in lines[1:]:
            k, _, v = l.partition(b":")
            hdr[k.strip().lower()] = v.strip().lower()
        close = hdr.get(b"connection") == b"close"
        if b"content-length" in hdr:
            n = int(hdr[b"content-length"])
            while len(self.buf) < n:
                self._fill()
            self.buf = self.buf[n:]
        elif hdr.get(b"transfer-encoding") == b"chunked":
            while True:
                while b"\r\n" not in self.buf:
                    self._fill()
                line, self.buf = self.buf.split(b"\r\n", 1)
                n = int(line.split(b";")[0], 16)
                while len(self.buf) < n + 2:
                    self._fill()
                self.buf = self.buf[n + 2:]
                if n == 0:
                    break
        else:   # until close
            try:
                while True:
                    self._fill()
            except EOFError:
                pass
            close = True
        if close:
            self.close()
        return status, close


def auth_header(cred):
    return b"Authorization: Basic " + base64.b64encode(cred.encode()) + b"\r\n"


def cmd_scrape(a):
    from urllib.parse import urlsplit
    u = urlsplit(a.url)
    port = u.port or (443 if u.scheme == "https" else 80)
    c = Conn(u.hostname, port, a.src, a.cafile if u.scheme == "https" else None,
             timeout=10.0)
    hdr = auth_header(a.auth) if a.auth else b""
    path = u.path or "/"
    lat, fails, slow, n = [], 0, 0, 0
    log = open(a.log, "w") if a.log else None
    t_start = time.monotonic()
    end = t_start + a.seconds
    while time.monotonic() < end and not (a.stop and os.path.exists(a.stop)):
        t0 = time.monotonic()
        wall = time.time()
        try:
            status, _ = c.request(path, hdr)
        except (OSError, EOFError, ValueError, IndexError):
            status = 0
            c.close()
        dt = (time.monotonic() - t0) * 1000
        n += 1
        if status == 200:
            lat.append(dt)
        else:
            fails += 1
        if dt >= a.slow_ms:
            slow += 1
        if log:
            log.write("%d %d %.1f\n" % (wall * 1000, status, dt))
            log.flush()
        rest = a.period - (time.monotonic() - t0)
        if rest > 0:
            time.sleep(rest)
    c.close()
    s = sorted(lat)
    q = lambda p: s[min(len(s) - 1, int(p * len(s)))] if s else -1
    print("n=%d ok=%d fail=%d reconnects=%d max_ms=%.1f p50_ms=%.1f p90_ms=%.1f slow=%d" %
          (n, len(s), fails, max(0, c.connects - 1), s[-1] if s else -1, q(0.5), q(0.9), slow),
          flush=True)


def cmd_authflood(a):
    addrs = a.addrs.split(",")
    conns = [Conn(a.host, a.port, addrs[i % len(addrs)], a.cafile, timeout=3.0)
             for i in range(a.n)]
    # One thread per connection would be 100 threads; a simple poll loop
    # with non-blocking sends keeps every connection busy instead.
    statuses, requests = {}, 0
    seq = itertools.count()
    end = time.monotonic() + a.seconds
    pending = {}
    # A new wrong password every request: a verdict cache keyed by the
    # credentials sees only misses, and bcrypt runs every time.
    req = lambda k: (b"GET /metrics HTTP/1.1\r\nHost: " + a.host.encode() + b"\r\n" +
                     auth_header("%s:wrong-%d-%d" % (a.user, os.getpid(), k)) + b"\r\n")
    while time.monotonic() < end:
        for c in conns:
            if c in pending:
                continue
            try:
                if c.s is None:
                    c.s = connect(a.host, a.port, c.src, 3.0, c.cafile)
                    c.connects += 1
                c.s.sendall(req(next(seq)))
                pending[c] = time.monotonic()
            except OSError:
                statuses["connect-error"] = statuses.get("connect-error", 0) + 1
                c.close()
        socks = {c.s: c for c in pending if c.s is not None}
        if not socks:
            time.sleep(0.05)
            continue
        r, _, _ = select.select(list(socks), [], [], 0.2)
        for s in r:
            c = socks[s]
            try:
                c.s.settimeout(3.0)
                st, _ = c._response()
                key = str(st)
            except (OSError, EOFError, ValueError, IndexError):
                key = "cut"
                c.close()
            statuses[key] = statuses.get(key, 0) + 1
            requests += 1
            del pending[c]
        now = time.monotonic()
        for c, t in list(pending.items()):
            if now - t > 5:
                statuses["timeout"] = statuses.get("timeout", 0) + 1
                c.close()
                del pending[c]
    for c in conns:
        c.close()
    print("requests=%d statuses=%s" % (requests, dict(sorted(statuses.items()))), flush=True)


def cmd_connflood(a):
    held = []
    for _ in range(a.hold):
        try:
            held.append(connect(a.host, a.port, a.src, 2.0))
        except OSError:
            break
    attempts = refused = 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end and attempts < 200000:
        attempts += 1
        try:
            s = connect(a.host, a.port, a.src, 0.5)
            s.setblocking(False)
            s.close()
        except OSError:
            refused += 1
    for s in held:
        s.close()
    print("held=%d attempts=%d refused=%d" % (len(held), attempts, refused), flush=True)


def watch(socks, seconds, feed=None):
    """Holds socks for SECONDS; feed(sock) is called every 0.5 s. Returns cut count."""
    live, cut = list(socks), 0
    end = time.monotonic() + seconds
    last = 0.0
    while time.monotonic() < end and live:
        now = time.monotonic()
        if feed and now - last >= 0.5:
            last = now
            for s in list(live):
                try:
                    feed(s)
                except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                    pass
                except OSError:
                    live.remove(s); cut += 1
        pl = select.poll()
        byfd = {s.fileno(): s for s in live}
        for fd in byfd:
            pl.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        for fd, _ in pl.poll(200):
            s = byfd[fd]
            try:
                if s.recv(4096) == b"":
                    live.remove(s); cut += 1
            except (BlockingIOError, ssl.SSLWantReadError):
                pass
            except OSError:
                live.remove(s); cut += 1
    return cut, len(live)


def open_many(host, port, n, srcs, cafile=None):
    socks = []
    for i in range(n):
        try:
            socks.append(connect(host, port, srcs[i % len(srcs)], 3.0, cafile))
        except OSError:
            pass
    print("connecting done", file=sys.stderr, flush=True)
    return socks


def cmd_stall(a):
    socks = open_many(a.host, a.port, a.n, a.srcs.split(","))
    if a.mode == "halfhello":
        # The first 40 bytes of a ClientHello that announces 512 bytes.
        hello = (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(29))
        for s in socks:
            try:
                s.sendall(hello)
            except OSError:
                pass
    for s in socks:
        s.setblocking(False)
    cut, still = watch(socks, a.seconds)
    for s in socks:
        s.close()
    print("opened=%d cut=%d still_open=%d" % (len(socks), cut, still), flush=True)


def cmd_slowheaders(a):
    socks = open_many(a.host, a.port, a.n, a.srcs.split(","), a.cafile)
    msg = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 4096
    pos = {}
    for s in socks:
        s.setblocking(False)

    def feed(s):
        i = pos.get(s, 0)
        if i < len(msg):
            s.send(msg[i:i + 1])
            pos[s] = i + 1
    cut, still = watch(socks, a.seconds, feed)
    for s in socks:
        s.close()
    print("opened=%d cut=%d still_open=%d" % (len(socks), cut, still), flush=True)


def cmd_stuckreader(a):
    socks = []
    req = (b"GET " + a.path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n") * 50
    for _ in range(a.n):
        try:
            s = connect(a.host, a.port, a.src, 3.0)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.setblocking(False)
            try:
                s.send(req)
            except BlockingIOError:
                pass
            socks.append(s)
        except OSError:
            pass
    print("connecting done", file=sys.stderr, flush=True)
    time.sleep(a.seconds)   # never read
    for s in socks:
        s.close()
    print("opened=%d" % len(socks), flush=True)


def cmd_malformed(a):
    try:
        s = connect(a.host, a.port, a.src, 5.0, a.cafile)
        try:
            s.sendall(MALFORMED[a.kind])
        except OSError:
            pass
        s.settimeout(5.0)
        data = b""
        while b"\r\n" not in data:
            c = s.recv(4096)
            if not c:
                break
            data += c
    except (OSError, socket.timeout):
        data = b""
    if data.startswith(b"HTTP/1."):
        print(data.split(b" ", 2)[1].decode())
    else:
        print("cut")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("scrape")
    s.add_argument("url"); s.add_argument("seconds", type=float); s.add_argument("period", type=float)
    s.add_argument("--auth"); s.add_argument("--cafile"); s.add_argument("--stop")
    s.add_argument("--log"); s.add_argument("--src")
    s.add_argument("--slow-ms", type=float, default=1000.0)
    s = sub.add_parser("authflood")
    s.add_argument("host"); s.add_argument("port", type=int); s.add_argument("n", type=int)
    s.add_argument("seconds", type=float); s.add_argument("addrs")
    s.add_argument("--cafile"); s.add_argument("--user", default="prometheus")
    s = sub.add_parser("connflood")
    s.add_argument("host"); s.add_argument("port", type=int); s.add_argument("src")
    s.add_argument("hold", type=int); s.add_argument("seconds", type=float)
    s = sub.add_parser("stall")
    s.add_argument("host"); s.add_argument("port", type=int); s.add_argument("n", type=int)
    s.add_argument("srcs"); s.add_argument("seconds", type=float)
    s.add_argument("mode", choices=["silent", "halfhello"])
    s = sub.add_parser("slowheaders")
    s.add_argument("host"); s.add_argument("port", type=int); s.add_argument("n", type=int)
    s.add_argument("srcs"); s.add_argument("seconds", type=float); s.add_argument("--cafile")
    s = sub.add_parser("stuckreader")
    s.add_argument("host"); s.add_argument("port", type=int); s.add_argument("n", type=int)
    s.add_argument("src"); s.add_argument("seconds", type=float); s.add_argument("path")
    s = sub.add_parser("malformed")
    s.add_argument("host"); s.add_argument("port", type=int); s.add_argument("src")
    s.add_argument("kind", choices=sorted(MALFORMED)); s.add_argument("--cafile")
    a = p.parse_args()
    globals()["cmd_" + a.cmd](a)


if __name__ == "__main__":
    main()
