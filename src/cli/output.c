/*
 * output.c — tables, colors, relative times and JSON for the client
 * commands (see output.h).
 */
#include "cli/output.h"
#include "util/alloc.h"

#include <locale.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#define ELLIPSIS "\xe2\x80\xa6"
#define COLUMN_GAP 2
#define MIN_CUT_WIDTH 8   /* a column is not cut below this many cells */

bool out_colors(void)
{
	static int on = -1;
	if (on < 0) {
		const char *nc = getenv("NO_COLOR");
		on = isatty(STDOUT_FILENO) && !(nc && *nc);
	}
	return on;
}

const char *out_status_color(const char *s)
{
	static const struct {
		const char *status, *color;
	} map[] = {
		{ "success", OUT_GREEN },   { "failure", OUT_RED },     { "running", OUT_CYAN },   { "claimed", OUT_CYAN },
		{ "active", OUT_CYAN },     { "pending", OUT_DIM },     { "waiting", OUT_DIM },    { "paused", OUT_YELLOW },
		{ "retrying", OUT_YELLOW }, { "draining", OUT_YELLOW }, { "stale", OUT_RED },      { "canceled", OUT_MAGENTA },
		{ "revoked", OUT_MAGENTA }, { "expired", OUT_MAGENTA }, { "skipped", OUT_DIM },
	};
	for (size_t i = 0; s && i < ARRAY_LEN(map); i++)
		if (strcmp(s, map[i].status) == 0)
			return map[i].color;
	return NULL;
}

void out_colored(FILE *f, const char *color, const char *s)
{
	if (color && out_colors())
		fprintf(f, "\x1b[%sm%s\x1b[0m", color, s);
	else
		fputs(s, f);
}

/* Decodes one UTF-8 sequence at s: its length in bytes (1 for a bad byte),
 * the code point in *cp. */
static size_t utf8_next(const char *s, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = u[0] < 0x80 ? 1 : (u[0] >> 5) == 6 ? 2 : (u[0] >> 4) == 14 ? 3 : (u[0] >> 3) == 30 ? 4 : 0;
	if (!len) {
		*cp = 0xfffd;
		return 1;
	}
	uint32_t v = len == 1 ? u[0] : u[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		v = v << 6 | (u[i] & 0x3f);
	}
	*cp = v;
	return len;
}

static int cp_width(uint32_t cp)
{
	static bool locale_set;
	if (!locale_set) {
		/* wcwidth knows wide and combining characters only in a UTF-8 locale */
		setlocale(LC_CTYPE, "C.UTF-8");
		locale_set = true;
	}
	int w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : w;
}

size_t out_width(const char *s)
{
	size_t w = 0;
	for (uint32_t cp; *s; s += utf8_next(s, &cp), w += (size_t)cp_width(cp))
		utf8_next(s, &cp);
	return w;
}

char *out_cut(const char *s, size_t max)
{
	if (out_width(s) <= max)
		return xstrdup(s);
	size_t w = 0, i = 0;
	while (s[i]) {
		uint32_t cp;
		size_t len = utf8_next(s + i, &cp);
		int cw = cp_width(cp);
		if (w + (size_t)cw + 1 > max)
			break;
		w += (size_t)cw;
		i += len;
	}
	return xasprintf("%.*s" ELLIPSIS, (int)i, s);
}

int out_parse_time(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!end)
		return -1;
	int64_t frac = 0, scale = 1000;
	if (*end == '.') {
		for (end++; *end >= '0' && *end <= '9'; end++)
			if (scale > 1) {
				scale /= 10;
				frac += (*end - '0') * scale;
			}
	}
	int64_t offset_s = 0;
	if (*end == '+' || *end == '-') {
		int h, m;
		if (sscanf(end + 1, "%2d:%2d", &h, &m) != 2)
			return -1;
		offset_s = (*end == '+' ? 1 : -1) * (h * 3600 + m * 60);
	} else if (*end != 'Z' && *end != 'z') {
		return -1;
	}
	*ms = ((int64_t)timegm(&tm) - offset_s) * 1000 + frac;
	return 0;
}

void out_reltime(const char *rfc3339, char *out, size_t n)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	out_reltime_at(rfc3339, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, out, n);
}

void out_reltime_at(const char *rfc3339, int64_t now_ms, char *out, size_t n)
{
	int64_t ms;
	if (!rfc3339) {
		snprintf(out, n, "-");
		return;
	}
	if (out_parse_time(rfc3339, &ms) != 0) {
		snprintf(out, n, "%s", rfc3339);
		return;
	}
	int64_t d = ms - now_ms;
	bool future = d > 0;
	int64_t s = (future ? d : -d) / 1000;
	const char *unit = "s";
	int64_t v = s;
	if (s >= 2 * 86400) {
		v = s / 86400;
		unit = "d";
	} else if (s >= 2 * 3600) {
		v = s / 3600;
		unit = "h";
	} else if (s >= 2 * 60) {
		v = s / 60;
		unit = "m";
	}
	snprintf(out, n, future ? "in %" PRId64 "%s" : "%" PRId64 "%s ago", v, unit);
}

/* ---- tables ---------------------------------------------------------------- */

typedef struct cell {
	char *text;
	const char *color;
} cell;

struct out_table {
	char **headers;
	bool *keep;
	size_t ncols;
	cell *cells;
	size_t ncells, cap;
};

out_table *out_table_new(void)
{
	return xcalloc(1, sizeof(out_table));
}

void out_table_header(out_table *t, const char *name)
{
	t->headers = xrealloc(t->headers, (t->ncols + 1) * sizeof(*t->headers));
	t->keep = xrealloc(t->keep, (t->ncols + 1) * sizeof(*t->keep));
	t->keep[t->ncols] = false;
	t->headers[t->ncols++] = xstrdup(name);
}

void out_table_keep(out_table *t)
{
	if (t->ncols)
		t->keep[t->ncols - 1] = true;
}

void out_table_cell(out_table *t, const char *text, const char *color)
{
	if (t->ncells == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = xrealloc(t->cells, t->cap * sizeof(*t->cells));
	}
	/* a cell is one line: newlines and tabs would break the alignment */
	char *c = xstrdup(text ? text : "");
	for (char *p = c; *p; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
	t->cells[t->ncells++] = (cell){ c, color };
}

void out_table_free(out_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncols; i++)
		free(t->headers[i]);
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i].text);
	free(t->headers);
	free(t->keep);
	free(t->cells);
	free(t);
}

static size_t terminal_width(FILE *f)
{
	struct winsize ws;
	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *c = getenv("COLUMNS");
	long v = c ? strtol(c, NULL, 10) : 0;
	return v > 0 ? (size_t)v : 80;
}

/* On a terminal, narrows the widest column that may be cut, a cell at a
 * time (so that long columns level down together), until the table fits
 * or every such column is down to MIN_CUT_WIDTH; a table of short
 * columns may stay wider than the terminal. */
static void fit(size_t *width, const bool *keep, size_t ncols, size_t total_max)
{
	size_t total = 0;
	for (size_t i = 0; i < ncols; i++)
		total += width[i] + (i ? COLUMN_GAP : 0);
	while (total > total_max) {
		size_t widest = ncols;
		for (size_t i = 0; i < ncols; i++)
			if (!keep[i] && (widest == ncols || width[i] > width[widest]))
				widest = i;
		if (widest == ncols || width[widest] <= MIN_CUT_WIDTH)
			return;
		width[widest]--;
		total--;
	}
}

static void print_cell(FILE *f, const char *text, const char *color, size_t width, bool last)
{
	char *shown = out_cut(text, width);
	out_colored(f, color, shown);
	if (!last)
		for (size_t w = out_width(shown); w < width + COLUMN_GAP; w++)
			fputc(' ', f);
	free(shown);
}

void out_table_print(out_table *t, FILE *f)
{
	size_t *width = xcalloc(t->ncols ? t->ncols : 1, sizeof(*width));
	for (size_t i = 0; i < t->ncols; i++)
		width[i] = out_width(t->headers[i]);
	for (size_t i = 0; i < t->ncells; i++)
		width[i % t->ncols] = MAX(width[i % t->ncols], out_width(t->cells[i].text));
	if (isatty(fileno(f)))
		fit(width, t->keep, t->ncols, terminal_width(f));
	for (size_t i = 0; i < t->ncols; i++)
		print_cell(f, t->headers[i], OUT_BOLD, width[i], i + 1 == t->ncols);
	fputc('\n', f);
	for (size_t i = 0; i < t->ncells; i++) {
		size_t col = i % t->ncols;
		print_cell(f, t->cells[i].text, t->cells[i].color, width[col], col + 1 == t->ncols);
		if (col + 1 == t->ncols)
			fputc('\n', f);
	}
	free(width);
	out_table_free(t);
}

void out_json(FILE *f, const json_t *v)
{
	json_dumpf(v, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
}

void out_field(FILE *f, int width, const char *label, const char *value, const char *color)
{
	char l[64];
	snprintf(l, sizeof(l), "%s:", label);
	fprintf(f, "%-*s ", width + 1, l);
	out_colored(f, color, value ? value : "-");
	fputc('\n', f);
}
