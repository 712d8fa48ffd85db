#!/bin/bash
# Issue 5: a sampler with ratio N scales its estimate, and on a scenario
# with many sources the scaled estimate is within +-15 % of the unsampled
# count. Real kernel, real capture path: a generated capture is replayed
# with tcpreplay (original timing) into a veth pair between two network
# namespaces made here (deleted on exit):
#
#   generator ns: g0 ---- s0 (10.0.0.1, MAC 02:00:00:00:00:02): server ns
#
# The server namespace drops every frame at its nftables netdev ingress
# hook, after the capture taps (as bench/sampler.sh): the kernel answers
# nothing; the capture already holds the simulated server's answers. Two
# `twaudit serve --sampler.server=10.0.0.1 --sampler.interface=s0` run
# there at once (ports 19481 and 19482 of the namespace's loopback), one
# with --sampler.ratio=1 and one with --sampler.ratio=8, and see the same
# packets.
#
# Scenario (twaudit-synth, seed 1, the same file every run): 600 NAT
# addresses 198.18.0.1 .. 198.18.2.88 (every last-byte value, 75 of them
# kept at ratio 8), 4 hosts each with their own TS clock, 2 client ports
# per address (a NAT reuses a port as soon as it is free), 300
# connections/s for 20 s lasting 0.5 s on average (the capture spans
# about 25 s), the server closes every connection first; the simulated
# server is the running kernel (--kernel=$(uname -r), 6.16+ on the dev
# VM) with the namespace's settings (tcp_timestamps=1, tcp_rfc1337=0). A
# host whose SYN meets the TIME-WAIT its NAT neighbour left on the port,
# with an older clock, is PAWS-refused on the TIME-WAIT
# path (docs/kernel.md §7): about 1 700 refused SYNs. The source
# count is not a power of two on purpose: twaudit-synth draws the source
# and then the host from consecutive xorshift outputs, and with 512
# sources the host index is nearly a function of the source (with 256,
# partly), so every address shows one host and almost nothing is refused.
#
# Asserts:
#   * no drops (kernel, queue) in either instance, every packet sent;
#   * sampling_ratio (/model) and twaudit_sampler_ratio (/metrics) = N;
#   * ratio 1: SYNs and predicted rejections = `twaudit replay` of the same
#     capture with the same profile and settings, and predicted =
#     observed unanswered (the simulated server's answers) = the
#     generator's reference; >= 500 rejections (the comparison means
#     something);
#   * ratio 8: the SYNs it modelled (sampled_syns) = the capture's SYNs
#     from the kept addresses (last byte & 7 == 0, counted with tcpdump),
#     and each scaled estimate (syns, predicted_rejections,
#     observed_unanswered_syns, the tw_recycle what-if) within +-15 % of
#     ratio 1's; /metrics carries the same scaled figures.
# About 40 s. Needs root, tcpreplay, tcpdump, nft; skips (77) otherwise.
set -uo pipefail

TWAUDIT=${TWAUDIT:-build/twaudit}
SYNTH=${SYNTH:-${BUILD:-build}/tests/synth/twaudit-synth}
SUF=$$
NG=tws-gen-$SUF
NSV=tws-srv-$SUF
RATIO=8
TOL=0.15
SEED=1
SCEN="--sources=600 --hosts=4 --ports=2 --conn-rate=300 --seconds=20 --mean-duration=0.5 --server-closes=1"

. "$(dirname "$0")/lib.sh"
NETNS=("$NG" "$NSV")
KEEP_TMP=${SSCALE_KEEP:-}

[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
for t in ip curl "$PY"; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
command -v tcpreplay >/dev/null ||
	skip "tcpreplay not installed (apt-get install -y tcpreplay)"
command -v tcpdump >/dev/null ||
	skip "tcpdump not installed (apt-get install -y tcpdump)"
command -v nft >/dev/null ||
	skip "nft not installed (apt-get install -y nftables)"
[ -x "$TWAUDIT" ] || die "twaudit binary $TWAUDIT not built"
[ -x "$SYNTH" ] || die "twaudit-synth not built at $SYNTH"
synth() { "$SYNTH" "$@"; }
ip netns add "$NSV" 2>"$TMP/netns.err" ||
	skip "cannot create a network namespace: $(cat "$TMP/netns.err")"
ip netns add "$NG" || die "ip netns add $NG"

# Slower builds (ASan) get longer waits.

xs() { ip netns exec "$NSV" "$@"; }
within() { # within ESTIMATE REFERENCE: |E/R - 1| <= TOL
	$PY -c 'import sys; e, r, t = map(float, sys.argv[1:]); sys.exit(0 if r > 0 and abs(e / r - 1) <= t else 1)' "$1" "$2" "$TOL"
}
pct() { $PY -c 'import sys; e, r = map(float, sys.argv[1:]); print("%+.1f %%" % (100 * (e / r - 1)) if r else "n/a")' "$1" "$2"; }

# --- capture ----------------------------------------------------------------
KREL=$(uname -r)
synth --seed=$SEED $SCEN --kernel="$KREL" --no-what-if \
	--out="$TMP/scale.pcap" --expect="$TMP/scale.exp" 2>"$TMP/synth.err" ||
	die "twaudit-synth: $(cat "$TMP/synth.err")"
cat "$TMP/synth.err"
NPKT=$(tcpdump -n -r "$TMP/scale.pcap" 2>/dev/null | wc -l)

# --- topology (as bench/sampler.sh) -----------------------------------------
set -e
ip -n "$NG" link set lo up
ip -n "$NSV" link set lo up
ip -n "$NG" link add g0 type veth peer name s0 netns "$NSV"
ip -n "$NSV" link set s0 address 02:00:00:00:00:02
ip -n "$NSV" addr add 10.0.0.1/8 dev s0
ip -n "$NG" link set g0 up
ip -n "$NSV" link set s0 up
xs nft -f - <<'EOF'
table netdev twscale {
	chain in {
		type filter hook ingress device "s0" priority 0; policy drop;
	}
}
EOF
xs sysctl -qw net.ipv4.tcp_timestamps=1 net.ipv4.tcp_rfc1337=0
set +e

# --- two samplers -------------------------------------------------------------
declare -A WEB=([1]=127.0.0.1:19481 [$RATIO]=127.0.0.1:19482)
scrape() { xs curl -fsS --max-time $((5 * SLOW)) "http://${WEB[$1]}$2"; }
for r in 1 $RATIO; do
	ip netns exec "$NSV" "$TWAUDIT" serve --web.listen-address="${WEB[$r]}" \
		--sampler.enabled --sampler.server=10.0.0.1 --sampler.interface=s0 \
		--sampler.ratio=$r --collect.min-interval=0s \
		>"$TMP/serve-$r.log" 2>&1 </dev/null &
	PIDS+=($!)
done
# Up, sampler ok, and the namespace's settings in force (serve pushes the
# live sysctls at its first 5 s tick).
for r in 1 $RATIO; do
	got=
	for _ in $(seq 1 $((300 * SLOW))); do
		scrape $r /model >"$TMP/m$r.json" 2>/dev/null &&
			got=$(jget "$TMP/m$r.json" '[d["state"], d["settings"]["net.ipv4.tcp_timestamps"], d["settings"]["net.ipv4.tcp_rfc1337"], d["packets"]]' 2>/dev/null)
		[ "$got" = '["ok", 1, 0, 0]' ] && break
		sleep 0.1
	done
	[ "$got" = '["ok", 1, 0, 0]' ] ||
		die "ratio $r sampler not ready (last: $got): $(cat "$TMP/serve-$r.log" "$TMP/m$r.json" 2>/dev/null)"
done
# Past the first tick everywhere (it can reset the model).
sleep 5.5

# --- replay (original timing) -----------------------------------------------
t0=$(date +%s.%N)
ip netns exec "$NG" tcpreplay -i g0 -K "$TMP/scale.pcap" >"$TMP/tcpreplay.out" 2>&1
rc=$?
t1=$(date +%s.%N)
grep -E 'Actual|Rated|Failed' "$TMP/tcpreplay.out"
SENT=$(awk '/Actual:/ {print $2}' "$TMP/tcpreplay.out")
check "tcpreplay sent every packet ($SENT of $NPKT, exit $rc)" \
	[ "$rc/$SENT" = "0/$NPKT" ]

# Settle: the live model judges a SYN unanswered after 1 s of wall time;
# wait until neither instance's packet count moves.
for r in 1 $RATIO; do
	prev=-1
	for _ in $(seq 1 $((40 * SLOW))); do
		sleep 0.5
		scrape $r /model >"$TMP/m$r.json" || continue
		cur=$(jget "$TMP/m$r.json" 'd["packets"]')
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
done
sleep 2
for r in 1 $RATIO; do
	scrape $r /model >"$TMP/m$r.json" || die "ratio $r: /model"
	scrape $r /metrics >"$TMP/p$r.prom" || die "ratio $r: /metrics"
done
M1=$TMP/m1.json
MN=$TMP/m$RATIO.json

# --- the same capture through `twaudit replay` ------------------------------
"$TWAUDIT" replay --format=json --kernel="$KREL" --server=10.0.0.1 \
	--set net.ipv4.tcp_timestamps=1 --set net.ipv4.tcp_rfc1337=0 \
	"$TMP/scale.pcap" >"$TMP/replay.json" || die "twaudit replay failed"
# SYNs from the addresses ratio 8 keeps (last byte & 7 == 0).
KEPT=$(tcpdump -r "$TMP/scale.pcap" -n \
	"dst host 10.0.0.1 and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and ip[15] & $((RATIO - 1)) == 0" \
	2>/dev/null | wc -l)

fig() { jget "$1" "$2"; }
echo "== figures (profile $(fig "$M1" 'd["profile"]'), capture $(stat -c %s "$TMP/scale.pcap") B, $NPKT packets, replayed in $($PY -c "print(round($t1 - $t0, 1))") s)"
printf "%-30s %10s %10s %10s %10s %9s\n" "" reference replay ratio1 "ratio$RATIO" error
row() { # row NAME REF REPLAY R1 RN
	printf "%-30s %10s %10s %10s %10s %9s\n" "$1" "$2" "$3" "$4" "$5" "$(pct "$5" "$4")"
}
row syns "$(fig "$TMP/scale.exp" 'd["syns"]')" "$(fig "$TMP/replay.json" 'd["syns"]')" \
	"$(fig "$M1" 'd["syns"]')" "$(fig "$MN" 'd["syns"]')"
row predicted_rejections "$(fig "$TMP/scale.exp" 'd["predicted_rejections"]')" \
	"$(fig "$TMP/replay.json" 'd["predicted_rejections"]')" \
	"$(fig "$M1" 'd["predicted_rejections"]')" "$(fig "$MN" 'd["predicted_rejections"]')"
row observed_unanswered_syns "$(fig "$TMP/scale.exp" 'd["observed_unanswered_syns"]')" \
	"$(fig "$TMP/replay.json" 'd["observed_unanswered_syns"]')" \
	"$(fig "$M1" 'd["observed_unanswered_syns"]')" "$(fig "$MN" 'd["observed_unanswered_syns"]')"
WI=$(fig "$M1" '[i for i, w in enumerate(d["what_if"]) if w["settings"]["net.ipv4.tcp_tw_recycle"] == 1][0]')
row "what-if $(fig "$M1" 'd["what_if"]['"$WI"']["profile"]') tw_recycle=1" - - \
	"$(fig "$M1" 'd["what_if"]['"$WI"']["predicted_rejections"]')" \
	"$(fig "$MN" 'd["what_if"]['"$WI"']["predicted_rejections"]')"
row "sampled_syns (x1, xN)" - "$KEPT kept" "$(fig "$M1" 'd["sampled_syns"]')" \
	"$(fig "$MN" 'd["sampled_syns"]')"
echo "packets: ratio 1 $(fig "$M1" 'd["packets"]'), ratio $RATIO $(fig "$MN" 'd["packets"]'); drops: $(fig "$M1" 'd["dropped"]') / $(fig "$MN" 'd["dropped"]')"

# --- asserts -----------------------------------------------------------------
for r in 1 $RATIO; do
	m=$TMP/m$r.json
	check "ratio $r: no drops (kernel, queue)" \
		[ "$(fig "$m" '[d["dropped"]["kernel"], d["dropped"]["queue"]]')" = "[0, 0]" ]
	check "ratio $r: /model sampling_ratio = $r" \
		[ "$(fig "$m" 'd["sampling_ratio"]')" = "$r" ]
	check "ratio $r: /metrics twaudit_sampler_ratio = $r" \
		[ "$(awk '$1 == "twaudit_sampler_ratio" {print $2}' "$TMP/p$r.prom")" = "$r" ]
	check "ratio $r: /metrics predicted and observed totals as /model" \
		[ "$(awk -v p="twaudit_model_predicted_rejections_total{profile=\"$(fig "$m" 'd["profile"]')\"}" '$1 == p {a = $2} $1 == "twaudit_model_observed_unanswered_syns_total" {b = $2} END {print a, b}' "$TMP/p$r.prom")" = \
		"$(fig "$m" 'd["predicted_rejections"]') $(fig "$m" 'd["observed_unanswered_syns"]')" ]
	check "ratio $r: /metrics twaudit_model_syns_total = sampled_syns" \
		[ "$(awk '$1 == "twaudit_model_syns_total" {print $2}' "$TMP/p$r.prom")" = "$(fig "$m" 'd["sampled_syns"]')" ]
done

check "ratio 1 = twaudit replay of the capture (syns, predicted, observed, by reason)" \
	[ "$(fig "$M1" '[d["syns"], d["predicted_rejections"], d["observed_unanswered_syns"], d["rejections_by_reason"]]')" = \
	  "$(fig "$TMP/replay.json" '[d["syns"], d["predicted_rejections"], d["observed_unanswered_syns"], d["rejections_by_reason"]]')" ]
check "ratio 1: predicted = observed = the generator's reference" \
	[ "$(fig "$M1" '[d["predicted_rejections"], d["observed_unanswered_syns"]]')" = \
	  "$(fig "$TMP/scale.exp" '[d["predicted_rejections"], d["predicted_rejections"]]')" ]
check "ratio 1: >= 500 rejections predicted ($(fig "$M1" 'd["predicted_rejections"]')), all on the TIME-WAIT path" \
	[ "$(fig "$M1" 'd["predicted_rejections"] >= 500 and d["rejections_by_reason"]["passive_paws"] == 0')" = true ]
check "ratio 1: sampled_syns = syns (unscaled)" \
	[ "$(fig "$M1" 'd["sampled_syns"] == d["syns"]')" = true ]
check "ratio $RATIO: sampled_syns = the capture's SYNs from kept addresses ($KEPT)" \
	[ "$(fig "$MN" 'd["sampled_syns"]')" = "$KEPT" ]
check "ratio $RATIO: syns = sampled_syns x $RATIO" \
	[ "$(fig "$MN" 'd["syns"] == d["sampled_syns"] * '$RATIO)" = true ]
for k in syns predicted_rejections observed_unanswered_syns; do
	e=$(fig "$MN" "d[\"$k\"]"); r1=$(fig "$M1" "d[\"$k\"]")
	check "ratio $RATIO: $k $e within +-15 % of ratio 1's $r1 ($(pct "$e" "$r1"))" within "$e" "$r1"
done
e=$(fig "$MN" 'd["what_if"]['"$WI"']["predicted_rejections"]')
r1=$(fig "$M1" 'd["what_if"]['"$WI"']["predicted_rejections"]')
check "ratio $RATIO: what-if tw_recycle=1 $e within +-15 % of ratio 1's $r1 ($(pct "$e" "$r1"))" \
	within "$e" "$r1"

finish
