/*
 * stream.c — streamed responses (stream.h). Reads the request context
 * (request.h) for its connection, as respond.c does.
 */
#include "util/common.h"
#include "http/stream.h"

#include <microhttpd.h>
#include <pthread.h>
#include <time.h>

#include "core/error.h"
#include "http/request.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

#define STOP_WAIT_US (2 * 1000000LL)

typedef struct http_stream {
	struct http_stream *next;
	const void *srv;
	struct MHD_Connection *conn;
	const http_stream_ops *ops;
	void *state;
	buf pending;                /* produced, not yet sent */
	size_t sent;
	bool ended;                 /* the producer is done: send what is pending, then end */
	bool suspended;             /* under g_lock */
} http_stream;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static http_stream *g_streams;   /* under g_lock */
static size_t g_count;
static bool g_ticker;            /* the ticker thread runs */
static const void *g_stopping;   /* the server being stopped: its streams end */

static void sleep_us(int64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000L };
	nanosleep(&ts, NULL);
}

/* Resumes every suspended stream; returns when there is none left. */
static void *ticker_main(void *arg)
{
	UNUSED(arg);
	for (;;) {
		sleep_us(HTTP_STREAM_TICK_US);
		struct MHD_Connection *conns[256];
		size_t n = 0;
		pthread_mutex_lock(&g_lock);
		if (g_count == 0) {
			g_ticker = false;
			pthread_mutex_unlock(&g_lock);
			return NULL;
		}
		for (http_stream *s = g_streams; s != NULL && n < ARRAY_LEN(conns); s = s->next) {
			if (s->suspended) {
				s->suspended = false;
				conns[n++] = s->conn;
			}
		}
		pthread_mutex_unlock(&g_lock);
		/* A suspended connection stays alive until it is resumed: only
		 * this thread resumes it once it was taken off above. */
		for (size_t i = 0; i < n; i++)
			MHD_resume_connection(conns[i]);
	}
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	UNUSED(pos);
	http_stream *s = cls;
	if (s->sent == s->pending.len && !s->ended) {
		buf_reset(&s->pending);
		s->sent = 0;
		pthread_mutex_lock(&g_lock);
		bool stopping = g_stopping == s->srv;
		pthread_mutex_unlock(&g_lock);
		int rc = stopping ? -1 : s->ops->produce(s->state, &s->pending);
		if (rc <= 0)
			s->ended = true;
		if (rc < 0)
			buf_reset(&s->pending);
	}
	if (s->sent < s->pending.len) {
		size_t n = MIN(max, s->pending.len - s->sent);
		memcpy(out, s->pending.data + s->sent, n);
		s->sent += n;
		return (ssize_t)n;
	}
	if (s->ended)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* Nothing new: parked until the ticker resumes it, unless the server
	 * is stopping (then asked again at once, and it ends). */
	pthread_mutex_lock(&g_lock);
	if (g_stopping != s->srv) {
		s->suspended = true;
		MHD_suspend_connection(s->conn);
	}
	pthread_mutex_unlock(&g_lock);
	return 0;
}

static void reader_free(void *cls)
{
	http_stream *s = cls;
	pthread_mutex_lock(&g_lock);
	for (http_stream **pp = &g_streams; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			g_count--;
			break;
		}
	}
	pthread_mutex_unlock(&g_lock);
	s->ops->free(s->state);
	buf_release(&s->pending);
	free(s);
}

/* Under g_lock: streams of ops open now. */
static size_t count_of(const http_stream_ops *ops)
{
	size_t n = 0;
	for (http_stream *s = g_streams; s != NULL; s = s->next)
		n += s->ops == ops;
	return n;
}

int http_respond_stream(http_request *r, const char *content_type, const http_stream_ops *ops, void *state, int max)
{
	pthread_mutex_lock(&g_lock);
	if (count_of(ops) >= (size_t)MAX(max, 1) || g_stopping == r->srv) {
		pthread_mutex_unlock(&g_lock);
		ops->free(state);
		return WEFT_EOVERLOADED;
	}
	http_stream *s = xcalloc(1, sizeof *s);
	s->srv = r->srv;
	s->conn = r->conn;
	s->ops = ops;
	s->state = state;
	buf_init(&s->pending);
	s->next = g_streams;
	g_streams = s;
	g_count++;
	bool start = !g_ticker;
	g_ticker = true;
	pthread_mutex_unlock(&g_lock);
	if (start) {
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, ticker_main, NULL) != 0) {
			pthread_mutex_lock(&g_lock);
			g_ticker = false;
			pthread_mutex_unlock(&g_lock);
		}
		pthread_attr_destroy(&attr);
	}
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, s, reader_free);
	if (resp == NULL) {
		reader_free(s);
		return WEFT_EINTERNAL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	for (size_t i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
	if (MHD_queue_response(r->conn, 200, resp) == MHD_YES) {
		r->responded = true;
		r->status = 200;
	}
	/* Refused, the response's destruction frees the stream. */
	MHD_destroy_response(resp);
	return 0;
}

void http_streams_wake(const http_stream_ops *ops)
{
	struct MHD_Connection *conns[256];
	bool more = true;
	while (more) {
		size_t n = 0;
		more = false;
		pthread_mutex_lock(&g_lock);
		for (http_stream *s = g_streams; s != NULL; s = s->next) {
			if (s->ops != ops || !s->suspended)
				continue;
			if (n == ARRAY_LEN(conns)) {
				more = true;
				break;
			}
			s->suspended = false;
			conns[n++] = s->conn;
		}
		pthread_mutex_unlock(&g_lock);
		/* As the ticker: taken off above, only this thread resumes them. */
		for (size_t i = 0; i < n; i++)
			MHD_resume_connection(conns[i]);
	}
}

bool http_accepts_event_stream(http_request *r)
{
	const char *accept = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	return accept != NULL && strstr(accept, "text/event-stream") != NULL;
}

void http_streams_stop(const void *srv)
{
	struct MHD_Connection **conns = NULL;
	size_t n = 0;
	pthread_mutex_lock(&g_lock);
	g_stopping = srv;
	for (http_stream *s = g_streams; s != NULL; s = s->next)
		n += s->srv == srv && s->suspended;
	conns = xcalloc(n ? n : 1, sizeof *conns);
	n = 0;
	for (http_stream *s = g_streams; s != NULL; s = s->next) {
		if (s->srv == srv && s->suspended) {
			s->suspended = false;
			conns[n++] = s->conn;
		}
	}
	pthread_mutex_unlock(&g_lock);
	for (size_t i = 0; i < n; i++)
		MHD_resume_connection(conns[i]);
	free(conns);
	/* Each one ends when it is next asked for data. */
	int64_t deadline = clock_mono_us() + STOP_WAIT_US;
	for (;;) {
		pthread_mutex_lock(&g_lock);
		bool left = false;
		for (http_stream *s = g_streams; s != NULL && !left; s = s->next)
			left = s->srv == srv;
		pthread_mutex_unlock(&g_lock);
		if (!left)
			break;
		if (clock_mono_us() >= deadline) {
			log_warn("http", "stopping with log streams still open");
			break;
		}
		sleep_us(5000);
	}
}

void http_streams_stopped(const void *srv)
{
	pthread_mutex_lock(&g_lock);
	if (g_stopping == srv)
		g_stopping = NULL;
	pthread_mutex_unlock(&g_lock);
}
