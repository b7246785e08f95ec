/*
 * struct buf: the one growable string type (after git's strbuf). Invariants: `data` is never
 * NULL and always NUL-terminated, `len` excludes the NUL, and `data` may hold NUL bytes
 * (blobs, bodies). It knows nothing about any format beyond the escaping helpers below.
 */
#ifndef FB_BUF_H
#define FB_BUF_H

#include "common.h"

#include <stdarg.h>

struct buf {
    char *data;   /* never NULL; points at a static "" until the first growth */
    size_t len;   /* bytes in use, excluding the terminating NUL */
    size_t alloc; /* bytes allocated; 0 while data is the static "" */
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        buf_empty, 0, 0                                                                            \
    }
extern char buf_empty[];

void buf_init(struct buf *b);
/* Frees the storage and leaves b empty and reusable. Accepts a released buf. */
void buf_release(struct buf *b);
/* Makes room for `extra` more bytes. */
void buf_grow(struct buf *b, size_t extra);
void buf_reset(struct buf *b);
void buf_add(struct buf *b, const void *data, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) FB_PRINTF(2, 3);
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) FB_PRINTF(2, 0);
/* Hands the heap string to the caller (who frees it) and leaves b empty. */
char *buf_detach(struct buf *b, size_t *len);

/*
 * Appends the shortest text that reads back as the same double (0.1, not
 * 0.10000000000000001); non-finite values as NaN, Infinity, -Infinity (AWS's spelling).
 */
void buf_add_double(struct buf *b, double d);
/* Appends s with XML 1.0 escaping of & < > " ' (text and attribute safe). */
void buf_add_xml(struct buf *b, const char *s, size_t n);
/* Appends the standard base64 encoding of n bytes. */
void buf_add_base64(struct buf *b, const void *data, size_t n);
/* Decodes standard base64 (padding optional, no whitespace); -1 on bad input. */
int buf_add_base64_decoded(struct buf *b, const char *s, size_t n);

#endif
