/*
 * sink.c — the bench's webhook sink (see sink.h). One response object,
 * created once, answers every request.
 */
#include "cli/bench/sink.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

static int request_marker;

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
	s->d = NULL;
	s->ok = NULL;
}

uint64_t bench_sink_hits(bench_sink *s)
{
	return atomic_load(&s->hits);
}

uint64_t bench_sink_end_hits(bench_sink *s)
{
	return atomic_load(&s->end_hits);
}
