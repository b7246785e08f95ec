/*
 * The virtual clock and its timers: a binary min-heap keyed by (due, insertion order) and,
 * when a libuv loop is given, one uv_timer_t armed for the real moment the earliest timer
 * falls due. The system time itself is read in clock_real.c, apart so that the instance init
 * (fogbank-init, which links no libuv) can use it too. This file must not know what any timer
 * is for.
 */
#include "common.h"
#include "clock.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <time.h>

#define SLOT_NONE UINT32_MAX

/*
 * A timer's identity and payload. Slots are reused through a free list; a timer id is
 * (generation << 32 | slot), so a stale id never matches a reused slot and cancel is O(1).
 */
struct vslot {
    vclock_fn *fn;      /* callback; NULL while the slot is free */
    void *arg;          /* callback argument, borrowed */
    uint32_t gen;       /* bumped every time the slot is freed; part of the id */
    uint32_t heap_idx;  /* position in the heap, SLOT_NONE while firing or free */
    uint32_t next_free; /* free-list link while free */
};

/* One heap entry; due and seq are inline so sifting never touches the slots. */
struct ventry {
    int64_t due;   /* virtual ms since the epoch */
    uint64_t seq;  /* insertion order: breaks ties between equal dues */
    uint32_t slot; /* index into vclock.slots */
};

struct vclock {
    uv_loop_t *loop;       /* NULL: timers fire only on advance / run_due */
    uv_timer_t *uv_timer;  /* heap-allocated: freed by its close callback, after the clock */
    double scale;          /* virtual ms per real ms, >= 0 */
    int64_t base_virtual;  /* virtual ms at base_mono */
    uint64_t base_mono;    /* real monotonic ns at which base_virtual was true */
    struct ventry *heap;   /* min-heap by (due, seq) */
    size_t heap_len;       /* entries in use */
    size_t heap_alloc;     /* entries allocated */
    struct vslot *slots;   /* timer payloads, indexed by ventry.slot */
    uint32_t n_slots;      /* slots allocated */
    uint32_t free_head;    /* first free slot, SLOT_NONE when all are in use */
    uint64_t next_seq;     /* next insertion sequence number */
    bool firing;           /* inside fire_until(): now is pinned and nesting is refused */
    int64_t pinned;        /* vclock_now() while firing: the due time of the running timer */
    uint32_t firing_slot;  /* slot of the running callback, SLOT_NONE otherwise */
    bool firing_cancelled; /* the running timer cancelled itself: do not re-arm it */
};

/* a + b without signed overflow: saturates at INT64_MAX. */
static int64_t
add_sat(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static double
sane_scale(double scale)
{
    return (isfinite(scale) && scale > 0) ? scale : 0;
}

/* ---- the heap ---- */

static bool
entry_less(const struct ventry *a, const struct ventry *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void
heap_set(struct vclock *c, size_t i, struct ventry e)
{
    c->heap[i] = e;
    c->slots[e.slot].heap_idx = (uint32_t)i;
}

static void
sift_up(struct vclock *c, size_t i)
{
    struct ventry e = c->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!entry_less(&e, &c->heap[parent]))
            break;
        heap_set(c, i, c->heap[parent]);
        i = parent;
    }
    heap_set(c, i, e);
}

static void
sift_down(struct vclock *c, size_t i)
{
    struct ventry e = c->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= c->heap_len)
            break;
        if (child + 1 < c->heap_len && entry_less(&c->heap[child + 1], &c->heap[child]))
            child++;
        if (!entry_less(&c->heap[child], &e))
            break;
        heap_set(c, i, c->heap[child]);
        i = child;
    }
    heap_set(c, i, e);
}

static void
heap_push(struct vclock *c, int64_t due, uint32_t slot)
{
    if (c->heap_len == c->heap_alloc) {
        c->heap_alloc = c->heap_alloc ? 2 * c->heap_alloc : 16;
        c->heap = xrealloc(c->heap, c->heap_alloc * sizeof(*c->heap));
    }
    c->heap[c->heap_len] = (struct ventry){ due, c->next_seq++, slot };
    c->heap_len++;
    sift_up(c, c->heap_len - 1);
}

/* Removes entry i; its slot keeps its payload with heap_idx = SLOT_NONE. */
static void
heap_remove(struct vclock *c, size_t i)
{
    c->slots[c->heap[i].slot].heap_idx = SLOT_NONE;
    c->heap_len--;
    if (i == c->heap_len)
        return;
    struct ventry last = c->heap[c->heap_len];
    heap_set(c, i, last);
    if (i > 0 && entry_less(&last, &c->heap[(i - 1) / 2]))
        sift_up(c, i);
    else
        sift_down(c, i);
}

/* ---- slots ---- */

static uint32_t
slot_alloc(struct vclock *c, vclock_fn *fn, void *arg)
{
    if (c->free_head == SLOT_NONE) {
        uint32_t old = c->n_slots;
        uint32_t n = old ? 2 * old : 16;
        if (n <= old || n == SLOT_NONE)
            die("vclock: too many timers");
        c->slots = xrealloc(c->slots, n * sizeof(*c->slots));
        for (uint32_t i = old; i < n; i++)
            c->slots[i] = (struct vslot){ NULL, NULL, 1, SLOT_NONE, i + 1 < n ? i + 1 : SLOT_NONE };
        c->free_head = old;
        c->n_slots = n;
    }
    uint32_t s = c->free_head;
    c->free_head = c->slots[s].next_free;
    c->slots[s].fn = fn;
    c->slots[s].arg = arg;
    c->slots[s].heap_idx = SLOT_NONE;
    return s;
}

static void
slot_free(struct vclock *c, uint32_t s)
{
    struct vslot *sl = &c->slots[s];
    sl->fn = NULL;
    sl->arg = NULL;
    sl->gen = sl->gen == UINT32_MAX ? 1 : sl->gen + 1;
    sl->heap_idx = SLOT_NONE;
    sl->next_free = c->free_head;
    c->free_head = s;
}

static uint64_t
slot_id(const struct vclock *c, uint32_t s)
{
    return (uint64_t)c->slots[s].gen << 32 | s;
}

/* The slot an id names while its timer is pending or running, else SLOT_NONE. */
static uint32_t
slot_of_id(const struct vclock *c, uint64_t id)
{
    uint32_t s = (uint32_t)(id & 0xffffffffu);
    if (s >= c->n_slots || !c->slots[s].fn || c->slots[s].gen != (uint32_t)(id >> 32))
        return SLOT_NONE;
    return s;
}

/* ---- real time ---- */

static void
on_uv_timer(uv_timer_t *t)
{
    vclock_run_due(t->data);
}

static void
on_uv_timer_closed(uv_handle_t *h)
{
    free(h);
}

/*
 * Arms the loop timer for the real moment the earliest timer falls due at the current
 * scale. A timer already due fires at the next loop iteration even when the clock is frozen
 * ("0 = at the next run"); a future one never fires on its own at scale 0.
 */
static void
rearm(struct vclock *c)
{
    if (!c->loop || c->firing)
        return;
    if (c->heap_len == 0) {
        uv_timer_stop(c->uv_timer);
        return;
    }
    int64_t delta = c->heap[0].due - vclock_now(c);
    uint64_t real_ms = 0;
    if (delta > 0) {
        if (c->scale == 0) {
            uv_timer_stop(c->uv_timer);
            return;
        }
        double ms = ceil((double)delta / c->scale);
        real_ms = ms > 1e12 ? (uint64_t)1e12 : (uint64_t)ms;
    }
    /* The loop's cached time may be stale in the middle of an iteration. */
    uv_update_time(c->loop);
    uv_timer_start(c->uv_timer, on_uv_timer, real_ms, 0);
}

/* ---- the clock ---- */

struct vclock *
vclock_new(uv_loop_t *loop, double scale, int64_t start_ms)
{
    struct vclock *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->scale = sane_scale(scale);
    c->base_virtual = start_ms;
    c->base_mono = vclock_mono_ns();
    c->free_head = SLOT_NONE;
    c->firing_slot = SLOT_NONE;
    c->next_seq = 1;
    if (loop) {
        c->uv_timer = xmalloc(sizeof(*c->uv_timer));
        uv_timer_init(loop, c->uv_timer);
        c->uv_timer->data = c;
    }
    return c;
}

void
vclock_free(struct vclock *c)
{
    if (!c)
        return;
    if (c->uv_timer) {
        uv_timer_stop(c->uv_timer);
        c->uv_timer->data = NULL;
        uv_close((uv_handle_t *)c->uv_timer, on_uv_timer_closed);
    }
    free(c->heap);
    free(c->slots);
    free(c);
}

int64_t
vclock_now(struct vclock *c)
{
    if (c->firing)
        return c->pinned;
    if (c->scale == 0)
        return c->base_virtual;
    uint64_t elapsed_ns = vclock_mono_ns() - c->base_mono;
    return add_sat(c->base_virtual, (int64_t)((double)elapsed_ns / 1e6 * c->scale));
}

double
vclock_scale(const struct vclock *c)
{
    return c->scale;
}

/* Makes virtual now `v` true at this real instant. */
static void
rebase(struct vclock *c, int64_t v)
{
    c->base_virtual = v;
    c->base_mono = vclock_mono_ns();
}

void
vclock_set_scale(struct vclock *c, double scale)
{
    rebase(c, vclock_now(c));
    c->scale = sane_scale(scale);
    rearm(c);
}

/*
 * Fires every timer due at or before target in (due, seq) order, pinning now to each due
 * time (never moving it backwards: an overdue timer sees the time the pass started at).
 * Callbacks may add and cancel timers, themselves included; a timer re-added for a due
 * <= target fires in this same pass.
 */
static size_t
fire_until(struct vclock *c, int64_t start, int64_t target)
{
    size_t fired = 0;
    c->firing = true;
    c->pinned = start;
    while (c->heap_len > 0 && c->heap[0].due <= target) {
        struct ventry top = c->heap[0];
        heap_remove(c, 0);
        if (top.due > c->pinned)
            c->pinned = top.due;
        c->firing_slot = top.slot;
        c->firing_cancelled = false;
        vclock_fn *fn = c->slots[top.slot].fn;
        void *arg = c->slots[top.slot].arg;
        int64_t next = fn(arg, c->pinned);
        assert(next > 0 || next == VCLOCK_DONE);
        fired++;
        if (next > 0 && !c->firing_cancelled)
            heap_push(c, add_sat(top.due, next), top.slot);
        else
            slot_free(c, top.slot);
    }
    c->firing_slot = SLOT_NONE;
    c->firing = false;
    return fired;
}

size_t
vclock_advance(struct vclock *c, int64_t ms)
{
    if (c->firing)
        die("vclock_advance called from a timer callback");
    if (ms < 0)
        ms = 0;
    int64_t start = vclock_now(c);
    int64_t target = add_sat(start, ms);
    size_t fired = fire_until(c, start, target);
    /*
     * Shift the base rather than rebasing to target, so that real time spent in the
     * callbacks still counts at scale > 0 and now stays >= every pinned time.
     */
    c->base_virtual = add_sat(c->base_virtual, ms);
    rearm(c);
    return fired;
}

size_t
vclock_run_due(struct vclock *c)
{
    if (c->firing)
        return 0;
    int64_t start = vclock_now(c);
    size_t fired = fire_until(c, start, start);
    rearm(c);
    return fired;
}

uint64_t
vclock_timer_add(struct vclock *c, int64_t delay_ms, vclock_fn *fn, void *arg)
{
    assert(fn);
    uint32_t s = slot_alloc(c, fn, arg);
    heap_push(c, add_sat(vclock_now(c), delay_ms > 0 ? delay_ms : 0), s);
    rearm(c);
    return slot_id(c, s);
}

bool
vclock_timer_cancel(struct vclock *c, uint64_t id)
{
    uint32_t s = slot_of_id(c, id);
    if (s == SLOT_NONE)
        return false;
    if (s == c->firing_slot) {
        if (c->firing_cancelled)
            return false;
        c->firing_cancelled = true;
        return true;
    }
    heap_remove(c, c->slots[s].heap_idx);
    slot_free(c, s);
    rearm(c);
    return true;
}

size_t
vclock_timers_pending(const struct vclock *c)
{
    return c->heap_len;
}

/* ---- durations ---- */

static const struct {
    const char *suffix; /* unit as written */
    int64_t ms;         /* its length */
} duration_units[] = {
    { "ms", 1 },
    { "s", 1000 },
    { "m", 60 * 1000 },
    { "h", 60 * 60 * 1000 },
    { "d", 24 * 60 * 60 * 1000 },
};

int
duration_parse(const char *s, int64_t *ms)
{
    if (!s || !*s)
        return -1;
    int64_t total = 0;
    bool bare = true; /* no unit seen: a plain number of seconds */
    const char *p = s;
    while (*p) {
        if (*p < '0' || *p > '9')
            return -1;
        int64_t n = 0;
        while (*p >= '0' && *p <= '9') {
            if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, *p - '0', &n))
                return -1;
            p++;
        }
        int64_t unit = 0;
        if (*p == '\0') {
            if (!bare)
                return -1; /* "1h30": a trailing number needs a unit */
            unit = 1000;
        } else {
            size_t best = 0;
            for (size_t i = 0; i < ARRAY_SIZE(duration_units); i++) {
                size_t len = strlen(duration_units[i].suffix);
                if (len > best && strncmp(p, duration_units[i].suffix, len) == 0) {
                    best = len;
                    unit = duration_units[i].ms;
                }
            }
            if (!best)
                return -1;
            p += best;
            bare = false;
        }
        if (__builtin_mul_overflow(n, unit, &n) || __builtin_add_overflow(total, n, &total))
            return -1;
    }
    *ms = total;
    return 0;
}
