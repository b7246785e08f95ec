/*
 * The virtual clock: timer order (by due, then by insertion), re-arming, cancelling,
 * callbacks that schedule during an advance, freezing, the libuv-driven path, and
 * duration parsing.
 */
#include "emulator/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <time.h>
#include <uv.h>

#include "emulator/clock.h"

#define T0 1795860000000LL /* 2026-11-28T10:00:00Z */

/* What callbacks record: which timer fired and the now it saw. */
struct trace {
    struct vclock *clock;
    int tags[64];
    int64_t seen[64];
    int64_t clock_now[64]; /* vclock_now() inside the callback */
    size_t n;
};

/* A timer's argument: the trace, its tag, and what it should return or do. */
struct tmr {
    struct trace *t;
    int tag;
    int64_t again;      /* returned: VCLOCK_DONE or a delay */
    int max_runs;       /* after this many runs return VCLOCK_DONE (0: no limit) */
    int runs;           /* how often it fired */
    uint64_t cancel_id; /* cancelled from the callback when non-zero */
    uint64_t self_id;   /* cancel itself when set */
};

static void
record(struct trace *t, int tag, int64_t now)
{
    assert_true(t->n < ARRAY_SIZE(t->tags));
    t->tags[t->n] = tag;
    t->seen[t->n] = now;
    t->clock_now[t->n] = vclock_now(t->clock);
    t->n++;
}

static int64_t
tmr_fire(void *arg, int64_t now)
{
    struct tmr *m = arg;
    m->runs++;
    record(m->t, m->tag, now);
    if (m->cancel_id)
        vclock_timer_cancel(m->t->clock, m->cancel_id);
    if (m->self_id)
        assert_true(vclock_timer_cancel(m->t->clock, m->self_id));
    if (m->max_runs && m->runs >= m->max_runs)
        return VCLOCK_DONE;
    return m->again;
}

static void
test_timers_fire_in_due_order(void **state)
{
    (void)state;
    struct vclock *c = vclock_new(NULL, 0, T0);
    struct trace t = { .clock = c };
    struct tmr a = { .t = &t, .tag = 3, .again = VCLOCK_DONE },
               b = { .t = &t, .tag = 1, .again = VCLOCK_DONE },
               d = { .t = &t, .tag = 2, .again = VCLOCK_DONE };
    vclock_timer_add(c, 300, tmr_fire, &a);
    vclock_timer_add(c, 100, tmr_fire, &b);
    vclock_timer_add(c, 200, tmr_fire, &d);
    assert_int_equal(vclock_timers_pending(c), 3);

    assert_int_equal(vclock_advance(c, 99), 0);
    assert_int_equal(t.n, 0);
    assert_int_equal(vclock_advance(c, 1000 - 99), 3);
    assert_int_equal(t.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(t.tags[i], i + 1);
        assert_int_equal(t.seen[i], T0 + 100 * (i + 1));
        assert_int_equal(t.clock_now[i], T0 + 100 * (i + 1));
    }
    assert_int_equal(vclock_now(c), T0 + 1000);
    assert_int_equal(vclock_timers_pending(c), 0);
    vclock_free(c);
}

static void
test_equal_due_timers_fire_in_insertion_order(void **state)
{
    (void)state;
    struct vclock *c = vclock_new(NULL, 0, T0);
    struct trace t = { .clock = c };
    struct tmr m[8];
    for (int i = 0; i < 8; i++) {
        m[i] = (struct tmr){ .t = &t, .tag = i, .again = VCLOCK_DONE };
        vclock_timer_add(c, 500, tmr_fire, &m[i]);
    }
    assert_int_equal(vclock_advance(c, 500), 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(t.tags[i], i);
        assert_int_equal(t.seen[i], T0 + 500);
    }
    vclock_free(c);
}

static void
test_timer_returning_a_delay_is_rearmed_at_due_plus_delay(void **state)
{
    (void)state;
    struct vclock *c = vclock_new(NULL, 0, T0);
    struct trace t = { .clock = c };
    struct tmr m = { .t = &t, .tag = 7, .again = 100 };
    uint64_t id = vclock_timer_add(c, 100, tmr_fire, &m);
    assert_int_equal(vclock_advance(c, 550), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(t.seen[i], T0 + 100 * (i + 1));
    assert_int_equal(vclock_timers_pending(c), 1);
    /* The id survives re-arming, so a periodic timer can still be cancelled. */
    assert_true(vclock_timer_cancel(c, id));
    assert_int_equal(vclock_advance(c, 1000), 0);
    assert_int_equal(m.runs, 5);
    vclock_free(c);
}

static void
test_cancel_removes_only_that_timer(void **state)
{
    (void)state;
    struct vclock *c = vclock_new(NULL, 0, T0);
    struct trace t = { .clock = c };
    struct tmr a = { .t = &t, .tag = 1, .again = VCLOCK_DONE },
               b = { .t = &t, .tag = 2, .again = VCLOCK_DONE },
               d = { .t = &t, .tag = 3, .again = VCLOCK_DONE };
    uint64_t ia = vclock_timer_add(c, 10, tmr_fire, &a);
    uint64_t ib = vclock_timer_add(c, 20, tmr_fire, &b);
    uint64_t id = vclock_timer_add(c, 30, tmr_fire, &d);
    assert_true(ia > 0 && ib > 0 && id > 0);
    assert_true(ia != ib && ib != id);
    assert_true(vclock_timer_cancel(c, ib));
    assert_false(vclock_timer_cancel(c, ib));
    assert_false(vclock_timer_cancel(c, 0));
    assert_false(vclock_timer_cancel(c, 0xdeadbeef12345ULL));
    assert_int_equal(vclock_timers_pending(c), 2);
    assert_int_equal(vclock_advance(c, 100), 2);
    assert_int_equal(t.tags[0], 1);
    assert_int_equal(t.tags[1], 3);
    /* Fired timers are gone; their ids stay dead even once their slots are reused. */
    assert_false(vclock_timer_cancel(c, ia));
    struct tmr e = { .t = &t, .tag = 4, .again = VCLOCK_DONE };
    uint64_t ie = vclock_timer_add(c, 10, tmr_fire, &e);
    assert_true(ie != ia && ie != ib && ie != id);
    assert_false(vclock_timer_cancel(c, ia));
    assert_false(vclock_timer_cancel(c, id));
    assert_true(vclock_timer_cancel(c, ie));
    vclock_free(c);
}

static void
test_callback_can_cancel_itself_and_others(void **state)
{
    (void)state;
    struct vclock *c = vclock_new(NULL, 0, T0);
    struct trace t = { .clock = c };
    struct tmr victim = { .t = &t, .tag = 2, .again = VCLOCK_DONE };
    struct tmr killer = { .t = &t, .tag = 1, .again = 50 };
    struct tmr periodic = { .t = &t, .tag = 3, .again = 10 };
    uint64_t iv = vclock_timer_add(c, 200, tmr_fire, &victim);
    killer.cancel_id = iv;
    vclock_timer_add(c, 100, tmr_fire, &killer);
    periodic.self_id = vclock_timer_add(c, 150, tmr_fire, &periodic);
    killer.max_runs = 1;
    assert_int_equal(vclock_advance(c, 1000), 2);
    assert_int_equal(victim.runs, 0);
    assert_int_equal(killer.runs, 1);
    /* It returned 10 but cancelled itself first: not re-armed. */
    assert_int_equal(periodic.runs, 1);
    assert_int_equal(vclock_timers_pending(c), 0);
    vclock_free(c);
}

static int64_t
order_fire(void *arg, int64_t now)
{
    int64_t *last = arg;
    assert_true(now >= *last);
    *last = now;
    return VCLOCK_DONE;
}

static void
test_advance_fires_many_timers_in_order(void **state)
{
    (void)state;
    struct vclock *c = vclock_new(NULL, 0, T0);
    int64_t last = 0;
    uint64_t x = 12345;
    uint64_t ids[2000];
    for (size_t i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t id = vclock_timer_add(c, (int64_t)((x >> 33) % 100000), order_fire, &last);
        if (i < ARRAY_SIZE(ids))
            ids[i] = id;
    }
    size_t cancelled = 0;
    for (size_t i = 0; i < ARRAY_SIZE(ids); i += 3)
        cancelled += vclock_timer_cancel(c, ids[i]);
    assert_int_equal(cancelled, (ARRAY_SIZE(ids) + 2) / 3);
    size_t fired = vclock_advance(c, 50000);
    fired += vclock_advance(c, 50000);
    assert_int_equal(fired, 20000 - cancelled);
    assert_int_equal(vclock_timers_pending(c), 0);
    assert_true(last <= T0 + 100000);
    vclock_free(c);
}

/* Adds timers from inside a callback: same due, later within the advance, and beyond it. */
struct spawner {
    struct trace *t;
    struct tmr same, soon, later;
};

static int64_t
spawn_fire(void *arg, int64_t now)
{
    struct spawner *s = arg;
    record(s->t, 0, now);
    vclock_timer_add(s->t->clock, 0, tmr_fire, &s->same);
    vclock_timer_add(s->t->clock, 50, tmr_fire, &s->soon);
    vclock_timer_add(s->t->clock, 5000, tmr_fire, &s->later);
    return VCLOCK_DONE;
}

static void
test_callbacks_adding_timers_during_advance(void **state)
{
    (void)state;
    struct vclock *c = vclock_new(NULL, 0, T0);
    struct trace t = { .clock = c };
    struct spawner s = { .t = &t };
    s.same = (struct tmr){ .t = &t, .tag = 1, .again = VCLOCK_DONE };
    s.soon = (struct tmr){ .t = &t, .tag = 2, .again = VCLOCK_DONE };
    s.later = (struct tmr){ .t = &t, .tag = 3, .again = VCLOCK_DONE };
    struct tmr peer = { .t = &t, .tag = 9, .again = VCLOCK_DONE };
    vclock_timer_add(c, 100, spawn_fire, &s);
    vclock_timer_add(c, 100, tmr_fire, &peer);
    assert_int_equal(vclock_advance(c, 1000), 4);
    /* spawner, its equal-due peer (added earlier), the new same-due timer, then +50. */
    int want_tags[] = { 0, 9, 1, 2 };
    int64_t want_seen[] = { T0 + 100, T0 + 100, T0 + 100, T0 + 150 };
    assert_int_equal(t.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(t.tags[i], want_tags[i]);
        assert_int_equal(t.seen[i], want_seen[i]);
    }
    assert_int_equal(vclock_timers_pending(c), 1);
    assert_int_equal(vclock_advance(c, 4100), 1);
    assert_int_equal(t.tags[4], 3);
    assert_int_equal(t.seen[4], T0 + 5100);
    vclock_free(c);
}

static void
test_scale_zero_freezes_the_clock(void **state)
{
    (void)state;
    struct vclock *c = vclock_new(NULL, 0, T0);
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    assert_int_equal(vclock_now(c), T0);
    assert_true(vclock_scale(c) == 0);
    vclock_advance(c, 1234);
    assert_int_equal(vclock_now(c), T0 + 1234);
    vclock_free(c);
}

static void
test_scale_change_keeps_now_continuous(void **state)
{
    (void)state;
    struct vclock *c = vclock_new(NULL, 1000, T0);
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    int64_t before = vclock_now(c);
    assert_true(before >= T0 + 20 * 1000); /* 20 ms real at x1000 */
    vclock_set_scale(c, 0);
    int64_t frozen = vclock_now(c);
    assert_true(frozen >= before);
    nanosleep(&ts, NULL);
    assert_int_equal(vclock_now(c), frozen);
    vclock_set_scale(c, -3); /* nonsense is treated as frozen */
    assert_true(vclock_scale(c) == 0);
    vclock_free(c);
}

static void
test_run_due_fires_only_what_is_due(void **state)
{
    (void)state;
    struct vclock *c = vclock_new(NULL, 0, T0);
    struct trace t = { .clock = c };
    struct tmr now_m = { .t = &t, .tag = 1, .again = VCLOCK_DONE },
               later = { .t = &t, .tag = 2, .again = VCLOCK_DONE };
    vclock_timer_add(c, 0, tmr_fire, &now_m);
    vclock_timer_add(c, 1, tmr_fire, &later);
    assert_int_equal(vclock_run_due(c), 1);
    assert_int_equal(t.seen[0], T0);
    assert_int_equal(vclock_now(c), T0);
    assert_int_equal(vclock_timers_pending(c), 1);
    vclock_free(c);
}

/* With a loop and a fast clock, timers fire on their own as real time passes. */
static int64_t
loop_fire(void *arg, int64_t now)
{
    int64_t *seen = arg;
    *seen = now;
    return VCLOCK_DONE;
}

static void
test_loop_fires_timers_in_real_time(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct vclock *c = vclock_new(&loop, 100000, T0);
    int64_t seen = 0;
    vclock_timer_add(c, 60 * 1000, loop_fire, &seen); /* a virtual minute: ~0.6 ms real */
    uint64_t start = vclock_mono_ns();
    uv_run(&loop, UV_RUN_DEFAULT); /* returns when the clock's uv timer goes idle */
    assert_true(seen >= T0 + 60 * 1000);
    assert_true(vclock_now(c) >= seen);
    assert_true(vclock_mono_ns() - start < 2000ull * 1000 * 1000);
    assert_int_equal(vclock_timers_pending(c), 0);

    /* Frozen: a future timer never fires on its own, but a due one does. */
    vclock_set_scale(c, 0);
    int64_t due_seen = 0, future_seen = 0;
    vclock_timer_add(c, 10, loop_fire, &future_seen);
    vclock_timer_add(c, 0, loop_fire, &due_seen);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(due_seen > 0);
    assert_int_equal(future_seen, 0);
    assert_int_equal(vclock_timers_pending(c), 1);

    vclock_free(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_duration_parse_accepts_units_and_bare_seconds(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t ms;
    } ok[] = {
        { "90s", 90000 },
        { "10m", 600000 },
        { "2h", 7200000 },
        { "1d", 86400000 },
        { "250ms", 250 },
        { "1h30m", 5400000 },
        { "15", 15000 },
        { "0", 0 },
        { "0s", 0 },
        { "1m5s", 65000 },
        { "1d2h3m4s5ms", 93784005 },
        { "1s500ms", 1500 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        int64_t ms = -1;
        assert_int_equal(duration_parse(ok[i].s, &ms), 0);
        assert_int_equal(ms, ok[i].ms);
    }
}

static void
test_duration_parse_rejects_garbage(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "-5s",
        "+5s",
        "s",
        "10x",
        "1.5h",
        "1h30",
        " 10s",
        "10s ",
        "10 s",
        "10S",
        "abc",
        "9223372036854775807s",
        "99999999999999999999",
        "106751991168d",
        "1h-5m",
        "ms",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        int64_t ms = 42;
        assert_int_equal(duration_parse(bad[i], &ms), -1);
        assert_int_equal(ms, 42);
    }
    int64_t ms;
    assert_int_equal(duration_parse(NULL, &ms), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_fire_in_due_order),
        cmocka_unit_test(test_equal_due_timers_fire_in_insertion_order),
        cmocka_unit_test(test_timer_returning_a_delay_is_rearmed_at_due_plus_delay),
        cmocka_unit_test(test_cancel_removes_only_that_timer),
        cmocka_unit_test(test_callback_can_cancel_itself_and_others),
        cmocka_unit_test(test_advance_fires_many_timers_in_order),
        cmocka_unit_test(test_callbacks_adding_timers_during_advance),
        cmocka_unit_test(test_scale_zero_freezes_the_clock),
        cmocka_unit_test(test_scale_change_keeps_now_continuous),
        cmocka_unit_test(test_run_due_fires_only_what_is_due),
        cmocka_unit_test(test_loop_fires_timers_in_real_time),
        cmocka_unit_test(test_duration_parse_accepts_units_and_bare_seconds),
        cmocka_unit_test(test_duration_parse_rejects_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
