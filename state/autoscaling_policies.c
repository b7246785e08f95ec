/*
 * The SQL of Auto Scaling tags, scaling policies and scheduled actions (see
 * autoscaling_policies.h): every statement is a static string prepared once through
 * db_stmt() and always bound, never built with printf. Nothing here decides AWS behaviour.
 */
#include "../emulator/common.h"

#include "autoscaling_policies.h"
#include "db_internal.h"

/* Binds an optional text: "" is NULL. */
static void
bind_text_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s[0])
        db_bind_text(st, i, s);
    else
        sqlite3_bind_null(st, i);
}

/* Binds an optional integer: absent is NULL. */
static void
bind_int_opt(sqlite3_stmt *st, int i, bool has, int64_t v)
{
    if (has)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* Column i as an optional integer (ASG_STORE_NONE when NULL). */
static int64_t
col_int_opt(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? ASG_STORE_NONE : sqlite3_column_int64(st, i);
}

/* Binds (region, group[, name]) as ?1, ?2[, ?3] and steps a statement returning no rows. */
static int
exec_keyed(struct db *db, const char *sql, const char *region, const char *group, const char *name,
           const char *what)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, group);
    if (name)
        db_bind_text(st, 3, name);
    return db_step_done(db, st, what);
}

/* Binds (region, group) and returns the COUNT the statement computes. */
static int
count_keyed(struct db *db, const char *sql, const char *region, const char *group, const char *what)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, group);
    return db_query_int(db, st, what);
}

/* ---- tags ---- */

static const char SQL_TAG_PUT[] =
        "INSERT INTO asg_tags (region, group_name, key, value, propagate) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (region, group_name, key) "
        "DO UPDATE SET value = excluded.value, propagate = excluded.propagate";
static const char SQL_TAG_DELETE_ANY[] =
        "DELETE FROM asg_tags WHERE region = ?1 AND group_name = ?2 AND key = ?3";
static const char SQL_TAG_DELETE_VALUE[] = "DELETE FROM asg_tags WHERE region = ?1 AND "
                                           "group_name = ?2 AND key = ?3 AND value = ?4";
static const char SQL_TAG_COUNT[] =
        "SELECT COUNT(*) FROM asg_tags WHERE region = ?1 AND group_name = ?2";
static const char SQL_TAG_EACH_GROUP[] =
        "SELECT region, group_name, key, value, propagate FROM asg_tags "
        "WHERE region = ?1 AND group_name = ?2 ORDER BY key";
static const char SQL_TAG_EACH[] = "SELECT region, group_name, key, value, propagate FROM asg_tags "
                                   "WHERE region = ?1 ORDER BY group_name, key";
static const char SQL_TAG_DROP[] = "DELETE FROM asg_tags WHERE region = ?1 AND group_name = ?2";

int
asg_store_tag_put(struct db *db, const struct asg_tag_row *row)
{
    sqlite3_stmt *st = db_stmt(db, SQL_TAG_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, row->region);
    db_bind_text(st, 2, row->group);
    db_bind_text(st, 3, row->key);
    db_bind_text(st, 4, row->value);
    sqlite3_bind_int(st, 5, row->propagate);
    return db_step_done(db, st, "asg tag put");
}

int
asg_store_tag_delete(struct db *db, const char *region, const char *group, const char *key,
                     const char *value)
{
    sqlite3_stmt *st = db_stmt(db, value ? SQL_TAG_DELETE_VALUE : SQL_TAG_DELETE_ANY);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, group);
    db_bind_text(st, 3, key);
    if (value)
        db_bind_text(st, 4, value);
    return db_step_done(db, st, "asg tag delete");
}

int
asg_store_tag_count(struct db *db, const char *region, const char *group)
{
    return count_keyed(db, SQL_TAG_COUNT, region, group, "asg tag count");
}

int
asg_store_tag_each(struct db *db, const char *region, const char *group, asg_store_tag_fn *fn,
                   void *arg)
{
    sqlite3_stmt *st = db_stmt(db, group ? SQL_TAG_EACH_GROUP : SQL_TAG_EACH);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    if (group)
        db_bind_text(st, 2, group);
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct asg_tag_row row;
        db_col_text(st, 0, row.region, sizeof(row.region));
        db_col_text(st, 1, row.group, sizeof(row.group));
        db_col_text(st, 2, row.key, sizeof(row.key));
        db_col_text(st, 3, row.value, sizeof(row.value));
        row.propagate = sqlite3_column_int(st, 4) != 0;
        ret = fn(arg, &row);
        if (ret != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_error(db, "asg tag each");
    sqlite3_reset(st);
    return ret;
}

int
asg_store_tag_drop_group(struct db *db, const char *region, const char *group)
{
    return exec_keyed(db, SQL_TAG_DROP, region, group, NULL, "asg tag drop");
}

/* ---- scaling policies ---- */

#define POLICY_COLS                                                                                \
    "region, group_name, name, arn, policy_type, adjustment_type, min_adjustment_magnitude, "      \
    "scaling_adjustment, cooldown, metric_aggregation_type, estimated_instance_warmup, "           \
    "step_adjustments, enabled, created_ms"

static const char SQL_POLICY_PUT[] =
        "INSERT OR REPLACE INTO asg_policies (" POLICY_COLS ") "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
static const char SQL_POLICY_GET[] = "SELECT " POLICY_COLS " FROM asg_policies "
                                     "WHERE region = ?1 AND group_name = ?2 AND name = ?3";
static const char SQL_POLICY_GET_ARN[] =
        "SELECT " POLICY_COLS " FROM asg_policies WHERE region = ?1 AND arn = ?2";
static const char SQL_POLICY_EACH_GROUP[] = "SELECT " POLICY_COLS " FROM asg_policies "
                                            "WHERE region = ?1 AND group_name = ?2 ORDER BY name";
static const char SQL_POLICY_EACH[] = "SELECT " POLICY_COLS " FROM asg_policies "
                                      "WHERE region = ?1 ORDER BY group_name, name";
static const char SQL_POLICY_COUNT[] =
        "SELECT COUNT(*) FROM asg_policies WHERE region = ?1 AND group_name = ?2";
static const char SQL_POLICY_DELETE[] =
        "DELETE FROM asg_policies WHERE region = ?1 AND group_name = ?2 AND name = ?3";
static const char SQL_POLICY_DROP[] =
        "DELETE FROM asg_policies WHERE region = ?1 AND group_name = ?2";

static void
policy_from_row(sqlite3_stmt *st, struct asg_policy_row *p)
{
    db_col_text(st, 0, p->region, sizeof(p->region));
    db_col_text(st, 1, p->group, sizeof(p->group));
    db_col_text(st, 2, p->name, sizeof(p->name));
    db_col_text(st, 3, p->arn, sizeof(p->arn));
    db_col_text(st, 4, p->policy_type, sizeof(p->policy_type));
    db_col_text(st, 5, p->adjustment_type, sizeof(p->adjustment_type));
    p->has_min_magnitude = sqlite3_column_type(st, 6) != SQLITE_NULL;
    p->min_magnitude = sqlite3_column_int(st, 6);
    p->has_scaling_adjustment = sqlite3_column_type(st, 7) != SQLITE_NULL;
    p->scaling_adjustment = sqlite3_column_int(st, 7);
    p->has_cooldown = sqlite3_column_type(st, 8) != SQLITE_NULL;
    p->cooldown = sqlite3_column_int(st, 8);
    db_col_text(st, 9, p->metric_aggregation_type, sizeof(p->metric_aggregation_type));
    p->has_warmup = sqlite3_column_type(st, 10) != SQLITE_NULL;
    p->warmup = sqlite3_column_int(st, 10);
    db_col_text(st, 11, p->steps, sizeof(p->steps));
    p->enabled = sqlite3_column_int(st, 12) != 0;
    p->created_ms = sqlite3_column_int64(st, 13);
}

int
asg_store_policy_put(struct db *db, const struct asg_policy_row *p)
{
    sqlite3_stmt *st = db_stmt(db, SQL_POLICY_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, p->region);
    db_bind_text(st, 2, p->group);
    db_bind_text(st, 3, p->name);
    db_bind_text(st, 4, p->arn);
    db_bind_text(st, 5, p->policy_type);
    bind_text_opt(st, 6, p->adjustment_type);
    bind_int_opt(st, 7, p->has_min_magnitude, p->min_magnitude);
    bind_int_opt(st, 8, p->has_scaling_adjustment, p->scaling_adjustment);
    bind_int_opt(st, 9, p->has_cooldown, p->cooldown);
    bind_text_opt(st, 10, p->metric_aggregation_type);
    bind_int_opt(st, 11, p->has_warmup, p->warmup);
    bind_text_opt(st, 12, p->steps);
    sqlite3_bind_int(st, 13, p->enabled);
    sqlite3_bind_int64(st, 14, p->created_ms);
    return db_step_done(db, st, "asg policy put");
}

/* Steps a bound single-row policy look-up: 1, 0 or -1. */
static int
policy_lookup(struct db *db, sqlite3_stmt *st, struct asg_policy_row *out)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        policy_from_row(st, out);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error(db, "asg policy get");
    return rc == SQLITE_ROW;
}

int
asg_store_policy_get(struct db *db, const char *region, const char *group, const char *name,
                     struct asg_policy_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_POLICY_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, group);
    db_bind_text(st, 3, name);
    return policy_lookup(db, st, out);
}

int
asg_store_policy_get_by_arn(struct db *db, const char *region, const char *arn,
                            struct asg_policy_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_POLICY_GET_ARN);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, arn);
    return policy_lookup(db, st, out);
}

int
asg_store_policy_each(struct db *db, const char *region, const char *group, asg_store_policy_fn *fn,
                      void *arg)
{
    sqlite3_stmt *st = db_stmt(db, group ? SQL_POLICY_EACH_GROUP : SQL_POLICY_EACH);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    if (group)
        db_bind_text(st, 2, group);
    struct asg_policy_row *row = xmalloc(sizeof(*row));
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        policy_from_row(st, row);
        ret = fn(arg, row);
        if (ret != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_error(db, "asg policy each");
    sqlite3_reset(st);
    free(row);
    return ret;
}

int
asg_store_policy_count(struct db *db, const char *region, const char *group)
{
    return count_keyed(db, SQL_POLICY_COUNT, region, group, "asg policy count");
}

int
asg_store_policy_delete(struct db *db, const char *region, const char *group, const char *name)
{
    return exec_keyed(db, SQL_POLICY_DELETE, region, group, name, "asg policy delete");
}

int
asg_store_policy_drop_group(struct db *db, const char *region, const char *group)
{
    return exec_keyed(db, SQL_POLICY_DROP, region, group, NULL, "asg policy drop");
}

/* ---- scheduled actions ---- */

#define SCHED_COLS                                                                                 \
    "region, group_name, name, arn, start_ms, end_ms, recurrence, time_zone, min_size, "           \
    "max_size, desired, next_ms, created_ms"

static const char SQL_SCHED_PUT[] =
        "INSERT OR REPLACE INTO asg_scheduled_actions (" SCHED_COLS ") "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
static const char SQL_SCHED_GET[] = "SELECT " SCHED_COLS " FROM asg_scheduled_actions "
                                    "WHERE region = ?1 AND group_name = ?2 AND name = ?3";
static const char SQL_SCHED_EACH_GROUP[] = "SELECT " SCHED_COLS " FROM asg_scheduled_actions "
                                           "WHERE region = ?1 AND group_name = ?2 ORDER BY name";
static const char SQL_SCHED_EACH[] = "SELECT " SCHED_COLS " FROM asg_scheduled_actions "
                                     "WHERE region = ?1 ORDER BY group_name, name";
static const char SQL_SCHED_COUNT[] =
        "SELECT COUNT(*) FROM asg_scheduled_actions WHERE region = ?1 AND group_name = ?2";
static const char SQL_SCHED_DELETE[] = "DELETE FROM asg_scheduled_actions "
                                       "WHERE region = ?1 AND group_name = ?2 AND name = ?3";
static const char SQL_SCHED_DROP[] =
        "DELETE FROM asg_scheduled_actions WHERE region = ?1 AND group_name = ?2";
static const char SQL_SCHED_NEXT[] =
        "SELECT MIN(next_ms) FROM asg_scheduled_actions WHERE next_ms IS NOT NULL";
static const char SQL_SCHED_DUE[] =
        "SELECT " SCHED_COLS " FROM asg_scheduled_actions WHERE next_ms IS NOT NULL AND "
        "next_ms <= ?1 ORDER BY next_ms, region, group_name, name";
static const char SQL_SCHED_SET_NEXT[] = "UPDATE asg_scheduled_actions SET next_ms = ?4 "
                                         "WHERE region = ?1 AND group_name = ?2 AND name = ?3";

static void
sched_from_row(sqlite3_stmt *st, struct asg_sched_row *s)
{
    db_col_text(st, 0, s->region, sizeof(s->region));
    db_col_text(st, 1, s->group, sizeof(s->group));
    db_col_text(st, 2, s->name, sizeof(s->name));
    db_col_text(st, 3, s->arn, sizeof(s->arn));
    s->start_ms = col_int_opt(st, 4);
    s->end_ms = col_int_opt(st, 5);
    db_col_text(st, 6, s->recurrence, sizeof(s->recurrence));
    db_col_text(st, 7, s->time_zone, sizeof(s->time_zone));
    s->min_size = (int)col_int_opt(st, 8);
    s->max_size = (int)col_int_opt(st, 9);
    s->desired = (int)col_int_opt(st, 10);
    s->next_ms = col_int_opt(st, 11);
    s->created_ms = sqlite3_column_int64(st, 12);
}

int
asg_store_sched_put(struct db *db, const struct asg_sched_row *s)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SCHED_PUT);
    if (!st)
        return -1;
    db_bind_text(st, 1, s->region);
    db_bind_text(st, 2, s->group);
    db_bind_text(st, 3, s->name);
    db_bind_text(st, 4, s->arn);
    bind_int_opt(st, 5, s->start_ms != ASG_STORE_NONE, s->start_ms);
    bind_int_opt(st, 6, s->end_ms != ASG_STORE_NONE, s->end_ms);
    bind_text_opt(st, 7, s->recurrence);
    bind_text_opt(st, 8, s->time_zone);
    bind_int_opt(st, 9, s->min_size != ASG_STORE_NONE, s->min_size);
    bind_int_opt(st, 10, s->max_size != ASG_STORE_NONE, s->max_size);
    bind_int_opt(st, 11, s->desired != ASG_STORE_NONE, s->desired);
    bind_int_opt(st, 12, s->next_ms != ASG_STORE_NONE, s->next_ms);
    sqlite3_bind_int64(st, 13, s->created_ms);
    return db_step_done(db, st, "asg scheduled action put");
}

int
asg_store_sched_get(struct db *db, const char *region, const char *group, const char *name,
                    struct asg_sched_row *out)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SCHED_GET);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, group);
    db_bind_text(st, 3, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        sched_from_row(st, out);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error(db, "asg scheduled action get");
    return rc == SQLITE_ROW;
}

/* Steps a bound statement over scheduled-action rows, calling fn for each. */
static int
sched_rows(struct db *db, sqlite3_stmt *st, asg_store_sched_fn *fn, void *arg)
{
    struct asg_sched_row *row = xmalloc(sizeof(*row));
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sched_from_row(st, row);
        ret = fn(arg, row);
        if (ret != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_error(db, "asg scheduled action each");
    sqlite3_reset(st);
    free(row);
    return ret;
}

int
asg_store_sched_each(struct db *db, const char *region, const char *group, asg_store_sched_fn *fn,
                     void *arg)
{
    sqlite3_stmt *st = db_stmt(db, group ? SQL_SCHED_EACH_GROUP : SQL_SCHED_EACH);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    if (group)
        db_bind_text(st, 2, group);
    return sched_rows(db, st, fn, arg);
}

int
asg_store_sched_count(struct db *db, const char *region, const char *group)
{
    return count_keyed(db, SQL_SCHED_COUNT, region, group, "asg scheduled action count");
}

int
asg_store_sched_delete(struct db *db, const char *region, const char *group, const char *name)
{
    return exec_keyed(db, SQL_SCHED_DELETE, region, group, name, "asg scheduled action delete");
}

int
asg_store_sched_drop_group(struct db *db, const char *region, const char *group)
{
    return exec_keyed(db, SQL_SCHED_DROP, region, group, NULL, "asg scheduled action drop");
}

int
asg_store_sched_next_due(struct db *db, int64_t *next_ms)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SCHED_NEXT);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (found)
        *next_ms = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return db_error(db, "asg scheduled action next");
    return found;
}

int
asg_store_sched_each_due(struct db *db, int64_t now_ms, asg_store_sched_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SCHED_DUE);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms);
    return sched_rows(db, st, fn, arg);
}

int
asg_store_sched_set_next(struct db *db, const char *region, const char *group, const char *name,
                         int64_t next_ms)
{
    sqlite3_stmt *st = db_stmt(db, SQL_SCHED_SET_NEXT);
    if (!st)
        return -1;
    db_bind_text(st, 1, region);
    db_bind_text(st, 2, group);
    db_bind_text(st, 3, name);
    bind_int_opt(st, 4, next_ms != ASG_STORE_NONE, next_ms);
    return db_step_done(db, st, "asg scheduled action set next");
}
