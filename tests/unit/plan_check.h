/*
 * plan_check.h — checks the plans of a store connection's set statements
 * (test_store_plans.c): a statement that takes a set bound as one
 * parameter reaches task rows from the set by primary key, never by a
 * scan of task (nor a walk of its whole primary key) nor through another
 * of its indexes, unless the statement names that index. Needs store_test.h's fixture.
 */
#ifndef WEFT_TESTS_PLAN_CHECK_H
#define WEFT_TESTS_PLAN_CHECK_H

#include <ctype.h>

#include "store_test.h"

/* The names of task's indexes other than its primary key, separated by
 * spaces (owned). */
static inline char *task_indexes(fixture *f)
{
	if (f->pg) {
		PGresult *r = PQexec(f->pq, "SELECT string_agg(indexname, ' ') FROM pg_indexes "
		                            "WHERE tablename = 'task' AND indexname <> 'task_pkey'");
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
			fail_msg("pg_indexes: %s", PQerrorMessage(f->pq));
		char *s = strdup(PQgetvalue(r, 0, 0));
		PQclear(r);
		return s;
	}
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT group_concat(name, ' ') FROM sqlite_master WHERE type = 'index' "
	                                        "AND tbl_name = 'task' AND name NOT LIKE 'sqlite_%'", -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char *s = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return s;
}

static inline bool ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Whether word[0..len-1] occurs in text as a whole identifier. */
static inline bool has_word(const char *text, const char *word, size_t len)
{
	for (const char *p = text; (p = strchr(p, word[0])) != NULL; p++) {
		bool start = p == text || !ident_char(p[-1]);
		if (start && strncmp(p, word, len) == 0 && !ident_char(p[len]))
			return true;
	}
	return false;
}

typedef struct plan_check {
	fixture *f;
	const char *indexes;     /* task's other indexes */
	size_t checked;          /* set statements looked at */
	size_t bad;
} plan_check;

static inline bool is_set_statement(const char *sql)
{
	return strstr(sql, "json_each(") != NULL || strstr(sql, "json_to_recordset(") != NULL ||
	       strstr(sql, "json_array_elements_text(") != NULL;
}

/* A plan line that scans task whole: SQLite "SCAN task" or "SCAN <alias>"
 * (an alias given as "task AS <alias>"), PostgreSQL "Seq Scan on task". */
static inline bool scans_task(const char *sql, const char *line)
{
	while (*line == ' ' || *line == '-' || *line == '>')
		line++;
	if (strncmp(line, "Seq Scan on task", 16) == 0 && !ident_char(line[16]))
		return true;
	if (strncmp(line, "SCAN ", 5) != 0)
		return false;
	const char *name = line + 5;
	size_t len = strcspn(name, " \n");
	if (len == 4 && strncmp(name, "task", 4) == 0)
		return true;
	for (const char *p = sql; (p = strstr(p, "task AS ")) != NULL; p++) {
		if (p > sql && ident_char(p[-1]))
			continue;
		const char *alias = p + 8;
		if (strncmp(alias, name, len) == 0 && !ident_char(alias[len]))
			return true;
	}
	return false;
}

/* A PostgreSQL plan line that reads task's primary key without a
 * condition on it: every row of task in key order, as a scan would. Its
 * condition is on the lines of its node, before the next "->". */
static inline bool walks_task_key(const char *line, const char *rest)
{
	while (*line == ' ' || *line == '-' || *line == '>')
		line++;
	if (strncmp(line, "Index Scan using task_pkey on task", 34) != 0 &&
	    strncmp(line, "Index Only Scan using task_pkey on task", 39) != 0)
		return false;
	for (const char *l = rest; *l != '\0';) {
		size_t n = strcspn(l, "\n");
		const char *arrow = strstr(l, "->"), *cond = strstr(l, "Index Cond:");
		if (arrow != NULL && arrow < l + n)
			return true;
		if (cond != NULL && cond < l + n)
			return false;
		l += n + (l[n] == '\n');
	}
	return true;
}

static inline int check_plan(const char *name, const char *sql, const char *plan, void *arg)
{
	plan_check *pc = arg;
	if (!is_set_statement(sql))
		return 0;
	pc->checked++;
	const char *line = plan;
	while (*line != '\0') {
		size_t n = strcspn(line, "\n");
		char *l = strndup(line, n);
		bool bad = scans_task(sql, l) || walks_task_key(l, line + n + (line[n] == '\n'));
		/* An index of task other than its key, unless the statement names it. */
		for (const char *ix = pc->indexes; *ix != '\0' && !bad;) {
			size_t len = strcspn(ix, " ");
			if (has_word(l, ix, len) && !has_word(sql, ix, len))
				bad = true;
			ix += len + (ix[len] == ' ');
		}
		if (bad) {
			print_error("%s [%s]: the set does not drive the plan: %s\n  %s\n  plan:\n%s\n", name,
			            pc->f->pg ? "postgres" : "sqlite", l, sql, plan);
			pc->bad++;
		}
		free(l);
		line += n + (line[n] == '\n');
	}
	return 0;
}

/* Checks every statement prepared on the fixture's writer so far; the
 * number of bad plans (each printed). */
static inline size_t check_writer_plans(fixture *f, size_t *checked)
{
	char *indexes = task_indexes(f);
	plan_check pc = { .f = f, .indexes = indexes };
	assert_int_equal(db_explain_prepared(f->w, check_plan, &pc), 0);
	free(indexes);
	if (checked != NULL)
		*checked = pc.checked;
	return pc.bad;
}

#endif
