/*
 * The Auto Scaling store (see autoscaling.h): prepared statements over the tables of
 * state/schema_autoscaling.c. No Auto Scaling rules here, only rows.
 */
#include "../emulator/common.h"
#include "autoscaling.h"

#include "db_internal.h"

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

/* Binds region, or NULL (the statements say "?n IS NULL OR region = ?n"). */
static void
bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        bind_text(st, i, s);
    else
        sqlite3_bind_null(st, i);
}

/* One integer of a "SELECT count(*)" with one or two text parameters. */
static int
count_rows(struct db *db, const char *sql, const char *a, const char *b, int *count)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, a);
    if (b)
        bind_text(st, 2, b);
    int rc = sqlite3_step(st);
    *count = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : db_error(db, "count");
}

void
asg_rec_set(char **field, const char *value)
{
    char *copy = xstrdup(value ? value : "");
    free(*field);
    *field = copy;
}

/* Grows *arr (of elem-sized items) to hold one more; returns the new (zeroed) item. */
static void *
push(void **arr, size_t *n, size_t *alloc, size_t elem)
{
    if (*n == *alloc) {
        *alloc = *alloc ? 2 * *alloc : 8;
        *arr = xrealloc(*arr, *alloc * elem);
    }
    void *item = (char *)*arr + (*n)++ * elem;
    memset(item, 0, elem);
    return item;
}

/* ---- launch configurations ---- */

void
asg_lc_rec_release(struct asg_lc_rec *r)
{
    if (!r)
        return;
    free(r->data);
    r->data = NULL;
}

int
asg_store_put_lc(struct db *db, const struct asg_lc_rec *r)
{
    static const char sql[] = "INSERT OR IGNORE INTO asg_launch_configs (region, name, arn, "
                              "created_ms, data) VALUES (?1, ?2, ?3, ?4, ?5)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, r->region);
    bind_text(st, 2, r->name);
    bind_text(st, 3, r->arn);
    sqlite3_bind_int64(st, 4, r->created_ms);
    bind_text(st, 5, r->data);
    if (db_step_done(db, st, "put launch configuration") < 0)
        return -1;
    return sqlite3_changes(db_sqlite(db)) > 0 ? 1 : 0;
}

#define LC_COLUMNS "region, name, arn, created_ms, data"

static void
row_to_lc(sqlite3_stmt *st, void *out)
{
    struct asg_lc_rec *r = out;
    asg_lc_rec_release(r);
    db_col_text(st, 0, r->region, sizeof(r->region));
    db_col_text(st, 1, r->name, sizeof(r->name));
    db_col_text(st, 2, r->arn, sizeof(r->arn));
    r->created_ms = sqlite3_column_int64(st, 3);
    r->data = db_col_dup(st, 4);
}

int
asg_store_get_lc(struct db *db, const char *region, const char *name, struct asg_lc_rec *r)
{
    static const char sql[] =
            "SELECT " LC_COLUMNS " FROM asg_launch_configs WHERE region = ?1 AND name = ?2";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    bind_text(st, 2, name);
    return db_get_one(db, st, row_to_lc, r, "get launch configuration");
}

int
asg_store_list_lcs(struct db *db, const char *region, struct asg_lc_rec **out, size_t *n)
{
    static const char sql[] =
            "SELECT " LC_COLUMNS " FROM asg_launch_configs WHERE region = ?1 ORDER BY name";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        row_to_lc(st, push((void **)out, n, &alloc, sizeof(**out)));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_error(db, "list launch configurations");
}

void
asg_lc_recs_free(struct asg_lc_rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        asg_lc_rec_release(&recs[i]);
    free(recs);
}

int
asg_store_delete_lc(struct db *db, const char *region, const char *name)
{
    static const char sql[] = "DELETE FROM asg_launch_configs WHERE region = ?1 AND name = ?2";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    bind_text(st, 2, name);
    return db_step_done(db, st, "delete launch configuration");
}

int
asg_store_count_lcs(struct db *db, const char *region, int *count)
{
    static const char sql[] = "SELECT count(*) FROM asg_launch_configs WHERE region = ?1";
    return count_rows(db, sql, region, NULL, count);
}

/* ---- groups ---- */

#define GROUP_COLUMNS                                                                              \
    "region, name, arn, created_ms, min_size, max_size, desired, default_cooldown, grace, "        \
    "health_check_type, lc_name, protect_new, last_scaling_ms, launch_template, azs, subnets, "    \
    "vpc_zone, lbs, tgs, policies, suspended, cause"

void
asg_group_rec_init(struct asg_group_rec *r)
{
    memset(r, 0, sizeof(*r));
}

void
asg_group_rec_release(struct asg_group_rec *r)
{
    if (!r)
        return;
    char **owned[] = { &r->launch_template, &r->azs,       &r->subnets,
                       &r->vpc_zone,        &r->lbs,       &r->tgs,
                       &r->policies,        &r->suspended, &r->cause };
    for (size_t i = 0; i < ARRAY_SIZE(owned); i++) {
        free(*owned[i]);
        *owned[i] = NULL;
    }
}

static void
row_to_group(sqlite3_stmt *st, void *out)
{
    struct asg_group_rec *r = out;
    asg_group_rec_release(r);
    db_col_text(st, 0, r->region, sizeof(r->region));
    db_col_text(st, 1, r->name, sizeof(r->name));
    db_col_text(st, 2, r->arn, sizeof(r->arn));
    r->created_ms = sqlite3_column_int64(st, 3);
    r->min_size = sqlite3_column_int(st, 4);
    r->max_size = sqlite3_column_int(st, 5);
    r->desired = sqlite3_column_int(st, 6);
    r->default_cooldown = sqlite3_column_int(st, 7);
    r->grace = sqlite3_column_int(st, 8);
    db_col_text(st, 9, r->health_check_type, sizeof(r->health_check_type));
    db_col_text(st, 10, r->lc_name, sizeof(r->lc_name));
    r->protect_new = sqlite3_column_int(st, 11) != 0;
    r->last_scaling_ms = sqlite3_column_int64(st, 12);
    r->launch_template = db_col_dup(st, 13);
    r->azs = db_col_dup(st, 14);
    r->subnets = db_col_dup(st, 15);
    r->vpc_zone = db_col_dup(st, 16);
    r->lbs = db_col_dup(st, 17);
    r->tgs = db_col_dup(st, 18);
    r->policies = db_col_dup(st, 19);
    r->suspended = db_col_dup(st, 20);
    r->cause = db_col_dup(st, 21);
}

int
asg_store_put_group(struct db *db, const struct asg_group_rec *r)
{
    static const char sql[] =
            "INSERT INTO asg_groups (" GROUP_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
            "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22) "
            "ON CONFLICT (region, name) DO UPDATE SET arn = ?3, created_ms = ?4, min_size = ?5, "
            "max_size = ?6, desired = ?7, default_cooldown = ?8, grace = ?9, "
            "health_check_type = ?10, lc_name = ?11, protect_new = ?12, last_scaling_ms = ?13, "
            "launch_template = ?14, azs = ?15, subnets = ?16, vpc_zone = ?17, lbs = ?18, "
            "tgs = ?19, policies = ?20, suspended = ?21, cause = ?22";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, r->region);
    bind_text(st, 2, r->name);
    bind_text(st, 3, r->arn);
    sqlite3_bind_int64(st, 4, r->created_ms);
    sqlite3_bind_int(st, 5, r->min_size);
    sqlite3_bind_int(st, 6, r->max_size);
    sqlite3_bind_int(st, 7, r->desired);
    sqlite3_bind_int(st, 8, r->default_cooldown);
    sqlite3_bind_int(st, 9, r->grace);
    bind_text(st, 10, r->health_check_type);
    bind_text(st, 11, r->lc_name);
    sqlite3_bind_int(st, 12, r->protect_new);
    sqlite3_bind_int64(st, 13, r->last_scaling_ms);
    bind_text(st, 14, r->launch_template);
    bind_text(st, 15, r->azs ? r->azs : "[]");
    bind_text(st, 16, r->subnets ? r->subnets : "{}");
    bind_text(st, 17, r->vpc_zone);
    bind_text(st, 18, r->lbs ? r->lbs : "[]");
    bind_text(st, 19, r->tgs ? r->tgs : "[]");
    bind_text(st, 20, r->policies ? r->policies : "[\"Default\"]");
    bind_text(st, 21, r->suspended ? r->suspended : "[]");
    bind_text(st, 22, r->cause);
    return db_step_done(db, st, "put group");
}

int
asg_store_get_group(struct db *db, const char *region, const char *name, struct asg_group_rec *r)
{
    static const char sql[] =
            "SELECT " GROUP_COLUMNS " FROM asg_groups WHERE region = ?1 AND name = ?2";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    bind_text(st, 2, name);
    return db_get_one(db, st, row_to_group, r, "get group");
}

int
asg_store_list_groups(struct db *db, const char *region, struct asg_group_rec **out, size_t *n)
{
    static const char sql[] = "SELECT " GROUP_COLUMNS " FROM asg_groups "
                              "WHERE ?1 IS NULL OR region = ?1 ORDER BY region, name";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_opt(st, 1, region);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        row_to_group(st, push((void **)out, n, &alloc, sizeof(**out)));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_error(db, "list groups");
}

void
asg_group_recs_free(struct asg_group_rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        asg_group_rec_release(&recs[i]);
    free(recs);
}

int
asg_store_delete_group(struct db *db, const char *region, const char *name)
{
    static const char *const sqls[] = {
        "DELETE FROM asg_instances WHERE region = ?1 AND group_name = ?2",
        "DELETE FROM asg_lifecycle_hooks WHERE region = ?1 AND group_name = ?2",
        "DELETE FROM asg_launches WHERE region = ?1 AND group_name = ?2",
        "DELETE FROM asg_launch_watch WHERE region = ?1 AND group_name = ?2",
        "DELETE FROM asg_groups WHERE region = ?1 AND name = ?2",
    };
    for (size_t i = 0; i < ARRAY_SIZE(sqls); i++) {
        sqlite3_stmt *st = db_stmt(db, sqls[i]);
        if (!st)
            return -1;
        bind_text(st, 1, region);
        bind_text(st, 2, name);
        if (db_step_done(db, st, "delete group") < 0)
            return -1;
    }
    return 0;
}

int
asg_store_count_groups(struct db *db, const char *region, int *count)
{
    static const char sql[] = "SELECT count(*) FROM asg_groups WHERE region = ?1";
    return count_rows(db, sql, region, NULL, count);
}

/* ---- instances ---- */

#define INST_COLUMNS                                                                               \
    "id, region, group_name, az, state, health, protected, lc_name, instance_type, image_id, "     \
    "launched_ms, in_service_ms, activity_id, launch_template, actions, health_cause, "            \
    "drain_until_ms"

void
asg_inst_rec_init(struct asg_inst_rec *r)
{
    memset(r, 0, sizeof(*r));
}

void
asg_inst_rec_release(struct asg_inst_rec *r)
{
    if (!r)
        return;
    free(r->launch_template);
    free(r->actions);
    free(r->health_cause);
    r->launch_template = r->actions = r->health_cause = NULL;
}

void
asg_inst_rec_copy(struct asg_inst_rec *dst, const struct asg_inst_rec *src)
{
    *dst = *src;
    dst->launch_template = src->launch_template ? xstrdup(src->launch_template) : NULL;
    dst->actions = src->actions ? xstrdup(src->actions) : NULL;
    dst->health_cause = src->health_cause ? xstrdup(src->health_cause) : NULL;
}

static bool
same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

bool
asg_inst_rec_equal(const struct asg_inst_rec *a, const struct asg_inst_rec *b)
{
    return same_str(a->id, b->id) && same_str(a->region, b->region) &&
           same_str(a->group, b->group) && same_str(a->az, b->az) && same_str(a->state, b->state) &&
           same_str(a->health, b->health) && a->protected_ == b->protected_ &&
           same_str(a->lc_name, b->lc_name) && same_str(a->instance_type, b->instance_type) &&
           same_str(a->image_id, b->image_id) && a->launched_ms == b->launched_ms &&
           a->in_service_ms == b->in_service_ms && same_str(a->activity_id, b->activity_id) &&
           same_str(a->launch_template, b->launch_template) && same_str(a->actions, b->actions) &&
           same_str(a->health_cause, b->health_cause) && a->drain_until_ms == b->drain_until_ms;
}

static void
row_to_inst(sqlite3_stmt *st, void *out)
{
    struct asg_inst_rec *r = out;
    asg_inst_rec_release(r);
    db_col_text(st, 0, r->id, sizeof(r->id));
    db_col_text(st, 1, r->region, sizeof(r->region));
    db_col_text(st, 2, r->group, sizeof(r->group));
    db_col_text(st, 3, r->az, sizeof(r->az));
    db_col_text(st, 4, r->state, sizeof(r->state));
    db_col_text(st, 5, r->health, sizeof(r->health));
    r->protected_ = sqlite3_column_int(st, 6) != 0;
    db_col_text(st, 7, r->lc_name, sizeof(r->lc_name));
    db_col_text(st, 8, r->instance_type, sizeof(r->instance_type));
    db_col_text(st, 9, r->image_id, sizeof(r->image_id));
    r->launched_ms = sqlite3_column_int64(st, 10);
    r->in_service_ms = sqlite3_column_int64(st, 11);
    db_col_text(st, 12, r->activity_id, sizeof(r->activity_id));
    r->launch_template = db_col_dup(st, 13);
    r->actions = db_col_dup(st, 14);
    r->health_cause = db_col_dup(st, 15);
    r->drain_until_ms = sqlite3_column_int64(st, 16);
}

int
asg_store_put_inst(struct db *db, const struct asg_inst_rec *r)
{
    static const char sql[] =
            "INSERT INTO asg_instances (" INST_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
            "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) ON CONFLICT (id) DO UPDATE SET "
            "region = ?2, group_name = ?3, az = ?4, state = ?5, health = ?6, protected = ?7, "
            "lc_name = ?8, instance_type = ?9, image_id = ?10, launched_ms = ?11, "
            "in_service_ms = ?12, activity_id = ?13, launch_template = ?14, actions = ?15, "
            "health_cause = ?16, drain_until_ms = ?17";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, r->id);
    bind_text(st, 2, r->region);
    bind_text(st, 3, r->group);
    bind_text(st, 4, r->az);
    bind_text(st, 5, r->state);
    bind_text(st, 6, r->health);
    sqlite3_bind_int(st, 7, r->protected_);
    bind_text(st, 8, r->lc_name);
    bind_text(st, 9, r->instance_type);
    bind_text(st, 10, r->image_id);
    sqlite3_bind_int64(st, 11, r->launched_ms);
    sqlite3_bind_int64(st, 12, r->in_service_ms);
    bind_text(st, 13, r->activity_id);
    bind_text(st, 14, r->launch_template);
    bind_text(st, 15, r->actions ? r->actions : "[]");
    bind_text(st, 16, r->health_cause);
    sqlite3_bind_int64(st, 17, r->drain_until_ms);
    return db_step_done(db, st, "put group instance");
}

int
asg_store_get_inst(struct db *db, const char *id, struct asg_inst_rec *r)
{
    static const char sql[] = "SELECT " INST_COLUMNS " FROM asg_instances WHERE id = ?1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, id);
    return db_get_one(db, st, row_to_inst, r, "get group instance");
}

int
asg_store_list_insts(struct db *db, const char *region, const char *group,
                     struct asg_inst_rec **out, size_t *n)
{
    static const char sql[] = "SELECT " INST_COLUMNS " FROM asg_instances "
                              "WHERE (?1 IS NULL OR region = ?1) AND "
                              "(?2 IS NULL OR group_name = ?2) ORDER BY rowid";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_opt(st, 1, region);
    bind_opt(st, 2, group);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        row_to_inst(st, push((void **)out, n, &alloc, sizeof(**out)));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_error(db, "list group instances");
}

void
asg_inst_recs_free(struct asg_inst_rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        asg_inst_rec_release(&recs[i]);
    free(recs);
}

int
asg_store_delete_inst(struct db *db, const char *id)
{
    static const char sql[] = "DELETE FROM asg_instances WHERE id = ?1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, id);
    return db_step_done(db, st, "delete group instance");
}

/* ---- lifecycle hooks ---- */

#define HOOK_COLUMNS                                                                               \
    "region, group_name, name, transition, heartbeat, default_result, target_arn, role_arn, "      \
    "metadata"

static void
row_to_hook(sqlite3_stmt *st, void *out)
{
    struct asg_hook_rec *r = out;
    db_col_text(st, 0, r->region, sizeof(r->region));
    db_col_text(st, 1, r->group, sizeof(r->group));
    db_col_text(st, 2, r->name, sizeof(r->name));
    db_col_text(st, 3, r->transition, sizeof(r->transition));
    r->heartbeat = sqlite3_column_int(st, 4);
    db_col_text(st, 5, r->default_result, sizeof(r->default_result));
    db_col_text(st, 6, r->target_arn, sizeof(r->target_arn));
    db_col_text(st, 7, r->role_arn, sizeof(r->role_arn));
    db_col_text(st, 8, r->metadata, sizeof(r->metadata));
}

int
asg_store_put_hook(struct db *db, const struct asg_hook_rec *r)
{
    static const char sql[] =
            "INSERT INTO asg_lifecycle_hooks (" HOOK_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
            "?7, ?8, ?9) ON CONFLICT (region, group_name, name) DO UPDATE SET transition = ?4, "
            "heartbeat = ?5, default_result = ?6, target_arn = ?7, role_arn = ?8, metadata = ?9";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, r->region);
    bind_text(st, 2, r->group);
    bind_text(st, 3, r->name);
    bind_text(st, 4, r->transition);
    sqlite3_bind_int(st, 5, r->heartbeat);
    bind_text(st, 6, r->default_result);
    bind_text(st, 7, r->target_arn);
    bind_text(st, 8, r->role_arn);
    bind_text(st, 9, r->metadata);
    return db_step_done(db, st, "put lifecycle hook");
}

int
asg_store_get_hook(struct db *db, const char *region, const char *group, const char *name,
                   struct asg_hook_rec *r)
{
    static const char sql[] = "SELECT " HOOK_COLUMNS " FROM asg_lifecycle_hooks "
                              "WHERE region = ?1 AND group_name = ?2 AND name = ?3";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    bind_text(st, 2, group);
    bind_text(st, 3, name);
    return db_get_one(db, st, row_to_hook, r, "get lifecycle hook");
}

int
asg_store_list_hooks(struct db *db, const char *region, const char *group,
                     struct asg_hook_rec **out, size_t *n)
{
    static const char sql[] = "SELECT " HOOK_COLUMNS " FROM asg_lifecycle_hooks "
                              "WHERE region = ?1 AND group_name = ?2 ORDER BY name";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    bind_text(st, 2, group);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        row_to_hook(st, push((void **)out, n, &alloc, sizeof(**out)));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_error(db, "list lifecycle hooks");
}

int
asg_store_delete_hook(struct db *db, const char *region, const char *group, const char *name)
{
    static const char sql[] = "DELETE FROM asg_lifecycle_hooks "
                              "WHERE region = ?1 AND group_name = ?2 AND name = ?3";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    bind_text(st, 2, group);
    bind_text(st, 3, name);
    return db_step_done(db, st, "delete lifecycle hook");
}

/* ---- activities ---- */

#define ACTIVITY_COLUMNS                                                                           \
    "id, region, group_name, group_arn, description, cause, start_ms, end_ms, status_code, "       \
    "status_message, progress, details"

static void
row_to_activity(sqlite3_stmt *st, void *out)
{
    struct asg_activity_rec *r = out;
    db_col_text(st, 0, r->id, sizeof(r->id));
    db_col_text(st, 1, r->region, sizeof(r->region));
    db_col_text(st, 2, r->group, sizeof(r->group));
    db_col_text(st, 3, r->group_arn, sizeof(r->group_arn));
    db_col_text(st, 4, r->description, sizeof(r->description));
    db_col_text(st, 5, r->cause, sizeof(r->cause));
    r->start_ms = sqlite3_column_int64(st, 6);
    r->end_ms = sqlite3_column_int64(st, 7);
    db_col_text(st, 8, r->status_code, sizeof(r->status_code));
    db_col_text(st, 9, r->status_message, sizeof(r->status_message));
    r->progress = sqlite3_column_int(st, 10);
    db_col_text(st, 11, r->details, sizeof(r->details));
}

int
asg_store_put_activity(struct db *db, const struct asg_activity_rec *r)
{
    static const char sql[] =
            "INSERT INTO asg_activities (" ACTIVITY_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
            "?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (id) DO UPDATE SET description = ?5, "
            "cause = ?6, end_ms = ?8, status_code = ?9, status_message = ?10, progress = ?11, "
            "details = ?12";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, r->id);
    bind_text(st, 2, r->region);
    bind_text(st, 3, r->group);
    bind_text(st, 4, r->group_arn);
    bind_text(st, 5, r->description);
    bind_text(st, 6, r->cause);
    sqlite3_bind_int64(st, 7, r->start_ms);
    sqlite3_bind_int64(st, 8, r->end_ms);
    bind_text(st, 9, r->status_code);
    bind_text(st, 10, r->status_message);
    sqlite3_bind_int(st, 11, r->progress);
    bind_text(st, 12, r->details);
    return db_step_done(db, st, "put activity");
}

int
asg_store_get_activity(struct db *db, const char *id, struct asg_activity_rec *r)
{
    static const char sql[] = "SELECT " ACTIVITY_COLUMNS " FROM asg_activities WHERE id = ?1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, id);
    return db_get_one(db, st, row_to_activity, r, "get activity");
}

int
asg_store_list_activities(struct db *db, const char *region, const char *group,
                          struct asg_activity_rec **out, size_t *n)
{
    static const char sql[] = "SELECT " ACTIVITY_COLUMNS " FROM asg_activities "
                              "WHERE region = ?1 AND (?2 IS NULL OR group_name = ?2) "
                              "ORDER BY seq DESC";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    bind_opt(st, 2, group);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        row_to_activity(st, push((void **)out, n, &alloc, sizeof(**out)));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_error(db, "list activities");
}

/* ---- the launch ledger and the launch-loop watch ---- */

int
asg_store_add_launch(struct db *db, const char *region, const char *group, const char *id,
                     int64_t launched_ms)
{
    static const char sql[] = "INSERT OR REPLACE INTO asg_launches (instance_id, region, "
                              "group_name, launched_ms, ended_ms) VALUES (?1, ?2, ?3, ?4, 0)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, id);
    bind_text(st, 2, region);
    bind_text(st, 3, group);
    sqlite3_bind_int64(st, 4, launched_ms);
    return db_step_done(db, st, "add launch");
}

int
asg_store_end_launch(struct db *db, const char *id, int64_t ended_ms)
{
    static const char sql[] =
            "UPDATE asg_launches SET ended_ms = ?2 WHERE instance_id = ?1 AND ended_ms = 0";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, ended_ms);
    return db_step_done(db, st, "end launch");
}

int
asg_store_list_launches(struct db *db, const char *region, const char *group, int64_t since_ms,
                        struct asg_launch_rec **out, size_t *n)
{
    static const char sql[] = "SELECT instance_id, launched_ms, ended_ms FROM asg_launches "
                              "WHERE region = ?1 AND group_name = ?2 AND launched_ms >= ?3 "
                              "ORDER BY launched_ms, rowid";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    bind_text(st, 2, group);
    sqlite3_bind_int64(st, 3, since_ms);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct asg_launch_rec *r = push((void **)out, n, &alloc, sizeof(**out));
        db_col_text(st, 0, r->id, sizeof(r->id));
        r->launched_ms = sqlite3_column_int64(st, 1);
        r->ended_ms = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_error(db, "list launches");
}

int
asg_store_get_watch(struct db *db, const char *region, const char *group, int64_t *unsteady_ms,
                    int64_t *alarm_ms)
{
    static const char sql[] = "SELECT unsteady_ms, alarm_ms FROM asg_launch_watch "
                              "WHERE region = ?1 AND group_name = ?2";
    *unsteady_ms = *alarm_ms = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    bind_text(st, 2, group);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *unsteady_ms = sqlite3_column_int64(st, 0);
        *alarm_ms = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : db_error(db, "get launch watch");
}

int
asg_store_put_watch(struct db *db, const char *region, const char *group, int64_t unsteady_ms,
                    int64_t alarm_ms)
{
    static const char sql[] = "INSERT INTO asg_launch_watch (region, group_name, unsteady_ms, "
                              "alarm_ms) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (region, group_name) "
                              "DO UPDATE SET unsteady_ms = ?3, alarm_ms = ?4";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    bind_text(st, 2, group);
    sqlite3_bind_int64(st, 3, unsteady_ms);
    sqlite3_bind_int64(st, 4, alarm_ms);
    return db_step_done(db, st, "put launch watch");
}
