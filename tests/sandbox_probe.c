/*
 * Applies serve's seccomp filter (agent/sandbox.c) to itself, then makes
 * the call named by argv[1]; security.sh asserts the process dies of
 * SIGSYS for every forbidden call and exits 0 for the allowed ones.
 *   sandbox_probe [--sampler] CALL           (the collector's list)
 *   sandbox_probe --web CALL                  (the web process's list)
 *   sandbox_probe --role capture|model CALL   (base with the sampler, then
 *                                              the role's filter on top)
 *   sandbox_probe --list base|capture|model|web (names the list allows, for
 *                                              seccomp_profile.sh; the base
 *                                              with the sampler and --netns)
 * CALL: allowed: getpid, read-proc, netlink, thread, packet, accept
 *       forbidden: execve, ptrace, mount, fork, socket-inet, open-write,
 *                  connect, kill, setuid, unshare (with --sampler too)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/sandbox.h"

static void *
thread_main(void *arg)
{
	return arg;
}

int
main(int argc, char **argv)
{
	struct sandbox_config c = { 0 };
	const char *call;
	char err[256], buf[64];
	pthread_t t;
	int fd, role = -1;

	if (argc == 3 && strcmp(argv[1], "--list") == 0) {
		c.sampler = c.netns = true;
		c.peer = 1;	/* the collector's kill() of the web process */
		if (strcmp(argv[2], "web") == 0)
			c.proc = SANDBOX_PROC_WEB;
		role = strcmp(argv[2], "capture") == 0 ? SANDBOX_ROLE_CAPTURE :
		    strcmp(argv[2], "model") == 0 ? SANDBOX_ROLE_MODEL : -1;
		sandbox_print_list(stdout, &c, role);
		return 0;
	}
	if (argc > 3 && strcmp(argv[1], "--role") == 0) {
		c.sampler = true;
		role = strcmp(argv[2], "capture") == 0 ? SANDBOX_ROLE_CAPTURE :
		    SANDBOX_ROLE_MODEL;
		argv += 2;
		argc -= 2;
	}
	if (argc > 2 && strcmp(argv[1], "--web") == 0) {
		c.proc = SANDBOX_PROC_WEB;
		argv++;
		argc--;
	}
	if (argc > 2 && strcmp(argv[1], "--sampler") == 0) {
		c.sampler = true;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: sandbox_probe [--sampler | --role R] "
		    "CALL\n");
		return 2;
	}
	call = argv[1];
	if (sandbox_apply(&c, err, sizeof(err)) < 0) {
		fprintf(stderr, "sandbox_probe: %s\n", err);
		return 2;
	}
	if (role >= 0 && sandbox_enter_role((enum sandbox_role)role) != 1) {
		fprintf(stderr, "sandbox_probe: role filter not on\n");
		return 2;
	}
	if (strcmp(call, "getpid") == 0) {
		return getpid() > 0 ? 0 : 1;
	} else if (strcmp(call, "read-proc") == 0) {
		fd = open("/proc/net/netstat", O_RDONLY | O_CLOEXEC);
		return fd >= 0 && read(fd, buf, sizeof(buf)) > 0 ? 0 : 1;
	} else if (strcmp(call, "netlink") == 0) {
		return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 4) >= 0 ? 0 : 1;
	} else if (strcmp(call, "packet") == 0) {
		/* Needs CAP_NET_RAW: EPERM is fine, the filter let it through. */
		return socket(AF_PACKET, SOCK_RAW, 0) >= 0 || errno == EPERM ?
		    0 : 1;
	} else if (strcmp(call, "thread") == 0) {
		return pthread_create(&t, NULL, thread_main, NULL) == 0 &&
		    pthread_join(t, NULL) == 0 ? 0 : 1;
	} else if (strcmp(call, "accept") == 0) {
		/* EBADF is fine: the filter let it through. */
		return accept4(-1, NULL, NULL, 0) < 0 && errno == EBADF ? 0 : 1;
	} else if (strcmp(call, "execve") == 0) {
		char *args[] = { "/bin/true", NULL };

		execve(args[0], args, NULL);
	} else if (strcmp(call, "ptrace") == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	} else if (strcmp(call, "mount") == 0) {
		mount("none", "/mnt", "tmpfs", 0, NULL);
	} else if (strcmp(call, "fork") == 0) {
		/* glibc's fork is clone(SIGCHLD...) without CLONE_THREAD. */
		syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	} else if (strcmp(call, "socket-inet") == 0) {
		socket(AF_INET6, SOCK_STREAM, 0);
	} else if (strcmp(call, "open-write") == 0) {
		open("/proc/sys/net/ipv4/tcp_timestamps", O_WRONLY);
	} else if (strcmp(call, "connect") == 0) {
		connect(0, NULL, 0);
	} else if (strcmp(call, "kill") == 0) {
		kill(1, 0);
	} else if (strcmp(call, "setuid") == 0) {
		syscall(SYS_setuid, 0);
	} else if (strcmp(call, "unshare") == 0) {
		unshare(CLONE_NEWNET);
	} else {
		fprintf(stderr, "sandbox_probe: unknown call %s\n", call);
		return 2;
	}
	/* Still alive: the call was allowed. */
	fprintf(stderr, "sandbox_probe: %s returned (%s)\n", call,
	    strerror(errno));
	return 1;
}
