/*
 * webhook.h — ArcRun webhook parameters and the outgoing-call dispatcher.
 *
 * WebhookParams (ArcRun's webhook action): {"url": string, "verb": "Get"|"Post"|
 * "Put"|"Patch"|"Delete", "body"?: any, "headers"?: {string: string}}.
 *
 * The dispatcher owns one thread and one libcurl multi handle. Callers hand
 * it webhook_calls (thread-safe); it runs at most `concurrency` transfers at
 * once, each call's actions one after the other (continuing past failures,
 * as ArcRun does), and reports each finished call through its done callback
 * on the dispatcher thread. Requests carry the query parameter
 * handle=<host_url>/task/<id> (URL-encoded, appended after any existing
 * query), then headers: the custom ones, Idempotency-Key, X-Task-Id,
 * X-Task-Trigger (start|end|cancel); a body (Content-Type:
 * application/json) only when params.body is present. Redirects are never
 * followed (a 3xx is a failure); only http/https; response bodies are capped.
 *
 * The dispatcher is a transport: the engine's webhook executor
 * (webhook_executor.c) sends start calls through it, and the outbox
 * deliveries (engine/parts/deliveries.c) their end, cancel and
 * batch-complete webhooks.
 */
#ifndef WEFT_WEBHOOK_H
#define WEFT_WEBHOOK_H

#include "../util/common.h"
#include "../util/json.h"
#include "../store/model.h"
#include "ssrf.h"

/* Checks that `params` is a valid WebhookParams object and that its URL
 * passes the policy. 0 or -1 with err set to e.g.
 *   "Invalid webhook params: missing field `url`"
 *   "Invalid webhook params: unknown variant `Gett`, expected one of `Get`, `Post`, `Put`, `Patch`, `Delete`"
 *   "Invalid URL format: relative URL without a base"   (from ssrf_check_url) */
int webhook_params_check(const json_t *params, const ssrf_policy *p, char *err, size_t errlen);

typedef struct webhook_call webhook_call;
typedef void (*webhook_done_fn)(webhook_call *call, void *arg);

struct webhook_call {
	weft_id task_id;
	action_trigger trigger;
	action_condition condition;
	char key[128];             /* Idempotency-Key, e.g. "<id>:start" */
	char **params;             /* owned JSON texts of WebhookParams */
	size_t nparams;
	/* filled by the dispatcher before done() */
	bool ok;                   /* every action answered 2xx */
	char *error;               /* owned: the first failure, e.g. "on_start webhook failed: HTTP 500" */
	char *cancel_action;       /* owned: a NewActionDto object returned by a 2xx body, compact JSON */
	webhook_done_fn done;      /* may be NULL; runs on the dispatcher thread and must not block */
	void *arg;
	bool no_handle;            /* do not append ?handle= (batch_complete deliveries) */
	unsigned lane;             /* the dispatcher's lane it waits in (webhook_lane) */
	int64_t delivery_id;       /* outbox row of a delivery; not used by the dispatcher */
	int32_t delivery_attempt;  /* a delivery's attempt number (1-based); not used by the dispatcher */
	int32_t http_status;       /* filled: status of the last HTTP answer, 0 when none */
};

/* params are copied. */
webhook_call *webhook_call_new(const weft_id *task, action_trigger trig, action_condition cond,
                               const char *key, const char *const *params, size_t nparams);
void webhook_call_free(webhook_call *c);

/* Calls wait in lanes, each with its own bound on the calls running at
 * once: start calls and deliveries never take each other's slots, and a
 * caller may queue more than a lane runs (the next starts the moment one
 * ends). */
typedef enum webhook_lane { WEBHOOK_LANE_START, WEBHOOK_LANE_DELIVERY, WEBHOOK_LANES } webhook_lane;

typedef struct dispatcher dispatcher;
typedef struct dispatcher_config {
	const char *host_url;        /* e.g. "http://localhost:8085", no trailing slash */
	int concurrency;             /* max calls running at once, all lanes together */
	int lane_limit[WEBHOOK_LANES];   /* max calls running at once per lane; 0 = only `concurrency` */
	long timeout_ms;             /* total per request, default 10000 */
	long connect_timeout_ms;     /* default 5000 */
	size_t max_response_bytes;   /* default 1 MiB; larger bodies are a failure */
	/* Checked again on the address each connection actually goes to, so a
	 * name that resolves (or re-resolves) to an internal address is refused
	 * (DNS rebinding). NULL or skip = no check. Borrowed. */
	const ssrf_policy *ssrf;
	/* WEBHOOK_SIGNING_SECRET: when set, every request carries
	 * X-Weft-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
	 * (the body is empty when there is none). Borrowed, NULL = unsigned. */
	const char *signing_secret;
} dispatcher_config;

dispatcher *dispatcher_new(const dispatcher_config *cfg);
/* Takes ownership of call until its done callback runs (exactly once, also
 * on shutdown with ok = false). With done == NULL the call is freed by the
 * dispatcher. */
void dispatcher_submit(dispatcher *d, webhook_call *call);
size_t dispatcher_pending(dispatcher *d);    /* queued + running calls */
void dispatcher_free(dispatcher *d);         /* finishes running transfers (bounded), fails queued ones */

#endif
