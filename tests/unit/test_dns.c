/*
 * The DNS server's answer function (services/route53/dns.c), bytes in and bytes out, with
 * zones written through the Route53 API in-process: authoritative answers, NXDOMAIN and
 * NODATA with the SOA, case, wildcards, CNAME chains, referrals, aliases, EDNS0 and
 * truncation, weighted and failover routing, alias records that evaluate their target's
 * health (load balancers run with EC2's fake backend and a fake ELB prober), the image of
 * the zones kept up to date name by name, and malformed packets (which never crash).
 */
#include "emulator/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <ftw.h>
#include <sys/stat.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/clock.h"
#include "emulator/ids.h"
#include "emulator/instances/sup.h"
#include "emulator/model.h"
#include "emulator/router.h"
#include "services/ec2/instances.h"
#include "services/elb/api.h"
#include "services/elb/elb.h"
#include "services/elb/elb_internal.h"
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
    char dir[64];          /* instance disks (the load balancer tests), or "" */
    char ami[32];          /* a built-in image (the load balancer tests) */
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

/* Creates a TCP health check of 127.0.0.1:9 (nothing listens there) failing after
   `threshold` failed probes; its id into hid. */
static void
tcp_check(struct fixture *f, const char *ref, int threshold, char hid[40])
{
    struct buf b = BUF_INIT;
    buf_addf(&b,
             "<CreateHealthCheckRequest xmlns=\"" NS "\"><CallerReference>%s</CallerReference>"
             "<HealthCheckConfig><IPAddress>127.0.0.1</IPAddress><Port>9</Port><Type>TCP</Type>"
             "<FailureThreshold>%d</FailureThreshold></HealthCheckConfig>"
             "</CreateHealthCheckRequest>",
             ref, threshold);
    assert_int_equal(api(f, "POST", "/2013-04-01/healthcheck", b.data), 201);
    snprintf(hid, 40, "%s", first(f, "Id"));
    buf_release(&b);
}

static void
test_failover_switches_when_the_primary_check_fails(void **state)
{
    struct fixture *f = *state;
    char hid[40];
    tcp_check(f, "hc", 2, hid);
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

/* ---- the image kept up to date name by name ---- */

/* The answer to qname/qtype as wire bytes (id 4242), for comparing two images. */
static uint8_t *
ask_wire(struct fixture *f, const char *qname, ldns_rr_type qtype, size_t *len)
{
    ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(qname), qtype, LDNS_RR_CLASS_IN, 0);
    ldns_pkt_set_id(q, 4242);
    uint8_t *wire = NULL, *out = NULL;
    size_t wlen = 0;
    assert_int_equal(ldns_pkt2wire(&wire, q, &wlen), LDNS_STATUS_OK);
    ldns_pkt_free(q);
    assert_int_equal(r53_dns_answer(&f->app, wire, wlen, false, &out, len), 0);
    free(wire);
    return out;
}

static const char *const probe_names[] = {
    "www.example.com.",      "new.example.com.", "a.deeper.example.com.", "deeper.example.com.",
    "c1.example.com.",       "mx.example.com.",  "x.wild.example.com.",   "example.com.",
    "deep.sub.example.com.", "sub.example.com.", "nope.example.com.",
};
static const ldns_rr_type probe_types[] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_MX,
                                            LDNS_RR_TYPE_ANY };

/* Every probe answer of the image as updated name by name equals that of a full rebuild. */
static void
assert_same_as_rebuilt(struct fixture *f)
{
    uint8_t *before[ARRAY_SIZE(probe_names)][ARRAY_SIZE(probe_types)];
    size_t blen[ARRAY_SIZE(probe_names)][ARRAY_SIZE(probe_types)];
    for (size_t i = 0; i < ARRAY_SIZE(probe_names); i++)
        for (size_t j = 0; j < ARRAY_SIZE(probe_types); j++)
            before[i][j] = ask_wire(f, probe_names[i], probe_types[j], &blen[i][j]);
    r53_dns_invalidate();
    for (size_t i = 0; i < ARRAY_SIZE(probe_names); i++)
        for (size_t j = 0; j < ARRAY_SIZE(probe_types); j++) {
            size_t len;
            uint8_t *after = ask_wire(f, probe_names[i], probe_types[j], &len);
            if (len != blen[i][j] || memcmp(after, before[i][j], len) != 0)
                fail_msg("%s type %d differs from a full rebuild", probe_names[i],
                         (int)probe_types[j]);
            free(after);
            free(before[i][j]);
        }
}

static void
test_changes_after_queries_refresh_the_changed_names(void **state)
{
    struct fixture *f = *state;
    ldns_pkt *r = ask(f, "www.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_rdata(r, 0, "192.0.2.10");
    ldns_pkt_free(r);
    r = ask(f, "deeper.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
    ldns_pkt_free(r);
    /* A changed name, and a new one below a name that did not exist. */
    changes(f, f->zone,
            "<Change><Action>UPSERT</Action><ResourceRecordSet><Name>www.example.com</Name>"
            "<Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.77"
            "</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>"
            "<Change><Action>CREATE</Action><ResourceRecordSet><Name>a.deeper.example.com"
            "</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>"
            "192.0.2.78</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>");
    r = ask(f, "www.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_rdata(r, 0, "192.0.2.77");
    ldns_pkt_free(r);
    /* The chain through the changed name, cached before, follows it. */
    r = ask(f, "c1.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 3);
    assert_rdata(r, 2, "192.0.2.77");
    ldns_pkt_free(r);
    r = ask(f, "a.deeper.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_rdata(r, 0, "192.0.2.78");
    ldns_pkt_free(r);
    /* deeper.example.com is an empty non-terminal now: NODATA, not the NXDOMAIN cached. */
    r = ask(f, "deeper.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
    assert_same_as_rebuilt(f);
    /* A type added beside another, then a set deleted so that its name goes. */
    upsert(f, "www.example.com", "TXT", "\"hello\"");
    r = ask(f, "www.example.com.", LDNS_RR_TYPE_TXT, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    ldns_pkt_free(r);
    assert_same_as_rebuilt(f);
    changes(f, f->zone,
            "<Change><Action>DELETE</Action><ResourceRecordSet><Name>a.deeper.example.com"
            "</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>"
            "192.0.2.78</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>");
    r = ask(f, "deeper.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
    ldns_pkt_free(r);
    r = ask(f, "a.deeper.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
    ldns_pkt_free(r);
    /* The apex: its TXT is answered, its SOA still carried by negative answers. */
    upsert(f, "example.com", "TXT", "\"apex\"");
    r = ask(f, "example.com.", LDNS_RR_TYPE_TXT, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    ldns_pkt_free(r);
    r = ask(f, "nope.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_true(authority_has_soa(r));
    ldns_pkt_free(r);
    assert_same_as_rebuilt(f);
}

static void
test_a_failed_batch_changes_no_answer(void **state)
{
    struct fixture *f = *state;
    ldns_pkt *r = ask(f, "www.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_rdata(r, 0, "192.0.2.10");
    ldns_pkt_free(r);
    struct buf t = BUF_INIT;
    buf_addf(&t, "/2013-04-01/hostedzone/%s/rrset/", f->zone);
    assert_int_equal(
            api(f, "POST", t.data,
                "<ChangeResourceRecordSetsRequest xmlns=\"" NS "\"><ChangeBatch><Changes>"
                "<Change><Action>UPSERT</Action><ResourceRecordSet><Name>www.example.com</Name>"
                "<Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.99"
                "</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>"
                "<Change><Action>CREATE</Action><ResourceRecordSet><Name>mx.example.com</Name>"
                "<Type>MX</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>10 "
                "mail.example.com</Value></ResourceRecord></ResourceRecords>"
                "</ResourceRecordSet></Change></Changes></ChangeBatch>"
                "</ChangeResourceRecordSetsRequest>"),
            400);
    buf_release(&t);
    r = ask(f, "www.example.com.", LDNS_RR_TYPE_A, 0, false, NULL);
    assert_rdata(r, 0, "192.0.2.10");
    ldns_pkt_free(r);
}

/* ---- alias records that evaluate their target's health ---- */

#define AUTH_EC2                                                                                   \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/ec2/aws4_request, "                       \
    "SignedHeaders=host, Signature=00"
#define AUTH_ELB                                                                                   \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/elasticloadbalancing/aws4_request, "      \
    "SignedHeaders=host, Signature=00"

/* ELB's prober stand-in: probes wait here until the test answers them. */
static struct elb_probe *probes[32];
static size_t n_probes;

static int
fake_probe_start(struct elb_probe *p)
{
    assert_true(n_probes < ARRAY_SIZE(probes));
    probes[n_probes++] = p;
    p->net = p;
    return 0;
}

static void
fake_probe_cancel(struct elb_probe *p)
{
    for (size_t i = 0; i < n_probes; i++)
        if (probes[i] == p) {
            probes[i] = probes[--n_probes];
            return;
        }
}

static const struct elb_prober fake_prober = { fake_probe_start, fake_probe_cancel };

/* One round of ELB health checks (5 s), every probe answered ok or not. */
static void
elb_round(struct fixture *f, bool ok)
{
    vclock_advance(f->app.clock, 5000);
    while (n_probes)
        elb_probe_result(probes[--n_probes], ok);
}

/* A query-protocol call (ELB or EC2) through the router; asserts 200. */
static void FB_PRINTF(3, 4) query(struct fixture *f, bool elb, const char *fmt, ...)
{
    struct buf body = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&body, fmt, ap);
    va_end(ap);
    buf_adds(&body, elb ? "&Version=2012-06-01" : "&Version=2016-11-15");
    struct http_header h[2] = {
        { "Authorization", elb ? AUTH_ELB : AUTH_EC2 },
        { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
    };
    struct http_req req = { .method = "POST",
                            .target = "/",
                            .headers = h,
                            .n_headers = 2,
                            .body = body.data,
                            .body_len = body.len,
                            .peer = "127.0.0.1" };
    http_resp_release(&f->resp);
    http_resp_init(&f->resp);
    router_handle(&f->app, &req, &f->resp);
    if (f->resp.status != 200)
        fail_msg("%s -> %d %s", body.data, f->resp.status, f->resp.body.data);
    buf_release(&body);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
elb_setup(void **state)
{
    zone_setup(state);
    struct fixture *f = *state;
    char errbuf[256];
    f->app.cfg.port = 4566;
    f->app.cfg.instance_limit = 16;
    snprintf(f->dir, sizeof(f->dir), "/tmp/fogbank-test-dns-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->app.data_dir = f->dir;
    f->app.sup = sup_new_fake(NULL, NULL, NULL);
    assert_int_equal(ec2_instances_start(&f->app, errbuf, sizeof(errbuf)), 0);
    assert_int_equal(elb_service.hooks->start(&f->app, errbuf, sizeof(errbuf)), 0);
    elb_set_prober(&fake_prober);
    n_probes = 0;
    query(f, false, "Action=DescribeImages&Owner.1=amazon");
    snprintf(f->ami, sizeof(f->ami), "%s", first(f, "imageId"));
    return 0;
}

static int
elb_teardown(void **state)
{
    struct fixture *f = *state;
    n_probes = 0;
    elb_service.hooks->stop(&f->app);
    elb_set_prober(NULL);
    ec2_instances_stop(&f->app);
    sup_free(f->app.sup);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return teardown(state);
}

/* A load balancer `name` (HTTP:80 in zone a, checks every 5 s, InService after 2); its DNS
   name into dns. */
static void
lb_create(struct fixture *f, const char *name, char *dns, size_t dnssz)
{
    query(f, true,
          "Action=CreateLoadBalancer&LoadBalancerName=%s&Listeners.member.1.Protocol=HTTP"
          "&Listeners.member.1.LoadBalancerPort=80&Listeners.member.1.InstancePort=80"
          "&AvailabilityZones.member.1=us-east-1a",
          name);
    snprintf(dns, dnssz, "%s", first(f, "DNSName"));
    query(f, true,
          "Action=ConfigureHealthCheck&LoadBalancerName=%s&HealthCheck.Target=TCP:80"
          "&HealthCheck.Interval=5&HealthCheck.Timeout=2&HealthCheck.UnhealthyThreshold=2"
          "&HealthCheck.HealthyThreshold=2",
          name);
}

/* Runs an instance in us-east-1a and registers it with load balancer `name`. */
static void
lb_add_instance(struct fixture *f, const char *name)
{
    query(f, false,
          "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1"
          "&Placement.AvailabilityZone=us-east-1a",
          f->ami);
    char id[32];
    snprintf(id, sizeof(id), "%s", first(f, "instanceId"));
    vclock_run_due(f->app.clock);
    query(f, true,
          "Action=RegisterInstancesWithLoadBalancer&LoadBalancerName=%s"
          "&Instances.member.1.InstanceId=%s",
          name, id);
}

/* InService instances of the balancer with that DNS name, as Route53 asks ELB. */
static int
in_service(struct fixture *f, const char *dns)
{
    struct aws_call c = { .app = &f->app,
                          .region = "us-east-1",
                          .account_id = "123456789012",
                          .now_ms = vclock_now(f->app.clock) };
    return elb_api_in_service_count_by_dns(&c, dns);
}

/* A failover pair at name: PRIMARY an alias of target (EvaluateTargetHealth eth, target zone
   tzone), SECONDARY A 192.0.2.2. */
static void
failover_alias(struct fixture *f, const char *name, const char *tzone, const char *target, bool eth)
{
    struct buf c = BUF_INIT;
    buf_addf(&c,
             "<Change><Action>UPSERT</Action><ResourceRecordSet><Name>%s</Name><Type>A</Type>"
             "<SetIdentifier>p</SetIdentifier><Failover>PRIMARY</Failover><AliasTarget>"
             "<HostedZoneId>%s</HostedZoneId><DNSName>%s</DNSName><EvaluateTargetHealth>%s"
             "</EvaluateTargetHealth></AliasTarget></ResourceRecordSet></Change>"
             "<Change><Action>UPSERT</Action><ResourceRecordSet><Name>%s</Name><Type>A</Type>"
             "<SetIdentifier>s</SetIdentifier><Failover>SECONDARY</Failover><TTL>5</TTL>"
             "<ResourceRecords><ResourceRecord><Value>192.0.2.2</Value></ResourceRecord>"
             "</ResourceRecords></ResourceRecordSet></Change>",
             name, tzone, target, eth ? "true" : "false", name);
    changes(f, f->zone, c.data);
    buf_release(&c);
}

/* The one A answer to qname, as text into out. */
static const char *
answer_of(struct fixture *f, const char *qname)
{
    static char out[64];
    ldns_pkt *r = ask(f, qname, LDNS_RR_TYPE_A, 0, false, NULL);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    char *v = rdata(r, 0);
    snprintf(out, sizeof(out), "%s", v);
    free(v);
    ldns_pkt_free(r);
    return out;
}

static void
test_failover_alias_to_a_load_balancer_follows_its_instances(void **state)
{
    struct fixture *f = *state;
    char dns[160];
    lb_create(f, "blue", dns, sizeof(dns));
    assert_int_equal(in_service(f, dns), 0);
    assert_int_equal(in_service(f, "nope-1.us-east-1.elb.amazonaws.com"), -1);
    failover_alias(f, "fo.example.com", "Z35SXDOTRQ7X7K", dns, true);
    failover_alias(f, "plain.example.com", "Z35SXDOTRQ7X7K", dns, false);
    /* No instance at all: the primary is unhealthy, the secondary answers; without
       EvaluateTargetHealth the primary answers whatever the balancer's state. */
    assert_string_equal(answer_of(f, "fo.example.com."), "192.0.2.2");
    assert_string_equal(answer_of(f, "plain.example.com."), "127.0.0.1");
    /* Registered but not yet InService: still the secondary. */
    lb_add_instance(f, "blue");
    elb_round(f, true);
    assert_int_equal(in_service(f, dns), 0);
    assert_string_equal(answer_of(f, "fo.example.com."), "192.0.2.2");
    elb_round(f, true);
    assert_int_equal(in_service(f, dns), 1);
    assert_string_equal(answer_of(f, "fo.example.com."), "127.0.0.1");
    /* The instance fails its checks: back to the secondary, with no change to the zone. */
    elb_round(f, false);
    elb_round(f, false);
    assert_int_equal(in_service(f, dns), 0);
    assert_string_equal(answer_of(f, "fo.example.com."), "192.0.2.2");
    elb_round(f, true);
    elb_round(f, true);
    assert_string_equal(answer_of(f, "fo.example.com."), "127.0.0.1");
    /* A balancer that is gone is unhealthy too. */
    query(f, true, "Action=DeleteLoadBalancer&LoadBalancerName=blue");
    assert_string_equal(answer_of(f, "fo.example.com."), "192.0.2.2");
}

static void
test_weighted_aliases_skip_an_unhealthy_load_balancer(void **state)
{
    struct fixture *f = *state;
    char dns[160];
    lb_create(f, "idle", dns, sizeof(dns));
    struct buf c = BUF_INIT;
    buf_addf(&c,
             "<Change><Action>CREATE</Action><ResourceRecordSet><Name>w.example.com</Name>"
             "<Type>A</Type><SetIdentifier>lb</SetIdentifier><Weight>3</Weight><AliasTarget>"
             "<HostedZoneId>Z35SXDOTRQ7X7K</HostedZoneId><DNSName>%s</DNSName>"
             "<EvaluateTargetHealth>true</EvaluateTargetHealth></AliasTarget>"
             "</ResourceRecordSet></Change>",
             dns);
    buf_addf(&c, WEIGHTED, "ip", 1, "192.0.2.5");
    changes(f, f->zone, c.data);
    buf_release(&c);
    for (int i = 0; i < 200; i++)
        assert_string_equal(answer_of(f, "w.example.com."), "192.0.2.5");
    /* Every member unhealthy: answered as if all were healthy (R53DG
       health-checks-how-route-53-chooses-records). */
    char hid[40];
    tcp_check(f, "w", 1, hid);
    c = (struct buf)BUF_INIT;
    buf_addf(&c,
             "<Change><Action>UPSERT</Action><ResourceRecordSet><Name>w.example.com</Name>"
             "<Type>A</Type><SetIdentifier>ip</SetIdentifier><Weight>1</Weight><TTL>5</TTL>"
             "<ResourceRecords><ResourceRecord><Value>192.0.2.5</Value></ResourceRecord>"
             "</ResourceRecords><HealthCheckId>%s</HealthCheckId></ResourceRecordSet></Change>",
             hid);
    changes(f, f->zone, c.data);
    buf_release(&c);
    r53_health_report(&f->app, hid, false, "Failure: Connection refused");
    int lb = 0, ip = 0;
    for (int i = 0; i < 400; i++) {
        const char *v = answer_of(f, "w.example.com.");
        lb += strcmp(v, "127.0.0.1") == 0;
        ip += strcmp(v, "192.0.2.5") == 0;
    }
    assert_int_equal(lb + ip, 400);
    assert_true(lb > 240 && lb < 360);
    /* The balancer gets an InService instance: it alone is healthy now. */
    lb_add_instance(f, "idle");
    elb_round(f, true);
    elb_round(f, true);
    for (int i = 0; i < 200; i++)
        assert_string_equal(answer_of(f, "w.example.com."), "127.0.0.1");
}

static void
test_alias_in_the_zone_inherits_the_health_of_its_target(void **state)
{
    struct fixture *f = *state;
    char hid[40];
    tcp_check(f, "t", 1, hid);
    struct buf c = BUF_INIT;
    buf_addf(&c,
             "<Change><Action>CREATE</Action><ResourceRecordSet><Name>target.example.com</Name>"
             "<Type>A</Type><TTL>5</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.9"
             "</Value></ResourceRecord></ResourceRecords><HealthCheckId>%s</HealthCheckId>"
             "</ResourceRecordSet></Change>",
             hid);
    changes(f, f->zone, c.data);
    buf_release(&c);
    failover_alias(f, "fo.example.com", f->zone, "target.example.com", true);
    failover_alias(f, "none.example.com", f->zone, "missing.example.com", true);
    assert_string_equal(answer_of(f, "fo.example.com."), "192.0.2.9");
    /* An alias to nothing answers nothing: unhealthy. */
    assert_string_equal(answer_of(f, "none.example.com."), "192.0.2.2");
    r53_health_report(&f->app, hid, false, "Failure: Connection refused");
    assert_string_equal(answer_of(f, "fo.example.com."), "192.0.2.2");
    r53_health_report(&f->app, hid, true, "Success");
    assert_string_equal(answer_of(f, "fo.example.com."), "192.0.2.9");
}

static void
test_failover_answers_the_primary_when_both_are_unhealthy(void **state)
{
    struct fixture *f = *state;
    char hid[2][40];
    tcp_check(f, "both0", 1, hid[0]);
    tcp_check(f, "both1", 1, hid[1]);
    struct buf c = BUF_INIT;
    for (int i = 0; i < 2; i++)
        buf_addf(&c,
                 "<Change><Action>CREATE</Action><ResourceRecordSet><Name>both.example.com"
                 "</Name><Type>A</Type><SetIdentifier>%s</SetIdentifier><Failover>%s"
                 "</Failover><TTL>5</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.%d"
                 "</Value></ResourceRecord></ResourceRecords><HealthCheckId>%s</HealthCheckId>"
                 "</ResourceRecordSet></Change>",
                 i ? "s" : "p", i ? "SECONDARY" : "PRIMARY", i + 1, hid[i]);
    changes(f, f->zone, c.data);
    buf_release(&c);
    assert_string_equal(answer_of(f, "both.example.com."), "192.0.2.1");
    r53_health_report(&f->app, hid[0], false, "Failure: Connection refused");
    assert_string_equal(answer_of(f, "both.example.com."), "192.0.2.2");
    /* The secondary fails too: the primary again (the API's ResourceRecordSet.Failover). */
    r53_health_report(&f->app, hid[1], false, "Failure: Connection refused");
    assert_string_equal(answer_of(f, "both.example.com."), "192.0.2.1");
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

/* Runs the loop until the client socket fd is closed by the server or `ms` real ms pass;
   whether it was closed. */
static bool
closed_within(uv_loop_t *loop, int fd, int ms)
{
    for (int i = 0; i < ms; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        char b[512];
        ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
        usleep(1000);
    }
    return false;
}

static void
test_an_idle_tcp_connection_is_closed(void **state)
{
    struct fixture *f = *state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    f->app.loop = &loop;
    char errbuf[256];
    int port = 0;
    assert_int_equal(r53_dns_start(&f->app, 0, &port, errbuf, sizeof(errbuf)), 0);
    r53_dns_set_tcp_idle_ms(200);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    /* A query is answered and the connection stays open while in use. */
    ldns_pkt *q = NULL;
    assert_int_equal(ldns_pkt_query_new_frm_str(&q, "www.example.com.", LDNS_RR_TYPE_A,
                                                LDNS_RR_CLASS_IN, LDNS_RD),
                     LDNS_STATUS_OK);
    uint8_t *wire = NULL;
    size_t len = 0;
    assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
    uint8_t msg[514] = { (uint8_t)(len >> 8), (uint8_t)len };
    memcpy(msg + 2, wire, len);
    assert_int_equal(send(fd, msg, len + 2, 0), (ssize_t)(len + 2));
    ssize_t got = -1;
    uint8_t in[1024];
    for (int i = 0; i < 2000 && got <= 0; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        got = recv(fd, in, sizeof(in), MSG_DONTWAIT);
        if (got <= 0)
            usleep(1000);
    }
    assert_true(got > 2);
    assert_false(closed_within(&loop, fd, 20));
    /* Idle past the limit (real time): the server closes it. */
    assert_true(closed_within(&loop, fd, 5000));
    close(fd);
    free(wire);
    ldns_pkt_free(q);
    r53_dns_set_tcp_idle_ms(0);
    r53_dns_stop();
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    f->app.loop = NULL;
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
        T(test_changes_after_queries_refresh_the_changed_names),
        T(test_a_failed_batch_changes_no_answer),
        cmocka_unit_test_setup_teardown(
                test_failover_alias_to_a_load_balancer_follows_its_instances, elb_setup,
                elb_teardown),
        cmocka_unit_test_setup_teardown(test_weighted_aliases_skip_an_unhealthy_load_balancer,
                                        elb_setup, elb_teardown),
        T(test_alias_in_the_zone_inherits_the_health_of_its_target),
        T(test_failover_answers_the_primary_when_both_are_unhealthy),
        T(test_malformed_packets_are_dropped_or_formerr),
        T(test_random_bytes_never_crash),
        T(test_an_idle_tcp_connection_is_closed),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
