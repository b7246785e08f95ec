/*
 * Auto Scaling tags: the tags of groups (asg_tags_*, which CreateAutoScalingGroup and
 * DeleteAutoScalingGroup use too) and the CreateOrUpdateTags, DeleteTags and DescribeTags
 * handlers. The only taggable resource is a group (ResourceType "auto-scaling-group"). SQL
 * lives in state/autoscaling_policies.c.
 */
#include "emulator/common.h"
#include "services/autoscaling/asg.h"
#include "services/autoscaling/autoscaling.h"

#include "emulator/app.h"
#include "state/autoscaling_policies.h"

/* "Number of tags per Auto Scaling group: 50" (ASUG/ec2-auto-scaling-quotas). */
#define TAGS_MAX_PER_GROUP 50
#define TAG_RESOURCE_TYPE  "auto-scaling-group"

static int
db_failed(struct aws_err *err)
{
    return aws_err_set(err, AWS_E_INTERNAL_ERROR, "An internal error occurred.");
}

static const char *
str_member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ValidationError for a group that does not exist (AWS-NOTES 3.7). */
static int
group_not_found(const char *group, struct aws_err *err)
{
    return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                       "AutoScalingGroup name not found - AutoScalingGroup '%s' not found", group);
}

/*
 * The group a tag of CreateOrUpdateTags / DeleteTags names (its ResourceId, else `group`),
 * checked to be a group of the call's region. NULL + err.
 */
static const char *
tag_group(struct aws_call *call, const cJSON *tag, const char *group, struct aws_err *err)
{
    const char *id = str_member(tag, "ResourceId");
    const char *type = str_member(tag, "ResourceType");
    if (!id || !id[0])
        id = group;
    /* Wordings of the next two not confirmed against AWS. */
    if (!id || !id[0]) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR, "ResourceId must be specified");
        return NULL;
    }
    if (type && type[0] && strcmp(type, TAG_RESOURCE_TYPE) != 0) {
        aws_err_set(err, AWS_E_VALIDATION_ERROR,
                    "Invalid resource type %s; only " TAG_RESOURCE_TYPE " is supported", type);
        return NULL;
    }
    struct asg_group_info info;
    int found = asg_group_get(call, id, &info);
    if (found < 0) {
        db_failed(err);
        return NULL;
    }
    if (found == 0) {
        group_not_found(id, err);
        return NULL;
    }
    return id;
}

/* Validates and writes one tag of `group`; -1 + err. */
static int
tag_put_one(struct aws_call *call, const char *group, const cJSON *tag, struct aws_err *err)
{
    const char *key = str_member(tag, "Key");
    const char *value = str_member(tag, "Value");
    const cJSON *prop = cJSON_GetObjectItemCaseSensitive(tag, "PropagateAtLaunch");
    if (!key || !key[0])
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "1 validation error detected: Value null at 'tags.member.key' failed "
                           "to satisfy constraint: Member must not be null");
    if (strlen(key) > 128 || (value && strlen(value) > 256))
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "1 validation error detected: Value '%s' at 'tags.member.%s' failed "
                           "to satisfy constraint: Member must have length less than or equal "
                           "to %d",
                           strlen(key) > 128 ? key : value, strlen(key) > 128 ? "key" : "value",
                           strlen(key) > 128 ? 128 : 256);
    /* "aws:" keys belong to AWS (aws:autoscaling:groupName, aws:cloudformation:*); the
       wording is not confirmed. */
    if (str_starts(key, "aws:"))
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "Tag keys starting with 'aws:' are reserved for internal use");
    struct asg_tag_row row = { 0 };
    snprintf(row.region, sizeof(row.region), "%s", call->region);
    snprintf(row.group, sizeof(row.group), "%s", group);
    snprintf(row.key, sizeof(row.key), "%s", key);
    snprintf(row.value, sizeof(row.value), "%s", value ? value : "");
    row.propagate = cJSON_IsTrue(prop);
    if (asg_store_tag_put(call->app->db, &row) < 0)
        return db_failed(err);
    return 0;
}

/* LimitExceeded once the group holds more than 50 tags (wording not confirmed). */
static int
tag_limit_check(struct aws_call *call, const char *group, struct aws_err *err)
{
    int n = asg_store_tag_count(call->app->db, call->region, group);
    if (n < 0)
        return db_failed(err);
    if (n > TAGS_MAX_PER_GROUP)
        return aws_err_setx(err, 400, "LimitExceeded", true,
                            "The number of tags for AutoScalingGroup '%s' exceeds the limit of "
                            "%d",
                            group, TAGS_MAX_PER_GROUP);
    return 0;
}

int
asg_tags_put(struct aws_call *call, const char *group, const cJSON *tags, struct aws_err *err)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        const char *id = str_member(t, "ResourceId");
        const char *type = str_member(t, "ResourceType");
        /* Within CreateAutoScalingGroup the tags can only be the new group's. */
        if (id && id[0] && strcmp(id, group) != 0)
            return group_not_found(id, err);
        if (type && type[0] && strcmp(type, TAG_RESOURCE_TYPE) != 0)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Invalid resource type %s; only " TAG_RESOURCE_TYPE " is supported",
                               type);
        if (tag_put_one(call, group, t, err) < 0)
            return -1;
    }
    return tag_limit_check(call, group, err);
}

/* Appends one row as a TagDescription to the array arg. */
static int
add_description(void *arg, const struct asg_tag_row *row)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "ResourceId", row->group);
    cJSON_AddStringToObject(t, "ResourceType", TAG_RESOURCE_TYPE);
    cJSON_AddStringToObject(t, "Key", row->key);
    cJSON_AddStringToObject(t, "Value", row->value);
    cJSON_AddBoolToObject(t, "PropagateAtLaunch", row->propagate);
    cJSON_AddItemToArray(arg, t);
    return 0;
}

int
asg_tags_of_group(struct aws_call *call, const char *group, cJSON *out)
{
    return asg_store_tag_each(call->app->db, call->region, group, add_description, out) < 0 ? -1
                                                                                            : 0;
}

int
asg_tags_drop_group(struct aws_call *call, const char *group)
{
    return asg_store_tag_drop_group(call->app->db, call->region, group);
}

/* ---- handlers ---- */

int
autoscaling_create_or_update_tags(struct aws_call *call, const cJSON *in, cJSON *out,
                                  struct aws_err *err)
{
    (void)out;
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "Tags");
    const cJSON *t;
    /* Every tag is checked and written; a failure rolls the whole call back. */
    cJSON_ArrayForEach(t, tags)
    {
        const char *group = tag_group(call, t, NULL, err);
        if (!group || tag_put_one(call, group, t, err) < 0)
            return -1;
    }
    cJSON_ArrayForEach(t, tags)
    {
        if (tag_limit_check(call, str_member(t, "ResourceId"), err) < 0)
            return -1;
    }
    return 0;
}

int
autoscaling_delete_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)out;
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "Tags");
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        const char *group = tag_group(call, t, NULL, err);
        if (!group)
            return -1;
        const char *key = str_member(t, "Key");
        if (!key || !key[0])
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "1 validation error detected: Value null at 'tags.member.key' "
                               "failed to satisfy constraint: Member must not be null");
        /* A Value, when given, must match: as EC2's DeleteTags treats it. */
        const char *value = str_member(t, "Value");
        if (asg_store_tag_delete(call->app->db, call->region, group, key, value) < 0)
            return db_failed(err);
    }
    return 0;
}

/* The filters DescribeTags supports (API reference, DescribeTags: Filters). */
static const char *const tag_filters[] = { "auto-scaling-group", "key", "value",
                                           "propagate-at-launch" };

/* Whether `value` is among the filter's Values. */
static bool
filter_has(const cJSON *filter, const char *value)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(filter, "Values"))
    {
        if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
            return true;
    }
    return false;
}

/* The state of one DescribeTags listing. */
struct tag_listing {
    const cJSON *filters; /* in.Filters (checked) */
    cJSON *all;           /* the matching TagDescriptions */
};

static int
list_tag(void *arg, const struct asg_tag_row *row)
{
    struct tag_listing *l = arg;
    const char *attrs[] = { row->group, row->key, row->value, row->propagate ? "true" : "false" };
    const cJSON *f;
    /* Filters are ANDed; the values of one filter are ORed (API reference, DescribeTags). */
    cJSON_ArrayForEach(f, l->filters)
    {
        const char *name = str_member(f, "Name");
        for (size_t i = 0; i < ARRAY_SIZE(tag_filters); i++)
            if (strcmp(name, tag_filters[i]) == 0 && !filter_has(f, attrs[i]))
                return 0;
    }
    return add_description(l->all, row);
}

int
autoscaling_describe_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const cJSON *filters = cJSON_GetObjectItemCaseSensitive(in, "Filters");
    const cJSON *f;
    cJSON_ArrayForEach(f, filters)
    {
        const char *name = str_member(f, "Name");
        size_t i = 0;
        while (name && i < ARRAY_SIZE(tag_filters) && strcmp(name, tag_filters[i]) != 0)
            i++;
        /* Wording as AWS answers an unknown filter name (not confirmed by a captured
           response). */
        if (!name || i == ARRAY_SIZE(tag_filters))
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Filter type %s is not correct. Allowed Filter types are: "
                               "auto-scaling-group key value propagate-at-launch",
                               name ? name : "null");
    }
    struct tag_listing l = { filters, cJSON_CreateArray() };
    if (asg_store_tag_each(call->app->db, call->region, NULL, list_tag, &l) < 0) {
        cJSON_Delete(l.all);
        return db_failed(err);
    }
    /* MaxRecords: default 50, at most 100 (API reference, DescribeTags). */
    return asg_page(l.all, in, out, "Tags", 50, 100, err);
}
