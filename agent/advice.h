/*
 * Advice rules: one table in agent/advice.c, each rule a condition over a
 * snapshot that may produce findings (findings.h).
 */
#ifndef TWAUDIT_ADVICE_H
#define TWAUDIT_ADVICE_H

#include "agent/findings.h"

struct snapshot;

/* source_stale: a source's last success older than three 5 s ticks. */
#define ADVICE_STALE_SECONDS 15.0

/* Evaluate every rule on S into OUT (which must be empty). */
void advice_evaluate(const struct snapshot *s, struct findings *out);

/* Worst of critical > warning > unknown > ok; info never counts. */
enum audit_status advice_status(const struct findings *f);

#endif
