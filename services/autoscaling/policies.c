/*
 * Auto Scaling scaling policies: PutScalingPolicy, ExecutePolicy, DescribePolicies,
 * DeletePolicy (simple and step scaling), plus DescribeAdjustmentTypes and
 * DescribeAccountLimits. A policy changes the group's capacity only through
 * asg_group_set_capacity (groups.c); the launches and terminations follow from the
 * reconciler. Target tracking and predictive scaling need CloudWatch metrics, which fogbank
 * does not have: they are refused, not faked.
 */
#include "emulator/common.h"
#include "services/autoscaling/asg.h"
#include "services/autoscaling/autoscaling.h"

#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/ids.h"
#include "state/autoscaling.h"
#include "state/autoscaling_policies.h"

#include <math.h>
#include <time.h>

/* Quotas (ASUG/ec2-auto-scaling-quotas, AWS-NOTES 3.1): 50 scaling policies per group, 500
   groups per region, 200 launch configurations per region. Step adjustments: at most 20 per
   policy (the AWS message is quoted in aws/aws-cdk#27020). */
#define POLICIES_MAX_PER_GROUP 50
#define GROUPS_MAX             500
#define LAUNCH_CONFIGS_MAX     200
#define STEPS_MAX              20

static int
db_failed(struct aws_err *err)
{
    return aws_err_set(err, AWS_E_INTERNAL_ERROR, "An internal error occurred.");
}

static const char *
str_member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* The group `name`: 1 found, or -1 with ValidationError (AWS-NOTES 3.7) / InternalError. */
static int
group_find(struct aws_call *call, const char *name, struct asg_group_info *info,
           struct aws_err *err)
{
    int found = asg_group_get(call, name, info);
    if (found < 0)
        return db_failed(err);
    if (found == 0)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "AutoScalingGroup name not found - AutoScalingGroup '%s' not found",
                           name);
    return 1;
}

/* "2026-11-28T06:00:00Z", as activity causes write times. */
static void
format_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- step adjustments ---- */

/* One step adjustment; a missing bound is -INFINITY / +INFINITY. */
struct step {
    double lower;   /* MetricIntervalLowerBound */
    double upper;   /* MetricIntervalUpperBound */
    int adjustment; /* ScalingAdjustment */
};

static int
step_cmp(const void *a, const void *b)
{
    const struct step *x = a, *y = b;
    return x->lower < y->lower ? -1 : x->lower > y->lower;
}

/*
 * Reads StepAdjustments into steps (at most STEPS_MAX), sorted by lower bound, validated by
 * the rules of the API reference (StepAdjustment): bounds not both null, at most one null
 * lower and one null upper bound, no overlap and no gap, a negative lower bound needs a
 * step with a null lower bound and a positive upper bound one with a null upper bound.
 * Returns the count, or -1 + err.
 */
static int
steps_read(const cJSON *list, struct step *steps, struct aws_err *err)
{
    int n = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, list)
    {
        if (n == STEPS_MAX)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "There can be at most %d step adjustments per scaling policy",
                               STEPS_MAX);
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(s, "MetricIntervalLowerBound");
        const cJSON *hi = cJSON_GetObjectItemCaseSensitive(s, "MetricIntervalUpperBound");
        const cJSON *adj = cJSON_GetObjectItemCaseSensitive(s, "ScalingAdjustment");
        /* Quoted for Application Auto Scaling in hashicorp/terraform-provider-aws#4812; EC2
           Auto Scaling has the same rule. */
        if (!cJSON_IsNumber(lo) && !cJSON_IsNumber(hi))
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Both lower and upper bounds of a step adjustment cannot be left "
                               "unspecified");
        steps[n].lower = cJSON_IsNumber(lo) ? lo->valuedouble : -INFINITY;
        steps[n].upper = cJSON_IsNumber(hi) ? hi->valuedouble : INFINITY;
        steps[n].adjustment = cJSON_IsNumber(adj) ? adj->valueint : 0;
        /* The wordings below, except where cited, are not confirmed against AWS. */
        if (steps[n].lower >= steps[n].upper)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "The lower bound of a step adjustment must be less than its upper "
                               "bound");
        n++;
    }
    qsort(steps, (size_t)n, sizeof(steps[0]), step_cmp);
    int null_lower = 0, null_upper = 0;
    for (int i = 0; i < n; i++) {
        null_lower += isinf(steps[i].lower);
        null_upper += isinf(steps[i].upper);
        if (i > 0 && steps[i - 1].upper != steps[i].lower)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Step adjustment intervals must not overlap or have gaps");
    }
    if (null_lower > 1 || null_upper > 1)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "At most one step adjustment can have an unspecified %s bound",
                           null_lower > 1 ? "lower" : "upper");
    /* Quoted in hashicorp/terraform-provider-aws#9077; the lower-bound one by symmetry. */
    if (n > 0 && !isinf(steps[n - 1].upper) && steps[n - 1].upper > 0)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "There must be a StepAdjustment with an unspecified upper bound (i.e., "
                           "upper bound is null) when one StepAdjustment has a positive upper "
                           "bound");
    if (n > 0 && !isinf(steps[0].lower) && steps[0].lower < 0)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "There must be a StepAdjustment with an unspecified lower bound (i.e., "
                           "lower bound is null) when one StepAdjustment has a negative lower "
                           "bound");
    return n;
}

/*
 * The step whose interval holds metric - threshold: above the threshold the lower bound is
 * inclusive and the upper exclusive, below it the other way round (API reference,
 * StepAdjustment). NULL when none does.
 */
static const struct step *
step_pick(const struct step *steps, int n, double metric, double threshold)
{
    double d = metric - threshold;
    for (int i = 0; i < n; i++) {
        bool in = d >= 0 ? d >= steps[i].lower && d < steps[i].upper
                         : d > steps[i].lower && d <= steps[i].upper;
        if (in)
            return &steps[i];
    }
    return NULL;
}

/* ---- the capacity a policy asks for ---- */

/*
 * The change PercentChangeInCapacity makes to `current`: the fraction rounded as the user
 * guide documents (ASUG/as-scaling-simple-step, "Scaling adjustment types"): above 1 down,
 * between 0 and 1 to 1, between -1 and 0 to -1, below -1 up; then raised to
 * MinAdjustmentMagnitude when smaller.
 */
static int
percent_change(int current, int percent, bool has_magnitude, int magnitude)
{
    double raw = (double)current * percent / 100.0;
    int delta;
    if (raw > 1)
        delta = (int)floor(raw);
    else if (raw > 0)
        delta = 1;
    else if (raw < -1)
        delta = (int)ceil(raw);
    else if (raw < 0)
        delta = -1;
    else
        delta = 0;
    if (has_magnitude && percent != 0 && abs(delta) < magnitude)
        delta = percent > 0 ? magnitude : -magnitude;
    return delta;
}

/* The desired capacity after `adjustment` of `type`, within the group's min..max. */
static int
capacity_after(const struct asg_group_info *g, const char *type, int adjustment,
               const struct asg_policy_row *p)
{
    long v;
    if (strcmp(type, "ExactCapacity") == 0)
        v = adjustment;
    else if (strcmp(type, "PercentChangeInCapacity") == 0)
        v = (long)g->desired +
            percent_change(g->desired, adjustment, p->has_min_magnitude, p->min_magnitude);
    else
        v = (long)g->desired + adjustment;
    if (v < g->min_size)
        v = g->min_size;
    if (v > g->max_size)
        v = g->max_size;
    return (int)v;
}

/* ---- PutScalingPolicy ---- */

static const char *const adjustment_types[] = { "ChangeInCapacity", "ExactCapacity",
                                                "PercentChangeInCapacity" };

static bool
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* Fills the policy's settings from PutScalingPolicy's input; -1 + err. */
static int
policy_from_input(const cJSON *in, struct asg_policy_row *p, struct aws_err *err)
{
    const char *type = str_member(in, "PolicyType");
    const char *adj_type = str_member(in, "AdjustmentType");
    const char *agg = str_member(in, "MetricAggregationType");
    const cJSON *adj = cJSON_GetObjectItemCaseSensitive(in, "ScalingAdjustment");
    const cJSON *mag = cJSON_GetObjectItemCaseSensitive(in, "MinAdjustmentMagnitude");
    const cJSON *step_old = cJSON_GetObjectItemCaseSensitive(in, "MinAdjustmentStep");
    const cJSON *cooldown = cJSON_GetObjectItemCaseSensitive(in, "Cooldown");
    const cJSON *warmup = cJSON_GetObjectItemCaseSensitive(in, "EstimatedInstanceWarmup");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(in, "StepAdjustments");
    const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(in, "Enabled");

    if (!type)
        type = "SimpleScaling";
    if (strcmp(type, "TargetTrackingScaling") == 0 || strcmp(type, "PredictiveScaling") == 0)
        return aws_err_set(err, AWS_E_NOT_IMPLEMENTED,
                           "fogbank does not implement %s policies: they follow CloudWatch "
                           "metrics, which fogbank does not have",
                           type);
    /* The wordings of this function are not confirmed against AWS unless cited. */
    if (strcmp(type, "SimpleScaling") != 0 && strcmp(type, "StepScaling") != 0)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "Invalid policy type %s. Valid values are SimpleScaling, StepScaling, "
                           "TargetTrackingScaling and PredictiveScaling",
                           type);
    bool simple = strcmp(type, "SimpleScaling") == 0;
    if (!adj_type)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "Adjustment type must be specified for a %s policy", type);
    if (!in_list(adj_type, adjustment_types, ARRAY_SIZE(adjustment_types)))
        return aws_err_set(err, AWS_E_VALIDATION_ERROR, "Invalid adjustment type %s", adj_type);
    /* MinAdjustmentStep is the deprecated name of MinAdjustmentMagnitude. */
    if (!cJSON_IsNumber(mag))
        mag = step_old;
    if (cJSON_IsNumber(mag) && strcmp(adj_type, "PercentChangeInCapacity") != 0)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "MinAdjustmentMagnitude is only supported for the "
                           "PercentChangeInCapacity adjustment type");
    if (cJSON_IsNumber(mag) && mag->valueint < 1)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "MinAdjustmentMagnitude must be greater than or equal to 1");
    if (simple) {
        /* Quoted in Netflix/asgard#704. */
        if (!cJSON_IsNumber(adj))
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Scaling increment must be specified for a SimpleScaling policy");
        if (steps)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "StepAdjustments are not supported for policy type "
                               "SimpleScaling");
        if (agg || cJSON_IsNumber(warmup))
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "%s is not supported for policy type SimpleScaling",
                               agg ? "MetricAggregationType" : "EstimatedInstanceWarmup");
    } else {
        if (cJSON_IsNumber(adj))
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "ScalingAdjustment is not supported for policy type StepScaling");
        if (cJSON_IsNumber(cooldown))
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Cooldown is not supported for policy type StepScaling");
        if (cJSON_GetArraySize(steps) == 0)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Step adjustments must be specified for a StepScaling policy");
        if (agg && strcmp(agg, "Average") != 0 && strcmp(agg, "Minimum") != 0 &&
            strcmp(agg, "Maximum") != 0)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Invalid metric aggregation type %s. Valid values are Minimum, "
                               "Maximum and Average",
                               agg);
        struct step parsed[STEPS_MAX];
        if (steps_read(steps, parsed, err) < 0)
            return -1;
    }
    const cJSON *num = simple ? adj : NULL;
    if (num && strcmp(adj_type, "ExactCapacity") == 0 && num->valueint < 0)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "ScalingAdjustment must be non-negative for the ExactCapacity "
                           "adjustment type");
    if (cJSON_IsNumber(cooldown) && cooldown->valueint < 0)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR, "Cooldown must not be negative");

    snprintf(p->policy_type, sizeof(p->policy_type), "%s", type);
    snprintf(p->adjustment_type, sizeof(p->adjustment_type), "%s", adj_type);
    p->has_min_magnitude = cJSON_IsNumber(mag);
    p->min_magnitude = p->has_min_magnitude ? mag->valueint : 0;
    p->has_scaling_adjustment = simple;
    p->scaling_adjustment = simple ? adj->valueint : 0;
    p->has_cooldown = cJSON_IsNumber(cooldown);
    p->cooldown = p->has_cooldown ? cooldown->valueint : 0;
    snprintf(p->metric_aggregation_type, sizeof(p->metric_aggregation_type), "%s",
             simple ? ""
             : agg  ? agg
                    : "Average");
    p->has_warmup = cJSON_IsNumber(warmup);
    p->warmup = p->has_warmup ? warmup->valueint : 0;
    p->steps[0] = '\0';
    if (!simple) {
        char *text = cJSON_PrintUnformatted(steps);
        if (strlen(text) >= sizeof(p->steps)) {
            free(text);
            return aws_err_set(err, AWS_E_VALIDATION_ERROR, "StepAdjustments is too long");
        }
        snprintf(p->steps, sizeof(p->steps), "%s", text);
        free(text);
    }
    p->enabled = !cJSON_IsFalse(enabled);
    return 0;
}

int
autoscaling_put_scaling_policy(struct aws_call *call, const cJSON *in, cJSON *out,
                               struct aws_err *err)
{
    const char *group = str_member(in, "AutoScalingGroupName");
    const char *name = str_member(in, "PolicyName");
    struct asg_group_info g;
    if (!group || !name || group_find(call, group, &g, err) < 0)
        return group && name ? -1
                             : aws_err_set(err, AWS_E_VALIDATION_ERROR,
                                           "AutoScalingGroupName and PolicyName are required");
    struct db *db = call->app->db;
    struct asg_policy_row *p = xcalloc(1, sizeof(*p));
    int rc = -1;
    int found = asg_store_policy_get(db, call->region, group, name, p);
    if (found < 0) {
        db_failed(err);
        goto done;
    }
    if (!found) {
        int n = asg_store_policy_count(db, call->region, group);
        if (n < 0) {
            db_failed(err);
            goto done;
        }
        /* Wording not confirmed against AWS. */
        if (n >= POLICIES_MAX_PER_GROUP) {
            aws_err_setx(err, 400, "LimitExceeded", true,
                         "Maximum number of scaling policies (%d) for AutoScalingGroup '%s' "
                         "has been reached",
                         POLICIES_MAX_PER_GROUP, group);
            goto done;
        }
        /* arn:aws:autoscaling:<region>:<account>:scalingPolicy:<uuid>:autoScalingGroupName/
           <group>:policyName/<name>, the form DescribePolicies shows. Kept on update. */
        char uuid[37];
        ids_uuid(call->app->ids, uuid);
        snprintf(p->arn, sizeof(p->arn),
                 "arn:aws:autoscaling:%s:%s:scalingPolicy:%s:autoScalingGroupName/%s:"
                 "policyName/%s",
                 call->region, call->account_id, uuid, group, name);
        p->created_ms = call->now_ms;
    }
    snprintf(p->region, sizeof(p->region), "%s", call->region);
    snprintf(p->group, sizeof(p->group), "%s", group);
    snprintf(p->name, sizeof(p->name), "%s", name);
    if (policy_from_input(in, p, err) < 0)
        goto done;
    if (asg_store_policy_put(db, p) < 0) {
        db_failed(err);
        goto done;
    }
    cJSON_AddStringToObject(out, "PolicyARN", p->arn);
    cJSON_AddArrayToObject(out, "Alarms");
    rc = 0;
done:
    free(p);
    return rc;
}

/*
 * The policy that PolicyName (a name or an ARN) and AutoScalingGroupName name: 0, or -1
 * with ValidationError when there is none (wording not confirmed against AWS).
 */
static int
policy_find(struct aws_call *call, const cJSON *in, struct asg_policy_row *p, struct aws_err *err)
{
    const char *group = str_member(in, "AutoScalingGroupName");
    const char *name = str_member(in, "PolicyName");
    struct db *db = call->app->db;
    int found;
    if (!name)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR, "PolicyName must be specified");
    if (str_starts(name, "arn:")) {
        found = asg_store_policy_get_by_arn(db, call->region, name, p);
        if (found > 0 && group && strcmp(group, p->group) != 0)
            found = 0;
    } else {
        struct asg_group_info g;
        if (!group)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "AutoScalingGroupName must be specified when PolicyName is not "
                               "an ARN");
        if (group_find(call, group, &g, err) < 0)
            return -1;
        found = asg_store_policy_get(db, call->region, group, name, p);
    }
    if (found < 0)
        return db_failed(err);
    if (!found)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR, "No scaling policy found named '%s'", name);
    return 0;
}

/* ---- ExecutePolicy ---- */

/* Whether a simple scaling policy must wait: an activity is under way, or the cooldown (the
   policy's, else the group's DefaultCooldown) has not elapsed since the last one
   (ASUG/Cooldown). */
static bool
in_cooldown(const struct asg_group_info *g, const struct asg_policy_row *p, int64_t now_ms)
{
    if (g->activity_in_progress)
        return true;
    int64_t cooldown_ms = (int64_t)(p->has_cooldown ? p->cooldown : g->default_cooldown) * 1000;
    return g->last_scaling_ms > 0 && now_ms < g->last_scaling_ms + cooldown_ms;
}

int
autoscaling_execute_policy(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)out;
    struct asg_policy_row *p = xmalloc(sizeof(*p));
    struct asg_group_info g;
    int rc = -1;
    if (policy_find(call, in, p, err) < 0 || group_find(call, p->group, &g, err) < 0)
        goto done;
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(in, "MetricValue");
    const cJSON *threshold = cJSON_GetObjectItemCaseSensitive(in, "BreachThreshold");
    int adjustment;
    /* API reference, ExecutePolicy: MetricValue and BreachThreshold are "required if the
       policy type is StepScaling and not supported otherwise"; HonorCooldown is "valid only
       if the policy type is SimpleScaling". Wordings not confirmed against AWS. */
    if (strcmp(p->policy_type, "StepScaling") == 0) {
        if (!cJSON_IsNumber(metric) || !cJSON_IsNumber(threshold)) {
            aws_err_set(err, AWS_E_VALIDATION_ERROR,
                        "MetricValue and BreachThreshold are required for a StepScaling "
                        "policy");
            goto done;
        }
        struct step steps[STEPS_MAX];
        cJSON *list = cJSON_Parse(p->steps);
        int n = steps_read(list, steps, err);
        cJSON_Delete(list);
        if (n < 0)
            goto done;
        const struct step *s = step_pick(steps, n, metric->valuedouble, threshold->valuedouble);
        /* "If you specify a metric value that doesn't correspond to a step adjustment for
           the policy, the call returns an error." (API reference, ExecutePolicy) */
        if (!s) {
            aws_err_set(err, AWS_E_VALIDATION_ERROR,
                        "The metric value %g does not correspond to any step adjustment of "
                        "policy '%s' for the breach threshold %g",
                        metric->valuedouble, p->name, threshold->valuedouble);
            goto done;
        }
        adjustment = s->adjustment;
    } else {
        if (cJSON_IsNumber(metric) || cJSON_IsNumber(threshold)) {
            aws_err_set(err, AWS_E_VALIDATION_ERROR,
                        "MetricValue and BreachThreshold are not supported for policy type "
                        "%s",
                        p->policy_type);
            goto done;
        }
        /* The fault's documented description (API reference, ExecutePolicy errors). */
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "HonorCooldown")) &&
            in_cooldown(&g, p, call->now_ms)) {
            aws_err_setx(err, 400, "ScalingActivityInProgress", true,
                         "The operation can't be performed because there are scaling "
                         "activities in progress.");
            goto done;
        }
        adjustment = p->scaling_adjustment;
    }
    int desired = capacity_after(&g, p->adjustment_type, adjustment, p);
    if (desired == g.desired) {
        rc = 0;
        goto done;
    }
    char at[32];
    format_time(call->now_ms, at);
    struct buf cause = BUF_INIT;
    buf_addf(&cause,
             "At %s a user request executed policy %s changing the desired capacity from %d to "
             "%d.",
             at, p->name, g.desired, desired);
    rc = asg_group_set_capacity(call, g.name, -1, -1, desired, cause.data, err);
    buf_release(&cause);
done:
    free(p);
    return rc;
}

/* ---- DescribePolicies, DeletePolicy ---- */

/* The ScalingPolicy shape of a row. */
static cJSON *
policy_json(const struct asg_policy_row *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "AutoScalingGroupName", p->group);
    cJSON_AddStringToObject(o, "PolicyName", p->name);
    cJSON_AddStringToObject(o, "PolicyARN", p->arn);
    cJSON_AddStringToObject(o, "PolicyType", p->policy_type);
    cJSON_AddStringToObject(o, "AdjustmentType", p->adjustment_type);
    if (p->has_min_magnitude) {
        /* AWS echoes the deprecated MinAdjustmentStep beside MinAdjustmentMagnitude. */
        cJSON_AddNumberToObject(o, "MinAdjustmentStep", p->min_magnitude);
        cJSON_AddNumberToObject(o, "MinAdjustmentMagnitude", p->min_magnitude);
    }
    if (p->has_scaling_adjustment)
        cJSON_AddNumberToObject(o, "ScalingAdjustment", p->scaling_adjustment);
    if (p->has_cooldown)
        cJSON_AddNumberToObject(o, "Cooldown", p->cooldown);
    if (p->steps[0]) {
        cJSON *steps = cJSON_Parse(p->steps);
        cJSON_AddItemToObject(o, "StepAdjustments", steps ? steps : cJSON_CreateArray());
    }
    if (p->metric_aggregation_type[0])
        cJSON_AddStringToObject(o, "MetricAggregationType", p->metric_aggregation_type);
    if (p->has_warmup)
        cJSON_AddNumberToObject(o, "EstimatedInstanceWarmup", p->warmup);
    cJSON_AddArrayToObject(o, "Alarms");
    cJSON_AddBoolToObject(o, "Enabled", p->enabled);
    return o;
}

/* The state of one DescribePolicies listing. */
struct policy_listing {
    const cJSON *names; /* PolicyNames (names or ARNs), or NULL */
    const cJSON *types; /* PolicyTypes, or NULL */
    cJSON *all;         /* the matching ScalingPolicy objects */
};

static bool
list_has(const cJSON *list, const char *a, const char *b)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, list)
    {
        if (cJSON_IsString(v) &&
            (strcmp(v->valuestring, a) == 0 || (b && strcmp(v->valuestring, b) == 0)))
            return true;
    }
    return false;
}

static int
list_policy(void *arg, const struct asg_policy_row *p)
{
    struct policy_listing *l = arg;
    if (cJSON_GetArraySize(l->names) > 0 && !list_has(l->names, p->name, p->arn))
        return 0;
    if (cJSON_GetArraySize(l->types) > 0 && !list_has(l->types, p->policy_type, NULL))
        return 0;
    cJSON_AddItemToArray(l->all, policy_json(p));
    return 0;
}

int
autoscaling_describe_policies(struct aws_call *call, const cJSON *in, cJSON *out,
                              struct aws_err *err)
{
    const char *group = str_member(in, "AutoScalingGroupName");
    struct asg_group_info g;
    /* An unknown group is an error ("ValidationError: Group <name> not found" for
       DescribePolicies, quoted in hashicorp/terraform#8430). */
    if (group) {
        int found = asg_group_get(call, group, &g);
        if (found < 0)
            return db_failed(err);
        if (found == 0)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR, "Group %s not found", group);
    }
    struct policy_listing l = { cJSON_GetObjectItemCaseSensitive(in, "PolicyNames"),
                                cJSON_GetObjectItemCaseSensitive(in, "PolicyTypes"),
                                cJSON_CreateArray() };
    if (asg_store_policy_each(call->app->db, call->region, group, list_policy, &l) < 0) {
        cJSON_Delete(l.all);
        return db_failed(err);
    }
    /* MaxRecords: default 50, at most 100 (API reference, DescribePolicies). */
    return asg_page(l.all, in, out, "ScalingPolicies", 50, 100, err);
}

int
autoscaling_delete_policy(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)out;
    struct asg_policy_row *p = xmalloc(sizeof(*p));
    int rc = policy_find(call, in, p, err);
    if (rc == 0 && asg_store_policy_delete(call->app->db, call->region, p->group, p->name) < 0)
        rc = db_failed(err);
    free(p);
    return rc;
}

int
asg_policies_drop_group(struct aws_call *call, const char *group)
{
    return asg_store_policy_drop_group(call->app->db, call->region, group);
}

/* ---- account facts ---- */

int
autoscaling_describe_adjustment_types(struct aws_call *call, const cJSON *in, cJSON *out,
                                      struct aws_err *err)
{
    (void)call;
    (void)in;
    (void)err;
    cJSON *list = cJSON_AddArrayToObject(out, "AdjustmentTypes");
    for (size_t i = 0; i < ARRAY_SIZE(adjustment_types); i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "AdjustmentType", adjustment_types[i]);
        cJSON_AddItemToArray(list, t);
    }
    return 0;
}

int
autoscaling_describe_account_limits(struct aws_call *call, const cJSON *in, cJSON *out,
                                    struct aws_err *err)
{
    (void)in;
    int groups = 0, configs = 0;
    if (asg_store_count_groups(call->app->db, call->region, &groups) < 0 ||
        asg_store_count_lcs(call->app->db, call->region, &configs) < 0)
        return db_failed(err);
    cJSON_AddNumberToObject(out, "MaxNumberOfAutoScalingGroups", GROUPS_MAX);
    cJSON_AddNumberToObject(out, "MaxNumberOfLaunchConfigurations", LAUNCH_CONFIGS_MAX);
    cJSON_AddNumberToObject(out, "NumberOfAutoScalingGroups", groups);
    cJSON_AddNumberToObject(out, "NumberOfLaunchConfigurations", configs);
    return 0;
}
