/*
 * Route53 health checks: the API (create, get, list, delete, status) and the probes that
 * decide them. A probe is an asynchronous libuv connection to a loopback target (TCP: the
 * connection is the answer; HTTP: a GET whose status must be 2xx or 3xx, and for
 * HTTP_STR_MATCH a body that contains SearchString), started by a virtual-clock timer every
 * RequestInterval and failed by another when it has not answered in virtual time (AWS gives
 * 4 s to connect and 2 s more to answer). FailureThreshold consecutive results the other way
 * flip the verdict, which the DNS answers read through r53_health_ok().
 */
#include "emulator/common.h"
#include "services/route53/route53_internal.h"
#include "emulator/app.h"
#include "emulator/clock.h"
#include "emulator/ids.h"
#include "emulator/log.h"
#include "state/route53.h"

#include <arpa/inet.h>
#include <uv.h>

#define R53_CONNECT_TIMEOUT_MS 4000
#define R53_ANSWER_TIMEOUT_MS  2000
#define R53_PROBE_READ_MAX     5120 /* AWS searches the first 5,120 bytes of the body */
#define R53_HC_LIST_MAX        100

/* ---- the runtime: one entry per health check ---- */

struct probe;

struct check {
    char id[40];         /* the health check's id */
    char type[20];       /* HTTP | HTTP_STR_MATCH | TCP */
    char ip[48];         /* the loopback address probed, "" when not loopback */
    int port;            /* its port */
    char path[256];      /* ResourcePath for HTTP */
    char host[256];      /* Host header: FullyQualifiedDomainName or the address */
    char search[256];    /* SearchString for HTTP_STR_MATCH */
    int64_t interval_ms; /* RequestInterval */
    int threshold;       /* FailureThreshold */
    bool inverted;       /* Inverted: healthy when the probes fail */
    bool disabled;       /* Disabled: always healthy, no probes */
    bool healthy;        /* the verdict */
    int streak;          /* consecutive results disagreeing with the verdict */
    uint64_t timer;      /* the interval timer */
    struct probe *probe; /* the probe in flight, or NULL */
    struct check *next;  /* the next check of the runtime */
};

/* One probe in flight. Freed in its close callback; check is NULL once abandoned. */
struct probe {
    struct check *check;  /* the check it answers for, NULL when abandoned */
    struct app *app;      /* the app */
    uv_tcp_t tcp;         /* the connection */
    uv_connect_t connect; /* its connect request */
    uv_write_t write;     /* the HTTP request's write */
    struct buf request;   /* the HTTP request */
    struct buf answer;    /* what came back, up to R53_PROBE_READ_MAX + a header's worth */
    uint64_t timeout;     /* the virtual-clock timeout timer */
    bool done;            /* the result is applied; only closing remains */
};

static struct {
    struct app *app;      /* the app the probes work for */
    struct check *checks; /* every health check */
} rt;

static struct check *
check_find(const char *id)
{
    for (struct check *c = rt.checks; c; c = c->next)
        if (strcmp(c->id, id) == 0)
            return c;
    return NULL;
}

bool
r53_health_ok(const char *id)
{
    struct check *c = id ? check_find(id) : NULL;
    return !c || c->healthy;
}

static const char *
str_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t
int_member(const cJSON *o, const char *name, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

/* Records a probe's result; flips the verdict after FailureThreshold disagreeing results. */
static void
check_report(struct app *app, struct check *c, bool ok, const char *reason)
{
    bool says_healthy = c->inverted ? !ok : ok;
    if (says_healthy == c->healthy) {
        c->streak = 0;
    } else if (++c->streak >= c->threshold) {
        c->healthy = says_healthy;
        c->streak = 0;
        log_info("route53: health check %s is now %s (%s)", c->id,
                 c->healthy ? "healthy" : "unhealthy", reason);
    }
    if (app->db)
        r53_store_health_set_status(app->db, c->id, c->healthy, vclock_now(app->clock), reason);
}

/* ---- probes ---- */

static void
probe_closed(uv_handle_t *h)
{
    struct probe *p = h->data;
    buf_release(&p->request);
    buf_release(&p->answer);
    free(p);
}

/* Applies the result once, stops the timeout and closes the connection. */
static void
probe_finish(struct probe *p, bool ok, const char *reason)
{
    if (p->done)
        return;
    p->done = true;
    if (p->timeout)
        vclock_timer_cancel(p->app->clock, p->timeout);
    p->timeout = 0;
    if (p->check) {
        p->check->probe = NULL;
        check_report(p->app, p->check, ok, reason);
    }
    if (!uv_is_closing((uv_handle_t *)&p->tcp))
        uv_close((uv_handle_t *)&p->tcp, probe_closed);
}

static int64_t
probe_timed_out(void *arg, int64_t now_ms)
{
    (void)now_ms;
    struct probe *p = arg;
    p->timeout = 0;
    probe_finish(p, false, "Failure: the probe timed out");
    return VCLOCK_DONE;
}

/* Judges the HTTP answer read so far: 1 ok, 0 failed, -1 not enough yet. */
static int
http_verdict(struct probe *p, bool eof, struct buf *reason)
{
    const char *a = p->answer.data;
    int status = 0;
    if (p->answer.len < 12 || sscanf(a, "HTTP/%*d.%*d %d", &status) != 1)
        return eof ? (buf_adds(reason, "Failure: the response was not HTTP"), 0) : -1;
    bool good = status >= 200 && status < 400;
    if (strcmp(p->check->type, "HTTP_STR_MATCH") == 0 && good) {
        const char *body = strstr(a, "\r\n\r\n");
        if (!body && !eof && p->answer.len < R53_PROBE_READ_MAX)
            return -1;
        if (!body || !strstr(body + 4, p->check->search)) {
            if (!eof && p->answer.len < R53_PROBE_READ_MAX)
                return -1;
            buf_addf(reason, "Failure: the response body did not contain '%s'", p->check->search);
            return 0;
        }
    }
    buf_addf(reason, "%s: HTTP Status Code %d", good ? "Success" : "Failure", status);
    return good;
}

static void
probe_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    static char chunk[4096];
    b->base = chunk;
    b->len = sizeof(chunk);
}

static void
probe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct probe *p = s->data;
    if (p->done || !p->check) {
        if (!p->done)
            probe_finish(p, false, "abandoned");
        return;
    }
    if (n > 0 && p->answer.len < R53_PROBE_READ_MAX + 4096)
        buf_add(&p->answer, b->base, (size_t)n);
    struct buf reason = BUF_INIT;
    int v = http_verdict(p, n < 0, &reason);
    if (v >= 0)
        probe_finish(p, v == 1, reason.data);
    else if (n < 0)
        probe_finish(p, false, "Failure: the connection was closed");
    buf_release(&reason);
}

static void
probe_written(uv_write_t *w, int status)
{
    struct probe *p = w->data;
    if (status < 0)
        probe_finish(p, false, "Failure: the request could not be sent");
}

static void
probe_connected(uv_connect_t *req, int status)
{
    struct probe *p = req->data;
    if (p->done)
        return;
    if (status < 0) {
        /* AWS's checkers report "Failure: Connection refused. Resolved IP: <ip>". */
        struct buf reason = BUF_INIT;
        buf_addf(&reason, "Failure: %s. Resolved IP: %s",
                 status == UV_ECONNREFUSED ? "Connection refused" : uv_strerror(status),
                 p->check ? p->check->ip : "");
        probe_finish(p, false, reason.data);
        buf_release(&reason);
        return;
    }
    if (!p->check) {
        probe_finish(p, false, "abandoned");
        return;
    }
    if (strcmp(p->check->type, "TCP") == 0) {
        probe_finish(p, true, "Success: TCP connection established");
        return;
    }
    vclock_timer_cancel(p->app->clock, p->timeout);
    p->timeout = vclock_timer_add(p->app->clock, R53_ANSWER_TIMEOUT_MS, probe_timed_out, p);
    buf_addf(&p->request,
             "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Amazon-Route53-Health-Check-Service "
             "(ref fogbank)\r\nAccept: */*\r\nConnection: close\r\n\r\n",
             p->check->path[0] ? p->check->path : "/", p->check->host);
    uv_buf_t b = uv_buf_init(p->request.data, (unsigned)p->request.len);
    p->write.data = p;
    p->tcp.data = p;
    if (uv_write(&p->write, (uv_stream_t *)&p->tcp, &b, 1, probe_written) < 0 ||
        uv_read_start((uv_stream_t *)&p->tcp, probe_alloc, probe_read) < 0)
        probe_finish(p, false, "Failure: the request could not be sent");
}

/* Starts one probe of c (none when one is in flight). */
static void
probe_start(struct app *app, struct check *c)
{
    if (c->probe || c->disabled)
        return;
    if (!c->ip[0]) {
        /* Every data plane of fogbank lives on loopback; anything else is unreachable. */
        check_report(app, c, false, "Failure: fogbank probes loopback addresses only");
        return;
    }
    if (!app->loop)
        return;
    struct probe *p = xcalloc(1, sizeof(*p));
    p->check = c;
    p->app = app;
    buf_init(&p->request);
    buf_init(&p->answer);
    struct sockaddr_storage sa;
    int rc = strchr(c->ip, ':') ? uv_ip6_addr(c->ip, c->port, (struct sockaddr_in6 *)&sa)
                                : uv_ip4_addr(c->ip, c->port, (struct sockaddr_in *)&sa);
    uv_tcp_init(app->loop, &p->tcp);
    p->tcp.data = p;
    p->connect.data = p;
    c->probe = p;
    if (rc == 0)
        rc = uv_tcp_connect(&p->connect, &p->tcp, (struct sockaddr *)&sa, probe_connected);
    if (rc < 0) {
        probe_finish(p, false, "Failure: the connection could not be started");
        return;
    }
    p->timeout = vclock_timer_add(app->clock, R53_CONNECT_TIMEOUT_MS, probe_timed_out, p);
}

static int64_t
check_tick(void *arg, int64_t now_ms)
{
    (void)now_ms;
    struct check *c = arg;
    probe_start(rt.app, c);
    return c->interval_ms;
}

/* Abandons c's probe (its result is dropped) and stops its timer. */
static void
check_stop(struct app *app, struct check *c)
{
    if (c->timer && app->clock)
        vclock_timer_cancel(app->clock, c->timer);
    c->timer = 0;
    if (c->probe) {
        c->probe->check = NULL;
        if (c->probe->timeout && app->clock)
            vclock_timer_cancel(app->clock, c->probe->timeout);
        c->probe->timeout = 0;
        probe_finish(c->probe, false, "abandoned");
        c->probe = NULL;
    }
}

/* Adds the runtime entry of a stored check and starts its timer. */
static int
check_add(void *arg, const struct r53_health_row *h)
{
    struct app *app = arg;
    cJSON *cfg = cJSON_Parse(h->config);
    if (!cfg)
        return 0;
    struct check *c = xcalloc(1, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%s", h->id);
    snprintf(c->type, sizeof(c->type), "%s",
             str_member(cfg, "Type") ? str_member(cfg, "Type") : "");
    const char *ip = str_member(cfg, "IPAddress");
    const char *fqdn = str_member(cfg, "FullyQualifiedDomainName");
    struct in_addr a4;
    if (ip && inet_pton(AF_INET, ip, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127)
        snprintf(c->ip, sizeof(c->ip), "%s", ip);
    else if (ip && strcmp(ip, "::1") == 0)
        snprintf(c->ip, sizeof(c->ip), "%s", ip);
    else if (!ip && fqdn && (strcmp(fqdn, "localhost") == 0 || strcmp(fqdn, "localhost.") == 0))
        snprintf(c->ip, sizeof(c->ip), "127.0.0.1");
    c->port = (int)int_member(cfg, "Port", 80);
    snprintf(c->path, sizeof(c->path), "%s",
             str_member(cfg, "ResourcePath") ? str_member(cfg, "ResourcePath") : "/");
    snprintf(c->host, sizeof(c->host), "%s", fqdn ? fqdn : (ip ? ip : "localhost"));
    snprintf(c->search, sizeof(c->search), "%s",
             str_member(cfg, "SearchString") ? str_member(cfg, "SearchString") : "");
    c->interval_ms = int_member(cfg, "RequestInterval", 30) * 1000;
    c->threshold = (int)int_member(cfg, "FailureThreshold", 3);
    c->inverted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "Inverted"));
    c->disabled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "Disabled"));
    c->healthy = h->healthy;
    cJSON_Delete(cfg);
    c->next = rt.checks;
    rt.checks = c;
    if (app->clock && !c->disabled)
        c->timer = vclock_timer_add(app->clock, 0, check_tick, c);
    return 0;
}

void
r53_health_stop_all(struct app *app)
{
    while (rt.checks) {
        struct check *c = rt.checks;
        rt.checks = c->next;
        check_stop(app, c);
        free(c);
    }
}

void
r53_health_start_all(struct app *app)
{
    if (rt.app != app) {
        /* A new app (unit tests make one per test): the old entries died with their clock. */
        while (rt.checks) {
            struct check *c = rt.checks;
            rt.checks = c->next;
            free(c);
        }
    } else {
        r53_health_stop_all(app);
    }
    rt.app = app;
    if (app->db)
        r53_store_health_each(app->db, NULL, check_add, app);
}

/* Binds the runtime to the call's app (unit tests start no hooks). */
static void
runtime_attach(struct app *app)
{
    if (rt.app != app) {
        /* The entries of an app gone (unit tests) had timers on its clock, gone with it. */
        while (rt.checks) {
            struct check *c = rt.checks;
            rt.checks = c->next;
            free(c);
        }
        rt.app = app;
    }
}

int
r53_health_report(struct app *app, const char *id, bool ok, const char *reason)
{
    runtime_attach(app);
    struct check *c = check_find(id);
    if (!c)
        return -1;
    check_report(app, c, ok, reason);
    return 0;
}

/* ---- the API ---- */

static const char *const supported_types[] = { "HTTP", "HTTP_STR_MATCH", "TCP" };

/* The HealthCheck tree of a stored check. */
static cJSON *
health_tree(const struct r53_health_row *h)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Id", h->id);
    cJSON_AddStringToObject(o, "CallerReference", h->caller_ref);
    cJSON *cfg = cJSON_Parse(h->config);
    cJSON_AddItemToObject(o, "HealthCheckConfig", cfg ? cfg : cJSON_CreateObject());
    cJSON_AddNumberToObject(o, "HealthCheckVersion", (double)h->version);
    return o;
}

static int
tree_visit(void *arg, const struct r53_health_row *h)
{
    cJSON **out = arg;
    *out = health_tree(h);
    return 0;
}

static int
no_health_check(struct aws_err *err, const char *id)
{
    return aws_err_setx(err, 404, "NoSuchHealthCheck", true,
                        "No health check exists with the specified ID %s", id);
}

/* The config with AWS's defaults filled in, or NULL + InvalidInput. */
static cJSON *
config_normalise(const cJSON *in, struct aws_err *err)
{
    const char *type = str_member(in, "Type");
    bool known = false;
    for (size_t i = 0; i < ARRAY_SIZE(supported_types); i++)
        known = known || (type && strcmp(type, supported_types[i]) == 0);
    if (!known) {
        aws_err_setx(err, 400, "InvalidInput", true,
                     "Invalid request: health checks of type %s are not supported by fogbank "
                     "(HTTP, HTTP_STR_MATCH and TCP are)",
                     type ? type : "null");
        return NULL;
    }
    const char *ip = str_member(in, "IPAddress");
    const char *fqdn = str_member(in, "FullyQualifiedDomainName");
    if (!ip && !fqdn) {
        aws_err_setx(err, 400, "InvalidInput", true,
                     "Invalid request: Missing field 'IPAddress' or 'FullyQualifiedDomainName' in "
                     "HealthCheckConfig");
        return NULL;
    }
    unsigned char addr[16];
    if (ip && inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1) {
        aws_err_setx(err, 400, "InvalidInput", true, "Invalid IP address: %s", ip);
        return NULL;
    }
    if (strcmp(type, "TCP") == 0 && !cJSON_GetObjectItemCaseSensitive(in, "Port")) {
        aws_err_setx(err, 400, "InvalidInput", true,
                     "Invalid request: Port is required for health checks of type TCP");
        return NULL;
    }
    if (strcmp(type, "HTTP_STR_MATCH") == 0 && !str_member(in, "SearchString")) {
        aws_err_setx(err, 400, "InvalidInput", true,
                     "Invalid request: SearchString is required for health checks of type "
                     "HTTP_STR_MATCH");
        return NULL;
    }
    int64_t interval = int_member(in, "RequestInterval", 30);
    if (interval != 10 && interval != 30) {
        aws_err_setx(err, 400, "InvalidInput", true,
                     "Invalid request: RequestInterval must be 10 or 30");
        return NULL;
    }
    cJSON *c = cJSON_Duplicate(in, true);
    if (!cJSON_GetObjectItemCaseSensitive(c, "Port"))
        cJSON_AddNumberToObject(c, "Port", 80);
    if (!cJSON_GetObjectItemCaseSensitive(c, "RequestInterval"))
        cJSON_AddNumberToObject(c, "RequestInterval", 30);
    if (!cJSON_GetObjectItemCaseSensitive(c, "FailureThreshold"))
        cJSON_AddNumberToObject(c, "FailureThreshold", 3);
    if (!cJSON_GetObjectItemCaseSensitive(c, "MeasureLatency"))
        cJSON_AddBoolToObject(c, "MeasureLatency", false);
    if (!cJSON_GetObjectItemCaseSensitive(c, "Inverted"))
        cJSON_AddBoolToObject(c, "Inverted", false);
    if (!cJSON_GetObjectItemCaseSensitive(c, "Disabled"))
        cJSON_AddBoolToObject(c, "Disabled", false);
    return c;
}

int
r53_create_health_check(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    runtime_attach(call->app);
    const char *ref = str_member(in, "CallerReference");
    cJSON *cfg = config_normalise(cJSON_GetObjectItemCaseSensitive(in, "HealthCheckConfig"), err);
    if (!cfg)
        return -1;
    cJSON *existing = NULL;
    int found = r53_store_health_get_by_ref(call->app->db, ref, tree_visit, &existing);
    int ret = -1;
    if (found < 0) {
        r53_err_db(err);
        goto out;
    }
    if (found) {
        /* The same CallerReference and config is a retry: the same check again (API
           reference, CreateHealthCheck). */
        if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(existing, "HealthCheckConfig"), cfg,
                           true)) {
            aws_err_setx(err, 409, "HealthCheckAlreadyExists", true,
                         "A health check with the specified caller reference %s already exists "
                         "with a different configuration.",
                         ref);
            goto out;
        }
        cJSON_AddItemToObject(out, "HealthCheck", existing);
        existing = NULL;
    } else {
        char id[37];
        ids_uuid(call->app->ids, id);
        char *json = cJSON_PrintUnformatted(cfg);
        struct r53_health_row h = {
            .id = id,
            .caller_ref = ref,
            .config = json,
            .version = 1,
            .created_ms = call->now_ms,
            .healthy = true,
            .reason = "",
        };
        int rc = r53_store_health_put(call->app->db, &h);
        if (rc == 0)
            check_add(call->app, &h);
        free(json);
        if (rc < 0) {
            r53_err_db(err);
            goto out;
        }
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "Id", id);
        cJSON_AddStringToObject(t, "CallerReference", ref);
        cJSON_AddItemToObject(t, "HealthCheckConfig", cJSON_Duplicate(cfg, true));
        cJSON_AddNumberToObject(t, "HealthCheckVersion", 1);
        cJSON_AddItemToObject(out, "HealthCheck", t);
    }
    const cJSON *hc = cJSON_GetObjectItemCaseSensitive(out, "HealthCheck");
    struct buf loc = BUF_INIT;
    buf_addf(&loc, "https://route53.amazonaws.com/2013-04-01/healthcheck/%s", str_member(hc, "Id"));
    cJSON_AddStringToObject(out, "Location", loc.data);
    buf_release(&loc);
    ret = 0;
out:
    cJSON_Delete(existing);
    cJSON_Delete(cfg);
    return ret;
}

int
r53_get_health_check(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const char *id = str_member(in, "HealthCheckId");
    cJSON *t = NULL;
    int found = r53_store_health_get(call->app->db, id, tree_visit, &t);
    if (found < 0)
        return r53_err_db(err);
    if (!found)
        return no_health_check(err, id);
    cJSON_AddItemToObject(out, "HealthCheck", t);
    return 0;
}

struct hc_page {
    cJSON *list;   /* HealthChecks */
    int max;       /* MaxItems */
    int n;         /* listed */
    char next[40]; /* the first check not listed, "" when none */
};

static int
page_visit(void *arg, const struct r53_health_row *h)
{
    struct hc_page *p = arg;
    if (p->n == p->max) {
        snprintf(p->next, sizeof(p->next), "%s", h->id);
        return 1;
    }
    cJSON_AddItemToArray(p->list, health_tree(h));
    p->n++;
    return 0;
}

int
r53_list_health_checks(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const char *marker = str_member(in, "Marker");
    int max = r53_max_items(in, R53_HC_LIST_MAX, err);
    if (max < 0)
        return -1;
    if (marker) {
        int found = r53_store_health_get(call->app->db, marker, NULL, NULL);
        if (found < 0)
            return r53_err_db(err);
        if (!found)
            return aws_err_setx(err, 400, "InvalidInput", true,
                                "Invalid request: invalid marker %s", marker);
    }
    struct hc_page p = { cJSON_AddArrayToObject(out, "HealthChecks"), max, 0, "" };
    if (r53_store_health_each(call->app->db, marker, page_visit, &p) < 0)
        return r53_err_db(err);
    cJSON_AddStringToObject(out, "Marker", marker ? marker : "");
    cJSON_AddBoolToObject(out, "IsTruncated", p.next[0] != '\0');
    if (p.next[0])
        cJSON_AddStringToObject(out, "NextMarker", p.next);
    r53_add_max_items(out, max);
    return 0;
}

struct in_use {
    char name[260]; /* the record set that names the check */
    char type[16];  /* its type */
};

static int
in_use_visit(void *arg, const struct r53_rrset_row *r)
{
    struct in_use *u = arg;
    snprintf(u->name, sizeof(u->name), "%s", r->name);
    snprintf(u->type, sizeof(u->type), "%s", r->type);
    return 1;
}

int
r53_delete_health_check(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)out;
    runtime_attach(call->app);
    const char *id = str_member(in, "HealthCheckId");
    int found = r53_store_health_get(call->app->db, id, NULL, NULL);
    if (found < 0)
        return r53_err_db(err);
    if (!found)
        return no_health_check(err, id);
    struct in_use u = { "", "" };
    int used = r53_store_rrset_using_health_check(call->app->db, id, in_use_visit, &u);
    if (used < 0)
        return r53_err_db(err);
    if (used)
        return aws_err_setx(err, 400, "HealthCheckInUse", true,
                            "The health check with id %s is still referenced from parameter "
                            "HealthCheckId of the resource record set with name %s and type %s",
                            id, u.name, u.type);
    if (r53_store_health_delete(call->app->db, id) < 0 ||
        r53_store_tag_delete_all(call->app->db, "healthcheck", id) < 0)
        return r53_err_db(err);
    for (struct check **pp = &rt.checks; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->id, id) == 0) {
            struct check *c = *pp;
            *pp = c->next;
            check_stop(call->app, c);
            free(c);
            break;
        }
    }
    return 0;
}

static int
status_visit(void *arg, const struct r53_health_row *h)
{
    cJSON *list = arg;
    if (h->checked_ms == 0)
        return 0;
    /* One checker, on loopback: its last report. */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Region", "us-east-1");
    cJSON_AddStringToObject(o, "IPAddress", "127.0.0.1");
    cJSON *r = cJSON_AddObjectToObject(o, "StatusReport");
    cJSON_AddStringToObject(r, "Status", h->reason);
    cJSON_AddNumberToObject(r, "CheckedTime", (double)h->checked_ms);
    cJSON_AddItemToArray(list, o);
    return 0;
}

int
r53_get_health_check_status(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const char *id = str_member(in, "HealthCheckId");
    cJSON *list = cJSON_AddArrayToObject(out, "HealthCheckObservations");
    int found = r53_store_health_get(call->app->db, id, status_visit, list);
    if (found < 0)
        return r53_err_db(err);
    if (!found)
        return no_health_check(err, id);
    return 0;
}
