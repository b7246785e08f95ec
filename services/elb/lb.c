/*
 * The load balancer itself: create, describe, delete, listeners, zones and subnets,
 * attributes, tags and the account limits. Subnets and security groups are resolved through
 * EC2's own Describe handlers (a C call, same transaction), so they follow EC2's rules.
 */
#include "emulator/common.h"
#include "services/elb/elb.h"
#include "services/elb/elb_internal.h"
#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/ids.h"
#include "services/ec2/api.h"
#include "services/ec2/ec2.h"

#include <ctype.h>
#include <strings.h>

/* AWS's documented limits (DescribeAccountLimits, CreateLoadBalancer). */
#define ELB_MAX_LOAD_BALANCERS 20
#define ELB_MAX_LISTENERS      100
#define ELB_MAX_INSTANCES      1000
#define ELB_MAX_TAGS           10

/* The fixed hosted zone of each region's Classic load balancers (AWS-NOTES 4.4). */
static const struct {
    const char *region;
    const char *zone_id;
} canonical_zones[] = {
    { "us-east-1", "Z35SXDOTRQ7X7K" }, { "us-east-2", "Z3AADJGX6KTTL2" },
    { "us-west-1", "Z368ELLRRE2KJ0" }, { "us-west-2", "Z1H1FL5HABSF5" },
    { "eu-west-1", "Z32O12XQLNTSW2" },
};

static const char *
canonical_zone_id(const char *region)
{
    for (size_t i = 0; i < ARRAY_SIZE(canonical_zones); i++)
        if (strcmp(canonical_zones[i].region, region) == 0)
            return canonical_zones[i].zone_id;
    return "Z35SXDOTRQ7X7K";
}

static int
validation(struct aws_err *err, const char *msg)
{
    return aws_err_set(err, AWS_E_VALIDATION_ERROR, "%s", msg);
}

/*
 * fogbank's own tag "fogbank:host-port:<LoadBalancerPort>" = "<port>" pins that listener to a
 * loopback port of the user's choice instead of one fogbank allocates (README, "Load
 * balancers"). AWS keeps it as any other tag.
 */
#define HOST_PORT_TAG "fogbank:host-port:"

/* A decimal port 1-65535, or -1. */
static int
port_of(const char *s)
{
    if (!s || !*s || strlen(s) > 5)
        return -1;
    int v = 0;
    for (const char *c = s; *c; c++) {
        if (!isdigit((unsigned char)*c))
            return -1;
        v = v * 10 + (*c - '0');
    }
    return v >= 1 && v <= 65535 ? v : -1;
}

/* How many host-port tags `tags` has; -1 + ValidationError when one is malformed. */
static int
host_port_tags_check(const cJSON *tags, struct aws_err *err)
{
    int n = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        const char *key = elb_str(t, "Key"), *value = elb_str(t, "Value");
        if (!key || strncmp(key, HOST_PORT_TAG, strlen(HOST_PORT_TAG)) != 0)
            continue;
        if (port_of(key + strlen(HOST_PORT_TAG)) < 0 || port_of(value) < 0)
            return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                               "Tag '%s' = '%s' is not valid: fogbank pins a listener with "
                               "'%s<LoadBalancerPort>' = '<host port>', both 1-65535.",
                               key, value ? value : "", HOST_PORT_TAG);
        n++;
    }
    return n;
}

/*
 * Pins the listeners of load balancer `name` named by host-port tags in `tags` (checked);
 * `only` > 0: the listener on that port only (its tag absent: nothing). -1 + err.
 */
static int
host_port_tags_apply(struct aws_call *call, const char *name, const cJSON *tags, int only,
                     struct aws_err *err)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        const char *key = elb_str(t, "Key");
        if (!key || strncmp(key, HOST_PORT_TAG, strlen(HOST_PORT_TAG)) != 0)
            continue;
        int lb_port = port_of(key + strlen(HOST_PORT_TAG));
        if (only > 0 && lb_port != only)
            continue;
        if (elb_dataplane_pin(call, name, lb_port, port_of(elb_str(t, "Value")), err) < 0)
            return -1;
    }
    return 0;
}

/* A parsed JSON array column (never NULL). */
static cJSON *
json_list(const char *text)
{
    cJSON *v = cJSON_Parse(text);
    if (!cJSON_IsArray(v)) {
        cJSON_Delete(v);
        v = cJSON_CreateArray();
    }
    return v;
}

/* Writes a JSON value into a fixed column; -1 (ValidationError) if it does not fit. */
static int
json_store(const cJSON *v, char *out, size_t outsz, struct aws_err *err)
{
    char *text = cJSON_PrintUnformatted(v);
    int ret = 0;
    if (!text || strlen(text) >= outsz)
        ret = validation(err, "The request is too large for one load balancer.");
    else
        snprintf(out, outsz, "%s", text);
    cJSON_free(text);
    return ret;
}

static bool
str_in(const cJSON *list, const char *s)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, list)
    {
        if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
            return true;
    }
    return false;
}

/* 1-32 characters, letters, digits and hyphens, not starting or ending with a hyphen. */
static bool
valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > 32 || name[0] == '-' || name[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-')
            return false;
    return true;
}

/* ---- listeners ---- */

static const char *
protocol_canon(const char *p)
{
    static const char *const known[] = { "HTTP", "HTTPS", "TCP", "SSL" };
    for (size_t i = 0; p && i < ARRAY_SIZE(known); i++)
        if (strcasecmp(p, known[i]) == 0)
            return known[i];
    return NULL;
}

static bool
layer7(const char *p)
{
    return strcmp(p, "HTTP") == 0 || strcmp(p, "HTTPS") == 0;
}

/* A Listener of the request into a row (region and name filled by the caller). -1 + err. */
static int
listener_parse(const cJSON *l, struct elb_listener_row *row, struct aws_err *err)
{
    memset(row, 0, sizeof(*row));
    const char *proto = protocol_canon(elb_str(l, "Protocol"));
    const cJSON *lbp = cJSON_GetObjectItemCaseSensitive(l, "LoadBalancerPort");
    const cJSON *ip = cJSON_GetObjectItemCaseSensitive(l, "InstancePort");
    const char *iproto_s = elb_str(l, "InstanceProtocol");
    const char *cert = elb_str(l, "SSLCertificateId");
    if (!elb_str(l, "Protocol"))
        return validation(err, "Protocol is required for a listener.");
    if (!proto)
        return aws_err_setx(err, 400, "UnsupportedProtocol", true,
                            "Listener protocol '%s' is not supported.", elb_str(l, "Protocol"));
    if (!cJSON_IsNumber(lbp) || lbp->valueint < 1 || lbp->valueint > 65535)
        return validation(err, "LoadBalancerPort must be between 1 and 65535.");
    if (!cJSON_IsNumber(ip) || ip->valueint < 1 || ip->valueint > 65535)
        return validation(err, "InstancePort must be between 1 and 65535.");
    const char *iproto = iproto_s ? protocol_canon(iproto_s) : (layer7(proto) ? "HTTP" : "TCP");
    if (!iproto)
        return aws_err_setx(err, 400, "UnsupportedProtocol", true,
                            "Instance protocol '%s' is not supported.", iproto_s);
    /* HTTP(S) front ends need an HTTP(S) back end, TCP/SSL ones TCP/SSL (ELBUG/elb-listeners). */
    if (layer7(proto) != layer7(iproto))
        return validation(err, "Instance protocol must be HTTP or HTTPS for an HTTP or HTTPS "
                               "listener, and TCP or SSL for a TCP or SSL listener.");
    if ((strcmp(proto, "HTTPS") == 0 || strcmp(proto, "SSL") == 0) && (!cert || !*cert))
        return validation(err, "SSLCertificateId is required for HTTPS and SSL listeners.");
    snprintf(row->protocol, sizeof(row->protocol), "%s", proto);
    snprintf(row->instance_protocol, sizeof(row->instance_protocol), "%s", iproto);
    row->lb_port = lbp->valueint;
    row->instance_port = ip->valueint;
    snprintf(row->ssl_cert, sizeof(row->ssl_cert), "%s", cert ? cert : "");
    return 0;
}

static bool
listener_same(const struct elb_listener_row *a, const struct elb_listener_row *b)
{
    return a->lb_port == b->lb_port && strcmp(a->protocol, b->protocol) == 0 &&
           strcmp(a->instance_protocol, b->instance_protocol) == 0 &&
           a->instance_port == b->instance_port && strcmp(a->ssl_cert, b->ssl_cert) == 0;
}

/*
 * Adds the request's listeners to lb: same port and same settings is a no-op; same port with
 * other settings is DuplicateListener. -1 + err.
 */
static int
listeners_add(struct aws_call *call, const struct elb_lb_row *lb, const cJSON *list,
              struct aws_err *err)
{
    struct elb_listener_row *have = NULL;
    size_t n_have = 0;
    if (elb_store_listener_list(call->app->db, lb->region, lb->name, &have, &n_have) < 0)
        return elb_db_failed(err);
    int ret = -1;
    size_t n_new = (size_t)cJSON_GetArraySize(list);
    struct elb_listener_row *rows = xcalloc(n_new ? n_new : 1, sizeof(*rows));
    size_t i = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, list)
    {
        if (listener_parse(l, &rows[i], err) < 0)
            goto out;
        snprintf(rows[i].region, sizeof(rows[i].region), "%s", lb->region);
        snprintf(rows[i].lb_name, sizeof(rows[i].lb_name), "%s", lb->name);
        for (size_t j = 0; j < n_have + i; j++) {
            const struct elb_listener_row *o = j < n_have ? &have[j] : &rows[j - n_have];
            if (o->lb_port == rows[i].lb_port && !listener_same(o, &rows[i])) {
                aws_err_setx(err, 400, "DuplicateListener", true,
                             "A listener already exists for %s with LoadBalancerPort %d, but "
                             "with a different InstancePort, Protocol, or SSLCertificateId",
                             lb->name, rows[i].lb_port);
                goto out;
            }
        }
        i++;
    }
    if (n_have + n_new > ELB_MAX_LISTENERS) {
        validation(err, "Too many listeners for the load balancer.");
        goto out;
    }
    for (i = 0; i < n_new; i++) {
        bool exists = false;
        for (size_t j = 0; j < n_have; j++)
            exists = exists || have[j].lb_port == rows[i].lb_port;
        if (!exists && elb_store_listener_put(call->app->db, &rows[i]) < 0) {
            elb_db_failed(err);
            goto out;
        }
    }
    ret = 0;
out:
    free(rows);
    free(have);
    return ret;
}

/* ---- zones, subnets, security groups through EC2 ---- */

static struct aws_call
as_ec2(const struct aws_call *call, const char *op)
{
    struct aws_call c = *call;
    c.service = "ec2";
    c.op = op;
    return c;
}

/*
 * Resolves subnet ids (ids given) or the default subnets of zones (zones given) into
 * `subnets` [{SubnetId, AvailabilityZone, VpcId}]. SubnetNotFound for an unknown one. -1.
 */
static int
subnets_resolve(struct aws_call *call, const cJSON *ids, const cJSON *zones, cJSON **subnets,
                struct aws_err *err)
{
    struct aws_call c = as_ec2(call, "DescribeSubnets");
    cJSON *in = cJSON_CreateObject();
    if (ids) {
        cJSON_AddItemToObject(in, "SubnetIds", cJSON_Duplicate(ids, true));
    } else {
        cJSON *filters = cJSON_AddArrayToObject(in, "Filters");
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "Name", "default-for-az");
        cJSON *vals = cJSON_AddArrayToObject(f, "Values");
        cJSON_AddItemToArray(vals, cJSON_CreateString("true"));
        cJSON_AddItemToArray(filters, f);
    }
    cJSON *out = cJSON_CreateObject();
    struct aws_err e;
    aws_err_clear(&e);
    int rc = ec2_describe_subnets(&c, in, out, &e);
    cJSON_Delete(in);
    if (rc < 0) {
        cJSON_Delete(out);
        if (e.status >= 500) {
            *err = e;
            return -1;
        }
        return aws_err_setx(err, 400, "SubnetNotFound", true,
                            "One or more subnets were not found: %s", e.message);
    }
    cJSON *list = cJSON_CreateArray();
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(out, "Subnets"))
    {
        const char *az = elb_str(s, "AvailabilityZone");
        if (!ids && (!az || !str_in(zones, az)))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "SubnetId", elb_str(s, "SubnetId"));
        cJSON_AddStringToObject(o, "AvailabilityZone", az ? az : "");
        cJSON_AddStringToObject(o, "VpcId", elb_str(s, "VpcId"));
        cJSON_AddItemToArray(list, o);
    }
    cJSON_Delete(out);
    *subnets = list;
    return 0;
}

/* Checks that the groups exist in vpc_id, or finds the VPC's default group (ids NULL). */
static int
groups_resolve(struct aws_call *call, const char *vpc_id, const cJSON *ids, cJSON **groups,
               struct aws_err *err)
{
    struct aws_call c = as_ec2(call, "DescribeSecurityGroups");
    cJSON *in = cJSON_CreateObject();
    cJSON *filters = cJSON_AddArrayToObject(in, "Filters");
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "Name", "vpc-id");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(f, "Values"), cJSON_CreateString(vpc_id));
    cJSON_AddItemToArray(filters, f);
    if (ids && cJSON_GetArraySize(ids) > 0) {
        cJSON_AddItemToObject(in, "GroupIds", cJSON_Duplicate(ids, true));
    } else {
        f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "Name", "group-name");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(f, "Values"), cJSON_CreateString("default"));
        cJSON_AddItemToArray(filters, f);
    }
    cJSON *out = cJSON_CreateObject();
    struct aws_err e;
    aws_err_clear(&e);
    int rc = ec2_describe_security_groups(&c, in, out, &e);
    int want = ids ? cJSON_GetArraySize(ids) : 0;
    cJSON_Delete(in);
    cJSON *list = cJSON_CreateArray();
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(out, "SecurityGroups"))
    {
        cJSON_AddItemToArray(list, cJSON_CreateString(elb_str(g, "GroupId")));
    }
    cJSON_Delete(out);
    if (rc < 0 || (want > 0 && cJSON_GetArraySize(list) != want)) {
        cJSON_Delete(list);
        if (rc < 0 && e.status >= 500) {
            *err = e;
            return -1;
        }
        return aws_err_setx(err, 400, "InvalidSecurityGroup", true,
                            "One or more security groups are invalid.");
    }
    *groups = list;
    return 0;
}

/* Zones named in `zones` must be zones of the region: ValidationError otherwise. */
static int
zones_check(struct aws_call *call, const cJSON *zones, struct aws_err *err)
{
    const cJSON *z;
    cJSON_ArrayForEach(z, zones)
    {
        if (!cJSON_IsString(z) || !ec2_api_zone_up(call, z->valuestring))
            return aws_err_set(err, AWS_E_VALIDATION_ERROR, "Invalid Availability Zone: %s",
                               cJSON_IsString(z) ? z->valuestring : "");
    }
    return 0;
}

/* ---- describe ---- */

static void
add_strings(cJSON *obj, const char *member, const char *json)
{
    cJSON_AddItemToObject(obj, member, json_list(json));
}

static cJSON *
lb_item(struct aws_call *call, const struct elb_lb_row *lb)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "LoadBalancerName", lb->name);
    cJSON_AddStringToObject(o, "DNSName", lb->dns_name);
    cJSON_AddStringToObject(o, "CanonicalHostedZoneName", lb->dns_name);
    cJSON_AddStringToObject(o, "CanonicalHostedZoneNameID", canonical_zone_id(lb->region));
    cJSON *lds = cJSON_AddArrayToObject(o, "ListenerDescriptions");
    struct elb_listener_row *ls = NULL;
    size_t nl = 0;
    if (elb_store_listener_list(call->app->db, lb->region, lb->name, &ls, &nl) == 0) {
        for (size_t i = 0; i < nl; i++) {
            cJSON *ld = cJSON_CreateObject();
            cJSON *l = cJSON_AddObjectToObject(ld, "Listener");
            cJSON_AddStringToObject(l, "Protocol", ls[i].protocol);
            cJSON_AddNumberToObject(l, "LoadBalancerPort", ls[i].lb_port);
            cJSON_AddStringToObject(l, "InstanceProtocol", ls[i].instance_protocol);
            cJSON_AddNumberToObject(l, "InstancePort", ls[i].instance_port);
            if (ls[i].ssl_cert[0])
                cJSON_AddStringToObject(l, "SSLCertificateId", ls[i].ssl_cert);
            cJSON_AddArrayToObject(ld, "PolicyNames");
            cJSON_AddItemToArray(lds, ld);
        }
    }
    free(ls);
    cJSON *pol = cJSON_AddObjectToObject(o, "Policies");
    cJSON_AddArrayToObject(pol, "AppCookieStickinessPolicies");
    cJSON_AddArrayToObject(pol, "LBCookieStickinessPolicies");
    cJSON_AddArrayToObject(pol, "OtherPolicies");
    cJSON_AddArrayToObject(o, "BackendServerDescriptions");
    add_strings(o, "AvailabilityZones", lb->zones);
    add_strings(o, "Subnets", lb->subnets);
    if (lb->vpc_id[0])
        cJSON_AddStringToObject(o, "VPCId", lb->vpc_id);
    cJSON *insts = cJSON_AddArrayToObject(o, "Instances");
    struct elb_instance_row *is = NULL;
    size_t ni = 0;
    if (elb_store_instance_list(call->app->db, lb->region, lb->name, &is, &ni) == 0) {
        for (size_t i = 0; i < ni; i++) {
            if (!is[i].registered)
                continue;
            cJSON *io = cJSON_CreateObject();
            cJSON_AddStringToObject(io, "InstanceId", is[i].instance_id);
            cJSON_AddItemToArray(insts, io);
        }
    }
    free(is);
    cJSON *hc = cJSON_AddObjectToObject(o, "HealthCheck");
    cJSON_AddStringToObject(hc, "Target", lb->hc_target);
    cJSON_AddNumberToObject(hc, "Interval", lb->hc_interval);
    cJSON_AddNumberToObject(hc, "Timeout", lb->hc_timeout);
    cJSON_AddNumberToObject(hc, "UnhealthyThreshold", lb->hc_unhealthy);
    cJSON_AddNumberToObject(hc, "HealthyThreshold", lb->hc_healthy);
    cJSON *ssg = cJSON_AddObjectToObject(o, "SourceSecurityGroup");
    cJSON_AddStringToObject(ssg, "OwnerAlias", call->account_id);
    cJSON_AddStringToObject(ssg, "GroupName", "default");
    add_strings(o, "SecurityGroups", lb->security_groups);
    cJSON_AddNumberToObject(o, "CreatedTime", (double)lb->created_ms);
    cJSON_AddStringToObject(o, "Scheme", lb->scheme);
    return o;
}

int
elb_describe_load_balancers(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(in, "LoadBalancerNames");
    const char *marker = elb_str(in, "Marker");
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(in, "PageSize");
    int page = cJSON_IsNumber(ps) ? ps->valueint : 400;
    if (page < 1 || page > 400)
        return validation(err, "PageSize must be between 1 and 400.");
    const cJSON *v;
    struct elb_lb_row lb;
    cJSON_ArrayForEach(v, names)
    {
        if (!cJSON_IsString(v) || elb_lb_load(call, v->valuestring, &lb, err) < 0)
            return -1;
    }
    struct elb_lb_row *lbs = NULL;
    size_t n = 0;
    if (elb_store_lb_list(call->app->db, call->region, &lbs, &n) < 0)
        return elb_db_failed(err);
    /* The marker is the name of the first load balancer of the next page. */
    size_t start = 0;
    if (marker) {
        while (start < n && strcmp(lbs[start].name, marker) != 0)
            start++;
        if (start == n) {
            free(lbs);
            return validation(err, "Invalid Marker");
        }
    }
    cJSON *list = cJSON_AddArrayToObject(out, "LoadBalancerDescriptions");
    int added = 0;
    for (size_t i = start; i < n; i++) {
        if (names && !str_in(names, lbs[i].name))
            continue;
        if (added == page) {
            cJSON_AddStringToObject(out, "NextMarker", lbs[i].name);
            break;
        }
        cJSON_AddItemToArray(list, lb_item(call, &lbs[i]));
        added++;
    }
    free(lbs);
    return 0;
}

/* ---- create / delete ---- */

int
elb_create_load_balancer(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const char *name = elb_str(in, "LoadBalancerName");
    const cJSON *listeners = cJSON_GetObjectItemCaseSensitive(in, "Listeners");
    const cJSON *zones = cJSON_GetObjectItemCaseSensitive(in, "AvailabilityZones");
    const cJSON *subnet_ids = cJSON_GetObjectItemCaseSensitive(in, "Subnets");
    const cJSON *sg_ids = cJSON_GetObjectItemCaseSensitive(in, "SecurityGroups");
    const char *scheme = elb_str(in, "Scheme");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "Tags");
    if (!valid_name(name))
        return aws_err_set(err, AWS_E_VALIDATION_ERROR,
                           "LoadBalancerName '%s' is not valid: it must have 1 to 32 "
                           "characters, only letters, digits and hyphens, and must not begin "
                           "or end with a hyphen.",
                           name ? name : "");
    if (cJSON_GetArraySize(listeners) == 0)
        return validation(err, "At least one listener is required.");
    int nz = cJSON_GetArraySize(zones), ns = cJSON_GetArraySize(subnet_ids);
    if (nz == 0 && ns == 0)
        return validation(err, "Either AvailabilityZones or SubnetIds must be specified");
    if (nz > 0 && ns > 0)
        return validation(err, "Only one of SubnetIds or AvailabilityZones may be specified");
    if (scheme && strcmp(scheme, "internet-facing") != 0 && strcmp(scheme, "internal") != 0)
        return aws_err_setx(err, 400, "InvalidScheme", true,
                            "Scheme must be either 'internet-facing' or 'internal'.");
    if (nz > 0 && zones_check(call, zones, err) < 0)
        return -1;

    struct elb_lb_row existing;
    int found = elb_store_lb_get(call->app->db, call->region, name, &existing);
    if (found < 0)
        return elb_db_failed(err);
    if (found == 1) {
        /* Idempotent for the same listeners; otherwise the name is taken. */
        struct elb_listener_row *have = NULL;
        size_t n_have = 0;
        elb_store_listener_list(call->app->db, call->region, name, &have, &n_have);
        bool same = n_have == (size_t)cJSON_GetArraySize(listeners);
        const cJSON *l;
        cJSON_ArrayForEach(l, listeners)
        {
            struct elb_listener_row r;
            struct aws_err e;
            bool match = false;
            if (listener_parse(l, &r, &e) == 0)
                for (size_t j = 0; j < n_have; j++)
                    match = match || listener_same(&have[j], &r);
            same = same && match;
        }
        free(have);
        if (!same)
            return aws_err_setx(err, 400, "DuplicateLoadBalancerName", true,
                                "Load Balancer named '%s' already exists and it is configured "
                                "with different parameters.",
                                name);
        cJSON_AddStringToObject(out, "DNSName", existing.dns_name);
        return 0;
    }
    int count = elb_store_lb_count(call->app->db, call->region);
    if (count < 0)
        return elb_db_failed(err);
    if (count >= ELB_MAX_LOAD_BALANCERS)
        return aws_err_setx(err, 400, "TooManyLoadBalancers", true, "Exceeded quota of account %s",
                            call->account_id);
    if (cJSON_GetArraySize(tags) > ELB_MAX_TAGS)
        return aws_err_setx(err, 400, "TooManyTags", true,
                            "Tag limit exceeded for load balancer %s", name);
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        const cJSON *u;
        for (u = t->next; u; u = u->next)
            if (elb_str(t, "Key") && elb_str(u, "Key") &&
                strcmp(elb_str(t, "Key"), elb_str(u, "Key")) == 0)
                return aws_err_setx(err, 400, "DuplicateTagKeys", true, "Duplicate tag key '%s'",
                                    elb_str(t, "Key"));
    }
    if (host_port_tags_check(tags, err) < 0)
        return -1;

    struct elb_lb_row lb;
    memset(&lb, 0, sizeof(lb));
    snprintf(lb.region, sizeof(lb.region), "%s", call->region);
    snprintf(lb.name, sizeof(lb.name), "%s", name);
    snprintf(lb.scheme, sizeof(lb.scheme), "%s", scheme ? scheme : "internet-facing");
    char digits[16];
    snprintf(digits, sizeof(digits), "%010llu",
             (unsigned long long)(ids_next(call->app->ids) % 10000000000ULL));
    snprintf(lb.dns_name, sizeof(lb.dns_name), "%s%s-%s.%s.elb.amazonaws.com",
             strcmp(lb.scheme, "internal") == 0 ? "internal-" : "", name, digits, call->region);

    cJSON *subnets = NULL, *groups = NULL, *zone_list = cJSON_CreateArray();
    int ret = -1;
    if (subnets_resolve(call, ns ? subnet_ids : NULL, zones, &subnets, err) < 0)
        goto out;
    if (ns && cJSON_GetArraySize(subnets) != ns) {
        aws_err_setx(err, 400, "SubnetNotFound", true, "One or more subnets were not found.");
        goto out;
    }
    cJSON *subnet_id_list = cJSON_CreateArray();
    const cJSON *s;
    cJSON_ArrayForEach(s, subnets)
    {
        const char *az = elb_str(s, "AvailabilityZone");
        if (str_in(zone_list, az)) {
            cJSON_Delete(subnet_id_list);
            aws_err_setx(err, 409, "InvalidConfigurationRequest", true,
                         "LoadBalancer attached to multiple subnets in the same AZ.");
            goto out;
        }
        if (!lb.vpc_id[0])
            snprintf(lb.vpc_id, sizeof(lb.vpc_id), "%s", elb_str(s, "VpcId"));
        else if (strcmp(lb.vpc_id, elb_str(s, "VpcId")) != 0) {
            cJSON_Delete(subnet_id_list);
            aws_err_setx(err, 400, "InvalidSubnet", true,
                         "The subnets of a load balancer must be in the same VPC.");
            goto out;
        }
        cJSON_AddItemToArray(zone_list, cJSON_CreateString(az));
        cJSON_AddItemToArray(subnet_id_list, cJSON_CreateString(elb_str(s, "SubnetId")));
    }
    int rc = json_store(subnet_id_list, lb.subnets, sizeof(lb.subnets), err);
    cJSON_Delete(subnet_id_list);
    if (rc < 0 || json_store(zone_list, lb.zones, sizeof(lb.zones), err) < 0)
        goto out;
    if (lb.vpc_id[0] && groups_resolve(call, lb.vpc_id, sg_ids, &groups, err) < 0)
        goto out;
    if (json_store(groups   ? groups
                   : sg_ids ? sg_ids
                            : zone_list,
                   lb.security_groups, sizeof(lb.security_groups), err) < 0)
        goto out;
    if (!groups && !sg_ids)
        snprintf(lb.security_groups, sizeof(lb.security_groups), "[]");
    cJSON *empty = cJSON_CreateArray();
    rc = json_store(tags ? tags : empty, lb.tags, sizeof(lb.tags), err);
    cJSON_Delete(empty);
    if (rc < 0)
        goto out;
    /* The API's defaults (AWS-NOTES 4.1, 4.3). */
    snprintf(lb.hc_target, sizeof(lb.hc_target), "TCP:80");
    lb.hc_interval = 30;
    lb.hc_timeout = 5;
    lb.hc_unhealthy = 2;
    lb.hc_healthy = 10;
    lb.cross_zone = false;
    lb.drain_enabled = false;
    lb.drain_timeout = 300;
    lb.idle_timeout = 60;
    snprintf(lb.access_log, sizeof(lb.access_log), "{\"Enabled\":false}");
    snprintf(lb.additional, sizeof(lb.additional), "[]");
    lb.created_ms = call->now_ms;
    if (elb_store_lb_put(call->app->db, &lb) < 0) {
        elb_db_failed(err);
        goto out;
    }
    if (listeners_add(call, &lb, listeners, err) < 0)
        goto out;
    /* Last: nothing after it can fail, and a pin is undone by no rollback. */
    if (host_port_tags_apply(call, lb.name, tags, 0, err) < 0)
        goto out;
    cJSON_AddStringToObject(out, "DNSName", lb.dns_name);
    elb_health_arm(call->app, lb.region, lb.name, lb.hc_interval);
    elb_dataplane_dirty(call->app);
    ret = 0;
out:
    cJSON_Delete(subnets);
    cJSON_Delete(groups);
    cJSON_Delete(zone_list);
    return ret;
}

int
elb_delete_load_balancer(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)out;
    const char *name = elb_str(in, "LoadBalancerName");
    struct elb_lb_row lb;
    int found = elb_store_lb_get(call->app->db, call->region, name ? name : "", &lb);
    if (found < 0)
        return elb_db_failed(err);
    /* Deleting one that does not exist succeeds (the call is idempotent). */
    if (found == 0)
        return 0;
    if (elb_store_lb_delete(call->app->db, call->region, name) < 0)
        return elb_db_failed(err);
    elb_dataplane_dirty(call->app);
    return 0;
}

/* ---- listeners ---- */

int
elb_create_load_balancer_listeners(struct aws_call *call, const cJSON *in, cJSON *out,
                                   struct aws_err *err)
{
    (void)out;
    struct elb_lb_row lb;
    if (elb_lb_load(call, elb_str(in, "LoadBalancerName"), &lb, err) < 0)
        return -1;
    const cJSON *listeners = cJSON_GetObjectItemCaseSensitive(in, "Listeners");
    if (cJSON_GetArraySize(listeners) == 0)
        return validation(err, "At least one listener is required.");
    if (listeners_add(call, &lb, listeners, err) < 0)
        return -1;
    /* A listener named by a host-port tag the load balancer already has takes that port. */
    cJSON *tags = json_list(lb.tags);
    const cJSON *l;
    int rc = 0;
    cJSON_ArrayForEach(l, listeners)
    {
        const cJSON *port = cJSON_GetObjectItemCaseSensitive(l, "LoadBalancerPort");
        if (rc == 0 && cJSON_IsNumber(port) && port->valueint > 0)
            rc = host_port_tags_apply(call, lb.name, tags, port->valueint, err);
    }
    cJSON_Delete(tags);
    if (rc < 0)
        return -1;
    elb_dataplane_dirty(call->app);
    return 0;
}

int
elb_delete_load_balancer_listeners(struct aws_call *call, const cJSON *in, cJSON *out,
                                   struct aws_err *err)
{
    (void)out;
    struct elb_lb_row lb;
    if (elb_lb_load(call, elb_str(in, "LoadBalancerName"), &lb, err) < 0)
        return -1;
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(in, "LoadBalancerPorts"))
    {
        /* A port with no listener is skipped: the call is idempotent. */
        if (cJSON_IsNumber(p) &&
            elb_store_listener_delete(call->app->db, lb.region, lb.name, p->valueint) < 0)
            return elb_db_failed(err);
    }
    elb_dataplane_dirty(call->app);
    return 0;
}

/* ---- zones and subnets ---- */

static int
zones_change(struct aws_call *call, const cJSON *in, cJSON *out, bool enable, struct aws_err *err)
{
    struct elb_lb_row lb;
    if (elb_lb_load(call, elb_str(in, "LoadBalancerName"), &lb, err) < 0)
        return -1;
    const cJSON *zones = cJSON_GetObjectItemCaseSensitive(in, "AvailabilityZones");
    if (zones_check(call, zones, err) < 0)
        return -1;
    cJSON *have = json_list(lb.zones);
    cJSON *subnets = json_list(lb.subnets);
    cJSON *defaults = NULL;
    int ret = -1;
    if (lb.vpc_id[0] && subnets_resolve(call, NULL, zones, &defaults, err) < 0)
        goto out;
    const cJSON *z;
    cJSON_ArrayForEach(z, zones)
    {
        bool present = str_in(have, z->valuestring);
        if (enable && !present) {
            cJSON_AddItemToArray(have, cJSON_CreateString(z->valuestring));
            const cJSON *d;
            cJSON_ArrayForEach(d, defaults)
            {
                if (strcmp(elb_str(d, "AvailabilityZone"), z->valuestring) == 0)
                    cJSON_AddItemToArray(subnets, cJSON_CreateString(elb_str(d, "SubnetId")));
            }
        } else if (!enable && present) {
            for (int i = cJSON_GetArraySize(have) - 1; i >= 0; i--)
                if (strcmp(cJSON_GetArrayItem(have, i)->valuestring, z->valuestring) == 0)
                    cJSON_DeleteItemFromArray(have, i);
            const cJSON *d;
            cJSON_ArrayForEach(d, defaults)
            {
                for (int i = cJSON_GetArraySize(subnets) - 1; i >= 0; i--)
                    if (strcmp(cJSON_GetArrayItem(subnets, i)->valuestring,
                               elb_str(d, "SubnetId")) == 0 &&
                        strcmp(elb_str(d, "AvailabilityZone"), z->valuestring) == 0)
                        cJSON_DeleteItemFromArray(subnets, i);
            }
        }
    }
    if (cJSON_GetArraySize(have) == 0) {
        validation(err, "Cannot remove all Availability Zones from a load balancer.");
        goto out;
    }
    if (json_store(have, lb.zones, sizeof(lb.zones), err) < 0 ||
        json_store(subnets, lb.subnets, sizeof(lb.subnets), err) < 0)
        goto out;
    if (elb_store_lb_put(call->app->db, &lb) < 0) {
        elb_db_failed(err);
        goto out;
    }
    cJSON_AddItemToObject(out, "AvailabilityZones", cJSON_Duplicate(have, true));
    elb_dataplane_dirty(call->app);
    ret = 0;
out:
    cJSON_Delete(have);
    cJSON_Delete(subnets);
    cJSON_Delete(defaults);
    return ret;
}

int
elb_enable_availability_zones_for_load_balancer(struct aws_call *call, const cJSON *in, cJSON *out,
                                                struct aws_err *err)
{
    return zones_change(call, in, out, true, err);
}

int
elb_disable_availability_zones_for_load_balancer(struct aws_call *call, const cJSON *in, cJSON *out,
                                                 struct aws_err *err)
{
    return zones_change(call, in, out, false, err);
}

static int
subnets_change(struct aws_call *call, const cJSON *in, cJSON *out, bool attach, struct aws_err *err)
{
    struct elb_lb_row lb;
    if (elb_lb_load(call, elb_str(in, "LoadBalancerName"), &lb, err) < 0)
        return -1;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(in, "Subnets");
    cJSON *found = NULL;
    if (subnets_resolve(call, ids, NULL, &found, err) < 0)
        return -1;
    cJSON *subnets = json_list(lb.subnets), *zones = json_list(lb.zones);
    cJSON *all = NULL;
    int ret = -1;
    if (cJSON_GetArraySize(found) != cJSON_GetArraySize(ids)) {
        aws_err_setx(err, 400, "SubnetNotFound", true, "One or more subnets were not found.");
        goto out;
    }
    const cJSON *s;
    cJSON_ArrayForEach(s, found)
    {
        const char *id = elb_str(s, "SubnetId"), *az = elb_str(s, "AvailabilityZone");
        if (attach) {
            if (str_in(subnets, id))
                continue;
            if (lb.vpc_id[0] && strcmp(lb.vpc_id, elb_str(s, "VpcId")) != 0) {
                aws_err_setx(err, 400, "InvalidSubnet", true,
                             "Subnet %s is not in the load balancer's VPC %s.", id, lb.vpc_id);
                goto out;
            }
            if (str_in(zones, az)) {
                aws_err_setx(err, 409, "InvalidConfigurationRequest", true,
                             "LoadBalancer attached to multiple subnets in the same AZ.");
                goto out;
            }
            cJSON_AddItemToArray(subnets, cJSON_CreateString(id));
            cJSON_AddItemToArray(zones, cJSON_CreateString(az));
        } else {
            for (int i = cJSON_GetArraySize(subnets) - 1; i >= 0; i--)
                if (strcmp(cJSON_GetArrayItem(subnets, i)->valuestring, id) == 0)
                    cJSON_DeleteItemFromArray(subnets, i);
            for (int i = cJSON_GetArraySize(zones) - 1; i >= 0; i--)
                if (strcmp(cJSON_GetArrayItem(zones, i)->valuestring, az) == 0)
                    cJSON_DeleteItemFromArray(zones, i);
        }
    }
    if (cJSON_GetArraySize(subnets) == 0) {
        aws_err_setx(err, 409, "InvalidConfigurationRequest", true,
                     "Requested configuration change is invalid: a load balancer must remain "
                     "attached to at least one subnet.");
        goto out;
    }
    if (json_store(subnets, lb.subnets, sizeof(lb.subnets), err) < 0 ||
        json_store(zones, lb.zones, sizeof(lb.zones), err) < 0)
        goto out;
    if (elb_store_lb_put(call->app->db, &lb) < 0) {
        elb_db_failed(err);
        goto out;
    }
    cJSON_AddItemToObject(out, "Subnets", cJSON_Duplicate(subnets, true));
    elb_dataplane_dirty(call->app);
    ret = 0;
out:
    cJSON_Delete(found);
    cJSON_Delete(subnets);
    cJSON_Delete(zones);
    cJSON_Delete(all);
    return ret;
}

int
elb_attach_load_balancer_to_subnets(struct aws_call *call, const cJSON *in, cJSON *out,
                                    struct aws_err *err)
{
    return subnets_change(call, in, out, true, err);
}

int
elb_detach_load_balancer_from_subnets(struct aws_call *call, const cJSON *in, cJSON *out,
                                      struct aws_err *err)
{
    return subnets_change(call, in, out, false, err);
}

/* ---- attributes ---- */

static cJSON *
attributes_of(const struct elb_lb_row *lb)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(a, "CrossZoneLoadBalancing"), "Enabled",
                          lb->cross_zone);
    cJSON *log = cJSON_Parse(lb->access_log);
    cJSON_AddItemToObject(a, "AccessLog", log ? log : cJSON_CreateObject());
    cJSON *cd = cJSON_AddObjectToObject(a, "ConnectionDraining");
    cJSON_AddBoolToObject(cd, "Enabled", lb->drain_enabled);
    cJSON_AddNumberToObject(cd, "Timeout", lb->drain_timeout);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(a, "ConnectionSettings"), "IdleTimeout",
                            lb->idle_timeout);
    cJSON_AddItemToObject(a, "AdditionalAttributes", json_list(lb->additional));
    return a;
}

int
elb_describe_load_balancer_attributes(struct aws_call *call, const cJSON *in, cJSON *out,
                                      struct aws_err *err)
{
    struct elb_lb_row lb;
    if (elb_lb_load(call, elb_str(in, "LoadBalancerName"), &lb, err) < 0)
        return -1;
    cJSON_AddItemToObject(out, "LoadBalancerAttributes", attributes_of(&lb));
    return 0;
}

static bool
bool_member(const cJSON *obj, const char *name, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsBool(v))
        return false;
    *out = cJSON_IsTrue(v);
    return true;
}

int
elb_modify_load_balancer_attributes(struct aws_call *call, const cJSON *in, cJSON *out,
                                    struct aws_err *err)
{
    struct elb_lb_row lb;
    if (elb_lb_load(call, elb_str(in, "LoadBalancerName"), &lb, err) < 0)
        return -1;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(in, "LoadBalancerAttributes");
    const cJSON *cz = cJSON_GetObjectItemCaseSensitive(a, "CrossZoneLoadBalancing");
    const cJSON *log = cJSON_GetObjectItemCaseSensitive(a, "AccessLog");
    const cJSON *cd = cJSON_GetObjectItemCaseSensitive(a, "ConnectionDraining");
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(a, "ConnectionSettings");
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(a, "AdditionalAttributes");
    if (cz && !bool_member(cz, "Enabled", &lb.cross_zone))
        return validation(err, "CrossZoneLoadBalancing.Enabled is required.");
    if (cd) {
        if (!bool_member(cd, "Enabled", &lb.drain_enabled))
            return validation(err, "ConnectionDraining.Enabled is required.");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(cd, "Timeout");
        if (cJSON_IsNumber(t)) {
            if (t->valueint < 1 || t->valueint > 3600)
                return validation(err, "ConnectionDraining.Timeout must be between 1 and 3600 "
                                       "seconds.");
            lb.drain_timeout = t->valueint;
        }
    }
    if (cs) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(cs, "IdleTimeout");
        if (!cJSON_IsNumber(t) || t->valueint < 1 || t->valueint > 3600)
            return validation(err, "ConnectionSettings.IdleTimeout must be between 1 and 3600 "
                                   "seconds.");
        lb.idle_timeout = t->valueint;
    }
    if (log) {
        bool enabled;
        if (!bool_member(log, "Enabled", &enabled))
            return validation(err, "AccessLog.Enabled is required.");
        const cJSON *ei = cJSON_GetObjectItemCaseSensitive(log, "EmitInterval");
        if (ei && (!cJSON_IsNumber(ei) || (ei->valueint != 5 && ei->valueint != 60)))
            return validation(err, "AccessLog.EmitInterval must be 5 or 60.");
        if (enabled && !elb_str(log, "S3BucketName"))
            return aws_err_setx(err, 409, "InvalidConfigurationRequest", true,
                                "Requested configuration change is invalid: an S3 bucket is "
                                "required to enable access logs.");
        cJSON *copy = cJSON_Duplicate(log, true);
        if (!cJSON_GetObjectItemCaseSensitive(copy, "EmitInterval") && enabled)
            cJSON_AddNumberToObject(copy, "EmitInterval", 60);
        int rc = json_store(copy, lb.access_log, sizeof(lb.access_log), err);
        cJSON_Delete(copy);
        if (rc < 0)
            return -1;
    }
    if (add) {
        const cJSON *kv;
        cJSON_ArrayForEach(kv, add)
        {
            const char *key = elb_str(kv, "Key"), *value = elb_str(kv, "Value");
            /* The one additional attribute Classic load balancers have. */
            if (!key || strcmp(key, "elb.http.desyncmitigationmode") != 0)
                return aws_err_setx(err, 400, "LoadBalancerAttributeNotFound", true,
                                    "The specified load balancer attribute does not exist: %s",
                                    key ? key : "");
            if (!value || (strcmp(value, "monitor") != 0 && strcmp(value, "defensive") != 0 &&
                           strcmp(value, "strictest") != 0))
                return validation(err, "elb.http.desyncmitigationmode must be monitor, "
                                       "defensive or strictest.");
        }
        if (json_store(add, lb.additional, sizeof(lb.additional), err) < 0)
            return -1;
    }
    if (elb_store_lb_put(call->app->db, &lb) < 0)
        return elb_db_failed(err);
    cJSON_AddStringToObject(out, "LoadBalancerName", lb.name);
    cJSON_AddItemToObject(out, "LoadBalancerAttributes", attributes_of(&lb));
    elb_dataplane_dirty(call->app);
    return 0;
}

/* ---- tags ---- */

int
elb_add_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)out;
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(in, "LoadBalancerNames");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "Tags");
    const cJSON *t, *u, *v;
    cJSON_ArrayForEach(t, tags)
    {
        if (!elb_str(t, "Key"))
            return validation(err, "Tag Key is required.");
        for (u = t->next; u; u = u->next)
            if (elb_str(u, "Key") && strcmp(elb_str(t, "Key"), elb_str(u, "Key")) == 0)
                return aws_err_setx(err, 400, "DuplicateTagKeys", true, "Duplicate tag key '%s'",
                                    elb_str(t, "Key"));
    }
    int pins = host_port_tags_check(tags, err);
    if (pins < 0)
        return -1;
    if (pins > 0 && cJSON_GetArraySize(names) > 1)
        return validation(err, "A fogbank:host-port tag pins the listener of one load balancer: "
                               "tag one load balancer at a time.");
    cJSON_ArrayForEach(v, names)
    {
        struct elb_lb_row lb;
        if (elb_lb_load(call, cJSON_IsString(v) ? v->valuestring : NULL, &lb, err) < 0)
            return -1;
        cJSON *have = json_list(lb.tags);
        cJSON_ArrayForEach(t, tags)
        {
            const char *key = elb_str(t, "Key"), *value = elb_str(t, "Value");
            cJSON *o = NULL, *w;
            cJSON_ArrayForEach(w, have)
            {
                if (strcmp(elb_str(w, "Key"), key) == 0)
                    o = w;
            }
            if (!o) {
                o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "Key", key);
                cJSON_AddItemToArray(have, o);
            }
            cJSON_DeleteItemFromObjectCaseSensitive(o, "Value");
            cJSON_AddStringToObject(o, "Value", value ? value : "");
        }
        int rc = 0;
        if (cJSON_GetArraySize(have) > ELB_MAX_TAGS)
            rc = aws_err_setx(err, 400, "TooManyTags", true,
                              "Tag limit exceeded for load balancer %s", lb.name);
        if (rc == 0)
            rc = json_store(have, lb.tags, sizeof(lb.tags), err);
        cJSON_Delete(have);
        if (rc < 0)
            return -1;
        if (elb_store_lb_put(call->app->db, &lb) < 0)
            return elb_db_failed(err);
        if (pins > 0 && host_port_tags_apply(call, lb.name, tags, 0, err) < 0)
            return -1;
    }
    return 0;
}

int
elb_remove_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)out;
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(in, "LoadBalancerNames");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "Tags");
    const cJSON *v, *t;
    cJSON_ArrayForEach(v, names)
    {
        struct elb_lb_row lb;
        if (elb_lb_load(call, cJSON_IsString(v) ? v->valuestring : NULL, &lb, err) < 0)
            return -1;
        cJSON *have = json_list(lb.tags);
        cJSON_ArrayForEach(t, tags)
        {
            const char *key = elb_str(t, "Key");
            for (int i = cJSON_GetArraySize(have) - 1; key && i >= 0; i--)
                if (strcmp(elb_str(cJSON_GetArrayItem(have, i), "Key"), key) == 0)
                    cJSON_DeleteItemFromArray(have, i);
        }
        int rc = json_store(have, lb.tags, sizeof(lb.tags), err);
        cJSON_Delete(have);
        if (rc < 0)
            return -1;
        if (elb_store_lb_put(call->app->db, &lb) < 0)
            return elb_db_failed(err);
    }
    return 0;
}

int
elb_describe_tags(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(in, "LoadBalancerNames");
    cJSON *list = cJSON_AddArrayToObject(out, "TagDescriptions");
    const cJSON *v;
    cJSON_ArrayForEach(v, names)
    {
        struct elb_lb_row lb;
        if (elb_lb_load(call, cJSON_IsString(v) ? v->valuestring : NULL, &lb, err) < 0)
            return -1;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "LoadBalancerName", lb.name);
        cJSON_AddItemToObject(o, "Tags", json_list(lb.tags));
        cJSON_AddItemToArray(list, o);
    }
    return 0;
}

/* ---- limits ---- */

int
elb_describe_account_limits(struct aws_call *call, const cJSON *in, cJSON *out, struct aws_err *err)
{
    (void)call;
    static const struct {
        const char *name;
        int max;
    } limits[] = {
        { "classic-load-balancers", ELB_MAX_LOAD_BALANCERS },
        { "classic-listeners", ELB_MAX_LISTENERS },
        { "classic-registered-instances", ELB_MAX_INSTANCES },
    };
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(in, "PageSize");
    const char *marker = elb_str(in, "Marker");
    int page = cJSON_IsNumber(ps) ? ps->valueint : 400;
    size_t start = 0;
    if (page < 1 || page > 400)
        return validation(err, "PageSize must be between 1 and 400.");
    if (marker) {
        while (start < ARRAY_SIZE(limits) && strcmp(limits[start].name, marker) != 0)
            start++;
        if (start == ARRAY_SIZE(limits))
            return validation(err, "Invalid Marker");
    }
    cJSON *list = cJSON_AddArrayToObject(out, "Limits");
    for (size_t i = start; i < ARRAY_SIZE(limits); i++) {
        if ((int)(i - start) == page) {
            cJSON_AddStringToObject(out, "NextMarker", limits[i].name);
            break;
        }
        cJSON *o = cJSON_CreateObject();
        char max[16];
        snprintf(max, sizeof(max), "%d", limits[i].max);
        cJSON_AddStringToObject(o, "Name", limits[i].name);
        cJSON_AddStringToObject(o, "Max", max);
        cJSON_AddItemToArray(list, o);
    }
    return 0;
}
