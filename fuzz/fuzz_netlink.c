/*
 * libFuzzer target: the same bytes go to sock_diag_parse() and to
 * tcp_metrics_parse() (as family 0x1d, the id it has on common kernels, and
 * as the type of the first message so entries get parsed). The first byte
 * picks small limits now and then, so the truncation paths run too.
 *
 * The two sock_diag accumulators (default and small limits) are made once
 * and reset per input: sock_diag_acc_reset() clears only what the previous
 * input touched, so an input costs what it parses, not a fresh 0.5 MiB
 * accumulator (that was ~900 exec/s under ASan). The result is checked
 * against what the parser can have counted, and a reset accumulator must
 * give an empty result.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/sock_diag.h"
#include "collectors/tcp_metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SMALL_LIMIT 2

static void
check(int ok)
{
	if (!ok)
		abort();
}

/* What any result must satisfy, whatever the bytes were. */
static void
check_result(const struct sock_diag_stats *st, uint32_t max_remotes)
{
	uint64_t states = st->state_other, top = 0;

	for (size_t i = 0; i < SD_NSTATES; i++)
		states += st->state[i];
	check(st->state[0] == 0);
	check(states == st->sockets_v4 + st->sockets_v6);
	check(st->timewait == st->state[SD_TIME_WAIT]);
	check(st->est_ts <= st->est_info &&
	    st->est_info <= st->state[SD_ESTABLISHED]);
	check(st->timewait_ports <= st->timewait);
	check(st->ntop_ports <= SOCK_DIAG_TOP_PORTS &&
	    st->ntop_ports <= st->timewait_ports);
	for (size_t i = 0; i < st->ntop_ports; i++) {
		check(st->top_ports[i].count > 0);
		check(i == 0 || st->top_ports[i - 1].count >
		    st->top_ports[i].count || (st->top_ports[i - 1].count ==
		    st->top_ports[i].count && st->top_ports[i - 1].port <
		    st->top_ports[i].port));
		top += st->top_ports[i].count;
	}
	check(top <= st->timewait);
	check(st->timewait_remotes <= max_remotes);
	check(st->ntop_remotes <= SOCK_DIAG_TOP_REMOTES &&
	    st->ntop_remotes <= st->timewait_remotes);
	top = 0;
	for (size_t i = 0; i < st->ntop_remotes; i++) {
		check(st->top_remotes[i].count > 0);
		check(i == 0 || st->top_remotes[i - 1].count >=
		    st->top_remotes[i].count);
		top += st->top_remotes[i].count;
	}
	check(top + st->remotes_untracked <= st->timewait);
	check(st->truncated == (st->dropped > 0));
}

/* The result of a reset accumulator (field by field: padding may differ). */
static void
check_empty(const struct sock_diag_stats *st)
{
	for (size_t i = 0; i < SD_NSTATES; i++)
		check(st->state[i] == 0);
	check(st->state_other == 0 && st->sockets_v4 == 0 &&
	    st->sockets_v6 == 0 && st->timewait == 0 && st->est_info == 0 &&
	    st->est_ts == 0 && st->timewait_ports == 0 &&
	    st->ntop_ports == 0 && st->timewait_remotes == 0 &&
	    st->remotes_untracked == 0 && st->ntop_remotes == 0 &&
	    !st->truncated && st->dropped == 0 && st->foreign_msgs == 0 &&
	    !st->ipv6_absent);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sock_diag_limits small = {
		.max_entries = SMALL_LIMIT, .max_remotes = SMALL_LIMIT,
	};
	static struct sock_diag_acc *acc_default, *acc_small;
	static struct tcp_metrics_stats tm;
	struct sock_diag_stats st;
	struct sock_diag_acc *acc;
	uint32_t max_remotes = SOCK_DIAG_MAX_REMOTES;
	char err[256];
	int family = 0x1d;

	if (acc_default == NULL) {
		acc_default = sock_diag_acc_new(NULL);
		acc_small = sock_diag_acc_new(&small);
		check(acc_default != NULL && acc_small != NULL);
	}
	acc = acc_default;
	if (size > 0 && (data[0] & 1) != 0) {
		acc = acc_small;
		max_remotes = SMALL_LIMIT;
	}
	(void)sock_diag_parse(data, size, acc, err, sizeof(err));
	sock_diag_acc_result(acc, &st);
	check_result(&st, max_remotes);
	sock_diag_acc_reset(acc);
	sock_diag_acc_result(acc, &st);
	check_empty(&st);
	check(sock_diag_acc_kernel_error(acc) == 0 && !sock_diag_acc_full(acc));

	if (size >= 6) {
		uint16_t t;

		memcpy(&t, data + 4, 2);
		if (t >= 0x10)		/* a genl family id, not NLMSG_* */
			family = t;
	}
	memset(&tm, 0, sizeof(tm));
	if (size > 0 && (data[0] & 1) != 0)
		tm.max_entries = SMALL_LIMIT;
	(void)tcp_metrics_parse(data, size, family, &tm, err, sizeof(err));
	return 0;
}
