/*
 * names.h — the ArcRun API's spellings of weft's states: PascalCase
 * task statuses and triggers, and the delivery states of
 * /webhook-deliveries. Only the ArcRun routes use them; the rest of weft
 * speaks the canonical names of core/status.h.
 */
#ifndef WEFT_HTTP_ARCRUN_NAMES_H
#define WEFT_HTTP_ARCRUN_NAMES_H

#include "util/common.h"
#include "core/status.h"

/* "Waiting", "Pending", … as ArcRun's JSON spells them. */
const char *arcrun_status_name(task_status s);
/* 0, or WEFT_EINVALID for anything else (case-sensitive). */
int arcrun_status_parse(const char *s, task_status *out);

/* "Start", "End", "Cancel". */
const char *arcrun_trigger_name(action_trigger t);

/* A delivery as /webhook-deliveries and an action's record show it: a
 * leased one is still "pending", one that failed and will be retried is
 * "failure"; "success" and "exhausted" as they are. */
const char *arcrun_delivery_name(delivery_status s);
/* The delivery states a /webhook-deliveries?status= word selects, as a
 * mask of (1u << delivery_status) bits. 0, or WEFT_EINVALID for an
 * unknown word. */
int arcrun_delivery_filter(const char *word, unsigned *mask);

#endif
