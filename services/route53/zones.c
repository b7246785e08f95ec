/*
 * Route53 hosted zones (create, get, list, count, delete, comment), GetChange, and the tags
 * of zones and health checks. A zone's default SOA and NS record sets are written with it;
 * record sets themselves are records.c's business.
 */
#include "emulator/common.h"
#include "services/route53/route53_internal.h"
#include "emulator/app.h"
#include "emulator/ids.h"
#include "state/route53.h"

#define R53_LIST_DEFAULT_MAX 100

static const char *
str_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The four name servers of a new delegation set, awsdns style. */
static void
name_servers_new(struct app *app, char *out, size_t outsz)
{
    static const char *const tlds[] = { "com", "net", "org", "co.uk" };
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < ARRAY_SIZE(tlds); i++) {
        /* AWS numbers the .com servers 0-511, .net 512-1023, .org 1024-1535, .co.uk
           1536-2047 (ns-2048 in R53DG/SOA-NSrecords is the documentation's example). */
        unsigned ns = (unsigned)(ids_next(app->ids) % 512) + (unsigned)i * 512;
        unsigned grp = (unsigned)(ids_next(app->ids) % 64);
        buf_addf(&b, "%sns-%u.awsdns-%02u.%s", i ? "\n" : "", ns, grp, tlds[i]);
    }
    snprintf(out, outsz, "%s", b.data);
    buf_release(&b);
}

static void
add_name_servers(cJSON *parent, const char *name_servers)
{
    cJSON *list = cJSON_AddArrayToObject(parent, "NameServers");
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", name_servers);
    char *save = NULL;
    for (char *tok = strtok_r(copy, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save))
        cJSON_AddItemToArray(list, cJSON_CreateString(tok));
}

/* The HostedZone tree of a zone row (-1 + err on a state failure). */
static cJSON *
zone_tree(struct aws_call *call, const struct r53_zone_row *z, struct aws_err *err)
{
    int n = r53_store_rrset_count(call->app->db, z->id);
    if (n < 0) {
        r53_err_db(err);
        return NULL;
    }
    struct buf b = BUF_INIT;
    cJSON *o = cJSON_CreateObject();
    buf_addf(&b, "/hostedzone/%s", z->id);
    cJSON_AddStringToObject(o, "Id", b.data);
    r53_name_escape(z->name, &b);
    cJSON_AddStringToObject(o, "Name", b.data);
    cJSON_AddStringToObject(o, "CallerReference", z->caller_ref);
    cJSON *cfg = cJSON_AddObjectToObject(o, "Config");
    if (z->has_comment)
        cJSON_AddStringToObject(cfg, "Comment", z->comment);
    cJSON_AddBoolToObject(cfg, "PrivateZone", z->is_private);
    cJSON_AddNumberToObject(o, "ResourceRecordSetCount", n);
    buf_release(&b);
    return o;
}

/* Looks up zone `id` (prefix allowed): 0 with *z filled, -1 + NoSuchHostedZone. */
static int
zone_find(struct aws_call *call, const char *id, struct r53_zone_row *z, struct aws_err *err)
{
    const char *bare = r53_bare_id(id);
    int found = r53_store_zone_get(call->app->db, bare, z);
    if (found < 0)
        return r53_err_db(err);
    if (found == 0)
        return r53_err_no_zone(err, bare);
    return 0;
}

int
r53_create_hosted_zone(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const char *name = str_member(in, "Name");
    const char *ref = str_member(in, "CallerReference");
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(in, "HostedZoneConfig");
    const cJSON *vpc = cJSON_GetObjectItemCaseSensitive(in, "VPC");
    const char *comment = str_member(cfg, "Comment");
    bool is_private = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "PrivateZone"));
    const char *vpc_id = str_member(vpc, "VPCId");
    const char *vpc_region = str_member(vpc, "VPCRegion");

    struct r53_zone_row *z = xcalloc(1, sizeof(*z));
    struct buf canon = BUF_INIT, sort = BUF_INIT;
    int ret = -1;
    int found = r53_store_zone_get_by_ref(call->app->db, ref, z);
    if (found < 0) {
        r53_err_db(err);
        goto out;
    }
    if (found) {
        aws_err_setx(err, 409, "HostedZoneAlreadyExists", true,
                     "A hosted zone has already been created with the specified caller "
                     "reference.");
        goto out;
    }
    if (r53_name_canon(name, &canon) < 0 || !strchr(canon.data, '.') ||
        strchr(canon.data, '.') == canon.data + canon.len - 1) {
        /* A name of one label is a TLD, which the API reference says cannot be hosted. */
        aws_err_setx(err, 400, "InvalidDomainName", true, "%s is not a valid domain name.", name);
        goto out;
    }
    if (vpc && (!vpc_id || !vpc_region)) {
        aws_err_setx(err, 400, "InvalidInput", true,
                     "Invalid request: Missing field 'VPCId' or 'VPCRegion' in VPC");
        goto out;
    }
    if (vpc)
        is_private = true;
    else if (is_private) {
        aws_err_setx(err, 400, "InvalidInput", true,
                     "Invalid request: A VPC is required to create a private hosted zone");
        goto out;
    }
    r53_name_sort_key(canon.data, &sort);
    r53_new_id(call->app, "Z0", z->id, sizeof(z->id));
    snprintf(z->name, sizeof(z->name), "%s", canon.data);
    snprintf(z->sort_name, sizeof(z->sort_name), "%s", sort.data);
    snprintf(z->caller_ref, sizeof(z->caller_ref), "%s", ref);
    z->has_comment = comment != NULL;
    snprintf(z->comment, sizeof(z->comment), "%s", comment ? comment : "");
    z->is_private = is_private;
    snprintf(z->vpc_id, sizeof(z->vpc_id), "%s", vpc_id ? vpc_id : "");
    snprintf(z->vpc_region, sizeof(z->vpc_region), "%s", vpc_region ? vpc_region : "");
    name_servers_new(call->app, z->name_servers, sizeof(z->name_servers));
    z->created_ms = call->now_ms;

    cJSON *info = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "ChangeInfo", info);
    if (r53_change_new(call, NULL, info, err) < 0)
        goto out;
    const char *cid = r53_bare_id(str_member(info, "Id"));
    snprintf(z->change_id, sizeof(z->change_id), "%s", cid);
    if (r53_store_zone_put(call->app->db, z) < 0 ||
        r53_records_create_defaults(call, z->id, z->name, z->name_servers) < 0) {
        r53_err_db(err);
        goto out;
    }
    cJSON *zt = zone_tree(call, z, err);
    if (!zt)
        goto out;
    cJSON_AddItemToObject(out, "HostedZone", zt);
    /* DelegationSet is a required member of the answer, private zones included. */
    cJSON *ds = cJSON_AddObjectToObject(out, "DelegationSet");
    add_name_servers(ds, z->name_servers);
    if (is_private) {
        cJSON *v = cJSON_AddObjectToObject(out, "VPC");
        cJSON_AddStringToObject(v, "VPCRegion", z->vpc_region);
        cJSON_AddStringToObject(v, "VPCId", z->vpc_id);
    }
    struct buf loc = BUF_INIT;
    buf_addf(&loc, "https://route53.amazonaws.com/2013-04-01/hostedzone/%s", z->id);
    cJSON_AddStringToObject(out, "Location", loc.data);
    buf_release(&loc);
    r53_dns_invalidate();
    ret = 0;
out:
    buf_release(&canon);
    buf_release(&sort);
    free(z);
    return ret;
}

int
r53_get_hosted_zone(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    struct r53_zone_row *z = xcalloc(1, sizeof(*z));
    int ret = -1;
    if (zone_find(call, str_member(in, "Id"), z, err) < 0)
        goto out;
    cJSON *zt = zone_tree(call, z, err);
    if (!zt)
        goto out;
    cJSON_AddItemToObject(out, "HostedZone", zt);
    if (z->is_private) {
        cJSON *vpcs = cJSON_AddArrayToObject(out, "VPCs");
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "VPCRegion", z->vpc_region);
        cJSON_AddStringToObject(v, "VPCId", z->vpc_id);
        cJSON_AddItemToArray(vpcs, v);
    } else {
        cJSON *ds = cJSON_AddObjectToObject(out, "DelegationSet");
        add_name_servers(ds, z->name_servers);
    }
    ret = 0;
out:
    free(z);
    return ret;
}

int
r53_get_hosted_zone_count(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)in;
    int n = r53_store_zone_count(call->app->db);
    if (n < 0)
        return r53_err_db(err);
    cJSON_AddNumberToObject(out, "HostedZoneCount", n);
    return 0;
}

/* A page of zones being listed. */
struct zone_page {
    struct aws_call *call;    /* the call */
    cJSON *list;              /* HostedZones */
    int max;                  /* MaxItems */
    int n;                    /* zones listed so far */
    const char *type;         /* HostedZoneType filter ("PrivateHostedZone") or NULL */
    struct r53_zone_row next; /* the first zone not listed, when next_found */
    bool next_found;          /* there is a next page */
    struct aws_err *err;      /* set when a tree could not be made */
    bool failed;              /* err is set */
};

static int
zone_page_visit(void *arg, const struct r53_zone_row *z)
{
    struct zone_page *p = arg;
    if (p->type && strcmp(p->type, "PrivateHostedZone") == 0 && !z->is_private)
        return 0;
    if (p->n == p->max) {
        p->next = *z;
        p->next_found = true;
        return 1;
    }
    cJSON *zt = zone_tree(p->call, z, p->err);
    if (!zt) {
        p->failed = true;
        return 1;
    }
    cJSON_AddItemToArray(p->list, zt);
    p->n++;
    return 0;
}

int
r53_list_hosted_zones(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    int max = r53_max_items(in, R53_LIST_DEFAULT_MAX, err);
    if (max < 0)
        return -1;
    const char *marker = str_member(in, "Marker");
    struct zone_page *p = xcalloc(1, sizeof(*p));
    p->call = call;
    p->max = max;
    p->err = err;
    p->type = str_member(in, "HostedZoneType");
    p->list = cJSON_AddArrayToObject(out, "HostedZones");
    int ret = -1;
    if (marker) {
        struct r53_zone_row *z = xcalloc(1, sizeof(*z));
        int found = r53_store_zone_get(call->app->db, r53_bare_id(marker), z);
        free(z);
        if (found < 0) {
            r53_err_db(err);
            goto out;
        }
        if (found == 0) {
            aws_err_setx(err, 400, "InvalidInput", true, "Invalid request: invalid marker %s",
                         marker);
            goto out;
        }
    }
    if (r53_store_zone_each(call->app->db, marker ? r53_bare_id(marker) : NULL, zone_page_visit,
                            p) < 0) {
        r53_err_db(err);
        goto out;
    }
    if (p->failed)
        goto out;
    cJSON_AddStringToObject(out, "Marker", marker ? marker : "");
    cJSON_AddBoolToObject(out, "IsTruncated", p->next_found);
    if (p->next_found)
        cJSON_AddStringToObject(out, "NextMarker", p->next.id);
    r53_add_max_items(out, max);
    ret = 0;
out:
    free(p);
    return ret;
}

int
r53_list_hosted_zones_by_name(struct aws_call *call, const cJSON *in, cJSON *out,
                              struct aws_err *err)
{
    int max = r53_max_items(in, R53_LIST_DEFAULT_MAX, err);
    if (max < 0)
        return -1;
    const char *dns = str_member(in, "DNSName");
    const char *zid = str_member(in, "HostedZoneId");
    struct buf canon = BUF_INIT, sort = BUF_INIT;
    struct zone_page *p = xcalloc(1, sizeof(*p));
    int ret = -1;
    if (zid && !dns) {
        aws_err_setx(err, 400, "InvalidInput", true,
                     "Invalid request: HostedZoneId requires DNSName");
        goto out;
    }
    if (dns && r53_name_canon(dns, &canon) < 0) {
        aws_err_setx(err, 400, "InvalidDomainName", true, "%s is not a valid domain name.", dns);
        goto out;
    }
    if (dns)
        r53_name_sort_key(canon.data, &sort);
    p->call = call;
    p->max = max;
    p->err = err;
    p->list = cJSON_AddArrayToObject(out, "HostedZones");
    if (r53_store_zone_each_by_name(call->app->db, dns ? sort.data : NULL,
                                    zid ? r53_bare_id(zid) : NULL, zone_page_visit, p) < 0) {
        r53_err_db(err);
        goto out;
    }
    if (p->failed)
        goto out;
    if (dns)
        cJSON_AddStringToObject(out, "DNSName", dns);
    if (zid)
        cJSON_AddStringToObject(out, "HostedZoneId", r53_bare_id(zid));
    cJSON_AddBoolToObject(out, "IsTruncated", p->next_found);
    if (p->next_found) {
        r53_name_escape(p->next.name, &canon);
        cJSON_AddStringToObject(out, "NextDNSName", canon.data);
        cJSON_AddStringToObject(out, "NextHostedZoneId", p->next.id);
    }
    r53_add_max_items(out, max);
    ret = 0;
out:
    buf_release(&canon);
    buf_release(&sort);
    free(p);
    return ret;
}

int
r53_delete_hosted_zone(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    struct r53_zone_row *z = xcalloc(1, sizeof(*z));
    int ret = -1;
    if (zone_find(call, str_member(in, "Id"), z, err) < 0)
        goto out;
    /* Only the default SOA and apex NS may remain (AWS-NOTES 6.3). */
    int n = r53_store_rrset_count(call->app->db, z->id);
    if (n < 0) {
        r53_err_db(err);
        goto out;
    }
    if (n > 2) {
        aws_err_setx(err, 400, "HostedZoneNotEmpty", true,
                     "The specified hosted zone contains non-required resource record sets and "
                     "so cannot be deleted.");
        goto out;
    }
    cJSON *info = cJSON_AddObjectToObject(out, "ChangeInfo");
    if (r53_change_new(call, NULL, info, err) < 0)
        goto out;
    if (r53_store_rrset_delete_zone(call->app->db, z->id) < 0 ||
        r53_store_tag_delete_all(call->app->db, "hostedzone", z->id) < 0 ||
        r53_store_zone_delete(call->app->db, z->id) < 0) {
        r53_err_db(err);
        goto out;
    }
    r53_dns_invalidate();
    ret = 0;
out:
    free(z);
    return ret;
}

int
r53_update_hosted_zone_comment(struct aws_call *call, const cJSON *in, cJSON *out,
                               struct aws_err *err)
{
    struct r53_zone_row *z = xcalloc(1, sizeof(*z));
    int ret = -1;
    if (zone_find(call, str_member(in, "Id"), z, err) < 0)
        goto out;
    const char *comment = str_member(in, "Comment");
    /* No Comment clears it (API reference: "to delete the comment, omit Comment"). */
    if (r53_store_zone_set_comment(call->app->db, z->id, comment) < 0) {
        r53_err_db(err);
        goto out;
    }
    z->has_comment = comment != NULL;
    snprintf(z->comment, sizeof(z->comment), "%s", comment ? comment : "");
    cJSON *zt = zone_tree(call, z, err);
    if (!zt)
        goto out;
    cJSON_AddItemToObject(out, "HostedZone", zt);
    ret = 0;
out:
    free(z);
    return ret;
}

int
r53_get_change(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const char *id = r53_bare_id(str_member(in, "Id"));
    int64_t submitted, insync;
    char comment[260];
    int found =
            r53_store_change_get(call->app->db, id, &submitted, &insync, comment, sizeof(comment));
    if (found < 0)
        return r53_err_db(err);
    if (found == 0)
        return aws_err_setx(err, 404, "NoSuchChange", true,
                            "A change with the specified change ID does not exist.");
    cJSON *info = cJSON_AddObjectToObject(out, "ChangeInfo");
    struct buf b = BUF_INIT;
    buf_addf(&b, "/change/%s", id);
    cJSON_AddStringToObject(info, "Id", b.data);
    buf_release(&b);
    cJSON_AddStringToObject(info, "Status", call->now_ms >= insync ? "INSYNC" : "PENDING");
    cJSON_AddNumberToObject(info, "SubmittedAt", (double)submitted);
    if (comment[0])
        cJSON_AddStringToObject(info, "Comment", comment);
    return 0;
}

/* ---- tags ---- */

/* Checks that the tagged resource exists: 0, or -1 + NoSuchHostedZone / NoSuchHealthCheck. */
static int
tag_target_check(struct aws_call *call, const char *type, const char *id, struct aws_err *err)
{
    if (strcmp(type, "hostedzone") == 0) {
        struct r53_zone_row *z = xcalloc(1, sizeof(*z));
        int r = zone_find(call, id, z, err);
        free(z);
        return r;
    }
    int found = r53_store_health_get(call->app->db, id, NULL, NULL);
    if (found < 0)
        return r53_err_db(err);
    if (found == 0)
        return aws_err_setx(err, 404, "NoSuchHealthCheck", true,
                            "No health check exists with the specified ID %s.", id);
    return 0;
}

int
r53_change_tags_for_resource(struct aws_call *call, const cJSON *in, cJSON *out,
                             struct aws_err *err)
{
    (void)out;
    const char *type = str_member(in, "ResourceType");
    const char *id = r53_bare_id(str_member(in, "ResourceId"));
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(in, "AddTags");
    const cJSON *remove = cJSON_GetObjectItemCaseSensitive(in, "RemoveTagKeys");
    if (tag_target_check(call, type, id, err) < 0)
        return -1;
    const cJSON *t;
    cJSON_ArrayForEach(t, add)
    {
        if (!str_member(t, "Key"))
            return aws_err_setx(err, 400, "InvalidInput", true,
                                "Invalid request: a tag must have a Key");
    }
    cJSON_ArrayForEach(t, remove)
    {
        if (cJSON_IsString(t) && r53_store_tag_delete(call->app->db, type, id, t->valuestring) < 0)
            return r53_err_db(err);
    }
    cJSON_ArrayForEach(t, add)
    {
        if (r53_store_tag_put(call->app->db, type, id, str_member(t, "Key"),
                              str_member(t, "Value")) < 0)
            return r53_err_db(err);
    }
    return 0;
}

static int
tag_visit(void *arg, const char *key, const char *value)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "Key", key);
    cJSON_AddStringToObject(t, "Value", value);
    cJSON_AddItemToArray(arg, t);
    return 0;
}

int
r53_list_tags_for_resource(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const char *type = str_member(in, "ResourceType");
    const char *id = r53_bare_id(str_member(in, "ResourceId"));
    if (tag_target_check(call, type, id, err) < 0)
        return -1;
    cJSON *set = cJSON_AddObjectToObject(out, "ResourceTagSet");
    cJSON_AddStringToObject(set, "ResourceType", type);
    cJSON_AddStringToObject(set, "ResourceId", id);
    cJSON *tags = cJSON_AddArrayToObject(set, "Tags");
    if (r53_store_tag_each(call->app->db, type, id, tag_visit, tags) < 0)
        return r53_err_db(err);
    return 0;
}
