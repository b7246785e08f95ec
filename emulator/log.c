/*
 * The server log on stderr. Each line is built in memory and written with one call, so
 * lines never interleave. Timestamps are real time from the clock module; nothing here
 * reads the system time itself or knows what it logs.
 */
#include "common.h"
#include "log.h"

#include "clock.h"
#include "protocol/protocol.h"

#include <stdarg.h>

#define LOG_LINE_MAX 2048

static bool log_quiet;

void
log_set_quiet(bool quiet)
{
    log_quiet = quiet;
}

static void log_write(const char *tag, const char *fmt, va_list ap) FB_PRINTF(2, 0);

static void
log_write(const char *tag, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    char when[32];
    time_format_iso8601(vclock_wall_ms(), when);
    int n = snprintf(line, sizeof(line), "%s %s", when, tag);
    if (n < 0)
        return;
    size_t len = (size_t)n;
    if (len < sizeof(line)) {
        int m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
        if (m > 0)
            len += (size_t)m;
    }
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2; /* truncated: keep room for the newline */
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}

void
log_info(const char *fmt, ...)
{
    if (log_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_write("", fmt, ap);
    va_end(ap);
}

void
log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_write("error: ", fmt, ap);
    va_end(ap);
}
