/*
 * Launch configurations: CreateLaunchConfiguration, DescribeLaunchConfigurations,
 * DeleteLaunchConfiguration. A configuration is kept as the item DescribeLaunchConfigurations
 * answers; groups.c and reconcile.c turn it into a RunInstances request. Its image is not
 * checked here: as on AWS, a configuration naming a bad image fails at launch, as a failed
 * scaling activity.
 */
#include "emulator/common.h"
#include "services/autoscaling/fleet.h"

#include "emulator/app.h"
#include "emulator/ids.h"
#include "services/autoscaling/asg.h"
#include "services/autoscaling/autoscaling.h"
#include "services/ec2/api.h"

/* "Launch configurations per Region: 200" (ASUG/ec2-auto-scaling-quotas). */
#define LC_LIMIT 200

static int
lc_not_found(const char *name, struct aws_err *err)
{
    /* Wording as field reports quote it [UNVERIFIED against a capture]. */
    return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                       "Launch configuration name not found - Launch configuration %s not found",
                       name);
}

/* Copies member `name` of `in` into `data` when present. */
static void
copy_member(cJSON *data, const cJSON *in, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, name);
    if (v)
        cJSON_AddItemToObject(data, name, cJSON_Duplicate(v, true));
}

int
autoscaling_create_launch_configuration(struct aws_call *call, const cJSON *in, cJSON *out,
                                        struct aws_err *err)
{
    (void)out;
    const char *name = asg_str(in, "LaunchConfigurationName");
    const char *image = asg_str(in, "ImageId");
    const char *type = asg_str(in, "InstanceType");
    const char *from = asg_str(in, "InstanceId");
    struct asg_lc_rec lc;
    memset(&lc, 0, sizeof(lc));
    if (asg_store_get_lc(call->app->db, call->region, name, &lc) != 0) {
        asg_lc_rec_release(&lc);
        return aws_err_setx(err, 400, "AlreadyExists", true,
                            "Launch Configuration by this name already exists - A launch "
                            "configuration already exists with the name %s",
                            name);
    }
    struct ec2_api_instance src;
    memset(&src, 0, sizeof(src));
    if (from && from[0]) {
        /* InstanceId: the configuration takes the instance's image and type. */
        if (ec2_api_instance_get(call, from, &src) != 1)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR, "Invalid instance id %s", from);
        if (!image)
            image = src.image_id;
        if (!type)
            type = src.instance_type;
    }
    /* [UNVERIFIED wording] */
    if (!image || !image[0])
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "Valid requests must contain either the ImageId parameter or the "
                           "InstanceId parameter.");
    if (!type || !type[0])
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "Valid requests must contain either the InstanceType parameter or "
                           "the InstanceId parameter.");
    int count = 0;
    if (asg_store_count_lcs(call->app->db, call->region, &count) < 0)
        return asg_db_failed(err);
    if (count >= LC_LIMIT)
        return aws_err_setx(err, 400, "LimitExceeded", true,
                            "Launch configuration limit exceeded: you have %d launch "
                            "configurations, the limit is %d.",
                            count, LC_LIMIT);

    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "ImageId", image);
    cJSON_AddStringToObject(data, "InstanceType", type);
    const char *key = asg_str(in, "KeyName");
    cJSON_AddStringToObject(data, "KeyName", key ? key : "");
    const cJSON *sgs = cJSON_GetObjectItemCaseSensitive(in, "SecurityGroups");
    cJSON_AddItemToObject(data, "SecurityGroups",
                          sgs ? cJSON_Duplicate(sgs, true) : cJSON_CreateArray());
    cJSON_AddItemToObject(data, "ClassicLinkVPCSecurityGroups", cJSON_CreateArray());
    const char *ud = asg_str(in, "UserData");
    cJSON_AddStringToObject(data, "UserData", ud ? ud : "");
    cJSON_AddStringToObject(data, "KernelId", "");
    cJSON_AddStringToObject(data, "RamdiskId", "");
    const cJSON *bdm = cJSON_GetObjectItemCaseSensitive(in, "BlockDeviceMappings");
    cJSON_AddItemToObject(data, "BlockDeviceMappings",
                          bdm ? cJSON_Duplicate(bdm, true) : cJSON_CreateArray());
    const cJSON *mon = cJSON_GetObjectItemCaseSensitive(in, "InstanceMonitoring");
    if (mon) {
        cJSON_AddItemToObject(data, "InstanceMonitoring", cJSON_Duplicate(mon, true));
    } else {
        /* "By default, detailed monitoring is enabled" for launch configurations (API
           reference of CreateLaunchConfiguration, InstanceMonitoring). */
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(data, "InstanceMonitoring"), "Enabled", true);
    }
    const cJSON *ebs = cJSON_GetObjectItemCaseSensitive(in, "EbsOptimized");
    cJSON_AddBoolToObject(data, "EbsOptimized", cJSON_IsTrue(ebs));
    copy_member(data, in, "IamInstanceProfile");
    copy_member(data, in, "SpotPrice");
    copy_member(data, in, "AssociatePublicIpAddress");
    copy_member(data, in, "PlacementTenancy");
    copy_member(data, in, "MetadataOptions");

    char uuid[37];
    ids_uuid(call->app->ids, uuid);
    snprintf(lc.region, sizeof(lc.region), "%s", call->region);
    snprintf(lc.name, sizeof(lc.name), "%s", name);
    snprintf(lc.arn, sizeof(lc.arn),
             "arn:aws:autoscaling:%s:%s:launchConfiguration:%s:launchConfigurationName/%s",
             call->region, call->account_id, uuid, name);
    lc.created_ms = call->now_ms;
    char *text = cJSON_PrintUnformatted(data);
    cJSON_Delete(data);
    lc.data = xstrdup(text);
    cJSON_free(text);
    int rc = asg_store_put_lc(call->app->db, &lc);
    asg_lc_rec_release(&lc);
    return rc < 0 ? asg_db_failed(err) : 0;
}

static cJSON *
lc_item(const struct asg_lc_rec *lc)
{
    cJSON *o = cJSON_Parse(lc->data);
    if (!o)
        o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "LaunchConfigurationName", lc->name);
    cJSON_AddStringToObject(o, "LaunchConfigurationARN", lc->arn);
    cJSON_AddNumberToObject(o, "CreatedTime", (double)lc->created_ms);
    return o;
}

int
autoscaling_describe_launch_configurations(struct aws_call *call, const cJSON *in, cJSON *out,
                                           struct aws_err *err)
{
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(in, "LaunchConfigurationNames");
    struct asg_lc_rec *recs;
    size_t n;
    if (asg_store_list_lcs(call->app->db, call->region, &recs, &n) < 0)
        return asg_db_failed(err);
    cJSON *all = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        bool wanted = cJSON_GetArraySize(names) == 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, names)
        {
            wanted = wanted || (cJSON_IsString(v) && strcmp(v->valuestring, recs[i].name) == 0);
        }
        if (wanted)
            cJSON_AddItemToArray(all, lc_item(&recs[i]));
    }
    asg_lc_recs_free(recs, n);
    /* MaxRecords: "The default value is 50 and the maximum value is 100." */
    return asg_page(all, in, out, "LaunchConfigurations", 50, 100, err);
}

int
autoscaling_delete_launch_configuration(struct aws_call *call, const cJSON *in, cJSON *out,
                                        struct aws_err *err)
{
    (void)out;
    const char *name = asg_str(in, "LaunchConfigurationName");
    struct asg_lc_rec lc;
    memset(&lc, 0, sizeof(lc));
    int found = asg_store_get_lc(call->app->db, call->region, name, &lc);
    asg_lc_rec_release(&lc);
    if (found < 0)
        return asg_db_failed(err);
    if (found == 0)
        return lc_not_found(name, err);
    struct asg_group_rec *groups;
    size_t n;
    if (asg_store_list_groups(call->app->db, call->region, &groups, &n) < 0)
        return asg_db_failed(err);
    int ret = 0;
    for (size_t i = 0; i < n && ret == 0; i++) {
        if (strcmp(groups[i].lc_name, name) == 0)
            ret = aws_err_setx(err, 400, "ResourceInUse", true,
                               "Cannot delete launch configuration %s because it is attached to "
                               "AutoScalingGroup %s",
                               name, groups[i].name);
    }
    asg_group_recs_free(groups, n);
    if (ret < 0)
        return -1;
    return asg_store_delete_lc(call->app->db, call->region, name) < 0 ? asg_db_failed(err) : 0;
}
