/*
 * What the files of the Auto Scaling service share with each other (not with other
 * services): the group look-ups and capacity changes that scaling policies and scheduled
 * actions make (groups.c), and the tags, policies and scheduled actions that a group's
 * creation and deletion touch (tags.c, policies.c, scheduled.c). Every function runs inside
 * the caller's open transaction.
 */
#ifndef FB_SERVICES_AUTOSCALING_ASG_H
#define FB_SERVICES_AUTOSCALING_ASG_H

#include "emulator/common.h"
#include "emulator/aws_err.h"
#include "emulator/service.h"

#include <cjson/cJSON.h>

struct app;

/* ---- groups (groups.c) ---- */

/* What policies and scheduled actions need to know of a group. */
struct asg_group_info {
    char name[256];            /* AutoScalingGroupName */
    char arn[512];             /* AutoScalingGroupARN */
    int min_size;              /* MinSize */
    int max_size;              /* MaxSize */
    int desired;               /* DesiredCapacity */
    int default_cooldown;      /* DefaultCooldown, seconds */
    int64_t last_scaling_ms;   /* when the last scaling activity the group made ended (or
                                   started, while one is in progress); 0 when none */
    bool activity_in_progress; /* a launch or termination is still under way */
};

/* The group `name` of the call's region: 1 found (*out filled), 0 not found, -1 db failure. */
int asg_group_get(struct aws_call *call, const char *name, struct asg_group_info *out);

/*
 * Changes the group's size as UpdateAutoScalingGroup / SetDesiredCapacity would: min_size,
 * max_size and desired are each the new value or -1 for "unchanged"; the result is
 * validated as UpdateAutoScalingGroup validates it (ValidationError with AWS's wording when
 * desired falls outside min..max). `cause` is the start of the scaling activities' Cause
 * ("At 2026-11-28T06:00:00Z a scheduled action update of AutoScalingGroup constraints to
 * min: 1, max: 4, desired: 2 changing the desired capacity from 1 to 2."), the activity
 * text AWS writes for that trigger. The reconciler launches or terminates on the next
 * loop pass. -1 + err.
 */
int asg_group_set_capacity(struct aws_call *call, const char *name, int min_size, int max_size,
                           int desired, const char *cause, struct aws_err *err);

/* True when `process` ("ScheduledActions", "AlarmNotification", ...) is suspended on the
   group (SuspendProcesses). */
bool asg_process_suspended(struct aws_call *call, const char *group, const char *process);

/* ---- tags (tags.c) ---- */

/*
 * Creates or updates `tags` (a Tags list of the API: [{ResourceId, ResourceType, Key,
 * Value, PropagateAtLaunch}], ResourceId/ResourceType optional and defaulting to `group`
 * and "auto-scaling-group") on group `group`, validated as CreateOrUpdateTags validates them
 * (at most 50 per group, "aws:" prefix reserved, ...). -1 + err.
 */
int asg_tags_put(struct aws_call *call, const char *group, const cJSON *tags, struct aws_err *err);

/* Appends the group's tags as TagDescription objects ({ResourceId, ResourceType, Key,
   Value, PropagateAtLaunch}) to the array `out`, ordered by key. 0 / -1. */
int asg_tags_of_group(struct aws_call *call, const char *group, cJSON *out);

/* ---- deleting a group: what it owns goes with it (tags.c, policies.c, scheduled.c) ---- */

int asg_tags_drop_group(struct aws_call *call, const char *group);
int asg_policies_drop_group(struct aws_call *call, const char *group);
int asg_scheduled_drop_group(struct aws_call *call, const char *group);

/* ---- scheduled actions on the virtual clock (scheduled.c), from the service hooks ---- */

/* Arms the timer that runs scheduled actions as they fall due (at start, after a reset). */
void asg_scheduled_start(struct app *app);
/* Cancels that timer (reset, shutdown). */
void asg_scheduled_stop(struct app *app);
/* Re-arms it after a write changed the schedule (PutScheduledUpdateGroupAction, ...). */
void asg_scheduled_rearm(struct app *app);

/* ---- pagination (page.c; added by the policies work) ---- */

/*
 * Moves one page of `all` (an array the caller built, in final order) into out[member],
 * honouring in.MaxRecords (1..max_records, default default_records) and in.NextToken (opaque;
 * one not made here is InvalidNextToken), and sets out.NextToken when more remain. Takes
 * ownership of `all`. -1 + err.
 */
int asg_page(cJSON *all, const cJSON *in, cJSON *out, const char *member, int default_records,
             int max_records, struct aws_err *err);

#endif
