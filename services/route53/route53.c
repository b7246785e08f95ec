/*
 * Route53: the operation table, the hooks that run the DNS server and the health checks'
 * probes, and the helpers the handlers share (DNS names, ids, changes). Handlers see typed
 * trees only; the DNS wire format lives in dns.c.
 */
#include "emulator/common.h"
#include "services/route53/route53_internal.h"
#include "emulator/app.h"
#include "emulator/ids.h"
#include "emulator/log.h"
#include "state/route53.h"

#include <ctype.h>

static const struct service_op r53_ops[] = {
    { "ChangeResourceRecordSets", r53_change_resource_record_sets, 0 },
    { "ChangeTagsForResource", r53_change_tags_for_resource, 0 },
    { "CreateHealthCheck", r53_create_health_check, 0 },
    { "CreateHostedZone", r53_create_hosted_zone, 0 },
    { "DeleteHealthCheck", r53_delete_health_check, 0 },
    { "DeleteHostedZone", r53_delete_hosted_zone, 0 },
    { "GetChange", r53_get_change, OP_READONLY },
    { "GetHealthCheck", r53_get_health_check, OP_READONLY },
    { "GetHealthCheckStatus", r53_get_health_check_status, OP_READONLY },
    { "GetHostedZone", r53_get_hosted_zone, OP_READONLY },
    { "GetHostedZoneCount", r53_get_hosted_zone_count, OP_READONLY },
    { "ListHealthChecks", r53_list_health_checks, OP_READONLY },
    { "ListHostedZones", r53_list_hosted_zones, OP_READONLY },
    { "ListHostedZonesByName", r53_list_hosted_zones_by_name, OP_READONLY },
    { "ListResourceRecordSets", r53_list_resource_record_sets, OP_READONLY },
    { "ListTagsForResource", r53_list_tags_for_resource, OP_READONLY },
    { "UpdateHostedZoneComment", r53_update_hosted_zone_comment, 0 },
};

static int
r53_start(struct app *app, char *errbuf, size_t errsz)
{
    r53_dns_invalidate();
    if (app->loop && app->cfg.dns_port >= 0) {
        if (r53_dns_start(app, app->cfg.dns_port, &app->dns_port, errbuf, errsz) < 0)
            return -1;
    }
    r53_health_start_all(app);
    return 0;
}

static void
r53_reset(struct app *app)
{
    r53_health_stop_all(app);
    r53_dns_invalidate();
}

static void
r53_stop(struct app *app)
{
    r53_health_stop_all(app);
    r53_dns_stop();
}

/* out.route53 = {dns_port}: where the DNS server listens (0 when it does not). */
static void
r53_status(struct app *app, cJSON *out)
{
    cJSON *o = cJSON_AddObjectToObject(out, "route53");
    cJSON_AddNumberToObject(o, "dns_port", app->dns_port);
}

/* The DNS server and the health checks' probes. */
static const struct service_hooks r53_hooks = {
    .start = r53_start,
    .reset = r53_reset,
    .stop = r53_stop,
    .status = r53_status,
};

const struct service route53_service = { "route53", r53_ops, ARRAY_SIZE(r53_ops), &r53_hooks };

/* ---- DNS names ---- */

int
r53_name_canon(const char *in, struct buf *out)
{
    buf_reset(out);
    size_t label = 0;
    for (const char *p = in; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\\') {
            if (isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
                isdigit((unsigned char)p[3])) {
                /* Route53 writes octal escapes (\052 for '*'). */
                int v = (p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0');
                if (p[1] > '3' || p[2] > '7' || p[3] > '7')
                    goto bad;
                c = (unsigned char)v;
                p += 3;
            } else if (p[1]) {
                c = (unsigned char)*++p;
            } else {
                goto bad;
            }
            if (c == '.' || c == 0)
                goto bad;
        } else if (c == '.') {
            if (label == 0 && !(out->len == 0 && p[1] == '\0'))
                goto bad;
            buf_addc(out, '.');
            label = 0;
            continue;
        }
        buf_addc(out, (char)tolower(c));
        if (++label > 63)
            goto bad;
    }
    if (out->len == 0 || out->data[out->len - 1] != '.')
        buf_addc(out, '.');
    if (out->len > 254 || strcmp(out->data, ".") == 0)
        goto bad;
    return 0;
bad:
    buf_reset(out);
    return -1;
}

void
r53_name_escape(const char *canon, struct buf *out)
{
    buf_reset(out);
    for (const unsigned char *p = (const unsigned char *)canon; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
            *p == '.')
            buf_addc(out, (char)*p);
        else
            buf_addf(out, "\\%03o", *p);
    }
}

void
r53_name_sort_key(const char *canon, struct buf *out)
{
    buf_reset(out);
    size_t n = strlen(canon);
    if (n && canon[n - 1] == '.')
        n--;
    /* Walk the labels from the last to the first. */
    size_t end = n;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && canon[start - 1] != '.')
            start--;
        if (out->len)
            buf_addc(out, '\x01');
        buf_add(out, canon + start, end - start);
        end = start > 0 ? start - 1 : 0;
    }
}

bool
r53_name_in_zone(const char *name, const char *zone)
{
    size_t n = strlen(name), z = strlen(zone);
    if (n < z || strcmp(name + n - z, zone) != 0)
        return false;
    return n == z || name[n - z - 1] == '.';
}

/* ---- ids and changes ---- */

void
r53_new_id(struct app *app, const char *prefix, char *out, size_t outsz)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t n = strlen(prefix);
    snprintf(out, outsz, "%s", prefix);
    for (size_t i = n; i < 21 && i + 1 < outsz; i++) {
        out[i] = alphabet[ids_next(app->ids) % (sizeof(alphabet) - 1)];
        out[i + 1] = '\0';
    }
}

const char *
r53_bare_id(const char *id)
{
    const char *slash = strrchr(id, '/');
    return slash ? slash + 1 : id;
}

int
r53_change_new(struct aws_call *call, const char *comment, cJSON *info, struct aws_err *err)
{
    char id[32];
    r53_new_id(call->app, "C0", id, sizeof(id));
    if (r53_store_change_put(call->app->db, id, call->now_ms, call->now_ms + R53_INSYNC_DELAY_MS,
                             comment) < 0)
        return r53_err_db(err);
    struct buf full = BUF_INIT;
    buf_addf(&full, "/change/%s", id);
    cJSON_AddStringToObject(info, "Id", full.data);
    cJSON_AddStringToObject(info, "Status", "PENDING");
    cJSON_AddNumberToObject(info, "SubmittedAt", (double)call->now_ms);
    if (comment)
        cJSON_AddStringToObject(info, "Comment", comment);
    buf_release(&full);
    return 0;
}

int
r53_max_items(const cJSON *in, int dflt, struct aws_err *err)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(in, "MaxItems");
    long v;
    if (cJSON_IsNumber(m)) {
        v = (long)m->valuedouble;
    } else if (cJSON_IsString(m)) {
        char *end;
        v = strtol(m->valuestring, &end, 10);
        if (end == m->valuestring || *end)
            return aws_err_setx(err, 400, "InvalidInput", true,
                                "Invalid request: MaxItems must be a number, not '%s'",
                                m->valuestring);
    } else {
        return dflt;
    }
    if (v < 1)
        return aws_err_setx(err, 400, "InvalidInput", true,
                            "1 validation error detected: Value '%ld' at 'maxItems' failed to "
                            "satisfy constraint: Member must have value greater than or equal "
                            "to 1",
                            v);
    /* More than the page limit gets the limit (API reference, ListResourceRecordSets). */
    return v > dflt ? dflt : (int)v;
}

void
r53_add_max_items(cJSON *out, int max)
{
    char s[16];
    snprintf(s, sizeof(s), "%d", max);
    cJSON_AddStringToObject(out, "MaxItems", s);
}

int
r53_err_no_zone(struct aws_err *err, const char *id)
{
    return aws_err_setx(err, 404, "NoSuchHostedZone", true, "No hosted zone found with ID: %s", id);
}

int
r53_err_db(struct aws_err *err)
{
    return aws_err_set(err, AWS_E_INTERNAL_ERROR,
                       "We encountered an internal error. Please try "
                       "again.");
}
