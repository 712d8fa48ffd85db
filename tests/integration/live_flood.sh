#!/bin/bash
# Issue 7, live half: a spoofed SYN flood of 1 M distinct source addresses
# against `twaudit serve`'s sampler, on the real kernel's capture path,
# with small table caps. (The replay half is tests/integration/replay.sh.)
#
# A capture written by twaudit-synth (seed 21): real NAT traffic (4
# addresses x 3 hosts, one client port each, 8 connections/s for 35 s, the
# server closes first; the simulated server is the running kernel, 6.16+
# on the dev VM, so some SYNs meet a NAT neighbour's TIME-WAIT with an
# older clock and are PAWS-refused) plus --flood=1000000 spoofed SYNs from
# 1 M distinct addresses spread over the same ~37 s. It is replayed with
# tcpreplay (40 000 packets/s, see below) into a veth pair between two
# namespaces made here (deleted on exit); the server namespace drops every
# frame at its nftables netdev ingress hook, after the capture taps (as
# bench/sampler.sh). serve runs there with
#   --sampler.server=10.0.0.1 --sampler.interface=s0 --sampler.ratio=1
#   --model.max-peers=4096 --model.max-connections=65536
#   --model.max-sources=16384
# (the two what-if models get a quarter of each: collectors/sampler.c).
#
# Asserts, from /model, /metrics and /proc:
#   * every packet sent; no sampler drops (kernel, queue);
#   * tables (peers, connections, sources) in use <= their caps, the
#     connection and source tables full, and evictions > 0 counted both in
#     /model and in twaudit_model_evictions_total{table=...};
#   * serve answered every /metrics scrape made during the flood (one
#     every 0.5 s), each within 5 s (x3 under ASan);
#   * serve's VmHWM <= the memory bound: its own VmHWM when idle (same
#     flags, models allocated, before any traffic, after 68 warm-up
#     scrapes) + model_memory_bound()
#     of the running model (serve logs it) and of the two what-if models
#     (`twaudit replay --stats` with the what-if caps and profiles) + the
#     sampler's buffers (event ring 32768 x 72 B, flow cache 4096 x 40 B,
#     NAT scan 1024 x 64 B) + 1 MiB for serve's own heap at work; not
#     under ASan (shadow memory, quarantine):
#     reported there;
#   * the running model's predictions (predicted_rejections, by reason)
#     equal `twaudit replay` of the same capture without the flood, with
#     the same profile and settings (every refused SYN is a real source's:
#     the flood's SYNs meet no TIME-WAIT), and are > 0;
#   * tables in use and evictions = `twaudit replay` of the flood capture
#     with the same caps (same packets, same order).
# Reported, not asserted: per-source figures and the what-if models (the
# source table and the what-if connection tables are smaller than what
# the flood inserts between two SYNs of one real source, and the flood
# goes on for 2 s after the last real SYN: docs/model.md, "Spoofed SYN
# floods"). tcpreplay sends at a fixed --pps=40000 (15000 under ASan):
# its timed mode reaches only ~14 000-22 000 packets/s here. The flood is
# uniform over the capture, so the real packets keep their relative
# timing, compressed (37 s into 25 s): no gap in the real traffic nears
# the 60 s TIME-WAIT, so the model's verdicts do not change.
#
# About 50 s (90 s under ASan). Needs root, tcpreplay and nft; skips
# (77) otherwise. LFLOOD_KEEP=1 keeps the files; LFLOOD_PPS sets the rate.
set -uo pipefail

TWAUDIT=${TWAUDIT:-build/twaudit}
SYNTH=${SYNTH:-${BUILD:-build}/tests/synth/twaudit-synth}
SUF=$$
NG=twf-gen-$SUF
NSV=twf-srv-$SUF
WEB=127.0.0.1:19483
FLOOD=${LFLOOD_N:-1000000}
MAXP=4096
MAXC=65536
MAXS=16384
CAPS="--model.max-peers=$MAXP --model.max-connections=$MAXC --model.max-sources=$MAXS"
REAL="--seed=21 --sources=4 --hosts=3 --ports=1 --conn-rate=8 --seconds=35 \
--mean-duration=0.5 --server-closes=1 --family=4"

. "$(dirname "$0")/lib.sh"
NETNS=("$NG" "$NSV")
KEEP_TMP=${LFLOOD_KEEP:-}

[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
for t in ip curl "$PY"; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
command -v tcpreplay >/dev/null ||
	skip "tcpreplay not installed (apt-get install -y tcpreplay)"
command -v nft >/dev/null ||
	skip "nft not installed (apt-get install -y nftables)"
[ -x "$TWAUDIT" ] || die "twaudit binary $TWAUDIT not built"
[ -x "$SYNTH" ] || die "twaudit-synth not built at $SYNTH"
synth() { "$SYNTH" "$@"; }
ip netns add "$NSV" 2>"$TMP/netns.err" ||
	skip "cannot create a network namespace: $(cat "$TMP/netns.err")"
ip netns add "$NG" || die "ip netns add $NG"

ASAN=0
sanitized && ASAN=1	# lib.sh: SLOW is 3 then
PPS=${LFLOOD_PPS:-$((ASAN ? 15000 : 40000))}

xs() { ip netns exec "$NSV" "$@"; }
scrape() { xs curl -fsS --max-time $((5 * SLOW)) "http://$WEB$1"; }
status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVE/status"; }
prom() { awk -v k="$1" '$1 == k {print $2}' "$TMP/after.prom"; }
mib() { $PY -c 'import sys; print("%.1f MiB" % (int(sys.argv[1]) / 1048576))' "$1"; }

# --- captures ---------------------------------------------------------------
KREL=$(uname -r)
synth $REAL --kernel="$KREL" --no-what-if --out="$TMP/real.pcap" \
	--expect="$TMP/real.exp" 2>"$TMP/synth.err" ||
	die "twaudit-synth: $(cat "$TMP/synth.err")"
synth $REAL --kernel="$KREL" --no-what-if --flood="$FLOOD" \
	--out="$TMP/flood.pcap" 2>>"$TMP/synth.err" ||
	die "twaudit-synth --flood: $(cat "$TMP/synth.err")"
cat "$TMP/synth.err"
NREAL=$(awk '{print $2; exit}' "$TMP/synth.err")
NPKT=$((NREAL + FLOOD))

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
table netdev twflood {
	chain in {
		type filter hook ingress device "s0" priority 0; policy drop;
	}
}
EOF
xs sysctl -qw net.ipv4.tcp_timestamps=1 net.ipv4.tcp_rfc1337=0
set +e

# --- serve ------------------------------------------------------------------
ip netns exec "$NSV" "$TWAUDIT" serve --web.listen-address="$WEB" \
	--sampler.enabled --sampler.server=10.0.0.1 --sampler.interface=s0 \
	--log.level=debug \
	--sampler.ratio=1 $CAPS --collect.min-interval=0s \
	>"$TMP/serve.log" 2>&1 </dev/null &
SERVE=$!
PIDS+=("$SERVE")
got=
for _ in $(seq 1 $((300 * SLOW))); do
	scrape /model >"$TMP/m0.json" 2>/dev/null &&
		got=$(jget "$TMP/m0.json" '[d["state"], d["settings"]["net.ipv4.tcp_timestamps"], d["settings"]["net.ipv4.tcp_rfc1337"], d["packets"]]' 2>/dev/null)
	[ "$got" = '["ok", 1, 0, 0]' ] && break
	sleep 0.1
done
[ "$got" = '["ok", 1, 0, 0]' ] ||
	die "sampler not ready (last: $got): $(cat "$TMP/serve.log" "$TMP/m0.json" 2>/dev/null)"
sleep 5.5	# past the first tick (which can reset the model)
# Warm-up: what serving scrapes costs (libmicrohttpd, jansson, glibc
# arenas of the HTTP threads) belongs to the idle baseline: 20 rounds of
# /metrics, /model, /advice, then 8 clients at once.
for _ in $(seq 1 20); do
	for e in /metrics /model /advice; do scrape $e >/dev/null || die "scrape $e"; done
done
C=()
for _ in $(seq 1 8); do
	( for e in /metrics /model /advice /; do scrape $e >/dev/null; done ) &
	C+=($!)
done
wait "${C[@]}"
IDLE_HWM=$(( $(status_kb VmHWM) * 1024 ))
IDLE_RSS=$(( $(status_kb VmRSS) * 1024 ))
IDLE_PARTS="anon $(status_kb RssAnon) kB, file $(status_kb RssFile) kB, shmem $(status_kb RssShmem) kB"

# --- the memory bound ---------------------------------------------------------
MAIN_BOUND=$(sed -n 's/.*live model.*memory_bound_bytes=\([0-9]*\).*/\1/p' "$TMP/serve.log" | head -1)
[ -n "$MAIN_BOUND" ] || die "serve did not log its model's memory_bound_bytes: $(cat "$TMP/serve.log")"
q() { local v=$(($1 / 4)); [ "$v" -gt "$2" ] && echo "$v" || echo "$2"; }
WCAPS="--model.max-peers=$(q $MAXP 1024) --model.max-connections=$(q $MAXC 1024) --model.max-sources=$(q $MAXS 256)"
wbound() { # wbound KERNEL: model_memory_bound() of a what-if model
	"$TWAUDIT" replay --stats --what-if=false --format=json --kernel="$1" \
		$WCAPS "$TMP/real.pcap" 2>&1 >/dev/null |
		sed -n 's/.*selected_model_bound_bytes=\([0-9]*\).*/\1/p'
}
# What-if models (agent/live.c): the running profile with tw_recycle=0,
# and 4.1-4.11 with tw_recycle=1 (from 4.12 the knob is gone).
W1=$(wbound "$KREL")
W2=$(wbound 4.4)
[ -n "$W1" ] && [ -n "$W2" ] || die "twaudit replay --stats gave no bound"
BUFS=$((32768 * 72 + 4096 * 40 + 1024 * 64))
# Allowance for serve's own heap while it works (the published copy of
# the model's figures, scrape responses, the history ring): an idle serve
# grows by up to 0.9 MB over its first 120 scrapes; its VmHWM runs up to
# 0.3 MiB over its VmRSS during the flood.
SLACK=1048576
BOUND=$((IDLE_HWM + MAIN_BOUND + W1 + W2 + BUFS + SLACK))

# --- flood ------------------------------------------------------------------
# One /metrics scrape every 0.5 s while tcpreplay sends.
(
	n=0; bad=0; worst=0
	while [ ! -e "$TMP/stop" ]; do
		t=$(xs curl -s -o /dev/null -w '%{http_code} %{time_total}' \
			--max-time $((5 * SLOW)) "http://$WEB/metrics")
		n=$((n + 1))
		[ "${t%% *}" = 200 ] || bad=$((bad + 1))
		worst=$($PY -c 'import sys; print(max(float(sys.argv[1]), float(sys.argv[2])))' "$worst" "${t#* }")
		echo "$n $bad $worst" >"$TMP/scrapes"
		sleep 0.5
	done
) &
SCRAPER=$!
PIDS+=("$SCRAPER")
t0=$(date +%s.%N)
ip netns exec "$NG" tcpreplay -i g0 -K --pps="$PPS" "$TMP/flood.pcap" >"$TMP/tcpreplay.out" 2>&1
rc=$?
t1=$(date +%s.%N)
touch "$TMP/stop"
wait "$SCRAPER"
grep -E 'Actual|Rated|Failed' "$TMP/tcpreplay.out"
SENT=$(awk '/Actual:/ {print $2}' "$TMP/tcpreplay.out")
read -r NSCRAPE BADSCRAPE WORST <"$TMP/scrapes"

# Settle: until the packet count stops moving (and the 1 s SYN settle).
prev=-1
for _ in $(seq 1 $((40 * SLOW))); do
	sleep 0.5
	scrape /model >"$TMP/after.json" || continue
	cur=$(jget "$TMP/after.json" 'd["packets"]')
	[ "$cur" = "$prev" ] && break
	prev=$cur
done
sleep 2
scrape /model >"$TMP/after.json" || die "/model after the flood"
scrape /metrics >"$TMP/after.prom" || die "/metrics after the flood"
HWM=$(( $(status_kb VmHWM) * 1024 ))
RSS=$(( $(status_kb VmRSS) * 1024 ))
PARTS="anon $(status_kb RssAnon) kB, file $(status_kb RssFile) kB, shmem $(status_kb RssShmem) kB"
M=$TMP/after.json

# --- references ---------------------------------------------------------------
"$TWAUDIT" replay --format=json --top=50 --kernel="$KREL" --server=10.0.0.1 \
	--set net.ipv4.tcp_timestamps=1 --set net.ipv4.tcp_rfc1337=0 $CAPS \
	"$TMP/real.pcap" >"$TMP/real.json" || die "twaudit replay real.pcap"
"$TWAUDIT" replay --format=json --top=50 --kernel="$KREL" --server=10.0.0.1 \
	--set net.ipv4.tcp_timestamps=1 --set net.ipv4.tcp_rfc1337=0 $CAPS \
	"$TMP/flood.pcap" >"$TMP/rflood.json" || die "twaudit replay flood.pcap"

echo "== figures (profile $(jget "$M" 'd["profile"]'), $NPKT packets, replayed in $($PY -c "print(round($t1 - $t0, 1))") s)"
echo "live:   packets $(jget "$M" 'd["packets"]') syns $(jget "$M" 'd["syns"]') dropped $(jget "$M" 'd["dropped"]')"
echo "live:   tables $(jget "$M" 'd["tables"]')"
echo "replay of the flood capture (same caps): tables $(jget "$TMP/rflood.json" 'd["tables"]') evictions $(jget "$TMP/rflood.json" 'd["evictions"]')"
printf "%-34s %12s %12s %12s\n" "" "no flood" "live flood" "replay flood"
for k in predicted_rejections 'rejections_by_reason["timewait_paws"]' observed_unanswered_syns; do
	printf "%-34s %12s %12s %12s\n" "$k" "$(jget "$TMP/real.json" "d[\"${k%%[*}\"]${k#${k%%[*}}")" \
		"$(jget "$M" "d[\"${k%%[*}\"]${k#${k%%[*}}")" "$(jget "$TMP/rflood.json" "d[\"${k%%[*}\"]${k#${k%%[*}}")"
done
echo "what-if (live, caps / 4): $(jget "$M" '[(w["profile"], w["settings"]["net.ipv4.tcp_tw_recycle"], w["predicted_rejections"]) for w in d["what_if"]]')"
echo "what-if (no flood):       $(jget "$TMP/real.json" '[(w["profile"], w["variant"], w["predicted_rejections"]) for w in d["what_if"] if (w["profile"], w["variant"]) in (("6.16+", "tw_recycle=0"), ("4.1-4.11", "tw_recycle=1"))]')"
echo "per source (no flood):    $(jget "$TMP/real.json" '[(s["address"], s["syns"], s["predicted_rejections"]) for s in d["sources"]]')"
echo "per source (live flood):  $(jget "$M" '[(s["address"], s["syns"], s["predicted_rejections"]) for s in d["top_sources"] if s["address"].startswith("198.18.0.")]')"
echo "memory: idle VmHWM $(mib $IDLE_HWM) (VmRSS $(mib $IDLE_RSS): $IDLE_PARTS); model bounds: running $(mib $MAIN_BOUND), what-if $(mib $W1) + $(mib $W2); sampler buffers $(mib $BUFS); allowance $(mib $SLACK)"
echo "memory: bound $(mib $BOUND) ($BOUND B); after the flood VmHWM $(mib $HWM) ($HWM B), VmRSS $(mib $RSS) ($PARTS)"
echo "scrapes during the flood: $NSCRAPE, failed $BADSCRAPE, slowest ${WORST} s"

# --- asserts -----------------------------------------------------------------
check "tcpreplay sent every packet ($SENT of $NPKT, exit $rc)" [ "$rc/$SENT" = "0/$NPKT" ]
DROPS=$(jget "$M" '[d["dropped"]["kernel"], d["dropped"]["queue"]]')
check "no sampler drops (kernel, queue): $DROPS" [ "$DROPS" = "[0, 0]" ]
check "every SYN modelled ($(jget "$M" 'd["sampled_syns"]') = $(jget "$TMP/rflood.json" 'd["syns"]'))" \
	[ "$(jget "$M" 'd["sampled_syns"]')" = "$(jget "$TMP/rflood.json" 'd["syns"]')" ]
check "tables in use <= caps (peers $MAXP, connections $MAXC, sources $MAXS)" \
	[ "$(jget "$M" '(t := d["tables"])["peers"]["in_use"] <= '$MAXP' and t["connections"]["in_use"] <= '$MAXC' and t["sources"]["in_use"] <= '$MAXS)" = true ]
check "connection and source tables full (the flood reached the caps)" \
	[ "$(jget "$M" '(t := d["tables"])["connections"]["in_use"] >= '$MAXC' * 7 // 8 and t["sources"]["in_use"] >= '$MAXS' * 7 // 8')" = true ]
check "/model: connection and source evictions > 0" \
	[ "$(jget "$M" '(t := d["tables"])["connections"]["evictions"] > 0 and t["sources"]["evictions"] > 0')" = true ]
for t in peers connections sources; do
	check "/metrics twaudit_model_evictions_total{table=\"$t\"} = /model's ($(jget "$M" "d[\"tables\"][\"$t\"][\"evictions\"]"))" \
		[ "$(prom "twaudit_model_evictions_total{table=\"$t\"}")" = "$(jget "$M" "d[\"tables\"][\"$t\"][\"evictions\"]")" ]
done
check "/metrics twaudit_model_peers = /model peers in use, <= $MAXP" \
	[ "$(prom twaudit_model_peers)" = "$(jget "$M" 'd["tables"]["peers"]["in_use"]')" ]
check "serve answered every /metrics scrape during the flood ($NSCRAPE, failed $BADSCRAPE, slowest $WORST s)" \
	[ "$NSCRAPE" -ge 10 -a "$BADSCRAPE" = 0 ]
if [ "$ASAN" = 0 ]; then
	check "VmHWM $(mib $HWM) <= bound $(mib $BOUND)" [ "$HWM" -le "$BOUND" ]
else
	echo "# ASan build: VmHWM $(mib $HWM) vs bound $(mib $BOUND) not asserted (shadow memory, quarantine)"
fi
check "predictions > 0 ($(jget "$TMP/real.json" 'd["predicted_rejections"]') without the flood)" \
	[ "$(jget "$TMP/real.json" 'd["predicted_rejections"] > 0')" = true ]
if [ "$DROPS" = "[0, 0]" ]; then
	check "running model's predictions (total, by reason) under the flood = without it" \
		[ "$(jget "$M" '[d["predicted_rejections"], d["rejections_by_reason"]]')" = \
		  "$(jget "$TMP/real.json" '[d["predicted_rejections"], d["rejections_by_reason"]]')" ]
	# Same packets in the same order, same caps: the same tables.
	check "tables in use and evictions = twaudit replay of the flood capture with the same caps" \
		[ "$(jget "$M" '[[d["tables"][t]["in_use"] for t in ("peers", "connections", "sources")], [d["tables"][t]["evictions"] for t in ("peers", "connections", "sources")]]')" = \
		  "$(jget "$TMP/rflood.json" '[[d["tables"][t] for t in ("peers", "connections", "sources")], [d["evictions"][t] for t in ("peers", "connections", "sources")]]')" ]
else
	fail "predictions not comparable: the sampler dropped packets ($DROPS)"
fi

finish
