/*
 * The rest-xml protocol (Route53, S3): the operation is found by method + path template +
 * literal query keys, input members come from URI labels, the query string, headers and an
 * XML body, and answers are XML documents or the service's own error envelope. Untrusted
 * XML is parsed by libxml2 with every DTD refused, so no entity is ever expanded and nothing
 * is fetched. It knows no service's behaviour; the few S3 routing facts the model lacks
 * live in the tables below.
 */
#include "emulator/common.h"
#include "emulator/protocol/protocol.h"
#include "emulator/log.h"
#include "emulator/protocol/xmllib.h"

#include <errno.h>
#include <math.h>
#include <strings.h>

/* ---- S3 facts the model does not carry ---- */

/*
 * S3 operations that share a method and requestUri with another and are told apart by query
 * keys or a header the model declares only on the (possibly absent) input shape: both must
 * be present for the row's operation to match. `never` rows are legacy twins of another
 * operation with the identical request (GetBucketLifecycle vs GetBucketLifecycleConfiguration)
 * or S3 Express-only ones; the server cannot tell them apart, so it names the current one.
 */
static const struct s3_route {
    const char *op;       /* operation name, as in the model */
    const char *query[2]; /* query keys that must be present */
    const char *header;   /* header that must be present, or NULL */
    bool never;           /* never chosen by path-style routing */
} s3_routes[] = {
    { "AbortMultipartUpload", { "uploadId" }, NULL, false },
    { "CopyObject", { NULL }, "x-amz-copy-source", false },
    { "GetBucketAnalyticsConfiguration", { "id" }, NULL, false },
    { "GetBucketIntelligentTieringConfiguration", { "id" }, NULL, false },
    { "GetBucketInventoryConfiguration", { "id" }, NULL, false },
    { "GetBucketLifecycle", { NULL }, NULL, true },
    { "GetBucketMetricsConfiguration", { "id" }, NULL, false },
    { "GetBucketNotification", { NULL }, NULL, true },
    { "ListDirectoryBuckets", { NULL }, NULL, true },
    { "ListParts", { "uploadId" }, NULL, false },
    { "PutBucketLifecycle", { NULL }, NULL, true },
    { "PutBucketNotification", { NULL }, NULL, true },
    { "UploadPart", { "partNumber", "uploadId" }, NULL, false },
    { "UploadPartCopy", { "partNumber", "uploadId" }, "x-amz-copy-source", false },
};

/*
 * S3's response root elements, which the model leaves out (botocore ignores the root's
 * name), from the S3 API reference. GetBucketLocation puts its one member in the root's
 * text: <LocationConstraint>eu-west-1</LocationConstraint>.
 */
static const struct s3_root {
    const char *op;   /* operation name, as in the model */
    const char *root; /* the response's root element */
    bool text;        /* the output's single body member is the root element's text */
} s3_roots[] = {
    { "CompleteMultipartUpload", "CompleteMultipartUploadResult", false },
    { "CreateMultipartUpload", "InitiateMultipartUploadResult", false },
    { "DeleteObjects", "DeleteResult", false },
    { "GetBucketAccelerateConfiguration", "AccelerateConfiguration", false },
    { "GetBucketAcl", "AccessControlPolicy", false },
    { "GetBucketCors", "CORSConfiguration", false },
    { "GetBucketLifecycleConfiguration", "LifecycleConfiguration", false },
    { "GetBucketLocation", "LocationConstraint", true },
    { "GetBucketLogging", "BucketLoggingStatus", false },
    { "GetBucketNotificationConfiguration", "NotificationConfiguration", false },
    { "GetBucketRequestPayment", "RequestPaymentConfiguration", false },
    { "GetBucketTagging", "Tagging", false },
    { "GetBucketVersioning", "VersioningConfiguration", false },
    { "GetBucketWebsite", "WebsiteConfiguration", false },
    { "GetObjectAcl", "AccessControlPolicy", false },
    { "GetObjectAttributes", "GetObjectAttributesResponse", false },
    { "GetObjectTagging", "Tagging", false },
    { "ListBuckets", "ListAllMyBucketsResult", false },
    { "ListMultipartUploads", "ListMultipartUploadsResult", false },
    { "ListObjectVersions", "ListVersionsResult", false },
    { "ListObjects", "ListBucketResult", false },
    { "ListObjectsV2", "ListBucketResult", false },
    { "ListParts", "ListPartsResult", false },
};

#define S3_MALFORMED_XML                                                                           \
    "The XML you provided was not well-formed or did not validate against our published "          \
    "schema"

static bool
is_s3(const struct aws_request *req)
{
    return req->service && strcmp(req->service, "s3") == 0;
}

static const struct s3_route *
s3_route_find(const char *op)
{
    for (size_t i = 0; i < ARRAY_SIZE(s3_routes); i++)
        if (strcmp(s3_routes[i].op, op) == 0)
            return &s3_routes[i];
    return NULL;
}

static const struct s3_root *
s3_root_find(const char *op)
{
    for (size_t i = 0; i < ARRAY_SIZE(s3_roots); i++)
        if (strcmp(s3_roots[i].op, op) == 0)
            return &s3_roots[i];
    return NULL;
}

/* ---- model helpers ---- */

/*
 * A serialisation trait of a member: botocore merges the member reference's traits over its
 * shape's (locationName, flattened, xmlNamespace, timestampFormat, ...), the ref winning.
 */
static const cJSON *
trait(const cJSON *ref, const cJSON *shape, const char *key)
{
    const cJSON *t = ref ? cJSON_GetObjectItemCaseSensitive(ref, key) : NULL;
    return t ? t : cJSON_GetObjectItemCaseSensitive(shape, key);
}

static const char *
trait_str(const cJSON *ref, const cJSON *shape, const char *key)
{
    const cJSON *t = trait(ref, shape, key);
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

static const char *
shape_type(const cJSON *shape)
{
    const char *t = shape ? model_str(shape, "type") : NULL;
    return t ? t : "";
}

/* The element name of a structure member: its locationName, else the member name. */
static const char *
member_xml_name(const cJSON *ref, const cJSON *shape)
{
    const char *n = trait_str(ref, shape, "locationName");
    return n ? n : ref->string;
}

/* The element name of each item of a flattened list member (botocore _member_key_name). */
static const char *
flat_item_name(const struct model *m, const cJSON *ref, const cJSON *shape)
{
    const cJSON *mref = cJSON_GetObjectItemCaseSensitive(shape, "member");
    const char *n = trait_str(mref, model_ref_shape(m, mref), "locationName");
    return n ? n : member_xml_name(ref, shape);
}

static bool
is_number_type(const char *type)
{
    return strcmp(type, "integer") == 0 || strcmp(type, "long") == 0 ||
           strcmp(type, "float") == 0 || strcmp(type, "double") == 0;
}

/* ---- routing ---- */

#define RX_MAX_LABELS 8

struct rx_label {
    const char *name;  /* into the requestUri template, without braces or '+' */
    size_t name_len;   /* bytes of name */
    const char *value; /* into the raw path, still percent-encoded */
    size_t value_len;  /* bytes of value */
};

/* The labels a route captured, in template order. */
struct rx_match {
    struct rx_label labels[RX_MAX_LABELS]; /* n_labels in use */
    size_t n_labels;                       /* labels captured */
};

/* The raw (percent-encoded) path of the request, up to the query. */
static const char *
raw_path(const struct aws_request *req, size_t *n)
{
    const char *p = req->raw_path ? req->raw_path : req->http->target;
    if (!p || !*p)
        p = "/";
    *n = strcspn(p, "?#");
    return p;
}

/*
 * Matches the raw path [p, pend) against the template [t, tend): {X} takes one non-empty
 * segment, {X+} the rest (slashes included). Labels are matched on the raw path and decoded
 * later, so an encoded "%2F" inside a label never splits it.
 */
static bool
match_path(const char *t, const char *tend, const char *p, const char *pend, struct rx_match *mt)
{
    while (t < tend && *t != '{') {
        if (p == pend || *p != *t)
            return false;
        t++;
        p++;
    }
    if (t == tend)
        return p == pend;
    const char *close = memchr(t, '}', (size_t)(tend - t));
    if (!close || mt->n_labels == RX_MAX_LABELS)
        return false;
    bool greedy = close[-1] == '+';
    const char *end = p;
    if (greedy)
        end = pend;
    else
        while (end < pend && *end != '/')
            end++;
    struct rx_label *l = &mt->labels[mt->n_labels++];
    l->name = t + 1;
    l->name_len = (size_t)(close - t - 1) - greedy;
    for (const char *e = end; e > p; e--) {
        l->value = p;
        l->value_len = (size_t)(e - p);
        if (match_path(close + 1, tend, e, pend, mt))
            return true;
    }
    mt->n_labels--;
    return false;
}

static bool
params_has(const struct params *ps, const char *key, size_t klen, const char *val, size_t vlen)
{
    for (size_t i = 0; i < ps->n; i++) {
        const struct param *p = &ps->v[i];
        if (strlen(p->key) != klen || memcmp(p->key, key, klen) != 0)
            continue;
        if (!val || (strlen(p->value) == vlen && memcmp(p->value, val, vlen) == 0))
            return true;
    }
    return false;
}

/* How many literal query conditions ("uploads", "list-type=2") q has; -1 if one is unmet. */
static int
match_query(const char *q, const struct params *ps)
{
    int n = 0;
    while (*q) {
        size_t len = strcspn(q, "&");
        const char *eq = memchr(q, '=', len);
        size_t klen = eq ? (size_t)(eq - q) : len;
        if (len && !params_has(ps, q, klen, eq ? eq + 1 : NULL, eq ? len - klen - 1 : 0))
            return -1;
        n += len > 0;
        q += len;
        if (*q == '&')
            q++;
    }
    return n;
}

static size_t
literal_chars(const char *t, const char *tend)
{
    size_t n = 0;
    bool in_label = false;
    for (; t < tend; t++) {
        if (*t == '{')
            in_label = true;
        else if (*t == '}')
            in_label = false;
        else if (!in_label)
            n++;
    }
    return n;
}

/*
 * How well operation `op` fits the request: -1 when it does not; otherwise higher is more
 * specific (more literal path characters, then more query/header conditions, then an exact
 * rather than a trailing-slash-tolerant match). Fills *mt with the labels.
 */
static long
route_score(const struct aws_request *req, const char *name, const cJSON *op, struct rx_match *mt)
{
    const cJSON *http = cJSON_GetObjectItemCaseSensitive(op, "http");
    const char *method = model_str(http, "method");
    const char *uri = model_str(http, "requestUri");
    size_t plen;
    const char *path = raw_path(req, &plen);

    mt->n_labels = 0;
    if (!method || !uri || !req->http->method || strcmp(method, req->http->method) != 0)
        return -1;
    const char *q = strchr(uri, '?');
    const char *tend = q ? q : uri + strlen(uri);
    bool exact = match_path(uri, tend, path, path + plen, mt);
    if (!exact) {
        /* "/bucket/" for "/{Bucket}": clients differ on the trailing slash; AWS does not care. */
        mt->n_labels = 0;
        if (plen < 2 || path[plen - 1] != '/' || tend[-1] == '/' ||
            !match_path(uri, tend, path, path + plen - 1, mt))
            return -1;
    }
    int conds = q ? match_query(q + 1, &req->params) : 0;
    if (conds < 0)
        return -1;
    if (is_s3(req)) {
        const struct s3_route *r = s3_route_find(name);
        if (r && r->never)
            return -1;
        for (size_t i = 0; r && i < ARRAY_SIZE(r->query) && r->query[i]; i++) {
            if (!params_has(&req->params, r->query[i], strlen(r->query[i]), NULL, 0))
                return -1;
            conds++;
        }
        if (r && r->header) {
            if (!http_req_header(req->http, r->header))
                return -1;
            conds++;
        }
    }
    return (long)literal_chars(uri, tend) * 1024 + conds * 2 + exact;
}

static int check_xml_body(struct aws_request *req, struct aws_err *err);
static void checked_drop(void);

static int
restxml_identify(struct aws_request *req, struct aws_err *err)
{
    checked_drop();
    const cJSON *sections[2] = { model_ops(req->model), model_unimplemented_ops(req->model) };
    const char *best = NULL;
    long best_score = -1;
    struct rx_match mt;

    for (size_t s = 0; s < ARRAY_SIZE(sections); s++) {
        const cJSON *op;
        cJSON_ArrayForEach(op, sections[s])
        {
            long score = route_score(req, op->string, op, &mt);
            if (score > best_score) {
                best_score = score;
                best = op->string;
            }
        }
    }
    if (best) {
        req->op_name = best;
        /*
         * Route53 reads a body as XML before it dispatches, so a malformed one (or one with a
         * DOCTYPE) is refused even for an operation fogbank does not implement. S3 bodies are
         * object data, not XML, until an operation says otherwise.
         */
        if (!is_s3(req) && req->http->body_len > 0 && check_xml_body(req, err) < 0)
            return -1;
        return 0;
    }
    size_t plen;
    const char *path = raw_path(req, &plen);
    /*
     * S3 answers a method it has no route for on a resource with 405 MethodNotAllowed
     * (e.g. POST /bucket/key without ?uploads). Route53 has no documented answer; we use
     * 404 UnknownOperationException as AWS's REST front ends do for an unknown path.
     */
    if (is_s3(req))
        return aws_err_set(err, AWS_E_METHOD_NOT_ALLOWED,
                           "The specified method is not allowed against this resource.");
    return aws_err_setx(err, 404, "UnknownOperationException", true, "No operation matches %s %.*s",
                        req->http->method ? req->http->method : "", (int)(plen > 200 ? 200 : plen),
                        path);
}

/* ---- decode ---- */

/* Where a member's text came from: it decides the error code and wording for a bad value. */
enum rx_where {
    RX_URI,    /* a path label */
    RX_QUERY,  /* a query-string parameter */
    RX_HEADER, /* a request header */
    RX_BODY,   /* an element or attribute of the XML body */
};

/* One decode: what every helper needs to read the request and word its errors. */
struct rx_ctx {
    struct aws_request *req; /* the request being decoded (borrowed) */
    const struct model *m;   /* req->model */
    bool s3;                 /* S3's error codes (MalformedXML, InvalidArgument), else Route53's */
    struct aws_err *err;     /* the caller's error, set when a helper fails */
    struct buf scratch;      /* reused text buffer for element contents */
};

/* Malformed or schema-invalid body: S3's MalformedXML, Route53's "Invalid XML ; ...". */
static int
body_error(struct rx_ctx *c, const char *detail)
{
    if (c->s3)
        return aws_err_set(c->err, AWS_E_MALFORMED_XML, S3_MALFORMED_XML);
    return aws_err_set(c->err, AWS_E_INVALID_INPUT, "Invalid XML ; %s", detail);
}

/* A value that does not parse as its member's type, wherever it came from. */
static int
value_error(struct rx_ctx *c, enum rx_where where, const char *name, const char *type,
            const char *text)
{
    char detail[512];
    if (where == RX_BODY) {
        /* Route53 validates bodies with Xerces; this is its wording for a bad datatype. */
        snprintf(detail, sizeof(detail),
                 "cvc-datatype-valid.1.2.1: '%.200s' is not a valid value for '%s'.", text, type);
        return body_error(c, detail);
    }
    if (c->s3)
        return aws_err_set(c->err, AWS_E_INVALID_ARGUMENT, "Invalid value '%.200s' for %s", text,
                           name);
    return aws_err_set(c->err, AWS_E_INVALID_INPUT, "Invalid value '%.200s' for %s", text, name);
}

static bool
is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* The text of s without leading and trailing whitespace, NUL-terminated in *tmp. */
static const char *
trimmed(const char *s, struct buf *tmp)
{
    size_t n = strlen(s);
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    while (n && is_space(s[n - 1]))
        n--;
    buf_reset(tmp);
    buf_add(tmp, s, n);
    return tmp->data;
}

/*
 * Converts the text of a scalar member to its tree value. Strings are kept byte for byte;
 * numbers, booleans and timestamps tolerate surrounding whitespace.
 */
static int
text_value(struct rx_ctx *c, enum rx_where where, const char *name, const cJSON *shape,
           const char *text, cJSON **out)
{
    const char *type = shape_type(shape);
    struct buf tmp = BUF_INIT;
    int rc = 0;

    *out = NULL;
    if (strcmp(type, "boolean") == 0) {
        const char *t = trimmed(text, &tmp);
        if (str_ieq(t, "true") || strcmp(t, "1") == 0)
            *out = cJSON_CreateTrue();
        else if (str_ieq(t, "false") || strcmp(t, "0") == 0)
            *out = cJSON_CreateFalse();
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) {
        const char *t = trimmed(text, &tmp);
        char *end;
        errno = 0;
        long long v = strtoll(t, &end, 10);
        bool ok = *t && !*end && errno == 0;
        if (ok && strcmp(type, "integer") == 0)
            ok = v >= INT32_MIN && v <= INT32_MAX;
        if (ok)
            *out = cJSON_CreateNumber((double)v);
    } else if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        const char *t = trimmed(text, &tmp);
        char *end;
        double v = strtod(t, &end);
        if (*t && !*end)
            *out = cJSON_CreateNumber(v);
    } else if (strcmp(type, "timestamp") == 0) {
        int64_t ms;
        if (time_parse(trimmed(text, &tmp), &ms) == 0)
            *out = cJSON_CreateNumber((double)ms);
    } else if (strcmp(type, "blob") == 0) {
        struct buf raw = BUF_INIT;
        const char *t = trimmed(text, &tmp);
        if (buf_add_base64_decoded(&raw, t, strlen(t)) == 0) {
            buf_reset(&tmp);
            buf_add_base64(&tmp, raw.data, raw.len);
            *out = cJSON_CreateString(tmp.data);
        }
        buf_release(&raw);
    } else {
        *out = cJSON_CreateString(text);
    }
    if (!*out)
        rc = value_error(c, where, name, type, text);
    buf_release(&tmp);
    return rc;
}

/* Splits a header list value at commas outside double quotes, unquoting quoted items. */
static int
header_list(struct rx_ctx *c, const char *name, const cJSON *shape, const char *value, cJSON **out)
{
    const cJSON *mshape = model_ref_shape(c->m, cJSON_GetObjectItemCaseSensitive(shape, "member"));
    cJSON *arr = cJSON_CreateArray();
    struct buf item = BUF_INIT;
    const char *p = value;

    while (*p) {
        bool quoted = false;
        buf_reset(&item);
        while (is_space(*p))
            p++;
        if (*p == '"') {
            quoted = true;
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                buf_addc(&item, *p);
            }
            if (*p == '"')
                p++;
        }
        while (*p && *p != ',') {
            if (!quoted)
                buf_addc(&item, *p);
            p++;
        }
        if (*p == ',')
            p++;
        /* Trim what an unquoted item carried after its text ("a , b"). */
        while (!quoted && item.len && is_space(item.data[item.len - 1]))
            item.data[--item.len] = '\0';
        cJSON *v;
        if (text_value(c, RX_HEADER, name, mshape, item.data, &v) < 0) {
            cJSON_Delete(arr);
            buf_release(&item);
            return -1;
        }
        cJSON_AddItemToArray(arr, v);
    }
    buf_release(&item);
    *out = arr;
    return 0;
}

static const struct rx_label *
find_label(const struct rx_match *mt, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < mt->n_labels; i++)
        if (mt->labels[i].name_len == n && memcmp(mt->labels[i].name, name, n) == 0)
            return &mt->labels[i];
    return NULL;
}

/* Whether query key k is spoken for: a literal of the template or another member's name. */
static bool
query_key_claimed(const char *uri, const cJSON *shape, const char *k)
{
    const char *q = strchr(uri ? uri : "", '?');
    size_t klen = strlen(k);
    const cJSON *ref;
    while (q && *q) {
        q++;
        size_t len = strcspn(q, "&");
        size_t tk = strcspn(q, "=&");
        if (tk == klen && memcmp(q, k, klen) == 0)
            return true;
        q += len;
        if (!*q)
            break;
    }
    cJSON_ArrayForEach(ref, cJSON_GetObjectItemCaseSensitive(shape, "members"))
    {
        const char *loc = model_str(ref, "location");
        const char *ln = model_str(ref, "locationName");
        if (loc && strcmp(loc, "querystring") == 0 && ln && strcmp(ln, k) == 0)
            return true;
    }
    return false;
}

/* A querystring member: one value, every value of a list, or the unclaimed keys as a map. */
static int
query_member(struct rx_ctx *c, const cJSON *input, const cJSON *shape, const char *wire,
             cJSON **out)
{
    const char *type = shape_type(shape);
    const struct params *ps = &c->req->params;
    *out = NULL;

    if (strcmp(type, "list") == 0) {
        const cJSON *mshape =
                model_ref_shape(c->m, cJSON_GetObjectItemCaseSensitive(shape, "member"));
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < ps->n; i++) {
            cJSON *v;
            if (strcmp(ps->v[i].key, wire) != 0)
                continue;
            if (text_value(c, RX_QUERY, wire, mshape, ps->v[i].value, &v) < 0) {
                cJSON_Delete(arr);
                return -1;
            }
            cJSON_AddItemToArray(arr, v);
        }
        if (cJSON_GetArraySize(arr) == 0)
            cJSON_Delete(arr);
        else
            *out = arr;
        return 0;
    }
    if (strcmp(type, "map") == 0) {
        const char *uri =
                model_str(cJSON_GetObjectItemCaseSensitive(c->req->op, "http"), "requestUri");
        const cJSON *vshape =
                model_ref_shape(c->m, cJSON_GetObjectItemCaseSensitive(shape, "value"));
        bool multi = strcmp(shape_type(vshape), "list") == 0;
        const cJSON *item_shape =
                multi ? model_ref_shape(c->m, cJSON_GetObjectItemCaseSensitive(vshape, "member"))
                      : vshape;
        cJSON *obj = cJSON_CreateObject();
        for (size_t i = 0; i < ps->n; i++) {
            const char *k = ps->v[i].key;
            cJSON *v;
            if (query_key_claimed(uri, input, k))
                continue;
            if (text_value(c, RX_QUERY, k, item_shape, ps->v[i].value, &v) < 0) {
                cJSON_Delete(obj);
                return -1;
            }
            if (multi) {
                cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, k);
                if (!arr)
                    arr = cJSON_AddArrayToObject(obj, k);
                cJSON_AddItemToArray(arr, v);
            } else {
                cJSON_DeleteItemFromObjectCaseSensitive(obj, k);
                cJSON_AddItemToObject(obj, k, v);
            }
        }
        if (cJSON_GetArraySize(obj) == 0)
            cJSON_Delete(obj);
        else
            *out = obj;
        return 0;
    }
    const char *val = params_get(ps, wire);
    return val ? text_value(c, RX_QUERY, wire, shape, val, out) : 0;
}

/* The prefixed headers (x-amz-meta-*) as a map, keys lower-cased as S3 stores them. */
static cJSON *
header_map(struct rx_ctx *c, const char *prefix)
{
    const struct http_req *h = c->req->http;
    size_t plen = strlen(prefix);
    cJSON *obj = NULL;
    for (size_t i = 0; i < h->n_headers; i++) {
        const char *name = h->headers[i].name;
        if (strlen(name) <= plen || strncasecmp(name, prefix, plen) != 0)
            continue;
        char key[256];
        size_t n = 0;
        for (const char *p = name + plen; *p && n < sizeof(key) - 1; p++)
            key[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
        key[n] = '\0';
        if (!obj)
            obj = cJSON_CreateObject();
        cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
        cJSON_AddStringToObject(obj, key, h->headers[i].value);
    }
    return obj;
}

/* Fills the members that live outside the body: URI labels, query string, headers. */
static int
located_members(struct rx_ctx *c, const cJSON *shape, const struct rx_match *mt, cJSON *tree)
{
    const cJSON *ref;
    cJSON_ArrayForEach(ref, cJSON_GetObjectItemCaseSensitive(shape, "members"))
    {
        const char *loc = model_str(ref, "location");
        const cJSON *mshape = model_ref_shape(c->m, ref);
        const char *wire = model_str(ref, "locationName");
        cJSON *v = NULL;
        int rc = 0;

        if (!loc)
            continue;
        if (!wire)
            wire = ref->string;
        if (strcmp(loc, "uri") == 0) {
            const struct rx_label *l = find_label(mt, wire);
            struct buf dec = BUF_INIT;
            if (!l)
                continue;
            if (url_decode(&dec, l->value, l->value_len) < 0 || memchr(dec.data, '\0', dec.len)) {
                buf_release(&dec);
                if (c->s3)
                    return aws_err_set(c->err, AWS_E_INVALID_URI,
                                       "Couldn't parse the specified URI.");
                return aws_err_set(c->err, AWS_E_INVALID_INPUT, "Invalid URI for %s", wire);
            }
            rc = text_value(c, RX_URI, wire, mshape, dec.data, &v);
            buf_release(&dec);
        } else if (strcmp(loc, "querystring") == 0) {
            rc = query_member(c, shape, mshape, wire, &v);
        } else if (strcmp(loc, "header") == 0) {
            const char *hv = http_req_header(c->req->http, wire);
            if (!hv)
                continue;
            if (strcmp(shape_type(mshape), "list") == 0)
                rc = header_list(c, wire, mshape, hv, &v);
            else
                rc = text_value(c, RX_HEADER, wire, mshape, hv, &v);
        } else if (strcmp(loc, "headers") == 0) {
            v = header_map(c, wire);
        }
        if (rc < 0)
            return -1;
        if (v)
            cJSON_AddItemToObject(tree, ref->string, v);
    }
    return 0;
}

/* -- XML -- */

struct xml_guard {
    bool dtd; /* the document has a DOCTYPE: refused before any of it is processed */
};

/*
 * SAX hook for <!DOCTYPE ...>: a request body never needs a DTD, and refusing it here, before
 * its declarations are read, rules out entity expansion (billion laughs) and external
 * entities (XXE) whatever the encoding of the document.
 */
static void
refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
    xmlParserCtxtPtr p = ctx;
    (void)name;
    (void)external_id;
    (void)system_id;
    ((struct xml_guard *)p->_private)->dtd = true;
    xmlStopParser(p);
}

/*
 * Parses an untrusted body: no network, no DTD, no entity substitution, libxml2's default
 * depth and size limits (no XML_PARSE_HUGE), errors kept off stderr. NULL + err on failure.
 * Every document starts here, so this is where libxml2 is loaded on first use.
 */
static xmlDocPtr
parse_xml(struct rx_ctx *c, const char *body, size_t len)
{
    if (len > INT32_MAX) {
        body_error(c, "Document too large");
        return NULL;
    }
    if (xmllib_load(c->err) < 0)
        return NULL;
    xmlParserCtxtPtr p = xmlNewParserCtxt();
    if (!p)
        die("out of memory (libxml2 parser context)");
    struct xml_guard guard = { false };
    p->_private = &guard;
    p->sax->internalSubset = refuse_doctype;
    p->sax->externalSubset = refuse_doctype;
    xmlDocPtr doc = xmlCtxtReadMemory(p, body, (int)len, NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (guard.dtd || (doc && (doc->intSubset || doc->extSubset))) {
        xmlFreeDoc(doc);
        doc = NULL;
        /* Xerces' wording, which hardened Java services such as Route53 answer with. */
        body_error(c, "DOCTYPE is disallowed when the feature "
                      "\"http://apache.org/xml/features/disallow-doctype-decl\" set to true.");
    } else if (!doc || !xmlDocGetRootElement(doc)) {
        const xmlError *e = xmlCtxtGetLastError(p);
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "Premature end of file.");
        msg[strcspn(msg, "\n")] = '\0';
        xmlFreeDoc(doc);
        doc = NULL;
        body_error(c, msg);
    }
    xmlFreeParserCtxt(p);
    return doc;
}

/*
 * The document check_xml_body() parsed, kept for decode() of the same request so that a
 * body is parsed once, not twice (a batch of 1,000 Route53 changes is some 200 KB of XML).
 * The router calls decode() right after identify(); identify() drops whatever a request
 * answered without decode() left here.
 */
static struct {
    const struct aws_request *req; /* the request it was parsed for, NULL when empty */
    const char *body;              /* that request's body */
    size_t len;                    /* and its length */
    xmlDocPtr doc;                 /* the document, owned here until taken */
} checked;

static void
checked_drop(void)
{
    if (checked.doc)
        xmlFreeDoc(checked.doc);
    memset(&checked, 0, sizeof(checked));
}

/* The document check_xml_body() parsed from this request's body, handed over; else NULL. */
static xmlDocPtr
checked_take(const struct aws_request *req, const char *body, size_t len)
{
    xmlDocPtr doc = NULL;
    if (checked.doc && checked.req == req && checked.body == body && checked.len == len) {
        doc = checked.doc;
        checked.doc = NULL;
    }
    checked_drop();
    return doc;
}

/* Whether the request body is well-formed XML without a DOCTYPE; -1 + err if not. */
static int
check_xml_body(struct aws_request *req, struct aws_err *err)
{
    struct rx_ctx c = { .req = req, .m = req->model, .s3 = is_s3(req), .err = err };
    buf_init(&c.scratch);
    xmlDocPtr doc = parse_xml(&c, req->http->body, req->http->body_len);
    buf_release(&c.scratch);
    if (!doc)
        return -1;
    checked_drop();
    checked.req = req;
    checked.body = req->http->body;
    checked.len = req->http->body_len;
    checked.doc = doc;
    return 0;
}

/* The element's own text (text and CDATA children), into c->scratch. */
static const char *
node_text(struct rx_ctx *c, const xmlNode *node)
{
    buf_reset(&c->scratch);
    for (const xmlNode *ch = node->children; ch; ch = ch->next)
        if ((ch->type == XML_TEXT_NODE || ch->type == XML_CDATA_SECTION_NODE) && ch->content)
            buf_adds(&c->scratch, (const char *)ch->content);
    return c->scratch.data;
}

static bool
name_is(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, name) == 0;
}

static int xml_value(struct rx_ctx *c, const cJSON *shape, const xmlNode *node, cJSON **out);

/* One map entry (<entry> or a flattened element) holding the key and value elements. */
static int
xml_map_entry(struct rx_ctx *c, const cJSON *shape, const xmlNode *entry, cJSON *obj)
{
    const cJSON *kref = cJSON_GetObjectItemCaseSensitive(shape, "key");
    const cJSON *vref = cJSON_GetObjectItemCaseSensitive(shape, "value");
    const cJSON *vshape = model_ref_shape(c->m, vref);
    const char *kname = trait_str(kref, model_ref_shape(c->m, kref), "locationName");
    const char *vname = trait_str(vref, vshape, "locationName");
    const xmlNode *kn = NULL, *vn = NULL;

    for (const xmlNode *ch = entry->children; ch; ch = ch->next) {
        if (name_is(ch, kname ? kname : "key"))
            kn = ch;
        else if (name_is(ch, vname ? vname : "value"))
            vn = ch;
    }
    if (!kn || !vn)
        return body_error(c, "map entry without key or value");
    char *key = xstrdup(node_text(c, kn));
    cJSON *v;
    if (xml_value(c, vshape, vn, &v) < 0) {
        free(key);
        return -1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddItemToObject(obj, key, v);
    free(key);
    return 0;
}

static int
xml_attribute(struct rx_ctx *c, const cJSON *ref, const cJSON *mshape, const xmlNode *node,
              cJSON *obj)
{
    const char *want = member_xml_name(ref, mshape);
    const char *colon = strchr(want, ':');
    const char *local = colon ? colon + 1 : want;
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        if (strcmp((const char *)a->name, local) != 0)
            continue;
        if (colon && (!a->ns || !a->ns->prefix ||
                      strncmp((const char *)a->ns->prefix, want, (size_t)(colon - want)) != 0 ||
                      a->ns->prefix[colon - want] != '\0'))
            continue;
        const char *text =
                a->children && a->children->content ? (const char *)a->children->content : "";
        cJSON *v;
        if (text_value(c, RX_BODY, want, mshape, text, &v) < 0)
            return -1;
        cJSON_AddItemToObject(obj, ref->string, v);
        return 0;
    }
    return 0;
}

/* A body member of a structure, resolved once per element rather than once per child. */
struct rx_member {
    const cJSON *ref;      /* the member reference; ref->string is the member name */
    const cJSON *shape;    /* its shape */
    const char *name;      /* its element name */
    const char *item_name; /* flattened list: the element name of each item, else NULL */
    const char *type;      /* shape type */
    bool flat;             /* flattened list or map: repeated elements, no wrapper */
};

/* The body members of one structure shape, resolved once and kept with the model. */
struct rx_table {
    size_t n;               /* entries of tab */
    bool has_attributes;    /* some member is an xmlAttribute */
    struct rx_member tab[]; /* the members that are child elements */
};

/* The decoding table of structure `shape` (built on first use, kept with the model). */
static const struct rx_table *
member_table(struct rx_ctx *c, const cJSON *shape)
{
    static const struct rx_table none;
    void **slot = model_members_aux(c->m, shape, free);
    if (!slot)
        return &none; /* no shape: no members */
    if (*slot)
        return *slot;
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(shape, "members");
    size_t cap = (size_t)cJSON_GetArraySize(members);
    struct rx_table *t = xcalloc(1, sizeof(*t) + (cap ? cap : 1) * sizeof(t->tab[0]));
    const cJSON *ref;
    cJSON_ArrayForEach(ref, members)
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "xmlAttribute")))
            t->has_attributes = true;
        if (t->n == cap || model_str(ref, "location") ||
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "xmlAttribute")))
            continue;
        struct rx_member *e = &t->tab[t->n++];
        e->ref = ref;
        e->shape = model_ref_shape(c->m, ref);
        e->name = member_xml_name(ref, e->shape);
        e->type = shape_type(e->shape);
        e->flat = cJSON_IsTrue(trait(ref, e->shape, "flattened"));
        e->item_name = e->flat && strcmp(e->type, "list") == 0 ? flat_item_name(c->m, ref, e->shape)
                                                               : NULL;
    }
    *slot = t;
    return t;
}

/* The member child element `node` stands for (botocore accepts either name of a flat list). */
static const struct rx_member *
member_for(const struct rx_member *tab, size_t n, const xmlNode *node)
{
    for (size_t i = 0; i < n; i++)
        if (name_is(node, tab[i].name) || (tab[i].item_name && name_is(node, tab[i].item_name)))
            return &tab[i];
    return NULL;
}

static int
xml_member(struct rx_ctx *c, const struct rx_member *e, const xmlNode *ch, cJSON *obj)
{
    const char *name = e->ref->string;
    cJSON *v;
    if (e->flat && strcmp(e->type, "list") == 0) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name);
        const cJSON *ishape =
                model_ref_shape(c->m, cJSON_GetObjectItemCaseSensitive(e->shape, "member"));
        if (!arr)
            arr = cJSON_AddArrayToObject(obj, name);
        if (xml_value(c, ishape, ch, &v) < 0)
            return -1;
        cJSON_AddItemToArray(arr, v);
    } else if (e->flat && strcmp(e->type, "map") == 0) {
        cJSON *map = cJSON_GetObjectItemCaseSensitive(obj, name);
        if (!map)
            map = cJSON_AddObjectToObject(obj, name);
        if (xml_map_entry(c, e->shape, ch, map) < 0)
            return -1;
    } else {
        if (xml_value(c, e->shape, ch, &v) < 0)
            return -1;
        /* A repeated element: the last one wins, as for a repeated query key. */
        cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
        cJSON_AddItemToObject(obj, name, v);
    }
    return 0;
}

/*
 * The members of structure `shape` found as children (and attributes) of `node`, added to
 * obj. Members with a location (uri, header, ...) are not in a body; unknown elements are
 * ignored as botocore ignores them.
 */
static int
xml_members(struct rx_ctx *c, const cJSON *shape, const xmlNode *node, cJSON *obj)
{
    const struct rx_table *t = member_table(c, shape);
    int rc = 0;

    if (t->has_attributes) {
        const cJSON *ref;
        cJSON_ArrayForEach(ref, cJSON_GetObjectItemCaseSensitive(shape, "members"))
        {
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "xmlAttribute")) &&
                xml_attribute(c, ref, model_ref_shape(c->m, ref), node, obj) < 0) {
                rc = -1;
                break;
            }
        }
    }
    for (const xmlNode *ch = node->children; ch && rc == 0; ch = ch->next) {
        const struct rx_member *e =
                ch->type == XML_ELEMENT_NODE ? member_for(t->tab, t->n, ch) : NULL;
        if (e)
            rc = xml_member(c, e, ch, obj);
    }
    return rc;
}

static int
xml_value(struct rx_ctx *c, const cJSON *shape, const xmlNode *node, cJSON **out)
{
    const char *type = shape_type(shape);
    *out = NULL;
    if (strcmp(type, "structure") == 0) {
        cJSON *obj = cJSON_CreateObject();
        if (xml_members(c, shape, node, obj) < 0) {
            cJSON_Delete(obj);
            return -1;
        }
        *out = obj;
        return 0;
    }
    if (strcmp(type, "list") == 0) {
        const cJSON *ishape =
                model_ref_shape(c->m, cJSON_GetObjectItemCaseSensitive(shape, "member"));
        cJSON *arr = cJSON_CreateArray();
        /* Like botocore, every child element is an item whatever its name. */
        for (const xmlNode *ch = node->children; ch; ch = ch->next) {
            cJSON *v;
            if (ch->type != XML_ELEMENT_NODE)
                continue;
            if (xml_value(c, ishape, ch, &v) < 0) {
                cJSON_Delete(arr);
                return -1;
            }
            cJSON_AddItemToArray(arr, v);
        }
        *out = arr;
        return 0;
    }
    if (strcmp(type, "map") == 0) {
        cJSON *obj = cJSON_CreateObject();
        for (const xmlNode *ch = node->children; ch; ch = ch->next) {
            if (ch->type != XML_ELEMENT_NODE)
                continue;
            if (xml_map_entry(c, shape, ch, obj) < 0) {
                cJSON_Delete(obj);
                return -1;
            }
        }
        *out = obj;
        return 0;
    }
    return text_value(c, RX_BODY, (const char *)node->name, shape, node_text(c, node), out);
}

/* Decodes an XML body whose root must be `root_name` into the members of `shape`. */
static int
xml_body(struct rx_ctx *c, const char *root_name, const char *ns, const cJSON *shape, cJSON *obj)
{
    const struct http_req *h = c->req->http;
    xmlDocPtr doc = checked_take(c->req, h->body, h->body_len);
    if (!doc)
        doc = parse_xml(c, h->body, h->body_len);
    if (!doc)
        return -1;
    const xmlNode *root = xmlDocGetRootElement(doc);
    int rc = 0;
    if (root_name && strcmp((const char *)root->name, root_name) != 0) {
        /* Route53's answer to a wrong root, as captured from the service. */
        if (c->s3)
            rc = aws_err_set(c->err, AWS_E_MALFORMED_XML, S3_MALFORMED_XML);
        else
            rc = aws_err_set(c->err, AWS_E_MALFORMED_INPUT, "%s is not valid, expected %s",
                             (const char *)root->name, root_name);
    } else if (!c->s3 && ns &&
               (!root->ns || !root->ns->href || strcmp((const char *)root->ns->href, ns) != 0)) {
        /* Route53 validates against its schema, which needs the namespace; S3 does not. */
        char detail[256];
        snprintf(detail, sizeof(detail), "cvc-elt.1: Cannot find the declaration of element '%s'.",
                 root_name);
        rc = body_error(c, detail);
    } else {
        rc = xml_members(c, shape, root, obj);
    }
    xmlFreeDoc(doc);
    return rc;
}

static bool
body_is_blank(const struct http_req *h)
{
    for (size_t i = 0; i < h->body_len; i++)
        if (!is_space(h->body[i]))
            return false;
    return true;
}

static bool
has_body_members(const cJSON *shape)
{
    const cJSON *ref;
    cJSON_ArrayForEach(ref, cJSON_GetObjectItemCaseSensitive(shape, "members"))
    {
        if (!model_str(ref, "location"))
            return true;
    }
    return false;
}

static const char *
ns_uri(const cJSON *ns)
{
    if (cJSON_IsString(ns))
        return ns->valuestring;
    return model_str(ns, "uri");
}

/* The body: a payload member (structure, or raw blob/string), or the input's own members. */
static int
body_members(struct rx_ctx *c, const cJSON *in_ref, const cJSON *shape, cJSON *tree)
{
    const struct http_req *h = c->req->http;
    const char *payload = model_str(shape, "payload");

    if (payload) {
        const cJSON *pref = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(shape, "members"), payload);
        const cJSON *pshape = model_ref_shape(c->m, pref);
        const char *type = shape_type(pshape);
        if (h->body_len == 0)
            return 0;
        if (strcmp(type, "blob") == 0) {
            /* A streaming body (S3 PutObject) travels as base64 in the neutral tree for now. */
            struct buf b64 = BUF_INIT;
            buf_add_base64(&b64, h->body, h->body_len);
            cJSON_AddStringToObject(tree, payload, b64.data);
            buf_release(&b64);
            return 0;
        }
        if (strcmp(type, "string") == 0) {
            char *s = xstrndup(h->body, h->body_len);
            cJSON_AddStringToObject(tree, payload, s);
            free(s);
            return 0;
        }
        if (strcmp(type, "structure") != 0 || body_is_blank(h))
            return 0;
        cJSON *obj = cJSON_CreateObject();
        if (xml_body(c, member_xml_name(pref, pshape), ns_uri(trait(pref, pshape, "xmlNamespace")),
                     pshape, obj) < 0) {
            cJSON_Delete(obj);
            return -1;
        }
        cJSON_AddItemToObject(tree, payload, obj);
        return 0;
    }
    if (!has_body_members(shape) || body_is_blank(h))
        return 0;
    const char *root = trait_str(in_ref, shape, "locationName");
    return xml_body(c, root ? root : model_str(in_ref, "shape"),
                    ns_uri(trait(in_ref, shape, "xmlNamespace")), shape, tree);
}

/* Whether violation v is about a member that travels in the body (S3: MalformedXML). */
static bool
violation_in_body(const cJSON *shape, const struct violation *v)
{
    size_t n = strcspn(v->path, ".");
    const cJSON *ref;
    cJSON_ArrayForEach(ref, cJSON_GetObjectItemCaseSensitive(shape, "members"))
    {
        if (strlen(ref->string) == n && strncmp(ref->string, v->path, n) == 0)
            return !model_str(ref, "location");
    }
    return false;
}

static int
restxml_decode(struct aws_request *req, cJSON **in, struct aws_err *err)
{
    const cJSON *in_ref = req->op ? cJSON_GetObjectItemCaseSensitive(req->op, "input") : NULL;
    const char *shape_name = model_str(in_ref, "shape");
    const cJSON *shape = model_shape(req->model, shape_name);
    struct rx_ctx c = { .req = req, .m = req->model, .s3 = is_s3(req), .err = err };
    struct rx_match mt;

    *in = NULL;
    if (!shape) {
        *in = cJSON_CreateObject();
        return 0;
    }
    buf_init(&c.scratch);
    if (route_score(req, req->op_name ? req->op_name : "", req->op, &mt) < 0)
        mt.n_labels = 0;
    cJSON *tree = cJSON_CreateObject();
    if (located_members(&c, shape, &mt, tree) < 0 || body_members(&c, in_ref, shape, tree) < 0) {
        buf_release(&c.scratch);
        cJSON_Delete(tree);
        return -1;
    }
    buf_release(&c.scratch);

    struct violation v[VALIDATE_MAX_VIOLATIONS];
    size_t found = validate_input(req->model, shape_name, tree, v, ARRAY_SIZE(v));
    if (found) {
        size_t n = found < ARRAY_SIZE(v) ? found : ARRAY_SIZE(v);
        struct buf msg = BUF_INIT;
        json_violations_message(&msg, v, n, found);
        if (!c.s3) {
            aws_err_set(err, AWS_E_INVALID_INPUT, "%s", msg.data);
        } else if (v[0].kind == VIOLATION_MISSING && violation_in_body(shape, &v[0])) {
            /* S3 answers a missing or incomplete XML body with MalformedXML. */
            aws_err_set(err, AWS_E_MALFORMED_XML, S3_MALFORMED_XML);
        } else {
            aws_err_set(err, AWS_E_INVALID_ARGUMENT, "%s", msg.data);
        }
        buf_release(&msg);
        cJSON_Delete(tree);
        return -1;
    }
    *in = tree;
    return 0;
}

/* ---- encode ---- */

/* d as a long long, clamped: casting an out-of-range double is undefined behaviour. */
static long long
clamp_ll(double d)
{
    if (isnan(d))
        return 0;
    if (d >= 9.2e18)
        return 9200000000000000000LL;
    if (d <= -9.2e18)
        return -9200000000000000000LL;
    return (long long)d;
}

/* Whether tree value v has the JSON type the neutral tree gives shape type `type`. */
static bool
tree_fits(const char *type, const cJSON *v)
{
    if (strcmp(type, "structure") == 0 || strcmp(type, "map") == 0)
        return cJSON_IsObject(v);
    if (strcmp(type, "list") == 0)
        return cJSON_IsArray(v);
    if (strcmp(type, "boolean") == 0)
        return cJSON_IsBool(v);
    if (is_number_type(type) || strcmp(type, "timestamp") == 0)
        return cJSON_IsNumber(v);
    return cJSON_IsString(v);
}

/*
 * Appends the text of a scalar (unescaped). Timestamps follow the member's timestampFormat,
 * else ISO 8601 in a body and RFC 1123 in a header, as botocore reads them.
 */
static void
scalar_text(struct buf *b, const cJSON *ref, const cJSON *shape, const cJSON *v, bool header)
{
    const char *type = shape_type(shape);
    char tmp[40];
    if (strcmp(type, "boolean") == 0) {
        buf_adds(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) {
        buf_addf(b, "%lld", clamp_ll(v->valuedouble));
    } else if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        buf_add_double(b, v->valuedouble);
    } else if (strcmp(type, "timestamp") == 0) {
        const char *fmt = trait_str(ref, shape, "timestampFormat");
        int64_t ms = clamp_ll(v->valuedouble);
        if (!fmt)
            fmt = header ? "rfc822" : "iso8601";
        if (strcmp(fmt, "rfc822") == 0) {
            time_format_rfc1123(ms, tmp);
            buf_adds(b, tmp);
        } else if (strcmp(fmt, "unixTimestamp") == 0) {
            buf_addf(b, "%lld", (long long)(ms / 1000));
            if (ms % 1000)
                buf_addf(b, ".%03d", (int)(ms % 1000 < 0 ? -(ms % 1000) : ms % 1000));
        } else {
            time_format_iso8601(ms, tmp);
            buf_adds(b, tmp);
        }
    } else {
        buf_adds(b, v->valuestring);
    }
}

/* One encode: the body being written and a scratch buffer for scalar text. */
struct xw {
    struct buf *b;         /* the response body (borrowed) */
    const struct model *m; /* the request's model */
    struct buf tmp;        /* scalar text before escaping */
};

static void xml_write(struct xw *w, const cJSON *ref, const cJSON *shape, const cJSON *v,
                      const char *name);

static void
add_xmlns(struct buf *b, const cJSON *ns)
{
    const char *uri = ns_uri(ns);
    const char *prefix = cJSON_IsObject(ns) ? model_str(ns, "prefix") : NULL;
    if (!uri)
        return;
    buf_adds(b, " xmlns");
    if (prefix) {
        buf_addc(b, ':');
        buf_adds(b, prefix);
    }
    buf_adds(b, "=\"");
    buf_add_xml(b, uri, strlen(uri));
    buf_addc(b, '"');
}

/* Writes the attribute members of a structure into its open tag. */
static void
xml_write_attributes(struct xw *w, const cJSON *shape, const cJSON *v)
{
    const cJSON *ref;
    cJSON_ArrayForEach(ref, cJSON_GetObjectItemCaseSensitive(shape, "members"))
    {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "xmlAttribute")))
            continue;
        const cJSON *mv = cJSON_GetObjectItemCaseSensitive(v, ref->string);
        const cJSON *mshape = model_ref_shape(w->m, ref);
        if (!mv || !mshape || !tree_fits(shape_type(mshape), mv))
            continue;
        const char *name = member_xml_name(ref, mshape);
        buf_reset(&w->tmp);
        scalar_text(&w->tmp, ref, mshape, mv, false);
        buf_addf(w->b, " %s=\"", name);
        buf_add_xml(w->b, w->tmp.data, w->tmp.len);
        buf_addc(w->b, '"');
    }
}

/* The body members of structure `shape` present in v, in shape order. */
static void
xml_write_members(struct xw *w, const cJSON *shape, const cJSON *v)
{
    const cJSON *ref;
    cJSON_ArrayForEach(ref, cJSON_GetObjectItemCaseSensitive(shape, "members"))
    {
        const cJSON *mv = cJSON_GetObjectItemCaseSensitive(v, ref->string);
        if (!mv || model_str(ref, "location") ||
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "xmlAttribute")))
            continue;
        const cJSON *mshape = model_ref_shape(w->m, ref);
        const char *type = shape_type(mshape);
        const char *name = member_xml_name(ref, mshape);
        if (strcmp(type, "list") == 0 && cJSON_IsTrue(trait(ref, mshape, "flattened")))
            name = flat_item_name(w->m, ref, mshape);
        xml_write(w, ref, mshape, mv, name);
    }
}

static void
open_tag(struct xw *w, const char *name)
{
    buf_addc(w->b, '<');
    buf_adds(w->b, name);
}

static void
close_tag(struct xw *w, const char *name)
{
    buf_adds(w->b, "</");
    buf_adds(w->b, name);
    buf_addc(w->b, '>');
}

static void
xml_write_map_entry(struct xw *w, const cJSON *shape, const cJSON *item, const char *entry)
{
    const cJSON *kref = cJSON_GetObjectItemCaseSensitive(shape, "key");
    const cJSON *vref = cJSON_GetObjectItemCaseSensitive(shape, "value");
    const cJSON *kshape = model_ref_shape(w->m, kref);
    const cJSON *vshape = model_ref_shape(w->m, vref);
    const char *kname = trait_str(kref, kshape, "locationName");
    const char *vname = trait_str(vref, vshape, "locationName");
    cJSON *key = cJSON_CreateString(item->string);
    open_tag(w, entry);
    buf_addc(w->b, '>');
    xml_write(w, kref, kshape, key, kname ? kname : "key");
    xml_write(w, vref, vshape, item, vname ? vname : "value");
    close_tag(w, entry);
    cJSON_Delete(key);
}

/*
 * Writes value v of member `ref` (shape `shape`) as element(s) called `name`. A value that
 * does not fit its shape is a handler bug: logged and left out rather than sent malformed.
 */
static void
xml_write(struct xw *w, const cJSON *ref, const cJSON *shape, const cJSON *v, const char *name)
{
    const char *type = shape_type(shape);
    const cJSON *it;

    if (!shape || !tree_fits(type, v)) {
        log_error("rest-xml: output element '%s' is not a %s; left out", name, type);
        return;
    }
    if (strcmp(type, "structure") == 0) {
        open_tag(w, name);
        add_xmlns(w->b, trait(ref, shape, "xmlNamespace"));
        xml_write_attributes(w, shape, v);
        buf_addc(w->b, '>');
        xml_write_members(w, shape, v);
        close_tag(w, name);
    } else if (strcmp(type, "list") == 0) {
        const cJSON *mref = cJSON_GetObjectItemCaseSensitive(shape, "member");
        const cJSON *mshape = model_ref_shape(w->m, mref);
        if (cJSON_IsTrue(trait(ref, shape, "flattened"))) {
            cJSON_ArrayForEach(it, v)
            {
                xml_write(w, mref, mshape, it, name);
            }
            return;
        }
        const char *item = trait_str(mref, mshape, "locationName");
        open_tag(w, name);
        buf_addc(w->b, '>');
        cJSON_ArrayForEach(it, v)
        {
            xml_write(w, mref, mshape, it, item ? item : "member");
        }
        close_tag(w, name);
    } else if (strcmp(type, "map") == 0) {
        bool flat = cJSON_IsTrue(trait(ref, shape, "flattened"));
        if (!flat) {
            open_tag(w, name);
            buf_addc(w->b, '>');
        }
        cJSON_ArrayForEach(it, v)
        {
            xml_write_map_entry(w, shape, it, flat ? name : "entry");
        }
        if (!flat)
            close_tag(w, name);
    } else {
        open_tag(w, name);
        buf_addc(w->b, '>');
        buf_reset(&w->tmp);
        scalar_text(&w->tmp, ref, shape, v, false);
        buf_add_xml(w->b, w->tmp.data, w->tmp.len);
        close_tag(w, name);
    }
}

/* The output's header members (and prefixed header maps) as response headers. */
static void
write_headers(const struct aws_request *req, const cJSON *shape, const cJSON *out,
              struct http_resp *resp)
{
    struct buf text = BUF_INIT;
    const cJSON *ref;
    cJSON_ArrayForEach(ref, cJSON_GetObjectItemCaseSensitive(shape, "members"))
    {
        const char *loc = model_str(ref, "location");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(out, ref->string);
        const cJSON *mshape = model_ref_shape(req->model, ref);
        const char *name = model_str(ref, "locationName");
        const char *type = shape_type(mshape);
        const cJSON *it;

        if (!loc || !v || !mshape || !name)
            continue;
        if (strcmp(loc, "statusCode") == 0) {
            if (cJSON_IsNumber(v))
                resp->status = (int)clamp_ll(v->valuedouble);
            continue;
        }
        if (!tree_fits(type, v)) {
            log_error("rest-xml: output header '%s' is not a %s; left out", name, type);
            continue;
        }
        if (strcmp(loc, "headers") == 0) {
            cJSON_ArrayForEach(it, v)
            {
                if (!cJSON_IsString(it) || resp->n_headers >= HTTP_RESP_MAX_HEADERS)
                    continue;
                buf_reset(&text);
                buf_adds(&text, name);
                buf_adds(&text, it->string);
                http_resp_header(resp, text.data, it->valuestring);
            }
            continue;
        }
        if (strcmp(loc, "header") != 0)
            continue;
        /* The HTTP front computes Content-Length from the body it sends. */
        if (str_ieq(name, "Content-Length"))
            continue;
        buf_reset(&text);
        if (strcmp(type, "list") == 0) {
            const cJSON *iref = cJSON_GetObjectItemCaseSensitive(mshape, "member");
            const cJSON *ishape = model_ref_shape(req->model, iref);
            bool first = true;
            cJSON_ArrayForEach(it, v)
            {
                if (!ishape || !tree_fits(shape_type(ishape), it))
                    continue;
                if (!first)
                    buf_addc(&text, ',');
                first = false;
                scalar_text(&text, iref, ishape, it, true);
            }
        } else if (strcmp(type, "structure") == 0 || strcmp(type, "map") == 0) {
            continue;
        } else {
            scalar_text(&text, ref, mshape, v, true);
        }
        if (resp->n_headers >= HTTP_RESP_MAX_HEADERS) {
            log_error("rest-xml: too many response headers; '%s' left out", name);
            continue;
        }
        /* A modelled Content-Type (S3 GetObject) replaces the protocol's own. */
        if (str_ieq(name, "Content-Type"))
            resp->content_type = NULL;
        http_resp_header(resp, name, text.data);
    }
    buf_release(&text);
}

static void
add_request_id_headers(const struct aws_request *req, struct http_resp *resp)
{
    if (is_s3(req)) {
        struct buf host_id = BUF_INIT;
        /* S3 pairs x-amz-request-id with an opaque x-amz-id-2; derived so --seed keeps it stable. */
        buf_add_base64(&host_id, req->request_id, strlen(req->request_id));
        http_resp_header(resp, "x-amz-request-id", req->request_id);
        http_resp_header(resp, "x-amz-id-2", host_id.data);
        buf_release(&host_id);
    } else {
        http_resp_header(resp, "x-amzn-RequestId", req->request_id);
    }
}

static const char *
xml_content_type(const struct aws_request *req)
{
    return is_s3(req) ? "application/xml" : "text/xml";
}

static bool
has_no_body(const struct aws_request *req, int status)
{
    return (req->http->method && strcmp(req->http->method, "HEAD") == 0) || status == 204 ||
           status == 304;
}

/* A raw payload (S3 GetObject Body): blob bytes from base64, or a string as is. */
static void
write_raw_payload(const cJSON *pshape, const cJSON *v, struct http_resp *resp)
{
    if (!cJSON_IsString(v))
        return;
    if (strcmp(shape_type(pshape), "blob") == 0) {
        if (buf_add_base64_decoded(&resp->body, v->valuestring, strlen(v->valuestring)) < 0)
            log_error("rest-xml: blob payload is not base64; body left empty");
    } else {
        buf_adds(&resp->body, v->valuestring);
    }
}

static void
restxml_encode(const struct aws_request *req, const cJSON *out, struct http_resp *resp)
{
    const cJSON *http = req->op ? cJSON_GetObjectItemCaseSensitive(req->op, "http") : NULL;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(http, "responseCode");
    const cJSON *ref = req->op ? cJSON_GetObjectItemCaseSensitive(req->op, "output") : NULL;
    const cJSON *shape = ref ? model_ref_shape(req->model, ref) : NULL;
    struct xw w = { &resp->body, req->model, BUF_INIT };

    resp->status = cJSON_IsNumber(code) ? (int)code->valuedouble : 200;
    resp->content_type = xml_content_type(req);
    add_request_id_headers(req, resp);
    if (!shape || !cJSON_IsObject(out))
        return;
    write_headers(req, shape, out, resp);
    if (has_no_body(req, resp->status))
        return;

    const char *payload = model_str(shape, "payload");
    if (payload) {
        const cJSON *pref = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(shape, "members"), payload);
        const cJSON *pshape = model_ref_shape(req->model, pref);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(out, payload);
        if (!pshape || !v)
            return;
        if (strcmp(shape_type(pshape), "structure") != 0) {
            write_raw_payload(pshape, v, resp);
            return;
        }
        if (!tree_fits("structure", v)) {
            log_error("rest-xml: payload '%s' is not a structure; left out", payload);
            return;
        }
        const char *name = member_xml_name(pref, pshape);
        const cJSON *ns = trait(pref, pshape, "xmlNamespace");
        buf_adds(w.b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        if (!ns) {
            /* The payload is the document: it carries the service namespace like any root. */
            const char *uri = model_xml_namespace(req->model);
            open_tag(&w, name);
            if (uri) {
                buf_adds(w.b, " xmlns=\"");
                buf_add_xml(w.b, uri, strlen(uri));
                buf_addc(w.b, '"');
            }
            xml_write_attributes(&w, pshape, v);
            buf_addc(w.b, '>');
            xml_write_members(&w, pshape, v);
            close_tag(&w, name);
        } else {
            xml_write(&w, pref, pshape, v, name);
        }
        buf_release(&w.tmp);
        return;
    }
    if (!has_body_members(shape))
        return;

    const struct s3_root *s3r = is_s3(req) && req->op_name ? s3_root_find(req->op_name) : NULL;
    const char *root = trait_str(ref, shape, "locationName");
    const char *uri = ns_uri(trait(ref, shape, "xmlNamespace"));
    struct buf opname = BUF_INIT;
    if (!uri)
        uri = model_xml_namespace(req->model);
    if (!root && s3r)
        root = s3r->root;
    if (!root) {
        /* Route53 names every answer <Op>Response (CreateHostedZoneResponse, ...). */
        buf_adds(&opname, req->op_name ? req->op_name : "");
        buf_adds(&opname, "Response");
        root = opname.data;
    }
    buf_adds(w.b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    open_tag(&w, root);
    if (uri) {
        buf_adds(w.b, " xmlns=\"");
        buf_add_xml(w.b, uri, strlen(uri));
        buf_addc(w.b, '"');
    }
    xml_write_attributes(&w, shape, out);
    buf_addc(w.b, '>');
    if (s3r && s3r->text) {
        const cJSON *ref1;
        cJSON_ArrayForEach(ref1, cJSON_GetObjectItemCaseSensitive(shape, "members"))
        {
            const cJSON *mv = cJSON_GetObjectItemCaseSensitive(out, ref1->string);
            const cJSON *mshape = model_ref_shape(req->model, ref1);
            if (model_str(ref1, "location") || !mv || !mshape || !tree_fits(shape_type(mshape), mv))
                continue;
            buf_reset(&w.tmp);
            scalar_text(&w.tmp, ref1, mshape, mv, false);
            buf_add_xml(w.b, w.tmp.data, w.tmp.len);
            break;
        }
    } else {
        xml_write_members(&w, shape, out);
    }
    close_tag(&w, root);
    buf_release(&opname);
    buf_release(&w.tmp);
}

static void
add_element(struct buf *b, const char *name, const char *text)
{
    buf_addf(b, "<%s>", name);
    buf_add_xml(b, text, strlen(text));
    buf_addf(b, "</%s>", name);
}

static void
restxml_encode_error(const struct aws_request *req, const struct aws_err *err,
                     struct http_resp *resp)
{
    struct buf *b = &resp->body;
    resp->status = err->status;
    resp->content_type = xml_content_type(req);
    add_request_id_headers(req, resp);
    /* A HEAD answer has no body: clients see only the status (botocore reports "404"). */
    if (req->http && req->http->method && strcmp(req->http->method, "HEAD") == 0)
        return;
    if (is_s3(req)) {
        struct buf host_id = BUF_INIT;
        buf_add_base64(&host_id, req->request_id, strlen(req->request_id));
        buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        add_element(b, "Code", err->code);
        add_element(b, "Message", err->message);
        add_element(b, "RequestId", req->request_id);
        add_element(b, "HostId", host_id.data);
        buf_adds(b, "</Error>");
        buf_release(&host_id);
        return;
    }
    const char *ns = req->model ? model_xml_namespace(req->model) : NULL;
    buf_adds(b, "<?xml version=\"1.0\"?>\n<ErrorResponse");
    if (ns) {
        buf_adds(b, " xmlns=\"");
        buf_add_xml(b, ns, strlen(ns));
        buf_addc(b, '"');
    }
    buf_adds(b, "><Error>");
    add_element(b, "Type", err->sender ? "Sender" : "Receiver");
    add_element(b, "Code", err->code);
    add_element(b, "Message", err->message);
    buf_adds(b, "</Error>");
    add_element(b, "RequestId", req->request_id);
    buf_adds(b, "</ErrorResponse>");
}

const struct protocol proto_restxml = {
    .name = "rest-xml",
    .identify = restxml_identify,
    .decode = restxml_decode,
    .encode = restxml_encode,
    .encode_error = restxml_encode_error,
};
