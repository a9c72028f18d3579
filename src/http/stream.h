/*
 * stream.h — a response whose body is produced while it is sent, for as
 * long as there is more to come: server-sent events (a task's log lines
 * followed live).
 *
 * The body is pulled by libmicrohttpd through a content reader. When the
 * producer has nothing new, the connection is suspended (the pattern
 * microhttpd.h prescribes for a body not ready yet: no thread waits, no
 * loop spins) and a ticker thread resumes every suspended stream every
 * HTTP_STREAM_TICK_US, to ask its producer again. A client that went away
 * is found by the next write (the producer writes a comment now and then).
 * A producer whose news comes at a known moment (the change feed, after a
 * commit) has its streams resumed then (http_streams_wake) rather than at
 * the next tick. Streams are bounded per producer (LOG_STREAMS_MAX,
 * UI_STREAMS_MAX); stopping the server ends every
 * stream before libmicrohttpd stops, which it must never do with a
 * suspended connection.
 */
#ifndef WEFT_HTTP_STREAM_H
#define WEFT_HTTP_STREAM_H

#include "http/http.h"
#include "util/buf.h"

#define HTTP_STREAM_TICK_US (200 * 1000LL)

typedef struct http_stream_ops {
	/* On an HTTP thread: appends what is new to out. 1: more may come;
	 * 0: the body is complete (after out); < 0: end it now. */
	int (*produce)(void *state, buf *out);
	void (*free)(void *state);
} http_stream_ops;

/* Answers r with a streamed body of content_type produced by ops from
 * state (taken over: freed by ops->free however it ends). 0, or
 * WEFT_EOVERLOADED when max streams of these ops are open already (state
 * freed; the caller answers). */
int http_respond_stream(http_request *r, const char *content_type, const http_stream_ops *ops, void *state,
                        int max);
/* Any thread: every suspended stream of ops asks its producer again now. */
void http_streams_wake(const http_stream_ops *ops);
/* Whether the request's Accept header asks for text/event-stream. */
bool http_accepts_event_stream(http_request *r);

/* server.c, stopping server srv: every stream of srv ends (waits for
 * them, bounded), before libmicrohttpd stops; _stopped after it stopped. */
void http_streams_stop(const void *srv);
void http_streams_stopped(const void *srv);

#endif
