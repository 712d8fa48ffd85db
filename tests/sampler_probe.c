/*
 * sampler_probe: run the live sampler and live mode's model thread in the
 * caller's network namespace and print their figures as one JSON object (tests/integration/
 * sampler_netns.sh). The model is set up like `serve` does it: profile
 * from the running kernel's release, settings from /proc/sys.
 *
 *   sampler_probe [--seconds=N] [--stop-file=F] [--ready-file=F]
 *       [--interface=IF]... [--server=ADDR]... [--ratio=N]
 *       [--whatif=PROFILE[,tw_recycle=V][,timestamps=V][,rfc1337=V]]...
 *       [--ring=N] [--max=N (model table caps)]
 *
 * Runs until --seconds have passed or --stop-file exists, waits 0.5 s
 * for the last capture block, stops and prints. A sampler that cannot
 * start is printed too (state and error), exit 0. Exit 2: usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <jansson.h>

#include "agent/live_model.h"
#include "model/model.h"
#include "collectors/sampler.h"
#include "lib/util.h"

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

static int
read_sysctl(const char *name, int dflt)
{
	char path[256], buf[64];
	FILE *fp;
	int v = dflt;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	if ((fp = fopen(path, "r")) == NULL)
		return dflt;
	if (fgets(buf, sizeof(buf), fp) != NULL)
		v = atoi(buf);
	fclose(fp);
	return v;
}

static const char *const nat_class[] = { "unknown", "hosts",
	"per_connection" };
static const char *const reason[] = { "none", "passive_paws",
	"timewait_paws", "timewait_seq" };

static void
print_source(const struct model_source *m)
{
	struct sampler_addr a;
	char buf[64];

	a.family = m->family;
	memcpy(a.addr, m->addr, 16);
	sampler_addr_format(&a, buf, sizeof(buf));
	printf("{\"addr\":");
	json_str(buf);
	printf(",\"syns\":%llu,\"predicted_rejections\":%llu,"
	    "\"nat_class\":\"%s\",\"estimated_hosts\":%u,\"confidence\":%.3f}",
	    (unsigned long long)m->syns,
	    (unsigned long long)m->predicted_rejections,
	    m->nat_class < 3 ? nat_class[m->nat_class] : "?",
	    m->estimated_hosts, m->confidence);
}

static int
parse_whatif(const char *arg, struct live_whatif *w,
    const struct live_model_config *cfg)
{
	char buf[128], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", arg);
	tok = strtok_r(buf, ",", &save);
	if (tok == NULL || model_profile_by_name(tok, &w->profile) < 0)
		return -1;
	memcpy(w->setting, cfg->model.setting, sizeof(w->setting));
	while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
		if (strncmp(tok, "tw_recycle=", 11) == 0)
			w->setting[MS_TW_RECYCLE] = atoi(tok + 11);
		else if (strncmp(tok, "timestamps=", 11) == 0)
			w->setting[MS_TIMESTAMPS] = atoi(tok + 11);
		else if (strncmp(tok, "rfc1337=", 8) == 0)
			w->setting[MS_RFC1337] = atoi(tok + 8);
		else
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sampler_config cfg = sampler_config_default();
	struct live_model_config mc = live_model_config_default();
	const char *stop_file = NULL, *ready_file = NULL;
	double seconds = 5;
	struct live_stats st;
	struct live_model *lm;
	struct sampler *s;
	struct utsname u;
	char err[512], filter[SAMPLER_FILTER_MAX];
	const char *whatif_arg[LIVE_MAX_WHATIF];
	unsigned nwhatif = 0;
	uint32_t cap = 0;
	uint64_t skipped = 0;
	int started;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "--seconds=", 10) == 0)
			seconds = atof(a + 10);
		else if (strncmp(a, "--stop-file=", 12) == 0)
			stop_file = a + 12;
		else if (strncmp(a, "--ready-file=", 13) == 0)
			ready_file = a + 13;
		else if (strncmp(a, "--interface=", 12) == 0 &&
		    cfg.ninterfaces < SAMPLER_MAX_INTERFACES)
			cfg.interface[cfg.ninterfaces++] = a + 12;
		else if (strncmp(a, "--server=", 9) == 0 &&
		    cfg.nservers < SAMPLER_MAX_SERVERS)
			cfg.server[cfg.nservers++] = a + 9;
		else if (strncmp(a, "--ratio=", 8) == 0)
			cfg.ratio = (unsigned)atoi(a + 8);
		else if (strncmp(a, "--ring=", 7) == 0)
			cfg.ring_slots = (unsigned)atoi(a + 7);
		else if (strncmp(a, "--max=", 6) == 0)
			cap = (uint32_t)atol(a + 6);
		else if (strncmp(a, "--whatif=", 9) == 0 &&
		    nwhatif < LIVE_MAX_WHATIF)
			whatif_arg[nwhatif++] = a + 9;
		else {
			fprintf(stderr, "sampler_probe: bad argument %s\n", a);
			return 2;
		}
	}
	if (uname(&u) == 0 &&
	    model_profile_from_version(u.release, &mc.model, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "sampler_probe: %s\n", err);
		return 2;
	}
	mc.model.setting[MS_TW_RECYCLE] = read_sysctl("tcp_tw_recycle", 0);
	mc.model.setting[MS_TIMESTAMPS] = read_sysctl("tcp_timestamps", 1);
	mc.model.setting[MS_RFC1337] = read_sysctl("tcp_rfc1337", 0);
	if (cap != 0) {
		mc.model.max_peers = cap;
		mc.model.max_connections = cap;
		mc.model.max_sources = cap;
	}
	for (unsigned i = 0; i < nwhatif; i++) {
		if (parse_whatif(whatif_arg[i], &mc.whatif[i], &mc) < 0) {
			fprintf(stderr, "sampler_probe: bad --whatif=%s\n",
			    whatif_arg[i]);
			return 2;
		}
	}
	mc.nwhatif = nwhatif;

	if ((s = sampler_new(&cfg, err, sizeof(err))) == NULL ||
	    (lm = live_model_new(&mc, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sampler_probe: %s\n", err);
		return 2;
	}
	started = sampler_start(s, err, sizeof(err)) == 0;
	if (started && live_model_start(lm, s, err, sizeof(err)) < 0) {
		sampler_stop(s);
		started = 0;
	}
	if (ready_file != NULL) {
		FILE *fp = fopen(ready_file, "w");

		if (fp != NULL) {
			fputs(started ? "started\n" : "failed\n", fp);
			fclose(fp);
		}
	}
	if (started) {
		double end = now_monotonic() + seconds;

		while (now_monotonic() < end &&
		    (stop_file == NULL || access(stop_file, F_OK) != 0)) {
			struct timespec ts = { 0, 50 * 1000000L };

			nanosleep(&ts, NULL);
		}
		{
			struct timespec ts = { 0, 500 * 1000000L };

			nanosleep(&ts, NULL);
		}
		sampler_stop(s);
		live_model_stop(lm);
	}
	live_model_read(lm, s, &st);
	sampler_filter(s, filter, sizeof(filter));

	printf("{\"state\":\"%s\",\"error\":", sampler_state_name(st.state));
	json_str(st.error);
	printf(",\"ratio\":%u,\"profile\":", st.ratio);
	json_str(st.profile);
	printf(",\"settings\":{\"tw_recycle\":%d,\"timestamps\":%d,"
	    "\"rfc1337\":%d}", st.setting[MS_TW_RECYCLE],
	    st.setting[MS_TIMESTAMPS], st.setting[MS_RFC1337]);
	for (int i = 0; i < PACKET_SKIP_COUNT; i++)
		skipped += st.skipped[i];
	printf(",\"linktype\":");
	json_str(st.linktype >= 0 && pcap_datalink_val_to_name(st.linktype) ?
	    pcap_datalink_val_to_name(st.linktype) : "");
	printf(",\"interfaces\":%u,\"interfaces_open\":%u", st.interfaces,
	    st.interfaces_open);
	printf(",\"packets\":%llu,\"events\":%llu,\"skipped\":%llu,"
	    "\"loopback_duplicates\":%llu,\"ring_dropped\":%llu,"
	    "\"kernel_received\":%llu,\"kernel_dropped\":%llu,"
	    "\"reopens\":%llu,\"capture_errors\":%llu",
	    (unsigned long long)st.packets, (unsigned long long)st.events,
	    (unsigned long long)skipped,
	    (unsigned long long)st.loopback_duplicates,
	    (unsigned long long)st.ring_dropped,
	    (unsigned long long)st.kernel_received,
	    (unsigned long long)st.kernel_dropped,
	    (unsigned long long)st.reopens,
	    (unsigned long long)st.capture_errors);
	printf(",\"skipped_by\":{");
	for (int i = 1, n = 0; i < PACKET_SKIP_COUNT; i++)
		if (st.skipped[i] != 0)
			printf("%s\"%s\":%llu", n++ ? "," : "",
			    packet_skip_name((enum packet_skip)i),
			    (unsigned long long)st.skipped[i]);
	printf("}");
	printf(",\"fed\":%llu,\"unsampled\":%llu,\"foreign\":%llu,"
	    "\"model_resets\":%llu",
	    (unsigned long long)st.fed, (unsigned long long)st.unsampled,
	    (unsigned long long)st.foreign,
	    (unsigned long long)st.model_resets);
	printf(",\"model\":{\"syns\":%llu,\"connections\":%llu,"
	    "\"predicted_rejections\":%llu,\"observed_unanswered_syns\":%llu,"
	    "\"peers\":%llu,\"sources\":%llu,\"tw\":%llu,\"by_reason\":{",
	    (unsigned long long)st.model.syns,
	    (unsigned long long)st.model.connections,
	    (unsigned long long)st.model.predicted_rejections,
	    (unsigned long long)st.model.observed_unanswered_syns,
	    (unsigned long long)st.model.peers,
	    (unsigned long long)st.model.sources,
	    (unsigned long long)st.model.counters[MC_TW]);
	for (int i = 1; i < MODEL_NREASONS; i++)
		printf("%s\"%s\":%llu", i > 1 ? "," : "", reason[i],
		    (unsigned long long)st.model.by_reason[i]);
	printf("}}");
	printf(",\"syns\":%llu,\"predicted_rejections\":%llu,"
	    "\"predicted_rejections_per_min\":%.3f,\"window_s\":%.3f",
	    (unsigned long long)st.syns,
	    (unsigned long long)st.predicted_rejections,
	    st.predicted_rejections_per_min, st.window_s);
	printf(",\"nat_sources\":%llu,\"per_connection_sources\":%llu",
	    (unsigned long long)st.nat_sources,
	    (unsigned long long)st.per_connection_sources);
	printf(",\"top\":[");
	for (size_t i = 0; i < st.ntop; i++) {
		if (i)
			putchar(',');
		print_source(&st.top[i]);
	}
	printf("],\"nat\":[");
	for (size_t i = 0; i < st.nnat; i++) {
		if (i)
			putchar(',');
		print_source(&st.nat[i]);
	}
	printf("],\"whatif\":[");
	for (unsigned i = 0; i < st.nwhatif; i++) {
		const struct live_whatif_stats *w = &st.whatif[i];

		printf("%s{\"profile\":", i ? "," : "");
		json_str(w->profile);
		printf(",\"tw_recycle\":%d,\"timestamps\":%d,\"rfc1337\":%d,"
		    "\"predicted_rejections\":%llu,"
		    "\"predicted_rejections_per_min\":%.3f,\"passive_paws\":%llu}",
		    w->setting[MS_TW_RECYCLE], w->setting[MS_TIMESTAMPS],
		    w->setting[MS_RFC1337],
		    (unsigned long long)w->predicted_rejections,
		    w->predicted_rejections_per_min,
		    (unsigned long long)w->by_reason[MODEL_R_PASSIVE_PAWS]);
	}
	printf("],\"filter\":");
	json_str(filter);
	printf("}\n");
	live_model_free(lm);
	sampler_free(s);
	return 0;
}
