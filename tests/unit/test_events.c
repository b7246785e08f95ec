/*
 * The event ring (emulator/events.c) and its control route GET /_fogbank/events: order and
 * seq numbers, reading after a seq, the limit, dropping the oldest when full, the virtual time
 * of events_emit, and the route's query parameters and errors.
 */
#include "emulator/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "emulator/app.h"
#include "emulator/clock.h"
#include "emulator/events.h"
#include "emulator/ids.h"
#include "emulator/model.h"
#include "emulator/router.h"
#include "state/db.h"

#define START_MS 1795000000000LL

static cJSON *
detail_n(int n)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "n", n);
    return d;
}

static int
n_of(const cJSON *event)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(event, "detail"), "n")
            ->valueint;
}

static void
test_events_keep_order_and_seq(void **state)
{
    (void)state;
    struct events *ev = events_new(8);
    assert_int_equal(events_last_seq(ev), 0);
    assert_int_equal(events_first_seq(ev), 0);
    cJSON *none = cJSON_CreateArray();
    assert_int_equal(events_since(ev, 0, 0, none), 0);
    cJSON_Delete(none);
    assert_int_equal(events_add(ev, START_MS, "a.one", detail_n(1)), 1);
    assert_int_equal(events_add(ev, START_MS + 1000, "a.two", NULL), 2);
    assert_int_equal(events_add(ev, START_MS + 2000, "a.three", detail_n(3)), 3);
    cJSON *list = cJSON_CreateArray();
    assert_int_equal(events_since(ev, 0, 0, list), 3);
    cJSON *first = cJSON_GetArrayItem(list, 0);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(first, "seq")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "kind")->valuestring, "a.one");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "time")->valuestring,
                        "2026-11-18T11:06:40.000Z");
    assert_int_equal(n_of(first), 1);
    /* NULL detail is an empty object. */
    cJSON *second = cJSON_GetArrayItem(list, 1);
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(second, "detail")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(second, "detail")), 0);
    cJSON_Delete(list);
    /* After a seq, and with a limit. */
    list = cJSON_CreateArray();
    assert_int_equal(events_since(ev, 1, 1, list), 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "seq")->valueint,
                     2);
    cJSON_Delete(list);
    list = cJSON_CreateArray();
    assert_int_equal(events_since(ev, 3, 0, list), 0);
    assert_int_equal(events_since(ev, 99, 0, list), 0);
    cJSON_Delete(list);
    events_free(ev);
    events_free(NULL);
}

static void
test_full_ring_drops_the_oldest(void **state)
{
    (void)state;
    struct events *ev = events_new(4);
    for (int i = 1; i <= 10; i++)
        events_add(ev, START_MS + i, "tick", detail_n(i));
    assert_int_equal(events_last_seq(ev), 10);
    assert_int_equal(events_first_seq(ev), 7);
    cJSON *list = cJSON_CreateArray();
    /* A reader far behind gets what is left, from the oldest kept. */
    assert_int_equal(events_since(ev, 2, 0, list), 4);
    assert_int_equal(n_of(cJSON_GetArrayItem(list, 0)), 7);
    assert_int_equal(n_of(cJSON_GetArrayItem(list, 3)), 10);
    cJSON_Delete(list);
    events_free(ev);
}

static void
test_emit_uses_the_virtual_clock_and_tolerates_no_ring(void **state)
{
    (void)state;
    struct app app;
    memset(&app, 0, sizeof(app));
    /* No ring: a no-op that still frees the detail (ASan would see a leak otherwise). */
    assert_int_equal(events_emit(&app, "x", detail_n(1)), 0);
    app.clock = vclock_new(NULL, 0, START_MS);
    app.events = events_new(16);
    vclock_advance(app.clock, 90000);
    assert_int_equal(events_emit(&app, "later", NULL), 1);
    cJSON *list = cJSON_CreateArray();
    events_since(app.events, 0, 0, list);
    assert_int_equal(
            (int64_t)cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "time_ms")
                    ->valuedouble,
            START_MS + 90000);
    cJSON_Delete(list);
    events_free(app.events);
    vclock_free(app.clock);
}

/* ---- the control route ---- */

static void
get(struct app *app, const char *target, struct http_resp *resp)
{
    struct http_req req = { .method = "GET", .target = target, .peer = "127.0.0.1" };
    http_resp_init(resp);
    router_handle(app, &req, resp);
}

static void
test_control_route_reads_after_a_seq(void **state)
{
    (void)state;
    struct app app;
    memset(&app, 0, sizeof(app));
    char errbuf[256];
    app.cfg.account_id = "123456789012";
    app.db = db_open(":memory:", errbuf, sizeof(errbuf));
    assert_non_null(app.db);
    app.clock = vclock_new(NULL, 0, START_MS);
    app.ids = ids_new(1);
    app.events = events_new(16);
    for (int i = 1; i <= 3; i++)
        events_emit(&app, "autoscaling.launch", detail_n(i));

    struct http_resp resp;
    get(&app, "/_fogbank/events", &resp);
    assert_int_equal(resp.status, 200);
    cJSON *obj = cJSON_Parse(resp.body.data);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(obj, "events")), 3);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(obj, "last_seq")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(obj, "first_seq")->valueint, 1);
    cJSON_Delete(obj);
    http_resp_release(&resp);

    get(&app, "/_fogbank/events?since=2", &resp);
    assert_int_equal(resp.status, 200);
    obj = cJSON_Parse(resp.body.data);
    cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, "events");
    assert_int_equal(cJSON_GetArraySize(list), 1);
    assert_int_equal(n_of(cJSON_GetArrayItem(list, 0)), 3);
    cJSON_Delete(obj);
    http_resp_release(&resp);

    /* Nothing new: last_seq stays where the reader is. */
    get(&app, "/_fogbank/events?since=3&limit=5", &resp);
    obj = cJSON_Parse(resp.body.data);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(obj, "events")), 0);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(obj, "last_seq")->valueint, 3);
    cJSON_Delete(obj);
    http_resp_release(&resp);

    get(&app, "/_fogbank/events?since=1&limit=1", &resp);
    obj = cJSON_Parse(resp.body.data);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(obj, "events")), 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(obj, "last_seq")->valueint, 2);
    cJSON_Delete(obj);
    http_resp_release(&resp);

    static const char *const bad[] = { "/_fogbank/events?since=-1", "/_fogbank/events?since=x",
                                       "/_fogbank/events?limit=1.5", "/_fogbank/events?since=%zz" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        get(&app, bad[i], &resp);
        assert_int_equal(resp.status, 400);
        assert_non_null(strstr(resp.body.data, "BadRequest"));
        http_resp_release(&resp);
    }

    struct http_req post = { .method = "POST", .target = "/_fogbank/events", .peer = "127.0.0.1" };
    http_resp_init(&resp);
    router_handle(&app, &post, &resp);
    assert_int_equal(resp.status, 405);
    http_resp_release(&resp);

    events_free(app.events);
    app.events = NULL;
    get(&app, "/_fogbank/events", &resp);
    assert_int_equal(resp.status, 503);
    http_resp_release(&resp);

    ids_free(app.ids);
    vclock_free(app.clock);
    db_close(app.db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_keep_order_and_seq),
        cmocka_unit_test(test_full_ring_drops_the_oldest),
        cmocka_unit_test(test_emit_uses_the_virtual_clock_and_tolerates_no_ring),
        cmocka_unit_test(test_control_route_reads_after_a_seq),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
