/*
 * The event ring (events.h): a fixed array used circularly, each slot owning its kind and
 * detail. Only the loop thread touches it. No service knowledge here.
 */
#include "common.h"
#include "events.h"

#include "app.h"
#include "clock.h"
#include "protocol/protocol.h"

struct event {
    uint64_t seq;  /* 1, 2, ... in emission order */
    int64_t at_ms; /* virtual time of the emission */
    char *kind;    /* "autoscaling.launch", ...; owned */
    cJSON *detail; /* a JSON object; owned */
};

struct events {
    struct event *slots; /* capacity slots; slot of seq s is (s - 1) % capacity */
    size_t capacity;     /* > 0 */
    size_t count;        /* slots in use (<= capacity) */
    uint64_t last_seq;   /* seq of the newest event, 0 none */
};

struct events *
events_new(size_t capacity)
{
    if (capacity == 0)
        die("events: a ring needs a capacity");
    struct events *ev = xcalloc(1, sizeof(*ev));
    ev->slots = xcalloc(capacity, sizeof(*ev->slots));
    ev->capacity = capacity;
    return ev;
}

void
events_free(struct events *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < ev->capacity; i++) {
        free(ev->slots[i].kind);
        cJSON_Delete(ev->slots[i].detail);
    }
    free(ev->slots);
    free(ev);
}

uint64_t
events_add(struct events *ev, int64_t at_ms, const char *kind, cJSON *detail)
{
    uint64_t seq = ++ev->last_seq;
    struct event *e = &ev->slots[(seq - 1) % ev->capacity];
    free(e->kind);
    cJSON_Delete(e->detail);
    e->seq = seq;
    e->at_ms = at_ms;
    e->kind = xstrdup(kind);
    e->detail = detail ? detail : cJSON_CreateObject();
    if (ev->count < ev->capacity)
        ev->count++;
    return seq;
}

uint64_t
events_emit(struct app *app, const char *kind, cJSON *detail)
{
    if (!app || !app->events) {
        cJSON_Delete(detail);
        return 0;
    }
    return events_add(app->events, app->clock ? vclock_now(app->clock) : 0, kind, detail);
}

uint64_t
events_last_seq(const struct events *ev)
{
    return ev->last_seq;
}

uint64_t
events_first_seq(const struct events *ev)
{
    return ev->count ? ev->last_seq - ev->count + 1 : 0;
}

size_t
events_since(const struct events *ev, uint64_t since, size_t limit, cJSON *out)
{
    uint64_t first = events_first_seq(ev);
    if (!first)
        return 0;
    uint64_t from = since + 1 > first ? since + 1 : first;
    size_t n = 0;
    for (uint64_t s = from; s <= ev->last_seq && (limit == 0 || n < limit); s++, n++) {
        const struct event *e = &ev->slots[(s - 1) % ev->capacity];
        char iso[32];
        time_format_iso8601(e->at_ms, iso);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "seq", (double)e->seq);
        cJSON_AddStringToObject(o, "time", iso);
        cJSON_AddNumberToObject(o, "time_ms", (double)e->at_ms);
        cJSON_AddStringToObject(o, "kind", e->kind);
        cJSON_AddItemToObject(o, "detail", cJSON_Duplicate(e->detail, true));
        cJSON_AddItemToArray(out, o);
    }
    return n;
}
