/*
 * Auto Scaling scheduled actions: PutScheduledUpdateGroupAction, DescribeScheduledActions,
 * DeleteScheduledAction and their batch forms, and the virtual-clock timer that runs each
 * action when it falls due (one timer, armed for the earliest next run of every region).
 * An action changes the group only through asg_group_set_capacity (groups.c). Recurrence is
 * a 5-field cron expression (cron.c) in UTC; other time zones are refused, not guessed.
 */
#include "emulator/common.h"
#include "services/autoscaling/asg.h"
#include "services/autoscaling/autoscaling.h"
#include "services/autoscaling/cron.h"

#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/clock.h"
#include "emulator/ids.h"
#include "emulator/log.h"
#include "state/autoscaling_policies.h"
#include "state/db.h"

#include <time.h>

/* "Scheduled actions per Auto Scaling group: 125" (ASUG/ec2-auto-scaling-quotas). */
#define SCHEDULED_MAX_PER_GROUP 125

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

/* The group `name`: 0, or -1 with ValidationError (AWS-NOTES 3.7) / InternalError. */
static int
group_check(struct aws_call *call, const char *name, struct asg_group_info *info,
            struct aws_err *err)
{
    int found = asg_group_get(call, name, info);
    if (found < 0)
        return db_failed(err);
    if (found == 0)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "AutoScalingGroup name not found - AutoScalingGroup '%s' not found",
                           name);
    return 0;
}

/* The zone names that mean UTC; IANA zones with offsets are not implemented. */
static bool
time_zone_is_utc(const char *tz)
{
    static const char *const utc[] = { "UTC",  "Etc/UTC", "GMT",       "Etc/GMT",
                                       "UCT",  "Etc/UCT", "Universal", "Etc/Universal",
                                       "Zulu", "Etc/Zulu" };
    for (size_t i = 0; i < ARRAY_SIZE(utc); i++)
        if (strcmp(tz, utc[i]) == 0)
            return true;
    return false;
}

/*
 * The next run of an action at or after `from_ms` (its StartTime for a one-time action; the
 * first cron match not before both from_ms and StartTime for a recurring one), or
 * ASG_STORE_NONE when it has none left (past its EndTime).
 */
static int64_t
next_run(const struct asg_sched_row *s, int64_t from_ms)
{
    if (!s->recurrence[0])
        return s->start_ms != ASG_STORE_NONE && s->start_ms >= from_ms ? s->start_ms
                                                                       : ASG_STORE_NONE;
    struct cron_expr c;
    if (cron_parse(s->recurrence, &c) < 0)
        return ASG_STORE_NONE;
    int64_t after = from_ms - 1;
    if (s->start_ms != ASG_STORE_NONE && s->start_ms - 1 > after)
        after = s->start_ms - 1;
    int64_t next = cron_next(&c, after);
    if (next < 0 || (s->end_ms != ASG_STORE_NONE && next > s->end_ms))
        return ASG_STORE_NONE;
    return next;
}

/* Reads an optional size member into *v (ASG_STORE_NONE when absent, kept when `keep`). */
static void
size_member(const cJSON *in, const char *name, int *v, bool keep)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(in, name);
    if (cJSON_IsNumber(n))
        *v = n->valueint;
    else if (!keep)
        *v = ASG_STORE_NONE;
}

/*
 * Creates or updates one action of `group` from a PutScheduledUpdateGroupAction input (or
 * one ScheduledUpdateGroupActionRequest of the batch form): everything is validated before
 * anything is written. A parameter left out of an update keeps its value (API reference,
 * PutScheduledUpdateGroupAction). -1 + err.
 */
static int
put_one(struct aws_call *call, const char *group, const cJSON *in, struct aws_err *err)
{
    const char *name = str_member(in, "ScheduledActionName");
    if (!name)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR, "ScheduledActionName must be specified");
    struct db *db = call->app->db;
    struct asg_sched_row *s = xcalloc(1, sizeof(*s));
    int rc = -1;
    int found = asg_store_sched_get(db, call->region, group, name, s);
    if (found < 0) {
        db_failed(err);
        goto done;
    }
    if (!found) {
        int n = asg_store_sched_count(db, call->region, group);
        if (n < 0) {
            db_failed(err);
            goto done;
        }
        /* Wording not confirmed against AWS. */
        if (n >= SCHEDULED_MAX_PER_GROUP) {
            aws_err_setx(err, 400, "LimitExceeded", true,
                         "Maximum number of scheduled actions (%d) for AutoScalingGroup '%s' "
                         "has been reached",
                         SCHEDULED_MAX_PER_GROUP, group);
            goto done;
        }
        snprintf(s->region, sizeof(s->region), "%s", call->region);
        snprintf(s->group, sizeof(s->group), "%s", group);
        snprintf(s->name, sizeof(s->name), "%s", name);
        char uuid[37];
        ids_uuid(call->app->ids, uuid);
        snprintf(s->arn, sizeof(s->arn),
                 "arn:aws:autoscaling:%s:%s:scheduledUpdateGroupAction:%s:"
                 "autoScalingGroupName/%s:scheduledActionName/%s",
                 call->region, call->account_id, uuid, group, name);
        s->start_ms = s->end_ms = ASG_STORE_NONE;
        s->min_size = s->max_size = s->desired = ASG_STORE_NONE;
        s->created_ms = call->now_ms;
    }
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(in, "StartTime");
    const cJSON *end = cJSON_GetObjectItemCaseSensitive(in, "EndTime");
    const char *recurrence = str_member(in, "Recurrence");
    const char *tz = str_member(in, "TimeZone");
    /* Time is the deprecated name of StartTime. */
    if (!cJSON_IsNumber(start))
        start = cJSON_GetObjectItemCaseSensitive(in, "Time");
    size_member(in, "MinSize", &s->min_size, found);
    size_member(in, "MaxSize", &s->max_size, found);
    size_member(in, "DesiredCapacity", &s->desired, found);
    if (cJSON_IsNumber(start))
        s->start_ms = (int64_t)start->valuedouble;
    if (cJSON_IsNumber(end))
        s->end_ms = (int64_t)end->valuedouble;
    if (recurrence)
        snprintf(s->recurrence, sizeof(s->recurrence), "%s", recurrence);
    if (tz)
        snprintf(s->time_zone, sizeof(s->time_zone), "%s", tz);

    /* Quoted in hashicorp/terraform-provider-aws#3033; the other wordings here are not
       confirmed against AWS. */
    if (cJSON_IsNumber(start) && s->start_ms < call->now_ms) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR, "Given start time is in the past");
        goto done;
    }
    if (cJSON_IsNumber(end) && s->end_ms < call->now_ms) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR, "Given end time is in the past");
        goto done;
    }
    if (s->start_ms != ASG_STORE_NONE && s->end_ms != ASG_STORE_NONE && s->end_ms <= s->start_ms) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR, "Start time must be before end time");
        goto done;
    }
    if (s->min_size == ASG_STORE_NONE && s->max_size == ASG_STORE_NONE &&
        s->desired == ASG_STORE_NONE) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR,
                    "At least one of MinSize, MaxSize or DesiredCapacity must be specified");
        goto done;
    }
    if ((s->min_size != ASG_STORE_NONE && s->min_size < 0) ||
        (s->max_size != ASG_STORE_NONE && s->max_size < 0) ||
        (s->desired != ASG_STORE_NONE && s->desired < 0)) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR, "Sizes must not be negative");
        goto done;
    }
    if (s->min_size != ASG_STORE_NONE && s->max_size != ASG_STORE_NONE &&
        s->min_size > s->max_size) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR,
                    "The MinSize (%d) must be less than or equal to the MaxSize (%d)", s->min_size,
                    s->max_size);
        goto done;
    }
    struct cron_expr c;
    if (s->recurrence[0] && cron_parse(s->recurrence, &c) < 0) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR, "Given recurrence string is invalid: %s",
                    s->recurrence);
        goto done;
    }
    if (!s->recurrence[0] && s->start_ms == ASG_STORE_NONE) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR,
                    "Either a start time or a recurrence must be specified");
        goto done;
    }
    if (s->time_zone[0] && !time_zone_is_utc(s->time_zone)) {
        aws_err_set(err, AWS_E_NOT_IMPLEMENTED,
                    "fogbank runs scheduled actions in UTC only; time zone %s is not implemented",
                    s->time_zone);
        goto done;
    }
    s->next_ms = next_run(s, call->now_ms);
    if (asg_store_sched_put(db, s) < 0) {
        db_failed(err);
        goto done;
    }
    rc = 0;
done:
    free(s);
    return rc;
}

/* ---- handlers ---- */

int
autoscaling_put_scheduled_update_group_action(struct aws_call *call, const cJSON *in, cJSON *out,
                                              struct aws_err *err)
{
    (void)out;
    const char *group = str_member(in, "AutoScalingGroupName");
    struct asg_group_info g;
    if (!group)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR, "AutoScalingGroupName must be specified");
    if (group_check(call, group, &g, err) < 0 || put_one(call, group, in, err) < 0)
        return -1;
    asg_scheduled_rearm(call->app);
    return 0;
}

/* Adds {ScheduledActionName, ErrorCode, ErrorMessage} to a batch answer's failure list. */
static void
add_failure(cJSON *list, const char *name, const struct aws_err *err)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "ScheduledActionName", name ? name : "");
    cJSON_AddStringToObject(f, "ErrorCode", err->code);
    cJSON_AddStringToObject(f, "ErrorMessage", err->message);
    cJSON_AddItemToArray(list, f);
}

int
autoscaling_batch_put_scheduled_update_group_action(struct aws_call *call, const cJSON *in,
                                                    cJSON *out, struct aws_err *err)
{
    const char *group = str_member(in, "AutoScalingGroupName");
    struct asg_group_info g;
    if (!group)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR, "AutoScalingGroupName must be specified");
    if (group_check(call, group, &g, err) < 0)
        return -1;
    cJSON *failed = cJSON_AddArrayToObject(out, "FailedScheduledUpdateGroupActions");
    const cJSON *r;
    /* Each request stands alone: one that fails is reported and writes nothing. */
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(in, "ScheduledUpdateGroupActions"))
    {
        struct aws_err one;
        aws_err_clear(&one);
        if (put_one(call, group, r, &one) < 0) {
            if (one.status >= 500 && strcmp(one.code, "NotImplemented") != 0) {
                *err = one;
                return -1;
            }
            add_failure(failed, str_member(r, "ScheduledActionName"), &one);
        }
    }
    asg_scheduled_rearm(call->app);
    return 0;
}

/* Deletes one action; -1 + ValidationError when there is none (wording not confirmed). */
static int
delete_one(struct aws_call *call, const char *group, const char *name, struct aws_err *err)
{
    struct asg_sched_row *s = xmalloc(sizeof(*s));
    int found = asg_store_sched_get(call->app->db, call->region, group, name, s);
    free(s);
    if (found < 0)
        return db_failed(err);
    if (found == 0)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "Scheduled action '%s' not found for AutoScalingGroup '%s'", name,
                           group);
    if (asg_store_sched_delete(call->app->db, call->region, group, name) < 0)
        return db_failed(err);
    return 0;
}

int
autoscaling_delete_scheduled_action(struct aws_call *call, const cJSON *in, cJSON *out,
                                    struct aws_err *err)
{
    (void)out;
    const char *group = str_member(in, "AutoScalingGroupName");
    const char *name = str_member(in, "ScheduledActionName");
    struct asg_group_info g;
    if (!group || !name)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "AutoScalingGroupName and ScheduledActionName must be specified");
    if (group_check(call, group, &g, err) < 0 || delete_one(call, group, name, err) < 0)
        return -1;
    asg_scheduled_rearm(call->app);
    return 0;
}

int
autoscaling_batch_delete_scheduled_action(struct aws_call *call, const cJSON *in, cJSON *out,
                                          struct aws_err *err)
{
    const char *group = str_member(in, "AutoScalingGroupName");
    struct asg_group_info g;
    if (!group)
        return aws_err_set(err, AWS_E_VALIDATION_ERROR, "AutoScalingGroupName must be specified");
    if (group_check(call, group, &g, err) < 0)
        return -1;
    cJSON *failed = cJSON_AddArrayToObject(out, "FailedScheduledActions");
    const cJSON *n;
    cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(in, "ScheduledActionNames"))
    {
        if (!cJSON_IsString(n))
            continue;
        struct aws_err one;
        aws_err_clear(&one);
        if (delete_one(call, group, n->valuestring, &one) < 0) {
            if (one.status >= 500) {
                *err = one;
                return -1;
            }
            add_failure(failed, n->valuestring, &one);
        }
    }
    asg_scheduled_rearm(call->app);
    return 0;
}

/* The ScheduledUpdateGroupAction shape of a row. */
static cJSON *
sched_json(const struct asg_sched_row *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "AutoScalingGroupName", s->group);
    cJSON_AddStringToObject(o, "ScheduledActionName", s->name);
    cJSON_AddStringToObject(o, "ScheduledActionARN", s->arn);
    /* A recurring action shows its next run as its StartTime (and Time). */
    int64_t start = s->recurrence[0] && s->next_ms != ASG_STORE_NONE ? s->next_ms : s->start_ms;
    if (start != ASG_STORE_NONE) {
        cJSON_AddNumberToObject(o, "Time", (double)start);
        cJSON_AddNumberToObject(o, "StartTime", (double)start);
    }
    if (s->end_ms != ASG_STORE_NONE)
        cJSON_AddNumberToObject(o, "EndTime", (double)s->end_ms);
    if (s->recurrence[0])
        cJSON_AddStringToObject(o, "Recurrence", s->recurrence);
    if (s->min_size != ASG_STORE_NONE)
        cJSON_AddNumberToObject(o, "MinSize", s->min_size);
    if (s->max_size != ASG_STORE_NONE)
        cJSON_AddNumberToObject(o, "MaxSize", s->max_size);
    if (s->desired != ASG_STORE_NONE)
        cJSON_AddNumberToObject(o, "DesiredCapacity", s->desired);
    if (s->time_zone[0])
        cJSON_AddStringToObject(o, "TimeZone", s->time_zone);
    return o;
}

/* The state of one DescribeScheduledActions listing. */
struct sched_listing {
    const cJSON *names; /* ScheduledActionNames, or NULL */
    int64_t from_ms;    /* StartTime filter, or ASG_STORE_NONE */
    int64_t to_ms;      /* EndTime filter, or ASG_STORE_NONE */
    cJSON *all;         /* the matching actions */
};

static int
list_sched(void *arg, const struct asg_sched_row *s)
{
    struct sched_listing *l = arg;
    if (cJSON_GetArraySize(l->names) > 0) {
        bool hit = false;
        const cJSON *n;
        cJSON_ArrayForEach(n, l->names)
        {
            hit = hit || (cJSON_IsString(n) && strcmp(n->valuestring, s->name) == 0);
        }
        if (!hit)
            return 0;
    }
    /* StartTime / EndTime keep the actions whose next run falls in that window (API
       reference, DescribeScheduledActions). */
    int64_t when = s->next_ms != ASG_STORE_NONE ? s->next_ms : s->start_ms;
    if (l->from_ms != ASG_STORE_NONE && (when == ASG_STORE_NONE || when < l->from_ms))
        return 0;
    if (l->to_ms != ASG_STORE_NONE && (when == ASG_STORE_NONE || when > l->to_ms))
        return 0;
    cJSON_AddItemToArray(l->all, sched_json(s));
    return 0;
}

int
autoscaling_describe_scheduled_actions(struct aws_call *call, const cJSON *in, cJSON *out,
                                       struct aws_err *err)
{
    const char *group = str_member(in, "AutoScalingGroupName");
    struct asg_group_info g;
    if (group && group_check(call, group, &g, err) < 0)
        return -1;
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(in, "StartTime");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(in, "EndTime");
    struct sched_listing l = {
        cJSON_GetObjectItemCaseSensitive(in, "ScheduledActionNames"),
        cJSON_IsNumber(from) ? (int64_t)from->valuedouble : ASG_STORE_NONE,
        cJSON_IsNumber(to) ? (int64_t)to->valuedouble : ASG_STORE_NONE,
        cJSON_CreateArray(),
    };
    if (asg_store_sched_each(call->app->db, call->region, group, list_sched, &l) < 0) {
        cJSON_Delete(l.all);
        return db_failed(err);
    }
    /* MaxRecords: default 50, at most 100 (API reference, DescribeScheduledActions). */
    return asg_page(l.all, in, out, "ScheduledUpdateGroupActions", 50, 100, err);
}

int
asg_scheduled_drop_group(struct aws_call *call, const char *group)
{
    return asg_store_sched_drop_group(call->app->db, call->region, group);
}

/* ---- running actions on the virtual clock ---- */

/* One fogbank runs one app; unit tests make a new one per test, which re-binds this. */
static struct {
    struct app *app; /* the app the timer works for */
    uint64_t timer;  /* the pending vclock timer; 0 when none */
} rt;

static int64_t sched_fire(void *arg, int64_t now_ms);

static void
runtime_attach(struct app *app)
{
    if (rt.app != app) {
        rt.app = app;
        rt.timer = 0; /* it belonged to another app's clock */
    }
}

/* Cancels the pending timer and arms one for the earliest next run, if any. */
static void
arm(struct app *app)
{
    runtime_attach(app);
    if (rt.timer)
        vclock_timer_cancel(app->clock, rt.timer);
    rt.timer = 0;
    int64_t next;
    int found = asg_store_sched_next_due(app->db, &next);
    if (found <= 0)
        return;
    int64_t delay = next - vclock_now(app->clock);
    rt.timer = vclock_timer_add(app->clock, delay > 0 ? delay : 0, sched_fire, app);
}

void
asg_scheduled_rearm(struct app *app)
{
    arm(app);
}

void
asg_scheduled_start(struct app *app)
{
    arm(app);
}

void
asg_scheduled_stop(struct app *app)
{
    runtime_attach(app);
    if (rt.timer && app->clock)
        vclock_timer_cancel(app->clock, rt.timer);
    rt.timer = 0;
}

/* The due actions of one pass, copied out before any of them runs. */
struct due_list {
    struct asg_sched_row *rows; /* the actions */
    size_t n, alloc;            /* used and allocated rows */
};

static int
collect_due(void *arg, const struct asg_sched_row *row)
{
    struct due_list *d = arg;
    if (d->n == d->alloc) {
        d->alloc = d->alloc ? 2 * d->alloc : 8;
        d->rows = xrealloc(d->rows, d->alloc * sizeof(d->rows[0]));
    }
    d->rows[d->n++] = *row;
    return 0;
}

/* A call context for the timer's work in one region. */
static void
internal_call(struct app *app, const char *region, int64_t now_ms, struct aws_call *call)
{
    memset(call, 0, sizeof(*call));
    call->app = app;
    call->service = "autoscaling";
    call->op = "fogbank-scheduled-action";
    call->region = region;
    call->account_id = app->cfg.account_id ? app->cfg.account_id : "123456789012";
    call->request_id = "";
    call->now_ms = now_ms;
}

/*
 * Runs one due action inside the open transaction: the group's new min/max/desired, with
 * AWS's activity cause. Skipped (and not run later) while ScheduledActions is suspended
 * (ASUG/as-suspend-resume-processes). -1 + err when the group refuses the sizes.
 */
static int
run_action(struct aws_call *call, const struct asg_sched_row *s, struct aws_err *err)
{
    struct asg_group_info g;
    int found = asg_group_get(call, s->group, &g);
    if (found <= 0)
        return found < 0 ? db_failed(err) : 0;
    if (asg_process_suspended(call, s->group, "ScheduledActions"))
        return 0;
    int min = s->min_size != ASG_STORE_NONE ? s->min_size : g.min_size;
    int max = s->max_size != ASG_STORE_NONE ? s->max_size : g.max_size;
    int desired = s->desired;
    if (desired == ASG_STORE_NONE)
        desired = g.desired < min ? min : g.desired > max ? max : g.desired;
    char at[32];
    time_t t = (time_t)(call->now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct buf cause = BUF_INIT;
    buf_addf(&cause,
             "At %s a scheduled action update of AutoScalingGroup constraints to min: %d, max: "
             "%d, desired: %d changing the desired capacity from %d to %d.",
             at, min, max, desired, g.desired, desired);
    int rc = asg_group_set_capacity(call, s->group, s->min_size, s->max_size, s->desired,
                                    cause.data, err);
    buf_release(&cause);
    return rc;
}

/*
 * After a run (or a skipped or failed one): a recurring action waits for its next cron
 * match, a one-time action or one past its EndTime is deleted, as AWS removes them.
 */
static void
advance_action(struct app *app, const struct asg_sched_row *s, int64_t now_ms)
{
    int64_t next = s->recurrence[0] ? next_run(s, now_ms + 1) : ASG_STORE_NONE;
    if (db_begin(app->db, true) < 0)
        return;
    int rc = next == ASG_STORE_NONE
                     ? asg_store_sched_delete(app->db, s->region, s->group, s->name)
                     : asg_store_sched_set_next(app->db, s->region, s->group, s->name, next);
    if (rc < 0 || db_commit(app->db) < 0)
        db_rollback(app->db);
}

/* The timer: runs every action due by now, each in its own transaction, then re-arms. */
static int64_t
sched_fire(void *arg, int64_t now_ms)
{
    struct app *app = arg;
    rt.timer = 0;
    struct due_list due = { 0 };
    if (db_begin(app->db, false) < 0)
        return VCLOCK_DONE;
    int rc = asg_store_sched_each_due(app->db, now_ms, collect_due, &due);
    db_rollback(app->db);
    for (size_t i = 0; rc >= 0 && i < due.n; i++) {
        const struct asg_sched_row *s = &due.rows[i];
        struct aws_call call;
        struct aws_err err;
        aws_err_clear(&err);
        internal_call(app, s->region, now_ms, &call);
        if (db_begin(app->db, true) < 0)
            break;
        if (run_action(&call, s, &err) < 0) {
            db_rollback(app->db);
            log_info("autoscaling: scheduled action %s of group %s failed: %s: %s", s->name,
                     s->group, err.code ? err.code : "?", err.message);
        } else if (db_commit(app->db) < 0) {
            db_rollback(app->db);
        }
        advance_action(app, s, now_ms);
    }
    free(due.rows);
    arm(app);
    return VCLOCK_DONE;
}
