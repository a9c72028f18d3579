/*
 * db.c — the driver seam's shared half (db.h): the expansion of portable
 * SQL into a dialect, the per-connection statement cache, binding and
 * column helpers, sets bound as one JSON parameter, the rows several
 * operations read, statement timing, and the store's reader pool.
 */
#include "util/common.h"

#include <ctype.h>
#include <time.h>

#include "store/db.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"

#define SUBSYS "store"
#define DEFAULT_READERS 8
#define DEFAULT_SLOW_QUERY_US 100000
#define DEFAULT_CACHE_MB 32
/* Dynamic statements kept per connection; the least recently used one is
 * finalized when a new shape needs a slot. */
#define DYN_SLOTS 32
#define FRAG_ARGS 40   /* a {rows} fragment has one per column */

struct db_cache_entry {
	const void *key;          /* the db_sql or db_dyn; NULL: free slot */
	unsigned shape;
	uint64_t used;            /* LRU clock of dynamic entries */
	db_stmt *st;
};

int64_t db_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The raw monotonic clock, not clock.h's: a test moving the clock forward
 * must not turn a statement into a slow one. */
void db_observe(store_conn *c, const char *label, int64_t ns)
{
	metrics_observe("db_query_duration_seconds", label, (double)ns / 1e9);
	if (ns > c->st->slow_ns)
		metrics_inc("slow_queries_total", label, 1);
}

void *db_grow(void *arr, size_t len, size_t *cap, size_t elem)
{
	if (len < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 16;
	return xrealloc(arr, *cap * elem);
}

int64_t db_clamp_limit(size_t limit) { return limit > INT64_MAX ? INT64_MAX : (int64_t)limit; }

int db_run_changed(db_stmt *st, bool *changed)
{
	int64_t changes = 0;
	int err = db_run(st, &changes);
	*changed = err == 0 && changes > 0;
	return err;
}

int db_delete_before(store_conn *c, const db_sql *q, int64_t before, size_t limit, int64_t *deleted)
{
	db_stmt *st;
	int err = db_prepare(c, q, &st);
	if (err)
		return err;
	db_bind_int(st, before);
	db_bind_int(st, db_clamp_limit(limit));
	return db_run(st, deleted);
}

int db_expire_before(store_conn *c, const db_sql *q, int64_t before, size_t limit, int64_t *deleted)
{
	*deleted = 0;
	if (limit == 0)
		return 0;
	bool own;
	int err = db_write_begin(c, &own);
	if (err)
		return err;
	err = db_delete_before(c, q, before, limit, deleted);
	err = db_own_end(c, own, err);
	if (err)
		*deleted = 0;
	return err;
}

bool db_page_clamp(int64_t *offset, int64_t *limit)
{
	if (*offset < 0)
		*offset = 0;
	if (*limit > INT64_MAX - *offset)
		*limit = INT64_MAX - *offset;
	return *limit > 0;
}

/* ---- expansion of portable SQL ------------------------------------------------- */

/* The end of the quoted text starting at p (a ' or "), doubled quotes included. */
static const char *skip_quoted(const char *p)
{
	char q = *p++;
	while (*p != '\0') {
		if (*p == q) {
			if (p[1] != q)
				return p + 1;
			p++;
		}
		p++;
	}
	return p;
}

/* The end of a fragment's argument list starting at p (after the ':'):
 * the '}' closing the fragment, commas at depth 0 recorded in cuts. */
static const char *scan_args(const char *p, const char *cuts[FRAG_ARGS], int *ncuts)
{
	int depth = 0;
	*ncuts = 0;
	while (*p != '\0') {
		if (*p == '\'' || *p == '"') {
			p = skip_quoted(p);
			continue;
		}
		if (*p == '(' || *p == '{')
			depth++;
		else if ((*p == ')' || *p == '}') && depth > 0)
			depth--;
		else if (*p == '}')
			return p;
		else if (*p == ',' && depth == 0 && *ncuts == FRAG_ARGS)
			return NULL;    /* more arguments than a fragment takes */
		else if (*p == ',' && depth == 0)
			cuts[(*ncuts)++] = p;
		p++;
	}
	return NULL;
}

static const db_fragment *find_fragment(const db_dialect *d, const char *name, size_t len)
{
	for (size_t i = 0; i < d->nfrags; i++)
		if (strlen(d->frags[i].name) == len && memcmp(d->frags[i].name, name, len) == 0)
			return &d->frags[i];
	return NULL;
}

static int expand_range(const db_dialect *d, const char *p, const char *end, buf *out, int *nparams);

/* One fragment at p ('{'); *next is where the text goes on. */
static int expand_fragment(const db_dialect *d, const char *p, buf *out, int *nparams, const char **next)
{
	const char *name = p + 1;
	size_t nlen = strcspn(name, ":}");
	const char *cuts[FRAG_ARGS], *close;
	int ncuts = 0, nargs = 0;
	char *args[FRAG_ARGS + 1];
	int err = 0;
	if (name[nlen] == '}') {
		close = name + nlen;
	} else if (name[nlen] == ':') {
		const char *start = name + nlen + 1;
		close = scan_args(start, cuts, &ncuts);
		if (close == NULL)
			goto bad;
		for (int i = 0; i <= ncuts && !err; i++) {
			const char *a = i == 0 ? start : cuts[i - 1] + 1;
			const char *b = i == ncuts ? close : cuts[i];
			while (a < b && isspace((unsigned char)*a))
				a++;
			while (b > a && isspace((unsigned char)b[-1]))
				b--;
			buf arg;
			buf_init(&arg);
			err = expand_range(d, a, b, &arg, nparams);
			args[nargs++] = buf_detach(&arg, NULL);
		}
	} else {
		goto bad;
	}
	if (!err && nlen == 4 && memcmp(name, "rows", 4) == 0 && nargs >= 2) {
		d->rows(out, args[0], args + 1, nargs - 1);
	} else if (!err) {
		const db_fragment *f = find_fragment(d, name, nlen);
		if (f == NULL) {
			log_error(SUBSYS, "unknown SQL fragment {%.*s}", (int)nlen, name);
			err = WEFT_ESTORE;
		}
		for (const char *t = f ? f->tmpl : ""; *t != '\0' && !err; t++) {
			if (*t == '%' && t[1] >= '1' && t[1] <= '9') {
				int k = t[1] - '1';
				if (k >= nargs) {
					log_error(SUBSYS, "SQL fragment {%.*s} needs more arguments", (int)nlen, name);
					err = WEFT_ESTORE;
					break;
				}
				buf_puts(out, args[k]);
				t++;
			} else {
				buf_putc(out, *t);
			}
		}
	}
	for (int i = 0; i < nargs; i++)
		free(args[i]);
	*next = close + 1;
	return err;
bad:
	log_error(SUBSYS, "malformed SQL fragment at \"%.40s\"", p);
	return WEFT_ESTORE;
}

static int expand_range(const db_dialect *d, const char *p, const char *end, buf *out, int *nparams)
{
	while (p < end) {
		if (*p == '\'' || *p == '"') {
			const char *q = skip_quoted(p);
			buf_append(out, p, (size_t)(q - p));
			p = q;
		} else if (*p == '$' && isdigit((unsigned char)p[1])) {
			int n = 0;
			for (p++; p < end && isdigit((unsigned char)*p); p++)
				n = n * 10 + (*p - '0');
			buf_printf(out, "%c%d", d->param, n);
			*nparams = MAX(*nparams, n);
		} else if (*p == '{') {
			int err = expand_fragment(d, p, out, nparams, &p);
			if (err)
				return err;
		} else {
			buf_putc(out, *p++);
		}
	}
	return 0;
}

int db_expand(const db_dialect *d, const char *text, buf *out, int *nparams)
{
	*nparams = 0;
	return expand_range(d, text, text + strlen(text), out, nparams);
}

/* ---- the statement cache --------------------------------------------------------- */

static size_t key_hash(const void *key, size_t cap)
{
	uintptr_t k = (uintptr_t)key;
	k ^= k >> 17;
	k *= 0x9e3779b97f4a7c15u;
	return (size_t)(k >> 20) & (cap - 1);
}

/* The fixed statements live in an open-addressing table after DYN_SLOTS
 * slots for the dynamic ones. */
static db_cache_entry *fixed_slot(store_conn *c, const void *key)
{
	size_t cap = c->cache_cap - DYN_SLOTS;
	db_cache_entry *t = c->cache + DYN_SLOTS;
	for (size_t i = key_hash(key, cap);; i = (i + 1) & (cap - 1))
		if (t[i].key == key || t[i].key == NULL)
			return &t[i];
}

static void cache_grow(store_conn *c)
{
	size_t old_cap = c->cache_cap;
	db_cache_entry *old = c->cache;
	size_t fixed = old_cap ? (old_cap - DYN_SLOTS) * 2 : 128;
	c->cache_cap = DYN_SLOTS + fixed;
	c->cache = xcalloc(c->cache_cap, sizeof *c->cache);
	if (old != NULL) {
		memcpy(c->cache, old, DYN_SLOTS * sizeof *old);
		for (size_t i = DYN_SLOTS; i < old_cap; i++)
			if (old[i].key != NULL)
				*fixed_slot(c, old[i].key) = old[i];
	}
	free(old);
}

/* Labels are kept for the life of the process, one per statement name (a
 * fixed set): a statement sent without waiting is timed when its answer is
 * read, possibly after its cache entry was reused. */
typedef struct label_node {
	struct label_node *next;
	char label[];
} label_node;

static const char *label_of(const char *name)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static label_node *labels;
	size_t len = strlen(name);
	pthread_mutex_lock(&mu);
	label_node *l = labels;
	while (l != NULL && !(strncmp(l->label + 7, name, len) == 0 && strcmp(l->label + 7 + len, "\"") == 0))
		l = l->next;
	if (l == NULL) {
		l = xmalloc(sizeof *l + len + 9);
		snprintf(l->label, len + 9, "query=\"%s\"", name);
		l->next = labels;
		labels = l;
	}
	pthread_mutex_unlock(&mu);
	return l->label;
}

/* Expands and prepares one statement. */
static int prepare_new(store_conn *c, const char *name, const char *text, db_stmt **out)
{
	buf sql;
	buf_init(&sql);
	int nparams = 0;
	int err = db_expand(c->drv->dialect, text, &sql, &nparams);
	if (!err)
		err = c->drv->prepare(c, sql.data, nparams, out);
	if (err)
		log_error(SUBSYS, "cannot prepare statement %s: %s", name, sql.data);
	buf_release(&sql);
	return err;
}

static void start(db_stmt *st, db_stmt **out)
{
	st->nbound = 0;
	st->err = 0;
	st->changes = -1;
	st->t0 = db_mono_ns();
	*out = st;
}

int db_prepare(store_conn *c, const db_sql *def, db_stmt **out)
{
	*out = NULL;
	if ((c->cache_len + 1) * 2 > c->cache_cap - MIN(c->cache_cap, (size_t)DYN_SLOTS))
		cache_grow(c);
	db_cache_entry *e = fixed_slot(c, def);
	if (e->key == NULL) {
		db_stmt *st;
		int err = prepare_new(c, def->name, def->text, &st);
		if (err)
			return err;
		*e = (db_cache_entry){ .key = def, .st = st };
		st->c = c;
		st->def = def;
		st->label = label_of(def->name);
		c->cache_len++;
	}
	start(e->st, out);
	return 0;
}

int db_prepare_dyn(store_conn *c, const db_dyn *dyn, unsigned shape, db_stmt **out)
{
	*out = NULL;
	if (c->cache_cap == 0)
		cache_grow(c);
	db_cache_entry *victim = &c->cache[0];
	c->clock++;
	for (size_t i = 0; i < DYN_SLOTS; i++) {
		db_cache_entry *e = &c->cache[i];
		if (e->key == dyn && e->shape == shape) {
			e->used = c->clock;
			start(e->st, out);
			return 0;
		}
		if (e->key == NULL || (victim->key != NULL && e->used < victim->used))
			victim = e;
	}
	buf text;
	buf_init(&text);
	dyn->build(&text, shape);
	db_stmt *st;
	int err = prepare_new(c, dyn->name, text.data, &st);
	buf_release(&text);
	if (err)
		return err;
	if (victim->key != NULL)
		c->drv->finalize(victim->st);
	*victim = (db_cache_entry){ .key = dyn, .shape = shape, .used = c->clock, .st = st };
	st->c = c;
	st->def = NULL;
	st->label = label_of(dyn->name);
	start(st, out);
	return 0;
}

int db_explain_prepared(store_conn *c, int (*fn)(const char *name, const char *sql, const char *plan, void *arg),
                        void *arg)
{
	if (c->drv->explain == NULL)
		return WEFT_EINTERNAL;
	buf sql, plan, name;
	buf_init(&sql);
	buf_init(&plan);
	buf_init(&name);
	int err = 0;
	for (size_t i = 0; i < c->cache_cap && err == 0; i++) {
		db_stmt *st = c->cache[i].st;
		if (c->cache[i].key == NULL || st == NULL)
			continue;
		buf_reset(&sql);
		buf_reset(&plan);
		buf_reset(&name);
		/* the label is query="name" */
		buf_printf(&name, "%.*s", (int)strlen(st->label) - 8, st->label + 7);
		if ((err = c->drv->explain(st, &sql, &plan)) == 0)
			err = fn(name.data, sql.data, plan.data, arg);
	}
	buf_release(&name);
	buf_release(&plan);
	buf_release(&sql);
	return err;
}

/* ---- binding ---------------------------------------------------------------------- */

static bool bind_slot(db_stmt *st)
{
	if (st->nbound < st->nparams)
		return true;
	if (st->err == 0)
		log_error(SUBSYS, "%s: more values bound than the statement has parameters", st->label);
	st->err = WEFT_ESTORE;
	return false;
}

void db_bind_int(db_stmt *st, int64_t v)
{
	if (bind_slot(st))
		st->c->drv->bind_int(st, st->nbound++, v);
}

void db_bind_null(db_stmt *st)
{
	if (bind_slot(st))
		st->c->drv->bind_text(st, st->nbound++, NULL, 0);
}

void db_bind_text(db_stmt *st, const char *s)
{
	if (bind_slot(st))
		st->c->drv->bind_text(st, st->nbound++, s, s ? strlen(s) : 0);
}

void db_bind_textn(db_stmt *st, const char *s, size_t maxlen)
{
	if (bind_slot(st))
		st->c->drv->bind_text(st, st->nbound++, s, s ? strnlen(s, maxlen) : 0);
}

void db_bind_id(db_stmt *st, const weft_id *id)
{
	if (id == NULL || !id_is_set(id))
		db_bind_null(st);
	else
		db_bind_textn(st, id->str, WEFT_ID_LEN);
}

void db_bind_ts(db_stmt *st, int64_t us)
{
	if (us == 0)
		db_bind_null(st);
	else
		db_bind_int(st, us);
}

void db_bind_int_or_null(db_stmt *st, int64_t v) { db_bind_ts(st, v); }
void db_bind_bool(db_stmt *st, bool v) { db_bind_int(st, v ? 1 : 0); }

void db_bind_set(db_stmt *st, db_set *s)
{
	if (!s->closed) {
		if (s->fields >= 0)
			buf_putc(&s->json, '}');
		buf_putc(&s->json, ']');
		s->fields = -1;
		s->closed = true;
	}
	if (bind_slot(st))
		st->c->drv->bind_text(st, st->nbound++, s->json.data, s->json.len);
}

/* ---- execution --------------------------------------------------------------------- */

int db_step(db_stmt *st)
{
	if (st->err)
		return st->err;
	if (st->nbound != st->nparams) {
		log_error(SUBSYS, "%s: %d of %d parameters bound", st->label, st->nbound, st->nparams);
		return st->err = WEFT_ESTORE;
	}
	return st->c->drv->step(st);
}

int db_end(db_stmt *st, int rc)
{
	st->c->drv->reset(st);
	db_observe(st->c, st->label, db_mono_ns() - st->t0);
	return rc < 0 ? rc : 0;
}

int db_run(db_stmt *st, int64_t *changes)
{
	int rc;
	while ((rc = db_step(st)) > 0)
		;
	if (changes != NULL)
		*changes = rc == 0 ? st->changes : 0;
	return db_end(st, rc);
}

int db_send(db_stmt *st, int64_t *changes)
{
	int rc = st->err;
	if (rc == 0 && st->nbound != st->nparams) {
		log_error(SUBSYS, "%s: %d of %d parameters bound", st->label, st->nbound, st->nparams);
		rc = WEFT_ESTORE;
	}
	if (rc == 0)
		rc = st->c->drv->send(st);
	if (changes != NULL)
		*changes = rc == 0 ? st->changes : rc > 0 ? -1 : 0;
	if (rc > 0) {
		/* Queued: the driver times it when its answer is read. */
		st->c->drv->reset(st);
		return 0;
	}
	return db_end(st, rc);
}

void db_prefetch(db_stmt *st)
{
	/* Not timed here: the execution it answers is. */
	if (st->err == 0 && st->nbound == st->nparams && st->c->drv->prefetch != NULL)
		st->c->drv->prefetch(st);
	st->c->drv->reset(st);
}

int db_query_int(db_stmt *st, int64_t *out, bool *found)
{
	int rc = db_step(st);
	bool got = rc > 0 && !db_col_null(st, 0);
	*out = got ? db_col_int(st, 0) : 0;
	if (found != NULL)
		*found = got;
	return db_end(st, rc);
}

/* ---- columns ------------------------------------------------------------------------ */

bool db_col_null(db_stmt *st, int i) { return st->c->drv->col_null(st, i); }
int64_t db_col_int(db_stmt *st, int i) { return st->c->drv->col_int(st, i); }
int64_t db_col_sum(db_stmt *st, int i) { return counter_sum_join(db_col_int(st, i), db_col_int(st, i + 1)); }
const char *db_col_text(db_stmt *st, int i) { return st->c->drv->col_text(st, i, NULL); }

char *db_col_str(db_stmt *st, int i)
{
	size_t len = 0;
	const char *s = st->c->drv->col_text(st, i, &len);
	return s == NULL ? NULL : xstrndup(s, len);
}

char *db_col_str_nn(db_stmt *st, int i, const char *dflt)
{
	char *s = db_col_str(st, i);
	return s != NULL ? s : xstrdup(dflt);
}

void db_col_id(db_stmt *st, int i, weft_id *out)
{
	size_t len = 0;
	const char *s = st->c->drv->col_text(st, i, &len);
	len = s == NULL ? 0 : MIN(len, (size_t)WEFT_ID_LEN);
	if (len > 0)
		memcpy(out->str, s, len);
	out->str[len] = '\0';
}

int db_col_status(db_stmt *st, int i, task_status *out)
{
	const char *s = db_col_text(st, i);
	if (task_status_parse(s, out) != 0) {
		log_error(SUBSYS, "unknown task status \"%s\" in the database", s ? s : "(null)");
		return WEFT_ESTORE;
	}
	return 0;
}

/* ---- sets ----------------------------------------------------------------------------- */

void db_set_init(db_set *s)
{
	buf_init(&s->json);
	buf_putc(&s->json, '[');
	s->n = 0;
	s->fields = -1;
	s->closed = false;
}

void db_set_release(db_set *s) { buf_release(&s->json); }

/* A JSON string: runs of plain bytes are copied as they are. */
static void json_string(buf *b, const char *v)
{
	buf_putc(b, '"');
	const char *run = v;
	for (const char *p = v; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		buf_append(b, run, (size_t)(p - run));
		if (ch < 0x20)
			buf_printf(b, "\\u%04x", ch);
		else {
			buf_putc(b, '\\');
			buf_putc(b, (char)ch);
		}
		run = p + 1;
	}
	buf_puts(b, run);
	buf_putc(b, '"');
}

/* A decimal integer, without printf (sets carry one per row). */
static void put_i64(buf *b, int64_t v)
{
	char digits[24], *d = digits + sizeof digits;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--d = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--d = '-';
	buf_append(b, d, (size_t)(digits + sizeof digits - d));
}

static void set_sep(db_set *s)
{
	if (s->n++ > 0)
		buf_putc(&s->json, ',');
}

void db_set_text(db_set *s, const char *v)
{
	set_sep(s);
	json_string(&s->json, v ? v : "");
}

void db_set_int(db_set *s, int64_t v)
{
	set_sep(s);
	put_i64(&s->json, v);
}

void db_set_id(db_set *s, const weft_id *id)
{
	set_sep(s);
	buf_putc(&s->json, '"');
	buf_append(&s->json, id->str, strnlen(id->str, WEFT_ID_LEN));
	buf_putc(&s->json, '"');
}

void db_set_ids(db_set *s, const weft_id *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		db_set_id(s, &ids[i]);
}

void db_set_statuses(db_set *s, unsigned mask)
{
	for (unsigned i = 0; i < TS__COUNT; i++)
		if (mask & TS_BIT(i))
			db_set_text(s, task_status_name((task_status)i));
}

unsigned db_ns_filter_shape(const char *ns, const char *const *visible)
{
	return ns != NULL ? 1u : visible != NULL ? 2u : 0u;
}

void db_bind_ns_filter(db_stmt *st, db_set *set, const char *ns, const char *const *visible, size_t nvisible)
{
	if (ns != NULL) {
		db_bind_text(st, ns);
	} else if (visible != NULL) {
		for (size_t i = 0; i < nvisible; i++)
			db_set_text(set, visible[i]);
		db_bind_set(st, set);
	} else {
		db_bind_text(st, "");
	}
}

void db_set_row(db_set *s)
{
	if (s->fields >= 0)
		buf_putc(&s->json, '}');
	set_sep(s);
	buf_putc(&s->json, '{');
	s->fields = 0;
}

static void field_name(db_set *s, const char *name)
{
	if (s->fields++ > 0)
		buf_putc(&s->json, ',');
	json_string(&s->json, name);
	buf_putc(&s->json, ':');
}

void db_set_field_text(db_set *s, const char *name, const char *v)
{
	field_name(s, name);
	if (v == NULL)
		buf_puts(&s->json, "null");
	else
		json_string(&s->json, v);
}

void db_set_field_int(db_set *s, const char *name, int64_t v)
{
	field_name(s, name);
	put_i64(&s->json, v);
}

/* ---- rows ------------------------------------------------------------------------------- */

int db_read_task(db_stmt *st, int col0, task_row *t)
{
	memset(t, 0, sizeof *t);
	if (db_col_status(st, col0 + 4, &t->status) != 0)
		return WEFT_ESTORE;
	db_col_id(st, col0 + 0, &t->id);
	db_col_id(st, col0 + 1, &t->batch_id);
	t->name = db_col_str_nn(st, col0 + 2, "");
	t->kind = db_col_str_nn(st, col0 + 3, "");
	t->timeout_secs = (int32_t)db_col_int(st, col0 + 5);
	t->created_at = db_col_int(st, col0 + 6);
	t->started_at = db_col_int(st, col0 + 7);
	t->ended_at = db_col_int(st, col0 + 8);
	t->last_updated = db_col_int(st, col0 + 9);
	t->metadata = db_col_str_nn(st, col0 + 10, "null");
	t->rules = db_col_str_nn(st, col0 + 11, "[]");
	t->wait_success = db_col_int(st, col0 + 12);
	t->wait_finished = db_col_int(st, col0 + 13);
	t->success = db_col_int(st, col0 + 14);
	t->failures = db_col_int(st, col0 + 15);
	t->failure_reason = db_col_str(st, col0 + 16);
	t->has_expected_count = !db_col_null(st, col0 + 17);
	t->expected_count = db_col_int(st, col0 + 17);
	t->dead_end_barrier = db_col_int(st, col0 + 18) != 0;
	t->priority = (int32_t)db_col_int(st, col0 + 19);
	t->attempt = (int32_t)db_col_int(st, col0 + 20);
	t->group_name = db_col_str(st, col0 + 21);
	t->start_after = db_col_int(st, col0 + 22);
	t->retry_policy = db_col_str(st, col0 + 23);
	t->next_retry_at = db_col_int(st, col0 + 24);
	t->executor = db_col_str(st, col0 + 25);
	t->namespace = db_col_str_nn(st, col0 + 26, NAMESPACE_DEFAULT);
	t->lease_token = db_col_int(st, col0 + 27);
	t->lease_until = db_col_int(st, col0 + 28);
	t->worker_id = db_col_str(st, col0 + 29);
	t->dead_at = db_col_int(st, col0 + 30);
	t->error_code = db_col_str(st, col0 + 31);
	t->retry_base = (int32_t)db_col_int(st, col0 + 32);
	t->shape = db_col_null(st, col0 + 33) ? TASK_SHAPE_ALL : (int32_t)db_col_int(st, col0 + 33);
	return 0;
}

int db_read_outbox(db_stmt *st, int col0, outbox_row *o)
{
	memset(o, 0, sizeof *o);
	const char *event = db_col_text(st, col0 + 2);
	const char *status = db_col_text(st, col0 + 8);
	if (delivery_event_parse(event, &o->event) != 0 || delivery_status_parse(status, &o->status) != 0) {
		log_error(SUBSYS, "unknown outbox event \"%s\" or status \"%s\" in the database",
		          event ? event : "(null)", status ? status : "(null)");
		return WEFT_ESTORE;
	}
	o->id = db_col_int(st, col0 + 0);
	size_t klen = 0;
	const char *key = st->c->drv->col_text(st, col0 + 1, &klen);
	klen = key == NULL ? 0 : MIN(klen, sizeof o->key - 1);
	if (klen > 0)
		memcpy(o->key, key, klen);
	o->key[klen] = '\0';
	db_col_id(st, col0 + 3, &o->task_id);
	db_col_id(st, col0 + 4, &o->batch_id);
	o->action_id = db_col_int(st, col0 + 5);
	o->params = db_col_str_nn(st, col0 + 6, "{}");
	o->add_handle = db_col_int(st, col0 + 7) != 0;
	o->attempts = (int32_t)db_col_int(st, col0 + 9);
	o->max_attempts = (int32_t)db_col_int(st, col0 + 10);
	o->next_attempt_at = db_col_int(st, col0 + 11);
	o->last_attempt_at = db_col_int(st, col0 + 12);
	o->created_at = db_col_int(st, col0 + 13);
	o->updated_at = db_col_int(st, col0 + 14);
	o->last_http_status = (int32_t)db_col_int(st, col0 + 15);
	o->last_error = db_col_str(st, col0 + 16);
	return 0;
}

int db_collect(db_stmt *st, const db_row_kind *k, void **out, size_t *n)
{
	char *rows = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) > 0) {
		rows = db_grow(rows, len, &cap, k->size);
		void *row = rows + len * k->size;
		memset(row, 0, k->size);
		len++;
		if ((rc = k->read(st, row)) != 0)
			break;
	}
	int err = db_end(st, rc);
	if (err) {
		for (size_t i = 0; k->release != NULL && i < len; i++)
			k->release(rows + i * k->size);
		free(rows);
		rows = NULL;
		len = 0;
	}
	*out = rows;
	*n = len;
	return err;
}

static int read_id_row(db_stmt *st, void *row)
{
	db_col_id(st, 0, row);
	return 0;
}

static int read_task_row(db_stmt *st, void *row) { return db_read_task(st, 0, row); }
static void release_task_row(void *row) { task_row_release(row); }
static int read_outbox_row(db_stmt *st, void *row) { return db_read_outbox(st, 0, row); }
static void release_outbox_row(void *row) { outbox_row_release(row); }

int db_collect_ids(db_stmt *st, weft_id **out, size_t *n)
{
	static const db_row_kind ids = { sizeof(weft_id), read_id_row, NULL };
	void *rows;
	int err = db_collect(st, &ids, &rows, n);
	*out = rows;
	return err;
}

int db_collect_tasks(db_stmt *st, task_row **out, size_t *n)
{
	static const db_row_kind tasks = { sizeof(task_row), read_task_row, release_task_row };
	void *rows;
	int err = db_collect(st, &tasks, &rows, n);
	*out = rows;
	return err;
}

int db_collect_outbox(db_stmt *st, outbox_row **out, size_t *n)
{
	static const db_row_kind outbox = { sizeof(outbox_row), read_outbox_row, release_outbox_row };
	void *rows;
	int err = db_collect(st, &outbox, &rows, n);
	*out = rows;
	return err;
}

/* ---- transactions the domain opens itself ------------------------------------------- */

int db_snapshot_begin(store_conn *c, bool *own)
{
	*own = !c->drv->in_transaction(c);
	return *own ? c->drv->begin_snapshot(c) : 0;
}

int db_write_begin(store_conn *c, bool *own)
{
	*own = !c->drv->in_transaction(c);
	return *own ? c->drv->begin(c) : 0;
}

int db_own_end(store_conn *c, bool own, int err)
{
	if (!own)
		return err;
	int e2 = err ? c->drv->rollback(c) : c->drv->commit(c);
	return err ? err : e2;
}

/* ---- connections and the store --------------------------------------------------------- */

void db_conn_init(store_conn *c, store *s, const db_driver *drv, db_role role)
{
	memset(c, 0, sizeof *c);
	c->drv = drv;
	c->st = s;
	c->role = role;
	c->counts.slot = -1;
}

void db_conn_release(store_conn *c)
{
	for (size_t i = 0; i < c->cache_cap; i++) {
		if (c->cache[i].key == NULL)
			continue;
		c->drv->finalize(c->cache[i].st);
	}
	free(c->cache);
	c->cache = NULL;
	c->cache_cap = c->cache_len = 0;
	free(c->deltas.v);
	c->deltas = (db_deltas){ 0 };
	queue_stats_release(c);
	task_changes_release(c);
}

void db_store_init(store *s, const db_driver *drv, const store_options *opt)
{
	int64_t slow_us = opt != NULL && opt->slow_query_us > 0 ? opt->slow_query_us : DEFAULT_SLOW_QUERY_US;
	int64_t cache_mb = opt != NULL && opt->cache_mb > 0 ? opt->cache_mb : DEFAULT_CACHE_MB;
	s->drv = drv;
	s->slow_ns = slow_us * 1000;
	s->cache_kib = cache_mb * 1024;
	s->max_readers = opt != NULL && opt->readers > 0 ? opt->readers : DEFAULT_READERS;
	s->readers = xcalloc((size_t)s->max_readers, sizeof *s->readers);
	s->idle = xcalloc((size_t)s->max_readers, sizeof *s->idle);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
}

void db_pool_add(store *s, store_conn *reader)
{
	s->readers[s->nopen++] = reader;
	s->idle[s->nidle++] = reader;
}

void db_store_release(store *s)
{
	for (int i = 0; i < s->nopen; i++)
		if (s->readers[i] != NULL)
			s->drv->conn_free(s->readers[i]);
	if (s->writer != NULL)
		s->drv->conn_free(s->writer);
	s->writer = NULL;
	s->nopen = s->nidle = 0;
	free(s->readers);
	free(s->idle);
	s->readers = s->idle = NULL;
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}
