/*
 * Tests of emulator/protocol/query.c: form parameters -> typed tree as botocore's
 * QuerySerializer writes them, ValidationError wording, and the XML success and error
 * envelopes, on a small inline model and on the real Auto Scaling model.
 */
#include "emulator/common.h"
#include "emulator/protocol/protocol.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static const char test_model[] =
        "{\"metadata\":{\"protocol\":\"query\",\"apiVersion\":\"2011-01-01\","
        "\"xmlNamespace\":\"http://autoscaling.amazonaws.com/doc/2011-01-01/\"},"
        "\"operations\":{"
        "\"CreateThing\":{\"http\":{\"method\":\"POST\",\"requestUri\":\"/\"},"
        "\"input\":{\"shape\":\"CreateThingType\"},"
        "\"output\":{\"shape\":\"CreateThingAnswer\",\"resultWrapper\":\"CreateThingResult\"}},"
        "\"DeleteThing\":{\"http\":{\"method\":\"POST\",\"requestUri\":\"/\"},"
        "\"input\":{\"shape\":\"DeleteThingType\"}},"
        "\"Ping\":{\"http\":{\"method\":\"POST\",\"requestUri\":\"/\"},"
        "\"output\":{\"shape\":\"PingAnswer\"}}},"
        "\"unimplemented\":{},\"shapes\":{"
        "\"CreateThingType\":{\"type\":\"structure\",\"required\":[\"ThingName\",\"MaxSize\"],"
        "\"members\":{"
        "\"ThingName\":{\"shape\":\"Name\"},"
        "\"MaxSize\":{\"shape\":\"Size\"},"
        "\"Enabled\":{\"shape\":\"Bool\"},"
        "\"When\":{\"shape\":\"Time\"},"
        "\"Data\":{\"shape\":\"Blob\"},"
        "\"Ratio\":{\"shape\":\"Double\"},"
        "\"Big\":{\"shape\":\"Long\"},"
        "\"Mode\":{\"shape\":\"Mode\"},"
        "\"Tags\":{\"shape\":\"Tags\"},"
        "\"Flat\":{\"shape\":\"FlatList\"},"
        "\"FlatNamed\":{\"shape\":\"FlatNamedList\"},"
        "\"Attrs\":{\"shape\":\"Attrs\"},"
        "\"Config\":{\"shape\":\"Config\",\"locationName\":\"Cfg\"},"
        "\"Zones\":{\"shape\":\"Names\"}}},"
        "\"DeleteThingType\":{\"type\":\"structure\",\"members\":{"
        "\"ThingName\":{\"shape\":\"Name\"}}},"
        "\"CreateThingAnswer\":{\"type\":\"structure\",\"members\":{"
        "\"Thing\":{\"shape\":\"Thing\"},"
        "\"Count\":{\"shape\":\"Size\"},"
        "\"Items\":{\"shape\":\"FlatNamedList\"},"
        "\"Extra\":{\"shape\":\"FlatList\"},"
        "\"Labels\":{\"shape\":\"LabelMap\"}}},"
        "\"PingAnswer\":{\"type\":\"structure\",\"members\":{\"Pong\":{\"shape\":\"Str\"}}},"
        "\"Thing\":{\"type\":\"structure\",\"members\":{"
        "\"ThingName\":{\"shape\":\"Name\"},"
        "\"Created\":{\"shape\":\"Time\",\"locationName\":\"CreatedTime\"},"
        "\"Enabled\":{\"shape\":\"Bool\"},"
        "\"Ratio\":{\"shape\":\"Double\"},"
        "\"Big\":{\"shape\":\"Long\"},"
        "\"Data\":{\"shape\":\"Blob\"},"
        "\"Tags\":{\"shape\":\"Tags\"},"
        "\"Zones\":{\"shape\":\"Names\"},"
        "\"Attrs\":{\"shape\":\"Attrs\"}}},"
        "\"Name\":{\"type\":\"string\",\"min\":1,\"max\":10},"
        "\"Str\":{\"type\":\"string\"},"
        "\"Size\":{\"type\":\"integer\",\"min\":0,\"max\":100},"
        "\"Bool\":{\"type\":\"boolean\"},"
        "\"Time\":{\"type\":\"timestamp\"},"
        "\"Blob\":{\"type\":\"blob\"},"
        "\"Double\":{\"type\":\"double\"},"
        "\"Long\":{\"type\":\"long\"},"
        "\"Mode\":{\"type\":\"string\",\"enum\":[\"A\",\"B\"]},"
        "\"Tags\":{\"type\":\"list\",\"member\":{\"shape\":\"Tag\"},\"max\":3},"
        "\"Tag\":{\"type\":\"structure\",\"required\":[\"Key\"],\"members\":{"
        "\"Key\":{\"shape\":\"Name\"},\"Value\":{\"shape\":\"Str\"}}},"
        "\"FlatList\":{\"type\":\"list\",\"member\":{\"shape\":\"Str\"},\"flattened\":true},"
        "\"FlatNamedList\":{\"type\":\"list\",\"member\":{\"shape\":\"Str\","
        "\"locationName\":\"Item\"},\"flattened\":true},"
        "\"Attrs\":{\"type\":\"map\",\"key\":{\"shape\":\"Str\",\"locationName\":\"Name\"},"
        "\"value\":{\"shape\":\"Str\",\"locationName\":\"Val\"}},"
        "\"LabelMap\":{\"type\":\"map\",\"key\":{\"shape\":\"Str\"},\"value\":{\"shape\":\"Str\"},"
        "\"flattened\":true},"
        "\"Config\":{\"type\":\"structure\",\"members\":{\"Inner\":{\"shape\":\"Inner\"}}},"
        "\"Inner\":{\"type\":\"structure\",\"members\":{\"Depth\":{\"shape\":\"Size\"}}},"
        "\"Names\":{\"type\":\"list\",\"member\":{\"shape\":\"Str\"},\"min\":1}"
        "}}";

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
    return 0;
}

static void
req_init(struct aws_request *req, const struct model *m, const char *op, const char *body)
{
    memset(req, 0, sizeof(*req));
    req->model = m;
    req->service = "test";
    req->region = "us-east-1";
    req->params = (struct params)PARAMS_INIT;
    assert_int_equal(params_parse(&req->params, body, strlen(body)), 0);
    req->op_name = op;
    req->op = model_op(m, op, NULL);
    assert_non_null(req->op);
    snprintf(req->request_id, sizeof(req->request_id), "11111111-2222-3333-4444-555555555555");
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
    if (proto_query.decode(&req, &in, err) == 0) {
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
assert_rejects(const char *body, const char *message)
{
    struct aws_err err;
    char *text = decode_json(model, "CreateThing", body, &err);
    if (text)
        fail_msg("decode accepted: %s", text);
    assert_string_equal(err.code, "ValidationError");
    assert_int_equal(err.status, 400);
    assert_true(err.sender);
    assert_string_equal(err.message, message);
}

static void
test_identify_reads_action(void **state)
{
    (void)state;
    struct aws_request req;
    struct aws_err err;
    req_init(&req, model, "CreateThing", "Action=DescribeThings&Version=2011-01-01");
    req.op_name = NULL;
    assert_int_equal(proto_query.identify(&req, &err), 0);
    assert_string_equal(req.op_name, "DescribeThings");
    params_release(&req.params);
}

static void
test_identify_without_action_fails(void **state)
{
    (void)state;
    struct aws_request req;
    struct aws_err err;
    req_init(&req, model, "CreateThing", "Version=2011-01-01&Action=");
    assert_int_equal(proto_query.identify(&req, &err), -1);
    assert_string_equal(err.code, "MissingAction");
    params_release(&req.params);
}

static void
test_decode_scalars(void **state)
{
    (void)state;
    assert_decodes("CreateThing",
                   "Action=CreateThing&Version=2011-01-01&ThingName=abc&MaxSize=5&Enabled=true"
                   "&When=2026-11-28T10%3A00%3A00Z&Data=aGk%3D&Ratio=0.5&Big=-1234567890123&Mode=B",
                   "{\"ThingName\":\"abc\",\"MaxSize\":5,\"Enabled\":true,\"When\":1795860000000,"
                   "\"Data\":\"aGk=\",\"Ratio\":0.5,\"Big\":-1234567890123,\"Mode\":\"B\"}");
}

static void
test_decode_accepts_epoch_timestamps_and_false(void **state)
{
    (void)state;
    assert_decodes("CreateThing", "ThingName=a&MaxSize=0&When=1795860000.5&Enabled=false",
                   "{\"ThingName\":\"a\",\"MaxSize\":0,\"Enabled\":false,\"When\":1795860000500}");
}

static void
test_decode_lists_maps_and_nested_structures(void **state)
{
    (void)state;
    assert_decodes("CreateThing",
                   "ThingName=a&MaxSize=1"
                   "&Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Key=k2"
                   "&Flat.1=x&Flat.2=y&Item.1=p&Item.2=q"
                   "&Attrs.entry.1.Name=color&Attrs.entry.1.Val=red&Attrs.entry.2.Name=size"
                   "&Attrs.entry.2.Val=L&Cfg.Inner.Depth=3"
                   "&Zones.member.10=j&Zones.member.2=b&Zones.member.1=a",
                   "{\"ThingName\":\"a\",\"MaxSize\":1,"
                   "\"Tags\":[{\"Key\":\"k1\",\"Value\":\"v1\"},{\"Key\":\"k2\"}],"
                   "\"Flat\":[\"x\",\"y\"],\"FlatNamed\":[\"p\",\"q\"],"
                   "\"Attrs\":{\"color\":\"red\",\"size\":\"L\"},"
                   "\"Config\":{\"Inner\":{\"Depth\":3}},"
                   "\"Zones\":[\"a\",\"b\",\"j\"]}");
}

static void
test_decode_empty_list_marker(void **state)
{
    (void)state;
    assert_decodes("DeleteThing", "ThingName=a&Tags=", "{\"ThingName\":\"a\"}");
    assert_rejects(
            "ThingName=a&MaxSize=1&Zones=",
            "1 validation error detected: Value '[]' at 'zones' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1");
}

static void
test_decode_ignores_unknown_parameters(void **state)
{
    (void)state;
    assert_decodes("DeleteThing",
                   "Action=DeleteThing&Version=2011-01-01&Bogus=1&ThingName=a&ThingName.member.1=x"
                   "&X-Amz-Date=20260101T000000Z",
                   "{\"ThingName\":\"a\"}");
}

static void
test_decode_without_input_shape_is_empty(void **state)
{
    (void)state;
    assert_decodes("Ping", "Action=Ping&Anything=1", "{}");
}

static void
test_missing_required_member(void **state)
{
    (void)state;
    assert_rejects(
            "ThingName=abc",
            "1 validation error detected: Value null at 'maxSize' failed to satisfy constraint: "
            "Member must not be null");
    assert_rejects("Action=CreateThing",
                   "2 validation errors detected: Value null at 'thingName' failed to satisfy "
                   "constraint: Member must not be null; Value null at 'maxSize' failed to satisfy "
                   "constraint: Member must not be null");
}

static void
test_missing_nested_member_names_the_coral_path(void **state)
{
    (void)state;
    assert_rejects(
            "ThingName=a&MaxSize=1&Tags.member.1.Key=k&Tags.member.2.Value=v",
            "1 validation error detected: Value null at 'tags.2.member.key' failed to satisfy "
            "constraint: Member must not be null");
}

static void
test_enum_violation(void **state)
{
    (void)state;
    assert_rejects("ThingName=a&MaxSize=1&Mode=C",
                   "1 validation error detected: Value 'C' at 'mode' failed to satisfy constraint: "
                   "Member must satisfy enum value set: [A, B]");
}

static void
test_length_and_value_limits(void **state)
{
    (void)state;
    assert_rejects(
            "ThingName=&MaxSize=1",
            "1 validation error detected: Value '' at 'thingName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1");
    assert_rejects(
            "ThingName=abcdefghijk&MaxSize=1",
            "1 validation error detected: Value 'abcdefghijk' at 'thingName' failed to satisfy "
            "constraint: Member must have length less than or equal to 10");
    assert_rejects(
            "ThingName=a&MaxSize=-1",
            "1 validation error detected: Value '-1' at 'maxSize' failed to satisfy constraint: "
            "Member must have value greater than or equal to 0");
    assert_rejects(
            "ThingName=a&MaxSize=101",
            "1 validation error detected: Value '101' at 'maxSize' failed to satisfy constraint: "
            "Member must have value less than or equal to 100");
    assert_rejects(
            "ThingName=a&MaxSize=1&Tags.member.1.Key=a&Tags.member.2.Key=b"
            "&Tags.member.3.Key=c&Tags.member.4.Key=d",
            "1 validation error detected: Value '[{Key=a}, {Key=b}, {Key=c}, {Key=d}]' at 'tags' "
            "failed to satisfy constraint: Member must have length less than or equal to 3");
}

static void
test_wrong_types(void **state)
{
    (void)state;
    assert_rejects(
            "ThingName=a&MaxSize=abc",
            "1 validation error detected: Value 'abc' at 'maxSize' failed to satisfy constraint: "
            "Member must be of type Integer");
    assert_rejects(
            "ThingName=a&MaxSize=1&Enabled=yes&When=tomorrow",
            "2 validation errors detected: Value 'yes' at 'enabled' failed to satisfy "
            "constraint: Member must be of type Boolean; Value 'tomorrow' at 'when' failed to "
            "satisfy constraint: Member must be of type Timestamp");
    assert_rejects(
            "ThingName=a&MaxSize=1&Ratio=1.5x",
            "1 validation error detected: Value '1.5x' at 'ratio' failed to satisfy constraint: "
            "Member must be of type Double");
    assert_rejects("ThingName=a&MaxSize=1&Big=99999999999999999999",
                   "1 validation error detected: Value '99999999999999999999' at 'big' failed to "
                   "satisfy constraint: Member must be of type Long");
    assert_rejects("ThingName=a&MaxSize=2147483648",
                   "1 validation error detected: Value '2147483648' at 'maxSize' failed to satisfy "
                   "constraint: Member must be of type Integer");
    assert_rejects(
            "ThingName=a&MaxSize=1&Data=%21%21",
            "1 validation error detected: Value '!!' at 'data' failed to satisfy constraint: "
            "Member must be of type Blob");
    assert_rejects(
            "ThingName=a&MaxSize=1&Cfg.Inner.Depth=1.0",
            "1 validation error detected: Value '1.0' at 'config.inner.depth' failed to satisfy "
            "constraint: Member must be of type Integer");
}

static void
test_type_and_constraint_errors_are_joined(void **state)
{
    (void)state;
    assert_rejects(
            "MaxSize=x&Mode=Z",
            "3 validation errors detected: Value 'x' at 'maxSize' failed to satisfy constraint: "
            "Member must be of type Integer; Value null at 'thingName' failed to satisfy "
            "constraint: Member must not be null; Value 'Z' at 'mode' failed to satisfy "
            "constraint: Member must satisfy enum value set: [A, B]");
}

static void
encode(const struct model *m, const char *op, const char *out_json, struct http_resp *resp)
{
    struct aws_request req;
    req_init(&req, m, op, "");
    cJSON *out = out_json ? cJSON_Parse(out_json) : NULL;
    http_resp_init(resp);
    proto_query.encode(&req, out, resp);
    cJSON_Delete(out);
    params_release(&req.params);
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
test_encode_result_with_every_type(void **state)
{
    (void)state;
    struct http_resp resp;
    encode(model, "CreateThing",
           "{\"Labels\":{\"a\":\"1\"},\"Unknown\":7,\"Count\":2,"
           "\"Thing\":{\"Attrs\":{\"k\":\"v\"},\"Tags\":[{\"Value\":\"<&>\",\"Key\":\"k\"}],"
           "\"Zones\":[],\"ThingName\":\"t\",\"Created\":1795860000123,\"Enabled\":false,"
           "\"Ratio\":0.1,\"Big\":12345678901234,\"Data\":\"aGk=\"},"
           "\"Items\":[\"x\",\"y\"],\"Extra\":[\"e\"]}",
           &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "text/xml");
    assert_string_equal(resp_header(&resp, "x-amzn-RequestId"),
                        "11111111-2222-3333-4444-555555555555");
    assert_string_equal(
            resp.body.data,
            "<CreateThingResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">"
            "<CreateThingResult>"
            "<Thing><ThingName>t</ThingName><CreatedTime>2026-11-28T10:00:00.123Z</CreatedTime>"
            "<Enabled>false</Enabled><Ratio>0.1</Ratio><Big>12345678901234</Big>"
            "<Data>aGk=</Data>"
            "<Tags><member><Key>k</Key><Value>&lt;&amp;&gt;</Value></member></Tags>"
            "<Zones/>"
            "<Attrs><entry><Name>k</Name><Val>v</Val></entry></Attrs></Thing>"
            "<Count>2</Count><Item>x</Item><Item>y</Item><Extra>e</Extra>"
            "<Labels><key>a</key><value>1</value></Labels>"
            "</CreateThingResult>"
            "<ResponseMetadata><RequestId>11111111-2222-3333-4444-555555555555</RequestId>"
            "</ResponseMetadata></CreateThingResponse>");
    http_resp_release(&resp);
}

static void
test_encode_without_output_has_no_result(void **state)
{
    (void)state;
    struct http_resp resp;
    encode(model, "DeleteThing", NULL, &resp);
    assert_string_equal(
            resp.body.data,
            "<DeleteThingResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">"
            "<ResponseMetadata><RequestId>11111111-2222-3333-4444-555555555555</RequestId>"
            "</ResponseMetadata></DeleteThingResponse>");
    http_resp_release(&resp);
}

static void
test_encode_output_without_wrapper_writes_members_in_response(void **state)
{
    (void)state;
    struct http_resp resp;
    encode(model, "Ping", "{\"Pong\":\"p\"}", &resp);
    assert_string_equal(
            resp.body.data,
            "<PingResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">"
            "<Pong>p</Pong><ResponseMetadata><RequestId>11111111-2222-3333-4444-555555555555"
            "</RequestId></ResponseMetadata></PingResponse>");
    http_resp_release(&resp);
}

static void
test_encode_error_envelope(void **state)
{
    (void)state;
    struct aws_request req;
    struct aws_err err;
    struct http_resp resp;
    req_init(&req, model, "CreateThing", "");
    req.op = NULL;
    aws_err_setx(&err, 409, "AlreadyExists", true, "Thing 'a<b' already exists");
    http_resp_init(&resp);
    proto_query.encode_error(&req, &err, &resp);
    assert_int_equal(resp.status, 409);
    assert_string_equal(resp.content_type, "text/xml");
    assert_string_equal(resp_header(&resp, "x-amzn-RequestId"),
                        "11111111-2222-3333-4444-555555555555");
    assert_string_equal(
            resp.body.data,
            "<ErrorResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\"><Error>"
            "<Type>Sender</Type><Code>AlreadyExists</Code>"
            "<Message>Thing &apos;a&lt;b&apos; already exists</Message></Error>"
            "<RequestId>11111111-2222-3333-4444-555555555555</RequestId></ErrorResponse>");
    http_resp_release(&resp);

    aws_err_set(&err, AWS_E_INTERNAL_ERROR, "boom");
    http_resp_init(&resp);
    proto_query.encode_error(&req, &err, &resp);
    assert_int_equal(resp.status, 500);
    assert_non_null(strstr(resp.body.data, "<Type>Receiver</Type><Code>InternalError</Code>"));
    http_resp_release(&resp);
    params_release(&req.params);
}

/* ---- the real Auto Scaling model ---- */

static void
test_real_autoscaling_create_group(void **state)
{
    (void)state;
    const struct model *m = model_get("autoscaling");
    bool implemented = false;
    /* The compact model carries input shapes only once services/autoscaling implements it. */
    if (!m || !model_op(m, "CreateAutoScalingGroup", &implemented) || !implemented) {
        skip();
        return;
    }
    struct aws_err err;
    char *text = decode_json(
            m, "CreateAutoScalingGroup",
            "Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=web"
            "&MinSize=1&MaxSize=3&AvailabilityZones.member.1=us-east-1a"
            "&Tags.member.1.Key=env&Tags.member.1.Value=dev&Tags.member.1.PropagateAtLaunch=true",
            &err);
    if (!text)
        fail_msg("%s: %s", err.code, err.message);
    assert_string_equal(
            text, "{\"AutoScalingGroupName\":\"web\",\"MinSize\":1,\"MaxSize\":3,"
                  "\"AvailabilityZones\":[\"us-east-1a\"],"
                  "\"Tags\":[{\"Key\":\"env\",\"Value\":\"dev\",\"PropagateAtLaunch\":true}]}");
    free(text);
    text = decode_json(m, "CreateAutoScalingGroup", "Action=CreateAutoScalingGroup&MinSize=1",
                       &err);
    assert_null(text);
    assert_string_equal(
            err.message,
            "2 validation errors detected: Value null at 'autoScalingGroupName' failed to "
            "satisfy constraint: Member must not be null; Value null at 'maxSize' failed to "
            "satisfy constraint: Member must not be null");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identify_reads_action),
        cmocka_unit_test(test_identify_without_action_fails),
        cmocka_unit_test(test_decode_scalars),
        cmocka_unit_test(test_decode_accepts_epoch_timestamps_and_false),
        cmocka_unit_test(test_decode_lists_maps_and_nested_structures),
        cmocka_unit_test(test_decode_empty_list_marker),
        cmocka_unit_test(test_decode_ignores_unknown_parameters),
        cmocka_unit_test(test_decode_without_input_shape_is_empty),
        cmocka_unit_test(test_missing_required_member),
        cmocka_unit_test(test_missing_nested_member_names_the_coral_path),
        cmocka_unit_test(test_enum_violation),
        cmocka_unit_test(test_length_and_value_limits),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_type_and_constraint_errors_are_joined),
        cmocka_unit_test(test_encode_result_with_every_type),
        cmocka_unit_test(test_encode_without_output_has_no_result),
        cmocka_unit_test(test_encode_output_without_wrapper_writes_members_in_response),
        cmocka_unit_test(test_encode_error_envelope),
        cmocka_unit_test(test_real_autoscaling_create_group),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    model_unload_all();
    return rc;
}
