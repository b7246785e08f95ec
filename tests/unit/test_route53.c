/*
 * Route53 through router_handle in-process (in-memory state, frozen clock, fixed seed), as
 * the aws CLI sends it (rest-xml): hosted zones, change batches and their errors, listing
 * and paging of record sets, changes going INSYNC on the virtual clock, health checks and
 * tags, and that a failed call changes nothing.
 */
#include "emulator/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/clock.h"
#include "emulator/ids.h"
#include "emulator/model.h"
#include "emulator/router.h"
#include "emulator/service.h"
#include "services/route53/route53_internal.h"
#include "state/db.h"

#define NS "https://route53.amazonaws.com/doc/2013-04-01/"
#define AUTH                                                                                       \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/route53/aws4_request, "                   \
    "SignedHeaders=host, Signature=00"

static struct http_resp resp; /* the last answer */
static bool have_resp;        /* resp holds one to release */

static int
app_setup(void **state)
{
    struct app *app = xcalloc(1, sizeof(*app));
    char errbuf[256];
    app->cfg.account_id = "123456789012";
    app->db = db_open(":memory:", errbuf, sizeof(errbuf));
    assert_non_null(app->db);
    app->clock = vclock_new(NULL, 0, 1795000000000LL);
    app->ids = ids_new(42);
    *state = app;
    return 0;
}

static int
app_teardown(void **state)
{
    struct app *app = *state;
    if (have_resp)
        http_resp_release(&resp);
    have_resp = false;
    r53_health_stop_all(app);
    db_close(app->db);
    vclock_free(app->clock);
    ids_free(app->ids);
    free(app);
    return 0;
}

/* Sends METHOD target with an optional XML body; returns the HTTP status. */
static int
r53(struct app *app, const char *method, const char *target, const char *body)
{
    struct http_header h[2] = {
        { "Authorization", AUTH },
        { "Content-Type", "text/xml" },
    };
    struct http_req req = { .method = method,
                            .target = target,
                            .headers = h,
                            .n_headers = 2,
                            .body = body ? body : "",
                            .body_len = body ? strlen(body) : 0,
                            .peer = "127.0.0.1" };
    if (have_resp)
        http_resp_release(&resp);
    http_resp_init(&resp);
    have_resp = true;
    router_handle(app, &req, &resp);
    return resp.status;
}

#define BODY (resp.body.data)

static bool
has(const char *s)
{
    return strstr(BODY, s) != NULL;
}

static int
count(const char *s)
{
    int n = 0;
    for (const char *p = BODY; (p = strstr(p, s)); p += strlen(s))
        n++;
    return n;
}

/* The text of the first <tag>...</tag> of the last answer, or "". */
static const char *
first(const char *tag)
{
    static char out[8192];
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *a = strstr(BODY, open), *b;
    out[0] = '\0';
    if (a && (b = strstr(a, close))) {
        a += strlen(open);
        size_t n = (size_t)(b - a) < sizeof(out) - 1 ? (size_t)(b - a) : sizeof(out) - 1;
        memcpy(out, a, n);
        out[n] = '\0';
    }
    return out;
}

static void
assert_status(int got, int want)
{
    if (got != want)
        fail_msg("expected %d, got %d: %s", want, got, BODY);
}

static void
assert_error(int status, int want_status, const char *code, const char *message)
{
    char want[160];
    snprintf(want, sizeof(want), "<Code>%s</Code>", code);
    if (status != want_status || !has(want))
        fail_msg("expected %d %s, got %d: %s", want_status, code, status, BODY);
    if (!message)
        return;
    /* The envelope escapes quotes as &apos;. */
    struct buf esc = BUF_INIT;
    for (const char *p = message; *p; p++) {
        if (*p == '\'')
            buf_adds(&esc, "&apos;");
        else
            buf_addc(&esc, *p);
    }
    if (!has(esc.data))
        fail_msg("expected message '%s' in %s", message, BODY);
    buf_release(&esc);
}

/* Creates zone `name` with caller reference ref; its bare id into id. */
static void
zone_create(struct app *app, const char *name, const char *ref, char *id, size_t idsz)
{
    struct buf b = BUF_INIT;
    buf_addf(&b,
             "<CreateHostedZoneRequest xmlns=\"" NS "\"><Name>%s</Name>"
             "<CallerReference>%s</CallerReference></CreateHostedZoneRequest>",
             name, ref);
    assert_status(r53(app, "POST", "/2013-04-01/hostedzone", b.data), 201);
    buf_release(&b);
    const char *full = first("Id");
    assert_true(strncmp(full, "/hostedzone/", 12) == 0);
    snprintf(id, idsz, "%s", full + 12);
}

/* POSTs a change batch of the given <Change> elements to zone id; returns the status. */
static int
change(struct app *app, const char *id, const char *changes)
{
    struct buf b = BUF_INIT, t = BUF_INIT;
    buf_addf(&b,
             "<ChangeResourceRecordSetsRequest xmlns=\"" NS "\"><ChangeBatch><Changes>%s"
             "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
             changes);
    buf_addf(&t, "/2013-04-01/hostedzone/%s/rrset/", id);
    int st = r53(app, "POST", t.data, b.data);
    buf_release(&b);
    buf_release(&t);
    return st;
}

/* One <Change> of a simple record set with one value. */
static char *
rr(const char *action, const char *name, const char *type, const char *value)
{
    struct buf b = BUF_INIT;
    buf_addf(&b,
             "<Change><Action>%s</Action><ResourceRecordSet><Name>%s</Name><Type>%s</Type>"
             "<TTL>300</TTL><ResourceRecords><ResourceRecord><Value>%s</Value></ResourceRecord>"
             "</ResourceRecords></ResourceRecordSet></Change>",
             action, name, type, value);
    return buf_detach(&b, NULL);
}

static int
change1(struct app *app, const char *id, const char *action, const char *name, const char *type,
        const char *value)
{
    char *c = rr(action, name, type, value);
    int st = change(app, id, c);
    free(c);
    return st;
}

/* The listing of zone id (first page, up to 300). */
static int
list_sets(struct app *app, const char *id, const char *query)
{
    struct buf t = BUF_INIT;
    buf_addf(&t, "/2013-04-01/hostedzone/%s/rrset%s", id, query ? query : "");
    int st = r53(app, "GET", t.data, NULL);
    buf_release(&t);
    return st;
}

/* ---- the table ---- */

static void
test_operation_table_is_sorted_and_complete(void **state)
{
    (void)state;
    const struct service *s = service_get("route53");
    assert_non_null(s);
    assert_true(s->n_ops >= 17);
    for (size_t i = 0; i < s->n_ops; i++) {
        assert_non_null(s->ops[i].fn);
        if (i)
            assert_true(strcmp(s->ops[i - 1].name, s->ops[i].name) < 0);
    }
}

/* ---- names ---- */

static void
test_names_are_canonical_escaped_and_sorted_by_reversed_labels(void **state)
{
    (void)state;
    struct buf b = BUF_INIT, c = BUF_INIT;
    assert_int_equal(r53_name_canon("WWW.Example.com", &b), 0);
    assert_string_equal(b.data, "www.example.com.");
    assert_int_equal(r53_name_canon("\\052.example.com.", &b), 0);
    assert_string_equal(b.data, "*.example.com.");
    r53_name_escape(b.data, &c);
    assert_string_equal(c.data, "\\052.example.com.");
    assert_int_equal(r53_name_canon("a..example.com", &b), -1);
    assert_int_equal(r53_name_canon(".", &b), -1);
    assert_int_equal(r53_name_canon("", &b), -1);
    assert_int_equal(
            r53_name_canon("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
                           &b),
            -1);
    r53_name_sort_key("www.example.com.", &b);
    assert_string_equal(b.data, "com\x01"
                                "example\x01"
                                "www");
    assert_true(r53_name_in_zone("www.example.com.", "example.com."));
    assert_true(r53_name_in_zone("example.com.", "example.com."));
    assert_false(r53_name_in_zone("badexample.com.", "example.com."));
    buf_release(&b);
    buf_release(&c);
}

/* ---- hosted zones ---- */

static void
test_create_hosted_zone_has_default_ns_and_soa(void **state)
{
    struct app *app = *state;
    char id[40];
    zone_create(app, "Example.COM", "ref-1", id, sizeof(id));
    assert_true(id[0] == 'Z' && strlen(id) == 21);
    assert_string_equal(first("Name"), "example.com.");
    assert_string_equal(first("ResourceRecordSetCount"), "2");
    assert_string_equal(first("Status"), "PENDING");
    assert_int_equal(count("<NameServer>"), 4);
    assert_true(has(".awsdns-") && has(".co.uk</NameServer>"));
    bool location = false;
    for (size_t i = 0; i < resp.n_headers; i++)
        if (strcmp(resp.headers[i].name, "Location") == 0)
            location = strstr(resp.headers[i].value, id) != NULL;
    assert_true(location);

    assert_status(list_sets(app, id, NULL), 200);
    assert_int_equal(count("<ResourceRecordSet>"), 2);
    /* NS before SOA: AWS's order is name, then type. */
    assert_true(strstr(BODY, "<Type>NS</Type>") < strstr(BODY, "<Type>SOA</Type>"));
    assert_true(has("<TTL>172800</TTL>") && has("<TTL>900</TTL>"));
    assert_true(has("awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"));
}

static void
test_create_hosted_zone_errors(void **state)
{
    struct app *app = *state;
    char id[40];
    zone_create(app, "example.com", "same", id, sizeof(id));
    const char *again = "<CreateHostedZoneRequest xmlns=\"" NS "\"><Name>other.com</Name>"
                        "<CallerReference>same</CallerReference></CreateHostedZoneRequest>";
    assert_error(r53(app, "POST", "/2013-04-01/hostedzone", again), 409, "HostedZoneAlreadyExists",
                 "caller reference");
    const char *bad = "<CreateHostedZoneRequest xmlns=\"" NS "\"><Name>a..b.com</Name>"
                      "<CallerReference>r2</CallerReference></CreateHostedZoneRequest>";
    assert_error(r53(app, "POST", "/2013-04-01/hostedzone", bad), 400, "InvalidDomainName", NULL);
    const char *tld = "<CreateHostedZoneRequest xmlns=\"" NS "\"><Name>com</Name>"
                      "<CallerReference>r3</CallerReference></CreateHostedZoneRequest>";
    assert_error(r53(app, "POST", "/2013-04-01/hostedzone", tld), 400, "InvalidDomainName", NULL);
    const char *priv = "<CreateHostedZoneRequest xmlns=\"" NS "\"><Name>p.com</Name>"
                       "<CallerReference>r4</CallerReference><HostedZoneConfig><PrivateZone>true"
                       "</PrivateZone></HostedZoneConfig></CreateHostedZoneRequest>";
    assert_error(r53(app, "POST", "/2013-04-01/hostedzone", priv), 400, "InvalidInput", NULL);
    assert_status(r53(app, "GET", "/2013-04-01/hostedzonecount", NULL), 200);
    assert_string_equal(first("HostedZoneCount"), "1");
}

static void
test_private_zone_keeps_its_vpc(void **state)
{
    struct app *app = *state;
    const char *priv = "<CreateHostedZoneRequest xmlns=\"" NS "\"><Name>internal.corp</Name>"
                       "<CallerReference>p1</CallerReference><VPC><VPCRegion>us-east-1</VPCRegion>"
                       "<VPCId>vpc-1234</VPCId></VPC></CreateHostedZoneRequest>";
    assert_status(r53(app, "POST", "/2013-04-01/hostedzone", priv), 201);
    assert_string_equal(first("PrivateZone"), "true");
    char id[40];
    snprintf(id, sizeof(id), "%s", first("Id") + 12);
    struct buf t = BUF_INIT;
    buf_addf(&t, "/2013-04-01/hostedzone/%s", id);
    assert_status(r53(app, "GET", t.data, NULL), 200);
    assert_string_equal(first("VPCId"), "vpc-1234");
    assert_false(has("<DelegationSet>"));
    buf_release(&t);
}

static void
test_get_update_and_delete_hosted_zone(void **state)
{
    struct app *app = *state;
    char id[40];
    zone_create(app, "example.com", "r1", id, sizeof(id));
    struct buf t = BUF_INIT;
    buf_addf(&t, "/2013-04-01/hostedzone/%s", id);
    assert_status(r53(app, "GET", t.data, NULL), 200);
    assert_string_equal(first("CallerReference"), "r1");
    assert_int_equal(count("<NameServer>"), 4);

    const char *upd = "<UpdateHostedZoneCommentRequest xmlns=\"" NS "\"><Comment>new words"
                      "</Comment></UpdateHostedZoneCommentRequest>";
    assert_status(r53(app, "POST", t.data, upd), 200);
    assert_string_equal(first("Comment"), "new words");

    assert_status(change1(app, id, "CREATE", "www.example.com", "A", "192.0.2.1"), 200);
    assert_error(r53(app, "DELETE", t.data, NULL), 400, "HostedZoneNotEmpty", NULL);
    assert_status(change1(app, id, "DELETE", "www.example.com", "A", "192.0.2.1"), 200);
    assert_status(r53(app, "DELETE", t.data, NULL), 200);
    assert_string_equal(first("Status"), "PENDING");
    assert_error(r53(app, "GET", t.data, NULL), 404, "NoSuchHostedZone",
                 "No hosted zone found with ID");
    assert_error(r53(app, "DELETE", t.data, NULL), 404, "NoSuchHostedZone", NULL);
    assert_error(r53(app, "POST", t.data, upd), 404, "NoSuchHostedZone", NULL);
    buf_release(&t);
}

static void
test_list_hosted_zones_pages_and_by_name_order(void **state)
{
    struct app *app = *state;
    char a[40], b[40], c[40];
    zone_create(app, "zeta.com", "1", a, sizeof(a));
    zone_create(app, "alpha.org", "2", b, sizeof(b));
    zone_create(app, "beta.com", "3", c, sizeof(c));
    assert_status(r53(app, "GET", "/2013-04-01/hostedzone?maxitems=2", NULL), 200);
    assert_int_equal(count("<HostedZone>"), 2);
    assert_string_equal(first("IsTruncated"), "true");
    assert_string_equal(first("NextMarker"), c);
    struct buf t = BUF_INIT;
    buf_addf(&t, "/2013-04-01/hostedzone?maxitems=2&marker=%s", c);
    assert_status(r53(app, "GET", t.data, NULL), 200);
    assert_int_equal(count("<HostedZone>"), 1);
    assert_string_equal(first("IsTruncated"), "false");
    assert_true(has("beta.com."));
    /* By name: labels reversed, so com.beta < com.zeta < org.alpha. */
    assert_status(r53(app, "GET", "/2013-04-01/hostedzonesbyname", NULL), 200);
    const char *pb = strstr(BODY, "beta.com."), *pz = strstr(BODY, "zeta.com."),
               *pa = strstr(BODY, "alpha.org.");
    assert_true(pb && pz && pa && pb < pz && pz < pa);
    assert_status(
            r53(app, "GET", "/2013-04-01/hostedzonesbyname?dnsname=zeta.com&maxitems=1", NULL),
            200);
    assert_int_equal(count("<HostedZone>"), 1);
    assert_true(has("zeta.com."));
    assert_string_equal(first("NextDNSName"), "alpha.org.");
    assert_error(r53(app, "GET", "/2013-04-01/hostedzone?marker=Znope", NULL), 400, "InvalidInput",
                 NULL);
    buf_release(&t);
}

/* ---- change batches ---- */

static void
test_change_batch_create_upsert_delete(void **state)
{
    struct app *app = *state;
    char id[40];
    zone_create(app, "example.com", "r", id, sizeof(id));
    assert_status(change1(app, id, "CREATE", "WWW.example.com.", "A", "192.0.2.1"), 200);
    assert_string_equal(first("Status"), "PENDING");
    assert_error(change1(app, id, "CREATE", "www.example.com", "A", "192.0.2.9"), 400,
                 "InvalidChangeBatch",
                 "Tried to create resource record set [name='www.example.com.', type='A'] but "
                 "it already exists");
    assert_status(change1(app, id, "UPSERT", "www.example.com", "A", "192.0.2.2"), 200);
    assert_status(list_sets(app, id, NULL), 200);
    assert_true(has("<Value>192.0.2.2</Value>") && !has("192.0.2.1"));
    assert_error(change1(app, id, "DELETE", "www.example.com", "A", "192.0.2.1"), 400,
                 "InvalidChangeBatch",
                 "Tried to delete resource record set [name='www.example.com.', type='A'] but "
                 "the values provided do not match the current values");
    assert_error(change1(app, id, "DELETE", "nope.example.com", "A", "192.0.2.1"), 400,
                 "InvalidChangeBatch",
                 "Tried to delete resource record set [name='nope.example.com.', type='A'] but "
                 "it was not found");
    assert_status(change1(app, id, "DELETE", "www.example.com", "A", "192.0.2.2"), 200);
    assert_status(list_sets(app, id, NULL), 200);
    assert_int_equal(count("<ResourceRecordSet>"), 2);
    /* A wildcard is listed as \052. */
    assert_status(change1(app, id, "CREATE", "*.example.com", "TXT", "\"hi\""), 200);
    assert_status(list_sets(app, id, NULL), 200);
    assert_true(has("<Name>\\052.example.com.</Name>"));
}

static void
test_batch_with_one_bad_change_changes_nothing(void **state)
{
    struct app *app = *state;
    char id[40];
    zone_create(app, "example.com", "r", id, sizeof(id));
    assert_status(change1(app, id, "CREATE", "old.example.com", "A", "192.0.2.1"), 200);
    assert_status(list_sets(app, id, NULL), 200);
    char *before = xstrdup(BODY);
    char *c1 = rr("CREATE", "new.example.com", "A", "192.0.2.5");
    char *c2 = rr("DELETE", "old.example.com", "A", "192.0.2.1");
    char *c3 = rr("DELETE", "missing.example.com", "A", "192.0.2.1");
    struct buf all = BUF_INIT;
    buf_addf(&all, "%s%s%s", c1, c2, c3);
    assert_error(change(app, id, all.data), 400, "InvalidChangeBatch", "it was not found");
    assert_status(list_sets(app, id, NULL), 200);
    assert_string_equal(BODY + (strstr(BODY, "<ResourceRecordSets>") - BODY),
                        before + (strstr(before, "<ResourceRecordSets>") - before));
    /* Deleting then creating the same name in one batch is fine. */
    buf_reset(&all);
    char *c4 = rr("CREATE", "old.example.com", "CNAME", "www.example.org");
    buf_addf(&all, "%s%s", c2, c4);
    assert_status(change(app, id, all.data), 200);
    /* Two problems come bracketed. */
    buf_reset(&all);
    buf_addf(&all, "%s%s", c3, c3);
    assert_error(change(app, id, all.data), 400, "InvalidChangeBatch", "[Tried to delete");
    free(c1);
    free(c2);
    free(c3);
    free(c4);
    free(before);
    buf_release(&all);
}

static void
test_change_batch_content_errors(void **state)
{
    struct app *app = *state;
    char id[40];
    zone_create(app, "example.com", "r", id, sizeof(id));
    assert_error(change1(app, id, "CREATE", "www.example.org", "A", "192.0.2.1"), 400,
                 "InvalidChangeBatch",
                 "RRSet with DNS name www.example.org. is not permitted in zone example.com.");
    assert_error(change1(app, id, "CREATE", "example.com", "CNAME", "a.example.org"), 400,
                 "InvalidChangeBatch", "is not permitted at apex");
    assert_error(change1(app, id, "CREATE", "www.example.com", "A", "not-an-ip"), 400,
                 "InvalidChangeBatch", "ARRDATAIllegalIPv4Address");
    assert_error(change1(app, id, "CREATE", "www.example.com", "AAAA", "1.2.3.4"), 400,
                 "InvalidChangeBatch", "AAAARRDATAIllegalIPv6Address");
    assert_status(change1(app, id, "CREATE", "c.example.com", "CNAME", "t.example.org"), 200);
    assert_error(change1(app, id, "CREATE", "c.example.com", "A", "192.0.2.1"), 400,
                 "InvalidChangeBatch", "conflicts with other records");
    char *soa = NULL;
    assert_status(list_sets(app, id, "?type=SOA&name=example.com&maxitems=1"), 200);
    soa = xstrdup(first("Value"));
    struct buf c = BUF_INIT;
    buf_addf(&c,
             "<Change><Action>DELETE</Action><ResourceRecordSet><Name>example.com</Name>"
             "<Type>SOA</Type><TTL>900</TTL><ResourceRecords><ResourceRecord><Value>%s</Value>"
             "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change>",
             soa);
    assert_error(change(app, id, c.data), 400, "InvalidChangeBatch",
                 "A HostedZone must contain exactly one SOA record.");
    free(soa);
    buf_release(&c);
    assert_error(change1(app, "Znope", "CREATE", "www.example.com", "A", "192.0.2.1"), 404,
                 "NoSuchHostedZone", NULL);
}

static void
test_change_batch_shape_errors_are_invalid_input(void **state)
{
    struct app *app = *state;
    char id[40];
    zone_create(app, "example.com", "r", id, sizeof(id));
    /* No TTL. */
    assert_error(change(app, id,
                        "<Change><Action>CREATE</Action><ResourceRecordSet><Name>a.example.com"
                        "</Name><Type>A</Type><ResourceRecords><ResourceRecord><Value>192.0.2.1"
                        "</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>"
                        "</Change>"),
                 400, "InvalidInput", "Expected exactly one of [AliasTarget");
    /* Alias and records together. */
    assert_error(change(app, id,
                        "<Change><Action>CREATE</Action><ResourceRecordSet><Name>a.example.com"
                        "</Name><Type>A</Type><TTL>5</TTL><ResourceRecords><ResourceRecord>"
                        "<Value>192.0.2.1</Value></ResourceRecord></ResourceRecords><AliasTarget>"
                        "<HostedZoneId>Z1</HostedZoneId><DNSName>b.example.com</DNSName>"
                        "<EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget>"
                        "</ResourceRecordSet></Change>"),
                 400, "InvalidInput", NULL);
    /* SetIdentifier without a routing policy. */
    assert_error(change(app, id,
                        "<Change><Action>CREATE</Action><ResourceRecordSet><Name>a.example.com"
                        "</Name><Type>A</Type><SetIdentifier>x</SetIdentifier><TTL>5</TTL>"
                        "<ResourceRecords><ResourceRecord><Value>192.0.2.1</Value>"
                        "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change>"),
                 400, "InvalidInput", NULL);
    /* A health check that does not exist. */
    assert_error(change(app, id,
                        "<Change><Action>CREATE</Action><ResourceRecordSet><Name>a.example.com"
                        "</Name><Type>A</Type><SetIdentifier>x</SetIdentifier><Failover>PRIMARY"
                        "</Failover><TTL>5</TTL><ResourceRecords><ResourceRecord><Value>"
                        "192.0.2.1</Value></ResourceRecord></ResourceRecords><HealthCheckId>"
                        "00000000-0000-0000-0000-000000000000</HealthCheckId>"
                        "</ResourceRecordSet></Change>"),
                 404, "NoSuchHealthCheck", NULL);
    /* A bad action is refused by the model before the handler. */
    assert_int_equal(change1(app, id, "REPLACE", "a.example.com", "A", "192.0.2.1"), 400);
    assert_status(list_sets(app, id, NULL), 200);
    assert_int_equal(count("<ResourceRecordSet>"), 2);
}

static void
test_weighted_sets_and_mixing_with_simple_refused(void **state)
{
    struct app *app = *state;
    char id[40];
    zone_create(app, "example.com", "r", id, sizeof(id));
#define W                                                                                          \
    "<Change><Action>CREATE</Action><ResourceRecordSet><Name>w.example.com</Name>"                 \
    "<Type>A</Type><SetIdentifier>%s</SetIdentifier><Weight>%d</Weight>"                           \
    "<TTL>5</TTL><ResourceRecords><ResourceRecord><Value>%s</Value>"                               \
    "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change>"
    struct buf c = BUF_INIT;
    buf_addf(&c, W, "blue", 3, "192.0.2.1");
    buf_addf(&c, W, "green", 1, "192.0.2.2");
#undef W
    assert_status(change(app, id, c.data), 200);
    assert_status(list_sets(app, id, NULL), 200);
    assert_int_equal(count("<SetIdentifier>"), 2);
    assert_true(strstr(BODY, "blue") < strstr(BODY, "green"));
    assert_error(change1(app, id, "CREATE", "w.example.com", "A", "192.0.2.3"), 400,
                 "InvalidChangeBatch", "non-weighted set exists");
    buf_release(&c);
}

static void
test_list_resource_record_sets_pages_1000_records_each_once(void **state)
{
    struct app *app = *state;
    char id[40];
    zone_create(app, "example.com", "r", id, sizeof(id));
    for (int batch = 0; batch < 10; batch++) {
        struct buf c = BUF_INIT;
        for (int i = 0; i < 100; i++) {
            char name[64], value[32];
            int k = batch * 100 + i;
            snprintf(name, sizeof(name), "host%04d.example.com", k);
            snprintf(value, sizeof(value), "10.0.%d.%d", k / 256, k % 256);
            char *one = rr("CREATE", name, "A", value);
            buf_adds(&c, one);
            free(one);
        }
        assert_status(change(app, id, c.data), 200);
        buf_release(&c);
    }
    char *seen = xcalloc(1000, 1);
    int total = 0, pages = 0;
    struct buf q = BUF_INIT;
    buf_adds(&q, "?maxitems=100");
    for (;;) {
        assert_status(list_sets(app, id, q.data), 200);
        pages++;
        for (const char *p = BODY; (p = strstr(p, "<Name>host")); p += 10) {
            int k = atoi(p + 10);
            assert_true(k >= 0 && k < 1000);
            assert_int_equal(seen[k], 0);
            seen[k] = 1;
            total++;
        }
        if (strcmp(first("IsTruncated"), "true") != 0)
            break;
        char next[300], type[16];
        snprintf(next, sizeof(next), "%s", first("NextRecordName"));
        snprintf(type, sizeof(type), "%s", first("NextRecordType"));
        buf_reset(&q);
        buf_addf(&q, "?maxitems=100&name=%s&type=%s", next, type);
        assert_true(pages < 20);
    }
    assert_int_equal(total, 1000);
    assert_int_equal(pages, 11);
    assert_error(list_sets(app, id, "?type=A"), 400, "InvalidInput", NULL);
    assert_error(list_sets(app, "Znope", NULL), 404, "NoSuchHostedZone", NULL);
    free(seen);
    buf_release(&q);
}

static void
test_get_change_goes_insync_on_the_virtual_clock(void **state)
{
    struct app *app = *state;
    char id[40], cid[40];
    zone_create(app, "example.com", "r", id, sizeof(id));
    assert_status(change1(app, id, "CREATE", "www.example.com", "A", "192.0.2.1"), 200);
    snprintf(cid, sizeof(cid), "%s", first("Id") + strlen("/change/"));
    struct buf t = BUF_INIT;
    buf_addf(&t, "/2013-04-01/change/%s", cid);
    assert_status(r53(app, "GET", t.data, NULL), 200);
    assert_string_equal(first("Status"), "PENDING");
    vclock_advance(app->clock, R53_INSYNC_DELAY_MS);
    assert_status(r53(app, "GET", t.data, NULL), 200);
    assert_string_equal(first("Status"), "INSYNC");
    assert_error(r53(app, "GET", "/2013-04-01/change/C0NOPE", NULL), 404, "NoSuchChange", NULL);
    buf_release(&t);
}

/* ---- health checks ---- */

#define HC_BODY(ref, ip)                                                                           \
    "<CreateHealthCheckRequest xmlns=\"" NS "\"><CallerReference>" ref "</CallerReference>"        \
    "<HealthCheckConfig><IPAddress>" ip "</IPAddress><Port>8080</Port><Type>HTTP</Type>"           \
    "<ResourcePath>/health</ResourcePath></HealthCheckConfig></CreateHealthCheckRequest>"

static void
test_health_check_create_get_list_delete(void **state)
{
    struct app *app = *state;
    assert_status(r53(app, "POST", "/2013-04-01/healthcheck", HC_BODY("h1", "127.0.0.1")), 201);
    char hid[40];
    snprintf(hid, sizeof(hid), "%s", first("Id"));
    assert_int_equal(strlen(hid), 36);
    assert_string_equal(first("RequestInterval"), "30");
    assert_string_equal(first("FailureThreshold"), "3");
    /* The same reference and config again is the same check. */
    assert_status(r53(app, "POST", "/2013-04-01/healthcheck", HC_BODY("h1", "127.0.0.1")), 201);
    assert_string_equal(first("Id"), hid);
    assert_error(r53(app, "POST", "/2013-04-01/healthcheck", HC_BODY("h1", "127.0.0.2")), 409,
                 "HealthCheckAlreadyExists", NULL);
    struct buf t = BUF_INIT;
    buf_addf(&t, "/2013-04-01/healthcheck/%s", hid);
    assert_status(r53(app, "GET", t.data, NULL), 200);
    assert_string_equal(first("ResourcePath"), "/health");
    assert_string_equal(first("HealthCheckVersion"), "1");
    assert_status(r53(app, "POST", "/2013-04-01/healthcheck", HC_BODY("h2", "127.0.0.3")), 201);
    assert_status(r53(app, "GET", "/2013-04-01/healthcheck?maxitems=1", NULL), 200);
    assert_int_equal(count("<HealthCheck>"), 1);
    assert_string_equal(first("IsTruncated"), "true");
    assert_status(r53(app, "DELETE", t.data, NULL), 200);
    assert_error(r53(app, "GET", t.data, NULL), 404, "NoSuchHealthCheck", NULL);
    assert_error(r53(app, "DELETE", t.data, NULL), 404, "NoSuchHealthCheck", NULL);
    buf_release(&t);
}

static void
test_health_check_config_errors(void **state)
{
    struct app *app = *state;
    assert_error(r53(app, "POST", "/2013-04-01/healthcheck",
                     "<CreateHealthCheckRequest xmlns=\"" NS "\"><CallerReference>x"
                     "</CallerReference><HealthCheckConfig><Type>HTTP</Type></HealthCheckConfig>"
                     "</CreateHealthCheckRequest>"),
                 400, "InvalidInput", "IPAddress");
    assert_error(r53(app, "POST", "/2013-04-01/healthcheck",
                     "<CreateHealthCheckRequest xmlns=\"" NS "\"><CallerReference>x"
                     "</CallerReference><HealthCheckConfig><IPAddress>127.0.0.1</IPAddress>"
                     "<Type>TCP</Type></HealthCheckConfig></CreateHealthCheckRequest>"),
                 400, "InvalidInput", "Port");
    assert_error(r53(app, "POST", "/2013-04-01/healthcheck",
                     "<CreateHealthCheckRequest xmlns=\"" NS "\"><CallerReference>x"
                     "</CallerReference><HealthCheckConfig><IPAddress>999.1.1.1</IPAddress>"
                     "<Type>HTTP</Type></HealthCheckConfig></CreateHealthCheckRequest>"),
                 400, "InvalidInput", NULL);
    assert_error(r53(app, "POST", "/2013-04-01/healthcheck",
                     "<CreateHealthCheckRequest xmlns=\"" NS "\"><CallerReference>x"
                     "</CallerReference><HealthCheckConfig><Type>CALCULATED</Type>"
                     "</HealthCheckConfig></CreateHealthCheckRequest>"),
                 400, "InvalidInput", NULL);
    assert_status(r53(app, "GET", "/2013-04-01/healthcheck", NULL), 200);
    assert_int_equal(count("<HealthCheck>"), 0);
}

static void
test_health_check_in_use_and_status_after_probes(void **state)
{
    struct app *app = *state;
    assert_status(r53(app, "POST", "/2013-04-01/healthcheck", HC_BODY("h1", "127.0.0.1")), 201);
    char hid[40];
    snprintf(hid, sizeof(hid), "%s", first("Id"));
    char id[40];
    zone_create(app, "example.com", "r", id, sizeof(id));
    struct buf c = BUF_INIT;
    buf_addf(&c,
             "<Change><Action>CREATE</Action><ResourceRecordSet><Name>a.example.com</Name>"
             "<Type>A</Type><SetIdentifier>p</SetIdentifier><Failover>PRIMARY</Failover>"
             "<TTL>5</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value>"
             "</ResourceRecord></ResourceRecords><HealthCheckId>%s</HealthCheckId>"
             "</ResourceRecordSet></Change>",
             hid);
    assert_status(change(app, id, c.data), 200);
    struct buf t = BUF_INIT;
    buf_addf(&t, "/2013-04-01/healthcheck/%s", hid);
    assert_error(r53(app, "DELETE", t.data, NULL), 400, "HealthCheckInUse", NULL);

    buf_addf(&t, "/status");
    assert_status(r53(app, "GET", t.data, NULL), 200);
    assert_int_equal(count("<HealthCheckObservation>"), 0);
    /* Three failures (FailureThreshold) make it unhealthy. */
    assert_true(r53_health_ok(hid));
    assert_int_equal(r53_health_report(app, hid, false, "Failure: Connection refused"), 0);
    assert_int_equal(r53_health_report(app, hid, false, "Failure: Connection refused"), 0);
    assert_true(r53_health_ok(hid));
    assert_int_equal(r53_health_report(app, hid, false, "Failure: Connection refused"), 0);
    assert_false(r53_health_ok(hid));
    assert_status(r53(app, "GET", t.data, NULL), 200);
    assert_int_equal(count("<HealthCheckObservation>"), 1);
    assert_string_equal(first("Status"), "Failure: Connection refused");
    assert_int_equal(r53_health_report(app, "nope", true, "x"), -1);
    assert_error(r53(app, "GET", "/2013-04-01/healthcheck/nope/status", NULL), 404,
                 "NoSuchHealthCheck", NULL);
    buf_release(&c);
    buf_release(&t);
}

/* ---- tags ---- */

static void
test_tags_of_zones_and_health_checks(void **state)
{
    struct app *app = *state;
    char id[40];
    zone_create(app, "example.com", "r", id, sizeof(id));
    struct buf t = BUF_INIT;
    buf_addf(&t, "/2013-04-01/tags/hostedzone/%s", id);
    assert_status(r53(app, "POST", t.data,
                      "<ChangeTagsForResourceRequest xmlns=\"" NS "\"><AddTags><Tag><Key>env"
                      "</Key><Value>test</Value></Tag><Tag><Key>team</Key><Value>a</Value></Tag>"
                      "</AddTags></ChangeTagsForResourceRequest>"),
                  200);
    assert_status(r53(app, "POST", t.data,
                      "<ChangeTagsForResourceRequest xmlns=\"" NS "\"><RemoveTagKeys><Key>team"
                      "</Key></RemoveTagKeys></ChangeTagsForResourceRequest>"),
                  200);
    assert_status(r53(app, "GET", t.data, NULL), 200);
    assert_int_equal(count("<Tag>"), 1);
    assert_string_equal(first("Value"), "test");
    assert_string_equal(first("ResourceId"), id);
    assert_error(r53(app, "GET", "/2013-04-01/tags/hostedzone/Znope", NULL), 404,
                 "NoSuchHostedZone", NULL);
    assert_error(r53(app, "GET", "/2013-04-01/tags/healthcheck/nope", NULL), 404,
                 "NoSuchHealthCheck", NULL);
    buf_release(&t);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, app_setup, app_teardown)
    const struct CMUnitTest tests[] = {
        T(test_operation_table_is_sorted_and_complete),
        T(test_names_are_canonical_escaped_and_sorted_by_reversed_labels),
        T(test_create_hosted_zone_has_default_ns_and_soa),
        T(test_create_hosted_zone_errors),
        T(test_private_zone_keeps_its_vpc),
        T(test_get_update_and_delete_hosted_zone),
        T(test_list_hosted_zones_pages_and_by_name_order),
        T(test_change_batch_create_upsert_delete),
        T(test_batch_with_one_bad_change_changes_nothing),
        T(test_change_batch_content_errors),
        T(test_change_batch_shape_errors_are_invalid_input),
        T(test_weighted_sets_and_mixing_with_simple_refused),
        T(test_list_resource_record_sets_pages_1000_records_each_once),
        T(test_get_change_goes_insync_on_the_virtual_clock),
        T(test_health_check_create_get_list_delete),
        T(test_health_check_config_errors),
        T(test_health_check_in_use_and_status_after_probes),
        T(test_tags_of_zones_and_health_checks),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
