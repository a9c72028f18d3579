/*
 * names.h — the ArcRun API's spellings of weft's states: PascalCase
 * task statuses and triggers, and the delivery states of
 * /webhook-deliveries. Only the ArcRun routes use them; the rest of weft
 * speaks the canonical names of core/status.h.
 *
 * ArcRun's clients know eight task statuses and reject any other value,
 * so the routes show only those: a task waiting for its next attempt
 * (retrying) is "Pending", a task a decision pruned (skipped) is
 * "Success" (its children treat it as a success: see docs/decisions.md),
 * and the precise state goes in additive fields ("state",
 * "current_state") named canonically.
 */
#ifndef WEFT_HTTP_ARCRUN_NAMES_H
#define WEFT_HTTP_ARCRUN_NAMES_H

#include "util/common.h"
#include "core/status.h"

/* "Waiting", "Pending", "Claimed", "Running", "Paused", "Success",
 * "Failure", "Canceled": one of ArcRun's eight, "Pending" for retrying,
 * "Success" for skipped. */
const char *arcrun_status_name(task_status s);
/* A status a client sends in a body (rule and dedup matchers, PATCH):
 * ArcRun's eight, "RetryPending" for retrying and "Skipped" for skipped.
 * 0, or WEFT_EINVALID for anything else (case-sensitive). */
int arcrun_status_parse(const char *s, task_status *out);
/* The statuses a ?status= word selects, as TS_BIT()s: "Pending" selects
 * pending and retrying tasks (both show as Pending), "Success" success
 * and skipped ones (both show as Success), "RetryPending" and "Skipped"
 * only their own, the others their own. 0, or WEFT_EINVALID. */
int arcrun_status_filter(const char *s, unsigned *mask);

/* "Start", "End", "Cancel". */
const char *arcrun_trigger_name(action_trigger t);

/* A delivery as /webhook-deliveries and an action's record show it: a
 * leased one is still "pending", one that failed and waits for its next
 * attempt is "failure"; "success" and "exhausted" as they are. */
const char *arcrun_delivery_name(delivery_status s);
/* The delivery states a /webhook-deliveries?status= word selects, as a
 * mask of (1u << delivery_status) bits. 0, or WEFT_EINVALID for an
 * unknown word. */
int arcrun_delivery_filter(const char *word, unsigned *mask);

#endif
