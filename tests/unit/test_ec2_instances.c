/*
 * EC2 instances through the router, in-process: an in-memory state, a frozen virtual clock,
 * a fixed seed, a temporary data directory and the supervisor's fake backend (no process is
 * started). Covers the operations' happy paths and errors, the lifecycle table, faults, the
 * expiry of terminated instances and the instance metadata service.
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
#include "emulator/model.h"
#include "emulator/router.h"
#include "services/ec2/instances.h"
#include "state/db.h"

#define AUTH                                                                                       \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/ec2/aws4_request, "                       \
    "SignedHeaders=host, Signature=00"
#define FORM     "application/x-www-form-urlencoded; charset=utf-8"
#define START_MS 1795000000000LL

struct fixture {
    struct app app; /* the app under test */
    char dir[64];   /* temporary data directory */
    char ami[32];   /* a built-in image id */
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Sends one request; the caller releases resp. */
static void
request(struct app *app, struct http_resp *resp, const char *method, const char *target,
        const struct http_header *extra, size_t n_extra, const char *body)
{
    struct http_header h[8];
    size_t n = 0;
    h[n++] = (struct http_header){ "Authorization", AUTH };
    h[n++] = (struct http_header){ "Content-Type",
                                   body && body[0] == '{' ? "application/json" : FORM };
    for (size_t i = 0; i < n_extra && n < ARRAY_SIZE(h); i++)
        h[n++] = extra[i];
    struct http_req req = { .method = method,
                            .target = target,
                            .headers = h,
                            .n_headers = n,
                            .body = body ? body : "",
                            .body_len = body ? strlen(body) : 0,
                            .peer = "127.0.0.1" };
    http_resp_init(resp);
    router_handle(app, &req, resp);
}

static void ec2(struct fixture *f, struct http_resp *resp, const char *fmt, ...) FB_PRINTF(3, 4);

/* An EC2 query call: "Action=X&..." (the Version is added). */
static void
ec2(struct fixture *f, struct http_resp *resp, const char *fmt, ...)
{
    struct buf body = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&body, fmt, ap);
    va_end(ap);
    buf_adds(&body, "&Version=2016-11-15");
    request(&f->app, resp, "POST", "/", NULL, 0, body.data);
    buf_release(&body);
}

/* The text of the first <tag>...</tag> after `from` into out (""). Returns the end of it. */
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

static void
assert_error(struct http_resp *resp, int status, const char *code)
{
    char want[128];
    snprintf(want, sizeof(want), "<Code>%s</Code>", code);
    if (resp->status != status || !strstr(resp->body.data, want))
        fail_msg("want %d %s, got %d %s", status, code, resp->status, resp->body.data);
}

static void
assert_ok(struct http_resp *resp)
{
    if (resp->status != 200)
        fail_msg("want 200, got %d %s", resp->status, resp->body.data);
}

/*
 * Runs the boots that RunInstances and StartInstances queue for the next loop pass (a
 * zero-delay timer on the frozen clock; there is no loop here). Returns the timers fired.
 */
static size_t
run_boots(struct fixture *f)
{
    return vclock_run_due(f->app.clock);
}

/* RunInstances of n instances with extra parameters, then their boots; their ids into ids
   (may be NULL). */
static void
run_n(struct fixture *f, int n, const char *extra, char ids[][32])
{
    struct http_resp resp;
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=%d&MaxCount=%d%s", f->ami, n, n,
        extra ? extra : "");
    assert_ok(&resp);
    assert_int_equal(run_boots(f), 1);
    const char *p = resp.body.data;
    for (int i = 0; i < n && ids; i++) {
        p = xml_get(p, "instanceId", ids[i], 32);
        assert_non_null(p);
    }
    http_resp_release(&resp);
}

static void
run_one(struct fixture *f, const char *extra, char id[32])
{
    char ids[1][32];
    run_n(f, 1, extra, ids);
    snprintf(id, 32, "%s", ids[0]);
}

/* The state name DescribeInstances reports for id. */
static void
state_of(struct fixture *f, const char *id, char *out, size_t outsz)
{
    struct http_resp resp;
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    const char *st = strstr(resp.body.data, "<instanceState>");
    assert_non_null(st);
    xml_get(st, "name", out, outsz);
    http_resp_release(&resp);
}

static void
assert_state(struct fixture *f, const char *id, const char *want)
{
    char got[32];
    state_of(f, id, got, sizeof(got));
    assert_string_equal(got, want);
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
    snprintf(f->dir, sizeof(f->dir), "/tmp/fogbank-test-inst-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->app.data_dir = f->dir;
    f->app.sup = sup_new_fake(NULL, NULL, NULL);
    assert_int_equal(ec2_instances_start(&f->app, errbuf, sizeof(errbuf)), 0);
    struct http_resp resp;
    ec2(f, &resp, "Action=DescribeImages&Owner.1=amazon");
    assert_ok(&resp);
    xml_get(resp.body.data, "imageId", f->ami, sizeof(f->ami));
    assert_true(str_starts(f->ami, "ami-"));
    http_resp_release(&resp);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    ec2_instances_stop(&f->app);
    sup_free(f->app.sup);
    db_close(f->app.db);
    vclock_free(f->app.clock);
    ids_free(f->app.ids);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- the core path ---- */

static void
test_run_describe_terminate(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    ec2(f, &resp,
        "Action=RunInstances&ImageId=%s&MinCount=2&MaxCount=2&InstanceType=t3.micro"
        "&Placement.AvailabilityZone=us-east-1b&TagSpecification.1.ResourceType=instance"
        "&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web",
        f->ami);
    assert_ok(&resp);
    /* RunInstances answers pending, as AWS does. */
    assert_non_null(strstr(resp.body.data, "<code>0</code><name>pending</name>"));
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 2);
    assert_non_null(strstr(resp.body.data, "<reservationId>r-"));
    assert_non_null(strstr(resp.body.data, "<availabilityZone>us-east-1b</availabilityZone>"));
    assert_non_null(strstr(resp.body.data, "<instanceType>t3.micro</instanceType>"));
    char id[32], id2[32], ip1[32], ip2[32];
    const char *p = xml_get(resp.body.data, "instanceId", id, sizeof(id));
    xml_get(p, "instanceId", id2, sizeof(id2));
    http_resp_release(&resp);

    /* Nothing has booted yet: the boots follow the answer, on the next loop pass. */
    ec2(f, &resp, "Action=DescribeInstances");
    assert_ok(&resp);
    assert_int_equal(count_of(resp.body.data, "<name>pending</name>"), 2);
    http_resp_release(&resp);
    assert_false(sup_alive(f->app.sup, id));
    assert_int_equal(run_boots(f), 1);
    assert_true(sup_alive(f->app.sup, id));
    assert_true(sup_alive(f->app.sup, id2));
    assert_int_equal(run_boots(f), 0);

    ec2(f, &resp, "Action=DescribeInstances");
    assert_ok(&resp);
    assert_int_equal(count_of(resp.body.data, "<reservationId>"), 1);
    assert_int_equal(count_of(resp.body.data, "<name>running</name>"), 2);
    assert_non_null(strstr(resp.body.data, "<key>Name</key><value>web</value>"));
    p = xml_get(resp.body.data, "privateIpAddress", ip1, sizeof(ip1));
    xml_get(p, "privateIpAddress", ip2, sizeof(ip2));
    assert_string_not_equal(ip1, ip2);
    http_resp_release(&resp);

    ec2(f, &resp, "Action=TerminateInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    assert_non_null(strstr(resp.body.data, "<currentState><code>32</code><name>shutting-down"));
    assert_non_null(strstr(resp.body.data, "<previousState><code>16</code><name>running"));
    http_resp_release(&resp);
    /* The fake tree exits at once: terminated. */
    assert_state(f, id, "terminated");
    assert_state(f, id2, "running");

    /* Terminating again is idempotent. */
    ec2(f, &resp, "Action=TerminateInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    assert_non_null(strstr(resp.body.data, "<currentState><code>48</code><name>terminated"));
    http_resp_release(&resp);

    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", id);
    assert_non_null(strstr(resp.body.data, "<code>Client.UserInitiatedShutdown</code>"));
    assert_non_null(strstr(resp.body.data, "User initiated ("));
    http_resp_release(&resp);
}

static void
test_run_instances_errors(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    ec2(f, &resp, "Action=RunInstances&MinCount=1&MaxCount=1");
    assert_error(&resp, 400, "MissingParameter");
    http_resp_release(&resp);
    ec2(f, &resp, "Action=RunInstances&ImageId=nope&MinCount=1&MaxCount=1");
    assert_error(&resp, 400, "InvalidAMIID.Malformed");
    http_resp_release(&resp);
    ec2(f, &resp, "Action=RunInstances&ImageId=ami-0123456789abcdef0&MinCount=1&MaxCount=1");
    assert_error(&resp, 400, "InvalidAMIID.NotFound");
    http_resp_release(&resp);
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=0&MaxCount=1", f->ami);
    assert_error(&resp, 400, "InvalidParameterValue");
    http_resp_release(&resp);
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=3&MaxCount=2", f->ami);
    assert_error(&resp, 400, "InvalidParameterValue");
    http_resp_release(&resp);
    ec2(f, &resp,
        "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1"
        "&Placement.AvailabilityZone=us-east-1z",
        f->ami);
    assert_error(&resp, 400, "InvalidParameterValue");
    http_resp_release(&resp);
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1&UserData=!!notb64", f->ami);
    assert_error(&resp, 400, "InvalidParameterValue");
    http_resp_release(&resp);
    /* 16 KB of raw user data is the limit. */
    struct buf raw = BUF_INIT, b64 = BUF_INIT;
    for (int i = 0; i < 16385; i++)
        buf_addc(&raw, 'x');
    buf_add_base64(&b64, raw.data, raw.len);
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1&UserData=%s", f->ami,
        b64.data);
    assert_error(&resp, 400, "InvalidParameterValue");
    http_resp_release(&resp);
    buf_release(&raw);
    buf_release(&b64);
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1&KeyName=nokey", f->ami);
    assert_error(&resp, 400, "InvalidKeyPair.NotFound");
    http_resp_release(&resp);
    ec2(f, &resp,
        "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1&SecurityGroupId.1=sg-0123456789abcdef0",
        f->ami);
    assert_error(&resp, 400, "InvalidGroup.NotFound");
    http_resp_release(&resp);
    /* Nothing was half-created. */
    ec2(f, &resp, "Action=DescribeInstances");
    assert_ok(&resp);
    assert_null(strstr(resp.body.data, "<instanceId>"));
    http_resp_release(&resp);
    /* Validation fails inside the call: no boot was queued. */
    assert_int_equal(vclock_timers_pending(f->app.clock), 0);
    assert_int_equal(run_boots(f), 0);
}

static void
test_client_token_returns_the_same_reservation(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char r1[32], r2[32];
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1&ClientToken=tok-1", f->ami);
    assert_ok(&resp);
    xml_get(resp.body.data, "reservationId", r1, sizeof(r1));
    http_resp_release(&resp);
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1&ClientToken=tok-1", f->ami);
    assert_ok(&resp);
    xml_get(resp.body.data, "reservationId", r2, sizeof(r2));
    assert_non_null(strstr(resp.body.data, "<clientToken>tok-1</clientToken>"));
    http_resp_release(&resp);
    assert_string_equal(r1, r2);
    ec2(f, &resp, "Action=DescribeInstances");
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 1);
    http_resp_release(&resp);
}

/* ---- the lifecycle table through the API ---- */

static void
test_lifecycle_cells(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32];
    run_one(f, NULL, id);
    assert_state(f, id, "running");

    /* running: start is a no-op, reboot keeps it running. */
    ec2(f, &resp, "Action=StartInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    assert_non_null(strstr(resp.body.data, "<currentState><code>16</code>"));
    http_resp_release(&resp);
    ec2(f, &resp, "Action=RebootInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    http_resp_release(&resp);
    assert_state(f, id, "running");
    assert_true(sup_alive(f->app.sup, id));

    ec2(f, &resp, "Action=StopInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    assert_non_null(strstr(resp.body.data, "<currentState><code>64</code><name>stopping"));
    http_resp_release(&resp);
    assert_state(f, id, "stopped");
    assert_false(sup_alive(f->app.sup, id));

    /* stopped: stop is a no-op; reboot is an empty cell. */
    ec2(f, &resp, "Action=StopInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    http_resp_release(&resp);
    ec2(f, &resp, "Action=RebootInstances&InstanceId.1=%s", id);
    assert_error(&resp, 400, "IncorrectInstanceState");
    http_resp_release(&resp);

    ec2(f, &resp, "Action=StartInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    assert_non_null(strstr(resp.body.data, "<currentState><code>0</code><name>pending"));
    assert_non_null(strstr(resp.body.data, "<previousState><code>80</code><name>stopped"));
    http_resp_release(&resp);
    assert_state(f, id, "pending");
    assert_false(sup_alive(f->app.sup, id));
    /* pending: start is a no-op, stop and reboot are empty cells. */
    ec2(f, &resp, "Action=StartInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    assert_non_null(strstr(resp.body.data, "<currentState><code>0</code><name>pending"));
    http_resp_release(&resp);
    ec2(f, &resp, "Action=StopInstances&InstanceId.1=%s", id);
    assert_error(&resp, 400, "IncorrectInstanceState");
    http_resp_release(&resp);
    assert_int_equal(run_boots(f), 1);
    assert_state(f, id, "running");
    assert_true(sup_alive(f->app.sup, id));

    ec2(f, &resp, "Action=TerminateInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    http_resp_release(&resp);
    /* terminated: every call but terminate is an empty cell. */
    const char *const actions[] = { "StartInstances", "StopInstances", "RebootInstances" };
    for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
        ec2(f, &resp, "Action=%s&InstanceId.1=%s", actions[i], id);
        assert_error(&resp, 400, "IncorrectInstanceState");
        assert_non_null(strstr(resp.body.data, "is not in a state from which it can be"));
        http_resp_release(&resp);
    }
}

static void
test_exit_of_a_running_tree_leaves_it_running_but_impaired(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32];
    run_one(f, NULL, id);
    /* The first checks take 2 minutes of virtual time. */
    ec2(f, &resp, "Action=DescribeInstanceStatus");
    assert_ok(&resp);
    assert_non_null(strstr(resp.body.data, "<status>initializing</status></instanceStatus>"));
    assert_non_null(strstr(resp.body.data, "<status>initializing</status></systemStatus>"));
    assert_non_null(strstr(resp.body.data, "<name>reachability</name><status>initializing"));
    http_resp_release(&resp);
    vclock_advance(f->app.clock, 2 * 60 * 1000);
    ec2(f, &resp, "Action=DescribeInstanceStatus");
    assert_ok(&resp);
    assert_non_null(strstr(resp.body.data, "<status>ok</status></instanceStatus>"));
    http_resp_release(&resp);
    sup_fake_exit(f->app.sup, id, 137);
    assert_state(f, id, "running");
    ec2(f, &resp, "Action=DescribeInstanceStatus&InstanceId.1=%s", id);
    assert_ok(&resp);
    assert_non_null(strstr(resp.body.data, "<status>impaired</status></instanceStatus>"));
    assert_non_null(strstr(resp.body.data, "<status>failed</status>"));
    http_resp_release(&resp);
    /* A reboot brings it back. */
    ec2(f, &resp, "Action=RebootInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    http_resp_release(&resp);
    assert_true(sup_alive(f->app.sup, id));
}

static void
test_describe_instance_status_include_all(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char ids[2][32];
    run_n(f, 2, NULL, ids);
    ec2(f, &resp, "Action=StopInstances&InstanceId.1=%s", ids[0]);
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeInstanceStatus");
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 1);
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeInstanceStatus&IncludeAllInstances=true");
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 2);
    assert_non_null(strstr(resp.body.data, "<status>not-applicable</status>"));
    http_resp_release(&resp);
}

/* ---- DryRun, ClientToken reuse, shutdown from inside ---- */

static void
test_dry_run_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32];
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1&DryRun=true", f->ami);
    assert_error(&resp, 412, "DryRunOperation");
    assert_non_null(
            strstr(resp.body.data, "Request would have succeeded, but DryRun flag is set."));
    http_resp_release(&resp);
    /* Validation comes first. */
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=0&MaxCount=1&DryRun=true", f->ami);
    assert_error(&resp, 400, "InvalidParameterValue");
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeInstances");
    assert_null(strstr(resp.body.data, "<instanceId>"));
    http_resp_release(&resp);

    run_one(f, NULL, id);
    const char *const actions[] = { "StopInstances", "RebootInstances", "TerminateInstances" };
    for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
        ec2(f, &resp, "Action=%s&InstanceId.1=%s&DryRun=true", actions[i], id);
        assert_error(&resp, 412, "DryRunOperation");
        http_resp_release(&resp);
        assert_state(f, id, "running");
        assert_true(sup_alive(f->app.sup, id));
    }
    ec2(f, &resp, "Action=DescribeInstances&DryRun=true");
    assert_error(&resp, 412, "DryRunOperation");
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=i-0123456789abcdef0&DryRun=true");
    assert_error(&resp, 400, "InvalidInstanceID.NotFound");
    http_resp_release(&resp);
    ec2(f, &resp, "Action=StopInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    http_resp_release(&resp);
    ec2(f, &resp, "Action=StartInstances&InstanceId.1=%s&DryRun=true", id);
    assert_error(&resp, 412, "DryRunOperation");
    http_resp_release(&resp);
    assert_state(f, id, "stopped");
    /* An empty cell is still IncorrectInstanceState under DryRun. */
    ec2(f, &resp, "Action=RebootInstances&InstanceId.1=%s&DryRun=true", id);
    assert_error(&resp, 400, "IncorrectInstanceState");
    http_resp_release(&resp);
}

static void
test_client_token_reused_with_other_parameters(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    ec2(f, &resp,
        "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1&InstanceType=t3.micro"
        "&ClientToken=tok-2",
        f->ami);
    assert_ok(&resp);
    http_resp_release(&resp);
    /* The same parameters in another order are a retry. */
    ec2(f, &resp,
        "Action=RunInstances&ClientToken=tok-2&InstanceType=t3.micro&MaxCount=1&MinCount=1"
        "&ImageId=%s",
        f->ami);
    assert_ok(&resp);
    http_resp_release(&resp);
    ec2(f, &resp,
        "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1&InstanceType=t3.small"
        "&ClientToken=tok-2",
        f->ami);
    assert_error(&resp, 400, "IdempotentParameterMismatch");
    assert_non_null(strstr(resp.body.data, "Arguments on this idempotent request are "
                                           "inconsistent with arguments used in previous "
                                           "request(s)."));
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeInstances");
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 1);
    http_resp_release(&resp);
}

static void
test_instance_initiated_shutdown(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char stop[32], term[32], killed[32];
    run_one(f, NULL, stop);
    run_one(f, "&InstanceInitiatedShutdownBehavior=terminate", term);
    run_one(f, NULL, killed);
    /* PID 1 exiting cleanly while running: the OS shut down. */
    sup_fake_exit(f->app.sup, stop, 0);
    assert_state(f, stop, "stopped");
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", stop);
    assert_non_null(strstr(resp.body.data, "<code>Client.InstanceInitiatedShutdown</code>"));
    assert_non_null(strstr(resp.body.data,
                           "<message>Client.InstanceInitiatedShutdown: Instance initiated "
                           "shutdown</message>"));
    http_resp_release(&resp);
    sup_fake_exit(f->app.sup, term, 0);
    assert_state(f, term, "terminated");
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", term);
    assert_non_null(strstr(resp.body.data, "<code>Client.InstanceInitiatedShutdown</code>"));
    http_resp_release(&resp);
    /* A kill is not a shutdown. */
    sup_fake_exit(f->app.sup, killed, 137);
    assert_state(f, killed, "running");
    /* The stopped one starts again. */
    ec2(f, &resp, "Action=StartInstances&InstanceId.1=%s", stop);
    assert_ok(&resp);
    http_resp_release(&resp);
    assert_int_equal(run_boots(f), 1);
    assert_state(f, stop, "running");
}

/* ---- ids and errors ---- */

static void
test_terminate_with_a_bad_id_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32];
    run_one(f, NULL, id);
    ec2(f, &resp, "Action=TerminateInstances&InstanceId.1=%s&InstanceId.2=i-0123456789abcdef0", id);
    assert_error(&resp, 400, "InvalidInstanceID.NotFound");
    assert_non_null(strstr(resp.body.data,
                           "The instance ID &apos;i-0123456789abcdef0&apos; does not exist"));
    http_resp_release(&resp);
    assert_state(f, id, "running");
    ec2(f, &resp,
        "Action=TerminateInstances&InstanceId.1=i-0123456789abcdef0&InstanceId.2=i-0123456789abcdef1");
    assert_non_null(strstr(
            resp.body.data,
            "The instance IDs &apos;i-0123456789abcdef0, i-0123456789abcdef1&apos; do not exist"));
    http_resp_release(&resp);
    ec2(f, &resp, "Action=TerminateInstances&InstanceId.1=bogus");
    assert_error(&resp, 400, "InvalidInstanceID.Malformed");
    assert_non_null(strstr(resp.body.data, "Invalid id: &quot;bogus&quot;"));
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=i-0123456789abcdef0");
    assert_error(&resp, 400, "InvalidInstanceID.NotFound");
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s&MaxResults=5", id);
    assert_error(&resp, 400, "InvalidParameterCombination");
    http_resp_release(&resp);
}

static void
test_termination_protection(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32], other[32];
    run_one(f, "&DisableApiTermination=true", id);
    run_one(f, NULL, other);
    ec2(f, &resp, "Action=TerminateInstances&InstanceId.1=%s&InstanceId.2=%s", other, id);
    assert_error(&resp, 400, "OperationNotPermitted");
    char want[200];
    snprintf(want, sizeof(want),
             "The instance &apos;%s&apos; may not be terminated. Modify its "
             "&apos;disableApiTermination&apos; instance attribute and try again.",
             id);
    assert_non_null(strstr(resp.body.data, want));
    http_resp_release(&resp);
    assert_state(f, other, "running");
    ec2(f, &resp, "Action=ModifyInstanceAttribute&InstanceId=%s&DisableApiTermination.Value=false",
        id);
    assert_ok(&resp);
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeInstanceAttribute&InstanceId=%s&Attribute=disableApiTermination",
        id);
    assert_ok(&resp);
    assert_non_null(strstr(resp.body.data, "<disableApiTermination><value>false</value>"));
    http_resp_release(&resp);
    ec2(f, &resp, "Action=TerminateInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    http_resp_release(&resp);
}

static void
test_instance_limit(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    f->app.cfg.instance_limit = 2;
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=3&MaxCount=3", f->ami);
    assert_error(&resp, 400, "InstanceLimitExceeded");
    assert_non_null(strstr(resp.body.data, "current instance limit of 2"));
    http_resp_release(&resp);
    /* As many as fit, at least MinCount. */
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=3", f->ami);
    assert_ok(&resp);
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 2);
    http_resp_release(&resp);
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1", f->ami);
    assert_error(&resp, 400, "InstanceLimitExceeded");
    http_resp_release(&resp);
}

static void
test_az_down_fails_launches_there(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32];
    run_one(f, "&Placement.AvailabilityZone=us-east-1a", id);
    request(&f->app, &resp, "POST", "/_fogbank/faults", NULL, 0,
            "{\"action\":\"az-down\",\"az\":\"us-east-1a\"}");
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body.data, "\"az-down\""));
    http_resp_release(&resp);
    assert_false(sup_alive(f->app.sup, id));
    assert_state(f, id, "running");
    ec2(f, &resp, "Action=DescribeInstanceStatus&InstanceId.1=%s", id);
    assert_non_null(strstr(resp.body.data, "<status>impaired</status></systemStatus>"));
    http_resp_release(&resp);
    ec2(f, &resp,
        "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1&InstanceType=t3.micro"
        "&Placement.AvailabilityZone=us-east-1a",
        f->ami);
    assert_error(&resp, 500, "InsufficientInstanceCapacity");
    assert_non_null(strstr(resp.body.data,
                           "We currently do not have sufficient t3.micro capacity in the "
                           "Availability Zone you requested (us-east-1a)."));
    http_resp_release(&resp);
    /* Without a zone, launches go elsewhere. */
    char other[32];
    run_one(f, NULL, other);
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", other);
    assert_null(strstr(resp.body.data, "us-east-1a<"));
    http_resp_release(&resp);

    request(&f->app, &resp, "POST", "/_fogbank/faults", NULL, 0,
            "{\"action\":\"az-up\",\"az\":\"us-east-1a\"}");
    assert_int_equal(resp.status, 200);
    http_resp_release(&resp);
    assert_true(sup_alive(f->app.sup, id));
    run_one(f, "&Placement.AvailabilityZone=us-east-1a", other);
}

static void
test_faults_kill_hang_clear_list(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32], body[200];
    run_one(f, NULL, id);
    snprintf(body, sizeof(body), "{\"action\":\"kill\",\"instance_id\":\"%s\"}", id);
    request(&f->app, &resp, "POST", "/_fogbank/faults", NULL, 0, body);
    assert_int_equal(resp.status, 200);
    http_resp_release(&resp);
    assert_false(sup_alive(f->app.sup, id));
    assert_state(f, id, "running");
    request(&f->app, &resp, "POST", "/_fogbank/faults", NULL, 0, "{\"action\":\"list\"}");
    assert_non_null(strstr(resp.body.data, "\"kill\""));
    http_resp_release(&resp);
    snprintf(body, sizeof(body), "{\"action\":\"clear\",\"instance_id\":\"%s\"}", id);
    request(&f->app, &resp, "POST", "/_fogbank/faults", NULL, 0, body);
    assert_int_equal(resp.status, 200);
    http_resp_release(&resp);
    assert_true(sup_alive(f->app.sup, id));
    snprintf(body, sizeof(body), "{\"action\":\"hang\",\"instance_id\":\"%s\"}", id);
    request(&f->app, &resp, "POST", "/_fogbank/faults", NULL, 0, body);
    http_resp_release(&resp);
    assert_true(sup_hung(f->app.sup, id));
    request(&f->app, &resp, "POST", "/_fogbank/faults", NULL, 0, "{\"action\":\"clear\"}");
    assert_non_null(strstr(resp.body.data, "\"faults\":[]"));
    http_resp_release(&resp);
    assert_false(sup_hung(f->app.sup, id));
    request(&f->app, &resp, "POST", "/_fogbank/faults", NULL, 0,
            "{\"action\":\"kill\",\"instance_id\":\"i-0123456789abcdef0\"}");
    assert_int_equal(resp.status, 404);
    http_resp_release(&resp);
    request(&f->app, &resp, "POST", "/_fogbank/faults", NULL, 0, "{\"action\":\"explode\"}");
    assert_int_equal(resp.status, 400);
    http_resp_release(&resp);
}

static void
test_status_and_ports(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32], body[200];
    run_one(f, NULL, id);
    request(&f->app, &resp, "GET", "/_fogbank/status", NULL, 0, NULL);
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body.data, id));
    assert_non_null(strstr(resp.body.data, "\"ports\":{\"80\":"));
    assert_non_null(strstr(resp.body.data, "\"private_ip\":\"172.31."));
    http_resp_release(&resp);
    snprintf(body, sizeof(body), "{\"instance_id\":\"%s\",\"port\":8080}", id);
    request(&f->app, &resp, "POST", "/_fogbank/ports", NULL, 0, body);
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body.data, "\"host_port\":"));
    http_resp_release(&resp);
    request(&f->app, &resp, "GET", "/_fogbank/status", NULL, 0, NULL);
    assert_non_null(strstr(resp.body.data, "\"8080\":"));
    http_resp_release(&resp);
}

/* ---- filters and pagination ---- */

static void
test_filters_and_pagination_over_1000_instances(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    f->app.cfg.instance_limit = 2000;
    ec2(f, &resp,
        "Action=RunInstances&ImageId=%s&MinCount=1000&MaxCount=1000"
        "&Placement.AvailabilityZone=us-east-1c&TagSpecification.1.ResourceType=instance"
        "&TagSpecification.1.Tag.1.Key=tier&TagSpecification.1.Tag.1.Value=web",
        f->ami);
    assert_ok(&resp);
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 1000);
    char first[32];
    xml_get(resp.body.data, "instanceId", first, sizeof(first));
    http_resp_release(&resp);
    assert_int_equal(run_boots(f), 1);
    char one[32];
    run_one(f, "&Placement.AvailabilityZone=us-east-1a", one);

    ec2(f, &resp, "Action=DescribeInstances&MaxResults=1000");
    assert_ok(&resp);
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 1000);
    assert_non_null(strstr(resp.body.data, "<nextToken>"));
    http_resp_release(&resp);

    /* Pages of 300 reach every instance once. */
    int total = 0, pages = 0;
    char token[512] = "";
    do {
        if (token[0])
            ec2(f, &resp, "Action=DescribeInstances&MaxResults=300&NextToken=%s", token);
        else
            ec2(f, &resp, "Action=DescribeInstances&MaxResults=300");
        assert_ok(&resp);
        total += count_of(resp.body.data, "<instanceId>");
        pages++;
        xml_get(resp.body.data, "nextToken", token, sizeof(token));
        http_resp_release(&resp);
    } while (token[0] && pages < 10);
    assert_int_equal(total, 1001);
    assert_int_equal(pages, 4);

    ec2(f, &resp, "Action=DescribeInstances&MaxResults=4");
    assert_error(&resp, 400, "InvalidParameterValue");
    http_resp_release(&resp);

    ec2(f, &resp,
        "Action=DescribeInstances&Filter.1.Name=availability-zone&Filter.1.Value.1=us-east-1a");
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 1);
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeInstances&Filter.1.Name=tag:tier&Filter.1.Value.1=web");
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 1000);
    http_resp_release(&resp);
    ec2(f, &resp,
        "Action=DescribeInstances&Filter.1.Name=tag-key&Filter.1.Value.1=tier"
        "&Filter.2.Name=instance-id&Filter.2.Value.1=%s",
        first);
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 1);
    http_resp_release(&resp);
    ec2(f, &resp,
        "Action=DescribeInstances&Filter.1.Name=instance-state-name&Filter.1.Value.1=stopped");
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 0);
    http_resp_release(&resp);
    ec2(f, &resp,
        "Action=DescribeInstances&Filter.1.Name=instance-state-code&Filter.1.Value.1=16"
        "&Filter.2.Name=image-id&Filter.2.Value.1=%s"
        "&Filter.3.Name=instance-type&Filter.3.Value.1=m1.small",
        f->ami);
    assert_int_equal(count_of(resp.body.data, "<instanceId>"), 1001);
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeInstances&Filter.1.Name=bogus-filter&Filter.1.Value.1=x");
    assert_error(&resp, 400, "InvalidParameterValue");
    http_resp_release(&resp);
}

/* ---- expiry ---- */

static void
test_terminated_instances_disappear_after_an_hour(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32];
    run_one(f, NULL, id);
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/instances/%s", f->dir, id);
    mkdir(f->dir, 0755);
    ec2(f, &resp, "Action=TerminateInstances&InstanceId.1=%s", id);
    http_resp_release(&resp);
    vclock_advance(f->app.clock, 59 * 60 * 1000);
    assert_state(f, id, "terminated");
    vclock_advance(f->app.clock, 2 * 60 * 1000);
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", id);
    assert_error(&resp, 400, "InvalidInstanceID.NotFound");
    http_resp_release(&resp);
    struct stat st;
    assert_int_not_equal(stat(dir, &st), 0);
}

/* ---- console, attributes ---- */

static void
test_console_output_and_attributes(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32];
    run_one(f, "&UserData=IyEvYmluL3NoCmVjaG8gaGk=", id);
    char path[200];
    snprintf(path, sizeof(path), "%s/instances/%s/console.log", f->dir, id);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("hello from user data\n", fp);
    fclose(fp);
    ec2(f, &resp, "Action=GetConsoleOutput&InstanceId=%s", id);
    assert_ok(&resp);
    /* base64("hello from user data\n") */
    assert_non_null(strstr(resp.body.data, "<output>aGVsbG8gZnJvbSB1c2VyIGRhdGEK</output>"));
    assert_non_null(strstr(resp.body.data, "<timestamp>"));
    http_resp_release(&resp);

    ec2(f, &resp, "Action=DescribeInstanceAttribute&InstanceId=%s&Attribute=userData", id);
    assert_ok(&resp);
    assert_non_null(strstr(resp.body.data, "IyEvYmluL3NoCmVjaG8gaGk="));
    http_resp_release(&resp);
    ec2(f, &resp, "Action=ModifyInstanceAttribute&InstanceId=%s&InstanceType.Value=t3.large", id);
    assert_error(&resp, 400, "IncorrectInstanceState");
    http_resp_release(&resp);
    ec2(f, &resp, "Action=StopInstances&InstanceId.1=%s", id);
    http_resp_release(&resp);
    ec2(f, &resp, "Action=ModifyInstanceAttribute&InstanceId=%s&InstanceType.Value=t3.large", id);
    assert_ok(&resp);
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeInstanceAttribute&InstanceId=%s&Attribute=instanceType", id);
    assert_non_null(strstr(resp.body.data, "<value>t3.large</value>"));
    http_resp_release(&resp);
    ec2(f, &resp,
        "Action=ModifyInstanceAttribute&InstanceId=%s"
        "&InstanceInitiatedShutdownBehavior.Value=terminate",
        id);
    assert_ok(&resp);
    http_resp_release(&resp);
    ec2(f, &resp,
        "Action=DescribeInstanceAttribute&InstanceId=%s"
        "&Attribute=instanceInitiatedShutdownBehavior",
        id);
    assert_non_null(strstr(resp.body.data, "<value>terminate</value>"));
    http_resp_release(&resp);
    ec2(f, &resp, "Action=ModifyInstanceAttribute&InstanceId=%s", id);
    assert_error(&resp, 400, "InvalidParameterCombination");
    http_resp_release(&resp);
    ec2(f, &resp, "Action=GetConsoleOutput&InstanceId=i-0123456789abcdef0");
    assert_error(&resp, 400, "InvalidInstanceID.NotFound");
    http_resp_release(&resp);
}

/* ---- the metadata service ---- */

static void
imds(struct fixture *f, struct http_resp *resp, const char *method, const char *id,
     const char *path, const char *hname, const char *hvalue)
{
    char target[256];
    snprintf(target, sizeof(target), "/_imds/%s/%s", id, path);
    struct http_header h = { hname, hvalue };
    request(&f->app, resp, method, target, hname ? &h : NULL, hname ? 1 : 0, NULL);
}

static void
test_imds_v1_paths(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32];
    run_one(f,
            "&UserData=IyEvYmluL3NoCmVjaG8gaGk=&Placement.AvailabilityZone=us-east-1b"
            "&IamInstanceProfile.Name=web-role&MetadataOptions.InstanceMetadataTags=enabled"
            "&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name"
            "&TagSpecification.1.Tag.1.Value=web-1",
            id);
    imds(f, &resp, "GET", id, "latest/meta-data/instance-id", NULL, NULL);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body.data, id);
    http_resp_release(&resp);
    imds(f, &resp, "GET", id, "latest/meta-data/placement/availability-zone", NULL, NULL);
    assert_string_equal(resp.body.data, "us-east-1b");
    http_resp_release(&resp);
    imds(f, &resp, "GET", id, "latest/meta-data/placement/region", NULL, NULL);
    assert_string_equal(resp.body.data, "us-east-1");
    http_resp_release(&resp);
    imds(f, &resp, "GET", id, "latest/meta-data/ami-id", NULL, NULL);
    assert_string_equal(resp.body.data, f->ami);
    http_resp_release(&resp);
    imds(f, &resp, "GET", id, "latest/meta-data/", NULL, NULL);
    assert_non_null(strstr(resp.body.data, "instance-id\n"));
    assert_non_null(strstr(resp.body.data, "placement/\n"));
    http_resp_release(&resp);
    imds(f, &resp, "GET", id, "latest/user-data", NULL, NULL);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body.data, "#!/bin/sh\necho hi");
    http_resp_release(&resp);
    imds(f, &resp, "GET", id, "latest/meta-data/tags/instance/Name", NULL, NULL);
    assert_string_equal(resp.body.data, "web-1");
    http_resp_release(&resp);
    imds(f, &resp, "GET", id, "latest/meta-data/iam/info", NULL, NULL);
    assert_non_null(strstr(resp.body.data, "instance-profile/web-role"));
    http_resp_release(&resp);
    imds(f, &resp, "GET", id, "latest/dynamic/instance-identity/document", NULL, NULL);
    assert_non_null(strstr(resp.body.data, "\"availabilityZone\":\t\"us-east-1b\""));
    http_resp_release(&resp);
    imds(f, &resp, "GET", id, "latest/meta-data/no-such-thing", NULL, NULL);
    assert_int_equal(resp.status, 404);
    http_resp_release(&resp);
    /* No key pair: no public-keys. */
    imds(f, &resp, "GET", id, "latest/meta-data/public-keys/0/openssh-key", NULL, NULL);
    assert_int_equal(resp.status, 404);
    http_resp_release(&resp);
    imds(f, &resp, "GET", "i-0123456789abcdef0", "latest/meta-data/instance-id", NULL, NULL);
    assert_int_equal(resp.status, 404);
    http_resp_release(&resp);

    /* No user data: 404. */
    char plain[32];
    run_one(f, NULL, plain);
    imds(f, &resp, "GET", plain, "latest/user-data", NULL, NULL);
    assert_int_equal(resp.status, 404);
    http_resp_release(&resp);

    /* public-keys/0/openssh-key is the key pair's public key. */
    char keyed[32], pub[1024];
    ec2(f, &resp, "Action=CreateKeyPair&KeyName=imds-key&KeyType=ed25519");
    assert_ok(&resp);
    http_resp_release(&resp);
    ec2(f, &resp, "Action=DescribeKeyPairs&KeyName.1=imds-key&IncludePublicKey=true");
    assert_ok(&resp);
    xml_get(resp.body.data, "publicKey", pub, sizeof(pub));
    http_resp_release(&resp);
    assert_true(str_starts(pub, "ssh-ed25519 "));
    run_one(f, "&KeyName=imds-key", keyed);
    imds(f, &resp, "GET", keyed, "latest/meta-data/public-keys/", NULL, NULL);
    assert_string_equal(resp.body.data, "0=imds-key");
    http_resp_release(&resp);
    imds(f, &resp, "GET", keyed, "latest/meta-data/public-keys/0/", NULL, NULL);
    assert_string_equal(resp.body.data, "openssh-key");
    http_resp_release(&resp);
    imds(f, &resp, "GET", keyed, "latest/meta-data/public-keys/0/openssh-key", NULL, NULL);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body.data, pub);
    http_resp_release(&resp);
}

static void
test_imds_v2_tokens(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32], token[128];
    run_one(f, "&MetadataOptions.HttpTokens=required", id);
    imds(f, &resp, "GET", id, "latest/meta-data/instance-id", NULL, NULL);
    assert_int_equal(resp.status, 401);
    http_resp_release(&resp);
    imds(f, &resp, "PUT", id, "latest/api/token", NULL, NULL);
    assert_int_equal(resp.status, 400);
    http_resp_release(&resp);
    imds(f, &resp, "PUT", id, "latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds", "21601");
    assert_int_equal(resp.status, 400);
    http_resp_release(&resp);
    imds(f, &resp, "PUT", id, "latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds", "60");
    assert_int_equal(resp.status, 200);
    snprintf(token, sizeof(token), "%s", resp.body.data);
    http_resp_release(&resp);
    imds(f, &resp, "GET", id, "latest/meta-data/instance-id", "X-aws-ec2-metadata-token", token);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body.data, id);
    http_resp_release(&resp);
    imds(f, &resp, "GET", id, "latest/meta-data/instance-id", "X-aws-ec2-metadata-token", "forged");
    assert_int_equal(resp.status, 401);
    http_resp_release(&resp);
    /* The token lives 60 s of virtual time. */
    vclock_advance(f->app.clock, 61 * 1000);
    imds(f, &resp, "GET", id, "latest/meta-data/instance-id", "X-aws-ec2-metadata-token", token);
    assert_int_equal(resp.status, 401);
    http_resp_release(&resp);

    char off[32];
    run_one(f, "&MetadataOptions.HttpEndpoint=disabled", off);
    imds(f, &resp, "GET", off, "latest/meta-data/instance-id", NULL, NULL);
    assert_int_equal(resp.status, 403);
    http_resp_release(&resp);
}

static void
test_reset_kills_every_tree(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char ids[3][32];
    run_n(f, 3, NULL, ids);
    request(&f->app, &resp, "POST", "/_fogbank/reset", NULL, 0, NULL);
    assert_int_equal(resp.status, 200);
    http_resp_release(&resp);
    for (int i = 0; i < 3; i++)
        assert_false(sup_alive(f->app.sup, ids[i]));
    ec2(f, &resp, "Action=DescribeInstances");
    assert_null(strstr(resp.body.data, "<instanceId>"));
    http_resp_release(&resp);
}

/* ---- the boots after RunInstances / StartInstances ---- */

static void
test_a_boot_that_fails_terminates_with_internal_error(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32], ip[32], sg[32], again[32];
    ec2(f, &resp, "Action=CreateSecurityGroup&GroupName=launch-sg&GroupDescription=d");
    assert_ok(&resp);
    xml_get(resp.body.data, "groupId", sg, sizeof(sg));
    http_resp_release(&resp);
    ec2(f, &resp,
        "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1&SecurityGroupId.1=%s"
        "&Placement.AvailabilityZone=us-east-1b",
        f->ami, sg);
    assert_ok(&resp);
    xml_get(resp.body.data, "instanceId", id, sizeof(id));
    xml_get(resp.body.data, "privateIpAddress", ip, sizeof(ip));
    http_resp_release(&resp);
    /* The instance directory cannot be made: the boot fails after the answer. */
    char bad[] = "/dev/null/fogbank-no-such-dir", *dir = f->app.data_dir;
    f->app.data_dir = bad;
    assert_int_equal(run_boots(f), 1);
    f->app.data_dir = dir;
    assert_false(sup_alive(f->app.sup, id));
    assert_state(f, id, "terminated");
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", id);
    assert_non_null(strstr(resp.body.data, "<code>Server.InternalError</code>"));
    assert_non_null(strstr(resp.body.data,
                           "<message>Server.InternalError: Internal error on launch</message>"));
    http_resp_release(&resp);
    /* Its address and its group were given back, as TerminateInstances does. */
    ec2(f, &resp, "Action=DeleteSecurityGroup&GroupId=%s", sg);
    assert_ok(&resp);
    http_resp_release(&resp);
    run_one(f, "&Placement.AvailabilityZone=us-east-1b", again);
    ec2(f, &resp, "Action=DescribeInstances&InstanceId.1=%s", again);
    char got[32];
    xml_get(resp.body.data, "privateIpAddress", got, sizeof(got));
    http_resp_release(&resp);
    assert_string_equal(got, ip);
    assert_state(f, again, "running");
    /* It no longer counts against the limit. */
    f->app.cfg.instance_limit = 2;
    run_one(f, NULL, again);
}

static void
test_terminate_before_the_boot(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32];
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1", f->ami);
    assert_ok(&resp);
    xml_get(resp.body.data, "instanceId", id, sizeof(id));
    http_resp_release(&resp);
    ec2(f, &resp, "Action=TerminateInstances&InstanceId.1=%s", id);
    assert_ok(&resp);
    assert_non_null(strstr(resp.body.data, "<previousState><code>0</code><name>pending"));
    http_resp_release(&resp);
    assert_state(f, id, "terminated");
    run_boots(f);
    assert_state(f, id, "terminated");
    assert_false(sup_alive(f->app.sup, id));
}

static void
test_reset_and_stop_cancel_pending_boots(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char id[32];
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=2&MaxCount=2", f->ami);
    assert_ok(&resp);
    xml_get(resp.body.data, "instanceId", id, sizeof(id));
    http_resp_release(&resp);
    request(&f->app, &resp, "POST", "/_fogbank/reset", NULL, 0, NULL);
    assert_int_equal(resp.status, 200);
    http_resp_release(&resp);
    assert_int_equal(vclock_timers_pending(f->app.clock), 0);
    assert_int_equal(run_boots(f), 0);
    assert_false(sup_alive(f->app.sup, id));

    /* A shutdown forgets the queued boots; the next start boots the pending rows. */
    ec2(f, &resp, "Action=RunInstances&ImageId=%s&MinCount=1&MaxCount=1", f->ami);
    assert_ok(&resp);
    xml_get(resp.body.data, "instanceId", id, sizeof(id));
    http_resp_release(&resp);
    ec2_instances_stop(&f->app);
    assert_int_equal(vclock_timers_pending(f->app.clock), 0);
    assert_false(sup_alive(f->app.sup, id));
    char errbuf[256];
    assert_int_equal(ec2_instances_start(&f->app, errbuf, sizeof(errbuf)), 0);
    assert_true(sup_alive(f->app.sup, id));
    assert_state(f, id, "running");
}

/* The body of a DescribeInstances answer with its request id blanked, into out. */
static void
describe_body(struct fixture *f, const char *extra, struct buf *out)
{
    struct http_resp resp;
    ec2(f, &resp, "Action=DescribeInstances%s", extra);
    assert_ok(&resp);
    buf_reset(out);
    const char *p = resp.body.data, *open = strstr(p, "<requestId>");
    const char *close = open ? strstr(open, "</requestId>") : NULL;
    assert_non_null(close);
    buf_add(out, p, (size_t)(open - p));
    buf_adds(out, close);
    http_resp_release(&resp);
}

static void
test_describe_instances_rendered_items_follow_every_change(void **state)
{
    struct fixture *f = *state;
    struct http_resp resp;
    char ids[2][32];
    run_n(f, 2, NULL, ids);
    struct buf first = BUF_INIT, again = BUF_INIT;
    describe_body(f, "", &first);
    describe_body(f, "", &again);
    assert_string_equal(first.data, again.data);
    /* A filter takes the row path; the same instances answer the same bytes. */
    describe_body(f, "&Filter.1.Name=instance-state-name&Filter.1.Value.1=running", &again);
    assert_string_equal(first.data, again.data);

    /* A tag, a state change and a terminate each show in the next answer. */
    ec2(f, &resp, "Action=CreateTags&ResourceId.1=%s&Tag.1.Key=Name&Tag.1.Value=web", ids[0]);
    assert_ok(&resp);
    http_resp_release(&resp);
    describe_body(f, "", &again);
    assert_non_null(strstr(again.data, "<key>Name</key><value>web</value>"));
    ec2(f, &resp, "Action=StopInstances&InstanceId.1=%s", ids[1]);
    assert_ok(&resp);
    http_resp_release(&resp);
    describe_body(f, "", &again);
    assert_non_null(strstr(again.data, "<name>stopped</name>"));
    ec2(f, &resp, "Action=TerminateInstances&InstanceId.1=%s", ids[0]);
    assert_ok(&resp);
    http_resp_release(&resp);
    describe_body(f, "", &again);
    assert_int_equal(count_of(again.data, "<name>terminated</name>"), 1);
    /* A terminated instance has given its address back. */
    assert_int_equal(count_of(again.data, "<privateIpAddress>"), 1);
    buf_release(&first);
    buf_release(&again);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_run_describe_terminate),
        T(test_run_instances_errors),
        T(test_client_token_returns_the_same_reservation),
        T(test_lifecycle_cells),
        T(test_exit_of_a_running_tree_leaves_it_running_but_impaired),
        T(test_describe_instance_status_include_all),
        T(test_dry_run_changes_nothing),
        T(test_client_token_reused_with_other_parameters),
        T(test_instance_initiated_shutdown),
        T(test_terminate_with_a_bad_id_changes_nothing),
        T(test_termination_protection),
        T(test_instance_limit),
        T(test_az_down_fails_launches_there),
        T(test_faults_kill_hang_clear_list),
        T(test_status_and_ports),
        T(test_filters_and_pagination_over_1000_instances),
        T(test_terminated_instances_disappear_after_an_hour),
        T(test_console_output_and_attributes),
        T(test_imds_v1_paths),
        T(test_imds_v2_tokens),
        T(test_reset_kills_every_tree),
        T(test_a_boot_that_fails_terminates_with_internal_error),
        T(test_terminate_before_the_boot),
        T(test_reset_and_stop_cancel_pending_boots),
        T(test_describe_instances_rendered_items_follow_every_change),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
