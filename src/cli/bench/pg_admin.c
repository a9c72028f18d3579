/*
 * pg_admin.c — creating, checking and dropping a bench run's PostgreSQL
 * database (see pg_admin.h), through libpq.
 */
#include "cli/bench/pg_admin.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/url.h"

#include <libpq-fe.h>
#include <strings.h>

#define PG_CONNECT_TIMEOUT "10"   /* seconds, unless the URL sets connect_timeout */

const char *pg_admin_url_rest(const char *url)
{
	static const char *const schemes[] = { "postgres://", "postgresql://" };
	for (size_t i = 0; i < ARRAY_LEN(schemes); i++) {
		size_t n = strlen(schemes[i]);
		if (strncasecmp(url, schemes[i], n) == 0)
			return url + n;
	}
	return NULL;
}

/* libpq reads scheme://[userinfo@]hosts[/dbname][?params]: the userinfo
 * ends at the first '@' met before any '/', the host list at the next '/'
 * or '?'. */
char *pg_admin_url_with_db(const char *url, const char *db)
{
	const char *rest = pg_admin_url_rest(url);
	if (!rest)
		return NULL;
	const char *p = rest;
	while (*p && *p != '@' && *p != '/')
		p++;
	const char *hosts = *p == '@' ? p + 1 : rest;
	const char *end = hosts + strcspn(hosts, "/?");
	const char *query = strchr(end, '?');
	buf out;
	buf_init(&out);
	buf_append(&out, url, (size_t)(end - url));
	buf_printf(&out, "/%s", db);
	if (query) {
		char sep = '?';
		const char *q = query + 1;
		while (*q) {
			size_t len = strcspn(q, "&");
			if (len > 0 && !(len >= 7 && strncmp(q, "dbname=", 7) == 0)) {
				buf_putc(&out, sep);
				buf_append(&out, q, len);
				sep = '&';
			}
			q += len;
			if (*q == '&')
				q++;
		}
	}
	return buf_detach(&out, NULL);
}

/* libpq's messages end with a newline: the length without it. */
static int msg_len(const char *msg)
{
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	return (int)n;
}

/* A connection to url, or NULL with the reason logged. The URL's own
 * connect_timeout, if any, wins over the default one (libpq takes the last
 * value given for a keyword). */
static PGconn *connect_to(const char *url, const char *what)
{
	static const char *const keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *const vals[] = { PG_CONNECT_TIMEOUT, "weft bench", url, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (!c) {
		log_error("bench", "%s: out of memory in libpq", what);
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		const char *m = PQerrorMessage(c);
		char *shown = url_mask_password(url);
		log_error("bench", "%s: cannot connect to %s: %.*s", what, shown, msg_len(m), m);
		free(shown);
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Runs one command that returns no rows; -1 with PostgreSQL's message logged. */
static int command(PGconn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c, sql);
	int rc = 0;
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *m = PQerrorMessage(c);
		log_error("bench", "%s: %.*s", what, msg_len(m), m);
		rc = -1;
	}
	PQclear(r);
	return rc;
}

/* The single value of a one-row query (owned), or NULL. */
static char *query_value(PGconn *c, const char *sql, const char *param)
{
	const char *params[] = { param };
	PGresult *r = PQexecParams(c, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
	char *v = NULL;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

int pg_admin_create_db(const char *admin_url, const char *name)
{
	PGconn *c = connect_to(admin_url, "--db");
	if (!c)
		return -1;
	char sql[128];
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", name);
	int rc = command(c, sql, "CREATE DATABASE");
	PQfinish(c);
	return rc;
}

int pg_admin_check_db(const char *url, const char *name, const char *const *settings, char **values, size_t n)
{
	PGconn *c = connect_to(url, "the new database");
	if (!c)
		return -1;
	char *dbname = query_value(c, "SELECT current_database()", NULL);
	if (!dbname || strcmp(dbname, name) != 0) {
		log_error("bench", "the URL given to the nodes reaches database '%s', not '%s'", dbname ? dbname : "?",
		          name);
		free(dbname);
		PQfinish(c);
		return -1;
	}
	free(dbname);
	for (size_t i = 0; i < n; i++) {
		values[i] = query_value(c, "SELECT current_setting($1)", settings[i]);
		if (!values[i])
			values[i] = xstrdup("?");
	}
	PQfinish(c);
	return 0;
}

int64_t pg_admin_db_size(const char *url)
{
	PGconn *c = connect_to(url, "the database's size");
	if (!c)
		return -1;
	char *v = query_value(c, "SELECT pg_database_size(current_database())", NULL);
	int64_t size = v ? strtoll(v, NULL, 10) : -1;
	if (!v) {
		const char *m = PQerrorMessage(c);
		log_error("bench", "pg_database_size: %.*s", msg_len(m), m);
	}
	free(v);
	PQfinish(c);
	return size;
}

int pg_admin_vacuum_analyze(const char *url)
{
	PGconn *c = connect_to(url, "VACUUM ANALYZE");
	if (!c)
		return -1;
	int rc = command(c, "VACUUM ANALYZE", "VACUUM ANALYZE");
	PQfinish(c);
	return rc;
}

int64_t pg_admin_query_int(const char *url, const char *sql)
{
	PGconn *c = connect_to(url, "a check of the database");
	if (!c)
		return -1;
	char *v = query_value(c, sql, NULL);
	int64_t n = v ? strtoll(v, NULL, 10) : -1;
	if (!v) {
		const char *m = PQerrorMessage(c);
		log_error("bench", "%s: %.*s", sql, msg_len(m), m);
	}
	free(v);
	PQfinish(c);
	return n;
}

int pg_admin_drop_db(const char *admin_url, const char *name)
{
	PGconn *c = connect_to(admin_url, "dropping the database");
	if (!c)
		return -1;
	char sql[160];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\"%s", name,
	         PQserverVersion(c) >= 130000 ? " WITH (FORCE)" : "");
	int rc = command(c, sql, "DROP DATABASE");
	PQfinish(c);
	return rc;
}
