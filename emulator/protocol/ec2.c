/*
 * The ec2 protocol: query-like requests (Name.N lists, queryName / capitalised locationName
 * keys, per botocore's EC2Serializer), responses with a lower-case <requestId> and "item"
 * lists, and the Response/Errors/Error envelope. The flat engine itself lives in query.c;
 * this file holds what EC2 does differently. It knows no EC2 behaviour.
 */
#include "emulator/common.h"
#include "emulator/protocol/protocol.h"

static const char ec2_xml_decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

static int
ec2_identify(struct aws_request *req, struct aws_err *err)
{
    const char *action = params_get(&req->params, "Action");
    if (!action || !*action)
        return aws_err_set(err, AWS_E_MISSING_ACTION,
                           "The request must contain the parameter Action");
    req->op_name = action;
    return 0;
}

static void
add_limit(struct buf *b, const cJSON *shape, const char *key)
{
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(shape, key);
    double d = cJSON_IsNumber(lim) ? lim->valuedouble : 0;
    if (d > -9.2e18 && d < 9.2e18 && d == (double)(long long)d)
        buf_addf(b, "%lld", (long long)d);
    else
        buf_addf(b, "%g", d);
}

/* The first constraint violation in EC2's words (EC2 reports one problem per request). */
static int
violation_error(const struct aws_request *req, const char *shape_name, const struct violation *v,
                struct aws_err *err)
{
    struct buf key = BUF_INIT, msg = BUF_INIT;
    qflat_wire_key(req->model, shape_name, v->path, QFLAT_EC2, &key);
    switch (v->kind) {
    case VIOLATION_MISSING:
        aws_err_set(err, AWS_E_MISSING_PARAMETER, "The request must contain the parameter %s",
                    key.data);
        break;
    case VIOLATION_ENUM: /* [UNVERIFIED] wording; EC2's enum messages vary by parameter */
        aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE, "Invalid value '%s' for %s", v->value,
                    key.data);
        break;
    case VIOLATION_MIN:
    case VIOLATION_MAX:
        /* The wording EC2 uses for ranges: "Value ( 1 ) for parameter maxResults is invalid.
           Expecting a value greater than 5." (as reported in aws/aws-sdk-ruby#2575). */
        buf_addf(&msg, "Value (%s) for parameter %s is invalid. Expecting a value %s ", v->value,
                 key.data,
                 v->kind == VIOLATION_MIN ? "greater than or equal to" : "less than or equal to");
        add_limit(&msg, v->shape, v->kind == VIOLATION_MIN ? "min" : "max");
        buf_addc(&msg, '.');
        aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE, "%s", msg.data);
        break;
    }
    buf_release(&key);
    buf_release(&msg);
    return -1;
}

static int
ec2_decode(struct aws_request *req, cJSON **in, struct aws_err *err)
{
    struct qflat_result r;
    qflat_decode(req, QFLAT_EC2, &r);
    const char *shape_name = model_str(cJSON_GetObjectItemCaseSensitive(req->op, "input"), "shape");
    int rc = 0;
    struct violation v[1];
    /* EC2 rejects parameters it does not know, e.g. "The parameter ImageType is not
       recognized" (appoxy/aws#32, aws/aws-cli#21), unlike the query services. */
    if (r.unknown)
        rc = aws_err_set(err, AWS_E_UNKNOWN_PARAMETER, "The parameter %s is not recognized",
                         r.unknown);
    else if (r.n_bad) /* [UNVERIFIED] wording for a value that does not parse as its type */
        rc = aws_err_set(err, AWS_E_INVALID_PARAMETER_VALUE, "Invalid value '%s' for %s",
                         r.bad[0].value, r.bad[0].key);
    else if (shape_name && validate_input(req->model, shape_name, r.tree, v, 1) > 0)
        rc = violation_error(req, shape_name, &v[0], err);
    if (rc < 0) {
        cJSON_Delete(r.tree);
        return -1;
    }
    *in = r.tree;
    return 0;
}

/* The model's namespace lacks the trailing slash EC2 puts on the wire. */
static void
add_namespace(struct buf *b, const struct aws_request *req)
{
    const char *ns = req->model ? model_xml_namespace(req->model) : NULL;
    if (!ns)
        return;
    size_t n = strlen(ns);
    buf_adds(b, " xmlns=\"");
    buf_add_xml(b, ns, n);
    if (n == 0 || ns[n - 1] != '/')
        buf_addc(b, '/');
    buf_addc(b, '"');
}

static void
ec2_encode(const struct aws_request *req, const cJSON *out, struct http_resp *resp)
{
    struct buf *b = &resp->body;
    const char *op = req->op_name ? req->op_name : "";
    const cJSON *output = cJSON_GetObjectItemCaseSensitive(req->op, "output");
    const cJSON *shape = output ? model_ref_shape(req->model, output) : NULL;
    resp->status = 200;
    resp->content_type = "text/xml;charset=UTF-8";
    http_resp_header(resp, "x-amzn-RequestId", req->request_id);
    buf_reset(b);
    buf_adds(b, ec2_xml_decl);
    buf_addc(b, '<');
    buf_adds(b, op);
    buf_adds(b, "Response");
    add_namespace(b, req);
    buf_adds(b, "><requestId>");
    buf_adds(b, req->request_id);
    buf_adds(b, "</requestId>");
    if (shape && out)
        qflat_xml_members(b, req->model, shape, out, QFLAT_EC2);
    /* Actions without a modelled output (DeleteTags, ...) answer <return>true</return>. */
    if (!shape)
        buf_adds(b, "<return>true</return>");
    buf_adds(b, "</");
    buf_adds(b, op);
    buf_adds(b, "Response>");
}

static void
ec2_encode_error(const struct aws_request *req, const struct aws_err *err, struct http_resp *resp)
{
    struct buf *b = &resp->body;
    const char *code = err->code ? err->code : "InternalError";
    resp->status = err->status ? err->status : 400;
    resp->content_type = "text/xml;charset=UTF-8";
    http_resp_header(resp, "x-amzn-RequestId", req->request_id);
    buf_reset(b);
    buf_adds(b, ec2_xml_decl);
    buf_adds(b, "<Response><Errors><Error><Code>");
    buf_add_xml(b, code, strlen(code));
    buf_adds(b, "</Code><Message>");
    buf_add_xml(b, err->message, strlen(err->message));
    /* RequestID with a capital D: EC2's envelope differs from the query one here. */
    buf_adds(b, "</Message></Error></Errors><RequestID>");
    buf_adds(b, req->request_id);
    buf_adds(b, "</RequestID></Response>");
}

const struct protocol proto_ec2 = {
    .name = "ec2",
    .identify = ec2_identify,
    .decode = ec2_decode,
    .encode = ec2_encode,
    .encode_error = ec2_encode_error,
};
