/*
 * engine_test.h — what the engine's test files share: a loopback listener
 * for webhooks to call, and reading a task's row and status through a
 * reader of the store behind the engine.
 */
#ifndef WEFT_TESTS_ENGINE_TEST_H
#define WEFT_TESTS_ENGINE_TEST_H

#include "util/common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "store/store.h"

/* A listening socket on 127.0.0.1 and a free port (*port); -1 on error. */
static inline int test_listener(int *port)
{
	*port = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 1024) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

/* The task's row (owned), read through a reader; the task must exist. */
static inline task_row test_task_get(store *st, const weft_id *id)
{
	task_row r;
	store_conn *c = store_reader_acquire(st);
	assert_int_equal(store_task_get(c, id, &r), 0);
	store_reader_release(st, c);
	return r;
}

static inline task_status test_task_status(store *st, const weft_id *id)
{
	task_row r = test_task_get(st, id);
	task_status s = r.status;
	task_row_release(&r);
	return s;
}

/* Waits, up to tries polls pause_us apart, for a task to leave `from`;
 * its status then (still `from` if it never left). */
static inline task_status test_wait_status_not(store *st, const weft_id *id, task_status from, int tries,
                                               useconds_t pause_us)
{
	for (int i = 0; i < tries; i++) {
		task_status s = test_task_status(st, id);
		if (s != from)
			return s;
		usleep(pause_us);
	}
	return from;
}

#endif
