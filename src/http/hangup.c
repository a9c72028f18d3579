/*
 * hangup.c — the watcher of waiting requests' sockets (hangup.h).
 */
#include "http/hangup.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/log.h"

/* The key of the eventfd that stops the thread; sockets' keys are
 * positive counters. */
#define STOP_KEY UINT64_MAX

struct hangup_watch {
	int epfd, stopfd;
	hangup_fn gone;
	void *arg;
	pthread_t thread;
};

static void *watch_main(void *arg)
{
	hangup_watch *w = arg;
	struct epoll_event ev[32];
	for (;;) {
		int n = epoll_wait(w->epfd, ev, (int)ARRAY_LEN(ev), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("http", "hang-up watcher: epoll_wait: %s", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u64 == STOP_KEY)
				return NULL;
			w->gone(w->arg, ev[i].data.u64);
		}
	}
}

hangup_watch *hangup_watch_start(hangup_fn gone, void *arg, char *err, size_t errlen)
{
	hangup_watch *w = xcalloc(1, sizeof(*w));
	w->gone = gone;
	w->arg = arg;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = STOP_KEY };
	if (w->epfd < 0 || w->stopfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->stopfd, &ev) != 0 ||
	    pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		snprintf(err, errlen, "cannot start the hang-up watcher: %s", strerror(errno));
		if (w->epfd >= 0)
			close(w->epfd);
		if (w->stopfd >= 0)
			close(w->stopfd);
		free(w);
		return NULL;
	}
	return w;
}

int hangup_watch_add(hangup_watch *w, int fd, uint64_t key)
{
	/* Level-triggered: a peer gone before the call is reported at once. */
	struct epoll_event ev = { .events = EPOLLRDHUP, .data.u64 = key };
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void hangup_watch_remove(hangup_watch *w, int fd)
{
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void hangup_watch_stop(hangup_watch *w)
{
	if (w == NULL)
		return;
	uint64_t one = 1;
	if (write(w->stopfd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		log_error("http", "hang-up watcher: cannot signal the stop: %s", strerror(errno));
	pthread_join(w->thread, NULL);
	close(w->stopfd);
	close(w->epfd);
	free(w);
}
