/* Rates, findings and status of a collected snapshot (audit.h). */
#include "agent/audit.h"

#include "agent/advice.h"
#include "agent/history.h"
#include "agent/policy.h"
#include "agent/snapshot.h"

void
snapshot_finish(struct snapshot *s, const struct history *h)
{
	if (h != NULL) {
		for (int w = 0; w < RATE_NWINDOWS; w++)
			for (int c = 0; c < CTR_COUNT; c++)
				s->rate[w][c] = history_rate(h, c,
				    rate_window_seconds[w]);
	}
	snapshot_derive(s, h);
	advice_evaluate(s, &s->findings);
	if (s->policy != NULL)
		policy_evaluate(s->policy, s, &s->findings);
	s->status = advice_status(&s->findings);
	s->host_status = s->status;
	/* Namespaces have no history of their own: no rates unless sampled. */
	if (s->netns_unaudited)
		s->status = status_worst(s->status, STATUS_UNKNOWN);
	for (size_t i = 0; i < s->nns; i++) {
		snapshot_finish(s->ns[i], NULL);
		s->status = status_worst(s->status, s->ns[i]->status);
	}
}
