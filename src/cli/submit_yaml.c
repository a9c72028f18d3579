/*
 * submit_yaml.c — YAML to JSON for `weft submit` (see submit_yaml.h), on
 * libyaml's event parser: each event adds a value to the container being
 * built, kept on a stack of open mappings and sequences.
 *
 * An alias shares its anchor's value (a jansson reference) rather than
 * copying it, and costs what the value weighs expanded (its values and
 * bytes), so that the limits count what the JSON will hold: nested aliases
 * that would expand to a billion values are refused when they pass the
 * limit, having cost nothing before. An anchor is known once its whole
 * value has been read, so an alias cannot name a value it is inside of.
 * Values are never changed once complete, which makes sharing safe.
 */
#include "cli/submit_yaml.h"
#include "util/alloc.h"
#include "util/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <yaml.h>

#define TAG_CORE "tag:yaml.org,2002:"
#define TAG_STR TAG_CORE "str"
#define TAG_MAP "tag:yaml.org,2002:map"
#define TAG_SEQ "tag:yaml.org,2002:seq"

/* What a value weighs expanded: its values (nodes) and about its bytes. */
typedef struct weight {
	size_t nodes, bytes;
} weight;

typedef struct frame {
	json_t *node;          /* an object or array (a reference) */
	char *key;             /* an object's key waiting for its value (owned), or NULL */
	bool key_is_merge;     /* that key is <<: its value is merged into node */
	bool merge_value;      /* this container is the value of its parent's <<, merged at its end */
	bool tasks;            /* the DAG's tasks: the lines of its items are kept */
	json_t *merged;        /* an object's keys that came from <<, which its own keys override; or NULL */
	char *anchor;          /* owned: its anchor, known once it ends; or NULL */
	weight start;          /* the document's weight when it opened */
	int height;            /* the deepest nesting of containers in it so far (aliases expanded) */
	yaml_mark_t mark;
} frame;

typedef struct conv {
	const char *name;
	char *err;
	size_t errlen;
	json_t *root;
	frame stack[SUBMIT_YAML_MAX_DEPTH];
	int depth;
	weight total;               /* of the document so far, aliases expanded */
	int documents;
	submit_yaml_lines *lines;   /* or NULL */
	json_t *anchors;            /* name -> [value, nodes, bytes, height] */
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

static weight weight_of_scalar(size_t len)
{
	return (weight){ 1, len + 4 };   /* its text, with room for quotes and a comma */
}

/* Counts w into the document: -1 past a limit (message set). */
static int take_weight(conv *c, weight w, const yaml_mark_t *at, bool alias)
{
	if (c->total.nodes + w.nodes > SUBMIT_YAML_MAX_NODES)
		return problem(c, at, "more than %d values%s: the DAG is too large for one run", SUBMIT_YAML_MAX_NODES,
		               alias ? " once its aliases are expanded" : "");
	if (c->total.bytes + w.bytes > SUBMIT_YAML_MAX_BYTES)
		return problem(c, at, "more than %d MiB of values%s: the DAG is too large for one run",
		               SUBMIT_YAML_MAX_BYTES >> 20, alias ? " once its aliases are expanded" : "");
	c->total.nodes += w.nodes;
	c->total.bytes += w.bytes;
	return 0;
}

/* height: the containers nested in value, itself included (0 for a scalar). */
static void keep_anchor(conv *c, const char *name, json_t *value, weight w, int height)
{
	/* a name given again names the new value from there on */
	json_object_set_new(c->anchors, name,
	                    json_pack("[O,I,I,i]", value, (json_int_t)w.nodes, (json_int_t)w.bytes, height));
}

/* Notes that the open container holds a value height containers deep. */
static void note_height(conv *c, int height)
{
	if (c->depth > 0 && c->stack[c->depth - 1].height < height)
		c->stack[c->depth - 1].height = height;
}

/* Copies the members of src that the mapping of f lacks: keys of the mapping
 * itself, or of an earlier merge, win. */
static void merge_one(frame *f, json_t *src)
{
	const char *k;
	json_t *v;
	json_object_foreach(src, k, v) {
		if (json_object_get(f->node, k))
			continue;
		json_object_set(f->node, k, v);
		if (!f->merged)
			f->merged = json_object();
		json_object_set_new(f->merged, k, json_true());
	}
}

static const char *a_or_an(const char *noun)
{
	return strchr("aeiou", noun[0]) ? "an" : "a";
}

/* The value of a merge key (<<): a mapping, or a list of mappings. */
static int merge(conv *c, frame *f, json_t *v, const yaml_mark_t *at)
{
	if (json_is_object(v)) {
		merge_one(f, v);
		return 0;
	}
	size_t i;
	json_t *item;
	json_array_foreach(v, i, item) {
		if (!json_is_object(item))
			return problem(c, at, "<< (a merge key) takes a mapping or a list of mappings; item %zu is %s %s", i + 1,
			               a_or_an(json_type_name(item)), json_type_name(item));
	}
	if (!json_is_array(v))
		return problem(c, at, "<< (a merge key) takes a mapping or a list of mappings, not %s %s",
		               a_or_an(json_type_name(v)), json_type_name(v));
	json_array_foreach(v, i, item)
		merge_one(f, item);
	return 0;
}

/* Adds v (a new reference, taken), weighing w, where the document is: the
 * root, the next item of a sequence, a mapping's key or that key's value.
 * key is v's text as a key (NULL when v cannot be one); merge_key: v is a
 * plain << (a merge key when it is a key). */
static int add(conv *c, json_t *v, weight w, const char *key, bool merge_key, const yaml_event_t *e, bool alias)
{
	if (take_weight(c, w, &e->start_mark, alias) != 0) {
		json_decref(v);
		return -1;
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
		/* 1, true or null as a key is its text: JSON keys are text */
		json_decref(v);
		if (!key)
			return problem(c, &e->start_mark, "a key must be a string: this alias names a value of another kind");
		f->key = xstrdup(key);
		f->key_is_merge = merge_key;
		if (!merge_key && json_object_get(f->node, f->key)) {
			if (!f->merged || !json_object_get(f->merged, f->key))
				return problem(c, &e->start_mark, "the key '%.100s' is given twice in this mapping", f->key);
			json_object_del(f->merged, f->key);   /* its own key overrides a merged one, once */
		}
		return 0;
	}
	int rc = 0;
	if (f->key_is_merge) {
		rc = merge(c, f, v, &e->start_mark);
		json_decref(v);
	} else {
		json_object_set_new(f->node, f->key, v);
	}
	free(f->key);
	f->key = NULL;
	f->key_is_merge = false;
	return rc;
}

static int add_scalar(conv *c, const yaml_event_t *e)
{
	json_t *v = scalar_value(c, e);
	if (!v)
		return -1;
	const char *text = (const char *)e->data.scalar.value;
	size_t len = e->data.scalar.length;
	bool merge_key = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !e->data.scalar.tag && strcmp(text, "<<") == 0;
	if (e->data.scalar.anchor)
		keep_anchor(c, (const char *)e->data.scalar.anchor, v, weight_of_scalar(len), 0);
	return add(c, v, weight_of_scalar(len), text, merge_key, e, false);
}

static int add_alias(conv *c, const yaml_event_t *e)
{
	const char *name = (const char *)e->data.alias.anchor;
	json_t *a = json_object_get(c->anchors, name);
	if (!a)
		return problem(c, &e->start_mark, "the alias *%.100s names no anchor: an anchor (&%.100s) must come first, "
		                                  "and its value end before the alias", name, name);
	json_t *v = json_array_get(a, 0);
	weight w = { (size_t)json_integer_value(json_array_get(a, 1)), (size_t)json_integer_value(json_array_get(a, 2)) };
	int height = (int)json_integer_value(json_array_get(a, 3));
	/* a merged mapping's members sit one level up, in the mapping merged into */
	bool merged = c->depth > 0 && c->stack[c->depth - 1].key_is_merge;
	if (c->depth + height - (merged ? 1 : 0) > SUBMIT_YAML_MAX_DEPTH)
		return problem(c, &e->start_mark, "nesting deeper than %d levels once the alias *%.100s is expanded",
		               SUBMIT_YAML_MAX_DEPTH, name);
	note_height(c, height - (merged ? 1 : 0));
	return add(c, json_incref(v), w, json_string_value(v), false, e, true);
}

static void frame_release(frame *f)
{
	json_decref(f->node);
	json_decref(f->merged);
	free(f->key);
	free(f->anchor);
	memset(f, 0, sizeof(*f));
}

static int open_container(conv *c, const yaml_event_t *e, bool mapping)
{
	const char *tag = (const char *)(mapping ? e->data.mapping_start.tag : e->data.sequence_start.tag);
	const char *anchor = (const char *)(mapping ? e->data.mapping_start.anchor : e->data.sequence_start.anchor);
	if (tag && strcmp(tag, mapping ? TAG_MAP : TAG_SEQ) != 0 && strcmp(tag, "!") != 0)
		return problem(c, &e->start_mark, "the tag %s%s is not supported: write the value without it",
		               core_tag(tag) ? "!!" : "", tag + (core_tag(tag) ? strlen(TAG_CORE) : 0));
	if (c->depth == SUBMIT_YAML_MAX_DEPTH)
		return problem(c, &e->start_mark, "nesting deeper than %d levels", SUBMIT_YAML_MAX_DEPTH);
	frame *parent = c->depth > 0 ? &c->stack[c->depth - 1] : NULL;
	if (parent && json_is_object(parent->node) && !parent->key)
		return problem(c, &e->start_mark, "a key must be a scalar, not a %s", mapping ? "mapping" : "sequence");
	/* the tasks: a sequence at the top, or under the top mapping's "tasks" */
	bool tasks = !mapping && (c->depth == 0 || (c->depth == 1 && json_is_object(parent->node) &&
	                                             strcmp(parent->key, "tasks") == 0));
	bool merge_value = parent && parent->key_is_merge;
	weight start = c->total;
	json_t *node = mapping ? json_object() : json_array();
	if (merge_value) {
		/* merged into the parent when it ends, when its members are known */
		if (take_weight(c, weight_of_scalar(0), &e->start_mark, false) != 0) {
			json_decref(node);
			return -1;
		}
	} else if (add(c, json_incref(node), weight_of_scalar(0), NULL, false, e, false) != 0) {
		json_decref(node);
		return -1;
	}
	c->stack[c->depth++] = (frame){ .node = node, .tasks = tasks, .merge_value = merge_value,
		                        .anchor = anchor ? xstrdup(anchor) : NULL, .start = start,
		                        .mark = e->start_mark };
	return 0;
}

static int close_container(conv *c)
{
	frame f = c->stack[--c->depth];
	int rc = 0;
	if (f.anchor)
		keep_anchor(c, f.anchor, f.node, (weight){ c->total.nodes - f.start.nodes, c->total.bytes - f.start.bytes },
		            f.height + 1);
	/* merged, its members join the parent (a list of mappings counts one
	 * level more than their members have: an overestimate, on the safe side) */
	note_height(c, f.merge_value ? f.height : f.height + 1);
	if (f.merge_value) {
		frame *parent = &c->stack[c->depth - 1];
		rc = merge(c, parent, f.node, &f.mark);
		free(parent->key);
		parent->key = NULL;
		parent->key_is_merge = false;
	}
	frame_release(&f);
	return rc;
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
		return add_alias(c, e);
	case YAML_SCALAR_EVENT:
		return add_scalar(c, e);
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		return open_container(c, e, e->type == YAML_MAPPING_START_EVENT);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		return close_container(c);
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
	conv c = { .name = name, .err = err, .errlen = errlen, .lines = lines, .anchors = json_object() };
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
	while (c.depth > 0)
		frame_release(&c.stack[--c.depth]);
	json_decref(c.anchors);
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
