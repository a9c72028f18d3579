/*
 * submit_yaml.c — YAML to JSON for `weft submit` (see submit_yaml.h), on
 * libyaml's event parser: each event adds a value to the container being
 * built, kept on a stack of open mappings and sequences.
 */
#include "cli/submit_yaml.h"
#include "util/alloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <yaml.h>

#define TAG_CORE "tag:yaml.org,2002:"
#define TAG_STR TAG_CORE "str"
#define TAG_MAP "tag:yaml.org,2002:map"
#define TAG_SEQ "tag:yaml.org,2002:seq"

typedef struct frame {
	json_t *node;      /* a borrowed object or array (its parent holds it) */
	char *key;         /* an object's key waiting for its value (owned), or NULL */
	bool tasks;        /* the DAG's tasks: the lines of its items are kept */
} frame;

typedef struct conv {
	const char *name;
	char *err;
	size_t errlen;
	json_t *root;
	frame stack[SUBMIT_YAML_MAX_DEPTH];
	int depth;
	size_t nodes;
	int documents;
	submit_yaml_lines *lines;   /* or NULL */
} conv;

void submit_yaml_lines_release(submit_yaml_lines *l)
{
	free(l->line);
	memset(l, 0, sizeof(*l));
}

static void keep_line(submit_yaml_lines *l, size_t line)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->line = xrealloc(l->line, l->cap * sizeof(*l->line));
	}
	l->line[l->n++] = line;
}

WEFT_PRINTF(3, 4)
static int problem(conv *c, const yaml_mark_t *at, const char *fmt, ...)
{
	int n = snprintf(c->err, c->errlen, "%s:%zu:%zu: ", c->name, at->line + 1, at->column + 1);
	if (n > 0 && (size_t)n < c->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Whether tag is one of YAML's own (!!name in the file). */
static bool core_tag(const char *tag)
{
	return strncmp(tag, TAG_CORE, strlen(TAG_CORE)) == 0;
}

/* ---- scalars ------------------------------------------------------------ */

static bool is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

static bool all_of(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

/* A plain decimal float of the core schema: [-+]?(.d+|d+(.d*)?)([eE][-+]?d+)? */
static bool float_syntax(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	size_t whole = strspn(s, "0123456789");
	s += whole;
	size_t frac = 0;
	bool point = *s == '.';
	if (point) {
		s++;
		frac = strspn(s, "0123456789");
		s += frac;
	}
	if (whole == 0 && frac == 0)
		return false;
	if (!point && *s != 'e' && *s != 'E')
		return false;   /* digits alone: an integer, or a string such as 01234 */
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		size_t exp = strspn(s, "0123456789");
		if (exp == 0)
			return false;
		s += exp;
	}
	return *s == '\0';
}

/* A plain integer: 0 and *out, 1 when s is not one, -1 when it is one
 * that does not fit (message set). */
static int plain_integer(conv *c, const yaml_mark_t *at, const char *s, json_int_t *out)
{
	const char *digits = s;
	bool neg = false;
	if (*digits == '-' || *digits == '+')
		neg = *digits++ == '-';
	int base = 10;
	if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
		base = digits[1] == 'x' ? 16 : 8;
		digits += 2;
		if (!all_of(digits, base == 16 ? "0123456789abcdefABCDEF" : "01234567"))
			return 1;
	} else if (!all_of(digits, "0123456789") || (digits[0] == '0' && digits[1] != '\0')) {
		return 1;   /* not digits, or a leading zero: a string such as 01234 */
	}
	errno = 0;
	unsigned long long mag = strtoull(digits, NULL, base);
	unsigned long long limit = neg ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX;
	if (errno == ERANGE || mag > limit)
		return problem(c, at, "the integer %s does not fit in 64 bits (the server refuses it too): quote it to send "
		                      "a string", s);
	*out = neg ? (json_int_t)(0 - mag) : (json_int_t)mag;
	return 0;
}

/* The value of a plain (unquoted, untagged) scalar. */
static json_t *plain_value(conv *c, const yaml_mark_t *at, const char *s, size_t len)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };
	static const char *const specials[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
		                                "-.INF", ".nan", ".NaN", ".NAN", NULL };
	if (is_one_of(s, nulls))
		return json_null();
	if (is_one_of(s, trues))
		return json_true();
	if (is_one_of(s, falses))
		return json_false();
	if (is_one_of(s, specials)) {
		problem(c, at, "%s is not a number JSON can carry: quote it to send a string", s);
		return NULL;
	}
	json_int_t i = 0;
	int r = plain_integer(c, at, s, &i);
	if (r == 0)
		return json_integer(i);
	if (r < 0)
		return NULL;
	if (float_syntax(s)) {
		errno = 0;
		double d = strtod(s, NULL);
		if (errno == ERANGE && !isfinite(d)) {
			problem(c, at, "the number %s is too large for JSON's doubles: quote it to send a string", s);
			return NULL;
		}
		return json_real(d);
	}
	return json_stringn(s, len);
}

static json_t *scalar_value(conv *c, const yaml_event_t *e)
{
	const char *s = (const char *)e->data.scalar.value;
	size_t len = e->data.scalar.length;
	const char *tag = (const char *)e->data.scalar.tag;
	json_t *v;
	if (tag && strcmp(tag, TAG_STR) != 0 && strcmp(tag, "!") != 0) {
		problem(c, &e->start_mark, "the tag %s%s is not supported (only !!str): write the value without it",
		        core_tag(tag) ? "!!" : "", tag + (core_tag(tag) ? strlen(TAG_CORE) : 0));
		return NULL;
	}
	if (memchr(s, '\0', len)) {
		/* JSON could write it as \u0000, but the server refuses that */
		problem(c, &e->start_mark, "the text holds a NUL character (\\0 or \\x00), which weft does not take");
		return NULL;
	}
	if (tag || e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		v = json_stringn(s, len);
	else
		v = plain_value(c, &e->start_mark, s, len);
	if (!v && !c->err[0])
		problem(c, &e->start_mark, "the text is not valid UTF-8");
	return v;
}

/* ---- the tree ----------------------------------------------------------- */

/* Adds v (a new reference, taken) where the document is: the root, the next
 * item of a sequence, a mapping's key (a scalar) or that key's value. */
static int add(conv *c, json_t *v, const yaml_event_t *e)
{
	if (++c->nodes > SUBMIT_YAML_MAX_NODES) {
		json_decref(v);
		return problem(c, &e->start_mark, "more than %d values: the file is too large for one run",
		               SUBMIT_YAML_MAX_NODES);
	}
	if (c->depth == 0) {
		c->root = v;
		return 0;
	}
	frame *f = &c->stack[c->depth - 1];
	if (json_is_array(f->node)) {
		if (f->tasks && c->lines)
			keep_line(c->lines, e->start_mark.line + 1);
		json_array_append_new(f->node, v);
		return 0;
	}
	if (!f->key) {
		/* a key (a scalar: open_container refuses the others); 1, true or
		 * null as a key is its text, since JSON keys are text */
		json_decref(v);
		f->key = xstrndup((const char *)e->data.scalar.value, e->data.scalar.length);
		if (json_object_get(f->node, f->key))
			return problem(c, &e->start_mark, "the key '%.100s' is given twice in this mapping", f->key);
		return 0;
	}
	json_object_set_new(f->node, f->key, v);
	free(f->key);
	f->key = NULL;
	return 0;
}

static int open_container(conv *c, const yaml_event_t *e, bool mapping)
{
	const char *tag = (const char *)(mapping ? e->data.mapping_start.tag : e->data.sequence_start.tag);
	const char *anchor = (const char *)(mapping ? e->data.mapping_start.anchor : e->data.sequence_start.anchor);
	if (anchor)
		return problem(c, &e->start_mark, "anchors (&%.100s) and aliases are not supported: write the values out",
		               anchor);
	if (tag && strcmp(tag, mapping ? TAG_MAP : TAG_SEQ) != 0 && strcmp(tag, "!") != 0)
		return problem(c, &e->start_mark, "the tag %s%s is not supported: write the value without it",
		               core_tag(tag) ? "!!" : "", tag + (core_tag(tag) ? strlen(TAG_CORE) : 0));
	if (c->depth == SUBMIT_YAML_MAX_DEPTH)
		return problem(c, &e->start_mark, "nesting deeper than %d levels", SUBMIT_YAML_MAX_DEPTH);
	bool is_key = c->depth > 0 && json_is_object(c->stack[c->depth - 1].node) && !c->stack[c->depth - 1].key;
	if (is_key)
		return problem(c, &e->start_mark, "a key must be a scalar, not a %s", mapping ? "mapping" : "sequence");
	/* the tasks: a sequence at the top, or under the top mapping's "tasks" */
	bool tasks = !mapping && (c->depth == 0 || (c->depth == 1 && c->stack[0].key &&
	                                             json_is_object(c->stack[0].node) &&
	                                             strcmp(c->stack[0].key, "tasks") == 0));
	json_t *node = mapping ? json_object() : json_array();
	if (add(c, json_incref(node), e) != 0) {
		json_decref(node);
		return -1;
	}
	c->stack[c->depth++] = (frame){ .node = node, .key = NULL, .tasks = tasks };
	json_decref(node);   /* its parent (or root) holds it */
	return 0;
}

static int on_event(conv *c, const yaml_event_t *e)
{
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++c->documents > 1)
			return problem(c, &e->start_mark, "a second document: the file must hold one DAG (remove the '---' "
			                                  "and what follows, or submit each document on its own)");
		return 0;
	case YAML_ALIAS_EVENT:
		return problem(c, &e->start_mark, "aliases (*%.100s) and anchors are not supported: write the values out",
		               (const char *)e->data.alias.anchor);
	case YAML_SCALAR_EVENT: {
		if (e->data.scalar.anchor)
			return problem(c, &e->start_mark, "anchors (&%.100s) and aliases are not supported: write the values out",
			               (const char *)e->data.scalar.anchor);
		json_t *v = scalar_value(c, e);
		return v ? add(c, v, e) : -1;
	}
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		return open_container(c, e, e->type == YAML_MAPPING_START_EVENT);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		c->depth--;
		return 0;
	default:
		return 0;
	}
}

/* The line and column (0-based, counted in characters) of a byte offset. */
static yaml_mark_t mark_of_offset(const char *text, size_t offset)
{
	yaml_mark_t m = { 0 };
	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			m.line++;
			m.column = 0;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			m.column++;   /* not a UTF-8 continuation byte */
		}
	}
	m.index = offset;
	return m;
}

json_t *submit_yaml_to_json(const char *text, size_t len, const char *name, submit_yaml_lines *lines, char *err,
                            size_t errlen)
{
	conv c = { .name = name, .err = err, .errlen = errlen, .lines = lines };
	err[0] = '\0';
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int rc = 0;
	for (bool done = false; !done && rc == 0;) {
		yaml_event_t e;
		if (!yaml_parser_parse(&p, &e)) {
			yaml_mark_t at = p.problem_mark;
			if (p.error == YAML_READER_ERROR) {
				/* the reader gives a byte offset, not a mark */
				at = mark_of_offset(text, MIN(p.problem_offset, len));
				problem(&c, &at, "%s (byte 0x%02x): the file must be UTF-8 text", p.problem ? p.problem : "bad text",
				        (unsigned)p.problem_value & 0xff);
			} else if (p.context)
				problem(&c, &at, "%s (%s at line %zu)", p.problem ? p.problem : "bad YAML", p.context,
				        p.context_mark.line + 1);
			else
				problem(&c, &at, "%s", p.problem ? p.problem : "bad YAML");
			rc = -1;
			break;
		}
		done = e.type == YAML_STREAM_END_EVENT;
		rc = on_event(&c, &e);
		yaml_event_delete(&e);
	}
	for (int i = 0; i < c.depth; i++)
		free(c.stack[i].key);
	yaml_parser_delete(&p);
	if (rc == 0 && !c.root) {
		snprintf(err, errlen, "%s: the file holds no YAML document", name);
		rc = -1;
	}
	if (rc != 0) {
		json_decref(c.root);
		return NULL;
	}
	return c.root;
}
