/*
 * output.h — how the client commands print for people: aligned tables,
 * colors on a terminal only, relative times; and JSON for scripts.
 *
 * Colors are used when stdout is a terminal and NO_COLOR is unset or
 * empty (https://no-color.org). Tables size their columns from their
 * content (in terminal cells: UTF-8 aware); on a terminal, cells too long
 * for its width are cut with "…", elsewhere never.
 */
#ifndef WEFT_CLI_OUTPUT_H
#define WEFT_CLI_OUTPUT_H

#include "util/common.h"
#include <jansson.h>

/* Whether stdout gets colors (decided once). */
bool out_colors(void);
/* The ANSI color of a task, run or worker status ("success", "failure",
 * "running", "paused", ...), or NULL for none. */
const char *out_status_color(const char *status);
/* Prints s to f in color (a constant from out_status_color or OUT_*)
 * when colors are on. */
void out_colored(FILE *f, const char *color, const char *s);

#define OUT_BOLD "1"
#define OUT_DIM "2"
#define OUT_RED "31"
#define OUT_GREEN "32"
#define OUT_YELLOW "33"
#define OUT_MAGENTA "35"
#define OUT_CYAN "36"

/* Width of UTF-8 text in terminal cells. */
size_t out_width(const char *s);

/* "3s ago", "in 5m", "2h ago", "4d ago" for an RFC 3339 time; "-" for
 * NULL; the text itself when it does not parse. */
void out_reltime(const char *rfc3339, char *out, size_t n);
/* out_reltime as seen at now_ms (Unix milliseconds). */
void out_reltime_at(const char *rfc3339, int64_t now_ms, char *out, size_t n);
/* Parses RFC 3339 UTC ("2026-12-05T10:00:00.123Z", offsets allowed) to
 * Unix milliseconds: 0, or -1. */
int out_parse_time(const char *s, int64_t *ms);

/* A copy of s (owned) that fits max cells, cut with "…" when it does not. */
char *out_cut(const char *s, size_t max);

/* A table: add headers, then cells row by row; print frees it. */
typedef struct out_table out_table;
out_table *out_table_new(void);
void out_table_header(out_table *t, const char *name);
/* Marks the last header's column as never cut (ids, which are copied). */
void out_table_keep(out_table *t);
/* Appends a cell (copied) to the current row; a row is complete after as
 * many cells as headers. color may be NULL. */
void out_table_cell(out_table *t, const char *text, const char *color);
void out_table_print(out_table *t, FILE *f);
void out_table_free(out_table *t);

/* Prints v as indented JSON with a newline, keys in the server's order. */
void out_json(FILE *f, const json_t *v);

/* A "Label:  value" line of a details view (labels aligned to width). */
void out_field(FILE *f, int width, const char *label, const char *value, const char *color);

#endif
