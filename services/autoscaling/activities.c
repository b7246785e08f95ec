/*
 * Scaling activities: every launch, termination, standby move, attach and detach of a
 * group is one (AWS-NOTES 3.4), started and moved on by the reconciler and the handlers,
 * and listed by DescribeScalingActivities, newest first. Activities outlive their group.
 */
#include "emulator/common.h"
#include "services/autoscaling/fleet.h"

#include "emulator/app.h"
#include "emulator/ids.h"
#include "services/autoscaling/asg.h"
#include "services/autoscaling/autoscaling.h"

int
asg_activity_start(struct aws_call *call, const struct asg_group_rec *g, const char *description,
                   const char *cause, const char *status_code, int progress, char *id)
{
    struct asg_activity_rec a;
    memset(&a, 0, sizeof(a));
    char uuid[37];
    ids_uuid(call->app->ids, uuid);
    snprintf(a.id, sizeof(a.id), "%s", uuid);
    snprintf(a.region, sizeof(a.region), "%s", g->region);
    snprintf(a.group, sizeof(a.group), "%s", g->name);
    snprintf(a.group_arn, sizeof(a.group_arn), "%s", g->arn);
    snprintf(a.description, sizeof(a.description), "%s", description);
    snprintf(a.cause, sizeof(a.cause), "%s", cause ? cause : "");
    a.start_ms = call->now_ms;
    snprintf(a.status_code, sizeof(a.status_code), "%s", status_code);
    a.progress = progress;
    snprintf(a.details, sizeof(a.details), "{}");
    if (id)
        snprintf(id, 40, "%s", a.id);
    return asg_store_put_activity(call->app->db, &a);
}

static bool
final_status(const char *code)
{
    return strcmp(code, "Successful") == 0 || strcmp(code, "Failed") == 0 ||
           strcmp(code, "Cancelled") == 0;
}

int
asg_activity_update(struct aws_call *call, const char *id, const char *status_code, int progress,
                    const char *description, const char *status_message)
{
    if (!id || !id[0])
        return 0;
    struct asg_activity_rec a;
    memset(&a, 0, sizeof(a));
    int found = asg_store_get_activity(call->app->db, id, &a);
    if (found <= 0)
        return found;
    snprintf(a.status_code, sizeof(a.status_code), "%s", status_code);
    a.progress = progress;
    if (description)
        snprintf(a.description, sizeof(a.description), "%s", description);
    if (status_message)
        snprintf(a.status_message, sizeof(a.status_message), "%s", status_message);
    if (final_status(status_code) && !a.end_ms)
        a.end_ms = call->now_ms;
    return asg_store_put_activity(call->app->db, &a);
}

static cJSON *
activity_item(const struct asg_activity_rec *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ActivityId", a->id);
    cJSON_AddStringToObject(o, "AutoScalingGroupName", a->group);
    cJSON_AddStringToObject(o, "AutoScalingGroupARN", a->group_arn);
    cJSON_AddStringToObject(o, "Description", a->description);
    cJSON_AddStringToObject(o, "Cause", a->cause);
    cJSON_AddNumberToObject(o, "StartTime", (double)a->start_ms);
    if (a->end_ms)
        cJSON_AddNumberToObject(o, "EndTime", (double)a->end_ms);
    cJSON_AddStringToObject(o, "StatusCode", a->status_code);
    if (a->status_message[0])
        cJSON_AddStringToObject(o, "StatusMessage", a->status_message);
    cJSON_AddNumberToObject(o, "Progress", a->progress);
    cJSON_AddStringToObject(o, "Details", a->details);
    return o;
}

int
asg_activity_add_item(struct aws_call *call, const char *id, cJSON *list)
{
    struct asg_activity_rec a;
    memset(&a, 0, sizeof(a));
    int found = asg_store_get_activity(call->app->db, id, &a);
    if (found == 1)
        cJSON_AddItemToArray(list, activity_item(&a));
    return found < 0 ? -1 : 0;
}

static bool
in_list(const cJSON *list, const char *s)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, list)
    {
        if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
            return true;
    }
    return false;
}

int
autoscaling_describe_scaling_activities(struct aws_call *call, const cJSON *in, cJSON *out,
                                        struct aws_err *err)
{
    const char *group = asg_str(in, "AutoScalingGroupName");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(in, "ActivityIds");
    bool include_deleted =
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "IncludeDeletedGroups"));
    if (group && !group[0])
        group = NULL;
    struct asg_activity_rec *recs;
    size_t n;
    if (asg_store_list_activities(call->app->db, call->region, group, &recs, &n) < 0)
        return asg_db_failed(err);
    cJSON *all = cJSON_CreateArray();
    /* The groups known to exist, so each activity's group is looked up once. */
    cJSON *live = cJSON_CreateArray(), *dead = cJSON_CreateArray();
    int ret = 0;
    for (size_t i = 0; i < n; i++) {
        const struct asg_activity_rec *a = &recs[i];
        if (cJSON_GetArraySize(ids) > 0 && !in_list(ids, a->id))
            continue;
        if (!include_deleted && !in_list(live, a->group)) {
            if (in_list(dead, a->group))
                continue;
            struct asg_group_rec g;
            asg_group_rec_init(&g);
            int found = asg_store_get_group(call->app->db, call->region, a->group, &g);
            asg_group_rec_release(&g);
            if (found < 0) {
                ret = asg_db_failed(err);
                break;
            }
            cJSON_AddItemToArray(found ? live : dead, cJSON_CreateString(a->group));
            if (!found)
                continue;
        }
        cJSON_AddItemToArray(all, activity_item(a));
    }
    free(recs);
    cJSON_Delete(live);
    cJSON_Delete(dead);
    if (ret < 0) {
        cJSON_Delete(all);
        return -1;
    }
    /* MaxRecords: "The default value is 100 and the maximum value is 100." (API reference) */
    return asg_page(all, in, out, "Activities", 100, 100, err);
}
