/*
 * The server log on stderr. Lines are built in memory and written in batches: the HTTP front
 * calls log_flush() after each burst of requests, so a busy server makes one write per burst
 * instead of one per request (a write per line cost a third of the request rate), and
 * errors are flushed at once. Timestamps are real time from the clock module; nothing here
 * reads the system time itself or knows what it logs.
 */
#include "common.h"
#include "log.h"

#include "buf.h"

#include "clock.h"
#include "protocol/protocol.h"

#include <stdarg.h>

#define LOG_LINE_MAX 2048

static bool log_quiet;
static struct buf log_pending = BUF_INIT; /* lines not yet written */
static bool log_atexit_set;               /* log_flush registered with atexit */

#define LOG_FLUSH_AT (64 * 1024)

void
log_flush(void)
{
    if (log_pending.len) {
        fwrite(log_pending.data, 1, log_pending.len, stderr);
        fflush(stderr);
    }
    buf_release(&log_pending);
}

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
    if (!log_atexit_set) {
        atexit(log_flush);
        log_atexit_set = true;
    }
    buf_add(&log_pending, line, len);
    if (log_pending.len >= LOG_FLUSH_AT)
        log_flush();
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
    log_flush();
}
