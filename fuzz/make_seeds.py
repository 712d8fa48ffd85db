#!/usr/bin/env python3
"""Write the hand-made seed inputs of fuzz/corpus/<target>/ (edge cases and
small generated captures). Idempotent: files are named "seed-*" and
rewritten with the same bytes. Fixture copies ("fixture-*") come from
fuzz/run.sh --seed; inputs found by fuzzing are named by their SHA-1.

usage: python3 fuzz/make_seeds.py   (from the repository top)
"""
import os
import struct

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(TOP, "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# --- netstat / snmp --------------------------------------------------------
TCPEXT_NAMES = ("SyncookiesSent SyncookiesRecv SyncookiesFailed PAWSPassive "
                "PAWSActive PAWSEstab PAWSTimewait PAWSOldAck TSEcrRejected "
                "TW TWRecycled TWKilled ListenOverflows ListenDrops "
                "TCPACKSkippedTimeWait TCPTimeWaitOverflow")
N = len(TCPEXT_NAMES.split())
vals = " ".join(str(i) for i in range(N))
put("netstat", "minimal", "TcpExt: %s\nTcpExt: %s\n" % (TCPEXT_NAMES, vals))
put("netstat", "no-final-newline", "TcpExt: %s\nTcpExt: %s" % (TCPEXT_NAMES, vals))
put("netstat", "crlf", "TcpExt: %s\r\nTcpExt: %s\r\n" % (TCPEXT_NAMES, vals))
put("netstat", "tabs", "TcpExt:\t%s\nTcpExt:\t%s\n" % (TCPEXT_NAMES.replace(" ", "\t"), vals.replace(" ", "\t")))
put("netstat", "u64-max", "TcpExt: TW PAWSPassive\nTcpExt: 18446744073709551615 0\n")
put("netstat", "u64-overflow", "TcpExt: TW\nTcpExt: 18446744073709551616\n")
put("netstat", "negative", "Tcp: MaxConn CurrEstab\nTcp: -1 -5\n")
put("netstat", "mismatch-count", "TcpExt: TW PAWSPassive\nTcpExt: 1\n")
put("netstat", "mismatch-group", "TcpExt: TW\nIpExt: 1\n")
put("netstat", "header-only", "TcpExt: TW PAWSPassive\n")
put("netstat", "no-colon", "TcpExt TW\nTcpExt 1\n")
put("netstat", "empty-groups", ":\n:\n")
put("netstat", "blank-lines", "\n \n\t\nTcpExt: TW\nTcpExt: 5\n\n")
put("netstat", "nul-bytes", b"TcpExt: TW\x00X\nTcpExt: 1\x002\n")
put("netstat", "duplicate-names", "TcpExt: TW TW TW\nTcpExt: 1 2 3\n")
put("netstat", "long-line", "TcpExt: " + " ".join("F%d" % i for i in range(1500)) + "\nTcpExt: " + " ".join("1" for _ in range(1500)) + "\n")
put("netstat", "snmp-tcp", "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\nTcp: 1 200 120000 -1 1822310 4410233 5120 2210 412 88123456 85012345 40211 0 61022 0\n")

# --- sockstat --------------------------------------------------------------
put("sockstat", "v4", "sockets: used 468\nTCP: inuse 88 orphan 1 tw 2100 alloc 92 mem 40\nUDP: inuse 4 mem 3\n")
put("sockstat", "v6", "TCP6: inuse 6\nUDP6: inuse 2\n")
put("sockstat", "odd-pairs", "TCP: inuse 88 orphan\n")
put("sockstat", "bad-value", "TCP: inuse x8\n")
put("sockstat", "int64-min", "TCP: inuse -9223372036854775808 tw 9223372036854775807\n")
put("sockstat", "int64-over", "TCP: tw 9223372036854775808\n")
put("sockstat", "no-colon", "TCP inuse 1\n")
put("sockstat", "crlf-tabs", "TCP:\tinuse\t1\r\nTCP6: inuse 2\r\n")
put("sockstat", "future-key", "TCP: inuse 1 orphan 0 tw 3 alloc 4 mem 5 newkey 6\n")
put("sockstat", "no-newline", "TCP: inuse 1")

# --- sysctl values, key names, kernel releases ----------------------------
for name, text in [
    ("one", "1\n"), ("zero", "0\n"), ("range", "32768\t60999\n"),
    ("three", "4096 131072 6291456\n"), ("four", "1 2 3 4\n"),
    ("negative", "-1\n"), ("int64-min", "-9223372036854775808\n"),
    ("int64-over", "9223372036854775808\n"), ("blank", " \n"),
    ("empty", ""), ("crlf", "1\r\n"), ("garbage", "1x\n"),
    ("inner-newline", "1\n2\n"), ("plus", "+5\n"),
    ("name-dotted", "net.ipv4.tcp_tw_recycle"),
    ("name-slashed", "net/ipv4//tcp_tw_recycle"),
    ("name-leading-slash", "//net/ipv4/tcp_timestamps"),
    ("name-mixed", "net/ipv4.tcp_fin_timeout"),
    ("name-netfilter", "net.netfilter.nf_conntrack_tcp_timeout_time_wait"),
    ("rel-el7", "3.10.0-1160.el7.x86_64\n"), ("rel-short", "6.18"),
    ("rel-patch", "4.9.229"), ("rel-big", "255.255.999999"),
    ("rel-overflow", "1.2.3456789"), ("rel-zero", "0.1.2"),
    ("rel-dots", "5..1"), ("rel-rc", "6.19.0-rc3+"),
]:
    put("sysctl", name, text)

# --- sysctl.d files --------------------------------------------------------
put("persist", "basic", "# comment\n; comment\nnet.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_timestamps=0\n")
put("persist", "slashes", "net/ipv4/tcp_tw_recycle = 1\n-net.ipv4.tcp_rfc1337 = 1\n")
put("persist", "range", "net.ipv4.ip_local_port_range = 1024 65000\n")
put("persist", "glob", "net.ipv4.conf.*.rp_filter = 1\nnet.ipv4.tcp_tw_*=1\n")
put("persist", "crlf", "net.ipv4.tcp_fin_timeout = 30\r\nnet.core.somaxconn=4096\r\n")
put("persist", "cr-only", "net.ipv4.tcp_fin_timeout = 30\rnet.core.somaxconn=4096\r")
put("persist", "nul", b"net.ipv4.tcp_syncookies = 1\x00net.core.somaxconn=1\n")
put("persist", "no-equals", "net.ipv4.tcp_tw_reuse\n = \n=\n")
put("persist", "many", "".join("net.ipv4.tcp_tw_reuse = %d\n" % (i % 3) for i in range(40)))
put("persist", "long-value", "net.core.somaxconn = " + "9" * 300 + "\n")
put("persist", "control-chars", b"net.core.somaxconn = \x1b[31m\x7f\xff\xfe\n")
put("persist", "empty-key", " = 1\n- = 2\n-\n")

# --- durations, listen addresses, argv ----------------------------------
for name, text in [
    ("dur-30s", "30s"), ("dur-ms", "500ms"), ("dur-mix", "1m30s"),
    ("dur-zero", "0"), ("dur-h", "1h"), ("dur-huge", "1e308h"),
    ("dur-hex", "0x10s"), ("dur-frac", "1.5m"), ("dur-nounit", "30"),
    ("dur-year", "8760h"), ("dur-over", "8761h"), ("dur-neg", "-1s"),
    ("addr-port", ":9477"), ("addr-v4", "127.0.0.1:9477"),
    ("addr-v6", "[::1]:9477"), ("addr-bare-v6", "::1:9477"),
    ("addr-noport", "127.0.0.1:"), ("addr-bigport", "127.0.0.1:65536"),
    ("addr-bracket", "[::1]"), ("addr-unclosed", "[::1:80"),
    ("addr-empty", ""), ("addr-long", "h" * 300 + ":80"),
]:
    put("cli", name, text)
put("cli", "argv", b"--web.listen-address=:9477\x00--web.timeout\x001m\x00--no-sampler.enabled\x00--model.max-peers=65536\x00pos\x00--\x00--x")
put("cli", "argv-list", b"\x00".join([b"--web.listen-address=:1"] * 20))
put("cli", "argv-missing", b"--procfs")
put("cli", "argv-help", b"a\x00-h")
put("cli", "argv-bad-bool", b"--sampler.enabled=maybe\x00--no-procfs")

# --- captures --------------------------------------------------------------
def tcp(sport, dport, flags, seq=1000, ack=0, ts=(12345, 0), payload=b""):
    opts = b""
    if ts is not None:
        opts = b"\x02\x04\x05\xb4" + b"\x01\x01\x08\x0a" + struct.pack(">II", *ts)
    opts += b"\x00" * (-len(opts) % 4)
    off = (20 + len(opts)) // 4
    return struct.pack(">HHIIBBHHH", sport, dport, seq, ack, off << 4,
                       flags, 65535, 0, 0) + opts + payload


def ip4(seg, src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02"):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 1, 0x4000,
                       64, 6, 0, src, dst) + seg


def ip6(seg, nxt=6, ext=b""):
    return struct.pack(">IHBB16s16s", 0x60000000, len(ext) + len(seg), nxt,
                       64, b"\xfe\x80" + b"\x00" * 13 + b"\x01",
                       b"\xfe\x80" + b"\x00" * 13 + b"\x02") + ext + seg


ETH = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb"
SYN, SYNACK, FIN, RST, ACK = 0x02, 0x12, 0x11, 0x04, 0x10


def eth(payload, etype=0x0800, vlans=()):
    h = ETH
    for tpid, vid in vlans:
        h += struct.pack(">HH", tpid, vid)
    return h + struct.pack(">H", etype) + payload


def sll(payload, proto=0x0800):
    return struct.pack(">HHH8sH", 0, 1, 6, b"\x00" * 8, proto) + payload


def sll2(payload, proto=0x0800):
    return struct.pack(">HHIHBB8s", proto, 0, 2, 1, 0, 6, b"\x00" * 8) + payload


def pcap(linktype, frames, snaplen=262144, cut=None):
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, snaplen, linktype)
    for i, fr in enumerate(frames):
        cap = fr if cut is None else fr[:cut]
        out += struct.pack("<IIII", 1700000000 + i, i * 1000, len(cap), len(fr)) + cap
    return out


def pcapng(linktype, frames):
    def block(btype, body):
        body += b"\x00" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", linktype, 0, 262144))
    for i, fr in enumerate(frames):
        ts = (1700000000 + i) * 1000000
        out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xffffffff,
                                    len(fr), len(fr)) + fr)
    return out


v4 = [ip4(tcp(40000, 80, SYN)), ip4(tcp(80, 40000, SYNACK, ack=1001, ts=(999, 12345))),
      ip4(tcp(40000, 80, FIN | ACK, seq=1001, ts=(12400, 999))),
      ip4(tcp(40000, 80, RST, seq=1002, ts=None)), ip4(tcp(40000, 80, ACK, payload=b"x" * 10))]
v6 = [ip6(tcp(40000, 443, SYN)), ip6(tcp(443, 40000, SYNACK, ts=(5, 6)))]
v6_ext = [ip6(tcp(40000, 443, SYN), nxt=0, ext=b"\x06\x00" + b"\x00" * 6),
          ip6(tcp(40000, 443, SYN), nxt=44, ext=b"\x06\x00\x00\x00\x00\x00\x00\x01")]

put("pcap", "en10mb-v4.pcap", pcap(1, [eth(p) for p in v4]))
put("pcap", "en10mb-v6.pcap", pcap(1, [eth(p, 0x86dd) for p in v6 + v6_ext]))
put("pcap", "en10mb-vlan.pcap", pcap(1, [eth(v4[0], vlans=[(0x8100, 5)]),
                                         eth(v6[0], 0x86dd, vlans=[(0x88a8, 1), (0x8100, 2)]),
                                         eth(v4[0], vlans=[(0x9100, 1)] * 5)]))
put("pcap", "en10mb-snaplen-cut.pcap", pcap(1, [eth(p) for p in v4], snaplen=60, cut=60))
put("pcap", "sll.pcap", pcap(113, [sll(p) for p in v4] + [sll(p, 0x86dd) for p in v6]))
put("pcap", "sll2.pcap", pcap(276, [sll2(p) for p in v4] + [sll2(p, 0x86dd) for p in v6]))
put("pcap", "raw.pcap", pcap(101, v4 + v6))
put("pcap", "ipv4.pcap", pcap(228, v4))
put("pcap", "ipv6.pcap", pcap(229, v6 + v6_ext))
put("pcap", "null.pcap", pcap(0, [struct.pack("<I", 2) + p for p in v4] + [struct.pack("<I", 24) + p for p in v6]))
put("pcap", "loop.pcap", pcap(108, [struct.pack(">I", 2) + p for p in v4] + [struct.pack(">I", 30) + p for p in v6]))
put("pcap", "truncated-record.pcap", pcap(1, [eth(p) for p in v4])[:-7])
put("pcap", "header-only.pcap", pcap(1, []))
put("pcap", "unsupported-linktype.pcap", pcap(147, v4))
put("pcap", "fragment.pcap", pcap(101, [v4[0][:6] + b"\x20\x00" + v4[0][8:]]))
put("pcap", "en10mb.pcapng", pcapng(1, [eth(p) for p in v4]))
put("pcap", "raw.pcapng", pcapng(101, v4 + v6))

# --- single frames for fuzz_packet: first byte = index into its link-type
# table (0 EN10MB, 1 LINUX_SLL, 2 LINUX_SLL2, 3 RAW, 4 IPV4, 5 IPV6, 6 NULL,
# 7 LOOP, 8 LINKTYPE_RAW 101, 9 unsupported), | 0x80 = wire length beyond
# the capture; the rest is the frame.
def frame(name, sel, data):
    put("packet", name, bytes([sel]) + data)


for i, p in enumerate(v4):
    frame("en10mb-v4-%d" % i, 0, eth(p))
for i, p in enumerate(v6 + v6_ext):
    frame("en10mb-v6-%d" % i, 0, eth(p, 0x86dd))
frame("en10mb-vlan", 0, eth(v4[0], vlans=[(0x8100, 5)]))
frame("en10mb-qinq", 0, eth(v6[0], 0x86dd, vlans=[(0x88a8, 1), (0x8100, 2)]))
frame("en10mb-vlan-deep", 0, eth(v4[0], vlans=[(0x9100, 1)] * 5))
frame("en10mb-cut-opts", 0x80, eth(v4[0])[:60])
frame("sll-v4", 1, sll(v4[0]))
frame("sll-v6", 1, sll(v6[0], 0x86dd))
frame("sll2-v4", 2, sll2(v4[1]))
frame("sll2-v6", 2, sll2(v6[1], 0x86dd))
frame("raw-v4", 3, v4[2])
frame("raw-v6", 3, v6[0])
frame("ipv4", 4, v4[3])
frame("ipv6-ext", 5, v6_ext[0])
frame("ipv6-frag-atomic", 5, v6_ext[1])
frame("null-v4", 6, struct.pack("<I", 2) + v4[0])
frame("null-v6", 6, struct.pack("<I", 24) + v6[0])
frame("loop-v4", 7, struct.pack(">I", 2) + v4[0])
frame("linktype-raw", 8, v4[4])
frame("unsupported", 9, v4[0])
frame("fragment", 3, v4[0][:6] + b"\x20\x00" + v4[0][8:])
frame("tso-zero-len", 0x83, v4[0][:2] + b"\x00\x00" + v4[0][4:])

# --- netlink dumps for fuzz_netlink: the bytes of one recvmsg() ----------
def nlmsg(mtype, payload, flags=2, seq=1, pid=0):
    n = 16 + len(payload)
    return struct.pack("=IHHII", n, mtype, flags, seq, pid) + payload + b"\x00" * (-n % 4)


def nla(atype, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, atype) + payload + b"\x00" * (-n % 4)


def diag_msg(family, state, sport, dport, src, dst, info=None):
    sockid = struct.pack(">HH", sport, dport) + src.ljust(16, b"\x00") + \
        dst.ljust(16, b"\x00") + struct.pack("=III", 0, 1, 0)
    body = struct.pack("=BBBB", family, state, 0, 0) + sockid + \
        struct.pack("=IIIII", 0, 0, 0, 1000, 12345)
    if info is not None:
        body += nla(2, info)            # INET_DIAG_INFO
    return nlmsg(20, body)              # SOCK_DIAG_BY_FAMILY


def tcp_info(options):
    return bytes([1, 0, 0, 0, 0, options]) + b"\x00" * 226


DONE = nlmsg(3, struct.pack("=i", 0))
A4, B4 = b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02"
A6 = b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x01"
put("netlink", "diag-mixed", diag_msg(2, 1, 80, 40000, A4, B4, tcp_info(1)) +
    diag_msg(2, 6, 80, 40001, A4, B4) + diag_msg(2, 10, 80, 0, A4, b"") +
    diag_msg(10, 1, 443, 50000, A6, A6, tcp_info(0)) +
    diag_msg(10, 6, 443, 50001, b"\x00" * 10 + b"\xff\xff" + A4, A6) + DONE)
put("netlink", "diag-tw-only", b"".join(diag_msg(2, 6, 80, 40000 + i, A4, B4) for i in range(8)))
put("netlink", "diag-short-info", diag_msg(2, 1, 80, 1, A4, B4, b"\x01\x00\x00"))
put("netlink", "diag-error", nlmsg(2, struct.pack("=i", -1) + struct.pack("=IHHII", 16, 20, 1, 1, 0)))
put("netlink", "diag-error-cut", nlmsg(2, struct.pack("=i", -13)))
put("netlink", "diag-done", DONE)
put("netlink", "diag-noop-overrun", nlmsg(1, b"") + struct.pack("=IHHII", 4096, 20, 2, 1, 0))


def metrics(family, addr, v6=False, tw=True, vals=True, saddr=None):
    attrs = nla(2 if v6 else 1, addr)
    if saddr is not None:
        attrs += nla(12 if len(saddr) == 16 else 11, saddr)
    attrs += nla(3, struct.pack("=Q", 123456))
    if tw:
        attrs += nla(4, struct.pack("=I", 987654)) + nla(5, struct.pack("=i", 1700000000))
    if vals:
        attrs += nla(6 | 0x8000, nla(1, struct.pack("=I", 12)) + nla(2, struct.pack("=I", 3)))
    return nlmsg(family, struct.pack("=BBH", 1, 1, 0) + attrs)


put("netlink", "metrics-v4", metrics(0x1d, A4) + metrics(0x1d, B4, tw=False) + nlmsg(3, struct.pack("=i", 0)))
put("netlink", "metrics-v6", metrics(0x1d, A6, v6=True, saddr=A6) + metrics(0x1d, A4, saddr=B4))
put("netlink", "metrics-4.12", metrics(0x1d, A4, tw=False, vals=False))
put("netlink", "metrics-other-family", metrics(0x22, A4))
put("netlink", "metrics-error", nlmsg(0x1d, b"") + nlmsg(2, struct.pack("=i", -95)))


# --- ipc (web/ipc_proto.h) ---------------------------------------------------
# IPC_NCOUNTERS is SELFSTAT_NWORDS: the uint64_t words of struct
# selfstat_values (lib/selfstat.h), its SELF_COUNT counters and its struct
# selfstat_http, read from the header so the seeds follow it.
IPC_VERSION = 2


def selfstat_nwords():
    import re
    with open(os.path.join(TOP, "lib", "selfstat.h")) as f:
        h = f.read()

    def enum_count(name, last):
        body = re.search(r"enum %s \{(.*?)\};" % name, h, re.S).group(1)
        names = re.findall(r"^\s*(SELF_\w+)", body, re.M)
        return names.index(last)

    def define(name):
        return int(re.search(r"#define %s (\d+)" % name, h).group(1))
    count = enum_count("selfstat_id", "SELF_COUNT")
    nh = enum_count("selfstat_handler", "SELF_NHANDLERS")
    nc, nb = define("SELF_NCODES"), define("SELF_NBUCKETS")
    return count + nh * nc + nh * (nb + 1) + nh


IPC_NCOUNTERS = int(os.environ.get("IPC_NCOUNTERS", selfstat_nwords()))


def ipc_req(rid=1, endpoint=0, flags=0, counters=None, magic=0x51525754,
            version=IPC_VERSION, length=None, ncounters=None):
    counters = counters if counters is not None else [0] * IPC_NCOUNTERS
    ln = 16 + 8 * len(counters) if length is None else length
    nc = IPC_NCOUNTERS if ncounters is None else ncounters
    return (struct.pack("<IHHIBBH", magic, version, ln, rid, endpoint, flags,
                        nc) + b"".join(struct.pack("<Q", c) for c in counters))


def ipc_rep(rid=1, status=200, ctype=3, flags=0, blen=100, magic=0x50525754,
            version=IPC_VERSION, length=28, gen=1):
    return struct.pack("<IHHIHBBIQ", magic, version, length, rid, status,
                       ctype, flags, blen, gen)


for e in range(5):
    put("ipc", "req-endpoint-%d" % e, ipc_req(endpoint=e))
put("ipc", "req-metrics-om-gzip", ipc_req(endpoint=0, flags=3, rid=7,
                                          counters=list(range(1, IPC_NCOUNTERS + 1))))
put("ipc", "req-counters-max", ipc_req(counters=[2**64 - 1] * IPC_NCOUNTERS))
put("ipc", "req-om-not-metrics", ipc_req(endpoint=1, flags=1))
put("ipc", "req-reserved-bit", ipc_req(flags=4))
put("ipc", "req-endpoint-out", ipc_req(endpoint=5))
put("ipc", "req-id-zero", ipc_req(rid=0))
put("ipc", "req-version-1", ipc_req(version=1))
put("ipc", "req-version-3", ipc_req(version=3))
put("ipc", "req-bad-magic", ipc_req(magic=0x50525754))
put("ipc", "req-length-lies", ipc_req(length=16))
put("ipc", "req-ncounters", ipc_req(ncounters=IPC_NCOUNTERS + 1))
put("ipc", "req-truncated", ipc_req()[:-1])
put("ipc", "req-trailing", ipc_req() + b"\0")
put("ipc", "rep-ok", ipc_rep())
put("ipc", "rep-gzip-json", ipc_rep(ctype=1, flags=1))
put("ipc", "rep-503", ipc_rep(status=503, ctype=0, blen=22))
put("ipc", "rep-status-404", ipc_rep(status=404))
put("ipc", "rep-type-out", ipc_rep(ctype=5))
put("ipc", "rep-body-max", ipc_rep(blen=32 * 1024 * 1024))
put("ipc", "rep-body-over", ipc_rep(blen=32 * 1024 * 1024 + 1))
put("ipc", "rep-empty", b"")
put("ipc", "rep-gen-max", ipc_rep(gen=2**64 - 1))
put("ipc", "rep-gen-zero-503", ipc_rep(status=503, ctype=0, gen=0))
