/*
 * listener.c — the PostgreSQL driver's listener thread: on a connection of
 * its own it LISTENs for other nodes' wake-ups (a cycle that changed
 * anything notifies before its commit; PostgreSQL delivers at commit) and
 * holds the leader lock, a session advisory lock, so that when the leader
 * dies (its connection closes and PostgreSQL releases the lock) another
 * node takes over within about a second.
 *
 * The thread never blocks where it cannot be stopped: connecting, every
 * statement and every wait poll its socket together with a stop pipe.
 * After it reconnects it wakes the engine once, since notifications may
 * have been missed meanwhile.
 */
#include "util/common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "store/pg/pg.h"
#include "util/log.h"

#define SUBSYS PG_SUBSYS
#define LISTEN_POLL_MS 500
#define LEADER_TRY_MS 1000
#define RECONNECT_MIN_MS 250
#define RECONNECT_MAX_MS 2000
/* A listener statement (LISTEN, the leader lock) answers at once; one that
 * does not within this long is on a connection that is gone. */
#define LISTENER_QUERY_MS 10000

/* The callback runs under the lock, so that once pg_set_wakeup(NULL) has
 * returned no call is under way and its target may be freed. (The engine's
 * callback only signals a condition variable.) */
static void lis_wake(pg_listener *l, unsigned what)
{
	pthread_mutex_lock(&l->mu);
	if (l->wake != NULL)
		l->wake(l->arg, what);
	pthread_mutex_unlock(&l->mu);
}

static void lis_drop(pg_listener *l)
{
	if (l->pq != NULL)
		PQfinish(l->pq);
	l->pq = NULL;
	if (atomic_exchange(&l->leader, false)) {
		log_warn(SUBSYS, "lost the leader lock with the listener's connection");
		lis_wake(l, STORE_WAKE_LEADER);
	}
}

/* Waits up to ms for fd (events) or the stop pipe. Returns 1 when fd is
 * ready, 0 on timeout, -1 when asked to stop. */
static int lis_wait(pg_listener *l, int fd, short events, int ms)
{
	struct pollfd p[2] = { { .fd = l->stop_pipe[0], .events = POLLIN },
		               { .fd = fd, .events = events } };
	int rc = poll(p, fd >= 0 ? 2 : 1, ms < 0 ? 0 : ms);
	if (rc < 0) {
		/* Not a reason to stop listening; not a reason to spin either. */
		if (errno != EINTR) {
			log_warn(SUBSYS, "listener: poll: %s", strerror(errno));
			struct timespec pause = { 0, 100 * 1000000 };
			nanosleep(&pause, NULL);
		}
		return 0;
	}
	if (p[0].revents)
		return -1;
	return rc > 0 && fd >= 0 && p[1].revents ? 1 : 0;
}

/* Connects without blocking the stop pipe (PQconnectPoll does not enforce
 * connect_timeout: this does). 0, -1 on failure, -2 when asked to stop. */
static int lis_connect(pg_listener *l, pg_store *s)
{
	PGconn *pq = pg_connect(s, DB_WRITER, true);
	if (pq == NULL || PQstatus(pq) == CONNECTION_BAD)
		goto fail;
	int64_t deadline = pg_mono_ms() + PG_CONNECT_TIMEOUT_S * 1000;
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	while (ps != PGRES_POLLING_OK) {
		if (ps == PGRES_POLLING_FAILED)
			goto fail;
		int64_t left = deadline - pg_mono_ms();
		if (left <= 0)
			goto fail;
		int w = lis_wait(l, PQsocket(pq), ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, (int)left);
		if (w < 0) {
			PQfinish(pq);
			return -2;
		}
		ps = PQconnectPoll(pq);
	}
	l->pq = pq;
	return 0;
fail:
	log_debug(SUBSYS, "listener: cannot connect: %s", pq ? PQerrorMessage(pq) : "out of memory");
	if (pq != NULL)
		PQfinish(pq);
	return -1;
}

/* Runs one statement on the listener's connection without blocking the
 * stop pipe. Returns the result (PQclear it) or NULL, the connection then
 * being unusable (or the thread asked to stop: *stop). */
static PGresult *lis_exec(pg_listener *l, const char *sql, bool *stop)
{
	if (!PQsendQuery(l->pq, sql))
		return NULL;
	int64_t deadline = pg_mono_ms() + LISTENER_QUERY_MS;
	while (PQisBusy(l->pq)) {
		int64_t left = deadline - pg_mono_ms();
		if (left <= 0)
			return NULL;
		int w = lis_wait(l, PQsocket(l->pq), POLLIN, (int)left);
		if (w < 0) {
			*stop = true;
			return NULL;
		}
		if (w > 0 && !PQconsumeInput(l->pq))
			return NULL;
	}
	PGresult *r = NULL, *next;
	while ((next = PQgetResult(l->pq)) != NULL) {
		PQclear(r);
		r = next;
	}
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		log_warn(SUBSYS, "listener: %s: %s", sql, r ? PQresultErrorMessage(r) : PQerrorMessage(l->pq));
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Tries to take the leader lock; false when the connection failed. */
static bool lis_try_lead(pg_listener *l, bool *stop)
{
	PGresult *r = lis_exec(l, "SELECT pg_try_advisory_lock(" PG_LEADER_LOCK ")", stop);
	if (r == NULL)
		return false;
	bool got = PQntuples(r) == 1 && (PQgetvalue(r, 0, 0)[0] == 't');
	PQclear(r);
	if (got) {
		atomic_store(&l->leader, true);
		log_info(SUBSYS, "took the leader lock");
		lis_wake(l, STORE_WAKE_LEADER);
	}
	return true;
}

static void *listener_main(void *arg)
{
	pg_store *s = arg;
	pg_listener *l = &s->lis;
	int backoff = RECONNECT_MIN_MS;
	bool first = true, stop = false;
	int64_t next_try = 0;
	while (!stop) {
		if (l->pq == NULL) {
			int rc = lis_connect(l, s);
			if (rc == -2)
				break;
			PGresult *r = NULL;
			if (rc == 0 && (r = lis_exec(l, "LISTEN " PG_WAKE_CHANNEL, &stop)) != NULL) {
				PQclear(r);
				log_info(SUBSYS, "listening for other nodes' changes as node %s", s->node_id);
				backoff = RECONNECT_MIN_MS;
				next_try = 0;
				/* Changes committed while it was away went unheard. */
				if (!first)
					lis_wake(l, STORE_WAKE_WORK);
				first = false;
			} else {
				lis_drop(l);
				if (stop || lis_wait(l, -1, 0, backoff) < 0)
					break;
				backoff = MIN(backoff * 2, RECONNECT_MAX_MS);
				continue;
			}
		}
		int64_t now = pg_mono_ms();
		if (!atomic_load(&l->leader) && now >= next_try) {
			next_try = now + LEADER_TRY_MS;
			if (!lis_try_lead(l, &stop)) {
				lis_drop(l);
				continue;
			}
		}
		int timeout = LISTEN_POLL_MS;
		if (!atomic_load(&l->leader))
			timeout = (int)MAX(0, MIN((int64_t)timeout, next_try - pg_mono_ms()));
		int w = lis_wait(l, PQsocket(l->pq), POLLIN, timeout);
		if (w < 0)
			break;
		if (w > 0 && !PQconsumeInput(l->pq)) {
			log_warn(SUBSYS, "listener: connection lost: %.*s", pg_msg_len(PQerrorMessage(l->pq)),
			         PQerrorMessage(l->pq));
			lis_drop(l);
			continue;
		}
		unsigned work = 0;
		PGnotify *n;
		while ((n = PQnotifies(l->pq)) != NULL) {
			work |= pg_wake_parse(n->extra, s->node_id);
			PQfreemem(n);
		}
		if (work != 0)
			lis_wake(l, work);
	}
	return NULL;
}

int pg_listener_start(pg_store *s, char *err, size_t errlen)
{
	pg_listener *l = &s->lis;
	if (pipe2(l->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "cannot create the listener's pipe: %s", strerror(errno));
		l->stop_pipe[0] = l->stop_pipe[1] = -1;
		return -1;
	}
	if (pthread_create(&l->thread, NULL, listener_main, s) != 0) {
		snprintf(err, errlen, "cannot start the listener thread");
		return -1;
	}
	pthread_setname_np(l->thread, "weft-listen");
	l->started = true;
	return 0;
}

void pg_listener_stop(pg_store *s)
{
	pg_listener *l = &s->lis;
	if (l->started) {
		ssize_t w;
		do
			w = write(l->stop_pipe[1], "x", 1);
		while (w < 0 && errno == EINTR);
		pthread_join(l->thread, NULL);
		l->started = false;
	}
	/* Closing the session releases the leader lock at once. */
	if (l->pq != NULL)
		PQfinish(l->pq);
	l->pq = NULL;
	atomic_store(&l->leader, false);
	for (int i = 0; i < 2; i++)
		if (l->stop_pipe[i] >= 0)
			close(l->stop_pipe[i]);
	l->stop_pipe[0] = l->stop_pipe[1] = -1;
}

void pg_set_wakeup(store *base, void (*wake)(void *arg, unsigned what), void *arg)
{
	pg_listener *l = &pgs(base)->lis;
	pthread_mutex_lock(&l->mu);
	l->wake = wake;
	l->arg = arg;
	pthread_mutex_unlock(&l->mu);
}

bool pg_is_leader(store *base) { return atomic_load(&pgs(base)->lis.leader); }
