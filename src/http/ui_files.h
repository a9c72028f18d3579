/*
 * ui_files.h — the web UI as built into the binary: the table that
 * scripts/embed-web.sh generates from build/web (build/gen/web_embed.c),
 * served by ui.c.
 */
#ifndef WEFT_HTTP_UI_FILES_H
#define WEFT_HTTP_UI_FILES_H

#include <stddef.h>

typedef struct ui_file {
	const char *path;      /* relative to the UI's root: "index.html", "assets/index-1a2b.js" */
	const char *gz;        /* the file gzip'd (-9) */
	size_t gz_len;
	size_t len;            /* the file's own size */
	const char *etag;      /* strong: quoted hex of its SHA-256 */
} ui_file;

extern const ui_file ui_files[];
extern const size_t ui_files_count;

#endif
