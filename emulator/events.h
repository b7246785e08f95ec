/*
 * The event stream of fogbank itself (DESIGN.md "Control plane"): a bounded in-memory ring of
 * what happened — launches, terminations, hook timeouts, alarms — each {seq, virtual time,
 * kind, JSON detail}, read through GET /_fogbank/events?since=SEQ. It is a log for people and
 * tests, not state: it is not in the database, a reset keeps it, and the oldest events are
 * dropped once the ring is full. It must not call back into services.
 */
#ifndef FB_EVENTS_H
#define FB_EVENTS_H

#include "common.h"

#include <cjson/cJSON.h>

struct app;
struct events;

/* How many events the server's ring keeps. */
#define EVENTS_DEFAULT_CAPACITY 4096

/* A ring of `capacity` (> 0) events; seq numbers start at 1. */
struct events *events_new(size_t capacity);
/* Accepts NULL. */
void events_free(struct events *ev);

/*
 * Appends an event `kind` ("autoscaling.launch", ...) at virtual time at_ms with `detail` (a
 * JSON object; the ring takes ownership; NULL means {}), dropping the oldest when full.
 * Returns its seq.
 */
uint64_t events_add(struct events *ev, int64_t at_ms, const char *kind, cJSON *detail);

/*
 * events_add at the app's virtual now. A no-op (detail freed, 0 returned) when the app has no
 * ring (unit tests that do not make one), so emitters need not check.
 */
uint64_t events_emit(struct app *app, const char *kind, cJSON *detail);

/*
 * Appends to the array `out` the events with seq > since, oldest first, at most `limit`
 * (0: no limit), each as {seq, time (ISO 8601), time_ms, kind, detail}. Returns how many.
 */
size_t events_since(const struct events *ev, uint64_t since, size_t limit, cJSON *out);

/* The seq of the newest event, 0 when none yet. */
uint64_t events_last_seq(const struct events *ev);
/* The seq of the oldest event still kept, 0 when none: a reader that saw less has missed some. */
uint64_t events_first_seq(const struct events *ev);

#endif
