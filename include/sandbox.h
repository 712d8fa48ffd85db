/*
 * seccomp allow-list for `serve` (libseccomp). Applied once start-up is
 * over (listening sockets bound, capture handles open, privileges
 * dropped), to every thread at once (TSYNC). A syscall outside the list
 * kills the whole process with SIGSYS (SCMP_ACT_KILL_PROCESS); in log
 * mode it is allowed and logged by the kernel (audit/dmesg) instead, to
 * debug the list. docs/security.md documents each group of syscalls.
 */
#ifndef TWAUDIT_SANDBOX_H
#define TWAUDIT_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

struct sandbox_config {
	bool sampler;		/* live capture: AF_PACKET sockets, ring mmap,
				   interface ioctls to reopen after a flap */
	bool netns;		/* --netns: setns(2), /proc/PID/ns/net */
	bool log_only;		/* SCMP_ACT_LOG instead of killing */
};

/* Install the filter on every thread. 0, or -1 with ERR. */
int sandbox_apply(const struct sandbox_config *c, char *err, size_t errlen);

/*
 * False when a forbidden call is only logged: log_only, or a sanitizer
 * build (ASan/LSan need ptrace and fork at exit; see sandbox.c).
 */
bool sandbox_enforcing(const struct sandbox_config *c);

/* How many syscalls C's allow-list names (docs, tests). */
size_t sandbox_allowed_count(const struct sandbox_config *c);

#endif
