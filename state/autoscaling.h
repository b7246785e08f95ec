/*
 * The Auto Scaling store: typed access to launch configurations, groups, the groups'
 * instances, lifecycle hooks and scaling activities (state/schema_autoscaling.c). Rows only:
 * which lifecycle state follows which is services/autoscaling/'s business. Every function
 * returns -1 (logged) on a database failure.
 */
#ifndef FB_STATE_AUTOSCALING_H
#define FB_STATE_AUTOSCALING_H

#include "db.h"

/* ---- launch configurations ---- */

struct asg_lc_rec {
    char region[32];    /* us-east-1 */
    char name[256];     /* LaunchConfigurationName */
    char arn[512];      /* LaunchConfigurationARN */
    int64_t created_ms; /* CreatedTime, virtual ms */
    char *data;         /* JSON: the LaunchConfiguration item as described, without name, ARN
                          and CreatedTime; owned */
};

void asg_lc_rec_release(struct asg_lc_rec *r);
/* Inserts (a name already taken: 0 and nothing written, else 1). */
int asg_store_put_lc(struct db *db, const struct asg_lc_rec *r);
/* 1 found (*r filled, release it), 0 not, -1. */
int asg_store_get_lc(struct db *db, const char *region, const char *name, struct asg_lc_rec *r);
/* Every configuration of region, by name, into a new array (free with asg_lc_recs_free). */
int asg_store_list_lcs(struct db *db, const char *region, struct asg_lc_rec **out, size_t *n);
void asg_lc_recs_free(struct asg_lc_rec *recs, size_t n);
int asg_store_delete_lc(struct db *db, const char *region, const char *name);
int asg_store_count_lcs(struct db *db, const char *region, int *count);

/* ---- groups ---- */

struct asg_group_rec {
    char region[32];            /* us-east-1 */
    char name[256];             /* AutoScalingGroupName */
    char arn[512];              /* AutoScalingGroupARN */
    int64_t created_ms;         /* CreatedTime */
    int min_size;               /* MinSize */
    int max_size;               /* MaxSize */
    int desired;                /* DesiredCapacity */
    int default_cooldown;       /* DefaultCooldown, s */
    int grace;                  /* HealthCheckGracePeriod, s */
    char health_check_type[32]; /* "EC2", "ELB" */
    char lc_name[256];          /* LaunchConfigurationName, "" when a template is used */
    bool protect_new;           /* NewInstancesProtectedFromScaleIn */
    int64_t last_scaling_ms;    /* end of the last scaling activity (cooldowns), 0 none */
    char *launch_template;      /* JSON LaunchTemplateSpecification {LaunchTemplateId,
                                 LaunchTemplateName, Version}, "" when none; owned */
    char *azs;                  /* JSON array of zone names; owned */
    char *subnets;              /* JSON object {zone: subnet id} from VPCZoneIdentifier, "{}"
                                 when none; owned */
    char *vpc_zone;             /* VPCZoneIdentifier as given, "" when none; owned */
    char *lbs;                  /* JSON array LoadBalancerNames; owned */
    char *tgs;                  /* JSON array TargetGroupARNs; owned */
    char *policies;             /* JSON array TerminationPolicies; owned */
    char *suspended;            /* JSON array [{ProcessName, SuspensionReason}]; owned */
    char *cause;                /* the user request behind the next launches and terminations
                                 ("At ... a user request ... from 0 to 3."), "" when none;
                                 owned */
};

void asg_group_rec_init(struct asg_group_rec *r);
void asg_group_rec_release(struct asg_group_rec *r);
/* Replaces an owned string member with a copy of value. */
void asg_rec_set(char **field, const char *value);
/* Inserts or updates (by region and name) every column. */
int asg_store_put_group(struct db *db, const struct asg_group_rec *r);
/* 1 found (*r filled: init it first, release it after), 0 not, -1. */
int asg_store_get_group(struct db *db, const char *region, const char *name,
                        struct asg_group_rec *r);
/* Every group of region (NULL: all regions), by name, into a new array. */
int asg_store_list_groups(struct db *db, const char *region, struct asg_group_rec **out, size_t *n);
void asg_group_recs_free(struct asg_group_rec *recs, size_t n);
/* Deletes the group, its instances' rows, its lifecycle hooks and its launch ledger and
   watch (activities stay). */
int asg_store_delete_group(struct db *db, const char *region, const char *name);
int asg_store_count_groups(struct db *db, const char *region, int *count);

/* ---- the groups' instances ---- */

struct asg_inst_rec {
    char id[32];            /* i-... */
    char region[32];        /* us-east-1 */
    char group[256];        /* AutoScalingGroupName */
    char az[32];            /* AvailabilityZone */
    char state[32];         /* LifecycleState: "Pending", "InService", ... */
    char health[16];        /* "Healthy" / "Unhealthy" */
    bool protected_;        /* ProtectedFromScaleIn */
    char lc_name[256];      /* LaunchConfigurationName launched from, "" */
    char instance_type[32]; /* InstanceType */
    char image_id[32];      /* ImageId */
    int64_t launched_ms;    /* when the group launched (or attached) it */
    int64_t in_service_ms;  /* when it entered InService (the grace period starts), 0 */
    char activity_id[40];   /* the scaling activity of its launch or termination, "" */
    char *launch_template;  /* JSON LaunchTemplateSpecification, "" when none; owned */
    char *actions;          /* JSON array of the pending lifecycle actions [{hook, token,
                                 deadline_ms, global_ms, result}], "[]"; owned */
    char *health_cause;     /* why it is Unhealthy (activity cause), "" ; owned */
    int64_t drain_until_ms; /* leaving: its load balancers drain its connections until then
                               (0: not deregistered yet) */
};

void asg_inst_rec_init(struct asg_inst_rec *r);
void asg_inst_rec_release(struct asg_inst_rec *r);
/* Makes dst (released by the caller) a deep copy of src. */
void asg_inst_rec_copy(struct asg_inst_rec *dst, const struct asg_inst_rec *src);
/* True when every field of a and b is the same (so writing b over a would change nothing). */
bool asg_inst_rec_equal(const struct asg_inst_rec *a, const struct asg_inst_rec *b);
int asg_store_put_inst(struct db *db, const struct asg_inst_rec *r);
/* The instance `id` in any group: 1 found, 0 not, -1. */
int asg_store_get_inst(struct db *db, const char *id, struct asg_inst_rec *r);
/* The instances of a group (group NULL: of every group of region; region NULL too: all), in
   launch order, into a new array. */
int asg_store_list_insts(struct db *db, const char *region, const char *group,
                         struct asg_inst_rec **out, size_t *n);
void asg_inst_recs_free(struct asg_inst_rec *recs, size_t n);
int asg_store_delete_inst(struct db *db, const char *id);

/* ---- lifecycle hooks ---- */

struct asg_hook_rec {
    char region[32];         /* us-east-1 */
    char group[256];         /* AutoScalingGroupName */
    char name[256];          /* LifecycleHookName */
    char transition[64];     /* autoscaling:EC2_INSTANCE_LAUNCHING / _TERMINATING */
    int heartbeat;           /* HeartbeatTimeout, s */
    char default_result[16]; /* CONTINUE / ABANDON */
    char target_arn[512];    /* NotificationTargetARN, "" */
    char role_arn[512];      /* RoleARN, "" */
    char metadata[4001];     /* NotificationMetadata, "" */
};

int asg_store_put_hook(struct db *db, const struct asg_hook_rec *r);
int asg_store_get_hook(struct db *db, const char *region, const char *group, const char *name,
                       struct asg_hook_rec *r);
/* The hooks of a group, by name, into a new array (free()). */
int asg_store_list_hooks(struct db *db, const char *region, const char *group,
                         struct asg_hook_rec **out, size_t *n);
int asg_store_delete_hook(struct db *db, const char *region, const char *group, const char *name);

/* ---- scaling activities ---- */

struct asg_activity_rec {
    char id[40];              /* ActivityId (UUID) */
    char region[32];          /* us-east-1 */
    char group[256];          /* AutoScalingGroupName */
    char group_arn[512];      /* AutoScalingGroupARN */
    char description[512];    /* Description */
    char cause[1024];         /* Cause */
    int64_t start_ms;         /* StartTime */
    int64_t end_ms;           /* EndTime, 0 while in progress */
    char status_code[48];     /* StatusCode */
    char status_message[256]; /* StatusMessage, "" */
    int progress;             /* Progress 0-100 */
    char details[512];        /* Details (JSON text) */
};

/* Inserts or updates by id; a new one is listed before older ones. */
int asg_store_put_activity(struct db *db, const struct asg_activity_rec *r);
int asg_store_get_activity(struct db *db, const char *id, struct asg_activity_rec *r);
/* The activities of region (of `group` when not NULL), newest first, into a new array. */
int asg_store_list_activities(struct db *db, const char *region, const char *group,
                              struct asg_activity_rec **out, size_t *n);

/* ---- the launch ledger and the launch-loop watch ---- */

struct asg_launch_rec {
    char id[32];         /* the instance launched */
    int64_t launched_ms; /* when the group launched it */
    int64_t ended_ms;    /* when it left the group (terminated, failed, detached), 0 while in */
};

/* Records that group `group` launched instance `id` at launched_ms. */
int asg_store_add_launch(struct db *db, const char *region, const char *group, const char *id,
                         int64_t launched_ms);
/* Marks the launch of `id` ended at ended_ms (once: an ended launch keeps its time; an id
   the group did not launch, e.g. an attached one, is ignored). */
int asg_store_end_launch(struct db *db, const char *id, int64_t ended_ms);
/* The group's launches made at or after since_ms, in launch order, into a new array (free()). */
int asg_store_list_launches(struct db *db, const char *region, const char *group, int64_t since_ms,
                            struct asg_launch_rec **out, size_t *n);
/* The group's watch: 1 found (*unsteady_ms, *alarm_ms set), 0 none (both 0), -1. */
int asg_store_get_watch(struct db *db, const char *region, const char *group, int64_t *unsteady_ms,
                        int64_t *alarm_ms);
int asg_store_put_watch(struct db *db, const char *region, const char *group, int64_t unsteady_ms,
                        int64_t alarm_ms);

#endif
