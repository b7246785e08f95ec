/*
 * The SQL of the Classic Load Balancer (see elb.h): every statement is a static string
 * prepared once through db_stmt() and always bound, never built with printf. Nothing here
 * decides AWS behaviour; it only stores and finds rows.
 */
#include "../emulator/common.h"

#include "elb.h"
#include "db_internal.h"

/*
 * Collects every row of a listing statement into a malloc'd array of rows of `size` bytes,
 * each filled by conv. 0 (*out may be NULL when *n is 0) or -1.
 */
static int
list_rows(struct db *db, sqlite3_stmt *st, size_t size, void (*conv)(sqlite3_stmt *, void *),
          void **out, size_t *n, const char *what)
{
    char *rows = NULL;
    size_t count = 0, alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == alloc) {
            alloc = alloc ? 2 * alloc : 8;
            rows = xrealloc(rows, alloc * size);
        }
        memset(rows + count * size, 0, size);
        conv(st, rows + count * size);
        count++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(rows);
        *out = NULL;
        *n = 0;
        return db_error(db, what);
    }
    *out = rows;
    *n = count;
    return 0;
}

/* ---- load balancers ---- */

#define LB_COLS                                                                                    \
    "region, name, dns_name, scheme, vpc_id, zones, subnets, security_groups, hc_target, "         \
    "hc_interval, hc_timeout, hc_unhealthy, hc_healthy, cross_zone, drain_enabled, "               \
    "drain_timeout, idle_timeout, access_log, additional, tags, created_ms"

static const char SQL_LB_PUT[] = "INSERT OR REPLACE INTO elb_load_balancers (" LB_COLS
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                                 "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)";
static const char SQL_LB_GET[] =
        "SELECT " LB_COLS " FROM elb_load_balancers WHERE region = ?1 AND name = ?2";
static const char SQL_LB_GET_DNS[] = "SELECT " LB_COLS " FROM elb_load_balancers WHERE dns_name "
                                     "= ?1 COLLATE NOCASE ORDER BY region LIMIT 1";
static const char SQL_LB_LIST[] = "SELECT " LB_COLS " FROM elb_load_balancers WHERE ?1 IS NULL "
                                  "OR region = ?1 ORDER BY region, created_ms, rowid";
static const char SQL_LB_COUNT[] = "SELECT COUNT(*) FROM elb_load_balancers WHERE region = ?1";
static const char SQL_LB_DELETE[] =
        "DELETE FROM elb_load_balancers WHERE region = ?1 AND name = ?2";
static const char SQL_LB_DELETE_LISTENERS[] =
        "DELETE FROM elb_listeners WHERE region = ?1 AND lb_name = ?2";
static const char SQL_LB_DELETE_INSTANCES[] =
        "DELETE FROM elb_instances WHERE region = ?1 AND lb_name = ?2";

static void
lb_conv(sqlite3_stmt *st, void *out)
{
    struct elb_lb_row *r = out;
    db_col_text(st, 0, r->region, sizeof(r->region));
    db_col_text(st, 1, r->name, sizeof(r->name));
    db_col_text(st, 2, r->dns_name, sizeof(r->dns_name));
    db_col_text(st, 3, r->scheme, sizeof(r->scheme));
    db_col_text(st, 4, r->vpc_id, sizeof(r->vpc_id));
    db_col_text(st, 5, r->zones, sizeof(r->zones));
    db_col_text(st, 6, r->subnets, sizeof(r->subnets));
    db_col_text(st, 7, r->security_groups, sizeof(r->security_groups));
    db_col_text(st, 8, r->hc_target, sizeof(r->hc_target));
    r->hc_interval = sqlite3_column_int(st, 9);
    r->hc_timeout = sqlite3_column_int(st, 10);
    r->hc_unhealthy = sqlite3_column_int(st, 11);
    r->hc_healthy = sqlite3_column_int(st, 12);
    r->cross_zone = sqlite3_column_int(st, 13) != 0;
    r->drain_enabled = sqlite3_column_int(st, 14) != 0;
    r->drain_timeout = sqlite3_column_int(st, 15);
    r->idle_timeout = sqlite3_column_int(st, 16);
    db_col_text(st, 17, r->access_log, sizeof(r->access_log));
    db_col_text(st, 18, r->additional, sizeof(r->additional));
    db_col_text(st, 19, r->tags, sizeof(r->tags));
    r->created_ms = sqlite3_column_int64(st, 20);
}

int
elb_store_lb_put(struct db *db, const struct elb_lb_row *r)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LB_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, r->region);
    db_bind_text(st, 2, r->name);
    db_bind_text(st, 3, r->dns_name);
    db_bind_text(st, 4, r->scheme);
    db_bind_text(st, 5, r->vpc_id);
    db_bind_text(st, 6, r->zones);
    db_bind_text(st, 7, r->subnets);
    db_bind_text(st, 8, r->security_groups);
    db_bind_text(st, 9, r->hc_target);
    sqlite3_bind_int(st, 10, r->hc_interval);
    sqlite3_bind_int(st, 11, r->hc_timeout);
    sqlite3_bind_int(st, 12, r->hc_unhealthy);
    sqlite3_bind_int(st, 13, r->hc_healthy);
    sqlite3_bind_int(st, 14, r->cross_zone);
    sqlite3_bind_int(st, 15, r->drain_enabled);
    sqlite3_bind_int(st, 16, r->drain_timeout);
    sqlite3_bind_int(st, 17, r->idle_timeout);
    db_bind_text(st, 18, r->access_log);
    db_bind_text(st, 19, r->additional);
    db_bind_text(st, 20, r->tags);
    sqlite3_bind_int64(st, 21, r->created_ms);
    return db_step_done(db, st, "elb lb put");
}

int
elb_store_lb_get(struct db *db, const char *region, const char *name, struct elb_lb_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LB_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, name);
    return db_get_one(db, st, lb_conv, out, "elb lb get");
}

int
elb_store_lb_get_by_dns(struct db *db, const char *dns_name, struct elb_lb_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LB_GET_DNS);
    if (!st)
        return -1;
    db_bind_text(st, 1, dns_name);
    return db_get_one(db, st, lb_conv, out, "elb lb get by dns");
}

int
elb_store_lb_list(struct db *db, const char *region, struct elb_lb_row **out, size_t *n)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LB_LIST);
    if (!st)
        return -1;
    if (region)
        db_bind_text(st, 1, region);
    return list_rows(db, st, sizeof(**out), lb_conv, (void **)out, n, "elb lb list");
}

int
elb_store_lb_count(struct db *db, const char *region)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LB_COUNT);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    return db_query_int(db, st, "elb lb count");
}

int
elb_store_lb_delete(struct db *db, const char *region, const char *name)
{
    static const char *const sqls[] = { SQL_LB_DELETE_LISTENERS, SQL_LB_DELETE_INSTANCES,
                                        SQL_LB_DELETE };
    for (size_t i = 0; i < ARRAY_SIZE(sqls); i++) {
        sqlite3_stmt *st = db_stmt(db, sqls[i]);
        if (!st)
            return -1;
        db_bind_text(st, 1, region);
        db_bind_text(st, 2, name);
        if (db_step_done(db, st, "elb lb delete") < 0)
            return -1;
    }
    return 0;
}

/* ---- listeners ---- */

#define LISTENER_COLS                                                                              \
    "region, lb_name, lb_port, protocol, instance_protocol, instance_port, ssl_cert, host_port"

static const char SQL_LISTENER_PUT[] = "INSERT OR REPLACE INTO elb_listeners (" LISTENER_COLS
                                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_LISTENER_DELETE[] =
        "DELETE FROM elb_listeners WHERE region = ?1 AND lb_name = ?2 AND lb_port = ?3";
static const char SQL_LISTENER_LIST[] =
        "SELECT " LISTENER_COLS " FROM elb_listeners WHERE ?2 IS NULL OR (region = ?1 AND "
        "lb_name = ?2) ORDER BY region, lb_name, lb_port";
static const char SQL_LISTENER_HOST_PORT[] = "UPDATE elb_listeners SET host_port = ?4 WHERE "
                                             "region = ?1 AND lb_name = ?2 AND lb_port = ?3";

static void
listener_conv(sqlite3_stmt *st, void *out)
{
    struct elb_listener_row *r = out;
    db_col_text(st, 0, r->region, sizeof(r->region));
    db_col_text(st, 1, r->lb_name, sizeof(r->lb_name));
    r->lb_port = sqlite3_column_int(st, 2);
    db_col_text(st, 3, r->protocol, sizeof(r->protocol));
    db_col_text(st, 4, r->instance_protocol, sizeof(r->instance_protocol));
    r->instance_port = sqlite3_column_int(st, 5);
    db_col_text(st, 6, r->ssl_cert, sizeof(r->ssl_cert));
    r->host_port = sqlite3_column_int(st, 7);
}

int
elb_store_listener_put(struct db *db, const struct elb_listener_row *r)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LISTENER_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, r->region);
    db_bind_text(st, 2, r->lb_name);
    sqlite3_bind_int(st, 3, r->lb_port);
    db_bind_text(st, 4, r->protocol);
    db_bind_text(st, 5, r->instance_protocol);
    sqlite3_bind_int(st, 6, r->instance_port);
    db_bind_text(st, 7, r->ssl_cert);
    sqlite3_bind_int(st, 8, r->host_port);
    return db_step_done(db, st, "elb listener put");
}

int
elb_store_listener_delete(struct db *db, const char *region, const char *lb_name, int lb_port)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LISTENER_DELETE);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, lb_name);
    sqlite3_bind_int(st, 3, lb_port);
    return db_step_done(db, st, "elb listener delete");
}

int
elb_store_listener_list(struct db *db, const char *region, const char *lb_name,
                        struct elb_listener_row **out, size_t *n)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LISTENER_LIST);
    if (!st)
        return -1;
    if (lb_name) {
        db_bind_text(st, 1, region);
        db_bind_text(st, 2, lb_name);
    }
    return list_rows(db, st, sizeof(**out), listener_conv, (void **)out, n, "elb listener list");
}

int
elb_store_listener_set_host_port(struct db *db, const char *region, const char *lb_name,
                                 int lb_port, int host_port)
{
    sqlite3_stmt *st = db_stmt(db, SQL_LISTENER_HOST_PORT);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, lb_name);
    sqlite3_bind_int(st, 3, lb_port);
    sqlite3_bind_int(st, 4, host_port);
    return db_step_done(db, st, "elb listener host port");
}

/* ---- instances ---- */

#define INSTANCE_COLS                                                                              \
    "region, lb_name, instance_id, registered, drain_until_ms, in_service, ok_streak, "            \
    "fail_streak, checks, registered_ms"

static const char SQL_INSTANCE_PUT[] =
        "INSERT INTO elb_instances (" INSTANCE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
        "?9, ?10) ON CONFLICT (region, lb_name, instance_id) DO UPDATE SET registered = ?4, "
        "drain_until_ms = ?5, in_service = ?6, ok_streak = ?7, fail_streak = ?8, checks = ?9, "
        "registered_ms = ?10";
static const char SQL_INSTANCE_GET[] = "SELECT " INSTANCE_COLS " FROM elb_instances WHERE region "
                                       "= ?1 AND lb_name = ?2 AND instance_id = ?3";
static const char SQL_INSTANCE_LIST[] = "SELECT " INSTANCE_COLS " FROM elb_instances WHERE "
                                        "region = ?1 AND lb_name = ?2 ORDER BY rowid";
static const char SQL_INSTANCE_COUNT[] = "SELECT COUNT(*) FROM elb_instances WHERE region = ?1 "
                                         "AND lb_name = ?2 AND registered = 1";

static void
instance_conv(sqlite3_stmt *st, void *out)
{
    struct elb_instance_row *r = out;
    db_col_text(st, 0, r->region, sizeof(r->region));
    db_col_text(st, 1, r->lb_name, sizeof(r->lb_name));
    db_col_text(st, 2, r->instance_id, sizeof(r->instance_id));
    r->registered = sqlite3_column_int(st, 3) != 0;
    r->drain_until_ms = sqlite3_column_int64(st, 4);
    r->in_service = sqlite3_column_int(st, 5) != 0;
    r->ok_streak = sqlite3_column_int(st, 6);
    r->fail_streak = sqlite3_column_int(st, 7);
    r->checks = sqlite3_column_int(st, 8);
    r->registered_ms = sqlite3_column_int64(st, 9);
}

int
elb_store_instance_put(struct db *db, const struct elb_instance_row *r)
{
    sqlite3_stmt *st = db_stmt(db, SQL_INSTANCE_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, r->region);
    db_bind_text(st, 2, r->lb_name);
    db_bind_text(st, 3, r->instance_id);
    sqlite3_bind_int(st, 4, r->registered);
    sqlite3_bind_int64(st, 5, r->drain_until_ms);
    sqlite3_bind_int(st, 6, r->in_service);
    sqlite3_bind_int(st, 7, r->ok_streak);
    sqlite3_bind_int(st, 8, r->fail_streak);
    sqlite3_bind_int(st, 9, r->checks);
    sqlite3_bind_int64(st, 10, r->registered_ms);
    return db_step_done(db, st, "elb instance put");
}

int
elb_store_instance_get(struct db *db, const char *region, const char *lb_name,
                       const char *instance_id, struct elb_instance_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_INSTANCE_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, lb_name);
    db_bind_text(st, 3, instance_id);
    return db_get_one(db, st, instance_conv, out, "elb instance get");
}

int
elb_store_instance_list(struct db *db, const char *region, const char *lb_name,
                        struct elb_instance_row **out, size_t *n)
{
    sqlite3_stmt *st = db_stmt(db, SQL_INSTANCE_LIST);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, lb_name);
    return list_rows(db, st, sizeof(**out), instance_conv, (void **)out, n, "elb instance list");
}

int
elb_store_instance_count(struct db *db, const char *region, const char *lb_name)
{
    sqlite3_stmt *st = db_stmt(db, SQL_INSTANCE_COUNT);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, lb_name);
    return db_query_int(db, st, "elb instance count");
}
