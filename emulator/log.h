/*
 * The server log: one line per request and the occasional notice, to stderr. Timestamps
 * are real wall-clock time (the log is for humans), taken through the clock module.
 */
#ifndef FB_LOG_H
#define FB_LOG_H

#include "common.h"

/* Prints "<iso time> <message>\n" to stderr. */
void log_info(const char *fmt, ...) FB_PRINTF(1, 2);
/* Prints "<iso time> error: <message>\n" to stderr. */
void log_error(const char *fmt, ...) FB_PRINTF(1, 2);
/* Writes the lines logged so far (log_info batches them; log_error flushes at once). */
void log_flush(void);
/* Silences log_info (tests, benchmarks with --quiet). */
void log_set_quiet(bool quiet);

#endif
