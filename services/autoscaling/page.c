/*
 * Pagination of the Auto Scaling Describe operations (MaxRecords / NextToken): one page of
 * a list the handler built. The token is opaque to clients: base64 of "asg:<offset>".
 */
#include "emulator/common.h"
#include "services/autoscaling/asg.h"

#include "emulator/buf.h"

#define TOKEN_PREFIX "asg:"

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
        str_starts(raw.data, TOKEN_PREFIX) && strlen(raw.data) == raw.len) {
        const char *p = raw.data + strlen(TOKEN_PREFIX);
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end != p && *end == '\0') {
            *offset = (size_t)v;
            rc = 0;
        }
    }
    buf_release(&raw);
    return rc;
}

int
asg_page(cJSON *all, const cJSON *in, cJSON *out, const char *member, int default_records,
         int max_records, struct aws_err *err)
{
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(in, "MaxRecords");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(in, "NextToken");
    size_t total = (size_t)cJSON_GetArraySize(all);
    size_t offset = 0, limit = (size_t)default_records;

    if (cJSON_IsNumber(max)) {
        /* The AWS validation wording for a member outside its range (the form every
           AWS query service uses); the bounds are the API reference's. */
        if (max->valuedouble < 1 || max->valuedouble > max_records) {
            cJSON_Delete(all);
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "1 validation error detected: Value '%d' at 'maxRecords' failed "
                               "to satisfy constraint: Member must have value %s %d",
                               max->valueint,
                               max->valuedouble < 1 ? "greater than or equal to"
                                                    : "less than or equal to",
                               max->valuedouble < 1 ? 1 : max_records);
        }
        limit = (size_t)max->valueint;
    }
    if (cJSON_IsString(token) && token->valuestring[0]) {
        if (token_parse(token->valuestring, &offset) < 0 || offset > total) {
            /* The code is the model's InvalidNextToken; the wording is not confirmed. */
            int rc = aws_err_setx(err, 400, "InvalidNextToken", true, "The token '%s' is invalid.",
                                  token->valuestring);
            cJSON_Delete(all);
            return rc;
        }
    }

    cJSON *page = cJSON_AddArrayToObject(out, member);
    size_t i = 0, taken = 0;
    while (cJSON_GetArraySize(all) > 0 && taken < limit) {
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
