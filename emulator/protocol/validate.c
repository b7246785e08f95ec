/*
 * Model constraint checks on a typed input tree: required members, enum values and min/max,
 * recursively. It only reports violations; each protocol words them in its service's own
 * error (ValidationError, MissingParameter, ...). It never changes the tree.
 */
#include "emulator/common.h"
#include "emulator/protocol/protocol.h"

struct vctx {
    const struct model *m;
    struct violation *v; /* caller's array of max entries */
    size_t max;
    size_t n;       /* violations found so far (may exceed max) */
    char path[256]; /* current member path in model names, NUL-terminated */
    size_t path_len;
};

static void check_value(struct vctx *c, const cJSON *shape, const cJSON *node, const char *member);

/* Appends ".seg" (or "seg" at the root) to the path, truncating; returns the old length. */
static size_t
path_push(struct vctx *c, const char *seg)
{
    size_t old = c->path_len, len = old;
    if (len && len < sizeof(c->path) - 1)
        c->path[len++] = '.';
    size_t n = strlen(seg);
    if (n > sizeof(c->path) - 1 - len)
        n = sizeof(c->path) - 1 - len;
    memcpy(c->path + len, seg, n);
    c->path_len = len + n;
    c->path[c->path_len] = '\0';
    return old;
}

/* n in decimal into out (no printf: this runs for every list element). */
static const char *
decimal(char out[24], size_t n)
{
    char *p = out + 23;
    *p = '\0';
    do {
        *--p = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    return p;
}

static void
path_pop(struct vctx *c, size_t old)
{
    c->path_len = old;
    c->path[old] = '\0';
}

/* The value as the Java services print it: strings bare, lists "[a, b]", maps "{k=v}". */
static void
value_text(struct buf *b, const cJSON *node)
{
    const cJSON *it;
    bool first = true;
    if (b->len > 255)
        return;
    if (!node || cJSON_IsNull(node)) {
        buf_adds(b, "null");
    } else if (cJSON_IsString(node)) {
        buf_adds(b, node->valuestring);
    } else if (cJSON_IsBool(node)) {
        buf_adds(b, cJSON_IsTrue(node) ? "true" : "false");
    } else if (cJSON_IsNumber(node)) {
        double d = node->valuedouble;
        if (d > -9.2e18 && d < 9.2e18 && d == (double)(int64_t)d)
            buf_addf(b, "%lld", (long long)(int64_t)d);
        else
            buf_add_double(b, d);
    } else if (cJSON_IsArray(node)) {
        buf_addc(b, '[');
        cJSON_ArrayForEach(it, node)
        {
            if (!first)
                buf_adds(b, ", ");
            first = false;
            value_text(b, it);
        }
        buf_addc(b, ']');
    } else if (cJSON_IsObject(node)) {
        buf_addc(b, '{');
        cJSON_ArrayForEach(it, node)
        {
            if (!first)
                buf_adds(b, ", ");
            first = false;
            buf_adds(b, it->string);
            buf_addc(b, '=');
            value_text(b, it);
        }
        buf_addc(b, '}');
    }
}

static void
add_violation(struct vctx *c, int kind, const cJSON *shape, const cJSON *node, const char *member)
{
    if (c->n < c->max) {
        struct violation *v = &c->v[c->n];
        memset(v, 0, sizeof(*v));
        v->kind = kind;
        v->shape = shape;
        snprintf(v->path, sizeof(v->path), "%s", c->path);
        snprintf(v->member, sizeof(v->member), "%s", member ? member : "");
        struct buf t = BUF_INIT;
        value_text(&t, node);
        snprintf(v->value, sizeof(v->value), "%s", t.data);
        buf_release(&t);
    }
    c->n++;
}

/* Length as Java's String.length() counts it (UTF-16 code units), which AWS's limits use. */
static double
utf16_length(const char *s)
{
    double n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            n++;
        if (*p >= 0xF0)
            n++;
    }
    return n;
}

/* Bytes a base64 text decodes to, without decoding it. */
static double
base64_length(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '=')
        n--;
    return (double)(n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0));
}

static void
check_range(struct vctx *c, const cJSON *shape, const cJSON *node, const char *member, double have)
{
    const cJSON *min = cJSON_GetObjectItemCaseSensitive(shape, "min");
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(shape, "max");
    if (cJSON_IsNumber(min) && have < min->valuedouble)
        add_violation(c, VIOLATION_MIN, shape, node, member);
    else if (cJSON_IsNumber(max) && have > max->valuedouble)
        add_violation(c, VIOLATION_MAX, shape, node, member);
}

static bool
in_string_array(const cJSON *arr, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
            return true;
    }
    return false;
}

static void
check_structure(struct vctx *c, const cJSON *shape, const cJSON *node)
{
    const cJSON *required = cJSON_GetObjectItemCaseSensitive(shape, "required");
    size_t n;
    const struct model_member *members = model_members(c->m, shape, &n);
    /* Shape order, so the messages list violations in the order the model declares them. */
    for (size_t i = 0; i < n; i++) {
        const struct model_member *mm = &members[i];
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(node, mm->name);
        bool missing = !val || cJSON_IsNull(val);
        if (missing && !in_string_array(required, mm->name))
            continue;
        size_t old = path_push(c, mm->name);
        if (missing)
            add_violation(c, VIOLATION_MISSING, mm->shape, NULL, mm->name);
        else
            check_value(c, mm->shape, val, mm->name);
        path_pop(c, old);
    }
}

static void
check_value(struct vctx *c, const cJSON *shape, const cJSON *node, const char *member)
{
    if (!shape)
        return;
    const char *type = model_str(shape, "type");
    if (!type)
        return;
    /* A node of the wrong JSON type was the decoder's to reject; skip it here. */
    if (strcmp(type, "structure") == 0) {
        if (cJSON_IsObject(node))
            check_structure(c, shape, node);
    } else if (strcmp(type, "list") == 0) {
        if (!cJSON_IsArray(node))
            return;
        check_range(c, shape, node, member, cJSON_GetArraySize(node));
        const cJSON *mshape =
                model_ref_shape(c->m, cJSON_GetObjectItemCaseSensitive(shape, "member"));
        const cJSON *it;
        size_t i = 1;
        cJSON_ArrayForEach(it, node)
        {
            char idx[24];
            size_t old = path_push(c, decimal(idx, i++));
            check_value(c, mshape, it, member);
            path_pop(c, old);
        }
    } else if (strcmp(type, "map") == 0) {
        if (!cJSON_IsObject(node))
            return;
        check_range(c, shape, node, member, cJSON_GetArraySize(node));
        const cJSON *kshape = model_ref_shape(c->m, cJSON_GetObjectItemCaseSensitive(shape, "key"));
        const cJSON *vshape =
                model_ref_shape(c->m, cJSON_GetObjectItemCaseSensitive(shape, "value"));
        const cJSON *it;
        cJSON_ArrayForEach(it, node)
        {
            size_t old = path_push(c, it->string);
            cJSON *key = cJSON_CreateString(it->string);
            check_value(c, kshape, key, member);
            cJSON_Delete(key);
            check_value(c, vshape, it, member);
            path_pop(c, old);
        }
    } else if (strcmp(type, "string") == 0) {
        if (!cJSON_IsString(node))
            return;
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(shape, "enum");
        if (en && !in_string_array(en, node->valuestring))
            add_violation(c, VIOLATION_ENUM, shape, node, member);
        else
            check_range(c, shape, node, member, utf16_length(node->valuestring));
    } else if (strcmp(type, "blob") == 0) {
        if (cJSON_IsString(node))
            check_range(c, shape, node, member, base64_length(node->valuestring));
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0 ||
               strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        if (cJSON_IsNumber(node))
            check_range(c, shape, node, member, node->valuedouble);
    }
}

size_t
validate_input(const struct model *m, const char *shape_name, const cJSON *tree,
               struct violation *v, size_t max)
{
    struct vctx c = { .m = m, .v = v, .max = max };
    c.path[0] = '\0';
    const cJSON *shape = model_shape(m, shape_name);
    if (!shape || !tree)
        return 0;
    check_value(&c, shape, tree, "");
    return c.n;
}
