/*
 * test_clock.c — the test-only clock control socket (test_clock.h).
 */
#include "util/common.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "engine/test_clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct test_clock {
	engine *e;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pthread_t thread;
};

void test_clock_start_ahead(void)
{
	const char *socket_path = getenv("WEFT_TEST_CLOCK_SOCKET");
	const char *ahead = getenv("WEFT_TEST_CLOCK_AHEAD_US");
	if (socket_path == NULL || *socket_path == '\0' || ahead == NULL || *ahead == '\0')
		return;
	char *end = NULL;
	errno = 0;
	long long us = strtoll(ahead, &end, 10);
	if (errno != 0 || *end != '\0' || us < 0) {
		log_error("engine", "WEFT_TEST_CLOCK_AHEAD_US: expected microseconds, got %s", ahead);
		return;
	}
	log_warn("engine", "test clock starts %lld µs ahead", us);
	clock_advance((int64_t)us);
}

/* Serves one connection: a line in, a line out, until it closes. */
static void serve(test_clock *tc, int c)
{
	FILE *in = fdopen(c, "r+");
	if (!in) {
		close(c);
		return;
	}
	char line[128];
	while (fgets(line, sizeof(line), in)) {
		long long us = 0;
		int rc = WEFT_EINVALID;
		if (sscanf(line, "advance %lld", &us) == 1 && us >= 0) {
			clock_advance((int64_t)us);
			rc = engine_sync(tc->e);
		}
		if (rc == 0)
			fputs("ok\n", in);
		else
			fprintf(in, "error %s\n", weft_errname(rc));
		fflush(in);
	}
	fclose(in);
}

static void *test_clock_main(void *arg)
{
	test_clock *tc = arg;
	for (;;) {
		int c = accept(tc->fd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;    /* shut down */
		}
		serve(tc, c);
	}
}

test_clock *test_clock_start(const char *path, engine *e)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path)) {
		log_error("engine", "WEFT_TEST_CLOCK_SOCKET: path too long");
		return NULL;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	test_clock *tc = xcalloc(1, sizeof(*tc));
	tc->e = e;
	snprintf(tc->path, sizeof(tc->path), "%s", path);
	tc->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(path);
	mode_t old = umask(0077);
	int rc = tc->fd < 0 ? -1 : bind(tc->fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (rc != 0 || listen(tc->fd, 4) != 0 || pthread_create(&tc->thread, NULL, test_clock_main, tc) != 0) {
		log_error("engine", "WEFT_TEST_CLOCK_SOCKET: cannot listen at %s: %s", path, strerror(errno));
		if (tc->fd >= 0)
			close(tc->fd);
		free(tc);
		return NULL;
	}
	log_warn("engine", "test clock control on %s: whoever can open it moves this server's time", path);
	return tc;
}

void test_clock_stop(test_clock *tc)
{
	if (!tc)
		return;
	shutdown(tc->fd, SHUT_RDWR);
	pthread_join(tc->thread, NULL);
	close(tc->fd);
	unlink(tc->path);
	free(tc);
}
