/*
 * net_test.h — what the tests that run their own servers or proxies
 * share: a short sleep and a send that writes the whole buffer.
 */
#ifndef WEFT_TESTS_NET_TEST_H
#define WEFT_TESTS_NET_TEST_H

#include "util/common.h"

#include <sys/socket.h>
#include <time.h>

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* False when the peer went away before all of p was sent. */
static inline bool send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

#endif
