/*
 * persist: sysctl.d line syntax, systemd-sysctl precedence over the
 * fixture roots (tests/fixtures/rootfs-*), the procps difference, bounds
 * and hostile content.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/persist.h"
#include "lib/util.h"

#ifndef FIXTURES
#error "FIXTURES must name tests/fixtures"
#endif

/* ---- helpers ---- */

static struct persist_set set;	/* big: keep it off the stack */

static void
parse_str(const char *text, const char *path, int want)
{
	char err[256];

	assert_int_equal(persist_parse(text, strlen(text), path, &set, err,
	    sizeof(err)), want);
}

static const struct persist_assign *
eff(int k)
{
	const struct persist_key *pk = &set.key[k];

	if (pk->effective < 0)
		return NULL;
	assert_true((unsigned)pk->effective < pk->n);
	return &pk->a[pk->effective];
}

static void
assert_eff(int k, const char *value, const char *path, unsigned line)
{
	const struct persist_assign *a = eff(k);

	assert_non_null(a);
	assert_string_equal(a->value, value);
	assert_string_equal(a->path, path);
	assert_int_equal(a->line, line);
}

static void
assert_procps(int k, const char *value, const char *path, unsigned line)
{
	const struct persist_key *pk = &set.key[k];

	assert_string_equal(pk->procps_value, value);
	assert_string_equal(pk->procps_path, path);
	assert_int_equal(pk->procps_line, line);
}

/* Systemd and procps end on the same assignment. */
static void
assert_same(int k)
{
	assert_int_equal(set.key[k].procps_effective, set.key[k].effective);
}

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
put_n(const char *root, const char *rel, const char *data, size_t len)
{
	char path[4096], dir[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
put(const char *root, const char *rel, const char *text)
{
	put_n(root, rel, text, strlen(text));
}

static void
link_at(const char *root, const char *rel, const char *target)
{
	char path[4096], dir[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	assert_int_equal(symlink(target, path), 0);
}

static char *
make_root(void)
{
	char tmpl[] = "/tmp/twaudit-persist-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return strdup(tmpl);
}

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
drop_root(char *root)
{
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
}

/* ---- line syntax (persist_parse) ---- */

static void
test_init(void **state)
{
	(void)state;
	memset(&set, 0x5a, sizeof(set));
	persist_init(&set);
	assert_int_equal(set.files_read, 0);
	for (int k = 0; k < SYSCTL_COUNT; k++) {
		assert_int_equal(set.key[k].n, 0);
		assert_int_equal(set.key[k].dropped, 0);
		assert_int_equal(set.key[k].effective, -1);
		assert_int_equal(set.key[k].procps_effective, -1);
		assert_string_equal(set.key[k].procps_path, "");
	}
}

static void
test_parse_syntax(void **state)
{
	const char *text =
	    "# comment net.ipv4.tcp_tw_recycle = 1\n"		/* 1 */
	    "; comment net.ipv4.tcp_tw_recycle = 1\n"		/* 2 */
	    "   # indented comment\n"				/* 3 */
	    "\n"						/* 4 */
	    "net.ipv4.tcp_tw_reuse=1\n"				/* 5 */
	    "  net.ipv4.tcp_tw_reuse   =   2  \n"		/* 6 */
	    "net/ipv4/tcp_fin_timeout = 30\n"			/* 7 */
	    "-net.ipv4.tcp_rfc1337 = 1\n"			/* 8 */
	    "net.ipv4.tcp_syncookies\n"				/* 9: no '=' */
	    "net.ipv4.tcp_* = 0\n"				/* 10: glob */
	    "net.ipv4.tcp_timestamp? = 0\n"			/* 11: glob */
	    "kernel.pid_max = 4194304\n"			/* 12 */
	    "net.ipv4.ip_local_port_range = 1024 65000\n"	/* 13 */
	    "net.core.somaxconn = \n"				/* 14: empty */
	    "- net.ipv4.tcp_max_syn_backlog = 9\n"		/* 15: " net" */
	    "net.ipv4.tcp_max_tw_buckets = 1 = 2\n";		/* 16 */

	(void)state;
	persist_init(&set);
	parse_str(text, "/etc/sysctl.d/x.conf", 0);
	assert_int_equal(set.key[SYSCTL_TCP_TW_RECYCLE].n, 0);
	assert_int_equal(set.key[SYSCTL_TCP_TW_RECYCLE].effective, -1);
	assert_int_equal(set.key[SYSCTL_TCP_TW_REUSE].n, 2);
	assert_string_equal(set.key[SYSCTL_TCP_TW_REUSE].a[0].value, "1");
	assert_int_equal(set.key[SYSCTL_TCP_TW_REUSE].a[0].line, 5);
	assert_eff(SYSCTL_TCP_TW_REUSE, "2", "/etc/sysctl.d/x.conf", 6);
	assert_false(eff(SYSCTL_TCP_TW_REUSE)->ignore_failure);
	assert_eff(SYSCTL_TCP_FIN_TIMEOUT, "30", "/etc/sysctl.d/x.conf", 7);
	assert_eff(SYSCTL_TCP_RFC1337, "1", "/etc/sysctl.d/x.conf", 8);
	assert_true(eff(SYSCTL_TCP_RFC1337)->ignore_failure);
	assert_int_equal(set.key[SYSCTL_TCP_SYNCOOKIES].n, 0);
	assert_int_equal(set.key[SYSCTL_TCP_TIMESTAMPS].n, 0);
	assert_eff(SYSCTL_IP_LOCAL_PORT_RANGE, "1024 65000",
	    "/etc/sysctl.d/x.conf", 13);
	/* systemd stores the empty value (and then writes nothing useful). */
	assert_eff(SYSCTL_SOMAXCONN, "", "/etc/sysctl.d/x.conf", 14);
	assert_int_equal(set.key[SYSCTL_TCP_MAX_SYN_BACKLOG].n, 0);
	assert_eff(SYSCTL_TCP_MAX_TW_BUCKETS, "1 = 2", "/etc/sysctl.d/x.conf",
	    16);
	/* A lone parse: procps ends where systemd does. */
	for (int k = 0; k < SYSCTL_COUNT; k++)
		assert_same(k);
	assert_procps(SYSCTL_TCP_TW_REUSE, "2", "/etc/sysctl.d/x.conf", 6);
}

static void
test_parse_line_endings(void **state)
{
	(void)state;
	persist_init(&set);
	/* CRLF: one line each, no '\r' in values. */
	parse_str("# crlf\r\nnet.ipv4.tcp_tw_reuse = 1\r\n\r\n"
	    "net.ipv4.tcp_fin_timeout = 20\r\n", "/a.conf", 0);
	assert_eff(SYSCTL_TCP_TW_REUSE, "1", "/a.conf", 2);
	assert_eff(SYSCTL_TCP_FIN_TIMEOUT, "20", "/a.conf", 4);
	/* No trailing newline: the last line still counts. */
	parse_str("net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_tw_reuse = 0",
	    "/b.conf", 0);
	assert_eff(SYSCTL_TCP_TW_REUSE, "0", "/b.conf", 2);
	/* A lone CR ends a line, as in systemd's read_line(). */
	parse_str("net.core.somaxconn = 1\rnet.core.somaxconn = 2\n",
	    "/c.conf", 0);
	assert_eff(SYSCTL_SOMAXCONN, "2", "/c.conf", 2);
	/* Empty input. */
	parse_str("", "/d.conf", 0);
	assert_int_equal(persist_parse(NULL, 0, "/e.conf", &set, NULL, 0), 0);
}

static void
test_parse_binary(void **state)
{
	static const char junk[] =
	    "\x7f" "ELF\x02\x01\x01\0\0\0garbage=\xff\xfe\n"
	    "net.ipv4.tcp_tw_recycle = 1\0net.ipv4.tcp_tw_reuse = \x01\x80x\n";
	char err[256] = "";
	uint32_t x = 12345;
	char *rnd;

	(void)state;
	persist_init(&set);
	assert_int_equal(persist_parse(junk, sizeof(junk) - 1, "/bin.conf",
	    &set, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/bin.conf:1"));
	/* NUL ends a line (systemd): the assignment after it counts. */
	assert_eff(SYSCTL_TCP_TW_RECYCLE, "1", "/bin.conf", 5);
	/* Control and non-ASCII bytes never reach the recorded value. */
	assert_eff(SYSCTL_TCP_TW_REUSE, "??x", "/bin.conf", 6);

	/* Random bytes: no crash, only printable values recorded. */
	rnd = malloc(256 * 1024);
	for (size_t i = 0; i < 256 * 1024; i++) {
		x = x * 1103515245u + 12345u;
		rnd[i] = (char)(x >> 16);
	}
	persist_init(&set);
	(void)persist_parse(rnd, 256 * 1024, "/rnd.conf", &set, err,
	    sizeof(err));
	for (int k = 0; k < SYSCTL_COUNT; k++)
		for (unsigned i = 0; i < set.key[k].n; i++)
			for (const char *p = set.key[k].a[i].value; *p; p++)
				assert_true((*p >= 0x20 && *p < 0x7f) ||
				    *p == '\t');
	free(rnd);
}

static void
test_parse_long_line(void **state)
{
	size_t big = 1024 * 1024;
	char *buf = malloc(2 * big + 200);
	size_t n = 0;

	(void)state;
	/* A 1 MiB line of junk, then a 1 MiB value of a watched key. */
	memset(buf, 'x', big);
	n = big;
	n += (size_t)sprintf(buf + n, "\nnet.ipv4.tcp_tw_recycle = 1\n"
	    "net.ipv4.tcp_tw_reuse = ");
	memset(buf + n, '7', big);
	n += big;
	n += (size_t)sprintf(buf + n, "\nnet.core.somaxconn = 5");
	persist_init(&set);
	assert_int_equal(persist_parse(buf, n, "/long.conf", &set, NULL, 0), 0);
	assert_eff(SYSCTL_TCP_TW_RECYCLE, "1", "/long.conf", 2);
	/* Truncated to what fits, never overflowing. */
	assert_int_equal(strlen(eff(SYSCTL_TCP_TW_REUSE)->value),
	    sizeof(eff(SYSCTL_TCP_TW_REUSE)->value) - 1);
	assert_int_equal(eff(SYSCTL_TCP_TW_REUSE)->line, 3);
	assert_eff(SYSCTL_SOMAXCONN, "5", "/long.conf", 4);
	free(buf);
}

static void
test_parse_bounds(void **state)
{
	char text[64 * 40], *p = text;
	const unsigned total = PERSIST_MAX_ASSIGN + 4;
	const struct persist_key *pk = &set.key[SYSCTL_TCP_TW_REUSE];

	(void)state;
	for (unsigned i = 1; i <= total; i++)
		p += sprintf(p, "net.ipv4.tcp_tw_reuse = %u\n", i);
	persist_init(&set);
	parse_str(text, "/many.conf", 0);
	assert_int_equal(pk->n, PERSIST_MAX_ASSIGN);
	assert_int_equal(pk->dropped, total - PERSIST_MAX_ASSIGN);
	/* The newest are kept: the effective one is never dropped. */
	assert_int_equal(pk->effective, PERSIST_MAX_ASSIGN - 1);
	assert_eff(SYSCTL_TCP_TW_REUSE, "20", "/many.conf", total);
	assert_int_equal(pk->a[0].line, total - PERSIST_MAX_ASSIGN + 1);
	assert_int_equal(pk->procps_effective, pk->effective);
	/* Long paths are cut, not overflowed. */
	{
		char path[1000];

		memset(path, 'p', sizeof(path) - 1);
		path[0] = '/';
		path[sizeof(path) - 1] = '\0';
		parse_str("net.core.somaxconn = 1\n", path, 0);
		assert_int_equal(strlen(eff(SYSCTL_SOMAXCONN)->path),
		    PERSIST_PATH_LEN - 1);
	}
}

/* ---- fixture roots (persist_collect) ---- */

static void
test_fixture_debian(void **state)
{
	char err[256] = "junk";
	const char *conf = "/etc/sysctl.conf";

	(void)state;
	assert_int_equal(persist_collect(FIXTURES "/rootfs-debian", &set, err,
	    sizeof(err)), 0);
	assert_string_equal(err, "");
	/*
	 * 50-default.conf (the /lib copy is the same file through the
	 * merged-/usr symlink and the same name: skipped) and 99-sysctl.conf.
	 */
	assert_int_equal(set.files_read, 2);
	/* 99-sysctl.conf -> ../sysctl.conf is recorded as the real file. */
	assert_int_equal(set.key[SYSCTL_TCP_TW_RECYCLE].n, 1);
	assert_eff(SYSCTL_TCP_TW_RECYCLE, "1", conf, 13);
	assert_int_equal(set.key[SYSCTL_TCP_FIN_TIMEOUT].n, 2);
	assert_string_equal(set.key[SYSCTL_TCP_FIN_TIMEOUT].a[0].path,
	    "/usr/lib/sysctl.d/50-default.conf");
	assert_int_equal(set.key[SYSCTL_TCP_FIN_TIMEOUT].a[0].line, 4);
	assert_eff(SYSCTL_TCP_FIN_TIMEOUT, "15", conf, 14);
	assert_eff(SYSCTL_SOMAXCONN, "4096",
	    "/usr/lib/sysctl.d/50-default.conf", 3);
	/* procps reads sysctl.conf again at the end: same result here. */
	for (int k = 0; k < SYSCTL_COUNT; k++)
		assert_same(k);
	assert_procps(SYSCTL_TCP_TW_RECYCLE, "1", conf, 13);
	/* README.sysctl is not a .conf file. */
	assert_int_equal(set.key[SYSCTL_TCP_TW_REUSE].n, 0);
}

static void
test_fixture_precedence(void **state)
{
	const struct persist_key *pk;
	char err[256] = "junk";

	(void)state;
	assert_int_equal(persist_collect(FIXTURES "/rootfs-precedence", &set,
	    err, sizeof(err)), 0);
	assert_string_equal(err, "");
	/*
	 * Applied: 10-tw (/etc), 20-vendor, 30-run (/run), 50-abs, 55-escape,
	 * 60-dir (/usr/lib), 65-broken (/lib). Masks: 40-masked (/dev/null),
	 * 45-empty (empty /run file).
	 */
	assert_int_equal(set.files_read, 7);

	/* Same name: /etc/sysctl.d/10-tw.conf masks /usr/lib's (no "0"). */
	pk = &set.key[SYSCTL_TCP_TW_REUSE];
	assert_int_equal(pk->n, 2);
	assert_string_equal(pk->a[0].path, "/etc/sysctl.d/10-tw.conf");
	assert_int_equal(pk->a[0].line, 3);		/* slashed key */
	assert_string_equal(pk->a[0].value, "1");
	/* Lexical order across directories: /usr/lib's 20-vendor wins. */
	assert_eff(SYSCTL_TCP_TW_REUSE, "2", "/usr/lib/sysctl.d/20-vendor.conf",
	    2);
	/* ... but `sysctl --system` reads /etc/sysctl.conf last. */
	assert_int_equal(pk->procps_effective, -1);
	assert_procps(SYSCTL_TCP_TW_REUSE, "0", "/etc/sysctl.conf", 2);

	/* Set only by /etc/sysctl.conf: unset for systemd, set for procps. */
	assert_int_equal(set.key[SYSCTL_TCP_TW_RECYCLE].n, 0);
	assert_int_equal(set.key[SYSCTL_TCP_TW_RECYCLE].effective, -1);
	assert_int_equal(set.key[SYSCTL_TCP_TW_RECYCLE].procps_effective, -1);
	assert_procps(SYSCTL_TCP_TW_RECYCLE, "1", "/etc/sysctl.conf", 3);

	/* '-' prefix recorded; ';' and '#' comments and globs skipped. */
	assert_eff(SYSCTL_TCP_FIN_TIMEOUT, "30", "/etc/sysctl.d/10-tw.conf", 4);
	assert_true(eff(SYSCTL_TCP_FIN_TIMEOUT)->ignore_failure);
	assert_eff(SYSCTL_TCP_RFC1337, "1", "/etc/sysctl.d/10-tw.conf", 8);
	assert_eff(SYSCTL_IP_LOCAL_PORT_RANGE, "32768\t60999",
	    "/etc/sysctl.d/10-tw.conf", 10);

	/* /run masks /usr/local/lib of the same name. */
	assert_int_equal(set.key[SYSCTL_TCP_MAX_TW_BUCKETS].n, 1);
	assert_eff(SYSCTL_TCP_MAX_TW_BUCKETS, "5000",
	    "/run/sysctl.d/30-run.conf", 1);

	/*
	 * somaxconn: 40-masked (/dev/null link) and 45-empty (empty file)
	 * mask the /usr/lib files that set 1 and 2; the escaping relative
	 * link stays inside the root.
	 */
	assert_int_equal(set.key[SYSCTL_SOMAXCONN].n, 1);
	assert_eff(SYSCTL_SOMAXCONN, "8192", "/usr/share/twaudit/escape.conf",
	    1);
	/* An absolute link target is taken inside the root. */
	assert_eff(SYSCTL_TCP_SYNCOOKIES, "2", "/usr/share/twaudit/abs.conf",
	    1);

	/*
	 * A directory named 60-dir.conf and a broken link 65-broken.conf in
	 * /etc mask nothing: the lower files apply (the masked /usr/lib
	 * 10-tw.conf would have set 1 first).
	 */
	pk = &set.key[SYSCTL_TCP_MAX_SYN_BACKLOG];
	assert_int_equal(pk->n, 2);
	assert_string_equal(pk->a[0].path, "/usr/lib/sysctl.d/60-dir.conf");
	assert_string_equal(pk->a[0].value, "2048");
	assert_eff(SYSCTL_TCP_MAX_SYN_BACKLOG, "4096",
	    "/lib/sysctl.d/65-broken.conf", 1);

	/* .hidden.conf and 70-ts.conf.disabled are not read. */
	assert_int_equal(set.key[SYSCTL_TCP_TIMESTAMPS].n, 0);
	assert_string_equal(set.key[SYSCTL_TCP_TIMESTAMPS].procps_path, "");

	/* Everything not in /etc/sysctl.conf: procps agrees. */
	assert_same(SYSCTL_SOMAXCONN);
	assert_same(SYSCTL_TCP_MAX_SYN_BACKLOG);
	assert_same(SYSCTL_TCP_FIN_TIMEOUT);
}

static void
test_fixture_empty(void **state)
{
	char err[256] = "junk";

	(void)state;
	assert_int_equal(persist_collect(FIXTURES "/rootfs-empty", &set, err,
	    sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(set.files_read, 0);
	for (int k = 0; k < SYSCTL_COUNT; k++) {
		assert_int_equal(set.key[k].n, 0);
		assert_int_equal(set.key[k].effective, -1);
		assert_int_equal(set.key[k].procps_effective, -1);
		assert_string_equal(set.key[k].procps_path, "");
	}
	/* No root at all: nothing there, not an error. */
	assert_int_equal(persist_collect("/nonexistent-twaudit", &set, err,
	    sizeof(err)), 0);
}

/* ---- temporary roots (persist_collect) ---- */

static void
test_collect_debian_twice(void **state)
{
	char *root = make_root();
	char err[256];

	(void)state;
	/*
	 * Debian's link plus a later file: systemd ends on zz, procps ends
	 * on the sysctl.conf line, which is also in a[] (through the link).
	 */
	put(root, "etc/sysctl.conf", "net.ipv4.tcp_tw_recycle = 1\n");
	link_at(root, "etc/sysctl.d/99-sysctl.conf", "../sysctl.conf");
	put(root, "usr/lib/sysctl.d/zz-late.conf",
	    "net.ipv4.tcp_tw_recycle = 0\n");
	assert_int_equal(persist_collect(root, &set, err, sizeof(err)), 0);
	assert_int_equal(set.key[SYSCTL_TCP_TW_RECYCLE].n, 2);
	assert_eff(SYSCTL_TCP_TW_RECYCLE, "0", "/usr/lib/sysctl.d/zz-late.conf",
	    1);
	assert_int_equal(set.key[SYSCTL_TCP_TW_RECYCLE].procps_effective, 0);
	assert_procps(SYSCTL_TCP_TW_RECYCLE, "1", "/etc/sysctl.conf", 1);
	drop_root(root);
}

static void
test_collect_links(void **state)
{
	char *root = make_root();
	char err[256];

	(void)state;
	/* A symlinked directory: paths name where the files really are. */
	put(root, "srv/sysctl/10-a.conf", "net.core.somaxconn = 100\n");
	link_at(root, "etc/sysctl.d", "/srv/sysctl");
	/* A link loop and a chain of links. */
	link_at(root, "run/sysctl.d/20-loop.conf", "20-loop.conf");
	put(root, "opt/real.conf", "\n\nnet.ipv4.tcp_fin_timeout = 5\n");
	link_at(root, "opt/hop1", "/opt/./real.conf");
	link_at(root, "run/sysctl.d/30-chain.conf", "../../opt/hop1");
	/* /etc/sysctl.conf as a link to /dev/null: procps skips it. */
	link_at(root, "etc/sysctl.conf", "/dev/null");
	assert_int_equal(persist_collect(root, &set, err, sizeof(err)), 0);
	assert_int_equal(set.files_read, 2);
	assert_eff(SYSCTL_SOMAXCONN, "100", "/srv/sysctl/10-a.conf", 1);
	assert_eff(SYSCTL_TCP_FIN_TIMEOUT, "5", "/opt/real.conf", 3);
	for (int k = 0; k < SYSCTL_COUNT; k++)
		assert_same(k);
	drop_root(root);
}

static void
test_collect_hostile(void **state)
{
	char *root = make_root();
	size_t big = READ_FILE_MAX + 10;
	char err[256], *buf;

	(void)state;
	/* Larger than READ_FILE_MAX: reported, skipped, the rest goes on. */
	buf = malloc(big);
	memset(buf, 'x', big);
	memcpy(buf + big - 32, "\nnet.ipv4.tcp_tw_reuse = 9\n", 27);
	put_n(root, "etc/sysctl.d/10-big.conf", buf, big);
	free(buf);
	put(root, "etc/sysctl.d/20-crlf.conf",
	    "net.ipv4.tcp_tw_reuse = 1\r\nnet.core.somaxconn = 7\r\n");
	put_n(root, "usr/lib/sysctl.d/30-nul.conf",
	    "\0\0\0net.ipv4.tcp_fin_timeout = 3", 31);
	assert_int_equal(persist_collect(root, &set, err, sizeof(err)), -1);
	/* The first error is kept. */
	assert_non_null(strstr(err, "/etc/sysctl.d/10-big.conf"));
	assert_int_equal(set.files_read, 2);
	assert_eff(SYSCTL_TCP_TW_REUSE, "1", "/etc/sysctl.d/20-crlf.conf", 1);
	assert_eff(SYSCTL_SOMAXCONN, "7", "/etc/sysctl.d/20-crlf.conf", 2);
	assert_eff(SYSCTL_TCP_FIN_TIMEOUT, "3", "/usr/lib/sysctl.d/30-nul.conf",
	    4);
	drop_root(root);
}

static void
test_collect_too_many_files(void **state)
{
	char *root = make_root();
	char err[256], rel[64];

	(void)state;
	for (int i = 0; i < PERSIST_MAX_FILES + 10; i++) {
		snprintf(rel, sizeof(rel), "usr/lib/sysctl.d/%05d.conf", i);
		put(root, rel, "net.ipv4.tcp_tw_reuse = 1\n");
	}
	assert_int_equal(persist_collect(root, &set, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "1024"));
	assert_int_equal(set.files_read, PERSIST_MAX_FILES);
	assert_int_equal(set.key[SYSCTL_TCP_TW_REUSE].n, PERSIST_MAX_ASSIGN);
	assert_int_equal(set.key[SYSCTL_TCP_TW_REUSE].dropped,
	    PERSIST_MAX_FILES - PERSIST_MAX_ASSIGN);
	drop_root(root);
}

static void
test_collect_eacces(void **state)
{
	char *root, path[4096];
	char err[256];

	(void)state;
	if (geteuid() == 0)
		skip();	/* root opens mode 000 directories anyway */
	root = make_root();
	put(root, "etc/sysctl.d/10-a.conf", "net.core.somaxconn = 1\n");
	put(root, "usr/lib/sysctl.d/20-b.conf", "net.ipv4.tcp_tw_reuse = 1\n");
	snprintf(path, sizeof(path), "%s/etc/sysctl.d", root);
	assert_int_equal(chmod(path, 0), 0);
	assert_int_equal(persist_collect(root, &set, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/etc/sysctl.d"));
	assert_eff(SYSCTL_TCP_TW_REUSE, "1", "/usr/lib/sysctl.d/20-b.conf", 1);
	chmod(path, 0755);
	drop_root(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_parse_syntax),
		cmocka_unit_test(test_parse_line_endings),
		cmocka_unit_test(test_parse_binary),
		cmocka_unit_test(test_parse_long_line),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_fixture_debian),
		cmocka_unit_test(test_fixture_precedence),
		cmocka_unit_test(test_fixture_empty),
		cmocka_unit_test(test_collect_debian_twice),
		cmocka_unit_test(test_collect_links),
		cmocka_unit_test(test_collect_hostile),
		cmocka_unit_test(test_collect_too_many_files),
		cmocka_unit_test(test_collect_eacces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
