/*
 * url.h — showing database URLs and connection strings without their
 * secrets, for logs and messages.
 *
 * A PostgreSQL URL may carry its password in the userinfo
 * (postgres://user:secret@host/db) or as a parameter (?password=secret),
 * and a libpq keyword/value string as password=secret; any of them can
 * reach a log line that names the database.
 */
#ifndef WEFT_URL_H
#define WEFT_URL_H

#include "common.h"

/* The text to show for a database URL or connection string: an owned copy
 * (free()) with every password replaced by "***"; NULL gives NULL.
 *
 * - URLs (any scheme, or none: user:secret@host/db): the userinfo is what
 *   libpq reads as such, up to the last '@' before the first '/' (a raw '@'
 *   in a password cannot leave a piece of it behind); everything after its
 *   first ':' is masked, even an empty password. The values of the
 *   parameters password= and sslpassword= (names compared
 *   case-insensitively, after percent-decoding) are masked up to the next
 *   '&', wherever such a parameter follows a '?' or a '&'.
 * - libpq keyword/value strings (host=h password='a b' ...: the text starts
 *   with a keyword and '='): the values of password and sslpassword are
 *   masked, quoted or not, with libpq's backslash escapes.
 * Everything else is copied as it is, percent-encoding included; a string
 * that contains no password comes back unchanged. */
char *url_mask_password(const char *url);

/* The value of a hexadecimal digit of percent-encoding (0-9, a-f, A-F), or
 * -1 for any other character. */
int url_hex_value(int c);

#endif
