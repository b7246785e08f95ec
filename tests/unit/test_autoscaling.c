/*
 * Auto Scaling groups through the router, in-process: an in-memory state, a frozen virtual
 * clock advanced by hand (the reconciler's timers fire as it moves), a fixed seed and the
 * supervisor's fake backend, so EC2 instances "boot" at once without processes. Covers the
 * group-side operations' happy paths and errors and the reconciler: zone balance, a zone
 * going down and coming back, unhealthy replacement and the grace period, lifecycle hooks
 * (timeout, heartbeat, completion), termination policies, protection, suspended processes.
 */
#include "emulator/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emulator/app.h"
#include "emulator/buf.h"
#include "emulator/clock.h"
#include "emulator/events.h"
#include "emulator/ids.h"
#include "emulator/instances/sup.h"
#include "emulator/model.h"
#include "emulator/router.h"
#include "services/autoscaling/autoscaling.h"
#include "services/ec2/instances.h"
#include "services/elb/elb.h"
#include "services/elb/elb_internal.h"
#include "state/db.h"

#define START_MS 1795000000000LL

struct fixture {
    struct app app;   /* the app under test */
    char dir[64];     /* temporary data directory */
    char ami[32];     /* a built-in image id */
    bool elb_started; /* the ELB service's hooks run (stop them at teardown) */
};

/* ---- a fake ELB prober: health checks wait here until the test answers them ---- */

static struct elb_probe *probes[64];
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
    for (size_t i = 0; i < n_probes; i++) {
        if (probes[i] == p) {
            probes[i] = probes[--n_probes];
            return;
        }
    }
}

static const struct elb_prober fake_prober = { fake_probe_start, fake_probe_cancel };

static void
answer_probes(bool ok)
{
    while (n_probes) {
        struct elb_probe *p = probes[--n_probes];
        elb_probe_result(p, ok);
    }
}

/* One instance of a group as DescribeAutoScalingInstances reports it. */
struct member {
    char id[32];     /* InstanceId */
    char az[32];     /* AvailabilityZone */
    char state[32];  /* LifecycleState */
    char health[16]; /* HealthStatus */
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
post(struct fixture *f, struct http_resp *resp, const char *service, const char *path,
     const char *body)
{
    char auth[256];
    snprintf(auth, sizeof(auth),
             "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/%s/aws4_request, "
             "SignedHeaders=host, Signature=00",
             service);
    struct http_header h[] = {
        { "Authorization", auth },
        { "Content-Type",
          body[0] == '{' ? "application/json" : "application/x-www-form-urlencoded" },
    };
    struct http_req req = { .method = "POST",
                            .target = path,
                            .headers = h,
                            .n_headers = ARRAY_SIZE(h),
                            .body = body,
                            .body_len = strlen(body),
                            .peer = "127.0.0.1" };
    http_resp_init(resp);
    router_handle(&f->app, &req, resp);
}

static void as(struct fixture *f, struct http_resp *resp, const char *fmt, ...) FB_PRINTF(3, 4);

/* An Auto Scaling query call: "Action=X&..." (the Version is added). */
static void
as(struct fixture *f, struct http_resp *resp, const char *fmt, ...)
{
    struct buf body = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&body, fmt, ap);
    va_end(ap);
    buf_adds(&body, "&Version=2011-01-01");
    post(f, resp, "autoscaling", "/", body.data);
    buf_release(&body);
}

static void ec2(struct fixture *f, struct http_resp *resp, const char *fmt, ...) FB_PRINTF(3, 4);

static void
ec2(struct fixture *f, struct http_resp *resp, const char *fmt, ...)
{
    struct buf body = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&body, fmt, ap);
    va_end(ap);
    buf_adds(&body, "&Version=2016-11-15");
    post(f, resp, "ec2", "/", body.data);
    buf_release(&body);
}

static void ok(struct fixture *f, const char *fmt, ...) FB_PRINTF(2, 3);

/* An Auto Scaling call that must succeed. */
static void
ok(struct fixture *f, const char *fmt, ...)
{
    struct buf body = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&body, fmt, ap);
    va_end(ap);
    struct http_resp resp;
    as(f, &resp, "%s", body.data);
    if (resp.status != 200)
        fail_msg("%s: want 200, got %d %s", body.data, resp.status, resp.body.data);
    http_resp_release(&resp);
    buf_release(&body);
}

static void fails(struct fixture *f, const char *code, const char *message, const char *fmt, ...)
        FB_PRINTF(4, 5);

/* An Auto Scaling call that must fail with code (HTTP 400) and a message containing
   `message`. */
static void
fails(struct fixture *f, const char *code, const char *message, const char *fmt, ...)
{
    struct buf body = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&body, fmt, ap);
    va_end(ap);
    struct http_resp resp;
    as(f, &resp, "%s", body.data);
    char want[128];
    snprintf(want, sizeof(want), "<Code>%s</Code>", code);
    if (resp.status != 400 || !strstr(resp.body.data, want) || !strstr(resp.body.data, message))
        fail_msg("%s: want 400 %s '%s', got %d %s", body.data, code, message, resp.status,
                 resp.body.data);
    http_resp_release(&resp);
    buf_release(&body);
}

static const char *
xml_get(const char *from, const char *tag, char *out, size_t outsz)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    out[0] = '\0';
    const char *p = strstr(from, open);
    if (!p)
        return NULL;
    p += strlen(open);
    const char *q = strstr(p, close);
    if (!q)
        return NULL;
    snprintf(out, outsz, "%.*s", (int)(q - p), p);
    return q;
}

static int
count_of(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Runs every timer due now (the reconciler's zero-delay passes, the EC2 boots). */
static void
settle(struct fixture *f)
{
    for (int i = 0; i < 50 && vclock_run_due(f->app.clock) > 0; i++)
        ;
}

static void
advance(struct fixture *f, int64_t ms)
{
    vclock_advance(f->app.clock, ms);
    settle(f);
}

/* The group's instances (DescribeAutoScalingInstances), in launch order. */
static int
members(struct fixture *f, const char *group, struct member *out, int max)
{
    struct http_resp resp;
    as(f, &resp, "Action=DescribeAutoScalingInstances");
    assert_int_equal(resp.status, 200);
    int n = 0;
    const char *p = resp.body.data;
    char id[32];
    while (n < max && (p = xml_get(p, "InstanceId", id, sizeof(id))) != NULL) {
        char g[256];
        xml_get(p, "AutoScalingGroupName", g, sizeof(g));
        if (strcmp(g, group) != 0)
            continue;
        snprintf(out[n].id, sizeof(out[n].id), "%s", id);
        xml_get(p, "AvailabilityZone", out[n].az, sizeof(out[n].az));
        xml_get(p, "LifecycleState", out[n].state, sizeof(out[n].state));
        xml_get(p, "HealthStatus", out[n].health, sizeof(out[n].health));
        n++;
    }
    http_resp_release(&resp);
    return n;
}

static int
count_state(struct fixture *f, const char *group, const char *state)
{
    struct member m[32];
    int n = members(f, group, m, 32), c = 0;
    for (int i = 0; i < n; i++)
        c += strcmp(m[i].state, state) == 0;
    return c;
}

/* The newest activity's field `tag`, and the body of the whole answer for further checks. */
static void
activities(struct fixture *f, const char *group, struct buf *out)
{
    struct http_resp resp;
    as(f, &resp, "Action=DescribeScalingActivities&AutoScalingGroupName=%s", group);
    assert_int_equal(resp.status, 200);
    buf_reset(out);
    buf_adds(out, resp.body.data);
    http_resp_release(&resp);
}

static void
fault(struct fixture *f, const char *body)
{
    struct http_resp resp;
    post(f, &resp, "ec2", "/_fogbank/faults", body);
    if (resp.status != 200)
        fail_msg("fault %s: %d %s", body, resp.status, resp.body.data);
    http_resp_release(&resp);
}

static void
kill_instance(struct fixture *f, const char *id)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"action\":\"kill\",\"instance_id\":\"%s\"}", id);
    fault(f, body);
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
    f->app.events = events_new(256);
    snprintf(f->dir, sizeof(f->dir), "/tmp/fogbank-test-asg-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->app.data_dir = f->dir;
    f->app.sup = sup_new_fake(NULL, NULL, NULL);
    assert_int_equal(ec2_instances_start(&f->app, errbuf, sizeof(errbuf)), 0);
    assert_int_equal(autoscaling_start(&f->app, errbuf, sizeof(errbuf)), 0);
    struct http_resp resp;
    ec2(f, &resp, "Action=DescribeImages&Owner.1=amazon");
    assert_int_equal(resp.status, 200);
    xml_get(resp.body.data, "imageId", f->ami, sizeof(f->ami));
    assert_true(str_starts(f->ami, "ami-"));
    http_resp_release(&resp);
    ok(f,
       "Action=CreateLaunchConfiguration&LaunchConfigurationName=lc&ImageId=%s"
       "&InstanceType=t3.micro",
       f->ami);
    settle(f);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    autoscaling_stop(&f->app);
    if (f->elb_started) {
        n_probes = 0;
        elb_service.hooks->stop(&f->app);
        elb_set_prober(NULL);
    }
    ec2_instances_stop(&f->app);
    sup_free(f->app.sup);
    db_close(f->app.db);
    vclock_free(f->app.clock);
    ids_free(f->app.ids);
    events_free(f->app.events);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

#define ZONES3                                                                                     \
    "&AvailabilityZones.member.1=us-east-1a&AvailabilityZones.member.2=us-east-1b"                 \
    "&AvailabilityZones.member.3=us-east-1c"

/* A group `name` of the launch configuration over the three zones, then settled. */
static void
group(struct fixture *f, const char *name, int min, int max, int desired, const char *extra)
{
    ok(f,
       "Action=CreateAutoScalingGroup&AutoScalingGroupName=%s&LaunchConfigurationName=lc"
       "&MinSize=%d&MaxSize=%d&DesiredCapacity=%d" ZONES3 "%s",
       name, min, max, desired, extra ? extra : "");
    settle(f);
}

/* ---- launch configurations ---- */

static void
test_launch_configurations(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    fails(f, "AlreadyExists", "already exists with the name lc",
          "Action=CreateLaunchConfiguration&LaunchConfigurationName=lc&ImageId=%s"
          "&InstanceType=t3.micro",
          f->ami);
    fails(f, "ValidationError", "ImageId",
          "Action=CreateLaunchConfiguration"
          "&LaunchConfigurationName=x&InstanceType=t3.micro");
    ok(f,
       "Action=CreateLaunchConfiguration&LaunchConfigurationName=lc2&ImageId=%s"
       "&InstanceType=t3.small&SecurityGroups.member.1=default&UserData=ZWNobyBoaQ==",
       f->ami);
    as(f, &resp, "Action=DescribeLaunchConfigurations");
    assert_int_equal(resp.status, 200);
    assert_int_equal(count_of(resp.body.data, "<LaunchConfigurationName>"), 2);
    assert_non_null(strstr(resp.body.data, "<InstanceType>t3.small</InstanceType>"));
    assert_non_null(strstr(resp.body.data, "launchConfigurationName/lc2</LaunchConfigurationARN>"));
    assert_non_null(strstr(resp.body.data, "<Enabled>true</Enabled>"));
    http_resp_release(&resp);
    as(f, &resp,
       "Action=DescribeLaunchConfigurations&LaunchConfigurationNames.member.1=lc2"
       "&LaunchConfigurationNames.member.2=nope");
    assert_int_equal(count_of(resp.body.data, "<LaunchConfigurationName>"), 1);
    http_resp_release(&resp);
    as(f, &resp, "Action=DescribeLaunchConfigurations&MaxRecords=1");
    assert_int_equal(count_of(resp.body.data, "<LaunchConfigurationName>"), 1);
    assert_non_null(strstr(resp.body.data, "<NextToken>"));
    http_resp_release(&resp);

    group(f, "web", 0, 2, 0, NULL);
    fails(f, "ResourceInUse", "attached to AutoScalingGroup web",
          "Action=DeleteLaunchConfiguration&LaunchConfigurationName=lc");
    fails(f, "ValidationError", "Launch configuration nope not found",
          "Action=DeleteLaunchConfiguration&LaunchConfigurationName=nope");
    ok(f, "Action=DeleteLaunchConfiguration&LaunchConfigurationName=lc2");
    as(f, &resp, "Action=DescribeLaunchConfigurations");
    assert_int_equal(count_of(resp.body.data, "<LaunchConfigurationName>"), 1);
    http_resp_release(&resp);
}

/* ---- groups ---- */

static void
test_group_spreads_over_zones_with_tags_and_activities(void **state)
{
    struct fixture *f = *state;
    ok(f, "Action=CreateAutoScalingGroup&AutoScalingGroupName=web&LaunchConfigurationName=lc"
          "&MinSize=1&MaxSize=6&DesiredCapacity=3" ZONES3
          "&Tags.member.1.Key=team&Tags.member.1.Value=blue&Tags.member.1.PropagateAtLaunch=true"
          "&Tags.member.2.Key=cost&Tags.member.2.Value=x&Tags.member.2.PropagateAtLaunch=false");
    /* CreateAutoScalingGroup returns before anything is launched. */
    struct member m[8];
    assert_int_equal(members(f, "web", m, 8), 0);
    settle(f);
    assert_int_equal(members(f, "web", m, 8), 3);
    bool seen[3] = { false, false, false };
    for (int i = 0; i < 3; i++) {
        assert_string_equal(m[i].state, "InService");
        assert_string_equal(m[i].health, "HEALTHY");
        seen[m[i].az[strlen(m[i].az) - 1] - 'a'] = true;
    }
    assert_true(seen[0] && seen[1] && seen[2]);
    /* Past the grace period a pass over a group at steady state writes nothing. */
    advance(f, 60000);
    uint64_t changes = db_changes(f->app.db);
    advance(f, 30000);
    assert_int_equal(db_changes(f->app.db), changes);

    struct http_resp resp;
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", m[0].id);
    assert_non_null(strstr(resp.body.data, "<name>running</name>"));
    assert_non_null(strstr(resp.body.data, "<key>aws:autoscaling:groupName</key><value>web"));
    assert_non_null(strstr(resp.body.data, "<key>team</key><value>blue"));
    assert_null(strstr(resp.body.data, "<key>cost</key>"));
    http_resp_release(&resp);

    as(f, &resp, "Action=DescribeAutoScalingGroups&AutoScalingGroupNames.member.1=web");
    assert_non_null(strstr(resp.body.data, "<DesiredCapacity>3</DesiredCapacity>"));
    assert_non_null(strstr(resp.body.data, "<HealthCheckType>EC2</HealthCheckType>"));
    assert_non_null(strstr(resp.body.data, "<LifecycleState>InService</LifecycleState>"));
    assert_non_null(strstr(resp.body.data, "<HealthStatus>Healthy</HealthStatus>"));
    assert_non_null(strstr(resp.body.data, "<Key>team</Key>"));
    assert_non_null(strstr(resp.body.data, "<member>Default</member>"));
    http_resp_release(&resp);
    as(f, &resp,
       "Action=DescribeAutoScalingGroups&Filters.member.1.Name=tag:team"
       "&Filters.member.1.Values.member.1=red");
    assert_null(strstr(resp.body.data, "<AutoScalingGroupName>"));
    http_resp_release(&resp);

    struct buf a = BUF_INIT;
    activities(f, "web", &a);
    assert_int_equal(count_of(a.data, "<Description>Launching a new EC2 instance: i-"), 3);
    assert_int_equal(count_of(a.data, "<StatusCode>Successful</StatusCode>"), 3);
    assert_int_equal(count_of(a.data, "<Progress>100</Progress>"), 3);
    assert_non_null(strstr(a.data, "a user request created an AutoScalingGroup changing the "
                                   "desired capacity from 0 to 3.  At "));
    assert_non_null(strstr(a.data, "an instance was started in response to a difference "
                                   "between desired and actual capacity, increasing the "
                                   "capacity from 0 to 3."));
    buf_release(&a);

    /* The control API lists the group. */
    http_resp_init(&resp);
    struct http_req req = { .method = "GET", .target = "/_fogbank/status", .peer = "127.0.0.1" };
    router_handle(&f->app, &req, &resp);
    assert_non_null(strstr(resp.body.data, "\"autoscaling\""));
    assert_non_null(strstr(resp.body.data, "\"name\":\"web\""));
    http_resp_release(&resp);
}

static void
test_create_group_errors_change_nothing(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 0, 1, 0, NULL);
    fails(f, "AlreadyExists", "A group with the name web already exists",
          "Action=CreateAutoScalingGroup&AutoScalingGroupName=web&LaunchConfigurationName=lc"
          "&MinSize=0&MaxSize=1" ZONES3);
    fails(f, "ValidationError", "Max bound, 1, must be greater than or equal to min bound, 2",
          "Action=CreateAutoScalingGroup&AutoScalingGroupName=b&LaunchConfigurationName=lc"
          "&MinSize=2&MaxSize=1" ZONES3);
    fails(f, "ValidationError",
          "Desired capacity:5 must be between the specified min size:1 and max size:3",
          "Action=CreateAutoScalingGroup&AutoScalingGroupName=b&LaunchConfigurationName=lc"
          "&MinSize=1&MaxSize=3&DesiredCapacity=5" ZONES3);
    fails(f, "ValidationError", "Launch configuration nope not found",
          "Action=CreateAutoScalingGroup&AutoScalingGroupName=b&LaunchConfigurationName=nope"
          "&MinSize=0&MaxSize=1" ZONES3);
    fails(f, "ValidationError", "Valid requests must contain either LaunchTemplate",
          "Action=CreateAutoScalingGroup&AutoScalingGroupName=b&MinSize=0&MaxSize=1" ZONES3);
    fails(f, "ValidationError", "At least one Availability Zone or VPC Subnet is required.",
          "Action=CreateAutoScalingGroup&AutoScalingGroupName=b&LaunchConfigurationName=lc"
          "&MinSize=0&MaxSize=1");
    fails(f, "ValidationError", "us-east-1z",
          "Action=CreateAutoScalingGroup&AutoScalingGroupName=b&LaunchConfigurationName=lc"
          "&MinSize=0&MaxSize=1&AvailabilityZones.member.1=us-east-1z");
    fails(f, "ValidationError", "Termination policy &apos;Oldest&apos; is not supported",
          "Action=CreateAutoScalingGroup&AutoScalingGroupName=b&LaunchConfigurationName=lc"
          "&MinSize=0&MaxSize=1&TerminationPolicies.member.1=Oldest" ZONES3);
    fails(f, "ValidationError", "AutoScalingGroup &apos;nope&apos; not found",
          "Action=UpdateAutoScalingGroup&AutoScalingGroupName=nope&MaxSize=3");
    fails(f, "ValidationError", "Desired capacity:3 must be between",
          "Action=UpdateAutoScalingGroup&AutoScalingGroupName=web&DesiredCapacity=3");
    struct http_resp resp;
    as(f, &resp, "Action=DescribeAutoScalingGroups");
    assert_int_equal(count_of(resp.body.data, "<AutoScalingGroupName>"), 1);
    http_resp_release(&resp);
    as(f, &resp, "Action=DescribeAutoScalingGroups&AutoScalingGroupNames.member.1=b");
    assert_int_equal(resp.status, 200);
    assert_null(strstr(resp.body.data, "<AutoScalingGroupName>"));
    http_resp_release(&resp);
}

static void
test_update_group_min_raises_desired(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 0, 4, 1, NULL);
    ok(f, "Action=UpdateAutoScalingGroup&AutoScalingGroupName=web&MinSize=2"
          "&HealthCheckGracePeriod=30&DefaultCooldown=60");
    settle(f);
    assert_int_equal(count_state(f, "web", "InService"), 2);
    struct http_resp resp;
    as(f, &resp, "Action=DescribeAutoScalingGroups");
    assert_non_null(strstr(resp.body.data, "<DesiredCapacity>2</DesiredCapacity>"));
    assert_non_null(strstr(resp.body.data, "<HealthCheckGracePeriod>30<"));
    assert_non_null(strstr(resp.body.data, "<DefaultCooldown>60<"));
    http_resp_release(&resp);
    struct buf a = BUF_INIT;
    activities(f, "web", &a);
    assert_non_null(strstr(a.data, "a user request update of AutoScalingGroup constraints to "
                                   "min: 2, max: 4, desired: 2 changing the desired capacity "
                                   "from 1 to 2."));
    buf_release(&a);
}

static void
test_unhealthy_instance_is_replaced(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 1, 3, 3, NULL);
    struct member m[8];
    assert_int_equal(members(f, "web", m, 8), 3);
    kill_instance(f, m[1].id);
    advance(f, 10000);
    struct member after[8];
    int n = members(f, "web", after, 8);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++) {
        assert_string_not_equal(after[i].id, m[1].id);
        assert_string_equal(after[i].state, "InService");
    }
    /* The replacement went into the zone that lost one. */
    assert_string_equal(after[2].az, m[1].az);
    struct buf a = BUF_INIT;
    activities(f, "web", &a);
    assert_non_null(strstr(a.data, "an instance was taken out of service in response to an EC2 "
                                   "instance status check failure."));
    char want[96];
    snprintf(want, sizeof(want), "<Description>Terminating EC2 instance: %s<", m[1].id);
    assert_non_null(strstr(a.data, want));
    assert_non_null(strstr(a.data, "increasing the capacity from 2 to 3."));
    buf_release(&a);
    struct http_resp resp;
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", m[1].id);
    assert_non_null(strstr(resp.body.data, "<name>terminated</name>"));
    http_resp_release(&resp);
}

static void
test_grace_period_delays_the_status_check(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 1, 1, 1, "&HealthCheckGracePeriod=60");
    struct member m[4];
    assert_int_equal(members(f, "web", m, 4), 1);
    kill_instance(f, m[0].id);
    advance(f, 30000);
    assert_int_equal(members(f, "web", m, 4), 1);
    assert_string_equal(m[0].health, "HEALTHY");
    advance(f, 40000);
    struct member after[4];
    assert_int_equal(members(f, "web", after, 4), 1);
    assert_string_not_equal(after[0].id, m[0].id);
    /* Terminated (not running) counts at once, grace period or not. */
    struct http_resp resp;
    ec2(f, &resp, "Action=TerminateInstances&InstanceId.1=%s", after[0].id);
    http_resp_release(&resp);
    advance(f, 10000);
    struct member third[4];
    assert_int_equal(members(f, "web", third, 4), 1);
    assert_string_not_equal(third[0].id, after[0].id);
    struct buf a = BUF_INIT;
    activities(f, "web", &a);
    assert_non_null(strstr(a.data, "an EC2 health check that indicated it had been terminated "
                                   "or stopped."));
    buf_release(&a);
}

static void
test_zone_down_then_back_rebalances(void **state)
{
    struct fixture *f = *state;
    fault(f, "{\"action\":\"az-down\",\"az\":\"us-east-1a\"}");
    group(f, "web", 1, 3, 3, NULL);
    struct member m[8];
    int n = members(f, "web", m, 8);
    assert_int_equal(n, 3);
    int in_a = 0;
    for (int i = 0; i < n; i++)
        in_a += strcmp(m[i].az, "us-east-1a") == 0;
    assert_int_equal(in_a, 0);
    fault(f, "{\"action\":\"az-up\",\"az\":\"us-east-1a\"}");
    advance(f, 10000);
    advance(f, 10000);
    n = members(f, "web", m, 8);
    assert_int_equal(n, 3);
    int per[3] = { 0, 0, 0 };
    for (int i = 0; i < n; i++) {
        assert_string_equal(m[i].state, "InService");
        per[m[i].az[strlen(m[i].az) - 1] - 'a']++;
    }
    assert_int_equal(per[0], 1);
    assert_int_equal(per[1], 1);
    assert_int_equal(per[2], 1);
    struct buf a = BUF_INIT;
    activities(f, "web", &a);
    assert_non_null(strstr(a.data, "Availability Zone rebalancing"));
    assert_non_null(strstr(a.data, "<Description>Terminating EC2 instance: "));
    buf_release(&a);
}

static void
test_zone_down_replaces_its_instance_elsewhere(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 1, 3, 3, NULL);
    fault(f, "{\"action\":\"az-down\",\"az\":\"us-east-1b\"}");
    advance(f, 10000);
    struct member m[8];
    int n = members(f, "web", m, 8);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++)
        assert_string_not_equal(m[i].az, "us-east-1b");
}

/* ---- lifecycle hooks ---- */

static void
test_launch_hook_times_out_and_abandons(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 1, 1, 1,
          "&LifecycleHookSpecificationList.member.1.LifecycleHookName=deploy"
          "&LifecycleHookSpecificationList.member.1.LifecycleTransition="
          "autoscaling:EC2_INSTANCE_LAUNCHING"
          "&LifecycleHookSpecificationList.member.1.HeartbeatTimeout=600");
    struct member m[4];
    assert_int_equal(members(f, "web", m, 4), 1);
    assert_string_equal(m[0].state, "Pending:Wait");
    struct http_resp resp;
    as(f, &resp, "Action=DescribeLifecycleHooks&AutoScalingGroupName=web");
    assert_non_null(strstr(resp.body.data, "<HeartbeatTimeout>600</HeartbeatTimeout>"));
    assert_non_null(strstr(resp.body.data, "<GlobalTimeout>60000</GlobalTimeout>"));
    assert_non_null(strstr(resp.body.data, "<DefaultResult>ABANDON</DefaultResult>"));
    http_resp_release(&resp);
    http_resp_init(&resp);
    struct http_req req = { .method = "GET", .target = "/_fogbank/status", .peer = "127.0.0.1" };
    router_handle(&f->app, &req, &resp);
    assert_non_null(strstr(resp.body.data, "\"lifecycle_actions\":[{"));
    assert_non_null(strstr(resp.body.data, m[0].id));
    http_resp_release(&resp);

    advance(f, 590000);
    struct member still[4];
    assert_int_equal(members(f, "web", still, 4), 1);
    assert_string_equal(still[0].state, "Pending:Wait");
    advance(f, 60000);
    struct member after[4];
    assert_int_equal(members(f, "web", after, 4), 1);
    assert_string_not_equal(after[0].id, m[0].id);
    assert_string_equal(after[0].state, "Pending:Wait");
    struct buf a = BUF_INIT;
    activities(f, "web", &a);
    assert_non_null(strstr(a.data,
                           "Status Reason: Instance failed to complete user&apos;s Lifecycle "
                           "Action: Lifecycle Action with token "));
    assert_non_null(strstr(a.data, "was abandoned: Heartbeat Timeout"));
    buf_release(&a);
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", m[0].id);
    assert_non_null(strstr(resp.body.data, "<name>terminated</name>"));
    http_resp_release(&resp);
}

/* The control API's answer to `method` `target` (body for a POST), parsed; status into *code. */
static cJSON *
control(struct fixture *f, const char *method, const char *target, const char *body, int *code)
{
    struct http_req req = { .method = method,
                            .target = target,
                            .body = body ? body : "",
                            .body_len = body ? strlen(body) : 0,
                            .peer = "127.0.0.1" };
    struct http_resp resp;
    http_resp_init(&resp);
    router_handle(&f->app, &req, &resp);
    *code = resp.status;
    cJSON *obj = cJSON_Parse(resp.body.data);
    http_resp_release(&resp);
    assert_non_null(obj);
    return obj;
}

/* How many events of `kind` the stream holds. */
static int
count_events(struct fixture *f, const char *kind)
{
    int code, n = 0;
    cJSON *obj = control(f, "GET", "/_fogbank/events?limit=0", NULL, &code);
    assert_int_equal(code, 200);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(obj, "events"))
    {
        n += strcmp(cJSON_GetObjectItemCaseSensitive(e, "kind")->valuestring, kind) == 0;
    }
    cJSON_Delete(obj);
    return n;
}

/* The group's status item's `launches` member (a copy; the caller deletes it). */
static cJSON *
launches_of(struct fixture *f, const char *group)
{
    int code;
    cJSON *obj = control(f, "GET", "/_fogbank/status", NULL, &code);
    assert_int_equal(code, 200);
    cJSON *found = NULL;
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(
                                  cJSON_GetObjectItemCaseSensitive(obj, "autoscaling"), "groups"))
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(g, "name")->valuestring, group) == 0)
            found = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(g, "launches"), true);
    }
    cJSON_Delete(obj);
    assert_non_null(found);
    return found;
}

static double
num_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    assert_true(cJSON_IsNumber(v) || cJSON_IsBool(v));
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : v->valuedouble;
}

/*
 * A launch hook nobody completes (30 s heartbeat, ABANDON) is a launch loop: each timeout
 * terminates the instance and the group launches another. With the alarm set to 3 lost
 * launches in 1 h, the fourth loss raises one "autoscaling.launch-loop" event; the status
 * counts the launches and their billed hours; completing the action settles the group and
 * clears the alarm.
 */
static void
test_launch_loop_alarm_from_abandoned_launches(void **state)
{
    struct fixture *f = *state;
    int code;
    cJSON *cfg = control(f, "POST", "/_fogbank/autoscaling",
                         "{\"action\":\"launch-loop\",\"threshold\":3,\"window\":\"1h\"}", &code);
    assert_int_equal(code, 200);
    assert_int_equal(num_at(cfg, "threshold", NULL), 3);
    assert_int_equal(num_at(cfg, "window_s", NULL), 3600);
    cJSON_Delete(cfg);
    group(f, "loop", 1, 1, 1,
          "&LifecycleHookSpecificationList.member.1.LifecycleHookName=deploy"
          "&LifecycleHookSpecificationList.member.1.LifecycleTransition="
          "autoscaling:EC2_INSTANCE_LAUNCHING"
          "&LifecycleHookSpecificationList.member.1.HeartbeatTimeout=30");
    assert_int_equal(count_events(f, "autoscaling.launch"), 1);
    cJSON *l = launches_of(f, "loop");
    assert_int_equal(num_at(l, "total", NULL), 1);
    assert_int_equal(num_at(l, "loop", "steady"), 0);
    cJSON_Delete(l);
    /* Three losses: no alarm yet. */
    for (int i = 0; i < 3; i++)
        advance(f, 30000);
    assert_int_equal(count_events(f, "autoscaling.lifecycle-timeout"), 3);
    assert_int_equal(count_events(f, "autoscaling.launch-loop"), 0);
    /* The fourth: the alarm, once, however long the loop goes on. */
    advance(f, 30000);
    assert_int_equal(count_events(f, "autoscaling.launch-loop"), 1);
    advance(f, 30000);
    advance(f, 30000);
    assert_int_equal(count_events(f, "autoscaling.launch-loop"), 1);
    assert_int_equal(count_events(f, "autoscaling.launch"), 7);
    assert_int_equal(count_events(f, "autoscaling.terminate"), 0); /* abandoned, not retired */
    assert_int_equal(count_events(f, "autoscaling.launch-abandoned"), 6);
    l = launches_of(f, "loop");
    assert_int_equal(num_at(l, "total", NULL), 7);
    assert_int_equal(num_at(l, "terminations", NULL), 6);
    assert_int_equal(num_at(l, "loop", "alarm"), 1);
    assert_int_equal(num_at(l, "loop", "lost_in_window"), 6);
    /* The old rule: a full hour for each of the 7 launches. Per second: each lost one ran
       30 s, billed the 60 s minimum; the one still in the group too. */
    assert_int_equal(num_at(l, "billed_hours_hourly", NULL), 7);
    assert_int_equal(num_at(l, "billed_seconds_per_second", NULL), 7 * 60);
    cJSON_Delete(l);
    /* Somebody completes the action: the group settles and the alarm clears. */
    struct member m[4];
    assert_int_equal(members(f, "loop", m, 4), 1);
    ok(f,
       "Action=CompleteLifecycleAction&AutoScalingGroupName=loop&LifecycleHookName=deploy"
       "&LifecycleActionResult=CONTINUE&InstanceId=%s",
       m[0].id);
    settle(f);
    advance(f, 10000);
    assert_int_equal(count_state(f, "loop", "InService"), 1);
    assert_int_equal(count_events(f, "autoscaling.launch-loop-cleared"), 1);
    l = launches_of(f, "loop");
    assert_int_equal(num_at(l, "loop", "alarm"), 0);
    assert_int_equal(num_at(l, "loop", "steady"), 1);
    /* It keeps running: after 2 h it is billed 3 started hours, 7201+ s per second. */
    cJSON_Delete(l);
    advance(f, 7200000);
    l = launches_of(f, "loop");
    assert_int_equal(num_at(l, "billed_hours_hourly", NULL), 6 + 3);
    assert_true(num_at(l, "billed_seconds_per_second", NULL) > 6 * 60 + 7200);
    cJSON_Delete(l);
}

static void
test_launch_loop_settings_are_validated(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {
        "{\"action\":\"launch-loop\",\"threshold\":-1}",
        "{\"action\":\"launch-loop\",\"threshold\":1.5}",
        "{\"action\":\"launch-loop\",\"threshold\":\"3\"}",
        "{\"action\":\"launch-loop\",\"window\":\"soon\"}",
        "{\"action\":\"launch-loop\",\"window\":\"0s\"}",
        "{\"action\":\"launch-loop\",\"threshold\":2,\"window\":5}",
        "{\"action\":\"explode\"}",
        "{}",
    };
    int code;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        cJSON *obj = control(f, "POST", "/_fogbank/autoscaling", bad[i], &code);
        assert_int_equal(code, 400);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(obj, "error")->valuestring,
                            "BadRequest");
        cJSON_Delete(obj);
    }
    /* Nothing changed: the defaults (10 in 1 h) stand; an empty change answers them. */
    cJSON *obj = control(f, "POST", "/_fogbank/autoscaling", "{\"action\":\"launch-loop\"}", &code);
    assert_int_equal(code, 200);
    assert_int_equal(num_at(obj, "threshold", NULL), 10);
    assert_int_equal(num_at(obj, "window_s", NULL), 3600);
    cJSON_Delete(obj);
    obj = control(f, "POST", "/_fogbank/autoscaling",
                  "{\"action\":\"launch-loop\",\"window\":\"30m\"}", &code);
    assert_int_equal(code, 200);
    assert_int_equal(num_at(obj, "threshold", NULL), 10);
    assert_int_equal(num_at(obj, "window_s", NULL), 1800);
    cJSON_Delete(obj);
    /* A steady group writes no watch and raises nothing. */
    group(f, "calm", 2, 2, 2, NULL);
    advance(f, 60000);
    cJSON *l = launches_of(f, "calm");
    assert_int_equal(num_at(l, "total", NULL), 2);
    assert_int_equal(num_at(l, "terminations", NULL), 0);
    assert_int_equal(num_at(l, "loop", "steady"), 1);
    assert_int_equal(num_at(l, "loop", "alarm"), 0);
    cJSON_Delete(l);
    assert_int_equal(count_events(f, "autoscaling.launch"), 2);
    assert_int_equal(count_events(f, "autoscaling.launch-loop"), 0);
}

static void
test_complete_and_heartbeat(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 0, 2, 0, NULL);
    ok(f, "Action=PutLifecycleHook&AutoScalingGroupName=web&LifecycleHookName=h"
          "&LifecycleTransition=autoscaling:EC2_INSTANCE_LAUNCHING&HeartbeatTimeout=60"
          "&DefaultResult=CONTINUE");
    fails(f, "ValidationError", "Heartbeat timeout must be between 30 and 7200",
          "Action=PutLifecycleHook&AutoScalingGroupName=web&LifecycleHookName=h2"
          "&LifecycleTransition=autoscaling:EC2_INSTANCE_LAUNCHING&HeartbeatTimeout=5");
    fails(f, "ValidationError", "LifecycleTransition",
          "Action=PutLifecycleHook&AutoScalingGroupName=web&LifecycleHookName=h3");
    ok(f, "Action=SetDesiredCapacity&AutoScalingGroupName=web&DesiredCapacity=2");
    settle(f);
    struct member m[4];
    assert_int_equal(members(f, "web", m, 4), 2);
    assert_string_equal(m[0].state, "Pending:Wait");
    fails(f, "ValidationError", "No active Lifecycle Action found with instance ID i-0000",
          "Action=CompleteLifecycleAction&AutoScalingGroupName=web&LifecycleHookName=h"
          "&LifecycleActionResult=CONTINUE&InstanceId=i-0000");
    fails(f, "ValidationError",
          "No active Lifecycle Action found with token 12345678-1234-1234-1234-123456789012",
          "Action=CompleteLifecycleAction&AutoScalingGroupName=web&LifecycleHookName=h"
          "&LifecycleActionResult=CONTINUE&LifecycleActionToken=12345678-1234-1234-1234-123456789012");
    /* The heartbeat restarts the 60 s: at 50 + 55 s it still waits. */
    advance(f, 50000);
    ok(f,
       "Action=RecordLifecycleActionHeartbeat&AutoScalingGroupName=web&LifecycleHookName=h"
       "&InstanceId=%s",
       m[0].id);
    advance(f, 30000);
    /* The other one timed out with DefaultResult CONTINUE and went into service. */
    struct member now[4];
    assert_int_equal(members(f, "web", now, 4), 2);
    assert_string_equal(now[0].state, "Pending:Wait");
    assert_string_equal(now[1].state, "InService");
    ok(f,
       "Action=CompleteLifecycleAction&AutoScalingGroupName=web&LifecycleHookName=h"
       "&LifecycleActionResult=CONTINUE&InstanceId=%s",
       m[0].id);
    settle(f);
    assert_int_equal(count_state(f, "web", "InService"), 2);
    ok(f, "Action=DeleteLifecycleHook&AutoScalingGroupName=web&LifecycleHookName=h");
    fails(f, "ValidationError", "No Lifecycle Hook found",
          "Action=DeleteLifecycleHook&AutoScalingGroupName=web&LifecycleHookName=h");
}

static void
test_terminate_hook_holds_then_lets_go(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 0, 2, 1, NULL);
    ok(f, "Action=PutLifecycleHook&AutoScalingGroupName=web&LifecycleHookName=bye"
          "&LifecycleTransition=autoscaling:EC2_INSTANCE_TERMINATING&HeartbeatTimeout=300");
    struct member m[4];
    assert_int_equal(members(f, "web", m, 4), 1);
    ok(f, "Action=SetDesiredCapacity&AutoScalingGroupName=web&DesiredCapacity=0");
    settle(f);
    assert_int_equal(members(f, "web", m, 4), 1);
    assert_string_equal(m[0].state, "Terminating:Wait");
    /* ABANDON on a terminating instance lets it terminate too. */
    ok(f,
       "Action=CompleteLifecycleAction&AutoScalingGroupName=web&LifecycleHookName=bye"
       "&LifecycleActionResult=ABANDON&InstanceId=%s",
       m[0].id);
    settle(f);
    advance(f, 10000);
    assert_int_equal(members(f, "web", m, 4), 0);
}

/* ---- termination policies and protection ---- */

static void
test_scale_in_oldest_and_newest_instance(void **state)
{
    struct fixture *f = *state;
    group(f, "old", 0, 6, 3, "&TerminationPolicies.member.1=OldestInstance");
    group(f, "new", 0, 6, 3, "&TerminationPolicies.member.1=NewestInstance");
    struct member first_old[8], first_new[8];
    assert_int_equal(members(f, "old", first_old, 8), 3);
    assert_int_equal(members(f, "new", first_new, 8), 3);
    advance(f, 60000);
    ok(f, "Action=SetDesiredCapacity&AutoScalingGroupName=old&DesiredCapacity=6");
    ok(f, "Action=SetDesiredCapacity&AutoScalingGroupName=new&DesiredCapacity=6");
    settle(f);
    assert_int_equal(count_state(f, "old", "InService"), 6);
    ok(f, "Action=SetDesiredCapacity&AutoScalingGroupName=old&DesiredCapacity=3");
    ok(f, "Action=SetDesiredCapacity&AutoScalingGroupName=new&DesiredCapacity=3");
    settle(f);
    advance(f, 10000);
    struct member m[8];
    /* OldestInstance: the first three went (one per zone, balance first). */
    int n = members(f, "old", m, 8);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 3; k++)
            assert_string_not_equal(m[i].id, first_old[k].id);
    /* NewestInstance: the first three stayed. */
    n = members(f, "new", m, 8);
    assert_int_equal(n, 3);
    for (int k = 0; k < 3; k++)
        assert_string_equal(m[k].id, first_new[k].id);
    struct buf a = BUF_INIT;
    activities(f, "old", &a);
    assert_non_null(strstr(a.data, "shrinking the capacity from 6 to 3.  At "));
    assert_non_null(strstr(a.data, "was selected for termination."));
    assert_non_null(strstr(a.data, "a user request explicitly set group desired capacity "
                                   "changing the desired capacity from 6 to 3."));
    buf_release(&a);
}

static void
test_default_policy_balances_zones_and_protection_holds(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 0, 6, 6, NULL);
    struct member m[8];
    assert_int_equal(members(f, "web", m, 8), 6);
    /* Protect everything in us-east-1a. */
    struct buf ids = BUF_INIT;
    int k = 0;
    for (int i = 0; i < 6; i++)
        if (strcmp(m[i].az, "us-east-1a") == 0)
            buf_addf(&ids, "&InstanceIds.member.%d=%s", ++k, m[i].id);
    assert_int_equal(k, 2);
    ok(f, "Action=SetInstanceProtection&AutoScalingGroupName=web&ProtectedFromScaleIn=true%s",
       ids.data);
    buf_release(&ids);
    fails(f, "ValidationError", "is not part of Auto Scaling group web",
          "Action=SetInstanceProtection&AutoScalingGroupName=web&ProtectedFromScaleIn=true"
          "&InstanceIds.member.1=i-0123456789abcdef0");
    ok(f, "Action=SetDesiredCapacity&AutoScalingGroupName=web&DesiredCapacity=2");
    settle(f);
    advance(f, 10000);
    int n = members(f, "web", m, 8);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++)
        assert_string_equal(m[i].az, "us-east-1a");
}

/* ---- instances by hand ---- */

static void
test_set_desired_and_terminate_instance(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 1, 3, 2, NULL);
    fails(f, "ValidationError", "below min value 1",
          "Action=SetDesiredCapacity&AutoScalingGroupName=web&DesiredCapacity=0");
    fails(f, "ValidationError", "above max value 3",
          "Action=SetDesiredCapacity&AutoScalingGroupName=web&DesiredCapacity=4");
    fails(f, "ValidationError", "AutoScalingGroup &apos;x&apos; not found",
          "Action=SetDesiredCapacity&AutoScalingGroupName=x&DesiredCapacity=1");
    struct member m[4];
    assert_int_equal(members(f, "web", m, 4), 2);
    fails(f, "ValidationError", "No managed instance found for instance ID: i-0123456789abcdef0",
          "Action=TerminateInstanceInAutoScalingGroup&InstanceId=i-0123456789abcdef0"
          "&ShouldDecrementDesiredCapacity=true");
    struct http_resp resp;
    as(f, &resp,
       "Action=TerminateInstanceInAutoScalingGroup&InstanceId=%s"
       "&ShouldDecrementDesiredCapacity=true",
       m[0].id);
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body.data, "<Description>Terminating EC2 instance: "));
    assert_non_null(strstr(resp.body.data, "shrinking the capacity from 2 to 1."));
    http_resp_release(&resp);
    settle(f);
    advance(f, 10000);
    assert_int_equal(members(f, "web", m, 4), 1);
    fails(f, "ValidationError", "Currently, desiredSize equals minSize (1).",
          "Action=TerminateInstanceInAutoScalingGroup&InstanceId=%s"
          "&ShouldDecrementDesiredCapacity=true",
          m[0].id);
    /* Without decrementing, a replacement comes. */
    ok(f,
       "Action=TerminateInstanceInAutoScalingGroup&InstanceId=%s"
       "&ShouldDecrementDesiredCapacity=false",
       m[0].id);
    settle(f);
    advance(f, 10000);
    struct member after[4];
    assert_int_equal(members(f, "web", after, 4), 1);
    assert_string_not_equal(after[0].id, m[0].id);
    assert_string_equal(after[0].state, "InService");
}

static void
test_set_instance_health(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 1, 1, 1, "&HealthCheckGracePeriod=300");
    struct member m[4];
    assert_int_equal(members(f, "web", m, 4), 1);
    fails(f, "ValidationError", "Healthy and Unhealthy",
          "Action=SetInstanceHealth&InstanceId=%s&HealthStatus=Sick", m[0].id);
    /* Inside the grace period, respected by default: nothing happens. */
    ok(f, "Action=SetInstanceHealth&InstanceId=%s&HealthStatus=Unhealthy", m[0].id);
    settle(f);
    struct member same[4];
    assert_int_equal(members(f, "web", same, 4), 1);
    assert_string_equal(same[0].id, m[0].id);
    assert_string_equal(same[0].health, "HEALTHY");
    ok(f,
       "Action=SetInstanceHealth&InstanceId=%s&HealthStatus=Unhealthy"
       "&ShouldRespectGracePeriod=false",
       m[0].id);
    settle(f);
    advance(f, 10000);
    struct member after[4];
    assert_int_equal(members(f, "web", after, 4), 1);
    assert_string_not_equal(after[0].id, m[0].id);
    struct buf a = BUF_INIT;
    activities(f, "web", &a);
    assert_non_null(strstr(a.data, "in response to a user health-check."));
    buf_release(&a);
}

static void
test_suspended_processes(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 1, 2, 2, NULL);
    fails(f, "ValidationError", "Process type Sleep is not valid",
          "Action=SuspendProcesses&AutoScalingGroupName=web&ScalingProcesses.member.1=Sleep");
    ok(f, "Action=SuspendProcesses&AutoScalingGroupName=web&ScalingProcesses.member.1=Launch");
    struct http_resp resp;
    as(f, &resp, "Action=DescribeAutoScalingGroups");
    assert_non_null(strstr(resp.body.data, "<ProcessName>Launch</ProcessName>"));
    assert_non_null(strstr(resp.body.data, "<SuspensionReason>User suspended at "));
    http_resp_release(&resp);
    struct member m[4];
    assert_int_equal(members(f, "web", m, 4), 2);
    kill_instance(f, m[0].id);
    advance(f, 10000);
    /* ReplaceUnhealthy still terminates; Launch suspended: no replacement. */
    advance(f, 10000);
    assert_int_equal(members(f, "web", m, 4), 1);
    ok(f, "Action=ResumeProcesses&AutoScalingGroupName=web");
    settle(f);
    assert_int_equal(count_state(f, "web", "InService"), 2);
    as(f, &resp, "Action=DescribeScalingProcessTypes");
    assert_non_null(strstr(resp.body.data, "<ProcessName>AZRebalance</ProcessName>"));
    assert_non_null(strstr(resp.body.data, "<ProcessName>ReplaceUnhealthy</ProcessName>"));
    http_resp_release(&resp);
    /* HealthCheck suspended: a dead instance is not even marked. */
    ok(f, "Action=SuspendProcesses&AutoScalingGroupName=web&ScalingProcesses.member.1=HealthCheck");
    assert_int_equal(members(f, "web", m, 4), 2);
    kill_instance(f, m[0].id);
    advance(f, 20000);
    struct member same[4];
    assert_int_equal(members(f, "web", same, 4), 2);
    assert_string_equal(same[0].health, "HEALTHY");
}

static void
test_standby_detach_attach(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 0, 3, 2, NULL);
    struct member m[4];
    assert_int_equal(members(f, "web", m, 4), 2);
    struct http_resp resp;
    as(f, &resp,
       "Action=EnterStandby&AutoScalingGroupName=web&ShouldDecrementDesiredCapacity=true"
       "&InstanceIds.member.1=%s",
       m[0].id);
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body.data, "Moving EC2 instance to Standby: "));
    http_resp_release(&resp);
    settle(f);
    assert_int_equal(count_state(f, "web", "Standby"), 1);
    assert_int_equal(count_state(f, "web", "InService"), 1);
    fails(f, "ValidationError", "is not in InService",
          "Action=EnterStandby&AutoScalingGroupName=web&ShouldDecrementDesiredCapacity=true"
          "&InstanceIds.member.1=%s",
          m[0].id);
    ok(f, "Action=ExitStandby&AutoScalingGroupName=web&InstanceIds.member.1=%s", m[0].id);
    settle(f);
    assert_int_equal(count_state(f, "web", "InService"), 2);

    as(f, &resp,
       "Action=DetachInstances&AutoScalingGroupName=web&ShouldDecrementDesiredCapacity=true"
       "&InstanceIds.member.1=%s",
       m[1].id);
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body.data, "Detaching EC2 instance: "));
    http_resp_release(&resp);
    settle(f);
    assert_int_equal(members(f, "web", m + 2, 2), 1);
    /* The detached instance runs on, outside the group; it can come back. */
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", m[1].id);
    assert_non_null(strstr(resp.body.data, "<name>running</name>"));
    http_resp_release(&resp);
    ok(f, "Action=AttachInstances&AutoScalingGroupName=web&InstanceIds.member.1=%s", m[1].id);
    settle(f);
    assert_int_equal(count_state(f, "web", "InService"), 2);
    fails(f, "ValidationError", "already part of an Auto Scaling group",
          "Action=AttachInstances&AutoScalingGroupName=web&InstanceIds.member.1=%s", m[1].id);
    fails(f, "ValidationError", "i-0123456789abcdef0",
          "Action=AttachInstances&AutoScalingGroupName=web"
          "&InstanceIds.member.1=i-0123456789abcdef0");
}

/* ---- deleting, activities, types ---- */

static void
test_delete_group(void **state)
{
    struct fixture *f = *state;
    group(f, "web", 1, 2, 1, NULL);
    struct member m[4];
    assert_int_equal(members(f, "web", m, 4), 1);
    fails(f, "ResourceInUse", "while there are instances",
          "Action=DeleteAutoScalingGroup&AutoScalingGroupName=web");
    fails(f, "ValidationError", "AutoScalingGroup &apos;nope&apos; not found",
          "Action=DeleteAutoScalingGroup&AutoScalingGroupName=nope");
    ok(f, "Action=DeleteAutoScalingGroup&AutoScalingGroupName=web&ForceDelete=true");
    settle(f);
    struct http_resp resp;
    as(f, &resp, "Action=DescribeAutoScalingGroups");
    assert_null(strstr(resp.body.data, "<AutoScalingGroupName>"));
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", m[0].id);
    assert_non_null(strstr(resp.body.data, "<name>terminated</name>"));
    http_resp_release(&resp);
    struct buf a = BUF_INIT;
    activities(f, "web", &a);
    assert_null(strstr(a.data, "<ActivityId>"));
    as(f, &resp,
       "Action=DescribeScalingActivities&AutoScalingGroupName=web"
       "&IncludeDeletedGroups=true");
    assert_non_null(strstr(resp.body.data, "<ActivityId>"));
    http_resp_release(&resp);
    buf_release(&a);
    /* The name is free again, and an empty group deletes without force. */
    group(f, "web", 0, 1, 0, NULL);
    ok(f, "Action=DeleteAutoScalingGroup&AutoScalingGroupName=web");
}

static void
test_launch_failure_is_a_failed_activity(void **state)
{
    struct fixture *f = *state;
    ok(f, "Action=CreateLaunchConfiguration&LaunchConfigurationName=bad"
          "&ImageId=ami-0123456789abcdef0&InstanceType=t3.micro");
    ok(f, "Action=CreateAutoScalingGroup&AutoScalingGroupName=web&LaunchConfigurationName=bad"
          "&MinSize=1&MaxSize=1" ZONES3);
    settle(f);
    struct buf a = BUF_INIT;
    activities(f, "web", &a);
    assert_non_null(strstr(a.data, "<Description>Launching a new EC2 instance.  Status Reason: "));
    assert_non_null(strstr(a.data, "Launching EC2 instance failed.</Description>"));
    assert_non_null(strstr(a.data, "<StatusCode>Failed</StatusCode>"));
    int failed = count_of(a.data, "<StatusCode>Failed</StatusCode>");
    /* Retried on the periodic pass, not in a tight loop. */
    advance(f, 10000);
    activities(f, "web", &a);
    assert_int_equal(count_of(a.data, "<StatusCode>Failed</StatusCode>"), failed + 1);
    buf_release(&a);
}

static void
test_describe_types(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    as(f, &resp, "Action=DescribeLifecycleHookTypes");
    assert_non_null(strstr(resp.body.data, "<member>autoscaling:EC2_INSTANCE_LAUNCHING</member>"));
    assert_non_null(
            strstr(resp.body.data, "<member>autoscaling:EC2_INSTANCE_TERMINATING</member>"));
    http_resp_release(&resp);
    as(f, &resp, "Action=DescribeTerminationPolicyTypes");
    assert_non_null(strstr(resp.body.data, "<member>OldestLaunchConfiguration</member>"));
    assert_non_null(strstr(resp.body.data, "<member>ClosestToNextInstanceHour</member>"));
    http_resp_release(&resp);
    fails(f, "ValidationError", "AutoScalingGroup &apos;x&apos; not found",
          "Action=DescribeLifecycleHooks&AutoScalingGroupName=x");
}

/* ---- load balancers ---- */

static void elb(struct fixture *f, const char *fmt, ...) FB_PRINTF(2, 3);

static void
elb(struct fixture *f, const char *fmt, ...)
{
    struct buf body = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&body, fmt, ap);
    va_end(ap);
    buf_adds(&body, "&Version=2012-06-01");
    struct http_resp resp;
    post(f, &resp, "elasticloadbalancing", "/", body.data);
    if (resp.status != 200)
        fail_msg("%s: %d %s", body.data, resp.status, resp.body.data);
    http_resp_release(&resp);
    buf_release(&body);
}

/* Starts ELB with fake probes and makes the balancer "lb" over three zones, HTTP:80/ checks
   every 5 s (2 to be healthy, 2 to be unhealthy). */
static void
lb_start(struct fixture *f)
{
    char errbuf[256];
    assert_int_equal(elb_service.hooks->start(&f->app, errbuf, sizeof(errbuf)), 0);
    elb_set_prober(&fake_prober);
    n_probes = 0;
    f->elb_started = true;
    elb(f, "Action=CreateLoadBalancer&LoadBalancerName=lb&Listeners.member.1.Protocol=HTTP"
           "&Listeners.member.1.LoadBalancerPort=80&Listeners.member.1.InstancePort=80" ZONES3);
    elb(f, "Action=ConfigureHealthCheck&LoadBalancerName=lb&HealthCheck.Target=HTTP:80/"
           "&HealthCheck.Interval=5&HealthCheck.Timeout=2&HealthCheck.UnhealthyThreshold=2"
           "&HealthCheck.HealthyThreshold=2");
}

/* Whether DescribeInstanceHealth of lb lists instance id, and its State into state. */
static bool
lb_lists(struct fixture *f, const char *id, char *state, size_t statesz)
{
    struct http_resp resp;
    post(f, &resp, "elasticloadbalancing", "/",
         "Action=DescribeInstanceHealth&LoadBalancerName=lb&Version=2012-06-01");
    assert_int_equal(resp.status, 200);
    const char *p = strstr(resp.body.data, id);
    if (p && state)
        xml_get(p, "State", state, statesz);
    http_resp_release(&resp);
    return p != NULL;
}

/* Health-check rounds of 5 s, every probe answered `ok`. */
static void
rounds(struct fixture *f, int n, bool ok)
{
    for (int i = 0; i < n; i++) {
        advance(f, 5000);
        answer_probes(ok);
        settle(f);
    }
}

static void
test_load_balancer_registration_and_elb_health(void **state)
{
    struct fixture *f = *state;
    lb_start(f);
    fails(f, "ValidationError", "LoadBalancer nope not found",
          "Action=CreateAutoScalingGroup&AutoScalingGroupName=b&LaunchConfigurationName=lc"
          "&MinSize=0&MaxSize=1&LoadBalancerNames.member.1=nope" ZONES3);
    group(f, "web", 1, 1, 1,
          "&LoadBalancerNames.member.1=lb&HealthCheckType=ELB&HealthCheckGracePeriod=30");
    struct member m[4];
    assert_int_equal(members(f, "web", m, 4), 1);
    assert_string_equal(m[0].state, "InService");
    char st[32];
    assert_true(lb_lists(f, m[0].id, st, sizeof(st)));
    /* Healthy at the balancer past the grace period: it stays. */
    rounds(f, 8, true);
    assert_true(lb_lists(f, m[0].id, st, sizeof(st)));
    assert_string_equal(st, "InService");
    assert_int_equal(members(f, "web", m, 4), 1);
    /* The balancer's checks fail: the group replaces it, the new one is registered. */
    rounds(f, 5, false);
    struct member after[4];
    assert_int_equal(members(f, "web", after, 4), 1);
    assert_string_not_equal(after[0].id, m[0].id);
    assert_true(lb_lists(f, after[0].id, NULL, 0));
    assert_false(lb_lists(f, m[0].id, NULL, 0));
    struct buf a = BUF_INIT;
    activities(f, "web", &a);
    assert_non_null(strstr(a.data, "in response to an ELB system health check failure."));
    buf_release(&a);
    struct http_resp resp;
    as(f, &resp, "Action=DescribeAutoScalingGroups");
    assert_non_null(strstr(resp.body.data, "<LoadBalancerNames><member>lb</member>"));
    assert_non_null(strstr(resp.body.data, "<HealthCheckType>ELB</HealthCheckType>"));
    http_resp_release(&resp);

    /* With connection draining, a leaving instance is deregistered, then terminated only
       once the draining time is over. */
    elb(f, "Action=ModifyLoadBalancerAttributes&LoadBalancerName=lb"
           "&LoadBalancerAttributes.ConnectionDraining.Enabled=true"
           "&LoadBalancerAttributes.ConnectionDraining.Timeout=60");
    ok(f,
       "Action=TerminateInstanceInAutoScalingGroup&InstanceId=%s"
       "&ShouldDecrementDesiredCapacity=false",
       after[0].id);
    settle(f);
    struct member leaving[4];
    int n = members(f, "web", leaving, 4);
    assert_true(n >= 1);
    assert_string_equal(leaving[0].id, after[0].id);
    assert_string_equal(leaving[0].state, "Terminating");
    activities(f, "web", &a);
    assert_non_null(strstr(a.data, "<StatusCode>WaitingForELBConnectionDraining</StatusCode>"));
    buf_release(&a);
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", after[0].id);
    assert_non_null(strstr(resp.body.data, "<name>running</name>"));
    http_resp_release(&resp);
    rounds(f, 13, true);
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", after[0].id);
    assert_non_null(strstr(resp.body.data, "<name>terminated</name>"));
    http_resp_release(&resp);
}

/* The State of the group's balancer `name` in DescribeLoadBalancers, "" when not listed. */
static void
lb_state_of(struct fixture *f, const char *group_name, const char *name, char *state,
            size_t statesz)
{
    struct http_resp resp;
    as(f, &resp, "Action=DescribeLoadBalancers&AutoScalingGroupName=%s", group_name);
    assert_int_equal(resp.status, 200);
    char want[300];
    snprintf(want, sizeof(want), "<LoadBalancerName>%s</LoadBalancerName>", name);
    const char *p = strstr(resp.body.data, want);
    state[0] = '\0';
    if (p)
        xml_get(p, "State", state, statesz);
    http_resp_release(&resp);
}

static void
test_attach_describe_detach_load_balancers(void **state)
{
    struct fixture *f = *state;
    lb_start(f);
    group(f, "web", 2, 2, 2, "&HealthCheckType=ELB&HealthCheckGracePeriod=300");
    struct member m[4];
    assert_int_equal(members(f, "web", m, 4), 2);
    char st[32];
    assert_false(lb_lists(f, m[0].id, NULL, 0));
    lb_state_of(f, "web", "lb", st, sizeof(st));
    assert_string_equal(st, "");

    /* Errors change nothing: a balancer that does not exist, a group that does not, no
       names, more than ten. */
    fails(f, "ValidationError", "LoadBalancer nope not found",
          "Action=AttachLoadBalancers&AutoScalingGroupName=web&LoadBalancerNames.member.1=lb"
          "&LoadBalancerNames.member.2=nope");
    assert_false(lb_lists(f, m[0].id, NULL, 0));
    fails(f, "ValidationError", "AutoScalingGroup &apos;none&apos; not found",
          "Action=AttachLoadBalancers&AutoScalingGroupName=none&LoadBalancerNames.member.1=lb");
    fails(f, "ValidationError", "between 1 and 10",
          "Action=AttachLoadBalancers&AutoScalingGroupName=web&LoadBalancerNames.member.1=a"
          "&LoadBalancerNames.member.2=b&LoadBalancerNames.member.3=c"
          "&LoadBalancerNames.member.4=d&LoadBalancerNames.member.5=e"
          "&LoadBalancerNames.member.6=f&LoadBalancerNames.member.7=g"
          "&LoadBalancerNames.member.8=h&LoadBalancerNames.member.9=i"
          "&LoadBalancerNames.member.10=j&LoadBalancerNames.member.11=k");
    fails(f, "ValidationError", "AutoScalingGroup &apos;none&apos; not found",
          "Action=DescribeLoadBalancers&AutoScalingGroupName=none");
    lb_state_of(f, "web", "lb", st, sizeof(st));
    assert_string_equal(st, "");

    /* Attached: both InService instances are registered at once; the state follows the
       balancer's verdict (Added, then InService with ELB health checks). Twice is once. */
    ok(f, "Action=AttachLoadBalancers&AutoScalingGroupName=web&LoadBalancerNames.member.1=lb");
    ok(f, "Action=AttachLoadBalancers&AutoScalingGroupName=web&LoadBalancerNames.member.1=lb");
    assert_true(lb_lists(f, m[0].id, NULL, 0));
    assert_true(lb_lists(f, m[1].id, NULL, 0));
    lb_state_of(f, "web", "lb", st, sizeof(st));
    assert_string_equal(st, "Added");
    struct http_resp resp;
    as(f, &resp, "Action=DescribeAutoScalingGroups&AutoScalingGroupNames.member.1=web");
    assert_non_null(
            strstr(resp.body.data, "<LoadBalancerNames><member>lb</member></LoadBalancerNames>"));
    http_resp_release(&resp);
    rounds(f, 3, true);
    lb_state_of(f, "web", "lb", st, sizeof(st));
    assert_string_equal(st, "InService");
    as(f, &resp, "Action=DescribeLoadBalancers&AutoScalingGroupName=web&MaxRecords=101");
    assert_int_equal(resp.status, 400);
    http_resp_release(&resp);

    /* A new instance of the group is registered as it comes into service. */
    ok(f, "Action=SetDesiredCapacity&AutoScalingGroupName=web&DesiredCapacity=2");
    ok(f,
       "Action=TerminateInstanceInAutoScalingGroup&InstanceId=%s"
       "&ShouldDecrementDesiredCapacity=false",
       m[0].id);
    settle(f);
    rounds(f, 2, true);
    struct member now[4];
    int n = members(f, "web", now, 4);
    for (int i = 0; i < n; i++)
        if (strcmp(now[i].state, "InService") == 0)
            assert_true(lb_lists(f, now[i].id, NULL, 0));

    /* Detached: its instances leave the balancer and the group no longer names it; a name
       the group does not have is no error. */
    ok(f, "Action=DetachLoadBalancers&AutoScalingGroupName=web&LoadBalancerNames.member.1=lb"
          "&LoadBalancerNames.member.2=other");
    for (int i = 0; i < n; i++)
        assert_false(lb_lists(f, now[i].id, NULL, 0));
    lb_state_of(f, "web", "lb", st, sizeof(st));
    assert_string_equal(st, "");
    as(f, &resp, "Action=DescribeAutoScalingGroups&AutoScalingGroupNames.member.1=web");
    assert_non_null(strstr(resp.body.data, "<LoadBalancerNames/>") ||
                    strstr(resp.body.data, "<LoadBalancerNames></LoadBalancerNames>"));
    http_resp_release(&resp);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_launch_configurations),
        T(test_group_spreads_over_zones_with_tags_and_activities),
        T(test_create_group_errors_change_nothing),
        T(test_update_group_min_raises_desired),
        T(test_unhealthy_instance_is_replaced),
        T(test_grace_period_delays_the_status_check),
        T(test_zone_down_then_back_rebalances),
        T(test_zone_down_replaces_its_instance_elsewhere),
        T(test_launch_hook_times_out_and_abandons),
        T(test_complete_and_heartbeat),
        T(test_launch_loop_alarm_from_abandoned_launches),
        T(test_launch_loop_settings_are_validated),
        T(test_terminate_hook_holds_then_lets_go),
        T(test_scale_in_oldest_and_newest_instance),
        T(test_default_policy_balances_zones_and_protection_holds),
        T(test_set_desired_and_terminate_instance),
        T(test_set_instance_health),
        T(test_suspended_processes),
        T(test_standby_detach_attach),
        T(test_delete_group),
        T(test_launch_failure_is_a_failed_activity),
        T(test_describe_types),
        T(test_load_balancer_registration_and_elb_health),
        T(test_attach_describe_detach_load_balancers),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
