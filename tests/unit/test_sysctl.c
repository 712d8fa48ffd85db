/* sysctl: name lookup, value parsing, and key states over fake procfs trees. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/kversion.h"
#include "collectors/sysctl.h"

#ifndef FIXTURES
#error "FIXTURES must name tests/fixtures"
#endif

/* ---- fake procfs helpers ---- */

static void
mkdirs(const char *path)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	mkdir(tmp, 0755);
}

static void
put(const char *root, const char *rel, const char *text)
{
	char path[4096], dir[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
del(const char *root, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(unlink(path), 0);
}

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* A procfs with every watched key present, on kernel RELEASE. */
static char *
make_procfs(const char *release)
{
	char tmpl[] = "/tmp/twaudit-sysctl-XXXXXX";
	char *root;

	assert_non_null(mkdtemp(tmpl));
	root = strdup(tmpl);
	put(root, "sys/kernel/osrelease", release);
	put(root, "sys/net/ipv4/tcp_tw_recycle", "0\n");
	put(root, "sys/net/ipv4/tcp_timestamps", "1\n");
	put(root, "sys/net/ipv4/tcp_tw_reuse", "2\n");
	put(root, "sys/net/ipv4/tcp_rfc1337", "0\n");
	put(root, "sys/net/ipv4/tcp_max_tw_buckets", "262144\n");
	put(root, "sys/net/ipv4/tcp_fin_timeout", "60\n");
	put(root, "sys/net/ipv4/tcp_syncookies", "1\n");
	put(root, "sys/net/ipv4/tcp_max_syn_backlog", "4096\n");
	put(root, "sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
	put(root, "sys/net/core/somaxconn", "4096\n");
	put(root, "sys/net/netfilter/nf_conntrack_tcp_timeout_time_wait",
	    "120\n");
	return root;
}

static void
drop_procfs(char *root)
{
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
}

/* ---- lookup ---- */

static int
lk(const char *s)
{
	return sysctl_lookup(s, strlen(s));
}

static void
test_lookup(void **state)
{
	(void)state;
	assert_int_equal(lk("net.ipv4.tcp_tw_recycle"), SYSCTL_TCP_TW_RECYCLE);
	assert_int_equal(lk("net/ipv4/tcp_tw_recycle"), SYSCTL_TCP_TW_RECYCLE);
	assert_int_equal(lk("/net/ipv4/tcp_tw_recycle"), SYSCTL_TCP_TW_RECYCLE);
	assert_int_equal(lk("net//ipv4/tcp_tw_reuse"), SYSCTL_TCP_TW_REUSE);
	assert_int_equal(lk("net.core.somaxconn"), SYSCTL_SOMAXCONN);
	assert_int_equal(
	    lk("net/netfilter/nf_conntrack_tcp_timeout_time_wait"),
	    SYSCTL_NF_CONNTRACK_TCP_TIMEOUT_TIME_WAIT);
	/* Mixed separators mean another path to systemd and procps. */
	assert_int_equal(lk("net.ipv4/tcp_tw_recycle"), -1);
	assert_int_equal(lk("net/ipv4.tcp_tw_recycle"), -1);
	assert_int_equal(lk("net.ipv4.tcp_tw"), -1);
	assert_int_equal(lk("net.ipv4.tcp_tw_recycled"), -1);
	assert_int_equal(lk("net.ipv4.tcp_tw_recycle."), -1);
	assert_int_equal(lk(" net.ipv4.tcp_tw_recycle"), -1);
	assert_int_equal(lk(""), -1);
	assert_int_equal(lk("kernel.osrelease"), -1);
	/* Length bounds the name, no NUL needed. */
	assert_int_equal(sysctl_lookup("net.core.somaxconnXYZ", 18),
	    SYSCTL_SOMAXCONN);
	for (int k = 0; k < SYSCTL_COUNT; k++)
		assert_int_equal(lk(sysctl_defs[k].name), k);
}

static void
test_defs(void **state)
{
	(void)state;
	assert_int_equal(sysctl_defs[SYSCTL_TCP_TW_RECYCLE].removed_in,
	    KV(4, 12, 0));
	assert_int_equal(sysctl_defs[SYSCTL_TCP_TW_RECYCLE].netns_from,
	    KV(4, 11, 0));
	assert_int_equal(sysctl_defs[SYSCTL_TCP_TIMESTAMPS].netns_from,
	    KV(4, 13, 0));
	assert_int_equal(sysctl_defs[SYSCTL_TCP_TW_REUSE].netns_from,
	    KV(4, 10, 0));
	assert_int_equal(sysctl_defs[SYSCTL_TCP_MAX_TW_BUCKETS].netns_from,
	    KV(4, 11, 0));
	assert_int_equal(sysctl_defs[SYSCTL_SOMAXCONN].netns_from, 0);
}

/* ---- parse ---- */

static int
pv(const char *s, struct sysctl_value *v)
{
	char err[128];

	memset(v, 0, sizeof(*v));
	return sysctl_parse_value(s, strlen(s), v, err, sizeof(err));
}

static void
test_parse_value(void **state)
{
	struct sysctl_value v;
	char err[128] = "";

	(void)state;
	assert_int_equal(pv("1\n", &v), 0);
	assert_int_equal(v.nvalues, 1);
	assert_int_equal(v.v[0], 1);
	assert_int_equal(pv("32768\t60999\n", &v), 0);
	assert_int_equal(v.nvalues, 2);
	assert_int_equal(v.v[0], 32768);
	assert_int_equal(v.v[1], 60999);
	assert_int_equal(pv("4096 16384 4194304\n", &v), 0);
	assert_int_equal(v.nvalues, 3);
	assert_int_equal(v.v[2], 4194304);
	assert_int_equal(pv("-1", &v), 0);
	assert_int_equal(v.v[0], -1);
	assert_int_equal(pv("  7  \n", &v), 0);
	assert_int_equal(v.v[0], 7);
	assert_int_equal(pv("-9223372036854775808\n", &v), 0);
	assert_true(v.v[0] == INT64_MIN);

	assert_int_equal(pv("", &v), -1);
	assert_int_equal(pv("\n", &v), -1);
	assert_int_equal(pv("1 2 3 4\n", &v), -1);
	assert_int_equal(pv("abc\n", &v), -1);
	assert_int_equal(pv("1x\n", &v), -1);
	assert_int_equal(pv("1\n2\n", &v), -1);
	assert_int_equal(pv("- 1\n", &v), -1);
	assert_int_equal(pv("99999999999999999999\n", &v), -1);
	/* An embedded NUL is not whitespace. */
	assert_int_equal(sysctl_parse_value("1\0002\n", 4, &v, err,
	    sizeof(err)), -1);
	assert_true(err[0] != '\0');
	/* A NULL error buffer is allowed. */
	assert_int_equal(sysctl_parse_value("x", 1, &v, NULL, 0), -1);
}

/* ---- collect ---- */

static void
test_collect_present(void **state)
{
	char *root = make_procfs("5.10.0-28-amd64\n");
	struct sysctl_set s;
	char err[256] = "junk";

	(void)state;
	assert_int_equal(sysctl_collect(root, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(s.osrelease, "5.10.0-28-amd64");
	for (int k = 0; k < SYSCTL_COUNT; k++)
		assert_int_equal(s.key[k].state, KEY_PRESENT);
	assert_int_equal(s.key[SYSCTL_TCP_TW_REUSE].v[0], 2);
	assert_int_equal(s.key[SYSCTL_TCP_MAX_TW_BUCKETS].v[0], 262144);
	assert_int_equal(s.key[SYSCTL_IP_LOCAL_PORT_RANGE].nvalues, 2);
	assert_int_equal(s.key[SYSCTL_IP_LOCAL_PORT_RANGE].v[0], 32768);
	assert_int_equal(s.key[SYSCTL_IP_LOCAL_PORT_RANGE].v[1], 60999);
	drop_procfs(root);
}

static void
test_collect_removed(void **state)
{
	char *root = make_procfs("4.19.0-26-amd64\n");
	struct sysctl_set s;
	char err[256];

	(void)state;
	del(root, "sys/net/ipv4/tcp_tw_recycle");
	del(root, "sys/net/netfilter/nf_conntrack_tcp_timeout_time_wait");
	assert_int_equal(sysctl_collect(root, NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(s.key[SYSCTL_TCP_TW_RECYCLE].state, KEY_ABSENT);
	assert_string_equal(s.key[SYSCTL_TCP_TW_RECYCLE].why,
	    "not in Linux >= 4.12");
	assert_int_equal(
	    s.key[SYSCTL_NF_CONNTRACK_TCP_TIMEOUT_TIME_WAIT].state, KEY_ABSENT);
	assert_string_equal(s.key[SYSCTL_NF_CONNTRACK_TCP_TIMEOUT_TIME_WAIT].why,
	    "nf_conntrack not loaded");
	assert_int_equal(s.key[SYSCTL_TCP_TIMESTAMPS].state, KEY_PRESENT);
	drop_procfs(root);
}

/* A container on RHEL 7: global knobs are not in its netns' /proc/sys. */
static void
test_collect_container_3_10(void **state)
{
	char *root = make_procfs("3.10.0-1160.el7.x86_64\n");
	static const int global[] = {
		SYSCTL_TCP_TW_RECYCLE, SYSCTL_TCP_TIMESTAMPS,
		SYSCTL_TCP_TW_REUSE, SYSCTL_TCP_MAX_TW_BUCKETS,
	};
	struct sysctl_set s;
	char err[256];

	(void)state;
	del(root, "sys/net/ipv4/tcp_tw_recycle");
	del(root, "sys/net/ipv4/tcp_timestamps");
	del(root, "sys/net/ipv4/tcp_tw_reuse");
	del(root, "sys/net/ipv4/tcp_max_tw_buckets");
	assert_int_equal(sysctl_collect(root, NULL, &s, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++) {
		assert_int_equal(s.key[global[i]].state, KEY_UNAVAILABLE);
		assert_non_null(strstr(s.key[global[i]].why, "global"));
	}
	assert_int_equal(s.key[SYSCTL_SOMAXCONN].state, KEY_PRESENT);
	drop_procfs(root);
}

static enum key_state
missing_state(const char *release, const char *rel, int k)
{
	char *root = make_procfs(release);
	struct sysctl_set s;
	char err[256];

	del(root, rel);
	assert_int_equal(sysctl_collect(root, NULL, &s, err, sizeof(err)), 0);
	drop_procfs(root);
	return s.key[k].state;
}

static void
test_collect_netns_boundaries(void **state)
{
	(void)state;
	assert_int_equal(missing_state("4.12.14\n", "sys/net/ipv4/tcp_timestamps",
	    SYSCTL_TCP_TIMESTAMPS), KEY_UNAVAILABLE);
	assert_int_equal(missing_state("4.13.0\n", "sys/net/ipv4/tcp_timestamps",
	    SYSCTL_TCP_TIMESTAMPS), KEY_ABSENT);
	assert_int_equal(missing_state("4.10.17\n",
	    "sys/net/ipv4/tcp_tw_recycle", SYSCTL_TCP_TW_RECYCLE),
	    KEY_UNAVAILABLE);
	/* 4.11: per netns and not yet removed, so missing means absent. */
	assert_int_equal(missing_state("4.11.0\n",
	    "sys/net/ipv4/tcp_tw_recycle", SYSCTL_TCP_TW_RECYCLE), KEY_ABSENT);
	assert_int_equal(missing_state("4.9.0\n", "sys/net/ipv4/tcp_tw_reuse",
	    SYSCTL_TCP_TW_REUSE), KEY_UNAVAILABLE);
	assert_int_equal(missing_state("4.10\n", "sys/net/ipv4/tcp_tw_reuse",
	    SYSCTL_TCP_TW_REUSE), KEY_ABSENT);
	assert_int_equal(missing_state("3.10.0\n", "sys/net/core/somaxconn",
	    SYSCTL_SOMAXCONN), KEY_ABSENT);
}

static void
test_collect_garbled(void **state)
{
	char *root = make_procfs("6.1.0-18-amd64\n");
	struct sysctl_set s;
	char err[256];

	(void)state;
	put(root, "sys/net/ipv4/tcp_tw_reuse", "two\n");
	assert_int_equal(sysctl_collect(root, NULL, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "net.ipv4.tcp_tw_reuse"));
	assert_int_equal(s.key[SYSCTL_TCP_TW_REUSE].state, KEY_UNAVAILABLE);
	assert_true(s.key[SYSCTL_TCP_TW_REUSE].why[0] != '\0');
	/* Keys after the garbled one are still read. */
	assert_int_equal(s.key[SYSCTL_TCP_TIMESTAMPS].state, KEY_PRESENT);
	assert_int_equal(s.key[SYSCTL_SOMAXCONN].state, KEY_PRESENT);
	assert_int_equal(s.key[SYSCTL_SOMAXCONN].v[0], 4096);
	drop_procfs(root);
}

static void
test_collect_read_errors(void **state)
{
	char *root = make_procfs("6.1.0\n");
	char path[4096], *big;
	struct sysctl_set s;
	char err[256];

	(void)state;
	/* A directory where a value should be: read() fails with EISDIR. */
	del(root, "sys/net/ipv4/tcp_fin_timeout");
	snprintf(path, sizeof(path), "%s/sys/net/ipv4/tcp_fin_timeout", root);
	assert_int_equal(mkdir(path, 0755), 0);
	/* A value file far bigger than any real one: EFBIG. */
	big = malloc(10000);
	memset(big, '1', 9999);
	big[9999] = '\0';
	put(root, "sys/net/core/somaxconn", big);
	free(big);
	assert_int_equal(sysctl_collect(root, NULL, &s, err, sizeof(err)), -1);
	/* The first failure is reported. */
	assert_non_null(strstr(err, "net.ipv4.tcp_fin_timeout"));
	assert_int_equal(s.key[SYSCTL_TCP_FIN_TIMEOUT].state, KEY_UNAVAILABLE);
	assert_string_equal(s.key[SYSCTL_TCP_FIN_TIMEOUT].why,
	    strerror(EISDIR));
	assert_int_equal(s.key[SYSCTL_SOMAXCONN].state, KEY_UNAVAILABLE);
	assert_int_equal(s.key[SYSCTL_TCP_SYNCOOKIES].state, KEY_PRESENT);
	drop_procfs(root);
}

static void
test_collect_eacces(void **state)
{
	char *root, path[4096];
	struct sysctl_set s;
	char err[256];

	(void)state;
	if (geteuid() == 0)
		skip();	/* root reads mode 000 files anyway */
	root = make_procfs("6.1.0\n");
	snprintf(path, sizeof(path), "%s/sys/net/ipv4/tcp_tw_reuse", root);
	assert_int_equal(chmod(path, 0), 0);
	assert_int_equal(sysctl_collect(root, NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(s.key[SYSCTL_TCP_TW_REUSE].state, KEY_UNAVAILABLE);
	assert_string_equal(s.key[SYSCTL_TCP_TW_REUSE].why, strerror(EACCES));
	drop_procfs(root);
}

static void
test_collect_no_osrelease(void **state)
{
	char *root = make_procfs("6.1.0\n");
	struct sysctl_set s;
	char err[256];

	(void)state;
	del(root, "sys/kernel/osrelease");
	del(root, "sys/net/ipv4/tcp_tw_recycle");
	assert_int_equal(sysctl_collect(root, NULL, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "osrelease"));
	assert_string_equal(s.osrelease, "");
	/* Version unknown: a missing key is just absent. */
	assert_int_equal(s.key[SYSCTL_TCP_TW_RECYCLE].state, KEY_ABSENT);
	assert_int_equal(s.key[SYSCTL_TCP_TW_REUSE].state, KEY_PRESENT);
	assert_int_equal(s.key[SYSCTL_TCP_TW_REUSE].v[0], 2);
	drop_procfs(root);
}

static void
test_collect_odd_osrelease(void **state)
{
	char *root = make_procfs("  not-a-version \r\n");
	struct sysctl_set s;
	char err[256];

	(void)state;
	del(root, "sys/net/ipv4/tcp_tw_recycle");
	assert_int_equal(sysctl_collect(root, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.osrelease, "not-a-version");
	assert_int_equal(s.key[SYSCTL_TCP_TW_RECYCLE].state, KEY_ABSENT);
	drop_procfs(root);
}

static void
test_collect_no_procfs(void **state)
{
	struct sysctl_set s;
	char err[256];

	(void)state;
	assert_int_equal(sysctl_collect("/nonexistent-twaudit", NULL, &s, err,
	    sizeof(err)), -1);
	for (int k = 0; k < SYSCTL_COUNT; k++)
		assert_int_equal(s.key[k].state, KEY_ABSENT);
}

/* The committed procfs trees (tests/fixtures/README.md). */
static void
test_fixture_trees(void **state)
{
	struct sysctl_set s;
	char err[256];

	(void)state;
	assert_int_equal(sysctl_collect(FIXTURES "/linux-3.10-container", NULL, &s,
	    err, sizeof(err)), 0);
	assert_string_equal(s.osrelease, "3.10.0-1160.el7.x86_64");
	assert_int_equal(s.key[SYSCTL_TCP_TW_RECYCLE].state, KEY_UNAVAILABLE);
	assert_int_equal(s.key[SYSCTL_TCP_TIMESTAMPS].state, KEY_UNAVAILABLE);
	assert_non_null(strstr(s.key[SYSCTL_TCP_TIMESTAMPS].why, "global"));

	assert_int_equal(sysctl_collect(FIXTURES "/linux-3.10-recycle", NULL, &s,
	    err, sizeof(err)), 0);
	assert_int_equal(s.key[SYSCTL_TCP_TW_RECYCLE].state, KEY_PRESENT);
	assert_int_equal(s.key[SYSCTL_TCP_TW_RECYCLE].v[0], 1);

	assert_int_equal(sysctl_collect(FIXTURES "/linux-4.19", NULL, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.key[SYSCTL_TCP_TW_RECYCLE].state, KEY_ABSENT);
	assert_int_equal(s.key[SYSCTL_TCP_TW_REUSE].v[0], 2);

	assert_int_equal(sysctl_collect(FIXTURES "/linux-6.18-rfc1337", NULL, &s,
	    err, sizeof(err)), 0);
	assert_int_equal(s.key[SYSCTL_TCP_RFC1337].v[0], 1);
	assert_int_equal(s.key[SYSCTL_IP_LOCAL_PORT_RANGE].nvalues, 2);
	assert_int_equal(s.key[SYSCTL_IP_LOCAL_PORT_RANGE].v[1], 60999);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_defs),
		cmocka_unit_test(test_parse_value),
		cmocka_unit_test(test_collect_present),
		cmocka_unit_test(test_collect_removed),
		cmocka_unit_test(test_collect_container_3_10),
		cmocka_unit_test(test_collect_netns_boundaries),
		cmocka_unit_test(test_collect_garbled),
		cmocka_unit_test(test_collect_read_errors),
		cmocka_unit_test(test_collect_eacces),
		cmocka_unit_test(test_collect_no_osrelease),
		cmocka_unit_test(test_collect_odd_osrelease),
		cmocka_unit_test(test_collect_no_procfs),
		cmocka_unit_test(test_fixture_trees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
