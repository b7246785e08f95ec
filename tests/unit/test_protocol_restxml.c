/*
 * Tests of emulator/protocol/restxml.c (Route53, S3): routing by method + path template +
 * query literals, decoding of URI labels, query strings, headers and XML bodies (with hostile
 * documents refused), encoding of output trees, and both error envelopes. Inline models keep
 * each case readable; the last tests run against the real route53 and s3 models.
 */
#include "emulator/common.h"
#include "emulator/protocol/protocol.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define NS   "https://route53.amazonaws.com/doc/2013-04-01/"
#define S3NS "http://s3.amazonaws.com/doc/2006-03-01/"

/* Model texts are written with ' for " so they read as JSON; load() swaps them back. */
static const char r53_model[] =
        "{'metadata':{'protocol':'rest-xml','apiVersion':'2013-04-01','xmlNamespace':'" NS "'},"
        " 'operations':{"
        "  'CreateZone':{'http':{'method':'POST','requestUri':'/2013-04-01/hostedzone',"
        "      'responseCode':201},"
        "    'input':{'shape':'CreateZoneRequest','locationName':'CreateZoneRequest',"
        "      'xmlNamespace':{'uri':'" NS "'}},"
        "    'output':{'shape':'CreateZoneResponse'}},"
        "  'GetZone':{'http':{'method':'GET','requestUri':'/2013-04-01/hostedzone/{Id}'},"
        "    'input':{'shape':'GetZoneRequest'},'output':{'shape':'GetZoneResponse'}},"
        "  'ListRecords':{'http':{'method':'GET','requestUri':'/2013-04-01/hostedzone/{Id}/rrset'},"
        "    'input':{'shape':'ListRecordsRequest'},'output':{'shape':'GetZoneResponse'}},"
        "  'ChangeRecords':{'http':{'method':'POST',"
        "      'requestUri':'/2013-04-01/hostedzone/{Id}/rrset/'},"
        "    'input':{'shape':'GetZoneRequest'}}},"
        " 'unimplemented':{"
        "  'DeleteZone':{'http':{'method':'DELETE','requestUri':'/2013-04-01/hostedzone/{Id}'}},"
        "  'GetLimit':{'http':{'method':'GET','requestUri':'/2013-04-01/limit/{Type}/{Id}'}}},"
        " 'shapes':{"
        "  'CreateZoneRequest':{'type':'structure','required':['Name','CallerReference'],"
        "   'members':{'Name':{'shape':'Str'},'CallerReference':{'shape':'Ref'},"
        "    'Config':{'shape':'Config'},'Count':{'shape':'Int'},'When':{'shape':'Time'},"
        "    'Data':{'shape':'Data'},'Tags':{'shape':'Tags'},'Flat':{'shape':'FlatList'},"
        "    'Attrs':{'shape':'Attrs'},'Ratio':{'shape':'Dbl'}}},"
        "  'CreateZoneResponse':{'type':'structure','members':{"
        "    'Zone':{'shape':'Zone'},'NameServers':{'shape':'NameServers'},"
        "    'Location':{'shape':'Str','location':'header','locationName':'Location'},"
        "    'Flat':{'shape':'FlatList'},'Attrs':{'shape':'Attrs'},'When':{'shape':'Time'}}},"
        "  'GetZoneRequest':{'type':'structure','required':['Id'],'members':{"
        "    'Id':{'shape':'Ref','location':'uri','locationName':'Id'}}},"
        "  'GetZoneResponse':{'type':'structure','members':{'Zone':{'shape':'Zone'}}},"
        "  'ListRecordsRequest':{'type':'structure','required':['HostedZoneId'],'members':{"
        "    'HostedZoneId':{'shape':'Ref','location':'uri','locationName':'Id'},"
        "    'StartName':{'shape':'Str','location':'querystring','locationName':'name'},"
        "    'MaxItems':{'shape':'Int','location':'querystring','locationName':'maxitems'},"
        "    'Types':{'shape':'StrList','location':'querystring','locationName':'type'},"
        "    'Since':{'shape':'Time','location':'header','locationName':'x-since'},"
        "    'Verbose':{'shape':'Bool','location':'header','locationName':'x-verbose'},"
        "    'Wanted':{'shape':'StrList','location':'header','locationName':'x-wanted'}}},"
        "  'Zone':{'type':'structure','members':{'Id':{'shape':'Str'},'Name':{'shape':'Str'},"
        "    'Config':{'shape':'Config'},'Count':{'shape':'Int'}}},"
        "  'Config':{'type':'structure','members':{'Comment':{'shape':'Str'},"
        "    'PrivateZone':{'shape':'Bool'}}},"
        "  'Tags':{'type':'list','member':{'shape':'Tag','locationName':'Tag'},'min':1},"
        "  'Tag':{'type':'structure','required':['Key'],'members':{'Key':{'shape':'Str'},"
        "    'Value':{'shape':'Str'}}},"
        "  'FlatList':{'type':'list','member':{'shape':'Str','locationName':'Item'},"
        "    'flattened':true},"
        "  'NameServers':{'type':'list','member':{'shape':'Str','locationName':'NameServer'}},"
        "  'StrList':{'type':'list','member':{'shape':'Str'}},"
        "  'Attrs':{'type':'map','key':{'shape':'Str','locationName':'K'},"
        "    'value':{'shape':'Str','locationName':'V'}},"
        "  'Str':{'type':'string'},'Ref':{'type':'string','min':1,'max':8},"
        "  'Int':{'type':'integer'},'Bool':{'type':'boolean'},'Time':{'type':'timestamp'},"
        "  'Data':{'type':'blob'},'Dbl':{'type':'double'}}}";

static const char s3_model[] =
        "{'metadata':{'protocol':'rest-xml','apiVersion':'2006-03-01','xmlNamespace':'" S3NS "'},"
        " 'operations':{"
        "  'PutObject':{'http':{'method':'PUT','requestUri':'/{Bucket}/{Key+}'},"
        "    'input':{'shape':'PutObjectRequest'},'output':{'shape':'PutObjectOutput'}},"
        "  'GetObject':{'http':{'method':'GET','requestUri':'/{Bucket}/{Key+}'},"
        "    'input':{'shape':'ObjectRequest'},'output':{'shape':'GetObjectOutput'}},"
        "  'HeadObject':{'http':{'method':'HEAD','requestUri':'/{Bucket}/{Key+}'},"
        "    'input':{'shape':'ObjectRequest'},'output':{'shape':'GetObjectOutput'}},"
        "  'DeleteObject':{'http':{'method':'DELETE','requestUri':'/{Bucket}/{Key+}',"
        "      'responseCode':204},"
        "    'input':{'shape':'ObjectRequest'},'output':{'shape':'PutObjectOutput'}},"
        "  'CreateBucket':{'http':{'method':'PUT','requestUri':'/{Bucket}'},"
        "    'input':{'shape':'CreateBucketRequest'}},"
        "  'PutBucketTagging':{'http':{'method':'PUT','requestUri':'/{Bucket}?tagging'},"
        "    'input':{'shape':'PutBucketTaggingRequest'}},"
        "  'PutBucketPolicy':{'http':{'method':'PUT','requestUri':'/{Bucket}?policy'},"
        "    'input':{'shape':'PutBucketPolicyRequest'}},"
        "  'ListBuckets':{'http':{'method':'GET','requestUri':'/'},"
        "    'output':{'shape':'ListBucketsOutput'}},"
        "  'GetBucketLocation':{'http':{'method':'GET','requestUri':'/{Bucket}?location'},"
        "    'input':{'shape':'BucketRequest'},'output':{'shape':'GetBucketLocationOutput'}},"
        "  'ListObjectsV2':{'http':{'method':'GET','requestUri':'/{Bucket}?list-type=2'},"
        "    'input':{'shape':'BucketRequest'},'output':{'shape':'ListObjectsV2Output'}}},"
        " 'unimplemented':{"
        "  'CopyObject':{'http':{'method':'PUT','requestUri':'/{Bucket}/{Key+}'}},"
        "  'UploadPart':{'http':{'method':'PUT','requestUri':'/{Bucket}/{Key+}'}},"
        "  'CreateMultipartUpload':{'http':{'method':'POST',"
        "    'requestUri':'/{Bucket}/{Key+}?uploads'}},"
        "  'GetBucketAcl':{'http':{'method':'GET','requestUri':'/{Bucket}?acl'}},"
        "  'ListDirectoryBuckets':{'http':{'method':'GET','requestUri':'/'}}},"
        " 'shapes':{"
        "  'PutObjectRequest':{'type':'structure','required':['Bucket','Key'],'members':{"
        "    'Bucket':{'shape':'Str','location':'uri','locationName':'Bucket'},"
        "    'Key':{'shape':'Str','location':'uri','locationName':'Key'},"
        "    'Body':{'shape':'Body','streaming':true},"
        "    'ContentType':{'shape':'Str','location':'header','locationName':'Content-Type'},"
        "    'Expires':{'shape':'Time','location':'header','locationName':'Expires'},"
        "    'ACL':{'shape':'Acl','location':'header','locationName':'x-amz-acl'},"
        "    'Metadata':{'shape':'Meta','location':'headers','locationName':'x-amz-meta-'}},"
        "   'payload':'Body'},"
        "  'PutObjectOutput':{'type':'structure','members':{"
        "    'ETag':{'shape':'Str','location':'header','locationName':'ETag'}}},"
        "  'ObjectRequest':{'type':'structure','required':['Bucket','Key'],'members':{"
        "    'Bucket':{'shape':'Str','location':'uri','locationName':'Bucket'},"
        "    'Key':{'shape':'Str','location':'uri','locationName':'Key'}}},"
        "  'GetObjectOutput':{'type':'structure','members':{"
        "    'Body':{'shape':'Body','streaming':true},"
        "    'ContentType':{'shape':'Str','location':'header','locationName':'Content-Type'},"
        "    'ContentLength':{'shape':'Long','location':'header','locationName':'Content-Length'},"
        "    'LastModified':{'shape':'Time','location':'header','locationName':'Last-Modified'},"
        "    'Metadata':{'shape':'Meta','location':'headers','locationName':'x-amz-meta-'}},"
        "   'payload':'Body'},"
        "  'CreateBucketRequest':{'type':'structure','required':['Bucket'],'members':{"
        "    'Bucket':{'shape':'Str','location':'uri','locationName':'Bucket'},"
        "    'CreateBucketConfiguration':{'shape':'CreateBucketConfiguration',"
        "      'locationName':'CreateBucketConfiguration','xmlNamespace':{'uri':'" S3NS "'}}},"
        "   'payload':'CreateBucketConfiguration'},"
        "  'CreateBucketConfiguration':{'type':'structure','members':{"
        "    'LocationConstraint':{'shape':'Region'}}},"
        "  'PutBucketTaggingRequest':{'type':'structure','required':['Bucket','Tagging'],"
        "   'members':{'Bucket':{'shape':'Str','location':'uri','locationName':'Bucket'},"
        "    'Tagging':{'shape':'Tagging','locationName':'Tagging',"
        "      'xmlNamespace':{'uri':'" S3NS "'}}},"
        "   'payload':'Tagging'},"
        "  'Tagging':{'type':'structure','required':['TagSet'],'members':{"
        "    'TagSet':{'shape':'TagSet'}}},"
        "  'TagSet':{'type':'list','member':{'shape':'Tag','locationName':'Tag'}},"
        "  'Tag':{'type':'structure','required':['Key','Value'],'members':{"
        "    'Key':{'shape':'Str'},'Value':{'shape':'Str'}}},"
        "  'PutBucketPolicyRequest':{'type':'structure','required':['Bucket','Policy'],"
        "   'members':{'Bucket':{'shape':'Str','location':'uri','locationName':'Bucket'},"
        "    'Policy':{'shape':'Str'}},'payload':'Policy'},"
        "  'BucketRequest':{'type':'structure','required':['Bucket'],'members':{"
        "    'Bucket':{'shape':'Str','location':'uri','locationName':'Bucket'}}},"
        "  'ListBucketsOutput':{'type':'structure','members':{"
        "    'Buckets':{'shape':'Buckets'},'Owner':{'shape':'Owner'}}},"
        "  'Buckets':{'type':'list','member':{'shape':'Bucket','locationName':'Bucket'}},"
        "  'Bucket':{'type':'structure','members':{'Name':{'shape':'Str'},"
        "    'CreationDate':{'shape':'Time'}}},"
        "  'Owner':{'type':'structure','members':{'ID':{'shape':'Str'}}},"
        "  'GetBucketLocationOutput':{'type':'structure','members':{"
        "    'LocationConstraint':{'shape':'Region'}}},"
        "  'ListObjectsV2Output':{'type':'structure','members':{"
        "    'IsTruncated':{'shape':'Bool'},'Contents':{'shape':'ObjectList'},"
        "    'Name':{'shape':'Str'},'KeyCount':{'shape':'Int'}}},"
        "  'ObjectList':{'type':'list','member':{'shape':'Object'},'flattened':true},"
        "  'Object':{'type':'structure','members':{'Key':{'shape':'Str'},"
        "    'Size':{'shape':'Long'}}},"
        "  'Meta':{'type':'map','key':{'shape':'Str'},'value':{'shape':'Str'}},"
        "  'Acl':{'type':'string','enum':['private','public-read']},"
        "  'Region':{'type':'string','enum':['eu-west-1','us-west-2']},"
        "  'Str':{'type':'string'},'Int':{'type':'integer'},'Long':{'type':'long'},"
        "  'Bool':{'type':'boolean'},'Time':{'type':'timestamp'},'Body':{'type':'blob'}}}";

struct models {
    struct model *r53;
    struct model *s3;
};

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

static int
setup(void **state)
{
    struct models *ms = xcalloc(1, sizeof(*ms));
    ms->r53 = load(r53_model);
    ms->s3 = load(s3_model);
    *state = ms;
    return 0;
}

static int
teardown(void **state)
{
    struct models *ms = *state;
    model_free(ms->r53);
    model_free(ms->s3);
    free(ms);
    return 0;
}

#define R53(state) (((struct models *)*(state))->r53)
#define S3(state)  (((struct models *)*(state))->s3)

struct call {
    struct http_header headers[8];
    struct http_req http;
    struct aws_request req;
};

/*
 * A request for `service` on model m: method, raw target (path?query) and body; `headers`
 * is a NULL-terminated list of name, value pairs (may be NULL).
 */
static void
call_init(struct call *c, const struct model *m, const char *service, const char *method,
          const char *target, const char *body, const char *const *headers)
{
    memset(c, 0, sizeof(*c));
    size_t n = 0;
    for (; headers && headers[2 * n] && n < ARRAY_SIZE(c->headers); n++)
        c->headers[n] = (struct http_header){ headers[2 * n], headers[2 * n + 1] };
    c->http.method = method;
    c->http.target = target;
    c->http.headers = c->headers;
    c->http.n_headers = n;
    c->http.body = body ? body : "";
    c->http.body_len = body ? strlen(body) : 0;
    c->req.http = &c->http;
    c->req.model = m;
    c->req.service = service;
    c->req.raw_path = target;
    const char *q = strchr(target, '?');
    c->req.raw_query = q ? q + 1 : "";
    if (q)
        assert_int_equal(params_parse(&c->req.params, q + 1, strlen(q + 1)), 0);
    c->req.region = "us-east-1";
    snprintf(c->req.request_id, sizeof(c->req.request_id), "%s",
             "11111111-2222-3333-4444-555555555555");
}

static void
call_release(struct call *c)
{
    params_release(&c->req.params);
}

/* The operation identify() names, or "-" + the error code when it fails. */
static const char *
route(const struct model *m, const char *service, const char *method, const char *target,
      const char *const *headers, struct aws_err *err)
{
    static char out[128];
    struct call c;
    call_init(&c, m, service, method, target, NULL, headers);
    if (proto_restxml.identify(&c.req, err) == 0)
        snprintf(out, sizeof(out), "%s", c.req.op_name);
    else
        snprintf(out, sizeof(out), "-%s", err->code);
    call_release(&c);
    return out;
}

/* identify + decode of an implemented operation; Route53's identify already refuses bad XML. */
static int
decode(struct call *c, cJSON **in, struct aws_err *err)
{
    *in = NULL;
    if (proto_restxml.identify(&c->req, err) < 0)
        return -1;
    c->req.op = model_op(c->req.model, c->req.op_name, NULL);
    assert_non_null(c->req.op);
    return proto_restxml.decode(&c->req, in, err);
}

static void
assert_tree(const cJSON *tree, const char *json)
{
    char *s = cJSON_PrintUnformatted(tree);
    assert_string_equal(s, json);
    cJSON_free(s);
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
test_identify_matches_templates_by_method_and_path(void **state)
{
    struct aws_err err;
    const struct model *m = R53(state);
    assert_string_equal(route(m, "route53", "POST", "/2013-04-01/hostedzone", NULL, &err),
                        "CreateZone");
    assert_string_equal(route(m, "route53", "GET", "/2013-04-01/hostedzone/Z1", NULL, &err),
                        "GetZone");
    assert_string_equal(
            route(m, "route53", "GET", "/2013-04-01/hostedzone/Z1/rrset?maxitems=1", NULL, &err),
            "ListRecords");
    assert_string_equal(route(m, "route53", "POST", "/2013-04-01/hostedzone/Z1/rrset/", NULL, &err),
                        "ChangeRecords");
    /* Unimplemented operations are named too, so the router can answer for them. */
    assert_string_equal(route(m, "route53", "DELETE", "/2013-04-01/hostedzone/Z1", NULL, &err),
                        "DeleteZone");
    assert_string_equal(route(m, "route53", "GET", "/2013-04-01/limit/MAX/Z1", NULL, &err),
                        "GetLimit");
}

static void
test_identify_without_a_route_is_unknown_operation_for_route53(void **state)
{
    static const char *const targets[][2] = { { "GET", "/2013-04-01/nothing" },
                                              { "GET", "/2013-04-01/hostedzone/Z1/rrset/extra" },
                                              { "PATCH", "/2013-04-01/hostedzone" },
                                              { "GET", "/2013-04-01/hostedzone//rrset" },
                                              { "GET", "/" } };
    for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
        struct aws_err err;
        assert_string_equal(route(R53(state), "route53", targets[i][0], targets[i][1], NULL, &err),
                            "-UnknownOperationException");
        assert_int_equal(err.status, 404);
    }
}

static void
test_identify_s3_prefers_the_most_specific_route(void **state)
{
    static const char *const copy[] = { "x-amz-copy-source", "/src/key", NULL };
    struct aws_err err;
    const struct model *m = S3(state);
    assert_string_equal(route(m, "s3", "GET", "/", NULL, &err), "ListBuckets");
    assert_string_equal(route(m, "s3", "PUT", "/bucket", NULL, &err), "CreateBucket");
    assert_string_equal(route(m, "s3", "PUT", "/bucket/", NULL, &err), "CreateBucket");
    assert_string_equal(route(m, "s3", "PUT", "/bucket?tagging", NULL, &err), "PutBucketTagging");
    assert_string_equal(route(m, "s3", "GET", "/bucket?acl", NULL, &err), "GetBucketAcl");
    assert_string_equal(route(m, "s3", "GET", "/bucket?list-type=2&prefix=a", NULL, &err),
                        "ListObjectsV2");
    assert_string_equal(route(m, "s3", "GET", "/bucket?location", NULL, &err), "GetBucketLocation");
    assert_string_equal(route(m, "s3", "PUT", "/bucket/a/b/c.txt", NULL, &err), "PutObject");
    assert_string_equal(route(m, "s3", "PUT", "/bucket/dir/", NULL, &err), "PutObject");
    assert_string_equal(route(m, "s3", "PUT", "/bucket/key", copy, &err), "CopyObject");
    assert_string_equal(route(m, "s3", "PUT", "/bucket/key?partNumber=1&uploadId=u", NULL, &err),
                        "UploadPart");
    assert_string_equal(route(m, "s3", "POST", "/bucket/key?uploads", NULL, &err),
                        "CreateMultipartUpload");
    assert_string_equal(route(m, "s3", "HEAD", "/bucket/key", NULL, &err), "HeadObject");
}

static void
test_identify_s3_without_a_route_is_method_not_allowed(void **state)
{
    static const char *const targets[][2] = { { "POST", "/bucket/key" },
                                              { "PATCH", "/bucket" },
                                              { "DELETE", "/" },
                                              { "GET", "/bucket?list-type=1" } };
    for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
        struct aws_err err;
        assert_string_equal(route(S3(state), "s3", targets[i][0], targets[i][1], NULL, &err),
                            "-MethodNotAllowed");
        assert_int_equal(err.status, 405);
    }
}

static void
test_identify_names_real_route53_and_s3_operations(void **state)
{
    (void)state;
    static const char *const copy[] = { "x-amz-copy-source", "src/key", NULL };
    static const struct {
        const char *service, *method, *target, *op;
        const char *const *headers;
    } cases[] = {
        { "route53", "GET", "/2013-04-01/hostedzone", "ListHostedZones", NULL },
        { "route53", "GET", "/2013-04-01/hostedzone?maxitems=10", "ListHostedZones", NULL },
        { "route53", "POST", "/2013-04-01/hostedzone", "CreateHostedZone", NULL },
        { "route53", "GET", "/2013-04-01/hostedzone/Z123", "GetHostedZone", NULL },
        { "route53", "DELETE", "/2013-04-01/hostedzone/Z123", "DeleteHostedZone", NULL },
        { "route53", "POST", "/2013-04-01/hostedzone/Z123/rrset/", "ChangeResourceRecordSets",
          NULL },
        { "route53", "GET", "/2013-04-01/hostedzone/Z123/rrset", "ListResourceRecordSets", NULL },
        { "route53", "GET", "/2013-04-01/change/C123", "GetChange", NULL },
        { "route53", "GET", "/2013-04-01/hostedzonecount", "GetHostedZoneCount", NULL },
        { "route53", "GET", "/2013-04-01/hostedzonesbyname?dnsname=a.", "ListHostedZonesByName",
          NULL },
        { "s3", "GET", "/", "ListBuckets", NULL },
        { "s3", "PUT", "/bucket", "CreateBucket", NULL },
        { "s3", "HEAD", "/bucket", "HeadBucket", NULL },
        { "s3", "GET", "/bucket?list-type=2", "ListObjectsV2", NULL },
        { "s3", "GET", "/bucket", "ListObjects", NULL },
        { "s3", "GET", "/bucket?location", "GetBucketLocation", NULL },
        { "s3", "GET", "/bucket?lifecycle", "GetBucketLifecycleConfiguration", NULL },
        { "s3", "GET", "/bucket?analytics", "ListBucketAnalyticsConfigurations", NULL },
        { "s3", "GET", "/bucket?analytics&id=a", "GetBucketAnalyticsConfiguration", NULL },
        { "s3", "PUT", "/bucket/some/key.zip", "PutObject", NULL },
        { "s3", "PUT", "/bucket/some/key.zip", "CopyObject", copy },
        { "s3", "PUT", "/bucket/k?partNumber=2&uploadId=u", "UploadPart", NULL },
        { "s3", "PUT", "/bucket/k?partNumber=2&uploadId=u", "UploadPartCopy", copy },
        { "s3", "GET", "/bucket/k", "GetObject", NULL },
        { "s3", "GET", "/bucket/k?uploadId=u", "ListParts", NULL },
        { "s3", "DELETE", "/bucket/k", "DeleteObject", NULL },
        { "s3", "DELETE", "/bucket/k?uploadId=u", "AbortMultipartUpload", NULL },
        { "s3", "POST", "/bucket/k?uploads", "CreateMultipartUpload", NULL },
        { "s3", "POST", "/bucket?delete", "DeleteObjects", NULL },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct model *m = model_get(cases[i].service);
        struct aws_err err;
        assert_non_null(m);
        const char *got = route(m, cases[i].service, cases[i].method, cases[i].target,
                                cases[i].headers, &err);
        if (strcmp(got, cases[i].op) != 0)
            fail_msg("%s %s: got %s, want %s", cases[i].method, cases[i].target, got, cases[i].op);
    }
}

/* ---- decode ---- */

static void
test_decode_route53_body_into_typed_tree(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(
            &c, R53(state), "route53", "POST", "/2013-04-01/hostedzone",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<CreateZoneRequest xmlns=\"" NS "\">\n"
            "  <Name>example.com.</Name>\n"
            "  <CallerReference>r-1</CallerReference>\n"
            "  <Config><Comment>a &amp; b &lt;c&gt;</Comment><PrivateZone>true</PrivateZone></Config>\n"
            "  <Count> 42 </Count>\n"
            "  <When>2023-11-14T22:13:20.250Z</When>\n"
            "  <Data>aGk=</Data>\n"
            "  <Ratio>0.5</Ratio>\n"
            "  <Tags><Tag><Key>k1</Key><Value>v1</Value></Tag><Tag><Key>k2</Key></Tag></Tags>\n"
            "  <Item>one</Item><Item><![CDATA[<two>]]></Item>\n"
            "  <Attrs><entry><K>a</K><V>x</V></entry><entry><K>b</K><V>y</V></entry></Attrs>\n"
            "  <Unknown><Deep>ignored</Deep></Unknown>\n"
            "</CreateZoneRequest>",
            NULL);
    assert_int_equal(decode(&c, &in, &err), 0);
    assert_tree(in, "{\"Name\":\"example.com.\",\"CallerReference\":\"r-1\","
                    "\"Config\":{\"Comment\":\"a & b <c>\",\"PrivateZone\":true},\"Count\":42,"
                    "\"When\":1700000000250,\"Data\":\"aGk=\",\"Ratio\":0.5,"
                    "\"Tags\":[{\"Key\":\"k1\",\"Value\":\"v1\"},{\"Key\":\"k2\"}],"
                    "\"Flat\":[\"one\",\"<two>\"],\"Attrs\":{\"a\":\"x\",\"b\":\"y\"}}");
    cJSON_Delete(in);
    call_release(&c);
}

static void
test_decode_route53_uri_query_and_header_members(void **state)
{
    static const char *const headers[] = { "X-Since",   "Tue, 14 Nov 2023 22:13:20 GMT",
                                           "x-verbose", "true",
                                           "x-wanted",  "a, \"b,c\" ,d",
                                           NULL };
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(
            &c, R53(state), "route53", "GET",
            "/2013-04-01/hostedzone/Z%31/rrset?name=www.example.com.&maxitems=10&type=A&type=AAAA",
            NULL, headers);
    assert_int_equal(decode(&c, &in, &err), 0);
    assert_tree(in, "{\"HostedZoneId\":\"Z1\",\"StartName\":\"www.example.com.\",\"MaxItems\":10,"
                    "\"Types\":[\"A\",\"AAAA\"],\"Since\":1700000000000,\"Verbose\":true,"
                    "\"Wanted\":[\"a\",\"b,c\",\"d\"]}");
    cJSON_Delete(in);
    call_release(&c);
}

static void
test_decode_route53_bad_query_value_is_invalid_input(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, R53(state), "route53", "GET", "/2013-04-01/hostedzone/Z1/rrset?maxitems=ten",
              NULL, NULL);
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_null(in);
    assert_string_equal(err.code, "InvalidInput");
    assert_int_equal(err.status, 400);
    call_release(&c);
}

static void
test_decode_route53_validation_is_invalid_input_in_coral_wording(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, R53(state), "route53", "POST", "/2013-04-01/hostedzone",
              "<CreateZoneRequest xmlns=\"" NS "\"><Name>x.</Name>"
              "<CallerReference>much-too-long</CallerReference><Tags></Tags></CreateZoneRequest>",
              NULL);
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(err.code, "InvalidInput");
    assert_string_equal(
            err.message,
            "2 validation errors detected: Value 'much-too-long' at 'callerReference' failed to "
            "satisfy constraint: Member must have length less than or equal to 8; Value [] at "
            "'tags' failed to satisfy constraint: Member must have length greater than or equal "
            "to 1");
    call_release(&c);

    /* No body at all: every required member is null. */
    call_init(&c, R53(state), "route53", "POST", "/2013-04-01/hostedzone", "", NULL);
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(
            err.message,
            "2 validation errors detected: Value null at 'name' failed to satisfy constraint: "
            "Member must not be null; Value null at 'callerReference' failed to satisfy "
            "constraint: Member must not be null");
    call_release(&c);
}

static void
test_decode_route53_wrong_root_is_malformed_input(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, R53(state), "route53", "POST", "/2013-04-01/hostedzone",
              "<Name xmlns=\"" NS "\">example.com</Name>", NULL);
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(err.code, "MalformedInput");
    assert_string_equal(err.message, "Name is not valid, expected CreateZoneRequest");
    call_release(&c);
}

static void
test_decode_route53_root_without_namespace_is_invalid_input(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, R53(state), "route53", "POST", "/2013-04-01/hostedzone",
              "<CreateZoneRequest><Name>a.</Name><CallerReference>r</CallerReference>"
              "</CreateZoneRequest>",
              NULL);
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(err.code, "InvalidInput");
    assert_string_equal(err.message, "Invalid XML ; cvc-elt.1: Cannot find the declaration of "
                                     "element 'CreateZoneRequest'.");
    call_release(&c);
}

static void
test_decode_route53_bad_body_value_is_invalid_input(void **state)
{
    static const char *const bodies[] = {
        "<CreateZoneRequest xmlns=\"" NS "\"><Name>a.</Name><CallerReference>r</CallerReference>"
        "<Count>4x</Count></CreateZoneRequest>",
        "<CreateZoneRequest xmlns=\"" NS "\"><Name>a.</Name><CallerReference>r</CallerReference>"
        "<Count>99999999999</Count></CreateZoneRequest>",
        "<CreateZoneRequest xmlns=\"" NS "\"><Name>a.</Name><CallerReference>r</CallerReference>"
        "<Config><PrivateZone>maybe</PrivateZone></Config></CreateZoneRequest>",
        "<CreateZoneRequest xmlns=\"" NS "\"><Name>a.</Name><CallerReference>r</CallerReference>"
        "<When>tomorrow</When></CreateZoneRequest>",
        "<CreateZoneRequest xmlns=\"" NS "\"><Name>a.</Name><CallerReference>r</CallerReference>"
        "<Data>!!!</Data></CreateZoneRequest>",
        "<CreateZoneRequest xmlns=\"" NS "\"><Name>a.</Name><CallerReference>r</CallerReference>"
        "<Attrs><entry><K>a</K></entry></Attrs></CreateZoneRequest>",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
        struct call c;
        struct aws_err err;
        cJSON *in = NULL;
        call_init(&c, R53(state), "route53", "POST", "/2013-04-01/hostedzone", bodies[i], NULL);
        assert_int_equal(decode(&c, &in, &err), -1);
        assert_null(in);
        assert_string_equal(err.code, "InvalidInput");
        assert_true(str_starts(err.message, "Invalid XML ; "));
        call_release(&c);
    }
}

/* Documents no request may carry: each must be refused cleanly, never expanded or fetched. */
static const char *const hostile_docs[] = {
    /* billion laughs */
    "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
    "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
    "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
    "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
    "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
    "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
    "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
    "]>\n<ROOT><Name>&lol9;</Name><CallerReference>&lol9;</CallerReference>"
    "<LocationConstraint>&lol9;</LocationConstraint></ROOT>",
    /* external entity (XXE) */
    "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
    "<ROOT><Name>&xxe;</Name><CallerReference>&xxe;</CallerReference>"
    "<LocationConstraint>&xxe;</LocationConstraint></ROOT>",
    /* external DTD over the network */
    "<?xml version=\"1.0\"?>\n<!DOCTYPE r SYSTEM \"http://127.0.0.1:1/evil.dtd\">\n"
    "<ROOT><Name>a</Name><CallerReference>b</CallerReference></ROOT>",
    /* parameter entities */
    "<!DOCTYPE r [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]><ROOT/>",
    /* the same in UTF-16, where a byte search for "<!DOCTYPE" would miss it */
    NULL,
};

/* hostile_docs[i] with ROOT replaced by root. */
static char *
hostile(size_t i, const char *root)
{
    struct buf b = BUF_INIT;
    const char *s = hostile_docs[i];
    const char *p;
    while ((p = strstr(s, "ROOT"))) {
        buf_add(&b, s, (size_t)(p - s));
        buf_adds(&b, root);
        s = p + 4;
    }
    buf_adds(&b, s);
    return buf_detach(&b, NULL);
}

/* "<!DOCTYPE r [<!ENTITY x "x">]><root>&x;</root>" as UTF-16LE with a BOM, into b. */
static void
utf16_doctype(struct buf *b, const char *root)
{
    struct buf text = BUF_INIT;
    buf_addf(&text, "<!DOCTYPE r [<!ENTITY x \"x\">]><%s xmlns=\"" NS "\"><Name>&x;</Name></%s>",
             root, root);
    buf_add(b, "\xff\xfe", 2);
    for (size_t i = 0; i < text.len; i++) {
        buf_addc(b, text.data[i]);
        buf_addc(b, '\0');
    }
    buf_release(&text);
}

static void
test_decode_refuses_doctypes_entity_bombs_and_external_entities(void **state)
{
    for (size_t i = 0; i < ARRAY_SIZE(hostile_docs); i++) {
        struct call c;
        struct aws_err err;
        cJSON *in = NULL;
        struct buf u16 = BUF_INIT;
        char *doc = NULL;

        /* Route53: InvalidInput, refused for the DOCTYPE itself. */
        call_init(&c, R53(state), "route53", "POST", "/2013-04-01/hostedzone", NULL, NULL);
        if (hostile_docs[i]) {
            doc = hostile(i, "CreateZoneRequest");
            c.http.body = doc;
            c.http.body_len = strlen(doc);
        } else {
            utf16_doctype(&u16, "CreateZoneRequest");
            c.http.body = u16.data;
            c.http.body_len = u16.len;
        }
        assert_int_equal(decode(&c, &in, &err), -1);
        assert_null(in);
        assert_string_equal(err.code, "InvalidInput");
        assert_true(str_starts(err.message, "Invalid XML ; DOCTYPE is disallowed"));
        call_release(&c);
        free(doc);
        buf_release(&u16);

        /* S3: MalformedXML. */
        call_init(&c, S3(state), "s3", "PUT", "/bucket", NULL, NULL);
        if (hostile_docs[i]) {
            doc = hostile(i, "CreateBucketConfiguration");
            c.http.body = doc;
            c.http.body_len = strlen(doc);
        } else {
            utf16_doctype(&u16, "CreateBucketConfiguration");
            c.http.body = u16.data;
            c.http.body_len = u16.len;
        }
        assert_int_equal(decode(&c, &in, &err), -1);
        assert_null(in);
        assert_string_equal(err.code, "MalformedXML");
        assert_int_equal(err.status, 400);
        call_release(&c);
        free(doc);
        buf_release(&u16);
    }
}

static void
test_decode_truncated_or_garbage_xml_is_refused(void **state)
{
    static const char *const bodies[] = {
        "<CreateBucketConfiguration><LocationConstraint>eu-",
        "<CreateBucketConfiguration>",
        "not xml at all",
        "<a></b>",
        "<?xml version=\"1.0\"?>",
        "<CreateBucketConfiguration>&undefined;</CreateBucketConfiguration>",
        "<CreateBucketConfiguration>\xff\xfe</CreateBucketConfiguration>"
    };
    for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
        struct call c;
        struct aws_err err;
        cJSON *in = NULL;
        call_init(&c, S3(state), "s3", "PUT", "/bucket", bodies[i], NULL);
        assert_int_equal(decode(&c, &in, &err), -1);
        assert_null(in);
        assert_string_equal(err.code, "MalformedXML");
        assert_string_equal(err.message, "The XML you provided was not well-formed or did not "
                                         "validate against our published schema");
        call_release(&c);

        call_init(&c, R53(state), "route53", "POST", "/2013-04-01/hostedzone", bodies[i], NULL);
        assert_int_equal(decode(&c, &in, &err), -1);
        assert_string_equal(err.code, "InvalidInput");
        call_release(&c);
    }
}

static void
test_decode_deeply_nested_xml_is_refused_not_crashed(void **state)
{
    struct buf b = BUF_INIT;
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    buf_adds(&b, "<CreateBucketConfiguration>");
    for (int i = 0; i < 100000; i++)
        buf_adds(&b, "<a>");
    call_init(&c, S3(state), "s3", "PUT", "/bucket", b.data, NULL);
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(err.code, "MalformedXML");
    call_release(&c);
    buf_release(&b);
}

static void
test_decode_s3_put_object_streaming_body_and_headers(void **state)
{
    static const char *const headers[] = { "Content-Type",
                                           "text/plain",
                                           "X-Amz-Meta-Owner",
                                           "Alice",
                                           "x-amz-meta-run",
                                           "7",
                                           "Expires",
                                           "Tue, 14 Nov 2023 22:13:20 GMT",
                                           NULL };
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, S3(state), "s3", "PUT", "/my-bucket/dir/sub%20dir/a%2Bb%3F.txt", "hello",
              headers);
    assert_int_equal(decode(&c, &in, &err), 0);
    assert_tree(in, "{\"Bucket\":\"my-bucket\",\"Key\":\"dir/sub dir/a+b?.txt\","
                    "\"ContentType\":\"text/plain\",\"Expires\":1700000000000,"
                    "\"Metadata\":{\"owner\":\"Alice\",\"run\":\"7\"},\"Body\":\"aGVsbG8=\"}");
    cJSON_Delete(in);
    call_release(&c);
}

static void
test_decode_s3_binary_body_survives(void **state)
{
    static const char body[] = "\x00\x01\xff<not xml>";
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, S3(state), "s3", "PUT", "/b/k", NULL, NULL);
    c.http.body = body;
    c.http.body_len = sizeof(body) - 1;
    assert_int_equal(decode(&c, &in, &err), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(in, "Body")->valuestring,
                        "AAH/PG5vdCB4bWw+");
    cJSON_Delete(in);
    call_release(&c);
}

static void
test_decode_s3_bad_label_encoding_is_invalid_uri(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, S3(state), "s3", "PUT", "/b/bad%zzkey", "x", NULL);
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(err.code, "InvalidURI");
    call_release(&c);
}

static void
test_decode_s3_structure_payload(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, S3(state), "s3", "PUT", "/bucket",
              "<CreateBucketConfiguration xmlns=\"" S3NS "\">"
              "<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>",
              NULL);
    assert_int_equal(decode(&c, &in, &err), 0);
    assert_tree(in, "{\"Bucket\":\"bucket\","
                    "\"CreateBucketConfiguration\":{\"LocationConstraint\":\"eu-west-1\"}}");
    cJSON_Delete(in);
    call_release(&c);

    /* S3 does not insist on the namespace; an empty body leaves the payload absent. */
    call_init(&c, S3(state), "s3", "PUT", "/bucket",
              "<CreateBucketConfiguration><LocationConstraint>us-west-2</LocationConstraint>"
              "</CreateBucketConfiguration>",
              NULL);
    assert_int_equal(decode(&c, &in, &err), 0);
    cJSON_Delete(in);
    call_release(&c);
    call_init(&c, S3(state), "s3", "PUT", "/bucket", NULL, NULL);
    assert_int_equal(decode(&c, &in, &err), 0);
    assert_tree(in, "{\"Bucket\":\"bucket\"}");
    cJSON_Delete(in);
    call_release(&c);
}

static void
test_decode_s3_errors(void **state)
{
    static const char *const bad_acl[] = { "x-amz-acl", "everyone", NULL };
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;

    /* A missing required XML payload is MalformedXML. */
    call_init(&c, S3(state), "s3", "PUT", "/bucket?tagging", NULL, NULL);
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(err.code, "MalformedXML");
    call_release(&c);

    /* So is a payload whose own required members are missing, or a wrong root element. */
    call_init(&c, S3(state), "s3", "PUT", "/bucket?tagging", "<Tagging></Tagging>", NULL);
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(err.code, "MalformedXML");
    call_release(&c);
    call_init(&c, S3(state), "s3", "PUT", "/bucket?tagging", "<Tags><TagSet/></Tags>", NULL);
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(err.code, "MalformedXML");
    call_release(&c);

    /* A bad header value is InvalidArgument. */
    call_init(&c, S3(state), "s3", "PUT", "/bucket/key", "x", bad_acl);
    assert_int_equal(decode(&c, &in, &err), -1);
    assert_string_equal(err.code, "InvalidArgument");
    call_release(&c);

    /* A good tagging document. */
    call_init(&c, S3(state), "s3", "PUT", "/bucket?tagging",
              "<Tagging xmlns=\"" S3NS "\"><TagSet><Tag><Key>a</Key><Value>1</Value></Tag>"
              "</TagSet></Tagging>",
              NULL);
    assert_int_equal(decode(&c, &in, &err), 0);
    assert_tree(in, "{\"Bucket\":\"bucket\",\"Tagging\":{\"TagSet\":[{\"Key\":\"a\","
                    "\"Value\":\"1\"}]}}");
    cJSON_Delete(in);
    call_release(&c);
}

static void
test_decode_s3_string_payload_is_kept_as_text(void **state)
{
    struct call c;
    struct aws_err err;
    cJSON *in = NULL;
    call_init(&c, S3(state), "s3", "PUT", "/bucket?policy", "{\"Version\":\"2012-10-17\"}", NULL);
    assert_int_equal(decode(&c, &in, &err), 0);
    assert_tree(in, "{\"Bucket\":\"bucket\",\"Policy\":\"{\\\"Version\\\":\\\"2012-10-17\\\"}\"}");
    cJSON_Delete(in);
    call_release(&c);
}

/* ---- encode ---- */

static void
encode(const struct model *m, const char *service, const char *method, const char *op,
       const char *tree, struct http_resp *resp)
{
    struct call c;
    call_init(&c, m, service, method, "/", NULL, NULL);
    c.req.op_name = op;
    c.req.op = model_op(m, op, NULL);
    assert_non_null(c.req.op);
    cJSON *out = cJSON_Parse(tree);
    assert_non_null(out);
    http_resp_init(resp);
    proto_restxml.encode(&c.req, out, resp);
    cJSON_Delete(out);
    call_release(&c);
}

static void
test_encode_route53_document(void **state)
{
    struct http_resp resp;
    encode(R53(state), "route53", "POST", "CreateZone",
           "{\"Location\":\"https://route53.amazonaws.com/2013-04-01/hostedzone/Z1\","
           "\"When\":1700000000250,\"Attrs\":{\"k\":\"v\"},\"Flat\":[\"a\",\"b\"],"
           "\"NameServers\":[\"ns-1.example.\",\"ns-2.example.\"],"
           "\"Zone\":{\"Count\":2,\"Name\":\"a&b<c>.\",\"Id\":\"/hostedzone/Z1\","
           "\"Config\":{\"PrivateZone\":false}},\"Extra\":\"dropped\"}",
           &resp);
    assert_int_equal(resp.status, 201);
    assert_string_equal(resp.content_type, "text/xml");
    assert_string_equal(resp_header(&resp, "x-amzn-RequestId"),
                        "11111111-2222-3333-4444-555555555555");
    assert_string_equal(resp_header(&resp, "Location"),
                        "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1");
    assert_string_equal(resp.body.data,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<CreateZoneResponse xmlns=\"" NS "\">"
                        "<Zone><Id>/hostedzone/Z1</Id><Name>a&amp;b&lt;c&gt;.</Name>"
                        "<Config><PrivateZone>false</PrivateZone></Config><Count>2</Count></Zone>"
                        "<NameServers><NameServer>ns-1.example.</NameServer>"
                        "<NameServer>ns-2.example.</NameServer></NameServers>"
                        "<Item>a</Item><Item>b</Item>"
                        "<Attrs><entry><K>k</K><V>v</V></entry></Attrs>"
                        "<When>2023-11-14T22:13:20.250Z</When>"
                        "</CreateZoneResponse>");
    http_resp_release(&resp);
}

static void
test_encode_route53_status_defaults_to_200(void **state)
{
    struct http_resp resp;
    encode(R53(state), "route53", "GET", "GetZone", "{\"Zone\":{\"Id\":\"Z1\"}}", &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                        "<GetZoneResponse xmlns=\"" NS "\"><Zone><Id>Z1</Id></Zone>"
                                        "</GetZoneResponse>");
    http_resp_release(&resp);
}

static void
test_encode_s3_list_buckets_uses_s3_root_name(void **state)
{
    struct http_resp resp;
    encode(S3(state), "s3", "GET", "ListBuckets",
           "{\"Owner\":{\"ID\":\"abc\"},\"Buckets\":[{\"Name\":\"b1\","
           "\"CreationDate\":1700000000000}]}",
           &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "application/xml");
    assert_string_equal(resp_header(&resp, "x-amz-request-id"),
                        "11111111-2222-3333-4444-555555555555");
    assert_non_null(resp_header(&resp, "x-amz-id-2"));
    assert_null(resp_header(&resp, "x-amzn-RequestId"));
    assert_string_equal(resp.body.data,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<ListAllMyBucketsResult xmlns=\"" S3NS
                        "\"><Buckets><Bucket><Name>b1</Name>"
                        "<CreationDate>2023-11-14T22:13:20.000Z</CreationDate></Bucket></Buckets>"
                        "<Owner><ID>abc</ID></Owner></ListAllMyBucketsResult>");
    http_resp_release(&resp);
}

static void
test_encode_s3_flattened_list_and_location_text(void **state)
{
    struct http_resp resp;
    encode(S3(state), "s3", "GET", "ListObjectsV2",
           "{\"Name\":\"b\",\"IsTruncated\":false,\"KeyCount\":2,"
           "\"Contents\":[{\"Key\":\"a\",\"Size\":1},{\"Key\":\"b\",\"Size\":5000000000}]}",
           &resp);
    assert_string_equal(resp.body.data,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<ListBucketResult xmlns=\"" S3NS "\"><IsTruncated>false</IsTruncated>"
                        "<Contents><Key>a</Key><Size>1</Size></Contents>"
                        "<Contents><Key>b</Key><Size>5000000000</Size></Contents>"
                        "<Name>b</Name><KeyCount>2</KeyCount></ListBucketResult>");
    http_resp_release(&resp);

    encode(S3(state), "s3", "GET", "GetBucketLocation", "{\"LocationConstraint\":\"eu-west-1\"}",
           &resp);
    assert_string_equal(resp.body.data,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<LocationConstraint xmlns=\"" S3NS "\">eu-west-1</LocationConstraint>");
    http_resp_release(&resp);
}

static void
test_encode_s3_object_body_and_headers(void **state)
{
    struct http_resp resp;
    encode(S3(state), "s3", "GET", "GetObject",
           "{\"Body\":\"aGVsbG8=\",\"ContentType\":\"text/plain\",\"ContentLength\":5,"
           "\"LastModified\":1700000000000,\"Metadata\":{\"owner\":\"alice\"}}",
           &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body.len, 5);
    assert_string_equal(resp.body.data, "hello");
    assert_null(resp.content_type);
    assert_string_equal(resp_header(&resp, "Content-Type"), "text/plain");
    assert_null(resp_header(&resp, "Content-Length"));
    assert_string_equal(resp_header(&resp, "Last-Modified"), "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_string_equal(resp_header(&resp, "x-amz-meta-owner"), "alice");
    http_resp_release(&resp);

    /* HEAD: the same headers, no body. */
    encode(S3(state), "s3", "HEAD", "HeadObject",
           "{\"Body\":\"aGVsbG8=\",\"LastModified\":1700000000000}", &resp);
    assert_int_equal(resp.body.len, 0);
    assert_string_equal(resp_header(&resp, "Last-Modified"), "Tue, 14 Nov 2023 22:13:20 GMT");
    http_resp_release(&resp);
}

static void
test_encode_s3_header_only_outputs_have_no_body(void **state)
{
    struct http_resp resp;
    encode(S3(state), "s3", "PUT", "PutObject", "{\"ETag\":\"\\\"abc\\\"\"}", &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp_header(&resp, "ETag"), "\"abc\"");
    assert_int_equal(resp.body.len, 0);
    http_resp_release(&resp);

    encode(S3(state), "s3", "DELETE", "DeleteObject", "{}", &resp);
    assert_int_equal(resp.status, 204);
    assert_int_equal(resp.body.len, 0);
    http_resp_release(&resp);

    /* An operation without output. */
    encode(S3(state), "s3", "PUT", "CreateBucket", "{\"Anything\":1}", &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body.len, 0);
    http_resp_release(&resp);
}

static void
test_encode_leaves_out_values_of_the_wrong_type(void **state)
{
    struct http_resp resp;
    encode(R53(state), "route53", "GET", "GetZone",
           "{\"Zone\":{\"Id\":7,\"Name\":\"n\",\"Count\":\"x\"}}", &resp);
    assert_string_equal(resp.body.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                        "<GetZoneResponse xmlns=\"" NS "\"><Zone><Name>n</Name>"
                                        "</Zone></GetZoneResponse>");
    http_resp_release(&resp);
}

/* ---- errors ---- */

static void
test_encode_error_route53_envelope(void **state)
{
    struct call c;
    struct aws_err err;
    struct http_resp resp;
    call_init(&c, R53(state), "route53", "POST", "/2013-04-01/hostedzone/Z1/rrset/", NULL, NULL);
    aws_err_setx(&err, 400, "InvalidChangeBatch", true,
                 "Tried to delete resource record set [name='k.example.com.', type='A'] but it was "
                 "not found");
    http_resp_init(&resp);
    proto_restxml.encode_error(&c.req, &err, &resp);
    assert_int_equal(resp.status, 400);
    assert_string_equal(resp.content_type, "text/xml");
    assert_string_equal(resp_header(&resp, "x-amzn-RequestId"),
                        "11111111-2222-3333-4444-555555555555");
    assert_string_equal(
            resp.body.data,
            "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"" NS "\"><Error><Type>Sender</Type>"
            "<Code>InvalidChangeBatch</Code><Message>Tried to delete resource record set "
            "[name=&apos;k.example.com.&apos;, type=&apos;A&apos;] but it was not found</Message>"
            "</Error><RequestId>11111111-2222-3333-4444-555555555555</RequestId></ErrorResponse>");
    http_resp_release(&resp);

    aws_err_set(&err, AWS_E_INTERNAL_ERROR, "boom");
    http_resp_init(&resp);
    proto_restxml.encode_error(&c.req, &err, &resp);
    assert_int_equal(resp.status, 500);
    assert_non_null(strstr(resp.body.data, "<Type>Receiver</Type><Code>InternalError</Code>"));
    http_resp_release(&resp);
    call_release(&c);
}

static void
test_encode_error_s3_envelope(void **state)
{
    struct call c;
    struct aws_err err;
    struct http_resp resp;
    call_init(&c, S3(state), "s3", "GET", "/bucket/key", NULL, NULL);
    aws_err_setx(&err, 404, "NoSuchKey", true, "The specified key does not exist.");
    http_resp_init(&resp);
    proto_restxml.encode_error(&c.req, &err, &resp);
    assert_int_equal(resp.status, 404);
    assert_string_equal(resp.content_type, "application/xml");
    assert_string_equal(resp_header(&resp, "x-amz-request-id"),
                        "11111111-2222-3333-4444-555555555555");
    const char *host_id = resp_header(&resp, "x-amz-id-2");
    assert_non_null(host_id);
    struct buf want = BUF_INIT;
    buf_addf(&want,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
             "<Message>The specified key does not exist.</Message>"
             "<RequestId>11111111-2222-3333-4444-555555555555</RequestId>"
             "<HostId>%s</HostId></Error>",
             host_id);
    assert_string_equal(resp.body.data, want.data);
    buf_release(&want);
    http_resp_release(&resp);
    call_release(&c);

    /* HEAD: status and headers only. */
    call_init(&c, S3(state), "s3", "HEAD", "/bucket/key", NULL, NULL);
    http_resp_init(&resp);
    proto_restxml.encode_error(&c.req, &err, &resp);
    assert_int_equal(resp.status, 404);
    assert_int_equal(resp.body.len, 0);
    assert_non_null(resp_header(&resp, "x-amz-request-id"));
    http_resp_release(&resp);
    call_release(&c);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_identify_matches_templates_by_method_and_path),
        T(test_identify_without_a_route_is_unknown_operation_for_route53),
        T(test_identify_s3_prefers_the_most_specific_route),
        T(test_identify_s3_without_a_route_is_method_not_allowed),
        T(test_identify_names_real_route53_and_s3_operations),
        T(test_decode_route53_body_into_typed_tree),
        T(test_decode_route53_uri_query_and_header_members),
        T(test_decode_route53_bad_query_value_is_invalid_input),
        T(test_decode_route53_validation_is_invalid_input_in_coral_wording),
        T(test_decode_route53_wrong_root_is_malformed_input),
        T(test_decode_route53_root_without_namespace_is_invalid_input),
        T(test_decode_route53_bad_body_value_is_invalid_input),
        T(test_decode_refuses_doctypes_entity_bombs_and_external_entities),
        T(test_decode_truncated_or_garbage_xml_is_refused),
        T(test_decode_deeply_nested_xml_is_refused_not_crashed),
        T(test_decode_s3_put_object_streaming_body_and_headers),
        T(test_decode_s3_binary_body_survives),
        T(test_decode_s3_bad_label_encoding_is_invalid_uri),
        T(test_decode_s3_structure_payload),
        T(test_decode_s3_errors),
        T(test_decode_s3_string_payload_is_kept_as_text),
        T(test_encode_route53_document),
        T(test_encode_route53_status_defaults_to_200),
        T(test_encode_s3_list_buckets_uses_s3_root_name),
        T(test_encode_s3_flattened_list_and_location_text),
        T(test_encode_s3_object_body_and_headers),
        T(test_encode_s3_header_only_outputs_have_no_body),
        T(test_encode_leaves_out_values_of_the_wrong_type),
        T(test_encode_error_route53_envelope),
        T(test_encode_error_s3_envelope),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    model_unload_all();
    return rc;
}
