/*
 * The json 1.1 protocol (CodeDeploy): `X-Amz-Target: <targetPrefix>.<Op>` names the operation,
 * the body is one JSON object typed by the input shape, and answers are JSON objects or
 * {"__type","message"} errors. It maps wire JSON to and from the neutral tree and nothing
 * else: no service behaviour, no state. It also owns the Coral-style wording of validation
 * errors, which the rest-xml protocol reuses for Route53.
 */
#include "emulator/common.h"
#include "emulator/protocol/protocol.h"
#include "emulator/log.h"

#include <math.h>

/* ---- validation messages (shared with restxml.c) ---- */

/*
 * Appends a member path the way the Java services print it: each name lower-camel
 * ("HostedZoneId" -> "hostedZoneId"), and a list index followed by ".member", so
 * "Tags.1.Key" reads "tags.1.member.key" as in real AWS messages.
 */
static void
add_coral_path(struct buf *out, const char *path)
{
    const char *p = path;
    while (*p) {
        size_t n = strcspn(p, ".");
        bool index = n > 0 && strspn(p, "0123456789") == n;
        if (p != path)
            buf_addc(out, '.');
        if (index) {
            buf_add(out, p, n);
            buf_adds(out, ".member");
        } else if (n > 0) {
            char first = p[0];
            if (first >= 'A' && first <= 'Z')
                first = (char)(first - 'A' + 'a');
            buf_addc(out, first);
            buf_add(out, p + 1, n - 1);
        }
        p += n;
        if (*p == '.')
            p++;
    }
}

/* A model bound (min/max) as text: integral values without a fraction. */
static void
add_bound(struct buf *out, const cJSON *shape, const char *key)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(shape, key);
    double d = cJSON_IsNumber(b) ? b->valuedouble : 0;
    if (d == floor(d) && fabs(d) < 9e15)
        buf_addf(out, "%lld", (long long)d);
    else
        buf_addf(out, "%g", d);
}

static void
add_constraint(struct buf *out, const struct violation *v)
{
    const char *type = v->shape ? model_str(v->shape, "type") : NULL;
    bool numeric = type && (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0 ||
                            strcmp(type, "float") == 0 || strcmp(type, "double") == 0);
    const char *what = numeric ? "value" : "length";
    const cJSON *it;
    bool first = true;

    switch (v->kind) {
    case VIOLATION_MISSING:
        buf_adds(out, "Member must not be null");
        break;
    case VIOLATION_ENUM:
        buf_adds(out, "Member must satisfy enum value set: [");
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(v->shape, "enum"))
        {
            if (!cJSON_IsString(it))
                continue;
            if (!first)
                buf_adds(out, ", ");
            first = false;
            buf_adds(out, it->valuestring);
        }
        buf_addc(out, ']');
        break;
    case VIOLATION_MIN:
        buf_addf(out, "Member must have %s greater than or equal to ", what);
        add_bound(out, v->shape, "min");
        break;
    case VIOLATION_MAX:
        buf_addf(out, "Member must have %s less than or equal to ", what);
        add_bound(out, v->shape, "max");
        break;
    }
}

void
json_violations_message(struct buf *out, const struct violation *v, size_t n, size_t found)
{
    buf_addf(out, "%zu validation error%s detected: ", found, found == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const char *type = v[i].shape ? model_str(v[i].shape, "type") : NULL;
        /* Coral quotes string values ('abc') but prints null, numbers and lists bare. */
        bool quote = v[i].kind != VIOLATION_MISSING && type && strcmp(type, "string") == 0;
        if (i)
            buf_adds(out, "; ");
        buf_addf(out, "Value %s%s%s at '", quote ? "'" : "", v[i].value, quote ? "'" : "");
        add_coral_path(out, v[i].path);
        buf_adds(out, "' failed to satisfy constraint: ");
        add_constraint(out, &v[i]);
    }
}

/* ---- identify ---- */

static int parse_body(const struct http_req *h, cJSON **body, struct aws_err *err);

static int
json_identify(struct aws_request *req, struct aws_err *err)
{
    const char *target = http_req_header(req->http, "X-Amz-Target");
    const char *prefix = model_target_prefix(req->model);
    size_t plen = prefix ? strlen(prefix) : 0;

    /*
     * Coral answers a target it cannot route, including one for another service's prefix,
     * with a bare UnknownOperationException (no message), so we do too.
     */
    if (!target)
        return aws_err_set(err, AWS_E_UNKNOWN_OPERATION, "%s", "");
    if (!prefix || strncmp(target, prefix, plen) != 0 || target[plen] != '.' ||
        target[plen + 1] == '\0')
        return aws_err_set(err, AWS_E_UNKNOWN_OPERATION, "%s", "");
    req->op_name = target + plen + 1;
    /*
     * The service reads the body before it dispatches, so malformed JSON is a
     * SerializationException even for an operation fogbank does not implement.
     */
    cJSON *body = NULL;
    if (parse_body(req->http, &body, err) < 0)
        return -1;
    cJSON_Delete(body);
    return 0;
}

/* ---- decode: wire JSON -> typed tree ---- */

/* The Java type names Coral's deserialiser uses in its type-mismatch messages. */
static const struct {
    const char *type; /* model shape type */
    const char *java; /* the Java type with its article, as the message prints it */
} java_names[] = {
    { "blob", "a ByteBuffer" },     { "boolean", "a Boolean" },  { "double", "a Double" },
    { "float", "a Float" },         { "integer", "an Integer" }, { "list", "a List" },
    { "long", "a Long" },           { "map", "a Map" },          { "string", "a String" },
    { "structure", "a Structure" }, { "timestamp", "a Date" },
};

/*
 * A wrong JSON type for a member. The wording follows Coral's SerializationException
 * messages ("Start of list found where not expected", "NUMBER_VALUE can not be converted to
 * a String") so clients that match on them behave as against AWS.
 */
static int
type_error(struct aws_err *err, const cJSON *v, const char *type)
{
    if (cJSON_IsObject(v))
        return aws_err_set(err, AWS_E_SERIALIZATION_EXCEPTION,
                           "Start of structure or map found where not expected.");
    if (cJSON_IsArray(v))
        return aws_err_set(err, AWS_E_SERIALIZATION_EXCEPTION,
                           "Start of list found where not expected");
    const char *token = cJSON_IsString(v)   ? "STRING_VALUE"
                        : cJSON_IsNumber(v) ? "NUMBER_VALUE"
                        : cJSON_IsTrue(v)   ? "TRUE_VALUE"
                                            : "FALSE_VALUE";
    const char *java = "a String";
    for (size_t i = 0; i < ARRAY_SIZE(java_names); i++)
        if (strcmp(java_names[i].type, type) == 0)
            java = java_names[i].java;
    return aws_err_set(err, AWS_E_SERIALIZATION_EXCEPTION, "%s can not be converted to %s", token,
                       java);
}

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

static bool
is_number_type(const char *type)
{
    return strcmp(type, "integer") == 0 || strcmp(type, "long") == 0 ||
           strcmp(type, "float") == 0 || strcmp(type, "double") == 0;
}

static int decode_value(const struct model *m, const cJSON *shape, const cJSON *v, cJSON **out,
                        struct aws_err *err);

static int
decode_structure(const struct model *m, const cJSON *shape, const cJSON *v, cJSON **out,
                 struct aws_err *err)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "document"))) {
        *out = cJSON_Duplicate(v, true);
        return 0;
    }
    if (!cJSON_IsObject(v))
        return type_error(err, v, "structure");
    cJSON *obj = cJSON_CreateObject();
    const cJSON *ref;
    /* Walk the shape, not the body: unknown members are ignored, as Coral does. */
    cJSON_ArrayForEach(ref, cJSON_GetObjectItemCaseSensitive(shape, "members"))
    {
        const char *wire = model_str(ref, "locationName");
        const cJSON *mv = cJSON_GetObjectItemCaseSensitive(v, wire ? wire : ref->string);
        cJSON *child = NULL;
        if (!mv || cJSON_IsNull(mv))
            continue;
        if (decode_value(m, model_ref_shape(m, ref), mv, &child, err) < 0) {
            cJSON_Delete(obj);
            return -1;
        }
        cJSON_AddItemToObject(obj, ref->string, child);
    }
    *out = obj;
    return 0;
}

static int
decode_list(const struct model *m, const cJSON *shape, const cJSON *v, cJSON **out,
            struct aws_err *err)
{
    if (!cJSON_IsArray(v))
        return type_error(err, v, "list");
    const cJSON *mshape = model_ref_shape(m, cJSON_GetObjectItemCaseSensitive(shape, "member"));
    cJSON *arr = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        cJSON *child = NULL;
        if (cJSON_IsNull(it))
            continue;
        if (decode_value(m, mshape, it, &child, err) < 0) {
            cJSON_Delete(arr);
            return -1;
        }
        cJSON_AddItemToArray(arr, child);
    }
    *out = arr;
    return 0;
}

static int
decode_map(const struct model *m, const cJSON *shape, const cJSON *v, cJSON **out,
           struct aws_err *err)
{
    if (!cJSON_IsObject(v))
        return type_error(err, v, "map");
    const cJSON *vshape = model_ref_shape(m, cJSON_GetObjectItemCaseSensitive(shape, "value"));
    cJSON *obj = cJSON_CreateObject();
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        cJSON *child = NULL;
        if (cJSON_IsNull(it))
            continue;
        if (decode_value(m, vshape, it, &child, err) < 0) {
            cJSON_Delete(obj);
            return -1;
        }
        cJSON_AddItemToObject(obj, it->string, child);
    }
    *out = obj;
    return 0;
}

static int
decode_scalar(const char *type, const cJSON *v, cJSON **out, struct aws_err *err)
{
    if (strcmp(type, "boolean") == 0) {
        if (!cJSON_IsBool(v))
            return type_error(err, v, type);
        *out = cJSON_CreateBool(cJSON_IsTrue(v));
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) {
        if (!cJSON_IsNumber(v))
            return type_error(err, v, type);
        /* Coral's numbers truncate a fraction rather than reject it. */
        *out = cJSON_CreateNumber(trunc(v->valuedouble));
    } else if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        if (cJSON_IsNumber(v)) {
            *out = cJSON_CreateNumber(v->valuedouble);
        } else if (cJSON_IsString(v) &&
                   (strcmp(v->valuestring, "NaN") == 0 || strcmp(v->valuestring, "Infinity") == 0 ||
                    strcmp(v->valuestring, "-Infinity") == 0)) {
            /* botocore sends non-finite floats as these strings; JSON has no literal. */
            double d = v->valuestring[0] == 'N'   ? NAN
                       : v->valuestring[0] == '-' ? -INFINITY
                                                  : INFINITY;
            *out = cJSON_CreateNumber(d);
        } else {
            return type_error(err, v, type);
        }
    } else if (strcmp(type, "timestamp") == 0) {
        int64_t ms;
        if (cJSON_IsNumber(v)) {
            /* The json protocol's default timestampFormat is epoch seconds. */
            if (!(fabs(v->valuedouble) < 1e14))
                return aws_err_set(err, AWS_E_SERIALIZATION_EXCEPTION,
                                   "Timestamp value out of range");
            ms = (int64_t)llround(v->valuedouble * 1000.0);
        } else if (cJSON_IsString(v)) {
            if (time_parse(v->valuestring, &ms) < 0)
                return aws_err_set(err, AWS_E_SERIALIZATION_EXCEPTION,
                                   "Unable to parse date value '%s'", v->valuestring);
        } else {
            return type_error(err, v, type);
        }
        *out = cJSON_CreateNumber((double)ms);
    } else if (strcmp(type, "blob") == 0) {
        if (!cJSON_IsString(v))
            return type_error(err, v, type);
        /* Decode and re-encode so the tree always holds canonical, padded base64. */
        struct buf raw = BUF_INIT, canon = BUF_INIT;
        if (buf_add_base64_decoded(&raw, v->valuestring, strlen(v->valuestring)) < 0) {
            buf_release(&raw);
            return aws_err_set(err, AWS_E_SERIALIZATION_EXCEPTION,
                               "Base64 encoded value is not valid");
        }
        buf_add_base64(&canon, raw.data, raw.len);
        *out = cJSON_CreateString(canon.data);
        buf_release(&raw);
        buf_release(&canon);
    } else {
        /* string (enums included) and anything unknown is kept as a string. */
        if (!cJSON_IsString(v))
            return type_error(err, v, "string");
        *out = cJSON_CreateString(v->valuestring);
    }
    return 0;
}

static int
decode_value(const struct model *m, const cJSON *shape, const cJSON *v, cJSON **out,
             struct aws_err *err)
{
    const char *type = shape ? model_str(shape, "type") : NULL;
    *out = NULL;
    /* A shape the compact model lacks is a generator bug; keep the value rather than fail. */
    if (!type) {
        *out = cJSON_Duplicate(v, true);
        return 0;
    }
    if (strcmp(type, "structure") == 0)
        return decode_structure(m, shape, v, out, err);
    if (strcmp(type, "list") == 0)
        return decode_list(m, shape, v, out, err);
    if (strcmp(type, "map") == 0)
        return decode_map(m, shape, v, out, err);
    return decode_scalar(type, v, out, err);
}

static bool
all_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/*
 * The offset of the first byte that breaks UTF-8 (overlongs, surrogates and code points
 * above U+10FFFF included), or n when s is valid. cJSON would pass such bytes through into
 * strings the handlers and the database then carry.
 */
static size_t
utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (n - i < len)
            return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += len;
    }
    return n;
}

/*
 * Parses the request body into *body (NULL for an empty body). Malformed JSON, a NUL byte,
 * invalid UTF-8 or a body that is not an object is a SerializationException.
 */
static int
parse_body(const struct http_req *h, cJSON **body, struct aws_err *err)
{
    *body = NULL;
    if (h->body_len == 0 || all_blank(h->body, h->body_len))
        return 0;
    const char *end = NULL;
    /* cJSON stops at a NUL, which would hide the rest of the body: refuse it outright. */
    if (memchr(h->body, '\0', h->body_len))
        return aws_err_set(err, AWS_E_SERIALIZATION_EXCEPTION,
                           "Invalid JSON: unexpected NUL byte in request body");
    size_t bad = utf8_invalid_at((const unsigned char *)h->body, h->body_len);
    if (bad < h->body_len)
        return aws_err_set(err, AWS_E_SERIALIZATION_EXCEPTION,
                           "Invalid UTF-8 start byte 0x%02x at offset %zu",
                           (unsigned)(unsigned char)h->body[bad], bad);
    cJSON *parsed = cJSON_ParseWithLengthOpts(h->body, h->body_len, &end, false);
    if (!parsed || !all_blank(end, (size_t)(h->body + h->body_len - end))) {
        const char *at = parsed ? end : cJSON_GetErrorPtr();
        size_t off = at && at >= h->body ? (size_t)(at - h->body) : 0;
        cJSON_Delete(parsed);
        return aws_err_set(err, AWS_E_SERIALIZATION_EXCEPTION,
                           "Invalid JSON in request body at offset %zu", off);
    }
    if (!cJSON_IsObject(parsed)) {
        int rc = type_error(err, parsed, "structure");
        cJSON_Delete(parsed);
        return rc;
    }
    *body = parsed;
    return 0;
}

static int
json_decode(struct aws_request *req, cJSON **in, struct aws_err *err)
{
    const struct http_req *h = req->http;
    const cJSON *ref = req->op ? cJSON_GetObjectItemCaseSensitive(req->op, "input") : NULL;
    const char *shape_name = model_str(ref, "shape");
    const cJSON *shape = model_shape(req->model, shape_name);
    cJSON *body = NULL, *tree = NULL;

    *in = NULL;
    if (parse_body(h, &body, err) < 0)
        return -1;

    if (!shape) {
        /* An operation without input takes no members: whatever was sent is ignored. */
        cJSON_Delete(body);
        *in = cJSON_CreateObject();
        return 0;
    }
    if (!body) {
        tree = cJSON_CreateObject();
    } else {
        int rc = decode_structure(req->model, shape, body, &tree, err);
        cJSON_Delete(body);
        if (rc < 0)
            return -1;
    }

    struct violation v[VALIDATE_MAX_VIOLATIONS];
    size_t found = validate_input(req->model, shape_name, tree, v, ARRAY_SIZE(v));
    if (found) {
        struct buf msg = BUF_INIT;
        json_violations_message(&msg, v, found < ARRAY_SIZE(v) ? found : ARRAY_SIZE(v), found);
        aws_err_set(err, AWS_E_VALIDATION_EXCEPTION, "%s", msg.data);
        buf_release(&msg);
        cJSON_Delete(tree);
        return -1;
    }
    *in = tree;
    return 0;
}

/* JSON has no literal for them: botocore reads "NaN" and "Infinity" as strings. */
static void
add_json_number(struct buf *b, double d)
{
    bool quote = !isfinite(d);
    if (quote)
        buf_addc(b, '"');
    buf_add_double(b, d);
    if (quote)
        buf_addc(b, '"');
}

/* ---- encode: typed tree -> wire JSON ---- */

static void
add_json_string(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;
    buf_addc(b, '"');
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_add(b, run, (size_t)(p - run));
        run = p + 1;
        switch (c) {
        case '"':
            buf_adds(b, "\\\"");
            break;
        case '\\':
            buf_adds(b, "\\\\");
            break;
        case '\n':
            buf_adds(b, "\\n");
            break;
        case '\r':
            buf_adds(b, "\\r");
            break;
        case '\t':
            buf_adds(b, "\\t");
            break;
        default: {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            buf_add(b, esc, sizeof(esc));
        }
        }
    }
    buf_adds(b, run);
    buf_addc(b, '"');
}

static void
add_epoch_seconds(struct buf *b, int64_t ms)
{
    int64_t sec = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        sec -= 1;
        frac += 1000;
    }
    if (frac)
        buf_addf(b, "%lld.%03d", (long long)sec, (int)frac);
    else
        buf_addf(b, "%lld", (long long)sec);
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

static void encode_value(struct buf *b, const struct model *m, const cJSON *ref, const cJSON *shape,
                         const cJSON *v);

/*
 * Writes `"name":value` unless the handler's value does not fit the shape, which is a
 * handler bug: it is logged and the member left out rather than sent malformed.
 */
static bool
encode_member(struct buf *b, const struct model *m, const cJSON *ref, const char *name,
              const cJSON *v, bool first)
{
    const cJSON *shape = model_ref_shape(m, ref);
    const char *type = shape ? model_str(shape, "type") : NULL;
    if (!type || cJSON_IsNull(v))
        return false;
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "document")) && !tree_fits(type, v)) {
        log_error("json: output member '%s' is not a %s; left out", name, type);
        return false;
    }
    if (!first)
        buf_addc(b, ',');
    add_json_string(b, name);
    buf_addc(b, ':');
    encode_value(b, m, ref, shape, v);
    return true;
}

static void
encode_value(struct buf *b, const struct model *m, const cJSON *ref, const cJSON *shape,
             const cJSON *v)
{
    const char *type = model_str(shape, "type");
    const cJSON *it;
    bool first = true;

    if (strcmp(type, "structure") == 0) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "document"))) {
            char *s = cJSON_PrintUnformatted(v);
            buf_adds(b, s ? s : "null");
            cJSON_free(s);
            return;
        }
        buf_addc(b, '{');
        /* Shape order, and only modelled members: extra tree members are not ours to send. */
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(shape, "members"))
        {
            const cJSON *mv = cJSON_GetObjectItemCaseSensitive(v, it->string);
            const char *wire = model_str(it, "locationName");
            if (mv && encode_member(b, m, it, wire ? wire : it->string, mv, first))
                first = false;
        }
        buf_addc(b, '}');
    } else if (strcmp(type, "list") == 0) {
        const cJSON *mref = cJSON_GetObjectItemCaseSensitive(shape, "member");
        const cJSON *mshape = model_ref_shape(m, mref);
        const char *mtype = mshape ? model_str(mshape, "type") : NULL;
        buf_addc(b, '[');
        cJSON_ArrayForEach(it, v)
        {
            if (!mtype || !tree_fits(mtype, it)) {
                log_error("json: list item is not a %s; left out", mtype ? mtype : "?");
                continue;
            }
            if (!first)
                buf_addc(b, ',');
            first = false;
            encode_value(b, m, mref, mshape, it);
        }
        buf_addc(b, ']');
    } else if (strcmp(type, "map") == 0) {
        const cJSON *vref = cJSON_GetObjectItemCaseSensitive(shape, "value");
        buf_addc(b, '{');
        cJSON_ArrayForEach(it, v)
        {
            if (encode_member(b, m, vref, it->string, it, first))
                first = false;
        }
        buf_addc(b, '}');
    } else if (strcmp(type, "boolean") == 0) {
        buf_adds(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) {
        buf_addf(b, "%lld", clamp_ll(v->valuedouble));
    } else if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        add_json_number(b, v->valuedouble);
    } else if (strcmp(type, "timestamp") == 0) {
        const char *fmt = model_str(ref, "timestampFormat");
        int64_t ms = clamp_ll(v->valuedouble);
        char tmp[40];
        if (!fmt)
            fmt = model_str(shape, "timestampFormat");
        if (fmt && strcmp(fmt, "iso8601") == 0) {
            time_format_iso8601(ms, tmp);
            add_json_string(b, tmp);
        } else if (fmt && strcmp(fmt, "rfc822") == 0) {
            time_format_rfc1123(ms, tmp);
            add_json_string(b, tmp);
        } else {
            add_epoch_seconds(b, ms);
        }
    } else {
        add_json_string(b, v->valuestring);
    }
}

static void
json_encode(const struct aws_request *req, const cJSON *out, struct http_resp *resp)
{
    const cJSON *ref = req->op ? cJSON_GetObjectItemCaseSensitive(req->op, "output") : NULL;
    const cJSON *shape = ref ? model_ref_shape(req->model, ref) : NULL;

    resp->status = 200;
    /* Every json service we model is jsonVersion 1.1 (CodeDeploy). */
    resp->content_type = "application/x-amz-json-1.1";
    http_resp_header(resp, "x-amzn-RequestId", req->request_id);
    if (!shape || !cJSON_IsObject(out)) {
        buf_adds(&resp->body, "{}");
        return;
    }
    encode_value(&resp->body, req->model, ref, shape, out);
}

static void
json_encode_error(const struct aws_request *req, const struct aws_err *err, struct http_resp *resp)
{
    resp->status = err->status;
    resp->content_type = "application/x-amz-json-1.1";
    http_resp_header(resp, "x-amzn-RequestId", req->request_id);
    buf_adds(&resp->body, "{\"__type\":");
    add_json_string(&resp->body, err->code);
    /* Coral leaves "message" out when it has none (e.g. UnknownOperationException). */
    if (err->message[0]) {
        buf_adds(&resp->body, ",\"message\":");
        add_json_string(&resp->body, err->message);
    }
    buf_addc(&resp->body, '}');
}

const struct protocol proto_json = {
    .name = "json",
    .identify = json_identify,
    .decode = json_decode,
    .encode = json_encode,
    .encode_error = json_encode_error,
};
