/*
 * A simple reference for the peer-table model, written straight from
 * docs/kernel.md (§1, §2.2, §7, §9) with linear scans and no code
 * shared with model/model.c or model/profile.c. It reads the scenario's
 * struct model_config as plain data (profile index, overrides, settings).
 */
#ifndef TWAUDIT_SYNTH_REFERENCE_H
#define TWAUDIT_SYNTH_REFERENCE_H

#include <stdint.h>

#include "model/model.h"
#include "lib/tcp_event.h"

struct ref_verdict {
	int decision;		/* enum model_decision values */
	int reason;		/* enum model_reason values */
	int tw_ack;		/* enum model_tw_ack values */
	unsigned counters;	/* bit per enum model_counter */
};

struct ref;

struct ref *ref_new(const struct model_config *cfg);
void ref_free(struct ref *r);
/* 0, or -1 on allocation failure. */
int ref_feed(struct ref *r, const struct tcp_event *ev, struct ref_verdict *out);
uint64_t ref_rejections(const struct ref *r);

#endif
