/*
 * The router: which service a request is for, the region, and whole calls answered
 * in-process (in-memory state, frozen clock, fixed seed) through every protocol envelope.
 */
#include "emulator/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "emulator/app.h"
#include "emulator/clock.h"
#include "emulator/ids.h"
#include "emulator/model.h"
#include "emulator/protocol/protocol.h"
#include "emulator/router.h"
#include "state/db.h"

#define AUTH(svc, region)                                                                          \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/" region "/" svc                                    \
    "/aws4_request, SignedHeaders=host, Signature=00"

static const char *
pick(const char *target, const char *auth, const char *amz_target, const char *body)
{
    struct http_header h[2];
    size_t n = 0;
    if (auth)
        h[n++] = (struct http_header){ "Authorization", auth };
    if (amz_target)
        h[n++] = (struct http_header){ "X-Amz-Target", amz_target };
    struct http_req req = { .method = "POST", .target = target, .headers = h, .n_headers = n };
    struct params p = PARAMS_INIT;
    if (body)
        assert_int_equal(params_parse(&p, body, strlen(body)), 0);
    const char *svc = router_pick_service(&req, &p);
    params_release(&p);
    return svc;
}

static void
test_pick_by_credential_scope(void **state)
{
    (void)state;
    assert_string_equal(pick("/", AUTH("ec2", "us-east-1"), NULL, NULL), "ec2");
    assert_string_equal(pick("/", AUTH("autoscaling", "us-east-1"), NULL, NULL), "autoscaling");
    assert_string_equal(pick("/", AUTH("cloudformation", "eu-west-1"), NULL, NULL),
                        "cloudformation");
    assert_string_equal(pick("/", AUTH("sts", "us-east-1"), NULL, NULL), "sts");
    assert_string_equal(pick("/bucket/key", AUTH("s3", "us-east-1"), NULL, NULL), "s3");
}

static void
test_pick_elb_and_elbv2_by_version(void **state)
{
    (void)state;
    assert_string_equal(pick("/", AUTH("elasticloadbalancing", "us-east-1"), NULL,
                             "Action=DescribeLoadBalancers&Version=2012-06-01"),
                        "elb");
    assert_string_equal(pick("/", AUTH("elasticloadbalancing", "us-east-1"), NULL,
                             "Action=DescribeLoadBalancers&Version=2015-12-01"),
                        "elbv2");
}

static void
test_pick_by_target_path_version_else_s3(void **state)
{
    (void)state;
    assert_string_equal(pick("/", NULL, "CodeDeploy_20141006.ListApplications", NULL),
                        "codedeploy");
    assert_string_equal(pick("/2013-04-01/hostedzone", NULL, NULL, NULL), "route53");
    assert_string_equal(pick("/", NULL, NULL, "Action=ListStacks&Version=2010-05-15"),
                        "cloudformation");
    assert_string_equal(pick("/", NULL, NULL, "Action=DescribeRegions&Version=2016-11-15"), "ec2");
    assert_string_equal(pick("/my-bucket", NULL, NULL, NULL), "s3");
}

static void
test_region_from_scope(void **state)
{
    (void)state;
    char region[64];
    struct http_header h = { "Authorization", AUTH("ec2", "ap-south-1") };
    struct http_req req = { .method = "POST", .target = "/", .headers = &h, .n_headers = 1 };
    router_region(&req, region, sizeof(region));
    assert_string_equal(region, "ap-south-1");
    req.n_headers = 0;
    router_region(&req, region, sizeof(region));
    assert_string_equal(region, "us-east-1");
    h.value = "AWS4-HMAC-SHA256 Credential=AKID/20261128/<script>/ec2/aws4_request";
    req.n_headers = 1;
    router_region(&req, region, sizeof(region));
    assert_string_equal(region, "us-east-1");
}

/* ---- whole calls, in-process ---- */

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
    db_close(app->db);
    vclock_free(app->clock);
    ids_free(app->ids);
    free(app);
    return 0;
}

/* Sends one request through router_handle; the caller releases resp. */
static void
call(struct app *app, struct http_resp *resp, const char *method, const char *target,
     const char *auth, const char *amz_target, const char *content_type, const char *body)
{
    struct http_header h[3];
    size_t n = 0;
    if (auth)
        h[n++] = (struct http_header){ "Authorization", auth };
    if (amz_target)
        h[n++] = (struct http_header){ "X-Amz-Target", amz_target };
    if (content_type)
        h[n++] = (struct http_header){ "Content-Type", content_type };
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

#define FORM "application/x-www-form-urlencoded; charset=utf-8"

static void
test_ec2_describe_availability_zones_answers_three_zones(void **state)
{
    struct http_resp resp;
    call(*state, &resp, "POST", "/", AUTH("ec2", "us-west-2"), NULL, FORM,
         "Action=DescribeAvailabilityZones&Version=2016-11-15");
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.service, "ec2");
    assert_string_equal(resp.op, "DescribeAvailabilityZones");
    assert_non_null(strstr(resp.body.data, "<zoneName>us-west-2a</zoneName>"));
    assert_non_null(strstr(resp.body.data, "<zoneName>us-west-2c</zoneName>"));
    assert_non_null(strstr(resp.body.data, "<zoneId>usw2-az2</zoneId>"));
    assert_null(strstr(resp.body.data, "us-west-2d"));
    http_resp_release(&resp);
}

static void
test_not_implemented_is_501_in_each_envelope(void **state)
{
    struct http_resp resp;
    call(*state, &resp, "POST", "/", AUTH("ec2", "us-east-1"), NULL, FORM,
         "Action=DescribeVolumes&Version=2016-11-15");
    assert_int_equal(resp.status, 501);
    assert_non_null(strstr(resp.body.data, "<Code>NotImplemented</Code>"));
    assert_non_null(strstr(resp.body.data, "DescribeVolumes"));
    http_resp_release(&resp);

    call(*state, &resp, "POST", "/", AUTH("cloudformation", "us-east-1"), NULL, FORM,
         "Action=ListStacks&Version=2010-05-15");
    assert_int_equal(resp.status, 501);
    assert_non_null(strstr(resp.body.data, "<ErrorResponse"));
    assert_non_null(strstr(resp.body.data, "ListStacks"));
    http_resp_release(&resp);

    call(*state, &resp, "POST", "/", AUTH("codedeploy", "us-east-1"),
         "CodeDeploy_20141006.ListApplications", "application/x-amz-json-1.1", "{}");
    assert_int_equal(resp.status, 501);
    assert_non_null(strstr(resp.body.data, "\"NotImplemented\""));
    http_resp_release(&resp);

    call(*state, &resp, "GET", "/2013-04-01/delegationset", AUTH("route53", "us-east-1"), NULL,
         NULL, NULL);
    assert_int_equal(resp.status, 501);
    assert_string_equal(resp.op, "ListReusableDelegationSets");
    http_resp_release(&resp);

    call(*state, &resp, "GET", "/", AUTH("s3", "us-east-1"), NULL, NULL, NULL);
    assert_int_equal(resp.status, 501);
    assert_string_equal(resp.op, "ListBuckets");
    assert_non_null(strstr(resp.body.data, "<Error><Code>NotImplemented</Code>"));
    http_resp_release(&resp);
}

static void
test_unknown_action_and_versions(void **state)
{
    struct http_resp resp;
    call(*state, &resp, "POST", "/", AUTH("autoscaling", "us-east-1"), NULL, FORM,
         "Action=Fly&Version=2011-01-01");
    assert_int_equal(resp.status, 400);
    assert_non_null(strstr(resp.body.data, "<Code>InvalidAction</Code>"));
    http_resp_release(&resp);

    call(*state, &resp, "POST", "/", AUTH("ec2", "us-east-1"), NULL, FORM,
         "Action=DescribeRegions");
    assert_int_equal(resp.status, 400);
    assert_non_null(strstr(resp.body.data, "<Code>MissingParameter</Code>"));
    http_resp_release(&resp);

    call(*state, &resp, "POST", "/", AUTH("ec2", "us-east-1"), NULL, FORM,
         "Action=DescribeRegions&Version=2012-12-12");
    assert_int_equal(resp.status, 400);
    assert_non_null(strstr(resp.body.data, "<Code>NoSuchVersion</Code>"));
    http_resp_release(&resp);

    call(*state, &resp, "POST", "/", AUTH("ec2", "us-east-1"), NULL, FORM,
         "Action=DescribeRegions&Version=2016-11-15&x=%zz");
    assert_int_equal(resp.status, 404);
    assert_non_null(strstr(resp.body.data, "<Code>MalformedQueryString</Code>"));
    http_resp_release(&resp);
}

static void
test_sts_identity_uses_the_account(void **state)
{
    struct app *app = *state;
    app->cfg.account_id = "000011112222";
    struct http_resp resp;
    call(app, &resp, "POST", "/", AUTH("sts", "us-east-1"), NULL, FORM,
         "Action=GetCallerIdentity&Version=2011-06-15");
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body.data, "<Account>000011112222</Account>"));
    assert_non_null(strstr(resp.body.data, "<GetCallerIdentityResult>"));
    http_resp_release(&resp);
    app->cfg.account_id = "123456789012";
}

static void
test_request_ids_are_reproducible_with_a_seed(void **state)
{
    (void)state;
    struct ids *a = ids_new(7), *b = ids_new(7);
    char x[37], y[37];
    ids_uuid(a, x);
    ids_uuid(b, y);
    assert_string_equal(x, y);
    assert_int_equal(strlen(x), 36);
    assert_int_equal(x[14], '4');
    ids_free(a);
    ids_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_by_credential_scope),
        cmocka_unit_test(test_pick_elb_and_elbv2_by_version),
        cmocka_unit_test(test_pick_by_target_path_version_else_s3),
        cmocka_unit_test(test_region_from_scope),
        cmocka_unit_test(test_request_ids_are_reproducible_with_a_seed),
        cmocka_unit_test_setup_teardown(test_ec2_describe_availability_zones_answers_three_zones,
                                        app_setup, app_teardown),
        cmocka_unit_test_setup_teardown(test_not_implemented_is_501_in_each_envelope, app_setup,
                                        app_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_action_and_versions, app_setup, app_teardown),
        cmocka_unit_test_setup_teardown(test_sts_identity_uses_the_account, app_setup,
                                        app_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
