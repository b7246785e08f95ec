/*
 * The portability header: every .c file includes it first. It holds the standard includes,
 * the allocation wrappers that abort on out-of-memory, and a few small macros. It must not
 * grow project logic.
 */
#ifndef FB_COMMON_H
#define FB_COMMON_H

#define _GNU_SOURCE 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define FB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define FB_NORETURN     __attribute__((noreturn))
#else
#define FB_PRINTF(f, a)
#define FB_NORETURN
#endif

/* Allocation that never returns NULL: out of memory aborts with a message. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Prints "fogbank: fatal: <message>" to stderr and aborts. Only for broken invariants. */
FB_NORETURN void die(const char *fmt, ...) FB_PRINTF(1, 2);

/* ASCII case-insensitive equality; NULL equals nothing. */
bool str_ieq(const char *a, const char *b);
/* True when s starts with prefix. */
bool str_starts(const char *s, const char *prefix);

#endif
