#!/usr/bin/env python3
"""HTTP attacker and scraper for http_abuse.sh (not a general tool).

  http_attack.py probe PORT SRC KIND     one hostile request from SRC; prints
                                         the status line's code, or "cut"
  http_attack.py hold PORT N NADDR FIRST MODE SECONDS
                                         N connections spread over NADDR source
                                         addresses from 127.0.0.FIRST up; MODE
                                         idle (connect only), slow (a header
                                         byte every 2 s: slowloris) or garbage;
                                         holds them SECONDS, prints
                                         "opened=X refused=Y cut=Z"
  http_attack.py scrape PORT N PERIOD    N scrapes of /metrics from 127.0.0.1,
                                         PERIOD s apart; prints "ok=X fail=Y
                                         max_ms=... p50_ms=... p99_ms=..."
  http_attack.py flood PORT SRC HOLD SECONDS MAX
                                         HOLD idle connections from SRC, then
                                         connect from SRC in a loop for SECONDS
                                         (at most MAX times), each waiting for
                                         the server to close (refused) or 1 s
                                         (accepted); prints "held=H attempts=A
                                         refused=R accepted=X"
"""
import os, resource, select, socket, sys, time

def src_addr(i, first):
    n = first + i            # 127.0.0.2 .. 127.0.x.y
    return "127.0.%d.%d" % (n // 250, 1 + n % 250) if n >= 250 else "127.0.0.%d" % n

def connect(port, src, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s

def read_status(s, timeout=5.0):
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        pass
    if data.startswith(b"HTTP/1."):
        return data.split(b" ", 2)[1].decode()
    return "cut"

def probe(port, src, kind):
    host = b"Host: 127.0.0.1\r\n"
    reqs = {
        "long-url": b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\n" + host + b"\r\n",
        "long-header": b"GET /metrics HTTP/1.1\r\n" + host + b"X-Big: " + b"b" * 40000 + b"\r\n\r\n",
        "many-headers": b"GET /metrics HTTP/1.1\r\n" + host +
            b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(2000)) + b"\r\n",
        "unknown-method": b"BREW /metrics HTTP/1.1\r\n" + host + b"\r\n",
        "bad-version": b"GET /metrics HTTP/7.3\r\n" + host + b"\r\n",
        "no-host": b"GET /metrics HTTP/1.1\r\n\r\n",
        "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64) + b"\r\n\r\n",
        "nul-in-url": b"GET /met\x00rics HTTP/1.1\r\n" + host + b"\r\n",
        "big-body": b"POST /metrics HTTP/1.1\r\n" + host + b"Content-Length: 10000000\r\n\r\n" + b"x" * 65536,
        "chunked-body": b"POST /metrics HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\n" +
            b"ffffff\r\n" + b"x" * 65536,
        "bad-content-length": b"GET /metrics HTTP/1.1\r\n" + host + b"Content-Length: -1\r\n\r\n",
    }
    if kind == "pipelined-garbage":
        # One good request, then garbage on the same connection: the good one
        # is answered, the garbage gets 400 or the connection is cut.
        s = connect(port, src)
        s.sendall(b"GET /healthz HTTP/1.1\r\n" + host + b"\r\n" + b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
        s.settimeout(5)
        data = b""
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                data += c
        except (socket.timeout, ConnectionResetError):
            pass
        codes = [p.split(b" ", 2)[1].decode() for p in data.split(b"HTTP/1.1")[0:0]] or []
        codes = [l.split(b" ")[1].decode() for l in data.split(b"\r\n") if l.startswith(b"HTTP/1.")]
        print(",".join(codes + ["cut"]))
        return
    s = connect(port, src)
    try:
        s.sendall(reqs[kind])
    except (BrokenPipeError, ConnectionResetError):
        pass
    print(read_status(s))

def hold(port, n, naddr, first, mode, seconds):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 256)), hard))
    socks, refused = [], 0
    t_end = time.monotonic() + seconds
    for i in range(n):
        src = src_addr(i % naddr, first)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((src, 0))
        except OSError:
            s.close(); refused += 1; continue
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            s.close(); refused += 1; continue
        socks.append(s)
    print("connecting done", file=sys.stderr, flush=True)
    # Wait for connects to finish, then feed slowly.
    cut = 0
    last = 0.0
    sent = 0
    live = list(socks)
    while time.monotonic() < t_end and live:
        now = time.monotonic()
        if mode in ("slow", "garbage") and now - last >= 2.0:
            last = now
            for s in list(live):
                try:
                    if mode == "slow":
                        s.send(b"GET /metrics HTTP/1.1\r\n" if sent == 0 else b"X-a: b\r\n")
                    else:
                        s.send(os.urandom(16))
                except BlockingIOError:
                    pass
                except OSError:
                    live.remove(s); cut += 1
            sent += 1
        # Notice closed connections (poll: select() stops at fd 1024).
        if live:
            pl = select.poll()
            byfd = {s.fileno(): s for s in live}
            for fd in byfd:
                pl.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
            for fd, ev in pl.poll(200):
                s = byfd[fd]
                try:
                    if s.recv(4096) == b"":
                        live.remove(s); cut += 1
                except BlockingIOError:
                    pass
                except OSError:
                    live.remove(s); cut += 1
        else:
            time.sleep(0.2)
    print("opened=%d refused=%d cut=%d still_open=%d" % (len(socks), refused, cut, len(live)))
    for s in socks:
        s.close()

def scrape(port, n, period):
    lat, fails = [], 0
    req = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    for _ in range(n):
        t0 = time.monotonic()
        try:
            s = connect(port, "127.0.0.1", timeout=2.0)
            s.sendall(req)
            data = b""
            while True:
                c = s.recv(65536)
                if not c:
                    break
                data += c
            s.close()
            ok = data.startswith(b"HTTP/1.1 200")
        except OSError:
            ok = False
        dt = (time.monotonic() - t0) * 1000
        if ok:
            lat.append(dt)
        else:
            fails += 1
        time.sleep(period)
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else -1
    print("ok=%d fail=%d max_ms=%.1f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f" %
          (len(lat), fails, lat[-1] if lat else -1, q(0.5), q(0.9), q(0.99)))

def flood(port, src, nhold, seconds, nmax):
    held = []
    for _ in range(nhold):
        held.append(connect(port, src))
    time.sleep(0.5)         # let serve accept them all
    attempts = refused = accepted = 0
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end and attempts < nmax:
        attempts += 1
        try:
            s = connect(port, src, timeout=3.0)
        except OSError:
            refused += 1     # the accept queue was full: not reaching serve
            continue
        try:
            refused += s.recv(1) == b""
        except socket.timeout:
            accepted += 1
        except OSError:
            refused += 1
        s.close()
    # Still held? (an idle connection lives HTTP_TIMEOUT_SECONDS)
    alive = 0
    for s in held:
        s.setblocking(False)
        try:
            alive += s.recv(1) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
        s.close()
    print("held=%d attempts=%d refused=%d accepted=%d" % (alive, attempts, refused, accepted))

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "probe":
        probe(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif cmd == "hold":
        hold(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
             sys.argv[6], float(sys.argv[7]))
    elif cmd == "scrape":
        scrape(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "flood":
        flood(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]),
              int(sys.argv[6]))
