/*
 * The DNS server of Route53: UDP and TCP on loopback, authoritative for every hosted zone,
 * answering from an in-memory image of the zones that the first query after a change brings
 * up to date from the state: the changed names only after a change batch, all of it after a
 * zone came or went (so an answered API change is visible to the next query, and a query
 * costs no SQL). libldns parses every query and writes every answer: no wire format is
 * written by hand here. r53_dns_answer() is the whole protocol, bytes in and bytes out, so
 * unit tests need no socket; the UDP socket reads and sends in batches (recvmmsg/sendmmsg).
 */
#include "emulator/common.h"
#include "services/route53/route53_internal.h"
#include "emulator/app.h"
#include "emulator/clock.h"
#include "emulator/log.h"
#include "services/elb/api.h"
#include "state/route53.h"

#include <errno.h>
#include <ldns/ldns.h>
#include <strings.h>
#include <sys/socket.h>
#include <uv.h>

#define DNS_UDP_ADVERTISED 1232  /* our EDNS0 UDP size (the DNS Flag Day 2020 figure) */
#define DNS_UDP_PLAIN      512   /* the limit without EDNS0 (RFC 1035 4.2.1) */
#define DNS_CHAIN_MAX      8     /* CNAME and alias hops followed within our zones */
#define DNS_TCP_CONNS_MAX  256   /* open TCP connections; more are closed at once */
#define DNS_TCP_IDLE_MS    10000 /* a TCP connection idle this long (real ms) is closed */
#define DNS_MULTI_MAX      8     /* records of a multivalue answer (Route53 answers up to 8) */
#define DNS_ELB_TTL        60    /* TTL of an answer for a load balancer (ELB's own TTL) */
#define DNS_CACHE_BUCKETS  16384 /* buckets of the answer cache (a power of two) */
#define DNS_CACHE_MAX      65536 /* answers kept; the cache is emptied when full */
#define DNS_CACHE_KEY_MAX  512   /* queries longer than this are answered afresh */
#define DNS_UDP_BATCH      20    /* datagrams per recvmmsg call (libuv reads 20 at most) */
#define DNS_UDP_SLOT       65536 /* libuv's slot per datagram in a recvmmsg buffer */
#define DNS_UDP_OUT_MAX    DNS_UDP_BATCH /* answers held for one sendmmsg */
#define DNS_PENDING_MAX    4096 /* changed names refreshed one by one; more: a full rebuild */

/* ---- the image of the zones ---- */

enum { FAILOVER_NONE, FAILOVER_PRIMARY, FAILOVER_SECONDARY };

/* One record set as the API stored it. */
struct set {
    ldns_rr_type type;      /* its type */
    char *set_id;           /* SetIdentifier or NULL */
    int weight;             /* Weight, or -1 when not weighted */
    int failover;           /* FAILOVER_* */
    bool multi;             /* MultiValueAnswer */
    char *health_check_id;  /* HealthCheckId or NULL */
    ldns_rr_list *rrs;      /* its records (owner = the set's name); NULL for an alias */
    ldns_rdf *alias_target; /* AliasTarget.DNSName (lower case), or NULL */
    bool evaluate_health;   /* AliasTarget.EvaluateTargetHealth */
    char *alias_zone;       /* AliasTarget.HostedZoneId */
    struct set *next;       /* the next set at the same name */
};

struct zone;

/* One name of a zone: its sets, or none for an empty non-terminal. */
struct node {
    ldns_rdf *name;     /* lower case, absolute */
    struct zone *zone;  /* the zone it belongs to */
    struct set *sets;   /* its record sets */
    struct node *hnext; /* the next node in the same hash bucket */
};

struct zone {
    ldns_rdf *name;     /* lower case, absolute */
    char id[40];        /* Z0... */
    ldns_rr *soa;       /* its SOA record, for negative answers */
    struct zone *hnext; /* the next zone in the same bucket */
};

struct image {
    struct node **nodes; /* hash of (zone, name) -> node */
    size_t n_buckets;    /* buckets in nodes (a power of two) */
    size_t n_nodes;      /* nodes */
    struct zone **zones; /* hash of name -> zone */
    size_t z_buckets;    /* buckets in zones (a power of two) */
};

/*
 * A cached answer: the bytes ldns wrote for a query, keyed by the query's bytes after its
 * id (and the transport), so an identical query is answered by copying them with its own
 * id. Only answers that depend on nothing but the image are cached (no weighted, failover
 * or multivalue choice, no load balancer); any change to the image empties the cache.
 */
struct cached {
    struct cached *next; /* the next entry in the bucket */
    uint64_t hash;       /* hash of the key */
    size_t key_len;      /* bytes of the key: the transport byte + the query from offset 2 */
    size_t answer_len;   /* bytes of the answer, id included (replaced on use) */
    uint8_t bytes[];     /* the key, then the answer: one allocation, few cache misses */
};

/* A name whose sets changed since the image was built. */
struct pending {
    char zone_id[40]; /* its zone */
    char *name;       /* canonical, as the state keeps it */
};

/* The answers to one receive batch, sent together when the batch ends. */
struct udp_out {
    uint8_t data[DNS_UDP_OUT_MAX][DNS_UDP_ADVERTISED]; /* each answer (no UDP answer is longer) */
    struct iovec iov[DNS_UDP_OUT_MAX];                 /* each answer's bytes */
    struct sockaddr_storage addr[DNS_UDP_OUT_MAX];     /* whom each answer goes to */
    socklen_t addr_len[DNS_UDP_OUT_MAX];               /* bytes of each addr */
#if defined(__linux__)
    struct mmsghdr msgs[DNS_UDP_OUT_MAX]; /* sendmmsg's view of the above */
#endif
    size_t n; /* answers held */
};

static struct {
    struct app *app;         /* the app whose state is imaged */
    struct image *image;     /* NULL until built, or after a change */
    bool dirty;              /* the state changed since the image was built */
    uint64_t rand;           /* xorshift state for weighted answers */
    ldns_rdf *root;          /* "." for making names absolute */
    uv_udp_t *udp;           /* the UDP socket (heap: freed when closed) */
    uv_tcp_t *tcp;           /* the TCP listener (heap: freed when closed) */
    bool open;               /* the sockets are open */
    int n_conns;             /* open TCP connections */
    struct tcp_conn *conns;  /* the open TCP connections */
    uv_timer_t *tcp_sweep;   /* closes idle TCP connections (heap: freed when closed) */
    uint64_t tcp_idle_ms;    /* how long a TCP connection may stay idle (0: the default) */
    uint8_t *udp_buf;        /* DNS_UDP_BATCH datagrams being read (recvmmsg) */
    struct cached **cache;   /* DNS_CACHE_BUCKETS buckets, or NULL when empty */
    size_t cache_n;          /* answers cached */
    struct udp_out out;      /* answers waiting for the end of the receive batch */
    struct pending *pending; /* names changed since the image was built, to refresh */
    size_t n_pending;        /* entries of pending */
} srv;

static uint64_t
hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        h = (h ^ c) * 1099511628211ULL;
    }
    return h;
}

/* FNV-1a over exact bytes (the cache keys: case matters there, the question is echoed). */
static uint64_t
hash_exact(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static void
cache_clear(void)
{
    if (!srv.cache)
        return;
    for (size_t i = 0; i < DNS_CACHE_BUCKETS; i++) {
        struct cached *c = srv.cache[i];
        while (c) {
            struct cached *next = c->next;
            free(c);
            c = next;
        }
    }
    free(srv.cache);
    srv.cache = NULL;
    srv.cache_n = 0;
}

static const struct cached *
cache_get(const uint8_t *key, size_t n, uint64_t h)
{
    if (!srv.cache)
        return NULL;
    for (const struct cached *c = srv.cache[h & (DNS_CACHE_BUCKETS - 1)]; c; c = c->next)
        if (c->hash == h && c->key_len == n && memcmp(c->bytes, key, n) == 0)
            return c;
    return NULL;
}

static void
cache_put(const uint8_t *key, size_t n, uint64_t h, const uint8_t *answer, size_t answer_len)
{
    if (srv.cache_n >= DNS_CACHE_MAX)
        cache_clear();
    if (!srv.cache)
        srv.cache = xcalloc(DNS_CACHE_BUCKETS, sizeof(*srv.cache));
    struct cached *c = xmalloc(sizeof(*c) + n + answer_len);
    c->hash = h;
    c->key_len = n;
    c->answer_len = answer_len;
    memcpy(c->bytes, key, n);
    memcpy(c->bytes + n, answer, answer_len);
    c->next = srv.cache[h & (DNS_CACHE_BUCKETS - 1)];
    srv.cache[h & (DNS_CACHE_BUCKETS - 1)] = c;
    srv.cache_n++;
}

static uint64_t
node_hash(const struct zone *z, const uint8_t *name, size_t len)
{
    return hash_bytes(name, len) ^ ((uint64_t)(uintptr_t)z * 0x9e3779b97f4a7c15ULL);
}

/* Case-insensitive equality of two wire names of the same length. */
static bool
wire_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (uint8_t)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (uint8_t)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

static struct zone *
zone_get(const struct image *im, const uint8_t *name, size_t len)
{
    for (struct zone *z = im->zones[hash_bytes(name, len) & (im->z_buckets - 1)]; z; z = z->hnext)
        if (ldns_rdf_size(z->name) == len && wire_eq(ldns_rdf_data(z->name), name, len))
            return z;
    return NULL;
}

static struct node *
node_get(const struct image *im, const struct zone *z, const uint8_t *name, size_t len)
{
    for (struct node *n = im->nodes[node_hash(z, name, len) & (im->n_buckets - 1)]; n; n = n->hnext)
        if (n->zone == z && ldns_rdf_size(n->name) == len &&
            wire_eq(ldns_rdf_data(n->name), name, len))
            return n;
    return NULL;
}

static void
image_grow(struct image *im)
{
    size_t nb = im->n_buckets * 2;
    struct node **nodes = xcalloc(nb, sizeof(*nodes));
    for (size_t i = 0; i < im->n_buckets; i++) {
        struct node *n = im->nodes[i];
        while (n) {
            struct node *next = n->hnext;
            uint64_t h = node_hash(n->zone, ldns_rdf_data(n->name), ldns_rdf_size(n->name));
            n->hnext = nodes[h & (nb - 1)];
            nodes[h & (nb - 1)] = n;
            n = next;
        }
    }
    free(im->nodes);
    im->nodes = nodes;
    im->n_buckets = nb;
}

/* The node of name in z, made (with its empty ancestors up to the apex) when missing. */
static struct node *
node_make(struct image *im, struct zone *z, const uint8_t *name, size_t len)
{
    struct node *n = node_get(im, z, name, len);
    if (n)
        return n;
    if (im->n_nodes >= im->n_buckets)
        image_grow(im);
    n = xcalloc(1, sizeof(*n));
    n->name = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, len, name);
    ldns_dname2canonical(n->name);
    n->zone = z;
    uint64_t h = node_hash(z, name, len);
    n->hnext = im->nodes[h & (im->n_buckets - 1)];
    im->nodes[h & (im->n_buckets - 1)] = n;
    im->n_nodes++;
    /* Empty non-terminals exist (RFC 4592): a name above a record is NODATA, not NXDOMAIN. */
    size_t zl = ldns_rdf_size(z->name);
    if (len > zl && name[0] + 1u < len)
        node_make(im, z, name + name[0] + 1, len - name[0] - 1u);
    return n;
}

static void
set_free(struct set *s)
{
    free(s->set_id);
    free(s->health_check_id);
    free(s->alias_zone);
    if (s->rrs)
        ldns_rr_list_deep_free(s->rrs);
    if (s->alias_target)
        ldns_rdf_deep_free(s->alias_target);
    free(s);
}

static void
image_free(struct image *im)
{
    if (!im)
        return;
    for (size_t i = 0; i < im->n_buckets; i++) {
        struct node *n = im->nodes[i];
        while (n) {
            struct node *next = n->hnext;
            while (n->sets) {
                struct set *s = n->sets;
                n->sets = s->next;
                set_free(s);
            }
            ldns_rdf_deep_free(n->name);
            free(n);
            n = next;
        }
    }
    for (size_t i = 0; i < im->z_buckets; i++) {
        struct zone *z = im->zones[i];
        while (z) {
            struct zone *next = z->hnext;
            ldns_rdf_deep_free(z->name);
            if (z->soa)
                ldns_rr_free(z->soa);
            free(z);
            z = next;
        }
    }
    free(im->nodes);
    free(im->zones);
    free(im);
}

/* A name given as text made absolute and lower case; NULL when it does not parse. */
static ldns_rdf *
dname_from_str(const char *s)
{
    ldns_rdf *d = NULL;
    if (ldns_str2rdf_dname(&d, s) != LDNS_STATUS_OK)
        return NULL;
    if (!ldns_dname_str_absolute(s) && srv.root) {
        ldns_rdf *abs = ldns_dname_cat_clone(d, srv.root);
        ldns_rdf_deep_free(d);
        d = abs;
    }
    if (d)
        ldns_dname2canonical(d);
    return d;
}

struct build_ctx {
    struct image *im;    /* the image being built */
    struct zone **by_id; /* zones in the order they were added */
    size_t n_zones;      /* of by_id */
    bool private_pass;   /* adding the private zones (public ones win a name) */
};

static int
build_zone(void *arg, const struct r53_zone_row *z)
{
    struct build_ctx *b = arg;
    if (z->is_private != b->private_pass)
        return 0;
    ldns_rdf *name = dname_from_str(z->name);
    if (!name)
        return 0;
    struct image *im = b->im;
    struct zone *have = zone_get(im, ldns_rdf_data(name), ldns_rdf_size(name));
    struct zone *zn = xcalloc(1, sizeof(*zn));
    zn->name = name;
    snprintf(zn->id, sizeof(zn->id), "%s", z->id);
    b->by_id = xrealloc(b->by_id, (b->n_zones + 1) * sizeof(*b->by_id));
    b->by_id[b->n_zones++] = zn;
    if (have) {
        /* A second zone of the same name (AWS allows it): the first one answers. */
        zn->hnext = NULL;
        return 0;
    }
    uint64_t h = hash_bytes(ldns_rdf_data(name), ldns_rdf_size(name)) & (im->z_buckets - 1);
    zn->hnext = im->zones[h];
    im->zones[h] = zn;
    return 0;
}

static struct zone *
zone_by_id(const struct build_ctx *b, const char *id)
{
    for (size_t i = 0; i < b->n_zones; i++)
        if (strcmp(b->by_id[i]->id, id) == 0)
            return b->by_id[i];
    return NULL;
}

static const char *
str_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *
dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* A canonical name in DNS presentation format: \DDD (decimal, RFC 1035 5.1) for every octet
   that is not a letter, digit, '-', '_', '*' or the label dots. */
static void
presentation_name(const char *canon, struct buf *out)
{
    buf_reset(out);
    for (const unsigned char *p = (const unsigned char *)canon; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
            *p == '*' || *p == '.')
            buf_addc(out, (char)*p);
        else
            buf_addf(out, "\\%03u", *p);
    }
}

/*
 * The RDATA of an A or AAAA value made of address characters only, parsed as
 * ldns_rr_new_frm_str would parse it (inet_pton through ldns_str2rdf_a/_aaaa), but without
 * the scratch buffers of some 200 KiB that call allocates and frees each time, growing and
 * trimming the heap per record. False when the short cut does not apply (another type, or
 * anything else in the value): the caller parses the whole record line instead.
 */
static bool
rdata_quick(ldns_rr_type type, const char *value, ldns_rdf **out, ldns_status *st)
{
    const char *chars = type == LDNS_RR_TYPE_A      ? "0123456789."
                        : type == LDNS_RR_TYPE_AAAA ? "0123456789abcdefABCDEF:."
                                                    : NULL;
    *out = NULL;
    if (!chars || !value || !value[0] || value[strspn(value, chars)] != '\0')
        return false;
    *st = type == LDNS_RR_TYPE_A ? ldns_str2rdf_a(out, value) : ldns_str2rdf_aaaa(out, value);
    return true;
}

static int
build_rrset(void *arg, const struct r53_rrset_row *r)
{
    struct build_ctx *b = arg;
    struct zone *z = zone_by_id(b, r->zone_id);
    /* Zones that lost their name to an earlier one are not answered. */
    if (!z || zone_get(b->im, ldns_rdf_data(z->name), ldns_rdf_size(z->name)) != z)
        return 0;
    cJSON *body = cJSON_Parse(r->body);
    struct buf owner_text = BUF_INIT;
    presentation_name(r->name, &owner_text);
    ldns_rdf *owner = dname_from_str(owner_text.data);
    ldns_rr_type type = ldns_get_rr_type_by_name(r->type);
    if (!body || !owner || type == 0) {
        cJSON_Delete(body);
        if (owner)
            ldns_rdf_deep_free(owner);
        buf_release(&owner_text);
        return 0;
    }
    struct set *s = xcalloc(1, sizeof(*s));
    s->type = type;
    s->set_id = r->set_id[0] ? xstrdup(r->set_id) : NULL;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(body, "Weight");
    s->weight = cJSON_IsNumber(w) ? (int)w->valuedouble : -1;
    const char *fo = str_member(body, "Failover");
    s->failover = !fo                          ? FAILOVER_NONE
                  : strcmp(fo, "PRIMARY") == 0 ? FAILOVER_PRIMARY
                                               : FAILOVER_SECONDARY;
    s->multi = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "MultiValueAnswer"));
    s->health_check_id = dup_or_null(r->health_check_id);
    const cJSON *alias = cJSON_GetObjectItemCaseSensitive(body, "AliasTarget");
    if (alias) {
        s->alias_target = dname_from_str(str_member(alias, "DNSName"));
        s->evaluate_health =
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(alias, "EvaluateTargetHealth"));
        s->alias_zone = dup_or_null(str_member(alias, "HostedZoneId"));
    } else {
        const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(body, "TTL");
        s->rrs = ldns_rr_list_new();
        const cJSON *v;
        struct buf line = BUF_INIT;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(body, "ResourceRecords"))
        {
            const char *value = str_member(v, "Value");
            long long ttl_s = cJSON_IsNumber(ttl) ? (long long)ttl->valuedouble : 300LL;
            ldns_rr *rr = NULL;
            ldns_rdf *rd;
            ldns_status st;
            if (rdata_quick(type, value, &rd, &st)) {
                if (st != LDNS_STATUS_OK)
                    continue;
                rr = ldns_rr_new_frm_type(type);
                ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
                ldns_rr_set_ttl(rr, (uint32_t)ttl_s);
                ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
                ldns_rr_set_rdf(rr, rd, 0);
                ldns_rr_list_push_rr(s->rrs, rr);
                continue;
            }
            buf_reset(&line);
            buf_addf(&line, "%s %lld IN %s %s", owner_text.data, ttl_s, r->type,
                     value ? value : "");
            if (ldns_rr_new_frm_str(&rr, line.data, 0, srv.root, NULL) == LDNS_STATUS_OK)
                ldns_rr_list_push_rr(s->rrs, rr);
        }
        buf_release(&line);
    }
    struct node *n = node_make(b->im, z, ldns_rdf_data(owner), ldns_rdf_size(owner));
    s->next = n->sets;
    n->sets = s;
    if (type == LDNS_RR_TYPE_SOA && ldns_dname_compare(owner, z->name) == 0 && s->rrs &&
        ldns_rr_list_rr_count(s->rrs) > 0 && !z->soa)
        z->soa = ldns_rr_clone(ldns_rr_list_rr(s->rrs, 0));
    ldns_rdf_deep_free(owner);
    buf_release(&owner_text);
    cJSON_Delete(body);
    return 0;
}

static void
pending_clear(void)
{
    for (size_t i = 0; i < srv.n_pending; i++)
        free(srv.pending[i].name);
    free(srv.pending);
    srv.pending = NULL;
    srv.n_pending = 0;
}

/*
 * Brings the sets of one changed name up to date in the image: the node's sets are read
 * again from the state. -1 when a full rebuild is needed instead: the zone's apex (its SOA
 * is the zone's), a name left with no set (it may have to vanish, with the empty
 * non-terminals above it), or a state failure.
 */
static int
image_refresh_name(struct app *app, struct image *im, const struct pending *p)
{
    struct zone *z = NULL;
    for (size_t i = 0; i < im->z_buckets && !z; i++)
        for (struct zone *c = im->zones[i]; c && !z; c = c->hnext)
            if (strcmp(c->id, p->zone_id) == 0)
                z = c;
    if (!z)
        return 0; /* a zone that does not answer (its name is another's) */
    struct buf text = BUF_INIT;
    presentation_name(p->name, &text);
    ldns_rdf *owner = dname_from_str(text.data);
    buf_release(&text);
    if (!owner)
        return -1;
    if (ldns_dname_compare(owner, z->name) == 0) {
        ldns_rdf_deep_free(owner);
        return -1;
    }
    struct node *n = node_get(im, z, ldns_rdf_data(owner), ldns_rdf_size(owner));
    while (n && n->sets) {
        struct set *s = n->sets;
        n->sets = s->next;
        set_free(s);
    }
    struct build_ctx b = { im, &z, 1, false };
    int rc = r53_store_rrset_each_at(app->db, p->zone_id, p->name, build_rrset, &b);
    n = node_get(im, z, ldns_rdf_data(owner), ldns_rdf_size(owner));
    ldns_rdf_deep_free(owner);
    return rc < 0 || !n || !n->sets ? -1 : 0;
}

/* The image of the state, built on the first query after a change, or brought up to date
   name by name when only record sets changed. */
static struct image *
image_get(struct app *app)
{
    if (srv.app != app) {
        image_free(srv.image);
        srv.image = NULL;
        srv.app = app;
        srv.dirty = true;
    }
    if (srv.image && !srv.dirty && srv.n_pending) {
        cache_clear();
        for (size_t i = 0; i < srv.n_pending && !srv.dirty; i++)
            if (image_refresh_name(app, srv.image, &srv.pending[i]) < 0)
                srv.dirty = true;
        pending_clear();
    }
    if (srv.image && !srv.dirty)
        return srv.image;
    image_free(srv.image);
    srv.image = NULL;
    cache_clear();
    pending_clear();
    if (!srv.root)
        srv.root = ldns_dname_new_frm_str(".");
    struct image *im = xcalloc(1, sizeof(*im));
    im->n_buckets = 1024;
    im->nodes = xcalloc(im->n_buckets, sizeof(*im->nodes));
    im->z_buckets = 256;
    im->zones = xcalloc(im->z_buckets, sizeof(*im->zones));
    struct build_ctx b = { im, NULL, 0, false };
    int rc = r53_store_zone_each(app->db, NULL, build_zone, &b);
    b.private_pass = true;
    if (rc == 0)
        rc = r53_store_zone_each(app->db, NULL, build_zone, &b);
    if (rc == 0)
        rc = r53_store_rrset_each_all(app->db, build_rrset, &b);
    /* Zones that lost their name are owned by by_id only. */
    for (size_t i = 0; i < b.n_zones; i++) {
        struct zone *z = b.by_id[i];
        if (zone_get(im, ldns_rdf_data(z->name), ldns_rdf_size(z->name)) != z) {
            ldns_rdf_deep_free(z->name);
            if (z->soa)
                ldns_rr_free(z->soa);
            free(z);
        }
    }
    free(b.by_id);
    if (rc < 0) {
        image_free(im);
        return NULL;
    }
    srv.image = im;
    srv.dirty = false;
    return im;
}

void
r53_dns_invalidate(void)
{
    srv.dirty = true;
    pending_clear();
}

void
r53_dns_invalidate_name(const char *zone_id, const char *name)
{
    if (srv.dirty || !srv.image)
        return; /* the next query builds it all anyway */
    if (srv.n_pending == DNS_PENDING_MAX || strlen(zone_id) >= sizeof(srv.pending->zone_id)) {
        r53_dns_invalidate();
        return;
    }
    if (!srv.pending)
        srv.pending = xcalloc(DNS_PENDING_MAX, sizeof(*srv.pending));
    struct pending *p = &srv.pending[srv.n_pending++];
    snprintf(p->zone_id, sizeof(p->zone_id), "%s", zone_id);
    p->name = xstrdup(name);
}

/* ---- answering ---- */

/* What one answer collects: records are borrowed from the image unless listed in owned. */
struct answer {
    struct app *app;      /* the app (for load balancers) */
    struct image *im;     /* the image */
    ldns_pkt *pkt;        /* the response being built */
    ldns_rr_list *owned;  /* records made for this answer, freed with it */
    bool authoritative;   /* the name is in one of our zones */
    ldns_pkt_rcode rcode; /* NOERROR, NXDOMAIN, ... */
    struct zone *neg;     /* the zone whose SOA a negative answer carries */
    bool cacheable;       /* the answer depends on the image alone */
};

static uint64_t
rand_next(void)
{
    uint64_t x = srv.rand ? srv.rand : 0x2545F4914F6CDD1DULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    srv.rand = x;
    return x;
}

/* The zone a name falls in (longest match), or NULL. */
static struct zone *
zone_for(const struct image *im, const ldns_rdf *name)
{
    const uint8_t *p = ldns_rdf_data(name);
    size_t len = ldns_rdf_size(name);
    while (len > 0) {
        struct zone *z = zone_get(im, p, len);
        if (z)
            return z;
        if (p[0] == 0)
            break;
        size_t skip = p[0] + 1u;
        if (skip >= len)
            break;
        p += skip;
        len -= skip;
    }
    return NULL;
}

/* A call context for asking ELB's internal API from the DNS server (no API call runs). */
static void
elb_call(struct app *app, struct aws_call *call)
{
    *call = (struct aws_call){ .app = app,
                               .service = "route53",
                               .op = "DNS",
                               .region = "us-east-1",
                               .account_id = app->cfg.account_id,
                               .request_id = "",
                               .now_ms = app->clock ? vclock_now(app->clock) : 0 };
}

/* The text of name when it is a load balancer's style of name (…elb.amazonaws.com), else
   NULL. The caller frees it. */
static char *
elb_name_text(const ldns_rdf *name)
{
    static const char suffix[] = ".elb.amazonaws.com.";
    char *text = ldns_rdf2str(name);
    size_t n = text ? strlen(text) : 0;
    if (n > sizeof(suffix) - 1 && strcasecmp(text + n - (sizeof(suffix) - 1), suffix) == 0)
        return text;
    free(text);
    return NULL;
}

/*
 * 1 when name is a load balancer's DNS name, 0 when not, -1 on a state failure. Asked
 * through ELB's internal API, outside any transaction.
 */
static int
elb_lookup(struct app *app, const ldns_rdf *name)
{
    char *text = elb_name_text(name);
    int found = 0;
    if (text) {
        struct aws_call call;
        elb_call(app, &call);
        char lb[256];
        found = elb_api_find_by_dns(&call, text, lb, sizeof(lb));
    }
    free(text);
    return found;
}

/* How many InService instances the load balancer named name has; -1 when it is none. */
static int
elb_in_service(struct app *app, const ldns_rdf *name)
{
    char *text = elb_name_text(name);
    int count = -1;
    if (text) {
        struct aws_call call;
        elb_call(app, &call);
        count = elb_api_in_service_count_by_dns(&call, text);
    }
    free(text);
    return count;
}

static const struct node *wildcard_for(const struct image *im, const struct zone *z,
                                       const ldns_rdf *qname);

/*
 * Whether a set counts as healthy where Route53 chooses between sets: its health check (if
 * any) passes, and an alias with EvaluateTargetHealth inherits its target's health (the
 * AliasTarget documentation of the API): a classic load balancer is healthy while at least
 * one registered instance is InService (and unhealthy when it is gone); a name of our zones
 * while at least one of its sets of the alias's type is healthy.
 */
static bool
set_healthy(struct answer *a, const struct set *s, int depth)
{
    if (!r53_health_ok(s->health_check_id))
        return false;
    if (!s->alias_target || !s->evaluate_health || depth >= DNS_CHAIN_MAX)
        return true;
    const struct zone *z = zone_for(a->im, s->alias_target);
    if (!z)
        return elb_in_service(a->app, s->alias_target) > 0;
    const struct node *n =
            node_get(a->im, z, ldns_rdf_data(s->alias_target), ldns_rdf_size(s->alias_target));
    if (!n)
        n = wildcard_for(a->im, z, s->alias_target);
    for (const struct set *t = n ? n->sets : NULL; t; t = t->next)
        if (t->type == s->type && set_healthy(a, t, depth + 1))
            return true;
    return false;
}

/*
 * The sets of `type` at n that the routing policy picks for this query: one set, or several
 * for a multivalue answer. Returns how many were written to out (at most max).
 */
static size_t
select_sets(struct answer *a, const struct node *n, ldns_rr_type type, const struct set **out,
            size_t max, int depth)
{
    const struct set *cand[64];
    size_t nc = 0;
    for (const struct set *s = n->sets; s && nc < ARRAY_SIZE(cand); s = s->next)
        if (s->type == type)
            cand[nc++] = s;
    if (nc == 0)
        return 0;
    if (nc == 1 && !cand[0]->set_id) {
        out[0] = cand[0];
        return 1;
    }
    /* A choice by health or chance: the next query may be answered differently, so the
       answer is never cached (a health check or a load balancer changing its verdict needs
       nothing invalidated). */
    a->cacheable = false;
    if (cand[0]->failover != FAILOVER_NONE) {
        const struct set *primary = NULL, *secondary = NULL;
        for (size_t i = 0; i < nc; i++) {
            if (cand[i]->failover == FAILOVER_PRIMARY)
                primary = cand[i];
            else if (cand[i]->failover == FAILOVER_SECONDARY)
                secondary = cand[i];
        }
        /* The primary while it is healthy; the secondary when the primary is not, unless
           the secondary is unhealthy too: then the primary again (the API's documentation
           of ResourceRecordSet.Failover). */
        const struct set *pick = primary;
        if (!primary ||
            (secondary && !set_healthy(a, primary, depth) && set_healthy(a, secondary, depth)))
            pick = secondary;
        out[0] = pick ? pick : cand[0];
        return 1;
    }
    bool healthy[64];
    bool any_healthy = false;
    for (size_t i = 0; i < nc; i++) {
        healthy[i] = set_healthy(a, cand[i], depth);
        any_healthy = any_healthy || healthy[i];
    }
    if (cand[0]->multi) {
        size_t k = 0;
        for (size_t i = 0; i < nc && k < max; i++)
            if (healthy[i])
                out[k++] = cand[i];
        for (size_t i = 0; i < nc && k == 0; i++)
            out[k++] = cand[i];
        return k;
    }
    /* Weighted: healthy sets in proportion to weight; if none is healthy, all of them as
       if healthy; all weights zero: equally (R53DG routing-policy-weighted). */
    uint64_t total = 0;
    const struct set *eligible[64];
    size_t ne = 0;
    for (size_t i = 0; i < nc; i++)
        if (!any_healthy || healthy[i]) {
            eligible[ne++] = cand[i];
            total += cand[i]->weight > 0 ? (uint64_t)cand[i]->weight : 0;
        }
    if (total == 0) {
        out[0] = eligible[rand_next() % ne];
        return 1;
    }
    uint64_t r = rand_next() % total;
    for (size_t i = 0; i < ne; i++) {
        uint64_t w = eligible[i]->weight > 0 ? (uint64_t)eligible[i]->weight : 0;
        if (r < w) {
            out[0] = eligible[i];
            return 1;
        }
        r -= w;
    }
    out[0] = eligible[ne - 1];
    return 1;
}

/* Adds rr to a section, borrowed, or as a copy owned by the answer when owner differs. */
static void
add_rr(struct answer *a, ldns_pkt_section sec, ldns_rr *rr, const ldns_rdf *owner)
{
    if (owner && ldns_dname_compare(ldns_rr_owner(rr), owner) != 0) {
        ldns_rr *copy = ldns_rr_clone(rr);
        ldns_rdf_deep_free(ldns_rr_owner(copy));
        ldns_rr_set_owner(copy, ldns_rdf_clone(owner));
        ldns_rr_list_push_rr(a->owned, copy);
        rr = copy;
    }
    ldns_pkt_push_rr(a->pkt, sec, rr);
}

static int lookup(struct answer *a, const ldns_rdf *qname, ldns_rr_type qtype, int depth);

/*
 * Answers an alias set for owner: the target's records when the target is in our zones,
 * A 127.0.0.1 when it is a load balancer (every fogbank data plane is on loopback).
 */
static void
answer_alias(struct answer *a, const struct set *s, const ldns_rdf *owner, ldns_rr_type qtype,
             int depth)
{
    if (!s->alias_target || depth >= DNS_CHAIN_MAX)
        return;
    if (zone_for(a->im, s->alias_target)) {
        /* Resolve the target in a scratch answer and copy its records under our name. */
        struct answer sub = *a;
        sub.pkt = ldns_pkt_new();
        sub.rcode = LDNS_RCODE_NOERROR;
        lookup(&sub, s->alias_target, qtype, depth + 1);
        a->cacheable = a->cacheable && sub.cacheable;
        ldns_rr_list *got = ldns_pkt_answer(sub.pkt);
        for (size_t i = 0; i < ldns_rr_list_rr_count(got); i++) {
            ldns_rr *rr = ldns_rr_list_rr(got, i);
            if (ldns_rr_get_type(rr) != qtype)
                continue;
            ldns_rr *copy = ldns_rr_clone(rr);
            ldns_rdf_deep_free(ldns_rr_owner(copy));
            ldns_rr_set_owner(copy, ldns_rdf_clone(owner));
            ldns_rr_list_push_rr(a->owned, copy);
            ldns_pkt_push_rr(a->pkt, LDNS_SECTION_ANSWER, copy);
        }
        ldns_rr_list_set_rr_count(ldns_pkt_answer(sub.pkt), 0);
        ldns_rr_list_set_rr_count(ldns_pkt_authority(sub.pkt), 0);
        ldns_pkt_free(sub.pkt);
        return;
    }
    /* A load balancer comes and goes without touching the image. */
    a->cacheable = false;
    if (qtype == LDNS_RR_TYPE_A && elb_lookup(a->app, s->alias_target) == 1) {
        ldns_rr *rr = ldns_rr_new_frm_type(LDNS_RR_TYPE_A);
        ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
        ldns_rr_set_ttl(rr, DNS_ELB_TTL);
        ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
        ldns_rdf *addr = NULL;
        ldns_str2rdf_a(&addr, "127.0.0.1");
        ldns_rr_set_rdf(rr, addr, 0);
        ldns_rr_list_push_rr(a->owned, rr);
        ldns_pkt_push_rr(a->pkt, LDNS_SECTION_ANSWER, rr);
    }
}

/* Adds the records of the sets chosen at n for qtype, under owner. True if any set. */
static bool
answer_sets(struct answer *a, const struct node *n, const ldns_rdf *owner, ldns_rr_type qtype,
            int depth)
{
    const struct set *picked[DNS_MULTI_MAX];
    size_t k = select_sets(a, n, qtype, picked, DNS_MULTI_MAX, depth);
    for (size_t i = 0; i < k; i++) {
        const struct set *s = picked[i];
        if (!s->rrs) {
            answer_alias(a, s, owner, qtype, depth);
            continue;
        }
        for (size_t j = 0; j < ldns_rr_list_rr_count(s->rrs); j++)
            add_rr(a, LDNS_SECTION_ANSWER, ldns_rr_list_rr(s->rrs, j), owner);
    }
    return k > 0;
}

/* The closest existing ancestor's wildcard node for qname in z, or NULL. */
static const struct node *
wildcard_for(const struct image *im, const struct zone *z, const ldns_rdf *qname)
{
    const uint8_t *p = ldns_rdf_data(qname);
    size_t len = ldns_rdf_size(qname), zl = ldns_rdf_size(z->name);
    uint8_t wc[LDNS_MAX_DOMAINLEN + 2];
    while (len > zl) {
        size_t skip = p[0] + 1u;
        p += skip;
        len -= skip;
        if (node_get(im, z, p, len) || len == zl) {
            /* The closest encloser: its wildcard answers, or nothing does. */
            if (len + 2 > sizeof(wc))
                return NULL;
            wc[0] = 1;
            wc[1] = '*';
            memcpy(wc + 2, p, len);
            return node_get(im, z, wc, len + 2);
        }
    }
    return NULL;
}

/* A delegation (NS set below the apex) on the way from the apex to qname, or NULL. */
static const struct node *
delegation_for(const struct image *im, const struct zone *z, const ldns_rdf *qname)
{
    const uint8_t *p = ldns_rdf_data(qname);
    size_t len = ldns_rdf_size(qname), zl = ldns_rdf_size(z->name);
    const struct node *cut = NULL;
    while (len > zl) {
        const struct node *n = node_get(im, z, p, len);
        for (const struct set *s = n ? n->sets : NULL; s; s = s->next)
            if (s->type == LDNS_RR_TYPE_NS)
                cut = n; /* keep walking up: the highest cut wins */
        size_t skip = p[0] + 1u;
        p += skip;
        len -= skip;
    }
    return cut;
}

static bool
has_type(const struct node *n, ldns_rr_type t)
{
    for (const struct set *s = n->sets; s; s = s->next)
        if (s->type == t)
            return true;
    return false;
}

/*
 * Answers qname/qtype into a (RFC 1034 4.3.2, within our zones): exact match, CNAME chain,
 * delegation, wildcard, or a negative answer with the zone's SOA. Returns 0.
 */
static int
lookup(struct answer *a, const ldns_rdf *qname, ldns_rr_type qtype, int depth)
{
    struct zone *z = zone_for(a->im, qname);
    if (!z)
        return 0;
    const struct node *n = node_get(a->im, z, ldns_rdf_data(qname), ldns_rdf_size(qname));
    const struct node *cut = delegation_for(a->im, z, qname);
    if (cut && !(cut == n && qtype == LDNS_RR_TYPE_DS)) {
        /* A referral: not authoritative for what lies below the cut. */
        if (depth == 0)
            a->authoritative = false;
        for (const struct set *s = cut->sets; s; s = s->next)
            if (s->type == LDNS_RR_TYPE_NS && s->rrs)
                for (size_t j = 0; j < ldns_rr_list_rr_count(s->rrs); j++)
                    add_rr(a, LDNS_SECTION_AUTHORITY, ldns_rr_list_rr(s->rrs, j), NULL);
        return 0;
    }
    const ldns_rdf *owner = qname;
    if (!n) {
        n = wildcard_for(a->im, z, qname);
        if (!n) {
            a->rcode = LDNS_RCODE_NXDOMAIN;
            a->neg = z;
            return 0;
        }
    }
    if (qtype == LDNS_RR_TYPE_ANY) {
        bool any = false;
        for (const struct set *s = n->sets; s; s = s->next)
            for (size_t j = 0; s->rrs && j < ldns_rr_list_rr_count(s->rrs); j++) {
                add_rr(a, LDNS_SECTION_ANSWER, ldns_rr_list_rr(s->rrs, j), owner);
                any = true;
            }
        if (!any)
            a->neg = z;
        return 0;
    }
    if (answer_sets(a, n, owner, qtype, depth)) {
        if (ldns_pkt_ancount(a->pkt) == 0)
            a->neg = z;
        return 0;
    }
    if (qtype != LDNS_RR_TYPE_CNAME && has_type(n, LDNS_RR_TYPE_CNAME)) {
        size_t before = ldns_pkt_ancount(a->pkt);
        answer_sets(a, n, owner, LDNS_RR_TYPE_CNAME, depth);
        ldns_rr_list *an = ldns_pkt_answer(a->pkt);
        if (ldns_rr_list_rr_count(an) > before && depth + 1 < DNS_CHAIN_MAX) {
            ldns_rr *cname = ldns_rr_list_rr(an, ldns_rr_list_rr_count(an) - 1);
            if (ldns_rr_get_type(cname) == LDNS_RR_TYPE_CNAME && ldns_rr_rdf(cname, 0)) {
                ldns_rdf *target = ldns_rdf_clone(ldns_rr_rdf(cname, 0));
                ldns_dname2canonical(target);
                /* Chase the chain while it stays in our zones (a loop ends at the cap). */
                a->rcode = LDNS_RCODE_NOERROR;
                a->neg = NULL;
                lookup(a, target, qtype, depth + 1);
                ldns_rdf_deep_free(target);
            }
        }
        return 0;
    }
    a->neg = z;
    return 0;
}

/* Writes pkt to wire; NULL on failure. */
static uint8_t *
to_wire(const ldns_pkt *pkt, size_t *len)
{
    uint8_t *wire = NULL;
    if (ldns_pkt2wire(&wire, pkt, len) != LDNS_STATUS_OK) {
        free(wire);
        return NULL;
    }
    return wire;
}

/* A response carrying only the header of the query (id, opcode, RD) and rcode. */
static ldns_pkt *
response_new(uint16_t id, ldns_pkt_opcode opcode, bool rd, ldns_pkt_rcode rcode)
{
    ldns_pkt *r = ldns_pkt_new();
    ldns_pkt_set_id(r, id);
    ldns_pkt_set_qr(r, true);
    ldns_pkt_set_opcode(r, opcode);
    ldns_pkt_set_rd(r, rd);
    ldns_pkt_set_rcode(r, (uint8_t)rcode);
    return r;
}

/* Copies the query's question into r (cloned). */
static void
copy_question(ldns_pkt *r, const ldns_pkt *q)
{
    ldns_rr_list *qs = ldns_pkt_question(q);
    for (size_t i = 0; i < ldns_rr_list_rr_count(qs); i++)
        ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(qs, i)));
}

/* Detaches the records borrowed from the image before r is freed. */
static void
release_borrowed(ldns_pkt *r)
{
    ldns_rr_list_set_rr_count(ldns_pkt_answer(r), 0);
    ldns_rr_list_set_rr_count(ldns_pkt_authority(r), 0);
    ldns_rr_list_set_rr_count(ldns_pkt_additional(r), 0);
}

/* The cache key of a query (into key, DNS_CACHE_KEY_MAX bytes) and its hash: its length, or
   0 when the query is too long to be cached. */
static size_t
cache_key(const uint8_t *query, size_t len, bool tcp, uint8_t *key, uint64_t *hash)
{
    if (len > DNS_CACHE_KEY_MAX)
        return 0;
    key[0] = tcp;
    memcpy(key + 1, query + 2, len - 2);
    *hash = hash_exact(key, len - 1);
    return len - 1;
}

/* Copies a cached answer into dst with the query's id; its length. */
static size_t
cached_copy(const struct cached *c, const uint8_t *query, uint8_t *dst)
{
    memcpy(dst, c->bytes + c->key_len, c->answer_len);
    dst[0] = query[0];
    dst[1] = query[1];
    return c->answer_len;
}

/*
 * The answer to a UDP query when the same question was answered before (dnsperf, resolvers
 * retrying): copied into dst (dstsz bytes) with the query's id, without building anything.
 * Its length, or 0 when there is none to copy (the caller asks r53_dns_answer()).
 */
static size_t
answer_from_cache(struct app *app, const uint8_t *query, size_t len, uint8_t *dst, size_t dstsz)
{
    if (len < LDNS_HEADER_SIZE || LDNS_QR_WIRE(query) || !app || !app->db || !image_get(app))
        return 0;
    uint8_t key[DNS_CACHE_KEY_MAX];
    uint64_t kh = 0;
    size_t klen = cache_key(query, len, false, key, &kh);
    const struct cached *c = klen ? cache_get(key, klen, kh) : NULL;
    return c && c->answer_len <= dstsz ? cached_copy(c, query, dst) : 0;
}

int
r53_dns_answer(struct app *app, const uint8_t *query, size_t len, bool tcp, uint8_t **out,
               size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    /* Too short for a header, or a response: nothing to answer (RFC 1035 4.1.1). */
    if (len < LDNS_HEADER_SIZE || LDNS_QR_WIRE(query))
        return -1;
    struct image *im = app && app->db ? image_get(app) : NULL;
    uint8_t key[DNS_CACHE_KEY_MAX];
    uint64_t kh = 0;
    size_t klen = im ? cache_key(query, len, tcp, key, &kh) : 0;
    const struct cached *c = klen ? cache_get(key, klen, kh) : NULL;
    if (c) {
        *out = xmalloc(c->answer_len);
        *outlen = cached_copy(c, query, *out);
        return 0;
    }
    uint16_t id = LDNS_ID_WIRE(query);
    ldns_pkt_opcode opcode = (ldns_pkt_opcode)LDNS_OPCODE_WIRE(query);
    bool rd = LDNS_RD_WIRE(query) != 0;
    ldns_pkt *q = NULL;
    if (ldns_wire2pkt(&q, query, len) != LDNS_STATUS_OK) {
        /* Truncated, a compression loop, a bad label: FORMERR (RFC 1035 4.1.1). */
        ldns_pkt *r = response_new(id, opcode, rd, LDNS_RCODE_FORMERR);
        *out = to_wire(r, outlen);
        ldns_pkt_free(r);
        return *out ? 0 : -1;
    }
    ldns_pkt *r = NULL;
    if (opcode != LDNS_PACKET_QUERY) {
        r = response_new(id, opcode, rd, LDNS_RCODE_NOTIMPL);
        goto encode;
    }
    if (ldns_pkt_qdcount(q) != 1 || ldns_pkt_ancount(q) != 0) {
        r = response_new(id, opcode, rd, LDNS_RCODE_FORMERR);
        goto encode;
    }
    ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
    ldns_rr_type qtype = ldns_rr_get_type(question);
    ldns_rr_class qclass = ldns_rr_get_class(question);
    r = response_new(id, opcode, rd, LDNS_RCODE_NOERROR);
    copy_question(r, q);
    if (ldns_pkt_edns(q))
        ldns_pkt_set_edns_udp_size(r, DNS_UDP_ADVERTISED);
    if (!im) {
        ldns_pkt_set_rcode(r, LDNS_RCODE_SERVFAIL);
        goto encode;
    }
    ldns_rdf *qname = ldns_rdf_clone(ldns_rr_owner(question));
    ldns_dname2canonical(qname);
    struct answer a = { app, im, r, ldns_rr_list_new(), true, LDNS_RCODE_NOERROR, NULL, true };
    if ((qclass != LDNS_RR_CLASS_IN && qclass != LDNS_RR_CLASS_ANY) || qtype == LDNS_RR_TYPE_AXFR ||
        qtype == LDNS_RR_TYPE_IXFR) {
        ldns_pkt_set_rcode(r, LDNS_RCODE_REFUSED);
    } else if (!zone_for(im, qname)) {
        /* Not ours, unless it is a load balancer's own name. */
        int lb = elb_lookup(app, qname);
        if (lb != 0)
            a.cacheable = false;
        if (lb == 1) {
            ldns_pkt_set_aa(r, true);
            if (qtype == LDNS_RR_TYPE_A) {
                struct set s = { .type = LDNS_RR_TYPE_A, .weight = -1, .alias_target = qname };
                answer_alias(&a, &s, qname, qtype, 0);
            }
        } else {
            ldns_pkt_set_rcode(r, LDNS_RCODE_REFUSED);
        }
    } else {
        lookup(&a, qname, qtype, 0);
        ldns_pkt_set_aa(r, a.authoritative);
        ldns_pkt_set_rcode(r, (uint8_t)a.rcode);
        /* RFC 2308: a negative answer carries the zone's SOA in the authority section. */
        if (a.neg && a.neg->soa && ldns_pkt_ancount(r) == 0)
            add_rr(&a, LDNS_SECTION_AUTHORITY, a.neg->soa, NULL);
        else if (a.neg && a.neg->soa && a.rcode == LDNS_RCODE_NXDOMAIN)
            add_rr(&a, LDNS_SECTION_AUTHORITY, a.neg->soa, NULL);
    }
    ldns_rdf_deep_free(qname);
    size_t limit = tcp                ? 65535
                   : ldns_pkt_edns(q) ? (ldns_pkt_edns_udp_size(q) < DNS_UDP_PLAIN ? DNS_UDP_PLAIN
                                         : ldns_pkt_edns_udp_size(q) > DNS_UDP_ADVERTISED
                                                 ? DNS_UDP_ADVERTISED
                                                 : ldns_pkt_edns_udp_size(q))
                                      : DNS_UDP_PLAIN;
    *out = to_wire(r, outlen);
    if (*out && *outlen > limit) {
        /* Too large for this transport: the header and question with TC, so the client
           asks again over TCP (RFC 7766). */
        free(*out);
        ldns_pkt *t = response_new(id, opcode, rd, (ldns_pkt_rcode)ldns_pkt_get_rcode(r));
        copy_question(t, q);
        ldns_pkt_set_aa(t, ldns_pkt_aa(r));
        ldns_pkt_set_tc(t, true);
        if (ldns_pkt_edns(q))
            ldns_pkt_set_edns_udp_size(t, DNS_UDP_ADVERTISED);
        *out = to_wire(t, outlen);
        ldns_pkt_free(t);
    }
    if (*out && a.cacheable && klen)
        cache_put(key, klen, kh, *out, *outlen);
    release_borrowed(r);
    ldns_pkt_free(r);
    ldns_rr_list_deep_free(a.owned);
    ldns_pkt_free(q);
    return *out ? 0 : -1;
encode:
    *out = to_wire(r, outlen);
    ldns_pkt_free(r);
    ldns_pkt_free(q);
    return *out ? 0 : -1;
}

int
r53_dns_rdata_check(const char *type, const char *value, struct buf *msg)
{
    buf_reset(msg);
    ldns_rr_type t = ldns_get_rr_type_by_name(type);
    ldns_rdf *rd;
    ldns_status st;
    if (rdata_quick(t, value, &rd, &st)) {
        if (rd)
            ldns_rdf_deep_free(rd);
    } else {
        ldns_rr *rr = NULL;
        struct buf line = BUF_INIT;
        buf_addf(&line, "x. 300 IN %s %s", type, value);
        ldns_rdf *root = ldns_dname_new_frm_str(".");
        st = t == 0 ? LDNS_STATUS_SYNTAX_TYPE_ERR
                    : ldns_rr_new_frm_str(&rr, line.data, 0, root, NULL);
        ldns_rdf_deep_free(root);
        buf_release(&line);
        if (rr)
            ldns_rr_free(rr);
    }
    if (st == LDNS_STATUS_OK && value[0])
        return 0;
    /* Route53 names the problem this way (external-dns and aws-cli reports). */
    if (strcmp(type, "A") == 0)
        buf_addf(msg,
                 "Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is "
                 "not a valid IPv4 address) encountered with '%s''",
                 value);
    else if (strcmp(type, "AAAA") == 0)
        buf_addf(msg,
                 "Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address (Value "
                 "is not a valid IPv6 address) encountered with '%s''",
                 value);
    else
        buf_addf(msg,
                 "Invalid Resource Record: 'FATAL problem: InvalidRDATA (%s) encountered with "
                 "'%s''",
                 ldns_get_errorstr_by_id(st) ? ldns_get_errorstr_by_id(st) : "bad value", value);
    return -1;
}

/* ---- the sockets ---- */

static void
udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    /* One buffer for the whole batch, kept for the server's life (MMSG_FREE is ignored). */
    if (!srv.udp_buf)
        srv.udp_buf = xmalloc((size_t)DNS_UDP_BATCH * DNS_UDP_SLOT);
    b->base = (char *)srv.udp_buf;
    b->len = (size_t)DNS_UDP_BATCH * DNS_UDP_SLOT;
}

struct udp_send {
    uv_udp_send_t req; /* the send */
    uint8_t *data;     /* the answer, freed when sent */
};

static void
udp_sent(uv_udp_send_t *req, int status)
{
    (void)status;
    struct udp_send *s = req->data;
    free(s->data);
    free(s);
}

/* Sends one answer (taking ans): at once when the socket takes it, else queued by libuv
   until the socket is writable; dropped when it cannot be sent at all, as sendto would. */
static void
udp_send_one(uv_udp_t *h, uint8_t *ans, size_t len, const struct sockaddr *addr)
{
    uv_buf_t out = uv_buf_init((char *)ans, (unsigned)len);
    int rc = uv_udp_try_send(h, &out, 1, addr);
    if (rc == UV_EAGAIN) {
        struct udp_send *s = xcalloc(1, sizeof(*s));
        s->data = ans;
        s->req.data = s;
        if (uv_udp_send(&s->req, h, &out, 1, addr, udp_sent) == 0)
            return;
        free(s);
    }
    free(ans);
}

/*
 * Sends the answers of one receive batch with as few system calls as the kernel allows
 * (sendmmsg on Linux); what it does not take for want of room goes through udp_send_one.
 */
static void
udp_flush(uv_udp_t *h)
{
    struct udp_out *o = &srv.out;
    size_t i = 0;
#if defined(__linux__)
    uv_os_fd_t fd;
    if (o->n && uv_fileno((const uv_handle_t *)h, &fd) == 0) {
        for (size_t k = 0; k < o->n; k++)
            o->msgs[k] = (struct mmsghdr){ .msg_hdr = { .msg_name = &o->addr[k],
                                                        .msg_namelen = o->addr_len[k],
                                                        .msg_iov = &o->iov[k],
                                                        .msg_iovlen = 1 } };
        while (i < o->n) {
            int sent = sendmmsg(fd, o->msgs + i, (unsigned)(o->n - i), MSG_DONTWAIT);
            if (sent > 0)
                i += (size_t)sent;
            else if (sent < 0 && errno == EINTR)
                continue;
            else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
                break;
            else
                i++; /* this answer cannot go (its address, say): dropped, the rest go on */
        }
    }
#endif
    for (; i < o->n; i++) {
        uint8_t *copy = xmalloc(o->iov[i].iov_len);
        memcpy(copy, o->data[i], o->iov[i].iov_len);
        udp_send_one(h, copy, o->iov[i].iov_len, (const struct sockaddr *)&o->addr[i]);
    }
    o->n = 0;
}

static void
udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *addr, unsigned flags)
{
    /* nread 0 without an address ends a recvmmsg batch (UV_UDP_MMSG_FREE) or a read that
       found nothing more; an error ends the reading too: send what was answered. */
    if (n <= 0 || !addr) {
        udp_flush(h);
        return;
    }
    struct udp_out *o = &srv.out;
    const uint8_t *query = (const uint8_t *)b->base;
    size_t len = answer_from_cache(srv.app, query, (size_t)n, o->data[o->n], sizeof(o->data[0]));
    uint8_t *ans = NULL;
    if (len == 0) {
        if (r53_dns_answer(srv.app, query, (size_t)n, false, &ans, &len) < 0)
            return;
        if (len <= sizeof(o->data[0])) {
            memcpy(o->data[o->n], ans, len);
            free(ans);
            ans = NULL;
        }
    }
    /* Only the datagrams of a recvmmsg batch are held: libuv calls again when it ends. */
    if (ans || !(flags & UV_UDP_MMSG_CHUNK)) {
        if (!ans) {
            ans = xmalloc(len);
            memcpy(ans, o->data[o->n], len);
        }
        udp_send_one(h, ans, len, addr);
        return;
    }
    socklen_t alen =
            addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    size_t i = o->n++;
    memcpy(&o->addr[i], addr, alen);
    o->addr_len[i] = alen;
    o->iov[i] = (struct iovec){ .iov_base = o->data[i], .iov_len = len };
    if (o->n == DNS_UDP_OUT_MAX)
        udp_flush(h);
}

/* One TCP client: length-prefixed messages (RFC 1035 4.2.2). */
struct tcp_conn {
    uv_tcp_t tcp;          /* the connection */
    struct buf in;         /* bytes read, not yet answered */
    uint64_t last_ms;      /* real monotonic ms of its last read */
    struct tcp_conn *next; /* the next open connection */
};

struct tcp_write {
    uv_write_t req; /* the write */
    uint8_t *data;  /* length + answer, freed when written */
};

static void
conn_closed(uv_handle_t *h)
{
    struct tcp_conn *c = h->data;
    for (struct tcp_conn **pp = &srv.conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    buf_release(&c->in);
    free(c);
    srv.n_conns--;
}

static void
conn_close(struct tcp_conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void
tcp_written(uv_write_t *req, int status)
{
    (void)status;
    struct tcp_write *w = req->data;
    free(w->data);
    free(w);
}

static void
tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    static char chunk[65536 + 2];
    b->base = chunk;
    b->len = sizeof(chunk);
}

static void
tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct tcp_conn *c = s->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->last_ms = vclock_mono_ns() / 1000000;
    buf_add(&c->in, b->base, (size_t)n);
    size_t off = 0;
    while (c->in.len - off >= 2) {
        const uint8_t *p = (const uint8_t *)c->in.data + off;
        size_t mlen = ((size_t)p[0] << 8) | p[1];
        if (c->in.len - off - 2 < mlen)
            break;
        uint8_t *ans;
        size_t alen;
        if (r53_dns_answer(srv.app, p + 2, mlen, true, &ans, &alen) == 0) {
            struct tcp_write *w = xcalloc(1, sizeof(*w));
            w->data = xmalloc(alen + 2);
            w->data[0] = (uint8_t)(alen >> 8);
            w->data[1] = (uint8_t)alen;
            memcpy(w->data + 2, ans, alen);
            free(ans);
            w->req.data = w;
            uv_buf_t ob = uv_buf_init((char *)w->data, (unsigned)(alen + 2));
            if (uv_write(&w->req, s, &ob, 1, tcp_written) < 0) {
                free(w->data);
                free(w);
                conn_close(c);
                return;
            }
        }
        off += 2 + mlen;
    }
    if (off) {
        memmove(c->in.data, c->in.data + off, c->in.len - off);
        c->in.len -= off;
        c->in.data[c->in.len] = '\0';
    }
}

/*
 * Closes the TCP connections idle for the idle time (RFC 7766 6.2.3: servers close idle
 * connections, so clients that vanish do not hold the DNS_TCP_CONNS_MAX slots), in real
 * time: it is the network's behaviour, not the simulated cloud's.
 */
static void
tcp_sweep_fire(uv_timer_t *t)
{
    uint64_t now = vclock_mono_ns() / 1000000,
             idle = srv.tcp_idle_ms ? srv.tcp_idle_ms : DNS_TCP_IDLE_MS;
    for (struct tcp_conn *c = srv.conns; c; c = c->next)
        if (now - c->last_ms >= idle)
            conn_close(c); /* unlinked by its close callback: the walk goes on */
    if (!srv.conns)
        uv_timer_stop(t);
}

void
r53_dns_set_tcp_idle_ms(uint64_t ms)
{
    srv.tcp_idle_ms = ms;
}

static void
tcp_accept(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct tcp_conn *c = xcalloc(1, sizeof(*c));
    buf_init(&c->in);
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    c->next = srv.conns;
    srv.conns = c;
    srv.n_conns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 || srv.n_conns > DNS_TCP_CONNS_MAX) {
        conn_close(c);
        return;
    }
    c->last_ms = vclock_mono_ns() / 1000000;
    if (!srv.tcp_sweep) {
        srv.tcp_sweep = xmalloc(sizeof(*srv.tcp_sweep));
        uv_timer_init(server->loop, srv.tcp_sweep);
    }
    if (!uv_is_active((uv_handle_t *)srv.tcp_sweep)) {
        uint64_t every = (srv.tcp_idle_ms ? srv.tcp_idle_ms : DNS_TCP_IDLE_MS) / 4 + 1;
        uv_timer_start(srv.tcp_sweep, tcp_sweep_fire, every, every);
    }
    uv_read_start((uv_stream_t *)&c->tcp, tcp_alloc, tcp_read);
}

/* Frees a socket handle once libuv is done with it. */
static void
handle_closed(uv_handle_t *h)
{
    free(h);
}

/*
 * Binds UDP and TCP on 127.0.0.1:port. 0 or a libuv error. The handles live on the heap: a
 * failed attempt's are freed when they have closed, so a retry never reuses their memory.
 */
static int
bind_both(uv_loop_t *loop, int port, int *bound)
{
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    uv_udp_t *udp = xcalloc(1, sizeof(*udp));
    uv_tcp_t *tcp = NULL;
    uv_udp_init_ex(loop, udp, AF_INET | UV_UDP_RECVMMSG);
    int rc = uv_udp_bind(udp, (const struct sockaddr *)&sa, 0);
    if (rc == 0) {
        struct sockaddr_storage got;
        int len = sizeof(got);
        uv_udp_getsockname(udp, (struct sockaddr *)&got, &len);
        sa.sin_port = ((struct sockaddr_in *)&got)->sin_port;
        tcp = xcalloc(1, sizeof(*tcp));
        uv_tcp_init(loop, tcp);
        rc = uv_tcp_bind(tcp, (const struct sockaddr *)&sa, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)tcp, 128, tcp_accept);
        if (rc < 0)
            uv_close((uv_handle_t *)tcp, handle_closed);
    }
    if (rc < 0) {
        uv_close((uv_handle_t *)udp, handle_closed);
        return rc;
    }
    srv.udp = udp;
    srv.tcp = tcp;
    *bound = ntohs(sa.sin_port);
    return 0;
}

int
r53_dns_start(struct app *app, int port, int *bound, char *errbuf, size_t errsz)
{
    srv.app = app;
    srv.rand = app->cfg.seed ? app->cfg.seed : 0x9E3779B97F4A7C15ULL;
    srv.dirty = true;
    int rc = -1;
    /* Port 0: the UDP port the kernel picks may be taken for TCP; try a few. */
    for (int attempt = 0; attempt < (port == 0 ? 8 : 1); attempt++) {
        rc = bind_both(app->loop, port, bound);
        if (rc == 0)
            break;
    }
    if (rc < 0) {
        snprintf(errbuf, errsz, "cannot listen for DNS on 127.0.0.1 port %d: %s", port,
                 uv_strerror(rc));
        return -1;
    }
    /* Room for a burst while the image of a large zone is rebuilt (the kernel caps it at
       net.core.rmem_max). */
    int rcvbuf = 4 << 20;
    uv_recv_buffer_size((uv_handle_t *)srv.udp, &rcvbuf);
    uv_udp_recv_start(srv.udp, udp_alloc, udp_recv);
    srv.open = true;
    return 0;
}

void
r53_dns_stop(void)
{
    if (srv.open) {
        uv_udp_recv_stop(srv.udp);
        uv_close((uv_handle_t *)srv.udp, handle_closed);
        uv_close((uv_handle_t *)srv.tcp, handle_closed);
        srv.udp = NULL;
        srv.tcp = NULL;
        for (struct tcp_conn *c = srv.conns; c; c = c->next)
            conn_close(c);
        if (srv.tcp_sweep)
            uv_close((uv_handle_t *)srv.tcp_sweep, handle_closed);
        srv.tcp_sweep = NULL;
        srv.open = false;
    }
    image_free(srv.image);
    srv.image = NULL;
    cache_clear();
    pending_clear();
    srv.app = NULL;
    if (srv.root)
        ldns_rdf_deep_free(srv.root);
    srv.root = NULL;
    free(srv.udp_buf);
    srv.udp_buf = NULL;
    srv.out.n = 0;
}
