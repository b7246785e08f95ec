/*
 * The control API, called in-process through control_handle() with an in-memory database,
 * a frozen clock and a fixed seed: each route's answer and each way a request can be wrong.
 */
#include "emulator/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "emulator/app.h"
#include "emulator/clock.h"
#include "emulator/control.h"
#include "emulator/ids.h"
#include "state/db.h"

#define T0     1795860000000LL /* 2026-11-28T10:00:00Z */
#define T0_ISO "2026-11-28T10:00:00.000Z"

static int
setup(void **state)
{
    struct app *app = calloc(1, sizeof(*app));
    char err[256];
    app->cfg.account_id = "123456789012";
    app->cfg.state_path = ":memory:";
    app->db = db_open(":memory:", err, sizeof(err));
    if (!app->db)
        return -1;
    app->clock = vclock_new(NULL, 0, T0);
    app->ids = ids_new(1);
    app->started_mono_ns = vclock_mono_ns();
    *state = app;
    return 0;
}

static int
teardown(void **state)
{
    struct app *app = *state;
    vclock_free(app->clock);
    ids_free(app->ids);
    db_close(app->db);
    free(app);
    return 0;
}

/* Calls the route; returns the parsed JSON answer (caller deletes) and fills resp. */
static cJSON *
call(struct app *app, const char *method, const char *path, const char *body,
     struct http_resp *resp)
{
    struct http_req req = {
        .method = method,
        .target = path,
        .body = body ? body : "",
        .body_len = body ? strlen(body) : 0,
        .peer = "127.0.0.1",
    };
    http_resp_init(resp);
    control_handle(app, &req, path, resp);
    assert_string_equal(resp->content_type, "application/json");
    cJSON *json = cJSON_ParseWithLength(resp->body.data, resp->body.len);
    assert_non_null(json);
    return json;
}

static const char *
str_of(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static double
num_of(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* Asserts an error answer with this status and code; returns nothing. */
static void
expect_error(struct app *app, const char *method, const char *path, const char *body, int status,
             const char *code)
{
    struct http_resp resp;
    cJSON *j = call(app, method, path, body, &resp);
    assert_int_equal(resp.status, status);
    assert_string_equal(str_of(j, "error"), code);
    assert_true(strlen(str_of(j, "message")) > 0);
    cJSON_Delete(j);
    http_resp_release(&resp);
}

static void
test_health_reports_status_version_uptime_and_virtual_now(void **state)
{
    struct app *app = *state;
    struct http_resp resp;
    cJSON *j = call(app, "GET", "/_fogbank/health", NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(str_of(j, "status"), "ok");
    assert_string_equal(str_of(j, "version"), FB_VERSION);
    assert_true(num_of(j, "uptime_seconds") >= 0);
    assert_string_equal(str_of(j, "now"), T0_ISO);
    assert_string_equal(resp.service, "fogbank");
    assert_string_equal(resp.op, "health");
    cJSON_Delete(j);
    http_resp_release(&resp);
}

static void
test_head_is_answered_like_get(void **state)
{
    struct app *app = *state;
    struct http_resp resp;
    cJSON *j = call(app, "HEAD", "/_fogbank/health", NULL, &resp);
    assert_int_equal(resp.status, 200);
    cJSON_Delete(j);
    http_resp_release(&resp);
}

static void
test_clock_shows_now_scale_and_pending_timers(void **state)
{
    struct app *app = *state;
    struct http_resp resp;
    cJSON *j = call(app, "GET", "/_fogbank/clock", NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(str_of(j, "now"), T0_ISO);
    assert_true(num_of(j, "now_ms") == (double)T0);
    assert_true(num_of(j, "scale") == 0);
    assert_true(num_of(j, "timers") == 0);
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "fired"));
    cJSON_Delete(j);
    http_resp_release(&resp);
}

static int64_t
count_fire(void *arg, int64_t now)
{
    (void)now;
    (*(int *)arg)++;
    return VCLOCK_DONE;
}

static void
test_advance_by_duration_fires_due_timers(void **state)
{
    struct app *app = *state;
    int fired = 0;
    vclock_timer_add(app->clock, 5 * 60 * 1000, count_fire, &fired);
    vclock_timer_add(app->clock, 10 * 60 * 1000, count_fire, &fired);
    vclock_timer_add(app->clock, 11 * 60 * 1000, count_fire, &fired);
    struct http_resp resp;
    cJSON *j = call(app, "POST", "/_fogbank/clock/advance", "{\"by\":\"10m\"}", &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal(fired, 2);
    assert_true(num_of(j, "fired") == 2);
    assert_true(num_of(j, "timers") == 1);
    assert_true(num_of(j, "now_ms") == (double)(T0 + 600000));
    assert_string_equal(str_of(j, "now"), "2026-11-28T10:10:00.000Z");
    assert_int_equal(vclock_now(app->clock), T0 + 600000);
    cJSON_Delete(j);
    http_resp_release(&resp);
}

static void
test_advance_by_ms(void **state)
{
    struct app *app = *state;
    struct http_resp resp;
    cJSON *j = call(app, "POST", "/_fogbank/clock/advance/", "{\"ms\":1500}", &resp);
    assert_int_equal(resp.status, 200);
    assert_true(num_of(j, "fired") == 0);
    assert_string_equal(str_of(j, "now"), "2026-11-28T10:00:01.500Z");
    cJSON_Delete(j);
    http_resp_release(&resp);
}

static void
test_advance_rejects_bad_bodies(void **state)
{
    struct app *app = *state;
    const char *path = "/_fogbank/clock/advance";
    expect_error(app, "POST", path, NULL, 400, "BadRequest");
    expect_error(app, "POST", path, "{", 400, "BadRequest");
    expect_error(app, "POST", path, "[1]", 400, "BadRequest");
    expect_error(app, "POST", path, "{}", 400, "BadRequest");
    expect_error(app, "POST", path, "{\"by\":\"10m\",\"ms\":5}", 400, "BadRequest");
    expect_error(app, "POST", path, "{\"by\":\"ten minutes\"}", 400, "BadRequest");
    expect_error(app, "POST", path, "{\"by\":\"-5s\"}", 400, "BadRequest");
    expect_error(app, "POST", path, "{\"by\":600}", 400, "BadRequest");
    expect_error(app, "POST", path, "{\"ms\":-1}", 400, "BadRequest");
    expect_error(app, "POST", path, "{\"ms\":1.5}", 400, "BadRequest");
    expect_error(app, "POST", path, "{\"ms\":\"5\"}", 400, "BadRequest");
    expect_error(app, "POST", path, "{\"ms\":1e300}", 400, "BadRequest");
    assert_int_equal(vclock_now(app->clock), T0);
}

static void
test_scale_changes_the_rate(void **state)
{
    struct app *app = *state;
    struct http_resp resp;
    cJSON *j = call(app, "POST", "/_fogbank/clock/scale", "{\"scale\":2.5}", &resp);
    assert_int_equal(resp.status, 200);
    assert_true(num_of(j, "scale") == 2.5);
    assert_true(vclock_scale(app->clock) == 2.5);
    cJSON_Delete(j);
    http_resp_release(&resp);

    j = call(app, "POST", "/_fogbank/clock/scale", "{\"scale\":0}", &resp);
    assert_int_equal(resp.status, 200);
    assert_true(vclock_scale(app->clock) == 0);
    cJSON_Delete(j);
    http_resp_release(&resp);
}

static void
test_scale_rejects_bad_values(void **state)
{
    struct app *app = *state;
    const char *path = "/_fogbank/clock/scale";
    expect_error(app, "POST", path, "{\"scale\":-1}", 400, "BadRequest");
    expect_error(app, "POST", path, "{\"scale\":\"fast\"}", 400, "BadRequest");
    expect_error(app, "POST", path, "{}", 400, "BadRequest");
    expect_error(app, "POST", path, "not json", 400, "BadRequest");
    assert_true(vclock_scale(app->clock) == 0);
}

static void
test_reset_answers_reset_true(void **state)
{
    struct app *app = *state;
    struct http_resp resp;
    cJSON *j = call(app, "POST", "/_fogbank/reset", NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "reset")));
    cJSON_Delete(j);
    http_resp_release(&resp);
}

static void
test_unknown_path_is_404(void **state)
{
    struct app *app = *state;
    expect_error(app, "GET", "/_fogbank/nope", NULL, 404, "NotFound");
    expect_error(app, "GET", "/_fogbank/", NULL, 404, "NotFound");
    expect_error(app, "GET", "/_fogbank", NULL, 404, "NotFound");
    expect_error(app, "GET", "/_fogbank/clock/advance/x", NULL, 404, "NotFound");
}

static void
test_wrong_method_is_405_with_allow(void **state)
{
    struct app *app = *state;
    expect_error(app, "GET", "/_fogbank/reset", NULL, 405, "MethodNotAllowed");
    expect_error(app, "DELETE", "/_fogbank/clock", NULL, 405, "MethodNotAllowed");
    struct http_resp resp;
    cJSON *j = call(app, "POST", "/_fogbank/health", "{}", &resp);
    assert_int_equal(resp.status, 405);
    assert_int_equal(resp.n_headers, 1);
    assert_string_equal(resp.headers[0].name, "Allow");
    assert_string_equal(resp.headers[0].value, "GET, HEAD");
    cJSON_Delete(j);
    http_resp_release(&resp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health_reports_status_version_uptime_and_virtual_now,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_is_answered_like_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_shows_now_scale_and_pending_timers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_advance_by_duration_fires_due_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_advance_by_ms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_advance_rejects_bad_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scale_changes_the_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scale_rejects_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_answers_reset_true, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_path_is_404, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_method_is_405_with_allow, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
