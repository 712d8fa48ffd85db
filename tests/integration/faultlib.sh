# Helpers for fault_injection.sh, hostile_clients.sh and soak.sh (sourced
# after lib.sh).

HOSTILE="$(dirname "${BASH_SOURCE[0]}")/hostile.py"

# tree_pids PID: PID and its descendants (serve runs as two processes).
tree_pids() {
	local c
	echo "$1"
	for c in $(cat "/proc/$1"/task/*/children 2>/dev/null); do tree_pids "$c"; done
}
# proc_count PID fd|task: open descriptors or threads of PID's tree.
proc_count() {
	local p n=0
	for p in $(tree_pids "$1"); do n=$((n + $(ls "/proc/$p/$2" 2>/dev/null | wc -l))); done
	echo "$n"
}
# proc_rss_kib PID [FIXED]: resident KiB of PID's tree, the capture ring left
# out: a packet socket's ring is a kernel buffer of fixed size whose pages
# count as resident as the kernel first fills them, so that part grows until
# the ring wraps and starts again at every reopen (proc_ring_kib reports it).
# With FIXED (a file from fixed_maps), the mappings it lists are left out
# too (proc_fixed_kib reports them).
proc_rss_kib() { _rss_split "$1" "${2:-}" | cut -d' ' -f1; }
proc_ring_kib() { _rss_split "$1" | cut -d' ' -f2; }
proc_fixed_kib() { _rss_split "$1" "$2" | cut -d' ' -f3; }
_rss_split() {
	local p
	for p in $(tree_pids "$1"); do echo "pid $p"; cat "/proc/$p/smaps" 2>/dev/null; done |
	awk -v ff="${2:-/dev/null}" '
	     BEGIN { while ((getline l < ff) > 0) { split(l, w, " "); fx[w[1] " " w[2]] = w[3] } }
	     $1 == "pid" { pid = $2; next }
	     /^[0-9a-f]+-[0-9a-f]+ / { ring = ($6 ~ /^socket:/); split($1, a, "-"); k = pid " " a[2]; cap = (k in fx) ? fx[k] + 0 : 0 }
	     /^Rss:/ { if (ring) r += $2; else if ($2 <= cap) f += $2; else { f += cap; o += $2 - cap } }
	     END { printf "%d %d %d\n", o, r, f }'
}
# fixed_maps PID: "PID END KiB" for each private anonymous writable
# mapping of PID's tree other than the brk heap and malloc's arenas (which
# start 64 MiB-aligned): blocks allocated once at their full size (the
# models' tables, the history ring, thread stacks), whose pages become
# resident as they are first written. Their growth is bounded by their
# size; a leak shows in the heap, the arenas or new mappings. A mapping is
# known by its end (new mappings go below the old ones, and the kernel may
# merge them into one range that keeps its end), and at most its size then
# counts as fixed.
fixed_maps() {
	local p
	for p in $(tree_pids "$1"); do
		awk -v pid="$p" 'NF == 5 && $2 ~ /^rw.p/ {
			split($1, a, "-"); s = a[1]; n = length(s)
			if (substr(s, n - 5) == "000000" && substr(s, n - 6, 1) ~ /[048c]/) next
			print pid, $1 }' "/proc/$p/maps" 2>/dev/null
	done | while read -r p r; do
		echo "$p ${r#*-} $(( (16#${r#*-} - 16#${r%-*}) / 1024 ))"
	done
}

# metric URL NAME_WITH_LABELS [CURL_OPTS...]: the value of one series, or
# empty when absent.
metric() {
	local url=$1 name=$2; shift 2
	curl -fsS -m 5 "$@" "$url" 2>/dev/null | awk -v n="$name" '$1 == n { print $2; exit }'
}

# scrape_ms URL [CURL_OPTS...]: "CODE MS" of one GET (a new connection),
# 10 s at most.
scrape_ms() {
	local url=$1; shift
	curl -s -m 10 -o /dev/null -w '%{http_code} %{time_total}\n' "$@" "$url" 2>/dev/null |
		awk '{ printf "%s %d\n", $1, $2 * 1000 }'
}
# answers_within MS URL [CURL_OPTS...]: 200 in under MS milliseconds (x SLOW).
answers_within() {
	local lim=$(( $1 * SLOW )) r; shift
	r=$(scrape_ms "$@")
	[ "${r%% *}" = 200 ] && [ "${r##* }" -lt "$lim" ] && return 0
	echo "# $*: status and ms: ${r:-none}" >&2
	return 1
}

# field KEY LINE: the value of KEY=... in a "k=v k=v" line.
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# bcrypt_hash PASSWORD COST
bcrypt_hash() {
	$PY -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1<<int(sys.argv[2]))))' "$1" "$2"
}

# make_pki DIR: a CA and a server certificate for 127.0.0.1 (ca.crt,
# server.crt, server.key).
make_pki() {
	local d=$1; mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=twaudit test CA" -keyout "$d/ca.key" -out "$d/ca.crt" >/dev/null 2>&1 &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$d/server.ext" &&
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
		-CAcreateserial -days 2 -extfile "$d/server.ext" -out "$d/server.crt" >/dev/null 2>&1
}

# veth_pair NS_A IF_A ADDR_A NS_B IF_B ADDR_B: a veth pair between two
# namespaces, addressed (/24) and up.
veth_pair() {
	ip -n "$1" link add "$2" type veth peer name "$5" netns "$4" &&
	ip -n "$1" addr add "$3/24" dev "$2" &&
	ip -n "$4" addr add "$6/24" dev "$5" &&
	ip -n "$1" link set "$2" up &&
	ip -n "$4" link set "$5" up
}

# new_netns NAME: an empty namespace with lo up, deleted by lib.sh's cleanup.
new_netns() {
	ip netns add "$1" || return 1
	NETNS+=("$1")
	ip -n "$1" link set lo up
}

# num_gt A B: A is a number greater than B (A empty: false).
num_gt() { [ -n "$1" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }

# log_lines FILE
log_lines() { wc -l <"$1" 2>/dev/null || echo 0; }
