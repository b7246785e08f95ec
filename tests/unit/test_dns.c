/*
 * The DNS server's answer function (services/route53/dns.c), bytes in and bytes out, with
 * zones written through the Route53 API in-process: authoritative answers, NXDOMAIN and
 * NODATA with the SOA, case, wildcards, CNAME chains, referrals, aliases, EDNS0 and
 * truncation, weighted and failover routing, and malformed packets (which never crash).
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
#include "services/route53/route53_internal.h"
#include "state/db.h"

#include <ldns/ldns.h>

#define NS "https://route53.amazonaws.com/doc/2013-04-01/"
#define AUTH                                                                                       \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/route53/aws4_request, "                   \
    "SignedHeaders=host, Signature=00"

struct fixture {
    struct app app;        /* the in-process fogbank */
    char zone[40];         /* example.com's id */
    struct http_resp resp; /* the last API answer */
};

static int
setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    char errbuf[256];
    f->app.cfg.account_id = "123456789012";
    f->app.db = db_open(":memory:", errbuf, sizeof(errbuf));
    assert_non_null(f->app.db);
    f->app.clock = vclock_new(NULL, 0, 1795000000000LL);
    f->app.ids = ids_new(42);
    http_resp_init(&f->resp);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    http_resp_release(&f->resp);
    r53_health_stop_all(&f->app);
    r53_dns_stop();
    db_close(f->app.db);
    vclock_free(f->app.clock);
    ids_free(f->app.ids);
    free(f);
    return 0;
}

static int
api(struct fixture *f, const char *method, const char *target, const char *body)
{
    struct http_header h[1] = { { "Authorization", AUTH } };
    struct http_req req = { .method = method,
                            .target = target,
                            .headers = h,
                            .n_headers = 1,
                            .body = body ? body : "",
                            .body_len = body ? strlen(body) : 0,
                            .peer = "127.0.0.1" };
    http_resp_release(&f->resp);
    http_resp_init(&f->resp);
    router_handle(&f->app, &req, &f->resp);
    return f->resp.status;
}

/* The text of the first <tag> of the last API answer. */
static const char *
first(struct fixture *f, const char *tag)
{
    static char out[256];
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *a = strstr(f->resp.body.data, open), *b;
    out[0] = '\0';
    if (a && (b = strstr(a, close))) {
        a += strlen(open);
        snprintf(out, sizeof(out), "%.*s", (int)(b - a), a);
    }
    return out;
}

static void
zone_create(struct fixture *f, const char *name, char *id, size_t idsz)
{
    struct buf b = BUF_INIT;
    buf_addf(&b,
             "<CreateHostedZoneRequest xmlns=\"" NS "\"><Name>%s</Name><CallerReference>%s"
             "</CallerReference></CreateHostedZoneRequest>",
             name, name);
    assert_int_equal(api(f, "POST", "/2013-04-01/hostedzone", b.data), 201);
    snprintf(id, idsz, "%s", first(f, "Id") + strlen("/hostedzone/"));
    buf_release(&b);
}

/* Applies <Change> elements to zone id; asserts success. */
static void
changes(struct fixture *f, const char *id, const char *xml)
{
    struct buf b = BUF_INIT, t = BUF_INIT;
    buf_addf(&b,
             "<ChangeResourceRecordSetsRequest xmlns=\"" NS "\"><ChangeBatch><Changes>%s"
             "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
             xml);
    buf_addf(&t, "/2013-04-01/hostedzone/%s/rrset/", id);
    int st = api(f, "POST", t.data, b.data);
    if (st != 200)
        fail_msg("change failed %d: %s", st, f->resp.body.data);
    buf_release(&b);
    buf_release(&t);
}

/* One UPSERT of a simple set with the values given one per '|'. */
static void
upsert(struct fixture *f, const char *name, const char *type, const char *values)
{
    struct buf c = BUF_INIT;
    buf_addf(&c,
             "<Change><Action>UPSERT</Action><ResourceRecordSet><Name>%s</Name><Type>%s</Type>"
             "<TTL>60</TTL><ResourceRecords>",
             name, type);
    char copy[8192];
    snprintf(copy, sizeof(copy), "%s", values);
    char *save = NULL;
    for (char *v = strtok_r(copy, "|", &save); v; v = strtok_r(NULL, "|", &save))
        buf_addf(&c, "<ResourceRecord><Value>%s</Value></ResourceRecord>", v);
    buf_adds(&c, "</ResourceRecords></ResourceRecordSet></Change>");
    changes(f, f->zone, c.data);
    buf_release(&c);
}

static int
zone_setup(void **state)
{
    setup(state);
    struct fixture *f = *state;
    zone_create(f, "example.com", f->zone, sizeof(f->zone));
    upsert(f, "www.example.com", "A", "192.0.2.10");
    upsert(f, "deep.sub.example.com", "A", "192.0.2.11");
    upsert(f, "*.wild.example.com", "TXT", "\"wild\"");
    upsert(f, "c1.example.com", "CNAME", "c2.example.com");
    upsert(f, "c2.example.com", "CNAME", "www.example.com");
    upsert(f, "loop1.example.com", "CNAME", "loop2.example.com");
    upsert(f, "loop2.example.com", "CNAME", "loop1.example.com");
    upsert(f, "out.example.com", "CNAME", "www.elsewhere.org");
    upsert(f, "child.example.com", "NS", "ns1.child.example.com|ns2.child.example.com");
    upsert(f, "mx.example.com", "MX", "10 mail.example.com");
    return 0;
}

/* Asks qname/qtype (with EDNS0 size edns, 0 for none) and parses the answer. */
static ldns_pkt *
ask(struct fixture *f, const char *qname, ldns_rr_type qtype, uint16_t edns, bool tcp,
    size_t *wire_len)
{
    ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(qname), qtype, LDNS_RR_CLASS_IN, 0);
    ldns_pkt_set_id(q, 4242);
    if (edns)
        ldns_pkt_set_edns_udp_size(q, edns);
    uint8_t *wire = NULL;
    size_t len = 0;
    assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
    ldns_pkt_free(q);
    uint8_t *out = NULL;
    size_t outlen = 0;
    assert_int_equal(r53_dns_answer(&f->app, wire, len, tcp, &out, &outlen), 0);
    free(wire);
    if (wire_len)
        *wire_len = outlen;
    ldns_pkt *r = NULL;
    assert_int_equal(ldns_wire2pkt(&r, out, outlen), LDNS_STATUS_OK);
    free(out);
    assert_int_equal(ldns_pkt_id(r), 4242);
    assert_true(ldns_pkt_qr(r));
    return r;
}

/* The rdata of answer i as text. */
static char *
rdata(const ldns_pkt *r, size_t i)
{
    ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), i);
    assert_non_null(rr);
    return ldns_rdf2str(ldns_rr_rdf(rr, 0));
}

static void
assert_rdata(const ldns_pkt *r, size_t i, const char *want)
{
    char *s = rdata(r, i);
    assert_string_equal(s, want);
    free(s);
}

static bool
authority_has_soa(const ldns_pkt *r)
{
    ldns_rr_list *a = ldns_pkt_authority(r);
    return ldns_rr_list_rr_count(a) == 1 &&
           ldns_rr_get_type(ldns_rr_list_rr(a, 0)) == LDNS_RR_TYPE_SOA;
}

/* ---- answers ---- */

static void
test_a_record_is_answered_authoritatively(void **state)
{
    struct fixture *f = *state;
    ldns_pkt *r = ask(f, "www.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_true(ldns_pkt_aa(r));
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    assert_rdata(r, 0, "192.0.2.10");
    assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(r), 0)), 60);
    ldns_pkt_free(r);
    r = ask(f, "mx.example.com.", LDNS_RR_TYPE_MX, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    ldns_pkt_free(r);
    r = ask(f, "example.com.", LDNS_RR_TYPE_NS, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 4);
    ldns_pkt_free(r);
}

static void
test_a_repeated_question_is_answered_with_its_own_id(void **state)
{
    struct fixture *f = *state;
    ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str("www.example.com."), LDNS_RR_TYPE_A,
                                     LDNS_RR_CLASS_IN, 0);
    uint8_t *wire = NULL;
    size_t len = 0;
    for (uint16_t id = 1; id <= 3; id++) {
        ldns_pkt_set_id(q, (uint16_t)(id * 1000));
        assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
        uint8_t *out = NULL;
        size_t outlen = 0;
        assert_int_equal(r53_dns_answer(&f->app, wire, len, false, &out, &outlen), 0);
        ldns_pkt *r = NULL;
        assert_int_equal(ldns_wire2pkt(&r, out, outlen), LDNS_STATUS_OK);
        assert_int_equal(ldns_pkt_id(r), id * 1000);
        assert_int_equal(ldns_pkt_ancount(r), 1);
        ldns_pkt_free(r);
        free(out);
        free(wire);
    }
    ldns_pkt_free(q);
}

static void
test_names_are_case_insensitive(void **state)
{
    struct fixture *f = *state;
    ldns_pkt *r = ask(f, "WwW.ExAmPlE.CoM.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    assert_rdata(r, 0, "192.0.2.10");
    /* The question comes back as asked. */
    char *q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(r), 0)));
    assert_string_equal(q, "WwW.ExAmPlE.CoM.");
    free(q);
    ldns_pkt_free(r);
}

static void
test_nxdomain_and_nodata_carry_the_soa(void **state)
{
    struct fixture *f = *state;
    ldns_pkt *r = ask(f, "nope.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
    assert_true(ldns_pkt_aa(r));
    assert_true(authority_has_soa(r));
    ldns_pkt_free(r);
    r = ask(f, "www.example.com.", LDNS_RR_TYPE_AAAA, 0, false, NULL);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    assert_true(authority_has_soa(r));
    ldns_pkt_free(r);
    /* sub.example.com has no records but a name below it: NODATA, not NXDOMAIN. */
    r = ask(f, "sub.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_true(authority_has_soa(r));
    ldns_pkt_free(r);
}

static void
test_wildcards_answer_below_the_closest_encloser(void **state)
{
    struct fixture *f = *state;
    ldns_pkt *r = ask(f, "a.b.wild.example.com.", LDNS_RR_TYPE_TXT, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    char *owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(r), 0)));
    assert_string_equal(owner, "a.b.wild.example.com.");
    free(owner);
    ldns_pkt_free(r);
    /* The wildcard owns no other type: NODATA. */
    r = ask(f, "x.wild.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
    /* wild.example.com itself exists (an empty non-terminal), so no synthesis for it. */
    r = ask(f, "wild.example.com.", LDNS_RR_TYPE_TXT, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
}

static void
test_cname_chains_are_followed_within_our_zones(void **state)
{
    struct fixture *f = *state;
    ldns_pkt *r = ask(f, "c1.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 3);
    assert_rdata(r, 0, "c2.example.com.");
    assert_rdata(r, 1, "www.example.com.");
    assert_rdata(r, 2, "192.0.2.10");
    ldns_pkt_free(r);
    r = ask(f, "out.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ldns_pkt_free(r);
    /* A loop ends at the cap, with an answer. */
    r = ask(f, "loop1.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_true(ldns_pkt_ancount(r) >= 2 && ldns_pkt_ancount(r) <= 8);
    ldns_pkt_free(r);
    r = ask(f, "c1.example.com.", LDNS_RR_TYPE_CNAME, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    ldns_pkt_free(r);
}

static void
test_delegation_is_a_referral(void **state)
{
    struct fixture *f = *state;
    ldns_pkt *r = ask(f, "host.child.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_false(ldns_pkt_aa(r));
    assert_int_equal(ldns_pkt_ancount(r), 0);
    assert_int_equal(ldns_pkt_nscount(r), 2);
    ldns_pkt_free(r);
}

static void
test_names_outside_our_zones_are_refused(void **state)
{
    struct fixture *f = *state;
    ldns_pkt *r = ask(f, "www.example.org.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
    assert_false(ldns_pkt_aa(r));
    ldns_pkt_free(r);
    r = ask(f, "balancer-1.us-east-1.elb.amazonaws.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
    ldns_pkt_free(r);
}

static void
test_an_answered_change_is_visible_to_the_next_query(void **state)
{
    struct fixture *f = *state;
    ldns_pkt *r = ask(f, "www.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_rdata(r, 0, "192.0.2.10");
    ldns_pkt_free(r);
    upsert(f, "www.example.com", "A", "192.0.2.99");
    r = ask(f, "www.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_rdata(r, 0, "192.0.2.99");
    ldns_pkt_free(r);
    char other[40];
    zone_create(f, "other.net", other, sizeof(other));
    r = ask(f, "other.net.", LDNS_RR_TYPE_SOA, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    ldns_pkt_free(r);
}

static void
test_large_answers_truncate_over_udp_and_fit_over_tcp(void **state)
{
    struct fixture *f = *state;
    struct buf values = BUF_INIT;
    for (int i = 0; i < 40; i++)
        buf_addf(&values, "%s\"record %02d %s\"", i ? "|" : "", i,
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    upsert(f, "big.example.com", "TXT", values.data);
    buf_release(&values);
    size_t len;
    ldns_pkt *r = ask(f, "big.example.com.", LDNS_RR_TYPE_TXT, 0, false, &len);
    assert_true(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 0);
    assert_true(len <= 512);
    ldns_pkt_free(r);
    r = ask(f, "big.example.com.", LDNS_RR_TYPE_TXT, 4096, false, &len);
    assert_true(ldns_pkt_tc(r));
    assert_true(len <= 1232);
    assert_int_equal(ldns_pkt_edns_udp_size(r), 1232);
    ldns_pkt_free(r);
    r = ask(f, "big.example.com.", LDNS_RR_TYPE_TXT, 0, true, &len);
    assert_false(ldns_pkt_tc(r));
    assert_int_equal(ldns_pkt_ancount(r), 40);
    assert_true(len > 1232);
    ldns_pkt_free(r);
    /* A small answer with EDNS0 carries our OPT. */
    r = ask(f, "www.example.com.", LDNS_RR_TYPE_A, 1232, false, NULL);
    assert_true(ldns_pkt_edns(r));
    assert_false(ldns_pkt_tc(r));
    ldns_pkt_free(r);
}

/* ---- routing ---- */

#define WEIGHTED                                                                                   \
    "<Change><Action>CREATE</Action><ResourceRecordSet><Name>w.example.com</Name><Type>A</Type>"   \
    "<SetIdentifier>%s</SetIdentifier><Weight>%d</Weight><TTL>5</TTL><ResourceRecords>"            \
    "<ResourceRecord><Value>%s</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>"     \
    "</Change>"

static void
test_weighted_answers_follow_the_weights(void **state)
{
    struct fixture *f = *state;
    struct buf c = BUF_INIT;
    buf_addf(&c, WEIGHTED, "blue", 3, "192.0.2.1");
    buf_addf(&c, WEIGHTED, "green", 1, "192.0.2.2");
    buf_addf(&c, WEIGHTED, "off", 0, "192.0.2.3");
    changes(f, f->zone, c.data);
    buf_release(&c);
    int blue = 0, green = 0, off = 0;
    for (int i = 0; i < 4000; i++) {
        ldns_pkt *r = ask(f, "w.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
        assert_int_equal(ldns_pkt_ancount(r), 1);
        char *v = rdata(r, 0);
        blue += strcmp(v, "192.0.2.1") == 0;
        green += strcmp(v, "192.0.2.2") == 0;
        off += strcmp(v, "192.0.2.3") == 0;
        free(v);
        ldns_pkt_free(r);
    }
    assert_int_equal(off, 0);
    assert_int_equal(blue + green, 4000);
    assert_true(blue > 2800 && blue < 3200);
}

static void
test_failover_switches_when_the_primary_check_fails(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(api(f, "POST", "/2013-04-01/healthcheck",
                         "<CreateHealthCheckRequest xmlns=\"" NS "\"><CallerReference>hc"
                         "</CallerReference><HealthCheckConfig><IPAddress>127.0.0.1</IPAddress>"
                         "<Port>9</Port><Type>TCP</Type><FailureThreshold>2</FailureThreshold>"
                         "</HealthCheckConfig></CreateHealthCheckRequest>"),
                     201);
    char hid[40];
    snprintf(hid, sizeof(hid), "%s", first(f, "Id"));
    struct buf c = BUF_INIT;
    buf_addf(&c,
             "<Change><Action>CREATE</Action><ResourceRecordSet><Name>fo.example.com</Name>"
             "<Type>A</Type><SetIdentifier>p</SetIdentifier><Failover>PRIMARY</Failover>"
             "<TTL>5</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value>"
             "</ResourceRecord></ResourceRecords><HealthCheckId>%s</HealthCheckId>"
             "</ResourceRecordSet></Change>"
             "<Change><Action>CREATE</Action><ResourceRecordSet><Name>fo.example.com</Name>"
             "<Type>A</Type><SetIdentifier>s</SetIdentifier><Failover>SECONDARY</Failover>"
             "<TTL>5</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.2</Value>"
             "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change>",
             hid);
    changes(f, f->zone, c.data);
    buf_release(&c);
    ldns_pkt *r = ask(f, "fo.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_rdata(r, 0, "192.0.2.1");
    ldns_pkt_free(r);
    r53_health_report(&f->app, hid, false, "Failure: Connection refused");
    r = ask(f, "fo.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_rdata(r, 0, "192.0.2.1");
    ldns_pkt_free(r);
    r53_health_report(&f->app, hid, false, "Failure: Connection refused");
    r = ask(f, "fo.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_rdata(r, 0, "192.0.2.2");
    ldns_pkt_free(r);
    r53_health_report(&f->app, hid, true, "Success");
    r53_health_report(&f->app, hid, true, "Success");
    r = ask(f, "fo.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_rdata(r, 0, "192.0.2.1");
    ldns_pkt_free(r);
}

static void
test_alias_to_a_record_of_the_same_zone(void **state)
{
    struct fixture *f = *state;
    struct buf c = BUF_INIT;
    buf_addf(&c,
             "<Change><Action>CREATE</Action><ResourceRecordSet><Name>example.com</Name>"
             "<Type>A</Type><AliasTarget><HostedZoneId>%s</HostedZoneId><DNSName>"
             "www.example.com</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth>"
             "</AliasTarget></ResourceRecordSet></Change>",
             f->zone);
    changes(f, f->zone, c.data);
    buf_release(&c);
    ldns_pkt *r = ask(f, "example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    assert_rdata(r, 0, "192.0.2.10");
    char *owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(r), 0)));
    assert_string_equal(owner, "example.com.");
    free(owner);
    ldns_pkt_free(r);
}

/* ---- bad packets ---- */

static void
answer_raw(struct fixture *f, const uint8_t *p, size_t n, int want_rc, int want_rcode)
{
    uint8_t *out = NULL;
    size_t len = 0;
    int rc = r53_dns_answer(&f->app, p, n, false, &out, &len);
    assert_int_equal(rc, want_rc);
    if (rc == 0) {
        ldns_pkt *r = NULL;
        assert_int_equal(ldns_wire2pkt(&r, out, len), LDNS_STATUS_OK);
        assert_int_equal(ldns_pkt_get_rcode(r), want_rcode);
        assert_int_equal(ldns_pkt_id(r), (p[0] << 8) | p[1]);
        ldns_pkt_free(r);
    }
    free(out);
}

static void
test_malformed_packets_are_dropped_or_formerr(void **state)
{
    struct fixture *f = *state;
    /* Shorter than a header: dropped. */
    static const uint8_t tiny[] = { 0x12, 0x34, 0x01 };
    answer_raw(f, tiny, sizeof(tiny), -1, 0);
    /* A response (QR set): dropped, so two servers never ping-pong. */
    static const uint8_t resp[] = { 0x12, 0x34, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    answer_raw(f, resp, sizeof(resp), -1, 0);
    /* A question cut short. */
    static const uint8_t cut[] = { 0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w' };
    answer_raw(f, cut, sizeof(cut), 0, LDNS_RCODE_FORMERR);
    /* A name that is a compression pointer to itself. */
    static const uint8_t loop[] = { 0x12, 0x34, 0x01, 0,    0,    1, 0, 0, 0,
                                    0,    0,    0,    0xc0, 0x0c, 0, 1, 0, 1 };
    answer_raw(f, loop, sizeof(loop), 0, LDNS_RCODE_FORMERR);
    /* Two pointers to each other. */
    static const uint8_t loop2[] = { 0x12, 0x34, 0x01, 0,    0,    1,    0, 0, 0, 0,
                                     0,    0,    0xc0, 0x0e, 0xc0, 0x0c, 0, 1, 0, 1 };
    answer_raw(f, loop2, sizeof(loop2), 0, LDNS_RCODE_FORMERR);
    /* No question at all. */
    static const uint8_t none[] = { 0x12, 0x34, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    answer_raw(f, none, sizeof(none), 0, LDNS_RCODE_FORMERR);
    /* A STATUS opcode: not implemented. */
    static const uint8_t status[] = { 0x12, 0x34, 0x10, 0,   0,   1, 0, 0, 0, 0, 0,
                                      0,    3,    'w',  'w', 'w', 0, 0, 1, 0, 1 };
    answer_raw(f, status, sizeof(status), 0, LDNS_RCODE_NOTIMPL);
    /* Class CH is not ours. */
    static const uint8_t chaos[] = { 0x12, 0x34, 0x01, 0,   0,   1, 0, 0, 0, 0, 0,
                                     0,    3,    'w',  'w', 'w', 0, 0, 1, 0, 3 };
    answer_raw(f, chaos, sizeof(chaos), 0, LDNS_RCODE_REFUSED);
}

static void
test_random_bytes_never_crash(void **state)
{
    struct fixture *f = *state;
    uint64_t x = 88172645463325252ULL;
    uint8_t p[600];
    for (int i = 0; i < 20000; i++) {
        size_t n = 12 + (size_t)(x % 200);
        for (size_t j = 0; j < n; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p[j] = (uint8_t)x;
        }
        /* Mostly queries with one question, so parsing goes deep. */
        p[2] &= 0x7f;
        if (i % 2) {
            p[4] = 0;
            p[5] = 1;
        }
        uint8_t *out = NULL;
        size_t len = 0;
        if (r53_dns_answer(&f->app, p, n, i % 3 == 0, &out, &len) == 0)
            assert_true(len >= 12);
        free(out);
    }
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, zone_setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_record_is_answered_authoritatively),
        T(test_a_repeated_question_is_answered_with_its_own_id),
        T(test_names_are_case_insensitive),
        T(test_nxdomain_and_nodata_carry_the_soa),
        T(test_wildcards_answer_below_the_closest_encloser),
        T(test_cname_chains_are_followed_within_our_zones),
        T(test_delegation_is_a_referral),
        T(test_names_outside_our_zones_are_refused),
        T(test_an_answered_change_is_visible_to_the_next_query),
        T(test_large_answers_truncate_over_udp_and_fit_over_tcp),
        T(test_weighted_answers_follow_the_weights),
        T(test_failover_switches_when_the_primary_check_fails),
        T(test_alias_to_a_record_of_the_same_zone),
        T(test_malformed_packets_are_dropped_or_formerr),
        T(test_random_bytes_never_crash),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
