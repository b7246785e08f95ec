/*
 * EC2 networking, key pairs and tags, called through router_handle in-process (in-memory
 * state, frozen clock, fixed seed) as the aws CLI would send them: each operation's happy
 * path and errors, filters, pagination, the default VPC, tags, and that a failed call changes
 * nothing. Also the shared helpers of services/ec2/common.c and the subnet address pool.
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
#include "emulator/protocol/protocol.h"
#include "emulator/router.h"
#include "services/ec2/ec2_internal.h"
#include "state/db.h"

#define AUTH_US_EAST_1                                                                             \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/ec2/aws4_request, "                       \
    "SignedHeaders=host, Signature=00"
#define AUTH_EU_WEST_1                                                                             \
    "AWS4-HMAC-SHA256 Credential=AKID/20261128/eu-west-1/ec2/aws4_request, "                       \
    "SignedHeaders=host, Signature=00"

static struct http_resp resp; /* the last answer */
static bool have_resp;        /* resp holds one to release */
static const char *auth = AUTH_US_EAST_1;

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
    auth = AUTH_US_EAST_1;
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
    db_close(app->db);
    vclock_free(app->clock);
    ids_free(app->ids);
    free(app);
    return 0;
}

/* Sends "Action=<fmt...>&Version=2016-11-15" as the CLI would; returns the HTTP status. */
static int FB_PRINTF(2, 3) ec2(struct app *app, const char *fmt, ...)
{
    struct buf body = BUF_INIT;
    buf_adds(&body, "Action=");
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&body, fmt, ap);
    va_end(ap);
    buf_adds(&body, "&Version=2016-11-15");
    struct http_header h[2] = {
        { "Authorization", auth },
        { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
    };
    struct http_req req = { .method = "POST",
                            .target = "/",
                            .headers = h,
                            .n_headers = 2,
                            .body = body.data,
                            .body_len = body.len,
                            .peer = "127.0.0.1" };
    if (have_resp)
        http_resp_release(&resp);
    http_resp_init(&resp);
    have_resp = true;
    router_handle(app, &req, &resp);
    buf_release(&body);
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

/* Copies first(tag) into out. */
static void
grab(const char *tag, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s", first(tag));
    assert_true(out[0] != '\0');
}

static void
assert_error(int status, const char *code)
{
    char want[128];
    snprintf(want, sizeof(want), "<Code>%s</Code>", code);
    if (status != 400 || !has(want))
        fail_msg("expected 400 %s, got %d: %s", code, status, BODY);
}

static void
assert_ok(int status)
{
    if (status != 200)
        fail_msg("expected 200, got %d: %s", status, BODY);
}

/* The whole visible network state of the region (every Describe, request ids removed). */
static char *
snapshot(struct app *app)
{
    static const char *const calls[] = { "DescribeVpcs", "DescribeSubnets",
                                         "DescribeSecurityGroups", "DescribeKeyPairs",
                                         "DescribeTags" };
    struct buf all = BUF_INIT;
    for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
        assert_ok(ec2(app, "%s", calls[i]));
        const char *a = strstr(BODY, "<requestId>");
        const char *b = a ? strstr(a, "</requestId>") : NULL;
        if (a && b) {
            buf_add(&all, BODY, (size_t)(a - BODY));
            buf_adds(&all, b);
        } else {
            buf_adds(&all, BODY);
        }
    }
    return buf_detach(&all, NULL);
}

/* A new VPC with that CIDR; its id into out. */
static void
make_vpc(struct app *app, const char *cidr, char *out, size_t outsz)
{
    assert_ok(ec2(app, "CreateVpc&CidrBlock=%s", cidr));
    grab("vpcId", out, outsz);
}

static void
make_sg(struct app *app, const char *vpc, const char *name, char *out, size_t outsz)
{
    assert_ok(ec2(app, "CreateSecurityGroup&GroupName=%s&GroupDescription=d&VpcId=%s", name, vpc));
    grab("groupId", out, outsz);
}

/* ---- common.c ---- */

static void
test_filter_match_paths_wildcards_tags_and_unknown_names(void **state)
{
    (void)state;
    static const struct ec2_filter_def defs[] = {
        { "zone", "Placement.AvailabilityZone" },
        { "group-id", "Groups.GroupId" },
        { "is-default", "IsDefault" },
        { "count", "Count" },
    };
    cJSON *item = cJSON_Parse("{\"Placement\":{\"AvailabilityZone\":\"us-east-1b\"},"
                              "\"Groups\":[{\"GroupId\":\"sg-1\"},{\"GroupId\":\"sg-2\"}],"
                              "\"IsDefault\":true,\"Count\":16,"
                              "\"Tags\":[{\"Key\":\"Name\",\"Value\":\"web*1\"},{\"Key\":\"env\","
                              "\"Value\":\"prod\"}]}");
    struct aws_err err;
    struct {
        const char *filters;
        int want;
    } cases[] = {
        { "[{\"Name\":\"zone\",\"Values\":[\"us-east-1b\"]}]", 1 },
        { "[{\"Name\":\"zone\",\"Values\":[\"us-east-1a\",\"us-east-1c\"]}]", 0 },
        { "[{\"Name\":\"zone\",\"Values\":[\"us-*\"]}]", 1 },
        { "[{\"Name\":\"zone\",\"Values\":[\"us-east-1?\"]}]", 1 },
        { "[{\"Name\":\"zone\",\"Values\":[\"us-east-?\"]}]", 0 },
        { "[{\"Name\":\"group-id\",\"Values\":[\"sg-2\"]}]", 1 },
        { "[{\"Name\":\"is-default\",\"Values\":[\"true\"]}]", 1 },
        { "[{\"Name\":\"count\",\"Values\":[\"16\"]}]", 1 },
        { "[{\"Name\":\"tag:env\",\"Values\":[\"prod\"]}]", 1 },
        { "[{\"Name\":\"tag:env\",\"Values\":[\"dev\"]}]", 0 },
        { "[{\"Name\":\"tag:Name\",\"Values\":[\"web\\\\*1\"]}]", 1 },
        { "[{\"Name\":\"tag:Name\",\"Values\":[\"web\\\\*2\"]}]", 0 },
        { "[{\"Name\":\"tag-key\",\"Values\":[\"Name\"]}]", 1 },
        { "[{\"Name\":\"tag-value\",\"Values\":[\"pr*\"]}]", 1 },
        { "[{\"Name\":\"zone\",\"Values\":[\"us-east-1b\"]},{\"Name\":\"count\",\"Values\":["
          "\"1\"]}]",
          0 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        cJSON *f = cJSON_Parse(cases[i].filters);
        assert_non_null(f);
        int m = ec2_filter_match(defs, ARRAY_SIZE(defs), f, item, &err);
        if (m != cases[i].want)
            fail_msg("case %zu (%s): got %d", i, cases[i].filters, m);
        cJSON_Delete(f);
    }
    /* An unknown name is an error even after another filter already dropped the item. */
    cJSON *f = cJSON_Parse("[{\"Name\":\"zone\",\"Values\":[\"x\"]},{\"Name\":\"colour\","
                           "\"Values\":[\"blue\"]}]");
    assert_int_equal(ec2_filter_match(defs, ARRAY_SIZE(defs), f, item, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValue");
    assert_string_equal(err.message, "The filter 'colour' is invalid");
    cJSON_Delete(f);
    cJSON_Delete(item);
}

static void
test_paginate_pages_and_rejects_bad_input(void **state)
{
    (void)state;
    struct aws_err err;
    cJSON *all = cJSON_CreateArray();
    for (int i = 0; i < 12; i++)
        cJSON_AddItemToArray(all, cJSON_CreateNumber(i));
    cJSON *in = cJSON_Parse("{\"MaxResults\":5}");
    cJSON *out = cJSON_CreateObject();
    assert_int_equal(ec2_paginate(all, in, out, "Items", 5, 1000, &err), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "Items")), 5);
    const char *token = cJSON_GetObjectItem(out, "NextToken")->valuestring;

    all = cJSON_CreateArray();
    for (int i = 0; i < 12; i++)
        cJSON_AddItemToArray(all, cJSON_CreateNumber(i));
    cJSON_AddStringToObject(in, "NextToken", token);
    cJSON *out2 = cJSON_CreateObject();
    assert_int_equal(ec2_paginate(all, in, out2, "Items", 5, 1000, &err), 0);
    assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(out2, "Items"), 0)->valueint, 5);
    assert_non_null(cJSON_GetObjectItem(out2, "NextToken"));
    cJSON_Delete(out);
    cJSON_Delete(out2);
    cJSON_Delete(in);

    /* Without MaxResults everything comes back and there is no token. */
    all = cJSON_CreateArray();
    cJSON_AddItemToArray(all, cJSON_CreateNumber(1));
    in = cJSON_CreateObject();
    out = cJSON_CreateObject();
    assert_int_equal(ec2_paginate(all, in, out, "Items", 5, 1000, &err), 0);
    assert_null(cJSON_GetObjectItem(out, "NextToken"));
    cJSON_Delete(out);
    cJSON_Delete(in);

    in = cJSON_Parse("{\"MaxResults\":1}");
    out = cJSON_CreateObject();
    assert_int_equal(ec2_paginate(cJSON_CreateArray(), in, out, "Items", 5, 1000, &err), -1);
    assert_string_equal(err.message,
                        "Value ( 1 ) for parameter maxResults is invalid. Expecting a value "
                        "greater than 5.");
    cJSON_Delete(out);
    cJSON_Delete(in);

    in = cJSON_Parse("{\"NextToken\":\"bogus\"}");
    out = cJSON_CreateObject();
    assert_int_equal(ec2_paginate(cJSON_CreateArray(), in, out, "Items", 5, 1000, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValue");
    cJSON_Delete(out);
    cJSON_Delete(in);
}

static void
test_ids_are_17_hex_digits_and_checked_by_shape(void **state)
{
    struct app *app = *state;
    struct aws_call call = { .app = app, .region = "us-east-1", .account_id = "123456789012" };
    char id[32];
    ec2_new_id(&call, "vpc", id, sizeof(id));
    assert_int_equal(strlen(id), 4 + 17);
    assert_true(ec2_id_well_formed(id, "vpc"));
    assert_true(ec2_id_well_formed("sg-1234abcd", "sg"));
    assert_false(ec2_id_well_formed("sg-1234abcd", "sgr"));
    assert_false(ec2_id_well_formed("sg-xyz", "sg"));
    assert_false(ec2_id_well_formed("sg-1234abc", "sg"));
    assert_false(ec2_id_well_formed("subnet-1234abcd", "sg"));
}

/* ---- the default VPC ---- */

static void
test_default_vpc_subnets_and_group_exist_lazily(void **state)
{
    struct app *app = *state;
    assert_ok(ec2(app, "DescribeVpcs"));
    assert_int_equal(count("<vpcId>"), 1);
    assert_string_equal(first("cidrBlock"), "172.31.0.0/16");
    assert_string_equal(first("isDefault"), "true");
    assert_true(has("<state>available</state><cidrBlock>172.31.0.0/16</cidrBlock>"));
    assert_string_equal(first("ownerId"), "123456789012");
    assert_true(str_starts(first("dhcpOptionsId"), "dopt-"));
    char vpc[32];
    grab("vpcId", vpc, sizeof(vpc));

    assert_ok(ec2(app, "DescribeSubnets"));
    assert_int_equal(count("<subnetId>"), 3);
    assert_true(has("<cidrBlock>172.31.0.0/20</cidrBlock>"));
    assert_true(has("<cidrBlock>172.31.16.0/20</cidrBlock>"));
    assert_true(has("<cidrBlock>172.31.32.0/20</cidrBlock>"));
    assert_true(has("<availabilityZone>us-east-1c</availabilityZone>"));
    assert_true(has("<availabilityZoneId>use1-az3</availabilityZoneId>"));
    assert_int_equal(count("<defaultForAz>true</defaultForAz>"), 3);
    assert_int_equal(count("<mapPublicIpOnLaunch>true</mapPublicIpOnLaunch>"), 3);
    assert_string_equal(first("availableIpAddressCount"), "4091");

    assert_ok(ec2(app, "DescribeSecurityGroups"));
    assert_int_equal(count("<groupId>"), 2); /* the group, and itself as its ingress peer */
    assert_string_equal(first("groupName"), "default");
    assert_true(has(vpc));
    assert_true(has("<cidrIp>0.0.0.0/0</cidrIp>"));

    /* Asking again makes nothing new. */
    assert_ok(ec2(app, "DescribeVpcs"));
    assert_int_equal(count("<vpcId>"), 1);
}

static void
test_each_region_has_its_own_default_vpc(void **state)
{
    struct app *app = *state;
    char a[32], b[32];
    assert_ok(ec2(app, "DescribeVpcs"));
    grab("vpcId", a, sizeof(a));
    auth = AUTH_EU_WEST_1;
    assert_ok(ec2(app, "DescribeSubnets"));
    assert_true(has("<availabilityZone>eu-west-1a</availabilityZone>"));
    assert_false(has("us-east-1"));
    assert_ok(ec2(app, "DescribeVpcs"));
    grab("vpcId", b, sizeof(b));
    assert_string_not_equal(a, b);
    assert_int_equal(count("<vpcId>"), 1);
}

static void
test_deleted_default_vpc_stays_deleted(void **state)
{
    struct app *app = *state;
    char vpc[32], subnet[32];
    assert_ok(ec2(app, "DescribeVpcs"));
    grab("vpcId", vpc, sizeof(vpc));
    assert_error(ec2(app, "DeleteVpc&VpcId=%s", vpc), "DependencyViolation");
    for (int z = 0; z < 3; z++) {
        assert_ok(ec2(app, "DescribeSubnets"));
        grab("subnetId", subnet, sizeof(subnet));
        assert_ok(ec2(app, "DeleteSubnet&SubnetId=%s", subnet));
    }
    assert_ok(ec2(app, "DeleteVpc&VpcId=%s", vpc));
    assert_ok(ec2(app, "DescribeVpcs"));
    assert_int_equal(count("<vpcId>"), 0);
    /* Its default group went with it. */
    assert_ok(ec2(app, "DescribeSecurityGroups"));
    assert_int_equal(count("<groupId>"), 0);
    /* Without a default VPC a group needs a VpcId. */
    assert_error(ec2(app, "CreateSecurityGroup&GroupName=x&GroupDescription=d"),
                 "VPCIdNotSpecified");
}

static void
test_reset_state_looks_like_a_new_account(void **state)
{
    struct app *app = *state;
    char vpc[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    assert_int_equal(db_reset(app->db), 0);
    assert_ok(ec2(app, "DescribeVpcs"));
    assert_int_equal(count("<vpcId>"), 1);
    assert_string_equal(first("isDefault"), "true");
    assert_false(has(vpc));
}

/* ---- VPCs ---- */

static void
test_create_vpc_answers_pending_with_tags_then_describes_available(void **state)
{
    struct app *app = *state;
    assert_ok(ec2(app, "CreateVpc&CidrBlock=10.0.0.0/16&TagSpecification.1.ResourceType=vpc"
                       "&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=main"));
    assert_true(has("<state>pending</state>"));
    assert_true(has("<state>associated</state>"));
    assert_string_equal(first("isDefault"), "false");
    assert_string_equal(first("instanceTenancy"), "default");
    assert_true(has("<cidrBlockAssociationSet><item><associationId>vpc-cidr-assoc-"));
    assert_true(has("<key>Name</key><value>main</value>"));
    char vpc[32];
    grab("vpcId", vpc, sizeof(vpc));
    assert_true(ec2_id_well_formed(vpc, "vpc"));

    assert_ok(ec2(app, "DescribeVpcs&VpcId.1=%s", vpc));
    assert_int_equal(count("<vpcId>"), 1);
    assert_true(has("<state>available</state>"));
    assert_true(has("<value>main</value>"));

    /* The new VPC has its own default group. */
    assert_ok(ec2(app, "DescribeSecurityGroups&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc));
    assert_string_equal(first("groupName"), "default");
}

static void
test_create_vpc_rejects_bad_cidrs(void **state)
{
    struct app *app = *state;
    assert_error(ec2(app, "CreateVpc&CidrBlock=10.0.0.0/8"), "InvalidVpc.Range");
    assert_true(has("The CIDR &apos;10.0.0.0/8&apos; is invalid.") ||
                has("The CIDR '10.0.0.0/8' is invalid."));
    assert_error(ec2(app, "CreateVpc&CidrBlock=10.0.0.0/29"), "InvalidVpc.Range");
    assert_error(ec2(app, "CreateVpc&CidrBlock=banana"), "InvalidParameterValue");
    assert_error(ec2(app, "CreateVpc&CidrBlock=10.0.0.1/16"), "InvalidParameterValue");
    assert_error(ec2(app, "CreateVpc"), "MissingParameter");
    assert_error(ec2(app, "CreateVpc&CidrBlock=10.0.0.0/16&TagSpecification.1.ResourceType=subnet"
                          "&TagSpecification.1.Tag.1.Key=a"),
                 "InvalidParameter");
}

static void
test_describe_vpcs_filters_and_unknown_ids(void **state)
{
    struct app *app = *state;
    char a[32], b[32];
    make_vpc(app, "10.0.0.0/16", a, sizeof(a));
    make_vpc(app, "10.1.0.0/16", b, sizeof(b));
    assert_ok(ec2(app, "CreateTags&ResourceId.1=%s&Tag.1.Key=env&Tag.1.Value=prod", b));

    assert_ok(ec2(app, "DescribeVpcs&Filter.1.Name=is-default&Filter.1.Value.1=false"));
    assert_int_equal(count("<vpcId>"), 2);
    assert_ok(ec2(app, "DescribeVpcs&Filter.1.Name=cidr&Filter.1.Value.1=10.1.0.0/16"));
    assert_int_equal(count("<vpcId>"), 1);
    assert_true(has(b));
    assert_ok(ec2(app, "DescribeVpcs&Filter.1.Name=tag:env&Filter.1.Value.1=prod"));
    assert_int_equal(count("<vpcId>"), 1);
    assert_true(has(b));
    assert_ok(ec2(app, "DescribeVpcs&Filter.1.Name=tag-key&Filter.1.Value.1=env"));
    assert_int_equal(count("<vpcId>"), 1);
    assert_ok(ec2(app,
                  "DescribeVpcs&Filter.1.Name=vpc-id&Filter.1.Value.1=%s"
                  "&Filter.1.Value.2=%s",
                  a, b));
    assert_int_equal(count("<vpcId>"), 2);
    assert_ok(ec2(app, "DescribeVpcs&Filter.1.Name=cidr-block-association.cidr-block"
                       "&Filter.1.Value.1=10.0.*"));
    assert_int_equal(count("<vpcId>"), 1);
    assert_ok(ec2(app, "DescribeVpcs&Filter.1.Name=state&Filter.1.Value.1=available"));
    assert_int_equal(count("<vpcId>"), 3);

    assert_error(ec2(app, "DescribeVpcs&VpcId.1=vpc-0123456789abcdef0"), "InvalidVpcID.NotFound");
    assert_true(has("The vpc ID &apos;vpc-0123456789abcdef0&apos; does not exist") ||
                has("The vpc ID 'vpc-0123456789abcdef0' does not exist"));
    assert_error(ec2(app, "DescribeVpcs&Filter.1.Name=colour&Filter.1.Value.1=x"),
                 "InvalidParameterValue");
}

static void
test_describe_vpcs_paginates(void **state)
{
    struct app *app = *state;
    char id[32];
    for (int i = 0; i < 6; i++) {
        char cidr[32];
        snprintf(cidr, sizeof(cidr), "10.%d.0.0/16", i);
        make_vpc(app, cidr, id, sizeof(id));
    }
    assert_ok(ec2(app, "DescribeVpcs&MaxResults=5"));
    assert_int_equal(count("<vpcId>"), 5);
    char token[256];
    grab("nextToken", token, sizeof(token));
    assert_ok(ec2(app, "DescribeVpcs&MaxResults=5&NextToken=%s", token));
    assert_int_equal(count("<vpcId>"), 2);
    assert_false(has("<nextToken>"));
    assert_error(ec2(app, "DescribeVpcs&MaxResults=4"), "InvalidParameterValue");
    assert_error(ec2(app, "DescribeVpcs&NextToken=nope"), "InvalidParameterValue");
}

static void
test_delete_vpc_needs_it_empty_and_existing(void **state)
{
    struct app *app = *state;
    char vpc[32], sg[32], subnet[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    assert_ok(ec2(app, "CreateSubnet&VpcId=%s&CidrBlock=10.0.1.0/24", vpc));
    grab("subnetId", subnet, sizeof(subnet));
    make_sg(app, vpc, "web", sg, sizeof(sg));

    assert_error(ec2(app, "DeleteVpc&VpcId=%s", vpc), "DependencyViolation");
    assert_true(has("has dependencies and cannot be deleted."));
    assert_ok(ec2(app, "DeleteSubnet&SubnetId=%s", subnet));
    assert_error(ec2(app, "DeleteVpc&VpcId=%s", vpc), "DependencyViolation");
    assert_ok(ec2(app, "DeleteSecurityGroup&GroupId=%s", sg));
    assert_ok(ec2(app, "DeleteVpc&VpcId=%s", vpc));
    assert_error(ec2(app, "DeleteVpc&VpcId=%s", vpc), "InvalidVpcID.NotFound");
    assert_error(ec2(app, "DescribeVpcs&VpcId.1=%s", vpc), "InvalidVpcID.NotFound");
}

/* ---- subnets ---- */

static void
test_create_subnet_in_a_zone_and_describe_it(void **state)
{
    struct app *app = *state;
    char vpc[32], subnet[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    assert_ok(ec2(app,
                  "CreateSubnet&VpcId=%s&CidrBlock=10.0.1.0/24&AvailabilityZone=us-east-1b"
                  "&TagSpecification.1.ResourceType=subnet&TagSpecification.1.Tag.1.Key=tier"
                  "&TagSpecification.1.Tag.1.Value=web",
                  vpc));
    grab("subnetId", subnet, sizeof(subnet));
    assert_string_equal(first("availabilityZone"), "us-east-1b");
    assert_string_equal(first("availabilityZoneId"), "use1-az2");
    assert_string_equal(first("availableIpAddressCount"), "251");
    assert_string_equal(first("defaultForAz"), "false");
    assert_string_equal(first("mapPublicIpOnLaunch"), "false");
    assert_string_equal(first("state"), "available");
    assert_true(has("<value>web</value>"));

    assert_ok(ec2(app, "DescribeSubnets&SubnetId.1=%s", subnet));
    assert_int_equal(count("<subnetId>"), 1);
    assert_true(has("arn:aws:ec2:us-east-1:123456789012:subnet/"));
    assert_ok(ec2(app, "DescribeSubnets&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc));
    assert_int_equal(count("<subnetId>"), 1);
    assert_ok(ec2(app, "DescribeSubnets&Filter.1.Name=default-for-az&Filter.1.Value.1=true"
                       "&Filter.2.Name=availability-zone&Filter.2.Value.1=us-east-1b"));
    assert_int_equal(count("<subnetId>"), 1);
    assert_true(has("172.31.16.0/20"));
    assert_ok(ec2(app, "DescribeSubnets&Filter.1.Name=cidr-block&Filter.1.Value.1=10.0.1.0/24"));
    assert_int_equal(count("<subnetId>"), 1);
    assert_ok(ec2(app, "DescribeSubnets&Filter.1.Name=subnet-id&Filter.1.Value.1=%s", subnet));
    assert_int_equal(count("<subnetId>"), 1);
    assert_ok(ec2(app, "DescribeSubnets&Filter.1.Name=tag:tier&Filter.1.Value.1=web"));
    assert_int_equal(count("<subnetId>"), 1);
    assert_ok(ec2(app, "DescribeSubnets&MaxResults=5"));
    assert_int_equal(count("<subnetId>"), 4);
    assert_error(ec2(app, "DescribeSubnets&SubnetId.1=subnet-0123456789abcdef0"),
                 "InvalidSubnetID.NotFound");
}

static void
test_create_subnet_errors(void **state)
{
    struct app *app = *state;
    char vpc[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    assert_ok(ec2(app, "CreateSubnet&VpcId=%s&CidrBlock=10.0.1.0/24", vpc));
    assert_error(ec2(app, "CreateSubnet&VpcId=%s&CidrBlock=10.0.1.128/25", vpc),
                 "InvalidSubnet.Conflict");
    assert_true(has("conflicts with another subnet"));
    assert_error(ec2(app, "CreateSubnet&VpcId=%s&CidrBlock=10.0.0.0/16", vpc),
                 "InvalidSubnet.Conflict");
    assert_error(ec2(app, "CreateSubnet&VpcId=%s&CidrBlock=10.1.0.0/24", vpc),
                 "InvalidSubnet.Range");
    assert_error(ec2(app, "CreateSubnet&VpcId=%s&CidrBlock=10.0.2.0/29", vpc),
                 "InvalidSubnet.Range");
    assert_error(ec2(app, "CreateSubnet&VpcId=%s&CidrBlock=10.0.2.1/24", vpc),
                 "InvalidParameterValue");
    assert_error(ec2(app, "CreateSubnet&VpcId=%s&CidrBlock=10.0.2.0/24&AvailabilityZone=us-east-1z",
                     vpc),
                 "InvalidParameterValue");
    assert_true(has("us-east-1a, us-east-1b, us-east-1c"));
    assert_error(ec2(app, "CreateSubnet&VpcId=vpc-0123456789abcdef0&CidrBlock=10.0.2.0/24"),
                 "InvalidVpcID.NotFound");
    assert_error(ec2(app, "DeleteSubnet&SubnetId=subnet-0123456789abcdef0"),
                 "InvalidSubnetID.NotFound");
    /* By zone id as well as name. */
    assert_ok(ec2(app, "CreateSubnet&VpcId=%s&CidrBlock=10.0.3.0/24&AvailabilityZoneId=use1-az3",
                  vpc));
    assert_string_equal(first("availabilityZone"), "us-east-1c");
}

static void
test_subnet_addresses_skip_reserved_and_are_distinct(void **state)
{
    struct app *app = *state;
    char vpc[32], subnet[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    assert_ok(ec2(app, "CreateSubnet&VpcId=%s&CidrBlock=10.0.1.0/28", vpc));
    grab("subnetId", subnet, sizeof(subnet));

    struct aws_call call = { .app = app, .region = "us-east-1", .account_id = "123456789012" };
    struct aws_err err;
    struct ec2_subnet_info info;
    assert_int_equal(ec2_subnet_get(&call, subnet, &info, &err), 0);
    assert_string_equal(info.cidr, "10.0.1.0/28");
    assert_string_equal(info.vpc_id, vpc);
    char ip[32];
    /* A /28 has 16 addresses; AWS keeps .0-.3 and .15: .4 to .14 are handed out. */
    for (int i = 4; i <= 14; i++) {
        assert_int_equal(ec2_subnet_allocate_ip(&call, &info, ip, sizeof(ip), &err), 0);
        char want[32];
        snprintf(want, sizeof(want), "10.0.1.%d", i);
        assert_string_equal(ip, want);
    }
    assert_int_equal(ec2_subnet_allocate_ip(&call, &info, ip, sizeof(ip), &err), -1);
    assert_string_equal(err.code, "InsufficientFreeAddressesInSubnet");

    assert_ok(ec2(app, "DescribeSubnets&SubnetId.1=%s", subnet));
    assert_string_equal(first("availableIpAddressCount"), "0");
    assert_error(ec2(app, "DeleteSubnet&SubnetId=%s", subnet), "DependencyViolation");

    /* A released address is the next one handed out. */
    ec2_subnet_release_ip(&call, subnet, "10.0.1.7");
    assert_int_equal(ec2_subnet_allocate_ip(&call, &info, ip, sizeof(ip), &err), 0);
    assert_string_equal(ip, "10.0.1.7");

    for (int i = 4; i <= 14; i++) {
        snprintf(ip, sizeof(ip), "10.0.1.%d", i);
        ec2_subnet_release_ip(&call, subnet, ip);
    }
    assert_ok(ec2(app, "DeleteSubnet&SubnetId=%s", subnet));
}

static void
test_default_subnet_and_lookups_for_launches(void **state)
{
    struct app *app = *state;
    struct aws_call call = { .app = app, .region = "us-east-1", .account_id = "123456789012" };
    struct aws_err err;
    struct ec2_subnet_info info;
    assert_int_equal(ec2_default_subnet(&call, "us-east-1b", &info, &err), 0);
    assert_string_equal(info.cidr, "172.31.16.0/20");
    assert_string_equal(info.az, "us-east-1b");
    assert_int_equal(ec2_default_subnet(&call, "us-east-1z", &info, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValue");
    assert_int_equal(ec2_subnet_get(&call, "subnet-0123456789abcdef0", &info, &err), -1);
    assert_string_equal(err.code, "InvalidSubnetID.NotFound");

    /* Security groups: none named -> the VPC's default group. */
    assert_int_equal(ec2_default_subnet(&call, "us-east-1a", &info, &err), 0);
    cJSON *out = cJSON_CreateArray();
    assert_int_equal(ec2_security_groups_resolve(&call, info.vpc_id, NULL, NULL, out, &err), 0);
    assert_int_equal(cJSON_GetArraySize(out), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "GroupName")->valuestring,
                        "default");
    cJSON_Delete(out);

    char sg[32];
    make_sg(app, info.vpc_id, "web", sg, sizeof(sg));
    cJSON *names = cJSON_Parse("[\"web\",\"default\"]");
    cJSON *ids = cJSON_CreateArray();
    cJSON_AddItemToArray(ids, cJSON_CreateString(sg));
    out = cJSON_CreateArray();
    assert_int_equal(ec2_security_groups_resolve(&call, info.vpc_id, ids, names, out, &err), 0);
    assert_int_equal(cJSON_GetArraySize(out), 2); /* web once, and default */
    cJSON_Delete(out);
    cJSON_Delete(names);

    names = cJSON_Parse("[\"nope\"]");
    out = cJSON_CreateArray();
    assert_int_equal(ec2_security_groups_resolve(&call, info.vpc_id, NULL, names, out, &err), -1);
    assert_string_equal(err.code, "InvalidGroup.NotFound");
    cJSON_Delete(out);
    cJSON_Delete(names);

    /* A group in use cannot be deleted until its user lets go. */
    out = cJSON_CreateArray();
    assert_int_equal(ec2_security_groups_resolve(&call, info.vpc_id, ids, NULL, out, &err), 0);
    assert_int_equal(ec2_security_groups_use(&call, "i-0123456789abcdef0", out, &err), 0);
    cJSON_Delete(out);
    cJSON_Delete(ids);
    assert_error(ec2(app, "DeleteSecurityGroup&GroupId=%s", sg), "DependencyViolation");
    ec2_security_groups_unuse(&call, "i-0123456789abcdef0");
    assert_ok(ec2(app, "DeleteSecurityGroup&GroupId=%s", sg));

    assert_int_equal(ec2_key_pair_check(&call, "nope", &err), -1);
    assert_string_equal(err.code, "InvalidKeyPair.NotFound");
    assert_ok(ec2(app, "CreateKeyPair&KeyName=mine&KeyType=ed25519"));
    assert_int_equal(ec2_key_pair_check(&call, "mine", &err), 0);
}

/* ---- security groups ---- */

static void
test_create_security_group_and_describe_by_id_name_filter(void **state)
{
    struct app *app = *state;
    assert_ok(ec2(app, "DescribeVpcs"));
    char dvpc[32], vpc[32], sg[32];
    grab("vpcId", dvpc, sizeof(dvpc));
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    assert_ok(ec2(app, "CreateSecurityGroup&GroupName=web&GroupDescription=web+servers"
                       "&TagSpecification.1.ResourceType=security-group"
                       "&TagSpecification.1.Tag.1.Key=role&TagSpecification.1.Tag.1.Value=web"));
    grab("groupId", sg, sizeof(sg));
    assert_true(has("<key>role</key>"));
    assert_true(has("arn:aws:ec2:us-east-1:123456789012:security-group/"));

    assert_ok(ec2(app, "DescribeSecurityGroups&GroupId.1=%s", sg));
    assert_string_equal(first("groupName"), "web");
    assert_string_equal(first("groupDescription"), "web servers");
    assert_string_equal(first("vpcId"), dvpc); /* no VpcId: the default VPC */
    /* A new group allows all outbound traffic and nothing inbound. */
    assert_true(has("<ipPermissions/>") || has("<ipPermissions></ipPermissions>"));
    assert_true(has("<ipProtocol>-1</ipProtocol>"));

    assert_ok(ec2(app, "DescribeSecurityGroups&GroupName.1=web"));
    assert_int_equal(count("<groupName>web</groupName>"), 1);
    assert_error(ec2(app, "DescribeSecurityGroups&GroupName.1=nope"), "InvalidGroup.NotFound");
    assert_true(has("does not exist in default VPC"));
    assert_ok(ec2(app, "DescribeSecurityGroups&Filter.1.Name=group-name&Filter.1.Value.1=default"));
    assert_int_equal(count("<groupName>default</groupName>"), 2);
    assert_ok(ec2(app, "DescribeSecurityGroups&Filter.1.Name=vpc-id&Filter.1.Value.1=%s", vpc));
    assert_int_equal(count("<groupName>"), 1);
    assert_ok(ec2(app, "DescribeSecurityGroups&Filter.1.Name=tag:role&Filter.1.Value.1=web"));
    assert_int_equal(count("<groupName>"), 1);
    assert_ok(ec2(app, "DescribeSecurityGroups&Filter.1.Name=description&Filter.1.Value.1=web*"));
    assert_int_equal(count("<groupName>"), 1);
    assert_ok(ec2(app, "DescribeSecurityGroups&MaxResults=5"));
    assert_int_equal(count("<groupName>"), 3);

    assert_error(ec2(app, "DescribeSecurityGroups&GroupId.1=web"), "InvalidGroupId.Malformed");
    assert_true(has("(expecting &quot;sg-...&quot;)") || has("(expecting \"sg-...\")"));
    assert_error(ec2(app, "DescribeSecurityGroups&GroupId.1=sg-0123456789abcdef0"),
                 "InvalidGroup.NotFound");
}

static void
test_create_security_group_errors(void **state)
{
    struct app *app = *state;
    char vpc[32], sg[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    make_sg(app, vpc, "web", sg, sizeof(sg));
    assert_error(ec2(app, "CreateSecurityGroup&GroupName=web&GroupDescription=d&VpcId=%s", vpc),
                 "InvalidGroup.Duplicate");
    char want[128];
    snprintf(want, sizeof(want), "already exists for VPC &apos;%s&apos;", vpc);
    assert_true(has(want) || strstr(BODY, vpc));
    assert_error(ec2(app, "CreateSecurityGroup&GroupName=default&GroupDescription=d&VpcId=%s", vpc),
                 "InvalidGroup.Duplicate");
    assert_error(ec2(app, "CreateSecurityGroup&GroupName=sg-1&GroupDescription=d"),
                 "InvalidParameterValue");
    assert_error(ec2(app, "CreateSecurityGroup&GroupName=x&GroupDescription=d"
                          "&VpcId=vpc-0123456789abcdef0"),
                 "InvalidVpcID.NotFound");
    assert_error(ec2(app, "CreateSecurityGroup&GroupName=x"), "MissingParameter");
    /* The same name in another VPC is fine. */
    assert_ok(ec2(app, "CreateSecurityGroup&GroupName=web&GroupDescription=d"));
}

static void
test_authorize_ingress_rules_group_and_duplicate(void **state)
{
    struct app *app = *state;
    char vpc[32], sg[32], other[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    make_sg(app, vpc, "web", sg, sizeof(sg));
    make_sg(app, vpc, "lb", other, sizeof(other));

    /* What `aws ec2 authorize-security-group-ingress --protocol tcp --port 22 --cidr ...`
       sends. */
    assert_ok(ec2(app,
                  "AuthorizeSecurityGroupIngress&GroupId=%s&IpPermissions.1.IpProtocol=tcp"
                  "&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22"
                  "&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8"
                  "&IpPermissions.1.IpRanges.1.Description=ssh",
                  sg));
    assert_string_equal(first("return"), "true");
    assert_true(str_starts(first("securityGroupRuleId"), "sgr-"));
    assert_string_equal(first("cidrIpv4"), "10.0.0.0/8");
    assert_string_equal(first("isEgress"), "false");
    assert_string_equal(first("description"), "ssh");

    /* Several peers in one permission, a group peer, and the older top-level form. */
    assert_ok(ec2(app,
                  "AuthorizeSecurityGroupIngress&GroupId=%s&IpPermissions.1.IpProtocol=TCP"
                  "&IpPermissions.1.FromPort=80&IpPermissions.1.ToPort=443"
                  "&IpPermissions.1.Groups.1.GroupId=%s"
                  "&IpPermissions.1.Ipv6Ranges.1.CidrIpv6=::/0",
                  sg, other));
    assert_int_equal(count("<securityGroupRuleId>"), 2);
    assert_ok(ec2(app,
                  "AuthorizeSecurityGroupIngress&GroupId=%s&IpProtocol=udp&FromPort=53"
                  "&ToPort=53&CidrIp=10.1.0.0/16",
                  sg));
    assert_ok(ec2(app,
                  "AuthorizeSecurityGroupIngress&GroupId=%s&IpPermissions.1.IpProtocol=icmp"
                  "&IpPermissions.1.FromPort=8&IpPermissions.1.ToPort=-1"
                  "&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0",
                  sg));

    assert_ok(ec2(app, "DescribeSecurityGroups&GroupId.1=%s", sg));
    assert_true(has("<ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort>"));
    assert_true(has("<ipProtocol>tcp</ipProtocol><fromPort>80</fromPort><toPort>443</toPort>"));
    assert_true(has("<ipProtocol>udp</ipProtocol>"));
    assert_true(has("<ipProtocol>icmp</ipProtocol><fromPort>8</fromPort><toPort>-1</toPort>"));
    assert_true(has("<cidrIpv6>::/0</cidrIpv6>"));
    char peer[64];
    snprintf(peer, sizeof(peer), "<groupId>%s</groupId>", other);
    assert_true(has(peer));
    assert_ok(ec2(app, "DescribeSecurityGroups&Filter.1.Name=ip-permission.from-port"
                       "&Filter.1.Value.1=80"));
    assert_int_equal(count("<groupName>web</groupName>"), 1);
    assert_ok(ec2(app,
                  "DescribeSecurityGroups&Filter.1.Name=ip-permission.group-id"
                  "&Filter.1.Value.1=%s",
                  other));
    assert_int_equal(count("<groupName>web</groupName>"), 1);
    assert_ok(ec2(app, "DescribeSecurityGroups&Filter.1.Name=ip-permission.cidr"
                       "&Filter.1.Value.1=10.1.0.0/16"));
    assert_int_equal(count("<groupName>"), 1);

    /* The same rule again, descriptions aside, is a duplicate. */
    assert_error(ec2(app,
                     "AuthorizeSecurityGroupIngress&GroupId=%s&IpProtocol=tcp&FromPort=22"
                     "&ToPort=22&CidrIp=10.0.0.0/8",
                     sg),
                 "InvalidPermission.Duplicate");
    assert_true(has("peer: 10.0.0.0/8, TCP, from port: 22, to port: 22, ALLOW"));
    /* The referenced group cannot go while it is referenced. */
    assert_error(ec2(app, "DeleteSecurityGroup&GroupId=%s", other), "DependencyViolation");
    assert_true(has("has a dependent object"));
}

static void
test_authorize_errors(void **state)
{
    struct app *app = *state;
    char vpc[32], sg[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    make_sg(app, vpc, "web", sg, sizeof(sg));
    assert_error(ec2(app, "AuthorizeSecurityGroupIngress&GroupId=sg-0123456789abcdef0"
                          "&IpProtocol=tcp&FromPort=1&ToPort=2&CidrIp=0.0.0.0/0"),
                 "InvalidGroup.NotFound");
    assert_error(ec2(app, "AuthorizeSecurityGroupIngress&GroupId=bad&IpProtocol=tcp&FromPort=1"
                          "&ToPort=2&CidrIp=0.0.0.0/0"),
                 "InvalidGroupId.Malformed");
    assert_error(ec2(app, "AuthorizeSecurityGroupIngress&GroupName=web&IpProtocol=tcp&FromPort=1"
                          "&ToPort=2&CidrIp=0.0.0.0/0"),
                 "InvalidGroup.NotFound"); /* names are looked up in the default VPC */
    assert_error(ec2(app,
                     "AuthorizeSecurityGroupIngress&GroupId=%s&IpProtocol=tcp&FromPort=1"
                     "&ToPort=2&CidrIp=0.0.0.0/33",
                     sg),
                 "InvalidParameterValue");
    assert_error(ec2(app,
                     "AuthorizeSecurityGroupIngress&GroupId=%s&IpProtocol=tcp&FromPort=9"
                     "&ToPort=2&CidrIp=0.0.0.0/0",
                     sg),
                 "InvalidParameterValue");
    assert_error(ec2(app,
                     "AuthorizeSecurityGroupIngress&GroupId=%s&IpProtocol=bogus"
                     "&CidrIp=0.0.0.0/0",
                     sg),
                 "InvalidParameterValue");
    assert_error(ec2(app,
                     "AuthorizeSecurityGroupIngress&GroupId=%s&IpPermissions.1.IpProtocol=-1"
                     "&IpPermissions.1.Groups.1.GroupId=sg-0123456789abcdef0",
                     sg),
                 "InvalidGroup.NotFound");
    assert_error(ec2(app, "AuthorizeSecurityGroupIngress&GroupId=%s", sg), "MissingParameter");
    /* Duplicates within one request are duplicates too, and nothing of it is kept. */
    assert_error(ec2(app,
                     "AuthorizeSecurityGroupIngress&GroupId=%s&IpPermissions.1.IpProtocol=-1"
                     "&IpPermissions.1.IpRanges.1.CidrIp=1.2.3.4/32"
                     "&IpPermissions.1.IpRanges.2.CidrIp=1.2.3.4/32",
                     sg),
                 "InvalidPermission.Duplicate");
    assert_true(has("peer: 1.2.3.4/32, ALL, ALLOW"));
    assert_ok(ec2(app, "DescribeSecurityGroups&GroupId.1=%s", sg));
    assert_false(has("1.2.3.4/32"));
}

static void
test_egress_rules_and_revoke(void **state)
{
    struct app *app = *state;
    char vpc[32], sg[32], rule[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    make_sg(app, vpc, "web", sg, sizeof(sg));
    /* The default egress rule is there; adding it again is a duplicate. */
    assert_error(ec2(app,
                     "AuthorizeSecurityGroupEgress&GroupId=%s&IpPermissions.1.IpProtocol=-1"
                     "&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0",
                     sg),
                 "InvalidPermission.Duplicate");
    assert_ok(ec2(app,
                  "RevokeSecurityGroupEgress&GroupId=%s&IpPermissions.1.IpProtocol=-1"
                  "&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0",
                  sg));
    assert_true(has("<revokedSecurityGroupRuleSet><item>"));
    assert_ok(ec2(app, "DescribeSecurityGroups&GroupId.1=%s", sg));
    assert_false(has("0.0.0.0/0"));

    assert_ok(ec2(app,
                  "AuthorizeSecurityGroupEgress&GroupId=%s&IpPermissions.1.IpProtocol=tcp"
                  "&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443"
                  "&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0",
                  sg));
    assert_string_equal(first("isEgress"), "true");
    grab("securityGroupRuleId", rule, sizeof(rule));
    assert_ok(ec2(app, "DescribeSecurityGroups&Filter.1.Name=egress.ip-permission.to-port"
                       "&Filter.1.Value.1=443"));
    assert_int_equal(count("<groupName>"), 1);

    /* By rule id, in the right direction only. */
    assert_error(
            ec2(app, "RevokeSecurityGroupIngress&GroupId=%s&SecurityGroupRuleId.1=%s", sg, rule),
            "InvalidSecurityGroupRuleId.NotFound");
    assert_ok(ec2(app, "RevokeSecurityGroupEgress&GroupId=%s&SecurityGroupRuleId.1=%s", sg, rule));
    assert_string_equal(first("securityGroupRuleId"), rule);

    /* A rule that does not exist: an error outside the default VPC. */
    assert_error(ec2(app,
                     "RevokeSecurityGroupIngress&GroupId=%s&IpProtocol=tcp&FromPort=22"
                     "&ToPort=22&CidrIp=0.0.0.0/0",
                     sg),
                 "InvalidPermission.NotFound");
    assert_true(has("The specified rule does not exist in this security group."));
}

static void
test_revoke_unknown_rule_in_default_vpc_is_reported_not_an_error(void **state)
{
    struct app *app = *state;
    assert_ok(ec2(app, "AuthorizeSecurityGroupIngress&GroupName=default&IpProtocol=tcp"
                       "&FromPort=22&ToPort=22&CidrIp=0.0.0.0/0"));
    assert_ok(ec2(app, "RevokeSecurityGroupIngress&GroupName=default&IpPermissions.1.IpProtocol=tcp"
                       "&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22"
                       "&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0"
                       "&IpPermissions.2.IpProtocol=tcp&IpPermissions.2.FromPort=25"
                       "&IpPermissions.2.ToPort=25&IpPermissions.2.IpRanges.1.CidrIp=0.0.0.0/0"));
    assert_string_equal(first("return"), "true");
    assert_true(has("<unknownIpPermissionSet><item><ipProtocol>tcp</ipProtocol><fromPort>25"));
    assert_int_equal(count("<securityGroupRuleId>"), 1);
    assert_ok(ec2(app, "DescribeSecurityGroups&GroupName.1=default"));
    assert_false(has("<fromPort>22</fromPort>"));
}

static void
test_delete_security_group_by_id_and_name_and_default_refused(void **state)
{
    struct app *app = *state;
    char sg[32], dsg[32];
    assert_ok(ec2(app, "CreateSecurityGroup&GroupName=tmp&GroupDescription=d"));
    grab("groupId", sg, sizeof(sg));
    assert_ok(ec2(app, "CreateTags&ResourceId.1=%s&Tag.1.Key=a&Tag.1.Value=b", sg));
    assert_ok(ec2(app, "DeleteSecurityGroup&GroupName=tmp"));
    assert_string_equal(first("groupId"), sg);
    assert_string_equal(first("return"), "true");
    assert_error(ec2(app, "DeleteSecurityGroup&GroupId=%s", sg), "InvalidGroup.NotFound");
    /* Its tags went with it. */
    assert_ok(ec2(app, "DescribeTags"));
    assert_false(has(sg));

    assert_ok(ec2(app, "DescribeSecurityGroups&GroupName.1=default"));
    grab("groupId", dsg, sizeof(dsg));
    assert_error(ec2(app, "DeleteSecurityGroup&GroupId=%s", dsg), "CannotDelete");
    assert_true(has("name: &quot;default&quot; cannot be deleted by a user") ||
                has("name: \"default\" cannot be deleted by a user"));
    assert_error(ec2(app, "DeleteSecurityGroup&GroupId=nope"), "InvalidGroupId.Malformed");
    assert_error(ec2(app, "DeleteSecurityGroup"), "MissingParameter");
}

/* ---- key pairs ---- */

static void
test_create_key_pair_rsa_and_ed25519(void **state)
{
    struct app *app = *state;
    assert_ok(ec2(app, "CreateKeyPair&KeyName=rsa-key"));
    assert_true(str_starts(first("keyMaterial"), "-----BEGIN RSA PRIVATE KEY-----"));
    assert_true(str_starts(first("keyPairId"), "key-"));
    /* SHA-1 of the private key: 20 bytes as colon hex. */
    assert_int_equal(strlen(first("keyFingerprint")), 59);

    assert_ok(ec2(app, "CreateKeyPair&KeyName=ed-key&KeyType=ed25519"
                       "&TagSpecification.1.ResourceType=key-pair&TagSpecification.1.Tag.1.Key=k"
                       "&TagSpecification.1.Tag.1.Value=v"));
    assert_true(str_starts(first("keyMaterial"), "-----BEGIN OPENSSH PRIVATE KEY-----"));
    /* base64 SHA-256: 44 characters with its padding. */
    assert_int_equal(strlen(first("keyFingerprint")), 44);
    assert_true(has("<key>k</key>"));

    assert_ok(ec2(app, "DescribeKeyPairs"));
    assert_int_equal(count("<keyName>"), 2);
    assert_false(has("keyMaterial"));
    assert_false(has("<publicKey>"));
    assert_true(has("<keyType>ed25519</keyType>"));
    assert_true(has("<createTime>"));
    assert_ok(ec2(app, "DescribeKeyPairs&KeyName.1=ed-key&IncludePublicKey=true"));
    assert_int_equal(count("<keyName>"), 1);
    assert_true(str_starts(first("publicKey"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));
    assert_ok(ec2(app, "DescribeKeyPairs&Filter.1.Name=key-name&Filter.1.Value.1=rsa-*"));
    assert_int_equal(count("<keyName>"), 1);
    assert_ok(ec2(app, "DescribeKeyPairs&Filter.1.Name=tag:k&Filter.1.Value.1=v"));
    assert_int_equal(count("<keyName>"), 1);

    assert_error(ec2(app, "CreateKeyPair&KeyName=rsa-key"), "InvalidKeyPair.Duplicate");
    assert_true(has("The keypair &apos;rsa-key&apos; already exists.") ||
                has("The keypair 'rsa-key' already exists."));
    assert_error(ec2(app, "DescribeKeyPairs&KeyName.1=nope"), "InvalidKeyPair.NotFound");
    assert_error(ec2(app, "DescribeKeyPairs&KeyPairId.1=key-0123456789abcdef0"),
                 "InvalidKeyPair.NotFound");
    assert_error(ec2(app, "CreateKeyPair&KeyName=x&KeyType=dsa"), "InvalidParameterValue");
}

/* A fixed OpenSSH ED25519 public key and its `ssh-keygen -l` SHA-256 fingerprint. */
#define ED_PUB "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPMCsMEoVEjdrnlVyl961YsM9Q9CAMMKD5EeZ1y4m6Vu me"
#define ED_FP  "A5UNa8AJhCWKKpcR5ZyLycu+FAxfPSi9054IcHO1HXQ="

static void
b64url(const char *s, struct buf *out)
{
    struct buf b = BUF_INIT;
    buf_add_base64(&b, s, strlen(s));
    /* Form-encode the base64 ('+', '/', '='). */
    for (size_t i = 0; i < b.len; i++) {
        char c = b.data[i];
        if (c == '+' || c == '/' || c == '=')
            buf_addf(out, "%%%02X", (unsigned char)c);
        else
            buf_addc(out, c);
    }
    buf_release(&b);
}

static void
test_import_key_pair_formats_and_errors(void **state)
{
    struct app *app = *state;
    struct buf m = BUF_INIT;
    b64url(ED_PUB "\n", &m);
    assert_ok(ec2(app, "ImportKeyPair&KeyName=imported&PublicKeyMaterial=%s", m.data));
    assert_string_equal(first("keyFingerprint"), ED_FP);
    assert_ok(ec2(app, "DescribeKeyPairs&KeyName.1=imported&IncludePublicKey=true"));
    assert_string_equal(first("publicKey"), ED_PUB);
    assert_string_equal(first("keyType"), "ed25519");
    assert_error(ec2(app, "ImportKeyPair&KeyName=imported&PublicKeyMaterial=%s", m.data),
                 "InvalidKeyPair.Duplicate");
    buf_reset(&m);

    /* The RFC 4716 form of the same key. */
    b64url("---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"256-bit ED25519, converted\"\n"
           "AAAAC3NzaC1lZDI1NTE5AAAAIPMCsMEoVEjdrnlVyl961YsM9Q9CAMMKD5EeZ1y4m6Vu\n"
           "---- END SSH2 PUBLIC KEY ----\n",
           &m);
    assert_ok(ec2(app, "ImportKeyPair&KeyName=rfc&PublicKeyMaterial=%s", m.data));
    assert_string_equal(first("keyFingerprint"), ED_FP);
    buf_reset(&m);

    b64url("ssh-rsa AAAAnotakey", &m);
    assert_error(ec2(app, "ImportKeyPair&KeyName=bad&PublicKeyMaterial=%s", m.data),
                 "InvalidKey.Format");
    assert_true(has("Key is not in valid OpenSSH public key format"));
    buf_reset(&m);
    b64url("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=", &m);
    assert_error(ec2(app, "ImportKeyPair&KeyName=bad&PublicKeyMaterial=%s", m.data),
                 "InvalidKey.Format");
    buf_release(&m);
}

static void
test_import_rsa_key_uses_md5_of_der_public_key(void **state)
{
    struct app *app = *state;
    /* Make an RSA key here, import its public half, and check the fingerprint against the
       one computed from the PEM fogbank gave (CreateKeyPair's public key is the same key). */
    assert_ok(ec2(app, "CreateKeyPair&KeyName=src"));
    assert_ok(ec2(app, "DescribeKeyPairs&KeyName.1=src&IncludePublicKey=true"));
    char pub[1024];
    grab("publicKey", pub, sizeof(pub));
    struct buf m = BUF_INIT;
    b64url(pub, &m);
    assert_ok(ec2(app, "ImportKeyPair&KeyName=copy&PublicKeyMaterial=%s", m.data));
    buf_release(&m);
    /* MD5: 16 bytes as colon hex. */
    assert_int_equal(strlen(first("keyFingerprint")), 47);
    assert_ok(ec2(app, "DescribeKeyPairs&KeyName.1=copy&IncludePublicKey=true"));
    assert_string_equal(first("keyType"), "rsa");
    assert_true(str_starts(first("publicKey"), "ssh-rsa AAAAB3NzaC1yc2E"));
}

static void
test_delete_key_pair_by_name_is_idempotent_by_id_checked(void **state)
{
    struct app *app = *state;
    char id[32];
    assert_ok(ec2(app, "CreateKeyPair&KeyName=k&KeyType=ed25519"));
    grab("keyPairId", id, sizeof(id));
    assert_ok(ec2(app, "DeleteKeyPair&KeyName=k"));
    assert_string_equal(first("keyPairId"), id);
    assert_ok(ec2(app, "DeleteKeyPair&KeyName=k"));
    assert_string_equal(first("return"), "true");
    assert_error(ec2(app, "DeleteKeyPair&KeyPairId=%s", id), "InvalidKeyPair.NotFound");
    assert_error(ec2(app, "DeleteKeyPair"), "MissingParameter");
    assert_ok(ec2(app, "CreateKeyPair&KeyName=k&KeyType=ed25519"));
    grab("keyPairId", id, sizeof(id));
    assert_ok(ec2(app, "DeleteKeyPair&KeyPairId=%s", id));
    assert_ok(ec2(app, "DescribeKeyPairs"));
    assert_int_equal(count("<keyName>"), 0);
}

/* ---- tags ---- */

static void
test_tags_round_trip_overwrite_and_delete(void **state)
{
    struct app *app = *state;
    char vpc[32], subnet[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    assert_ok(ec2(app, "CreateSubnet&VpcId=%s&CidrBlock=10.0.0.0/24", vpc));
    grab("subnetId", subnet, sizeof(subnet));
    assert_ok(ec2(app,
                  "CreateTags&ResourceId.1=%s&ResourceId.2=%s&Tag.1.Key=env&Tag.1.Value=dev"
                  "&Tag.2.Key=team&Tag.2.Value=core&Tag.3.Key=empty",
                  vpc, subnet));
    assert_ok(ec2(app, "DescribeTags"));
    assert_int_equal(count("<resourceId>"), 6);
    assert_true(has("<resourceType>subnet</resourceType>"));
    assert_true(has("<resourceType>vpc</resourceType>"));

    /* Overwrite a value. */
    assert_ok(ec2(app, "CreateTags&ResourceId.1=%s&Tag.1.Key=env&Tag.1.Value=prod", vpc));
    assert_ok(ec2(app, "DescribeTags&Filter.1.Name=resource-id&Filter.1.Value.1=%s", vpc));
    assert_int_equal(count("<resourceId>"), 3);
    assert_true(has("<key>env</key>"));
    assert_true(has("<value>prod</value>"));
    assert_ok(ec2(app, "DescribeTags&Filter.1.Name=key&Filter.1.Value.1=env"
                       "&Filter.2.Name=value&Filter.2.Value.1=dev"));
    assert_int_equal(count("<resourceId>"), 1);
    assert_true(has(subnet));
    assert_ok(ec2(app, "DescribeTags&Filter.1.Name=resource-type&Filter.1.Value.1=vpc"));
    assert_int_equal(count("<resourceId>"), 3);
    assert_ok(ec2(app, "DescribeTags&Filter.1.Name=tag:team&Filter.1.Value.1=co*"));
    assert_int_equal(count("<resourceId>"), 2);

    /* DeleteTags: a key with a value deletes only that value; a bare key any value. */
    assert_ok(ec2(app, "DeleteTags&ResourceId.1=%s&Tag.1.Key=env&Tag.1.Value=dev", vpc));
    assert_ok(ec2(app, "DescribeTags&Filter.1.Name=resource-id&Filter.1.Value.1=%s", vpc));
    assert_int_equal(count("<resourceId>"), 3);
    assert_ok(ec2(app, "DeleteTags&ResourceId.1=%s&Tag.1.Key=env", vpc));
    assert_ok(ec2(app, "DescribeTags&Filter.1.Name=resource-id&Filter.1.Value.1=%s", vpc));
    assert_int_equal(count("<resourceId>"), 2);
    /* No Tags at all: every tag of the resource. */
    assert_ok(ec2(app, "DeleteTags&ResourceId.1=%s", subnet));
    assert_ok(ec2(app, "DescribeTags&Filter.1.Name=resource-id&Filter.1.Value.1=%s", subnet));
    assert_int_equal(count("<resourceId>"), 0);

    /* Deleting a resource drops its tags. */
    assert_ok(ec2(app, "DeleteSubnet&SubnetId=%s", subnet));
    assert_ok(ec2(app, "DeleteVpc&VpcId=%s", vpc));
    assert_ok(ec2(app, "DescribeTags"));
    assert_int_equal(count("<resourceId>"), 0);
}

static void
test_tags_errors_and_limits(void **state)
{
    struct app *app = *state;
    char vpc[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    assert_error(ec2(app, "CreateTags&ResourceId.1=nonsense&Tag.1.Key=a"), "InvalidID");
    assert_true(has("The ID &apos;nonsense&apos; is not valid") ||
                has("The ID 'nonsense' is not valid"));
    assert_error(ec2(app, "CreateTags&ResourceId.1=vpc-0123456789abcdef0&Tag.1.Key=a"),
                 "InvalidVpcID.NotFound");
    assert_error(ec2(app, "CreateTags&ResourceId.1=sg-0123456789abcdef0&Tag.1.Key=a"),
                 "InvalidGroup.NotFound");
    assert_error(ec2(app, "CreateTags&ResourceId.1=%s&Tag.1.Key=aws:x&Tag.1.Value=y", vpc),
                 "InvalidParameterValue");
    assert_error(ec2(app, "CreateTags&ResourceId.1=%s&Tag.1.Key=&Tag.1.Value=y", vpc),
                 "InvalidParameterValue");
    struct buf body = BUF_INIT;
    for (int i = 1; i <= 51; i++)
        buf_addf(&body, "&Tag.%d.Key=k%d&Tag.%d.Value=v", i, i, i);
    assert_error(ec2(app, "CreateTags&ResourceId.1=%s%s", vpc, body.data), "TagLimitExceeded");
    buf_release(&body);
    /* None of those left a tag behind. */
    assert_ok(ec2(app, "DescribeTags"));
    assert_int_equal(count("<resourceId>"), 0);
    /* Other EC2 types are taken on their id's shape. */
    assert_ok(ec2(app, "CreateTags&ResourceId.1=i-0123456789abcdef0&Tag.1.Key=a&Tag.1.Value=b"));
    assert_ok(ec2(app, "DescribeTags&Filter.1.Name=resource-type&Filter.1.Value.1=instance"));
    assert_int_equal(count("<resourceId>"), 1);
    assert_error(ec2(app, "DescribeTags&Filter.1.Name=colour&Filter.1.Value.1=x"),
                 "InvalidParameterValue");
}

static void
test_describe_tags_paginates(void **state)
{
    struct app *app = *state;
    char vpc[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    assert_ok(ec2(app,
                  "CreateTags&ResourceId.1=%s&Tag.1.Key=a&Tag.2.Key=b&Tag.3.Key=c"
                  "&Tag.4.Key=d&Tag.5.Key=e&Tag.6.Key=f&Tag.7.Key=g",
                  vpc));
    assert_ok(ec2(app, "DescribeTags&MaxResults=5"));
    assert_int_equal(count("<resourceId>"), 5);
    char token[256];
    grab("nextToken", token, sizeof(token));
    assert_ok(ec2(app, "DescribeTags&MaxResults=5&NextToken=%s", token));
    assert_int_equal(count("<resourceId>"), 2);
    assert_true(has("<key>g</key>"));
}

/* ---- nothing changes on error ---- */

static void
test_failed_calls_change_nothing(void **state)
{
    struct app *app = *state;
    char vpc[32], sg[32], other[32];
    make_vpc(app, "10.0.0.0/16", vpc, sizeof(vpc));
    make_sg(app, vpc, "web", sg, sizeof(sg));
    make_sg(app, vpc, "other", other, sizeof(other));
    assert_ok(ec2(app, "CreateKeyPair&KeyName=k&KeyType=ed25519"));
    char *before = snapshot(app);

    /* Each of these fails after part of its work could have been written. */
    assert_error(ec2(app, "CreateVpc&CidrBlock=10.9.0.0/16&TagSpecification.1.ResourceType=vpc"
                          "&TagSpecification.1.Tag.1.Key=aws:reserved"),
                 "InvalidParameterValue");
    assert_error(ec2(app,
                     "CreateSubnet&VpcId=%s&CidrBlock=10.0.5.0/24"
                     "&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=a",
                     vpc),
                 "InvalidParameter");
    assert_error(ec2(app,
                     "CreateSecurityGroup&GroupName=x&GroupDescription=d&VpcId=%s"
                     "&TagSpecification.1.ResourceType=security-group"
                     "&TagSpecification.1.Tag.1.Key=",
                     vpc),
                 "InvalidParameterValue");
    assert_error(ec2(app,
                     "AuthorizeSecurityGroupIngress&GroupId=%s"
                     "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=1"
                     "&IpPermissions.1.ToPort=1&IpPermissions.1.IpRanges.1.CidrIp=1.1.1.1/32"
                     "&IpPermissions.2.IpProtocol=tcp&IpPermissions.2.FromPort=1"
                     "&IpPermissions.2.ToPort=1&IpPermissions.2.IpRanges.1.CidrIp=bad",
                     sg),
                 "InvalidParameterValue");
    assert_error(ec2(app,
                     "AuthorizeSecurityGroupIngress&GroupId=%s"
                     "&IpPermissions.1.IpProtocol=-1&IpPermissions.1.Groups.1.GroupId=%s"
                     "&TagSpecification.1.ResourceType=security-group-rule"
                     "&TagSpecification.1.Tag.1.Key=aws:x",
                     sg, other),
                 "InvalidParameterValue");
    assert_error(ec2(app, "CreateKeyPair&KeyName=k2&TagSpecification.1.ResourceType=key-pair"
                          "&TagSpecification.1.Tag.1.Key=aws:x"),
                 "InvalidParameterValue");
    assert_error(ec2(app,
                     "CreateTags&ResourceId.1=%s&ResourceId.2=vpc-0123456789abcdef0"
                     "&Tag.1.Key=a&Tag.1.Value=b",
                     vpc),
                 "InvalidVpcID.NotFound");
    assert_error(ec2(app, "DeleteTags&ResourceId.1=%s&ResourceId.2=nonsense", vpc), "InvalidID");
    assert_error(ec2(app,
                     "RevokeSecurityGroupEgress&GroupId=%s"
                     "&IpPermissions.1.IpProtocol=-1&IpPermissions.1.IpRanges.1.CidrIp="
                     "0.0.0.0/0&IpPermissions.2.IpProtocol=tcp&IpPermissions.2.FromPort=1"
                     "&IpPermissions.2.ToPort=1&IpPermissions.2.IpRanges.1.CidrIp=9.9.9.9/32",
                     sg),
                 "InvalidPermission.NotFound");
    assert_error(ec2(app, "DeleteVpc&VpcId=%s", vpc), "DependencyViolation");
    assert_int_equal(ec2(app, "CreateVpc&CidrBlock=10.0.0.0/16&DryRun=true"), 412);
    assert_true(has("<Code>DryRunOperation</Code>"));

    char *after = snapshot(app);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, app_setup, app_teardown)
    const struct CMUnitTest tests[] = {
        T(test_filter_match_paths_wildcards_tags_and_unknown_names),
        T(test_paginate_pages_and_rejects_bad_input),
        T(test_ids_are_17_hex_digits_and_checked_by_shape),
        T(test_default_vpc_subnets_and_group_exist_lazily),
        T(test_each_region_has_its_own_default_vpc),
        T(test_deleted_default_vpc_stays_deleted),
        T(test_reset_state_looks_like_a_new_account),
        T(test_create_vpc_answers_pending_with_tags_then_describes_available),
        T(test_create_vpc_rejects_bad_cidrs),
        T(test_describe_vpcs_filters_and_unknown_ids),
        T(test_describe_vpcs_paginates),
        T(test_delete_vpc_needs_it_empty_and_existing),
        T(test_create_subnet_in_a_zone_and_describe_it),
        T(test_create_subnet_errors),
        T(test_subnet_addresses_skip_reserved_and_are_distinct),
        T(test_default_subnet_and_lookups_for_launches),
        T(test_create_security_group_and_describe_by_id_name_filter),
        T(test_create_security_group_errors),
        T(test_authorize_ingress_rules_group_and_duplicate),
        T(test_authorize_errors),
        T(test_egress_rules_and_revoke),
        T(test_revoke_unknown_rule_in_default_vpc_is_reported_not_an_error),
        T(test_delete_security_group_by_id_and_name_and_default_refused),
        T(test_create_key_pair_rsa_and_ed25519),
        T(test_import_key_pair_formats_and_errors),
        T(test_import_rsa_key_uses_md5_of_der_public_key),
        T(test_delete_key_pair_by_name_is_idempotent_by_id_checked),
        T(test_tags_round_trip_overwrite_and_delete),
        T(test_tags_errors_and_limits),
        T(test_describe_tags_paginates),
        T(test_failed_calls_change_nothing),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
