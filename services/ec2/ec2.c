/*
 * EC2 handlers. So far: the regions and availability zones fogbank pretends to have. Every
 * region has three zones, <region>a/b/c, always available (zone failure arrives with the
 * instances work). Handlers see typed trees only.
 */
#include "emulator/common.h"
#include "services/ec2/ec2.h"
#include "services/ec2/instances.h"
#include "emulator/buf.h"

static const struct service_op ec2_ops[] = {
    { "AuthorizeSecurityGroupEgress", ec2_authorize_security_group_egress, 0 },
    { "AuthorizeSecurityGroupIngress", ec2_authorize_security_group_ingress, 0 },
    { "CreateImage", ec2_create_image, 0 },
    { "CreateKeyPair", ec2_create_key_pair, 0 },
    { "CreateLaunchTemplate", ec2_create_launch_template, 0 },
    { "CreateLaunchTemplateVersion", ec2_create_launch_template_version, 0 },
    { "CreateSecurityGroup", ec2_create_security_group, 0 },
    { "CreateSubnet", ec2_create_subnet, 0 },
    { "CreateTags", ec2_create_tags, 0 },
    { "CreateVpc", ec2_create_vpc, 0 },
    { "DeleteKeyPair", ec2_delete_key_pair, 0 },
    { "DeleteLaunchTemplate", ec2_delete_launch_template, 0 },
    { "DeleteLaunchTemplateVersions", ec2_delete_launch_template_versions, 0 },
    { "DeleteSecurityGroup", ec2_delete_security_group, 0 },
    { "DeleteSubnet", ec2_delete_subnet, 0 },
    { "DeleteTags", ec2_delete_tags, 0 },
    { "DeleteVpc", ec2_delete_vpc, 0 },
    { "DeregisterImage", ec2_deregister_image, 0 },
    { "DescribeAvailabilityZones", ec2_describe_availability_zones, OP_READONLY },
    /* Not read-only: the first look at a region creates its built-in images. */
    { "DescribeImages", ec2_describe_images, 0 },
    { "DescribeInstanceAttribute", ec2_describe_instance_attribute, OP_READONLY },
    { "DescribeInstanceStatus", ec2_describe_instance_status, OP_READONLY },
    { "DescribeInstances", ec2_describe_instances, OP_READONLY },
    { "DescribeKeyPairs", ec2_describe_key_pairs, OP_READONLY },
    { "DescribeLaunchTemplateVersions", ec2_describe_launch_template_versions, OP_READONLY },
    { "DescribeLaunchTemplates", ec2_describe_launch_templates, OP_READONLY },
    { "DescribeRegions", ec2_describe_regions, OP_READONLY },
    /* Not read-only: the first look at a region creates its default VPC. */
    { "DescribeSecurityGroups", ec2_describe_security_groups, 0 },
    /* Not read-only: the first look at a region creates its default VPC. */
    { "DescribeSubnets", ec2_describe_subnets, 0 },
    { "DescribeTags", ec2_describe_tags, OP_READONLY },
    /* Not read-only: the first look at a region creates its default VPC. */
    { "DescribeVpcs", ec2_describe_vpcs, 0 },
    { "GetConsoleOutput", ec2_get_console_output, OP_READONLY },
    { "ImportKeyPair", ec2_import_key_pair, 0 },
    { "ModifyInstanceAttribute", ec2_modify_instance_attribute, 0 },
    { "ModifyLaunchTemplate", ec2_modify_launch_template, 0 },
    { "RebootInstances", ec2_reboot_instances, 0 },
    { "RegisterImage", ec2_register_image, 0 },
    { "RevokeSecurityGroupEgress", ec2_revoke_security_group_egress, 0 },
    { "RevokeSecurityGroupIngress", ec2_revoke_security_group_ingress, 0 },
    { "RunInstances", ec2_run_instances, 0 },
    { "StartInstances", ec2_start_instances, 0 },
    { "StopInstances", ec2_stop_instances, 0 },
    { "TerminateInstances", ec2_terminate_instances, 0 },
};

/* The instances' process trees and timers, the metadata service and the fault injection. */
static const struct service_hooks ec2_hooks = {
    .start = ec2_instances_start,
    .reset = ec2_instances_reset,
    .stop = ec2_instances_stop,
    .status = ec2_instances_status,
    .route_prefix = EC2_IMDS_PREFIX,
    .route = ec2_imds_route,
    .action = ec2_instances_action,
};

const struct service ec2_service = { "ec2", ec2_ops, ARRAY_SIZE(ec2_ops), &ec2_hooks };

/* The regions that are enabled by default (opt-in-not-required), in the order AWS lists them. */
static const struct ec2_region ec2_regions[] = {
    { "ap-south-1", "aps1" },      { "eu-north-1", "eun1" },      { "eu-west-3", "euw3" },
    { "eu-west-2", "euw2" },       { "eu-west-1", "euw1" },       { "ap-northeast-3", "apne3" },
    { "ap-northeast-2", "apne2" }, { "ap-northeast-1", "apne1" }, { "ca-central-1", "cac1" },
    { "sa-east-1", "sae1" },       { "ap-southeast-1", "apse1" }, { "ap-southeast-2", "apse2" },
    { "eu-central-1", "euc1" },    { "us-east-1", "use1" },       { "us-east-2", "use2" },
    { "us-west-1", "usw1" },       { "us-west-2", "usw2" },
};

#define EC2_ZONES_PER_REGION 3

const struct ec2_region *
ec2_region_get(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(ec2_regions); i++)
        if (strcmp(ec2_regions[i].name, name) == 0)
            return &ec2_regions[i];
    return NULL;
}

/* True when `value` is among the strings of the array `list` (NULL list: no constraint). */
static bool
in_string_list(const cJSON *list, const char *value)
{
    if (!list)
        return true;
    const cJSON *v;
    cJSON_ArrayForEach(v, list)
    {
        if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
            return true;
    }
    return false;
}

/*
 * A filter set on string attributes: `attrs` names the attributes (filter names) and
 * `values` their values for one item. Returns 1 on match, 0 on no match, -1 with err set
 * for a filter name the operation does not support.
 */
static int
filters_match(const cJSON *filters, const char *const *attrs, const char *const *values, size_t n,
              struct aws_err *err)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, filters)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "Name");
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(f, "Values");
        if (!cJSON_IsString(name))
            continue;
        size_t i = 0;
        while (i < n && strcmp(attrs[i], name->valuestring) != 0)
            i++;
        if (i == n)
            return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE, "The filter '%s' is invalid",
                               name->valuestring);
        if (!in_string_list(vals, values[i]))
            return 0;
    }
    return 1;
}

int
ec2_describe_regions(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)call;
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(in, "RegionNames");
    const cJSON *filters = cJSON_GetObjectItemCaseSensitive(in, "Filters");
    const cJSON *v;
    cJSON_ArrayForEach(v, names)
    {
        if (cJSON_IsString(v) && !ec2_region_get(v->valuestring))
            return aws_err_setx(err, 400, "InvalidParameterValue", true, "Invalid region: %s",
                                v->valuestring);
    }
    cJSON *regions = cJSON_AddArrayToObject(out, "Regions");
    static const char *const attrs[] = { "region-name", "endpoint", "opt-in-status" };
    for (size_t i = 0; i < ARRAY_SIZE(ec2_regions); i++) {
        const struct ec2_region *r = &ec2_regions[i];
        if (!in_string_list(names, r->name))
            continue;
        struct buf endpoint = BUF_INIT;
        buf_addf(&endpoint, "ec2.%s.amazonaws.com", r->name);
        const char *values[] = { r->name, endpoint.data, "opt-in-not-required" };
        int m = filters_match(filters, attrs, values, ARRAY_SIZE(attrs), err);
        if (m == 1) {
            cJSON *item = cJSON_CreateObject();
            cJSON_AddStringToObject(item, "Endpoint", endpoint.data);
            cJSON_AddStringToObject(item, "RegionName", r->name);
            cJSON_AddStringToObject(item, "OptInStatus", "opt-in-not-required");
            cJSON_AddItemToArray(regions, item);
        }
        buf_release(&endpoint);
        if (m < 0)
            return -1;
    }
    return 0;
}

int
ec2_describe_availability_zones(struct aws_call *call, const cJSON *in, cJSON *out,
                                struct aws_err *err)
{
    const struct ec2_region *r = ec2_region_get(call->region);
    if (!r)
        return aws_err_setx(err, 400, "InvalidParameterValue", true, "Invalid region: %s",
                            call->region);
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(in, "ZoneNames");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(in, "ZoneIds");
    const cJSON *filters = cJSON_GetObjectItemCaseSensitive(in, "Filters");

    char zone_names[EC2_ZONES_PER_REGION][32], zone_ids[EC2_ZONES_PER_REGION][16];
    for (int z = 0; z < EC2_ZONES_PER_REGION; z++) {
        snprintf(zone_names[z], sizeof(zone_names[z]), "%s%c", r->name, 'a' + z);
        snprintf(zone_ids[z], sizeof(zone_ids[z]), "%s-az%d", r->zone_id, z + 1);
    }
    /* Naming a zone the region does not have is an error, not an empty answer. */
    const cJSON *v;
    cJSON_ArrayForEach(v, names)
    {
        bool known = false;
        for (int z = 0; z < EC2_ZONES_PER_REGION; z++)
            known = known || (cJSON_IsString(v) && strcmp(v->valuestring, zone_names[z]) == 0);
        if (!known)
            return aws_err_setx(err, 400, "InvalidParameterValue", true,
                                "Invalid availability zone: [%s]",
                                cJSON_IsString(v) ? v->valuestring : "");
    }
    cJSON_ArrayForEach(v, ids)
    {
        bool known = false;
        for (int z = 0; z < EC2_ZONES_PER_REGION; z++)
            known = known || (cJSON_IsString(v) && strcmp(v->valuestring, zone_ids[z]) == 0);
        if (!known)
            return aws_err_setx(err, 400, "InvalidParameterValue", true,
                                "Invalid availability zone ID: [%s]",
                                cJSON_IsString(v) ? v->valuestring : "");
    }

    static const char *const attrs[] = { "zone-name",     "zone-id",
                                         "region-name",   "state",
                                         "zone-type",     "group-name",
                                         "opt-in-status", "network-border-group" };
    cJSON *zones = cJSON_AddArrayToObject(out, "AvailabilityZones");
    for (int z = 0; z < EC2_ZONES_PER_REGION; z++) {
        if (!in_string_list(names, zone_names[z]) || !in_string_list(ids, zone_ids[z]))
            continue;
        const char *values[] = {
            zone_names[z], zone_ids[z],           r->name, "available", "availability-zone",
            r->name,       "opt-in-not-required", r->name
        };
        int m = filters_match(filters, attrs, values, ARRAY_SIZE(attrs), err);
        if (m < 0)
            return -1;
        if (m == 0)
            continue;
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "OptInStatus", "opt-in-not-required");
        cJSON_AddArrayToObject(item, "Messages");
        cJSON_AddStringToObject(item, "RegionName", r->name);
        cJSON_AddStringToObject(item, "ZoneName", zone_names[z]);
        cJSON_AddStringToObject(item, "ZoneId", zone_ids[z]);
        cJSON_AddStringToObject(item, "GroupName", r->name);
        cJSON_AddStringToObject(item, "NetworkBorderGroup", r->name);
        cJSON_AddStringToObject(item, "ZoneType", "availability-zone");
        cJSON_AddStringToObject(item, "State", "available");
        cJSON_AddItemToArray(zones, item);
    }
    return 0;
}
