/*
 * What the files of the group side of Auto Scaling share with each other (groups.c,
 * launch_configs.c, reconcile.c, hooks.c, activities.c, launch_loop.c, lb.c): the lifecycle state names, the
 * group look-up, the scaling activities, the reconciler's kick, the lifecycle actions and the
 * load-balancer link. Nothing outside services/autoscaling/ includes it. Every function runs
 * inside the caller's open transaction.
 */
#ifndef FB_SERVICES_AUTOSCALING_FLEET_H
#define FB_SERVICES_AUTOSCALING_FLEET_H

#include "emulator/common.h"
#include "emulator/aws_err.h"
#include "emulator/service.h"
#include "state/autoscaling.h"

#include <cjson/cJSON.h>

struct app;

/* LifecycleState values (AWS-NOTES 3.2) that fogbank's groups go through. */
#define LS_PENDING             "Pending"
#define LS_PENDING_WAIT        "Pending:Wait"
#define LS_PENDING_PROCEED     "Pending:Proceed"
#define LS_IN_SERVICE          "InService"
#define LS_STANDBY             "Standby"
#define LS_TERMINATING         "Terminating"
#define LS_TERMINATING_WAIT    "Terminating:Wait"
#define LS_TERMINATING_PROCEED "Terminating:Proceed"
#define LS_TERMINATED          "Terminated"
#define LS_DETACHING           "Detaching"
#define LS_DETACHED            "Detached"

#define HOOK_LAUNCHING   "autoscaling:EC2_INSTANCE_LAUNCHING"
#define HOOK_TERMINATING "autoscaling:EC2_INSTANCE_TERMINATING"

/* The reconciler's period: health checks, hook timeouts and retried launches are looked at
   every 10 s of virtual time (and at once after a write that needs it). */
#define ASG_TICK_MS 10000

/* ---- groups.c ---- */

/* InternalError for a state-database failure (state/ logged it); returns -1. */
int asg_db_failed(struct aws_err *err);
/* ValidationError "AutoScalingGroup name not found - AutoScalingGroup 'x' not found". */
int asg_group_not_found(const char *name, struct aws_err *err);
/* The group `name` of the call's region into *g (init'ed by the caller, released by it):
   0, or -1 + err (not found: ValidationError). */
int asg_group_load(struct aws_call *call, const char *name, struct asg_group_rec *g,
                   struct aws_err *err);
/* True when `process` is among the group's SuspendedProcesses. */
bool asg_group_suspended(const struct asg_group_rec *g, const char *process);
/* True for the states that count toward the group's capacity (Pending*, InService). */
bool asg_state_counts(const char *state);
/* "2026-11-28T06:00:00Z": the timestamps of activity causes. */
void asg_time_text(int64_t ms, char out[32]);
/* The string member `name` of obj, or NULL. */
const char *asg_str(const cJSON *obj, const char *name);

/* ---- activities.c ---- */

/*
 * Starts a scaling activity of group g (new id into `id`, 40 bytes): Description, Cause,
 * StatusCode and Progress as given, StartTime now. -1 on a database failure.
 */
int asg_activity_start(struct aws_call *call, const struct asg_group_rec *g,
                       const char *description, const char *cause, const char *status_code,
                       int progress, char *id);
/*
 * Moves activity `id` on: new StatusCode and Progress; `description` / `status_message`
 * replace the old ones when not NULL; a final status (Successful, Failed, Cancelled) sets
 * EndTime. A missing activity is ignored. -1 on a database failure.
 */
int asg_activity_update(struct aws_call *call, const char *id, const char *status_code,
                        int progress, const char *description, const char *status_message);
/* Appends activity `id` as an Activity item to the array `list`. 0 / -1. */
int asg_activity_add_item(struct aws_call *call, const char *id, cJSON *list);

/* ---- reconcile.c ---- */

/* Queues a reconciler pass over every group for the next loop pass (after the caller's
   transaction commits); queued once however often it is called. It also arms the periodic
   pass when a reset stopped it. */
void asg_reconcile_kick(struct app *app);
/* Arms the periodic pass (service start; the first pass comes ASG_TICK_MS later); stops every
   timer (reset, shutdown). */
void asg_reconcile_start(struct app *app);
void asg_reconcile_stop(struct app *app);
/*
 * Takes instance r of group g out of service: state Terminating and a termination activity
 * whose Cause is `cause` (it is written when given; the caller's activity is kept when
 * activity_id is set already and cause is NULL). The reconciler's next pass runs the hooks and
 * the termination. The row is written. -1 on a database failure.
 */
int asg_instance_retire(struct aws_call *call, const struct asg_group_rec *g,
                        struct asg_inst_rec *r, const char *cause);

/* ---- hooks.c ---- */

enum asg_hook_verdict {
    ASG_HOOK_WAIT,     /* an action is still pending */
    ASG_HOOK_CONTINUE, /* every action completed (or timed out) with CONTINUE */
    ASG_HOOK_ABANDON,  /* an action ended with ABANDON */
};

/*
 * Starts the lifecycle actions of the group's hooks for `transition` on instance r (its
 * `actions` filled; the caller writes the row): 1 when there is at least one (the instance
 * must wait), 0 when the group has no such hook, -1 on a database failure.
 */
int asg_hooks_begin(struct aws_call *call, const struct asg_group_rec *g, struct asg_inst_rec *r,
                    const char *transition);
/*
 * Applies the timeouts due at call->now_ms to r's actions (DefaultResult after the heartbeat
 * or the global timeout) and says where the wait stands; on ABANDON, `reason` (256 bytes)
 * receives "Lifecycle Action with token T was abandoned: <why>".
 */
enum asg_hook_verdict asg_hooks_verdict(struct aws_call *call, struct asg_inst_rec *r,
                                        char *reason);
/*
 * Creates or updates lifecycle hook `spec` (PutLifecycleHook's members, or one of
 * CreateAutoScalingGroup's LifecycleHookSpecificationList) on group g, validated as
 * PutLifecycleHook validates it. -1 + err (ValidationError, LimitExceeded).
 */
int asg_hooks_put(struct aws_call *call, const struct asg_group_rec *g, const cJSON *spec,
                  struct aws_err *err);

/* ---- launch_loop.c: the launch ledger and the launch-loop alarm ---- */

/* The alarm's defaults: more than 10 launched instances lost within 1 h of virtual time,
   without the group reaching steady state in between. */
#define ASG_LOOP_DEFAULT_THRESHOLD 10
#define ASG_LOOP_DEFAULT_WINDOW_MS 3600000

/* The reconciler launched instance `id` into group g / the instance left its group (it
   ended: terminated, failed to launch, detached). -1 on a database failure. */
int asg_loop_launched(struct aws_call *call, const struct asg_group_rec *g, const char *id);
int asg_loop_ended(struct aws_call *call, const char *id);
/*
 * After a reconciler pass over g: `steady` says the group is at its desired capacity with
 * every instance InService and healthy through a health check past its grace period, and
 * nothing launched or terminated in the pass. Keeps the group's
 * watch and raises the event "autoscaling.launch-loop" (once per episode away from steady
 * state) when more launched instances than the threshold were lost within the window.
 * Writes nothing for a group that stays steady. -1 on a database failure.
 */
int asg_loop_watch(struct aws_call *call, const struct asg_group_rec *g, bool steady);
/* Adds item.launches {total, terminations, billed_..., loop {...}} for the control API's
   status. -1 on a database failure. */
int asg_loop_status(struct aws_call *call, const struct asg_group_rec *g, cJSON *item);
/* The settings as {threshold, window_s}, into out. */
void asg_loop_config_json(cJSON *out);
/* POST /_fogbank/autoscaling {"action": "launch-loop", "threshold": N, "window": "30m"}:
   changes the given settings (both optional) and answers them. -1 + err (BadRequest). */
int asg_loop_action(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err);
/* Back to the defaults (reset). */
void asg_loop_reset(void);

/* ---- lb.c: the only place that knows load balancers ---- */

/* Registers instance `id` with the group's load balancers (AddToLoadBalancer). */
void asg_lb_register(struct aws_call *call, const struct asg_group_rec *g, const char *id);
/* Deregisters it; *drain_ms receives the longest connection-draining time. */
void asg_lb_deregister(struct aws_call *call, const struct asg_group_rec *g, const char *id,
                       int64_t *drain_ms);
/* With HealthCheckType ELB: false when a load balancer of the group reports the instance
   OutOfService; true otherwise (and always without load balancers). */
bool asg_lb_healthy(struct aws_call *call, const struct asg_group_rec *g, const char *id);
/* CreateAutoScalingGroup / UpdateAutoScalingGroup: every named load balancer exists. -1 +
   err (ValidationError). */
int asg_lb_check(struct aws_call *call, const cJSON *names, struct aws_err *err);

#endif
