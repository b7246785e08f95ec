/*
 * The 5-field Unix cron expressions of scheduled actions' Recurrence ("0 9 * * 1-5"): parsing
 * and the next time an expression matches, in UTC. Hand-written because Debian ships no C
 * library for parsing cron expressions (only Go, PHP, Ruby and JavaScript ones); it is small
 * and tested on its own (tests/unit/test_autoscaling_policies.c). It knows nothing of AWS.
 */
#ifndef FB_SERVICES_AUTOSCALING_CRON_H
#define FB_SERVICES_AUTOSCALING_CRON_H

#include "emulator/common.h"

/* A parsed expression: one bit per value each field allows. */
struct cron_expr {
    uint64_t minutes; /* bits 0..59 */
    uint32_t hours;   /* bits 0..23 */
    uint32_t mdays;   /* bits 1..31 */
    uint16_t months;  /* bits 1..12 */
    uint8_t wdays;    /* bits 0..6, Sunday = 0 (7 is accepted as Sunday too) */
    bool mday_any;    /* day-of-month was "*": only the day of week restricts the day */
    bool wday_any;    /* day-of-week was "*": only the day of month restricts the day */
};

/*
 * Parses "minute hour day-of-month month day-of-week": each field "*", a number, a range
 * "a-b", a step "*" "/n" or "a-b/n", or a comma list of those; months and days of the week
 * also by their English three-letter names (JAN, MON). 0, or -1 for anything else.
 */
int cron_parse(const char *text, struct cron_expr *out);

/*
 * The first time strictly after after_ms (virtual ms since the epoch, UTC) that the
 * expression matches, at a whole minute; -1 when none within the next eight years (such as
 * "0 0 31 2 *").
 */
int64_t cron_next(const struct cron_expr *c, int64_t after_ms);

#endif
