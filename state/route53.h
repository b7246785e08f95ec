/*
 * The typed store of Route53: hosted zones, record sets (kept as the JSON of the
 * ResourceRecordSet the API lists), changes, health checks and tags. Rows go in and out as
 * plain structs and strings; nothing here knows AWS's rules or errors, which are the
 * handlers' business (services/route53/).
 *
 * Conventions: every function returns -1 on a database failure (already logged); look-ups
 * return 1 when found (out filled), 0 when not. "each" functions call fn for every row and
 * stop early, returning fn's value, when fn returns non-zero. Strings handed to a callback
 * are borrowed for the duration of the call.
 */
#ifndef FB_STATE_ROUTE53_H
#define FB_STATE_ROUTE53_H

#include "../emulator/common.h"

struct db;

/* ---- hosted zones ---- */

struct r53_zone_row {
    char id[40];            /* Z0... (bare, without /hostedzone/) */
    char name[260];         /* lower case, trailing dot, unescaped: "example.com." */
    char sort_name[260];    /* labels reversed, joined by \x01 */
    char caller_ref[136];   /* CallerReference (unique) */
    char comment[260];      /* Config.Comment */
    bool has_comment;       /* a comment was given (even an empty one) */
    bool is_private;        /* Config.PrivateZone */
    char vpc_id[32];        /* the VPC of a private zone, else "" */
    char vpc_region[32];    /* its region, else "" */
    char name_servers[256]; /* the delegation set's four names, '\n'-separated */
    char change_id[40];     /* the change of the zone's creation */
    int64_t created_ms;     /* virtual time of creation */
};

typedef int r53_store_zone_fn(void *arg, const struct r53_zone_row *row);

int r53_store_zone_put(struct db *db, const struct r53_zone_row *row);
int r53_store_zone_get(struct db *db, const char *id, struct r53_zone_row *out);
int r53_store_zone_get_by_ref(struct db *db, const char *caller_ref, struct r53_zone_row *out);
int r53_store_zone_set_comment(struct db *db, const char *id, const char *comment);
int r53_store_zone_delete(struct db *db, const char *id);
/* Zones in creation order, from the zone with id `from` on (NULL: from the first). */
int r53_store_zone_each(struct db *db, const char *from, r53_store_zone_fn *fn, void *arg);
/* Zones in (sort_name, id) order, from (sort_name, id) on; NULL sort_name: from the first,
   NULL id with a sort_name: every zone of that name. */
int r53_store_zone_each_by_name(struct db *db, const char *sort_name, const char *id,
                                r53_store_zone_fn *fn, void *arg);
/* How many zones there are (-1 on failure). */
int r53_store_zone_count(struct db *db);

/* ---- record sets ---- */

struct r53_rrset_row {
    const char *zone_id;         /* Z0... */
    const char *name;            /* lower case, trailing dot, unescaped */
    const char *type;            /* "A", "CNAME", ... */
    const char *set_id;          /* SetIdentifier, "" for none */
    const char *sort_name;       /* labels reversed, joined by \x01 */
    const char *health_check_id; /* HealthCheckId or NULL */
    const char *body;            /* the ResourceRecordSet as JSON */
};

typedef int r53_store_rrset_fn(void *arg, const struct r53_rrset_row *row);

/* Inserts or replaces the set with the row's (zone_id, name, type, set_id). */
int r53_store_rrset_put(struct db *db, const struct r53_rrset_row *row);
/* Inserts the set unless one with the row's (zone_id, name, type, set_id) exists: 1 when
   inserted, 0 when one was there (left as it was). */
int r53_store_rrset_create(struct db *db, const struct r53_rrset_row *row);
/* The set (zone_id, name, type, set_id): 1 (fn called with it), 0 when there is none. */
int r53_store_rrset_get(struct db *db, const char *zone_id, const char *name, const char *type,
                        const char *set_id, r53_store_rrset_fn *fn, void *arg);
int r53_store_rrset_delete(struct db *db, const char *zone_id, const char *name, const char *type,
                           const char *set_id);
/* Every set of a zone at `name` (any type, any identifier). */
int r53_store_rrset_each_at(struct db *db, const char *zone_id, const char *name,
                            r53_store_rrset_fn *fn, void *arg);
/*
 * A zone's sets in ListResourceRecordSets order from (sort_name, type, set_id) on (NULL
 * sort_name: from the first; NULL type / set_id count as ""), at most limit rows.
 */
int r53_store_rrset_each_from(struct db *db, const char *zone_id, const char *sort_name,
                              const char *type, const char *set_id, int limit,
                              r53_store_rrset_fn *fn, void *arg);
/* Every set of every zone (zone by zone), for the DNS server's cache. */
int r53_store_rrset_each_all(struct db *db, r53_store_rrset_fn *fn, void *arg);
/* How many sets the zone has (-1 on failure). */
int r53_store_rrset_count(struct db *db, const char *zone_id);
/* The first set that names health check `id`: 1 (row's strings valid during fn), 0 none. */
int r53_store_rrset_using_health_check(struct db *db, const char *id, r53_store_rrset_fn *fn,
                                       void *arg);
int r53_store_rrset_delete_zone(struct db *db, const char *zone_id);

/* ---- changes ---- */

int r53_store_change_put(struct db *db, const char *id, int64_t submitted_ms, int64_t insync_ms,
                         const char *comment);
/* 1 with the times (comment copied into comment[commentsz], "" when none), 0 when unknown. */
int r53_store_change_get(struct db *db, const char *id, int64_t *submitted_ms, int64_t *insync_ms,
                         char *comment, size_t commentsz);

/* ---- health checks ---- */

struct r53_health_row {
    const char *id;         /* a UUID */
    const char *caller_ref; /* CallerReference (unique) */
    const char *config;     /* the HealthCheckConfig as JSON */
    int64_t version;        /* HealthCheckVersion */
    int64_t created_ms;     /* virtual time of creation */
    bool healthy;           /* the last verdict (true until the probes say otherwise) */
    int64_t checked_ms;     /* virtual time of the last probe, 0 before the first */
    const char *reason;     /* the last probe's report, "" before the first */
};

typedef int r53_store_health_fn(void *arg, const struct r53_health_row *row);

int r53_store_health_put(struct db *db, const struct r53_health_row *row);
/* Calls fn with the check `id` (1) or returns 0 when there is none. */
int r53_store_health_get(struct db *db, const char *id, r53_store_health_fn *fn, void *arg);
int r53_store_health_get_by_ref(struct db *db, const char *caller_ref, r53_store_health_fn *fn,
                                void *arg);
/* Checks in creation order from the check with id `from` on (NULL: from the first). */
int r53_store_health_each(struct db *db, const char *from, r53_store_health_fn *fn, void *arg);
int r53_store_health_set_status(struct db *db, const char *id, bool healthy, int64_t checked_ms,
                                const char *reason);
int r53_store_health_delete(struct db *db, const char *id);

/* ---- tags ---- */

typedef int r53_store_tag_fn(void *arg, const char *key, const char *value);

int r53_store_tag_put(struct db *db, const char *type, const char *id, const char *key,
                      const char *value);
int r53_store_tag_delete(struct db *db, const char *type, const char *id, const char *key);
int r53_store_tag_delete_all(struct db *db, const char *type, const char *id);
/* Tags of one resource in key order. */
int r53_store_tag_each(struct db *db, const char *type, const char *id, r53_store_tag_fn *fn,
                       void *arg);

#endif
