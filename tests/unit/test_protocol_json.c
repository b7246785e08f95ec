/*
 * Tests of emulator/protocol/json.c (json 1.1, CodeDeploy): X-Amz-Target routing, typed
 * decoding of request bodies with their SerializationException / ValidationException
 * answers, encoding of output trees in shape order, and the {"__type","message"} envelope.
 * Small inline models keep each case readable; one test runs against the real CodeDeploy
 * model.
 */
#include "emulator/common.h"
#include "emulator/protocol/protocol.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

/* Model texts are written with ' for " so they read as JSON; load() swaps them back. */
static const char test_model[] =
        "{'metadata':{'protocol':'json','apiVersion':'2020-01-01','targetPrefix':'Test_20200101',"
        "  'jsonVersion':'1.1'},"
        " 'operations':{"
        "  'CreateThing':{'http':{'method':'POST','requestUri':'/'},"
        "    'input':{'shape':'CreateThingInput'},'output':{'shape':'CreateThingOutput'}},"
        "  'Ping':{'http':{'method':'POST','requestUri':'/'}}},"
        " 'unimplemented':{'DeleteThing':{'http':{'method':'POST','requestUri':'/'}}},"
        " 'shapes':{"
        "  'CreateThingInput':{'type':'structure','required':['applicationName'],'members':{"
        "    'applicationName':{'shape':'Name'},'count':{'shape':'Count'},"
        "    'enabled':{'shape':'Flag'},'created':{'shape':'Time'},'data':{'shape':'Data'},"
        "    'tags':{'shape':'TagList'},'attrs':{'shape':'Attrs'},'nested':{'shape':'Outer'},"
        "    'ratio':{'shape':'Ratio'}}},"
        "  'CreateThingOutput':{'type':'structure','members':{"
        "    'thingId':{'shape':'Name'},'count':{'shape':'Count'},'enabled':{'shape':'Flag'},"
        "    'created':{'shape':'Time'},'data':{'shape':'Data'},'tags':{'shape':'TagList'},"
        "    'attrs':{'shape':'Attrs'},'nested':{'shape':'Outer'},'ratio':{'shape':'Ratio'}}},"
        "  'Name':{'type':'string','min':1,'max':10},"
        "  'Count':{'type':'integer','min':1,'max':5},"
        "  'Flag':{'type':'boolean'},'Time':{'type':'timestamp'},'Data':{'type':'blob'},"
        "  'Ratio':{'type':'double'},"
        "  'TagList':{'type':'list','member':{'shape':'Tag'}},"
        "  'Tag':{'type':'structure','required':['Key'],'members':{"
        "    'Key':{'shape':'Name'},'Value':{'shape':'Name'}}},"
        "  'Attrs':{'type':'map','key':{'shape':'Name'},'value':{'shape':'Name'}},"
        "  'Outer':{'type':'structure','members':{'inner':{'shape':'Inner'}}},"
        "  'Inner':{'type':'structure','members':{'color':{'shape':'Color'}}},"
        "  'Color':{'type':'string','enum':['RED','GREEN']}}}";

static struct model *
load(const char *text)
{
    char *s = xstrdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    struct model *m = model_parse(s);
    free(s);
    assert_non_null(m);
    return m;
}

struct call {
    struct http_header headers[4];
    struct http_req http;
    struct aws_request req;
};

/* A POST / with X-Amz-Target `target` (NULL: none) and `body`. */
static void
call_init(struct call *c, const struct model *m, const char *target, const char *body)
{
    memset(c, 0, sizeof(*c));
    size_t n = 0;
    c->headers[n++] = (struct http_header){ "Content-Type", "application/x-amz-json-1.1" };
    if (target)
        c->headers[n++] = (struct http_header){ "X-Amz-Target", target };
    c->http.method = "POST";
    c->http.target = "/";
    c->http.headers = c->headers;
    c->http.n_headers = n;
    c->http.body = body ? body : "";
    c->http.body_len = body ? strlen(body) : 0;
    c->req.http = &c->http;
    c->req.model = m;
    c->req.service = "test";
    c->req.raw_path = "/";
    c->req.raw_query = "";
    c->req.region = "us-east-1";
    snprintf(c->req.request_id, sizeof(c->req.request_id), "%s",
             "11111111-2222-3333-4444-555555555555");
}

/* identify + decode; identify already refuses a malformed body, as the service does. */
static int
decode(struct call *c, cJSON **in, struct aws_err *err)
{
    *in = NULL;
    if (proto_json.identify(&c->req, err) < 0)
        return -1;
    c->req.op = model_op(c->req.model, c->req.op_name, NULL);
    assert_non_null(c->req.op);
    return proto_json.decode(&c->req, in, err);
}

static int
setup(void **state)
{
    *state = load(test_model);
    return 0;
}

static int
teardown(void **state)
{
    model_free(*state);
    return 0;
}

static const char *
resp_header(const struct http_resp *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (str_ieq(r->headers[i].name, name))
            return r->headers[i].value;
    return NULL;
}

/* ---- identify ---- */

static void
test_identify_takes_the_operation_after_the_target_prefix(void **state)
{
    struct call c;
    struct aws_err err;
    call_init(&c, *state, "Test_20200101.CreateThing", "{}");
    assert_int_equal(proto_json.identify(&c.req, &err), 0);
    assert_string_equal(c.req.op_name, "CreateThing");

    /* An unknown name under the right prefix is named; the router answers it. */
    call_init(&c, *state, "Test_20200101.NoSuchThing", "{}");
    assert_int_equal(proto_json.identify(&c.req, &err), 0);
    assert_string_equal(c.req.op_name, "NoSuchThing");
}

static void
test_identify_refuses_missing_or_foreign_target(void **state)
{
    static const char *const bad[] = { NULL,
                                       "Other_20200101.CreateThing",
                                       "Test_20200101",
                                       "Test_20200101.",
                                       "Test_2020010.CreateThing",
                                       "Test_20200101X.CreateThing" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct call c;
        struct aws_err err;
        call_init(&c, *state, bad[i], "{}");
        assert_int_equal(proto_json.identify(&c.req, &err), -1);
        assert_string_equal(err.code, "UnknownOperationException");
        assert_int_equal(err.status, 400);
    }
}

static void
test_identify_names_real_codedeploy_operations(void **state)
{
    (void)state;
    const struct model *m = model_get("codedeploy");
    assert_non_null(m);
    struct call c;
    struct aws_err err;
    bool implemented = true;
    call_init(&c, m, "CodeDeploy_20141006.ListApplications", "{}");
    assert_int_equal(proto_json.identify(&c.req, &err), 0);
    assert_string_equal(c.req.op_name, "ListApplications");
    assert_non_null(model_op(m, c.req.op_name, &implemented));
}

/* ---- decode ---- */

static void
test_decode_types_every_kind_of_member(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, *state, "Test_20200101.CreateThing",
              "{\"applicationName\":\"app\",\"count\":3,\"enabled\":true,"
              "\"created\":1700000000.5,\"data\":\"aGk\",\"ratio\":0.25,"
              "\"tags\":[{\"Key\":\"k1\",\"Value\":\"v1\"},{\"Key\":\"k2\"}],"
              "\"attrs\":{\"a\":\"x\",\"b\":\"y\"},\"nested\":{\"inner\":{\"color\":\"RED\"}},"
              "\"unknownMember\":{\"ignored\":[1,2]}}");
    assert_int_equal(decode(&c, &in, &err), 0);

    char *s = cJSON_PrintUnformatted(in);
    assert_string_equal(s, "{\"applicationName\":\"app\",\"count\":3,\"enabled\":true,"
                           "\"created\":1700000000500,\"data\":\"aGk=\","
                           "\"tags\":[{\"Key\":\"k1\",\"Value\":\"v1\"},{\"Key\":\"k2\"}],"
                           "\"attrs\":{\"a\":\"x\",\"b\":\"y\"},"
                           "\"nested\":{\"inner\":{\"color\":\"RED\"}},\"ratio\":0.25}");
    cJSON_free(s);
    cJSON_Delete(in);
}

static void
test_decode_empty_body_is_an_empty_object(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, *state, "Test_20200101.Ping", NULL);
    assert_int_equal(decode(&c, &in, &err), 0);
    assert_true(cJSON_IsObject(in));
    assert_int_equal(cJSON_GetArraySize(in), 0);
    cJSON_Delete(in);

    /* Whitespace only counts as empty; null members count as absent. */
    call_init(&c, *state, "Test_20200101.CreateThing",
              " \r\n{\"applicationName\":\"a\",\"count\":null} ");
    assert_int_equal(decode(&c, &in, &err), 0);
    assert_null(cJSON_GetObjectItemCaseSensitive(in, "count"));
    cJSON_Delete(in);
}

static void
test_decode_missing_required_member_is_validation_exception(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = (cJSON *)1;
    call_init(&c, *state, "Test_20200101.CreateThing", "");
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_null(in);
    assert_string_equal(err.code, "ValidationException");
    assert_int_equal(err.status, 400);
    assert_string_equal(
            err.message,
            "1 validation error detected: Value null at 'applicationName' failed to satisfy "
            "constraint: Member must not be null");
}

static void
test_decode_lists_several_violations_in_coral_wording(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, *state, "Test_20200101.CreateThing",
              "{\"applicationName\":\"much-too-long-name\",\"count\":9,"
              "\"tags\":[{\"Value\":\"v\"}],\"nested\":{\"inner\":{\"color\":\"BLUE\"}}}");
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(err.code, "ValidationException");
    assert_string_equal(
            err.message,
            "4 validation errors detected: "
            "Value 'much-too-long-name' at 'applicationName' failed to satisfy constraint: "
            "Member must have length less than or equal to 10; "
            "Value 9 at 'count' failed to satisfy constraint: "
            "Member must have value less than or equal to 5; "
            "Value null at 'tags.1.member.key' failed to satisfy constraint: "
            "Member must not be null; "
            "Value 'BLUE' at 'nested.inner.color' failed to satisfy constraint: "
            "Member must satisfy enum value set: [RED, GREEN]");
}

static void
test_decode_malformed_json_is_serialization_exception(void **state)
{
    static const char *const bodies[] = { "{",
                                          "{\"applicationName\":}",
                                          "not json",
                                          "{\"applicationName\":\"a\"} trailing",
                                          "{\"a\":\"\xff\"}",
                                          "{\"a\":\"\xed\xa0\x80\"}",
                                          "[1,2]",
                                          "\"str\"",
                                          "42" };
    for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
        struct call c;
        struct aws_err err;
        cJSON *in = NULL;
        call_init(&c, *state, "Test_20200101.CreateThing", bodies[i]);
        assert_int_equal(decode(&c, &in, &err), -1);
        assert_null(in);
        assert_string_equal(err.code, "SerializationException");
        assert_int_equal(err.status, 400);
        assert_true(err.message[0] != '\0');
    }
}

static void
test_decode_keeps_valid_utf8(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, *state, "Test_20200101.CreateThing",
              "{\"applicationName\":\"caf\xc3\xa9\xf0\x9f\x98\x80\"}");
    assert_int_equal(decode(&c, &in, &err), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(in, "applicationName")->valuestring,
                        "caf\xc3\xa9\xf0\x9f\x98\x80");
    cJSON_Delete(in);
}

static void
test_decode_body_with_nul_byte_is_refused(void **state)
{
    static const char body[] = "{\"applicationName\":\"a\"}\0{\"x\":1}";
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, *state, "Test_20200101.CreateThing", NULL);
    c.http.body = body;
    c.http.body_len = sizeof(body) - 1;
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(err.code, "SerializationException");
}

static void
test_decode_wrong_json_type_is_serialization_exception(void **state)
{
    static const struct {
        const char *body;
        const char *message;
    } cases[] = {
        { "{\"applicationName\":5}", "NUMBER_VALUE can not be converted to a String" },
        { "{\"applicationName\":\"a\",\"count\":\"3\"}",
          "STRING_VALUE can not be converted to an Integer" },
        { "{\"applicationName\":\"a\",\"enabled\":\"yes\"}",
          "STRING_VALUE can not be converted to a Boolean" },
        { "{\"applicationName\":\"a\",\"tags\":{\"Key\":\"k\"}}",
          "Start of structure or map found where not expected." },
        { "{\"applicationName\":[\"a\"]}", "Start of list found where not expected" },
        { "{\"applicationName\":\"a\",\"nested\":{\"inner\":true}}",
          "TRUE_VALUE can not be converted to a Structure" },
        { "{\"applicationName\":\"a\",\"created\":\"yesterday\"}",
          "Unable to parse date value 'yesterday'" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct call c;
        struct aws_err err;
        cJSON *in = NULL;
        call_init(&c, *state, "Test_20200101.CreateThing", cases[i].body);
        assert_int_equal(decode(&c, &in, &err), -1);
        assert_string_equal(err.code, "SerializationException");
        assert_string_equal(err.message, cases[i].message);
    }
}

static void
test_decode_bad_base64_blob_is_serialization_exception(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, *state, "Test_20200101.CreateThing",
              "{\"applicationName\":\"a\",\"data\":\"not base64!\"}");
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(err.code, "SerializationException");
}

static void
test_decode_accepts_iso8601_timestamp_strings(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, *state, "Test_20200101.CreateThing",
              "{\"applicationName\":\"a\",\"created\":\"2023-11-14T22:13:20.250Z\"}");
    assert_int_equal(decode(&c, &in, &err), 0);
    assert_true(cJSON_GetObjectItemCaseSensitive(in, "created")->valuedouble == 1700000000250.0);
    cJSON_Delete(in);
}

/* ---- encode ---- */

static void
encode(const struct model *m, const char *op, const char *tree, struct http_resp *resp)
{
    struct call c;
    call_init(&c, m, NULL, NULL);
    c.req.op_name = op;
    c.req.op = model_op(m, op, NULL);
    cJSON *out = cJSON_Parse(tree);
    assert_non_null(out);
    http_resp_init(resp);
    proto_json.encode(&c.req, out, resp);
    cJSON_Delete(out);
}

static void
test_encode_writes_members_in_shape_order_with_wire_types(void **state)
{
    struct http_resp resp;
    encode(*state, "CreateThing",
           "{\"ratio\":1.5,\"created\":1700000000250,\"thingId\":\"t-1\",\"count\":2,"
           "\"enabled\":false,\"data\":\"aGk=\",\"tags\":[{\"Value\":\"v\",\"Key\":\"k\"}],"
           "\"attrs\":{\"q\":\"a\\\"b\\n\"},\"nested\":{\"inner\":{\"color\":\"RED\"}},"
           "\"notInShape\":\"dropped\"}",
           &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "application/x-amz-json-1.1");
    assert_string_equal(resp_header(&resp, "x-amzn-RequestId"),
                        "11111111-2222-3333-4444-555555555555");
    assert_string_equal(
            resp.body.data,
            "{\"thingId\":\"t-1\",\"count\":2,\"enabled\":false,\"created\":1700000000.250,"
            "\"data\":\"aGk=\",\"tags\":[{\"Key\":\"k\",\"Value\":\"v\"}],"
            "\"attrs\":{\"q\":\"a\\\"b\\n\"},\"nested\":{\"inner\":{\"color\":\"RED\"}},"
            "\"ratio\":1.5}");
    /* What we send must parse back. */
    cJSON *back = cJSON_Parse(resp.body.data);
    assert_non_null(back);
    cJSON_Delete(back);
    http_resp_release(&resp);
}

static void
test_encode_whole_second_timestamps_have_no_fraction(void **state)
{
    struct http_resp resp;
    encode(*state, "CreateThing", "{\"created\":1700000000000}", &resp);
    assert_string_equal(resp.body.data, "{\"created\":1700000000}");
    http_resp_release(&resp);
}

static void
test_encode_leaves_out_values_of_the_wrong_type(void **state)
{
    struct http_resp resp;
    encode(*state, "CreateThing", "{\"thingId\":5,\"count\":\"x\",\"tags\":[1,{\"Key\":\"k\"}]}",
           &resp);
    assert_string_equal(resp.body.data, "{\"tags\":[{\"Key\":\"k\"}]}");
    http_resp_release(&resp);
}

static void
test_encode_operation_without_output_is_empty_object(void **state)
{
    struct http_resp resp;
    encode(*state, "Ping", "{\"anything\":1}", &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body.data, "{}");
    http_resp_release(&resp);
}

static void
test_encode_error_envelope(void **state)
{
    struct call c;
    struct aws_err err;
    struct http_resp resp;
    call_init(&c, *state, NULL, NULL);
    aws_err_setx(&err, 400, "ApplicationDoesNotExistException", true,
                 "No application found for name: \"app\"");
    http_resp_init(&resp);
    proto_json.encode_error(&c.req, &err, &resp);
    assert_int_equal(resp.status, 400);
    assert_string_equal(resp.content_type, "application/x-amz-json-1.1");
    assert_string_equal(resp_header(&resp, "x-amzn-RequestId"),
                        "11111111-2222-3333-4444-555555555555");
    assert_string_equal(resp.body.data,
                        "{\"__type\":\"ApplicationDoesNotExistException\","
                        "\"message\":\"No application found for name: \\\"app\\\"\"}");
    http_resp_release(&resp);

    /* No message: Coral sends __type alone. */
    aws_err_set(&err, AWS_E_INTERNAL_FAILURE, "%s", "");
    http_resp_init(&resp);
    proto_json.encode_error(&c.req, &err, &resp);
    assert_int_equal(resp.status, 500);
    assert_string_equal(resp.body.data, "{\"__type\":\"InternalFailure\"}");
    http_resp_release(&resp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identify_takes_the_operation_after_the_target_prefix,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_identify_refuses_missing_or_foreign_target, setup,
                                        teardown),
        cmocka_unit_test(test_identify_names_real_codedeploy_operations),
        cmocka_unit_test_setup_teardown(test_decode_types_every_kind_of_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_empty_body_is_an_empty_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_missing_required_member_is_validation_exception,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_lists_several_violations_in_coral_wording,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_malformed_json_is_serialization_exception,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_keeps_valid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_body_with_nul_byte_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_wrong_json_type_is_serialization_exception,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_bad_base64_blob_is_serialization_exception,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_accepts_iso8601_timestamp_strings, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_encode_writes_members_in_shape_order_with_wire_types,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_encode_whole_second_timestamps_have_no_fraction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_encode_leaves_out_values_of_the_wrong_type, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_encode_operation_without_output_is_empty_object, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_encode_error_envelope, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
