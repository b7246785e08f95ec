/*
 * EC2 tags: the one tag store every EC2 resource shares (ec2_tags_*), and the CreateTags,
 * DeleteTags and DescribeTags handlers. A resource's type comes from its id prefix. The
 * existence of a tagged resource is checked for the network area's own types (VPCs, subnets,
 * security groups, key pairs); other ids are checked for shape only.
 */
#include "emulator/common.h"
#include "services/ec2/ec2.h"
#include "services/ec2/ec2_internal.h"

#include "emulator/app.h"
#include "state/ec2_network.h"

/* EC2 limits: "Each resource can have a maximum of 50 tags", keys of up to 128 characters
   and values of up to 256 (EC2 API reference, CreateTags and the Tag data type). */
#define TAGS_MAX_PER_RESOURCE 50
#define TAG_KEY_MAX           128
#define TAG_VALUE_MAX         256

/* The resource type (as TagDescription.ResourceType names it) of an id's prefix. */
static const struct {
    const char *prefix;        /* id prefix, without the dash */
    const char *resource_type; /* ResourceType enum value */
} tag_types[] = {
    { "acl", "network-acl" },
    { "ami", "image" },
    { "dopt", "dhcp-options" },
    { "eipalloc", "elastic-ip" },
    { "eni", "network-interface" },
    { "i", "instance" },
    { "igw", "internet-gateway" },
    { "key", "key-pair" },
    { "lt", "launch-template" },
    { "nat", "natgateway" },
    { "rtb", "route-table" },
    { "sg", "security-group" },
    { "sgr", "security-group-rule" },
    { "snap", "snapshot" },
    { "subnet", "subnet" },
    { "vol", "volume" },
    { "vpc", "vpc" },
};

/* The resource type of a well-formed id, or NULL. */
static const char *
resource_type_of(const char *id)
{
    for (size_t i = 0; i < ARRAY_SIZE(tag_types); i++)
        if (ec2_id_well_formed(id, tag_types[i].prefix))
            return tag_types[i].resource_type;
    return NULL;
}

/*
 * Checks that a resource named in CreateTags/DeleteTags exists: its type, or -1 with
 * InvalidID "The ID 'x' is not valid" (wording quoted in pulumi/pulumi-aws#502 and
 * aws/aws-cli#4109) or the type's own NotFound error.
 */
static const char *
resource_check(struct aws_call *call, const char *id, struct aws_err *err)
{
    const char *type = resource_type_of(id);
    if (!type) {
        aws_err_setx(err, 400, "InvalidID", true, "The ID '%s' is not valid", id);
        return NULL;
    }
    struct db *db = call->app->db;
    int found = 1;
    if (strcmp(type, "vpc") == 0) {
        struct ec2_vpc_row v;
        found = ec2_store_vpc_get(db, call->region, id, &v);
        if (found == 0)
            aws_err_setx(err, 400, "InvalidVpcID.NotFound", true, "The vpc ID '%s' does not exist",
                         id);
    } else if (strcmp(type, "subnet") == 0) {
        struct ec2_subnet_row s;
        found = ec2_store_subnet_get(db, call->region, id, &s);
        if (found == 0)
            aws_err_setx(err, 400, "InvalidSubnetID.NotFound", true,
                         "The subnet ID '%s' does not exist", id);
    } else if (strcmp(type, "security-group") == 0) {
        struct ec2_sg_row g;
        found = ec2_store_sg_get(db, call->region, id, &g);
        if (found == 0)
            aws_err_setx(err, 400, "InvalidGroup.NotFound", true,
                         "The security group '%s' does not exist", id);
    } else if (strcmp(type, "key-pair") == 0) {
        struct ec2_key_pair_row *k = xmalloc(sizeof(*k));
        found = ec2_store_key_pair_get(db, call->region, id, k);
        free(k);
        if (found == 0)
            aws_err_setx(err, 400, "InvalidKeyPair.NotFound", true,
                         "The key pair '%s' does not exist", id);
    }
    if (found < 0)
        ec2_db_failed(err);
    if (found <= 0)
        return NULL;
    return type;
}

/* Checks one {Key, Value} against EC2's limits; -1 + err. */
static int
tag_check(const cJSON *tag, const char **key, const char **value, struct aws_err *err)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(tag, "Key");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(tag, "Value");
    *key = cJSON_IsString(k) ? k->valuestring : "";
    *value = cJSON_IsString(v) ? v->valuestring : "";
    /* "Value ( '' ) for parameter Tag key is invalid. Tag key cannot be null or empty."
       (quoted in aws/aws-cli#3283). */
    if ((*key)[0] == '\0')
        return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                           "Value ( '' ) for parameter Tag key is invalid. Tag key cannot be null "
                           "or empty.");
    /* The next three wordings follow the same pattern; not confirmed against AWS. */
    if (strlen(*key) > TAG_KEY_MAX)
        return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                           "Tag key exceeds the maximum length of %d characters", TAG_KEY_MAX);
    if (strlen(*value) > TAG_VALUE_MAX)
        return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                           "Tag value exceeds the maximum length of %d characters", TAG_VALUE_MAX);
    if (str_starts(*key, "aws:"))
        return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                           "Value ( %s ) for parameter key is invalid. Tag keys starting with "
                           "'aws:' are reserved for internal use",
                           *key);
    return 0;
}

int
ec2_tags_put(struct aws_call *call, const char *resource_id, const char *resource_type,
             const cJSON *tags, struct aws_err *err)
{
    struct db *db = call->app->db;
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        const char *key, *value;
        if (tag_check(t, &key, &value, err) < 0)
            return -1;
        if (ec2_store_tag_put(db, call->region, resource_id, resource_type, key, value) < 0)
            return ec2_db_failed(err);
    }
    int n = ec2_store_tag_count(db, resource_id);
    if (n < 0)
        return ec2_db_failed(err);
    /* Wording not confirmed against AWS; the code is the one the EC2 error list names. */
    if (n > TAGS_MAX_PER_RESOURCE)
        return aws_err_setx(err, 400, "TagLimitExceeded", true,
                            "The maximum number of Tags for a resource has been reached.");
    return 0;
}

/* Resource types a create call tags besides its own resource (ignored by that call's
   ec2_tags_apply_specs): RunInstances also tags volumes, interfaces, spot requests;
   CreateImage also tags snapshots. */
static bool
companion_type(const char *resource_type, const char *spec_type)
{
    static const char *const with_instance[] = { "volume", "network-interface",
                                                 "spot-instances-request", "elastic-gpu" };
    if (strcmp(resource_type, "instance") == 0) {
        for (size_t i = 0; i < ARRAY_SIZE(with_instance); i++)
            if (strcmp(spec_type, with_instance[i]) == 0)
                return true;
    }
    return strcmp(resource_type, "image") == 0 && strcmp(spec_type, "snapshot") == 0;
}

int
ec2_tags_apply_specs(struct aws_call *call, const cJSON *specs, const char *resource_type,
                     const char *resource_id, struct aws_err *err)
{
    const cJSON *spec;
    cJSON_ArrayForEach(spec, specs)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(spec, "ResourceType");
        const char *ts = cJSON_IsString(type) ? type->valuestring : "";
        if (strcmp(ts, resource_type) != 0) {
            if (companion_type(resource_type, ts))
                continue;
            /* "'vpc-endpoint-service' is not a valid taggable resource type for this
               operation." with code InvalidParameter (quoted in jonrau1/SyntheticSun#13). */
            return aws_err_setx(err, 400, "InvalidParameter", true,
                                "'%s' is not a valid taggable resource type for this operation.",
                                ts);
        }
        if (ec2_tags_put(call, resource_id, resource_type,
                         cJSON_GetObjectItemCaseSensitive(spec, "Tags"), err) < 0)
            return -1;
    }
    return 0;
}

static int
add_tag_cb(void *arg, const struct ec2_tag_row *row)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "Key", row->key);
    cJSON_AddStringToObject(t, "Value", row->value);
    cJSON_AddItemToArray(arg, t);
    return 0;
}

void
ec2_tags_add_to(struct aws_call *call, const char *resource_id, cJSON *item)
{
    cJSON *tags = cJSON_CreateArray();
    /* A read failure is logged by the store; the item then shows no tags rather than
       failing a whole Describe. */
    (void)ec2_store_tag_each_of(call->app->db, resource_id, add_tag_cb, tags);
    if (cJSON_GetArraySize(tags) > 0)
        cJSON_AddItemToObject(item, "Tags", tags);
    else
        cJSON_Delete(tags);
}

void
ec2_tags_drop(struct aws_call *call, const char *resource_id)
{
    (void)ec2_store_tag_delete_all(call->app->db, resource_id);
}

/* ---- handlers ---- */

int
ec2_create_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)out;
    const cJSON *resources = cJSON_GetObjectItemCaseSensitive(in, "Resources");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "Tags");
    const cJSON *r;
    /* Every id is checked before any tag is written, so a bad id changes nothing. */
    cJSON_ArrayForEach(r, resources)
    {
        if (!cJSON_IsString(r) || !resource_check(call, r->valuestring, err))
            return -1;
    }
    cJSON_ArrayForEach(r, resources)
    {
        if (ec2_tags_put(call, r->valuestring, resource_type_of(r->valuestring), tags, err) < 0)
            return -1;
    }
    return 0;
}

int
ec2_delete_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)out;
    const cJSON *resources = cJSON_GetObjectItemCaseSensitive(in, "Resources");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "Tags");
    struct db *db = call->app->db;
    const cJSON *r;
    cJSON_ArrayForEach(r, resources)
    {
        if (!cJSON_IsString(r) || !resource_check(call, r->valuestring, err))
            return -1;
    }
    cJSON_ArrayForEach(r, resources)
    {
        /* "If you omit this parameter, we delete all user-defined tags for the specified
           resources." A key without a value deletes whatever its value; a key with a value
           (even "") deletes only that value (DeleteTags API reference). */
        if (!tags) {
            if (ec2_store_tag_delete_all(db, r->valuestring) < 0)
                return ec2_db_failed(err);
            continue;
        }
        const cJSON *t;
        cJSON_ArrayForEach(t, tags)
        {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "Key");
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, "Value");
            if (!cJSON_IsString(k))
                continue;
            if (ec2_store_tag_delete(db, r->valuestring, k->valuestring,
                                     cJSON_IsString(v) ? v->valuestring : NULL) < 0)
                return ec2_db_failed(err);
        }
    }
    return 0;
}

static const struct ec2_filter_def describe_tags_filters[] = {
    { "key", "Key" },
    { "resource-id", "ResourceId" },
    { "resource-type", "ResourceType" },
    { "value", "Value" },
};

struct describe_tags_ctx {
    const cJSON *filters; /* the request's Filters */
    cJSON *all;           /* matching TagDescriptions */
    struct aws_err *err;  /* set when a filter is unknown */
};

static int
describe_tags_cb(void *arg, const struct ec2_tag_row *row)
{
    struct describe_tags_ctx *c = arg;
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "Key", row->key);
    cJSON_AddStringToObject(item, "ResourceId", row->resource_id);
    cJSON_AddStringToObject(item, "ResourceType", row->resource_type);
    cJSON_AddStringToObject(item, "Value", row->value);
    /* "tag:KEY" filters the tags themselves: the item carries itself as its Tags while it is
       matched. */
    cJSON *self = cJSON_AddArrayToObject(item, "Tags");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "Key", row->key);
    cJSON_AddStringToObject(t, "Value", row->value);
    cJSON_AddItemToArray(self, t);
    int m = ec2_filter_match(describe_tags_filters, ARRAY_SIZE(describe_tags_filters), c->filters,
                             item, c->err);
    cJSON_DeleteItemFromObjectCaseSensitive(item, "Tags");
    if (m == 1)
        cJSON_AddItemToArray(c->all, item);
    else
        cJSON_Delete(item);
    return m < 0 ? -2 : 0;
}

int
ec2_describe_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    struct describe_tags_ctx c = { cJSON_GetObjectItemCaseSensitive(in, "Filters"),
                                   cJSON_CreateArray(), err };
    int rc = ec2_store_tag_each(call->app->db, call->region, describe_tags_cb, &c);
    if (rc != 0) {
        cJSON_Delete(c.all);
        return rc == -2 ? -1 : ec2_db_failed(err);
    }
    /* "This value can be between 5 and 1000." (DescribeTags MaxResults). */
    return ec2_paginate(c.all, in, out, "Tags", 5, 1000, err);
}
