/*
 * EC2 launch templates: Create/Describe/Modify/DeleteLaunchTemplate, the version calls, and
 * ec2_launch_template_resolve() for RunInstances and Auto Scaling. A version's data is kept
 * as the RequestLaunchTemplateData tree (JSON) it was created with and is not validated, as
 * on AWS ("parameters are not validated when you create the launch template", EC2 User
 * Guide): an image or key named in it may not exist until a launch uses it. Rows live in
 * state/ec2_images.c.
 */
#include "emulator/common.h"
#include "services/ec2/ec2.h"
#include "services/ec2/ec2_internal.h"

#include "emulator/app.h"
#include "emulator/buf.h"
#include "state/ec2_images.h"

#include <errno.h>

/* ---- small helpers ---- */

static struct db *
call_db(struct aws_call *call)
{
    return call->app->db;
}

static const char *
get_string(const cJSON *in, const char *member)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, member);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* "lt-" and 17 hex digits (AWS's form; 8 are also accepted like every EC2 id). */
static bool
lt_id_ok(const char *id)
{
    return ec2_id_well_formed(id, "lt");
}

/* LaunchTemplateName: 3-128 of [a-zA-Z0-9().\-/_] (the model's pattern). */
static bool
lt_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 3 || n > 128)
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("().-/_", c)))
            return false;
    }
    return true;
}

static int
name_malformed(struct aws_err *err)
{
    /* github-aws-runners/terraform-aws-github-runner#932 quotes this wording; AWS's error
       code list names the code InvalidLaunchTemplateName.MalformedException. */
    return aws_err_setx(err, 400, "InvalidLaunchTemplateName.MalformedException", true,
                        "A launch template name must be between 3 and 128 characters, and may "
                        "contain letters, numbers, and the following characters: - ( ) . / _.");
}

static int
id_malformed(struct aws_err *err, const char *id)
{
    /* Wording from another emulator (fakecloud); not confirmed against AWS. */
    return aws_err_setx(err, 400, "InvalidLaunchTemplateId.Malformed", true,
                        "The specified ID for the launch template, %s, is malformed.", id);
}

static int
id_not_found(struct aws_err *err, const char *id)
{
    /* "The specified launch template, with template ID lt-019c5be5798f24ca7, does not
       exist." (aws/karpenter-provider-aws#5665). */
    return aws_err_setx(err, 400, "InvalidLaunchTemplateId.NotFound", true,
                        "The specified launch template, with template ID %s, does not exist.", id);
}

static int
name_not_found(struct aws_err *err, const char *name)
{
    /* As the CLI printed it for describe-launch-template-versions (getmoto/moto#5477). */
    return aws_err_setx(err, 400, "InvalidLaunchTemplateName.NotFoundException", true,
                        "The specified launch template, with template name %s, does not exist.",
                        name);
}

static int
version_not_found(struct aws_err *err, const char *version, const char *id)
{
    /* "Could not find the specified version 1 for the launch template with ID
       lt-0f3e2efa769a315f6." (eksctl-io/eksctl#7786). */
    return aws_err_setx(err, 400, "InvalidLaunchTemplateId.VersionNotFound", true,
                        "Could not find the specified version %s for the launch template with "
                        "ID %s.",
                        version, id);
}

/*
 * The template a call names by LaunchTemplateId or LaunchTemplateName (exactly one), in the
 * call's region.
 */
static int
find_template(struct aws_call *call, const char *id, const char *name, struct ec2_lt_row *out,
              struct aws_err *err)
{
    /* Neither / both: wording from another emulator (fakecloud), not confirmed. */
    if (!id && !name)
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "The request must contain the parameter launchTemplateName or "
                           "launchTemplateId");
    if (id && name)
        return aws_err_set(err, AWS_E_INVALID_PARAMETER_COMBINATION,
                           "Both a launch template ID and a launch template name were "
                           "specified. Specify either a launch template ID or a launch "
                           "template name, but not both.");
    int found;
    if (id) {
        if (!lt_id_ok(id))
            return id_malformed(err, id);
        found = ec2_store_lt_get(call_db(call), call->region, id, out);
    } else {
        found = ec2_store_lt_get_by_name(call_db(call), call->region, name, out);
    }
    if (found < 0)
        return ec2_db_failed(err);
    if (!found)
        return id ? id_not_found(err, id) : name_not_found(err, name);
    return 0;
}

static int64_t
latest_version(struct aws_call *call, const struct ec2_lt_row *lt, struct aws_err *err)
{
    int64_t v = 0;
    if (ec2_store_ltv_latest(call_db(call), lt->id, &v) < 0)
        return ec2_db_failed(err);
    return v;
}

/* A positive decimal version number; false for anything else. */
static bool
parse_version(const char *s, int64_t *v)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
        return false;
    *v = strtoll(s, NULL, 10);
    return *v > 0;
}

/*
 * The number a version selector names: "$Latest", "$Default" (also for NULL) or a number,
 * which must exist. -1 + VersionNotFound otherwise.
 */
static int
select_version(struct aws_call *call, const struct ec2_lt_row *lt, const char *sel,
               int64_t *version, struct aws_err *err)
{
    int64_t v = 0;
    if (!sel || strcmp(sel, "$Default") == 0) {
        v = lt->default_ver;
    } else if (strcmp(sel, "$Latest") == 0) {
        v = latest_version(call, lt, err);
        if (v < 0)
            return -1;
    } else if (!parse_version(sel, &v)) {
        return version_not_found(err, sel, lt->id);
    }
    struct ec2_ltv_row row;
    int found = ec2_store_ltv_get(call_db(call), lt->id, v, &row);
    if (found < 0)
        return ec2_db_failed(err);
    if (!found) {
        char text[24];
        snprintf(text, sizeof(text), "%lld", (long long)v);
        return version_not_found(err, sel && sel[0] != '$' ? sel : text, lt->id);
    }
    ec2_store_ltv_release(&row);
    *version = v;
    return 0;
}

static void
created_by(struct aws_call *call, char *out, size_t outsz)
{
    snprintf(out, outsz, "arn:aws:iam::%s:root", call->account_id);
}

/* The LaunchTemplate structure. */
static cJSON *
lt_item(struct aws_call *call, const struct ec2_lt_row *lt, int64_t latest)
{
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "LaunchTemplateId", lt->id);
    cJSON_AddStringToObject(item, "LaunchTemplateName", lt->name);
    cJSON_AddNumberToObject(item, "CreateTime", (double)lt->created_ms);
    cJSON_AddStringToObject(item, "CreatedBy", lt->created_by);
    cJSON_AddNumberToObject(item, "DefaultVersionNumber", (double)lt->default_ver);
    cJSON_AddNumberToObject(item, "LatestVersionNumber", (double)latest);
    ec2_tags_add_to(call, lt->id, item);
    return item;
}

/* The LaunchTemplateVersion structure. */
static cJSON *
ltv_item(const struct ec2_lt_row *lt, const struct ec2_ltv_row *v)
{
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "LaunchTemplateId", lt->id);
    cJSON_AddStringToObject(item, "LaunchTemplateName", lt->name);
    cJSON_AddNumberToObject(item, "VersionNumber", (double)v->version);
    if (v->description)
        cJSON_AddStringToObject(item, "VersionDescription", v->description);
    cJSON_AddNumberToObject(item, "CreateTime", (double)v->created_ms);
    cJSON_AddStringToObject(item, "CreatedBy", v->created_by);
    cJSON_AddBoolToObject(item, "DefaultVersion", v->version == lt->default_ver);
    /* RequestLaunchTemplateData and ResponseLaunchTemplateData share their member names
       (the response only adds a few), so the stored request tree answers as it is. */
    cJSON *data = cJSON_Parse(v->data);
    cJSON_AddItemToObject(item, "LaunchTemplateData", data ? data : cJSON_CreateObject());
    return item;
}

static int
put_version(struct aws_call *call, const struct ec2_lt_row *lt, int64_t version,
            const char *description, const cJSON *data, struct ec2_ltv_row *row,
            struct aws_err *err)
{
    memset(row, 0, sizeof(*row));
    snprintf(row->template_id, sizeof(row->template_id), "%s", lt->id);
    row->version = version;
    row->description = description ? xstrdup(description) : NULL;
    row->data = data ? cJSON_PrintUnformatted(data) : xstrdup("{}");
    created_by(call, row->created_by, sizeof(row->created_by));
    row->created_ms = call->now_ms;
    if (ec2_store_ltv_put(call_db(call), row) < 0) {
        ec2_store_ltv_release(row);
        return ec2_db_failed(err);
    }
    return 0;
}

/* ---- CreateLaunchTemplate ---- */

int
ec2_create_launch_template(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    if (ec2_dry_run(in, err) < 0)
        return -1;
    const char *name = get_string(in, "LaunchTemplateName");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(in, "LaunchTemplateData");
    if (!name)
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "The request must contain the parameter LaunchTemplateName");
    if (!cJSON_IsObject(data))
        /* CloudFormation relays AWS's wording (awsdocs/aws-cloudformation-user-guide#453). */
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "No launch template data was provided. Launch template data is "
                           "required to create a launch template.");
    if (!lt_name_ok(name))
        return name_malformed(err);

    struct ec2_lt_row lt;
    int found = ec2_store_lt_get_by_name(call_db(call), call->region, name, &lt);
    if (found < 0)
        return ec2_db_failed(err);
    if (found)
        /* "Launch template name already in use." (hashicorp/packer#7817). */
        return aws_err_setx(err, 400, "InvalidLaunchTemplateName.AlreadyExistsException", true,
                            "Launch template name already in use.");

    memset(&lt, 0, sizeof(lt));
    ec2_new_id(call, "lt", lt.id, sizeof(lt.id));
    snprintf(lt.region, sizeof(lt.region), "%s", call->region);
    snprintf(lt.name, sizeof(lt.name), "%s", name);
    lt.default_ver = 1;
    lt.next_ver = 2;
    created_by(call, lt.created_by, sizeof(lt.created_by));
    lt.created_ms = call->now_ms;
    if (ec2_store_lt_put(call_db(call), &lt) < 0)
        return ec2_db_failed(err);
    struct ec2_ltv_row v;
    if (put_version(call, &lt, 1, get_string(in, "VersionDescription"), data, &v, err) < 0)
        return -1;
    ec2_store_ltv_release(&v);
    const cJSON *specs = cJSON_GetObjectItemCaseSensitive(in, "TagSpecifications");
    if (specs && ec2_tags_apply_specs(call, specs, "launch-template", lt.id, err) < 0)
        return -1;
    cJSON_AddItemToObject(out, "LaunchTemplate", lt_item(call, &lt, 1));
    return 0;
}

/* ---- CreateLaunchTemplateVersion ---- */

int
ec2_create_launch_template_version(struct aws_call *call, const cJSON *in, cJSON *out,
                                   struct aws_err *err)
{
    if (ec2_dry_run(in, err) < 0)
        return -1;
    struct ec2_lt_row lt;
    if (find_template(call, get_string(in, "LaunchTemplateId"),
                      get_string(in, "LaunchTemplateName"), &lt, err) < 0)
        return -1;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(in, "LaunchTemplateData");
    if (!cJSON_IsObject(data))
        return aws_err_set(err, AWS_E_MISSING_PARAMETER,
                           "The request must contain the parameter LaunchTemplateData");

    /* "Amazon EC2 copies the launch template data from the source version and then applies
       any launch template data you specify in the new version" (CreateLaunchTemplateVersion,
       SourceVersion): a member given replaces the source's member as a whole. */
    cJSON *merged = NULL;
    const char *source = get_string(in, "SourceVersion");
    if (source) {
        int64_t sv;
        if (select_version(call, &lt, source, &sv, err) < 0)
            return -1;
        struct ec2_ltv_row base;
        int found = ec2_store_ltv_get(call_db(call), lt.id, sv, &base);
        if (found <= 0)
            return ec2_db_failed(err);
        merged = cJSON_Parse(base.data);
        ec2_store_ltv_release(&base);
        if (!cJSON_IsObject(merged)) {
            cJSON_Delete(merged);
            merged = cJSON_CreateObject();
        }
        const cJSON *m;
        cJSON_ArrayForEach(m, data)
        {
            cJSON_DeleteItemFromObjectCaseSensitive(merged, m->string);
            cJSON_AddItemToObject(merged, m->string, cJSON_Duplicate(m, true));
        }
    }

    int64_t version = lt.next_ver;
    lt.next_ver++;
    struct ec2_ltv_row v;
    int rc = put_version(call, &lt, version, get_string(in, "VersionDescription"),
                         merged ? merged : data, &v, err);
    cJSON_Delete(merged);
    if (rc < 0)
        return -1;
    if (ec2_store_lt_update(call_db(call), &lt) < 0) {
        ec2_store_ltv_release(&v);
        return ec2_db_failed(err);
    }
    cJSON_AddItemToObject(out, "LaunchTemplateVersion", ltv_item(&lt, &v));
    ec2_store_ltv_release(&v);
    return 0;
}

/* ---- DescribeLaunchTemplates ---- */

static const struct ec2_filter_def lt_filters[] = {
    { "create-time", "CreateTime" },
    { "launch-template-name", "LaunchTemplateName" },
};

static bool
list_has(const cJSON *list, const char *s)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, list)
    {
        if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
            return true;
    }
    return false;
}

struct describe_lt_ctx {
    struct aws_call *call;
    const cJSON *ids;     /* LaunchTemplateIds, or NULL */
    const cJSON *names;   /* LaunchTemplateNames, or NULL */
    const cJSON *filters; /* Filters, or NULL */
    cJSON *all;           /* the items kept */
    struct aws_err *err;  /* set on failure */
};

static int
describe_lt_one(void *arg, const struct ec2_lt_row *lt)
{
    struct describe_lt_ctx *c = arg;
    if (cJSON_GetArraySize(c->ids) > 0 && !list_has(c->ids, lt->id))
        return 0;
    if (cJSON_GetArraySize(c->names) > 0 && !list_has(c->names, lt->name))
        return 0;
    int64_t latest = latest_version(c->call, lt, c->err);
    if (latest < 0)
        return -1;
    cJSON *item = lt_item(c->call, lt, latest);
    int m = ec2_filter_match(lt_filters, ARRAY_SIZE(lt_filters), c->filters, item, c->err);
    if (m == 1)
        cJSON_AddItemToArray(c->all, item);
    else
        cJSON_Delete(item);
    return m < 0 ? -1 : 0;
}

int
ec2_describe_launch_templates(struct aws_call *call, const cJSON *in, cJSON *out,
                              struct aws_err *err)
{
    if (ec2_dry_run(in, err) < 0)
        return -1;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(in, "LaunchTemplateIds");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(in, "LaunchTemplateNames");
    const cJSON *v;
    /* Naming a template that does not exist is an error, not an empty answer. */
    cJSON_ArrayForEach(v, ids)
    {
        if (!cJSON_IsString(v))
            continue;
        if (!lt_id_ok(v->valuestring))
            return id_malformed(err, v->valuestring);
        struct ec2_lt_row lt;
        int found = ec2_store_lt_get(call_db(call), call->region, v->valuestring, &lt);
        if (found < 0)
            return ec2_db_failed(err);
        if (!found)
            return id_not_found(err, v->valuestring);
    }
    cJSON_ArrayForEach(v, names)
    {
        if (!cJSON_IsString(v))
            continue;
        struct ec2_lt_row lt;
        int found = ec2_store_lt_get_by_name(call_db(call), call->region, v->valuestring, &lt);
        if (found < 0)
            return ec2_db_failed(err);
        if (!found)
            /* DescribeLaunchTemplates' own wording (asserted in getmoto/moto's tests, and
               quoted from AWS in floci-io/floci#3246). */
            return aws_err_setx(err, 400, "InvalidLaunchTemplateName.NotFoundException", true,
                                "At least one of the launch templates specified in the "
                                "request does not exist.");
    }
    struct describe_lt_ctx c = {
        .call = call,
        .ids = ids,
        .names = names,
        .filters = cJSON_GetObjectItemCaseSensitive(in, "Filters"),
        .all = cJSON_CreateArray(),
        .err = err,
    };
    aws_err_clear(err);
    if (ec2_store_lts_each(call_db(call), call->region, describe_lt_one, &c) < 0) {
        cJSON_Delete(c.all);
        return err->code ? -1 : ec2_db_failed(err);
    }
    return ec2_paginate(c.all, in, out, "LaunchTemplates", 1, 200, err);
}

/* ---- DescribeLaunchTemplateVersions ---- */

static const struct ec2_filter_def ltv_filters[] = {
    { "create-time", "CreateTime" },
    { "ebs-optimized", "LaunchTemplateData.EbsOptimized" },
    { "host-resource-group-arn", "LaunchTemplateData.Placement.HostResourceGroupArn" },
    { "http-endpoint", "LaunchTemplateData.MetadataOptions.HttpEndpoint" },
    { "http-protocol-ipv4", "LaunchTemplateData.MetadataOptions.HttpProtocolIpv4" },
    { "http-tokens", "LaunchTemplateData.MetadataOptions.HttpTokens" },
    { "iam-instance-profile", "LaunchTemplateData.IamInstanceProfile.Arn" },
    { "image-id", "LaunchTemplateData.ImageId" },
    { "instance-type", "LaunchTemplateData.InstanceType" },
    { "is-default-version", "DefaultVersion" },
    { "kernel-id", "LaunchTemplateData.KernelId" },
    { "license-configuration-arn",
      "LaunchTemplateData.LicenseSpecifications.LicenseConfigurationArn" },
    { "network-card-index", "LaunchTemplateData.NetworkInterfaces.NetworkCardIndex" },
    { "ram-disk-id", "LaunchTemplateData.RamDiskId" },
};

struct describe_ltv_ctx {
    struct aws_call *call;
    const struct ec2_lt_row *lt; /* the template whose versions are walked */
    int64_t *wanted;             /* selected version numbers (n_wanted), or NULL for all */
    size_t n_wanted;
    int64_t min, max;     /* MinVersion / MaxVersion, 0 when absent */
    const cJSON *filters; /* Filters, or NULL */
    cJSON *all;           /* the items kept */
    struct aws_err *err;  /* set on failure */
};

static int
describe_ltv_one(void *arg, const struct ec2_ltv_row *v)
{
    struct describe_ltv_ctx *c = arg;
    if (c->wanted) {
        bool hit = false;
        for (size_t i = 0; i < c->n_wanted && !hit; i++)
            hit = c->wanted[i] == v->version;
        if (!hit)
            return 0;
    }
    if ((c->min && v->version < c->min) || (c->max && v->version > c->max))
        return 0;
    cJSON *item = ltv_item(c->lt, v);
    int m = ec2_filter_match(ltv_filters, ARRAY_SIZE(ltv_filters), c->filters, item, c->err);
    if (m == 1)
        cJSON_AddItemToArray(c->all, item);
    else
        cJSON_Delete(item);
    return m < 0 ? -1 : 0;
}

/*
 * Adds one template's selected versions to c->all, highest first. With an explicit
 * template every named version must exist; across all templates (no template named) a
 * version one template lacks is just not listed.
 */
static int
describe_versions_of(struct describe_ltv_ctx *c, const struct ec2_lt_row *lt, const cJSON *versions,
                     bool strict)
{
    c->lt = lt;
    c->wanted = NULL;
    c->n_wanted = 0;
    int n = cJSON_GetArraySize(versions);
    if (n > 0) {
        c->wanted = xcalloc((size_t)n, sizeof(*c->wanted));
        const cJSON *v;
        cJSON_ArrayForEach(v, versions)
        {
            if (!cJSON_IsString(v))
                continue;
            int64_t num;
            if (select_version(c->call, lt, v->valuestring, &num, c->err) < 0) {
                if (strict || !c->err->code || strcmp(c->err->code, "InternalError") == 0) {
                    free(c->wanted);
                    return -1;
                }
                aws_err_clear(c->err);
                continue;
            }
            c->wanted[c->n_wanted++] = num;
        }
        if (c->n_wanted == 0) {
            free(c->wanted);
            c->wanted = NULL;
            return 0;
        }
    }
    aws_err_clear(c->err);
    int rc = ec2_store_ltvs_each(call_db(c->call), lt->id, describe_ltv_one, c);
    free(c->wanted);
    c->wanted = NULL;
    if (rc < 0)
        return c->err->code ? -1 : ec2_db_failed(c->err);
    return 0;
}

struct all_lts {
    struct ec2_lt_row *v; /* n rows */
    size_t n;
    size_t alloc;
};

static int
collect_lt(void *arg, const struct ec2_lt_row *lt)
{
    struct all_lts *a = arg;
    if (a->n == a->alloc) {
        a->alloc = a->alloc ? a->alloc * 2 : 8;
        a->v = xrealloc(a->v, a->alloc * sizeof(*a->v));
    }
    a->v[a->n++] = *lt;
    return 0;
}

int
ec2_describe_launch_template_versions(struct aws_call *call, const cJSON *in, cJSON *out,
                                      struct aws_err *err)
{
    if (ec2_dry_run(in, err) < 0)
        return -1;
    const char *id = get_string(in, "LaunchTemplateId");
    const char *name = get_string(in, "LaunchTemplateName");
    const cJSON *versions = cJSON_GetObjectItemCaseSensitive(in, "Versions");
    struct describe_ltv_ctx c = {
        .call = call,
        .filters = cJSON_GetObjectItemCaseSensitive(in, "Filters"),
        .all = cJSON_CreateArray(),
        .err = err,
    };
    /* MinVersion / MaxVersion bound the numbers (both inclusive here; AWS documents them
       as "the version number after which" / "up to which"). */
    const char *min = get_string(in, "MinVersion");
    const char *max = get_string(in, "MaxVersion");
    int rc = 0;
    if ((min && !parse_version(min, &c.min)) || (max && !parse_version(max, &c.max)))
        rc = aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                         "MinVersion and MaxVersion must be version numbers.");
    if (rc == 0 && (id || name)) {
        struct ec2_lt_row lt;
        rc = find_template(call, id, name, &lt, err);
        if (rc == 0)
            rc = describe_versions_of(&c, &lt, versions, true);
    } else if (rc == 0) {
        /* No template named: "To describe all the latest or default launch template
           versions in your account, you must omit this parameter" (LaunchTemplateId). */
        struct all_lts a = { 0 };
        if (ec2_store_lts_each(call_db(call), call->region, collect_lt, &a) < 0)
            rc = ec2_db_failed(err);
        for (size_t i = 0; rc == 0 && i < a.n; i++)
            rc = describe_versions_of(&c, &a.v[i], versions, false);
        free(a.v);
    }
    if (rc < 0) {
        cJSON_Delete(c.all);
        return -1;
    }
    return ec2_paginate(c.all, in, out, "LaunchTemplateVersions", 1, 200, err);
}

/* ---- ModifyLaunchTemplate ---- */

int
ec2_modify_launch_template(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    if (ec2_dry_run(in, err) < 0)
        return -1;
    struct ec2_lt_row lt;
    if (find_template(call, get_string(in, "LaunchTemplateId"),
                      get_string(in, "LaunchTemplateName"), &lt, err) < 0)
        return -1;
    /* DefaultVersion (SetDefaultVersion on the wire): "The version number of the launch
       template to set as the default version." $Latest / $Default are taken too. */
    const char *def = get_string(in, "DefaultVersion");
    if (def) {
        int64_t v;
        if (select_version(call, &lt, def, &v, err) < 0)
            return -1;
        lt.default_ver = v;
        if (ec2_store_lt_update(call_db(call), &lt) < 0)
            return ec2_db_failed(err);
    }
    int64_t latest = latest_version(call, &lt, err);
    if (latest < 0)
        return -1;
    cJSON_AddItemToObject(out, "LaunchTemplate", lt_item(call, &lt, latest));
    return 0;
}

/* ---- DeleteLaunchTemplate ---- */

int
ec2_delete_launch_template(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    if (ec2_dry_run(in, err) < 0)
        return -1;
    struct ec2_lt_row lt;
    if (find_template(call, get_string(in, "LaunchTemplateId"),
                      get_string(in, "LaunchTemplateName"), &lt, err) < 0)
        return -1;
    int64_t latest = latest_version(call, &lt, err);
    if (latest < 0)
        return -1;
    cJSON *item = lt_item(call, &lt, latest);
    if (ec2_store_lt_delete(call_db(call), lt.id) < 0) {
        cJSON_Delete(item);
        return ec2_db_failed(err);
    }
    ec2_tags_drop(call, lt.id);
    cJSON_AddItemToObject(out, "LaunchTemplate", item);
    return 0;
}

/* ---- DeleteLaunchTemplateVersions ---- */

static void
add_version_result(cJSON *list, const struct ec2_lt_row *lt, int64_t version, bool has_version,
                   const char *code, const char *message)
{
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "LaunchTemplateId", lt->id);
    cJSON_AddStringToObject(item, "LaunchTemplateName", lt->name);
    if (has_version)
        cJSON_AddNumberToObject(item, "VersionNumber", (double)version);
    if (code) {
        cJSON *re = cJSON_AddObjectToObject(item, "ResponseError");
        cJSON_AddStringToObject(re, "Code", code);
        cJSON_AddStringToObject(re, "Message", message);
    }
    cJSON_AddItemToArray(list, item);
}

int
ec2_delete_launch_template_versions(struct aws_call *call, const cJSON *in, cJSON *out,
                                    struct aws_err *err)
{
    if (ec2_dry_run(in, err) < 0)
        return -1;
    struct ec2_lt_row lt;
    if (find_template(call, get_string(in, "LaunchTemplateId"),
                      get_string(in, "LaunchTemplateName"), &lt, err) < 0)
        return -1;
    const cJSON *versions = cJSON_GetObjectItemCaseSensitive(in, "Versions");
    /* "You can specify up to 200 launch template version numbers" (Versions). */
    if (cJSON_GetArraySize(versions) > 200)
        return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                           "You can specify up to 200 launch template version numbers.");
    cJSON *ok = cJSON_AddArrayToObject(out, "SuccessfullyDeletedLaunchTemplateVersions");
    cJSON *bad = cJSON_AddArrayToObject(out, "UnsuccessfullyDeletedLaunchTemplateVersions");
    const cJSON *v;
    cJSON_ArrayForEach(v, versions)
    {
        if (!cJSON_IsString(v))
            continue;
        int64_t num = 0;
        if (!parse_version(v->valuestring, &num)) {
            add_version_result(bad, &lt, 0, false, "launchTemplateVersionDoesNotExist",
                               "The launch template version does not exist.");
            continue;
        }
        /* "You can't delete the default version of a launch template; you must first
           assign a different version as the default" (EC2 User Guide). The code and text
           of this answer are not confirmed. */
        if (num == lt.default_ver) {
            add_version_result(bad, &lt, num, true, "unexpectedError",
                               "Cannot delete the default version of a launch template.");
            continue;
        }
        int gone = ec2_store_ltv_delete(call_db(call), lt.id, num);
        if (gone < 0)
            return ec2_db_failed(err);
        if (gone)
            add_version_result(ok, &lt, num, true, NULL, NULL);
        else
            add_version_result(bad, &lt, num, true, "launchTemplateVersionDoesNotExist",
                               "The launch template version does not exist.");
    }
    return 0;
}

/* ---- resolving a template for a launch ---- */

/*
 * RequestLaunchTemplateData and RunInstancesRequest agree on member names except these
 * (checked against the botocore model); InstanceRequirements has no RunInstances member.
 */
static const struct {
    const char *template_member; /* RequestLaunchTemplateData */
    const char *run_member;      /* RunInstancesRequest, or NULL to drop */
} run_renames[] = {
    { "ElasticGpuSpecifications", "ElasticGpuSpecification" },
    { "InstanceRequirements", NULL },
    { "RamDiskId", "RamdiskId" },
};

int
ec2_launch_template_resolve(struct aws_call *call, const cJSON *spec, cJSON **data,
                            struct aws_err *err)
{
    *data = NULL;
    struct ec2_lt_row lt;
    if (find_template(call, get_string(spec, "LaunchTemplateId"),
                      get_string(spec, "LaunchTemplateName"), &lt, err) < 0)
        return -1;
    int64_t version;
    if (select_version(call, &lt, get_string(spec, "Version"), &version, err) < 0)
        return -1;
    struct ec2_ltv_row v;
    int found = ec2_store_ltv_get(call_db(call), lt.id, version, &v);
    if (found <= 0)
        return ec2_db_failed(err);
    cJSON *tree = cJSON_Parse(v.data);
    ec2_store_ltv_release(&v);
    if (!cJSON_IsObject(tree)) {
        cJSON_Delete(tree);
        tree = cJSON_CreateObject();
    }
    for (size_t i = 0; i < ARRAY_SIZE(run_renames); i++) {
        cJSON *m = cJSON_DetachItemFromObjectCaseSensitive(tree, run_renames[i].template_member);
        if (m && run_renames[i].run_member)
            cJSON_AddItemToObject(tree, run_renames[i].run_member, m);
        else
            cJSON_Delete(m);
    }
    *data = tree;
    return 0;
}
