/*
 * sink.c — the bench's webhook sink (see sink.h). One response object,
 * created once, answers every request. The started tasks are a ring
 * buffer under a mutex: a few hundred requests a second touch it.
 */
#include "cli/bench/sink.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#define STARTS_MAX 65536

typedef struct started {
	char id[BENCH_SINK_ID_MAX];
	int64_t at_us;
} started;

struct bench_sink_starts {
	pthread_mutex_t mu;
	started *ring;        /* STARTS_MAX, owned */
	size_t head, len;
	uint64_t dropped;
};

static int request_marker;

static void keep_started(struct bench_sink_starts *st, const char *id)
{
	pthread_mutex_lock(&st->mu);
	if (st->len == STARTS_MAX) {
		st->dropped++;
	} else {
		started *e = &st->ring[(st->head + st->len) % STARTS_MAX];
		snprintf(e->id, sizeof(e->id), "%s", id);
		e->at_us = clock_mono_us();
		st->len++;
	}
	pthread_mutex_unlock(&st->mu);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	bench_sink *s = cls;
	UNUSED(method);
	UNUSED(version);
	UNUSED(upload_data);
	if (*con_cls == NULL) {
		*con_cls = &request_marker;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;   /* a body, if any, is ignored */
		return MHD_YES;
	}
	atomic_fetch_add_explicit(&s->hits, 1, memory_order_relaxed);
	if (strncmp(url, "/end", 4) == 0)
		atomic_fetch_add_explicit(&s->end_hits, 1, memory_order_relaxed);
	if (s->starts && strncmp(url, "/start", 6) == 0) {
		const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Task-Id");
		if (id)
			keep_started(s->starts, id);
	}
	return MHD_queue_response(conn, MHD_HTTP_OK, s->ok);
}

int bench_sink_start(bench_sink *s)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	atomic_init(&s->hits, 0);
	atomic_init(&s->end_hits, 0);
	if (s->record_starts) {
		s->starts = xcalloc(1, sizeof(*s->starts));
		s->starts->ring = xcalloc(STARTS_MAX, sizeof(started));
		pthread_mutex_init(&s->starts->mu, NULL);
	}
	s->ok = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!s->ok)
		return -1;
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_request, s,
	                        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)2, MHD_OPTION_SOCK_ADDR,
	                        (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)0, MHD_OPTION_END);
	const union MHD_DaemonInfo *info = s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	s->port = info ? (int)info->port : 0;
	if (s->port <= 0) {
		bench_sink_stop(s);
		return -1;
	}
	return 0;
}

void bench_sink_stop(bench_sink *s)
{
	if (s->d)
		MHD_stop_daemon(s->d);
	if (s->ok)
		MHD_destroy_response(s->ok);
	if (s->starts) {
		pthread_mutex_destroy(&s->starts->mu);
		free(s->starts->ring);
		free(s->starts);
	}
	s->d = NULL;
	s->ok = NULL;
	s->starts = NULL;
}

uint64_t bench_sink_hits(bench_sink *s)
{
	return atomic_load(&s->hits);
}

uint64_t bench_sink_end_hits(bench_sink *s)
{
	return atomic_load(&s->end_hits);
}

bool bench_sink_take_started(bench_sink *s, int64_t mono_us, char id[BENCH_SINK_ID_MAX])
{
	struct bench_sink_starts *st = s->starts;
	if (!st)
		return false;
	pthread_mutex_lock(&st->mu);
	bool got = st->len > 0 && st->ring[st->head].at_us <= mono_us;
	if (got) {
		memcpy(id, st->ring[st->head].id, BENCH_SINK_ID_MAX);
		st->head = (st->head + 1) % STARTS_MAX;
		st->len--;
	}
	pthread_mutex_unlock(&st->mu);
	return got;
}

bool bench_sink_peek_started(bench_sink *s, uint64_t r, char id[BENCH_SINK_ID_MAX])
{
	struct bench_sink_starts *st = s->starts;
	if (!st)
		return false;
	pthread_mutex_lock(&st->mu);
	bool got = st->len > 0;
	if (got)
		memcpy(id, st->ring[(st->head + r % st->len) % STARTS_MAX].id, BENCH_SINK_ID_MAX);
	pthread_mutex_unlock(&st->mu);
	return got;
}

void bench_sink_started_counts(bench_sink *s, size_t *kept, uint64_t *dropped)
{
	struct bench_sink_starts *st = s->starts;
	*kept = 0;
	*dropped = 0;
	if (!st)
		return;
	pthread_mutex_lock(&st->mu);
	*kept = st->len;
	*dropped = st->dropped;
	pthread_mutex_unlock(&st->mu);
}
