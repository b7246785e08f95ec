/*
 * Route53 record sets: ChangeResourceRecordSets (the whole batch or nothing: each change is
 * applied in order inside the call's transaction, every problem is collected, and any
 * problem fails the call so the router rolls all of it back) and ListResourceRecordSets (in
 * AWS's order: name with labels reversed, then type, then set identifier).
 */
#include "emulator/common.h"
#include "services/route53/route53_internal.h"
#include "emulator/app.h"
#include "services/elb/api.h"
#include "state/route53.h"

#define R53_RRSETS_MAX_ITEMS 300
#define R53_SOA_TTL          900
#define R53_NS_TTL           172800

static const char *
str_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * Writes one set of the zone from its canonical tree: replacing the set of the same name,
 * type and identifier, or (create) only when there is none. 1 written, 0 (create) one was
 * there, -1 on failure (logged).
 */
static int
rrset_write(struct db *db, const char *zone_id, const char *canon_name, const cJSON *body,
            bool create)
{
    struct buf sort = BUF_INIT;
    r53_name_sort_key(canon_name, &sort);
    char *json = cJSON_PrintUnformatted(body);
    const char *set_id = str_member(body, "SetIdentifier");
    struct r53_rrset_row r = {
        .zone_id = zone_id,
        .name = canon_name,
        .type = str_member(body, "Type"),
        .set_id = set_id ? set_id : "",
        .sort_name = sort.data,
        .health_check_id = str_member(body, "HealthCheckId"),
        .body = json,
    };
    int ret = create ? r53_store_rrset_create(db, &r) : r53_store_rrset_put(db, &r) < 0 ? -1 : 1;
    free(json);
    buf_release(&sort);
    return ret;
}

/* Writes one set of the zone, replacing any of the same name, type and identifier. */
static int
rrset_put(struct db *db, const char *zone_id, const char *canon_name, const cJSON *body)
{
    return rrset_write(db, zone_id, canon_name, body, false) < 0 ? -1 : 0;
}

int
r53_records_create_defaults(struct aws_call *call, const char *zone_id, const char *zone_name,
                            const char *name_servers)
{
    struct buf name = BUF_INIT, soa = BUF_INIT;
    r53_name_escape(zone_name, &name);
    char first[64];
    size_t n = strcspn(name_servers, "\n");
    snprintf(first, sizeof(first), "%.*s", (int)n, name_servers);
    /* R53DG/SOA-NSrecords: the first name server, the default admin address, serial 1 and
       AWS's default timers. */
    buf_addf(&soa, "%s. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400", first);

    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "Name", name.data);
    cJSON_AddStringToObject(s, "Type", "SOA");
    cJSON_AddNumberToObject(s, "TTL", R53_SOA_TTL);
    cJSON *rr = cJSON_AddArrayToObject(s, "ResourceRecords");
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "Value", soa.data);
    cJSON_AddItemToArray(rr, v);

    cJSON *ns = cJSON_CreateObject();
    cJSON_AddStringToObject(ns, "Name", name.data);
    cJSON_AddStringToObject(ns, "Type", "NS");
    cJSON_AddNumberToObject(ns, "TTL", R53_NS_TTL);
    rr = cJSON_AddArrayToObject(ns, "ResourceRecords");
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", name_servers);
    char *save = NULL;
    for (char *tok = strtok_r(copy, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
        struct buf val = BUF_INIT;
        buf_addf(&val, "%s.", tok);
        v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "Value", val.data);
        cJSON_AddItemToArray(rr, v);
        buf_release(&val);
    }
    int ret = rrset_put(call->app->db, zone_id, zone_name, s) < 0 ||
                              rrset_put(call->app->db, zone_id, zone_name, ns) < 0
                      ? -1
                      : 0;
    cJSON_Delete(s);
    cJSON_Delete(ns);
    buf_release(&name);
    buf_release(&soa);
    return ret;
}

/* ---- one change ---- */

/* A change of the batch, normalised. */
struct change {
    const char *action; /* CREATE | DELETE | UPSERT */
    struct buf name;    /* canonical name */
    const char *type;   /* RR type */
    const char *set_id; /* SetIdentifier or "" */
    cJSON *body;        /* the canonical ResourceRecordSet tree (owned) */
    struct buf label;   /* "[name='x.', type='A']" for messages */
};

static void
change_release(struct change *c)
{
    buf_release(&c->name);
    buf_release(&c->label);
    cJSON_Delete(c->body);
}

/* Adds one message of the batch's failure. */
static void msg_add(cJSON *msgs, const char *fmt, ...) FB_PRINTF(2, 3);

static void
msg_add(cJSON *msgs, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(msgs, cJSON_CreateString(b.data));
    buf_release(&b);
}

/* Routing policies the DNS server does not implement: refused rather than ignored. */
static const char *const unsupported_members[] = {
    "Region", "GeoLocation", "CidrRoutingConfig", "GeoProximityLocation", "TrafficPolicyInstanceId",
};

/*
 * Whether an alias target cannot exist: a name outside the zone when the target zone is
 * this zone, or a load balancer name (…elb.amazonaws.com) that no load balancer has.
 */
static bool
alias_target_missing(struct aws_call *call, const struct r53_zone_row *zone, const char *tzone,
                     const char *target)
{
    static const char elb_suffix[] = ".elb.amazonaws.com.";
    if (strcmp(tzone, zone->id) == 0)
        return !r53_name_in_zone(target, zone->name);
    size_t n = strlen(target), k = sizeof(elb_suffix) - 1;
    if (n > k && strcmp(target + n - k, elb_suffix) == 0) {
        char lb[256];
        return elb_api_find_by_dns(call, target, lb, sizeof(lb)) == 0;
    }
    return false;
}

/*
 * Normalises one Change into c. Returns 0; -1 + err for a request AWS rejects as
 * InvalidInput (the shape of the set is wrong); a problem with the set's content adds a
 * message to msgs and returns 1.
 */
static int
change_parse(struct aws_call *call, const struct r53_zone_row *zone, const cJSON *ch,
             struct change *c, cJSON *msgs, struct aws_err *err)
{
    const cJSON *rrs = cJSON_GetObjectItemCaseSensitive(ch, "ResourceRecordSet");
    const char *name = str_member(rrs, "Name");
    const char *set_id = str_member(rrs, "SetIdentifier");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(rrs, "TTL");
    const cJSON *records = cJSON_GetObjectItemCaseSensitive(rrs, "ResourceRecords");
    const cJSON *alias = cJSON_GetObjectItemCaseSensitive(rrs, "AliasTarget");
    const cJSON *weight = cJSON_GetObjectItemCaseSensitive(rrs, "Weight");
    const char *failover = str_member(rrs, "Failover");
    const cJSON *multi = cJSON_GetObjectItemCaseSensitive(rrs, "MultiValueAnswer");
    const char *hc = str_member(rrs, "HealthCheckId");
    c->action = str_member(ch, "Action");
    c->type = str_member(rrs, "Type");
    c->set_id = set_id ? set_id : "";
    struct buf esc = BUF_INIT;

    if (r53_name_canon(name, &c->name) < 0) {
        msg_add(msgs,
                "Invalid Resource Record: 'FATAL problem: DomainLabelEmpty (Domain label "
                "is empty) encountered with '%s''",
                name);
        return 1;
    }
    r53_name_escape(c->name.data, &esc);
    buf_addf(&c->label, "[name='%s', type='%s'", esc.data, c->type);
    if (set_id)
        buf_addf(&c->label, ", set-identifier='%s'", set_id);
    buf_addc(&c->label, ']');

    for (size_t i = 0; i < ARRAY_SIZE(unsupported_members); i++)
        if (cJSON_GetObjectItemCaseSensitive(rrs, unsupported_members[i])) {
            buf_release(&esc);
            return aws_err_setx(err, 400, "InvalidInput", true,
                                "Invalid request: %s routing is not supported by fogbank",
                                unsupported_members[i]);
        }
    bool plain = ttl && cJSON_GetArraySize(records) > 0;
    if (alias ? (ttl || records) : !plain) {
        buf_release(&esc);
        return aws_err_setx(err, 400, "InvalidInput", true,
                            "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, "
                            "and ResourceRecords], or TrafficPolicyInstanceId], but found %s in "
                            "Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]",
                            alias ? "more than one" : "none", c->action, name, c->type,
                            set_id ? set_id : "null");
    }
    int policies = (weight != NULL) + (failover != NULL) + (multi != NULL);
    if ((set_id && policies != 1) || (!set_id && policies > 0)) {
        buf_release(&esc);
        return aws_err_setx(err, 400, "InvalidInput", true,
                            "Invalid request: Expected exactly one of [Weight, Region, Failover, "
                            "GeoLocation, MultiValueAnswer, GeoProximityLocation, or "
                            "CidrRoutingConfig] with SetIdentifier, but found %s in Change with "
                            "[Action=%s, Name=%s, Type=%s, SetIdentifier=%s]",
                            policies ? "more than one" : "none", c->action, name, c->type,
                            set_id ? set_id : "null");
    }

    if (!r53_name_in_zone(c->name.data, zone->name)) {
        struct buf zn = BUF_INIT;
        r53_name_escape(zone->name, &zn);
        msg_add(msgs, "RRSet with DNS name %s is not permitted in zone %s", esc.data, zn.data);
        buf_release(&zn);
        buf_release(&esc);
        return 1;
    }
    if (strcmp(c->type, "CNAME") == 0 && strcmp(c->name.data, zone->name) == 0) {
        msg_add(msgs, "RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s",
                esc.data, esc.data);
        buf_release(&esc);
        return 1;
    }
    if (alias && strcmp(c->type, "A") != 0 && strcmp(c->type, "AAAA") != 0 &&
        strcmp(c->type, "CNAME") != 0 && strcmp(c->type, "TXT") != 0 &&
        strcmp(c->type, "MX") != 0 && strcmp(c->type, "SRV") != 0 && strcmp(c->type, "CAA") != 0 &&
        strcmp(c->type, "PTR") != 0) {
        msg_add(msgs, "Alias target of type %s is not supported %s", c->type, c->label.data);
        buf_release(&esc);
        return 1;
    }
    if (hc) {
        int found = r53_store_health_get(call->app->db, hc, NULL, NULL);
        if (found < 0) {
            buf_release(&esc);
            return r53_err_db(err);
        }
        if (!found) {
            buf_release(&esc);
            return aws_err_setx(err, 404, "NoSuchHealthCheck", true,
                                "No health check exists with the specified ID %s", hc);
        }
    }

    /* The canonical tree, in the order ListResourceRecordSets writes the members. */
    cJSON *b = cJSON_CreateObject();
    c->body = b;
    cJSON_AddStringToObject(b, "Name", esc.data);
    cJSON_AddStringToObject(b, "Type", c->type);
    if (set_id)
        cJSON_AddStringToObject(b, "SetIdentifier", set_id);
    if (weight)
        cJSON_AddNumberToObject(b, "Weight", weight->valuedouble);
    if (failover)
        cJSON_AddStringToObject(b, "Failover", failover);
    if (multi)
        cJSON_AddBoolToObject(b, "MultiValueAnswer", cJSON_IsTrue(multi));
    if (ttl)
        cJSON_AddNumberToObject(b, "TTL", ttl->valuedouble);
    int bad = 0;
    if (records) {
        cJSON *list = cJSON_AddArrayToObject(b, "ResourceRecords");
        const cJSON *r;
        struct buf msg = BUF_INIT;
        cJSON_ArrayForEach(r, records)
        {
            const char *value = str_member(r, "Value");
            if (!value)
                continue;
            if (r53_dns_rdata_check(c->type, value, &msg) < 0) {
                msg_add(msgs, "%s", msg.data);
                bad = 1;
                continue;
            }
            cJSON *v = cJSON_CreateObject();
            cJSON_AddStringToObject(v, "Value", value);
            cJSON_AddItemToArray(list, v);
        }
        buf_release(&msg);
        if (!bad && cJSON_GetArraySize(list) > 1 && strcmp(c->type, "CNAME") == 0) {
            msg_add(msgs, "RRSet of type CNAME with DNS name %s contains more than one value",
                    esc.data);
            bad = 1;
        }
    }
    if (alias) {
        struct buf target = BUF_INIT, tesc = BUF_INIT;
        const char *tname = str_member(alias, "DNSName");
        if (r53_name_canon(tname, &target) < 0) {
            msg_add(msgs, "Invalid alias target name %s %s", tname, c->label.data);
            bad = 1;
        } else {
            r53_name_escape(target.data, &tesc);
            const char *tzone = r53_bare_id(str_member(alias, "HostedZoneId"));
            if (strcmp(c->action, "DELETE") != 0 &&
                alias_target_missing(call, zone, tzone, target.data)) {
                msg_add(msgs,
                        "Tried to create an alias that targets %s, type %s in zone %s, but the "
                        "alias target name does not lie within the target zone",
                        tesc.data, c->type, tzone);
                bad = 1;
            }
            cJSON *a = cJSON_AddObjectToObject(b, "AliasTarget");
            cJSON_AddStringToObject(a, "HostedZoneId", tzone);
            cJSON_AddStringToObject(a, "DNSName", tesc.data);
            cJSON_AddBoolToObject(
                    a, "EvaluateTargetHealth",
                    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(alias, "EvaluateTargetHealth")));
        }
        buf_release(&target);
        buf_release(&tesc);
    }
    if (hc)
        cJSON_AddStringToObject(b, "HealthCheckId", hc);
    buf_release(&esc);
    return bad;
}

static int
find_visit(void *arg, const struct r53_rrset_row *r)
{
    cJSON **found = arg;
    *found = cJSON_Parse(r->body);
    return 0;
}

/*
 * Applies one parsed change; a conflict adds a message. -1 on a state failure. CREATE and
 * UPSERT are one statement each (an insert that tells whether the set was there, a replace);
 * only DELETE reads the set first, to compare its values.
 */
static int
change_apply(struct aws_call *call, const struct r53_zone_row *zone, struct change *c, cJSON *msgs)
{
    struct db *db = call->app->db;
    if (strcmp(c->action, "CREATE") == 0) {
        int rc = rrset_write(db, zone->id, c->name.data, c->body, true);
        if (rc == 0)
            msg_add(msgs, "Tried to create resource record set %s but it already exists",
                    c->label.data);
        return rc < 0 ? -1 : 0;
    }
    if (strcmp(c->action, "DELETE") != 0)
        return rrset_put(db, zone->id, c->name.data, c->body);
    cJSON *found = NULL;
    int rc =
            r53_store_rrset_get(db, zone->id, c->name.data, c->type, c->set_id, find_visit, &found);
    if (rc < 0)
        return -1;
    int ret = 0;
    if (!found)
        msg_add(msgs, "Tried to delete resource record set %s but it was not found", c->label.data);
    else if (!cJSON_Compare(found, c->body, true))
        msg_add(msgs,
                "Tried to delete resource record set %s but the values provided do not "
                "match the current values",
                c->label.data);
    else
        ret = r53_store_rrset_delete(db, zone->id, c->name.data, c->type, c->set_id);
    cJSON_Delete(found);
    return ret;
}

/* What is at one name after the batch, for the checks across sets. */
struct name_ctx {
    bool cname;   /* a CNAME set is there */
    int others;   /* sets of other types */
    bool soa, ns; /* the apex still has its SOA / NS */
    cJSON *kinds; /* type -> "simple" | "routed" | "mixed" */
};

static int
name_visit(void *arg, const struct r53_rrset_row *r)
{
    struct name_ctx *n = arg;
    if (strcmp(r->type, "CNAME") == 0)
        n->cname = true;
    else
        n->others++;
    n->soa = n->soa || strcmp(r->type, "SOA") == 0;
    n->ns = n->ns || strcmp(r->type, "NS") == 0;
    const char *kind = r->set_id[0] ? "routed" : "simple";
    cJSON *have = cJSON_GetObjectItemCaseSensitive(n->kinds, r->type);
    if (!have)
        cJSON_AddStringToObject(n->kinds, r->type, kind);
    else if (strcmp(have->valuestring, kind) != 0)
        cJSON_ReplaceItemInObjectCaseSensitive(n->kinds, r->type, cJSON_CreateString("mixed"));
    return 0;
}

/* The checks that concern a name as a whole, once the batch is applied. */
static int
name_check(struct aws_call *call, const struct r53_zone_row *zone, const char *canon, cJSON *msgs)
{
    struct name_ctx n = { .kinds = cJSON_CreateObject() };
    if (r53_store_rrset_each_at(call->app->db, zone->id, canon, name_visit, &n) < 0) {
        cJSON_Delete(n.kinds);
        return -1;
    }
    struct buf esc = BUF_INIT, zn = BUF_INIT;
    r53_name_escape(canon, &esc);
    r53_name_escape(zone->name, &zn);
    if (n.cname && n.others > 0)
        msg_add(msgs,
                "RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other "
                "records with the same DNS name in zone %s",
                esc.data, zn.data);
    const cJSON *k;
    cJSON_ArrayForEach(k, n.kinds)
    {
        if (strcmp(k->valuestring, "mixed") == 0)
            msg_add(msgs,
                    "RRSet with DNS name %s, type %s cannot be created as a non-weighted set "
                    "exists with the same name and type.",
                    esc.data, k->string);
    }
    if (strcmp(canon, zone->name) == 0) {
        if (!n.soa)
            msg_add(msgs, "A HostedZone must contain exactly one SOA record.");
        if (!n.ns)
            msg_add(msgs, "A HostedZone must contain at least one NS record for the zone "
                          "itself.");
    }
    buf_release(&esc);
    buf_release(&zn);
    cJSON_Delete(n.kinds);
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
r53_change_resource_record_sets(struct aws_call *call, const cJSON *in, cJSON *out,
                                struct aws_err *err)
{
    const char *zid = r53_bare_id(str_member(in, "HostedZoneId"));
    const cJSON *batch = cJSON_GetObjectItemCaseSensitive(in, "ChangeBatch");
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(batch, "Changes");
    const char *comment = str_member(batch, "Comment");
    struct r53_zone_row *zone = xcalloc(1, sizeof(*zone));
    int n = cJSON_GetArraySize(changes);
    struct change *cs = xcalloc(n ? (size_t)n : 1, sizeof(*cs));
    cJSON *msgs = cJSON_CreateArray();
    int ret = -1;

    int found = r53_store_zone_get(call->app->db, zid, zone);
    if (found < 0) {
        r53_err_db(err);
        goto out;
    }
    if (!found) {
        r53_err_no_zone(err, zid);
        goto out;
    }
    if (n == 0) {
        aws_err_setx(err, 400, "InvalidInput", true,
                     "1 validation error detected: Value '[]' at 'changeBatch.changes' failed to "
                     "satisfy constraint: Member must have length greater than or equal to 1");
        goto out;
    }
    /* Every change is checked for shape first, so a malformed one changes nothing. */
    bool content_ok = true;
    const cJSON *ch;
    int i = 0;
    cJSON_ArrayForEach(ch, changes)
    {
        int r = change_parse(call, zone, ch, &cs[i++], msgs, err);
        if (r < 0)
            goto out;
        if (r > 0)
            content_ok = false;
    }
    if (content_ok) {
        for (i = 0; i < n; i++)
            if (change_apply(call, zone, &cs[i], msgs) < 0) {
                r53_err_db(err);
                goto out;
            }
        /* Each name the batch touched, once (sorted, so a batch of 1,000 stays cheap). */
        const char **names = xcalloc((size_t)n, sizeof(*names));
        for (i = 0; i < n; i++)
            names[i] = cs[i].name.data;
        qsort(names, (size_t)n, sizeof(*names), cmp_str);
        int rc = 0;
        for (i = 0; i < n && rc == 0; i++)
            if (i == 0 || strcmp(names[i - 1], names[i]) != 0)
                rc = name_check(call, zone, names[i], msgs);
        if (rc == 0 && cJSON_GetArraySize(msgs) == 0)
            for (i = 0; i < n; i++)
                if (i == 0 || strcmp(names[i - 1], names[i]) != 0)
                    r53_dns_invalidate_name(zone->id, names[i]);
        free(names);
        if (rc < 0) {
            r53_err_db(err);
            goto out;
        }
    }
    int nmsg = cJSON_GetArraySize(msgs);
    if (nmsg == 1) {
        aws_err_setx(err, 400, "InvalidChangeBatch", true, "%s",
                     cJSON_GetArrayItem(msgs, 0)->valuestring);
        goto out;
    }
    if (nmsg > 1) {
        /* Several problems come as one bracketed, comma-separated message (external-dns
           #4241 shows the form). */
        struct buf all = BUF_INIT;
        const cJSON *m;
        buf_addc(&all, '[');
        cJSON_ArrayForEach(m, msgs)
        {
            buf_addf(&all, "%s%s", all.len > 1 ? ", " : "", m->valuestring);
        }
        buf_addc(&all, ']');
        aws_err_setx(err, 400, "InvalidChangeBatch", true, "%s", all.data);
        buf_release(&all);
        goto out;
    }
    cJSON *info = cJSON_AddObjectToObject(out, "ChangeInfo");
    if (r53_change_new(call, comment, info, err) < 0)
        goto out;
    ret = 0;
out:
    for (i = 0; i < n; i++)
        change_release(&cs[i]);
    free(cs);
    cJSON_Delete(msgs);
    free(zone);
    return ret;
}

/* ---- listing ---- */

struct list_ctx {
    cJSON *list; /* ResourceRecordSets */
    int max;     /* MaxItems */
    int n;       /* sets listed */
    cJSON *out;  /* the output, for the Next* members */
    bool failed; /* a stored body did not parse */
};

static int
list_visit(void *arg, const struct r53_rrset_row *r)
{
    struct list_ctx *l = arg;
    if (l->n == l->max) {
        struct buf esc = BUF_INIT;
        r53_name_escape(r->name, &esc);
        cJSON_AddStringToObject(l->out, "NextRecordName", esc.data);
        cJSON_AddStringToObject(l->out, "NextRecordType", r->type);
        if (r->set_id[0])
            cJSON_AddStringToObject(l->out, "NextRecordIdentifier", r->set_id);
        buf_release(&esc);
        return 1;
    }
    cJSON *body = cJSON_Parse(r->body);
    if (!body) {
        l->failed = true;
        return 1;
    }
    cJSON_AddItemToArray(l->list, body);
    l->n++;
    return 0;
}

int
r53_list_resource_record_sets(struct aws_call *call, const cJSON *in, cJSON *out,
                              struct aws_err *err)
{
    const char *zid = r53_bare_id(str_member(in, "HostedZoneId"));
    const char *start = str_member(in, "StartRecordName");
    const char *type = str_member(in, "StartRecordType");
    const char *ident = str_member(in, "StartRecordIdentifier");
    int max = r53_max_items(in, R53_RRSETS_MAX_ITEMS, err);
    if (max < 0)
        return -1;
    if (type && !start)
        return aws_err_setx(err, 400, "InvalidInput", true,
                            "The input is not valid: StartRecordType requires StartRecordName");
    if (ident && !type)
        return aws_err_setx(err, 400, "InvalidInput", true,
                            "The input is not valid: StartRecordIdentifier requires "
                            "StartRecordType");
    struct r53_zone_row *zone = xcalloc(1, sizeof(*zone));
    struct buf canon = BUF_INIT, sort = BUF_INIT;
    int ret = -1;
    int found = r53_store_zone_get(call->app->db, zid, zone);
    if (found < 0) {
        r53_err_db(err);
        goto out;
    }
    if (!found) {
        r53_err_no_zone(err, zid);
        goto out;
    }
    if (start) {
        if (r53_name_canon(start, &canon) < 0) {
            aws_err_setx(err, 400, "InvalidInput", true, "Invalid DNS name: %s", start);
            goto out;
        }
        r53_name_sort_key(canon.data, &sort);
    }
    struct list_ctx l = { cJSON_AddArrayToObject(out, "ResourceRecordSets"), max, 0, out, false };
    if (r53_store_rrset_each_from(call->app->db, zone->id, start ? sort.data : NULL, type, ident,
                                  max + 1, list_visit, &l) < 0 ||
        l.failed) {
        r53_err_db(err);
        goto out;
    }
    cJSON_AddBoolToObject(out, "IsTruncated",
                          cJSON_GetObjectItemCaseSensitive(out, "NextRecordName") != NULL);
    r53_add_max_items(out, max);
    ret = 0;
out:
    buf_release(&canon);
    buf_release(&sort);
    free(zone);
    return ret;
}
