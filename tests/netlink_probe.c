/*
 * netlink_probe: run sock_diag_collect() and tcp_metrics_collect() once in
 * the caller's network namespace and print the results as one JSON object
 * (for tests/integration/netlink_netns.sh). Exit 0 when both sources ran
 * (whatever their state), 2 on usage errors.
 *
 *   netlink_probe [--max-entries=N] [--timeout-ms=N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "collectors/sock_diag.h"
#include "lib/source.h"
#include "collectors/tcp_metrics.h"

/* S as a JSON string (jansson does the escaping). */
static void
json_str(const char *s)
{
	json_t *j = json_string(s);
	char *t = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	fputs(t != NULL ? t : "null", stdout);
	free(t);
	json_decref(j);
}

static void
json_addr(const struct sock_diag_addr *a)
{
	char buf[64];

	sock_diag_addr_format(a, buf, sizeof(buf));
	json_str(buf);
}

static void
print_entry(const struct tcp_metrics_entry *e)
{
	printf("{\"addr\":");
	json_addr(&e->addr);
	if (e->saddr.family != 0) {
		printf(",\"saddr\":");
		json_addr(&e->saddr);
	}
	printf(",\"age_ms\":%llu", (unsigned long long)e->age_ms);
	if (e->has_tw)
		printf(",\"tw_tsval\":%u,\"tw_ts_stamp_age_s\":%d", e->tsval,
		    e->stamp_age_s);
	printf("}");
}

int
main(int argc, char **argv)
{
	struct sock_diag_limits sl = { 0 };
	struct tcp_metrics_limits tl = { 0 };
	static struct sock_diag_stats sd;
	static struct tcp_metrics_stats tm;
	char err[512];
	enum source_state st;

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--max-entries=", 14) == 0) {
			sl.max_entries = (uint32_t)strtoul(argv[i] + 14, NULL,
			    10);
			tl.max_entries = sl.max_entries;
		} else if (strncmp(argv[i], "--timeout-ms=", 13) == 0) {
			sl.timeout_ms = (uint32_t)strtoul(argv[i] + 13, NULL,
			    10);
			tl.timeout_ms = sl.timeout_ms;
		} else {
			fprintf(stderr, "usage: %s [--max-entries=N] "
			    "[--timeout-ms=N]\n", argv[0]);
			return 2;
		}
	}

	st = sock_diag_collect(&sd, &sl, err, sizeof(err));
	printf("{\"sock_diag\":{\"state\":\"%s\",\"error\":", source_state_name[st]);
	json_str(err);
	printf(",\"states\":{");
	for (int s = 1; s < SD_NSTATES; s++)
		printf("%s\"%s\":%llu", s > 1 ? "," : "",
		    sock_diag_state_name[s], (unsigned long long)sd.state[s]);
	printf("},\"state_other\":%llu,\"sockets_v4\":%llu,"
	    "\"sockets_v6\":%llu,\"timewait\":%llu,\"est_info\":%llu,"
	    "\"est_ts\":%llu,\"ts_ratio\":",
	    (unsigned long long)sd.state_other,
	    (unsigned long long)sd.sockets_v4,
	    (unsigned long long)sd.sockets_v6,
	    (unsigned long long)sd.timewait, (unsigned long long)sd.est_info,
	    (unsigned long long)sd.est_ts);
	if (sock_diag_has_ts_ratio(&sd))
		printf("%.6f", sock_diag_ts_ratio(&sd));
	else
		printf("null");
	printf(",\"timewait_ports\":%llu,\"top_ports\":[",
	    (unsigned long long)sd.timewait_ports);
	for (size_t i = 0; i < sd.ntop_ports; i++)
		printf("%s{\"port\":%u,\"count\":%llu}", i ? "," : "",
		    sd.top_ports[i].port,
		    (unsigned long long)sd.top_ports[i].count);
	printf("],\"timewait_remotes\":%llu,\"remotes_untracked\":%llu,"
	    "\"top_remotes\":[", (unsigned long long)sd.timewait_remotes,
	    (unsigned long long)sd.remotes_untracked);
	for (size_t i = 0; i < sd.ntop_remotes; i++) {
		printf("%s{\"addr\":", i ? "," : "");
		json_addr(&sd.top_remotes[i].addr);
		printf(",\"count\":%llu}",
		    (unsigned long long)sd.top_remotes[i].count);
	}
	printf("],\"truncated\":%s,\"dropped\":%llu},",
	    sd.truncated ? "true" : "false", (unsigned long long)sd.dropped);

	st = tcp_metrics_collect(&tm, &tl, err, sizeof(err));
	printf("\"tcp_metrics\":{\"state\":\"%s\",\"error\":", source_state_name[st]);
	json_str(err);
	printf(",\"peers\":%llu,\"peers_v4\":%llu,\"peers_v6\":%llu,"
	    "\"has_tw_attrs\":%s,\"tw_peers\":%llu,\"recent_stamps\":%llu,"
	    "\"truncated\":%s,\"dropped\":%llu,\"recent\":[",
	    (unsigned long long)tm.peers, (unsigned long long)tm.peers_v4,
	    (unsigned long long)tm.peers_v6,
	    tm.has_tw_attrs ? "true" : "false",
	    (unsigned long long)tm.tw_peers,
	    (unsigned long long)tm.recent_stamps,
	    tm.truncated ? "true" : "false", (unsigned long long)tm.dropped);
	for (size_t i = 0; i < tm.nrecent; i++) {
		if (i)
			putchar(',');
		print_entry(&tm.recent[i]);
	}
	printf("],\"listed\":[");
	for (size_t i = 0; i < tm.nlisted; i++) {
		if (i)
			putchar(',');
		print_entry(&tm.listed[i]);
	}
	printf("]}}\n");
	return 0;
}
