#!/bin/bash
# Collector switches (--collector.NAME, --no-collector.NAME,
# --collector.disable-defaults, --sampler.enabled as an alias of
# --collector.sampler) and foreign trees: a switched-off collector reports
# `disabled` with success 1, never touches its source (strace: no open, no
# netlink or packet socket), never raises the status; check without the
# sysctl collector says UNKNOWN. A tree that is not this host's makes
# sock_diag, tcp_metrics and the sampler not_applicable unless named, and
# takes its host name from the tree; the real /proc bind-mounted elsewhere
# is this host's.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (strace of a packet socket, mount namespaces)"
command -v strace >/dev/null || skip "strace is not installed"

FX=$FIXTURES/linux-6.18
ROOT=$FIXTURES/rootfs-debian

# state FILE NAME: a source's state in check --format=json output.
state() { json_get "$1" "d['sources']['$2']['state']"; }

# traced OUT ARGS...: check ARGS under strace (openat and socket, every
# thread); the trace goes to OUT.trace, stdout to OUT.
traced() {
	local out=$1; shift
	strace -f -qq -e trace=openat,socket -o "$out.trace" \
		"$TWAUDIT" check --format=json "$@" >"$out" 2>"$out.err"
}

# 1. Each /proc and sysctl.d collector switched off: disabled, untouched.
declare -A PATTERN=(
	[sysctl]='sys/(net/ipv4/tcp_|kernel/osrelease)'
	[netstat]='net/netstat"'
	[snmp]='net/snmp"'
	[sockstat]='net/sockstat'
	[persist]="rootfs-debian"
)
traced "$TMP/all.json" --path.rootfs="$ROOT"
for name in sysctl netstat snmp sockstat persist; do
	check "baseline: $name's source is opened" grep -Eq "openat\(.*${PATTERN[$name]}" "$TMP/all.json.trace"
	traced "$TMP/no-$name.json" --path.rootfs="$ROOT" --no-collector.$name
	check "--no-collector.$name: state disabled" test "$(state "$TMP/no-$name.json" "$name")" = disabled
	check "--no-collector.$name: says which flag" \
		test "$(json_get "$TMP/no-$name.json" "d['sources']['$name']['error']")" = "disabled by --no-collector.$name"
	check "--no-collector.$name: its source is never opened" \
		bash -c "! grep -Eq 'openat\\(.*${PATTERN[$name]}' '$TMP/no-$name.json.trace'"
	check "--no-collector.$name: valid against the schema" validate_json "$SCHEMAS/advice.schema.json" "$TMP/no-$name.json"
done

# 2. Netlink and the sampler: no socket at all when switched off.
traced "$TMP/live.json" --sample=1s
check "baseline: sock_diag, tcp_metrics and packet sockets are opened" \
	bash -c "grep -q NETLINK_SOCK_DIAG '$TMP/live.json.trace' && grep -q NETLINK_GENERIC '$TMP/live.json.trace' && grep -q 'socket(AF_PACKET' '$TMP/live.json.trace'"
traced "$TMP/nonl.json" --sample=1s --no-collector.sock_diag --collector.tcp_metrics=false --no-collector.sampler
check "netlink and sampler off: all three disabled" \
	test "$(jget "$TMP/nonl.json" "[d['sources'][n]['state'] for n in ('sock_diag', 'tcp_metrics', 'sampler')]")" = '["disabled", "disabled", "disabled"]'
check "netlink and sampler off: no netlink sock_diag or generic socket, no packet socket" \
	bash -c "! grep -Eq 'NETLINK_SOCK_DIAG|NETLINK_GENERIC|socket\\(AF_PACKET' '$TMP/nonl.json.trace'"

# 3. --sampler.enabled and --collector.sampler: the last given wins.
"$TWAUDIT" check --format=json --sample=1s --collector.sampler --sampler.enabled=false >"$TMP/a1.json" 2>/dev/null
check "--collector.sampler then --sampler.enabled=false: disabled" test "$(state "$TMP/a1.json" sampler)" = disabled
"$TWAUDIT" check --format=json --sample=1s --no-sampler.enabled --collector.sampler >"$TMP/a2.json" 2>/dev/null
check "--no-sampler.enabled then --collector.sampler: runs (ok)" test "$(state "$TMP/a2.json" sampler)" = ok

# 4. --collector.disable-defaults: only the named ones run.
"$TWAUDIT" check --format=json --collector.disable-defaults --collector.netstat --collector.sysctl >"$TMP/only.json" 2>/dev/null
check "disable-defaults: netstat and sysctl ok, the rest disabled" \
	test "$(jget "$TMP/only.json" "sorted(n for n, v in d['sources'].items() if v['state'] != 'disabled')")" = '["netstat", "sysctl"]'
check "disable-defaults: the reason names the flag" \
	test "$(json_get "$TMP/only.json" "d['sources']['snmp']['error']")" = "disabled: --collector.disable-defaults without --collector.snmp"

# 5. Disabling never raises the status: the worst finding (what serve's
# status is, critical > warning > unknown > ok) with one collector off is
# no worse than with all on, over fixtures with findings of every
# severity; check without sysctl cannot judge and says UNKNOWN (3).
worst() { $PY -c 'import json,sys; r={"info":0,"unknown":1,"warning":2,"critical":3}; d=json.load(open(sys.argv[1])); print(max([r[f["severity"]] for f in d["findings"]] or [0]))' "$1"; }
raised=
for fx in linux-3.10-recycle linux-4.10-recycle linux-6.18 broken-truncated; do
	for root in rootfs-debian rootfs-precedence; do
		"$TWAUDIT" check --format=json --path.procfs="$FIXTURES/$fx" --path.rootfs="$FIXTURES/$root" >"$TMP/w.json" 2>/dev/null
		base=$(worst "$TMP/w.json")
		for name in sysctl netstat snmp sockstat persist sock_diag tcp_metrics sampler; do
			"$TWAUDIT" check --format=json --path.procfs="$FIXTURES/$fx" --path.rootfs="$FIXTURES/$root" --no-collector.$name >"$TMP/w.json" 2>/dev/null
			[ "$(worst "$TMP/w.json")" -le "$base" ] || raised+=" $fx/$root/$name"
		done
	done
done
check "no disabled collector raises the status${raised:+ (raised:$raised)}" test -z "$raised"
"$TWAUDIT" check --path.procfs="$FX" --path.rootfs="$ROOT" --no-collector.sysctl >"$TMP/nosys.txt" 2>"$TMP/nosys.err"; rc=$?
check "check --no-collector.sysctl: exit 3 (UNKNOWN)" test "$rc" = 3
check "check --no-collector.sysctl: first line TWAUDIT UNKNOWN - ..." \
	grep -q '^TWAUDIT UNKNOWN - sysctl collector disabled' <(head -1 "$TMP/nosys.txt")
check "check --no-collector.sysctl: nothing on stderr" test ! -s "$TMP/nosys.err"

# 6. serve: the metrics of a disabled collector (success 1, state disabled).
port=$(free_port)
start_serve "$port" --path.procfs="$FX" --path.rootfs="$ROOT" --no-collector.persist --no-security.seccomp
curl -fsS "http://127.0.0.1:$port/metrics" >"$TMP/serve.prom"
check "serve --no-collector.persist: state disabled 1" \
	grep -q '^twaudit_collector_state{collector="persist",state="disabled"} 1$' "$TMP/serve.prom"
check "serve --no-collector.persist: success 1" \
	grep -q '^twaudit_collector_success{collector="persist"} 1$' "$TMP/serve.prom"
check "serve: every collector has a disabled series" \
	test "$(grep -c '^twaudit_collector_state{collector="[a-z_]*",state="disabled"}' "$TMP/serve.prom")" = 8
stop_serve

# 7. A fixture tree is foreign: local-kernel sources not applicable, no
# netlink or packet socket, the host name from the tree (or unknown).
traced "$TMP/fx.json" --path.procfs="$FX" --path.rootfs="$ROOT" --sample=1s
check "fixture tree: sock_diag, tcp_metrics, sampler not_applicable" \
	test "$(jget "$TMP/fx.json" "[d['sources'][n]['state'] for n in ('sock_diag', 'tcp_metrics', 'sampler')]")" = '["not_applicable", "not_applicable", "not_applicable"]'
check "fixture tree: the reason says the tree is not this host's" \
	grep -q "is not this host's (not a procfs mount)" "$TMP/fx.json"
check "fixture tree: no netlink sock_diag or generic socket, no packet socket" \
	bash -c "! grep -Eq 'NETLINK_SOCK_DIAG|NETLINK_GENERIC|socket\\(AF_PACKET' '$TMP/fx.json.trace'"
check "fixture tree without a host name: unknown, not this machine's" \
	test "$(json_get "$TMP/fx.json" "d['host']")" = unknown
"$TWAUDIT" check --format=json --path.procfs="$FX" >"$TMP/fxroot.json" 2>/dev/null
check "fixture tree with this machine's / as rootfs: unknown, not its etc/hostname" \
	test "$(json_get "$TMP/fxroot.json" "d['host']")" = unknown
check "fixture tree: the sysctl collector still reads the tree" test "$(state "$TMP/fx.json" sysctl)" = ok
cp -r "$FX" "$TMP/tree"
mkdir -p "$TMP/tree/sys/kernel" "$TMP/root/etc"
echo "tree-host" >"$TMP/tree/sys/kernel/hostname"
echo "rootfs-host" >"$TMP/root/etc/hostname"
"$TWAUDIT" check --format=json --path.procfs="$TMP/tree" --path.rootfs="$TMP/root" >"$TMP/h1.json" 2>/dev/null
check "host name from the tree's proc/sys/kernel/hostname" test "$(json_get "$TMP/h1.json" "d['host']")" = tree-host
rm "$TMP/tree/sys/kernel/hostname"
"$TWAUDIT" check --format=json --path.procfs="$TMP/tree" --path.rootfs="$TMP/root" >"$TMP/h2.json" 2>/dev/null
check "else from the rootfs's etc/hostname" test "$(json_get "$TMP/h2.json" "d['host']")" = rootfs-host
# Untrusted tree: FIFOs where the names are must not block (no writer).
rm "$TMP/root/etc/hostname"
mkfifo "$TMP/tree/sys/kernel/hostname" "$TMP/root/etc/hostname"
timeout 20 "$TWAUDIT" check --format=json --path.procfs="$TMP/tree" --path.rootfs="$TMP/root" >"$TMP/h3.json" 2>/dev/null
check "FIFOs as host name files: no hang, host unknown" test "$(json_get "$TMP/h3.json" "d['host']")" = unknown
# Named explicitly: read, and the output says it is the local kernel.
"$TWAUDIT" check --format=json --path.procfs="$FX" --path.rootfs="$ROOT" --collector.sock_diag >"$TMP/named.json" 2>/dev/null
check "foreign tree, --collector.sock_diag: read (ok)" test "$(state "$TMP/named.json" sock_diag)" = ok
check "foreign tree, --collector.sock_diag: tcp_metrics still not_applicable" test "$(state "$TMP/named.json" tcp_metrics)" = not_applicable
check "foreign tree, --collector.sock_diag: a finding says it is the local kernel" \
	test "$(jget "$TMP/named.json" "[(f['severity'], f['evidence']['sources']) for f in d['findings'] if f['id'] == 'local_kernel_sources']")" = '[["info", "sock_diag"]]'
check "foreign tree, --collector.sock_diag: valid against the schema" validate_json "$SCHEMAS/advice.schema.json" "$TMP/named.json"

# 8. The real /proc bind-mounted at another path is this host's.
mkdir -p "$TMP/x/proc"
unshare -m bash -c "mount --make-rprivate / && mount --bind /proc '$TMP/x/proc' && \
	'$TWAUDIT' check --format=json --path.procfs='$TMP/x/proc'" >"$TMP/bind.json" 2>"$TMP/bind.err"
check "real /proc at another path: sock_diag ok (not foreign)" test "$(state "$TMP/bind.json" sock_diag)" = ok
check "real /proc at another path: this host's name" test "$(json_get "$TMP/bind.json" "d['host']")" = "$(cat /proc/sys/kernel/hostname)"
check "real /proc at another path: no local_kernel_sources finding" \
	test "$(jget "$TMP/bind.json" "[f['id'] for f in d['findings'] if f['id'] == 'local_kernel_sources']")" = '[]'

finish
