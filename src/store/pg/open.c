/*
 * open.c — opening and closing a PostgreSQL store: the writer connects
 * (its failure is the opening's), the schema is migrated, the writer's
 * session is set up and the listener starts. Readers connect on first
 * need. Messages never show the URL's password.
 */
#include "util/common.h"

#include "store/pg/pg.h"
#include "util/alloc.h"
#include "util/log.h"

#define MIN_SERVER_VERSION 100000      /* identity columns, txid_status(): PostgreSQL 10 */

/* The URL with its password (user:PASSWORD@ or password=...) masked. */
static char *mask_url(const char *url)
{
	buf b;
	buf_init(&b);
	const char *p = url;
	const char *scheme = strstr(url, "://");
	if (scheme != NULL) {
		const char *auth = scheme + 3;
		size_t host_end = strcspn(auth, "/?");
		const char *at = memchr(auth, '@', host_end);
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon != NULL) {
			buf_append(&b, url, (size_t)(colon + 1 - url));
			buf_puts(&b, "***");
			p = at;
		}
	}
	/* A password given as a query parameter. */
	const char *q;
	while ((q = strstr(p, "password=")) != NULL) {
		size_t skip = (size_t)(q - p) + strlen("password=");
		buf_append(&b, p, skip);
		p += skip;
		if (q > url && (q[-1] == '?' || q[-1] == '&')) {
			buf_puts(&b, "***");
			p += strcspn(p, "&");
		}
	}
	buf_puts(&b, p);
	return buf_detach(&b, NULL);
}

void pg_store_close(store *base)
{
	pg_store *s = pgs(base);
	pg_listener_stop(s);
	db_store_release(&s->base);
	pthread_mutex_destroy(&s->lis.mu);
	free(s->url);
	free(s->url_shown);
	free(s);
}

store *pg_store_open(const char *url, const store_options *opt, char *err, size_t errlen)
{
	pg_store *s = xcalloc(1, sizeof *s);
	db_store_init(&s->base, &pg_driver, opt);
	s->url = xstrdup(url);
	s->url_shown = mask_url(url);
	s->lis.stop_pipe[0] = s->lis.stop_pipe[1] = -1;
	atomic_init(&s->lis.leader, false);
	pthread_mutex_init(&s->lis.mu, NULL);
	if (opt != NULL && opt->node_id != NULL && opt->node_id[0] != '\0') {
		snprintf(s->node_id, sizeof s->node_id, "%s", opt->node_id);
	} else {
		weft_id id;
		id_new_v4(&id);
		snprintf(s->node_id, sizeof s->node_id, "%s", id.str);
	}

	pg_conn *w = pg_conn_new(s, DB_WRITER);
	s->base.writer = &w->base;
	if (w->broken) {
		const char *m = w->pq ? PQerrorMessage(w->pq) : "out of memory";
		snprintf(err, errlen, "cannot connect to PostgreSQL at \"%s\": %.*s", s->url_shown, pg_msg_len(m), m);
		goto fail;
	}
	int version = PQserverVersion(w->pq);
	if (version < MIN_SERVER_VERSION) {
		snprintf(err, errlen, "database \"%s\": PostgreSQL %d.%d is too old (10 or later is needed)",
		         s->url_shown, version / 10000, version % 10000 / 100);
		goto fail;
	}
	if (db_migrate(&w->base, s->url_shown, err, errlen) != 0)
		goto fail;
	if (pg_writer_session_init(w) != 0) {
		snprintf(err, errlen, "database \"%s\": cannot set the writer's session up", s->url_shown);
		goto fail;
	}
	if (pg_listener_start(s, err, errlen) != 0)
		goto fail;
	return &s->base;
fail:
	pg_store_close(&s->base);
	return NULL;
}
