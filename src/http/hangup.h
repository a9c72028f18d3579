/*
 * hangup.h — notices when the client of a waiting request goes away.
 *
 * libmicrohttpd does not watch a suspended connection, so a long poll
 * whose client closed its connection would wait its whole time and then
 * be answered into the void. For a claim, that answer carries jobs that
 * nobody runs, which come back only when their leases expire. The server
 * watches the sockets of its suspended long polls here (epoll, one
 * thread) and is told of each one the peer shut, so that it can abandon
 * the request's command (engine_abandon).
 *
 * A peer that only half-closes its side (shutdown(SHUT_WR)) is told apart
 * from one that is gone by no means short of writing to it, so it is
 * treated as gone: its long poll is answered at once with nothing, which
 * costs it one more request, never a job.
 */
#ifndef WEFT_HTTP_HANGUP_H
#define WEFT_HTTP_HANGUP_H

#include "util/common.h"

typedef struct hangup_watch hangup_watch;

/* Called on the watcher's thread with the key of a watched socket whose
 * peer shut its side; the watch stays until hangup_watch_remove(). */
typedef void (*hangup_fn)(void *arg, uint64_t key);

/* Starts the watcher thread; NULL with err filled on failure. */
hangup_watch *hangup_watch_start(hangup_fn gone, void *arg, char *err, size_t errlen);
/* Watches fd under key: 0, or -1 (errno) when it cannot. A peer already
 * gone is reported at once. */
int hangup_watch_add(hangup_watch *w, int fd, uint64_t key);
/* Stops watching fd (before it is closed or handed back). */
void hangup_watch_remove(hangup_watch *w, int fd);
/* Stops the thread and frees the watcher; no callback runs after it. */
void hangup_watch_stop(hangup_watch *w);

#endif
