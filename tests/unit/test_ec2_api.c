/*
 * The internal EC2 API (services/ec2/api.h) as another service uses it: calls made inside a
 * transaction the test opens, as a timer callback would, against an in-memory state, a
 * frozen clock and the supervisor's fake backend; the results checked through the EC2 API.
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
#include "services/ec2/api.h"
#include "services/ec2/instances.h"
#include "state/db.h"

#define AUTH                                                                                       \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/ec2/aws4_request, "                       \
    "SignedHeaders=host, Signature=00"
#define START_MS 1795000000000LL

struct fixture {
    struct app app;       /* the app under test */
    char dir[64];         /* temporary data directory */
    char ami[32];         /* a built-in image id */
    struct aws_call call; /* what another service's timer would pass */
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void request(struct fixture *f, struct http_resp *resp, const char *path, const char *fmt,
                    ...) FB_PRINTF(4, 5);

/* POST `path` with a body: an EC2 query ("/", Version added) or a control-API JSON body. */
static void
request(struct fixture *f, struct http_resp *resp, const char *path, const char *fmt, ...)
{
    struct buf body = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&body, fmt, ap);
    va_end(ap);
    bool json = body.data[0] == '{';
    if (!json)
        buf_adds(&body, "&Version=2016-11-15");
    struct http_header h[] = {
        { "Authorization", AUTH },
        { "Content-Type", json ? "application/json" : "application/x-www-form-urlencoded" },
    };
    struct http_req req = { .method = "POST",
                            .target = path,
                            .headers = h,
                            .n_headers = ARRAY_SIZE(h),
                            .body = body.data,
                            .body_len = body.len,
                            .peer = "127.0.0.1" };
    http_resp_init(resp);
    router_handle(&f->app, &req, resp);
    buf_release(&body);
}

static void
xml_get(const char *from, const char *tag, char *out, size_t outsz)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    out[0] = '\0';
    const char *p = strstr(from, open);
    const char *q = p ? strstr(p, close) : NULL;
    if (q)
        snprintf(out, outsz, "%.*s", (int)(q - p - strlen(open)), p + strlen(open));
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
    snprintf(f->dir, sizeof(f->dir), "/tmp/fogbank-test-api-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->app.data_dir = f->dir;
    f->app.sup = sup_new_fake(NULL, NULL, NULL);
    assert_int_equal(ec2_instances_start(&f->app, errbuf, sizeof(errbuf)), 0);
    struct http_resp resp;
    request(f, &resp, "/", "Action=DescribeImages&Owner.1=amazon");
    assert_int_equal(resp.status, 200);
    xml_get(resp.body.data, "imageId", f->ami, sizeof(f->ami));
    assert_true(str_starts(f->ami, "ami-"));
    http_resp_release(&resp);
    f->call = (struct aws_call){ .app = &f->app,
                                 .service = "autoscaling",
                                 .op = "fogbank-internal",
                                 .region = "us-east-1",
                                 .account_id = "123456789012",
                                 .request_id = "",
                                 .now_ms = START_MS };
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

/* ec2_api_run_instances of one instance in `az`, committed and booted; its id into id. */
static int
launch_in(struct fixture *f, const char *az, char id[32], struct aws_err *err)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "ImageId", f->ami);
    cJSON_AddStringToObject(req, "InstanceType", "t3.micro");
    cJSON_AddNumberToObject(req, "MinCount", 1);
    cJSON_AddNumberToObject(req, "MaxCount", 1);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(req, "Placement"), "AvailabilityZone", az);
    cJSON *out = cJSON_CreateObject();
    aws_err_clear(err);
    assert_int_equal(db_begin(f->app.db, true), 0);
    int rc = ec2_api_run_instances(&f->call, req, out, err);
    if (rc == 0) {
        const cJSON *inst = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "Instances"), 0);
        snprintf(id, 32, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(inst, "InstanceId")));
        assert_int_equal(db_commit(f->app.db), 0);
    } else {
        db_rollback(f->app.db);
    }
    cJSON_Delete(req);
    cJSON_Delete(out);
    vclock_run_due(f->app.clock);
    return rc;
}

static struct ec2_api_instance
get(struct fixture *f, const char *id, int want)
{
    struct ec2_api_instance inst;
    memset(&inst, 0, sizeof(inst));
    assert_int_equal(db_begin(f->app.db, false), 0);
    assert_int_equal(ec2_api_instance_get(&f->call, id, &inst), want);
    assert_int_equal(db_commit(f->app.db), 0);
    return inst;
}

static void
fault(struct fixture *f, const char *action, const char *key, const char *target, int status)
{
    struct http_resp resp;
    request(f, &resp, "/_fogbank/faults", "{\"action\":\"%s\",\"%s\":\"%s\"}", action, key, target);
    if (resp.status != status)
        fail_msg("fault %s %s: want %d, got %d %s", action, target, status, resp.status,
                 resp.body.data);
    http_resp_release(&resp);
}

static void
test_run_get_terminate(void **state)
{
    struct fixture *f = *state;
    struct aws_err err;
    char id[32];
    assert_int_equal(launch_in(f, "us-east-1b", id, &err), 0);
    assert_true(str_starts(id, "i-"));
    struct ec2_api_instance inst = get(f, id, 1);
    assert_string_equal(inst.state_name, "running");
    assert_int_equal(inst.state_code, 16);
    assert_string_equal(inst.az, "us-east-1b");
    assert_string_equal(inst.region, "us-east-1");
    assert_string_equal(inst.image_id, f->ami);
    assert_string_equal(inst.instance_type, "t3.micro");
    assert_true(str_starts(inst.subnet_id, "subnet-"));
    assert_true(str_starts(inst.vpc_id, "vpc-"));
    assert_true(inst.private_ip[0] != '\0');
    assert_int_equal(inst.launch_ms, START_MS);
    assert_false(inst.impaired);

    /* A tag the API refuses to users goes on through the internal call. */
    assert_int_equal(db_begin(f->app.db, true), 0);
    assert_int_equal(ec2_api_tag_put(&f->call, id, "aws:autoscaling:groupName", "web"), 0);
    assert_int_equal(db_commit(f->app.db), 0);
    struct http_resp resp;
    request(f, &resp, "/", "Action=DescribeInstances&InstanceId.1=%s", id);
    assert_non_null(strstr(resp.body.data, "<key>aws:autoscaling:groupName</key><value>web"));
    http_resp_release(&resp);

    assert_int_equal(db_begin(f->app.db, true), 0);
    assert_int_equal(ec2_api_terminate(&f->call, id, &err), 0);
    /* Twice, and an id that never existed: the caller wanted them gone, which they are. */
    assert_int_equal(ec2_api_terminate(&f->call, id, &err), 0);
    assert_int_equal(ec2_api_terminate(&f->call, "i-0123456789abcdef0", &err), 0);
    assert_int_equal(db_commit(f->app.db), 0);
    inst = get(f, id, 1);
    assert_string_equal(inst.state_name, "terminated");
    get(f, "i-0123456789abcdef0", 0);
}

static void
test_run_errors_are_the_api_errors(void **state)
{
    struct fixture *f = *state;
    struct aws_err err;
    char id[32];
    fault(f, "az-down", "az", "us-east-1a", 200);
    assert_int_equal(launch_in(f, "us-east-1a", id, &err), -1);
    assert_string_equal(err.code, "InsufficientInstanceCapacity");
    assert_non_null(strstr(err.message, "(us-east-1a)"));
    assert_int_equal(launch_in(f, "us-east-2a", id, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValue");

    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "ImageId", "ami-0123456789abcdef0");
    cJSON_AddNumberToObject(req, "MinCount", 1);
    cJSON_AddNumberToObject(req, "MaxCount", 1);
    cJSON *out = cJSON_CreateObject();
    assert_int_equal(db_begin(f->app.db, true), 0);
    assert_int_equal(ec2_api_run_instances(&f->call, req, out, &err), -1);
    db_rollback(f->app.db);
    assert_string_equal(err.code, "InvalidAMIID.NotFound");
    cJSON_Delete(req);
    cJSON_Delete(out);
    /* Nothing was made by the failures. */
    struct http_resp resp;
    request(f, &resp, "/", "Action=DescribeInstances");
    assert_null(strstr(resp.body.data, "<instanceId>"));
    http_resp_release(&resp);
}

static void
test_terminate_refused_under_protection(void **state)
{
    struct fixture *f = *state;
    struct aws_err err;
    char id[32];
    assert_int_equal(launch_in(f, "us-east-1c", id, &err), 0);
    struct http_resp resp;
    request(f, &resp, "/",
            "Action=ModifyInstanceAttribute&InstanceId=%s&DisableApiTermination.Value=true", id);
    assert_int_equal(resp.status, 200);
    http_resp_release(&resp);
    assert_int_equal(db_begin(f->app.db, true), 0);
    assert_int_equal(ec2_api_terminate(&f->call, id, &err), -1);
    db_rollback(f->app.db);
    assert_string_equal(err.code, "OperationNotPermitted");
    assert_string_equal(get(f, id, 1).state_name, "running");
}

static void
test_impaired_by_kill_hang_and_zone(void **state)
{
    struct fixture *f = *state;
    struct aws_err err;
    char a[32], b[32];
    assert_int_equal(launch_in(f, "us-east-1a", a, &err), 0);
    assert_int_equal(launch_in(f, "us-east-1b", b, &err), 0);
    fault(f, "kill", "instance_id", a, 200);
    assert_true(get(f, a, 1).impaired);
    assert_string_equal(get(f, a, 1).state_name, "running");
    fault(f, "hang", "instance_id", b, 200);
    assert_true(get(f, b, 1).impaired);
    fault(f, "clear", "instance_id", a, 200);
    fault(f, "clear", "instance_id", b, 200);
    assert_false(get(f, a, 1).impaired);
    assert_false(get(f, b, 1).impaired);
    fault(f, "az-down", "az", "us-east-1b", 200);
    assert_true(get(f, b, 1).impaired);
    assert_false(get(f, a, 1).impaired);
}

static void
test_health_fail_fault(void **state)
{
    struct fixture *f = *state;
    struct aws_err err;
    char id[32];
    assert_int_equal(launch_in(f, "us-east-1a", id, &err), 0);
    assert_int_equal(db_begin(f->app.db, false), 0);
    assert_false(ec2_api_health_fail(&f->call, id));
    db_rollback(f->app.db);
    fault(f, "health-fail", "instance_id", id, 200);
    /* Its processes are untouched: EC2 sees nothing wrong. */
    assert_true(sup_alive(f->app.sup, id));
    assert_false(get(f, id, 1).impaired);
    assert_int_equal(db_begin(f->app.db, false), 0);
    assert_true(ec2_api_health_fail(&f->call, id));
    db_rollback(f->app.db);
    struct http_resp resp;
    request(f, &resp, "/_fogbank/faults", "{\"action\":\"list\"}");
    assert_non_null(strstr(resp.body.data, "\"health-fail\""));
    http_resp_release(&resp);
    fault(f, "clear", "instance_id", id, 200);
    assert_int_equal(db_begin(f->app.db, false), 0);
    assert_false(ec2_api_health_fail(&f->call, id));
    db_rollback(f->app.db);
    /* Only an existing, running instance. */
    fault(f, "health-fail", "instance_id", "i-0123456789abcdef0", 404);
    request(f, &resp, "/_fogbank/faults", "{\"action\":\"health-fail\"}");
    assert_int_equal(resp.status, 400);
    http_resp_release(&resp);
}

static void
test_host_port_and_zone_up(void **state)
{
    struct fixture *f = *state;
    struct aws_err err;
    char id[32];
    assert_int_equal(launch_in(f, "us-east-1a", id, &err), 0);
    assert_int_equal(db_begin(f->app.db, true), 0);
    int p80 = ec2_api_host_port(&f->call, id, 80, false);
    assert_true(p80 > 0);
    assert_int_equal(ec2_api_host_port(&f->call, id, 8080, false), 0);
    int p8080 = ec2_api_host_port(&f->call, id, 8080, true);
    assert_true(p8080 > 0 && p8080 != p80);
    assert_int_equal(ec2_api_host_port(&f->call, id, 8080, false), p8080);
    assert_int_equal(ec2_api_host_port(&f->call, "i-0123456789abcdef0", 80, true), 0);
    assert_true(ec2_api_zone_up(&f->call, "us-east-1a"));
    assert_true(ec2_api_zone_up(&f->call, "us-east-1c"));
    assert_false(ec2_api_zone_up(&f->call, "us-east-1d"));
    assert_false(ec2_api_zone_up(&f->call, "us-west-2a"));
    assert_false(ec2_api_zone_up(&f->call, ""));
    assert_int_equal(db_commit(f->app.db), 0);
    fault(f, "az-down", "az", "us-east-1a", 200);
    assert_int_equal(db_begin(f->app.db, false), 0);
    assert_false(ec2_api_zone_up(&f->call, "us-east-1a"));
    assert_true(ec2_api_zone_up(&f->call, "us-east-1b"));
    db_rollback(f->app.db);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_run_get_terminate),
        T(test_run_errors_are_the_api_errors),
        T(test_terminate_refused_under_protection),
        T(test_impaired_by_kill_hang_and_zone),
        T(test_health_fail_fault),
        T(test_host_port_and_zone_up),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
