/*
 * Helpers every wire protocol shares: form/query-string decoding, the timestamp formats AWS
 * puts on the wire, and the protocol lookup by model name. Pure conversions only: nothing
 * here reads the system clock or knows any service.
 */
#include "emulator/common.h"
#include "emulator/protocol/protocol.h"

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into out; `plus_space` turns '+' into ' ' (form encoding). */
static int
decode_component(struct buf *out, const char *s, size_t n, bool plus_space)
{
    buf_grow(out, n);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 1 < n ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            buf_add(out, s + start, i - start);
            buf_addc(out, (char)(hi << 4 | lo));
            i += 2;
            start = i + 1;
        } else if (plus_space && s[i] == '+') {
            buf_add(out, s + start, i - start);
            buf_addc(out, ' ');
            start = i + 1;
        }
    }
    buf_add(out, s + start, n - start);
    return 0;
}

int
url_decode(struct buf *out, const char *s, size_t n)
{
    return decode_component(out, s, n, false);
}

static void
params_push(struct params *p, char *key, char *value)
{
    if (p->n == p->alloc) {
        p->alloc = p->alloc ? p->alloc * 2 : 16;
        p->v = xrealloc(p->v, p->alloc * sizeof(*p->v));
    }
    p->v[p->n].key = key;
    p->v[p->n].value = value;
    p->n++;
}

int
params_parse(struct params *p, const char *s, size_t n)
{
    struct buf key = BUF_INIT, value = BUF_INIT;
    size_t i = 0;
    int rc = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && s[end] != '&')
            end++;
        /* "a&&b" and a trailing '&' carry no pair; AWS ignores them. */
        if (end > i) {
            size_t eq = i;
            while (eq < end && s[eq] != '=')
                eq++;
            buf_reset(&key);
            buf_reset(&value);
            if (decode_component(&key, s + i, eq - i, true) < 0 ||
                (eq < end && decode_component(&value, s + eq + 1, end - eq - 1, true) < 0)) {
                rc = -1;
                break;
            }
            params_push(p, xstrndup(key.data, key.len), xstrndup(value.data, value.len));
        }
        i = end + 1;
    }
    buf_release(&key);
    buf_release(&value);
    return rc;
}

const char *
params_get(const struct params *p, const char *key)
{
    for (size_t i = p->n; i > 0; i--)
        if (strcmp(p->v[i - 1].key, key) == 0)
            return p->v[i - 1].value;
    return NULL;
}

void
params_release(struct params *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].key);
        free(p->v[i].value);
    }
    free(p->v);
    p->v = NULL;
    p->n = 0;
    p->alloc = 0;
}

/* ---- time: proleptic Gregorian arithmetic (H. Hinnant's days_from_civil), no libc TZ ---- */

static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

struct civil {
    int64_t year;
    int month, day, hour, min, sec, ms, wday; /* wday: 0 = Sunday */
};

static void
civil_from_ms(int64_t ms, struct civil *c)
{
    int64_t days = ms / 86400000, rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = (int)(rem / 3600000);
    c->min = (int)(rem / 60000 % 60);
    c->sec = (int)(rem / 1000 % 60);
    c->ms = (int)(rem % 1000);
    /* 1970-01-01 was a Thursday. */
    c->wday = (int)(((days % 7) + 11) % 7);
}

void
time_format_iso8601(int64_t ms, char out[32])
{
    struct civil c;
    civil_from_ms(ms, &c);
    snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)c.year, c.month, c.day,
             c.hour, c.min, c.sec, c.ms);
}

static const char wday_names[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char month_names[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void
time_format_rfc1123(int64_t ms, char out[40])
{
    struct civil c;
    civil_from_ms(ms, &c);
    snprintf(out, 40, "%s, %02d %s %04lld %02d:%02d:%02d GMT", wday_names[c.wday], c.day,
             month_names[c.month - 1], (long long)c.year, c.hour, c.min, c.sec);
}

static bool
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly `width` digits at *s; -1 if they are not all digits. */
static int
read_digits(const char **s, int width)
{
    int v = 0;
    for (int i = 0; i < width; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *s += width;
    return v;
}

static int
civil_to_ms(int64_t y, int mo, int d, int h, int mi, int sec, int ms, int64_t *out)
{
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
        return -1;
    *out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + ms;
    return 0;
}

/* Up to three fraction digits count; more are truncated (the wire precision is ms). */
static int
read_fraction(const char **s)
{
    const char *p = *s;
    int ms = 0, n = 0;
    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9') {
        if (n < 3)
            ms = ms * 10 + (*p - '0');
        n++;
        p++;
    }
    for (; n < 3; n++)
        ms *= 10;
    *s = p;
    return ms;
}

static int
parse_iso8601(const char *s, int64_t *ms)
{
    int y = read_digits(&s, 4);
    if (y < 0 || *s++ != '-')
        return -1;
    int mo = read_digits(&s, 2);
    if (mo < 0 || *s++ != '-')
        return -1;
    int d = read_digits(&s, 2);
    if (d < 0)
        return -1;
    int h = 0, mi = 0, sec = 0, frac = 0;
    if (*s == 'T' || *s == 't' || *s == ' ') {
        s++;
        h = read_digits(&s, 2);
        if (h < 0 || *s++ != ':')
            return -1;
        mi = read_digits(&s, 2);
        if (mi < 0)
            return -1;
        if (*s == ':') {
            s++;
            sec = read_digits(&s, 2);
            if (sec < 0)
                return -1;
            if (*s == '.' || *s == ',') {
                s++;
                frac = read_fraction(&s);
                if (frac < 0)
                    return -1;
            }
        }
    }
    int64_t offset_min = 0;
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s++ == '-' ? -1 : 1;
        int oh = read_digits(&s, 2);
        if (oh < 0)
            return -1;
        if (*s == ':')
            s++;
        int om = 0;
        if (*s)
            om = read_digits(&s, 2);
        if (om < 0 || oh > 23 || om > 59)
            return -1;
        offset_min = sign * (oh * 60 + om);
    }
    /* A missing zone means UTC, as botocore's parser assumes. */
    if (*s != '\0')
        return -1;
    int64_t t;
    if (civil_to_ms(y, mo, d, h, mi, sec, frac, &t) < 0)
        return -1;
    *ms = t - offset_min * 60000;
    return 0;
}

/* "Sat, 28 Nov 2026 10:00:00 GMT" (the weekday is not checked against the date). */
static int
parse_rfc1123(const char *s, int64_t *ms)
{
    int wd = 0;
    while (wd < 7 && strncmp(s, wday_names[wd], 3) != 0)
        wd++;
    if (wd == 7 || s[3] != ',' || s[4] != ' ')
        return -1;
    s += 5;
    int d = read_digits(&s, 2);
    if (d < 0 || *s++ != ' ')
        return -1;
    int mo = 0;
    while (mo < 12 && strncmp(s, month_names[mo], 3) != 0)
        mo++;
    if (mo == 12 || s[3] != ' ')
        return -1;
    s += 4;
    int y = read_digits(&s, 4);
    if (y < 0 || *s++ != ' ')
        return -1;
    int h = read_digits(&s, 2);
    if (h < 0 || *s++ != ':')
        return -1;
    int mi = read_digits(&s, 2);
    if (mi < 0 || *s++ != ':')
        return -1;
    int sec = read_digits(&s, 2);
    if (sec < 0 || (strcmp(s, " GMT") != 0 && strcmp(s, " UTC") != 0 && strcmp(s, " +0000") != 0))
        return -1;
    return civil_to_ms(y, mo + 1, d, h, mi, sec, 0, ms);
}

/* Epoch seconds, optionally negative and fractional: "1700000000", "1700000000.5". */
static int
parse_epoch(const char *s, int64_t *ms)
{
    bool neg = *s == '-';
    if (neg)
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    int64_t secs = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        /* Beyond ~292 million years the ms value would overflow int64. */
        if (secs > INT64_MAX / 10000)
            return -1;
        secs = secs * 10 + (*s - '0');
    }
    int frac = 0;
    if (*s == '.') {
        s++;
        frac = read_fraction(&s);
        if (frac < 0)
            return -1;
    }
    if (*s != '\0')
        return -1;
    int64_t v = secs * 1000 + frac;
    *ms = neg ? -v : v;
    return 0;
}

int
time_parse(const char *s, int64_t *ms)
{
    if (!s || !*s)
        return -1;
    if (parse_epoch(s, ms) == 0)
        return 0;
    if (parse_iso8601(s, ms) == 0)
        return 0;
    return parse_rfc1123(s, ms);
}

const struct protocol *
protocol_for(const char *name)
{
    static const struct protocol *const all[] = { &proto_query, &proto_ec2, &proto_json,
                                                  &proto_restxml };
    if (!name)
        return NULL;
    for (size_t i = 0; i < ARRAY_SIZE(all); i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

char *
protocol_prerender(const char *service, const char *shape_name, const cJSON *node, size_t *len)
{
    const struct model *m = model_get(service);
    const cJSON *shape = m ? model_shape(m, shape_name) : NULL;
    const char *proto = m ? model_protocol(m) : NULL;
    *len = 0;
    if (!shape || !proto)
        return NULL;
    enum qflat_flavor fl;
    if (strcmp(proto, "ec2") == 0)
        fl = QFLAT_EC2;
    else if (strcmp(proto, "query") == 0)
        fl = QFLAT_QUERY;
    else
        return NULL;
    struct buf b = BUF_INIT;
    qflat_xml_members(&b, m, shape, node, fl);
    *len = b.len;
    return buf_detach(&b, NULL);
}
