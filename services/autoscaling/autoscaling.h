/*
 * The Auto Scaling service: its table (autoscaling.c) and the handlers of its operations,
 * one file per area. Adding an operation: see the checklist in emulator/service.h.
 */
#ifndef FB_SERVICES_AUTOSCALING_H
#define FB_SERVICES_AUTOSCALING_H

#include "emulator/common.h"
#include "emulator/service.h"

/* ---- tags (tags.c) ---- */
aws_handler_fn autoscaling_create_or_update_tags;
aws_handler_fn autoscaling_delete_tags;
aws_handler_fn autoscaling_describe_tags;

/* ---- scaling policies and account facts (policies.c) ---- */
aws_handler_fn autoscaling_delete_policy;
aws_handler_fn autoscaling_describe_account_limits;
aws_handler_fn autoscaling_describe_adjustment_types;
aws_handler_fn autoscaling_describe_policies;
aws_handler_fn autoscaling_execute_policy;
aws_handler_fn autoscaling_put_scaling_policy;

/* ---- scheduled actions (scheduled.c) ---- */
aws_handler_fn autoscaling_batch_delete_scheduled_action;
aws_handler_fn autoscaling_batch_put_scheduled_update_group_action;
aws_handler_fn autoscaling_delete_scheduled_action;
aws_handler_fn autoscaling_describe_scheduled_actions;
aws_handler_fn autoscaling_put_scheduled_update_group_action;

/* ---- groups and their instances (groups.c) ---- */
aws_handler_fn autoscaling_attach_instances;
aws_handler_fn autoscaling_create_auto_scaling_group;
aws_handler_fn autoscaling_delete_auto_scaling_group;
aws_handler_fn autoscaling_describe_auto_scaling_groups;
aws_handler_fn autoscaling_describe_auto_scaling_instances;
aws_handler_fn autoscaling_describe_scaling_process_types;
aws_handler_fn autoscaling_describe_termination_policy_types;
aws_handler_fn autoscaling_detach_instances;
aws_handler_fn autoscaling_enter_standby;
aws_handler_fn autoscaling_exit_standby;
aws_handler_fn autoscaling_resume_processes;
aws_handler_fn autoscaling_set_desired_capacity;
aws_handler_fn autoscaling_set_instance_health;
aws_handler_fn autoscaling_set_instance_protection;
aws_handler_fn autoscaling_suspend_processes;
aws_handler_fn autoscaling_terminate_instance_in_auto_scaling_group;
aws_handler_fn autoscaling_update_auto_scaling_group;

/* ---- the group's Classic Load Balancers (lb.c) ---- */
aws_handler_fn autoscaling_attach_load_balancers;
aws_handler_fn autoscaling_describe_load_balancers;
aws_handler_fn autoscaling_detach_load_balancers;

/* ---- launch configurations (launch_configs.c) ---- */
aws_handler_fn autoscaling_create_launch_configuration;
aws_handler_fn autoscaling_delete_launch_configuration;
aws_handler_fn autoscaling_describe_launch_configurations;

/* ---- lifecycle hooks (hooks.c) ---- */
aws_handler_fn autoscaling_complete_lifecycle_action;
aws_handler_fn autoscaling_delete_lifecycle_hook;
aws_handler_fn autoscaling_describe_lifecycle_hook_types;
aws_handler_fn autoscaling_describe_lifecycle_hooks;
aws_handler_fn autoscaling_put_lifecycle_hook;
aws_handler_fn autoscaling_record_lifecycle_action_heartbeat;

/* ---- scaling activities (activities.c) ---- */
aws_handler_fn autoscaling_describe_scaling_activities;

/* ---- the service (autoscaling.c) ---- */
extern const struct service autoscaling_service;

struct app;
/* service_hooks members (see emulator/service.h for when each runs): the reconciler's and
   the scheduled actions' timers, the "autoscaling" part of GET /_fogbank/status, and POST
   /_fogbank/autoscaling {"action": "launch-loop", "threshold": N, "window": "1h"}. */
int autoscaling_start(struct app *app, char *errbuf, size_t errsz);
void autoscaling_reset(struct app *app);
void autoscaling_stop(struct app *app);
void autoscaling_status(struct app *app, cJSON *out);
int autoscaling_action(struct aws_call *call, const char *kind, const cJSON *in, cJSON *out,
                       struct aws_err *err);

#endif
