/*
 * What every EC2 area shares: Describe filters evaluated over output items, MaxResults /
 * NextToken pagination, and resource ids. Nothing here touches the database or knows any
 * one resource type.
 */
#include "emulator/common.h"
#include "services/ec2/ec2_internal.h"

#include "emulator/buf.h"
#include "emulator/app.h"
#include "emulator/ids.h"

/* ---- filters ---- */

/*
 * Glob match of EC2 filter values: '*' any run, '?' one character, '\' escapes the next
 * character ("You can use wildcards ... You can escape special characters using a backslash
 * before the character", EC2 API reference, "Filter" data type).
 */
static bool
glob_match(const char *pat, const char *s)
{
    const char *star_p = NULL, *star_s = NULL;
    while (*s) {
        if (*pat == '*') {
            star_p = ++pat;
            star_s = s;
            continue;
        }
        if (*pat == '\\' && pat[1]) {
            if (pat[1] == *s) {
                pat += 2;
                s++;
                continue;
            }
        } else if (*pat && (*pat == '?' || *pat == *s)) {
            pat++;
            s++;
            continue;
        }
        if (!star_p)
            return false;
        pat = star_p;
        s = ++star_s;
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* The text a leaf compares as: strings as they are, booleans and numbers as written. */
static bool
leaf_text(const cJSON *v, char *tmp, size_t tmpsz, const char **text)
{
    if (cJSON_IsString(v)) {
        *text = v->valuestring;
        return true;
    }
    if (cJSON_IsBool(v)) {
        *text = cJSON_IsTrue(v) ? "true" : "false";
        return true;
    }
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == (double)(int64_t)d)
            snprintf(tmp, tmpsz, "%lld", (long long)(int64_t)d);
        else
            snprintf(tmp, tmpsz, "%g", d);
        *text = tmp;
        return true;
    }
    return false;
}

/* Whether any of `values` matches the leaf v. */
static bool
values_match_leaf(const cJSON *values, const cJSON *v)
{
    char tmp[64];
    const char *text;
    if (!leaf_text(v, tmp, sizeof(tmp), &text))
        return false;
    const cJSON *want;
    cJSON_ArrayForEach(want, values)
    {
        if (cJSON_IsString(want) && glob_match(want->valuestring, text))
            return true;
    }
    return false;
}

/*
 * Whether any value reached by the dotted `path` from node matches; arrays on the way (and
 * at the end) match when any element does.
 */
static bool
path_match(const cJSON *node, const char *path, const cJSON *values)
{
    if (!node)
        return false;
    if (cJSON_IsArray(node)) {
        const cJSON *el;
        cJSON_ArrayForEach(el, node)
        {
            if (path_match(el, path, values))
                return true;
        }
        return false;
    }
    if (*path == '\0')
        return values_match_leaf(values, node);
    if (!cJSON_IsObject(node))
        return false;
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    char key[128];
    if (n >= sizeof(key))
        return false;
    memcpy(key, path, n);
    key[n] = '\0';
    return path_match(cJSON_GetObjectItemCaseSensitive(node, key), dot ? dot + 1 : "", values);
}

/* tag:KEY / tag-key / tag-value against item.Tags. */
static bool
tag_match(const cJSON *item, const char *name, const cJSON *values)
{
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(item, "Tags");
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "Key");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, "Value");
        if (!cJSON_IsString(k))
            continue;
        if (strcmp(name, "tag-key") == 0) {
            if (values_match_leaf(values, k))
                return true;
        } else if (strcmp(name, "tag-value") == 0) {
            if (v && values_match_leaf(values, v))
                return true;
        } else if (strcmp(k->valuestring, name + 4) == 0) {
            /* A tag without a value compares as "" (CreateTags stores "" for it). */
            cJSON *empty = NULL;
            if (!v)
                v = empty = cJSON_CreateString("");
            bool m = values_match_leaf(values, v);
            cJSON_Delete(empty);
            return m;
        }
    }
    return false;
}

int
ec2_filter_match(const struct ec2_filter_def *defs, size_t n_defs, const cJSON *filters,
                 const cJSON *item, struct aws_err *err)
{
    int keep = 1;
    const cJSON *f;
    cJSON_ArrayForEach(f, filters)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "Name");
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(f, "Values");
        if (!cJSON_IsString(name))
            continue;
        const char *nm = name->valuestring;
        bool is_tag = str_starts(nm, "tag:") || strcmp(nm, "tag-key") == 0 ||
                      strcmp(nm, "tag-value") == 0;
        const struct ec2_filter_def *def = NULL;
        for (size_t i = 0; !is_tag && i < n_defs; i++)
            if (strcmp(defs[i].name, nm) == 0)
                def = &defs[i];
        if (!is_tag && !def)
            /* Wording seen from AWS: "The filter 'colour' is invalid" (InvalidParameterValue). */
            return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE, "The filter '%s' is invalid",
                               nm);
        /* Keep checking the rest after a miss so an unknown filter name is still an error. */
        if (!keep)
            continue;
        /* A filter without values constrains nothing. */
        if (cJSON_GetArraySize(values) == 0)
            continue;
        bool m = is_tag ? tag_match(item, nm, values) : path_match(item, def->path, values);
        if (!m)
            keep = 0;
    }
    return keep;
}

/* ---- pagination ---- */

/*
 * The token is opaque to clients: base64 of "fb1:<offset>", so a token we never made (or
 * an edited one) is recognisable.
 */
#define TOKEN_PREFIX "fb1:"

static void
token_make(size_t offset, struct buf *out)
{
    char raw[48];
    int n = snprintf(raw, sizeof(raw), TOKEN_PREFIX "%zu", offset);
    buf_add_base64(out, raw, (size_t)n);
}

static int
token_parse(const char *token, size_t *offset)
{
    struct buf raw = BUF_INIT;
    int rc = -1;
    if (buf_add_base64_decoded(&raw, token, strlen(token)) == 0 &&
        str_starts(raw.data, TOKEN_PREFIX)) {
        const char *p = raw.data + strlen(TOKEN_PREFIX);
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end != p && *end == '\0' && strlen(raw.data) == raw.len) {
            *offset = (size_t)v;
            rc = 0;
        }
    }
    buf_release(&raw);
    return rc;
}

int
ec2_paginate(cJSON *all, const cJSON *in, cJSON *out, const char *member, int min_results,
             int max_results, struct aws_err *err)
{
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(in, "MaxResults");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(in, "NextToken");
    size_t total = (size_t)cJSON_GetArraySize(all);
    size_t offset = 0, limit = total;

    if (cJSON_IsNumber(max)) {
        /* "Value ( 1 ) for parameter maxResults is invalid. Expecting a value greater than
           5." (InvalidParameterValue; quoted in aws/aws-sdk-ruby#2575). The upper bound's
           wording is by analogy. */
        if (max->valuedouble < min_results) {
            cJSON_Delete(all);
            return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                               "Value ( %d ) for parameter maxResults is invalid. Expecting a "
                               "value greater than %d.",
                               max->valueint, min_results);
        }
        if (max->valuedouble > max_results) {
            cJSON_Delete(all);
            return aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                               "Value ( %d ) for parameter maxResults is invalid. Expecting a "
                               "value less than %d.",
                               max->valueint, max_results);
        }
        limit = (size_t)max->valueint;
    }
    if (cJSON_IsString(token)) {
        /* "Value (  ) for parameter NextToken is invalid. The token is invalid."
           (InvalidParameterValue; quoted in boto/boto3#2673 for DescribeVpcs). */
        if (token_parse(token->valuestring, &offset) < 0 || offset > total) {
            int rc = aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE,
                                 "Value ( %s ) for parameter NextToken is invalid. The token is "
                                 "invalid.",
                                 token->valuestring);
            cJSON_Delete(all);
            return rc;
        }
    }

    cJSON *page = cJSON_AddArrayToObject(out, member);
    size_t i = 0, taken = 0;
    /* all->child, not cJSON_GetArraySize(): that counts the list on every turn. */
    while (all->child && taken < limit) {
        cJSON *el = cJSON_DetachItemFromArray(all, 0);
        if (i++ < offset) {
            cJSON_Delete(el);
            continue;
        }
        cJSON_AddItemToArray(page, el);
        taken++;
    }
    if (offset + taken < total) {
        struct buf t = BUF_INIT;
        token_make(offset + taken, &t);
        cJSON_AddStringToObject(out, "NextToken", t.data);
        buf_release(&t);
    }
    cJSON_Delete(all);
    return 0;
}

/* ---- ids ---- */

void
ec2_new_id(struct aws_call *call, const char *prefix, char *out, size_t outsz)
{
    ids_resource(call->app->ids, prefix, 17, out, outsz);
}

bool
ec2_id_well_formed(const char *id, const char *prefix)
{
    if (!id || !str_starts(id, prefix))
        return false;
    const char *p = id + strlen(prefix);
    if (*p++ != '-')
        return false;
    size_t n = 0;
    for (; p[n]; n++) {
        char c = p[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return n == 8 || n == 17;
}

int
ec2_dry_run(const cJSON *in, struct aws_err *err)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "DryRun")))
        return aws_err_setx(err, 412, "DryRunOperation", true,
                            "Request would have succeeded, but DryRun flag is set.");
    return 0;
}

int
ec2_db_failed(struct aws_err *err)
{
    return aws_err_set(err, AWS_E_INTERNAL_ERROR, "An internal error has occurred");
}
