/*
 * Registered instances and their health: RegisterInstancesWithLoadBalancer,
 * DeregisterInstancesFromLoadBalancer (with connection draining), ConfigureHealthCheck,
 * DescribeInstanceHealth, and the health-check rounds that run on the virtual clock. A
 * round starts one probe per registered instance (never a second while one is in flight);
 * the probe's network exchange is asynchronous (probe.c) and its result is applied in its
 * own transaction when it arrives. A probe fails once its virtual Timeout has passed and it
 * has had a real grace to answer (probe.c), so that advancing a frozen clock does not fail
 * every probe before the instance could answer.
 */
#include "emulator/common.h"
#include "services/elb/elb.h"
#include "services/elb/elb_internal.h"
#include "emulator/app.h"
#include "emulator/clock.h"
#include "emulator/log.h"
#include "services/ec2/api.h"
#include "state/db.h"

#include <strings.h>

/* AWS's wording for DescribeInstanceHealth (AWS-NOTES 4.2, botocore InstanceState). */
#define D_NA "N/A"
#define D_FAILED                                                                                   \
    "Instance has failed at least the UnhealthyThreshold number of health checks consecutively."
#define D_NOT_PASSED                                                                               \
    "Instance has not passed the configured HealthyThreshold number of health checks consecutively."
#define D_REGISTERING "Instance registration is still in progress."
#define D_ZONE                                                                                     \
    "Instance is in the EC2 Availability Zone for which LoadBalancer is not configured to route traffic to."
#define D_UNREGISTERED "Instance is not currently registered with the LoadBalancer."
#define D_DRAINING     "Instance deregistration currently in progress."

/* ---- the verdict and the state machine ---- */

void
elb_health_apply(struct elb_instance_row *row, bool ok, int healthy, int unhealthy)
{
    row->checks++;
    if (ok) {
        row->ok_streak++;
        row->fail_streak = 0;
        if (row->ok_streak >= healthy)
            row->in_service = true;
    } else {
        row->fail_streak++;
        row->ok_streak = 0;
        if (row->fail_streak >= unhealthy)
            row->in_service = false;
    }
}

static bool
zone_enabled(const struct elb_lb_row *lb, const char *az)
{
    cJSON *zones = cJSON_Parse(lb->zones);
    bool found = false;
    const cJSON *z;
    cJSON_ArrayForEach(z, zones)
    {
        found = found || (cJSON_IsString(z) && strcmp(z->valuestring, az) == 0);
    }
    cJSON_Delete(zones);
    return found;
}

int
elb_verdict_of(struct aws_call *call, const struct elb_lb_row *lb,
               const struct elb_instance_row *row, struct elb_verdict *out)
{
    static char state_text[3][48];
    *out = (struct elb_verdict){ "OutOfService", "N/A", D_UNREGISTERED, false };
    if (!row->registered && row->drain_until_ms > call->now_ms) {
        *out = (struct elb_verdict){ "InService", "N/A", D_DRAINING, false };
        return 0;
    }
    if (!row->registered)
        return 0;
    struct ec2_api_instance inst;
    int found = ec2_api_instance_get(call, row->instance_id, &inst);
    if (found < 0)
        return -1;
    if (found == 0 || inst.state_code != 16) {
        /* "Instance is in pending state." and the like. */
        const char *st = found ? inst.state_name : "terminated";
        int slot = found ? (inst.state_code == 0 ? 0 : inst.state_code == 80 ? 1 : 2) : 2;
        snprintf(state_text[slot], sizeof(state_text[slot]), "Instance is in %s state.", st);
        *out = (struct elb_verdict){ "OutOfService", "Instance", state_text[slot], false };
        return 0;
    }
    if (!zone_enabled(lb, inst.az)) {
        *out = (struct elb_verdict){ "OutOfService", "ELB", D_ZONE, false };
        return 0;
    }
    if (row->in_service) {
        *out = (struct elb_verdict){ "InService", "N/A", D_NA, true };
        return 0;
    }
    if (row->checks == 0)
        *out = (struct elb_verdict){ "OutOfService", "ELB", D_REGISTERING, false };
    else if (row->fail_streak >= lb->hc_unhealthy)
        *out = (struct elb_verdict){ "OutOfService", "Instance", D_FAILED, false };
    else
        *out = (struct elb_verdict){ "OutOfService", "Instance", D_NOT_PASSED, false };
    return 0;
}

int
elb_target_parse(const char *target, struct elb_target *out)
{
    memset(out, 0, sizeof(*out));
    const char *colon = target ? strchr(target, ':') : NULL;
    if (!colon || colon - target >= (ptrdiff_t)sizeof(out->protocol))
        return -1;
    snprintf(out->protocol, sizeof(out->protocol), "%.*s", (int)(colon - target), target);
    static const char *const known[] = { "HTTP", "HTTPS", "TCP", "SSL" };
    bool ok = false;
    for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
        if (strcasecmp(out->protocol, known[i]) == 0) {
            snprintf(out->protocol, sizeof(out->protocol), "%s", known[i]);
            ok = true;
        }
    }
    if (!ok)
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || port < 1 || port > 65535)
        return -1;
    out->port = (int)port;
    bool http = strcmp(out->protocol, "HTTP") == 0 || strcmp(out->protocol, "HTTPS") == 0;
    if (http) {
        /* An HTTP(S) target needs a path (AWS-NOTES 4.1). */
        if (*end != '/' || strlen(end) >= sizeof(out->path))
            return -1;
        snprintf(out->path, sizeof(out->path), "%s", end);
    } else if (*end) {
        return -1;
    }
    return 0;
}

/* ---- registration ---- */

int
elb_register_one(struct aws_call *call, const struct elb_lb_row *lb, const char *id,
                 struct aws_err *err)
{
    struct ec2_api_instance inst;
    int found = id ? ec2_api_instance_get(call, id, &inst) : 0;
    if (found < 0)
        return elb_db_failed(err);
    if (found == 0 || (inst.state_code != 0 && inst.state_code != 16) ||
        strcmp(inst.region, call->region) != 0)
        return aws_err_setx(err, 400, "InvalidInstance", true,
                            "The requested instance %s is not valid: it is not a running "
                            "instance of this region.",
                            id ? id : "");
    if (lb->vpc_id[0] && inst.vpc_id[0] && strcmp(lb->vpc_id, inst.vpc_id) != 0)
        return aws_err_setx(err, 400, "InvalidInstance", true,
                            "The instance %s is not in the load balancer's VPC %s.", id,
                            lb->vpc_id);
    struct elb_instance_row row;
    found = elb_store_instance_get(call->app->db, lb->region, lb->name, id, &row);
    if (found < 0)
        return elb_db_failed(err);
    if (found == 1 && row.registered)
        return 0;
    memset(&row, 0, sizeof(row));
    snprintf(row.region, sizeof(row.region), "%s", lb->region);
    snprintf(row.lb_name, sizeof(row.lb_name), "%s", lb->name);
    snprintf(row.instance_id, sizeof(row.instance_id), "%s", id);
    row.registered = true;
    row.registered_ms = call->now_ms;
    if (elb_store_instance_put(call->app->db, &row) < 0)
        return elb_db_failed(err);
    return 0;
}

int
elb_deregister_one(struct aws_call *call, const struct elb_lb_row *lb, const char *id,
                   int64_t *drain_ms, struct aws_err *err)
{
    *drain_ms = 0;
    struct elb_instance_row row;
    int found = elb_store_instance_get(call->app->db, lb->region, lb->name, id, &row);
    if (found < 0)
        return elb_db_failed(err);
    if (found == 0 || !row.registered)
        return 0;
    row.registered = false;
    row.in_service = false;
    row.ok_streak = row.fail_streak = row.checks = 0;
    if (lb->drain_enabled) {
        *drain_ms = (int64_t)lb->drain_timeout * 1000;
        row.drain_until_ms = call->now_ms + *drain_ms;
        elb_drain_arm(call->app, lb->region, lb->name, id, *drain_ms);
    } else {
        row.drain_until_ms = 0;
    }
    if (elb_store_instance_put(call->app->db, &row) < 0)
        return elb_db_failed(err);
    return 0;
}

/* [{InstanceId}] of the request; each must be a string. */
static const cJSON *
instances_of(const cJSON *in)
{
    return cJSON_GetObjectItemCaseSensitive(in, "Instances");
}

/* out.Instances = the registered instances, in registration order. */
static int
list_registered(struct aws_call *call, const struct elb_lb_row *lb, cJSON *out, struct aws_err *err)
{
    struct elb_instance_row *rows = NULL;
    size_t n = 0;
    if (elb_store_instance_list(call->app->db, lb->region, lb->name, &rows, &n) < 0)
        return elb_db_failed(err);
    cJSON *list = cJSON_AddArrayToObject(out, "Instances");
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].registered)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "InstanceId", rows[i].instance_id);
        cJSON_AddItemToArray(list, o);
    }
    free(rows);
    return 0;
}

int
elb_register_instances_with_load_balancer(struct aws_call *call, const cJSON *in, cJSON *out,
                                          struct aws_err *err)
{
    struct elb_lb_row lb;
    if (elb_lb_load(call, elb_str(in, "LoadBalancerName"), &lb, err) < 0)
        return -1;
    const cJSON *i;
    cJSON_ArrayForEach(i, instances_of(in))
    {
        if (elb_register_one(call, &lb, elb_str(i, "InstanceId"), err) < 0)
            return -1;
    }
    if (list_registered(call, &lb, out, err) < 0)
        return -1;
    elb_dataplane_dirty(call->app);
    return 0;
}

int
elb_deregister_instances_from_load_balancer(struct aws_call *call, const cJSON *in, cJSON *out,
                                            struct aws_err *err)
{
    struct elb_lb_row lb;
    if (elb_lb_load(call, elb_str(in, "LoadBalancerName"), &lb, err) < 0)
        return -1;
    const cJSON *i;
    /* Every named instance must be registered: InvalidInstance names the first that is not. */
    cJSON_ArrayForEach(i, instances_of(in))
    {
        const char *id = elb_str(i, "InstanceId");
        struct elb_instance_row row;
        int found = elb_store_instance_get(call->app->db, lb.region, lb.name, id ? id : "", &row);
        if (found < 0)
            return elb_db_failed(err);
        if (found == 0 || !row.registered)
            return aws_err_setx(err, 400, "InvalidInstance", true,
                                "The requested instance %s is not registered with the load "
                                "balancer %s.",
                                id ? id : "", lb.name);
    }
    cJSON_ArrayForEach(i, instances_of(in))
    {
        int64_t drain;
        if (elb_deregister_one(call, &lb, elb_str(i, "InstanceId"), &drain, err) < 0)
            return -1;
    }
    if (list_registered(call, &lb, out, err) < 0)
        return -1;
    elb_dataplane_dirty(call->app);
    return 0;
}

static cJSON *
health_item(const char *id, const struct elb_verdict *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "InstanceId", id);
    cJSON_AddStringToObject(o, "State", v->state);
    cJSON_AddStringToObject(o, "ReasonCode", v->reason);
    cJSON_AddStringToObject(o, "Description", v->description);
    return o;
}

int
elb_describe_instance_health(struct aws_call *call, const cJSON *in, cJSON *out,
                             struct aws_err *err)
{
    struct elb_lb_row lb;
    if (elb_lb_load(call, elb_str(in, "LoadBalancerName"), &lb, err) < 0)
        return -1;
    cJSON *list = cJSON_AddArrayToObject(out, "InstanceStates");
    const cJSON *named = instances_of(in);
    struct elb_verdict v;
    if (cJSON_GetArraySize(named) > 0) {
        const cJSON *i;
        cJSON_ArrayForEach(i, named)
        {
            const char *id = elb_str(i, "InstanceId");
            struct elb_instance_row row;
            int found =
                    elb_store_instance_get(call->app->db, lb.region, lb.name, id ? id : "", &row);
            if (found < 0)
                return elb_db_failed(err);
            /* Never registered: InvalidInstance (AWS-NOTES 4.2). */
            if (found == 0)
                return aws_err_setx(err, 400, "InvalidInstance", true,
                                    "Could not find EC2 instance %s.", id ? id : "");
            if (elb_verdict_of(call, &lb, &row, &v) < 0)
                return elb_db_failed(err);
            cJSON_AddItemToArray(list, health_item(row.instance_id, &v));
        }
        return 0;
    }
    struct elb_instance_row *rows = NULL;
    size_t n = 0;
    if (elb_store_instance_list(call->app->db, lb.region, lb.name, &rows, &n) < 0)
        return elb_db_failed(err);
    for (size_t k = 0; k < n; k++) {
        if (!rows[k].registered && rows[k].drain_until_ms <= call->now_ms)
            continue;
        struct ec2_api_instance inst;
        /* Terminated instances are not listed unless named (botocore's documentation). */
        if (rows[k].registered && ec2_api_instance_get(call, rows[k].instance_id, &inst) == 1 &&
            inst.state_code == 48)
            continue;
        if (elb_verdict_of(call, &lb, &rows[k], &v) < 0) {
            free(rows);
            return elb_db_failed(err);
        }
        cJSON_AddItemToArray(list, health_item(rows[k].instance_id, &v));
    }
    free(rows);
    return 0;
}

int
elb_configure_health_check(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    struct elb_lb_row lb;
    if (elb_lb_load(call, elb_str(in, "LoadBalancerName"), &lb, err) < 0)
        return -1;
    const cJSON *hc = cJSON_GetObjectItemCaseSensitive(in, "HealthCheck");
    const char *target = elb_str(hc, "Target");
    struct elb_target t;
    if (elb_target_parse(target, &t) < 0)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "HealthCheck Target must be of the form PROTOCOL:PORT (TCP, SSL) or "
                           "PROTOCOL:PORT/PATH (HTTP, HTTPS), got '%s'.",
                           target ? target : "");
    static const char *const nums[] = { "Interval", "Timeout", "UnhealthyThreshold",
                                        "HealthyThreshold" };
    int vals[4];
    for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(hc, nums[i]);
        if (!cJSON_IsNumber(v))
            return aws_err_set(err, AWS_E_VALIDATION_ERROR, "HealthCheck %s is required.", nums[i]);
        vals[i] = v->valueint;
    }
    if (vals[1] >= vals[0])
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "HealthCheck Timeout must be less than Interval.");
    snprintf(lb.hc_target, sizeof(lb.hc_target), "%s", target);
    lb.hc_interval = vals[0];
    lb.hc_timeout = vals[1];
    lb.hc_unhealthy = vals[2];
    lb.hc_healthy = vals[3];
    if (elb_store_lb_put(call->app->db, &lb) < 0)
        return elb_db_failed(err);
    cJSON *o = cJSON_AddObjectToObject(out, "HealthCheck");
    cJSON_AddStringToObject(o, "Target", lb.hc_target);
    cJSON_AddNumberToObject(o, "Interval", lb.hc_interval);
    cJSON_AddNumberToObject(o, "Timeout", lb.hc_timeout);
    cJSON_AddNumberToObject(o, "UnhealthyThreshold", lb.hc_unhealthy);
    cJSON_AddNumberToObject(o, "HealthyThreshold", lb.hc_healthy);
    elb_health_arm(call->app, lb.region, lb.name, lb.hc_interval);
    return 0;
}

/* ---- the rounds ---- */

/* One load balancer's round timer (the list owns it; a fired timer finds it by key). */
struct round {
    struct app *app;    /* the running fogbank */
    char region[32];    /* the load balancer's region */
    char name[40];      /* the load balancer */
    uint64_t timer;     /* the pending vclock timer */
    struct round *next; /* the list */
};

/* A draining deregistration's end. */
struct drain {
    struct app *app;    /* the running fogbank */
    char region[32];    /* the load balancer's region */
    char name[40];      /* the load balancer */
    char id[32];        /* the instance */
    uint64_t timer;     /* the pending vclock timer */
    struct drain *next; /* the list */
};

static struct {
    struct app *app;                 /* whose timers these are */
    struct round *rounds;            /* armed rounds */
    struct drain *drains;            /* pending drain ends */
    struct elb_probe *probes;        /* probes in flight */
    const struct elb_prober *prober; /* NULL: the real one */
} hs;

void
elb_set_prober(const struct elb_prober *prober)
{
    hs.prober = prober;
}

static const struct elb_prober *
prober(void)
{
    return hs.prober ? hs.prober : &elb_real_prober;
}

static void
attach(struct app *app)
{
    if (hs.app != app) {
        /* Timers of another app (a test's previous one) died with its clock. */
        hs.rounds = NULL;
        hs.drains = NULL;
        hs.probes = NULL;
        hs.app = app;
    }
}

static struct elb_probe *
probe_find(const char *region, const char *name, const char *id)
{
    for (struct elb_probe *p = hs.probes; p; p = p->next)
        if (strcmp(p->region, region) == 0 && strcmp(p->lb_name, name) == 0 &&
            strcmp(p->instance_id, id) == 0)
            return p;
    return NULL;
}

static void
probe_unlink(struct elb_probe *p)
{
    for (struct elb_probe **pp = &hs.probes; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            return;
        }
    }
}

/* Applies one check result to the row of (region, name, id), in the open transaction. */
static void
record(struct app *app, const char *region, const char *name, const char *id, bool ok)
{
    struct elb_lb_row lb;
    struct elb_instance_row row;
    if (elb_store_lb_get(app->db, region, name, &lb) != 1 ||
        elb_store_instance_get(app->db, region, name, id, &row) != 1 || !row.registered)
        return;
    bool was = row.in_service;
    elb_health_apply(&row, ok, lb.hc_healthy, lb.hc_unhealthy);
    if (was != row.in_service)
        log_info("elb: %s/%s %s is now %s", region, name, id,
                 row.in_service ? "InService" : "OutOfService");
    elb_store_instance_put(app->db, &row);
}

static void
probe_finish(struct elb_probe *p, bool ok)
{
    struct app *app = p->app;
    probe_unlink(p);
    if (p->vtimer)
        vclock_timer_cancel(app->clock, p->vtimer);
    if (db_begin(app->db, true) == 0) {
        record(app, p->region, p->lb_name, p->instance_id, ok);
        if (db_commit(app->db) < 0)
            db_rollback(app->db);
    }
    free(p);
    elb_dataplane_dirty(app);
}

void
elb_probe_result(struct elb_probe *p, bool ok)
{
    p->net = NULL;
    probe_finish(p, ok);
}

/* Both clocks have run out: the probe failed by timeout. */
static void
probe_timed_out(struct elb_probe *p)
{
    if (p->net)
        prober()->cancel(p);
    p->net = NULL;
    probe_finish(p, false);
}

void
elb_probe_real_expired(struct elb_probe *p)
{
    p->real_expired = true;
    if (p->virtual_expired)
        probe_timed_out(p);
}

static int64_t
probe_vtimeout(void *arg, int64_t now_ms)
{
    (void)now_ms;
    struct elb_probe *p = arg;
    p->vtimer = 0;
    p->virtual_expired = true;
    if (p->real_expired)
        probe_timed_out(p);
    return VCLOCK_DONE;
}

/* Starts the check of one registered instance (inside the round's transaction). */
static void
check_one(struct aws_call *call, const struct elb_lb_row *lb, const struct elb_target *t,
          struct elb_instance_row *row)
{
    struct app *app = call->app;
    if (probe_find(lb->region, lb->name, row->instance_id))
        return; /* the previous check has not answered yet: no pile-up */
    struct ec2_api_instance inst;
    bool ok_to_probe =
            ec2_api_instance_get(call, row->instance_id, &inst) == 1 && inst.state_code == 16;
    int host_port = ok_to_probe ? ec2_api_host_port(call, row->instance_id, t->port, true) : 0;
    /* The fault health-fail: fogbank answers the check with a 500 itself. */
    if (!ok_to_probe || host_port <= 0 || ec2_api_health_fail(call, row->instance_id)) {
        elb_health_apply(row, false, lb->hc_healthy, lb->hc_unhealthy);
        elb_store_instance_put(app->db, row);
        return;
    }
    struct elb_probe *p = xcalloc(1, sizeof(*p));
    p->app = app;
    snprintf(p->region, sizeof(p->region), "%s", lb->region);
    snprintf(p->lb_name, sizeof(p->lb_name), "%s", lb->name);
    snprintf(p->instance_id, sizeof(p->instance_id), "%s", row->instance_id);
    p->target = *t;
    p->host_port = host_port;
    p->timeout_ms = (int64_t)lb->hc_timeout * 1000;
    p->next = hs.probes;
    hs.probes = p;
    p->vtimer = vclock_timer_add(app->clock, p->timeout_ms, probe_vtimeout, p);
    if (prober()->start(p) < 0) {
        probe_unlink(p);
        vclock_timer_cancel(app->clock, p->vtimer);
        free(p);
        elb_health_apply(row, false, lb->hc_healthy, lb->hc_unhealthy);
        elb_store_instance_put(app->db, row);
    }
}

static struct round *
round_find(const char *region, const char *name)
{
    for (struct round *r = hs.rounds; r; r = r->next)
        if (strcmp(r->region, region) == 0 && strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

static void
round_unlink(struct round *r)
{
    for (struct round **pp = &hs.rounds; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            return;
        }
    }
}

static int64_t
round_fire(void *arg, int64_t now_ms)
{
    struct round *r = arg;
    struct app *app = r->app;
    struct aws_call call;
    elb_internal_call(app, r->region, &call);
    call.now_ms = now_ms;
    if (db_begin(app->db, true) < 0)
        return 30 * 1000;
    struct elb_lb_row lb;
    int found = elb_store_lb_get(app->db, r->region, r->name, &lb);
    if (found != 1) {
        db_rollback(app->db);
        if (found < 0)
            return 30 * 1000;
        round_unlink(r);
        free(r);
        return VCLOCK_DONE;
    }
    struct elb_target t;
    struct elb_instance_row *rows = NULL;
    size_t n = 0;
    if (elb_target_parse(lb.hc_target, &t) == 0 &&
        elb_store_instance_list(app->db, lb.region, lb.name, &rows, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            if (rows[i].registered)
                check_one(&call, &lb, &t, &rows[i]);
    }
    free(rows);
    if (db_commit(app->db) < 0)
        db_rollback(app->db);
    elb_dataplane_dirty(app);
    return (int64_t)lb.hc_interval * 1000;
}

void
elb_health_arm(struct app *app, const char *region, const char *name, int interval_s)
{
    attach(app);
    struct round *r = round_find(region, name);
    if (r) {
        vclock_timer_cancel(app->clock, r->timer);
    } else {
        r = xcalloc(1, sizeof(*r));
        r->app = app;
        snprintf(r->region, sizeof(r->region), "%s", region);
        snprintf(r->name, sizeof(r->name), "%s", name);
        r->next = hs.rounds;
        hs.rounds = r;
    }
    r->timer = vclock_timer_add(app->clock, (int64_t)interval_s * 1000, round_fire, r);
}

static int64_t
drain_fire(void *arg, int64_t now_ms)
{
    struct drain *d = arg;
    struct app *app = d->app;
    for (struct drain **pp = &hs.drains; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    }
    if (db_begin(app->db, true) == 0) {
        struct elb_instance_row row;
        if (elb_store_instance_get(app->db, d->region, d->name, d->id, &row) == 1 &&
            !row.registered && row.drain_until_ms && row.drain_until_ms <= now_ms) {
            row.drain_until_ms = 0;
            elb_store_instance_put(app->db, &row);
        }
        if (db_commit(app->db) < 0)
            db_rollback(app->db);
    }
    free(d);
    /* The data plane cuts what is still open to the instance. */
    elb_dataplane_dirty(app);
    return VCLOCK_DONE;
}

void
elb_drain_arm(struct app *app, const char *region, const char *name, const char *id,
              int64_t delay_ms)
{
    attach(app);
    struct drain *d = xcalloc(1, sizeof(*d));
    d->app = app;
    snprintf(d->region, sizeof(d->region), "%s", region);
    snprintf(d->name, sizeof(d->name), "%s", name);
    snprintf(d->id, sizeof(d->id), "%s", id);
    d->next = hs.drains;
    hs.drains = d;
    d->timer = vclock_timer_add(app->clock, delay_ms, drain_fire, d);
}

void
elb_health_start(struct app *app)
{
    attach(app);
    struct elb_lb_row *lbs = NULL;
    size_t n = 0;
    if (elb_store_lb_list(app->db, NULL, &lbs, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        elb_health_arm(app, lbs[i].region, lbs[i].name, lbs[i].hc_interval);
        struct elb_instance_row *rows = NULL;
        size_t nr = 0;
        if (elb_store_instance_list(app->db, lbs[i].region, lbs[i].name, &rows, &nr) == 0)
            for (size_t k = 0; k < nr; k++)
                if (!rows[k].registered && rows[k].drain_until_ms) {
                    int64_t left = rows[k].drain_until_ms - vclock_now(app->clock);
                    elb_drain_arm(app, lbs[i].region, lbs[i].name, rows[k].instance_id,
                                  left > 0 ? left : 0);
                }
        free(rows);
    }
    free(lbs);
}

void
elb_health_stop(struct app *app)
{
    attach(app);
    while (hs.rounds) {
        struct round *r = hs.rounds;
        hs.rounds = r->next;
        vclock_timer_cancel(app->clock, r->timer);
        free(r);
    }
    while (hs.drains) {
        struct drain *d = hs.drains;
        hs.drains = d->next;
        vclock_timer_cancel(app->clock, d->timer);
        free(d);
    }
    while (hs.probes) {
        struct elb_probe *p = hs.probes;
        hs.probes = p->next;
        if (p->net)
            prober()->cancel(p);
        if (p->vtimer)
            vclock_timer_cancel(app->clock, p->vtimer);
        free(p);
    }
}
