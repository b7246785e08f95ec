/*
 * Tests of emulator/protocol/ec2.c: EC2Serializer-style parameters -> typed tree, EC2's
 * errors (UnknownParameter, MissingParameter, InvalidParameterValue), the success envelope
 * with <requestId> and "item" lists, the Response/Errors envelope, and a round trip of the
 * real DescribeAvailabilityZones model.
 */
#include "emulator/common.h"
#include "emulator/protocol/protocol.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static const char test_model[] =
        "{\"metadata\":{\"protocol\":\"ec2\",\"apiVersion\":\"2016-11-15\","
        "\"xmlNamespace\":\"http://ec2.amazonaws.com/doc/2016-11-15\"},"
        "\"operations\":{"
        "\"RunThings\":{\"http\":{\"method\":\"POST\",\"requestUri\":\"/\"},"
        "\"input\":{\"shape\":\"RunThingsRequest\"},\"output\":{\"shape\":\"RunThingsResult\"}},"
        "\"DeleteTags\":{\"http\":{\"method\":\"POST\",\"requestUri\":\"/\"},"
        "\"input\":{\"shape\":\"DeleteTagsRequest\"}}},"
        "\"unimplemented\":{},\"shapes\":{"
        "\"RunThingsRequest\":{\"type\":\"structure\",\"required\":[\"ImageId\",\"MaxCount\"],"
        "\"members\":{"
        "\"ImageId\":{\"shape\":\"String\"},"
        "\"MaxCount\":{\"shape\":\"Integer\"},"
        "\"DryRun\":{\"shape\":\"Boolean\",\"locationName\":\"dryRun\"},"
        "\"InstanceIds\":{\"shape\":\"IdList\",\"locationName\":\"InstanceId\"},"
        "\"Filters\":{\"shape\":\"FilterList\",\"locationName\":\"Filter\"},"
        "\"Placement\":{\"shape\":\"Placement\",\"locationName\":\"placement\"},"
        "\"Ipv6Addresses\":{\"shape\":\"IdList\",\"queryName\":\"Ipv6Addresses\","
        "\"locationName\":\"ipv6AddressesSet\"},"
        "\"Kind\":{\"shape\":\"Kind\"},"
        "\"Count\":{\"shape\":\"Count\"},"
        "\"UserData\":{\"shape\":\"Blob\"},"
        "\"Until\":{\"shape\":\"DateTime\"}}},"
        "\"DeleteTagsRequest\":{\"type\":\"structure\",\"members\":{"
        "\"Resources\":{\"shape\":\"IdList\",\"locationName\":\"resourceId\"}}},"
        "\"RunThingsResult\":{\"type\":\"structure\",\"members\":{"
        "\"Instances\":{\"shape\":\"InstanceList\",\"locationName\":\"instancesSet\"},"
        "\"OwnerId\":{\"shape\":\"String\",\"locationName\":\"ownerId\"},"
        "\"Messages\":{\"shape\":\"PlainList\",\"locationName\":\"messageSet\"}}},"
        "\"InstanceList\":{\"type\":\"list\",\"member\":{\"shape\":\"Instance\","
        "\"locationName\":\"item\"}},"
        "\"Instance\":{\"type\":\"structure\",\"members\":{"
        "\"InstanceId\":{\"shape\":\"String\",\"locationName\":\"instanceId\"},"
        "\"LaunchTime\":{\"shape\":\"DateTime\",\"locationName\":\"launchTime\"},"
        "\"EbsOptimized\":{\"shape\":\"Boolean\",\"locationName\":\"ebsOptimized\"},"
        "\"CpuCount\":{\"shape\":\"Integer\",\"locationName\":\"cpuCount\"},"
        "\"Tags\":{\"shape\":\"TagList\",\"locationName\":\"tagSet\"}}},"
        "\"TagList\":{\"type\":\"list\",\"member\":{\"shape\":\"Tag\",\"locationName\":\"item\"}},"
        "\"Tag\":{\"type\":\"structure\",\"members\":{"
        "\"Key\":{\"shape\":\"String\",\"locationName\":\"key\"},"
        "\"Value\":{\"shape\":\"String\",\"locationName\":\"value\"}}},"
        "\"PlainList\":{\"type\":\"list\",\"member\":{\"shape\":\"String\"}},"
        "\"IdList\":{\"type\":\"list\",\"member\":{\"shape\":\"String\","
        "\"locationName\":\"InstanceId\"}},"
        "\"FilterList\":{\"type\":\"list\",\"member\":{\"shape\":\"Filter\","
        "\"locationName\":\"Filter\"}},"
        "\"Filter\":{\"type\":\"structure\",\"required\":[\"Name\"],\"members\":{"
        "\"Name\":{\"shape\":\"String\"},"
        "\"Values\":{\"shape\":\"ValueList\",\"locationName\":\"Value\"}}},"
        "\"ValueList\":{\"type\":\"list\",\"member\":{\"shape\":\"String\","
        "\"locationName\":\"item\"}},"
        "\"Placement\":{\"type\":\"structure\",\"members\":{"
        "\"AvailabilityZone\":{\"shape\":\"String\",\"locationName\":\"availabilityZone\"}}},"
        "\"Kind\":{\"type\":\"string\",\"enum\":[\"small\",\"large\"]},"
        "\"Count\":{\"type\":\"integer\",\"min\":5,\"max\":1000},"
        "\"String\":{\"type\":\"string\"},"
        "\"Integer\":{\"type\":\"integer\"},"
        "\"Boolean\":{\"type\":\"boolean\"},"
        "\"Blob\":{\"type\":\"blob\"},"
        "\"DateTime\":{\"type\":\"timestamp\"}"
        "}}";

#define RID "11111111-2222-3333-4444-555555555555"

static struct model *model;

static int
setup(void **state)
{
    (void)state;
    model = model_parse(test_model);
    return model ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    model_free(model);
    model_unload_all();
    return 0;
}

static void
req_init(struct aws_request *req, const struct model *m, const char *op, const char *body)
{
    memset(req, 0, sizeof(*req));
    req->model = m;
    req->service = "ec2";
    req->region = "us-east-1";
    req->params = (struct params)PARAMS_INIT;
    assert_int_equal(params_parse(&req->params, body, strlen(body)), 0);
    req->op_name = op;
    req->op = model_op(m, op, NULL);
    assert_non_null(req->op);
    snprintf(req->request_id, sizeof(req->request_id), RID);
}

/* Decodes `body` for `op`; returns the tree as compact JSON (caller frees) or NULL + err. */
static char *
decode_json(const struct model *m, const char *op, const char *body, struct aws_err *err)
{
    struct aws_request req;
    req_init(&req, m, op, body);
    cJSON *in = NULL;
    char *text = NULL;
    aws_err_clear(err);
    if (proto_ec2.decode(&req, &in, err) == 0) {
        assert_non_null(in);
        text = cJSON_PrintUnformatted(in);
        cJSON_Delete(in);
    }
    params_release(&req.params);
    return text;
}

static void
assert_decodes(const char *op, const char *body, const char *json)
{
    struct aws_err err;
    char *text = decode_json(model, op, body, &err);
    if (!text)
        fail_msg("decode failed: %s: %s", err.code, err.message);
    assert_string_equal(text, json);
    free(text);
}

static void
assert_rejects(const char *body, const char *code, const char *message)
{
    struct aws_err err;
    char *text = decode_json(model, "RunThings", body, &err);
    if (text)
        fail_msg("decode accepted: %s", text);
    assert_string_equal(err.code, code);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.message, message);
}

static const char *
resp_header(const struct http_resp *resp, const char *name)
{
    for (size_t i = 0; i < resp->n_headers; i++)
        if (str_ieq(resp->headers[i].name, name))
            return resp->headers[i].value;
    return NULL;
}

static void
test_identify_reads_action(void **state)
{
    (void)state;
    struct aws_request req;
    struct aws_err err;
    req_init(&req, model, "RunThings", "Action=RunThings&Version=2016-11-15");
    req.op_name = NULL;
    assert_int_equal(proto_ec2.identify(&req, &err), 0);
    assert_string_equal(req.op_name, "RunThings");
    params_release(&req.params);
    req_init(&req, model, "RunThings", "Version=2016-11-15");
    assert_int_equal(proto_ec2.identify(&req, &err), -1);
    assert_string_equal(err.code, "MissingAction");
    params_release(&req.params);
}

static void
test_decode_uses_ec2_wire_names(void **state)
{
    (void)state;
    assert_decodes(
            "RunThings",
            "Action=RunThings&Version=2016-11-15&ImageId=ami-1&MaxCount=2&DryRun=false"
            "&InstanceId.1=i-1&InstanceId.2=i-2&Filter.1.Name=state&Filter.1.Value.1=running"
            "&Filter.1.Value.2=stopped&Filter.2.Name=tag%3AName&Placement.AvailabilityZone=us-e"
            "&Ipv6Addresses.1=::1&Kind=large&Count=5&UserData=aGk%3D"
            "&Until=2026-11-28T10%3A00%3A00.000Z",
            "{\"ImageId\":\"ami-1\",\"MaxCount\":2,\"DryRun\":false,"
            "\"InstanceIds\":[\"i-1\",\"i-2\"],"
            "\"Filters\":[{\"Name\":\"state\",\"Values\":[\"running\",\"stopped\"]},"
            "{\"Name\":\"tag:Name\"}],"
            "\"Placement\":{\"AvailabilityZone\":\"us-e\"},"
            "\"Ipv6Addresses\":[\"::1\"],\"Kind\":\"large\",\"Count\":5,\"UserData\":\"aGk=\","
            "\"Until\":1795860000000}");
}

static void
test_decode_orders_list_indices_numerically(void **state)
{
    (void)state;
    assert_decodes("DeleteTags", "ResourceId.10=c&ResourceId.2=b&ResourceId.1=a",
                   "{\"Resources\":[\"a\",\"b\",\"c\"]}");
}

static void
test_decode_ignores_envelope_parameters(void **state)
{
    (void)state;
    assert_decodes("DeleteTags",
                   "Action=DeleteTags&Version=2016-11-15&X-Amz-Algorithm=AWS4-HMAC-SHA256"
                   "&X-Amz-Credential=a%2Fb&X-Amz-Signature=00&AWSAccessKeyId=AK&SignatureVersion=2"
                   "&SignatureMethod=HmacSHA256&Timestamp=2026-01-01T00%3A00%3A00Z&Signature=x",
                   "{}");
}

static void
test_unknown_parameter_is_rejected(void **state)
{
    (void)state;
    assert_rejects("ImageId=ami-1&MaxCount=1&ImageType=machine", "UnknownParameter",
                   "The parameter ImageType is not recognized");
    /* The model's lower-case locationName is not the wire name: EC2 capitalises it. */
    assert_rejects("ImageId=ami-1&MaxCount=1&dryRun=true", "UnknownParameter",
                   "The parameter dryRun is not recognized");
    assert_rejects("ImageId=ami-1&MaxCount=1&Filter.1.Name=a&Filter.1.Bogus=b", "UnknownParameter",
                   "The parameter Filter.1.Bogus is not recognized");
    /* A list sent without an index is not the list. */
    assert_rejects("ImageId=ami-1&MaxCount=1&InstanceId=i-1", "UnknownParameter",
                   "The parameter InstanceId is not recognized");
}

static void
test_missing_parameter_names_the_wire_key(void **state)
{
    (void)state;
    assert_rejects("MaxCount=1", "MissingParameter",
                   "The request must contain the parameter ImageId");
    assert_rejects("ImageId=ami-1&MaxCount=1&Filter.1.Value.1=x", "MissingParameter",
                   "The request must contain the parameter Filter.1.Name");
}

static void
test_invalid_values(void **state)
{
    (void)state;
    assert_rejects("ImageId=ami-1&MaxCount=abc", "InvalidParameterValue",
                   "Invalid value 'abc' for MaxCount");
    assert_rejects("ImageId=ami-1&MaxCount=1&DryRun=maybe", "InvalidParameterValue",
                   "Invalid value 'maybe' for DryRun");
    assert_rejects("ImageId=ami-1&MaxCount=1&Until=soon", "InvalidParameterValue",
                   "Invalid value 'soon' for Until");
    assert_rejects("ImageId=ami-1&MaxCount=1&Kind=medium", "InvalidParameterValue",
                   "Invalid value 'medium' for Kind");
    assert_rejects(
            "ImageId=ami-1&MaxCount=1&Count=1", "InvalidParameterValue",
            "Value (1) for parameter Count is invalid. Expecting a value greater than or equal "
            "to 5.");
    assert_rejects(
            "ImageId=ami-1&MaxCount=1&Count=1001", "InvalidParameterValue",
            "Value (1001) for parameter Count is invalid. Expecting a value less than or equal "
            "to 1000.");
}

static void
encode(const struct model *m, const char *op, const char *out_json, struct http_resp *resp)
{
    struct aws_request req;
    req_init(&req, m, op, "");
    cJSON *out = out_json ? cJSON_Parse(out_json) : NULL;
    http_resp_init(resp);
    proto_ec2.encode(&req, out, resp);
    cJSON_Delete(out);
    params_release(&req.params);
}

static void
test_encode_response(void **state)
{
    (void)state;
    struct http_resp resp;
    encode(model, "RunThings",
           "{\"Messages\":[],\"OwnerId\":\"123\",\"NotInShape\":1,"
           "\"Instances\":[{\"Tags\":[{\"Value\":\"a&b\",\"Key\":\"Name\"}],\"CpuCount\":2,"
           "\"EbsOptimized\":true,\"LaunchTime\":1795860000000,\"InstanceId\":\"i-1\"}]}",
           &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "text/xml;charset=UTF-8");
    assert_string_equal(resp_header(&resp, "x-amzn-RequestId"), RID);
    assert_string_equal(resp.body.data,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<RunThingsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
                        "<requestId>" RID "</requestId>"
                        "<instancesSet><item><instanceId>i-1</instanceId>"
                        "<launchTime>2026-11-28T10:00:00.000Z</launchTime>"
                        "<ebsOptimized>true</ebsOptimized><cpuCount>2</cpuCount>"
                        "<tagSet><item><key>Name</key><value>a&amp;b</value></item></tagSet>"
                        "</item></instancesSet>"
                        "<ownerId>123</ownerId><messageSet/>"
                        "</RunThingsResponse>");
    http_resp_release(&resp);
}

static void
test_encode_without_output_returns_true(void **state)
{
    (void)state;
    struct http_resp resp;
    encode(model, "DeleteTags", NULL, &resp);
    assert_string_equal(resp.body.data,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<DeleteTagsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
                        "<requestId>" RID "</requestId><return>true</return></DeleteTagsResponse>");
    http_resp_release(&resp);
}

static void
test_encode_error_envelope(void **state)
{
    (void)state;
    struct aws_request req;
    struct aws_err err;
    struct http_resp resp;
    req_init(&req, model, "RunThings", "");
    req.op = NULL;
    aws_err_setx(&err, 400, "InvalidInstanceID.NotFound", true,
                 "The instance ID 'i-1<' does not exist");
    http_resp_init(&resp);
    proto_ec2.encode_error(&req, &err, &resp);
    assert_int_equal(resp.status, 400);
    assert_string_equal(resp.content_type, "text/xml;charset=UTF-8");
    assert_string_equal(resp_header(&resp, "x-amzn-RequestId"), RID);
    assert_string_equal(
            resp.body.data,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>"
            "<Message>The instance ID &apos;i-1&lt;&apos; does not exist</Message></Error>"
            "</Errors><RequestID>" RID "</RequestID></Response>");
    http_resp_release(&resp);
    aws_err_set(&err, AWS_E_SERVICE_UNAVAILABLE, "later");
    http_resp_init(&resp);
    proto_ec2.encode_error(&req, &err, &resp);
    assert_int_equal(resp.status, 503);
    http_resp_release(&resp);
    params_release(&req.params);
}

/* ---- the real model: DescribeAvailabilityZones ---- */

static void
test_real_describe_availability_zones_round_trip(void **state)
{
    (void)state;
    const struct model *m = model_get("ec2");
    bool implemented = false;
    if (!m || !model_op(m, "DescribeAvailabilityZones", &implemented) || !implemented) {
        skip();
        return;
    }
    struct aws_err err;
    char *text =
            decode_json(m, "DescribeAvailabilityZones",
                        "Action=DescribeAvailabilityZones&Version=2016-11-15&ZoneName.1=us-east-1a"
                        "&ZoneId.1=use1-az1&AllAvailabilityZones=true&DryRun=false"
                        "&Filter.1.Name=state&Filter.1.Value.1=available",
                        &err);
    if (!text)
        fail_msg("%s: %s", err.code, err.message);
    assert_string_equal(text, "{\"ZoneNames\":[\"us-east-1a\"],\"ZoneIds\":[\"use1-az1\"],"
                              "\"AllAvailabilityZones\":true,\"DryRun\":false,"
                              "\"Filters\":[{\"Name\":\"state\",\"Values\":[\"available\"]}]}");
    free(text);

    text = decode_json(m, "DescribeAvailabilityZones", "ZoneNames.1=us-east-1a", &err);
    assert_null(text);
    assert_string_equal(err.code, "UnknownParameter");
    assert_string_equal(err.message, "The parameter ZoneNames.1 is not recognized");

    /* What the handler builds, members in another order than the shape's. */
    struct http_resp resp;
    encode(m, "DescribeAvailabilityZones",
           "{\"AvailabilityZones\":[{\"State\":\"available\",\"ZoneName\":\"us-east-1a\","
           "\"OptInStatus\":\"opt-in-not-required\",\"Messages\":[],"
           "\"RegionName\":\"us-east-1\",\"ZoneId\":\"use1-az1\",\"GroupName\":\"us-east-1\","
           "\"NetworkBorderGroup\":\"us-east-1\",\"ZoneType\":\"availability-zone\"}]}",
           &resp);
    assert_string_equal(
            resp.body.data,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<DescribeAvailabilityZonesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
            "<requestId>" RID "</requestId><availabilityZoneInfo><item>"
            "<optInStatus>opt-in-not-required</optInStatus><messageSet/>"
            "<regionName>us-east-1</regionName><zoneName>us-east-1a</zoneName>"
            "<zoneId>use1-az1</zoneId><groupName>us-east-1</groupName>"
            "<networkBorderGroup>us-east-1</networkBorderGroup>"
            "<zoneType>availability-zone</zoneType><zoneState>available</zoneState>"
            "</item></availabilityZoneInfo></DescribeAvailabilityZonesResponse>");
    http_resp_release(&resp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identify_reads_action),
        cmocka_unit_test(test_decode_uses_ec2_wire_names),
        cmocka_unit_test(test_decode_orders_list_indices_numerically),
        cmocka_unit_test(test_decode_ignores_envelope_parameters),
        cmocka_unit_test(test_unknown_parameter_is_rejected),
        cmocka_unit_test(test_missing_parameter_names_the_wire_key),
        cmocka_unit_test(test_invalid_values),
        cmocka_unit_test(test_encode_response),
        cmocka_unit_test(test_encode_without_output_returns_true),
        cmocka_unit_test(test_encode_error_envelope),
        cmocka_unit_test(test_real_describe_availability_zones_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
