/*
 * seccomp allow-lists for `serve` (see sandbox.h).
 *
 * Two layers. The base filter is the union of what every thread of serve
 * may need; it goes on every thread at once (TSYNC) when start-up is over.
 * Then each thread twaudit creates for one job adds, on itself, a
 * narrower filter for its role (seccomp filters stack per thread: a call
 * must pass both). The sampler's capture and model threads do that at the
 * top of their loops (sandbox_enter_role()); the role programs are built
 * here, before the base goes on, so a thread only makes one seccomp(2)
 * call. The HTTP threads (libmicrohttpd's own, created inside MHD, and
 * recreated by a SIGHUP reload) and the collection threads stay under the
 * base: their calls are most of it (docs/security.md says why).
 *
 * The lists were built by running serve under `strace -f` through every
 * path: every endpoint, plain HTTP and TLS with basic auth, SIGHUP reloads
 * that swap the TLS material (new MHD daemons and threads), the 5 s tick
 * with the netlink collectors and --netns, the capture's reopen after an
 * interface flap, on the real /proc and on fixture trees, then SIGTERM
 * (tests/integration/seccomp_profile.sh checks each role's calls against
 * its list), plus the calls glibc, gnutls, libpcap and libmicrohttpd make
 * on rarer paths (named in each group). docs/security.md has the same
 * groups with the reasons.
 *
 * Arguments are checked where that closes a real door and the legitimate
 * values are few: socket() only for netlink (and packet sockets with the
 * sampler): no new TCP or UDP socket can be made, and connect() is not
 * allowed: nothing to connect out with, nothing new to listen on; openat() only read-only (uid 0 without
 * capabilities may still write /proc/sys/net, as the netns owner), clone()
 * only for threads, prctl() only for thread names, seccomp() only to add a
 * filter to the calling thread. clone3() answers ENOSYS, which makes glibc
 * fall back to clone(), whose flags a filter can see (clone3 passes a
 * pointer).
 */
#include "agent/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

/* Allowed whatever the arguments, in both processes. */
static const int allow_always[] = {
	/* Memory: malloc arenas, thread stacks, gnutls and zlib buffers. */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise),
	/* Threads: MHD's pool, the tick, pthread exit and joins. */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(get_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(gettid),
	SCMP_SYS(getpid), SCMP_SYS(set_tid_address), SCMP_SYS(membarrier),
	/* Signals: the main thread's sigwait, SIGPIPE ignored, restarts. */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigtimedwait),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigaction), SCMP_SYS(sigaltstack),
	SCMP_SYS(restart_syscall),
	/* Time: vDSO normally, these when it falls back; condvar waits. */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
	SCMP_SYS(time), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	/* Files already open or opened read-only below: /proc, sysctl.d,
	   the web config and its certificates on SIGHUP. */
	SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(readv), SCMP_SYS(write),
	SCMP_SYS(writev), SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(statx), SCMP_SYS(lseek), SCMP_SYS(fcntl),
	SCMP_SYS(dup), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
	SCMP_SYS(access),
	/* Sockets already open: the IPC channels (both sides), netlink
	   (collector), HTTP connections (web); shutdown ends a channel or
	   a connection. */
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(sendto),
	SCMP_SYS(sendmsg), SCMP_SYS(shutdown), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt), SCMP_SYS(getsockname),
	/* Event loops: MHD's epoll and its inter-thread eventfd (a pipe when
	   eventfd is missing), poll for libnl timeouts and IPC replies. */
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(eventfd2), SCMP_SYS(pipe2),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
	/* gnutls and libc: randomness, identity checks, uname(2). */
	SCMP_SYS(getrandom), SCMP_SYS(uname), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(sysinfo), SCMP_SYS(getrusage), SCMP_SYS(prlimit64),
};

/* The web process only: accepting and serving HTTP; MHD may use
   sendfile for large bodies; the reload passes a dup'd listener. */
static const int allow_web[] = {
	SCMP_SYS(accept4), SCMP_SYS(accept), SCMP_SYS(listen),
	SCMP_SYS(sendfile), SCMP_SYS(getpeername),
};

/* The collector only: bind of a new netlink socket (libnl; socket()
   itself is restricted below), reaping the web process, and walking
   directories and links (/proc/PID/ns/net, sysctl.d). */
static const int allow_collector[] = {
	SCMP_SYS(bind), SCMP_SYS(wait4), SCMP_SYS(getdents64),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat),
};

/* The live sampler: interface ioctls when reopening (libpcap's
   SIOCGIFINDEX, SIOCGIFHWADDR, SIOCGIFFLAGS, SIOCETHTOOL...). */
static const int allow_sampler[] = {
	SCMP_SYS(ioctl),
};

/* --netns: enter the namespace, and its /proc/PID/ns/net lookups. */
static const int allow_netns[] = {
	SCMP_SYS(setns),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Role lists: each thread the sampler starts adds one on itself (see the
 * top of this file). Every call here is also in the base.
 */

/* Any thread of ours: memory (malloc arenas: glibc asks
 * sched_getaffinity for the CPU count when a thread needs a new arena
 * past the first eight), locks, its own exit (pthread_exit blocks
 * signals, frees its stack), the clocks (vDSO fallbacks) and timed
 * waits. */
static const int role_common[] = {
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(get_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(sched_yield), SCMP_SYS(gettid), SCMP_SYS(getpid),
	SCMP_SYS(membarrier), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
	SCMP_SYS(time), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(getrandom),
};

/*
 * Capture (collectors/sampler.c, libpcap 1.10): poll the handles, read
 * the TPACKET_V3 ring and pcap_stats (getsockopt); reopen after a flap:
 * pcap_create/activate make an AF_PACKET socket, a generic netlink one
 * for the ethtool ioctl (SIOCETHTOOL), ioctls SIOCGIFINDEX, SIOCGIFHWADDR,
 * SIOCGIFFLAGS, SIOCGIFNAME, bind, packet setsockopts, an eventfd for
 * pcap_breakloop, uname() for the kernel version, and read-only looks at
 * /sys/class/net/IF (wireless, dsa/tagging); pcap_close unmaps the ring.
 * Sockets and opens are restricted in add_role_conditional().
 */
static const int role_capture[] = {
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(read), SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg), SCMP_SYS(close), SCMP_SYS(fcntl), SCMP_SYS(ioctl),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(bind),
	SCMP_SYS(getsockname), SCMP_SYS(eventfd2), SCMP_SYS(uname),
	SCMP_SYS(newfstatat), SCMP_SYS(fstat), SCMP_SYS(statx),
};

/* Model: nothing beyond role_common (it never prints, opens or sleeps
 * on anything but its condition variable). */

static const char *const role_names[SANDBOX_NROLES] = {
	[SANDBOX_ROLE_CAPTURE] = "capture",
	[SANDBOX_ROLE_MODEL] = "model",
};

/* Role programs, built by sandbox_apply() before the base goes on. */
static struct sock_fprog role_prog[SANDBOX_NROLES];
static atomic_bool roles_ready;
/* Per thread: 0 not yet, 1 role filter on, -1 it failed (base only). */
static _Thread_local int role_state;

/* Rules added with argument checks in add_conditional(): in both
 * processes (read-only opens, threads, clone3, thread names)... */
#define CONDITIONAL_RULES 6
/* ... in the collector: netlink sockets, and kill() of the web process
 * for SIGHUP, SIGTERM and SIGKILL when it has one. */
#define COLLECTOR_CONDITIONAL_RULES 1
#define KILL_RULES 3
/* ... with the sampler: AF_PACKET sockets, seccomp() for the roles;
 * without it (and in the web process) the TCGETS ioctl. */
#define SAMPLER_CONDITIONAL_RULES 2
#define TCGETS_RULES 1
/* ... in a capture role: openat, two socket families. */
#define CAPTURE_CONDITIONAL_RULES 3

size_t
sandbox_allowed_count(const struct sandbox_config *c)
{
	if (c->proc == SANDBOX_PROC_WEB)
		return N(allow_always) + N(allow_web) + CONDITIONAL_RULES +
		    TCGETS_RULES;
	return N(allow_always) + N(allow_collector) + CONDITIONAL_RULES +
	    COLLECTOR_CONDITIONAL_RULES + (c->peer > 0 ? KILL_RULES : 0) +
	    (c->sampler ? N(allow_sampler) + SAMPLER_CONDITIONAL_RULES :
	    TCGETS_RULES) + (c->netns ? N(allow_netns) : 0);
}

size_t
sandbox_role_count(enum sandbox_role r)
{
	return N(role_common) + (r == SANDBOX_ROLE_CAPTURE ?
	    N(role_capture) + CAPTURE_CONDITIONAL_RULES : 0);
}

const char *
sandbox_role_name(enum sandbox_role r)
{
	return (unsigned)r < SANDBOX_NROLES ? role_names[r] : "?";
}

static int
add_list(scmp_filter_ctx ctx, const int *sys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys[i], 0);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Flags that make an open write or create. O_TMPFILE without its
 * O_DIRECTORY part (glibc's __O_TMPFILE has it too, and opendir() needs
 * O_DIRECTORY). */
#define OPEN_WRITE_FLAGS ((scmp_datum_t)(O_WRONLY | O_RDWR | O_CREAT | \
    O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY)))

static int
add_conditional(scmp_filter_ctx ctx, const struct sandbox_config *c)
{
	const scmp_datum_t wr = OPEN_WRITE_FLAGS;
	bool collector = c->proc == SANDBOX_PROC_COLLECTOR;
	int rc = 0;

	/* Read-only opens only. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, wr, 0));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
	    SCMP_A1(SCMP_CMP_MASKED_EQ, wr, 0));
	/* Threads only: a clone without CLONE_THREAD would be a fork. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	/* glibc >= 2.34 tries clone3 first and falls back on ENOSYS. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* Thread names (MHD names its threads). */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME, 0));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME, 0));
	/* The web process makes no socket at all. */
	if (collector)	/* sock_diag and tcp_metrics */
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK, 0));
	/* The collector signals the web process and nothing else: SIGHUP
	   forwarded, SIGTERM at shutdown, SIGKILL when it will not stop. */
	for (int i = 0, sig[] = { SIGHUP, SIGTERM, SIGKILL };
	    collector && c->peer > 0 && i < KILL_RULES; i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 2,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)c->peer, 0),
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)sig[i], 0));
	if (collector && c->sampler) {
		/* libpcap: the packet socket. Its interface ioctls go
		   through that socket and a generic netlink one (SIOCETHTOOL,
		   measured with libpcap 1.10): no AF_INET socket, no connect. */
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_PACKET, 0));
		/* The sampler's threads add their role filter on themselves:
		   a filter for the caller only (no flags: no TSYNC), which
		   can only take rights away. */
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 2,
		    SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0),
		    SCMP_A1(SCMP_CMP_EQ, 0, 0));
	} else {
		/* stdio asks whether stderr is a terminal (TCGETS). */
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    SCMP_A1(SCMP_CMP_EQ, TCGETS, 0));
	}
	return rc;
}

/* Capture role: read-only opens, packet and netlink sockets. */
static int
add_role_conditional(scmp_filter_ctx ctx)
{
	int rc = 0;

	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, OPEN_WRITE_FLAGS, 0));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_PACKET, 0));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK, 0));
	return rc;
}

/* CTX's BPF program into OUT (malloc'd), through a pipe. 0 or -errno. */
static int
export_prog(scmp_filter_ctx ctx, struct sock_fprog *out)
{
	unsigned char buf[65536];	/* a pipe's default capacity */
	size_t len = 0;
	ssize_t n;
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	rc = seccomp_export_bpf(ctx, p[1]);
	close(p[1]);
	while (rc == 0 && len < sizeof(buf) &&
	    (n = read(p[0], buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	if (rc < 0)
		return rc;
	if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -E2BIG;
	if ((out->filter = malloc(len)) == NULL)
		return -ENOMEM;
	memcpy(out->filter, buf, len);
	out->len = (unsigned short)(len / sizeof(struct sock_filter));
	return 0;
}

/* Build role R's program with DEF as the action for anything else. */
static int
build_role(enum sandbox_role r, uint32_t def)
{
	scmp_filter_ctx ctx = seccomp_init(def);
	int rc;

	if (ctx == NULL)
		return -ENOMEM;
	/* no_new_privs is on already: the base's TSYNC load set it on every
	   thread, and prctl() is not in the base to set it again. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc == 0)
		rc = add_list(ctx, role_common, N(role_common));
	if (rc == 0 && r == SANDBOX_ROLE_CAPTURE)
		rc = add_list(ctx, role_capture, N(role_capture));
	if (rc == 0 && r == SANDBOX_ROLE_CAPTURE)
		rc = add_role_conditional(ctx);
	if (rc == 0)
		rc = export_prog(ctx, &role_prog[r]);
	seccomp_release(ctx);
	return rc;
}

int
sandbox_enter_role(enum sandbox_role r)
{
	char q[128];

	if (role_state != 0)
		return role_state;
	if (!atomic_load(&roles_ready))
		return 0;
	if ((unsigned)r >= SANDBOX_NROLES || role_prog[r].filter == NULL) {
		role_state = -1;
		return -1;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &role_prog[r]) < 0) {
		/* Still under the base filter: confined, only less narrowly. */
		role_state = -1;
		log_warn("seccomp: thread role filter not installed; the "
		    "thread keeps the process-wide list", "role=%s error=%s",
		    sandbox_role_name(r), log_quote(strerror(errno), q,
		    sizeof(q)));
		return -1;
	}
	role_state = 1;
	return 1;
}

static void
print_names(FILE *f, const int *sys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
		    sys[i]);

		if (name != NULL)
			fprintf(f, "%s\n", name);
		free(name);
	}
}

void
sandbox_print_list(FILE *f, const struct sandbox_config *c, int role)
{
	bool collector = c->proc == SANDBOX_PROC_COLLECTOR;

	if (role == SANDBOX_ROLE_CAPTURE || role == SANDBOX_ROLE_MODEL) {
		print_names(f, role_common, N(role_common));
		if (role == SANDBOX_ROLE_CAPTURE) {
			print_names(f, role_capture, N(role_capture));
			fputs("openat\nsocket\n", f);	/* conditional */
		}
		return;
	}
	print_names(f, allow_always, N(allow_always));
	if (!collector) {
		print_names(f, allow_web, N(allow_web));
		fputs("openat\nopen\nclone\nclone3\nprctl\nioctl\n", f);
		return;
	}
	print_names(f, allow_collector, N(allow_collector));
	if (c->sampler)
		print_names(f, allow_sampler, N(allow_sampler));
	if (c->netns)
		print_names(f, allow_netns, N(allow_netns));
	/* add_conditional(); clone3 answers ENOSYS, it never runs. */
	fputs("openat\nopen\nsocket\nclone\nclone3\nprctl\n", f);
	if (c->peer > 0)
		fputs("kill\n", f);
	fputs(c->sampler ? "seccomp\n" : "ioctl\n", f);
}

/*
 * Sanitizer builds: LeakSanitizer checks for leaks at exit from a forked,
 * ptrace()ing helper, and error reports fork a symbolizer; neither can
 * run under the filter (nor be traced to list what they need). There the
 * same allow-list is installed with SCMP_ACT_LOG as the default, so the
 * sanitizer runs keep the filter's shape and report; the production
 * build never has this.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

bool
sandbox_enforcing(const struct sandbox_config *c)
{
#ifdef SANITIZER_BUILD
	(void)c;
	return false;
#else
	return !c->log_only;
#endif
}

int
sandbox_apply(const struct sandbox_config *c, char *err, size_t errlen)
{
	bool collector = c->proc == SANDBOX_PROC_COLLECTOR;
	bool sampler = collector && c->sampler;
	scmp_filter_ctx ctx;
	int rc;

	uint32_t def = sandbox_enforcing(c) ? SCMP_ACT_KILL_PROCESS :
	    SCMP_ACT_LOG;

	/* The roles first, while libseccomp may still probe the kernel. */
	for (int r = 0; sampler && r < SANDBOX_NROLES; r++) {
		if ((rc = build_role((enum sandbox_role)r, def)) < 0) {
			set_error(err, errlen, "seccomp: cannot build the %s "
			    "role filter: %s", role_names[r], strerror(-rc));
			return -1;
		}
	}
	ctx = seccomp_init(def);
	if (ctx == NULL) {
		set_error(err, errlen, "seccomp: cannot create a filter");
		return -1;
	}
	/* Every thread gets the filter, or none does (the call fails). */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = add_list(ctx, allow_always, N(allow_always));
	if (rc == 0 && !collector)
		rc = add_list(ctx, allow_web, N(allow_web));
	if (rc == 0 && collector)
		rc = add_list(ctx, allow_collector, N(allow_collector));
	if (rc == 0 && collector && c->sampler)
		rc = add_list(ctx, allow_sampler, N(allow_sampler));
	if (rc == 0 && collector && c->netns)
		rc = add_list(ctx, allow_netns, N(allow_netns));
	if (rc == 0)
		rc = add_conditional(ctx, c);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		set_error(err, errlen, "seccomp: cannot install the filter: %s",
		    strerror(-rc));
		return -1;
	}
	/* From now on the sampler's threads narrow themselves. */
	atomic_store(&roles_ready, sampler);
	return 0;
}
