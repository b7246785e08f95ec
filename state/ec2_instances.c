/*
 * The EC2 instances store (see ec2_instances.h): prepared statements over the tables of
 * state/schema_ec2_instances.c. No EC2 rules here, only rows.
 */
#include "../emulator/common.h"
#include "ec2_instances.h"

#include "../emulator/buf.h"
#include "db_internal.h"

#define INSTANCE_COLUMNS                                                                           \
    "id, region, reservation_id, image_id, instance_type, az, subnet_id, vpc_id, private_ip, "     \
    "state_code, state_reason_code, state_reason_message, transition_reason, launch_ms, "          \
    "key_name, user_data, client_token, shutdown_behavior, disable_api_termination, "              \
    "iam_profile, security_groups, metadata_options, ports, first_boot_done, reboot_pending, "     \
    "ami_launch_index, terminated_ms"

void
ec2_instance_rec_init(struct ec2_instance_rec *r)
{
    memset(r, 0, sizeof(*r));
}

void
ec2_instance_rec_release(struct ec2_instance_rec *r)
{
    if (!r)
        return;
    free(r->user_data);
    free(r->iam_profile);
    free(r->security_groups);
    free(r->metadata_options);
    free(r->ports);
    r->user_data = r->iam_profile = r->security_groups = r->metadata_options = r->ports = NULL;
}

void
ec2_instance_rec_set(char **field, const char *value)
{
    char *copy = xstrdup(value ? value : "");
    free(*field);
    *field = copy;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

/* Fills r from a row selected with INSTANCE_COLUMNS (releasing what r held). */
static void
row_to_rec(sqlite3_stmt *st, struct ec2_instance_rec *r)
{
    ec2_instance_rec_release(r);
    db_col_text(st, 0, r->id, sizeof(r->id));
    db_col_text(st, 1, r->region, sizeof(r->region));
    db_col_text(st, 2, r->reservation_id, sizeof(r->reservation_id));
    db_col_text(st, 3, r->image_id, sizeof(r->image_id));
    db_col_text(st, 4, r->instance_type, sizeof(r->instance_type));
    db_col_text(st, 5, r->az, sizeof(r->az));
    db_col_text(st, 6, r->subnet_id, sizeof(r->subnet_id));
    db_col_text(st, 7, r->vpc_id, sizeof(r->vpc_id));
    db_col_text(st, 8, r->private_ip, sizeof(r->private_ip));
    r->state_code = sqlite3_column_int(st, 9);
    db_col_text(st, 10, r->state_reason_code, sizeof(r->state_reason_code));
    db_col_text(st, 11, r->state_reason_message, sizeof(r->state_reason_message));
    db_col_text(st, 12, r->transition_reason, sizeof(r->transition_reason));
    r->launch_ms = sqlite3_column_int64(st, 13);
    db_col_text(st, 14, r->key_name, sizeof(r->key_name));
    r->user_data = db_col_dup(st, 15);
    db_col_text(st, 16, r->client_token, sizeof(r->client_token));
    db_col_text(st, 17, r->shutdown_behavior, sizeof(r->shutdown_behavior));
    r->disable_api_termination = sqlite3_column_int(st, 18) != 0;
    r->iam_profile = db_col_dup(st, 19);
    r->security_groups = db_col_dup(st, 20);
    r->metadata_options = db_col_dup(st, 21);
    r->ports = db_col_dup(st, 22);
    r->first_boot_done = sqlite3_column_int(st, 23) != 0;
    r->reboot_pending = sqlite3_column_int(st, 24) != 0;
    r->ami_launch_index = sqlite3_column_int(st, 25);
    r->terminated_ms = sqlite3_column_int64(st, 26);
}

int
ec2_store_put_reservation(struct db *db, const char *id, const char *region, const char *owner_id,
                          const char *client_token, const char *request_digest, int64_t now_ms)
{
    static const char sql[] = "INSERT INTO ec2_reservations (id, region, owner_id, client_token, "
                              "request_digest, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, id);
    bind_text(st, 2, region);
    bind_text(st, 3, owner_id);
    if (client_token && *client_token)
        bind_text(st, 4, client_token);
    else
        sqlite3_bind_null(st, 4);
    bind_text(st, 5, request_digest ? request_digest : "");
    sqlite3_bind_int64(st, 6, now_ms);
    return db_step_done(db, st, "put reservation");
}

int
ec2_store_find_reservation(struct db *db, const char *region, const char *client_token, char *id,
                           size_t idsz, char *digest, size_t digestsz)
{
    static const char sql[] = "SELECT id, request_digest FROM ec2_reservations "
                              "WHERE region = ?1 AND client_token = ?2";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    bind_text(st, 2, client_token);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (digestsz)
        digest[0] = '\0';
    if (rc == SQLITE_ROW) {
        db_col_text(st, 0, id, idsz);
        db_col_text(st, 1, digest, digestsz);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = db_error(db, "find reservation");
    }
    sqlite3_reset(st);
    return ret;
}

int
ec2_store_reservation_owner(struct db *db, const char *id, char *owner, size_t ownersz)
{
    static const char sql[] = "SELECT owner_id FROM ec2_reservations WHERE id = ?1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    snprintf(owner, ownersz, "%s", "");
    if (rc == SQLITE_ROW)
        db_col_text(st, 0, owner, ownersz);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(db, "reservation owner");
}

int
ec2_store_put_instance(struct db *db, const struct ec2_instance_rec *r)
{
    static const char sql[] =
            "INSERT INTO ec2_instances (" INSTANCE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
            "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, "
            "?24, ?25, ?26, ?27) ON CONFLICT (id) DO UPDATE SET region = ?2, reservation_id = ?3, "
            "image_id = ?4, instance_type = ?5, az = ?6, subnet_id = ?7, vpc_id = ?8, "
            "private_ip = ?9, state_code = ?10, state_reason_code = ?11, "
            "state_reason_message = ?12, transition_reason = ?13, launch_ms = ?14, "
            "key_name = ?15, user_data = ?16, client_token = ?17, shutdown_behavior = ?18, "
            "disable_api_termination = ?19, iam_profile = ?20, security_groups = ?21, "
            "metadata_options = ?22, ports = ?23, first_boot_done = ?24, reboot_pending = ?25, "
            "ami_launch_index = ?26, terminated_ms = ?27";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, r->id);
    bind_text(st, 2, r->region);
    bind_text(st, 3, r->reservation_id);
    bind_text(st, 4, r->image_id);
    bind_text(st, 5, r->instance_type);
    bind_text(st, 6, r->az);
    bind_text(st, 7, r->subnet_id);
    bind_text(st, 8, r->vpc_id);
    bind_text(st, 9, r->private_ip);
    sqlite3_bind_int(st, 10, r->state_code);
    bind_text(st, 11, r->state_reason_code);
    bind_text(st, 12, r->state_reason_message);
    bind_text(st, 13, r->transition_reason);
    sqlite3_bind_int64(st, 14, r->launch_ms);
    bind_text(st, 15, r->key_name);
    bind_text(st, 16, r->user_data);
    bind_text(st, 17, r->client_token);
    bind_text(st, 18, r->shutdown_behavior[0] ? r->shutdown_behavior : "stop");
    sqlite3_bind_int(st, 19, r->disable_api_termination);
    bind_text(st, 20, r->iam_profile);
    bind_text(st, 21, r->security_groups && *r->security_groups ? r->security_groups : "[]");
    bind_text(st, 22, r->metadata_options && *r->metadata_options ? r->metadata_options : "{}");
    bind_text(st, 23, r->ports && *r->ports ? r->ports : "{}");
    sqlite3_bind_int(st, 24, r->first_boot_done);
    sqlite3_bind_int(st, 25, r->reboot_pending);
    sqlite3_bind_int(st, 26, r->ami_launch_index);
    if (r->terminated_ms)
        sqlite3_bind_int64(st, 27, r->terminated_ms);
    else
        sqlite3_bind_null(st, 27);
    return db_step_done(db, st, "put instance");
}

int
ec2_store_get_instance(struct db *db, const char *region, const char *id,
                       struct ec2_instance_rec *r)
{
    static const char sql[] = "SELECT " INSTANCE_COLUMNS " FROM ec2_instances WHERE id = ?1 "
                              "AND (?2 IS NULL OR region = ?2)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, id);
    if (region)
        bind_text(st, 2, region);
    else
        sqlite3_bind_null(st, 2);
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        row_to_rec(st, r);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = db_error(db, "get instance");
    }
    sqlite3_reset(st);
    return ret;
}

/*
 * Walks the rows of st (bound by the caller). The statement is reset before each callback
 * so the callback may use the store (even the same statement) itself: rows are first
 * collected, then handed out.
 */
static int
walk(struct db *db, sqlite3_stmt *st, ec2_instance_walk_fn *fn, void *arg)
{
    struct ec2_instance_rec *rows = NULL;
    size_t n = 0, alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? 2 * alloc : 16;
            rows = xrealloc(rows, alloc * sizeof(*rows));
        }
        ec2_instance_rec_init(&rows[n]);
        row_to_rec(st, &rows[n++]);
    }
    sqlite3_reset(st);
    int ret = rc == SQLITE_DONE ? 0 : db_error(db, "walk instances");
    for (size_t i = 0; i < n; i++) {
        if (ret == 0)
            ret = fn(arg, &rows[i]);
        ec2_instance_rec_release(&rows[i]);
    }
    free(rows);
    return ret;
}

int
ec2_store_walk_instances(struct db *db, const char *region, ec2_instance_walk_fn *fn, void *arg)
{
    static const char sql[] = "SELECT " INSTANCE_COLUMNS " FROM ec2_instances "
                              "WHERE ?1 IS NULL OR region = ?1 ORDER BY rowid";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    if (region)
        bind_text(st, 1, region);
    else
        sqlite3_bind_null(st, 1);
    return walk(db, st, fn, arg);
}

int
ec2_store_walk_instance_keys(struct db *db, const char *region, ec2_instance_key_fn *fn, void *arg)
{
    static const char sql[] = "SELECT id, reservation_id FROM ec2_instances "
                              "WHERE region = ?1 ORDER BY rowid";
    struct key {
        char id[32];             /* instance id */
        char reservation_id[32]; /* its reservation */
    } *keys = NULL;
    size_t n = 0, alloc = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? 2 * alloc : 64;
            keys = xrealloc(keys, alloc * sizeof(*keys));
        }
        db_col_text(st, 0, keys[n].id, sizeof(keys[n].id));
        db_col_text(st, 1, keys[n].reservation_id, sizeof(keys[n].reservation_id));
        n++;
    }
    sqlite3_reset(st);
    int ret = rc == SQLITE_DONE ? 0 : db_error(db, "walk instance keys");
    for (size_t i = 0; i < n && ret == 0; i++)
        ret = fn(arg, keys[i].id, keys[i].reservation_id);
    free(keys);
    return ret;
}

int
ec2_store_walk_reservation(struct db *db, const char *reservation_id, ec2_instance_walk_fn *fn,
                           void *arg)
{
    static const char sql[] = "SELECT " INSTANCE_COLUMNS " FROM ec2_instances "
                              "WHERE reservation_id = ?1 ORDER BY rowid";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, reservation_id);
    return walk(db, st, fn, arg);
}

int
ec2_store_delete_instance(struct db *db, const char *id)
{
    static const char sql_tokens[] = "DELETE FROM ec2_imds_tokens WHERE instance_id = ?1";
    static const char sql_faults[] = "DELETE FROM ec2_faults WHERE target = ?1";
    static const char sql_res[] = "SELECT reservation_id FROM ec2_instances WHERE id = ?1";
    static const char sql_del[] = "DELETE FROM ec2_instances WHERE id = ?1";
    static const char sql_res_del[] = "DELETE FROM ec2_reservations WHERE id = ?1 AND NOT EXISTS "
                                      "(SELECT 1 FROM ec2_instances WHERE reservation_id = ?1)";
    char res[32] = "";
    sqlite3_stmt *st = db_stmt(db, sql_res);
    if (!st)
        return -1;
    bind_text(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        db_col_text(st, 0, res, sizeof(res));
    sqlite3_reset(st);
    const char *const sqls[] = { sql_tokens, sql_faults, sql_del };
    for (size_t i = 0; i < ARRAY_SIZE(sqls); i++) {
        st = db_stmt(db, sqls[i]);
        if (!st)
            return -1;
        bind_text(st, 1, id);
        if (db_step_done(db, st, "delete instance") < 0)
            return -1;
    }
    st = db_stmt(db, sql_res_del);
    if (!st)
        return -1;
    bind_text(st, 1, res);
    return db_step_done(db, st, "delete reservation");
}

int
ec2_store_count_active(struct db *db, const char *region, int *count)
{
    static const char sql[] = "SELECT count(*) FROM ec2_instances WHERE region = ?1 "
                              "AND state_code IN (0, 16)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, region);
    int rc = sqlite3_step(st);
    *count = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : db_error(db, "count instances");
}

int
ec2_store_first_terminated(struct db *db, int64_t *ms)
{
    static const char sql[] =
            "SELECT min(terminated_ms) FROM ec2_instances WHERE terminated_ms IS NOT NULL";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *ms = sqlite3_column_int64(st, 0);
        ret = 1;
    } else if (rc != SQLITE_ROW) {
        ret = db_error(db, "first terminated");
    }
    sqlite3_reset(st);
    return ret;
}

int
ec2_store_put_fault(struct db *db, const char *kind, const char *target, int64_t now_ms)
{
    static const char sql[] =
            "INSERT OR IGNORE INTO ec2_faults (kind, target, created_ms) VALUES (?1, ?2, ?3)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, kind);
    bind_text(st, 2, target);
    sqlite3_bind_int64(st, 3, now_ms);
    return db_step_done(db, st, "put fault");
}

int
ec2_store_delete_faults(struct db *db, const char *kind, const char *target)
{
    static const char sql[] = "DELETE FROM ec2_faults WHERE (?1 IS NULL OR kind = ?1) "
                              "AND (?2 IS NULL OR target = ?2)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    if (kind)
        bind_text(st, 1, kind);
    else
        sqlite3_bind_null(st, 1);
    if (target)
        bind_text(st, 2, target);
    else
        sqlite3_bind_null(st, 2);
    return db_step_done(db, st, "delete faults");
}

int
ec2_store_has_fault(struct db *db, const char *kind, const char *target)
{
    static const char sql[] = "SELECT 1 FROM ec2_faults WHERE kind = ?1 AND target = ?2";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, kind);
    bind_text(st, 2, target);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : db_error(db, "has fault");
}

int
ec2_store_walk_faults(struct db *db, ec2_fault_walk_fn *fn, void *arg)
{
    static const char sql[] =
            "SELECT kind, target, created_ms FROM ec2_faults ORDER BY created_ms, kind, target";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    int rc, ret = 0;
    while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        char kind[32], target[64];
        db_col_text(st, 0, kind, sizeof(kind));
        db_col_text(st, 1, target, sizeof(target));
        ret = fn(arg, kind, target, sqlite3_column_int64(st, 2));
    }
    sqlite3_reset(st);
    return ret;
}

int
ec2_store_put_imds_token(struct db *db, const char *token, const char *instance_id,
                         int64_t expires_ms)
{
    static const char sql_gc[] = "DELETE FROM ec2_imds_tokens WHERE instance_id = ?1 "
                                 "AND expires_ms < ?2";
    static const char sql[] =
            "INSERT INTO ec2_imds_tokens (token, instance_id, expires_ms) VALUES (?1, ?2, ?3)";
    sqlite3_stmt *st = db_stmt(db, sql_gc);
    if (!st)
        return -1;
    /* Tokens that expired long ago are dropped as new ones come, so the table stays small. */
    bind_text(st, 1, instance_id);
    sqlite3_bind_int64(st, 2, expires_ms - 2 * 21600 * 1000LL);
    if (db_step_done(db, st, "expire imds tokens") < 0)
        return -1;
    st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, token);
    bind_text(st, 2, instance_id);
    sqlite3_bind_int64(st, 3, expires_ms);
    return db_step_done(db, st, "put imds token");
}

int
ec2_store_check_imds_token(struct db *db, const char *token, const char *instance_id,
                           int64_t now_ms)
{
    static const char sql[] = "SELECT 1 FROM ec2_imds_tokens WHERE token = ?1 "
                              "AND instance_id = ?2 AND expires_ms > ?3";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    bind_text(st, 1, token);
    bind_text(st, 2, instance_id);
    sqlite3_bind_int64(st, 3, now_ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : db_error(db, "check imds token");
}
