/*
 * seccomp allow-lists for `serve` (libseccomp). The base list is applied
 * once start-up is over (listening sockets bound, capture handles open,
 * privileges dropped), to every thread at once (TSYNC); then each of the
 * sampler's threads adds the narrower list of its role on itself
 * (sandbox_enter_role()). A syscall outside a list kills the whole
 * process with SIGSYS (SCMP_ACT_KILL_PROCESS); in log mode it is allowed
 * and logged by the kernel (audit/dmesg) instead, to debug the lists.
 * docs/security.md documents each group of syscalls.
 */
#ifndef TWAUDIT_SANDBOX_H
#define TWAUDIT_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * serve's two processes (docs/security.md) get different lists: the
 * collector makes netlink and packet sockets, enters namespaces and
 * signals the web process, never accepts a connection; the web process
 * accepts and serves HTTP on sockets it was given, makes no socket, and
 * signals nobody.
 */
enum sandbox_proc {
	SANDBOX_PROC_COLLECTOR,
	SANDBOX_PROC_WEB,
};

struct sandbox_config {
	enum sandbox_proc proc;
	pid_t peer;		/* collector: the web process (kill allowed) */
	/* Collector only: */
	bool sampler;		/* live capture: AF_PACKET sockets, ring mmap,
				   interface ioctls to reopen after a flap */
	bool netns;		/* --netns: setns(2), /proc/PID/ns/net */
	bool log_only;		/* SCMP_ACT_LOG instead of killing */
};

/* Roles of the threads that narrow the base list on themselves. */
enum sandbox_role {
	SANDBOX_ROLE_CAPTURE,	/* the sampler's libpcap thread */
	SANDBOX_ROLE_MODEL,	/* the sampler's model thread */
	SANDBOX_NROLES
};

/*
 * Install the base filter on every thread, after building the role
 * filters (with C->sampler). 0, or -1 with ERR.
 */
int sandbox_apply(const struct sandbox_config *c, char *err, size_t errlen);

/*
 * False when a forbidden call is only logged: log_only, or a sanitizer
 * build (ASan/LSan need ptrace and fork at exit; see sandbox.c).
 */
bool sandbox_enforcing(const struct sandbox_config *c);

/* How many syscalls C's allow-list names (docs, tests). */
size_t sandbox_allowed_count(const struct sandbox_config *c);

/*
 * On the calling thread: add role R's filter once sandbox_apply() has
 * put the base on (cheap when done or not due: call it from a loop).
 * 1 on (now or before), 0 no base yet (call again later), -1 it could
 * not be added (logged once; the thread stays under the base).
 */
int sandbox_enter_role(enum sandbox_role r);

/* How many rules role R's list has, and its name ("capture", "model"). */
size_t sandbox_role_count(enum sandbox_role r);
const char *sandbox_role_name(enum sandbox_role r);

/*
 * The syscall names list ROLE allows, one a line, argument checks left
 * out (ROLE -1: the base list for C, C->proc's). For seccomp_profile.sh.
 */
void sandbox_print_list(FILE *f, const struct sandbox_config *c, int role);

#endif
