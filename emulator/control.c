/*
 * The control API under /_fogbank/: one table row per route (path, method, handler), JSON
 * in and out. Handlers reach the rest of fogbank only through struct app (the clock, the
 * state database); they never see an AWS protocol or a socket.
 */
#include "common.h"
#include "control.h"

#include "app.h"
#include "clock.h"
#include "events.h"
#include "ids.h"
#include "protocol/protocol.h"
#include "service.h"
#include "../state/db.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>

/* The largest integer a JSON number (a double) holds exactly. */
#define CONTROL_MAX_JSON_INT 9007199254740992.0

/* A route handler: reads `in` (the parsed body, NULL for a GET), fills resp. */
typedef void control_fn(struct app *app, const cJSON *in, struct http_resp *resp);

static void control_health(struct app *app, const cJSON *in, struct http_resp *resp);
static void control_reset(struct app *app, const cJSON *in, struct http_resp *resp);
static void control_clock_show(struct app *app, const cJSON *in, struct http_resp *resp);
static void control_clock_advance(struct app *app, const cJSON *in, struct http_resp *resp);
static void control_clock_scale(struct app *app, const cJSON *in, struct http_resp *resp);
static void control_status(struct app *app, const cJSON *in, struct http_resp *resp);
static void control_events(struct app *app, const cJSON *in, struct http_resp *resp);

enum control_flags {
    CONTROL_BODY = 1 << 0,  /* the body must be a JSON object */
    CONTROL_QUERY = 1 << 1, /* the query string's pairs are `in` (string values) */
};

/*
 * Adding a route: one row here (path below /_fogbank/, method, flags, handler) and one
 * handler; a test in tests/unit/test_control.c; a `fogbank ctl` verb if people will type it.
 */
static const struct control_route {
    const char *path;   /* below CONTROL_PREFIX, no trailing slash */
    const char *method; /* "GET" routes also answer HEAD */
    unsigned flags;     /* enum control_flags */
    control_fn *fn;     /* handler */
} control_routes[] = {
    { "clock", "GET", 0, control_clock_show },
    { "clock/advance", "POST", CONTROL_BODY, control_clock_advance },
    { "clock/scale", "POST", CONTROL_BODY, control_clock_scale },
    { "events", "GET", CONTROL_QUERY, control_events },
    { "health", "GET", 0, control_health },
    { "reset", "POST", 0, control_reset },
    { "status", "GET", 0, control_status },
};

/* ---- replies ---- */

static void
reply_json(struct http_resp *resp, int status, cJSON *obj)
{
    char *text = cJSON_PrintUnformatted(obj);
    if (!text)
        die("control: out of memory printing JSON");
    resp->status = status;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    buf_adds(&resp->body, text);
    buf_addc(&resp->body, '\n');
    cJSON_free(text);
    cJSON_Delete(obj);
}

static void reply_error(struct http_resp *resp, int status, const char *code, const char *fmt, ...)
        FB_PRINTF(4, 5);

static void
reply_error(struct http_resp *resp, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "error", code);
    cJSON_AddStringToObject(obj, "message", msg);
    reply_json(resp, status, obj);
}

/* The clock as every clock route answers it, from one reading of now. */
static cJSON *
clock_json(struct app *app)
{
    int64_t now = vclock_now(app->clock);
    char iso[32];
    time_format_iso8601(now, iso);
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "now", iso);
    cJSON_AddNumberToObject(obj, "now_ms", (double)now);
    cJSON_AddNumberToObject(obj, "scale", vclock_scale(app->clock));
    cJSON_AddNumberToObject(obj, "timers", (double)vclock_timers_pending(app->clock));
    return obj;
}

/* ---- handlers ---- */

static void
control_health(struct app *app, const cJSON *in, struct http_resp *resp)
{
    (void)in;
    double uptime = (double)(vclock_mono_ns() - app->started_mono_ns) / 1e9;
    char iso[32];
    time_format_iso8601(vclock_now(app->clock), iso);
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "status", "ok");
    cJSON_AddStringToObject(obj, "version", FB_VERSION);
    cJSON_AddNumberToObject(obj, "uptime_seconds", round(uptime * 1000) / 1000);
    cJSON_AddStringToObject(obj, "now", iso);
    reply_json(resp, 200, obj);
}

static void
control_reset(struct app *app, const cJSON *in, struct http_resp *resp)
{
    (void)in;
    /* What lives outside the database (processes, listeners, timers) goes before its rows. */
    for (size_t i = 0; i < service_table_len; i++) {
        const struct service_hooks *h = service_table[i]->hooks;
        if (h && h->reset)
            h->reset(app);
    }
    if (db_reset(app->db) < 0) {
        reply_error(resp, 500, "InternalError", "Resetting the state database failed");
        return;
    }
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddBoolToObject(obj, "reset", true);
    reply_json(resp, 200, obj);
}

static void
control_clock_show(struct app *app, const cJSON *in, struct http_resp *resp)
{
    (void)in;
    reply_json(resp, 200, clock_json(app));
}

static void
control_clock_advance(struct app *app, const cJSON *in, struct http_resp *resp)
{
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(in, "by");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(in, "ms");
    int64_t delta;
    if ((by != NULL) == (ms != NULL)) {
        reply_error(
                resp, 400, "BadRequest",
                "Give exactly one of \"by\" (a duration such as \"10m\") or \"ms\" (milliseconds)");
        return;
    }
    if (by) {
        if (!cJSON_IsString(by) || duration_parse(by->valuestring, &delta) < 0) {
            reply_error(resp, 400, "BadRequest",
                        "\"by\" must be a duration such as \"90s\", \"10m\", \"1h30m\" or \"1d\"");
            return;
        }
    } else {
        double v = cJSON_IsNumber(ms) ? ms->valuedouble : -1;
        if (!(v >= 0 && v <= CONTROL_MAX_JSON_INT) || v != floor(v)) {
            reply_error(resp, 400, "BadRequest", "\"ms\" must be a whole number >= 0");
            return;
        }
        delta = (int64_t)v;
    }
    size_t fired = vclock_advance(app->clock, delta);
    cJSON *obj = clock_json(app);
    cJSON_AddNumberToObject(obj, "fired", (double)fired);
    reply_json(resp, 200, obj);
}

static void
control_clock_scale(struct app *app, const cJSON *in, struct http_resp *resp)
{
    const cJSON *scale = cJSON_GetObjectItemCaseSensitive(in, "scale");
    if (!cJSON_IsNumber(scale) || !isfinite(scale->valuedouble) || scale->valuedouble < 0) {
        reply_error(resp, 400, "BadRequest", "\"scale\" must be a number >= 0");
        return;
    }
    vclock_set_scale(app->clock, scale->valuedouble);
    reply_json(resp, 200, clock_json(app));
}

static void
control_status(struct app *app, const cJSON *in, struct http_resp *resp)
{
    (void)in;
    cJSON *obj = cJSON_CreateObject();
    for (size_t i = 0; i < service_table_len; i++) {
        const struct service_hooks *h = service_table[i]->hooks;
        if (h && h->status)
            h->status(app, obj);
    }
    reply_json(resp, 200, obj);
}

/* A query parameter as a whole number >= 0 (absent: dflt); -1 when it is not one. */
static int
query_count(const cJSON *in, const char *name, double dflt, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, name);
    *out = dflt;
    if (!cJSON_IsString(v))
        return 0;
    char *end;
    double d = strtod(v->valuestring, &end);
    if (end == v->valuestring || *end || !(d >= 0 && d <= CONTROL_MAX_JSON_INT) || d != floor(d))
        return -1;
    *out = d;
    return 0;
}

/*
 * GET /_fogbank/events[?since=SEQ][&limit=N]: the events after SEQ (default 0: all still
 * kept), oldest first, at most N (default 1000; 0: every one kept). `last_seq` is where the
 * next poll starts; `first_seq` (the oldest kept) past since + 1 says events were dropped in
 * between.
 */
static void
control_events(struct app *app, const cJSON *in, struct http_resp *resp)
{
    double since, limit;
    if (query_count(in, "since", 0, &since) < 0 || query_count(in, "limit", 1000, &limit) < 0) {
        reply_error(resp, 400, "BadRequest", "\"since\" and \"limit\" must be whole numbers >= 0");
        return;
    }
    if (!app->events) {
        reply_error(resp, 503, "Unavailable", "This server keeps no event stream");
        return;
    }
    cJSON *obj = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(obj, "events");
    events_since(app->events, (uint64_t)since, (size_t)limit, list);
    cJSON *last = cJSON_GetArrayItem(list, cJSON_GetArraySize(list) - 1);
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(last, "seq");
    cJSON_AddNumberToObject(obj, "first_seq", (double)events_first_seq(app->events));
    cJSON_AddNumberToObject(obj, "last_seq",
                            cJSON_IsNumber(seq) ? seq->valuedouble : fmax(since, 0));
    cJSON_AddNumberToObject(obj, "newest_seq", (double)events_last_seq(app->events));
    reply_json(resp, 200, obj);
}

/* The pairs of the request's query string as a JSON object of strings; NULL when malformed. */
static cJSON *
query_object(const struct http_req *req)
{
    const char *q = strchr(req->target ? req->target : "", '?');
    cJSON *obj = cJSON_CreateObject();
    if (!q)
        return obj;
    struct params p = PARAMS_INIT;
    if (params_parse(&p, q + 1, strlen(q + 1)) < 0) {
        params_release(&p);
        cJSON_Delete(obj);
        return NULL;
    }
    for (size_t i = 0; i < p.n; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, p.v[i].key);
        cJSON_AddStringToObject(obj, p.v[i].key, p.v[i].value);
    }
    params_release(&p);
    return obj;
}

/*
 * POST /_fogbank/<kind> that no route above answers: offered to each service's action hook
 * in turn, inside one write transaction, until one takes it. Returns false if none did.
 */
static bool
control_service_action(struct app *app, const char *kind, const cJSON *in, struct http_resp *resp)
{
    const cJSON *region = cJSON_GetObjectItemCaseSensitive(in, "region");
    char request_id[37];
    ids_uuid(app->ids, request_id);
    struct aws_call call = {
        .app = app,
        .service = "fogbank",
        .op = kind,
        .region = cJSON_IsString(region) ? region->valuestring : "us-east-1",
        .account_id = app->cfg.account_id,
        .request_id = request_id,
        .now_ms = vclock_now(app->clock),
    };
    struct aws_err err;
    aws_err_clear(&err);
    cJSON *out = cJSON_CreateObject();
    if (db_begin(app->db, true) < 0) {
        cJSON_Delete(out);
        reply_error(resp, 500, "InternalError", "The state database is unavailable");
        return true;
    }
    int taken = 0;
    for (size_t i = 0; i < service_table_len && taken == 0; i++) {
        const struct service_hooks *h = service_table[i]->hooks;
        if (h && h->action)
            taken = h->action(&call, kind, in, out, &err);
    }
    if (taken == 1 && db_commit(app->db) == 0) {
        reply_json(resp, 200, out);
        return true;
    }
    db_rollback(app->db);
    cJSON_Delete(out);
    if (taken == 0)
        return false;
    if (taken < 0)
        reply_error(resp, err.status ? err.status : 400, err.code ? err.code : "BadRequest", "%s",
                    err.message);
    else
        reply_error(resp, 500, "InternalError", "The state database refused the change");
    return true;
}

/* ---- dispatch ---- */

static bool
method_matches(const struct control_route *r, const char *method)
{
    return strcmp(r->method, method) == 0 ||
           (strcmp(r->method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

void
control_handle(struct app *app, const struct http_req *req, const char *path,
               struct http_resp *resp)
{
    /* "/_fogbank/clock/advance/" -> "clock/advance" */
    const char *rel = str_starts(path, CONTROL_PREFIX) ? path + strlen(CONTROL_PREFIX) : "";
    size_t rel_len = strlen(rel);
    while (rel_len > 0 && rel[rel_len - 1] == '/')
        rel_len--;

    const struct control_route *route = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(control_routes); i++) {
        const char *p = control_routes[i].path;
        if (strlen(p) == rel_len && memcmp(p, rel, rel_len) == 0) {
            route = &control_routes[i];
            break;
        }
    }
    snprintf(resp->service, sizeof(resp->service), "fogbank");
    if (!route && strcmp(req->method, "POST") == 0 && rel_len > 0) {
        char kind[128];
        cJSON *in = req->body_len ? cJSON_ParseWithLength(req->body, req->body_len)
                                  : cJSON_CreateObject();
        snprintf(kind, sizeof(kind), "%.*s", (int)rel_len, rel);
        snprintf(resp->op, sizeof(resp->op), "%.63s", kind);
        if (!cJSON_IsObject(in)) {
            cJSON_Delete(in);
            reply_error(resp, 400, "BadRequest", "The body is not a JSON object");
            return;
        }
        bool handled = control_service_action(app, kind, in, resp);
        cJSON_Delete(in);
        if (handled)
            return;
    }
    if (!route) {
        reply_error(resp, 404, "NotFound", "No control route %s", path);
        return;
    }
    snprintf(resp->op, sizeof(resp->op), "%s", route->path);
    if (!method_matches(route, req->method)) {
        http_resp_header(resp, "Allow",
                         strcmp(route->method, "GET") == 0 ? "GET, HEAD" : route->method);
        reply_error(resp, 405, "MethodNotAllowed", "%s %s is not allowed; use %s", req->method,
                    path, route->method);
        return;
    }

    cJSON *in = NULL;
    if (route->flags & CONTROL_BODY) {
        if (req->body_len == 0) {
            reply_error(resp, 400, "BadRequest", "Expected a JSON object body");
            return;
        }
        in = cJSON_ParseWithLength(req->body, req->body_len);
        if (!cJSON_IsObject(in)) {
            cJSON_Delete(in);
            reply_error(resp, 400, "BadRequest", "The body is not a JSON object");
            return;
        }
    } else if (route->flags & CONTROL_QUERY) {
        in = query_object(req);
        if (!in) {
            reply_error(resp, 400, "BadRequest", "The query string is malformed");
            return;
        }
    }
    route->fn(app, in, resp);
    cJSON_Delete(in);
}
