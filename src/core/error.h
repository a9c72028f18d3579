/*
 * error.h — weft's one error namespace.
 *
 * Every function that can fail returns 0 or one of these negative codes
 * (or NULL where it returns a pointer). Outcomes that are not failures —
 * a guarded update whose guard did not match, a request that changed
 * nothing, a lookup that found no due row — are reported through
 * out-parameters, never as return codes. The HTTP layer maps these codes
 * to statuses in one place (http/http.h); the store maps its backends'
 * errors onto them; nothing else invents codes of its own.
 */
#ifndef WEFT_CORE_ERROR_H
#define WEFT_CORE_ERROR_H

enum {
	WEFT_OK = 0,
	WEFT_EINTERNAL = -1,     /* a bug or corrupt stored data; logged where found */
	WEFT_ESTORE = -2,        /* a database statement failed */
	WEFT_EUNAVAILABLE = -3,  /* the database cannot be reached, or the server is stopping */
	WEFT_ERETRY = -4,        /* a conflict with another node's transaction: may be tried again */
	WEFT_ENOTFOUND = -5,     /* no such object */
	WEFT_ECONFLICT = -6,     /* the object's state does not allow the operation */
	WEFT_EINVALID = -7,      /* the input is malformed or breaks a rule */
	WEFT_ETOOLARGE = -8,     /* the input exceeds a client-sized limit */
	WEFT_EOVERLOADED = -9,   /* too much work queued: the client may send it again after a pause */
	WEFT_EUNAUTHORIZED = -10, /* no valid credentials */
	WEFT_EFORBIDDEN = -11,   /* valid credentials that do not allow this */
	WEFT_EREUSED = -12,      /* an idempotency key already used for a different request */
	WEFT_EINDOUBT = -13,     /* the connection was lost during COMMIT: it may or may not have committed */
	WEFT_EFULL = -14,        /* a bounded buffer overflowed: its oldest entries were dropped */
	WEFT_E__LAST = -15
};

/* A short lowercase description of a code ("not found"); "unknown error"
 * for anything else. Never NULL; static storage. */
const char *weft_strerror(int code);

/* The code's stable identifier ("not_found"), for logs, error bodies and
 * stored outcomes. Never NULL; static storage. */
const char *weft_errname(int code);
/* The code named `name` (weft_errname's inverse): 0, or WEFT_EINVALID for
 * a name that is not one. */
int weft_errcode(const char *name, int *code);

#endif
