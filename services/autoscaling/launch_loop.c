/*
 * The launch-loop alarm: what teams otherwise build with an external monitor. Every instance
 * the reconciler launches goes into the group's launch ledger (state/autoscaling.h) and is
 * marked ended when it leaves the group, so the figures come from the real launches and
 * terminations on the virtual clock, never from a special case. From the ledger: the launch
 * count and the instance-hours those launches would be billed, with per-second billing (a
 * minimum of 60 s per launch) and with the old rule of a full hour per started hour. After
 * each pass the reconciler says whether the group is at steady state; a group away from it
 * that has lost more than `threshold` launched instances within `window` (launched, then
 * terminated, failed or abandoned before the group settled) raises the event
 * "autoscaling.launch-loop", once per episode. The threshold and window are fogbank settings
 * (POST /_fogbank/autoscaling {"action": "launch-loop", ...}), not AWS state.
 */
#include "emulator/common.h"
#include "services/autoscaling/fleet.h"

#include "emulator/app.h"
#include "emulator/clock.h"
#include "emulator/events.h"
#include "services/autoscaling/asg.h"

#include <math.h>

/* The settings; a reset brings back the defaults. */
static struct {
    int threshold;     /* lost launches that raise the alarm when exceeded */
    int64_t window_ms; /* how far back launches count */
} cfg = { ASG_LOOP_DEFAULT_THRESHOLD, ASG_LOOP_DEFAULT_WINDOW_MS };

void
asg_loop_reset(void)
{
    cfg.threshold = ASG_LOOP_DEFAULT_THRESHOLD;
    cfg.window_ms = ASG_LOOP_DEFAULT_WINDOW_MS;
}

int
asg_loop_launched(struct aws_call *call, const struct asg_group_rec *g, const char *id)
{
    return asg_store_add_launch(call->app->db, g->region, g->name, id, call->now_ms);
}

int
asg_loop_ended(struct aws_call *call, const char *id)
{
    return asg_store_end_launch(call->app->db, id, call->now_ms);
}

/* The figures of a group's launches made at or after since_ms. */
struct loop_figures {
    int launches;         /* launches */
    int ended;            /* of which have left the group */
    double billed_s;      /* per-second billing: whole seconds, at least 60 per launch */
    int64_t billed_hours; /* a full hour per started hour, at least one per launch */
};

static int
figures(struct aws_call *call, const struct asg_group_rec *g, int64_t since_ms,
        struct loop_figures *f)
{
    struct asg_launch_rec *recs;
    size_t n;
    memset(f, 0, sizeof(*f));
    if (asg_store_list_launches(call->app->db, g->region, g->name, since_ms, &recs, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int64_t end = recs[i].ended_ms ? recs[i].ended_ms : call->now_ms;
        int64_t ran = end > recs[i].launched_ms ? end - recs[i].launched_ms : 0;
        f->launches++;
        f->ended += recs[i].ended_ms != 0;
        f->billed_s += ran < 60000 ? 60 : ceil((double)ran / 1000);
        f->billed_hours += ran <= 3600000 ? 1 : (ran + 3599999) / 3600000;
    }
    free(recs);
    return 0;
}

/* Where the current episode's launches start counting: since the group left steady state,
   within the window. */
static int64_t
count_from(int64_t now_ms, int64_t unsteady_ms)
{
    int64_t from = now_ms - cfg.window_ms;
    return unsteady_ms > from ? unsteady_ms : from;
}

int
asg_loop_watch(struct aws_call *call, const struct asg_group_rec *g, bool steady)
{
    int64_t unsteady, alarm;
    if (asg_store_get_watch(call->app->db, g->region, g->name, &unsteady, &alarm) < 0)
        return -1;
    if (steady) {
        if (!unsteady && !alarm)
            return 0; /* the idle case: nothing read beyond the watch, nothing written */
        if (alarm) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "group", g->name);
            cJSON_AddStringToObject(d, "region", g->region);
            cJSON_AddNumberToObject(d, "alarm_ms", (double)alarm);
            events_emit(call->app, "autoscaling.launch-loop-cleared", d);
        }
        return asg_store_put_watch(call->app->db, g->region, g->name, 0, 0);
    }
    bool changed = false;
    if (!unsteady) {
        unsteady = call->now_ms;
        changed = true;
    }
    if (!alarm) {
        struct loop_figures f;
        if (figures(call, g, count_from(call->now_ms, unsteady), &f) < 0)
            return -1;
        if (f.ended > cfg.threshold) {
            alarm = call->now_ms;
            changed = true;
            struct loop_figures all;
            if (figures(call, g, 0, &all) < 0)
                return -1;
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "group", g->name);
            cJSON_AddStringToObject(d, "region", g->region);
            cJSON_AddNumberToObject(d, "desired", g->desired);
            cJSON_AddNumberToObject(d, "launches_in_window", f.launches);
            cJSON_AddNumberToObject(d, "lost_in_window", f.ended);
            cJSON_AddNumberToObject(d, "threshold", cfg.threshold);
            cJSON_AddNumberToObject(d, "window_s", (double)(cfg.window_ms / 1000));
            cJSON_AddNumberToObject(d, "unsteady_ms", (double)unsteady);
            cJSON_AddNumberToObject(d, "launches_total", all.launches);
            cJSON_AddNumberToObject(d, "billed_hours_per_second", all.billed_s / 3600);
            cJSON_AddNumberToObject(d, "billed_hours_hourly", (double)all.billed_hours);
            events_emit(call->app, "autoscaling.launch-loop", d);
        }
    }
    return changed ? asg_store_put_watch(call->app->db, g->region, g->name, unsteady, alarm) : 0;
}

void
asg_loop_config_json(cJSON *out)
{
    cJSON_AddNumberToObject(out, "threshold", cfg.threshold);
    cJSON_AddNumberToObject(out, "window_s", (double)(cfg.window_ms / 1000));
}

int
asg_loop_status(struct aws_call *call, const struct asg_group_rec *g, cJSON *item)
{
    struct loop_figures all, win;
    int64_t unsteady, alarm;
    if (figures(call, g, 0, &all) < 0 ||
        asg_store_get_watch(call->app->db, g->region, g->name, &unsteady, &alarm) < 0 ||
        figures(call, g, unsteady ? count_from(call->now_ms, unsteady) : call->now_ms + 1, &win) <
                0)
        return -1;
    cJSON *o = cJSON_AddObjectToObject(item, "launches");
    cJSON_AddNumberToObject(o, "total", all.launches);
    cJSON_AddNumberToObject(o, "terminations", all.ended);
    cJSON_AddNumberToObject(o, "billed_seconds_per_second", all.billed_s);
    cJSON_AddNumberToObject(o, "billed_hours_per_second", round(all.billed_s / 3.6) / 1000);
    cJSON_AddNumberToObject(o, "billed_hours_hourly", (double)all.billed_hours);
    cJSON *loop = cJSON_AddObjectToObject(o, "loop");
    cJSON_AddBoolToObject(loop, "steady", unsteady == 0);
    cJSON_AddBoolToObject(loop, "alarm", alarm != 0);
    char t[32];
    if (unsteady) {
        asg_time_text(unsteady, t);
        cJSON_AddStringToObject(loop, "unsteady_since", t);
    }
    if (alarm) {
        asg_time_text(alarm, t);
        cJSON_AddStringToObject(loop, "alarm_since", t);
    }
    cJSON_AddNumberToObject(loop, "launches_in_window", win.launches);
    cJSON_AddNumberToObject(loop, "lost_in_window", win.ended);
    asg_loop_config_json(loop);
    return 0;
}

int
asg_loop_action(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)call;
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(in, "threshold");
    const cJSON *win = cJSON_GetObjectItemCaseSensitive(in, "window");
    int threshold = cfg.threshold;
    int64_t window_ms = cfg.window_ms;
    if (th) {
        if (!cJSON_IsNumber(th) || th->valuedouble != floor(th->valuedouble) ||
            th->valuedouble < 0 || th->valuedouble > 1000000)
            return aws_err_setx(err, 400, "BadRequest", true,
                                "\"threshold\" must be a whole number from 0 to 1000000");
        threshold = (int)th->valuedouble;
    }
    if (win) {
        if (!cJSON_IsString(win) || duration_parse(win->valuestring, &window_ms) < 0 ||
            window_ms <= 0)
            return aws_err_setx(err, 400, "BadRequest", true,
                                "\"window\" must be a duration such as \"30m\", \"1h\" or "
                                "\"90s\"");
    }
    cfg.threshold = threshold;
    cfg.window_ms = window_ms;
    asg_loop_config_json(out);
    return 0;
}
