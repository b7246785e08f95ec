/*
 * Auto Scaling groups: the handlers that create, change, describe and delete groups and that
 * move their instances by hand (terminate, health, protection, standby, attach, detach,
 * suspended processes), and the group side of asg.h. Handlers only write rows and queue a
 * reconciler pass (reconcile.c): no launch or termination happens inside a call, as on AWS,
 * where these calls return at once and the activities follow.
 */
#include "emulator/common.h"
#include "services/autoscaling/fleet.h"

#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/ids.h"
#include "emulator/protocol/protocol.h"
#include "services/autoscaling/asg.h"
#include "services/autoscaling/autoscaling.h"
#include "services/ec2/api.h"

/* "Auto Scaling groups per Region: 500" (ASUG/ec2-auto-scaling-quotas). */
#define GROUP_LIMIT      500
#define DEFAULT_COOLDOWN 300 /* s, [MODEL] CreateAutoScalingGroupType.DefaultCooldown */

/* The processes SuspendProcesses knows ([MODEL]; DescribeScalingProcessTypes lists them). */
static const char *const process_names[] = {
    "AZRebalance",
    "AddToLoadBalancer",
    "AlarmNotification",
    "HealthCheck",
    "InstanceRefresh",
    "Launch",
    "RemoveFromLoadBalancerLowPriority",
    "ReplaceUnhealthy",
    "ScheduledActions",
    "Terminate",
};

static const char *const termination_policy_names[] = {
    "AllocationStrategy",
    "ClosestToNextInstanceHour",
    "Default",
    "NewestInstance",
    "OldestInstance",
    "OldestLaunchConfiguration",
    "OldestLaunchTemplate",
};

/* ---- shared helpers (fleet.h) ---- */

int
asg_db_failed(struct aws_err *err)
{
    return aws_err_set(err, AWS_E_INTERNAL_ERROR, "An internal error occurred.");
}

int
asg_group_not_found(const char *name, struct aws_err *err)
{
    /* AWS-NOTES 3.7. */
    return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                       "AutoScalingGroup name not found - AutoScalingGroup '%s' not found", name);
}

const char *
asg_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
asg_group_load(struct aws_call *call, const char *name, struct asg_group_rec *g,
               struct aws_err *err)
{
    int found = asg_store_get_group(call->app->db, call->region, name ? name : "", g);
    if (found < 0)
        return asg_db_failed(err);
    return found ? 0 : asg_group_not_found(name ? name : "", err);
}

bool
asg_group_suspended(const struct asg_group_rec *g, const char *process)
{
    cJSON *list = cJSON_Parse(g->suspended ? g->suspended : "[]");
    bool found = false;
    const cJSON *p;
    cJSON_ArrayForEach(p, list)
    {
        const char *n = asg_str(p, "ProcessName");
        found = found || (n && strcmp(n, process) == 0);
    }
    cJSON_Delete(list);
    return found;
}

bool
asg_state_counts(const char *state)
{
    return str_starts(state, "Pending") || strcmp(state, LS_IN_SERVICE) == 0;
}

void
asg_time_text(int64_t ms, char out[32])
{
    /* AWS's causes carry whole seconds: 2013-08-19T20:53:25Z. */
    char iso[32];
    time_format_iso8601(ms, iso);
    snprintf(out, 32, "%.19sZ", iso);
}

static bool
in_names(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return true;
    return false;
}

static char *
json_text(const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    char *copy = xstrdup(text ? text : "[]");
    cJSON_free(text);
    return copy;
}

/* ---- validation shared by create and update ---- */

static int
check_sizes(int min, int max, int desired, struct aws_err *err)
{
    /* Both wordings as AWS answers them (quoted in many field reports, e.g. eksctl's). */
    if (max < min)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "Max bound, %d, must be greater than or equal to min bound, %d", max,
                           min);
    if (desired < min || desired > max)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "Desired capacity:%d must be between the specified min size:%d and "
                           "max size:%d",
                           desired, min, max);
    return 0;
}

/*
 * The zones of the group: VPCZoneIdentifier's subnets decide them (their map into
 * g->subnets), else AvailabilityZones. Only what was given is changed. -1 + err.
 */
static int
apply_zones(struct aws_call *call, const cJSON *in, struct asg_group_rec *g, bool creating,
            struct aws_err *err)
{
    const char *vpc_zone = asg_str(in, "VPCZoneIdentifier");
    const cJSON *azs = cJSON_GetObjectItemCaseSensitive(in, "AvailabilityZones");
    if (vpc_zone && vpc_zone[0]) {
        cJSON *zones = cJSON_CreateArray(), *map = cJSON_CreateObject();
        char *copy = xstrdup(vpc_zone);
        int ret = 0;
        for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok && ret == 0;
             tok = strtok_r(NULL, ", ", &save)) {
            char az[32];
            if (ec2_api_subnet_zone(call, tok, az, err) < 0) {
                /* AWS names the bad subnet in a ValidationError [UNVERIFIED wording]. */
                ret = aws_err_set(err, AWS_E_VALIDATION_ERROR, "The subnet ID '%s' does not exist",
                                  tok);
                break;
            }
            if (!cJSON_GetObjectItemCaseSensitive(map, az)) {
                cJSON_AddStringToObject(map, az, tok);
                cJSON_AddItemToArray(zones, cJSON_CreateString(az));
            }
        }
        free(copy);
        if (ret == 0) {
            free(g->azs);
            g->azs = json_text(zones);
            free(g->subnets);
            g->subnets = json_text(map);
            asg_rec_set(&g->vpc_zone, vpc_zone);
        }
        cJSON_Delete(zones);
        cJSON_Delete(map);
        return ret;
    }
    if (cJSON_GetArraySize(azs) > 0) {
        const cJSON *z;
        cJSON_ArrayForEach(z, azs)
        {
            if (!cJSON_IsString(z) || !ec2_api_zone_up(call, z->valuestring)) {
                /* A zone that is merely down (fault az-down) is still a zone of the region. */
                size_t rl = strlen(call->region);
                const char *s = cJSON_IsString(z) ? z->valuestring : "";
                if (strncmp(s, call->region, rl) != 0 || strlen(s) != rl + 1 || s[rl] < 'a' ||
                    s[rl] > 'c')
                    return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                                       "The availability zone '%s' is not legal", s);
            }
        }
        free(g->azs);
        g->azs = json_text(azs);
        asg_rec_set(&g->subnets, "{}");
        asg_rec_set(&g->vpc_zone, "");
        return 0;
    }
    if (creating)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "At least one Availability Zone or VPC Subnet is required.");
    return 0;
}

/* LaunchConfigurationName / LaunchTemplate / MixedInstancesPolicy's template. */
static int
apply_launch_source(struct aws_call *call, const cJSON *in, struct asg_group_rec *g, bool creating,
                    struct aws_err *err)
{
    const char *lc = asg_str(in, "LaunchConfigurationName");
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(in, "LaunchTemplate");
    const cJSON *mip = cJSON_GetObjectItemCaseSensitive(in, "MixedInstancesPolicy");
    if (!lt && mip)
        lt = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(mip, "LaunchTemplate"),
                "LaunchTemplateSpecification");
    int given = (lc != NULL) + (lt != NULL) +
                (cJSON_GetObjectItemCaseSensitive(in, "InstanceId") != NULL);
    if (given == 0 && !creating)
        return 0;
    /* The wording AWS answers when none (or several) is given [UNVERIFIED capture]. */
    if (given != 1)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "Valid requests must contain either LaunchTemplate, "
                           "LaunchConfigurationName, InstanceId or MixedInstancesPolicy "
                           "parameter.");
    if (lc) {
        struct asg_lc_rec rec;
        memset(&rec, 0, sizeof(rec));
        int found = asg_store_get_lc(call->app->db, call->region, lc, &rec);
        asg_lc_rec_release(&rec);
        if (found < 0)
            return asg_db_failed(err);
        if (!found)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Launch configuration name not found - Launch configuration %s "
                               "not found",
                               lc);
        snprintf(g->lc_name, sizeof(g->lc_name), "%s", lc);
        asg_rec_set(&g->launch_template, "");
        return 0;
    }
    if (lt) {
        struct aws_err e;
        aws_err_clear(&e);
        if (ec2_api_launch_template_check(call, lt, &e) < 0) {
            const char *id = asg_str(lt, "LaunchTemplateId");
            const char *name = asg_str(lt, "LaunchTemplateName");
            /* AWS answers a ValidationError naming the template [UNVERIFIED wording]. */
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "You must use a valid fully-formed launch template. %s",
                               e.message[0] ? e.message
                               : id         ? id
                                            : (name ? name : ""));
        }
        cJSON *spec = cJSON_CreateObject();
        const char *id = asg_str(lt, "LaunchTemplateId"), *name = asg_str(lt, "LaunchTemplateName");
        const char *version = asg_str(lt, "Version");
        if (id)
            cJSON_AddStringToObject(spec, "LaunchTemplateId", id);
        if (name)
            cJSON_AddStringToObject(spec, "LaunchTemplateName", name);
        cJSON_AddStringToObject(spec, "Version", version ? version : "$Default");
        free(g->launch_template);
        g->launch_template = json_text(spec);
        cJSON_Delete(spec);
        g->lc_name[0] = '\0';
        return 0;
    }
    return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                       "Creating a group from an instance (InstanceId) is not supported by "
                       "fogbank; give a LaunchConfigurationName or LaunchTemplate.");
}

static int
apply_settings(struct aws_call *call, const cJSON *in, struct asg_group_rec *g, struct aws_err *err)
{
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(in, "HealthCheckType"))) {
        const char *t = cJSON_IsString(v) ? v->valuestring : "";
        char *copy = xstrdup(t);
        int ret = t[0] ? 0 : -1;
        for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && ret == 0;
             tok = strtok_r(NULL, ",", &save)) {
            static const char *const types[] = { "EC2", "ELB", "EBS", "VPC_LATTICE" };
            if (!in_names(types, ARRAY_SIZE(types), tok))
                ret = -1;
        }
        free(copy);
        if (ret < 0)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Invalid value '%s' for HealthCheckType: valid values are EC2, "
                               "ELB, EBS and VPC_LATTICE",
                               t);
        snprintf(g->health_check_type, sizeof(g->health_check_type), "%s", t);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(in, "HealthCheckGracePeriod")))
        g->grace = v->valueint;
    if ((v = cJSON_GetObjectItemCaseSensitive(in, "DefaultCooldown")))
        g->default_cooldown = v->valueint;
    if ((v = cJSON_GetObjectItemCaseSensitive(in, "NewInstancesProtectedFromScaleIn")))
        g->protect_new = cJSON_IsTrue(v);
    if ((v = cJSON_GetObjectItemCaseSensitive(in, "TerminationPolicies"))) {
        const cJSON *p;
        cJSON_ArrayForEach(p, v)
        {
            const char *s = cJSON_IsString(p) ? p->valuestring : "";
            if (!in_names(termination_policy_names, ARRAY_SIZE(termination_policy_names), s) &&
                !str_starts(s, "arn:aws:lambda:"))
                return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                                   "Termination policy '%s' is not supported", s);
        }
        free(g->policies);
        g->policies = cJSON_GetArraySize(v) ? json_text(v) : xstrdup("[\"Default\"]");
    }
    (void)call;
    return 0;
}

/* ---- CreateAutoScalingGroup ---- */

int
autoscaling_create_auto_scaling_group(struct aws_call *call, const cJSON *in, cJSON *out,
                                      struct aws_err *err)
{
    (void)out;
    const char *name = asg_str(in, "AutoScalingGroupName");
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    int ret = -1;
    int found = asg_store_get_group(call->app->db, call->region, name, &g);
    if (found < 0) {
        asg_db_failed(err);
        goto out;
    }
    if (found) {
        aws_err_setx(err, 400, "AlreadyExists", true,
                     "AutoScalingGroup by this name already exists - A group with the name %s "
                     "already exists",
                     name);
        goto out;
    }
    int count = 0;
    if (asg_store_count_groups(call->app->db, call->region, &count) < 0) {
        asg_db_failed(err);
        goto out;
    }
    if (count >= GROUP_LIMIT) {
        aws_err_setx(err, 400, "LimitExceeded", true,
                     "You have reached your limit of %d Auto Scaling groups in this Region.",
                     GROUP_LIMIT);
        goto out;
    }
    snprintf(g.region, sizeof(g.region), "%s", call->region);
    snprintf(g.name, sizeof(g.name), "%s", name);
    char uuid[37];
    ids_uuid(call->app->ids, uuid);
    snprintf(g.arn, sizeof(g.arn),
             "arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s", call->region,
             call->account_id, uuid, name);
    g.created_ms = call->now_ms;
    g.min_size = cJSON_GetObjectItemCaseSensitive(in, "MinSize")->valueint;
    g.max_size = cJSON_GetObjectItemCaseSensitive(in, "MaxSize")->valueint;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(in, "DesiredCapacity");
    /* "If you do not specify a desired capacity, the default is the minimum size." */
    g.desired = cJSON_IsNumber(d) ? d->valueint : g.min_size;
    g.default_cooldown = DEFAULT_COOLDOWN;
    snprintf(g.health_check_type, sizeof(g.health_check_type), "EC2");
    g.policies = xstrdup("[\"Default\"]");
    g.suspended = xstrdup("[]");
    const cJSON *lbs = cJSON_GetObjectItemCaseSensitive(in, "LoadBalancerNames");
    const cJSON *tgs = cJSON_GetObjectItemCaseSensitive(in, "TargetGroupARNs");
    g.lbs = lbs ? json_text(lbs) : xstrdup("[]");
    g.tgs = tgs ? json_text(tgs) : xstrdup("[]");
    if (check_sizes(g.min_size, g.max_size, g.desired, err) < 0 ||
        apply_launch_source(call, in, &g, true, err) < 0 ||
        apply_zones(call, in, &g, true, err) < 0 || apply_settings(call, in, &g, err) < 0 ||
        asg_lb_check(call, lbs, err) < 0)
        goto out;
    char t[32];
    asg_time_text(call->now_ms, t);
    struct buf cause = BUF_INIT;
    buf_addf(&cause,
             "At %s a user request created an AutoScalingGroup changing the desired capacity "
             "from 0 to %d.",
             t, g.desired);
    g.cause = buf_detach(&cause, NULL);
    if (asg_store_put_group(call->app->db, &g) < 0) {
        asg_db_failed(err);
        goto out;
    }
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "Tags");
    if (cJSON_GetArraySize(tags) > 0 && asg_tags_put(call, name, tags, err) < 0)
        goto out;
    const cJSON *spec;
    cJSON_ArrayForEach(spec, cJSON_GetObjectItemCaseSensitive(in, "LifecycleHookSpecificationList"))
    {
        if (asg_hooks_put(call, &g, spec, err) < 0)
            goto out;
    }
    asg_reconcile_kick(call->app);
    ret = 0;
out:
    asg_group_rec_release(&g);
    return ret;
}

/* ---- UpdateAutoScalingGroup and the capacity changes of asg.h ---- */

/*
 * Sets the sizes (each -1: unchanged) as UpdateAutoScalingGroup does: a new MinSize above
 * the desired capacity raises it, a new MaxSize below lowers it ("If you specify a new value
 * for MinSize without specifying a value for DesiredCapacity, and the new MinSize is larger
 * than the current size of the group, this sets the group's DesiredCapacity to the new
 * MinSize value", and the same for MaxSize: UpdateAutoScalingGroup's reference). The cause
 * of the activities that follow becomes `cause` + " changing the desired capacity from X to
 * Y." when the desired capacity changes.
 */
static int
set_sizes(struct aws_call *call, struct asg_group_rec *g, int min, int max, int desired,
          const char *cause, struct aws_err *err)
{
    int old = g->desired;
    int new_min = min >= 0 ? min : g->min_size, new_max = max >= 0 ? max : g->max_size;
    int new_desired = desired >= 0 ? desired : g->desired;
    if (desired < 0 && min >= 0 && new_desired < new_min)
        new_desired = new_min;
    if (desired < 0 && max >= 0 && new_desired > new_max)
        new_desired = new_max;
    if (check_sizes(new_min, new_max, new_desired, err) < 0)
        return -1;
    g->min_size = new_min;
    g->max_size = new_max;
    g->desired = new_desired;
    if (new_desired != old && cause) {
        struct buf b = BUF_INIT;
        buf_addf(&b, "%s changing the desired capacity from %d to %d.", cause, old, new_desired);
        free(g->cause);
        g->cause = buf_detach(&b, NULL);
    }
    (void)call;
    return 0;
}

int
autoscaling_update_auto_scaling_group(struct aws_call *call, const cJSON *in, cJSON *out,
                                      struct aws_err *err)
{
    (void)out;
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    int ret = -1;
    if (asg_group_load(call, asg_str(in, "AutoScalingGroupName"), &g, err) < 0)
        goto out;
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(in, "MinSize");
    const cJSON *mx = cJSON_GetObjectItemCaseSensitive(in, "MaxSize");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(in, "DesiredCapacity");
    int min = cJSON_IsNumber(mn) ? mn->valueint : -1;
    int max = cJSON_IsNumber(mx) ? mx->valueint : -1;
    int desired = cJSON_IsNumber(d) ? d->valueint : -1;
    int old = g.desired;
    int rc = set_sizes(call, &g, min, max, desired, NULL, err);
    if (rc == 0 && g.desired != old) {
        char t[32];
        asg_time_text(call->now_ms, t);
        struct buf cause = BUF_INIT;
        buf_addf(&cause,
                 "At %s a user request update of AutoScalingGroup constraints to min: %d, max: "
                 "%d, desired: %d changing the desired capacity from %d to %d.",
                 t, g.min_size, g.max_size, g.desired, old, g.desired);
        free(g.cause);
        g.cause = buf_detach(&cause, NULL);
    }
    if (rc < 0 || apply_launch_source(call, in, &g, false, err) < 0 ||
        apply_zones(call, in, &g, false, err) < 0 || apply_settings(call, in, &g, err) < 0)
        goto out;
    if (asg_store_put_group(call->app->db, &g) < 0) {
        asg_db_failed(err);
        goto out;
    }
    asg_reconcile_kick(call->app);
    ret = 0;
out:
    asg_group_rec_release(&g);
    return ret;
}

int
asg_group_set_capacity(struct aws_call *call, const char *name, int min_size, int max_size,
                       int desired, const char *cause, struct aws_err *err)
{
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    int ret = -1;
    if (asg_group_load(call, name, &g, err) < 0)
        goto out;
    /* The caller's cause already says "changing the desired capacity from X to Y.". */
    int old = g.desired;
    if (set_sizes(call, &g, min_size, max_size, desired, NULL, err) < 0)
        goto out;
    if (g.desired != old && cause)
        asg_rec_set(&g.cause, cause);
    if (asg_store_put_group(call->app->db, &g) < 0) {
        asg_db_failed(err);
        goto out;
    }
    asg_reconcile_kick(call->app);
    ret = 0;
out:
    asg_group_rec_release(&g);
    return ret;
}

int
autoscaling_set_desired_capacity(struct aws_call *call, const cJSON *in, cJSON *out,
                                 struct aws_err *err)
{
    (void)out;
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    int ret = -1;
    if (asg_group_load(call, asg_str(in, "AutoScalingGroupName"), &g, err) < 0)
        goto out;
    int desired = cJSON_GetObjectItemCaseSensitive(in, "DesiredCapacity")->valueint;
    /* [UNVERIFIED wordings] */
    if (desired < g.min_size) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR,
                    "New SetDesiredCapacity value %d is below min value %d for the "
                    "AutoScalingGroup.",
                    desired, g.min_size);
        goto out;
    }
    if (desired > g.max_size) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR,
                    "New SetDesiredCapacity value %d is above max value %d for the "
                    "AutoScalingGroup.",
                    desired, g.max_size);
        goto out;
    }
    /* HonorCooldown: the group's cooldown after its last scaling activity must be over. */
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "HonorCooldown")) && g.last_scaling_ms &&
        call->now_ms < g.last_scaling_ms + (int64_t)g.default_cooldown * 1000) {
        aws_err_setx(err, 400, "ScalingActivityInProgress", true,
                     "Scaling activity in progress: the group is in its cooldown period.");
        goto out;
    }
    char t[32];
    asg_time_text(call->now_ms, t);
    struct buf cause = BUF_INIT;
    buf_addf(&cause, "At %s a user request explicitly set group desired capacity", t);
    int rc = set_sizes(call, &g, -1, -1, desired, cause.data, err);
    buf_release(&cause);
    if (rc < 0)
        goto out;
    if (asg_store_put_group(call->app->db, &g) < 0) {
        asg_db_failed(err);
        goto out;
    }
    asg_reconcile_kick(call->app);
    ret = 0;
out:
    asg_group_rec_release(&g);
    return ret;
}

/* ---- DeleteAutoScalingGroup ---- */

int
autoscaling_delete_auto_scaling_group(struct aws_call *call, const cJSON *in, cJSON *out,
                                      struct aws_err *err)
{
    (void)out;
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    struct asg_inst_rec *insts = NULL;
    size_t n = 0;
    int ret = -1;
    if (asg_group_load(call, asg_str(in, "AutoScalingGroupName"), &g, err) < 0)
        goto out;
    bool force = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "ForceDelete"));
    if (asg_store_list_insts(call->app->db, call->region, g.name, &insts, &n) < 0) {
        asg_db_failed(err);
        goto out;
    }
    if (n > 0 && !force) {
        bool busy = false;
        for (size_t i = 0; i < n; i++)
            busy = busy || (strcmp(insts[i].state, LS_IN_SERVICE) != 0 &&
                            strcmp(insts[i].state, LS_STANDBY) != 0);
        if (busy)
            aws_err_setx(err, 400, "ScalingActivityInProgress", true,
                         "You cannot delete an AutoScalingGroup while there are scaling "
                         "activities in progress for that group.");
        else
            aws_err_setx(err, 400, "ResourceInUse", true,
                         "You cannot delete an AutoScalingGroup while there are instances or "
                         "pending Spot instance request(s) still in the group.");
        goto out;
    }
    /* ForceDelete: "deletes the group along with all instances associated with the group,
       without waiting for all instances to be terminated" (the API reference). */
    for (size_t i = 0; i < n; i++) {
        int64_t drain = 0;
        asg_lb_deregister(call, &g, insts[i].id, &drain);
        if (ec2_api_terminate(call, insts[i].id, err) < 0)
            goto out;
    }
    if (asg_tags_drop_group(call, g.name) < 0 || asg_policies_drop_group(call, g.name) < 0 ||
        asg_scheduled_drop_group(call, g.name) < 0 ||
        asg_store_delete_group(call->app->db, call->region, g.name) < 0) {
        asg_db_failed(err);
        goto out;
    }
    ret = 0;
out:
    asg_inst_recs_free(insts, n);
    asg_group_rec_release(&g);
    return ret;
}

/* ---- DescribeAutoScalingGroups / DescribeAutoScalingInstances ---- */

static void
add_launch_source(cJSON *item, const char *lc_name, const char *lt_json)
{
    if (lc_name && lc_name[0])
        cJSON_AddStringToObject(item, "LaunchConfigurationName", lc_name);
    cJSON *lt = lt_json && lt_json[0] ? cJSON_Parse(lt_json) : NULL;
    if (lt)
        cJSON_AddItemToObject(item, "LaunchTemplate", lt);
}

static cJSON *
parse_or(const char *json, cJSON *(*make)(void))
{
    cJSON *v = json && json[0] ? cJSON_Parse(json) : NULL;
    return v ? v : make();
}

static int
group_item(struct aws_call *call, const struct asg_group_rec *g, cJSON **out)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "AutoScalingGroupName", g->name);
    cJSON_AddStringToObject(o, "AutoScalingGroupARN", g->arn);
    add_launch_source(o, g->lc_name, g->launch_template);
    cJSON_AddNumberToObject(o, "MinSize", g->min_size);
    cJSON_AddNumberToObject(o, "MaxSize", g->max_size);
    cJSON_AddNumberToObject(o, "DesiredCapacity", g->desired);
    cJSON_AddNumberToObject(o, "DefaultCooldown", g->default_cooldown);
    cJSON_AddItemToObject(o, "AvailabilityZones", parse_or(g->azs, cJSON_CreateArray));
    cJSON_AddItemToObject(o, "LoadBalancerNames", parse_or(g->lbs, cJSON_CreateArray));
    cJSON_AddItemToObject(o, "TargetGroupARNs", parse_or(g->tgs, cJSON_CreateArray));
    cJSON_AddStringToObject(o, "HealthCheckType", g->health_check_type);
    cJSON_AddNumberToObject(o, "HealthCheckGracePeriod", g->grace);
    cJSON *list = cJSON_AddArrayToObject(o, "Instances");
    struct asg_inst_rec *insts;
    size_t n;
    if (asg_store_list_insts(call->app->db, g->region, g->name, &insts, &n) < 0) {
        cJSON_Delete(o);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct asg_inst_rec *r = &insts[i];
        if (strcmp(r->state, LS_TERMINATED) == 0 || strcmp(r->state, LS_DETACHED) == 0)
            continue;
        cJSON *it = cJSON_CreateObject();
        cJSON_AddStringToObject(it, "InstanceId", r->id);
        cJSON_AddStringToObject(it, "InstanceType", r->instance_type);
        cJSON_AddStringToObject(it, "AvailabilityZone", r->az);
        cJSON_AddStringToObject(it, "LifecycleState", r->state);
        cJSON_AddStringToObject(it, "HealthStatus", r->health);
        add_launch_source(it, r->lc_name, r->launch_template);
        cJSON_AddBoolToObject(it, "ProtectedFromScaleIn", r->protected_);
        cJSON_AddItemToArray(list, it);
    }
    asg_inst_recs_free(insts, n);
    cJSON_AddNumberToObject(o, "CreatedTime", (double)g->created_ms);
    cJSON_AddItemToObject(o, "SuspendedProcesses", parse_or(g->suspended, cJSON_CreateArray));
    if (g->vpc_zone && g->vpc_zone[0])
        cJSON_AddStringToObject(o, "VPCZoneIdentifier", g->vpc_zone);
    cJSON_AddArrayToObject(o, "EnabledMetrics");
    cJSON *tags = cJSON_AddArrayToObject(o, "Tags");
    struct aws_call c = *call;
    c.region = g->region;
    if (asg_tags_of_group(&c, g->name, tags) < 0) {
        cJSON_Delete(o);
        return -1;
    }
    cJSON_AddItemToObject(o, "TerminationPolicies", parse_or(g->policies, cJSON_CreateArray));
    cJSON_AddBoolToObject(o, "NewInstancesProtectedFromScaleIn", g->protect_new);
    char role[256];
    snprintf(role, sizeof(role),
             "arn:aws:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/"
             "AWSServiceRoleForAutoScaling",
             call->account_id);
    cJSON_AddStringToObject(o, "ServiceLinkedRoleARN", role);
    cJSON_AddBoolToObject(o, "CapacityRebalance", false);
    cJSON_AddArrayToObject(o, "TrafficSources");
    *out = o;
    return 0;
}

/* The Filters of DescribeAutoScalingGroups: tag-key, tag-value, tag:<key>. 1 keep, 0 drop,
   -1 + err for a filter name it does not know. */
static int
group_filters_match(const cJSON *filters, const cJSON *item, struct aws_err *err)
{
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(item, "Tags");
    const cJSON *f;
    cJSON_ArrayForEach(f, filters)
    {
        const char *name = asg_str(f, "Name");
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(f, "Values");
        if (!name)
            continue;
        bool by_key = strcmp(name, "tag-key") == 0, by_value = strcmp(name, "tag-value") == 0;
        bool by_tag = str_starts(name, "tag:");
        if (!by_key && !by_value && !by_tag)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR, "Filter type %s is not supported",
                               name);
        bool any = false;
        const cJSON *t;
        cJSON_ArrayForEach(t, tags)
        {
            const char *k = asg_str(t, "Key"), *v = asg_str(t, "Value");
            if (by_tag && strcmp(k, name + 4) != 0)
                continue;
            const char *subject = by_key ? k : v;
            const cJSON *want;
            cJSON_ArrayForEach(want, values)
            {
                any = any || (cJSON_IsString(want) && strcmp(want->valuestring, subject) == 0);
            }
        }
        if (!any)
            return 0;
    }
    return 1;
}

int
autoscaling_describe_auto_scaling_groups(struct aws_call *call, const cJSON *in, cJSON *out,
                                         struct aws_err *err)
{
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(in, "AutoScalingGroupNames");
    const cJSON *filters = cJSON_GetObjectItemCaseSensitive(in, "Filters");
    struct asg_group_rec *groups;
    size_t n;
    if (asg_store_list_groups(call->app->db, call->region, &groups, &n) < 0)
        return asg_db_failed(err);
    cJSON *all = cJSON_CreateArray();
    int ret = 0;
    for (size_t i = 0; i < n && ret == 0; i++) {
        bool wanted = cJSON_GetArraySize(names) == 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, names)
        {
            wanted = wanted || (cJSON_IsString(v) && strcmp(v->valuestring, groups[i].name) == 0);
        }
        if (!wanted)
            continue;
        cJSON *item;
        if (group_item(call, &groups[i], &item) < 0) {
            ret = asg_db_failed(err);
            break;
        }
        int m = group_filters_match(filters, item, err);
        if (m == 1)
            cJSON_AddItemToArray(all, item);
        else
            cJSON_Delete(item);
        if (m < 0)
            ret = -1;
    }
    asg_group_recs_free(groups, n);
    if (ret < 0) {
        cJSON_Delete(all);
        return -1;
    }
    /* MaxRecords: "The default value is 50 and the maximum value is 100." */
    return asg_page(all, in, out, "AutoScalingGroups", 50, 100, err);
}

int
autoscaling_describe_auto_scaling_instances(struct aws_call *call, const cJSON *in, cJSON *out,
                                            struct aws_err *err)
{
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(in, "InstanceIds");
    struct asg_inst_rec *insts;
    size_t n;
    if (asg_store_list_insts(call->app->db, call->region, NULL, &insts, &n) < 0)
        return asg_db_failed(err);
    cJSON *all = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        const struct asg_inst_rec *r = &insts[i];
        bool wanted = cJSON_GetArraySize(ids) == 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, ids)
        {
            wanted = wanted || (cJSON_IsString(v) && strcmp(v->valuestring, r->id) == 0);
        }
        if (!wanted || strcmp(r->state, LS_TERMINATED) == 0 || strcmp(r->state, LS_DETACHED) == 0)
            continue;
        cJSON *it = cJSON_CreateObject();
        cJSON_AddStringToObject(it, "InstanceId", r->id);
        cJSON_AddStringToObject(it, "InstanceType", r->instance_type);
        cJSON_AddStringToObject(it, "AutoScalingGroupName", r->group);
        cJSON_AddStringToObject(it, "AvailabilityZone", r->az);
        cJSON_AddStringToObject(it, "LifecycleState", r->state);
        /* Upper case here, unlike DescribeAutoScalingGroups (AWS-NOTES 3.1). */
        cJSON_AddStringToObject(it, "HealthStatus",
                                strcmp(r->health, "Healthy") == 0 ? "HEALTHY" : "UNHEALTHY");
        add_launch_source(it, r->lc_name, r->launch_template);
        cJSON_AddBoolToObject(it, "ProtectedFromScaleIn", r->protected_);
        cJSON_AddItemToArray(all, it);
    }
    asg_inst_recs_free(insts, n);
    /* MaxRecords: "The default value is 50 and the maximum value is 50." */
    return asg_page(all, in, out, "AutoScalingInstances", 50, 50, err);
}

/* ---- instances by hand ---- */

static int
instance_not_found(const char *id, struct aws_err *err)
{
    /* [UNVERIFIED wording, as field reports quote it] */
    return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                       "Instance Id not found - No managed instance found for instance ID: %s",
                       id ? id : "");
}

/* The group instance `id` of the call's region and its group. -1 + err. */
static int
load_instance(struct aws_call *call, const char *id, struct asg_inst_rec *r,
              struct asg_group_rec *g, struct aws_err *err)
{
    int found = asg_store_get_inst(call->app->db, id ? id : "", r);
    if (found < 0)
        return asg_db_failed(err);
    if (!found || strcmp(r->region, call->region) != 0 || strcmp(r->state, LS_TERMINATED) == 0 ||
        strcmp(r->state, LS_DETACHED) == 0)
        return instance_not_found(id, err);
    return asg_group_load(call, r->group, g, err);
}

int
autoscaling_terminate_instance_in_auto_scaling_group(struct aws_call *call, const cJSON *in,
                                                     cJSON *out, struct aws_err *err)
{
    const char *id = asg_str(in, "InstanceId");
    bool decrement =
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "ShouldDecrementDesiredCapacity"));
    struct asg_inst_rec r;
    struct asg_group_rec g;
    asg_inst_rec_init(&r);
    asg_group_rec_init(&g);
    int ret = -1;
    if (load_instance(call, id, &r, &g, err) < 0)
        goto out;
    if (str_starts(r.state, "Terminating")) {
        /* Already on its way out: the activity under way answers. */
        cJSON *list = cJSON_CreateArray();
        asg_activity_add_item(call, r.activity_id, list);
        cJSON *a = cJSON_DetachItemFromArray(list, 0);
        cJSON_Delete(list);
        if (a)
            cJSON_AddItemToObject(out, "Activity", a);
        ret = 0;
        goto out;
    }
    char t[32];
    asg_time_text(call->now_ms, t);
    struct buf cause = BUF_INIT;
    if (decrement && asg_state_counts(r.state)) {
        if (g.desired - 1 < g.min_size) {
            /* AWS's wording (quoted in field reports, e.g. aws/aws-cli#2523). */
            aws_err_set(err, AWS_E_VALIDATION_ERROR,
                        "Currently, desiredSize equals minSize (%d). Terminating instance "
                        "without replacement will violate group's min size constraint. Either "
                        "set shouldDecrementDesiredCapacity flag to false or lower group's min "
                        "size.",
                        g.min_size);
            buf_release(&cause);
            goto out;
        }
        buf_addf(&cause,
                 "At %s instance %s was taken out of service in response to a user request, "
                 "shrinking the capacity from %d to %d.",
                 t, r.id, g.desired, g.desired - 1);
        g.desired--;
        if (asg_store_put_group(call->app->db, &g) < 0) {
            buf_release(&cause);
            asg_db_failed(err);
            goto out;
        }
    } else {
        buf_addf(&cause,
                 "At %s instance %s was taken out of service in response to a user request.", t,
                 r.id);
    }
    int rc = asg_instance_retire(call, &g, &r, cause.data);
    buf_release(&cause);
    if (rc < 0) {
        asg_db_failed(err);
        goto out;
    }
    cJSON *list = cJSON_CreateArray();
    asg_activity_add_item(call, r.activity_id, list);
    cJSON *a = cJSON_DetachItemFromArray(list, 0);
    cJSON_Delete(list);
    if (a)
        cJSON_AddItemToObject(out, "Activity", a);
    asg_reconcile_kick(call->app);
    ret = 0;
out:
    asg_inst_rec_release(&r);
    asg_group_rec_release(&g);
    return ret;
}

int
autoscaling_set_instance_health(struct aws_call *call, const cJSON *in, cJSON *out,
                                struct aws_err *err)
{
    (void)out;
    const char *id = asg_str(in, "InstanceId");
    const char *status = asg_str(in, "HealthStatus");
    const cJSON *respect = cJSON_GetObjectItemCaseSensitive(in, "ShouldRespectGracePeriod");
    struct asg_inst_rec r;
    struct asg_group_rec g;
    asg_inst_rec_init(&r);
    asg_group_rec_init(&g);
    int ret = -1;
    if (!status || (strcmp(status, "Healthy") != 0 && strcmp(status, "Unhealthy") != 0)) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR,
                    "Valid values for HealthStatus are Healthy and Unhealthy");
        goto out;
    }
    if (load_instance(call, id, &r, &g, err) < 0)
        goto out;
    /* ShouldRespectGracePeriod defaults to true: inside the grace period the call changes
       nothing (AWS-NOTES 3.6). */
    bool in_grace = r.in_service_ms && call->now_ms < r.in_service_ms + (int64_t)g.grace * 1000;
    if ((respect == NULL || cJSON_IsTrue(respect)) && in_grace) {
        ret = 0;
        goto out;
    }
    snprintf(r.health, sizeof(r.health), "%s", status);
    if (strcmp(status, "Unhealthy") == 0) {
        char t[32];
        asg_time_text(call->now_ms, t);
        struct buf cause = BUF_INIT;
        /* [UNVERIFIED wording] (AWS-NOTES 3.4) */
        buf_addf(&cause,
                 "At %s an instance was taken out of service in response to a user "
                 "health-check.",
                 t);
        asg_rec_set(&r.health_cause, cause.data);
        buf_release(&cause);
    }
    if (asg_store_put_inst(call->app->db, &r) < 0) {
        asg_db_failed(err);
        goto out;
    }
    asg_reconcile_kick(call->app);
    ret = 0;
out:
    asg_inst_rec_release(&r);
    asg_group_rec_release(&g);
    return ret;
}

/*
 * The instances InstanceIds names, each a member of group g in one of `states` (NULL: any
 * live state), into a new array. -1 + err (ValidationError naming the first that is not).
 */
static int
load_members(struct aws_call *call, const struct asg_group_rec *g, const cJSON *ids,
             const char *state, struct asg_inst_rec **out, size_t *n, struct aws_err *err)
{
    size_t count = (size_t)cJSON_GetArraySize(ids);
    *out = xcalloc(count ? count : 1, sizeof(**out));
    *n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, ids)
    {
        struct asg_inst_rec *r = &(*out)[*n];
        asg_inst_rec_init(r);
        (*n)++;
        const char *id = cJSON_IsString(v) ? v->valuestring : "";
        int found = asg_store_get_inst(call->app->db, id, r);
        if (found < 0)
            return asg_db_failed(err);
        if (!found || strcmp(r->group, g->name) != 0 || strcmp(r->region, g->region) != 0)
            /* [UNVERIFIED wording] */
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "The instance %s is not part of Auto Scaling group %s.", id,
                               g->name);
        if (state && strcmp(r->state, state) != 0)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR, "The instance %s is not in %s.", id,
                               state);
    }
    return 0;
}

int
autoscaling_set_instance_protection(struct aws_call *call, const cJSON *in, cJSON *out,
                                    struct aws_err *err)
{
    (void)out;
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    struct asg_inst_rec *recs = NULL;
    size_t n = 0;
    int ret = -1;
    if (asg_group_load(call, asg_str(in, "AutoScalingGroupName"), &g, err) < 0 ||
        load_members(call, &g, cJSON_GetObjectItemCaseSensitive(in, "InstanceIds"), NULL, &recs, &n,
                     err) < 0)
        goto out;
    bool protect = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "ProtectedFromScaleIn"));
    for (size_t i = 0; i < n; i++) {
        recs[i].protected_ = protect;
        if (asg_store_put_inst(call->app->db, &recs[i]) < 0) {
            asg_db_failed(err);
            goto out;
        }
    }
    ret = 0;
out:
    asg_inst_recs_free(recs, n);
    asg_group_rec_release(&g);
    return ret;
}

/*
 * The hand moves (EnterStandby, ExitStandby, AttachInstances, DetachInstances) share their
 * shape: members checked, desired capacity moved by `delta` per instance (validated), each
 * instance moved to `next`, one activity each, the activities answered in out.Activities.
 */
struct hand_move {
    const char *required_state; /* the state each instance must be in, NULL any */
    const char *next;           /* the state entered */
    const char *description;    /* "Moving EC2 instance to Standby: " (the id follows) */
    const char *cause;          /* "was moved to standby in response to a user request",
                                   after "At <time> instance <id> "; ", shrinking ..." is
                                   added */
    int delta;                  /* +1, -1, or 0 (no capacity change) */
};

static int
hand_move(struct aws_call *call, const cJSON *in, cJSON *out, const struct hand_move *m,
          struct aws_err *err)
{
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    struct asg_inst_rec *recs = NULL;
    size_t n = 0;
    int ret = -1;
    if (asg_group_load(call, asg_str(in, "AutoScalingGroupName"), &g, err) < 0 ||
        load_members(call, &g, cJSON_GetObjectItemCaseSensitive(in, "InstanceIds"),
                     m->required_state, &recs, &n, err) < 0)
        goto out;
    int old = g.desired, now_desired = g.desired + m->delta * (int)n;
    if (m->delta && check_sizes(g.min_size, g.max_size, now_desired, err) < 0)
        goto out;
    g.desired = now_desired;
    if (asg_store_put_group(call->app->db, &g) < 0) {
        asg_db_failed(err);
        goto out;
    }
    cJSON *list = cJSON_AddArrayToObject(out, "Activities");
    char t[32];
    asg_time_text(call->now_ms, t);
    for (size_t i = 0; i < n; i++) {
        struct asg_inst_rec *r = &recs[i];
        struct buf desc = BUF_INIT, cause = BUF_INIT;
        buf_addf(&desc, "%s%s", m->description, r->id);
        buf_addf(&cause, "At %s instance %s %s", t, r->id, m->cause);
        if (m->delta)
            buf_addf(&cause, ", %s the capacity from %d to %d.",
                     m->delta > 0 ? "increasing" : "shrinking", old, now_desired);
        else
            buf_adds(&cause, ".");
        int rc = asg_activity_start(call, &g, desc.data, cause.data, "InProgress", 50,
                                    r->activity_id);
        buf_release(&desc);
        buf_release(&cause);
        snprintf(r->state, sizeof(r->state), "%s", m->next);
        if (strcmp(m->next, LS_PENDING) == 0)
            r->in_service_ms = 0;
        if (rc < 0 || asg_store_put_inst(call->app->db, r) < 0 ||
            asg_activity_add_item(call, r->activity_id, list) < 0) {
            asg_db_failed(err);
            goto out;
        }
    }
    asg_reconcile_kick(call->app);
    ret = 0;
out:
    asg_inst_recs_free(recs, n);
    asg_group_rec_release(&g);
    return ret;
}

int
autoscaling_enter_standby(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    bool decrement =
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "ShouldDecrementDesiredCapacity"));
    /* Descriptions and causes of the hand moves: [UNVERIFIED wordings], AWS's pattern. */
    struct hand_move m = { LS_IN_SERVICE, LS_STANDBY, "Moving EC2 instance to Standby: ",
                           "was moved to standby in response to a user request",
                           decrement ? -1 : 0 };
    return hand_move(call, in, out, &m, err);
}

int
autoscaling_exit_standby(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    struct hand_move m = { LS_STANDBY, LS_PENDING, "Moving EC2 instance out of Standby: ",
                           "was moved out of standby in response to a user request", +1 };
    return hand_move(call, in, out, &m, err);
}

int
autoscaling_detach_instances(struct aws_call *call, const cJSON *in, cJSON *out,
                             struct aws_err *err)
{
    bool decrement =
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "ShouldDecrementDesiredCapacity"));
    struct hand_move m = { NULL, LS_DETACHING,
                           "Detaching EC2 instance: ", "was detached in response to a user request",
                           decrement ? -1 : 0 };
    return hand_move(call, in, out, &m, err);
}

int
autoscaling_attach_instances(struct aws_call *call, const cJSON *in, cJSON *out,
                             struct aws_err *err)
{
    (void)out;
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    int ret = -1;
    if (asg_group_load(call, asg_str(in, "AutoScalingGroupName"), &g, err) < 0)
        goto out;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(in, "InstanceIds");
    int n = cJSON_GetArraySize(ids);
    if (check_sizes(g.min_size, g.max_size, g.desired + n, err) < 0)
        goto out;
    cJSON *azs = cJSON_Parse(g.azs);
    const cJSON *v;
    /* Every instance is checked before any is attached. */
    cJSON_ArrayForEach(v, ids)
    {
        const char *id = cJSON_IsString(v) ? v->valuestring : "";
        struct ec2_api_instance inst;
        struct asg_inst_rec other;
        asg_inst_rec_init(&other);
        int member = asg_store_get_inst(call->app->db, id, &other);
        asg_inst_rec_release(&other);
        bool in_zone = false;
        const cJSON *z;
        if (ec2_api_instance_get(call, id, &inst) != 1 || strcmp(inst.region, call->region) != 0 ||
            strcmp(inst.state_name, "running") != 0) {
            /* [UNVERIFIED wording] */
            aws_err_set(err, AWS_E_VALIDATION_ERROR,
                        "Instance %s is not in correct state: it must be running.", id);
            goto fail;
        }
        if (member != 0) {
            aws_err_set(err, AWS_E_VALIDATION_ERROR,
                        "The instance %s is already part of an Auto Scaling group.", id);
            goto fail;
        }
        cJSON_ArrayForEach(z, azs)
        {
            in_zone = in_zone || strcmp(z->valuestring, inst.az) == 0;
        }
        if (!in_zone) {
            aws_err_set(err, AWS_E_VALIDATION_ERROR,
                        "The instance %s is in %s, which is not an Availability Zone of the "
                        "group.",
                        id, inst.az);
            goto fail;
        }
    }
    char t[32];
    asg_time_text(call->now_ms, t);
    int capacity = g.desired;
    cJSON_ArrayForEach(v, ids)
    {
        struct ec2_api_instance inst;
        ec2_api_instance_get(call, v->valuestring, &inst);
        struct asg_inst_rec r;
        asg_inst_rec_init(&r);
        snprintf(r.id, sizeof(r.id), "%s", inst.id);
        snprintf(r.region, sizeof(r.region), "%s", call->region);
        snprintf(r.group, sizeof(r.group), "%s", g.name);
        snprintf(r.az, sizeof(r.az), "%s", inst.az);
        snprintf(r.state, sizeof(r.state), LS_PENDING);
        snprintf(r.health, sizeof(r.health), "Healthy");
        snprintf(r.instance_type, sizeof(r.instance_type), "%s", inst.instance_type);
        snprintf(r.image_id, sizeof(r.image_id), "%s", inst.image_id);
        r.launched_ms = call->now_ms;
        r.protected_ = g.protect_new;
        struct buf desc = BUF_INIT, cause = BUF_INIT;
        buf_addf(&desc, "Attaching an existing EC2 instance: %s", inst.id);
        buf_addf(&cause,
                 "At %s an instance was added in response to a user request, increasing the "
                 "capacity from %d to %d.",
                 t, capacity, capacity + 1);
        capacity++;
        int rc = asg_activity_start(call, &g, desc.data, cause.data, "InProgress", 50,
                                    r.activity_id);
        buf_release(&desc);
        buf_release(&cause);
        if (rc < 0 || asg_store_put_inst(call->app->db, &r) < 0 ||
            ec2_api_tag_put(call, r.id, "aws:autoscaling:groupName", g.name) < 0) {
            asg_inst_rec_release(&r);
            asg_db_failed(err);
            goto fail;
        }
        asg_inst_rec_release(&r);
    }
    cJSON_Delete(azs);
    g.desired += n;
    if (asg_store_put_group(call->app->db, &g) < 0) {
        asg_db_failed(err);
        goto out;
    }
    asg_reconcile_kick(call->app);
    ret = 0;
    goto out;
fail:
    cJSON_Delete(azs);
out:
    asg_group_rec_release(&g);
    return ret;
}

/* ---- suspended processes ---- */

static int
change_processes(struct aws_call *call, const cJSON *in, bool suspend, struct aws_err *err)
{
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    int ret = -1;
    if (asg_group_load(call, asg_str(in, "AutoScalingGroupName"), &g, err) < 0)
        goto out;
    const cJSON *wanted = cJSON_GetObjectItemCaseSensitive(in, "ScalingProcesses");
    const cJSON *v;
    cJSON_ArrayForEach(v, wanted)
    {
        if (!cJSON_IsString(v) ||
            !in_names(process_names, ARRAY_SIZE(process_names), v->valuestring)) {
            /* [UNVERIFIED wording] */
            aws_err_set(err, AWS_E_VALIDATION_ERROR, "Process type %s is not valid.",
                        cJSON_IsString(v) ? v->valuestring : "");
            goto out;
        }
    }
    bool all = cJSON_GetArraySize(wanted) == 0;
    cJSON *cur = cJSON_Parse(g.suspended ? g.suspended : "[]");
    if (!cur)
        cur = cJSON_CreateArray();
    char t[32];
    asg_time_text(call->now_ms, t);
    cJSON *next = cJSON_CreateArray();
    /* Kept in the order of the known names, so answers are stable. */
    for (size_t i = 0; i < ARRAY_SIZE(process_names); i++) {
        const char *p = process_names[i];
        bool named = all;
        cJSON_ArrayForEach(v, wanted)
        {
            named = named || strcmp(v->valuestring, p) == 0;
        }
        const cJSON *existing = NULL, *e;
        cJSON_ArrayForEach(e, cur)
        {
            const char *pn = asg_str(e, "ProcessName");
            if (pn && strcmp(pn, p) == 0)
                existing = e;
        }
        if (strcmp(p, "RemoveFromLoadBalancerLowPriority") == 0 && all)
            named = false;
        if (existing && !(named && !suspend)) {
            cJSON_AddItemToArray(next, cJSON_Duplicate(existing, true));
        } else if (!existing && named && suspend) {
            cJSON *o = cJSON_CreateObject();
            char reason[64];
            /* [UNVERIFIED wording] (AWS-NOTES 3.6) */
            snprintf(reason, sizeof(reason), "User suspended at %s", t);
            cJSON_AddStringToObject(o, "ProcessName", p);
            cJSON_AddStringToObject(o, "SuspensionReason", reason);
            cJSON_AddItemToArray(next, o);
        }
    }
    cJSON_Delete(cur);
    free(g.suspended);
    g.suspended = json_text(next);
    cJSON_Delete(next);
    if (asg_store_put_group(call->app->db, &g) < 0) {
        asg_db_failed(err);
        goto out;
    }
    if (!suspend)
        asg_reconcile_kick(call->app);
    ret = 0;
out:
    asg_group_rec_release(&g);
    return ret;
}

int
autoscaling_suspend_processes(struct aws_call *call, const cJSON *in, cJSON *out,
                              struct aws_err *err)
{
    (void)out;
    return change_processes(call, in, true, err);
}

int
autoscaling_resume_processes(struct aws_call *call, const cJSON *in, cJSON *out,
                             struct aws_err *err)
{
    (void)out;
    return change_processes(call, in, false, err);
}

int
autoscaling_describe_scaling_process_types(struct aws_call *call, const cJSON *in, cJSON *out,
                                           struct aws_err *err)
{
    (void)call;
    (void)in;
    (void)err;
    cJSON *list = cJSON_AddArrayToObject(out, "Processes");
    for (size_t i = 0; i < ARRAY_SIZE(process_names); i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ProcessName", process_names[i]);
        cJSON_AddItemToArray(list, o);
    }
    return 0;
}

int
autoscaling_describe_termination_policy_types(struct aws_call *call, const cJSON *in, cJSON *out,
                                              struct aws_err *err)
{
    (void)call;
    (void)in;
    (void)err;
    cJSON *list = cJSON_AddArrayToObject(out, "TerminationPolicyTypes");
    for (size_t i = 0; i < ARRAY_SIZE(termination_policy_names); i++)
        cJSON_AddItemToArray(list, cJSON_CreateString(termination_policy_names[i]));
    return 0;
}

/* ---- asg.h: the group side ---- */

int
asg_group_get(struct aws_call *call, const char *name, struct asg_group_info *out)
{
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    int found = asg_store_get_group(call->app->db, call->region, name ? name : "", &g);
    if (found == 1) {
        memset(out, 0, sizeof(*out));
        snprintf(out->name, sizeof(out->name), "%s", g.name);
        snprintf(out->arn, sizeof(out->arn), "%s", g.arn);
        out->min_size = g.min_size;
        out->max_size = g.max_size;
        out->desired = g.desired;
        out->default_cooldown = g.default_cooldown;
        out->last_scaling_ms = g.last_scaling_ms;
        struct asg_inst_rec *insts;
        size_t n;
        if (asg_store_list_insts(call->app->db, g.region, g.name, &insts, &n) < 0) {
            found = -1;
        } else {
            /* A launch or termination still to come (the next pass makes it) is under way
               as far as cooldowns are concerned: on AWS its activity starts at once. */
            int capacity = 0;
            for (size_t i = 0; i < n; i++) {
                const char *s = insts[i].state;
                capacity += asg_state_counts(s);
                out->activity_in_progress =
                        out->activity_in_progress ||
                        (strcmp(s, LS_IN_SERVICE) != 0 && strcmp(s, LS_STANDBY) != 0);
            }
            out->activity_in_progress = out->activity_in_progress || capacity != g.desired;
            if (out->activity_in_progress)
                out->last_scaling_ms = call->now_ms;
            asg_inst_recs_free(insts, n);
        }
    }
    asg_group_rec_release(&g);
    return found;
}

bool
asg_process_suspended(struct aws_call *call, const char *group, const char *process)
{
    struct asg_group_rec g;
    asg_group_rec_init(&g);
    bool suspended =
            asg_store_get_group(call->app->db, call->region, group ? group : "", &g) == 1 &&
            asg_group_suspended(&g, process);
    asg_group_rec_release(&g);
    return suspended;
}
