/*
 * common.h — the first header of every weft source file.
 *
 * Pulls in the standard headers nearly every file needs, a few small macros,
 * and bans the unbounded string functions (any use is a compile error).
 */
#ifndef WEFT_COMMON_H
#define WEFT_COMMON_H

#define _GNU_SOURCE 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED(x) ((void)(x))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define WEFT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define WEFT_NORETURN __attribute__((noreturn))
#else
#define WEFT_PRINTF(f, a)
#define WEFT_NORETURN
#endif

/* Unbounded string functions are banned: use snprintf/buf instead. */
#define sprintf(...) weft_banned_sprintf
#define vsprintf(...) weft_banned_vsprintf
#define strcpy(...) weft_banned_strcpy
#define strcat(...) weft_banned_strcat
#define gets(...) weft_banned_gets

#endif
