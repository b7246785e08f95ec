/*
 * The virtual clock: the only source of "now" for AWS behaviour, and the only module that
 * reads the system time. Virtual time runs at `scale` times real time (0 freezes it) and
 * can be advanced, which fires every timer that falls due, in due order, each seeing "now"
 * equal to its own due time. Timers are (due, fn, arg); a callback returns the delay until
 * it should run again or VCLOCK_DONE. When a libuv loop is given, timers also fire on their
 * own as real time passes.
 */
#ifndef FB_CLOCK_H
#define FB_CLOCK_H

#include "common.h"

#include <uv.h>

#define VCLOCK_DONE (-1)

struct vclock;

/* Called when a timer falls due; returns the next delay in virtual ms (> 0) or VCLOCK_DONE. */
typedef int64_t vclock_fn(void *arg, int64_t now_ms);

/*
 * A clock starting at start_ms (virtual ms since the epoch; pass vclock_wall_ms() for "now")
 * running at `scale` (>= 0). loop may be NULL (tests): then timers fire only on advance.
 */
struct vclock *vclock_new(uv_loop_t *loop, double scale, int64_t start_ms);
/* Stops the real-time timer; the caller closes the loop afterwards. Accepts NULL. */
void vclock_free(struct vclock *c);

int64_t vclock_now(struct vclock *c);
double vclock_scale(const struct vclock *c);
/* Changes the rate from now on; virtual now is continuous across the change. */
void vclock_set_scale(struct vclock *c, double scale);
/* Jumps virtual time forward by ms (>= 0), firing due timers in order. Returns timers fired. */
size_t vclock_advance(struct vclock *c, int64_t ms);
/* Fires timers that are due at the current virtual now. Returns timers fired. */
size_t vclock_run_due(struct vclock *c);

/* Schedules fn(arg) delay_ms virtual ms from now (0 = at the next run). Returns an id > 0. */
uint64_t vclock_timer_add(struct vclock *c, int64_t delay_ms, vclock_fn *fn, void *arg);
/* Cancels a pending timer; false if it already fired or never existed. */
bool vclock_timer_cancel(struct vclock *c, uint64_t id);
size_t vclock_timers_pending(const struct vclock *c);

/* The real clocks (clock_real.c, which needs only libc: the instance init links it too). */
/* Real wall-clock time in ms since the epoch (for the start of virtual time and logs). */
int64_t vclock_wall_ms(void);
/* Real monotonic time in ns (for uptime and request latency in logs). */
uint64_t vclock_mono_ns(void);

/* Parses a duration such as "90s", "10m", "2h", "1d", "250ms", "1h30m" or "15" (seconds). */
int duration_parse(const char *s, int64_t *ms);

#endif
