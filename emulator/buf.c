/*
 * The growable string. All other modules build text through it; it never knows what the
 * text means.
 */
#include "common.h"
#include "buf.h"

#include <math.h>

char buf_empty[1];

void
buf_init(struct buf *b)
{
    b->data = buf_empty;
    b->len = 0;
    b->alloc = 0;
}

void
buf_release(struct buf *b)
{
    if (b->alloc)
        free(b->data);
    buf_init(b);
}

void
buf_grow(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n * 2;
    if (b->alloc) {
        b->data = xrealloc(b->data, n);
    } else {
        b->data = xmalloc(n);
        b->data[0] = '\0';
    }
    b->alloc = n;
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->alloc)
        b->data[0] = '\0';
}

void
buf_add(struct buf *b, const void *data, size_t n)
{
    if (n == 0)
        return;
    buf_grow(b, n);
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
    buf_grow(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    buf_grow(b, 64);
    int n = vsnprintf(b->data + b->len, b->alloc - b->len, fmt, cp);
    va_end(cp);
    if (n < 0)
        die("buf_vaddf: bad format");
    if ((size_t)n >= b->alloc - b->len) {
        buf_grow(b, (size_t)n);
        va_copy(cp, ap);
        vsnprintf(b->data + b->len, b->alloc - b->len, fmt, cp);
        va_end(cp);
    }
    b->len += (size_t)n;
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

char *
buf_detach(struct buf *b, size_t *len)
{
    char *s = b->alloc ? b->data : xstrdup("");
    if (len)
        *len = b->len;
    buf_init(b);
    return s;
}

void
buf_add_double(struct buf *b, double d)
{
    if (isnan(d)) {
        buf_adds(b, "NaN");
        return;
    }
    if (isinf(d)) {
        buf_adds(b, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    char tmp[40];
    snprintf(tmp, sizeof(tmp), "%.15g", d);
    if (strtod(tmp, NULL) != d)
        snprintf(tmp, sizeof(tmp), "%.17g", d);
    buf_adds(b, tmp);
}

void
buf_add_xml(struct buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '\r':
            rep = "&#xD;";
            break;
        default:
            break;
        }
        if (rep) {
            buf_add(b, s + start, i - start);
            buf_adds(b, rep);
            start = i + 1;
        }
    }
    buf_add(b, s + start, n - start);
}

static const char b64_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
buf_add_base64(struct buf *b, const void *data, size_t n)
{
    const unsigned char *p = data;
    buf_grow(b, (n + 2) / 3 * 4);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        buf_addc(b, b64_alphabet[(v >> 18) & 63]);
        buf_addc(b, b64_alphabet[(v >> 12) & 63]);
        buf_addc(b, i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=');
        buf_addc(b, i + 2 < n ? b64_alphabet[v & 63] : '=');
    }
}

static int
b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int
buf_add_base64_decoded(struct buf *b, const char *s, size_t n)
{
    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_addc(b, (char)((acc >> bits) & 0xff));
        }
    }
    return 0;
}
