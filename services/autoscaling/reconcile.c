/*
 * The reconciler: the night watchman of every group, run from virtual-clock timers (never
 * from a handler). One pass over a group, in its own write transaction, moves each instance
 * along its lifecycle (Pending -> [Pending:Wait -> Pending:Proceed] -> InService ->
 * Terminating -> [Terminating:Wait -> Terminating:Proceed] -> Terminated), health-checks the
 * InService ones (EC2 status, the load balancer's verdict with HealthCheckType ELB), then
 * launches or terminates to bring the capacity to the desired count, balancing the zones
 * (AWS-NOTES 3.3-3.5). Passes run every ASG_TICK_MS of virtual time and, on a zero-delay
 * timer, after every write that needs one (asg_reconcile_kick).
 */
#include "emulator/common.h"
#include "services/autoscaling/fleet.h"

#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/clock.h"
#include "emulator/events.h"
#include "emulator/log.h"
#include "services/autoscaling/asg.h"
#include "services/ec2/api.h"

/* How many passes in a row may queue another zero-delay pass at the same virtual moment: a
   boot that fails at once would otherwise relaunch forever without the clock moving. The
   periodic pass retries after that, as AWS retries failed launches after a pause. */
#define MAX_CHAIN 8

static struct {
    struct app *app;     /* the app the timers work for */
    uint64_t kick_timer; /* the queued zero-delay pass, 0 none */
    uint64_t tick_timer; /* the periodic pass, 0 none */
    int chain;           /* passes queued by passes since the last outside kick */
    bool self_kick;      /* the pass running now asked for another */
} rt;

static void
attach(struct app *app)
{
    if (rt.app != app) {
        memset(&rt, 0, sizeof(rt));
        rt.app = app;
    }
}

/* A call context for a pass: no request, the group's region. */
static void
internal_call(struct app *app, const char *region, int64_t now_ms, struct aws_call *call)
{
    memset(call, 0, sizeof(*call));
    call->app = app;
    call->service = "autoscaling";
    call->op = "fogbank-reconcile";
    call->region = region;
    call->account_id = app->cfg.account_id ? app->cfg.account_id : "123456789012";
    call->request_id = "";
    call->now_ms = now_ms;
}

/* ---- one instance's lifecycle ---- */

static void
set_state(struct asg_inst_rec *r, const char *state)
{
    snprintf(r->state, sizeof(r->state), "%s", state);
}

/* Emits `kind` with {group, region, instance_id} plus `key`: `value` when key is set. */
static void
emit(struct aws_call *call, const char *kind, const struct asg_group_rec *g, const char *id,
     const char *key, const char *value)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "group", g->name);
    cJSON_AddStringToObject(d, "region", g->region);
    if (id)
        cJSON_AddStringToObject(d, "instance_id", id);
    if (key)
        cJSON_AddStringToObject(d, key, value ? value : "");
    events_emit(call->app, kind, d);
}

/* A cause with the group's pending user request in front ("At ... a user request ...  At
   ... an instance was started ..."), as AWS joins them (two spaces). */
static void
cause_with_request(const struct asg_group_rec *g, struct buf *out)
{
    if (g->cause && g->cause[0])
        buf_addf(out, "%s  ", g->cause);
}

int
asg_instance_retire(struct aws_call *call, const struct asg_group_rec *g, struct asg_inst_rec *r,
                    const char *cause)
{
    if (cause) {
        struct buf desc = BUF_INIT;
        buf_addf(&desc, "Terminating EC2 instance: %s", r->id);
        /* A launch still under way ends here. */
        if (str_starts(r->state, "Pending") &&
            asg_activity_update(call, r->activity_id, "Cancelled", 100, NULL, NULL) < 0) {
            buf_release(&desc);
            return -1;
        }
        int rc = asg_activity_start(call, g, desc.data, cause, "InProgress", 0, r->activity_id);
        buf_release(&desc);
        if (rc < 0)
            return -1;
        emit(call, "autoscaling.terminate", g, r->id, "cause", cause);
    }
    set_state(r, LS_TERMINATING);
    asg_rec_set(&r->actions, "[]");
    return asg_store_put_inst(call->app->db, r);
}

static void
health_cause(struct aws_call *call, const struct asg_group_rec *g, const char *why,
             struct asg_inst_rec *r)
{
    char t[32];
    asg_time_text(call->now_ms, t);
    struct buf b = BUF_INIT;
    buf_addf(&b, "At %s an instance was taken out of service in response to %s.", t, why);
    asg_rec_set(&r->health_cause, b.data);
    buf_release(&b);
    snprintf(r->health, sizeof(r->health), "Unhealthy");
    emit(call, "autoscaling.unhealthy", g, r->id, "reason", why);
}

static int
enter_service(struct aws_call *call, struct asg_group_rec *g, struct asg_inst_rec *r)
{
    set_state(r, LS_IN_SERVICE);
    r->in_service_ms = call->now_ms;
    g->last_scaling_ms = call->now_ms;
    return asg_activity_update(call, r->activity_id, "Successful", 100, NULL, NULL);
}

/* Ends the instance's EC2 life: termination requested, state Terminating:Proceed. */
static int
terminate_now(struct aws_call *call, struct asg_inst_rec *r)
{
    struct aws_err err;
    aws_err_clear(&err);
    set_state(r, LS_TERMINATING_PROCEED);
    if (ec2_api_terminate(call, r->id, &err) < 0) {
        /* Termination protection on the instance: the activity fails, the group lets it
           go (it no longer counts). */
        log_error("autoscaling: cannot terminate %s: %s", r->id, err.message);
        if (asg_activity_update(call, r->activity_id, "Failed", 100, NULL, err.message) < 0)
            return -1;
        r->activity_id[0] = '\0';
    }
    return 0;
}

/*
 * One step of instance r's lifecycle at call->now_ms. Returns 1 when its state moved (the
 * caller steps it again), 0 when it rests, 2 when its row is gone, -1 on a database failure.
 */
static int
step(struct aws_call *call, struct asg_group_rec *g, struct asg_inst_rec *r)
{
    struct ec2_api_instance e;
    int found = ec2_api_instance_get(call, r->id, &e);
    if (found < 0)
        return -1;
    bool running = found == 1 && strcmp(e.state_name, "running") == 0;
    bool ended = found == 0 || strcmp(e.state_name, "terminated") == 0;
    const char *s = r->state;
    char reason[256] = "";

    if (strcmp(s, LS_PENDING) == 0) {
        if (found == 1 && strcmp(e.state_name, "pending") == 0)
            return 0;
        if (!running) {
            /* It never came up (its boot failed, or it was stopped or terminated). */
            char msg[160];
            snprintf(msg, sizeof(msg), "Instance %s failed to launch: it is %s.", r->id,
                     found == 1 ? e.state_name : "gone");
            if (asg_activity_update(call, r->activity_id, "Failed", 100, NULL, msg) < 0)
                return -1;
            emit(call, "autoscaling.launch-failed", g, r->id, "message", msg);
            r->activity_id[0] = '\0';
            if (!ended && terminate_now(call, r) < 0)
                return -1;
            if (ended)
                return asg_loop_ended(call, r->id) < 0 ||
                                       asg_store_delete_inst(call->app->db, r->id) < 0
                               ? -1
                               : 2;
            return 1;
        }
        if (!asg_group_suspended(g, "AddToLoadBalancer"))
            asg_lb_register(call, g, r->id);
        int hooks = asg_hooks_begin(call, g, r, HOOK_LAUNCHING);
        if (hooks < 0)
            return -1;
        if (hooks) {
            set_state(r, LS_PENDING_WAIT);
            return asg_activity_update(call, r->activity_id, "MidLifecycleAction", 40, NULL, NULL) <
                                   0
                           ? -1
                           : 1;
        }
        return enter_service(call, g, r) < 0 ? -1 : 1;
    }
    if (strcmp(s, LS_PENDING_WAIT) == 0) {
        enum asg_hook_verdict v = asg_hooks_verdict(call, r, reason);
        if (v == ASG_HOOK_WAIT)
            return 0;
        if (v == ASG_HOOK_CONTINUE) {
            set_state(r, LS_PENDING_PROCEED);
            return 1;
        }
        /* ABANDON: the launch is cancelled and the instance terminated (AWS-NOTES 1.4). */
        struct buf desc = BUF_INIT, msg = BUF_INIT;
        buf_addf(&msg, "Instance failed to complete user's Lifecycle Action: %s", reason);
        buf_addf(&desc, "Launching a new EC2 instance: %s.  Status Reason: %s", r->id, msg.data);
        int rc = asg_activity_update(call, r->activity_id, "Cancelled", 100, desc.data, msg.data);
        emit(call, "autoscaling.launch-abandoned", g, r->id, "reason", reason);
        buf_release(&desc);
        buf_release(&msg);
        if (rc < 0)
            return -1;
        r->activity_id[0] = '\0';
        int64_t drain = 0;
        asg_lb_deregister(call, g, r->id, &drain);
        asg_rec_set(&r->actions, "[]");
        return terminate_now(call, r) < 0 ? -1 : 1;
    }
    if (strcmp(s, LS_PENDING_PROCEED) == 0)
        return enter_service(call, g, r) < 0 ? -1 : 1;
    if (strcmp(s, LS_IN_SERVICE) == 0) {
        if (strcmp(r->health, "Healthy") == 0 && !asg_group_suspended(g, "HealthCheck")) {
            /* Not running is unhealthy at once, grace period or not; a failing status check
               or load balancer only after it (AWS-NOTES 3.1). */
            bool in_grace = call->now_ms < r->in_service_ms + (int64_t)g->grace * 1000;
            if (!running)
                health_cause(call, g,
                             "an EC2 health check that indicated it had been terminated or "
                             "stopped",
                             r);
            else if (e.impaired && !in_grace)
                health_cause(call, g, "an EC2 instance status check failure", r);
            else if (strstr(g->health_check_type, "ELB") && !in_grace &&
                     !asg_lb_healthy(call, g, r->id))
                health_cause(call, g, "an ELB system health check failure", r);
        }
        if (strcmp(r->health, "Unhealthy") == 0 && !asg_group_suspended(g, "ReplaceUnhealthy"))
            return asg_instance_retire(call, g, r, r->health_cause) < 0 ? -1 : 1;
        return 0;
    }
    if (strcmp(s, LS_TERMINATING) == 0) {
        /* Out of the load balancer before the terminating hooks run, its connections
           drained first (AWS-NOTES 3.2). */
        if (!r->drain_until_ms) {
            int64_t drain = 0;
            asg_lb_deregister(call, g, r->id, &drain);
            r->drain_until_ms = call->now_ms + drain;
            if (drain > 0)
                return asg_activity_update(call, r->activity_id, "WaitingForELBConnectionDraining",
                                           20, NULL, NULL) < 0
                               ? -1
                               : 0;
        }
        if (call->now_ms < r->drain_until_ms)
            return 0;
        int hooks = asg_hooks_begin(call, g, r, HOOK_TERMINATING);
        if (hooks < 0)
            return -1;
        if (hooks) {
            set_state(r, LS_TERMINATING_WAIT);
            return asg_activity_update(call, r->activity_id, "MidLifecycleAction", 50, NULL, NULL) <
                                   0
                           ? -1
                           : 1;
        }
        return terminate_now(call, r) < 0 ? -1 : 1;
    }
    if (strcmp(s, LS_TERMINATING_WAIT) == 0) {
        /* CONTINUE and ABANDON both let a terminating instance go (AWS-NOTES 3.1). */
        if (asg_hooks_verdict(call, r, reason) == ASG_HOOK_WAIT)
            return 0;
        asg_rec_set(&r->actions, "[]");
        return terminate_now(call, r) < 0 ? -1 : 1;
    }
    if (strcmp(s, LS_TERMINATING_PROCEED) == 0) {
        if (!ended)
            return 0;
        g->last_scaling_ms = call->now_ms;
        if (asg_activity_update(call, r->activity_id, "Successful", 100, NULL, NULL) < 0 ||
            asg_loop_ended(call, r->id) < 0)
            return -1;
        return asg_store_delete_inst(call->app->db, r->id) < 0 ? -1 : 2;
    }
    if (strcmp(s, LS_DETACHING) == 0) {
        int64_t drain = 0;
        asg_lb_deregister(call, g, r->id, &drain);
        if (asg_activity_update(call, r->activity_id, "Successful", 100, NULL, NULL) < 0 ||
            asg_loop_ended(call, r->id) < 0)
            return -1;
        return asg_store_delete_inst(call->app->db, r->id) < 0 ? -1 : 2;
    }
    return 0;
}

/* ---- launching ---- */

/* The RunInstances request of the group's launch configuration or template. */
static int
launch_request(struct aws_call *call, const struct asg_group_rec *g, cJSON **out)
{
    cJSON *req = cJSON_CreateObject();
    *out = req;
    cJSON_AddNumberToObject(req, "MinCount", 1);
    cJSON_AddNumberToObject(req, "MaxCount", 1);
    if (g->launch_template && g->launch_template[0]) {
        cJSON *lt = cJSON_Parse(g->launch_template);
        cJSON_AddItemToObject(req, "LaunchTemplate", lt ? lt : cJSON_CreateObject());
        return 0;
    }
    struct asg_lc_rec lc;
    memset(&lc, 0, sizeof(lc));
    int found = asg_store_get_lc(call->app->db, g->region, g->lc_name, &lc);
    cJSON *data = found == 1 ? cJSON_Parse(lc.data) : NULL;
    asg_lc_rec_release(&lc);
    if (found < 0)
        return -1;
    static const char *const copied[] = { "ImageId", "InstanceType", "KeyName", "UserData" };
    for (size_t i = 0; i < ARRAY_SIZE(copied); i++) {
        const char *v = asg_str(data, copied[i]);
        if (v && v[0])
            cJSON_AddStringToObject(req, copied[i], v);
    }
    /* A configuration's SecurityGroups are ids (VPC) or names (default VPC). */
    cJSON *ids = cJSON_CreateArray(), *names = cJSON_CreateArray();
    const cJSON *sg;
    cJSON_ArrayForEach(sg, cJSON_GetObjectItemCaseSensitive(data, "SecurityGroups"))
    {
        if (cJSON_IsString(sg))
            cJSON_AddItemToArray(str_starts(sg->valuestring, "sg-") ? ids : names,
                                 cJSON_CreateString(sg->valuestring));
    }
    cJSON_AddItemToObject(req, "SecurityGroupIds", ids);
    cJSON_AddItemToObject(req, "SecurityGroups", names);
    const char *profile = asg_str(data, "IamInstanceProfile");
    if (profile && profile[0])
        cJSON_AddStringToObject(cJSON_AddObjectToObject(req, "IamInstanceProfile"),
                                str_starts(profile, "arn:") ? "Arn" : "Name", profile);
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(data, "MetadataOptions");
    if (mo)
        cJSON_AddItemToObject(req, "MetadataOptions", cJSON_Duplicate(mo, true));
    if (!data)
        /* The configuration is gone: the launch fails as a missing image would. */
        cJSON_AddStringToObject(req, "ImageId", "");
    cJSON_Delete(data);
    return 0;
}

struct zone_count {
    char az[32]; /* a zone of the group */
    int count;   /* its instances that count toward capacity */
    int order;   /* its place in the group's list */
};

static int
zone_cmp(const void *a, const void *b)
{
    const struct zone_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? -1 : 1;
    return x->order - y->order;
}

/* The group's zones with their counts (of the instances that count toward capacity). */
static size_t
zone_counts(const struct asg_group_rec *g, const struct asg_inst_rec *insts, size_t n,
            const bool *excluded, struct zone_count *zones, size_t max)
{
    cJSON *azs = cJSON_Parse(g->azs ? g->azs : "[]");
    size_t nz = 0;
    const cJSON *z;
    cJSON_ArrayForEach(z, azs)
    {
        if (nz == max || !cJSON_IsString(z))
            continue;
        snprintf(zones[nz].az, sizeof(zones[nz].az), "%s", z->valuestring);
        zones[nz].count = 0;
        zones[nz].order = (int)nz;
        for (size_t i = 0; i < n; i++)
            if ((!excluded || !excluded[i]) && asg_state_counts(insts[i].state) &&
                strcmp(insts[i].az, z->valuestring) == 0)
                zones[nz].count++;
        nz++;
    }
    cJSON_Delete(azs);
    return nz;
}

/*
 * Launches one instance into the emptiest zone that takes it; a zone without capacity
 * (InsufficientInstanceCapacity: fault az-down) passes the launch on to the next (AWS-NOTES
 * 3.3). A launch that fails everywhere is a failed activity. `cause` is the activity's
 * Cause. 1 launched, 0 failed, -1 on a database failure.
 */
static int
launch_one(struct aws_call *call, struct asg_group_rec *g, struct zone_count *zones, size_t nz,
           const char *cause)
{
    qsort(zones, nz, sizeof(*zones), zone_cmp);
    cJSON *req;
    if (launch_request(call, g, &req) < 0) {
        cJSON_Delete(req);
        return -1;
    }
    cJSON *subnets = cJSON_Parse(g->subnets ? g->subnets : "{}");
    cJSON *out = NULL;
    struct aws_err err;
    aws_err_clear(&err);
    size_t z = 0;
    int rc = -1;
    for (; z < nz; z++) {
        cJSON_DeleteItemFromObjectCaseSensitive(req, "Placement");
        cJSON_DeleteItemFromObjectCaseSensitive(req, "SubnetId");
        const char *subnet = asg_str(subnets, zones[z].az);
        if (subnet)
            cJSON_AddStringToObject(req, "SubnetId", subnet);
        else
            cJSON_AddStringToObject(cJSON_AddObjectToObject(req, "Placement"), "AvailabilityZone",
                                    zones[z].az);
        cJSON_Delete(out);
        out = cJSON_CreateObject();
        aws_err_clear(&err);
        rc = ec2_api_run_instances(call, req, out, &err);
        if (rc == 0 || strcmp(err.code ? err.code : "", "InsufficientInstanceCapacity") != 0)
            break;
    }
    cJSON_Delete(req);
    cJSON_Delete(subnets);
    int ret = 0;
    if (rc < 0) {
        /* "Launching a new EC2 instance.  Status Reason: <msg>. Launching EC2 instance
           failed." (AWS-NOTES 3.4) */
        struct buf desc = BUF_INIT;
        size_t len = strlen(err.message);
        buf_addf(&desc,
                 "Launching a new EC2 instance.  Status Reason: %s%s Launching EC2 instance "
                 "failed.",
                 err.message, len && err.message[len - 1] == '.' ? "" : ".");
        char id[40];
        emit(call, "autoscaling.launch-failed", g, NULL, "message", err.message);
        ret = asg_activity_start(call, g, desc.data, cause, "Failed", 100, id) < 0 ||
                              asg_activity_update(call, id, "Failed", 100, NULL, err.message) < 0
                      ? -1
                      : 0;
        buf_release(&desc);
        cJSON_Delete(out);
        return ret;
    }
    const cJSON *inst = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(out, "Instances"), 0);
    struct asg_inst_rec r;
    asg_inst_rec_init(&r);
    snprintf(r.id, sizeof(r.id), "%s", asg_str(inst, "InstanceId"));
    snprintf(r.region, sizeof(r.region), "%s", g->region);
    snprintf(r.group, sizeof(r.group), "%s", g->name);
    snprintf(r.az, sizeof(r.az), "%s",
             asg_str(cJSON_GetObjectItemCaseSensitive(inst, "Placement"), "AvailabilityZone"));
    set_state(&r, LS_PENDING);
    snprintf(r.health, sizeof(r.health), "Healthy");
    r.protected_ = g->protect_new;
    snprintf(r.lc_name, sizeof(r.lc_name), "%s", g->lc_name);
    asg_rec_set(&r.launch_template, g->launch_template);
    const char *type = asg_str(inst, "InstanceType"), *image = asg_str(inst, "ImageId");
    snprintf(r.instance_type, sizeof(r.instance_type), "%s", type ? type : "");
    snprintf(r.image_id, sizeof(r.image_id), "%s", image ? image : "");
    r.launched_ms = call->now_ms;
    cJSON_Delete(out);
    struct buf desc = BUF_INIT;
    buf_addf(&desc, "Launching a new EC2 instance: %s", r.id);
    /* The group's name tag AWS adds, then the group's tags with PropagateAtLaunch. */
    cJSON *tags = cJSON_CreateArray();
    emit(call, "autoscaling.launch", g, r.id, "availability_zone", r.az);
    if (asg_activity_start(call, g, desc.data, cause, "PreInService", 30, r.activity_id) < 0 ||
        asg_store_put_inst(call->app->db, &r) < 0 || asg_loop_launched(call, g, r.id) < 0 ||
        ec2_api_tag_put(call, r.id, "aws:autoscaling:groupName", g->name) < 0 ||
        asg_tags_of_group(call, g->name, tags) < 0) {
        ret = -1;
    } else {
        const cJSON *t;
        cJSON_ArrayForEach(t, tags)
        {
            const char *k = asg_str(t, "Key"), *v = asg_str(t, "Value");
            if (k && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "PropagateAtLaunch")) &&
                ec2_api_tag_put(call, r.id, k, v ? v : "") < 0)
                ret = -1;
        }
        ret = ret < 0 ? -1 : 1;
    }
    cJSON_Delete(tags);
    buf_release(&desc);
    asg_inst_rec_release(&r);
    return ret;
}

/* ---- choosing what to terminate (AWS-NOTES 3.5) ---- */

/* The creation time of launch configuration `name` (0 when it is gone: the oldest). */
static int64_t
lc_created(struct aws_call *call, const char *region, const char *name)
{
    struct asg_lc_rec lc;
    memset(&lc, 0, sizeof(lc));
    int64_t ms = asg_store_get_lc(call->app->db, region, name, &lc) == 1 ? lc.created_ms : 0;
    asg_lc_rec_release(&lc);
    return ms;
}

/* One termination policy as a score per candidate: the smallest scores are kept. */
static int64_t
policy_score(struct aws_call *call, const struct asg_group_rec *g, const char *policy,
             const struct asg_inst_rec *r)
{
    bool has_lt = r->launch_template && r->launch_template[0];
    bool lt_current =
            has_lt && g->launch_template && strcmp(r->launch_template, g->launch_template) == 0;
    if (strcmp(policy, "OldestInstance") == 0)
        return r->launched_ms;
    if (strcmp(policy, "NewestInstance") == 0)
        return -r->launched_ms;
    if (strcmp(policy, "OldestLaunchConfiguration") == 0)
        return r->lc_name[0] ? lc_created(call, g->region, r->lc_name) : INT64_MAX;
    if (strcmp(policy, "OldestLaunchTemplate") == 0)
        return has_lt ? (lt_current ? 1 : 0) : INT64_MAX;
    if (strcmp(policy, "ClosestToNextInstanceHour") == 0)
        return 3600000 - (call->now_ms - r->launched_ms) % 3600000;
    if (strcmp(policy, "DefaultLaunchSource") == 0)
        /* Default's second step: the oldest configuration or template, configurations
           first. */
        return r->lc_name[0] ? lc_created(call, g->region, r->lc_name)
                             : INT64_MAX / 2 + (lt_current ? 1 : 0);
    return 0; /* AllocationStrategy (on-demand only here), a Lambda function: no preference */
}

/*
 * Picks the next instance to terminate among the InService, unprotected instances not yet
 * chosen: the zone with the most instances (that has a candidate) first, then the group's
 * policies in order, each keeping its best; the first remaining (the oldest) wins. -1 none.
 */
static ssize_t
pick_victim(struct aws_call *call, const struct asg_group_rec *g, const struct asg_inst_rec *insts,
            size_t n, const bool *chosen)
{
    struct zone_count zones[16];
    size_t nz = zone_counts(g, insts, n, chosen, zones, ARRAY_SIZE(zones));
    bool *cand = xcalloc(n ? n : 1, sizeof(*cand));
    const char *zone = NULL;
    int best = -1;
    for (size_t z = 0; z < nz; z++) {
        bool has = false;
        for (size_t i = 0; i < n; i++)
            has = has || (!chosen[i] && !insts[i].protected_ &&
                          strcmp(insts[i].state, LS_IN_SERVICE) == 0 &&
                          strcmp(insts[i].az, zones[z].az) == 0);
        if (has && zones[z].count > best) {
            best = zones[z].count;
            zone = zones[z].az;
        }
    }
    size_t left = 0;
    for (size_t i = 0; i < n; i++) {
        cand[i] = zone && !chosen[i] && !insts[i].protected_ &&
                  strcmp(insts[i].state, LS_IN_SERVICE) == 0 && strcmp(insts[i].az, zone) == 0;
        left += cand[i];
    }
    cJSON *policies = cJSON_Parse(g->policies ? g->policies : "[]");
    cJSON *steps = cJSON_CreateArray();
    const cJSON *p;
    cJSON_ArrayForEach(p, policies)
    {
        if (!cJSON_IsString(p))
            continue;
        if (strcmp(p->valuestring, "Default") == 0) {
            cJSON_AddItemToArray(steps, cJSON_CreateString("DefaultLaunchSource"));
            cJSON_AddItemToArray(steps, cJSON_CreateString("ClosestToNextInstanceHour"));
        } else {
            cJSON_AddItemToArray(steps, cJSON_CreateString(p->valuestring));
        }
    }
    cJSON_Delete(policies);
    cJSON_ArrayForEach(p, steps)
    {
        if (left <= 1)
            break;
        int64_t min = INT64_MAX;
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            if (!cand[i])
                continue;
            int64_t s = policy_score(call, g, p->valuestring, &insts[i]);
            if (!any || s < min)
                min = s;
            any = true;
        }
        left = 0;
        for (size_t i = 0; i < n; i++) {
            if (cand[i] && policy_score(call, g, p->valuestring, &insts[i]) != min)
                cand[i] = false;
            left += cand[i];
        }
    }
    cJSON_Delete(steps);
    ssize_t victim = -1;
    for (size_t i = 0; i < n && victim < 0; i++)
        if (cand[i])
            victim = (ssize_t)i;
    free(cand);
    return victim;
}

/* ---- one pass over a group ---- */

/*
 * Brings group `name` (of call->region) one pass closer to its desired state. *progress is
 * set when something moved that a further pass at the same moment could take further.
 * -1 on a database failure (the caller rolls back).
 */
static int
reconcile_group(struct aws_call *call, const char *name, bool *progress)
{
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    struct asg_inst_rec *insts = NULL;
    size_t n = 0;
    int ret = -1;
    int found = asg_store_get_group(call->app->db, call->region, name, &g);
    if (found <= 0) {
        asg_group_rec_release(&g);
        return found;
    }
    int64_t last_scaling = g.last_scaling_ms;
    if (asg_store_list_insts(call->app->db, g.region, g.name, &insts, &n) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        bool gone = false;
        struct asg_inst_rec before;
        asg_inst_rec_copy(&before, &insts[i]);
        for (int k = 0; k < 8 && !gone; k++) {
            int rc = step(call, &g, &insts[i]);
            if (rc < 0) {
                asg_inst_rec_release(&before);
                goto out;
            }
            if (rc == 0)
                break;
            *progress = true;
            gone = rc == 2;
        }
        /* The row as the steps left it (a health verdict may have changed without a move);
           an idle pass writes nothing, so the state's change count stays put. */
        bool changed = !gone && !asg_inst_rec_equal(&before, &insts[i]);
        asg_inst_rec_release(&before);
        if (changed && asg_store_put_inst(call->app->db, &insts[i]) < 0)
            goto out;
    }
    asg_inst_recs_free(insts, n);
    insts = NULL;
    n = 0;
    /* Rows deleted by the steps above are gone now. */
    if (asg_store_list_insts(call->app->db, g.region, g.name, &insts, &n) < 0)
        goto out;
    int capacity = 0, in_service = 0, moving = 0, proven = 0;
    for (size_t i = 0; i < n; i++) {
        bool in = strcmp(insts[i].state, LS_IN_SERVICE) == 0;
        capacity += asg_state_counts(insts[i].state);
        in_service += in;
        moving += !in && strcmp(insts[i].state, LS_STANDBY) != 0;
        /* Proven: healthy through a health check that counts (one period past its grace
           period), so an instance that fails its first check never makes the group steady. */
        proven += in && strcmp(insts[i].health, "Healthy") == 0 &&
                  call->now_ms >= insts[i].in_service_ms + (int64_t)g.grace * 1000 + ASG_TICK_MS;
    }
    struct zone_count zones[16];
    size_t nz = zone_counts(&g, insts, n, NULL, zones, ARRAY_SIZE(zones));
    char t[32];
    asg_time_text(call->now_ms, t);
    bool acted = false, rebalanced = false;
    if (capacity < g.desired && !asg_group_suspended(&g, "Launch")) {
        int from = capacity;
        for (int k = capacity; k < g.desired; k++) {
            struct buf cause = BUF_INIT;
            cause_with_request(&g, &cause);
            buf_addf(&cause,
                     "At %s an instance was started in response to a difference between "
                     "desired and actual capacity, increasing the capacity from %d to %d.",
                     t, from, g.desired);
            int rc = launch_one(call, &g, zones, nz, cause.data);
            buf_release(&cause);
            if (rc < 0)
                goto out;
            acted = true;
            if (rc == 0)
                break; /* every zone refused: the next periodic pass tries again */
            *progress = true;
            /* The new instance counts in its zone for the next launch's choice. */
            asg_inst_recs_free(insts, n);
            insts = NULL;
            n = 0;
            if (asg_store_list_insts(call->app->db, g.region, g.name, &insts, &n) < 0)
                goto out;
            nz = zone_counts(&g, insts, n, NULL, zones, ARRAY_SIZE(zones));
        }
    } else if (capacity > g.desired && !asg_group_suspended(&g, "Terminate")) {
        /* Instances still launching are not chosen: they are waited for (a rebalancing
           launch, for one, is followed by the termination it balances). */
        int excess = capacity - g.desired;
        if (in_service - g.desired < excess)
            excess = in_service - g.desired;
        bool *chosen = xcalloc(n ? n : 1, sizeof(*chosen));
        for (int k = 0; k < excess; k++) {
            ssize_t v = pick_victim(call, &g, insts, n, chosen);
            if (v < 0)
                break;
            chosen[v] = true;
            struct buf cause = BUF_INIT;
            cause_with_request(&g, &cause);
            buf_addf(&cause,
                     "At %s an instance was taken out of service in response to a difference "
                     "between desired and actual capacity, shrinking the capacity from %d to "
                     "%d.  At %s instance %s was selected for termination.",
                     t, capacity, g.desired, t, insts[v].id);
            int rc = asg_instance_retire(call, &g, &insts[v], cause.data);
            buf_release(&cause);
            if (rc < 0) {
                free(chosen);
                goto out;
            }
            acted = true;
            *progress = true;
        }
        free(chosen);
    } else if (capacity == g.desired && moving == 0 && !asg_group_suspended(&g, "AZRebalance") &&
               !asg_group_suspended(&g, "Launch") && !asg_group_suspended(&g, "Terminate")) {
        /* AZRebalance: launch in the emptiest zone that is up, then (once it is in service)
           the scale-in above terminates in the fullest, within MaxSize plus the larger of
           10 % or 1 (AWS-NOTES 3.3). */
        int lo = INT32_MAX, hi = -1;
        struct zone_count up[16];
        size_t nup = 0;
        for (size_t z = 0; z < nz; z++) {
            if (!ec2_api_zone_up(call, zones[z].az))
                continue;
            up[nup++] = zones[z];
            lo = zones[z].count < lo ? zones[z].count : lo;
            hi = zones[z].count > hi ? zones[z].count : hi;
        }
        /* Only when the fullest zone has an instance the scale-in may take: rebalancing
           never terminates an instance protected from scale-in, so launching would only
           leave the group above its desired capacity. */
        bool movable = false;
        for (size_t z = 0; z < nup; z++)
            for (size_t i = 0; i < n && up[z].count == hi; i++)
                movable = movable || (!insts[i].protected_ && strcmp(insts[i].az, up[z].az) == 0 &&
                                      strcmp(insts[i].state, LS_IN_SERVICE) == 0);
        int headroom = g.max_size / 10 > 1 ? g.max_size / 10 : 1;
        if (nup > 1 && hi - lo > 1 && movable && capacity < g.max_size + headroom) {
            struct buf cause = BUF_INIT;
            /* [UNVERIFIED wording] */
            buf_addf(&cause,
                     "At %s an instance was launched in response to an Availability Zone "
                     "rebalancing, increasing the capacity from %d to %d.",
                     t, capacity, capacity + 1);
            int rc = launch_one(call, &g, up, nup, cause.data);
            buf_release(&cause);
            if (rc < 0)
                goto out;
            *progress = *progress || rc == 1;
            rebalanced = true;
        }
    }
    /* Steady: the desired capacity, all of it InService and proven, nothing started in this
       pass. */
    if (asg_loop_watch(call, &g,
                       !acted && !rebalanced && capacity == g.desired && moving == 0 &&
                               proven == in_service) < 0)
        goto out;
    if (acted && g.cause && g.cause[0])
        asg_rec_set(&g.cause, "");
    if ((acted || g.last_scaling_ms != last_scaling) && asg_store_put_group(call->app->db, &g) < 0)
        goto out;
    ret = 0;
out:
    asg_inst_recs_free(insts, n);
    asg_group_rec_release(&g);
    return ret;
}

static int64_t kick_fire(void *arg, int64_t now_ms);

/* Every group, each in its own write transaction, so one failure undoes one group's pass. */
static void
reconcile_all(struct app *app, int64_t now_ms)
{
    struct asg_group_rec *groups;
    size_t n;
    if (db_begin(app->db, false) < 0)
        return;
    int rc = asg_store_list_groups(app->db, NULL, &groups, &n);
    db_rollback(app->db);
    if (rc < 0)
        return;
    bool progress = false;
    for (size_t i = 0; i < n; i++) {
        struct aws_call call;
        internal_call(app, groups[i].region, now_ms, &call);
        if (db_begin(app->db, true) < 0)
            break;
        bool moved = false;
        if (reconcile_group(&call, groups[i].name, &moved) < 0 || db_commit(app->db) < 0) {
            db_rollback(app->db);
            log_error("autoscaling: the pass over group %s failed on the state database",
                      groups[i].name);
            continue;
        }
        progress = progress || moved;
    }
    asg_group_recs_free(groups, n);
    /* What moved may move further at once (an instance booted since the launch, ...): one
       more pass, queued behind the EC2 boots this pass queued. */
    if (progress && rt.chain < MAX_CHAIN && !rt.kick_timer && app->clock) {
        rt.chain++;
        rt.kick_timer = vclock_timer_add(app->clock, 0, kick_fire, app);
    }
}

static int64_t
kick_fire(void *arg, int64_t now_ms)
{
    struct app *app = arg;
    rt.kick_timer = 0;
    if (rt.app == app)
        reconcile_all(app, now_ms);
    return VCLOCK_DONE;
}

static int64_t
tick_fire(void *arg, int64_t now_ms)
{
    struct app *app = arg;
    if (rt.app != app)
        return VCLOCK_DONE;
    rt.chain = 0;
    reconcile_all(app, now_ms);
    return ASG_TICK_MS;
}

void
asg_reconcile_kick(struct app *app)
{
    if (!app->clock)
        return;
    attach(app);
    rt.chain = 0;
    if (!rt.kick_timer)
        rt.kick_timer = vclock_timer_add(app->clock, 0, kick_fire, app);
    /* A write after a reset (which stops the periodic pass) brings it back. */
    if (!rt.tick_timer)
        rt.tick_timer = vclock_timer_add(app->clock, ASG_TICK_MS, tick_fire, app);
}

void
asg_reconcile_start(struct app *app)
{
    if (!app->clock)
        return;
    attach(app);
    /* No pass at once: after a restart EC2 boots the instances again once the server
       listens, and a pass before that would find every tree dead and replace it. */
    if (!rt.tick_timer)
        rt.tick_timer = vclock_timer_add(app->clock, ASG_TICK_MS, tick_fire, app);
}

void
asg_reconcile_stop(struct app *app)
{
    if (rt.app != app)
        return;
    if (app->clock) {
        if (rt.kick_timer)
            vclock_timer_cancel(app->clock, rt.kick_timer);
        if (rt.tick_timer)
            vclock_timer_cancel(app->clock, rt.tick_timer);
    }
    rt.kick_timer = rt.tick_timer = 0;
    rt.chain = 0;
}
