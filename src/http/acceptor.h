/*
 * acceptor.h — the front of the HTTP server: accepts connections and
 * holds each one until its first request header has arrived, before
 * libmicrohttpd sees it.
 *
 * libmicrohttpd counts a connection against its limits from accept on, so
 * clients that connect and send nothing, or half a header, could fill
 * every slot; and it closes a connection whose request line it cannot
 * parse without answering. Here a connection is only peeked at (nothing
 * is read), and:
 *   - one whose request line cannot be HTTP (a TLS hello, a line without
 *     method, target and version) gets 400 and is closed;
 *   - one without a complete header after header_timeout_us is closed;
 *   - past max_pending connections waiting for their header, or
 *     max_pending_per_address from one address, the oldest waiting one
 *     (of that address) is closed, so idle connections never lock a
 *     client out;
 *   - one whose header is complete (or larger than the peek window, which
 *     libmicrohttpd then refuses itself) is handed over.
 * Requests after the first one on a keep-alive connection are
 * libmicrohttpd's alone.
 */
#ifndef WEFT_HTTP_ACCEPTOR_H
#define WEFT_HTTP_ACCEPTOR_H

#include "util/common.h"

#include <sys/socket.h>

typedef struct acceptor acceptor;

/* Takes over fd (a connected, non-blocking socket) whose peer is addr.
 * Returns 0; otherwise the callee has closed fd. */
typedef int (*acceptor_handover_fn)(void *arg, int fd, const struct sockaddr *addr, socklen_t addrlen);

typedef struct acceptor_config {
	size_t max_pending;             /* connections waiting for their header */
	size_t max_pending_per_address;
	int64_t header_timeout_us;
	acceptor_handover_fn handover;
	void *arg;                      /* borrowed */
} acceptor_config;

/* Whether the first len bytes of a connection can start an HTTP/1.x
 * request (method SP target SP HTTP/d.d CRLF, header lines, an empty
 * line; leading empty lines ignored), and whether its header is complete. */
typedef enum acceptor_head { HEAD_INCOMPLETE, HEAD_COMPLETE, HEAD_MALFORMED } acceptor_head;
acceptor_head acceptor_check_head(const char *data, size_t len);

/* Starts accepting on listen_fd (owned from now on, closed by
 * acceptor_stop) on a thread of its own. NULL with err set on failure
 * (listen_fd is then closed). */
acceptor *acceptor_start(int listen_fd, const acceptor_config *cfg, char *err, size_t errlen);
/* Stops accepting, closes the connections still waiting, joins, frees. */
void acceptor_stop(acceptor *a);

#endif
