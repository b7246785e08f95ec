/*
 * Auto Scaling tags, scaling policies, scheduled actions and account facts through the
 * router, in-process: an in-memory state, a frozen virtual clock (2026-11-18T11:06:40Z), a
 * fixed seed and the supervisor's fake backend. Each operation's happy path and errors,
 * percent rounding, step picking, the simple-scaling cooldown, scheduled actions firing on
 * a clock advance (one-time and recurring), and the cron parser on its own.
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
#include "emulator/ids.h"
#include "emulator/instances/sup.h"
#include "emulator/router.h"
#include "emulator/service.h"
#include "services/autoscaling/cron.h"
#include "services/ec2/instances.h"
#include "state/db.h"

#define AUTH                                                                                       \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/autoscaling/aws4_request, "               \
    "SignedHeaders=host, Signature=00"
#define FORM     "application/x-www-form-urlencoded; charset=utf-8"
#define START_MS 1795000000000LL /* 2026-11-18T11:06:40Z */
#define MINUTE   (60 * 1000LL)
#define HOUR     (60 * MINUTE)

struct fixture {
    struct app app;        /* the app under test */
    char dir[64];          /* temporary data directory */
    char ami[32];          /* a built-in image id */
    struct http_resp resp; /* the last answer */
    bool have_resp;        /* resp holds one to release */
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Sends one query request with the given Version; returns the status. */
static int
send_query(struct fixture *f, const char *version, const char *fmt, va_list ap)
{
    struct buf body = BUF_INIT;
    buf_vaddf(&body, fmt, ap);
    buf_addf(&body, "&Version=%s", version);
    struct http_header h[2] = { { "Authorization", AUTH }, { "Content-Type", FORM } };
    if (strcmp(version, "2016-11-15") == 0)
        h[0].value = "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/ec2/aws4_request, "
                     "SignedHeaders=host, Signature=00";
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

static int asg(struct fixture *f, const char *fmt, ...) FB_PRINTF(2, 3);

/* An Auto Scaling call "Action=X&..." (the Version is added); returns the HTTP status. */
static int
asg(struct fixture *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = send_query(f, "2011-01-01", fmt, ap);
    va_end(ap);
    return st;
}

static int ec2(struct fixture *f, const char *fmt, ...) FB_PRINTF(2, 3);

static int
ec2(struct fixture *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = send_query(f, "2016-11-15", fmt, ap);
    va_end(ap);
    return st;
}

#define BODY (f->resp.body.data)

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

/* The text of the first <tag>...</tag> of the last answer, or "". */
static const char *
first(struct fixture *f, const char *tag)
{
    static char out[4096];
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *a = strstr(BODY, open), *b;
    out[0] = '\0';
    if (a && (b = strstr(a, close))) {
        a += strlen(open);
        snprintf(out, sizeof(out), "%.*s", (int)(b - a), a);
    }
    return out;
}

static void
assert_ok(struct fixture *f, int status)
{
    if (status != 200)
        fail_msg("want 200, got %d %s", status, BODY);
}

static void
assert_error(struct fixture *f, int status, int want_status, const char *code,
             const char *message_part)
{
    char want[128];
    snprintf(want, sizeof(want), "<Code>%s</Code>", code);
    if (status != want_status || !strstr(BODY, want) ||
        (message_part && !strstr(BODY, message_part)))
        fail_msg("want %d %s (%s), got %d %s", want_status, code, message_part ? message_part : "",
                 status, BODY);
}

/* The group's DesiredCapacity as DescribeAutoScalingGroups reports it. */
static int
desired_of(struct fixture *f, const char *group)
{
    assert_ok(f,
              asg(f, "Action=DescribeAutoScalingGroups&AutoScalingGroupNames.member.1=%s", group));
    const char *d = first(f, "DesiredCapacity");
    assert_true(d[0] != '\0');
    return atoi(d);
}

/* A group of MinSize min, MaxSize max and DesiredCapacity desired in us-east-1a. */
static void
make_group(struct fixture *f, const char *name, int min, int max, int desired)
{
    assert_ok(f, asg(f,
                     "Action=CreateAutoScalingGroup&AutoScalingGroupName=%s"
                     "&LaunchConfigurationName=lc&MinSize=%d&MaxSize=%d&DesiredCapacity=%d"
                     "&AvailabilityZones.member.1=us-east-1a",
                     name, min, max, desired));
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
    snprintf(f->dir, sizeof(f->dir), "/tmp/fogbank-test-asgpol-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->app.data_dir = f->dir;
    f->app.sup = sup_new_fake(NULL, NULL, NULL);
    assert_int_equal(ec2_instances_start(&f->app, errbuf, sizeof(errbuf)), 0);
    const struct service *s = service_get("autoscaling");
    if (s && s->hooks && s->hooks->start)
        assert_int_equal(s->hooks->start(&f->app, errbuf, sizeof(errbuf)), 0);
    assert_ok(f, ec2(f, "Action=DescribeImages&Owner.1=amazon"));
    snprintf(f->ami, sizeof(f->ami), "%s", first(f, "imageId"));
    assert_true(str_starts(f->ami, "ami-"));
    assert_ok(f, asg(f,
                     "Action=CreateLaunchConfiguration&LaunchConfigurationName=lc&ImageId=%s"
                     "&InstanceType=t3.micro",
                     f->ami));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    const struct service *s = service_get("autoscaling");
    if (s && s->hooks && s->hooks->stop)
        s->hooks->stop(&f->app);
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

/* ---- the cron parser ---- */

static int64_t
next_of(const char *expr, int64_t after)
{
    struct cron_expr c;
    assert_int_equal(cron_parse(expr, &c), 0);
    return cron_next(&c, after);
}

static void
test_cron_parse_rejects_malformed_expressions(void **state)
{
    (void)state;
    struct cron_expr c;
    const char *bad[] = { "",          "* * * *",      "* * * * * *", "60 * * * *",  "* 24 * * *",
                          "* * 0 * *", "* * * 13 *",   "* * * * 8",   "5-1 * * * *", "*/0 * * * *",
                          "a * * * *", "1,,2 * * * *", "* * * FOO *", "1- * * * *" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        if (cron_parse(bad[i], &c) == 0)
            fail_msg("'%s' parsed", bad[i]);
    assert_int_equal(cron_parse("0 9 * * MON-FRI", &c), 0);
    assert_int_equal(cron_parse("*/15 0-6,22 1 JAN,jul 7", &c), 0);
}

static void
test_cron_next_finds_the_next_match(void **state)
{
    (void)state;
    /* 2026-11-18 (a Wednesday) 11:06:40Z */
    const int64_t t = START_MS;
    const int64_t day = 24 * HOUR;
    const int64_t midnight = t - (t % day);
    assert_int_equal(next_of("* * * * *", t), t - (t % MINUTE) + MINUTE);
    assert_int_equal(next_of("0 6 * * *", t), midnight + day + 6 * HOUR);
    assert_int_equal(next_of("30 11 * * *", t), midnight + 11 * HOUR + 30 * MINUTE);
    assert_int_equal(next_of("*/15 * * * *", t), midnight + 11 * HOUR + 15 * MINUTE);
    /* strictly after: a match at exactly `after` is not returned */
    assert_int_equal(next_of("0 6 * * *", midnight + 6 * HOUR), midnight + day + 6 * HOUR);
    /* weekdays: Saturday 2026-11-21 is 3 days on; 0 and 7 are both Sunday */
    assert_int_equal(next_of("0 0 * * SAT", t), midnight + 3 * day);
    assert_int_equal(next_of("0 0 * * 0", t), midnight + 4 * day);
    assert_int_equal(next_of("0 0 * * 7", t), midnight + 4 * day);
    /* day of month and month: 1 December, 1 January */
    assert_int_equal(next_of("0 0 1 * *", t), midnight + 13 * day);
    assert_int_equal(next_of("0 0 1 1 *", t), midnight + 44 * day);
    /* both day fields restricted: either matches (the 20th, a Friday, or a Monday) */
    assert_int_equal(next_of("0 0 23 * FRI", t), midnight + 2 * day);
    /* 29 February: 2028 */
    int64_t leap = next_of("0 0 29 2 *", t);
    assert_true(leap > t + 400 * day && leap < t + 500 * day);
    /* never */
    assert_int_equal(next_of("0 0 31 2 *", t), -1);
}

/* ---- tags ---- */

static void
test_tags_create_describe_delete(void **state)
{
    struct fixture *f = *state;
    make_group(f, "web", 0, 2, 0);
    make_group(f, "db", 0, 2, 0);
    assert_ok(f,
              asg(f, "Action=CreateOrUpdateTags"
                     "&Tags.member.1.ResourceId=web&Tags.member.1.ResourceType=auto-scaling-group"
                     "&Tags.member.1.Key=env&Tags.member.1.Value=prod"
                     "&Tags.member.1.PropagateAtLaunch=true"
                     "&Tags.member.2.ResourceId=web&Tags.member.2.ResourceType=auto-scaling-group"
                     "&Tags.member.2.Key=team&Tags.member.2.Value=a"
                     "&Tags.member.2.PropagateAtLaunch=false"
                     "&Tags.member.3.ResourceId=db&Tags.member.3.ResourceType=auto-scaling-group"
                     "&Tags.member.3.Key=env&Tags.member.3.Value=test"));
    assert_ok(f, asg(f, "Action=DescribeTags"));
    assert_int_equal(count(f, "<member>"), 3);
    /* ordered by group, then key */
    assert_string_equal(first(f, "ResourceId"), "db");
    assert_true(has(f, "<ResourceType>auto-scaling-group</ResourceType>"));

    assert_ok(f, asg(f, "Action=DescribeTags&Filters.member.1.Name=auto-scaling-group"
                        "&Filters.member.1.Values.member.1=web"));
    assert_int_equal(count(f, "<member>"), 2);
    assert_ok(f, asg(f, "Action=DescribeTags&Filters.member.1.Name=key"
                        "&Filters.member.1.Values.member.1=env"
                        "&Filters.member.2.Name=value&Filters.member.2.Values.member.1=prod"
                        "&Filters.member.2.Values.member.2=nope"));
    assert_int_equal(count(f, "<member>"), 1);
    assert_string_equal(first(f, "ResourceId"), "web");
    assert_ok(f, asg(f, "Action=DescribeTags&Filters.member.1.Name=propagate-at-launch"
                        "&Filters.member.1.Values.member.1=true"));
    assert_int_equal(count(f, "<member>"), 1);
    assert_string_equal(first(f, "Key"), "env");

    /* update in place */
    assert_ok(f, asg(f, "Action=CreateOrUpdateTags&Tags.member.1.ResourceId=web"
                        "&Tags.member.1.ResourceType=auto-scaling-group"
                        "&Tags.member.1.Key=team&Tags.member.1.Value=b"));
    assert_ok(f, asg(f, "Action=DescribeTags&Filters.member.1.Name=key"
                        "&Filters.member.1.Values.member.1=team"));
    assert_string_equal(first(f, "Value"), "b");

    /* pagination */
    assert_ok(f, asg(f, "Action=DescribeTags&MaxRecords=2"));
    assert_int_equal(count(f, "<member>"), 2);
    char token[128];
    snprintf(token, sizeof(token), "%s", first(f, "NextToken"));
    assert_true(token[0] != '\0');
    assert_ok(f, asg(f, "Action=DescribeTags&MaxRecords=2&NextToken=%s", token));
    assert_int_equal(count(f, "<member>"), 1);
    assert_false(has(f, "<NextToken>"));

    /* delete: a Value that does not match keeps the tag */
    assert_ok(f, asg(f, "Action=DeleteTags&Tags.member.1.ResourceId=web"
                        "&Tags.member.1.ResourceType=auto-scaling-group"
                        "&Tags.member.1.Key=env&Tags.member.1.Value=other"));
    assert_ok(f, asg(f, "Action=DescribeTags"));
    assert_int_equal(count(f, "<member>"), 3);
    assert_ok(f, asg(f, "Action=DeleteTags&Tags.member.1.ResourceId=web"
                        "&Tags.member.1.ResourceType=auto-scaling-group&Tags.member.1.Key=env"));
    assert_ok(f, asg(f, "Action=DescribeTags"));
    assert_int_equal(count(f, "<member>"), 2);
}

static void
test_tags_errors_change_nothing(void **state)
{
    struct fixture *f = *state;
    make_group(f, "web", 0, 2, 0);
    /* an unknown group in the second tag: the first is not written either */
    assert_error(f,
                 asg(f,
                     "Action=CreateOrUpdateTags"
                     "&Tags.member.1.ResourceId=web&Tags.member.1.ResourceType=auto-scaling-group"
                     "&Tags.member.1.Key=a&Tags.member.1.Value=1"
                     "&Tags.member.2.ResourceId=nope&Tags.member.2.ResourceType=auto-scaling-group"
                     "&Tags.member.2.Key=b&Tags.member.2.Value=2"),
                 400, "ValidationError",
                 "AutoScalingGroup name not found - AutoScalingGroup &apos;nope&apos; not found");
    assert_ok(f, asg(f, "Action=DescribeTags"));
    assert_int_equal(count(f, "<member>"), 0);
    assert_error(f,
                 asg(f, "Action=CreateOrUpdateTags&Tags.member.1.ResourceId=web"
                        "&Tags.member.1.ResourceType=auto-scaling-group&Tags.member.1.Key=aws:x"),
                 400, "ValidationError", "aws:");
    assert_error(f,
                 asg(f, "Action=CreateOrUpdateTags&Tags.member.1.ResourceId=web"
                        "&Tags.member.1.ResourceType=instance&Tags.member.1.Key=k"),
                 400, "ValidationError", NULL);
    assert_error(f,
                 asg(f, "Action=DeleteTags&Tags.member.1.ResourceId=nope"
                        "&Tags.member.1.ResourceType=auto-scaling-group&Tags.member.1.Key=k"),
                 400, "ValidationError", "not found");
    assert_error(f,
                 asg(f, "Action=DescribeTags&Filters.member.1.Name=colour"
                        "&Filters.member.1.Values.member.1=red"),
                 400, "ValidationError", "Filter type colour is not correct");
    assert_error(f, asg(f, "Action=DescribeTags&NextToken=bogus"), 400, "InvalidNextToken", NULL);
    assert_error(f, asg(f, "Action=DescribeTags&MaxRecords=101"), 400, "ValidationError", NULL);

    /* 50 tags per group */
    struct buf b = BUF_INIT;
    buf_adds(&b, "Action=CreateOrUpdateTags");
    for (int i = 1; i <= 51; i++)
        buf_addf(&b,
                 "&Tags.member.%d.ResourceId=web&Tags.member.%d.ResourceType=auto-scaling-group"
                 "&Tags.member.%d.Key=k%d&Tags.member.%d.Value=v",
                 i, i, i, i, i);
    assert_error(f, asg(f, "%s", b.data), 400, "LimitExceeded", NULL);
    buf_release(&b);
    assert_ok(f, asg(f, "Action=DescribeTags"));
    assert_int_equal(count(f, "<member>"), 0);
}

/* ---- scaling policies ---- */

static void
put_simple(struct fixture *f, const char *group, const char *name, const char *type, int adj,
           const char *extra)
{
    assert_ok(f, asg(f,
                     "Action=PutScalingPolicy&AutoScalingGroupName=%s&PolicyName=%s"
                     "&AdjustmentType=%s&ScalingAdjustment=%d%s",
                     group, name, type, adj, extra ? extra : ""));
}

static void
test_put_describe_delete_policies(void **state)
{
    struct fixture *f = *state;
    make_group(f, "web", 0, 10, 0);
    put_simple(f, "web", "out", "ChangeInCapacity", 2, "&Cooldown=60");
    assert_true(str_starts(first(f, "PolicyARN"),
                           "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:"));
    assert_non_null(strstr(first(f, "PolicyARN"), ":autoScalingGroupName/web:policyName/out"));
    char arn[512];
    snprintf(arn, sizeof(arn), "%s", first(f, "PolicyARN"));
    assert_ok(f, asg(f, "Action=PutScalingPolicy&AutoScalingGroupName=web&PolicyName=steps"
                        "&PolicyType=StepScaling&AdjustmentType=ChangeInCapacity"
                        "&StepAdjustments.member.1.MetricIntervalLowerBound=0"
                        "&StepAdjustments.member.1.MetricIntervalUpperBound=10"
                        "&StepAdjustments.member.1.ScalingAdjustment=1"
                        "&StepAdjustments.member.2.MetricIntervalLowerBound=10"
                        "&StepAdjustments.member.2.ScalingAdjustment=3"));
    assert_ok(f, asg(f, "Action=DescribePolicies&AutoScalingGroupName=web"));
    assert_int_equal(count(f, "<PolicyName>"), 2);
    assert_true(has(f, "<PolicyType>StepScaling</PolicyType>"));
    assert_true(has(f, "<MetricAggregationType>Average</MetricAggregationType>"));
    assert_true(has(f, "<Cooldown>60</Cooldown>"));
    assert_true(has(f, "<Enabled>true</Enabled>"));

    /* filters: names (or ARNs) and types; pagination */
    assert_ok(f, asg(f, "Action=DescribePolicies&PolicyNames.member.1=%s", arn));
    assert_int_equal(count(f, "<PolicyName>"), 1);
    assert_string_equal(first(f, "PolicyName"), "out");
    assert_ok(f, asg(f, "Action=DescribePolicies&PolicyTypes.member.1=StepScaling"));
    assert_int_equal(count(f, "<PolicyName>"), 1);
    assert_string_equal(first(f, "PolicyName"), "steps");
    assert_ok(f, asg(f, "Action=DescribePolicies&MaxRecords=1"));
    assert_int_equal(count(f, "<PolicyName>"), 1);
    assert_true(has(f, "<NextToken>"));

    /* updating keeps the ARN */
    put_simple(f, "web", "out", "ChangeInCapacity", 3, NULL);
    assert_string_equal(first(f, "PolicyARN"), arn);

    assert_ok(f, asg(f, "Action=DeletePolicy&AutoScalingGroupName=web&PolicyName=out"));
    assert_error(f, asg(f, "Action=DeletePolicy&PolicyName=%s", arn), 400, "ValidationError", NULL);
    assert_error(f, asg(f, "Action=DeletePolicy&AutoScalingGroupName=web&PolicyName=out"), 400,
                 "ValidationError", NULL);
    assert_ok(f, asg(f, "Action=DescribePolicies"));
    assert_int_equal(count(f, "<PolicyName>"), 1);
    assert_error(f, asg(f, "Action=DescribePolicies&AutoScalingGroupName=nope"), 400,
                 "ValidationError", "Group nope not found");
}

static void
test_put_scaling_policy_errors(void **state)
{
    struct fixture *f = *state;
    make_group(f, "web", 0, 10, 0);
    struct {
        const char *params; /* after Action=PutScalingPolicy&PolicyName=p */
        const char *code;   /* wire code */
        const char *msg;    /* part of the message */
    } cases[] = {
        { "&AutoScalingGroupName=nope&AdjustmentType=ChangeInCapacity&ScalingAdjustment=1",
          "ValidationError", "AutoScalingGroup name not found" },
        { "&AutoScalingGroupName=web&AdjustmentType=ChangeInCapacity", "ValidationError",
          "Scaling increment must be specified for a SimpleScaling policy" },
        { "&AutoScalingGroupName=web&AdjustmentType=Bogus&ScalingAdjustment=1", "ValidationError",
          "Invalid adjustment type" },
        { "&AutoScalingGroupName=web&AdjustmentType=ChangeInCapacity&ScalingAdjustment=1"
          "&MinAdjustmentMagnitude=2",
          "ValidationError", "PercentChangeInCapacity" },
        { "&AutoScalingGroupName=web&AdjustmentType=ExactCapacity&ScalingAdjustment=-1",
          "ValidationError", "non-negative" },
        { "&AutoScalingGroupName=web&PolicyType=StepScaling&AdjustmentType=ChangeInCapacity",
          "ValidationError", "Step adjustments must be specified" },
        { "&AutoScalingGroupName=web&PolicyType=StepScaling&AdjustmentType=ChangeInCapacity"
          "&StepAdjustments.member.1.MetricIntervalLowerBound=1"
          "&StepAdjustments.member.1.MetricIntervalUpperBound=2"
          "&StepAdjustments.member.1.ScalingAdjustment=1",
          "ValidationError", "There must be a StepAdjustment with an unspecified upper bound" },
        { "&AutoScalingGroupName=web&PolicyType=StepScaling&AdjustmentType=ChangeInCapacity"
          "&StepAdjustments.member.1.MetricIntervalLowerBound=0"
          "&StepAdjustments.member.1.MetricIntervalUpperBound=5"
          "&StepAdjustments.member.1.ScalingAdjustment=1"
          "&StepAdjustments.member.2.MetricIntervalLowerBound=6"
          "&StepAdjustments.member.2.ScalingAdjustment=2",
          "ValidationError", "overlap or have gaps" },
        { "&AutoScalingGroupName=web&PolicyType=StepScaling&AdjustmentType=ChangeInCapacity"
          "&StepAdjustments.member.1.ScalingAdjustment=1",
          "ValidationError", "Both lower and upper bounds" },
        { "&AutoScalingGroupName=web&PolicyType=StepScaling&AdjustmentType=ChangeInCapacity"
          "&StepAdjustments.member.1.MetricIntervalUpperBound=-1"
          "&StepAdjustments.member.1.ScalingAdjustment=-1"
          "&StepAdjustments.member.2.MetricIntervalLowerBound=-1"
          "&StepAdjustments.member.2.MetricIntervalUpperBound=0"
          "&StepAdjustments.member.2.ScalingAdjustment=-1"
          "&StepAdjustments.member.3.MetricIntervalLowerBound=-3"
          "&StepAdjustments.member.3.MetricIntervalUpperBound=-1"
          "&StepAdjustments.member.3.ScalingAdjustment=-1",
          "ValidationError", "overlap or have gaps" },
        { "&AutoScalingGroupName=web&PolicyType=StepScaling&AdjustmentType=ChangeInCapacity"
          "&ScalingAdjustment=1&StepAdjustments.member.1.MetricIntervalLowerBound=0"
          "&StepAdjustments.member.1.ScalingAdjustment=1",
          "ValidationError", "ScalingAdjustment is not supported" },
        { "&AutoScalingGroupName=web&PolicyType=TargetTrackingScaling"
          "&TargetTrackingConfiguration.TargetValue=50"
          "&TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType="
          "ASGAverageCPUUtilization",
          "NotImplemented", "CloudWatch" },
        { "&AutoScalingGroupName=web&PolicyType=Bogus&AdjustmentType=ChangeInCapacity"
          "&ScalingAdjustment=1",
          "ValidationError", "Invalid policy type" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int st = asg(f, "Action=PutScalingPolicy&PolicyName=p%s", cases[i].params);
        assert_error(f, st, strcmp(cases[i].code, "NotImplemented") == 0 ? 501 : 400, cases[i].code,
                     cases[i].msg);
    }
    /* nothing was written */
    assert_ok(f, asg(f, "Action=DescribePolicies"));
    assert_int_equal(count(f, "<PolicyName>"), 0);

    /* 50 policies per group */
    for (int i = 0; i < 50; i++)
        assert_ok(f, asg(f,
                         "Action=PutScalingPolicy&AutoScalingGroupName=web&PolicyName=p%d"
                         "&AdjustmentType=ChangeInCapacity&ScalingAdjustment=1",
                         i));
    assert_error(f,
                 asg(f, "Action=PutScalingPolicy&AutoScalingGroupName=web&PolicyName=p50"
                        "&AdjustmentType=ChangeInCapacity&ScalingAdjustment=1"),
                 400, "LimitExceeded", NULL);
}

/* Executes a policy and returns the group's desired capacity afterwards. */
static int
execute(struct fixture *f, const char *group, const char *policy, const char *extra)
{
    assert_ok(f, asg(f, "Action=ExecutePolicy&AutoScalingGroupName=%s&PolicyName=%s%s", group,
                     policy, extra ? extra : ""));
    return desired_of(f, group);
}

static void
test_execute_policy_adjustment_types_and_percent_rounding(void **state)
{
    struct fixture *f = *state;
    make_group(f, "g", 0, 100, 0);
    put_simple(f, "g", "exact10", "ExactCapacity", 10, NULL);
    put_simple(f, "g", "plus33", "PercentChangeInCapacity", 33, NULL);
    put_simple(f, "g", "minus5", "PercentChangeInCapacity", -5, NULL);
    put_simple(f, "g", "minus67", "PercentChangeInCapacity", -67, NULL);
    put_simple(f, "g", "plus10", "PercentChangeInCapacity", 10, NULL);
    put_simple(f, "g", "plus25min2", "PercentChangeInCapacity", 25, "&MinAdjustmentMagnitude=2");
    put_simple(f, "g", "add1", "ChangeInCapacity", 1, NULL);
    put_simple(f, "g", "sub200", "ChangeInCapacity", -200, NULL);
    put_simple(f, "g", "add500", "ChangeInCapacity", 500, NULL);

    assert_int_equal(execute(f, "g", "exact10", NULL), 10);
    /* 10 * 33 % = 3.3: values above 1 round down */
    assert_int_equal(execute(f, "g", "plus33", NULL), 13);
    assert_int_equal(execute(f, "g", "exact10", NULL), 10);
    /* -0.5: between -1 and 0 rounds to -1 */
    assert_int_equal(execute(f, "g", "minus5", NULL), 9);
    assert_int_equal(execute(f, "g", "exact10", NULL), 10);
    /* -6.7: below -1 rounds up, to -6 */
    assert_int_equal(execute(f, "g", "minus67", NULL), 4);
    /* 0.4: between 0 and 1 rounds to 1 */
    assert_int_equal(execute(f, "g", "plus10", NULL), 5);
    assert_int_equal(execute(f, "g", "sub200", NULL), 0);
    assert_int_equal(execute(f, "g", "add1", NULL), 1);
    assert_int_equal(execute(f, "g", "add1", NULL), 2);
    assert_int_equal(execute(f, "g", "add1", NULL), 3);
    assert_int_equal(execute(f, "g", "add1", NULL), 4);
    /* 4 * 25 % = 1, raised to MinAdjustmentMagnitude 2 (the user guide's example) */
    assert_int_equal(execute(f, "g", "plus25min2", NULL), 6);
    /* never past MaxSize or MinSize */
    assert_int_equal(execute(f, "g", "add500", NULL), 100);
    assert_int_equal(execute(f, "g", "sub200", NULL), 0);
    /* by ARN, without the group */
    assert_ok(f, asg(f, "Action=DescribePolicies&PolicyNames.member.1=add1"));
    char arn[512];
    snprintf(arn, sizeof(arn), "%s", first(f, "PolicyARN"));
    assert_ok(f, asg(f, "Action=ExecutePolicy&PolicyName=%s", arn));
    assert_int_equal(desired_of(f, "g"), 1);
}

static void
test_execute_step_policy_picks_the_step(void **state)
{
    struct fixture *f = *state;
    make_group(f, "g", 0, 100, 0);
    assert_ok(f, asg(f, "Action=PutScalingPolicy&AutoScalingGroupName=g&PolicyName=steps"
                        "&PolicyType=StepScaling&AdjustmentType=ExactCapacity"
                        "&StepAdjustments.member.1.MetricIntervalLowerBound=0"
                        "&StepAdjustments.member.1.MetricIntervalUpperBound=10"
                        "&StepAdjustments.member.1.ScalingAdjustment=1"
                        "&StepAdjustments.member.2.MetricIntervalLowerBound=10"
                        "&StepAdjustments.member.2.MetricIntervalUpperBound=20"
                        "&StepAdjustments.member.2.ScalingAdjustment=2"
                        "&StepAdjustments.member.3.MetricIntervalLowerBound=20"
                        "&StepAdjustments.member.3.ScalingAdjustment=3"));
    /* breach 50: 59 -> [0,10); 60 -> [10,20) (lower bound inclusive); 90 -> [20,inf) */
    assert_int_equal(execute(f, "g", "steps", "&MetricValue=59&BreachThreshold=50"), 1);
    assert_int_equal(execute(f, "g", "steps", "&MetricValue=60&BreachThreshold=50"), 2);
    assert_int_equal(execute(f, "g", "steps", "&MetricValue=90&BreachThreshold=50"), 3);
    assert_int_equal(execute(f, "g", "steps", "&MetricValue=50&BreachThreshold=50"), 1);
    /* below the threshold: no step */
    assert_error(f,
                 asg(f, "Action=ExecutePolicy&AutoScalingGroupName=g&PolicyName=steps"
                        "&MetricValue=40&BreachThreshold=50"),
                 400, "ValidationError", "does not correspond to any step adjustment");
    assert_error(f, asg(f, "Action=ExecutePolicy&AutoScalingGroupName=g&PolicyName=steps"), 400,
                 "ValidationError", "MetricValue and BreachThreshold are required");

    /* a scale-in policy: upper bound inclusive below the threshold */
    assert_ok(f, asg(f, "Action=PutScalingPolicy&AutoScalingGroupName=g&PolicyName=in"
                        "&PolicyType=StepScaling&AdjustmentType=ChangeInCapacity"
                        "&StepAdjustments.member.1.MetricIntervalUpperBound=-10"
                        "&StepAdjustments.member.1.ScalingAdjustment=-2"
                        "&StepAdjustments.member.2.MetricIntervalLowerBound=-10"
                        "&StepAdjustments.member.2.MetricIntervalUpperBound=0"
                        "&StepAdjustments.member.2.ScalingAdjustment=-1"));
    assert_ok(f, asg(f, "Action=SetDesiredCapacity&AutoScalingGroupName=g&DesiredCapacity=5"));
    assert_int_equal(execute(f, "g", "in", "&MetricValue=20&BreachThreshold=30"), 3);
    assert_int_equal(execute(f, "g", "in", "&MetricValue=25&BreachThreshold=30"), 2);
}

static void
test_execute_policy_errors(void **state)
{
    struct fixture *f = *state;
    make_group(f, "g", 0, 10, 0);
    put_simple(f, "g", "add1", "ChangeInCapacity", 1, NULL);
    assert_error(f, asg(f, "Action=ExecutePolicy&AutoScalingGroupName=g&PolicyName=nope"), 400,
                 "ValidationError", NULL);
    assert_error(f, asg(f, "Action=ExecutePolicy&AutoScalingGroupName=nope&PolicyName=add1"), 400,
                 "ValidationError", "AutoScalingGroup name not found");
    assert_error(f,
                 asg(f, "Action=ExecutePolicy&AutoScalingGroupName=g&PolicyName=add1"
                        "&MetricValue=1&BreachThreshold=0"),
                 400, "ValidationError", "not supported");
    assert_int_equal(desired_of(f, "g"), 0);
}

static void
test_simple_scaling_honours_the_cooldown(void **state)
{
    struct fixture *f = *state;
    make_group(f, "g", 0, 10, 0);
    put_simple(f, "g", "add1", "ChangeInCapacity", 1, "&Cooldown=120");
    assert_int_equal(execute(f, "g", "add1", "&HonorCooldown=true"), 1);
    /* the scaling activity just happened: within 120 s the policy waits */
    assert_error(f,
                 asg(f, "Action=ExecutePolicy&AutoScalingGroupName=g&PolicyName=add1"
                        "&HonorCooldown=true"),
                 400, "ScalingActivityInProgress", NULL);
    assert_int_equal(desired_of(f, "g"), 1);
    /* without HonorCooldown it runs anyway (the default for ExecutePolicy) */
    assert_int_equal(execute(f, "g", "add1", NULL), 2);
    /* once the activities are over and the cooldown has passed, it runs */
    vclock_advance(f->app.clock, 10 * MINUTE);
    assert_int_equal(execute(f, "g", "add1", "&HonorCooldown=true"), 3);
}

/* ---- scheduled actions ---- */

static void
test_scheduled_action_fires_at_its_time_and_is_removed(void **state)
{
    struct fixture *f = *state;
    make_group(f, "g", 0, 5, 0);
    /* 2026-11-18T12:00:00Z, 53 min 20 s after the start */
    assert_ok(f, asg(f, "Action=PutScheduledUpdateGroupAction&AutoScalingGroupName=g"
                        "&ScheduledActionName=noon&StartTime=2026-11-18T12:00:00Z"
                        "&MinSize=1&MaxSize=4&DesiredCapacity=2"));
    assert_ok(f, asg(f, "Action=DescribeScheduledActions&AutoScalingGroupName=g"));
    assert_string_equal(first(f, "ScheduledActionName"), "noon");
    assert_string_equal(first(f, "StartTime"), "2026-11-18T12:00:00.000Z");
    assert_string_equal(first(f, "DesiredCapacity"), "2");
    assert_true(str_starts(first(f, "ScheduledActionARN"),
                           "arn:aws:autoscaling:us-east-1:123456789012:"
                           "scheduledUpdateGroupAction:"));

    vclock_advance(f->app.clock, 53 * MINUTE);
    assert_int_equal(desired_of(f, "g"), 0);
    vclock_advance(f->app.clock, 1 * MINUTE);
    assert_int_equal(desired_of(f, "g"), 2);
    assert_string_equal(first(f, "MinSize"), "1");
    assert_string_equal(first(f, "MaxSize"), "4");
    assert_ok(f, asg(f, "Action=DescribeScalingActivities&AutoScalingGroupName=g"));
    assert_true(has(f, "At 2026-11-18T12:00:00Z a scheduled action update of AutoScalingGroup "
                       "constraints to min: 1, max: 4, desired: 2 changing the desired capacity "
                       "from 0 to 2."));
    /* a one-time action is gone once it has run */
    assert_ok(f, asg(f, "Action=DescribeScheduledActions&AutoScalingGroupName=g"));
    assert_int_equal(count(f, "<ScheduledActionName>"), 0);
}

static void
test_recurring_scheduled_action_fires_every_day(void **state)
{
    struct fixture *f = *state;
    make_group(f, "g", 0, 5, 0);
    assert_ok(f, asg(f, "Action=PutScheduledUpdateGroupAction&AutoScalingGroupName=g"
                        "&ScheduledActionName=morning&Recurrence=0+6+*+*+*&DesiredCapacity=3"
                        "&TimeZone=Etc/UTC"));
    assert_ok(f, asg(f, "Action=PutScheduledUpdateGroupAction&AutoScalingGroupName=g"
                        "&ScheduledActionName=evening&Recurrence=0+20+*+*+*&DesiredCapacity=1"));
    assert_ok(f, asg(f, "Action=DescribeScheduledActions&ScheduledActionNames.member.1=morning"));
    assert_int_equal(count(f, "<ScheduledActionName>"), 1);
    /* its next run is shown as its start */
    assert_string_equal(first(f, "StartTime"), "2026-11-19T06:00:00.000Z");
    assert_string_equal(first(f, "Recurrence"), "0 6 * * *");

    /* to 20:00 on the 18th: evening ran */
    vclock_advance(f->app.clock, 9 * HOUR);
    assert_int_equal(desired_of(f, "g"), 1);
    /* to 06:00 on the 19th: morning */
    vclock_advance(f->app.clock, 10 * HOUR);
    assert_int_equal(desired_of(f, "g"), 3);
    /* a whole day on: evening then morning again */
    vclock_advance(f->app.clock, 14 * HOUR);
    assert_int_equal(desired_of(f, "g"), 1);
    vclock_advance(f->app.clock, 10 * HOUR);
    assert_int_equal(desired_of(f, "g"), 3);
    assert_ok(f, asg(f, "Action=DescribeScheduledActions&ScheduledActionNames.member.1=morning"));
    assert_string_equal(first(f, "StartTime"), "2026-11-21T06:00:00.000Z");
}

static void
test_scheduled_action_skipped_while_suspended(void **state)
{
    struct fixture *f = *state;
    make_group(f, "g", 0, 5, 0);
    assert_ok(f, asg(f, "Action=PutScheduledUpdateGroupAction&AutoScalingGroupName=g"
                        "&ScheduledActionName=noon&StartTime=2026-11-18T12:00:00Z"
                        "&DesiredCapacity=2"));
    assert_ok(f, asg(f, "Action=SuspendProcesses&AutoScalingGroupName=g"
                        "&ScalingProcesses.member.1=ScheduledActions"));
    vclock_advance(f->app.clock, HOUR);
    assert_int_equal(desired_of(f, "g"), 0);
    /* it is not run later either */
    assert_ok(f, asg(f, "Action=ResumeProcesses&AutoScalingGroupName=g"));
    vclock_advance(f->app.clock, HOUR);
    assert_int_equal(desired_of(f, "g"), 0);
}

static void
test_scheduled_action_errors(void **state)
{
    struct fixture *f = *state;
    make_group(f, "g", 0, 5, 0);
    struct {
        const char *params; /* after Action=PutScheduledUpdateGroupAction&ScheduledActionName=a */
        int status;         /* HTTP status */
        const char *code;   /* wire code */
        const char *msg;    /* part of the message */
    } cases[] = {
        { "&AutoScalingGroupName=nope&StartTime=2026-11-19T00:00:00Z&MinSize=1", 400,
          "ValidationError", "AutoScalingGroup name not found" },
        { "&AutoScalingGroupName=g&StartTime=2026-11-17T00:00:00Z&MinSize=1", 400,
          "ValidationError", "Given start time is in the past" },
        { "&AutoScalingGroupName=g&StartTime=2026-11-19T00:00:00Z", 400, "ValidationError",
          "At least one of MinSize, MaxSize or DesiredCapacity" },
        { "&AutoScalingGroupName=g&Recurrence=61+*+*+*+*&MinSize=1", 400, "ValidationError",
          "recurrence" },
        { "&AutoScalingGroupName=g&MinSize=1", 400, "ValidationError", "start time" },
        { "&AutoScalingGroupName=g&StartTime=2026-11-20T00:00:00Z"
          "&EndTime=2026-11-19T00:00:00Z&Recurrence=0+*+*+*+*&MinSize=1",
          400, "ValidationError", "before end time" },
        { "&AutoScalingGroupName=g&StartTime=2026-11-19T00:00:00Z&MinSize=3&MaxSize=2", 400,
          "ValidationError", "MinSize" },
        { "&AutoScalingGroupName=g&Recurrence=0+6+*+*+*&MinSize=1&TimeZone=Europe/Paris", 501,
          "NotImplemented", "UTC" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        assert_error(f,
                     asg(f, "Action=PutScheduledUpdateGroupAction&ScheduledActionName=a%s",
                         cases[i].params),
                     cases[i].status, cases[i].code, cases[i].msg);
    assert_ok(f, asg(f, "Action=DescribeScheduledActions"));
    assert_int_equal(count(f, "<ScheduledActionName>"), 0);
    assert_error(f,
                 asg(f, "Action=DeleteScheduledAction&AutoScalingGroupName=g"
                        "&ScheduledActionName=nope"),
                 400, "ValidationError", NULL);
    assert_error(f, asg(f, "Action=DescribeScheduledActions&AutoScalingGroupName=nope"), 400,
                 "ValidationError", "AutoScalingGroup name not found");
}

static void
test_scheduled_update_delete_and_batches(void **state)
{
    struct fixture *f = *state;
    make_group(f, "g", 0, 5, 0);
    assert_ok(f, asg(f, "Action=PutScheduledUpdateGroupAction&AutoScalingGroupName=g"
                        "&ScheduledActionName=a&StartTime=2026-11-19T00:00:00Z&MinSize=1"));
    /* an update keeps what it does not name */
    assert_ok(f, asg(f, "Action=PutScheduledUpdateGroupAction&AutoScalingGroupName=g"
                        "&ScheduledActionName=a&DesiredCapacity=2"));
    assert_ok(f, asg(f, "Action=DescribeScheduledActions"));
    assert_string_equal(first(f, "MinSize"), "1");
    assert_string_equal(first(f, "DesiredCapacity"), "2");
    assert_string_equal(first(f, "StartTime"), "2026-11-19T00:00:00.000Z");

    assert_ok(f, asg(f, "Action=BatchPutScheduledUpdateGroupAction&AutoScalingGroupName=g"
                        "&ScheduledUpdateGroupActions.member.1.ScheduledActionName=b"
                        "&ScheduledUpdateGroupActions.member.1.Recurrence=0+1+*+*+*"
                        "&ScheduledUpdateGroupActions.member.1.MaxSize=4"
                        "&ScheduledUpdateGroupActions.member.2.ScheduledActionName=bad"
                        "&ScheduledUpdateGroupActions.member.2.Recurrence=nope"
                        "&ScheduledUpdateGroupActions.member.2.MaxSize=4"));
    assert_int_equal(count(f, "<ScheduledActionName>"), 1);
    assert_string_equal(first(f, "ScheduledActionName"), "bad");
    assert_string_equal(first(f, "ErrorCode"), "ValidationError");
    assert_ok(f, asg(f, "Action=DescribeScheduledActions&MaxRecords=1"));
    assert_int_equal(count(f, "<ScheduledActionName>"), 1);
    assert_true(has(f, "<NextToken>"));
    /* the StartTime window: only "a" runs on the 19th before 00:30 */
    assert_ok(f, asg(f, "Action=DescribeScheduledActions&StartTime=2026-11-18T23:00:00Z"
                        "&EndTime=2026-11-19T00:30:00Z"));
    assert_int_equal(count(f, "<ScheduledActionName>"), 1);
    assert_string_equal(first(f, "ScheduledActionName"), "a");

    assert_ok(f, asg(f, "Action=BatchDeleteScheduledAction&AutoScalingGroupName=g"
                        "&ScheduledActionNames.member.1=b&ScheduledActionNames.member.2=zz"));
    assert_int_equal(count(f, "<ScheduledActionName>"), 1);
    assert_string_equal(first(f, "ScheduledActionName"), "zz");
    assert_ok(f, asg(f, "Action=DeleteScheduledAction&AutoScalingGroupName=g"
                        "&ScheduledActionName=a"));
    assert_ok(f, asg(f, "Action=DescribeScheduledActions"));
    assert_int_equal(count(f, "<ScheduledActionName>"), 0);
    /* nothing left to fire */
    vclock_advance(f->app.clock, 48 * HOUR);
    assert_int_equal(desired_of(f, "g"), 0);
}

static void
test_deleting_a_group_drops_its_tags_policies_and_actions(void **state)
{
    struct fixture *f = *state;
    make_group(f, "g", 0, 5, 0);
    put_simple(f, "g", "add1", "ChangeInCapacity", 1, NULL);
    assert_ok(f, asg(f, "Action=CreateOrUpdateTags&Tags.member.1.ResourceId=g"
                        "&Tags.member.1.ResourceType=auto-scaling-group&Tags.member.1.Key=k"));
    assert_ok(f, asg(f, "Action=PutScheduledUpdateGroupAction&AutoScalingGroupName=g"
                        "&ScheduledActionName=a&Recurrence=0+1+*+*+*&MinSize=1"));
    assert_ok(f, asg(f, "Action=DeleteAutoScalingGroup&AutoScalingGroupName=g&ForceDelete=true"));
    assert_ok(f, asg(f, "Action=DescribePolicies"));
    assert_int_equal(count(f, "<PolicyName>"), 0);
    assert_ok(f, asg(f, "Action=DescribeTags"));
    assert_int_equal(count(f, "<Key>"), 0);
    assert_ok(f, asg(f, "Action=DescribeScheduledActions"));
    assert_int_equal(count(f, "<ScheduledActionName>"), 0);
    /* the timer finds nothing to run */
    vclock_advance(f->app.clock, 48 * HOUR);
}

/* ---- account facts ---- */

static void
test_account_limits_and_adjustment_types(void **state)
{
    struct fixture *f = *state;
    assert_ok(f, asg(f, "Action=DescribeAccountLimits"));
    assert_string_equal(first(f, "MaxNumberOfAutoScalingGroups"), "500");
    assert_string_equal(first(f, "MaxNumberOfLaunchConfigurations"), "200");
    assert_string_equal(first(f, "NumberOfAutoScalingGroups"), "0");
    assert_string_equal(first(f, "NumberOfLaunchConfigurations"), "1");
    make_group(f, "g", 0, 5, 0);
    make_group(f, "h", 0, 5, 0);
    assert_ok(f, asg(f, "Action=DescribeAccountLimits"));
    assert_string_equal(first(f, "NumberOfAutoScalingGroups"), "2");

    assert_ok(f, asg(f, "Action=DescribeAdjustmentTypes"));
    assert_int_equal(count(f, "<AdjustmentType>"), 3);
    assert_true(has(f, "<AdjustmentType>ChangeInCapacity</AdjustmentType>"));
    assert_true(has(f, "<AdjustmentType>ExactCapacity</AdjustmentType>"));
    assert_true(has(f, "<AdjustmentType>PercentChangeInCapacity</AdjustmentType>"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cron_parse_rejects_malformed_expressions),
        cmocka_unit_test(test_cron_next_finds_the_next_match),
        T(test_tags_create_describe_delete),
        T(test_tags_errors_change_nothing),
        T(test_put_describe_delete_policies),
        T(test_put_scaling_policy_errors),
        T(test_execute_policy_adjustment_types_and_percent_rounding),
        T(test_execute_step_policy_picks_the_step),
        T(test_execute_policy_errors),
        T(test_simple_scaling_honours_the_cooldown),
        T(test_scheduled_action_fires_at_its_time_and_is_removed),
        T(test_recurring_scheduled_action_fires_every_day),
        T(test_scheduled_action_skipped_while_suspended),
        T(test_scheduled_action_errors),
        T(test_scheduled_update_delete_and_batches),
        T(test_deleting_a_group_drops_its_tags_policies_and_actions),
        T(test_account_limits_and_adjustment_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
