/*
 * The typed store of what hangs off an Auto Scaling group besides the group itself: its
 * tags, scaling policies and scheduled actions. Rows go in and out as plain structs; nothing
 * here knows the AWS wire shapes or errors (services/autoscaling/tags.c, policies.c,
 * scheduled.c decide those).
 *
 * Conventions: every function returns -1 on a database failure (already logged); look-ups
 * return 1 when found (out filled), 0 when not. "each" functions call fn for every row in
 * the order they name and stop early, returning fn's value, when fn returns non-zero; fn
 * must not call the same store function again (the statement is in use).
 */
#ifndef FB_STATE_AUTOSCALING_POLICIES_H
#define FB_STATE_AUTOSCALING_POLICIES_H

#include "../emulator/common.h"

struct db;

/* ---- tags ---- */

struct asg_tag_row {
    char region[32]; /* us-east-1 */
    char group[256]; /* AutoScalingGroupName (the tag's ResourceId) */
    char key[129];   /* Key, 1..128 characters */
    char value[257]; /* Value, 0..256 characters */
    bool propagate;  /* PropagateAtLaunch */
};

typedef int asg_store_tag_fn(void *arg, const struct asg_tag_row *row);

/* Creates or overwrites the tag (region, group, key). */
int asg_store_tag_put(struct db *db, const struct asg_tag_row *row);
/* Deletes the tag `key` of the group; value non-NULL: only when the value is that. */
int asg_store_tag_delete(struct db *db, const char *region, const char *group, const char *key,
                         const char *value);
/* How many tags the group has. */
int asg_store_tag_count(struct db *db, const char *region, const char *group);
/* The tags of one group (group non-NULL) or of the region, by group name then key. */
int asg_store_tag_each(struct db *db, const char *region, const char *group, asg_store_tag_fn *fn,
                       void *arg);
int asg_store_tag_drop_group(struct db *db, const char *region, const char *group);

/* ---- scaling policies ---- */

struct asg_policy_row {
    char region[32];                  /* us-east-1 */
    char group[256];                  /* AutoScalingGroupName */
    char name[256];                   /* PolicyName */
    char arn[768];                    /* PolicyARN */
    char policy_type[32];             /* SimpleScaling | StepScaling */
    char adjustment_type[32];         /* ChangeInCapacity | ExactCapacity |
                                         PercentChangeInCapacity */
    bool has_min_magnitude;           /* MinAdjustmentMagnitude given */
    int min_magnitude;                /* MinAdjustmentMagnitude */
    bool has_scaling_adjustment;      /* ScalingAdjustment given (simple scaling) */
    int scaling_adjustment;           /* ScalingAdjustment */
    bool has_cooldown;                /* Cooldown given (simple scaling) */
    int cooldown;                     /* Cooldown, seconds */
    char metric_aggregation_type[16]; /* Average | Minimum | Maximum; "" for simple scaling */
    bool has_warmup;                  /* EstimatedInstanceWarmup given */
    int warmup;                       /* EstimatedInstanceWarmup, seconds */
    char steps[4096];                 /* StepAdjustments as JSON text; "" when none */
    bool enabled;                     /* Enabled */
    int64_t created_ms;               /* virtual time of creation */
};

typedef int asg_store_policy_fn(void *arg, const struct asg_policy_row *row);

/* Creates or replaces the policy (region, group, name). */
int asg_store_policy_put(struct db *db, const struct asg_policy_row *row);
int asg_store_policy_get(struct db *db, const char *region, const char *group, const char *name,
                         struct asg_policy_row *out);
int asg_store_policy_get_by_arn(struct db *db, const char *region, const char *arn,
                                struct asg_policy_row *out);
/* The policies of one group (group non-NULL) or of the region, by group name then name. */
int asg_store_policy_each(struct db *db, const char *region, const char *group,
                          asg_store_policy_fn *fn, void *arg);
int asg_store_policy_count(struct db *db, const char *region, const char *group);
int asg_store_policy_delete(struct db *db, const char *region, const char *group, const char *name);
int asg_store_policy_drop_group(struct db *db, const char *region, const char *group);

/* ---- scheduled actions ---- */

#define ASG_STORE_NONE (-1) /* an absent time or size in asg_sched_row */

struct asg_sched_row {
    char region[32];      /* us-east-1 */
    char group[256];      /* AutoScalingGroupName */
    char name[256];       /* ScheduledActionName */
    char arn[768];        /* ScheduledActionARN */
    int64_t start_ms;     /* StartTime, or ASG_STORE_NONE */
    int64_t end_ms;       /* EndTime, or ASG_STORE_NONE */
    char recurrence[256]; /* Recurrence (cron); "" for a one-time action */
    char time_zone[64];   /* TimeZone; "" when not given */
    int min_size;         /* MinSize, or ASG_STORE_NONE */
    int max_size;         /* MaxSize, or ASG_STORE_NONE */
    int desired;          /* DesiredCapacity, or ASG_STORE_NONE */
    int64_t next_ms;      /* when it runs next, or ASG_STORE_NONE when nothing is left */
    int64_t created_ms;   /* virtual time of creation */
};

typedef int asg_store_sched_fn(void *arg, const struct asg_sched_row *row);

/* Creates or replaces the action (region, group, name). */
int asg_store_sched_put(struct db *db, const struct asg_sched_row *row);
int asg_store_sched_get(struct db *db, const char *region, const char *group, const char *name,
                        struct asg_sched_row *out);
/* The actions of one group (group non-NULL) or of the region, by group name then name. */
int asg_store_sched_each(struct db *db, const char *region, const char *group,
                         asg_store_sched_fn *fn, void *arg);
int asg_store_sched_count(struct db *db, const char *region, const char *group);
int asg_store_sched_delete(struct db *db, const char *region, const char *group, const char *name);
int asg_store_sched_drop_group(struct db *db, const char *region, const char *group);
/* The earliest next_ms of every region: 1 (*next_ms set), 0 when no action is pending. */
int asg_store_sched_next_due(struct db *db, int64_t *next_ms);
/* Every action of every region whose next_ms is <= now_ms, earliest first. */
int asg_store_sched_each_due(struct db *db, int64_t now_ms, asg_store_sched_fn *fn, void *arg);
/* Sets the action's next_ms (ASG_STORE_NONE: nothing left to run). */
int asg_store_sched_set_next(struct db *db, const char *region, const char *group, const char *name,
                             int64_t next_ms);

#endif
