#!/bin/bash
# `twaudit replay`'s "diagnosis": which what-if row best explains the SYNs
# the server left unanswered, on captures of a simulated server whose
# settings are known (tests/synth/twaudit-synth): every profile, with
# tcp_tw_recycle=1 and =0, clients behind NAT (several hosts per address)
# and clients with per-connection timestamp offsets, with and without
# --kernel, and with some capture loss added. The diagnosis must name the
# server's own row or list it in "equivalent". Also: --what-if=false
# gives null, a capture with nothing unanswered gives the defaults, a
# capture whose unanswered SYNs no setting explains says so, and the
# text line.
#
# Environment: TWAUDIT, SCHEMAS, BUILD (meson sets them).
. "$(dirname "$0")/lib.sh"

SYNTH=${SYNTH:-$BUILD/tests/synth/twaudit-synth}
SCHEMA=$SCHEMAS/replay.schema.json
PROFILES="2.6.32 3.1 3.6 3.8 3.13 3.17 4.1 4.12 6.16"
PNAMES=(2.6.32-3.0 3.1-3.5 3.6-3.7 3.8-3.12 3.13-3.16 3.17-4.0 4.1-4.11 4.12-6.15 6.16+)

[ -x "$SYNTH" ] || die "twaudit-synth not built at $SYNTH"

# lose IN OUT RATE SEED: a copy of the pcap IN without a random RATE share
# of its records (capture loss).
lose() {
	$PY - "$@" <<'PYEOF'
import random, struct, sys
src, dst, rate, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(seed)
data = open(src, 'rb').read()
out = [data[:24]]
endian = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
off = 24
while off + 16 <= len(data):
    incl = struct.unpack(endian + 'I', data[off + 8:off + 12])[0]
    rec = data[off:off + 16 + incl]
    off += 16 + incl
    if rnd.random() >= rate:
        out.append(rec)
open(dst, 'wb').write(b''.join(out))
PYEOF
}

# judge JSON PROFILE RECYCLE [REFUSED]: the diagnosis names (PROFILE,
# tcp_tw_recycle=RECYCLE) or lists it as equivalent; it explains; without
# loss every unanswered SYN is explained, none predicted but answered, and
# the counts add up to observed_unanswered_syns. With loss (REFUSED: the
# SYNs the server refused in the capture before the loss) lost SYN-ACKs
# leave SYNs unanswered that no setting explains: where the server
# refused few, "explains": false is the right answer; otherwise the
# server's row must still be found.
judge() {
	$PY - "$@" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1])); prof = sys.argv[2]; rec = int(sys.argv[3])
loss = len(sys.argv) > 4
refused = int(sys.argv[4]) if loss else 0
d = r["diagnosis"]
un = d["explained_unanswered"] + d["unexplained_unanswered"]
if loss and not d["explains"] and 2 * refused < un:
    if 2 * d["explained_unanswered"] >= un:
        print("explains false with %d of %d explained" % (d["explained_unanswered"], un)); sys.exit(1)
    sys.exit(0)
rows = [(d["profile"], d["settings"]["net.ipv4.tcp_tw_recycle"])] + \
    [(e["profile"], e["settings"]["net.ipv4.tcp_tw_recycle"]) for e in d["equivalent"]]
bad = []
if (prof, rec) not in rows:
    bad.append("(%s, tw_recycle=%d) not in %s" % (prof, rec, rows))
if not d["explains"]:
    bad.append("explains false")
if not loss:
    if un != r["observed_unanswered_syns"]:
        bad.append("unanswered %d != observed %d" % (un, r["observed_unanswered_syns"]))
    if d["unexplained_unanswered"] or d["predicted_but_answered"]:
        bad.append("unexplained %d, predicted but answered %d" % (
            d["unexplained_unanswered"], d["predicted_but_answered"]))
elif d["explained_unanswered"] == 0 and un > 0:
    bad.append("nothing explained")
if bad:
    print("; ".join(bad)); sys.exit(1)
PYEOF
}

refusing=0 i=0
for p in $PROFILES; do
	pname=${PNAMES[$i]}; i=$((i + 1))
	for rec in 1 0; do
		# Profiles without tw_recycle (4.12+) ignore the setting.
		want=$rec
		case $p in 4.12|6.16) want=0 ;; esac
		for kind in nat perconn; do
			case $kind in
			nat) KA="--sources=4 --hosts=3" ;;
			perconn) KA="--sources=3 --hosts=4 --per-conn=0.5" ;;
			esac
			f=$TMP/$p-$rec-$kind
			# shellcheck disable=SC2086
			"$SYNTH" --seed=$((i * 10 + rec)) $KA --kernel=$p \
				--set net.ipv4.tcp_tw_recycle=$rec --seconds=300 \
				--out "$f.pcap" 2>/dev/null || fail "synth $p $rec $kind"
			"$TWAUDIT" replay --format=json "$f.pcap" >"$f.any.json" ||
				fail "replay $p $rec $kind"
			"$TWAUDIT" replay --format=json --kernel=$p "$f.pcap" \
				>"$f.sel.json" || fail "replay --kernel $p $rec $kind"
			check "$pname tw_recycle=$rec $kind: diagnosed without --kernel" \
				judge "$f.any.json" "$pname" $want
			check "$pname tw_recycle=$rec $kind: diagnosed with --kernel=$p" \
				judge "$f.sel.json" "$pname" $want
			n=$(jget "$f.any.json" 'd["observed_unanswered_syns"]')
			[ "$n" -gt 0 ] && [ "$want" = 1 ] && refusing=$((refusing + 1))
			if [ $kind = nat ]; then
				lose "$f.pcap" "$f.lossy.pcap" 0.02 $i
				"$TWAUDIT" replay --format=json "$f.lossy.pcap" \
					>"$f.lossy.json" || fail "replay lossy $p"
				check "$pname tw_recycle=$rec, 2% loss: still diagnosed" \
					judge "$f.lossy.json" "$pname" $want "$n"
			fi
		done
	done
done
check "the recycle captures refused SYNs ($refusing of 14)" test $refusing -ge 12
check "diagnosis validates against replay.schema.json" \
	validate_json "$SCHEMA" "$TMP/4.1-1-nat.any.json"

# The text line.
"$TWAUDIT" replay --kernel=4.1 "$TMP/4.1-1-nat.pcap" >"$TMP/t.txt"
n=$(jget "$TMP/4.1-1-nat.any.json" 'd["observed_unanswered_syns"]')
check "text: Best explained by tcp_tw_recycle=1 on 4.1-4.11: $n of $n" \
	grep -qx "Best explained by tcp_tw_recycle=1 on 4.1-4.11: $n of $n unanswered SYNs explained, 0 predicted but answered\." "$TMP/t.txt"

# --what-if=false: no what-if rows, no diagnosis.
"$TWAUDIT" replay --format=json --what-if=false "$TMP/4.1-1-nat.pcap" >"$TMP/nw.json"
check "--what-if=false: diagnosis is null" \
	test "$(jget "$TMP/nw.json" 'd["diagnosis"]')" = null
check "--what-if=false JSON validates" validate_json "$SCHEMA" "$TMP/nw.json"
"$TWAUDIT" replay --what-if=false "$TMP/4.1-1-nat.pcap" >"$TMP/nw.txt"
check "--what-if=false: no diagnosis line" \
	sh -c '! grep -q explain "$1"' _ "$TMP/nw.txt"

# Nothing unanswered: the defaults row of the selected profile.
"$SYNTH" --seed=7 --kernel=4.1 --no-reference --out "$TMP/clean.pcap" 2>/dev/null
"$TWAUDIT" replay --format=json --kernel=4.1 --set net.ipv4.tcp_tw_recycle=1 \
	"$TMP/clean.pcap" >"$TMP/clean.json"
check "nothing unanswered: observed 0" \
	test "$(jget "$TMP/clean.json" 'd["observed_unanswered_syns"]')" = 0
check "nothing unanswered: the defaults of 4.1-4.11 (tw_recycle=0)" \
	test "$(jget "$TMP/clean.json" '[d["diagnosis"]["profile"], d["diagnosis"]["settings"], d["diagnosis"]["explains"]]')" = \
	'["4.1-4.11", {"net.ipv4.tcp_tw_recycle": 0, "net.ipv4.tcp_timestamps": 1, "net.ipv4.tcp_rfc1337": 0}, true]'

# Unanswered SYNs no setting explains: a server that refuses nothing
# (6.16+), a capture that lost a third of its records (SYN-ACKs among them).
lose "$TMP/6.16-0-nat.pcap" "$TMP/heavy.pcap" 0.33 99
"$TWAUDIT" replay --format=json --kernel=6.16 "$TMP/heavy.pcap" >"$TMP/heavy.json"
check "unexplained loss: explains false" \
	test "$(jget "$TMP/heavy.json" '[d["diagnosis"]["explains"], d["diagnosis"]["explained_unanswered"], d["diagnosis"]["unexplained_unanswered"] > 0]')" = '[false, 0, true]'
"$TWAUDIT" replay --kernel=6.16 "$TMP/heavy.pcap" >"$TMP/heavy.txt"
check "unexplained loss: the text says no setting explains them" \
	grep -q "^No setting explains the [0-9]* unanswered SYNs (capture loss, backlog overflow, a firewall or an RST answer also leave SYNs unanswered)" "$TMP/heavy.txt"
finish
