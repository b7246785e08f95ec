/*
 * Allocation wrappers and tiny string helpers shared by every module. Nothing here knows
 * about AWS, HTTP or state.
 */
#include "common.h"

#include <stdarg.h>
#include <strings.h>

FB_NORETURN void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fogbank: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

void *
xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        die("out of memory (%zu x %zu bytes)", count, n);
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die("out of memory (%zu bytes)", n);
    return q;
}

char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

bool
str_ieq(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

bool
str_starts(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}
