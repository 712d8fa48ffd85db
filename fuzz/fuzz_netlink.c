/*
 * libFuzzer target: the same bytes go to sock_diag_parse() and to
 * tcp_metrics_parse() (as family 0x1d, the id it has on common kernels, and
 * as the type of the first message so entries get parsed). The first byte
 * picks small limits now and then, so the truncation paths run too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sock_diag.h"
#include "tcp_metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tcp_metrics_stats tm;
	struct sock_diag_limits lim = { 0 };
	struct sock_diag_stats st;
	struct sock_diag_acc *acc;
	char err[256];
	int family = 0x1d;

	if (size > 0 && (data[0] & 1) != 0) {
		lim.max_entries = 2;
		lim.max_remotes = 2;
	}
	acc = sock_diag_acc_new(&lim);
	if (acc == NULL)
		return 0;
	(void)sock_diag_parse(data, size, acc, err, sizeof(err));
	sock_diag_acc_result(acc, &st);
	sock_diag_acc_free(acc);

	if (size >= 6) {
		uint16_t t;

		memcpy(&t, data + 4, 2);
		if (t >= 0x10)		/* a genl family id, not NLMSG_* */
			family = t;
	}
	memset(&tm, 0, sizeof(tm));
	if (size > 0 && (data[0] & 1) != 0)
		tm.max_entries = 2;
	(void)tcp_metrics_parse(data, size, family, &tm, err, sizeof(err));
	return 0;
}
