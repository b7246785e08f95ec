/*
 * The SQL of Route53 (see route53.h): every statement is a static string prepared once
 * through db_stmt() and always bound, never built with printf. Nothing here decides AWS
 * behaviour; it only stores and finds rows.
 */
#include "../emulator/common.h"

#include "route53.h"
#include "db_internal.h"

static const char *
col_str(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/*
 * Runs a listing statement, converting each row with conv and handing it to call; stops
 * when call returns non-zero (its value is returned). 0 when done, -1 on failure.
 */
static int
each_rows(struct db *db, sqlite3_stmt *st, int (*call)(sqlite3_stmt *st, void *ctx), void *ctx,
          const char *what)
{
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ret = call(st, ctx);
        if (ret != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_error(db, what);
    sqlite3_reset(st);
    return ret;
}

/* ---- hosted zones ---- */

#define ZONE_COLS                                                                                  \
    "id, name, sort_name, caller_ref, comment, private, vpc_id, vpc_region, name_servers, "        \
    "change_id, created_ms"

static const char SQL_ZONE_PUT[] = "INSERT INTO r53_zones (" ZONE_COLS
                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char SQL_ZONE_GET[] = "SELECT " ZONE_COLS " FROM r53_zones WHERE id = ?1";
static const char SQL_ZONE_GET_REF[] = "SELECT " ZONE_COLS " FROM r53_zones WHERE caller_ref = ?1";
static const char SQL_ZONE_COMMENT[] = "UPDATE r53_zones SET comment = ?2 WHERE id = ?1";
static const char SQL_ZONE_DELETE[] = "DELETE FROM r53_zones WHERE id = ?1";
static const char SQL_ZONE_EACH[] =
        "SELECT " ZONE_COLS " FROM r53_zones WHERE ?1 IS NULL OR rowid >= "
        "(SELECT rowid FROM r53_zones WHERE id = ?1) ORDER BY rowid";
static const char SQL_ZONE_EACH_NAME[] =
        "SELECT " ZONE_COLS " FROM r53_zones WHERE ?1 IS NULL OR (?2 IS NULL AND sort_name >= ?1) "
        "OR (sort_name, id) >= (?1, ?2) ORDER BY sort_name, id";
static const char SQL_ZONE_COUNT[] = "SELECT COUNT(*) FROM r53_zones";

static void
zone_from_row(sqlite3_stmt *st, void *out)
{
    struct r53_zone_row *z = out;
    db_col_text(st, 0, z->id, sizeof(z->id));
    db_col_text(st, 1, z->name, sizeof(z->name));
    db_col_text(st, 2, z->sort_name, sizeof(z->sort_name));
    db_col_text(st, 3, z->caller_ref, sizeof(z->caller_ref));
    z->has_comment = sqlite3_column_type(st, 4) != SQLITE_NULL;
    db_col_text(st, 4, z->comment, sizeof(z->comment));
    z->is_private = sqlite3_column_int(st, 5) != 0;
    db_col_text(st, 6, z->vpc_id, sizeof(z->vpc_id));
    db_col_text(st, 7, z->vpc_region, sizeof(z->vpc_region));
    db_col_text(st, 8, z->name_servers, sizeof(z->name_servers));
    db_col_text(st, 9, z->change_id, sizeof(z->change_id));
    z->created_ms = sqlite3_column_int64(st, 10);
}

int
r53_store_zone_put(struct db *db, const struct r53_zone_row *z)
{
    sqlite3_stmt *st = db_stmt(db, SQL_ZONE_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, z->id);
    db_bind_text(st, 2, z->name);
    db_bind_text(st, 3, z->sort_name);
    db_bind_text(st, 4, z->caller_ref);
    db_bind_text(st, 5, z->has_comment ? z->comment : NULL);
    sqlite3_bind_int(st, 6, z->is_private);
    db_bind_text(st, 7, z->vpc_id[0] ? z->vpc_id : NULL);
    db_bind_text(st, 8, z->vpc_region[0] ? z->vpc_region : NULL);
    db_bind_text(st, 9, z->name_servers);
    db_bind_text(st, 10, z->change_id);
    sqlite3_bind_int64(st, 11, z->created_ms);
    return db_step_done(db, st, "r53 zone put");
}

int
r53_store_zone_get(struct db *db, const char *id, struct r53_zone_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_ZONE_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    return db_get_one(db, st, zone_from_row, out, "r53 zone get");
}

int
r53_store_zone_get_by_ref(struct db *db, const char *caller_ref, struct r53_zone_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_ZONE_GET_REF);
    if (!st)
        return -1;
    db_bind_text(st, 1, caller_ref);
    return db_get_one(db, st, zone_from_row, out, "r53 zone get by ref");
}

int
r53_store_zone_set_comment(struct db *db, const char *id, const char *comment)
{
    sqlite3_stmt *st = db_stmt(db, SQL_ZONE_COMMENT);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, comment);
    return db_step_done(db, st, "r53 zone comment");
}

int
r53_store_zone_delete(struct db *db, const char *id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_ZONE_DELETE);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    return db_step_done(db, st, "r53 zone delete");
}

struct zone_each {
    r53_store_zone_fn *fn; /* the caller's callback */
    void *arg;             /* its argument */
};

static int
zone_each_call(sqlite3_stmt *st, void *ctx)
{
    struct zone_each *e = ctx;
    struct r53_zone_row *z = xcalloc(1, sizeof(*z));
    zone_from_row(st, z);
    int ret = e->fn(e->arg, z);
    free(z);
    return ret;
}

int
r53_store_zone_each(struct db *db, const char *from, r53_store_zone_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_ZONE_EACH);
    if (!st)
        return -1;
    db_bind_text(st, 1, from);
    struct zone_each e = { fn, arg };
    return each_rows(db, st, zone_each_call, &e, "r53 zone each");
}

int
r53_store_zone_each_by_name(struct db *db, const char *sort_name, const char *id,
                            r53_store_zone_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_ZONE_EACH_NAME);
    if (!st)
        return -1;
    db_bind_text(st, 1, sort_name);
    db_bind_text(st, 2, id);
    struct zone_each e = { fn, arg };
    return each_rows(db, st, zone_each_call, &e, "r53 zone each by name");
}

int
r53_store_zone_count(struct db *db)
{
    sqlite3_stmt *st = db_stmt(db, SQL_ZONE_COUNT);
    if (!st)
        return -1;
    return db_query_int(db, st, "r53 zone count");
}

/* ---- record sets ---- */

#define RRSET_COLS "zone_id, name, type, set_id, sort_name, health_check_id, body"

static const char SQL_RRSET_PUT[] =
        "INSERT OR REPLACE INTO r53_rrsets (" RRSET_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_RRSET_CREATE[] =
        "INSERT INTO r53_rrsets (" RRSET_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT (zone_id, name, type, set_id) DO NOTHING";
static const char SQL_RRSET_GET[] = "SELECT " RRSET_COLS " FROM r53_rrsets WHERE zone_id = ?1 "
                                    "AND name = ?2 AND type = ?3 AND set_id = ?4";
static const char SQL_RRSET_DELETE[] = "DELETE FROM r53_rrsets WHERE zone_id = ?1 AND name = ?2 "
                                       "AND type = ?3 AND set_id = ?4";
static const char SQL_RRSET_AT[] = "SELECT " RRSET_COLS " FROM r53_rrsets WHERE zone_id = ?1 AND "
                                   "name = ?2 ORDER BY type, set_id";
static const char SQL_RRSET_FROM[] =
        "SELECT " RRSET_COLS " FROM r53_rrsets WHERE zone_id = ?1 AND (?2 IS NULL OR "
        "(sort_name, type, set_id) >= (?2, ?3, ?4)) ORDER BY sort_name, type, set_id LIMIT ?5";
static const char SQL_RRSET_ALL[] =
        "SELECT " RRSET_COLS " FROM r53_rrsets ORDER BY zone_id, sort_name, type, set_id";
static const char SQL_RRSET_COUNT[] = "SELECT COUNT(*) FROM r53_rrsets WHERE zone_id = ?1";
static const char SQL_RRSET_HEALTH[] =
        "SELECT " RRSET_COLS " FROM r53_rrsets WHERE health_check_id = ?1 LIMIT 1";
static const char SQL_RRSET_DELETE_ZONE[] = "DELETE FROM r53_rrsets WHERE zone_id = ?1";

static void
rrset_bind(sqlite3_stmt *st, const struct r53_rrset_row *r)
{
    db_bind_text(st, 1, r->zone_id);
    db_bind_text(st, 2, r->name);
    db_bind_text(st, 3, r->type);
    db_bind_text(st, 4, r->set_id ? r->set_id : "");
    db_bind_text(st, 5, r->sort_name);
    db_bind_text(st, 6, r->health_check_id);
    db_bind_text(st, 7, r->body);
}

int
r53_store_rrset_put(struct db *db, const struct r53_rrset_row *r)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RRSET_PUT);
    if (!st)
        return -1;
    rrset_bind(st, r);
    return db_step_done(db, st, "r53 rrset put");
}

int
r53_store_rrset_create(struct db *db, const struct r53_rrset_row *r)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RRSET_CREATE);
    if (!st)
        return -1;
    rrset_bind(st, r);
    if (db_step_done(db, st, "r53 rrset create") < 0)
        return -1;
    return sqlite3_changes(db_sqlite(db)) > 0 ? 1 : 0;
}

int
r53_store_rrset_delete(struct db *db, const char *zone_id, const char *name, const char *type,
                       const char *set_id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RRSET_DELETE);
    if (!st)
        return -1;
    db_bind_text(st, 1, zone_id);
    db_bind_text(st, 2, name);
    db_bind_text(st, 3, type);
    db_bind_text(st, 4, set_id ? set_id : "");
    return db_step_done(db, st, "r53 rrset delete");
}

struct rrset_each {
    r53_store_rrset_fn *fn; /* the caller's callback */
    void *arg;              /* its argument */
};

static int
rrset_each_call(sqlite3_stmt *st, void *ctx)
{
    struct rrset_each *e = ctx;
    struct r53_rrset_row r = {
        .zone_id = col_str(st, 0),
        .name = col_str(st, 1),
        .type = col_str(st, 2),
        .set_id = col_str(st, 3),
        .sort_name = col_str(st, 4),
        .health_check_id = sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL : col_str(st, 5),
        .body = col_str(st, 6),
    };
    return e->fn(e->arg, &r);
}

int
r53_store_rrset_each_at(struct db *db, const char *zone_id, const char *name,
                        r53_store_rrset_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RRSET_AT);
    if (!st)
        return -1;
    db_bind_text(st, 1, zone_id);
    db_bind_text(st, 2, name);
    struct rrset_each e = { fn, arg };
    return each_rows(db, st, rrset_each_call, &e, "r53 rrset each at");
}

static void
rrset_get_one(sqlite3_stmt *st, void *ctx)
{
    rrset_each_call(st, ctx);
}

int
r53_store_rrset_get(struct db *db, const char *zone_id, const char *name, const char *type,
                    const char *set_id, r53_store_rrset_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RRSET_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, zone_id);
    db_bind_text(st, 2, name);
    db_bind_text(st, 3, type);
    db_bind_text(st, 4, set_id ? set_id : "");
    struct rrset_each e = { fn, arg };
    return db_get_one(db, st, rrset_get_one, &e, "r53 rrset get");
}

int
r53_store_rrset_each_from(struct db *db, const char *zone_id, const char *sort_name,
                          const char *type, const char *set_id, int limit, r53_store_rrset_fn *fn,
                          void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RRSET_FROM);
    if (!st)
        return -1;
    db_bind_text(st, 1, zone_id);
    db_bind_text(st, 2, sort_name);
    db_bind_text(st, 3, type ? type : "");
    db_bind_text(st, 4, set_id ? set_id : "");
    sqlite3_bind_int(st, 5, limit);
    struct rrset_each e = { fn, arg };
    return each_rows(db, st, rrset_each_call, &e, "r53 rrset each from");
}

int
r53_store_rrset_each_all(struct db *db, r53_store_rrset_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RRSET_ALL);
    if (!st)
        return -1;
    struct rrset_each e = { fn, arg };
    return each_rows(db, st, rrset_each_call, &e, "r53 rrset each all");
}

int
r53_store_rrset_count(struct db *db, const char *zone_id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RRSET_COUNT);
    if (!st)
        return -1;
    db_bind_text(st, 1, zone_id);
    return db_query_int(db, st, "r53 rrset count");
}

static int
found_one(void *arg, const struct r53_rrset_row *r)
{
    struct rrset_each *e = arg;
    if (e->fn)
        e->fn(e->arg, r);
    return 1;
}

int
r53_store_rrset_using_health_check(struct db *db, const char *id, r53_store_rrset_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RRSET_HEALTH);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    struct rrset_each inner = { fn, arg };
    struct rrset_each e = { found_one, &inner };
    return each_rows(db, st, rrset_each_call, &e, "r53 rrset using health check");
}

int
r53_store_rrset_delete_zone(struct db *db, const char *zone_id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_RRSET_DELETE_ZONE);
    if (!st)
        return -1;
    db_bind_text(st, 1, zone_id);
    return db_step_done(db, st, "r53 rrset delete zone");
}

/* ---- changes ---- */

static const char SQL_CHANGE_PUT[] = "INSERT INTO r53_changes (id, submitted_ms, insync_ms, "
                                     "comment) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_CHANGE_GET[] =
        "SELECT submitted_ms, insync_ms, comment FROM r53_changes WHERE id = ?1";

int
r53_store_change_put(struct db *db, const char *id, int64_t submitted_ms, int64_t insync_ms,
                     const char *comment)
{
    sqlite3_stmt *st = db_stmt(db, SQL_CHANGE_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, submitted_ms);
    sqlite3_bind_int64(st, 3, insync_ms);
    db_bind_text(st, 4, comment);
    return db_step_done(db, st, "r53 change put");
}

int
r53_store_change_get(struct db *db, const char *id, int64_t *submitted_ms, int64_t *insync_ms,
                     char *comment, size_t commentsz)
{
    sqlite3_stmt *st = db_stmt(db, SQL_CHANGE_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        *submitted_ms = sqlite3_column_int64(st, 0);
        *insync_ms = sqlite3_column_int64(st, 1);
        db_col_text(st, 2, comment, commentsz);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = db_error(db, "r53 change get");
    }
    sqlite3_reset(st);
    return ret;
}

/* ---- health checks ---- */

#define HEALTH_COLS "id, caller_ref, config, version, created_ms, healthy, checked_ms, reason"

static const char SQL_HEALTH_PUT[] = "INSERT OR REPLACE INTO r53_health_checks (" HEALTH_COLS
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_HEALTH_GET[] = "SELECT " HEALTH_COLS " FROM r53_health_checks WHERE id = ?1";
static const char SQL_HEALTH_GET_REF[] =
        "SELECT " HEALTH_COLS " FROM r53_health_checks WHERE caller_ref = ?1";
static const char SQL_HEALTH_EACH[] =
        "SELECT " HEALTH_COLS " FROM r53_health_checks WHERE ?1 IS NULL OR rowid >= "
        "(SELECT rowid FROM r53_health_checks WHERE id = ?1) ORDER BY rowid";
static const char SQL_HEALTH_STATUS[] = "UPDATE r53_health_checks SET healthy = ?2, "
                                        "checked_ms = ?3, reason = ?4 WHERE id = ?1";
static const char SQL_HEALTH_DELETE[] = "DELETE FROM r53_health_checks WHERE id = ?1";

struct health_each {
    r53_store_health_fn *fn; /* the caller's callback */
    void *arg;               /* its argument */
};

static int
health_each_call(sqlite3_stmt *st, void *ctx)
{
    struct health_each *e = ctx;
    struct r53_health_row h = {
        .id = col_str(st, 0),
        .caller_ref = col_str(st, 1),
        .config = col_str(st, 2),
        .version = sqlite3_column_int64(st, 3),
        .created_ms = sqlite3_column_int64(st, 4),
        .healthy = sqlite3_column_int(st, 5) != 0,
        .checked_ms = sqlite3_column_int64(st, 6),
        .reason = col_str(st, 7),
    };
    return e->fn ? e->fn(e->arg, &h) : 0;
}

int
r53_store_health_put(struct db *db, const struct r53_health_row *h)
{
    sqlite3_stmt *st = db_stmt(db, SQL_HEALTH_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, h->id);
    db_bind_text(st, 2, h->caller_ref);
    db_bind_text(st, 3, h->config);
    sqlite3_bind_int64(st, 4, h->version);
    sqlite3_bind_int64(st, 5, h->created_ms);
    sqlite3_bind_int(st, 6, h->healthy);
    sqlite3_bind_int64(st, 7, h->checked_ms);
    db_bind_text(st, 8, h->reason ? h->reason : "");
    return db_step_done(db, st, "r53 health put");
}

/* Runs a one-row look-up through fn: 1 found, 0 not, -1 failure. */
static int
health_one(struct db *db, sqlite3_stmt *st, r53_store_health_fn *fn, void *arg, const char *what)
{
    struct health_each e = { fn, arg };
    int found = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        health_each_call(st, &e);
        found = 1;
    } else if (rc != SQLITE_DONE) {
        found = db_error(db, what);
    }
    sqlite3_reset(st);
    return found;
}

int
r53_store_health_get(struct db *db, const char *id, r53_store_health_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_HEALTH_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    return health_one(db, st, fn, arg, "r53 health get");
}

int
r53_store_health_get_by_ref(struct db *db, const char *caller_ref, r53_store_health_fn *fn,
                            void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_HEALTH_GET_REF);
    if (!st)
        return -1;
    db_bind_text(st, 1, caller_ref);
    return health_one(db, st, fn, arg, "r53 health get by ref");
}

int
r53_store_health_each(struct db *db, const char *from, r53_store_health_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_HEALTH_EACH);
    if (!st)
        return -1;
    db_bind_text(st, 1, from);
    struct health_each e = { fn, arg };
    return each_rows(db, st, health_each_call, &e, "r53 health each");
}

int
r53_store_health_set_status(struct db *db, const char *id, bool healthy, int64_t checked_ms,
                            const char *reason)
{
    sqlite3_stmt *st = db_stmt(db, SQL_HEALTH_STATUS);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    sqlite3_bind_int(st, 2, healthy);
    sqlite3_bind_int64(st, 3, checked_ms);
    db_bind_text(st, 4, reason);
    return db_step_done(db, st, "r53 health status");
}

int
r53_store_health_delete(struct db *db, const char *id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_HEALTH_DELETE);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    return db_step_done(db, st, "r53 health delete");
}

/* ---- tags ---- */

static const char SQL_TAG_PUT[] = "INSERT OR REPLACE INTO r53_tags (resource_type, resource_id, "
                                  "key, value) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_TAG_DELETE[] =
        "DELETE FROM r53_tags WHERE resource_type = ?1 AND resource_id = ?2 AND key = ?3";
static const char SQL_TAG_DELETE_ALL[] =
        "DELETE FROM r53_tags WHERE resource_type = ?1 AND resource_id = ?2";
static const char SQL_TAG_EACH[] = "SELECT key, value FROM r53_tags WHERE resource_type = ?1 AND "
                                   "resource_id = ?2 ORDER BY key";

int
r53_store_tag_put(struct db *db, const char *type, const char *id, const char *key,
                  const char *value)
{
    sqlite3_stmt *st = db_stmt(db, SQL_TAG_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, type);
    db_bind_text(st, 2, id);
    db_bind_text(st, 3, key);
    db_bind_text(st, 4, value ? value : "");
    return db_step_done(db, st, "r53 tag put");
}

int
r53_store_tag_delete(struct db *db, const char *type, const char *id, const char *key)
{
    sqlite3_stmt *st = db_stmt(db, SQL_TAG_DELETE);
    if (!st)
        return -1;
    db_bind_text(st, 1, type);
    db_bind_text(st, 2, id);
    db_bind_text(st, 3, key);
    return db_step_done(db, st, "r53 tag delete");
}

int
r53_store_tag_delete_all(struct db *db, const char *type, const char *id)
{
    sqlite3_stmt *st = db_stmt(db, SQL_TAG_DELETE_ALL);
    if (!st)
        return -1;
    db_bind_text(st, 1, type);
    db_bind_text(st, 2, id);
    return db_step_done(db, st, "r53 tag delete all");
}

struct tag_each {
    r53_store_tag_fn *fn; /* the caller's callback */
    void *arg;            /* its argument */
};

static int
tag_each_call(sqlite3_stmt *st, void *ctx)
{
    struct tag_each *e = ctx;
    return e->fn(e->arg, col_str(st, 0), col_str(st, 1));
}

int
r53_store_tag_each(struct db *db, const char *type, const char *id, r53_store_tag_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_TAG_EACH);
    if (!st)
        return -1;
    db_bind_text(st, 1, type);
    db_bind_text(st, 2, id);
    struct tag_each e = { fn, arg };
    return each_rows(db, st, tag_each_call, &e, "r53 tag each");
}
