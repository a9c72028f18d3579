/*
 * acceptor.c — accepting connections and holding them until their first
 * request header is in (see acceptor.h).
 *
 * One thread, one epoll set: the listening socket (level-triggered), the
 * waiting connections (edge-triggered: a wake-up per arrival of data,
 * which is only peeked at), the refused ones being drained, and an
 * eventfd to stop. Waiting connections are kept in accept order, which is
 * also the order of their deadlines (the timeout is the same for all), so
 * the oldest is both the first to time out and the first to make room.
 */
#include "util/common.h"
#include "http/acceptor.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"

/* How much of a header is looked at; a larger one is handed over as it
 * is, and libmicrohttpd refuses it if it is too large for it as well. */
#define PEEK_MAX 16384
/* How long a refused connection is drained before it is closed, so that
 * unread request bytes do not turn the close into a reset that destroys
 * the 400 on its way. */
#define LINGER_US 1000000
#define ACCEPT_PAUSE_US 100000
#define MAX_EVENTS 64

static const char bad_request[] = "HTTP/1.1 400 Bad Request\r\n"
                                  "Content-Type: text/plain; charset=utf-8\r\n"
                                  "Content-Length: 24\r\n"
                                  "Connection: close\r\n"
                                  "\r\n"
                                  "malformed request line\r\n";

typedef struct pending {
	int fd;
	bool closing;                   /* refused: drained until EOF or the deadline */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	unsigned char key[16];          /* the peer's address, IPv4 mapped into IPv6 */
	int64_t deadline;
	struct pending *prev, *next;
} pending;

typedef struct plist {
	pending *head, *tail;
	size_t n;
} plist;

struct acceptor {
	acceptor_config cfg;
	int listen_fd, epoll_fd, stop_fd;
	pthread_t thread;
	plist waiting;                  /* accept order, which is deadline order */
	plist closing;                  /* the same */
	int64_t accept_paused_until;    /* out of descriptors: 0 when accepting */
	char peek[PEEK_MAX];
};

/* ---- the request head ------------------------------------------------ */

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Leading empty lines are ignored, as RFC 9112 allows; a method is at most
 * 32 characters. */
acceptor_head acceptor_check_head(const char *p, size_t len)
{
	static const char version[] = "HTTP/d.d";
	size_t i = 0;
	while (i < len && (p[i] == '\r' || p[i] == '\n'))
		i++;
	size_t method = i;
	while (i < len && is_tchar((unsigned char)p[i]) && i - method < 32)
		i++;
	if (i == len)
		return HEAD_INCOMPLETE;
	if (p[i] != ' ' || i == method)
		return HEAD_MALFORMED;
	size_t target = ++i;
	while (i < len && (unsigned char)p[i] > 0x20 && p[i] != 0x7f)
		i++;
	if (i == len)
		return HEAD_INCOMPLETE;
	if (p[i] != ' ' || i == target)
		return HEAD_MALFORMED;
	i++;
	for (size_t v = 0; v < sizeof(version) - 1; v++, i++) {
		if (i == len)
			return HEAD_INCOMPLETE;
		bool ok = version[v] == 'd' ? p[i] >= '0' && p[i] <= '9' : p[i] == version[v];
		if (!ok)
			return HEAD_MALFORMED;
	}
	if (i < len && p[i] == '\r')
		i++;
	if (i == len)
		return HEAD_INCOMPLETE;
	if (p[i] != '\n')
		return HEAD_MALFORMED;
	/* The header ends at an empty line: "\n\r\n" or "\n\n" from here. */
	for (; i + 1 < len; i++) {
		if (p[i] == '\n' && (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n')))
			return HEAD_COMPLETE;
	}
	return HEAD_INCOMPLETE;
}

/* ---- bookkeeping ----------------------------------------------------------- */

static void list_push(plist *l, pending *p)
{
	p->prev = l->tail;
	p->next = NULL;
	if (l->tail != NULL)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	l->n++;
}

static void list_unlink(plist *l, pending *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		l->head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		l->tail = p->prev;
	p->prev = p->next = NULL;
	l->n--;
}

static void count_closed(const char *reason)
{
	char labels[48];
	snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
	metrics_inc("http_connections_dropped_total", labels, 1);
}

/* Closes p and forgets it; reason (may be NULL) is counted. */
static void drop(acceptor *a, pending *p, const char *reason)
{
	list_unlink(p->closing ? &a->closing : &a->waiting, p);
	close(p->fd);    /* also takes it out of the epoll set */
	if (reason != NULL)
		count_closed(reason);
	free(p);
}

static void address_key(const struct sockaddr_storage *ss, unsigned char key[16])
{
	memset(key, 0, 16);
	if (ss->ss_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	} else if (ss->ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

/* Makes room for one more waiting connection from key's address: past
 * either cap, the oldest waiting connection (of that address, for the
 * per-address cap) is closed. */
static void make_room(acceptor *a, const unsigned char key[16])
{
	pending *oldest_same = NULL;
	size_t same = 0;
	for (pending *p = a->waiting.head; p != NULL; p = p->next) {
		if (memcmp(p->key, key, 16) == 0 && same++ == 0)
			oldest_same = p;
	}
	if (same >= a->cfg.max_pending_per_address && oldest_same != NULL)
		drop(a, oldest_same, "evicted");
	else if (a->waiting.n >= a->cfg.max_pending && a->waiting.head != NULL)
		drop(a, a->waiting.head, "evicted");
}

/* ---- connections -------------------------------------------------------- */

static void handover(acceptor *a, pending *p)
{
	list_unlink(&a->waiting, p);
	epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, p->fd, NULL);
	a->cfg.handover(a->cfg.arg, p->fd, (const struct sockaddr *)&p->addr, p->addrlen);
	free(p);
}

/* Answers 400 and drains the connection until the client closes it or
 * the linger ends. */
static void refuse(acceptor *a, pending *p)
{
	ssize_t n = send(p->fd, bad_request, sizeof(bad_request) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	count_closed("malformed");
	if (n != (ssize_t)sizeof(bad_request) - 1 || shutdown(p->fd, SHUT_WR) != 0) {
		drop(a, p, NULL);
		return;
	}
	list_unlink(&a->waiting, p);
	p->closing = true;
	p->deadline = clock_mono_us() + LINGER_US;
	list_push(&a->closing, p);
}

static void drain(acceptor *a, pending *p)
{
	for (;;) {
		ssize_t n = recv(p->fd, a->peek, sizeof(a->peek), 0);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		drop(a, p, NULL);      /* end of stream, or an error */
		return;
	}
}

/* A waiting connection has news: data, the end of its stream, an error. */
static void examine(acceptor *a, pending *p, uint32_t events)
{
	ssize_t n = recv(p->fd, a->peek, sizeof(a->peek), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !(events & (EPOLLHUP | EPOLLERR)))
		return;
	if (n <= 0) {
		drop(a, p, NULL);      /* gone before a request */
		return;
	}
	acceptor_head v = acceptor_check_head(a->peek, (size_t)n);
	if (v == HEAD_MALFORMED)
		refuse(a, p);
	else if (v == HEAD_COMPLETE || n == (ssize_t)sizeof(a->peek))
		handover(a, p);
	else if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		drop(a, p, NULL);      /* finished sending without a whole header */
}

static void admit(acceptor *a, int fd, const struct sockaddr_storage *ss, socklen_t len)
{
	pending *p = xcalloc(1, sizeof(*p));
	p->fd = fd;
	p->addr = *ss;
	p->addrlen = len;
	address_key(ss, p->key);
	make_room(a, p->key);
	p->deadline = clock_mono_us() + a->cfg.header_timeout_us;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = p };
	if (epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		log_warn("http", "cannot watch a new connection: %s", strerror(errno));
		close(fd);
		free(p);
		return;
	}
	list_push(&a->waiting, p);
}

static void set_listening(acceptor *a, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.ptr = &a->listen_fd };
	epoll_ctl(a->epoll_fd, EPOLL_CTL_MOD, a->listen_fd, &ev);
}

static void accept_all(acceptor *a)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(a->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			admit(a, fd, &ss, len);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* Out of descriptors: the listening socket would stay ready and
			 * spin; stop listening for a moment, and free one for the next
			 * client. */
			log_warn("http", "cannot accept a connection: %s", strerror(errno));
			if (a->waiting.head != NULL)
				drop(a, a->waiting.head, "evicted");
			set_listening(a, false);
			a->accept_paused_until = clock_mono_us() + ACCEPT_PAUSE_US;
		}
		return;      /* EAGAIN, or an error of the connection that was to come */
	}
}

/* Closes what is due; returns the epoll timeout until the next deadline. */
static int expire(acceptor *a)
{
	int64_t now = clock_mono_us(), next = INT64_MAX;
	while (a->waiting.head != NULL && a->waiting.head->deadline <= now)
		drop(a, a->waiting.head, "header_timeout");
	while (a->closing.head != NULL && a->closing.head->deadline <= now)
		drop(a, a->closing.head, NULL);
	if (a->accept_paused_until != 0 && a->accept_paused_until <= now) {
		a->accept_paused_until = 0;
		set_listening(a, true);
	}
	if (a->waiting.head != NULL)
		next = a->waiting.head->deadline;
	if (a->closing.head != NULL)
		next = MIN(next, a->closing.head->deadline);
	if (a->accept_paused_until != 0)
		next = MIN(next, a->accept_paused_until);
	if (next == INT64_MAX)
		return -1;
	int64_t ms = (next - now + 999) / 1000;
	return ms > 60000 ? 60000 : (int)ms;
}

static void *run(void *arg)
{
	acceptor *a = arg;
	struct epoll_event events[MAX_EVENTS];
	for (;;) {
		int timeout = expire(a);
		int n = epoll_wait(a->epoll_fd, events, MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("http", "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			void *tag = events[i].data.ptr;
			if (tag == &a->stop_fd)
				return NULL;
			if (tag == &a->listen_fd) {
				accept_all(a);
				continue;
			}
			pending *p = tag;
			if (p->closing)
				drain(a, p);
			else
				examine(a, p, events[i].events);
		}
	}
	return NULL;
}

/* ---- start / stop ------------------------------------------------------------ */

static void close_all(plist *l)
{
	while (l->head != NULL) {
		pending *p = l->head;
		list_unlink(l, p);
		close(p->fd);
		free(p);
	}
}

acceptor *acceptor_start(int listen_fd, const acceptor_config *cfg, char *err, size_t errlen)
{
	acceptor *a = xcalloc(1, sizeof(*a));
	a->cfg = *cfg;
	a->listen_fd = listen_fd;
	a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	a->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = &a->listen_fd };
	struct epoll_event sev = { .events = EPOLLIN, .data.ptr = &a->stop_fd };
	if (a->epoll_fd < 0 || a->stop_fd < 0 || epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, listen_fd, &lev) != 0 ||
	    epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, a->stop_fd, &sev) != 0) {
		snprintf(err, errlen, "cannot set up the HTTP acceptor: %s", strerror(errno));
		goto fail;
	}
	metrics_define_labeled("http_connections_dropped_total", METRIC_COUNTER,
	               "Connections closed before their first request: header_timeout, malformed, evicted");
	int rc = pthread_create(&a->thread, NULL, run, a);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the HTTP acceptor: %s", strerror(rc));
		goto fail;
	}
	return a;

fail:
	if (a->epoll_fd >= 0)
		close(a->epoll_fd);
	if (a->stop_fd >= 0)
		close(a->stop_fd);
	close(listen_fd);
	free(a);
	return NULL;
}

void acceptor_stop(acceptor *a)
{
	if (a == NULL)
		return;
	uint64_t one = 1;
	if (write(a->stop_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		log_error("http", "cannot stop the HTTP acceptor: %s", strerror(errno));
	pthread_join(a->thread, NULL);
	close_all(&a->waiting);
	close_all(&a->closing);
	close(a->listen_fd);
	close(a->epoll_fd);
	close(a->stop_fd);
	free(a);
}
