/*
 * test_store_pg.c — what only the PostgreSQL driver does: a transaction's
 * inserts sent as one COPY per table, SKIP LOCKED between two nodes,
 * advisory locks (rules, leadership), the wake-up bits between nodes,
 * reconnection after the server ended
 * the sessions, and the outcome of a COMMIT whose answer was lost.
 *
 * For the last, a TCP proxy between the store and the server forwards
 * everything but can drop both connections when the store sends COMMIT:
 * after forwarding it (the server commits, the store never hears so), or
 * before (nothing commits). Either way the commit is in doubt, and
 * store_commit_resolve learns which it was.
 */
#include "util/common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "store/pg/pg.h"
#include "util/buf.h"
#include "util/metrics.h"

#include "net_test.h"
#include "store_test.h"

static int64_t count_of(fixture *f, const weft_id *id)
{
	return sql_intf(f, "SELECT count(*) FROM task WHERE id = '%s'", id->str);
}

/* ---- COPY --------------------------------------------------------------------------- */

static void test_copy(void **state)
{
	fixture *f = *state;
	const char *tasks = "query=\"task_insert\"", *links = "query=\"link_insert\"";
	int64_t tasks0 = metrics_get("db_query_duration_seconds", tasks);
	int64_t links0 = metrics_get("db_query_duration_seconds", links);
	task_row root = new_task("root", "k", TS_RUNNING, T0);
	assert_int_equal(store_begin(f->w), 0);
	insert(f, &root);
	for (int i = 0; i < 100; i++) {
		task_row t = new_task("child", "k", TS_WAITING, T0 + 1 + i);
		t.metadata = (char *)"{\"tab\":\"\\t\",\"nl\":\"\\n\",\"bs\":\"\\\\\"}";
		t.failure_reason = i % 2 ? (char *)"with\ttab\nand\\backslash" : NULL;
		insert(f, &t);
		add_link(f, &root, &t, true);
	}
	assert_int_equal(store_commit(f->w), 0);
	/* One COPY per table, every row there, text kept byte for byte. */
	assert_int_equal(metrics_get("db_query_duration_seconds", tasks), tasks0 + 1);
	assert_int_equal(metrics_get("db_query_duration_seconds", links), links0 + 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task"), 101);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM link"), 100);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE metadata = "
	                            "'{\"tab\":\"\\t\",\"nl\":\"\\n\",\"bs\":\"\\\\\"}'"), 100);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM task WHERE failure_reason = "
	                            "E'with\\ttab\\nand\\\\backslash'"), 50);

	/* A row that fails fails the transaction: nothing of it commits. */
	task_row x = new_task("x", "k", TS_PENDING, T0);
	assert_int_equal(store_begin(f->w), 0);
	insert(f, &x);
	assert_int_equal(store_task_insert(f->w, &root), 0);   /* collected: fails when sent */
	assert_true(store_commit(f->w) < 0);
	assert_int_equal(count_of(f, &x.id), 0);
	assert_int_equal(store_begin(f->w), 0);
	insert(f, &x);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(count_of(f, &x.id), 1);
}

/* ---- two nodes ------------------------------------------------------------------------ */

static void test_skip_locked(void **state)
{
	fixture *f = *state;
	store *other = open_store(f->url, NULL);
	store_conn *w2 = store_writer(other);
	task_row rows[4];
	for (int i = 0; i < 4; i++) {
		rows[i] = new_task("p", "k", TS_PENDING, T0 + i);
		insert(f, &rows[i]);
	}
	task_row *a, *b;
	size_t na, nb;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_pending_scan(f->w, NULL, 2, T0, &a, &na, NULL), 0);
	assert_int_equal(na, 2);
	/* The other node passes over the rows the first one holds, without waiting. */
	assert_int_equal(store_begin(w2), 0);
	assert_int_equal(store_pending_scan(w2, NULL, 10, T0, &b, &nb, NULL), 0);
	assert_int_equal(nb, 2);
	for (size_t i = 0; i < nb; i++)
		for (size_t k = 0; k < na; k++)
			assert_false(id_eq(&b[i].id, &a[k].id));
	store_free_tasks(a, na);
	store_free_tasks(b, nb);

	/* Outbox leases likewise: each due row goes to one node. */
	outbox_row o1 = delivery("o1", DELIVERY_END_SUCCESS, &rows[0], 1, T0);
	outbox_row o2 = delivery("o2", DELIVERY_END_SUCCESS, &rows[1], 1, T0 + 1);
	assert_int_equal(store_outbox_insert(f->w, &o1), 0);
	assert_int_equal(store_outbox_insert(f->w, &o2), 0);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(store_commit(w2), 0);
	outbox_row *la, *lb;
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_outbox_lease(f->w, T0 + 10, T0 + 100, 1, NULL, 0, &la, &na, NULL), 0);
	assert_int_equal(store_begin(w2), 0);
	assert_int_equal(store_outbox_lease(w2, T0 + 10, T0 + 100, 10, NULL, 0, &lb, &nb, NULL), 0);
	assert_int_equal(na, 1);
	assert_int_equal(nb, 1);
	assert_int_equal(la[0].id, o1.id);
	assert_int_equal(lb[0].id, o2.id);
	store_free_outbox(la, na);
	store_free_outbox(lb, nb);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(store_commit(w2), 0);
	store_close(other);
}

static bool wait_leader(store *s, bool want, int ms)
{
	for (int t = 0; t < ms; t += 20) {
		if (store_is_leader(s) == want)
			return true;
		sleep_ms(20);
	}
	return store_is_leader(s) == want;
}

static void test_advisory_locks(void **state)
{
	fixture *f = *state;
	/* Each store's listener thread tries for the leader lock on its own
	 * time: the fixture's store takes it before a second one competes. */
	assert_true(wait_leader(f->st, true, 3000));
	store *other = open_store(f->url, NULL);
	store_conn *w2 = store_writer(other);
	bool got;
	/* Rule locks: held until the transaction ends. */
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_rules_lock(f->w, "k", &got), 0);
	assert_true(got);
	assert_int_equal(store_begin(w2), 0);
	assert_int_equal(store_rules_lock(w2, "k", &got), 0);
	assert_false(got);
	assert_int_equal(store_rules_lock(w2, "other kind", &got), 0);
	assert_true(got);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(store_rules_lock(w2, "k", &got), 0);
	assert_true(got);
	assert_int_equal(store_commit(w2), 0);

	/* One leader; when it goes, the other takes over. */
	assert_true(store_is_leader(f->st));
	assert_false(store_is_leader(other));
	store_close(f->st);
	f->st = NULL;
	assert_true(wait_leader(other, true, 3000));
	store_close(other);
}

/* ---- wake-ups between nodes ------------------------------------------------------------- */

typedef struct heard {
	pthread_mutex_t mu;
	unsigned bits;
} heard;

static void on_wake(void *arg, unsigned what)
{
	heard *h = arg;
	pthread_mutex_lock(&h->mu);
	h->bits |= what & ~STORE_WAKE_LEADER;
	pthread_mutex_unlock(&h->mu);
}

static unsigned wait_heard(heard *h, int ms)
{
	unsigned bits = 0;
	for (int t = 0; t <= ms && bits == 0; t += 10) {
		pthread_mutex_lock(&h->mu);
		bits = h->bits;
		h->bits = 0;
		pthread_mutex_unlock(&h->mu);
		if (bits == 0)
			sleep_ms(10);
	}
	return bits;
}

/* A node hears what another node's commit may give it to do, never its
 * own notifications, and nothing of a rollback. */
static void notify_committed(store_conn *w, unsigned bits)
{
	assert_int_equal(store_begin(w), 0);
	assert_int_equal(store_notify(w, bits), 0);
	assert_int_equal(store_commit(w), 0);
}

static void test_wake_bits(void **state)
{
	fixture *f = *state;
	store *other = open_store(f->url, NULL);
	heard mine = { PTHREAD_MUTEX_INITIALIZER, 0 }, theirs = { PTHREAD_MUTEX_INITIALIZER, 0 };
	store_set_wakeup(f->st, on_wake, &mine);
	store_set_wakeup(other, on_wake, &theirs);
	/* Each listener connects on its own thread: notify until it hears. */
	unsigned got = 0;
	for (int i = 0; i < 50 && got == 0; i++) {
		notify_committed(f->w, STORE_WAKE_OUTBOX | STORE_WAKE_FREED);
		got = wait_heard(&theirs, 100);
	}
	assert_int_equal(got, STORE_WAKE_OUTBOX | STORE_WAKE_FREED);
	got = 0;
	for (int i = 0; i < 50 && got == 0; i++) {
		notify_committed(store_writer(other), STORE_WAKE_STARTS);
		got = wait_heard(&mine, 100);
	}
	assert_int_equal(got, STORE_WAKE_STARTS);
	sleep_ms(100);
	wait_heard(&mine, 0);
	wait_heard(&theirs, 0);

	/* A rollback sends nothing; a node does not hear its own commits. */
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_notify(f->w, STORE_WAKE_STARTS), 0);
	assert_int_equal(store_rollback(f->w), 0);
	notify_committed(f->w, STORE_WAKE_DEADLINES);
	assert_int_equal(wait_heard(&theirs, 3000), STORE_WAKE_DEADLINES);
	assert_int_equal(wait_heard(&mine, 300), 0);

	/* A payload without bits (or unreadable) wakes every part. */
	PGresult *r = PQexec(f->pq, "SELECT pg_notify('" PG_WAKE_CHANNEL "', 'an-older-node')");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	assert_int_equal(wait_heard(&theirs, 3000), STORE_WAKE_WORK);
	r = PQexec(f->pq, "SELECT pg_notify('" PG_WAKE_CHANNEL "', 'a-node/zz')");
	PQclear(r);
	assert_int_equal(wait_heard(&theirs, 3000), STORE_WAKE_WORK);

	store_set_wakeup(f->st, NULL, NULL);
	store_set_wakeup(other, NULL, NULL);
	store_close(other);
}

/* ---- reconnection ----------------------------------------------------------------------- */

/* Ends every session of the store under test (not the test's own). */
static void kill_sessions(fixture *f)
{
	PGresult *r = PQexec(f->pq, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	                            "WHERE datname = current_database() AND pid <> pg_backend_pid()");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	sleep_ms(50);
}

static void test_reconnect(void **state)
{
	fixture *f = *state;
	task_row t = new_task("t", "k", TS_PENDING, T0), g;
	insert(f, &t);
	store_conn *r = store_reader_acquire(f->st);
	assert_int_equal(store_task_get(r, &t.id, &g), 0);
	task_row_release(&g);
	store_reader_release(f->st, r);
	kill_sessions(f);

	/* An idle reader asks again on a new session; the writer's next
	 * transaction starts on one. */
	r = store_reader_acquire(f->st);
	assert_int_equal(store_task_get(r, &t.id, &g), 0);
	task_row_release(&g);
	store_reader_release(f->st, r);
	task_row u = new_task("u", "k", TS_PENDING, T0);
	assert_int_equal(store_begin(f->w), 0);
	insert(f, &u);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(count_of(f, &u.id), 1);

	/* Lost inside a transaction: unavailable until the next BEGIN. */
	assert_int_equal(store_begin(f->w), 0);
	kill_sessions(f);
	assert_int_equal(store_task_get(f->w, &t.id, &g), WEFT_EUNAVAILABLE);
	assert_int_equal(store_ping(f->w), 0);
	assert_int_equal(store_begin(f->w), 0);
	assert_int_equal(store_task_get(f->w, &t.id, &g), 0);
	task_row_release(&g);
	assert_int_equal(store_commit(f->w), 0);
}

/* ---- a COMMIT whose answer is lost --------------------------------------------------------- */

enum { PASS, DROP_AFTER_COMMIT, DROP_BEFORE_COMMIT };
#define MAX_PAIRS 16

typedef struct pair {
	int client, server;      /* -1: closed */
	bool started;            /* the startup message went through */
	bool drop_at_sync;       /* COMMIT went out in a pipeline: drop once its Sync has */
	buf pending;             /* client bytes not forwarded yet (incomplete message) */
} pair;

typedef struct proxy {
	int listen_fd, port;
	struct sockaddr_in upstream;
	pthread_t thread;
	int stop[2];
	atomic_int mode;
	atomic_int dropped;
	pair pairs[MAX_PAIRS];
} proxy;

static void pair_close(pair *p)
{
	if (p->client >= 0)
		close(p->client);
	if (p->server >= 0)
		close(p->server);
	p->client = p->server = -1;
	buf_release(&p->pending);
}

static uint32_t be32(const char *p)
{
	return (uint32_t)(unsigned char)p[0] << 24 | (uint32_t)(unsigned char)p[1] << 16 |
	       (uint32_t)(unsigned char)p[2] << 8 | (uint32_t)(unsigned char)p[3];
}

/* Forwards the complete messages the client sent; "COMMIT", as a simple
 * query or parsed (unnamed) in a pipeline, is where the armed mode acts
 * (once): after it, the rest of its pipeline is forwarded before the drop.
 * False: the pair is gone. */
static bool forward_client(proxy *px, pair *p)
{
	size_t off = 0;
	while (true) {
		size_t have = p->pending.len - off, head = p->started ? 5 : 4;
		if (have < head)
			break;
		const char *m = p->pending.data + off;
		size_t len = p->started ? 1 + be32(m + 1) : be32(m);
		if (have < len)
			break;
		if (p->drop_at_sync && m[0] == 'S') {
			send_all(p->server, m, len);
			atomic_fetch_add(&px->dropped, 1);
			pair_close(p);
			return false;
		}
		int mode = atomic_load(&px->mode);
		bool simple = p->started && m[0] == 'Q' && len >= 11 && memcmp(m + 5, "COMMIT", 6) == 0;
		bool parsed = p->started && m[0] == 'P' && len >= 12 && memcmp(m + 5, "\0COMMIT", 7) == 0;
		if ((simple || parsed) && mode != PASS) {
			atomic_store(&px->mode, PASS);
			if (mode == DROP_AFTER_COMMIT && parsed) {
				p->drop_at_sync = true;     /* forwarded below, with the rest of the pipeline */
			} else {
				if (mode == DROP_AFTER_COMMIT)
					send_all(p->server, m, len);
				atomic_fetch_add(&px->dropped, 1);
				pair_close(p);
				return false;
			}
		}
		if (!send_all(p->server, m, len))
			return false;
		p->started = true;
		off += len;
	}
	memmove(p->pending.data, p->pending.data + off, p->pending.len - off);
	p->pending.len -= off;
	return true;
}

static void *proxy_main(void *arg)
{
	proxy *px = arg;
	char chunk[65536];
	for (;;) {
		struct pollfd fds[2 + 2 * MAX_PAIRS];
		int n = 0;
		fds[n++] = (struct pollfd){ .fd = px->stop[0], .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = px->listen_fd, .events = POLLIN };
		for (int i = 0; i < MAX_PAIRS; i++) {
			fds[n++] = (struct pollfd){ .fd = px->pairs[i].client, .events = POLLIN };
			fds[n++] = (struct pollfd){ .fd = px->pairs[i].server, .events = POLLIN };
		}
		if (poll(fds, (nfds_t)n, -1) < 0 || fds[0].revents)
			break;
		if (fds[1].revents) {
			int c = accept(px->listen_fd, NULL, NULL), s = socket(AF_INET, SOCK_STREAM, 0);
			pair *slot = NULL;
			for (int i = 0; i < MAX_PAIRS && slot == NULL; i++)
				if (px->pairs[i].client < 0)
					slot = &px->pairs[i];
			if (slot == NULL || connect(s, (struct sockaddr *)&px->upstream, sizeof px->upstream) != 0) {
				close(c);
				close(s);
			} else {
				*slot = (pair){ .client = c, .server = s };
				buf_init(&slot->pending);
			}
		}
		for (int i = 0; i < MAX_PAIRS; i++) {
			pair *p = &px->pairs[i];
			if (p->client >= 0 && fds[2 + 2 * i].revents) {
				ssize_t got = recv(p->client, chunk, sizeof chunk, 0);
				if (got <= 0) {
					pair_close(p);
					continue;
				}
				buf_append(&p->pending, chunk, (size_t)got);
				if (!forward_client(px, p))
					continue;
			}
			if (p->server >= 0 && fds[3 + 2 * i].revents) {
				ssize_t got = recv(p->server, chunk, sizeof chunk, 0);
				if (got <= 0 || !send_all(p->client, chunk, (size_t)got))
					pair_close(p);
			}
		}
	}
	for (int i = 0; i < MAX_PAIRS; i++)
		pair_close(&px->pairs[i]);
	return NULL;
}

/* Listens on a free port of 127.0.0.1, forwarding to the server of
 * WEFT_TEST_PG_URL ("postgres://user@host:port/..."). */
static void proxy_start(proxy *px)
{
	memset(px, 0, sizeof *px);
	for (int i = 0; i < MAX_PAIRS; i++)
		px->pairs[i].client = px->pairs[i].server = -1;
	const char *url = getenv("WEFT_TEST_PG_URL");
	const char *at = strchr(url, '@'), *colon = at ? strchr(at, ':') : NULL;
	assert_non_null(colon);
	char host[64];
	snprintf(host, sizeof host, "%.*s", (int)(colon - at - 1), at + 1);
	px->upstream.sin_family = AF_INET;
	px->upstream.sin_port = htons((uint16_t)atoi(colon + 1));
	assert_int_equal(inet_pton(AF_INET, host, &px->upstream.sin_addr), 1);
	px->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;
	assert_int_equal(bind(px->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(px->listen_fd, 16), 0);
	assert_int_equal(getsockname(px->listen_fd, (struct sockaddr *)&a, &alen), 0);
	px->port = ntohs(a.sin_port);
	assert_int_equal(pipe(px->stop), 0);
	assert_int_equal(pthread_create(&px->thread, NULL, proxy_main, px), 0);
}

static void proxy_stop(proxy *px)
{
	assert_int_equal(write(px->stop[1], "x", 1), 1);
	pthread_join(px->thread, NULL);
	close(px->stop[0]);
	close(px->stop[1]);
	close(px->listen_fd);
}

/* Attempts to learn the outcome of a commit in doubt until one answers
 * (the old session may still be ending the transaction). */
static int resolve(store_conn *w, bool *committed)
{
	int rc = WEFT_EUNAVAILABLE;
	for (int i = 0; i < 200 && rc == WEFT_EUNAVAILABLE; i++) {
		rc = store_commit_resolve(w, committed);
		if (rc == WEFT_EUNAVAILABLE)
			sleep_ms(10);
	}
	return rc;
}

static void test_commit_answer_lost(void **state)
{
	fixture *f = *state;
	proxy px;
	proxy_start(&px);
	/* sslmode=disable: the proxy reads the messages as they are. */
	char url[600];
	snprintf(url, sizeof url, "postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&gssencmode=disable", px.port,
	         f->dbname);
	store *s = open_store(url, NULL);
	store_conn *w = store_writer(s);

	bool committed = true;
	assert_int_equal(store_commit_resolve(w, &committed), WEFT_EINVALID);    /* nothing in doubt */
	assert_false(committed);

	/* The server commits; the answer never comes: in doubt, and resolved
	 * as a commit. */
	task_row a = new_task("a", "k", TS_PENDING, T0);
	assert_int_equal(store_begin(w), 0);
	assert_int_equal(store_task_insert(w, &a), 0);
	atomic_store(&px.mode, DROP_AFTER_COMMIT);
	assert_int_equal(store_commit(w), WEFT_EINDOUBT);
	assert_int_equal(store_rollback(w), 0);       /* what the engine does: nothing to undo */
	assert_int_equal(atomic_load(&px.dropped), 1);
	assert_int_equal(resolve(w, &committed), 0);
	assert_true(committed);
	assert_int_equal(count_of(f, &a.id), 1);
	assert_int_equal(store_commit_resolve(w, &committed), WEFT_EINVALID);    /* resolved once */

	/* COMMIT never reaches the server: in doubt too (the store cannot tell
	 * where the connection broke), resolved as not committed. */
	task_row b = new_task("b", "k", TS_PENDING, T0);
	assert_int_equal(store_begin(w), 0);
	assert_int_equal(store_task_insert(w, &b), 0);
	atomic_store(&px.mode, DROP_BEFORE_COMMIT);
	assert_int_equal(store_commit(w), WEFT_EINDOUBT);
	assert_int_equal(atomic_load(&px.dropped), 2);
	assert_int_equal(resolve(w, &committed), 0);
	assert_false(committed);
	assert_int_equal(count_of(f, &b.id), 0);

	/* A BEGIN forgets a doubt nobody asked about. */
	task_row c = new_task("c", "k", TS_PENDING, T0);
	assert_int_equal(store_begin(w), 0);
	assert_int_equal(store_task_insert(w, &c), 0);
	atomic_store(&px.mode, DROP_AFTER_COMMIT);
	assert_int_equal(store_commit(w), WEFT_EINDOUBT);
	assert_int_equal(store_begin(w), 0);
	assert_int_equal(store_rollback(w), 0);
	assert_int_equal(store_commit_resolve(w, &committed), WEFT_EINVALID);
	assert_int_equal(count_of(f, &c.id), 1);

	/* And the store goes on. */
	assert_int_equal(store_begin(w), 0);
	assert_int_equal(store_task_insert(w, &b), 0);
	assert_int_equal(store_commit(w), 0);
	assert_int_equal(count_of(f, &b.id), 1);
	store_close(s);
	proxy_stop(&px);
}

/* ---- the writer's session ---------------------------------------------------------------- */

/* The writer never plans parallel workers (pg_connect): launching them
 * took 18 ms for a look-up of a few index entries. */
static void test_writer_plans_no_parallel_workers(void **state)
{
	fixture *f = *state;
	static const db_sql q = { "test_setting",
		                  "SELECT CAST(current_setting('max_parallel_workers_per_gather') AS BIGINT)", NULL };
	db_stmt *st;
	int64_t workers = -1;
	bool found = false;
	assert_int_equal(db_prepare(f->w, &q, &st), 0);
	assert_int_equal(db_query_int(st, &workers, &found), 0);
	assert_true(found);
	assert_int_equal(workers, 0);
}

int main(void)
{
	const struct CMUnitTest pg_tests[] = {
		STORE_TEST_PG(test_copy),
		STORE_TEST_PG(test_skip_locked),
		STORE_TEST_PG(test_advisory_locks),
		STORE_TEST_PG(test_wake_bits),
		STORE_TEST_PG(test_reconnect),
		STORE_TEST_PG(test_commit_answer_lost),
		STORE_TEST_PG(test_writer_plans_no_parallel_workers),
	};
	return run_store_tests("store_pg", NULL, 0, pg_tests, ARRAY_LEN(pg_tests));
}
