/*
 * The real clocks behind the virtual one (see clock.h): with clock.c, the only file that reads
 * the system time. Kept apart from clock.c because it needs nothing but libc: fogbank-init,
 * the small executable every instance boots as, links it without libuv.
 */
#include "common.h"
#include "clock.h"

#include <time.h>

int64_t
vclock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
vclock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
