/*
 * Migration: the Auto Scaling tables that hang off a group besides the group itself: its
 * tags, its scaling policies and its scheduled actions. Schema statements only; the data
 * access is in state/autoscaling_policies.c. Rows name their group by (region, group name)
 * rather than by a foreign key, so this migration does not depend on the groups' table.
 */
#include "../emulator/common.h"

const char schema_autoscaling_policies[] =
        /* A tag of a group (CreateOrUpdateTags). ResourceType is always auto-scaling-group. */
        "CREATE TABLE asg_tags (\n"
        "    region     TEXT NOT NULL,\n"
        "    group_name TEXT NOT NULL,\n"
        "    key        TEXT NOT NULL,\n"
        "    value      TEXT NOT NULL,\n"
        "    propagate  INTEGER NOT NULL DEFAULT 0,\n"
        "    PRIMARY KEY (region, group_name, key)\n"
        ");\n"
        /* A scaling policy (PutScalingPolicy). Optional integers are NULL when not given;
           step_adjustments is the StepAdjustments list as JSON text. */
        "CREATE TABLE asg_policies (\n"
        "    region                    TEXT NOT NULL,\n"
        "    group_name                TEXT NOT NULL,\n"
        "    name                      TEXT NOT NULL,\n"
        "    arn                       TEXT NOT NULL UNIQUE,\n"
        "    policy_type               TEXT NOT NULL,\n"
        "    adjustment_type           TEXT,\n"
        "    min_adjustment_magnitude  INTEGER,\n"
        "    scaling_adjustment        INTEGER,\n"
        "    cooldown                  INTEGER,\n"
        "    metric_aggregation_type   TEXT,\n"
        "    estimated_instance_warmup INTEGER,\n"
        "    step_adjustments          TEXT,\n"
        "    enabled                   INTEGER NOT NULL DEFAULT 1,\n"
        "    created_ms                INTEGER NOT NULL,\n"
        "    PRIMARY KEY (region, group_name, name)\n"
        ");\n"
        /* A scheduled action (PutScheduledUpdateGroupAction). Sizes are NULL when not given.
           next_ms is when it runs next (NULL once it has nothing left to run); the timer of
           services/autoscaling/scheduled.c waits for the smallest. */
        "CREATE TABLE asg_scheduled_actions (\n"
        "    region      TEXT NOT NULL,\n"
        "    group_name  TEXT NOT NULL,\n"
        "    name        TEXT NOT NULL,\n"
        "    arn         TEXT NOT NULL,\n"
        "    start_ms    INTEGER,\n"
        "    end_ms      INTEGER,\n"
        "    recurrence  TEXT,\n"
        "    time_zone   TEXT,\n"
        "    min_size    INTEGER,\n"
        "    max_size    INTEGER,\n"
        "    desired     INTEGER,\n"
        "    next_ms     INTEGER,\n"
        "    created_ms  INTEGER NOT NULL,\n"
        "    PRIMARY KEY (region, group_name, name)\n"
        ");\n"
        "CREATE INDEX asg_scheduled_actions_next ON asg_scheduled_actions (next_ms);\n";
