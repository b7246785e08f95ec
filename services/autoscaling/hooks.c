/*
 * Lifecycle hooks: PutLifecycleHook, DescribeLifecycleHooks, DeleteLifecycleHook,
 * CompleteLifecycleAction, RecordLifecycleActionHeartbeat, DescribeLifecycleHookTypes, and
 * the lifecycle actions they hold instances in (Pending:Wait, Terminating:Wait) until they
 * are completed or time out on the virtual clock (AWS-NOTES 3.1). An instance's pending
 * actions live in its row (asg_inst_rec.actions); the reconciler asks for the verdict.
 * Notification targets are recorded and described; nothing is sent to them.
 */
#include "emulator/common.h"
#include "services/autoscaling/fleet.h"

#include "emulator/app.h"
#include "emulator/events.h"
#include "emulator/ids.h"
#include "services/autoscaling/asg.h"
#include "services/autoscaling/autoscaling.h"

#define HEARTBEAT_DEFAULT 3600   /* s */
#define HEARTBEAT_MIN     30     /* s */
#define HEARTBEAT_MAX     7200   /* s */
#define GLOBAL_MAX        172800 /* s: 48 h, or 100 x the heartbeat when that is less */
#define HOOKS_PER_GROUP   50

static int64_t
global_timeout_s(int heartbeat)
{
    int64_t g = 100LL * heartbeat;
    return g < GLOBAL_MAX ? g : GLOBAL_MAX;
}

/* ---- the actions ---- */

int
asg_hooks_begin(struct aws_call *call, const struct asg_group_rec *g, struct asg_inst_rec *r,
                const char *transition)
{
    struct asg_hook_rec *hooks;
    size_t n;
    if (asg_store_list_hooks(call->app->db, g->region, g->name, &hooks, &n) < 0)
        return -1;
    cJSON *actions = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        if (strcmp(hooks[i].transition, transition) != 0)
            continue;
        char token[37];
        ids_uuid(call->app->ids, token);
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "hook", hooks[i].name);
        cJSON_AddStringToObject(a, "token", token);
        cJSON_AddStringToObject(a, "transition", transition);
        cJSON_AddNumberToObject(a, "heartbeat_s", hooks[i].heartbeat);
        cJSON_AddStringToObject(a, "default", hooks[i].default_result);
        cJSON_AddNumberToObject(a, "deadline_ms",
                                (double)(call->now_ms + (int64_t)hooks[i].heartbeat * 1000));
        cJSON_AddNumberToObject(
                a, "global_ms",
                (double)(call->now_ms + global_timeout_s(hooks[i].heartbeat) * 1000));
        cJSON_AddStringToObject(a, "result", "");
        cJSON_AddStringToObject(a, "reason", "");
        cJSON_AddItemToArray(actions, a);
    }
    free(hooks);
    int started = cJSON_GetArraySize(actions) > 0;
    char *text = cJSON_PrintUnformatted(actions);
    asg_rec_set(&r->actions, text);
    cJSON_free(text);
    cJSON_Delete(actions);
    return started;
}

static int64_t
num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

enum asg_hook_verdict
asg_hooks_verdict(struct aws_call *call, struct asg_inst_rec *r, char *reason)
{
    cJSON *actions = cJSON_Parse(r->actions ? r->actions : "[]");
    enum asg_hook_verdict v = ASG_HOOK_CONTINUE;
    bool changed = false;
    cJSON *a;
    cJSON_ArrayForEach(a, actions)
    {
        const char *result = asg_str(a, "result");
        if (!result || !result[0]) {
            int64_t due = num(a, "deadline_ms"), global = num(a, "global_ms");
            if (global < due)
                due = global;
            if (call->now_ms < due) {
                if (v == ASG_HOOK_CONTINUE)
                    v = ASG_HOOK_WAIT;
                continue;
            }
            /* Timed out: the hook's DefaultResult applies. */
            const char *dflt = asg_str(a, "default");
            cJSON_ReplaceItemInObjectCaseSensitive(a, "result",
                                                   cJSON_CreateString(dflt ? dflt : "ABANDON"));
            cJSON_ReplaceItemInObjectCaseSensitive(a, "reason",
                                                   cJSON_CreateString("Heartbeat Timeout"));
            changed = true;
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "group", r->group);
            cJSON_AddStringToObject(d, "region", r->region);
            cJSON_AddStringToObject(d, "instance_id", r->id);
            cJSON_AddStringToObject(d, "hook", asg_str(a, "hook"));
            cJSON_AddStringToObject(d, "transition", asg_str(a, "transition"));
            cJSON_AddStringToObject(d, "token", asg_str(a, "token"));
            cJSON_AddStringToObject(d, "result", asg_str(a, "result"));
            events_emit(call->app, "autoscaling.lifecycle-timeout", d);
            result = asg_str(a, "result");
        }
        if (strcmp(result, "ABANDON") == 0 && v != ASG_HOOK_ABANDON) {
            v = ASG_HOOK_ABANDON;
            snprintf(reason, 256, "Lifecycle Action with token %s was abandoned: %s",
                     asg_str(a, "token"), asg_str(a, "reason"));
        }
    }
    if (changed) {
        char *text = cJSON_PrintUnformatted(actions);
        asg_rec_set(&r->actions, text);
        cJSON_free(text);
    }
    cJSON_Delete(actions);
    return v;
}

/* ---- PutLifecycleHook and the group's specifications ---- */

static bool
valid_result(const char *s)
{
    return s && (strcmp(s, "CONTINUE") == 0 || strcmp(s, "ABANDON") == 0);
}

int
asg_hooks_put(struct aws_call *call, const struct asg_group_rec *g, const cJSON *spec,
              struct aws_err *err)
{
    const char *name = asg_str(spec, "LifecycleHookName");
    struct asg_hook_rec h;
    memset(&h, 0, sizeof(h));
    int found = asg_store_get_hook(call->app->db, g->region, g->name, name ? name : "", &h);
    if (found < 0)
        return asg_db_failed(err);
    if (!found) {
        struct asg_hook_rec *all;
        size_t n;
        if (asg_store_list_hooks(call->app->db, g->region, g->name, &all, &n) < 0)
            return asg_db_failed(err);
        free(all);
        if (n >= HOOKS_PER_GROUP)
            return aws_err_setx(err, 400, "LimitExceeded", true,
                                "Maximum number of lifecycle hooks (%d) reached for "
                                "AutoScalingGroup %s.",
                                HOOKS_PER_GROUP, g->name);
        snprintf(h.region, sizeof(h.region), "%s", g->region);
        snprintf(h.group, sizeof(h.group), "%s", g->name);
        snprintf(h.name, sizeof(h.name), "%s", name ? name : "");
        h.heartbeat = HEARTBEAT_DEFAULT;
        snprintf(h.default_result, sizeof(h.default_result), "ABANDON");
    }
    const char *transition = asg_str(spec, "LifecycleTransition");
    if (transition) {
        if (strcmp(transition, HOOK_LAUNCHING) != 0 && strcmp(transition, HOOK_TERMINATING) != 0)
            /* [UNVERIFIED wording] */
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Invalid Lifecycle Transition: %s. Valid values are "
                               "autoscaling:EC2_INSTANCE_LAUNCHING and "
                               "autoscaling:EC2_INSTANCE_TERMINATING.",
                               transition);
        snprintf(h.transition, sizeof(h.transition), "%s", transition);
    } else if (!found) {
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "The LifecycleTransition parameter is required when creating a "
                           "lifecycle hook.");
    }
    const cJSON *hb = cJSON_GetObjectItemCaseSensitive(spec, "HeartbeatTimeout");
    if (cJSON_IsNumber(hb)) {
        if (hb->valueint < HEARTBEAT_MIN || hb->valueint > HEARTBEAT_MAX)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Heartbeat timeout must be between %d and %d seconds: %d",
                               HEARTBEAT_MIN, HEARTBEAT_MAX, hb->valueint);
        h.heartbeat = hb->valueint;
    }
    const char *result = asg_str(spec, "DefaultResult");
    if (result) {
        if (!valid_result(result))
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Valid values for DefaultResult are CONTINUE and ABANDON: %s",
                               result);
        snprintf(h.default_result, sizeof(h.default_result), "%s", result);
    }
    const char *v;
    if ((v = asg_str(spec, "NotificationTargetARN")))
        snprintf(h.target_arn, sizeof(h.target_arn), "%s", v);
    if ((v = asg_str(spec, "RoleARN")))
        snprintf(h.role_arn, sizeof(h.role_arn), "%s", v);
    if ((v = asg_str(spec, "NotificationMetadata")))
        snprintf(h.metadata, sizeof(h.metadata), "%s", v);
    return asg_store_put_hook(call->app->db, &h) < 0 ? asg_db_failed(err) : 0;
}

int
autoscaling_put_lifecycle_hook(struct aws_call *call, const cJSON *in, cJSON *out,
                               struct aws_err *err)
{
    (void)out;
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    int ret = asg_group_load(call, asg_str(in, "AutoScalingGroupName"), &g, err);
    if (ret == 0)
        ret = asg_hooks_put(call, &g, in, err);
    asg_group_rec_release(&g);
    return ret;
}

int
autoscaling_describe_lifecycle_hooks(struct aws_call *call, const cJSON *in, cJSON *out,
                                     struct aws_err *err)
{
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    int ret = asg_group_load(call, asg_str(in, "AutoScalingGroupName"), &g, err);
    asg_group_rec_release(&g);
    if (ret < 0)
        return -1;
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(in, "LifecycleHookNames");
    struct asg_hook_rec *hooks;
    size_t n;
    if (asg_store_list_hooks(call->app->db, call->region, asg_str(in, "AutoScalingGroupName"),
                             &hooks, &n) < 0)
        return asg_db_failed(err);
    cJSON *list = cJSON_AddArrayToObject(out, "LifecycleHooks");
    for (size_t i = 0; i < n; i++) {
        const struct asg_hook_rec *h = &hooks[i];
        bool wanted = cJSON_GetArraySize(names) == 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, names)
        {
            wanted = wanted || (cJSON_IsString(v) && strcmp(v->valuestring, h->name) == 0);
        }
        if (!wanted)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "LifecycleHookName", h->name);
        cJSON_AddStringToObject(o, "AutoScalingGroupName", h->group);
        cJSON_AddStringToObject(o, "LifecycleTransition", h->transition);
        if (h->target_arn[0])
            cJSON_AddStringToObject(o, "NotificationTargetARN", h->target_arn);
        if (h->role_arn[0])
            cJSON_AddStringToObject(o, "RoleARN", h->role_arn);
        if (h->metadata[0])
            cJSON_AddStringToObject(o, "NotificationMetadata", h->metadata);
        cJSON_AddNumberToObject(o, "HeartbeatTimeout", h->heartbeat);
        cJSON_AddNumberToObject(o, "GlobalTimeout", (double)global_timeout_s(h->heartbeat));
        cJSON_AddStringToObject(o, "DefaultResult", h->default_result);
        cJSON_AddItemToArray(list, o);
    }
    free(hooks);
    return 0;
}

int
autoscaling_delete_lifecycle_hook(struct aws_call *call, const cJSON *in, cJSON *out,
                                  struct aws_err *err)
{
    (void)out;
    const char *group = asg_str(in, "AutoScalingGroupName");
    const char *name = asg_str(in, "LifecycleHookName");
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    int ret = asg_group_load(call, group, &g, err);
    asg_group_rec_release(&g);
    if (ret < 0)
        return -1;
    struct asg_hook_rec h;
    int found = asg_store_get_hook(call->app->db, call->region, group, name, &h);
    if (found < 0)
        return asg_db_failed(err);
    if (!found)
        /* [UNVERIFIED wording] */
        return aws_err_set(err, AWS_E_VALIDATION_ERROR, "No Lifecycle Hook found with name %s",
                           name);
    return asg_store_delete_hook(call->app->db, call->region, group, name) < 0 ? asg_db_failed(err)
                                                                               : 0;
}

int
autoscaling_describe_lifecycle_hook_types(struct aws_call *call, const cJSON *in, cJSON *out,
                                          struct aws_err *err)
{
    (void)call;
    (void)in;
    (void)err;
    cJSON *list = cJSON_AddArrayToObject(out, "LifecycleHookTypes");
    cJSON_AddItemToArray(list, cJSON_CreateString(HOOK_LAUNCHING));
    cJSON_AddItemToArray(list, cJSON_CreateString(HOOK_TERMINATING));
    return 0;
}

/* ---- completing and extending an action ---- */

/*
 * The pending action of hook `hook` on the group's instance named by in.InstanceId or
 * in.LifecycleActionToken: the instance into *r and the action's index into *index.
 * -1 + err: ValidationError "No active Lifecycle Action found with instance ID i-…" / "...
 * with token <uuid>" (AWS-NOTES 3.1).
 */
static int
find_action(struct aws_call *call, const cJSON *in, struct asg_inst_rec *r, int *index,
            struct aws_err *err)
{
    const char *group = asg_str(in, "AutoScalingGroupName");
    const char *hook = asg_str(in, "LifecycleHookName");
    const char *id = asg_str(in, "InstanceId");
    const char *token = asg_str(in, "LifecycleActionToken");
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    int ret = asg_group_load(call, group, &g, err);
    asg_group_rec_release(&g);
    if (ret < 0)
        return -1;
    if (!(id && id[0]) && !(token && token[0]))
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "Either LifecycleActionToken or InstanceId must be specified.");
    struct asg_inst_rec *insts;
    size_t n;
    if (asg_store_list_insts(call->app->db, call->region, group, &insts, &n) < 0)
        return asg_db_failed(err);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        if (id && id[0] && strcmp(insts[i].id, id) != 0)
            continue;
        if (strcmp(insts[i].state, LS_PENDING_WAIT) != 0 &&
            strcmp(insts[i].state, LS_TERMINATING_WAIT) != 0)
            continue;
        cJSON *actions = cJSON_Parse(insts[i].actions ? insts[i].actions : "[]");
        int k = 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, actions)
        {
            const char *res = asg_str(a, "result");
            if (!found && strcmp(asg_str(a, "hook"), hook ? hook : "") == 0 && (!res || !res[0]) &&
                (!token || !token[0] || strcmp(asg_str(a, "token"), token) == 0)) {
                found = true;
                *index = k;
                asg_inst_rec_release(r);
                *r = insts[i];
                asg_inst_rec_init(&insts[i]);
            }
            k++;
        }
        cJSON_Delete(actions);
    }
    asg_inst_recs_free(insts, n);
    if (found)
        return 0;
    if (id && id[0])
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "No active Lifecycle Action found with instance ID %s", id);
    return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                       "No active Lifecycle Action found with token %s", token);
}

/* Sets member `name` of action `index` of r's actions and writes the row. */
static int
update_action(struct aws_call *call, struct asg_inst_rec *r, int index, const char *result,
              const char *reason, int64_t deadline_ms, struct aws_err *err)
{
    cJSON *actions = cJSON_Parse(r->actions);
    cJSON *a = cJSON_GetArrayItem(actions, index);
    if (result) {
        cJSON_ReplaceItemInObjectCaseSensitive(a, "result", cJSON_CreateString(result));
        cJSON_ReplaceItemInObjectCaseSensitive(a, "reason", cJSON_CreateString(reason));
    }
    if (deadline_ms) {
        /* The heartbeat restarts the full timeout, never past the global one. */
        int64_t global = num(a, "global_ms");
        cJSON_ReplaceItemInObjectCaseSensitive(
                a, "deadline_ms",
                cJSON_CreateNumber((double)(deadline_ms < global ? deadline_ms : global)));
    }
    char *text = cJSON_PrintUnformatted(actions);
    asg_rec_set(&r->actions, text);
    cJSON_free(text);
    cJSON_Delete(actions);
    return asg_store_put_inst(call->app->db, r) < 0 ? asg_db_failed(err) : 0;
}

int
autoscaling_complete_lifecycle_action(struct aws_call *call, const cJSON *in, cJSON *out,
                                      struct aws_err *err)
{
    (void)out;
    const char *result = asg_str(in, "LifecycleActionResult");
    if (!valid_result(result))
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "Valid values for LifecycleActionResult are CONTINUE and ABANDON");
    struct asg_inst_rec r;
    asg_inst_rec_init(&r);
    int index = 0;
    int ret = find_action(call, in, &r, &index, err);
    if (ret == 0) {
        char reason[64];
        snprintf(reason, sizeof(reason), "Lifecycle Action Completed with %s Result", result);
        ret = update_action(call, &r, index, result, reason, 0, err);
    }
    asg_inst_rec_release(&r);
    if (ret == 0)
        asg_reconcile_kick(call->app);
    return ret;
}

int
autoscaling_record_lifecycle_action_heartbeat(struct aws_call *call, const cJSON *in, cJSON *out,
                                              struct aws_err *err)
{
    (void)out;
    struct asg_inst_rec r;
    asg_inst_rec_init(&r);
    int index = 0;
    int ret = find_action(call, in, &r, &index, err);
    if (ret == 0) {
        cJSON *actions = cJSON_Parse(r.actions);
        int64_t hb = num(cJSON_GetArrayItem(actions, index), "heartbeat_s");
        cJSON_Delete(actions);
        ret = update_action(call, &r, index, NULL, NULL, call->now_ms + hb * 1000, err);
    }
    asg_inst_rec_release(&r);
    return ret;
}
