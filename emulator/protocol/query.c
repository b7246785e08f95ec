/*
 * The query protocol (Auto Scaling, ELB, ELBv2, CloudFormation, STS) and the flat key=value
 * engine it shares with ec2.c: form parameters -> typed input tree as botocore's
 * QuerySerializer / EC2Serializer write them, and typed output tree -> XML elements as
 * botocore's QueryParser reads them. It knows wire formats only, never a service.
 */
#include "emulator/common.h"
#include "emulator/protocol/protocol.h"

#include <math.h>

/* ---- shapes ---- */

enum stype {
    ST_OTHER,
    ST_STRUCT,
    ST_LIST,
    ST_MAP,
    ST_STRING,
    ST_BOOL,
    ST_INT,
    ST_LONG,
    ST_FLOAT,
    ST_DOUBLE,
    ST_TIME,
    ST_BLOB,
};

/* Hot: called per member on every request, so one strcmp at most instead of a table scan. */
static enum stype
shape_type(const cJSON *shape)
{
    const char *t = model_str(shape, "type");
    if (!t)
        return ST_OTHER;
    switch (t[0]) {
    case 's':
        return strcmp(t, "string") == 0      ? ST_STRING
               : strcmp(t, "structure") == 0 ? ST_STRUCT
                                             : ST_OTHER;
    case 'l':
        return strcmp(t, "list") == 0 ? ST_LIST : strcmp(t, "long") == 0 ? ST_LONG : ST_OTHER;
    case 'm':
        return strcmp(t, "map") == 0 ? ST_MAP : ST_OTHER;
    case 'b':
        return strcmp(t, "boolean") == 0 ? ST_BOOL : strcmp(t, "blob") == 0 ? ST_BLOB : ST_OTHER;
    case 'i':
        return strcmp(t, "integer") == 0 ? ST_INT : ST_OTHER;
    case 'f':
        return strcmp(t, "float") == 0 ? ST_FLOAT : ST_OTHER;
    case 'd':
        return strcmp(t, "double") == 0 ? ST_DOUBLE : ST_OTHER;
    case 't':
        return strcmp(t, "timestamp") == 0 ? ST_TIME : ST_OTHER;
    default:
        return ST_OTHER;
    }
}

/* A serialization trait: the member reference wins over its shape, as botocore merges them. */
static const char *
trait(const cJSON *ref, const cJSON *shape, const char *key)
{
    const char *v = model_str(ref, key);
    return v ? v : model_str(shape, key);
}

static bool
flattened(const cJSON *ref, const cJSON *shape)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "flattened")) ||
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "flattened"));
}

static const cJSON *
child_ref(const cJSON *shape, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(shape, key);
}

/*
 * Appends the input wire name of a structure member (botocore _get_serialized_name):
 * ec2 takes queryName, else locationName with its first letter upper-cased, else the member
 * name; query takes locationName, else the name. A query flattened list whose member has a
 * locationName is named after that member instead (QuerySerializer replaces the last segment).
 */
static void
add_input_name(struct buf *b, enum qflat_flavor fl, const cJSON *ref, const cJSON *shape,
               const char *name)
{
    if (fl == QFLAT_EC2) {
        const char *q = trait(ref, shape, "queryName");
        const char *loc = trait(ref, shape, "locationName");
        if (q) {
            buf_adds(b, q);
        } else if (loc && *loc) {
            buf_addc(b, (char)(loc[0] >= 'a' && loc[0] <= 'z' ? loc[0] - 'a' + 'A' : loc[0]));
            buf_adds(b, loc + 1);
        } else {
            buf_adds(b, name);
        }
        return;
    }
    if (shape_type(shape) == ST_LIST && flattened(ref, shape)) {
        const char *mloc = model_str(child_ref(shape, "member"), "locationName");
        if (mloc) {
            buf_adds(b, mloc);
            return;
        }
    }
    const char *loc = trait(ref, shape, "locationName");
    buf_adds(b, loc ? loc : name);
}

/* ---- the sorted index over the parameters ---- */

struct fkey {
    const char *key; /* borrowed from params */
    size_t idx;      /* position in params */
};

struct flat {
    const struct params *p;
    struct fkey *ord; /* p->n entries sorted by key, then position */
    bool *used;       /* per params position: a decoder read it */
};

static int
fkey_cmp(const void *a, const void *b)
{
    const struct fkey *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void
flat_init(struct flat *f, const struct params *p)
{
    f->p = p;
    f->ord = xmalloc((p->n ? p->n : 1) * sizeof(*f->ord));
    f->used = xcalloc(p->n ? p->n : 1, sizeof(*f->used));
    for (size_t i = 0; i < p->n; i++) {
        f->ord[i].key = p->v[i].key;
        f->ord[i].idx = i;
    }
    qsort(f->ord, p->n, sizeof(*f->ord), fkey_cmp);
}

static void
flat_release(struct flat *f)
{
    free(f->ord);
    free(f->used);
}

/* [*lo, *hi) of the sorted keys that start with pfx[0..len). */
static void
flat_range(const struct flat *f, const char *pfx, size_t len, size_t *lo, size_t *hi)
{
    size_t a = 0, b = f->p->n;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (strncmp(f->ord[mid].key, pfx, len) < 0)
            a = mid + 1;
        else
            b = mid;
    }
    *lo = a;
    b = f->p->n;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (strncmp(f->ord[mid].key, pfx, len) <= 0)
            a = mid + 1;
        else
            b = mid;
    }
    *hi = a;
}

/* The value of the last pair named exactly `key` (marking every such pair read), or NULL. */
static const char *
flat_get(struct flat *f, const char *key, size_t len)
{
    size_t lo, hi;
    flat_range(f, key, len, &lo, &hi);
    /* An exact match sorts before its longer siblings ("A" < "A.1"). */
    const char *v = NULL;
    for (size_t i = lo; i < hi && f->ord[i].key[len] == '\0'; i++) {
        f->used[f->ord[i].idx] = true;
        v = f->p->v[f->ord[i].idx].value;
    }
    return v;
}

static int
size_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * The distinct positive indices N of keys "base.N" / "base.N.*", ascending. botocore numbers
 * from 1 without gaps, but a gap must not hide the elements after it. Caller frees *out.
 */
static size_t
flat_indices(const struct flat *f, struct buf *base, size_t **out)
{
    size_t blen = base->len;
    buf_addc(base, '.');
    size_t lo, hi;
    flat_range(f, base->data, base->len, &lo, &hi);
    size_t n = 0, *v = xmalloc((hi - lo ? hi - lo : 1) * sizeof(*v));
    for (size_t i = lo; i < hi; i++) {
        const char *s = f->ord[i].key + base->len;
        size_t x = 0;
        const char *q = s;
        while (*q >= '0' && *q <= '9' && x < 100000000)
            x = x * 10 + (size_t)(*q++ - '0');
        if (q == s || x == 0 || (*q != '\0' && *q != '.'))
            continue;
        if (n == 0 || v[n - 1] != x)
            v[n++] = x;
    }
    qsort(v, n, sizeof(*v), size_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || v[u - 1] != v[i])
            v[u++] = v[i];
    base->len = blen;
    base->data[blen] = '\0';
    *out = v;
    return u;
}

static bool
flat_has_children(const struct flat *f, struct buf *key)
{
    size_t klen = key->len;
    buf_addc(key, '.');
    size_t lo, hi;
    flat_range(f, key->data, key->len, &lo, &hi);
    key->len = klen;
    key->data[klen] = '\0';
    return lo < hi;
}

/* ---- scalar parsing ---- */

/* Strict decimal integer within [min, max]: no sign but '-', no blanks, no fraction. */
static int
parse_integer(const char *s, int64_t min, int64_t max, int64_t *out)
{
    bool neg = *s == '-';
    if (neg)
        s++;
    if (*s == '\0')
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > ((uint64_t)INT64_MAX + 1) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return -1;
    int64_t x = neg ? (int64_t)(0 - v) : (int64_t)v;
    if (x < min || x > max)
        return -1;
    *out = x;
    return 0;
}

/* A finite decimal number; hex floats, "inf" and "nan" are refused (cJSON cannot hold them). */
static int
parse_real(const char *s, double *out)
{
    if (*s == '\0' || strspn(s, "0123456789+-.eE") != strlen(s))
        return -1;
    char *end;
    double d = strtod(s, &end);
    if (*end != '\0' || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

static bool
is_base64(const char *s)
{
    size_t n = strlen(s), pad = 0;
    while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < n - pad; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return false;
    }
    return (n - pad) % 4 != 1 && (pad == 0 || n % 4 == 0);
}

/* ---- decoding ---- */

struct dec {
    const struct model *m;
    enum qflat_flavor fl;
    struct flat f;
    struct buf key;  /* wire key of the value being decoded */
    struct buf path; /* its member path in model names */
    struct qflat_result *r;
};

static cJSON *decode_value(struct dec *d, const cJSON *shape, const char *member);

static void
truncate_to(struct buf *b, size_t len)
{
    b->len = len;
    b->data[len] = '\0';
}

/* Appends n in decimal (no printf: this runs for every list element and number). */
static void
add_uint(struct buf *b, uint64_t n)
{
    char tmp[24], *p = tmp + sizeof(tmp);
    do {
        *--p = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void
path_add(struct buf *path, const char *seg)
{
    if (path->len)
        buf_addc(path, '.');
    buf_adds(path, seg);
}

static void
report_bad(struct dec *d, const cJSON *shape, const char *member, const char *value)
{
    struct qflat_result *r = d->r;
    if (r->n_bad < QFLAT_MAX_BAD) {
        struct qflat_bad *b = &r->bad[r->n_bad];
        snprintf(b->key, sizeof(b->key), "%s", d->key.data);
        snprintf(b->path, sizeof(b->path), "%s", d->path.data);
        snprintf(b->member, sizeof(b->member), "%s", member);
        snprintf(b->value, sizeof(b->value), "%s", value);
        b->type = model_str(shape, "type");
    }
    r->n_bad++;
}

static cJSON *
decode_scalar(struct dec *d, const cJSON *shape, enum stype t, const char *member)
{
    const char *s = flat_get(&d->f, d->key.data, d->key.len);
    if (!s)
        return NULL;
    int64_t i;
    double x;
    switch (t) {
    case ST_STRING:
        return cJSON_CreateString(s);
    case ST_BOOL:
        if (str_ieq(s, "true") || str_ieq(s, "false"))
            return cJSON_CreateBool(str_ieq(s, "true"));
        break;
    case ST_INT:
        if (parse_integer(s, INT32_MIN, INT32_MAX, &i) == 0)
            return cJSON_CreateNumber((double)i);
        break;
    case ST_LONG:
        if (parse_integer(s, INT64_MIN, INT64_MAX, &i) == 0)
            return cJSON_CreateNumber((double)i);
        break;
    case ST_FLOAT:
    case ST_DOUBLE:
        if (parse_real(s, &x) == 0)
            return cJSON_CreateNumber(x);
        break;
    case ST_TIME:
        if (time_parse(s, &i) == 0)
            return cJSON_CreateNumber((double)i);
        break;
    case ST_BLOB:
        if (is_base64(s))
            return cJSON_CreateString(s);
        break;
    default:
        return NULL;
    }
    report_bad(d, shape, member, s);
    return NULL;
}

static cJSON *
decode_structure(struct dec *d, const cJSON *shape)
{
    /* A nested structure exists only if some key lies below it (botocore sends nothing for {}). */
    if (d->key.len && !flat_has_children(&d->f, &d->key))
        return NULL;
    cJSON *obj = cJSON_CreateObject();
    size_t klen = d->key.len, plen = d->path.len;
    const cJSON *ref;
    cJSON_ArrayForEach(ref, child_ref(shape, "members"))
    {
        const cJSON *mshape = model_ref_shape(d->m, ref);
        if (!mshape)
            continue;
        if (klen)
            buf_addc(&d->key, '.');
        add_input_name(&d->key, d->fl, ref, mshape, ref->string);
        path_add(&d->path, ref->string);
        cJSON *v = decode_value(d, mshape, ref->string);
        if (v)
            cJSON_AddItemToObject(obj, ref->string, v);
        truncate_to(&d->key, klen);
        truncate_to(&d->path, plen);
    }
    return obj;
}

static cJSON *
decode_list(struct dec *d, const cJSON *shape, const char *member)
{
    const cJSON *mref = child_ref(shape, "member");
    const cJSON *mshape = model_ref_shape(d->m, mref);
    size_t klen = d->key.len, plen = d->path.len;
    bool empty_marker = false;
    if (d->fl == QFLAT_QUERY) {
        /* QuerySerializer writes an empty list as "Name=" (no elements). */
        const char *v = flat_get(&d->f, d->key.data, d->key.len);
        empty_marker = v && *v == '\0';
        if (!flattened(NULL, shape)) {
            const char *mloc = model_str(mref, "locationName");
            buf_addc(&d->key, '.');
            buf_adds(&d->key, mloc ? mloc : "member");
        }
    }
    size_t *idx;
    size_t n = flat_indices(&d->f, &d->key, &idx);
    cJSON *arr = NULL;
    if (n || empty_marker)
        arr = cJSON_CreateArray();
    size_t blen = d->key.len;
    for (size_t i = 0; i < n && mshape; i++) {
        buf_addc(&d->key, '.');
        add_uint(&d->key, idx[i]);
        if (d->path.len)
            buf_addc(&d->path, '.');
        add_uint(&d->path, idx[i]);
        cJSON *v = decode_value(d, mshape, member);
        if (v)
            cJSON_AddItemToArray(arr, v);
        truncate_to(&d->key, blen);
        truncate_to(&d->path, plen);
    }
    free(idx);
    truncate_to(&d->key, klen);
    return arr;
}

static cJSON *
decode_map(struct dec *d, const cJSON *shape, const char *member)
{
    const cJSON *kref = child_ref(shape, "key"), *vref = child_ref(shape, "value");
    const cJSON *vshape = model_ref_shape(d->m, vref);
    struct buf ksuf = BUF_INIT, vsuf = BUF_INIT;
    add_input_name(&ksuf, d->fl, kref, NULL, "key");
    add_input_name(&vsuf, d->fl, vref, NULL, "value");
    size_t klen = d->key.len, plen = d->path.len;
    if (!flattened(NULL, shape))
        buf_adds(&d->key, ".entry");
    size_t *idx;
    size_t n = flat_indices(&d->f, &d->key, &idx);
    cJSON *obj = n ? cJSON_CreateObject() : NULL;
    size_t blen = d->key.len;
    for (size_t i = 0; i < n && vshape; i++) {
        buf_addc(&d->key, '.');
        add_uint(&d->key, idx[i]);
        buf_addc(&d->key, '.');
        size_t elen = d->key.len;
        buf_add(&d->key, ksuf.data, ksuf.len);
        const char *k = flat_get(&d->f, d->key.data, d->key.len);
        truncate_to(&d->key, elen);
        if (k) {
            buf_add(&d->key, vsuf.data, vsuf.len);
            path_add(&d->path, k);
            cJSON *v = decode_value(d, vshape, member);
            if (v) {
                cJSON_DeleteItemFromObjectCaseSensitive(obj, k);
                cJSON_AddItemToObject(obj, k, v);
            }
        }
        truncate_to(&d->key, blen);
        truncate_to(&d->path, plen);
    }
    free(idx);
    buf_release(&ksuf);
    buf_release(&vsuf);
    truncate_to(&d->key, klen);
    return obj;
}

static cJSON *
decode_value(struct dec *d, const cJSON *shape, const char *member)
{
    enum stype t = shape_type(shape);
    switch (t) {
    case ST_STRUCT:
        return decode_structure(d, shape);
    case ST_LIST:
        return decode_list(d, shape, member);
    case ST_MAP:
        return decode_map(d, shape, member);
    case ST_OTHER:
        return NULL;
    default:
        return decode_scalar(d, shape, t, member);
    }
}

/* Parameters every query request may carry besides the operation's own members. */
static bool
is_envelope_param(const char *key)
{
    static const char *const names[] = { "AWSAccessKeyId",   "Action",    "Expires",
                                         "SecurityToken",    "Signature", "SignatureMethod",
                                         "SignatureVersion", "Timestamp", "Version" };
    if (str_starts(key, "X-Amz-"))
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (strcmp(names[i], key) == 0)
            return true;
    return false;
}

void
qflat_decode(const struct aws_request *req, enum qflat_flavor fl, struct qflat_result *r)
{
    struct dec d = { .m = req->model, .fl = fl, .r = r };
    r->tree = NULL;
    r->n_bad = 0;
    r->unknown = NULL;
    flat_init(&d.f, &req->params);
    buf_init(&d.key);
    buf_init(&d.path);
    const cJSON *in = req->op ? cJSON_GetObjectItemCaseSensitive(req->op, "input") : NULL;
    const cJSON *shape = in ? model_ref_shape(req->model, in) : NULL;
    if (shape && shape_type(shape) == ST_STRUCT)
        r->tree = decode_structure(&d, shape);
    if (!r->tree)
        r->tree = cJSON_CreateObject();
    if (fl == QFLAT_EC2) {
        for (size_t i = 0; i < req->params.n && !r->unknown; i++)
            if (!d.f.used[i] && !is_envelope_param(req->params.v[i].key))
                r->unknown = req->params.v[i].key;
    }
    buf_release(&d.key);
    buf_release(&d.path);
    flat_release(&d.f);
}

void
qflat_wire_key(const struct model *m, const char *shape_name, const char *path,
               enum qflat_flavor fl, struct buf *out)
{
    const cJSON *shape = model_shape(m, shape_name);
    const char *p = path;
    while (*p && shape) {
        const char *end = strchr(p, '.');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        enum stype t = shape_type(shape);
        if (t == ST_STRUCT) {
            const cJSON *ref, *found = NULL;
            cJSON_ArrayForEach(ref, child_ref(shape, "members"))
            {
                if (strlen(ref->string) == n && strncmp(ref->string, p, n) == 0)
                    found = ref;
            }
            if (!found)
                break;
            shape = model_ref_shape(m, found);
            if (out->len)
                buf_addc(out, '.');
            add_input_name(out, fl, found, shape, found->string);
        } else if (t == ST_LIST) {
            const cJSON *mref = child_ref(shape, "member");
            if (fl == QFLAT_QUERY && !flattened(NULL, shape)) {
                const char *mloc = model_str(mref, "locationName");
                buf_addc(out, '.');
                buf_adds(out, mloc ? mloc : "member");
            }
            buf_addc(out, '.');
            buf_add(out, p, n);
            shape = model_ref_shape(m, mref);
        } else if (t == ST_MAP) {
            /* The entry number is not in the path; name the map key instead. */
            buf_addc(out, '.');
            buf_add(out, p, n);
            shape = model_ref_shape(m, child_ref(shape, "value"));
        } else {
            break;
        }
        p = end ? end + 1 : p + n;
    }
}

/* ---- XML output ---- */

static void write_value(struct buf *b, const struct model *m, const cJSON *ref, const cJSON *shape,
                        const cJSON *v, const char *name, enum qflat_flavor fl);

static void
open_tag(struct buf *b, const char *name)
{
    buf_addc(b, '<');
    buf_adds(b, name);
    buf_addc(b, '>');
}

static void
close_tag(struct buf *b, const char *name)
{
    buf_adds(b, "</");
    buf_adds(b, name);
    buf_addc(b, '>');
}

static void
add_integer(struct buf *b, double d)
{
    if (d > -9.2e18 && d < 9.2e18) {
        long long v = (long long)d;
        if (v < 0)
            buf_addc(b, '-');
        add_uint(b, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
    } else {
        buf_add_double(b, d);
    }
}

static void
add_timestamp(struct buf *b, const cJSON *ref, const cJSON *shape, double ms)
{
    const char *fmt = trait(ref, shape, "timestampFormat");
    int64_t t = (int64_t)ms;
    if (fmt && strcmp(fmt, "unixTimestamp") == 0) {
        buf_add_double(b, (double)t / 1000.0);
    } else if (fmt && strcmp(fmt, "rfc822") == 0) {
        char out[40];
        time_format_rfc1123(t, out);
        buf_adds(b, out);
    } else {
        char out[32];
        time_format_iso8601(t, out);
        buf_adds(b, out);
    }
}

static void
write_scalar(struct buf *b, const cJSON *ref, const cJSON *shape, const cJSON *v)
{
    enum stype t = shape_type(shape);
    if (cJSON_IsString(v)) {
        buf_add_xml(b, v->valuestring, strlen(v->valuestring));
    } else if (cJSON_IsBool(v)) {
        buf_adds(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNumber(v)) {
        if (t == ST_TIME)
            add_timestamp(b, ref, shape, v->valuedouble);
        else if (t == ST_FLOAT || t == ST_DOUBLE)
            buf_add_double(b, v->valuedouble);
        else
            add_integer(b, v->valuedouble);
    }
}

static void
write_list(struct buf *b, const struct model *m, const cJSON *ref, const cJSON *shape,
           const cJSON *v, const char *name, enum qflat_flavor fl)
{
    const cJSON *mref = child_ref(shape, "member");
    const cJSON *mshape = model_ref_shape(m, mref);
    const char *mloc = model_str(mref, "locationName");
    const cJSON *it;
    if (!cJSON_IsArray(v) || !mshape)
        return;
    if (flattened(ref, shape)) {
        /* Flattened elements repeat in the parent, named after the list member (or the list). */
        cJSON_ArrayForEach(it, v)
        {
            write_value(b, m, mref, mshape, it, mloc ? mloc : name, fl);
        }
        return;
    }
    if (!v->child) {
        buf_addc(b, '<');
        buf_adds(b, name);
        buf_adds(b, "/>");
        return;
    }
    const char *ename = mloc ? mloc : fl == QFLAT_EC2 ? "item" : "member";
    open_tag(b, name);
    cJSON_ArrayForEach(it, v)
    {
        write_value(b, m, mref, mshape, it, ename, fl);
    }
    close_tag(b, name);
}

static void
write_map(struct buf *b, const struct model *m, const cJSON *ref, const cJSON *shape,
          const cJSON *v, const char *name, enum qflat_flavor fl)
{
    const cJSON *kref = child_ref(shape, "key"), *vref = child_ref(shape, "value");
    const cJSON *vshape = model_ref_shape(m, vref);
    const char *kname = model_str(kref, "locationName");
    const char *vname = model_str(vref, "locationName");
    bool flat = flattened(ref, shape);
    const cJSON *it;
    if (!cJSON_IsObject(v) || !vshape)
        return;
    kname = kname ? kname : "key";
    vname = vname ? vname : "value";
    if (!flat)
        open_tag(b, name);
    cJSON_ArrayForEach(it, v)
    {
        open_tag(b, flat ? name : "entry");
        open_tag(b, kname);
        buf_add_xml(b, it->string, strlen(it->string));
        close_tag(b, kname);
        write_value(b, m, vref, vshape, it, vname, fl);
        close_tag(b, flat ? name : "entry");
    }
    if (!flat)
        close_tag(b, name);
}

static void
write_value(struct buf *b, const struct model *m, const cJSON *ref, const cJSON *shape,
            const cJSON *v, const char *name, enum qflat_flavor fl)
{
    switch (shape_type(shape)) {
    case ST_STRUCT:
        if (cJSON_IsRaw(v) && v->valuestring) {
            /* Members rendered earlier by protocol_prerender(). */
            open_tag(b, name);
            buf_adds(b, v->valuestring);
            close_tag(b, name);
            return;
        }
        if (!cJSON_IsObject(v))
            return;
        open_tag(b, name);
        qflat_xml_members(b, m, shape, v, fl);
        close_tag(b, name);
        break;
    case ST_LIST:
        write_list(b, m, ref, shape, v, name, fl);
        break;
    case ST_MAP:
        write_map(b, m, ref, shape, v, name, fl);
        break;
    case ST_OTHER:
        break;
    default:
        if (cJSON_IsNull(v) || cJSON_IsArray(v) || cJSON_IsObject(v))
            return;
        open_tag(b, name);
        write_scalar(b, ref, shape, v);
        close_tag(b, name);
        break;
    }
}

void
qflat_xml_members(struct buf *b, const struct model *m, const cJSON *shape, const cJSON *node,
                  enum qflat_flavor fl)
{
    /*
     * Members are written in the shape's order; the node's items are placed by one indexed
     * look-up each instead of a linear search of the node per shape member (that search was
     * most of the time of a DescribeInstances answer).
     */
    size_t n;
    const struct model_member *mm = model_members(m, shape, &n);
    if (!mm)
        return;
    const cJSON *on_stack[64];
    const cJSON **vals = n <= ARRAY_SIZE(on_stack) ? on_stack : xcalloc(n, sizeof(*vals));
    memset(vals, 0, n * sizeof(*vals));
    const cJSON *v;
    cJSON_ArrayForEach(v, node)
    {
        const struct model_member *e = v->string ? model_member(m, shape, v->string) : NULL;
        if (e && !vals[e->index])
            vals[e->index] = v;
    }
    for (size_t i = 0; i < n; i++) {
        if (!vals[i] || cJSON_IsNull(vals[i]))
            continue;
        const char *loc = trait(mm[i].ref, mm[i].shape, "locationName");
        write_value(b, m, mm[i].ref, mm[i].shape, vals[i], loc ? loc : mm[i].name, fl);
    }
    if (vals != on_stack)
        free((void *)vals);
}

/* ---- the query protocol ---- */

static int
query_identify(struct aws_request *req, struct aws_err *err)
{
    const char *action = params_get(&req->params, "Action");
    if (!action || !*action)
        return aws_err_set(err, AWS_E_MISSING_ACTION, "Missing Action");
    req->op_name = action;
    return 0;
}

/* A path as the Java services print it: "Tags.6.Value" -> "tags.6.member.value". */
static void
add_coral_path(struct buf *b, const char *path)
{
    const char *p = path;
    while (*p) {
        size_t n = strcspn(p, ".");
        if (p != path)
            buf_addc(b, '.');
        if (strspn(p, "0123456789") == n) {
            buf_add(b, p, n);
            buf_adds(b, ".member");
        } else {
            buf_addc(b, (char)(p[0] >= 'A' && p[0] <= 'Z' ? p[0] - 'A' + 'a' : p[0]));
            buf_add(b, p + 1, n - 1);
        }
        p += n;
        if (*p == '.')
            p++;
    }
}

static void
add_limit(struct buf *b, const cJSON *shape, const char *key)
{
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(shape, key);
    add_integer(b, cJSON_IsNumber(lim) ? lim->valuedouble : 0);
}

/* "Value 'x' at 'path' failed to satisfy constraint: Member must ..." */
static void
add_violation_text(struct buf *b, const struct violation *v)
{
    buf_adds(b, "Value ");
    if (v->kind == VIOLATION_MISSING) {
        buf_adds(b, "null");
    } else {
        buf_addc(b, '\'');
        buf_adds(b, v->value);
        buf_addc(b, '\'');
    }
    buf_adds(b, " at '");
    add_coral_path(b, v->path);
    buf_adds(b, "' failed to satisfy constraint: Member must ");
    enum stype t = shape_type(v->shape);
    bool value = t == ST_INT || t == ST_LONG || t == ST_FLOAT || t == ST_DOUBLE;
    bool first = true;
    const cJSON *it;
    switch (v->kind) {
    case VIOLATION_MISSING:
        buf_adds(b, "not be null");
        break;
    case VIOLATION_ENUM:
        buf_adds(b, "satisfy enum value set: [");
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(v->shape, "enum"))
        {
            if (!first)
                buf_adds(b, ", ");
            first = false;
            buf_adds(b, cJSON_IsString(it) ? it->valuestring : "");
        }
        buf_addc(b, ']');
        break;
    case VIOLATION_MIN:
        buf_adds(b, value ? "have value greater than or equal to "
                          : "have length greater than or equal to ");
        add_limit(b, v->shape, "min");
        break;
    case VIOLATION_MAX:
        buf_adds(b, value ? "have value less than or equal to "
                          : "have length less than or equal to ");
        add_limit(b, v->shape, "max");
        break;
    }
}

static int
query_decode(struct aws_request *req, cJSON **in, struct aws_err *err)
{
    struct qflat_result r;
    qflat_decode(req, QFLAT_QUERY, &r);
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(req->op, "input");
    struct violation v[VALIDATE_MAX_VIOLATIONS];
    size_t nv = validate_input(req->model, model_str(input, "shape"), r.tree, v, ARRAY_SIZE(v));
    size_t shown_v = nv < ARRAY_SIZE(v) ? nv : ARRAY_SIZE(v);
    size_t shown_bad = r.n_bad < QFLAT_MAX_BAD ? r.n_bad : QFLAT_MAX_BAD;
    size_t total = r.n_bad + nv;
    /* A required member that failed to parse is absent from the tree: say it once. */
    for (size_t i = 0; i < shown_v; i++)
        for (size_t j = 0; j < shown_bad; j++)
            if (v[i].kind == VIOLATION_MISSING && strcmp(v[i].path, r.bad[j].path) == 0)
                total--;
    if (total == 0) {
        *in = r.tree;
        return 0;
    }
    struct buf msg = BUF_INIT;
    buf_addf(&msg, "%zu validation error%s detected: ", total, total == 1 ? "" : "s");
    bool first = true;
    for (size_t j = 0; j < shown_bad; j++) {
        if (!first)
            buf_adds(&msg, "; ");
        first = false;
        /*
         * [UNVERIFIED] wording for a value that does not parse as its type: the Java services
         * reject it while unmarshalling; this follows their constraint-message pattern.
         */
        buf_adds(&msg, "Value '");
        buf_adds(&msg, r.bad[j].value);
        buf_adds(&msg, "' at '");
        add_coral_path(&msg, r.bad[j].path);
        buf_adds(&msg, "' failed to satisfy constraint: Member must be of type ");
        const char *t = r.bad[j].type ? r.bad[j].type : "";
        buf_addc(&msg, (char)(t[0] >= 'a' && t[0] <= 'z' ? t[0] - 'a' + 'A' : t[0]));
        buf_adds(&msg, t[0] ? t + 1 : "");
    }
    for (size_t i = 0; i < shown_v; i++) {
        bool dup = false;
        for (size_t j = 0; j < shown_bad; j++)
            dup = dup || (v[i].kind == VIOLATION_MISSING && strcmp(v[i].path, r.bad[j].path) == 0);
        if (dup)
            continue;
        if (!first)
            buf_adds(&msg, "; ");
        first = false;
        add_violation_text(&msg, &v[i]);
    }
    cJSON_Delete(r.tree);
    aws_err_set(err, AWS_E_VALIDATION_ERROR, "%s", msg.data);
    buf_release(&msg);
    return -1;
}

static void
add_namespace(struct buf *b, const struct aws_request *req)
{
    const char *ns = req->model ? model_xml_namespace(req->model) : NULL;
    if (ns) {
        buf_adds(b, " xmlns=\"");
        buf_add_xml(b, ns, strlen(ns));
        buf_addc(b, '"');
    }
}

/*
 * <OpResponse xmlns><OpResult>..</OpResult><ResponseMetadata><RequestId/></ResponseMetadata>
 * </OpResponse>, with no XML declaration: the query services send none.
 */
static void
query_encode(const struct aws_request *req, const cJSON *out, struct http_resp *resp)
{
    struct buf *b = &resp->body;
    const char *op = req->op_name ? req->op_name : "";
    const cJSON *output = cJSON_GetObjectItemCaseSensitive(req->op, "output");
    const cJSON *shape = output ? model_ref_shape(req->model, output) : NULL;
    const char *wrapper = model_str(output, "resultWrapper");
    resp->status = 200;
    resp->content_type = "text/xml";
    http_resp_header(resp, "x-amzn-RequestId", req->request_id);
    buf_reset(b);
    buf_addc(b, '<');
    buf_adds(b, op);
    buf_adds(b, "Response");
    add_namespace(b, req);
    buf_addc(b, '>');
    if (shape) {
        if (wrapper)
            open_tag(b, wrapper);
        if (out)
            qflat_xml_members(b, req->model, shape, out, QFLAT_QUERY);
        if (wrapper)
            close_tag(b, wrapper);
    }
    buf_adds(b, "<ResponseMetadata><RequestId>");
    buf_adds(b, req->request_id);
    buf_adds(b, "</RequestId></ResponseMetadata></");
    buf_adds(b, op);
    buf_adds(b, "Response>");
}

static void
query_encode_error(const struct aws_request *req, const struct aws_err *err, struct http_resp *resp)
{
    struct buf *b = &resp->body;
    const char *code = err->code ? err->code : "InternalError";
    resp->status = err->status ? err->status : 400;
    resp->content_type = "text/xml";
    http_resp_header(resp, "x-amzn-RequestId", req->request_id);
    buf_reset(b);
    buf_adds(b, "<ErrorResponse");
    add_namespace(b, req);
    buf_adds(b, "><Error><Type>");
    buf_adds(b, err->sender ? "Sender" : "Receiver");
    buf_adds(b, "</Type><Code>");
    buf_add_xml(b, code, strlen(code));
    buf_adds(b, "</Code><Message>");
    buf_add_xml(b, err->message, strlen(err->message));
    buf_adds(b, "</Message></Error><RequestId>");
    buf_adds(b, req->request_id);
    buf_adds(b, "</RequestId></ErrorResponse>");
}

const struct protocol proto_query = {
    .name = "query",
    .identify = query_identify,
    .decode = query_decode,
    .encode = query_encode,
    .encode_error = query_encode_error,
};
