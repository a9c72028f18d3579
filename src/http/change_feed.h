/*
 * change_feed.h — the tasks whose status changed, in commit order, for the
 * streams of GET /v1/changes.
 *
 * One feed serves every stream of a server. After each commit the engine
 * hands it the ids of the tasks the transaction changed (store_changes);
 * the feed keeps them and wakes its streams. The first stream to ask
 * reads those tasks once (one query for all the streams) and puts them,
 * rendered, in a bounded ring where each entry has the next sequence
 * number; every stream then reads the entries after its cursor that its
 * filter lets through. A stream whose cursor is older than the ring keeps
 * (or from before the process started) is told to reset.
 *
 * On a shared database (PostgreSQL, several nodes) the feed also reads the
 * status changes other nodes recorded in the trail (task_event), at most
 * once every CHANGE_FEED_REMOTE_US while streams are open.
 */
#ifndef WEFT_HTTP_CHANGE_FEED_H
#define WEFT_HTTP_CHANGE_FEED_H

#include "util/common.h"
#include "core/id.h"
#include "store/store.h"
#include "http/http.h"
#include "util/buf.h"

#define CHANGE_FEED_RING 8192
#define CHANGE_FEED_REMOTE_US (1000 * 1000LL)
/* Tasks one event carries at most; the rest follow in the next. */
#define CHANGE_FEED_EVENT_MAX 500

typedef struct change_feed change_feed;
struct engine;

/* wake: called (any thread) when entries may be new. */
change_feed *change_feed_new(struct engine *e, store *st, void (*wake)(void));
void change_feed_free(change_feed *f);
/* server.c: the server's feed, made by the first call (with wake). */
change_feed *http_change_feed(http_request *r, void (*wake)(void));

/* A stream opens or closes (the feed keeps nothing while none is open,
 * and no poll came for CHANGE_FEED_POLL_KEEP_US). */
void change_feed_subscribe(change_feed *f);
void change_feed_unsubscribe(change_feed *f);
#define CHANGE_FEED_POLL_KEEP_US (60 * 1000000LL)
void change_feed_polled(change_feed *f);

/* The engine thread, after a commit: the changed tasks (borrowed). */
void change_feed_publish(void *feed, const store_changes *ch);

/* What a stream sees: one run, or namespaces (NULL: every one). */
typedef struct change_filter {
	bool has_run;
	weft_id run;
	const char *const *namespaces;
	size_t nnamespaces;
} change_filter;

/* The process's epoch: a cursor of another one resets. */
int64_t change_feed_epoch(const change_feed *f);
/* The last sequence number given (0: none yet). */
uint64_t change_feed_head(change_feed *f);

/* Reads the tasks published since the last look, when there are (one
 * reader connection; other streams wait for it). */
void change_feed_load(change_feed *f);

/* Appends to out, comma-separated, the task objects after *cursor that
 * pass the filter, at most CHANGE_FEED_EVENT_MAX; *cursor moves past the
 * entries looked at. Returns the number appended, or -1 when *cursor is
 * older than what the ring keeps (then *cursor is the head). */
int change_feed_read(change_feed *f, const change_filter *flt, uint64_t *cursor, buf *out);

#endif
