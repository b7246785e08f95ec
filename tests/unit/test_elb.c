/*
 * The Classic Load Balancer through the router, in-process: an in-memory state, a frozen
 * virtual clock, a fixed seed and the supervisor's fake backend (instances "run" without
 * processes). Covers every operation's happy path and errors, the health state machine and
 * the health-check rounds (with a fake prober standing in for the network), connection
 * draining, the internal API, and the round-robin of the routing tables.
 */
#include "emulator/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <ctype.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

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
#include "state/db.h"

#define AUTH_EC2                                                                                   \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/ec2/aws4_request, "                       \
    "SignedHeaders=host, Signature=00"
#define AUTH_ELB                                                                                   \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/elasticloadbalancing/aws4_request, "      \
    "SignedHeaders=host, Signature=00"
#define FORM     "application/x-www-form-urlencoded; charset=utf-8"
#define START_MS 1795000000000LL

struct fixture {
    struct app app;        /* the app under test */
    char dir[64];          /* temporary data directory */
    char ami[32];          /* a built-in image id */
    struct http_resp resp; /* the last answer */
    bool have_resp;        /* resp holds one */
};

/* ---- the fake prober: probes wait in a list until the test answers them ---- */

static struct elb_probe *probes[64];
static size_t n_probes;
static size_t probes_started;

static int
fake_start(struct elb_probe *p)
{
    assert_true(n_probes < ARRAY_SIZE(probes));
    probes[n_probes++] = p;
    probes_started++;
    p->net = p;
    return 0;
}

static void
fake_cancel(struct elb_probe *p)
{
    for (size_t i = 0; i < n_probes; i++) {
        if (probes[i] == p) {
            probes[i] = probes[--n_probes];
            return;
        }
    }
}

static const struct elb_prober fake_prober = { fake_start, fake_cancel };

/* Answers every waiting probe with ok. */
static void
answer_all(bool ok)
{
    while (n_probes) {
        struct elb_probe *p = probes[--n_probes];
        elb_probe_result(p, ok);
    }
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int FB_PRINTF(3, 4) call(struct fixture *f, bool elb, const char *fmt, ...)
{
    struct buf body = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&body, fmt, ap);
    va_end(ap);
    buf_adds(&body, elb ? "&Version=2012-06-01" : "&Version=2016-11-15");
    struct http_header h[2] = {
        { "Authorization", elb ? AUTH_ELB : AUTH_EC2 },
        { "Content-Type", FORM },
    };
    struct http_req req = { .method = "POST",
                            .target = "/",
                            .headers = h,
                            .n_headers = 2,
                            .body = body.data,
                            .body_len = body.len,
                            .peer = "127.0.0.1" };
    if (f->have_resp)
        http_resp_release(&f->resp);
    http_resp_init(&f->resp);
    f->have_resp = true;
    router_handle(&f->app, &req, &f->resp);
    buf_release(&body);
    return f->resp.status;
}

#define elb(f, ...) call(f, true, __VA_ARGS__)
#define ec2(f, ...) call(f, false, __VA_ARGS__)
#define BODY        (f->resp.body.data)

static bool
has(struct fixture *f, const char *s)
{
    return strstr(BODY, s) != NULL;
}

static int
count(struct fixture *f, const char *s)
{
    int n = 0;
    for (const char *p = BODY; (p = strstr(p, s)); p += strlen(s))
        n++;
    return n;
}

/* The first <tag>text</tag> of the last answer ("" if none). */
static const char *
first(struct fixture *f, const char *tag)
{
    static char out[4096];
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    out[0] = '\0';
    const char *a = strstr(BODY, open), *b;
    if (a && (b = strstr(a + strlen(open), close)))
        snprintf(out, sizeof(out), "%.*s", (int)(b - a - strlen(open)), a + strlen(open));
    return out;
}

static void
assert_ok(struct fixture *f, int status)
{
    if (status != 200)
        fail_msg("want 200, got %d %s", status, BODY);
}

static void
assert_err(struct fixture *f, int status, int want_status, const char *code)
{
    char tag[128];
    snprintf(tag, sizeof(tag), "<Code>%s</Code>", code);
    if (status != want_status || !has(f, tag))
        fail_msg("want %d %s, got %d %s", want_status, code, status, BODY);
}

static int
setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    char errbuf[256];
    f->app.cfg.account_id = "123456789012";
    f->app.cfg.port = 4566;
    f->app.cfg.instance_limit = 64;
    f->app.db = db_open(":memory:", errbuf, sizeof(errbuf));
    assert_non_null(f->app.db);
    f->app.clock = vclock_new(NULL, 0, START_MS);
    f->app.ids = ids_new(42);
    snprintf(f->dir, sizeof(f->dir), "/tmp/fogbank-test-elb-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->app.data_dir = f->dir;
    f->app.sup = sup_new_fake(NULL, NULL, NULL);
    assert_int_equal(ec2_instances_start(&f->app, errbuf, sizeof(errbuf)), 0);
    assert_int_equal(elb_service.hooks->start(&f->app, errbuf, sizeof(errbuf)), 0);
    elb_set_prober(&fake_prober);
    n_probes = probes_started = 0;
    assert_ok(f, ec2(f, "Action=DescribeImages&Owner.1=amazon"));
    snprintf(f->ami, sizeof(f->ami), "%s", first(f, "imageId"));
    assert_true(str_starts(f->ami, "ami-"));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    n_probes = 0;
    elb_service.hooks->stop(&f->app);
    elb_set_prober(NULL);
    ec2_instances_stop(&f->app);
    if (f->have_resp)
        http_resp_release(&f->resp);
    sup_free(f->app.sup);
    db_close(f->app.db);
    vclock_free(f->app.clock);
    ids_free(f->app.ids);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Runs one instance in `az` (booted by the fake backend); its id into id. */
static void
run_in(struct fixture *f, const char *az, char id[32])
{
    assert_ok(f, ec2(f,
                     "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1"
                     "&Placement.AvailabilityZone=%s",
                     f->ami, az));
    snprintf(id, 32, "%s", first(f, "instanceId"));
    assert_true(str_starts(id, "i-"));
    vclock_run_due(f->app.clock);
}

/* An HTTP:80 load balancer `name` in zones a and b. */
static void
create_lb(struct fixture *f, const char *name)
{
    assert_ok(f, elb(f,
                     "Action=CreateLoadBalancer&LoadBalancerName=%s"
                     "&Listeners.member.1.Protocol=HTTP&Listeners.member.1.LoadBalancerPort=80"
                     "&Listeners.member.1.InstancePort=80"
                     "&AvailabilityZones.member.1=us-east-1a"
                     "&AvailabilityZones.member.2=us-east-1b",
                     name));
}

static void
configure_fast_checks(struct fixture *f, const char *name)
{
    assert_ok(f, elb(f,
                     "Action=ConfigureHealthCheck&LoadBalancerName=%s"
                     "&HealthCheck.Target=HTTP:80/health&HealthCheck.Interval=5"
                     "&HealthCheck.Timeout=2&HealthCheck.UnhealthyThreshold=2"
                     "&HealthCheck.HealthyThreshold=3",
                     name));
}

/* The State, ReasonCode and Description of one instance, joined by '|'. */
static const char *
health(struct fixture *f, const char *name, const char *id)
{
    static char out[512];
    assert_ok(f, elb(f,
                     "Action=DescribeInstanceHealth&LoadBalancerName=%s"
                     "&Instances.member.1.InstanceId=%s",
                     name, id));
    char st[32], rc[32];
    snprintf(st, sizeof(st), "%s", first(f, "State"));
    snprintf(rc, sizeof(rc), "%s", first(f, "ReasonCode"));
    snprintf(out, sizeof(out), "%s|%s|%s", st, rc, first(f, "Description"));
    return out;
}

/* One round: advance one interval (5 s), answer the probes it started. */
static void
round_with(struct fixture *f, bool ok)
{
    vclock_advance(f->app.clock, 5000);
    answer_all(ok);
}

/* ---- create, describe, delete ---- */

static void
test_create_describe_defaults(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    assert_true(str_starts(first(f, "DNSName"), "web-"));
    assert_non_null(strstr(first(f, "DNSName"), ".us-east-1.elb.amazonaws.com"));
    assert_ok(f, elb(f, "Action=DescribeLoadBalancers&LoadBalancerNames.member.1=web"));
    assert_string_equal(first(f, "Target"), "TCP:80");
    assert_string_equal(first(f, "Interval"), "30");
    assert_string_equal(first(f, "Timeout"), "5");
    assert_string_equal(first(f, "UnhealthyThreshold"), "2");
    assert_string_equal(first(f, "HealthyThreshold"), "10");
    assert_string_equal(first(f, "Scheme"), "internet-facing");
    assert_string_equal(first(f, "CanonicalHostedZoneNameID"), "Z35SXDOTRQ7X7K");
    assert_string_equal(first(f, "InstanceProtocol"), "HTTP");
    assert_true(str_starts(first(f, "VPCId"), "vpc-"));
    assert_true(has(f, "<member>us-east-1a</member>"));
    assert_int_equal(count(f, "<member>subnet-"), 2);
    assert_true(has(f, "<GroupName>default</GroupName>"));
    assert_int_equal(count(f, "<member>sg-"), 1);
    /* Same name, same listeners: idempotent, same DNS name. */
    char dns[160];
    snprintf(dns, sizeof(dns), "%s", first(f, "DNSName"));
    create_lb(f, "web");
    assert_string_equal(first(f, "DNSName"), dns);
    /* An internal one is named internal-... */
    assert_ok(f, elb(f, "Action=CreateLoadBalancer&LoadBalancerName=in&Scheme=internal"
                        "&Listeners.member.1.Protocol=TCP&Listeners.member.1.LoadBalancerPort=5432"
                        "&Listeners.member.1.InstancePort=5432"
                        "&AvailabilityZones.member.1=us-east-1c"));
    assert_true(str_starts(first(f, "DNSName"), "internal-in-"));
    assert_ok(f, elb(f, "Action=DescribeLoadBalancers"));
    assert_int_equal(count(f, "<LoadBalancerName>"), 2);
}

static void
test_create_errors_change_nothing(void **state)
{
    struct fixture *f = *state;
    static const char listener[] = "&Listeners.member.1.Protocol=HTTP"
                                   "&Listeners.member.1.LoadBalancerPort=80"
                                   "&Listeners.member.1.InstancePort=80";
    assert_err(f,
               elb(f,
                   "Action=CreateLoadBalancer&LoadBalancerName=-bad%s"
                   "&AvailabilityZones.member.1=us-east-1a",
                   listener),
               400, "ValidationError");
    assert_err(f,
               elb(f,
                   "Action=CreateLoadBalancer&LoadBalancerName=a-name-that-is-far-too-long-"
                   "for-elb%s&AvailabilityZones.member.1=us-east-1a",
                   listener),
               400, "ValidationError");
    assert_err(f, elb(f, "Action=CreateLoadBalancer&LoadBalancerName=nozone%s", listener), 400,
               "ValidationError");
    assert_err(f,
               elb(f,
                   "Action=CreateLoadBalancer&LoadBalancerName=both%s"
                   "&AvailabilityZones.member.1=us-east-1a&Subnets.member.1=subnet-1",
                   listener),
               400, "ValidationError");
    assert_err(f,
               elb(f,
                   "Action=CreateLoadBalancer&LoadBalancerName=badzone%s"
                   "&AvailabilityZones.member.1=us-east-1z",
                   listener),
               400, "ValidationError");
    assert_err(f,
               elb(f, "Action=CreateLoadBalancer&LoadBalancerName=proto"
                      "&Listeners.member.1.Protocol=UDP&Listeners.member.1.LoadBalancerPort=80"
                      "&Listeners.member.1.InstancePort=80&AvailabilityZones.member.1=us-east-1a"),
               400, "UnsupportedProtocol");
    assert_err(f,
               elb(f, "Action=CreateLoadBalancer&LoadBalancerName=https"
                      "&Listeners.member.1.Protocol=HTTPS&Listeners.member.1.LoadBalancerPort=443"
                      "&Listeners.member.1.InstancePort=80&AvailabilityZones.member.1=us-east-1a"),
               400, "ValidationError");
    assert_err(f,
               elb(f,
                   "Action=CreateLoadBalancer&LoadBalancerName=scheme&Scheme=public%s"
                   "&AvailabilityZones.member.1=us-east-1a",
                   listener),
               400, "InvalidScheme");
    assert_err(f,
               elb(f,
                   "Action=CreateLoadBalancer&LoadBalancerName=subnet%s"
                   "&Subnets.member.1=subnet-0123456789abcdef0",
                   listener),
               400, "SubnetNotFound");
    assert_err(f,
               elb(f,
                   "Action=CreateLoadBalancer&LoadBalancerName=sg%s"
                   "&AvailabilityZones.member.1=us-east-1a"
                   "&SecurityGroups.member.1=sg-0123456789abcdef0",
                   listener),
               400, "InvalidSecurityGroup");
    assert_err(f,
               elb(f,
                   "Action=CreateLoadBalancer&LoadBalancerName=tags%s"
                   "&AvailabilityZones.member.1=us-east-1a&Tags.member.1.Key=k"
                   "&Tags.member.1.Value=1&Tags.member.2.Key=k&Tags.member.2.Value=2",
                   listener),
               400, "DuplicateTagKeys");
    assert_err(f,
               elb(f, "Action=CreateLoadBalancer&LoadBalancerName=dup"
                      "&Listeners.member.1.Protocol=HTTP&Listeners.member.1.LoadBalancerPort=80"
                      "&Listeners.member.1.InstancePort=80&Listeners.member.2.Protocol=TCP"
                      "&Listeners.member.2.LoadBalancerPort=80&Listeners.member.2.InstancePort=81"
                      "&AvailabilityZones.member.1=us-east-1a"),
               400, "DuplicateListener");
    assert_ok(f, elb(f, "Action=DescribeLoadBalancers"));
    assert_int_equal(count(f, "<LoadBalancerName>"), 0);
    create_lb(f, "web");
    assert_err(f,
               elb(f, "Action=CreateLoadBalancer&LoadBalancerName=web"
                      "&Listeners.member.1.Protocol=TCP&Listeners.member.1.LoadBalancerPort=81"
                      "&Listeners.member.1.InstancePort=80&AvailabilityZones.member.1=us-east-1a"),
               400, "DuplicateLoadBalancerName");
}

static void
test_too_many_load_balancers(void **state)
{
    struct fixture *f = *state;
    char name[16];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "lb%d", i);
        create_lb(f, name);
    }
    assert_err(f,
               elb(f, "Action=CreateLoadBalancer&LoadBalancerName=one-more"
                      "&Listeners.member.1.Protocol=HTTP&Listeners.member.1.LoadBalancerPort=80"
                      "&Listeners.member.1.InstancePort=80&AvailabilityZones.member.1=us-east-1a"),
               400, "TooManyLoadBalancers");
    /* Pagination: pages of 7 cover all 20 once. */
    assert_ok(f, elb(f, "Action=DescribeLoadBalancers&PageSize=7"));
    assert_int_equal(count(f, "<LoadBalancerName>"), 7);
    char marker[64];
    int total = 7;
    snprintf(marker, sizeof(marker), "%s", first(f, "NextMarker"));
    while (marker[0]) {
        assert_ok(f, elb(f, "Action=DescribeLoadBalancers&PageSize=7&Marker=%s", marker));
        total += count(f, "<LoadBalancerName>");
        snprintf(marker, sizeof(marker), "%s", first(f, "NextMarker"));
    }
    assert_int_equal(total, 20);
    assert_err(f, elb(f, "Action=DescribeLoadBalancers&Marker=zzz"), 400, "ValidationError");
}

static void
test_not_found_everywhere_and_delete_idempotent(void **state)
{
    struct fixture *f = *state;
    static const char *const ops[] = {
        "DescribeLoadBalancers&LoadBalancerNames.member.1=nope",
        "DescribeLoadBalancerAttributes&LoadBalancerName=nope",
        "DescribeInstanceHealth&LoadBalancerName=nope",
        "RegisterInstancesWithLoadBalancer&LoadBalancerName=nope&Instances.member.1.InstanceId=i-1",
        "DeregisterInstancesFromLoadBalancer&LoadBalancerName=nope"
        "&Instances.member.1.InstanceId=i-1",
        "ConfigureHealthCheck&LoadBalancerName=nope&HealthCheck.Target=TCP:80"
        "&HealthCheck.Interval=30&HealthCheck.Timeout=5&HealthCheck.UnhealthyThreshold=2"
        "&HealthCheck.HealthyThreshold=2",
        "DescribeTags&LoadBalancerNames.member.1=nope",
        "DeleteLoadBalancerListeners&LoadBalancerName=nope&LoadBalancerPorts.member.1=80",
        "EnableAvailabilityZonesForLoadBalancer&LoadBalancerName=nope"
        "&AvailabilityZones.member.1=us-east-1a",
    };
    for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
        assert_err(f, elb(f, "Action=%s", ops[i]), 400, "LoadBalancerNotFound");
        assert_true(has(f, "There is no ACTIVE Load Balancer named &apos;nope&apos;") ||
                    has(f, "There is no ACTIVE Load Balancer named 'nope'"));
    }
    assert_ok(f, elb(f, "Action=DeleteLoadBalancer&LoadBalancerName=nope"));
    create_lb(f, "web");
    assert_ok(f, elb(f, "Action=DeleteLoadBalancer&LoadBalancerName=web"));
    assert_err(f, elb(f, "Action=DescribeLoadBalancers&LoadBalancerNames.member.1=web"), 400,
               "LoadBalancerNotFound");
}

/* ---- listeners, zones, subnets ---- */

static void
test_listeners(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    static const char tcp[] = "&Listeners.member.1.Protocol=TCP"
                              "&Listeners.member.1.LoadBalancerPort=8080"
                              "&Listeners.member.1.InstancePort=8080";
    assert_ok(f, elb(f, "Action=CreateLoadBalancerListeners&LoadBalancerName=web%s", tcp));
    /* The same listener again is a no-op; another on the same port is a duplicate. */
    assert_ok(f, elb(f, "Action=CreateLoadBalancerListeners&LoadBalancerName=web%s", tcp));
    assert_err(f,
               elb(f, "Action=CreateLoadBalancerListeners&LoadBalancerName=web"
                      "&Listeners.member.1.Protocol=TCP&Listeners.member.1.LoadBalancerPort=8080"
                      "&Listeners.member.1.InstancePort=9090"),
               400, "DuplicateListener");
    assert_ok(f, elb(f, "Action=DescribeLoadBalancers"));
    assert_int_equal(count(f, "<LoadBalancerPort>"), 2);
    assert_ok(f, elb(f, "Action=DeleteLoadBalancerListeners&LoadBalancerName=web"
                        "&LoadBalancerPorts.member.1=8080&LoadBalancerPorts.member.2=9999"));
    assert_ok(f, elb(f, "Action=DescribeLoadBalancers"));
    assert_int_equal(count(f, "<LoadBalancerPort>"), 1);
    assert_true(has(f, "<LoadBalancerPort>80</LoadBalancerPort>"));
}

static void
test_zones_and_subnets(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    assert_ok(f, elb(f, "Action=EnableAvailabilityZonesForLoadBalancer&LoadBalancerName=web"
                        "&AvailabilityZones.member.1=us-east-1c"));
    assert_int_equal(count(f, "<member>us-east-1"), 3);
    assert_ok(f, elb(f, "Action=DisableAvailabilityZonesForLoadBalancer&LoadBalancerName=web"
                        "&AvailabilityZones.member.1=us-east-1a"));
    assert_int_equal(count(f, "<member>us-east-1"), 2);
    assert_err(f,
               elb(f,
                   "Action=DisableAvailabilityZonesForLoadBalancer&LoadBalancerName=web"
                   "&AvailabilityZones.member.1=us-east-1b&AvailabilityZones.member.2=us-east-1c"),
               400, "ValidationError");
    assert_ok(f, elb(f, "Action=DescribeLoadBalancers"));
    assert_int_equal(count(f, "<member>subnet-"), 2);

    /* Subnets: the default subnet of zone a goes back on; a second in zone b is refused. */
    assert_ok(f, ec2(f, "Action=DescribeSubnets&Filter.1.Name=availability-zone"
                        "&Filter.1.Value.1=us-east-1a"));
    char sub_a[32];
    snprintf(sub_a, sizeof(sub_a), "%s", first(f, "subnetId"));
    assert_ok(f, elb(f,
                     "Action=AttachLoadBalancerToSubnets&LoadBalancerName=web"
                     "&Subnets.member.1=%s",
                     sub_a));
    assert_int_equal(count(f, "<member>subnet-"), 3);
    assert_err(f,
               elb(f, "Action=AttachLoadBalancerToSubnets&LoadBalancerName=web"
                      "&Subnets.member.1=subnet-0123456789abcdef0"),
               400, "SubnetNotFound");
    assert_ok(f, elb(f, "Action=DescribeLoadBalancers"));
    char vpc[32];
    snprintf(vpc, sizeof(vpc), "%s", first(f, "VPCId"));
    assert_ok(f, ec2(f,
                     "Action=CreateSubnet&VpcId=%s&CidrBlock=172.31.200.0/24"
                     "&AvailabilityZone=us-east-1b",
                     vpc));
    char extra[32];
    snprintf(extra, sizeof(extra), "%s", first(f, "subnetId"));
    assert_err(f,
               elb(f,
                   "Action=AttachLoadBalancerToSubnets&LoadBalancerName=web"
                   "&Subnets.member.1=%s",
                   extra),
               409, "InvalidConfigurationRequest");
    assert_ok(f, elb(f,
                     "Action=DetachLoadBalancerFromSubnets&LoadBalancerName=web"
                     "&Subnets.member.1=%s",
                     sub_a));
    assert_int_equal(count(f, "<member>subnet-"), 2);
    assert_ok(f, elb(f, "Action=DescribeLoadBalancers"));
    assert_false(has(f, "<member>us-east-1a</member>"));
}

/* ---- attributes, tags, limits ---- */

static void
test_attributes(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    assert_ok(f, elb(f, "Action=DescribeLoadBalancerAttributes&LoadBalancerName=web"));
    assert_true(has(f, "<CrossZoneLoadBalancing><Enabled>false</Enabled>"));
    assert_true(has(f, "<ConnectionDraining><Enabled>false</Enabled><Timeout>300</Timeout>"));
    assert_true(has(f, "<IdleTimeout>60</IdleTimeout>"));
    assert_ok(f, elb(f, "Action=ModifyLoadBalancerAttributes&LoadBalancerName=web"
                        "&LoadBalancerAttributes.CrossZoneLoadBalancing.Enabled=true"
                        "&LoadBalancerAttributes.ConnectionDraining.Enabled=true"
                        "&LoadBalancerAttributes.ConnectionDraining.Timeout=30"
                        "&LoadBalancerAttributes.ConnectionSettings.IdleTimeout=120"));
    assert_ok(f, elb(f, "Action=DescribeLoadBalancerAttributes&LoadBalancerName=web"));
    assert_true(has(f, "<CrossZoneLoadBalancing><Enabled>true</Enabled>"));
    assert_true(has(f, "<ConnectionDraining><Enabled>true</Enabled><Timeout>30</Timeout>"));
    assert_true(has(f, "<IdleTimeout>120</IdleTimeout>"));
    assert_err(f,
               elb(f, "Action=ModifyLoadBalancerAttributes&LoadBalancerName=web"
                      "&LoadBalancerAttributes.ConnectionDraining.Enabled=true"
                      "&LoadBalancerAttributes.ConnectionDraining.Timeout=5000"),
               400, "ValidationError");
    assert_err(f,
               elb(f, "Action=ModifyLoadBalancerAttributes&LoadBalancerName=web"
                      "&LoadBalancerAttributes.AdditionalAttributes.member.1.Key=nope"
                      "&LoadBalancerAttributes.AdditionalAttributes.member.1.Value=x"),
               400, "LoadBalancerAttributeNotFound");
    assert_err(f,
               elb(f, "Action=ModifyLoadBalancerAttributes&LoadBalancerName=web"
                      "&LoadBalancerAttributes.AccessLog.Enabled=true"),
               409, "InvalidConfigurationRequest");
    assert_ok(f, elb(f, "Action=ModifyLoadBalancerAttributes&LoadBalancerName=web"
                        "&LoadBalancerAttributes.AccessLog.Enabled=true"
                        "&LoadBalancerAttributes.AccessLog.S3BucketName=logs"));
    assert_ok(f, elb(f, "Action=DescribeLoadBalancerAttributes&LoadBalancerName=web"));
    assert_true(has(f, "<S3BucketName>logs</S3BucketName>"));
    assert_true(has(f, "<EmitInterval>60</EmitInterval>"));
    /* The failed calls changed nothing. */
    assert_true(has(f, "<Timeout>30</Timeout>"));
}

static void
test_tags(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    assert_ok(f, elb(f, "Action=AddTags&LoadBalancerNames.member.1=web&Tags.member.1.Key=env"
                        "&Tags.member.1.Value=prod&Tags.member.2.Key=team&Tags.member.2.Value=a"));
    assert_ok(f, elb(f, "Action=AddTags&LoadBalancerNames.member.1=web&Tags.member.1.Key=team"
                        "&Tags.member.1.Value=b"));
    assert_ok(f, elb(f, "Action=DescribeTags&LoadBalancerNames.member.1=web"));
    assert_int_equal(count(f, "<Key>"), 2);
    assert_true(has(f, "<Key>team</Key><Value>b</Value>"));
    assert_ok(f, elb(f, "Action=RemoveTags&LoadBalancerNames.member.1=web&Tags.member.1.Key=env"));
    assert_ok(f, elb(f, "Action=DescribeTags&LoadBalancerNames.member.1=web"));
    assert_int_equal(count(f, "<Key>"), 1);
    assert_err(f,
               elb(f, "Action=AddTags&LoadBalancerNames.member.1=web&Tags.member.1.Key=x"
                      "&Tags.member.1.Value=1&Tags.member.2.Key=x&Tags.member.2.Value=2"),
               400, "DuplicateTagKeys");
    struct buf many = BUF_INIT;
    for (int i = 1; i <= 10; i++)
        buf_addf(&many, "&Tags.member.%d.Key=k%d&Tags.member.%d.Value=v", i, i, i);
    assert_err(f, elb(f, "Action=AddTags&LoadBalancerNames.member.1=web%s", many.data), 400,
               "TooManyTags");
    buf_release(&many);
    assert_ok(f, elb(f, "Action=DescribeTags&LoadBalancerNames.member.1=web"));
    assert_int_equal(count(f, "<Key>"), 1);
}

static void
test_account_limits(void **state)
{
    struct fixture *f = *state;
    assert_ok(f, elb(f, "Action=DescribeAccountLimits"));
    assert_true(has(f, "<Name>classic-load-balancers</Name><Max>20</Max>"));
    assert_true(has(f, "<Name>classic-listeners</Name><Max>100</Max>"));
    assert_true(has(f, "<Name>classic-registered-instances</Name><Max>1000</Max>"));
    assert_ok(f, elb(f, "Action=DescribeAccountLimits&PageSize=1"));
    assert_int_equal(count(f, "<Name>"), 1);
    assert_string_equal(first(f, "NextMarker"), "classic-listeners");
}

/* ---- registration and health ---- */

static void
test_register_describe_deregister(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    char a[32], c[32];
    run_in(f, "us-east-1a", a);
    run_in(f, "us-east-1c", c);
    assert_err(f,
               elb(f, "Action=RegisterInstancesWithLoadBalancer&LoadBalancerName=web"
                      "&Instances.member.1.InstanceId=i-0123456789abcdef0"),
               400, "InvalidInstance");
    assert_ok(f, elb(f,
                     "Action=RegisterInstancesWithLoadBalancer&LoadBalancerName=web"
                     "&Instances.member.1.InstanceId=%s&Instances.member.2.InstanceId=%s",
                     a, c));
    assert_int_equal(count(f, "<InstanceId>"), 2);
    /* Registering again is a no-op. */
    assert_ok(f, elb(f,
                     "Action=RegisterInstancesWithLoadBalancer&LoadBalancerName=web"
                     "&Instances.member.1.InstanceId=%s",
                     a));
    assert_int_equal(count(f, "<InstanceId>"), 2);
    assert_string_equal(health(f, "web", a),
                        "OutOfService|ELB|Instance registration is still in progress.");
    /* c is in a zone the load balancer does not route to. */
    assert_string_equal(health(f, "web", c),
                        "OutOfService|ELB|Instance is in the EC2 Availability Zone for which "
                        "LoadBalancer is not configured to route traffic to.");
    assert_ok(f, elb(f, "Action=DescribeInstanceHealth&LoadBalancerName=web"));
    assert_int_equal(count(f, "<InstanceId>"), 2);
    /* Never registered: InvalidInstance; deregistering one not registered too. */
    char other[32];
    run_in(f, "us-east-1a", other);
    assert_err(f,
               elb(f,
                   "Action=DescribeInstanceHealth&LoadBalancerName=web"
                   "&Instances.member.1.InstanceId=%s",
                   other),
               400, "InvalidInstance");
    assert_err(f,
               elb(f,
                   "Action=DeregisterInstancesFromLoadBalancer&LoadBalancerName=web"
                   "&Instances.member.1.InstanceId=%s",
                   other),
               400, "InvalidInstance");
    assert_ok(f, elb(f,
                     "Action=DeregisterInstancesFromLoadBalancer&LoadBalancerName=web"
                     "&Instances.member.1.InstanceId=%s",
                     c));
    assert_int_equal(count(f, "<InstanceId>"), 1);
    assert_string_equal(health(f, "web", c),
                        "OutOfService|N/A|Instance is not currently registered with the "
                        "LoadBalancer.");
    assert_ok(f, elb(f, "Action=DescribeInstanceHealth&LoadBalancerName=web"));
    assert_int_equal(count(f, "<InstanceId>"), 1);
    /* A terminated instance cannot be registered. */
    assert_ok(f, ec2(f, "Action=TerminateInstances&InstanceId.1=%s", other));
    vclock_run_due(f->app.clock);
    assert_err(f,
               elb(f,
                   "Action=RegisterInstancesWithLoadBalancer&LoadBalancerName=web"
                   "&Instances.member.1.InstanceId=%s",
                   other),
               400, "InvalidInstance");
}

static void
test_health_state_machine_thresholds(void **state)
{
    (void)state;
    struct elb_instance_row r;
    memset(&r, 0, sizeof(r));
    r.registered = true;
    elb_health_apply(&r, true, 3, 2);
    elb_health_apply(&r, true, 3, 2);
    assert_false(r.in_service);
    elb_health_apply(&r, false, 3, 2); /* a failure resets the passing streak */
    elb_health_apply(&r, true, 3, 2);
    elb_health_apply(&r, true, 3, 2);
    assert_false(r.in_service);
    elb_health_apply(&r, true, 3, 2);
    assert_true(r.in_service);
    elb_health_apply(&r, false, 3, 2);
    assert_true(r.in_service); /* one failure is not enough */
    elb_health_apply(&r, true, 3, 2);
    elb_health_apply(&r, false, 3, 2);
    assert_true(r.in_service);
    elb_health_apply(&r, false, 3, 2);
    assert_false(r.in_service);
    assert_int_equal(r.fail_streak, 2);
    assert_int_equal(r.checks, 10);
}

static void
test_target_parse(void **state)
{
    (void)state;
    struct elb_target t;
    assert_int_equal(elb_target_parse("HTTP:8080/health/check", &t), 0);
    assert_string_equal(t.protocol, "HTTP");
    assert_int_equal(t.port, 8080);
    assert_string_equal(t.path, "/health/check");
    assert_int_equal(elb_target_parse("tcp:22", &t), 0);
    assert_string_equal(t.protocol, "TCP");
    assert_int_equal(elb_target_parse("HTTP:80", &t), -1);
    assert_int_equal(elb_target_parse("TCP:80/x", &t), -1);
    assert_int_equal(elb_target_parse("UDP:53", &t), -1);
    assert_int_equal(elb_target_parse("HTTP:0/", &t), -1);
    assert_int_equal(elb_target_parse("HTTP:70000/", &t), -1);
    assert_int_equal(elb_target_parse("nonsense", &t), -1);
}

static void
test_configure_health_check(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    configure_fast_checks(f, "web");
    assert_string_equal(first(f, "Target"), "HTTP:80/health");
    assert_string_equal(first(f, "HealthyThreshold"), "3");
    assert_err(f,
               elb(f, "Action=ConfigureHealthCheck&LoadBalancerName=web"
                      "&HealthCheck.Target=HTTP:80&HealthCheck.Interval=5"
                      "&HealthCheck.Timeout=2&HealthCheck.UnhealthyThreshold=2"
                      "&HealthCheck.HealthyThreshold=2"),
               400, "ValidationError");
    assert_err(f,
               elb(f, "Action=ConfigureHealthCheck&LoadBalancerName=web"
                      "&HealthCheck.Target=TCP:80&HealthCheck.Interval=5"
                      "&HealthCheck.Timeout=5&HealthCheck.UnhealthyThreshold=2"
                      "&HealthCheck.HealthyThreshold=2"),
               400, "ValidationError");
    /* The model's ranges (Interval 5-300) are checked before the handler. */
    assert_err(f,
               elb(f, "Action=ConfigureHealthCheck&LoadBalancerName=web"
                      "&HealthCheck.Target=TCP:80&HealthCheck.Interval=1"
                      "&HealthCheck.Timeout=2&HealthCheck.UnhealthyThreshold=2"
                      "&HealthCheck.HealthyThreshold=2"),
               400, "ValidationError");
    assert_ok(f, elb(f, "Action=DescribeLoadBalancers"));
    assert_string_equal(first(f, "Target"), "HTTP:80/health");
}

static void
test_health_rounds_in_and_out_of_service(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    configure_fast_checks(f, "web");
    char a[32];
    run_in(f, "us-east-1a", a);
    assert_ok(f, elb(f,
                     "Action=RegisterInstancesWithLoadBalancer&LoadBalancerName=web"
                     "&Instances.member.1.InstanceId=%s",
                     a));
    round_with(f, true);
    assert_int_equal(probes_started, 1);
    assert_string_equal(health(f, "web", a),
                        "OutOfService|Instance|Instance has not passed the configured "
                        "HealthyThreshold number of health checks consecutively.");
    assert_int_equal(elb_api_in_service(&(struct aws_call){ .app = &f->app,
                                                            .region = "us-east-1",
                                                            .account_id = "123456789012",
                                                            .now_ms = vclock_now(f->app.clock) },
                                        "web", a),
                     0);
    round_with(f, true);
    round_with(f, true);
    assert_string_equal(health(f, "web", a), "InService|N/A|N/A");
    round_with(f, false);
    assert_string_equal(health(f, "web", a), "InService|N/A|N/A");
    round_with(f, false);
    assert_string_equal(health(f, "web", a),
                        "OutOfService|Instance|Instance has failed at least the "
                        "UnhealthyThreshold number of health checks consecutively.");
}

static void
test_probe_in_flight_does_not_pile_up_and_times_out(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    configure_fast_checks(f, "web");
    char a[32];
    run_in(f, "us-east-1a", a);
    assert_ok(f, elb(f,
                     "Action=RegisterInstancesWithLoadBalancer&LoadBalancerName=web"
                     "&Instances.member.1.InstanceId=%s",
                     a));
    vclock_advance(f->app.clock, 5000);
    assert_int_equal(n_probes, 1);
    /* Its virtual Timeout passes, but it still has its real grace: it stays in flight and
       the next rounds start no second probe. */
    vclock_advance(f->app.clock, 10000);
    assert_int_equal(n_probes, 1);
    assert_int_equal(probes_started, 1);
    assert_string_equal(health(f, "web", a),
                        "OutOfService|ELB|Instance registration is still in progress.");
    /* The real grace runs out too: a failed check. */
    elb_probe_real_expired(probes[0]);
    assert_int_equal(n_probes, 0);
    assert_string_equal(health(f, "web", a),
                        "OutOfService|Instance|Instance has not passed the configured "
                        "HealthyThreshold number of health checks consecutively.");
    /* The next round probes again. */
    vclock_advance(f->app.clock, 5000);
    assert_int_equal(probes_started, 2);
}

static void
test_health_fail_fault_fails_checks_without_probing(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    configure_fast_checks(f, "web");
    char a[32];
    run_in(f, "us-east-1a", a);
    assert_ok(f, elb(f,
                     "Action=RegisterInstancesWithLoadBalancer&LoadBalancerName=web"
                     "&Instances.member.1.InstanceId=%s",
                     a));
    for (int i = 0; i < 3; i++)
        round_with(f, true);
    assert_string_equal(health(f, "web", a), "InService|N/A|N/A");
    struct aws_call c = { .app = &f->app,
                          .region = "us-east-1",
                          .account_id = "123456789012",
                          .now_ms = vclock_now(f->app.clock) };
    cJSON *in = cJSON_CreateObject(), *out = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "action", "health-fail");
    cJSON_AddStringToObject(in, "instance_id", a);
    struct aws_err err;
    aws_err_clear(&err);
    assert_int_equal(ec2_instances_action(&c, "faults", in, out, &err), 1);
    cJSON_Delete(in);
    cJSON_Delete(out);
    size_t before = probes_started;
    round_with(f, true);
    round_with(f, true);
    assert_int_equal(probes_started, before);
    assert_string_equal(health(f, "web", a),
                        "OutOfService|Instance|Instance has failed at least the "
                        "UnhealthyThreshold number of health checks consecutively.");
}

static void
test_draining_keeps_instance_until_timeout(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    assert_ok(f, elb(f, "Action=ModifyLoadBalancerAttributes&LoadBalancerName=web"
                        "&LoadBalancerAttributes.ConnectionDraining.Enabled=true"
                        "&LoadBalancerAttributes.ConnectionDraining.Timeout=30"));
    char a[32];
    run_in(f, "us-east-1a", a);
    assert_ok(f, elb(f,
                     "Action=RegisterInstancesWithLoadBalancer&LoadBalancerName=web"
                     "&Instances.member.1.InstanceId=%s",
                     a));
    struct aws_call c = { .app = &f->app,
                          .region = "us-east-1",
                          .account_id = "123456789012",
                          .now_ms = vclock_now(f->app.clock) };
    struct aws_err err;
    int64_t drain = -1;
    assert_int_equal(db_begin(f->app.db, true), 0);
    assert_int_equal(elb_api_deregister(&c, "web", a, &drain, &err), 0);
    assert_int_equal(db_commit(f->app.db), 0);
    assert_int_equal(drain, 30000);
    assert_string_equal(health(f, "web", a),
                        "InService|N/A|Instance deregistration currently in progress.");
    elb_dataplane_sync(&f->app);
    struct elb_pool *p = elb_dataplane_pool("us-east-1", "web");
    assert_non_null(p);
    assert_int_equal(p->n, 1);
    assert_true(p->b[0].draining);
    assert_false(p->b[0].routable);
    vclock_advance(f->app.clock, 30000);
    assert_string_equal(health(f, "web", a),
                        "OutOfService|N/A|Instance is not currently registered with the "
                        "LoadBalancer.");
    elb_dataplane_sync(&f->app);
    p = elb_dataplane_pool("us-east-1", "web");
    assert_int_equal(p->n, 0);
}

static void
test_internal_api(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    char dns[160];
    snprintf(dns, sizeof(dns), "%s", first(f, "DNSName"));
    char a[32];
    run_in(f, "us-east-1a", a);
    struct aws_call c = { .app = &f->app,
                          .region = "us-east-1",
                          .account_id = "123456789012",
                          .now_ms = vclock_now(f->app.clock) };
    struct aws_err err;
    aws_err_clear(&err);
    assert_int_equal(db_begin(f->app.db, true), 0);
    assert_true(elb_api_exists(&c, "web"));
    assert_false(elb_api_exists(&c, "nope"));
    assert_int_equal(elb_api_register(&c, "nope", a, &err), -1);
    assert_string_equal(err.code, "LoadBalancerNotFound");
    assert_int_equal(elb_api_register(&c, "web", "i-0123456789abcdef0", &err), -1);
    assert_string_equal(err.code, "InvalidInstance");
    assert_int_equal(elb_api_register(&c, "web", a, &err), 0);
    assert_int_equal(elb_api_register(&c, "web", a, &err), 0);
    assert_int_equal(elb_api_in_service(&c, "web", a), 0);
    assert_int_equal(elb_api_in_service(&c, "web", "i-0123456789abcdef0"), -1);
    char name[40];
    char upper[170];
    snprintf(upper, sizeof(upper), "%s.", dns);
    for (char *p = upper; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    assert_int_equal(elb_api_find_by_dns(&c, upper, name, sizeof(name)), 1);
    assert_string_equal(name, "web");
    assert_int_equal(elb_api_find_by_dns(&c, "nope.example.com", name, sizeof(name)), 0);
    int64_t drain = -1;
    assert_int_equal(elb_api_deregister(&c, "web", a, &drain, &err), 0);
    assert_int_equal(drain, 0);
    assert_int_equal(elb_api_in_service(&c, "web", a), -1);
    assert_int_equal(elb_api_deregister(&c, "web", a, &drain, &err), 0);
    assert_int_equal(db_commit(f->app.db), 0);
}

/* ---- routing ---- */

static void
pool_add(struct elb_pool *p, const char *id, const char *az, bool routable)
{
    p->b = xrealloc(p->b, (p->n + 1) * sizeof(*p->b));
    struct elb_backend *b = &p->b[p->n++];
    memset(b, 0, sizeof(*b));
    snprintf(b->id, sizeof(b->id), "%s", id);
    snprintf(b->az, sizeof(b->az), "%s", az);
    b->routable = routable;
}

static void
test_round_robin_cross_zone(void **state)
{
    (void)state;
    struct elb_pool p;
    memset(&p, 0, sizeof(p));
    assert_int_equal(elb_pool_pick(&p), -1);
    p.cross_zone = true;
    pool_add(&p, "i-a1", "us-east-1a", true);
    pool_add(&p, "i-a2", "us-east-1a", true);
    pool_add(&p, "i-b1", "us-east-1b", true);
    pool_add(&p, "i-x", "us-east-1b", false);
    int hits[4] = { 0 };
    for (int i = 0; i < 30; i++)
        hits[elb_pool_pick(&p)]++;
    assert_int_equal(hits[0], 10);
    assert_int_equal(hits[1], 10);
    assert_int_equal(hits[2], 10);
    assert_int_equal(hits[3], 0);
    for (size_t i = 0; i < p.n; i++)
        p.b[i].routable = false;
    assert_int_equal(elb_pool_pick(&p), -1);
    free(p.b);
}

static void
test_round_robin_per_zone_first(void **state)
{
    (void)state;
    struct elb_pool p;
    memset(&p, 0, sizeof(p));
    p.cross_zone = false;
    pool_add(&p, "i-a1", "us-east-1a", true);
    pool_add(&p, "i-a2", "us-east-1a", true);
    pool_add(&p, "i-a3", "us-east-1a", true);
    pool_add(&p, "i-b1", "us-east-1b", true);
    pool_add(&p, "i-c1", "us-east-1c", false);
    int hits[5] = { 0 };
    for (int i = 0; i < 60; i++)
        hits[elb_pool_pick(&p)]++;
    /* Half the traffic per zone with an InService instance, then split within the zone. */
    assert_int_equal(hits[3], 30);
    assert_int_equal(hits[0], 10);
    assert_int_equal(hits[1], 10);
    assert_int_equal(hits[2], 10);
    assert_int_equal(hits[4], 0);
    free(p.b);
}

static void
test_dataplane_without_loop_has_no_listener(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    elb_dataplane_sync(&f->app);
    cJSON *status = cJSON_CreateObject();
    elb_service.hooks->status(&f->app, status);
    const cJSON *lbs = cJSON_GetObjectItemCaseSensitive(status, "load_balancers");
    assert_int_equal(cJSON_GetArraySize(lbs), 1);
    const cJSON *lb = cJSON_GetArrayItem(lbs, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(lb, "name")->valuestring, "web");
    const cJSON *l = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(lb, "listeners"), 0);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(l, "load_balancer_port")->valueint, 80);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(l, "host_port")->valueint, 0);
    cJSON_Delete(status);
}

/* The host port of listener lb_port of load balancer name, as the status shows it (-1: none). */
static int
host_port_of(struct fixture *f, const char *name, int lb_port)
{
    cJSON *status = cJSON_CreateObject();
    elb_service.hooks->status(&f->app, status);
    int port = -1;
    const cJSON *lb, *l;
    cJSON_ArrayForEach(lb, cJSON_GetObjectItemCaseSensitive(status, "load_balancers"))
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(lb, "name")->valuestring, name) != 0)
            continue;
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(lb, "listeners"))
        {
            if (cJSON_GetObjectItemCaseSensitive(l, "load_balancer_port")->valueint == lb_port)
                port = cJSON_GetObjectItemCaseSensitive(l, "host_port")->valueint;
        }
    }
    cJSON_Delete(status);
    return port;
}

static void
test_host_port_tag_pins_listener(void **state)
{
    struct fixture *f = *state;
#define create                                                                                     \
    "Action=CreateLoadBalancer&LoadBalancerName=%s"                                                \
    "&Listeners.member.1.Protocol=HTTP&Listeners.member.1.LoadBalancerPort=80"                     \
    "&Listeners.member.1.InstancePort=80&AvailabilityZones.member.1=us-east-1a"                    \
    "&Tags.member.1.Key=fogbank:host-port:%s&Tags.member.1.Value=%s"
    assert_ok(f, elb(f, create, "web", "80", "18080"));
    assert_int_equal(host_port_of(f, "web", 80), 18080);
    /* Malformed, out of range, naming no listener, held by another listener: refused, and
       the load balancer is not created. */
    assert_err(f, elb(f, create, "bad", "80", "http"), 400, "ValidationError");
    assert_true(has(f, "fogbank pins a listener with"));
    assert_err(f, elb(f, create, "bad", "80", "70000"), 400, "ValidationError");
    assert_err(f, elb(f, create, "bad", "x", "18081"), 400, "ValidationError");
    assert_err(f, elb(f, create, "bad", "81", "18081"), 400, "ListenerNotFound");
    assert_err(f, elb(f, create, "bad", "80", "18080"), 400, "ValidationError");
    assert_true(has(f, "The host port 18080 is in use by listener 80 of load balancer"));
    assert_err(f, elb(f, "Action=DescribeLoadBalancers&LoadBalancerNames.member.1=bad"), 400,
               "LoadBalancerNotFound");
    /* AddTags re-pins; a bad one changes neither the tags nor the port. */
    assert_ok(f, elb(f, "Action=AddTags&LoadBalancerNames.member.1=web"
                        "&Tags.member.1.Key=fogbank:host-port:80&Tags.member.1.Value=18082"));
    assert_int_equal(host_port_of(f, "web", 80), 18082);
    assert_err(f,
               elb(f, "Action=AddTags&LoadBalancerNames.member.1=web"
                      "&Tags.member.1.Key=fogbank:host-port:81&Tags.member.1.Value=18083"),
               400, "ListenerNotFound");
    assert_ok(f, elb(f, "Action=DescribeTags&LoadBalancerNames.member.1=web"));
    assert_false(has(f, "fogbank:host-port:81"));
    create_lb(f, "two");
    assert_err(f,
               elb(f, "Action=AddTags&LoadBalancerNames.member.1=web"
                      "&LoadBalancerNames.member.2=two"
                      "&Tags.member.1.Key=fogbank:host-port:80&Tags.member.1.Value=18084"),
               400, "ValidationError");
    /* A listener created again takes the port its tag names. */
    assert_ok(f, elb(f, "Action=DeleteLoadBalancerListeners&LoadBalancerName=web"
                        "&LoadBalancerPorts.member.1=80"));
    assert_int_equal(host_port_of(f, "web", 80), -1);
    assert_ok(f, elb(f, "Action=CreateLoadBalancerListeners&LoadBalancerName=web"
                        "&Listeners.member.1.Protocol=HTTP&Listeners.member.1.LoadBalancerPort=80"
                        "&Listeners.member.1.InstancePort=80"));
    assert_int_equal(host_port_of(f, "web", 80), 18082);
#undef create
}

/* POST /_fogbank/elb through the service's action hook, in its own transaction. */
static int
pin_action(struct fixture *f, const char *json, cJSON **out, struct aws_err *err)
{
    cJSON *in = cJSON_Parse(json);
    assert_non_null(in);
    struct aws_call c;
    elb_internal_call(&f->app, "us-east-1", &c);
    *out = cJSON_CreateObject();
    aws_err_clear(err);
    assert_int_equal(db_begin(f->app.db, true), 0);
    int rc = elb_service.hooks->action(&c, "elb", in, *out, err);
    if (rc == 1)
        assert_int_equal(db_commit(f->app.db), 0);
    else
        db_rollback(f->app.db);
    cJSON_Delete(in);
    return rc;
}

static void
test_pin_action_and_its_errors(void **state)
{
    struct fixture *f = *state;
    create_lb(f, "web");
    create_lb(f, "other");
    cJSON *out;
    struct aws_err err;
    assert_int_equal(pin_action(f,
                                "{\"action\":\"pin\",\"load_balancer\":\"web\","
                                "\"load_balancer_port\":80,\"host_port\":18090}",
                                &out, &err),
                     1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(out, "host_port")->valueint, 18090);
    assert_true(str_starts(cJSON_GetObjectItemCaseSensitive(out, "dns_name")->valuestring, "web-"));
    cJSON_Delete(out);
    assert_int_equal(host_port_of(f, "web", 80), 18090);
    static const struct {
        const char *json; /* the request */
        const char *code; /* the error it gets */
    } bad[] = {
        { "{\"action\":\"pin\",\"load_balancer\":\"other\",\"load_balancer_port\":80,"
          "\"host_port\":18090}",
          "ValidationError" },
        { "{\"action\":\"pin\",\"load_balancer\":\"web\",\"load_balancer_port\":80,"
          "\"host_port\":0}",
          "ValidationError" },
        { "{\"action\":\"pin\",\"load_balancer\":\"web\",\"load_balancer_port\":81,"
          "\"host_port\":18091}",
          "ListenerNotFound" },
        { "{\"action\":\"pin\",\"load_balancer\":\"nope\",\"load_balancer_port\":80,"
          "\"host_port\":18091}",
          "LoadBalancerNotFound" },
        { "{\"action\":\"pin\",\"load_balancer\":\"web\"}", "ValidationError" },
        { "{\"action\":\"unpin\"}", "ValidationError" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(pin_action(f, bad[i].json, &out, &err), -1);
        assert_string_equal(err.code, bad[i].code);
        cJSON_Delete(out);
    }
    assert_int_equal(host_port_of(f, "web", 80), 18090);
    assert_int_equal(host_port_of(f, "other", 80), 0);
    /* Another kind is not the service's. */
    struct aws_call c;
    elb_internal_call(&f->app, "us-east-1", &c);
    cJSON *in = cJSON_Parse("{\"action\":\"pin\"}");
    out = cJSON_CreateObject();
    assert_int_equal(elb_service.hooks->action(&c, "faults", in, out, &err), 0);
    cJSON_Delete(in);
    cJSON_Delete(out);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_describe_defaults),
        T(test_create_errors_change_nothing),
        T(test_too_many_load_balancers),
        T(test_not_found_everywhere_and_delete_idempotent),
        T(test_listeners),
        T(test_zones_and_subnets),
        T(test_attributes),
        T(test_tags),
        T(test_account_limits),
        T(test_register_describe_deregister),
        T(test_health_state_machine_thresholds),
        T(test_target_parse),
        T(test_configure_health_check),
        T(test_health_rounds_in_and_out_of_service),
        T(test_probe_in_flight_does_not_pile_up_and_times_out),
        T(test_health_fail_fault_fails_checks_without_probing),
        T(test_draining_keeps_instance_until_timeout),
        T(test_internal_api),
        T(test_round_robin_cross_zone),
        T(test_round_robin_per_zone_first),
        T(test_dataplane_without_loop_has_no_listener),
        T(test_host_port_tag_pins_listener),
        T(test_pin_action_and_its_errors),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
