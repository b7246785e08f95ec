/*
 * Look-ups in the compiled-in API models: parses a model's compact JSON on first use, keeps
 * it until model_unload_all(), and finds operations and shapes by name. It interprets no
 * shape and knows no wire format.
 */
#include "common.h"
#include "model.h"

/* A named node (an operation of either kind, or a shape), for binary search by name. */
struct model_op_entry {
    const char *name;  /* the key in "operations" or "unimplemented" (borrowed from root) */
    const cJSON *node; /* the operation object */
    bool implemented;  /* from "operations" */
};

struct model {
    cJSON *root;                      /* the whole parsed model, owned */
    const cJSON *metadata;            /* root.metadata, or NULL */
    const cJSON *ops;                 /* root.operations, or NULL */
    const cJSON *unimplemented;       /* root.unimplemented, or NULL */
    const cJSON *shapes;              /* root.shapes, or NULL */
    struct model_op_entry *op_tab;    /* every operation of both kinds, sorted by name */
    size_t n_ops;                     /* entries in op_tab */
    struct model_op_entry *shape_tab; /* every shape, sorted by name (implemented unused) */
    size_t n_shapes;                  /* entries in shape_tab */
    struct members_slot *mcache;      /* open-addressing map: structure shape -> members */
    size_t mcache_cap;                /* slots in mcache (a power of two, or 0) */
    size_t mcache_n;                  /* slots in use */
};

/* The resolved members of one structure shape. */
struct members_index {
    size_t n;                      /* members */
    struct model_member *by_index; /* declaration order */
    struct model_member **by_name; /* sorted by name, pointing into by_index */
    void *aux;                /* what a protocol layer keeps for the shape (model_members_aux) */
    void (*aux_free)(void *); /* frees aux with the model */
};

struct members_slot {
    const cJSON *shape;          /* key; NULL for an empty slot */
    struct members_index *index; /* owned */
};

/* Parsed models, parallel to model_index[]; allocated on the first model_get(). */
static struct model **loaded;

static int
info_cmp(const void *key, const void *row)
{
    return strcmp(key, ((const struct model_info *)row)->name);
}

const struct model_info *
model_info_get(const char *name)
{
    if (!name)
        return NULL;
    return bsearch(name, model_index, model_index_len, sizeof(model_index[0]), info_cmp);
}

const struct model *
model_get(const char *name)
{
    const struct model_info *info = model_info_get(name);
    if (!info)
        return NULL;
    size_t i = (size_t)(info - model_index);
    if (!loaded)
        loaded = xcalloc(model_index_len, sizeof(*loaded));
    if (!loaded[i]) {
        loaded[i] = model_parse(info->json);
        /* The text is generated and unit-tested: failing to parse it is a broken build. */
        if (!loaded[i])
            die("compiled-in model %s does not parse", name);
    }
    return loaded[i];
}

void
model_unload_all(void)
{
    if (!loaded)
        return;
    for (size_t i = 0; i < model_index_len; i++)
        model_free(loaded[i]);
    free(loaded);
    loaded = NULL;
}

static int
op_entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct model_op_entry *)a)->name,
                  ((const struct model_op_entry *)b)->name);
}

/* The object member `key` of root: NULL when absent, -1 when present but not an object. */
static int
section(const cJSON *root, const char *key, const cJSON **out)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, key);
    *out = s;
    return !s || cJSON_IsObject(s) ? 0 : -1;
}

/* Adds the operations of `ops` to m->op_tab; -1 if one is not an object. */
static int
add_ops(struct model *m, const cJSON *ops, bool implemented)
{
    const cJSON *op;
    cJSON_ArrayForEach(op, ops)
    {
        if (!cJSON_IsObject(op))
            return -1;
        m->op_tab[m->n_ops++] = (struct model_op_entry){ op->string, op, implemented };
    }
    return 0;
}

struct model *
model_parse(const char *json)
{
    if (!json)
        return NULL;
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return NULL;
    }
    struct model *m = xcalloc(1, sizeof(*m));
    m->root = root;
    if (section(root, "metadata", &m->metadata) < 0 || section(root, "operations", &m->ops) < 0 ||
        section(root, "unimplemented", &m->unimplemented) < 0 ||
        section(root, "shapes", &m->shapes) < 0)
        goto fail;

    size_t n = (size_t)cJSON_GetArraySize(m->ops) + (size_t)cJSON_GetArraySize(m->unimplemented);
    m->op_tab = xcalloc(n ? n : 1, sizeof(*m->op_tab));
    if (add_ops(m, m->ops, true) < 0 || add_ops(m, m->unimplemented, false) < 0)
        goto fail;
    qsort(m->op_tab, m->n_ops, sizeof(*m->op_tab), op_entry_cmp);
    /* A name in both sections (or twice in one) would make model_op() ambiguous. */
    for (size_t i = 1; i < m->n_ops; i++)
        if (strcmp(m->op_tab[i - 1].name, m->op_tab[i].name) == 0)
            goto fail;
    /* Decoding walks shapes by name for every member; a linear cJSON scan dominated it. */
    m->shape_tab = xcalloc((size_t)cJSON_GetArraySize(m->shapes) + 1, sizeof(*m->shape_tab));
    const cJSON *shape;
    cJSON_ArrayForEach(shape, m->shapes)
    {
        m->shape_tab[m->n_shapes++] = (struct model_op_entry){ shape->string, shape, false };
    }
    qsort(m->shape_tab, m->n_shapes, sizeof(*m->shape_tab), op_entry_cmp);
    return m;

fail:
    model_free(m);
    return NULL;
}

void
model_free(struct model *m)
{
    if (!m)
        return;
    free(m->op_tab);
    free(m->shape_tab);
    for (size_t i = 0; i < m->mcache_cap; i++) {
        struct members_index *ix = m->mcache[i].index;
        if (ix) {
            if (ix->aux && ix->aux_free)
                ix->aux_free(ix->aux);
            free(ix->by_index);
            free(ix->by_name);
            free(ix);
        }
    }
    free(m->mcache);
    cJSON_Delete(m->root);
    free(m);
}

const char *
model_str(const cJSON *node, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *
model_protocol(const struct model *m)
{
    return model_str(m->metadata, "protocol");
}

const char *
model_api_version(const struct model *m)
{
    return model_str(m->metadata, "apiVersion");
}

const char *
model_xml_namespace(const struct model *m)
{
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(m->metadata, "xmlNamespace");
    /* botocore's own form for rest-xml is {"uri": ...}; gen-models flattens it. */
    if (cJSON_IsObject(ns))
        return model_str(ns, "uri");
    return cJSON_IsString(ns) ? ns->valuestring : NULL;
}

const char *
model_target_prefix(const struct model *m)
{
    return model_str(m->metadata, "targetPrefix");
}

const char *
model_service_id(const struct model *m)
{
    return model_str(m->metadata, "serviceId");
}

const cJSON *
model_op(const struct model *m, const char *name, bool *implemented)
{
    if (implemented)
        *implemented = false;
    if (!name)
        return NULL;
    struct model_op_entry key = { name, NULL, false };
    const struct model_op_entry *e =
            bsearch(&key, m->op_tab, m->n_ops, sizeof(*m->op_tab), op_entry_cmp);
    if (!e)
        return NULL;
    if (implemented)
        *implemented = e->implemented;
    return e->node;
}

const cJSON *
model_ops(const struct model *m)
{
    return m->ops;
}

const cJSON *
model_unimplemented_ops(const struct model *m)
{
    return m->unimplemented;
}

const cJSON *
model_shape(const struct model *m, const char *name)
{
    if (!name)
        return NULL;
    struct model_op_entry key = { name, NULL, false };
    const struct model_op_entry *e =
            bsearch(&key, m->shape_tab, m->n_shapes, sizeof(*m->shape_tab), op_entry_cmp);
    return e ? e->node : NULL;
}

const cJSON *
model_ref_shape(const struct model *m, const cJSON *ref)
{
    return model_shape(m, model_str(ref, "shape"));
}

/* ---- member indexes ---- */

static size_t
ptr_hash(const void *p, size_t cap)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & (cap - 1);
}

static int
member_name_cmp(const void *a, const void *b)
{
    const struct model_member *x = *(const struct model_member *const *)a;
    const struct model_member *y = *(const struct model_member *const *)b;
    return strcmp(x->name, y->name);
}

static struct members_index *
members_build(const struct model *m, const cJSON *shape)
{
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(shape, "members");
    struct members_index *ix = xcalloc(1, sizeof(*ix));
    ix->n = (size_t)cJSON_GetArraySize(members);
    ix->by_index = xcalloc(ix->n + 1, sizeof(*ix->by_index));
    ix->by_name = xcalloc(ix->n + 1, sizeof(*ix->by_name));
    size_t i = 0;
    const cJSON *ref;
    cJSON_ArrayForEach(ref, members)
    {
        ix->by_index[i] = (struct model_member){ ref->string, ref, model_ref_shape(m, ref), i };
        ix->by_name[i] = &ix->by_index[i];
        i++;
    }
    qsort(ix->by_name, ix->n, sizeof(*ix->by_name), member_name_cmp);
    return ix;
}

static void
mcache_insert(struct model *m, const cJSON *shape, struct members_index *ix)
{
    size_t i = ptr_hash(shape, m->mcache_cap);
    while (m->mcache[i].shape)
        i = (i + 1) & (m->mcache_cap - 1);
    m->mcache[i] = (struct members_slot){ shape, ix };
    m->mcache_n++;
}

static const struct members_index *
members_of(const struct model *cm, const cJSON *shape)
{
    if (!shape)
        return NULL;
    /* The cache is filled lazily; the model is logically const to its users. */
    struct model *m = (struct model *)cm;
    if (m->mcache_cap) {
        size_t i = ptr_hash(shape, m->mcache_cap);
        while (m->mcache[i].shape) {
            if (m->mcache[i].shape == shape)
                return m->mcache[i].index;
            i = (i + 1) & (m->mcache_cap - 1);
        }
    }
    if ((m->mcache_n + 1) * 2 > m->mcache_cap) {
        struct members_slot *old = m->mcache;
        size_t old_cap = m->mcache_cap;
        m->mcache_cap = old_cap ? old_cap * 2 : 64;
        m->mcache = xcalloc(m->mcache_cap, sizeof(*m->mcache));
        m->mcache_n = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].shape)
                mcache_insert(m, old[i].shape, old[i].index);
        free(old);
    }
    struct members_index *ix = members_build(m, shape);
    mcache_insert(m, shape, ix);
    return ix;
}

const struct model_member *
model_members(const struct model *m, const cJSON *shape, size_t *n)
{
    const struct members_index *ix = members_of(m, shape);
    *n = ix ? ix->n : 0;
    return ix && ix->n ? ix->by_index : NULL;
}

void **
model_members_aux(const struct model *m, const cJSON *shape, void (*aux_free)(void *))
{
    struct members_index *ix = (struct members_index *)members_of(m, shape);
    if (!ix)
        return NULL;
    ix->aux_free = aux_free;
    return &ix->aux;
}

const struct model_member *
model_member(const struct model *m, const cJSON *shape, const char *name)
{
    const struct members_index *ix = members_of(m, shape);
    if (!ix || !name)
        return NULL;
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, ix->by_name[mid]->name);
        if (c == 0)
            return ix->by_name[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
