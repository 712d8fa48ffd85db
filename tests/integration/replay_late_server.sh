#!/bin/bash
# Servers learned from the whole file: a capture whose server answers
# nothing in its first minute (every SYN-ACK of the first 60 s taken out
# of a generator capture: the server is refusing everybody) replays the
# same with and without --server when it is a file; from stdin the
# look-ahead (3 s of capture time) stays, and what comes before the
# server's first SYN-ACK is skipped as no_server, as --help says.
#
# Environment: TWAUDIT, BUILD (meson sets them).
. "$(dirname "$0")/lib.sh"

SYNTH=${SYNTH:-$BUILD/tests/synth/twaudit-synth}
"$SYNTH" --seed=3 --sources=6 --hosts=3 --conn-rate=2 --seconds=300 \
	--kernel=4.4 --set=net.ipv4.tcp_tw_recycle=1 --out="$TMP/full.pcap" \
	--no-reference >/dev/null 2>&1
check "generator capture written" test -s "$TMP/full.pcap"

# Drop every SYN-ACK (Ethernet, IPv4) of the first SECONDS of the capture.
silence() {
	$PY - "$1" "$2" "$3" <<'PYEOF'
import struct, sys
src, dst, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
d = open(src, "rb").read()
assert d[:4] == b"\xd4\xc3\xb2\xa1", "little-endian microsecond pcap"
out, off, t0, dropped = [d[:24]], 24, None, 0
while off + 16 <= len(d):
    sec, usec, cap, _ = struct.unpack_from("<IIII", d, off)
    rec = d[off:off + 16 + cap]
    off += 16 + cap
    t = sec + usec / 1e6
    t0 = t if t0 is None else t0
    f = rec[16:]
    synack = False
    if len(f) >= 34 and f[12:14] == b"\x08\x00" and f[23] == 6:
        ihl = (f[14] & 15) * 4
        if len(f) >= 14 + ihl + 14:
            synack = f[14 + ihl + 13] & 0x12 == 0x12
    if synack and t - t0 < secs:
        dropped += 1
        continue
    out.append(rec)
open(dst, "wb").write(b"".join(out))
print(dropped)
PYEOF
}
n=$(silence "$TMP/full.pcap" "$TMP/late.pcap" 60)
check "SYN-ACKs of the first 60 s removed ($n)" test "${n:-0}" -gt 50

"$TWAUDIT" replay --format=json "$TMP/late.pcap" >"$TMP/learned.json"
check "replay of the file: exit 0" test $? = 0
"$TWAUDIT" replay --format=json --server=10.0.0.1 "$TMP/late.pcap" \
	>"$TMP/given.json"
check "replay with --server: exit 0" test $? = 0
check "no_server is 0 without --server" test \
	"$(json_get "$TMP/learned.json" 'd["skipped"]["no_server"]')" = 0
check "the same JSON with and without --server" \
	diff "$TMP/given.json" "$TMP/learned.json"
# The SYNs of the first minute are there, refused under tw_recycle=1.
check "the first minute's SYNs are counted" test \
	"$(json_get "$TMP/learned.json" 'd["syns"]')" = \
	"$(json_get "$TMP/given.json" 'd["syns"]')"
# Text output too (the same figures).
"$TWAUDIT" replay "$TMP/late.pcap" >"$TMP/learned.txt"
"$TWAUDIT" replay --server=10.0.0.1 "$TMP/late.pcap" >"$TMP/given.txt"
check "the same text with and without --server" \
	diff "$TMP/given.txt" "$TMP/learned.txt"

# stdin: no second reader; the look-ahead decides, as documented.
"$TWAUDIT" replay --format=json - <"$TMP/late.pcap" >"$TMP/stdin.json"
check "stdin: exit 0" test $? = 0
check "stdin: the first minute is skipped as no_server" test \
	"$(json_get "$TMP/stdin.json" 'd["skipped"]["no_server"] > 0 and d["syns"] < '"$(json_get "$TMP/given.json" 'd["syns"]')")" = True
check "--help says stdin keeps the look-ahead" \
	sh -c '"$0" replay --help 2>&1 | grep -q "from stdin"' "$TWAUDIT"

# A capture whose server answers nothing at all: nothing to learn, the
# events are skipped as before (the scan runs once, not per event).
silence "$TMP/full.pcap" "$TMP/none.pcap" 1000000 >/dev/null
"$TWAUDIT" replay --format=json "$TMP/none.pcap" >"$TMP/none.json"
check "silent server: exit 0, every event no_server" test \
	"$(json_get "$TMP/none.json" '(d["syns"], d["skipped"]["no_server"] > 0)')" = "(0, True)"
finish
