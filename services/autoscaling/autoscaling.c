/*
 * Auto Scaling (query protocol, 2011-01-01): the operation table, the service hooks that own
 * its timers (the reconciler's, reconcile.c, and the scheduled actions', scheduled.c), and
 * its part of the control API: the status (every group with its instances and launch figures,
 * and the lifecycle actions waiting for CompleteLifecycleAction) and the launch-loop settings
 * (POST /_fogbank/autoscaling).
 */
#include "emulator/common.h"
#include "services/autoscaling/autoscaling.h"

#include "emulator/app.h"
#include "emulator/clock.h"
#include "services/autoscaling/asg.h"
#include "services/autoscaling/fleet.h"
#include "state/db.h"

/* One row per line even past the column limit: scripts/ops-table reads the rows line by
   line. */
/* clang-format off */
static const struct service_op autoscaling_ops[] = {
    { "AttachInstances", autoscaling_attach_instances, 0 },
    { "AttachLoadBalancers", autoscaling_attach_load_balancers, 0 },
    { "BatchDeleteScheduledAction", autoscaling_batch_delete_scheduled_action, 0 },
    { "BatchPutScheduledUpdateGroupAction", autoscaling_batch_put_scheduled_update_group_action, 0 },
    { "CompleteLifecycleAction", autoscaling_complete_lifecycle_action, 0 },
    { "CreateAutoScalingGroup", autoscaling_create_auto_scaling_group, 0 },
    { "CreateLaunchConfiguration", autoscaling_create_launch_configuration, 0 },
    { "CreateOrUpdateTags", autoscaling_create_or_update_tags, 0 },
    { "DeleteAutoScalingGroup", autoscaling_delete_auto_scaling_group, 0 },
    { "DeleteLaunchConfiguration", autoscaling_delete_launch_configuration, 0 },
    { "DeleteLifecycleHook", autoscaling_delete_lifecycle_hook, 0 },
    { "DeletePolicy", autoscaling_delete_policy, 0 },
    { "DeleteScheduledAction", autoscaling_delete_scheduled_action, 0 },
    { "DeleteTags", autoscaling_delete_tags, 0 },
    { "DescribeAccountLimits", autoscaling_describe_account_limits, OP_READONLY },
    { "DescribeAdjustmentTypes", autoscaling_describe_adjustment_types, OP_READONLY },
    { "DescribeAutoScalingGroups", autoscaling_describe_auto_scaling_groups, OP_READONLY },
    { "DescribeAutoScalingInstances", autoscaling_describe_auto_scaling_instances, OP_READONLY },
    { "DescribeLaunchConfigurations", autoscaling_describe_launch_configurations, OP_READONLY },
    { "DescribeLifecycleHookTypes", autoscaling_describe_lifecycle_hook_types, OP_READONLY },
    { "DescribeLifecycleHooks", autoscaling_describe_lifecycle_hooks, OP_READONLY },
    { "DescribeLoadBalancers", autoscaling_describe_load_balancers, OP_READONLY },
    { "DescribePolicies", autoscaling_describe_policies, OP_READONLY },
    { "DescribeScalingActivities", autoscaling_describe_scaling_activities, OP_READONLY },
    { "DescribeScalingProcessTypes", autoscaling_describe_scaling_process_types, OP_READONLY },
    { "DescribeScheduledActions", autoscaling_describe_scheduled_actions, OP_READONLY },
    { "DescribeTags", autoscaling_describe_tags, OP_READONLY },
    { "DescribeTerminationPolicyTypes", autoscaling_describe_termination_policy_types, OP_READONLY },
    { "DetachInstances", autoscaling_detach_instances, 0 },
    { "DetachLoadBalancers", autoscaling_detach_load_balancers, 0 },
    { "EnterStandby", autoscaling_enter_standby, 0 },
    { "ExecutePolicy", autoscaling_execute_policy, 0 },
    { "ExitStandby", autoscaling_exit_standby, 0 },
    { "PutLifecycleHook", autoscaling_put_lifecycle_hook, 0 },
    { "PutScalingPolicy", autoscaling_put_scaling_policy, 0 },
    { "PutScheduledUpdateGroupAction", autoscaling_put_scheduled_update_group_action, 0 },
    { "RecordLifecycleActionHeartbeat", autoscaling_record_lifecycle_action_heartbeat, 0 },
    { "ResumeProcesses", autoscaling_resume_processes, 0 },
    { "SetDesiredCapacity", autoscaling_set_desired_capacity, 0 },
    { "SetInstanceHealth", autoscaling_set_instance_health, 0 },
    { "SetInstanceProtection", autoscaling_set_instance_protection, 0 },
    { "SuspendProcesses", autoscaling_suspend_processes, 0 },
    { "TerminateInstanceInAutoScalingGroup", autoscaling_terminate_instance_in_auto_scaling_group, 0 },
    { "UpdateAutoScalingGroup", autoscaling_update_auto_scaling_group, 0 },
};
/* clang-format on */

static const struct service_hooks autoscaling_hooks = {
    .start = autoscaling_start,
    .reset = autoscaling_reset,
    .stop = autoscaling_stop,
    .status = autoscaling_status,
    .action = autoscaling_action,
};

const struct service autoscaling_service = { "autoscaling", autoscaling_ops,
                                             ARRAY_SIZE(autoscaling_ops), &autoscaling_hooks };

int
autoscaling_start(struct app *app, char *errbuf, size_t errsz)
{
    (void)errbuf;
    (void)errsz;
    asg_loop_reset();
    asg_reconcile_start(app);
    asg_scheduled_start(app);
    return 0;
}

void
autoscaling_reset(struct app *app)
{
    /* The state is emptied next: nothing is left to watch. The next write re-arms the
       timers (asg_reconcile_kick, asg_scheduled_rearm). */
    asg_reconcile_stop(app);
    asg_scheduled_stop(app);
    asg_loop_reset();
}

void
autoscaling_stop(struct app *app)
{
    asg_reconcile_stop(app);
    asg_scheduled_stop(app);
}

int
autoscaling_action(struct aws_call *call, const char *kind, const cJSON *in, cJSON *out,
                   struct aws_err *err)
{
    if (strcmp(kind, "autoscaling") != 0)
        return 0;
    const char *action = asg_str(in, "action");
    if (!action || strcmp(action, "launch-loop") != 0)
        return aws_err_setx(err, 400, "BadRequest", true, "\"action\" must be launch-loop");
    return asg_loop_action(call, in, out, err) < 0 ? -1 : 1;
}

void
autoscaling_status(struct app *app, cJSON *out)
{
    cJSON *o = cJSON_AddObjectToObject(out, "autoscaling");
    cJSON *groups = cJSON_AddArrayToObject(o, "groups");
    cJSON *actions = cJSON_AddArrayToObject(o, "lifecycle_actions");
    asg_loop_config_json(cJSON_AddObjectToObject(o, "launch_loop"));
    struct asg_group_rec *recs;
    size_t n;
    if (asg_store_list_groups(app->db, NULL, &recs, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        const struct asg_group_rec *g = &recs[i];
        cJSON *gi = cJSON_CreateObject();
        cJSON_AddStringToObject(gi, "name", g->name);
        cJSON_AddStringToObject(gi, "region", g->region);
        cJSON_AddNumberToObject(gi, "min", g->min_size);
        cJSON_AddNumberToObject(gi, "max", g->max_size);
        cJSON_AddNumberToObject(gi, "desired", g->desired);
        struct aws_call call = {
            .app = app,
            .service = "autoscaling",
            .op = "fogbank-status",
            .region = g->region,
            .account_id = app->cfg.account_id,
            .request_id = "",
            .now_ms = app->clock ? vclock_now(app->clock) : 0,
        };
        asg_loop_status(&call, g, gi);
        cJSON *list = cJSON_AddArrayToObject(gi, "instances");
        struct asg_inst_rec *insts;
        size_t m;
        if (asg_store_list_insts(app->db, g->region, g->name, &insts, &m) == 0) {
            for (size_t k = 0; k < m; k++) {
                const struct asg_inst_rec *r = &insts[k];
                cJSON *it = cJSON_CreateObject();
                cJSON_AddStringToObject(it, "id", r->id);
                cJSON_AddStringToObject(it, "az", r->az);
                cJSON_AddStringToObject(it, "state", r->state);
                cJSON_AddStringToObject(it, "health", r->health);
                cJSON_AddItemToArray(list, it);
                cJSON *pending = cJSON_Parse(r->actions ? r->actions : "[]");
                const cJSON *a;
                cJSON_ArrayForEach(a, pending)
                {
                    const char *res = asg_str(a, "result");
                    if (res && res[0])
                        continue;
                    cJSON *ai = cJSON_CreateObject();
                    cJSON_AddStringToObject(ai, "group", g->name);
                    cJSON_AddStringToObject(ai, "instance_id", r->id);
                    cJSON_AddStringToObject(ai, "state", r->state);
                    cJSON_AddStringToObject(ai, "hook", asg_str(a, "hook"));
                    cJSON_AddStringToObject(ai, "token", asg_str(a, "token"));
                    cJSON_AddStringToObject(ai, "transition", asg_str(a, "transition"));
                    const cJSON *d = cJSON_GetObjectItemCaseSensitive(a, "deadline_ms");
                    const cJSON *gl = cJSON_GetObjectItemCaseSensitive(a, "global_ms");
                    double due = cJSON_IsNumber(d) ? d->valuedouble : 0;
                    if (cJSON_IsNumber(gl) && gl->valuedouble < due)
                        due = gl->valuedouble;
                    char iso[32];
                    asg_time_text((int64_t)due, iso);
                    cJSON_AddStringToObject(ai, "timeout_at", iso);
                    cJSON_AddItemToArray(actions, ai);
                }
                cJSON_Delete(pending);
            }
            asg_inst_recs_free(insts, m);
        }
        cJSON_AddItemToArray(groups, gi);
    }
    asg_group_recs_free(recs, n);
}
