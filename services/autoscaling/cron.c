/*
 * The 5-field cron expressions of scheduled actions (see cron.h): a parser into bit sets and
 * the search for the next matching minute. Pure computation on UTC civil dates; it reads no
 * clock and knows nothing of AWS.
 */
#include "emulator/common.h"
#include "services/autoscaling/cron.h"

#include <ctype.h>
#include <strings.h>

#define MS_PER_MINUTE (60LL * 1000)
#define MS_PER_DAY    (24LL * 60 * MS_PER_MINUTE)

/* How far cron_next looks: eight years covers every 29 February of a leap-day expression. */
#define CRON_HORIZON_DAYS (8 * 366)

static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                           "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
static const char *const wday_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };

/* One field's rules: its range and, for months and days of week, its names (value = lo + i). */
struct field {
    int lo, hi;               /* allowed values */
    const char *const *names; /* NULL: numbers only */
    size_t n_names;           /* entries of names */
};

/* A number or a name at *p, advancing it; -1 when there is neither. */
static int
parse_value(const char **p, const struct field *f)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        int v = 0;
        while (isdigit((unsigned char)*s) && v < 1000)
            v = v * 10 + (*s++ - '0');
        *p = s;
        return v;
    }
    for (size_t i = 0; i < f->n_names; i++) {
        if (strncasecmp(s, f->names[i], 3) == 0) {
            *p = s + 3;
            return f->names == month_names ? (int)i + 1 : (int)i;
        }
    }
    return -1;
}

/* Parses one field of length n into *bits; sets *any for a bare "*". 0 or -1. */
static int
parse_field(const char *s, size_t n, const struct field *f, uint64_t *bits, bool *any)
{
    char text[128];
    if (n == 0 || n >= sizeof(text))
        return -1;
    memcpy(text, s, n);
    text[n] = '\0';
    *bits = 0;
    /* strtok_r would skip empty list items ("1,,2", ",1"); they are errors. */
    if (text[0] == ',' || text[n - 1] == ',' || strstr(text, ",,"))
        return -1;
    /* As Vixie cron: a field starting with an asterisk (a step over all values too) counts
       as unrestricted when the two day fields are combined. */
    *any = text[0] == '*';
    char *save = NULL;
    for (char *part = strtok_r(text, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        const char *p = part;
        int lo, hi, step = 1;
        if (*p == '*') {
            lo = f->lo;
            hi = f->hi;
            p++;
        } else {
            lo = parse_value(&p, f);
            if (lo < 0)
                return -1;
            hi = lo;
            if (*p == '-') {
                p++;
                hi = parse_value(&p, f);
                if (hi < 0)
                    return -1;
            }
        }
        if (*p == '/') {
            p++;
            if (!isdigit((unsigned char)*p))
                return -1;
            step = parse_value(&p, &(struct field){ 0, 0, NULL, 0 });
            if (step <= 0)
                return -1;
            /* "5/15" means from 5 to the end of the range. */
            if (part[0] != '*' && !strchr(part, '-'))
                hi = f->hi;
        }
        if (*p != '\0' || lo < f->lo || hi > f->hi || lo > hi)
            return -1;
        for (int v = lo; v <= hi; v += step)
            *bits |= 1ULL << v;
    }
    return 0;
}

int
cron_parse(const char *text, struct cron_expr *out)
{
    static const struct field fields[5] = {
        { 0, 59, NULL, 0 },
        { 0, 23, NULL, 0 },
        { 1, 31, NULL, 0 },
        { 1, 12, month_names, ARRAY_SIZE(month_names) },
        { 0, 7, wday_names, ARRAY_SIZE(wday_names) },
    };
    uint64_t bits[5];
    bool any[5];
    const char *p = text;
    int i = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (i == 5)
            return -1;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (parse_field(start, (size_t)(p - start), &fields[i], &bits[i], &any[i]) < 0)
            return -1;
        i++;
    }
    if (i != 5)
        return -1;
    memset(out, 0, sizeof(*out));
    out->minutes = bits[0];
    out->hours = (uint32_t)bits[1];
    out->mdays = (uint32_t)bits[2];
    out->months = (uint16_t)bits[3];
    /* 7 is Sunday as 0 is. */
    out->wdays = (uint8_t)((bits[4] & 0x7f) | ((bits[4] >> 7) & 1));
    out->mday_any = any[2];
    out->wday_any = any[4];
    return 0;
}

/* The civil date of a day count since 1970-01-01 (H. Hinnant's days-to-civil algorithm). */
static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Whether the day (days since the epoch) passes the day-of-month, month and weekday fields. */
static bool
day_matches(const struct cron_expr *c, int64_t day)
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    if (!(c->months & (1u << m)))
        return false;
    int wday = (int)(((day % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    bool mday_ok = (c->mdays >> d) & 1;
    bool wday_ok = (c->wdays >> wday) & 1;
    /* Vixie cron: when both fields are restricted, either one matching is enough. */
    if (c->mday_any || c->wday_any)
        return mday_ok && wday_ok;
    return mday_ok || wday_ok;
}

int64_t
cron_next(const struct cron_expr *c, int64_t after_ms)
{
    int64_t t = after_ms - (after_ms % MS_PER_MINUTE + MS_PER_MINUTE) % MS_PER_MINUTE;
    t += MS_PER_MINUTE;
    int64_t day = t >= 0 ? t / MS_PER_DAY : (t - MS_PER_DAY + 1) / MS_PER_DAY;
    int minute_of_day = (int)((t - day * MS_PER_DAY) / MS_PER_MINUTE);
    for (int n = 0; n < CRON_HORIZON_DAYS; n++, day++, minute_of_day = 0) {
        if (!day_matches(c, day))
            continue;
        for (int mod = minute_of_day; mod < 24 * 60; mod++) {
            int h = mod / 60, mi = mod % 60;
            if (!((c->hours >> h) & 1)) {
                mod = h * 60 + 59;
                continue;
            }
            if ((c->minutes >> mi) & 1)
                return day * MS_PER_DAY + (int64_t)mod * MS_PER_MINUTE;
        }
    }
    return -1;
}
